//! Compaction: `cleanup.policy=compact` keeps only the newest record of each key (Kafka's
//! `LogCleaner`, KIP-58 for `min.compaction.lag.ms`, KIP-534 for tombstones).
//!
//! The cleanable part of the log is every non-active segment below the first uncleanable
//! offset: the high watermark (Kafka stops at the last stable offset, which is at most the high
//! watermark), the active segment's base, and the base of the first segment whose largest
//! timestamp is younger than `min.compaction.lag.ms`. There a record goes when a newer record
//! with its key exists among the committed records of the whole log, and a tombstone (no value)
//! that is its key's newest goes once `delete.retention.ms` has passed since its timestamp.
//! Records above the high watermark never count as newer: a follower may still truncate them,
//! and the value they shadowed would be lost with them.
//!
//! As in Kafka, offsets never change: a batch keeps its base offset, last offset delta (so the
//! producer's last sequence survives), producer fields and leader epoch, and is re-encoded with
//! the kept records and a new CRC; a batch left empty is dropped, leaving a gap. Control
//! batches are kept as they are (this model tracks no transactions), and so are compressed
//! batches, whose records this crate does not decompress. Records without keys are kept: Kafka
//! refuses them on append to a compacted topic, and this log keeps those appended earlier
//! (under another policy, or by a follower) rather than drop data silently as Kafka's cleaner
//! does.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::config::LogConfig;
use super::log_record::{decode, BatchContext};
use super::segment::Segment;
use crate::ids::Offset;
use crate::record_batch::{encode, Record, RecordBatch, TimestampType};

/// What one compaction pass did, for the trace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompactionOutcome {
    /// Compaction looked at offsets below this one only (the log start when the policy does
    /// not compact).
    pub first_uncleanable_offset: Offset,
    /// Segments whose batches changed.
    pub segments_cleaned: usize,
    /// Records removed, tombstones included.
    pub records_removed: u64,
    /// Tombstones removed because `delete.retention.ms` had passed.
    pub tombstones_removed: u64,
    /// Batches left empty and dropped.
    pub batches_removed: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
}

/// What the cleaner does with one batch.
enum CleanedBatch {
    Unchanged,
    Thinned(RecordBatch),
    Removed,
}

/// What the cleaner needs to decide about one record.
struct Cleaner<'a> {
    latest: &'a BTreeMap<Bytes, Offset>,
    first_uncleanable_offset: Offset,
    now_ms: u64,
    delete_retention_ms: u64,
}

/// Compacts the non-active segments of `segments` in place.
pub(super) fn compact(
    segments: &mut [Segment],
    high_watermark: Offset,
    config: &LogConfig,
    now_ms: u64,
) -> CompactionOutcome {
    let bytes_before = segments.iter().map(Segment::size_bytes).sum();
    if !config.cleanup_policy.compacts() {
        let first_uncleanable_offset = segments[0].base_offset(); // nothing is cleanable
        return CompactionOutcome {
            first_uncleanable_offset,
            bytes_before,
            bytes_after: bytes_before,
            ..Default::default()
        };
    }
    let first_uncleanable_offset = first_uncleanable_offset(segments, high_watermark, config, now_ms);
    let mut outcome = CompactionOutcome { first_uncleanable_offset, bytes_before, ..CompactionOutcome::default() };
    let latest = latest_offsets(segments, high_watermark);
    let cleaner =
        Cleaner { latest: &latest, first_uncleanable_offset, now_ms, delete_retention_ms: config.delete_retention_ms };
    let active = segments.len() - 1;
    for segment in segments[..active].iter_mut().take_while(|s| s.base_offset() < first_uncleanable_offset) {
        if let Some(batches) = cleaner.clean_segment(segment, &mut outcome) {
            segment.replace_batches(batches);
            outcome.segments_cleaned += 1;
        }
    }
    outcome.bytes_after = segments.iter().map(Segment::size_bytes).sum();
    outcome
}

