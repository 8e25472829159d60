//! One replica's log as plain data, for the page's inspector: its batches with their offsets,
//! producer, flags and exact stored bytes, and their records decoded.
//!
//! Built on demand for the one replica being inspected ([`Simulation::replica_log`]), never as
//! part of [`crate::view::ClusterView`], which the page builds every frame: copying a log's
//! batches is cheap (their bytes are shared, not copied) but decoding every record is not.

use alloc::string::String;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};
use crate::record_batch::{Compression, RecordBatch, TimestampType, TransactionResult};

use super::Simulation;

/// A replica's log as its broker holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaLogView {
    pub broker: BrokerId,
    pub partition: TopicPartition,
    /// Whether the broker holds the replica as the partition's leader (its own view, which the
    /// metadata may since have overtaken).
    pub is_leader: bool,
    /// The leader epoch the broker holds the replica at.
    pub leader_epoch: LeaderEpoch,
    pub log_start_offset: Offset,
    pub log_end_offset: Offset,
    pub high_watermark: Offset,
    pub last_stable_offset: Offset,
    /// Every batch, in offset order.
    pub batches: Vec<BatchView>,
}

/// One stored batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchView {
    pub base_offset: Offset,
    pub last_offset: Offset,
    /// The epoch of the leader that appended it.
    pub partition_leader_epoch: LeaderEpoch,
    /// `-1` (Kafka's `NO_PRODUCER_ID`) for a plain producer's batch.
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// `-1` without idempotence.
    pub base_sequence: i32,
    pub transactional: bool,
    /// A control batch: a transaction marker.
    pub control: bool,
    /// The commit or abort a transaction marker carries.
    pub marker: Option<TransactionResult>,
    pub compression: Compression,
    /// Its last offset is below the replica's high watermark: every in-sync replica has it.
    pub committed: bool,
    /// Its records, decoded; empty for a codec the lab does not implement.
    pub records: Vec<RecordView>,
    /// The batch exactly as stored, for the hex dump ([`crate::record_batch::BatchAnatomy`]
    /// labels it).
    pub bytes: Bytes,
}

/// One record of a batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordView {
    pub offset: Offset,
    pub timestamp_ms: i64,
    /// The key and value as UTF-8 (invalid bytes replaced); `None` when null.
    pub key: Option<String>,
    pub value: Option<String>,
    /// Header keys and values, in order.
    pub headers: Vec<(String, Option<String>)>,
}

impl Simulation {
    /// `broker`'s replica of `partition` with its batches, or `None` if the broker holds none.
    /// A dead broker's replica is its log as it was when it crashed, as on its disk.
    pub fn replica_log(&self, broker: BrokerId, partition: &TopicPartition) -> Option<ReplicaLogView> {
        let replica = self.broker(broker)?.replica(partition)?;
        let log = &replica.log;
        let high_watermark = log.high_watermark();
        Some(ReplicaLogView {
            broker,
            partition: partition.clone(),
            is_leader: replica.is_leader(),
            leader_epoch: replica.leader_epoch(),
            log_start_offset: log.log_start_offset(),
            log_end_offset: log.log_end_offset(),
            high_watermark,
            last_stable_offset: log.last_stable_offset(),
            batches: log.batches().map(|batch| batch_view(batch, high_watermark)).collect(),
        })
    }
}

fn batch_view(batch: &RecordBatch, high_watermark: Offset) -> BatchView {
    BatchView {
        base_offset: batch.base_offset(),
        last_offset: batch.last_offset(),
        partition_leader_epoch: batch.partition_leader_epoch(),
        producer_id: batch.producer_id(),
        producer_epoch: batch.producer_epoch(),
        base_sequence: batch.base_sequence(),
        transactional: batch.is_transactional(),
        control: batch.is_control(),
        marker: batch.transaction_marker().ok().map(|marker| marker.result),
        compression: batch.compression(),
        committed: batch.last_offset() < high_watermark,
        records: records(batch),
        bytes: batch.as_bytes().clone(),
    }
}

