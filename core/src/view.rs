//! The whole state of a run as plain data: what the page draws and the native server reports.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use alloc::string::String;

use crate::config::ControllerLayout;
use crate::ids::{BrokerId, ControllerId, LeaderEpoch, Offset, TopicPartition};
use crate::raft::{Epoch, Role};

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

    /// The replicas a broker holds, with the partition each belongs to.
    pub fn replicas_on(&self, broker: BrokerId) -> impl Iterator<Item = (&PartitionView, &ReplicaView)> {
        self.partitions
            .iter()
            .flat_map(move |p| p.replicas.iter().filter(move |r| r.broker == broker).map(move |r| (p, r)))
    }
}
