//! The checks an append makes before it writes anything, so a refused append changes nothing.
//!
//! A leader checks what a producer sent the way Kafka's `LogValidator` does for client
//! appends: records present unless it is a control batch, a records count that matches the
//! offsets the batch spans, records readable (plain or gzip: a codec the lab does not implement
//! is refused), and keys on a compacted topic. A follower takes the leader's
//! batches as they are (compaction may have emptied or thinned them) and only checks that
//! their offsets continue its log, as `UnifiedLog.append` does with `UnexpectedAppendOffset`,
//! and that each batch's records lie in order within its offset range, so a corrupt leader
//! cannot break the orderings [`PartitionLog::validate_records`](super::PartitionLog) checks.
//! Both refuse a batch larger than a segment (`RecordBatchTooLargeException`).

use super::config::LogConfig;
use super::error::AppendError;
use crate::ids::{LeaderEpoch, Offset};
use crate::record_batch::RecordBatch;

/// A leader appends under its own epoch, which never goes back.
pub(super) fn check_leader_epoch(epoch: LeaderEpoch, latest: Option<LeaderEpoch>) -> Result<(), AppendError> {
    if epoch.0 < 0 {
        return Err(AppendError::InvalidLeaderEpoch { epoch });
    }
    match latest {
        Some(latest) if epoch < latest => Err(AppendError::StaleLeaderEpoch { epoch, latest }),
        _ => Ok(()),
    }
}

/// What a producer's batch must be before a leader assigns it offsets.
pub(super) fn check_leader_batch(batch: &RecordBatch, config: &LogConfig) -> Result<(), AppendError> {
    check_fits_segment(batch, config)?;
    let record_count = batch.record_count();
    let last_offset_delta = batch.last_offset_delta();
    if record_count == 0 && !batch.is_control() {
        return Err(AppendError::EmptyBatch);
    }
    // A control batch may carry no record yet still takes one offset.
    if last_offset_delta != (record_count - 1).max(0) {
        return Err(AppendError::RecordCountMismatch { record_count, last_offset_delta });
    }
    let records = batch
        .records()
        .map_err(|unsupported| AppendError::UnsupportedCompression { compression: unsupported.compression })?;
    let needs_keys = config.cleanup_policy.compacts() && !batch.is_control();
    for (index, record) in records.enumerate() {
        if record.offset_delta as i64 != index as i64 {
            return Err(AppendError::RecordOffsetDeltaMismatch { index, offset_delta: record.offset_delta });
        }
        if needs_keys && record.key.is_none() {
            return Err(AppendError::KeylessRecordInCompactedTopic { index });
        }
    }
    Ok(())
}

/// Where a leader's batch will end: `(first, last)` offsets when it starts at `log_end`.
pub(super) fn leader_offsets(batch: &RecordBatch, log_end: Offset) -> Result<(Offset, Offset), AppendError> {
    let last_offset_delta = batch.last_offset_delta();
    let last = log_end.0.checked_add(last_offset_delta as i64).filter(|last| last.checked_add(1).is_some());
    match last {
        Some(last) => Ok((log_end, Offset(last))),
        None => Err(AppendError::OffsetOverflow { log_end, last_offset_delta }),
    }
}

/// A follower's batches continue its log in order and each fits a segment.
pub(super) fn check_follower_batches(
    batches: &[RecordBatch],
    log_end: Offset,
    config: &LogConfig,
) -> Result<(), AppendError> {
    let mut expected = log_end;
    for batch in batches {
        check_fits_segment(batch, config)?;
        let base_offset = batch.base_offset();
        if base_offset < expected {
            return Err(AppendError::OffsetBelowLogEnd { base_offset, log_end: expected });
        }
        if batch.last_offset_delta() < 0 {
            return Err(AppendError::NegativeLastOffsetDelta {
                base_offset,
                last_offset_delta: batch.last_offset_delta(),
            });
        }
        if let Some(index) = misplaced_record(batch) {
            return Err(AppendError::RecordOffsetOutOfOrder { base_offset, index });
        }
        expected = batch.next_offset();
    }
    Ok(())
}

/// The first record of a batch whose offset delta is not above the previous record's or lies
/// outside `0 ..= last offset delta`. Compaction leaves gaps between deltas, never disorder.
/// Records under a codec the lab does not implement are opaque here and pass.
pub(super) fn misplaced_record(batch: &RecordBatch) -> Option<usize> {
    let records = batch.records().ok()?;
    let mut previous: Option<i32> = None;
    for (index, record) in records.enumerate() {
        let delta = record.offset_delta;
        let in_range = delta >= 0 && delta <= batch.last_offset_delta();
        if !in_range || previous.is_some_and(|previous| delta <= previous) {
            return Some(index);
        }
        previous = Some(delta);
    }
    None
}

