//! Reading the run for drawing: brokers and partitions as the committed metadata says, the
//! replicas' logs as the brokers hold them, each controller's Raft state and metadata log, the
//! consumer groups as their live coordinators hold them and the named clients as their
//! processes do.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::assignor::consumer_protocol::decode_assignment;
use crate::broker::Broker;
use crate::group::Group;
use crate::ids::{BrokerId, ControllerId, Offset, TopicPartition};
use crate::metadata::MetadataBatch;
use crate::placement::{partition_for, CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC};
use crate::raft::{LogEntry, Payload};
use crate::transaction::protocol::TransactionState;
use crate::view::{
    BrokerStatus, BrokerView, ClientKindView, ClientView, ClusterView, CommittedOffsetView, ControllerView, GroupView,
    MemberView, MetadataEntryView, PartitionView, ReplicaView,
};

use super::{ClientKind, ClientNode, ControllerNode, Simulation};

impl Simulation {
    /// Everything as it stands now, for drawing.
    pub fn view(&self) -> ClusterView {
        let metadata = self.metadata();
        let brokers = self
            .brokers
            .iter()
            .map(|node| {
                let id = node.broker.id();
                let fenced = metadata.is_fenced(id);
                let status = match (node.alive, fenced) {
                    (false, _) => BrokerStatus::Dead,
                    (true, true) => BrokerStatus::Fenced,
                    (true, false) => BrokerStatus::Alive,
                };
                BrokerView { id, status, fenced, shutting_down: node.alive && node.broker.is_shutting_down() }
            })
            .collect();
        let partitions = metadata
            .partitions
            .values()
            .map(|state| PartitionView {
                partition: state.partition.clone(),
                leader: state.leader,
                leader_epoch: state.leader_epoch,
                isr: state.isr.clone(),
                replicas: state
                    .replicas
                    .iter()
                    .map(|&broker| {
                        let log = self.broker(broker).and_then(|b| b.replica(&state.partition)).map(|r| &r.log);
                        ReplicaView {
                            broker,
                            is_leader: state.leader == Some(broker),
                            in_isr: state.isr.contains(&broker),
                            log_start_offset: log.map_or(Offset(0), |l| l.log_start_offset()),
                            log_end_offset: log.map_or(Offset(0), |l| l.log_end_offset()),
                            high_watermark: log.map_or(Offset(0), |l| l.high_watermark()),
                            last_stable_offset: log.map_or(Offset(0), |l| l.last_stable_offset()),
                        }
                    })
                    .collect(),
            })
            .collect();
        ClusterView {
            now_ms: self.now_ms,
            brokers,
            partitions,
            controllers: self.controllers.iter().map(controller_view).collect(),
            active_controller: self.active_controller(),
            controller_layout: self.config.controller_layout,
            groups: self.group_views(),
            clients: self.clients.iter().map(|node| self.client_view(node)).collect(),
        }
    }

