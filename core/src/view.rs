//! The whole state of a run as plain data: what the page draws and the native server reports.
//! Expectations ([`crate::expectation`]) read it too, so what a lesson checks is what the page
//! shows.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use alloc::string::String;

use crate::command::ClientName;
use crate::config::ControllerLayout;
use crate::group::protocol::GroupState;
use crate::ids::{BrokerId, ClientId, ControllerId, LeaderEpoch, Offset, TopicPartition};
use crate::raft::{Epoch, Role};
use crate::transaction::protocol::TransactionState;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    pub now_ms: u64,
    pub brokers: Vec<BrokerView>,
    pub partitions: Vec<PartitionView>,
    /// The metadata quorum's voters, in id order.
    pub controllers: Vec<ControllerView>,
    /// The live controller that leads the quorum at the latest epoch, if any: the one that
    /// decides. (A leader cut off from the majority still thinks it leads, at an older epoch,
    /// until check quorum makes it resign.)
    pub active_controller: Option<ControllerId>,
    pub controller_layout: ControllerLayout,
    /// Every consumer group a live coordinator holds or a named consumer belongs to, by id.
    pub groups: Vec<GroupView>,
    /// The named clients, in the order they were started.
    pub clients: Vec<ClientView>,
}

/// One controller: its Raft role and its replica of the metadata log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ControllerView {
    pub id: ControllerId,
    pub alive: bool,
    /// Leader, follower, candidate, prospective, unattached or resigned (as it was when it
    /// died, if it is dead).
    pub role: Role,
    pub epoch: Epoch,
    /// The leader it knows of at its epoch.
    pub leader: Option<ControllerId>,
    pub log_end_offset: Offset,
    /// Entries below it are committed, as far as this controller knows.
    pub high_watermark: Offset,
    pub entries: Vec<MetadataEntryView>,
}

/// One entry of a controller's metadata log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataEntryView {
    pub offset: Offset,
    /// The epoch of the leader that appended it.
    pub epoch: Epoch,
    /// Its records as text (`RegisterBroker 1 epoch 7`), or the control record that opens an
    /// epoch (`LeaderChange leader 2`).
    pub records: Vec<String>,
    /// Below the controller's high watermark.
    pub committed: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BrokerStatus {
    /// Running and in the controller's good books.
    Alive,
    /// Running, but the controller has fenced it (or has not yet seen it come back).
    Fenced,
    /// Crashed.
    Dead,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerView {
    pub id: BrokerId,
    pub status: BrokerStatus,
    /// Whether the controller's metadata fences it. A broker that has just crashed is `Dead`
    /// but not yet fenced: until its session times out, metadata still lists it and its
    /// leaderships, as in a real cluster.
    pub fenced: bool,
    /// Running, but in a controlled shutdown: it has asked the controller to move its
    /// leaderships away and stops once it has.
    pub shutting_down: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionView {
    pub partition: TopicPartition,
    /// As the controller's metadata says.
    pub leader: Option<BrokerId>,
    pub leader_epoch: LeaderEpoch,
    pub isr: Vec<BrokerId>,
    /// One per assigned replica, in assignment order.
    pub replicas: Vec<ReplicaView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaView {
    pub broker: BrokerId,
    pub is_leader: bool,
    pub in_isr: bool,
    pub log_start_offset: Offset,
    pub log_end_offset: Offset,
    pub high_watermark: Offset,
    /// Below it no transaction is open: what a `read_committed` consumer may read.
    pub last_stable_offset: Offset,
}

/// A consumer group as its coordinator holds it, with what its consumers did.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupView {
    pub group_id: String,
    /// The live broker coordinating it, if one holds it (a group only named by a consumer that
    /// has not found its coordinator yet has none, and no state, generation or members).
    pub coordinator: Option<BrokerId>,
    pub state: Option<GroupState>,
    pub generation_id: Option<i32>,
    /// The member whose assignor decides, while the group has members.
    pub leader: Option<String>,
    pub members: Vec<MemberView>,
    /// The committed offsets, as the coordinator holds them, in partition order.
    pub committed: Vec<CommittedOffsetView>,
    /// Records its consumers' applications processed, over all their lives.
    pub records_processed: u64,
    /// Processings beyond the first of the same partition and offset.
    pub duplicates: u64,
}

/// One member of a group, as the coordinator knows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberView {
    pub member_id: String,
    /// `group.instance.id`, for a static member.
    pub instance_id: Option<String>,
    /// The `client.id` it joined with.
    pub client_id: String,
    /// The named consumer that holds this member id, if any.
    pub client: Option<ClientName>,
    /// What the leader assigned it in the current generation (empty until it is synced).
    pub assignment: Vec<TopicPartition>,
}

/// A group's committed offset for one partition: the next record its consumers read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedOffsetView {
    pub partition: TopicPartition,
    pub offset: Offset,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientKindView {
    Producer,
    Consumer,
}

/// A named client: what its process holds now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientView {
    pub name: ClientName,
    pub id: ClientId,
    pub kind: ClientKindView,
    /// Its process runs (a crash or a crash point stops it).
    pub alive: bool,
    /// A consumer that `stop` closed: it committed and left its group.
    pub closed: bool,
    /// A consumer's `group.id`.
    pub group: Option<String>,
    /// A consumer's member id, once a coordinator gave it one.
    pub member_id: Option<String>,
    /// The generation a consumer joined last, once it joined one.
    pub generation_id: Option<i32>,
    /// A consumer's partitions, as it holds them.
    pub assignment: Vec<TopicPartition>,
    /// Records its application processed, over all its lives.
    pub records_processed: u64,
    /// An idempotent producer's id and epoch, once assigned.
    pub producer_id: Option<i64>,
    pub producer_epoch: Option<i16>,
    /// A transactional producer's `transactional.id`.
    pub transactional_id: Option<String>,
    /// Its transaction as the live coordinator holds it.
    pub transaction_state: Option<TransactionState>,
}