/// Kafka's `LogCleanerManager.cleanableOffsets`, without transactions: the least of the high
/// watermark, the active segment's base, and the first segment too young to compact.
fn first_uncleanable_offset(segments: &[Segment], high_watermark: Offset, config: &LogConfig, now_ms: u64) -> Offset {
    let (active, closed) = segments.split_last().expect("a log always has an active segment");
    let mut first = high_watermark.min(active.base_offset());
    if config.min_compaction_lag_ms > 0 {
        let youngest_allowed_ms = now_ms as i128 - config.min_compaction_lag_ms as i128;
        let too_young = closed.iter().find(|s| s.largest_timestamp_or_created_ms() > youngest_allowed_ms);
        if let Some(segment) = too_young {
            first = first.min(segment.base_offset());
        }
    }
    first
}

/// The offset of each key's newest committed record (Kafka's `OffsetMap`, built here over the
/// whole committed log rather than only the dirty part).
fn latest_offsets(segments: &[Segment], high_watermark: Offset) -> BTreeMap<Bytes, Offset> {
    let mut latest = BTreeMap::new();
    let batches = segments.iter().flat_map(|segment| segment.batches());
    for batch in batches.take_while(|batch| batch.base_offset() < high_watermark).filter(|b| !b.is_control()) {
        for record in decode(batch).filter(|record| record.offset < high_watermark) {
            if let Some(key) = record.key {
                let newest = latest.entry(key).or_insert(record.offset);
                *newest = (*newest).max(record.offset);
            }
        }
    }
    latest
}

impl Cleaner<'_> {
    /// The segment's batches after cleaning, or `None` if none changed.
    fn clean_segment(&self, segment: &Segment, outcome: &mut CompactionOutcome) -> Option<Vec<RecordBatch>> {
        let mut batches = Vec::with_capacity(segment.batch_count());
        let mut changed = false;
        for batch in segment.batches() {
            match self.clean_batch(batch, outcome) {
                CleanedBatch::Unchanged => batches.push(batch.clone()),
                CleanedBatch::Thinned(thinned) => {
                    batches.push(thinned);
                    changed = true;
                }
                CleanedBatch::Removed => {
                    outcome.batches_removed += 1;
                    changed = true;
                }
            }
        }
        changed.then_some(batches)
    }

    fn clean_batch(&self, batch: &RecordBatch, outcome: &mut CompactionOutcome) -> CleanedBatch {
        if batch.is_control() || batch.base_offset() >= self.first_uncleanable_offset {
            return CleanedBatch::Unchanged;
        }
        let Ok(records) = batch.records() else {
            return CleanedBatch::Unchanged; // snappy, lz4 or zstd: opaque here
        };
        let context = BatchContext::of(batch);
        let (mut kept, mut removed, mut tombstones) = (Vec::new(), 0u64, 0u64);
        for record in records {
            match self.verdict(&context, batch.base_offset(), &record) {
                Verdict::Keep => kept.push(record),
                Verdict::Shadowed => removed += 1,
                Verdict::ExpiredTombstone => tombstones += 1,
            }
        }
        if removed + tombstones == 0 {
            return CleanedBatch::Unchanged;
        }
        let cleaned = if kept.is_empty() {
            CleanedBatch::Removed
        } else {
            match rebuild(batch, &context, kept) {
                Some(thinned) => CleanedBatch::Thinned(thinned),
                // Re-encoding fewer records of a batch that encoded can only fail if recomputed
                // timestamp deltas push it past 2 GiB; keeping the batch whole is then safe.
                None => return CleanedBatch::Unchanged,
            }
        };
        outcome.records_removed += removed + tombstones;
        outcome.tombstones_removed += tombstones;
        cleaned
    }

    /// Kafka's `LogCleaner.shouldRetainRecord`, with tombstones timed from their timestamp.
    fn verdict(&self, context: &BatchContext, base_offset: Offset, record: &Record) -> Verdict {
        let offset = record.offset(base_offset);
        let Some(key) = &record.key else {
            return Verdict::Keep;
        };
        if offset >= self.first_uncleanable_offset {
            return Verdict::Keep;
        }
        let latest = self.latest.get(key).copied();
        assert!(latest.is_some_and(|latest| latest >= offset), "every committed key is in the offset map");
        if latest != Some(offset) {
            return Verdict::Shadowed;
        }
        let expires_ms = context.timestamp_ms(record) as i128 + self.delete_retention_ms as i128;
        if record.value.is_none() && self.now_ms as i128 >= expires_ms {
            return Verdict::ExpiredTombstone;
        }
        Verdict::Keep
    }
}

