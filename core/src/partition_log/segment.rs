//! [`Segment`]: a contiguous run of a log's batches, the unit Kafka rolls, deletes and
//! compacts (Kafka's `LogSegment`, one `.log` file with its indexes).
//!
//! A segment is named by its base offset and knows the offset after its last batch (its next
//! offset), its size in bytes, when it was created and its largest record timestamp; retention
//! and rolling decide from these alone. Compaction may remove batches, leaving gaps, but never
//! moves the base or next offset. The last segment of a log is the active one: appends go there.

use alloc::vec::Vec;

use super::config::LogConfig;
use crate::ids::Offset;
use crate::record_batch::header::NO_TIMESTAMP;
use crate::record_batch::RecordBatch;

/// One segment of a partition log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Segment {
    base_offset: Offset,
    next_offset: Offset,
    size_bytes: u64,
    created_ms: u64,
    largest_timestamp_ms: i64,
    batches: Vec<RecordBatch>,
}

impl Segment {
    pub(super) fn new(base_offset: Offset, created_ms: u64) -> Segment {
        Segment {
            base_offset,
            next_offset: base_offset,
            size_bytes: 0,
            created_ms,
            largest_timestamp_ms: NO_TIMESTAMP,
            batches: Vec::new(),
        }
    }

    /// The offset the segment is named after; no batch in it starts lower.
    pub fn base_offset(&self) -> Offset {
        self.base_offset
    }

    /// The offset after the last batch appended here (the log end offset, for the active one).
    pub fn next_offset(&self) -> Offset {
        self.next_offset
    }

    pub fn size_bytes(&self) -> u64 {
        self.size_bytes
    }

    /// When the segment was rolled, or when its first batch arrived if it was empty until then
    /// (the log's first segment, or one emptied by truncation).
    pub fn created_ms(&self) -> u64 {
        self.created_ms
    }

    /// The largest `max timestamp` of its batches; -1 while it has none.
    pub fn largest_timestamp_ms(&self) -> i64 {
        self.largest_timestamp_ms
    }

    pub fn batch_count(&self) -> usize {
        self.batches.len()
    }

    /// The records count fields of its batches, summed.
    pub fn record_count(&self) -> u64 {
        self.batches.iter().map(|batch| batch.record_count().max(0) as u64).sum()
    }

    pub fn batches(&self) -> &[RecordBatch] {
        &self.batches
    }

    pub fn is_empty(&self) -> bool {
        self.batches.is_empty()
    }

    /// The time retention and the compaction lag measure age from: the largest record timestamp,
    /// or when the segment was created if it holds none (Kafka's `LogSegment.largestTimestamp`
    /// falls back to the file's modification time).
    pub(super) fn largest_timestamp_or_created_ms(&self) -> i128 {
        if self.largest_timestamp_ms >= 0 {
            self.largest_timestamp_ms as i128
        } else {
            self.created_ms as i128
        }
    }

    /// Kafka's `LogSegment.shouldRoll`: a non-empty segment rolls when `batch_bytes` more would
    /// take it past `segment.bytes`, or when it is older than `segment.ms`. (Kafka measures
    /// age from the first record's timestamp when it has one; here it is the creation time.)
    pub(super) fn should_roll(&self, batch_bytes: u64, now_ms: u64, config: &LogConfig) -> bool {
        if self.is_empty() {
            return false;
        }
        let full = self.size_bytes.saturating_add(batch_bytes) > config.segment_bytes;
        let aged = now_ms.saturating_sub(self.created_ms) > config.segment_ms;
        full || aged
    }

    /// Appends a batch whose offsets lie at or after this segment's end. The first batch into an
    /// empty segment restarts its clock, as Kafka times `segment.ms` from a segment's first batch.
    pub(super) fn append(&mut self, batch: RecordBatch, now_ms: u64) {
        assert!(batch.base_offset() >= self.next_offset, "batch at {} overlaps the segment", batch.base_offset());
        if self.batches.is_empty() {
            self.created_ms = now_ms;
        }
        self.next_offset = batch.next_offset();
        self.size_bytes += batch.size_bytes() as u64;
        self.largest_timestamp_ms = self.largest_timestamp_ms.max(batch.max_timestamp_ms());
        self.batches.push(batch);
    }

    /// The index of the first batch that ends at or after `offset`: the batch holding it, or
    /// the next one if `offset` falls in a gap. `batch_count()` when none does.
    pub(super) fn position_of(&self, offset: Offset) -> usize {
        self.batches.partition_point(|batch| batch.last_offset() < offset)
    }