    /// The live broker that serves a key of an internal topic (`__consumer_offsets` for a group,
    /// `__transaction_state` for a transactional id) and holds it: the partition's leader in the
    /// committed metadata if it holds it, else the first live broker that still does (a deposed
    /// leader keeps its state until it hears the news).
    fn coordinator_of<'a, T: 'a>(
        &'a self,
        topic: &str,
        key: &str,
        partitions: i32,
        holds: impl Fn(&'a Broker) -> Option<T>,
    ) -> Option<(BrokerId, T)> {
        let partition = TopicPartition::new(topic, partition_for(key, partitions));
        let leader = self.metadata().partition(&partition).and_then(|p| p.leader);
        let live = || self.brokers.iter().filter(|node| node.alive).map(|node| &node.broker);
        let found = |broker: &'a Broker| holds(broker).map(|held| (broker.id(), held));
        live().filter(|b| Some(b.id()) == leader).find_map(found).or_else(|| live().find_map(found))
    }

    fn group_views(&self) -> Vec<GroupView> {
        let mut ids: BTreeSet<String> = BTreeSet::new();
        for node in self.brokers.iter().filter(|node| node.alive) {
            ids.extend(node.broker.group_coordinator().groups().map(|g| g.id().to_string()));
        }
        ids.extend(self.clients.iter().filter_map(consumer_group));
        ids.into_iter().map(|id| self.group_view(id)).collect()
    }

    fn group_view(&self, group_id: String) -> GroupView {
        let partitions = self.config.offsets_topic_num_partitions;
        let coordinator = self.coordinator_of(CONSUMER_OFFSETS_TOPIC, &group_id, partitions, |broker| {
            broker.group_coordinator().group(&group_id).map(|group| (broker, group))
        });
        let mut processings: BTreeMap<(&TopicPartition, Offset), u64> = BTreeMap::new();
        for record in self.processed.iter().filter(|r| r.group == group_id) {
            *processings.entry((&record.partition, record.offset)).or_default() += 1;
        }
        let records_processed = processings.values().sum();
        let duplicates = processings.values().map(|count| count - 1).sum();
        let mut view = GroupView {
            group_id,
            coordinator: None,
            state: None,
            generation_id: None,
            leader: None,
            members: Vec::new(),
            committed: Vec::new(),
            records_processed,
            duplicates,
        };
        if let Some((id, (broker, group))) = coordinator {
            view.coordinator = Some(id);
            view.state = Some(group.state());
            view.generation_id = Some(group.generation_id());
            view.leader = group.leader().map(|m| m.to_string());
            view.members = self.member_views(group);
            view.committed = broker
                .group_coordinator()
                .committed_offsets(&view.group_id)
                .into_iter()
                .map(|(partition, value)| CommittedOffsetView { partition, offset: value.offset })
                .collect();
        }
        view
    }

    fn member_views(&self, group: &Group) -> Vec<MemberView> {
        group
            .members()
            .map(|member| MemberView {
                member_id: member.member_id.to_string(),
                instance_id: member.group_instance_id.as_ref().map(|i| i.to_string()),
                client_id: member.client_id.to_string(),
                client: self.member_client(group, &member.member_id).map(|node| node.name.clone()),
                assignment: decode_assignment(&member.assignment).map(|a| a.partitions).unwrap_or_default(),
            })
            .collect()
    }

    /// The named consumer that holds `member_id` in `group`. Member ids are unique only within
    /// one coordinator's life, so among consumers holding the same one, a live consumer at the
    /// group's generation wins, then the one at the latest generation.
    fn member_client(&self, group: &Group, member_id: &str) -> Option<&ClientNode> {
        self.clients
            .iter()
            .filter_map(|node| match &node.kind {
                ClientKind::Consumer(consumer)
                    if consumer.config().group_id.as_ref() == group.id().as_ref()
                        && consumer.member_id().as_ref() == member_id =>
                {
                    Some((node, consumer.generation_id()))
                }
                _ => None,
            })
            .max_by_key(|(node, generation)| (node.alive && *generation == group.generation_id(), *generation))
            .map(|(node, _)| node)
    }

    fn client_view(&self, node: &ClientNode) -> ClientView {
        let records_processed = self.processed.iter().filter(|r| r.client == node.name).count() as u64;
        let mut view = ClientView {
            name: node.name.clone(),
            id: node.id,
            kind: ClientKindView::Consumer,
            alive: node.alive,
            closed: false,
            group: None,
            member_id: None,
            generation_id: None,
            assignment: Vec::new(),
            records_processed,
            producer_id: None,
            producer_epoch: None,
            transactional_id: None,
            transaction_state: None,
        };
        match &node.kind {
            ClientKind::Consumer(consumer) => {
                view.group = consumer_group(node);
                view.closed = consumer.is_closed();
                view.member_id = Some(consumer.member_id().to_string()).filter(|id| !id.is_empty());
                view.generation_id = Some(consumer.generation_id()).filter(|generation| *generation >= 0);
                view.assignment = consumer.assignment();
            }
            ClientKind::Producer(producer) => {
                view.kind = ClientKindView::Producer;
                let producer_id = producer.producer_id();
                view.producer_id = producer_id.map(|p| p.producer_id);
                view.producer_epoch = producer_id.map(|p| p.epoch);
                if let Some(id) = &producer.config().transactional_id {
                    view.transactional_id = Some(id.to_string());
                    view.transaction_state = self.transaction_state(id);
                }
            }
        }
        view
    }

    /// The transactional id's state at the live coordinator that holds it.
    fn transaction_state(&self, transactional_id: &str) -> Option<TransactionState> {
        let partitions = self.config.transaction_state_log_num_partitions;
        let held = |broker: &Broker| broker.transaction_coordinator().transaction(transactional_id).map(|t| t.state());
        self.coordinator_of(TRANSACTION_STATE_TOPIC, transactional_id, partitions, held).map(|(_, state)| state)
    }
}

/// A consumer's `group.id`.
fn consumer_group(node: &ClientNode) -> Option<String> {
    match &node.kind {
        ClientKind::Consumer(consumer) => Some(consumer.config().group_id.to_string()),
        ClientKind::Producer(_) => None,
    }
}

fn controller_view(node: &ControllerNode) -> ControllerView {
    let raft = node.controller.raft();
    let high_watermark = raft.high_watermark();
    ControllerView {
        id: node.controller.id(),
        alive: node.alive,
        role: raft.role(),
        epoch: raft.epoch(),
        leader: raft.leader().map(|replica| ControllerId(replica.0)),
        log_end_offset: raft.log_end_offset(),
        high_watermark,
        entries: raft.log().entries().iter().map(|entry| entry_view(entry, high_watermark)).collect(),
    }
}

fn entry_view(entry: &LogEntry<MetadataBatch>, high_watermark: Offset) -> MetadataEntryView {
    let records: Vec<String> = match &entry.payload {
        Payload::Data(batch) => batch.iter().map(|record| format!("{record}")).collect(),
        Payload::LeaderChange { leader, .. } => alloc::vec![format!("LeaderChange leader {leader}")],
    };
    MetadataEntryView { offset: entry.offset, epoch: entry.epoch, records, committed: entry.offset < high_watermark }
}