fn check_fits_segment(batch: &RecordBatch, config: &LogConfig) -> Result<(), AppendError> {
    let size_bytes = batch.size_bytes() as u64;
    if size_bytes > config.segment_bytes {
        return Err(AppendError::BatchLargerThanSegment { size_bytes, segment_bytes: config.segment_bytes });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition_log::{single_record_batch, CleanupPolicy};
    use crate::record_batch::{encode, BatchAttributes, BatchHeader, Record};
    use bytes::Bytes;

    fn key() -> Option<Bytes> {
        Some(Bytes::from_static(b"k"))
    }

    #[test]
    fn an_empty_batch_is_refused_unless_it_is_a_control_batch() {
        let empty = encode(&BatchHeader::new(Offset(0), 0), &[]).unwrap();
        assert_eq!(check_leader_batch(&empty, &LogConfig::default()), Err(AppendError::EmptyBatch));
        let control = BatchHeader { attributes: BatchAttributes::default().with_control(true), ..empty.header() };
        assert_eq!(check_leader_batch(&encode(&control, &[]).unwrap(), &LogConfig::default()), Ok(()));
    }

    #[test]
    fn a_records_count_that_disagrees_with_the_offset_range_is_refused() {
        let header = BatchHeader { last_offset_delta: 3, ..BatchHeader::new(Offset(0), 0) };
        let batch = encode(&header, &[Record::new(0, 0, key(), None)]).unwrap();
        let expected = AppendError::RecordCountMismatch { record_count: 1, last_offset_delta: 3 };
        assert_eq!(check_leader_batch(&batch, &LogConfig::default()), Err(expected));
    }

    #[test]
    fn records_must_have_offset_deltas_zero_one_two() {
        let records = [Record::new(0, 0, key(), None), Record::new(2, 0, key(), None)];
        let header = BatchHeader { last_offset_delta: 1, ..BatchHeader::new(Offset(0), 0) };
        let batch = encode(&header, &records).unwrap();
        let expected = AppendError::RecordOffsetDeltaMismatch { index: 1, offset_delta: 2 };
        assert_eq!(check_leader_batch(&batch, &LogConfig::default()), Err(expected));
    }

    #[test]
    fn a_compacted_topic_refuses_records_without_keys() {
        let config = LogConfig { cleanup_policy: CleanupPolicy::Compact, ..LogConfig::default() };
        let keyless = single_record_batch(0, None, Some(Bytes::from_static(b"v")));
        assert_eq!(check_leader_batch(&keyless, &config), Err(AppendError::KeylessRecordInCompactedTopic { index: 0 }));
        assert_eq!(check_leader_batch(&keyless, &LogConfig::default()), Ok(()));
    }

    #[test]
    fn a_gzip_batch_is_checked_record_by_record_and_other_codecs_are_unsupported() {
        use crate::record_batch::{encode_compressed, Compression, TimestampType};
        let gzip = BatchAttributes::new(Compression::Gzip, TimestampType::CreateTime);
        let compacted = LogConfig { cleanup_policy: CleanupPolicy::Compact, ..LogConfig::default() };
        let header = BatchHeader { attributes: gzip, ..BatchHeader::new(Offset(0), 0) };
        let keyless = encode(&header, &[Record::new(0, 0, None, Some(Bytes::from_static(b"v")))]).unwrap();
        let expected = AppendError::KeylessRecordInCompactedTopic { index: 0 };
        assert_eq!(check_leader_batch(&keyless, &compacted), Err(expected));
        assert_eq!(check_leader_batch(&keyless, &LogConfig::default()), Ok(()));
        let lz4 = BatchHeader { attributes: gzip.with_compression(Compression::Lz4), ..header };
        let opaque = encode_compressed(&lz4, 1, b"lz4 frame").unwrap();
        let refused = check_leader_batch(&opaque, &LogConfig::default()).unwrap_err();
        assert_eq!(refused, AppendError::UnsupportedCompression { compression: Compression::Lz4 });
        assert_eq!(refused.error_code().code(), 76);
    }

    #[test]
    fn a_batch_larger_than_a_segment_is_refused() {
        let config = LogConfig { segment_bytes: 61, ..LogConfig::default() };
        let batch = single_record_batch(0, key(), None);
        let expected = AppendError::BatchLargerThanSegment { size_bytes: batch.size_bytes() as u64, segment_bytes: 61 };
        assert_eq!(check_leader_batch(&batch, &config), Err(expected.clone()));
        assert_eq!(check_follower_batches(&[batch], Offset(0), &config), Err(expected));
    }

    #[test]
    fn a_follower_refuses_records_out_of_order_or_outside_the_batch() {
        let records = [Record::new(1, 0, key(), None), Record::new(0, 0, key(), None)];
        let header = BatchHeader { last_offset_delta: 1, ..BatchHeader::new(Offset(5), 0) };
        let backwards = encode(&header, &records).unwrap();
        let expected = AppendError::RecordOffsetOutOfOrder { base_offset: Offset(5), index: 1 };
        assert_eq!(check_follower_batches(&[backwards], Offset(0), &LogConfig::default()), Err(expected));
        let header = BatchHeader { last_offset_delta: -1, ..BatchHeader::new(Offset(5), 0) };
        let inverted = encode(&header, &[]).unwrap();
        let expected = AppendError::NegativeLastOffsetDelta { base_offset: Offset(5), last_offset_delta: -1 };
        assert_eq!(check_follower_batches(&[inverted], Offset(0), &LogConfig::default()), Err(expected));
    }

    #[test]
    fn leader_epochs_never_go_back() {
        assert_eq!(check_leader_epoch(LeaderEpoch(3), Some(LeaderEpoch(3))), Ok(()));
        let stale = AppendError::StaleLeaderEpoch { epoch: LeaderEpoch(2), latest: LeaderEpoch(3) };
        assert_eq!(check_leader_epoch(LeaderEpoch(2), Some(LeaderEpoch(3))), Err(stale));
        let invalid = AppendError::InvalidLeaderEpoch { epoch: LeaderEpoch(-1) };
        assert_eq!(check_leader_epoch(LeaderEpoch(-1), None), Err(invalid));
    }

    #[test]
    fn offsets_that_would_overflow_are_refused() {
        let batch = single_record_batch(0, key(), None);
        assert_eq!(leader_offsets(&batch, Offset(7)), Ok((Offset(7), Offset(7))));
        let at_the_end = Offset(i64::MAX);
        let expected = AppendError::OffsetOverflow { log_end: at_the_end, last_offset_delta: 0 };
        assert_eq!(leader_offsets(&batch, at_the_end), Err(expected));
    }
}