    /// Drops every batch that ends at or after `offset`, as Kafka truncates at batch boundaries
    /// (`LogSegment.truncateTo`): a batch holding `offset` goes whole. The segment then ends
    /// after its last remaining batch. Returns the dropped batches' size in bytes.
    pub(super) fn truncate_to(&mut self, offset: Offset) -> u64 {
        let keep = self.position_of(offset);
        let dropped: u64 = self.batches[keep..].iter().map(|batch| batch.size_bytes() as u64).sum();
        self.batches.truncate(keep);
        self.next_offset = self.batches.last().map_or(self.base_offset, RecordBatch::next_offset);
        self.size_bytes -= dropped;
        self.largest_timestamp_ms = largest_timestamp(&self.batches);
        dropped
    }

    /// Puts compacted batches in place of the old ones; base and next offsets stay.
    pub(super) fn replace_batches(&mut self, batches: Vec<RecordBatch>) {
        for pair in batches.windows(2) {
            assert!(pair[0].next_offset() <= pair[1].base_offset(), "compacted batches stay in order");
        }
        assert!(batches.first().is_none_or(|first| first.base_offset() >= self.base_offset));
        assert!(batches.last().is_none_or(|last| last.next_offset() <= self.next_offset));
        self.size_bytes = batches.iter().map(|batch| batch.size_bytes() as u64).sum();
        self.largest_timestamp_ms = largest_timestamp(&batches);
        self.batches = batches;
    }

    /// Whether the recorded size and largest timestamp are those of the batches.
    pub(super) fn summary_matches_batches(&self) -> bool {
        let size: u64 = self.batches.iter().map(|batch| batch.size_bytes() as u64).sum();
        size == self.size_bytes && largest_timestamp(&self.batches) == self.largest_timestamp_ms
    }
}

#[cfg(test)]
impl Segment {
    /// A segment holding `batches` as given, unchecked: for tests of the log's validation.
    pub(super) fn unchecked_for_test(base_offset: Offset, next_offset: Offset, batches: Vec<RecordBatch>) -> Segment {
        Segment {
            base_offset,
            next_offset,
            size_bytes: batches.iter().map(|batch| batch.size_bytes() as u64).sum(),
            created_ms: 0,
            largest_timestamp_ms: largest_timestamp(&batches),
            batches,
        }
    }
}

fn largest_timestamp(batches: &[RecordBatch]) -> i64 {
    batches.iter().map(RecordBatch::max_timestamp_ms).fold(NO_TIMESTAMP, i64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::partition_log::single_record_batch;

    fn batch_at(offset: i64, timestamp_ms: i64) -> RecordBatch {
        let mut batch = single_record_batch(timestamp_ms, None, Some(bytes::Bytes::from_static(b"v")));
        batch.set_base_offset(Offset(offset));
        batch
    }

    #[test]
    fn append_tracks_end_size_and_largest_timestamp() {
        let mut segment = Segment::new(Offset(5), 0);
        segment.append(batch_at(5, 40), 100);
        segment.append(batch_at(8, 30), 200);
        assert_eq!(segment.created_ms(), 100);
        assert_eq!(segment.next_offset(), Offset(9));
        assert_eq!(segment.largest_timestamp_ms(), 40);
        assert_eq!(segment.size_bytes(), 2 * batch_at(0, 0).size_bytes() as u64);
        assert!(segment.summary_matches_batches());
    }

    #[test]
    fn an_empty_segment_never_rolls() {
        let config = LogConfig { segment_bytes: 61, segment_ms: 1, ..LogConfig::default() };
        assert!(!Segment::new(Offset(0), 0).should_roll(1000, 1000, &config));
    }

    #[test]
    fn truncation_in_a_gap_drops_the_next_batch_and_ends_at_the_last_kept() {
        let mut segment = Segment::new(Offset(0), 0);
        segment.append(batch_at(0, 1), 10);
        segment.append(batch_at(4, 2), 20);
        segment.truncate_to(Offset(2));
        assert_eq!(segment.batch_count(), 1);
        assert_eq!(segment.next_offset(), Offset(1));
        assert_eq!(segment.largest_timestamp_ms(), 1);
        segment.truncate_to(Offset(0));
        assert!(segment.is_empty());
        assert_eq!((segment.next_offset(), segment.size_bytes()), (Offset(0), 0));
        segment.append(batch_at(0, 3), 70);
        assert_eq!(segment.created_ms(), 70, "an emptied segment's clock restarts with its next batch");
    }
}
