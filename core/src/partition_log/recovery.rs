//! A log rebuilt from what a broker's disk held (Kafka's `LogLoader` and `LogSegment.recover`):
//! segments as they were, producer state replayed from the batches, the leader-epoch cache
//! from its checkpoint brought up to date with the batches, and the high watermark from its
//! checkpoint, capped at the log end.
//!
//! Kafka also keeps producer-state snapshots, so producers whose batches retention deleted
//! are still known after a restart; here the state is replayed from the batches that remain,
//! as Kafka does when it has no snapshot. The driver has already dropped a torn or corrupt
//! tail (it reads the files); batches out of order are refused here, not repaired.

use alloc::vec::Vec;

use super::error::LogError;
use super::producer_state::ProducerAppend;
use super::producer_state_manager::ProducerStateManager;
use super::{LeaderEpochCache, LogConfig, PartitionLog, Segment};
use crate::ids::Offset;
use crate::storage::StoredLog;

impl PartitionLog {
    /// The log `stored` describes, as a broker starting at `now_ms` recovers it. Segments keep
    /// their base offsets (a closed segment ends after its last batch); every segment counts
    /// as created at `now_ms`, as Kafka falls back to the file's time.
    pub fn recover(config: LogConfig, stored: &StoredLog, now_ms: u64) -> Result<PartitionLog, LogError> {
        let segments = recover_segments(stored, now_ms)?;
        let mut log = PartitionLog {
            config,
            segments,
            high_watermark: Offset(0),
            epochs: LeaderEpochCache::default(),
            producers: ProducerStateManager::default(),
        };
        let (log_start, log_end) = (log.log_start_offset(), log.log_end_offset());
        let high_watermark = stored.high_watermark.clamp(log_start, log_end);
        log.high_watermark = high_watermark;
        log.epochs = recover_epochs(stored, log_start, log_end);
        let appends: Vec<ProducerAppend> = log.batches().filter_map(ProducerAppend::of).collect();
        for append in appends {
            log.producers.apply(append, high_watermark);
        }
        log.set_high_watermark(high_watermark);
        log.validate_records()?;
        Ok(log)
    }
}

/// The segments, each batch checked to start at or after the previous one's end and its
/// segment's base.
fn recover_segments(stored: &StoredLog, now_ms: u64) -> Result<Vec<Segment>, LogError> {
    let mut segments: Vec<Segment> = Vec::with_capacity(stored.segments.len().max(1));
    let mut previous_end = stored.segments.first().map_or(Offset(0), |first| first.base_offset);
    for (index, stored_segment) in stored.segments.iter().enumerate() {
        if stored_segment.base_offset < previous_end || stored_segment.base_offset.0 < 0 {
            return Err(LogError::SegmentsOutOfOrder { index: index.saturating_sub(1) });
        }
        let mut segment = Segment::new(stored_segment.base_offset, now_ms);
        for batch in &stored_segment.batches {
            let expected_at_least = previous_end.max(stored_segment.base_offset);
            if batch.base_offset() < expected_at_least {
                return Err(LogError::BatchOutOfOrder { base_offset: batch.base_offset(), expected_at_least });
            }
            segment.append(batch.clone(), now_ms);
            previous_end = batch.next_offset();
        }
        previous_end = previous_end.max(segment.next_offset());
        segments.push(segment);
    }
    if segments.is_empty() {
        segments.push(Segment::new(Offset(0), now_ms));
    }
    Ok(segments)
}