impl PartitionView {
    /// Whether fewer replicas are in sync than are assigned (Kafka's under-replicated
    /// partitions, which its leader counts in `UnderReplicatedPartitions`).
    pub fn is_under_replicated(&self) -> bool {
        self.isr.len() < self.replicas.len()
    }
}

impl GroupView {
    pub fn member(&self, member_id: &str) -> Option<&MemberView> {
        self.members.iter().find(|m| m.member_id == member_id)
    }

    pub fn committed_offset(&self, partition: &TopicPartition) -> Option<Offset> {
        self.committed.iter().find(|c| &c.partition == partition).map(|c| c.offset)
    }
}

impl ClusterView {
    pub fn broker(&self, id: BrokerId) -> Option<&BrokerView> {
        self.brokers.iter().find(|b| b.id == id)
    }

    pub fn controller(&self, id: ControllerId) -> Option<&ControllerView> {
        self.controllers.iter().find(|c| c.id == id)
    }

    pub fn partition(&self, partition: &TopicPartition) -> Option<&PartitionView> {
        self.partitions.iter().find(|p| &p.partition == partition)
    }

    pub fn group(&self, group_id: &str) -> Option<&GroupView> {
        self.groups.iter().find(|g| g.group_id == group_id)
    }

    pub fn client(&self, name: &str) -> Option<&ClientView> {
        self.clients.iter().find(|c| c.name.0 == name)
    }

    /// The replica the partition's leader holds.
    pub fn leader_replica(&self, partition: &TopicPartition) -> Option<&ReplicaView> {
        let partition = self.partition(partition)?;
        let leader = partition.leader?;
        partition.replicas.iter().find(|r| r.broker == leader)
    }

    /// How far the group's committed offset trails the leader's log end offset, when both are
    /// known (as `kafka-consumer-groups --describe` reports LAG).
    pub fn lag(&self, group_id: &str, partition: &TopicPartition) -> Option<i64> {
        let committed = self.group(group_id)?.committed_offset(partition)?;
        Some(self.leader_replica(partition)?.log_end_offset.0 - committed.0)
    }

    /// The group's lag summed over every partition it has committed an offset in or assigned
    /// to a member, where the lag is known (the sum of the LAG column of
    /// `kafka-consumer-groups --describe`); none when no partition's lag is known.
    pub fn total_lag(&self, group_id: &str) -> Option<i64> {
        let group = self.group(group_id)?;
        let mut partitions: Vec<&TopicPartition> = group.committed.iter().map(|c| &c.partition).collect();
        partitions.extend(group.members.iter().flat_map(|m| m.assignment.iter()));
        partitions.sort();
        partitions.dedup();
        partitions.into_iter().filter_map(|p| self.lag(group_id, p)).reduce(|a, b| a + b)
    }

    /// The live named consumer of the group, at the group's current generation, whose own
    /// assignment holds the partition. (The simulator's invariants make it at most one.)
    pub fn owner(&self, group_id: &str, partition: &TopicPartition) -> Option<&ClientView> {
        let generation = self.group(group_id)?.generation_id?;
        self.clients.iter().find(|c| {
            c.alive
                && c.group.as_deref() == Some(group_id)
                && c.generation_id == Some(generation)
                && c.assignment.contains(partition)
        })
    }

    /// The replicas a broker holds, with the partition each belongs to.
    pub fn replicas_on(&self, broker: BrokerId) -> impl Iterator<Item = (&PartitionView, &ReplicaView)> {
        self.partitions
            .iter()
            .flat_map(move |p| p.replicas.iter().filter(move |r| r.broker == broker).map(move |r| (p, r)))
    }
}