fn records(batch: &RecordBatch) -> Vec<RecordView> {
    let text = |bytes: &Bytes| String::from_utf8_lossy(bytes).into_owned();
    let append_time_ms = (batch.timestamp_type() == TimestampType::LogAppendTime).then(|| batch.max_timestamp_ms());
    let Ok(records) = batch.records() else { return Vec::new() };
    records
        .map(|record| RecordView {
            offset: record.offset(batch.base_offset()),
            timestamp_ms: append_time_ms.unwrap_or(batch.base_timestamp_ms().wrapping_add(record.timestamp_delta)),
            key: record.key.as_ref().map(text),
            value: record.value.as_ref().map(text),
            headers: record.headers.iter().map(|h| (h.key.clone(), h.value.as_ref().map(text))).collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::Command;
    use crate::config::ClusterConfig;
    use crate::record_batch::RecordBatch;

    fn run(simulation: &mut Simulation, line: &str) {
        simulation.apply(&Command::parse(line).unwrap()).unwrap();
    }

    /// The default cluster with two keyed records produced to orders/0 with acks=all, settled.
    fn produced() -> Simulation {
        let mut simulation = Simulation::new(ClusterConfig::default()).unwrap();
        run(&mut simulation, "advance 1s");
        run(&mut simulation, "produce orders partition=0 key=alice value=10 acks=all");
        run(&mut simulation, "advance 1s");
        run(&mut simulation, "produce orders partition=0 key=bob value=11 acks=all");
        run(&mut simulation, "advance 1s");
        simulation
    }

    #[test]
    fn a_replicas_log_lists_its_batches_with_offsets_records_and_exact_bytes() {
        let simulation = produced();
        let orders0 = TopicPartition::new("orders", 0);
        let leader = simulation.metadata().partition(&orders0).and_then(|p| p.leader).unwrap();
        let log = simulation.replica_log(leader, &orders0).expect("the leader holds it");
        assert!(log.is_leader);
        assert_eq!((log.log_end_offset, log.high_watermark), (Offset(2), Offset(2)));
        let offsets: Vec<_> = log.batches.iter().map(|b| (b.base_offset.0, b.last_offset.0)).collect();
        assert_eq!(offsets, [(0, 0), (1, 1)]);
        let first = &log.batches[0];
        assert_eq!(first.records[0].key.as_deref(), Some("alice"));
        assert_eq!(first.records[0].value.as_deref(), Some("10"));
        assert!(first.committed && !first.transactional && !first.control);
        let parsed = RecordBatch::parse(first.bytes.clone()).expect("the stored bytes are a valid batch");
        assert_eq!(parsed.base_offset(), Offset(0), "the leader's assigned offset is in the bytes");
    }

    #[test]
    fn a_batch_above_the_high_watermark_is_not_committed() {
        let mut simulation = produced();
        let orders0 = TopicPartition::new("orders", 0);
        let leader = simulation.metadata().partition(&orders0).and_then(|p| p.leader).unwrap();
        // With the followers gone, an acks=1 write lands on the leader only.
        for broker in [1, 2, 3].into_iter().filter(|b| *b != leader.0) {
            run(&mut simulation, &alloc::format!("kill {broker}"));
        }
        run(&mut simulation, "produce orders partition=0 key=carol value=12 acks=1");
        run(&mut simulation, "advance 200ms");
        let log = simulation.replica_log(leader, &orders0).unwrap();
        let last = log.batches.last().unwrap();
        assert_eq!(last.records[0].key.as_deref(), Some("carol"));
        assert!(!last.committed, "HW {} does not cover offset {}", log.high_watermark, last.last_offset);
        assert!(log.batches[0].committed);
    }

    #[test]
    fn a_broker_without_the_replica_has_no_log_to_show() {
        let simulation = produced();
        assert_eq!(simulation.replica_log(BrokerId(1), &TopicPartition::new("nope", 0)), None);
        assert_eq!(simulation.replica_log(BrokerId(9), &TopicPartition::new("orders", 0)), None);
    }
}