/// The checkpointed epochs within the log (an epoch a leader began at the log end, writing
/// nothing yet, stays), then every batch of a later epoch than the latest (Kafka's
/// `LogSegment.recover` assigns those, so a checkpoint older than the log is caught up).
/// Without a checkpoint, the batches alone.
fn recover_epochs(stored: &StoredLog, log_start: Offset, log_end: Offset) -> LeaderEpochCache {
    let mut cache = LeaderEpochCache::default();
    for entry in stored.epochs.iter().flatten() {
        cache.assign(entry.epoch, entry.start_offset);
    }
    cache.truncate_from_end(log_end.next());
    cache.truncate_from_start(log_start);
    for batch in stored.batches() {
        let epoch = batch.partition_leader_epoch();
        if cache.latest().is_none_or(|latest| epoch > latest.epoch) {
            cache.assign(epoch, batch.base_offset());
        }
    }
    cache
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::LeaderEpoch;
    use crate::partition_log::{single_record_batch, EpochEntry};
    use crate::record_batch::{encode, BatchHeader, Record};
    use crate::storage::StoredSegment;
    use bytes::Bytes;

    fn value(text: &'static str) -> crate::record_batch::RecordBatch {
        single_record_batch(10, None, Some(Bytes::from_static(text.as_bytes())))
    }

    /// A log with two segments, written by leaders of epochs 0 and 3.
    fn written_log() -> PartitionLog {
        let config = LogConfig { segment_bytes: 150, ..LogConfig::default() };
        let mut log = PartitionLog::new(config);
        log.append_as_leader(LeaderEpoch(0), 0, value("a")).unwrap();
        log.append_as_leader(LeaderEpoch(0), 0, value("b")).unwrap();
        log.append_as_leader(LeaderEpoch(3), 0, value("c")).unwrap();
        log.set_high_watermark(Offset(2));
        log
    }

    #[test]
    fn a_recovered_log_has_the_same_segments_batches_epochs_and_high_watermark() {
        let log = written_log();
        assert!(log.segments().len() > 1, "the test needs a rolled segment");
        let recovered = PartitionLog::recover(log.config().clone(), &StoredLog::of(&log), 500).unwrap();
        assert_eq!(StoredLog::of(&recovered), StoredLog::of(&log));
        assert_eq!(recovered.log_end_offset(), Offset(3));
        assert_eq!(recovered.high_watermark(), Offset(2));
    }

    #[test]
    fn a_high_watermark_past_the_log_end_is_capped_and_missing_epochs_are_rebuilt_from_batches() {
        let mut stored = StoredLog::of(&written_log());
        stored.high_watermark = Offset(99);
        stored.epochs = None;
        let recovered = PartitionLog::recover(LogConfig::default(), &stored, 0).unwrap();
        assert_eq!(recovered.high_watermark(), Offset(3));
        let expected = [
            EpochEntry { epoch: LeaderEpoch(0), start_offset: Offset(0) },
            EpochEntry { epoch: LeaderEpoch(3), start_offset: Offset(2) },
        ];
        assert_eq!(recovered.epoch_entries(), expected);
    }

    #[test]
    fn an_epoch_begun_at_the_log_end_survives_but_one_past_it_does_not() {
        let mut log = written_log();
        log.assign_epoch_start(LeaderEpoch(5));
        let mut stored = StoredLog::of(&log);
        stored.epochs.as_mut().unwrap().push(EpochEntry { epoch: LeaderEpoch(6), start_offset: Offset(9) });
        let recovered = PartitionLog::recover(LogConfig::default(), &stored, 0).unwrap();
        assert_eq!(recovered.last_epoch(), Some(LeaderEpoch(5)));
    }

    #[test]
    fn idempotent_producer_state_is_replayed_so_a_retry_after_recovery_is_a_duplicate() {
        let header =
            BatchHeader { producer_id: 7, producer_epoch: 0, base_sequence: 0, ..BatchHeader::new(Offset(0), 1) };
        let batch = encode(&header, &[Record::new(0, 0, None, Some(Bytes::from_static(b"x")))]).unwrap();
        let mut log = PartitionLog::new(LogConfig::default());
        log.append_from_producer(LeaderEpoch(0), 0, batch.clone()).unwrap();
        let mut recovered = PartitionLog::recover(LogConfig::default(), &StoredLog::of(&log), 0).unwrap();
        let retry = recovered.append_from_producer(LeaderEpoch(0), 0, batch).unwrap();
        assert!(retry.duplicate, "the producer's sequence was rebuilt from its batch");
        assert_eq!(recovered.log_end_offset(), Offset(1));
    }

    #[test]
    fn batches_out_of_order_are_refused() {
        let mut first = value("a");
        first.set_base_offset(Offset(4));
        let second = value("b"); // at offset 0, before the first
        let stored = StoredLog {
            segments: alloc::vec![StoredSegment { base_offset: Offset(0), batches: alloc::vec![first, second] }],
            high_watermark: Offset(0),
            epochs: None,
            topic_id: None,
        };
        assert_eq!(
            PartitionLog::recover(LogConfig::default(), &stored, 0),
            Err(LogError::BatchOutOfOrder { base_offset: Offset(0), expected_at_least: Offset(5) })
        );
    }
}
