//! The broker's side of coordination: which broker coordinates a group or a transactional id
//! (FindCoordinator), creating the internal topics on first use, and the appends coordinators
//! make to the internal partitions they lead.
//!
//! A group's coordinator is the leader of its partition of `__consumer_offsets`, a
//! transactional id's the leader of its partition of `__transaction_state`: Kafka picks the
//! partition by hashing the key, so coordinators spread over the brokers and move with
//! partition leadership. Like Kafka, a broker creates an internal topic (through the
//! controller) the first time a client looks for a coordinator in it, and answers
//! COORDINATOR_NOT_AVAILABLE until it exists and has a leader.
//!
//! Coordinators write their state as records in their partition, appended like a produce with
//! `acks=all`: a write is done once the high watermark passes it, and fails with
//! NOT_LEADER_OR_FOLLOWER if the broker stops leading first.

use alloc::string::ToString;
use alloc::sync::Arc;
use bytes::Bytes;

use crate::message::{AdminRequest, CoordinatorType};
use crate::partition_log::CleanupPolicy;
use crate::record_batch::{encode, BatchHeader, Record};

use super::*;

pub use crate::placement::{CONSUMER_OFFSETS_TOPIC as CONSUMER_OFFSETS, TRANSACTION_STATE_TOPIC as TRANSACTION_STATE};

/// Which coordinator asked for an append.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AppendOwner {
    Group,
    Transaction,
    /// A transaction marker written for a WriteTxnMarkers request.
    Marker,
}

/// A coordinator's append waiting for the high watermark to pass `last_offset`.
#[derive(Clone, Debug)]
pub(super) struct CoordinatorAppend {
    pub owner: AppendOwner,
    pub token: u64,
    pub last_offset: Offset,
}

/// A record a coordinator writes: key, and value (`None` is a tombstone).
pub(super) type CoordinatorRecord = (Bytes, Option<Bytes>);

impl Broker {
    /// The internal topic behind a kind of coordinator, with its partition count and
    /// replication factor (never more than there are brokers).
    fn internal_topic(&self, key_type: CoordinatorType) -> (&'static str, i32, i32) {
        let brokers = self.config.broker_count;
        match key_type {
            CoordinatorType::Group => (
                CONSUMER_OFFSETS,
                self.config.offsets_topic_num_partitions,
                self.config.offsets_topic_replication_factor.min(brokers),
            ),
            CoordinatorType::Transaction => (
                TRANSACTION_STATE,
                self.config.transaction_state_log_num_partitions,
                self.config.transaction_state_log_replication_factor.min(brokers),
            ),
        }
    }

    /// The partition of the internal topic that holds `key`, once the topic exists.
    pub(super) fn coordinator_partition_of(&self, key: &str, key_type: CoordinatorType) -> Option<TopicPartition> {
        let (topic, _, _) = self.internal_topic(key_type);
        let count = self.image.partition_count(topic)?;
        Some(TopicPartition::new(topic, crate::transaction::partition_for(key, count)))
    }

    /// FindCoordinator: the leader of the key's partition, as this broker's metadata says.
    pub(super) fn handle_find_coordinator(
        &mut self,
        from: NodeId,
        request_id: u64,
        key: Arc<str>,
        key_type: CoordinatorType,
    ) {
        let result = match self.coordinator_partition_of(&key, key_type) {
            None => {
                self.create_internal_topic(key_type);
                Err(ErrorCode::CoordinatorNotAvailable)
            }
            Some(partition) => match self.image.partitions.get(&partition).and_then(|s| s.leader) {
                Some(leader) if self.image.is_live(leader) => Ok(leader),
                _ => Err(ErrorCode::CoordinatorNotAvailable),
            },
        };
        self.send(from, Message::FindCoordinatorResponse { request_id, result });
    }

    /// Asks the controller to create an internal topic, compacted as Kafka's are; one request
    /// at a time per topic.
    pub(super) fn create_internal_topic(&mut self, key_type: CoordinatorType) {
        let (name, partitions, replication_factor) = self.internal_topic(key_type);
        if !self.creating_topics.insert(name.to_string()) {
            return;
        }
        let mut config = LogConfig { cleanup_policy: CleanupPolicy::Compact, ..LogConfig::default() };
        // `offsets.topic.segment.bytes` and `transaction.state.log.segment.bytes` (Kafka: 100 MiB).
        config.segment_bytes = 104_857_600;
        let request = AdminRequest::CreateTopic { name: name.to_string(), partitions, replication_factor, config };
        let request_id = self.next_fetch_id;
        self.next_fetch_id += 1;
        let controller = self.controller();
        self.send(controller, Message::Admin { request_id, request });
    }

    /// The controller answered a topic creation: whatever it said, the metadata will show the
    /// topic once it exists, and the next FindCoordinator may ask again.
    pub(super) fn handle_admin_response(&mut self) {
        self.creating_topics.clear();
    }

