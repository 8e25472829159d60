//! Retention: which old segments `cleanup.policy=delete` removes (Kafka's
//! `UnifiedLog.deleteOldSegments`).
//!
//! Kafka deletes whole segments from the oldest, in two passes: first those whose largest
//! record timestamp is more than `retention.ms` old (`deleteRetentionMsBreachedSegments`), then,
//! while the log would still be at least `retention.bytes` without the next one, by size
//! (`deleteRetentionSizeBreachedSegments`). Each pass stops at the first segment it keeps. The
//! active segment is never deleted here, nor any segment whose records reach the high
//! watermark: a segment is deletable only when the next one starts at or below it. The log
//! start offset then moves to the first remaining segment's base offset; offsets are never
//! reused, so the next append still continues from the log end.

use serde::{Deserialize, Serialize};

use super::config::LogConfig;
use super::segment::Segment;
use crate::ids::Offset;

/// What one retention pass deleted, for the trace.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionOutcome {
    /// Segments deleted because their newest record was older than `retention.ms`.
    pub segments_deleted_by_time: usize,
    /// Segments deleted, after those, because the log was larger than `retention.bytes`.
    pub segments_deleted_by_size: usize,
    /// Records in the deleted segments (their batches' records counts).
    pub records_deleted: u64,
    pub bytes_deleted: u64,
    /// The log start offset afterwards.
    pub log_start_offset: Offset,
}

impl RetentionOutcome {
    pub fn segments_deleted(&self) -> usize {
        self.segments_deleted_by_time + self.segments_deleted_by_size
    }

    pub fn deleted_anything(&self) -> bool {
        self.segments_deleted() > 0
    }
}

/// How many of the oldest segments each pass deletes; the time pass's come first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct RetentionPlan {
    pub by_time: usize,
    pub by_size: usize,
}

impl RetentionPlan {
    pub fn total(&self) -> usize {
        self.by_time + self.by_size
    }
}

/// Decides what retention deletes; pure, so the log applies it in one step.
pub(super) fn plan(segments: &[Segment], high_watermark: Offset, config: &LogConfig, now_ms: u64) -> RetentionPlan {
    if !config.cleanup_policy.deletes() {
        return RetentionPlan::default();
    }
    let deletable = &segments[..deletable_below_high_watermark(segments, high_watermark)];
    let by_time = match config.retention_ms {
        Some(retention_ms) => deletable.iter().take_while(|segment| expired(segment, retention_ms, now_ms)).count(),
        None => 0,
    };
    let by_size = match config.retention_bytes {
        Some(retention_bytes) => {
            let mut log_bytes: u64 = segments[by_time..].iter().map(Segment::size_bytes).sum();
            let over_limit = |segment: &&Segment| match log_bytes.checked_sub(segment.size_bytes()) {
                Some(rest) if rest >= retention_bytes => {
                    log_bytes = rest;
                    true
                }
                _ => false,
            };
            deletable[by_time..].iter().take_while(over_limit).count()
        }
        None => 0,
    };
    RetentionPlan { by_time, by_size }
}

/// The leading segments that are not active and lie wholly below the high watermark: the next
/// segment starts at or below it (Kafka's `highWatermark >= upperBoundOffset`).
fn deletable_below_high_watermark(segments: &[Segment], high_watermark: Offset) -> usize {
    segments.windows(2).take_while(|pair| pair[1].base_offset() <= high_watermark).count()
}

/// Kafka's `startMs - segment.largestTimestamp > retentionMs`.
fn expired(segment: &Segment, retention_ms: u64, now_ms: u64) -> bool {
    now_ms as i128 - segment.largest_timestamp_or_created_ms() > retention_ms as i128
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition_log::single_record_batch;
    use alloc::vec::Vec;

    /// Segments of one record each at offsets 0, 1, 2, ... with the given timestamps.
    fn segments(timestamps: &[i64]) -> Vec<Segment> {
        let mut segments = Vec::new();
        for (offset, &timestamp_ms) in timestamps.iter().enumerate() {
            let mut segment = Segment::new(Offset(offset as i64), 0);
            let mut batch = single_record_batch(timestamp_ms, None, None);
            batch.set_base_offset(Offset(offset as i64));
            segment.append(batch, 0);
            segments.push(segment);
        }
        segments
    }

    fn config(retention_ms: Option<u64>, retention_bytes: Option<u64>) -> LogConfig {
        LogConfig { retention_ms, retention_bytes, ..LogConfig::default() }
    }

    #[test]
    fn time_retention_stops_at_the_first_young_segment() {
        let segments = segments(&[10, 70, 20, 90]);
        let plan = plan(&segments, Offset(4), &config(Some(40), None), 100);
        assert_eq!(plan, RetentionPlan { by_time: 1, by_size: 0 });
    }

    #[test]
    fn the_active_segment_and_segments_reaching_the_high_watermark_stay() {
        let segments = segments(&[0, 0, 0, 0]);
        assert_eq!(plan(&segments, Offset(4), &config(Some(1), None), 100).by_time, 3);
        assert_eq!(plan(&segments, Offset(2), &config(Some(1), None), 100).by_time, 2);
        assert_eq!(plan(&segments, Offset(1), &config(Some(1), None), 100).by_time, 1);
    }

    #[test]
    fn size_retention_keeps_at_least_retention_bytes() {
        let segments = segments(&[0, 0, 0, 0]);
        let one = segments[0].size_bytes();
        let plan = plan(&segments, Offset(4), &config(None, Some(2 * one)), 0);
        assert_eq!(plan, RetentionPlan { by_time: 0, by_size: 2 });
        let just_under = super::plan(&segments, Offset(4), &config(None, Some(2 * one + 1)), 0);
        assert_eq!(just_under.by_size, 1);
    }

    #[test]
    fn size_retention_counts_what_time_retention_left() {
        let segments = segments(&[0, 90, 90, 90]);
        let one = segments[0].size_bytes();
        let plan = plan(&segments, Offset(4), &config(Some(50), Some(2 * one)), 100);
        assert_eq!(plan, RetentionPlan { by_time: 1, by_size: 1 });
    }

    #[test]
    fn compact_only_topics_delete_nothing() {
        let segments = segments(&[0, 0, 0]);
        let compact =
            LogConfig { cleanup_policy: crate::partition_log::CleanupPolicy::Compact, ..config(Some(1), None) };
        assert_eq!(plan(&segments, Offset(3), &compact, 100).total(), 0);
    }
}
