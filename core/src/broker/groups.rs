//! The broker hosting a group coordinator for the `__consumer_offsets` partitions it leads.
//!
//! The coordinator ([`GroupCoordinator`]) decides; the broker appends what it asks to the
//! offsets partition (as a leader with `acks=all`), hands back the outcome, loads a partition's
//! groups and offsets from its log when it becomes leader (Kafka's coordinator failover) and
//! drops them when it stops leading. Offsets committed inside a transaction are settled when
//! the transaction's marker in the offsets partition is committed.

use alloc::boxed::Box;

use crate::group::protocol::GroupRequest;
use crate::group::{AppendToken, GroupConfig, GroupCoordinator, GroupOutput, GroupTimer};
use crate::message::Timer;
use crate::record_batch::ControlRecordType;

use super::coordination::{AppendOwner, CONSUMER_OFFSETS};
use super::*;

/// The coordinator's configuration, from the cluster's.
pub(super) fn group_config(config: &ClusterConfig) -> GroupConfig {
    GroupConfig {
        offsets_topic_num_partitions: config.offsets_topic_num_partitions,
        group_initial_rebalance_delay_ms: config.group_initial_rebalance_delay_ms,
        ..GroupConfig::default()
    }
}

/// The coordinator of broker `broker` in its `incarnation`-th start.
pub(super) fn new_group_coordinator(config: &ClusterConfig, broker: BrokerId, incarnation: u64) -> GroupCoordinator {
    GroupCoordinator::new(group_config(config))
        .expect("the cluster config validates the group settings")
        .with_member_id_scope(&alloc::format!("b{broker}.{incarnation}"))
}

impl Broker {
    pub fn group_coordinator(&self) -> &GroupCoordinator {
        &self.groups
    }

    pub(super) fn handle_group_request(&mut self, now_ms: u64, from: NodeId, request_id: u64, request: GroupRequest) {
        self.groups.handle_request(now_ms, from, request_id, request);
        self.drain_group_outputs(now_ms);
    }

    pub(super) fn handle_group_timer(&mut self, now_ms: u64, timer: GroupTimer) {
        self.groups.handle_timer(now_ms, timer);
        self.drain_group_outputs(now_ms);
    }

    /// Carries out what the coordinator asked, until it asks nothing more.
    pub(super) fn drain_group_outputs(&mut self, now_ms: u64) {
        loop {
            let outputs = self.groups.take_outputs();
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                match output {
                    GroupOutput::Respond { to, request_id, response } => {
                        self.send(to, Message::GroupResponse { request_id, response: Box::new(response) })
                    }
                    GroupOutput::SetTimer { after_ms, timer } => self.set_timer(after_ms, Timer::Group(timer)),
                    GroupOutput::Append { partition_index, records, producer, token } => {
                        let partition = TopicPartition::new(CONSUMER_OFFSETS, partition_index);
                        let producer = producer.map(|p| (p.producer_id, p.epoch));
                        let owner = AppendOwner::Group;
                        if let Err(error) =
                            self.append_for_coordinator(now_ms, owner, token.0, &partition, records, producer)
                        {
                            self.groups.append_completed(now_ms, token, Err(error));
                        }
                    }
                    GroupOutput::Event(event) => self.trace(TraceEvent::Group { broker: self.id, event }),
                }
            }
        }
    }

    pub(super) fn group_append_done(&mut self, now_ms: u64, token: u64, result: Result<(), ErrorCode>) {
        self.groups.append_completed(now_ms, AppendToken(token), result);
        self.drain_group_outputs(now_ms);
    }

    /// A transaction's marker in offsets partition `partition_index` is committed: its
    /// offsets take effect or vanish.
    pub(super) fn settle_offsets_transaction(
        &mut self,
        now_ms: u64,
        partition_index: i32,
        producer_id: i64,
        committed: bool,
    ) {
        self.groups.complete_transaction(partition_index, producer_id, committed);
        self.drain_group_outputs(now_ms);
    }

    /// Takes up or gives up coordinating a `__consumer_offsets` partition with its leadership.
    pub(super) fn group_partition_led(&mut self, now_ms: u64, partition: &TopicPartition, leading: bool) {
        if partition.topic.as_ref() != CONSUMER_OFFSETS {
            return;
        }
        let index = partition.partition.0;
        if leading {
            let (records, open) = committed_transaction_records(&self.replicas[partition].log);
            self.groups.load_partition(now_ms, index, records);
            for (producer_id, records) in open {
                self.groups.load_pending_transaction(now_ms, index, producer_id, records);
            }
        } else {
            self.groups.unload_partition(index);
        }
        self.drain_group_outputs(now_ms);
    }
}

/// A record's key and value.
type KeyValue = (bytes::Bytes, Option<bytes::Bytes>);

/// The key and value of every data record in a log that a reader with `read_committed` would
/// see, in offset order (plain records, and transactional ones whose transaction committed);
/// and, per producer, the records of transactions still open, which wait for their marker.
pub(super) fn committed_transaction_records(log: &PartitionLog) -> (Vec<KeyValue>, BTreeMap<i64, Vec<KeyValue>>) {
    let mut out = Vec::new();
    let mut open: BTreeMap<i64, Vec<KeyValue>> = BTreeMap::new();
    for batch in log.batches() {
        let producer_id = batch.producer_id();
        if batch.is_control() {
            let Some(records) = open.remove(&producer_id) else { continue };
            let commit = batch
                .records()
                .ok()
                .and_then(|mut records| records.next())
                .and_then(|record| crate::record_batch::control_record_type(record.key.as_deref()).ok())
                .is_some_and(|kind| kind == ControlRecordType::Commit);
            if commit {
                out.extend(records);
            }
            continue;
        }
        let records = batch.records().into_iter().flatten().filter_map(|r| Some((r.key?, r.value)));
        if batch.is_transactional() {
            open.entry(producer_id).or_default().extend(records);
        } else {
            out.extend(records);
        }
    }
    (out, open)
}