    /// Appends a coordinator's records to an internal partition this broker leads, as one
    /// batch (transactional when `producer` is given); the coordinator hears the outcome through
    /// [`Broker::coordinator_append_done`].
    pub(super) fn append_for_coordinator(
        &mut self,
        now_ms: u64,
        owner: AppendOwner,
        token: u64,
        partition: &TopicPartition,
        records: Vec<CoordinatorRecord>,
        producer: Option<(i64, i16)>,
    ) -> Result<(), ErrorCode> {
        let min_insync = self.min_insync_replicas(partition);
        let replica = match self.replicas.get_mut(partition) {
            Some(replica @ Replica { role: Role::Leader(_), .. }) => replica,
            Some(_) => return Err(ErrorCode::NotLeaderOrFollower),
            None => return Err(ErrorCode::UnknownTopicOrPartition),
        };
        let Role::Leader(leadership) = &mut replica.role else { unreachable!("matched above") };
        if leadership.isr.len() < min_insync {
            return Err(ErrorCode::NotEnoughReplicas);
        }
        let batch = coordinator_batch(now_ms, records, producer).map_err(|_| ErrorCode::InvalidRecord)?;
        let appended = replica.log.append_as_leader(leadership.leader_epoch, now_ms, batch);
        let (first, last_offset) = appended.map_err(|e| e.error_code())?;
        leadership.coordinator_appends.push(CoordinatorAppend { owner, token, last_offset });
        self.trace(TraceEvent::Appended { broker: self.id, partition: partition.clone(), offset: first });
        self.answer_parked_fetch(partition, |_| true);
        self.advance_high_watermark(partition);
        Ok(())
    }

    /// A coordinator takes up (or gives up) an internal partition with its leadership.
    ///
    /// A coordinator loads only committed records: a new leader whose log runs past its high
    /// watermark (records of the previous leader that no follower has confirmed yet) waits until
    /// the high watermark reaches its log end, answering COORDINATOR_LOAD_IN_PROGRESS meanwhile
    /// (Kafka's coordinators likewise serve only state at or below the high watermark). So a
    /// commit never acknowledged, which a later leader may not have, is never shown.
    pub(super) fn coordinator_partition_led(&mut self, now_ms: u64, partition: &TopicPartition, leading: bool) {
        if partition.topic.as_ref() != CONSUMER_OFFSETS && partition.topic.as_ref() != TRANSACTION_STATE {
            return;
        }
        self.pending_loads.remove(partition);
        if leading {
            let log = &self.replicas[partition].log;
            if log.high_watermark() < log.log_end_offset() {
                self.pending_loads.insert(partition.clone(), log.log_end_offset());
                if partition.topic.as_ref() == CONSUMER_OFFSETS {
                    self.groups.begin_loading(partition.partition.0);
                }
                return;
            }
        }
        self.transaction_partition_led(now_ms, partition, leading);
        self.group_partition_led(now_ms, partition, leading);
    }

    /// The high watermark of an internal partition waiting to load has reached the log end
    /// it had when leadership began: load it once the current input is handled.
    pub(super) fn note_coordinator_high_watermark(&mut self, partition: &TopicPartition, high_watermark: Offset) {
        if self.pending_loads.get(partition).is_some_and(|&end| high_watermark >= end) {
            self.pending_loads.remove(partition);
            self.due_loads.push(partition.clone());
        }
    }

    /// Hands finished (or failed) coordinator appends back to their coordinators; called once
    /// a message or timer has been handled, so the coordinators see the time.
    pub(super) fn finish_coordinator_appends(&mut self, now_ms: u64) {
        for partition in core::mem::take(&mut self.due_loads) {
            if self.replicas.get(&partition).is_some_and(Replica::is_leader) {
                self.transaction_partition_led(now_ms, &partition, true);
                self.group_partition_led(now_ms, &partition, true);
            }
        }
        for (owner, token, result) in core::mem::take(&mut self.finished_appends) {
            match owner {
                AppendOwner::Group => self.group_append_done(now_ms, token, result),
                AppendOwner::Transaction => self.transaction_append_done(now_ms, token, result),
                AppendOwner::Marker => self.marker_append_done(now_ms, token, result),
            }
        }
    }
}

/// One batch of a coordinator's records, stamped now; transactional when `producer` is given.
fn coordinator_batch(
    now_ms: u64,
    records: Vec<CoordinatorRecord>,
    producer: Option<(i64, i16)>,
) -> Result<RecordBatch, crate::record_batch::EncodeError> {
    let timestamp_ms = i64::try_from(now_ms).unwrap_or(i64::MAX);
    let records: Vec<Record> =
        records.into_iter().enumerate().map(|(i, (key, value))| Record::new(i as i32, 0, Some(key), value)).collect();
    let mut header = BatchHeader::new(Offset(0), timestamp_ms).fitted_to(&records);
    if let Some((producer_id, producer_epoch)) = producer {
        header.producer_id = producer_id;
        header.producer_epoch = producer_epoch;
        header.attributes = header.attributes.with_transactional(true);
    }
    encode(&header, &records)
}