enum Verdict {
    Keep,
    /// A newer record has the same key.
    Shadowed,
    /// The key's newest record is a tombstone past `delete.retention.ms`.
    ExpiredTombstone,
}

/// The batch with only `kept` (Kafka's `MemoryRecords.buildRetainedRecordsInto`): same header,
/// offsets and last offset delta; for create-time batches the base timestamp becomes the first
/// kept record's and the max timestamp the largest kept one, as Kafka's builder recomputes them.
fn rebuild(batch: &RecordBatch, context: &BatchContext, mut kept: Vec<Record>) -> Option<RecordBatch> {
    let mut header = batch.header();
    let create_time = header.attributes.timestamp_type() == TimestampType::CreateTime;
    if create_time && !header.attributes.has_delete_horizon() {
        let timestamps: Vec<i64> = kept.iter().map(|record| context.timestamp_ms(record)).collect();
        let base_timestamp_ms = timestamps[0];
        header.base_timestamp_ms = base_timestamp_ms;
        header.max_timestamp_ms = timestamps.iter().copied().fold(i64::MIN, i64::max);
        for (record, timestamp_ms) in kept.iter_mut().zip(timestamps) {
            record.timestamp_delta = timestamp_ms.wrapping_sub(base_timestamp_ms);
        }
    }
    let rebuilt = encode(&header, &kept).ok()?;
    assert_eq!((rebuilt.base_offset(), rebuilt.next_offset()), (batch.base_offset(), batch.next_offset()));
    Some(rebuilt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition_log::{single_record_batch, CleanupPolicy};
    use alloc::vec::Vec;

    /// One-record segments at offsets 0, 1, 2, ... with the given timestamps; the last is active.
    fn segments(timestamps: &[i64]) -> Vec<Segment> {
        let mut segments = Vec::new();
        for (offset, &timestamp_ms) in timestamps.iter().enumerate() {
            let mut segment = Segment::new(Offset(offset as i64), 0);
            let mut batch = single_record_batch(timestamp_ms, Some(Bytes::from_static(b"k")), None);
            batch.set_base_offset(Offset(offset as i64));
            segment.append(batch, 0);
            segments.push(segment);
        }
        segments
    }

    #[test]
    fn the_first_uncleanable_offset_is_the_least_of_high_watermark_active_segment_and_lag() {
        let config = LogConfig { cleanup_policy: CleanupPolicy::Compact, ..LogConfig::default() };
        let segments = segments(&[0, 10, 90, 95]);
        assert_eq!(first_uncleanable_offset(&segments, Offset(4), &config, 100), Offset(3));
        assert_eq!(first_uncleanable_offset(&segments, Offset(1), &config, 100), Offset(1));
        let lagging = LogConfig { min_compaction_lag_ms: 50, ..config };
        assert_eq!(first_uncleanable_offset(&segments, Offset(4), &lagging, 100), Offset(2));
    }

    #[test]
    fn the_offset_map_holds_each_keys_newest_committed_offset() {
        let segments = segments(&[0, 0, 0, 0]);
        let latest = latest_offsets(&segments, Offset(3));
        assert_eq!(latest.get(&Bytes::from_static(b"k")), Some(&Offset(2)));
    }
}
