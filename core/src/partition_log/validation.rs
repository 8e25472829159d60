//! Whole-log checks: the orderings every partition log keeps, reported as a typed
//! [`LogError`] (TigerBeetle-style invariants; Kafka keeps the same orderings between
//! `logStartOffset`, the high watermark, `logEndOffset`, its segments and its epoch cache).
//!
//! [`PartitionLog::validate`] is cheap, one step per segment and epoch, for use after every
//! event; [`PartitionLog::validate_records`] re-parses every batch and walks every offset.

use super::error::LogError;
use super::log_validator::misplaced_record;
use super::PartitionLog;
use crate::record_batch::RecordBatch;

impl PartitionLog {
    /// Log start ≤ last stable offset ≤ high watermark ≤ log end; each segment starts at or
    /// before its end, which is at or before the next segment's start; epochs strictly increase
    /// within the log's offsets; no producer's cached batch, open transaction or indexed
    /// transaction reaches the log end.
    pub fn validate(&self) -> Result<(), LogError> {
        let (log_start, log_end, high_watermark) =
            (self.log_start_offset(), self.log_end_offset(), self.high_watermark);
        if high_watermark > log_end {
            return Err(LogError::HighWatermarkAboveLogEnd { high_watermark, log_end });
        }
        if high_watermark < log_start {
            return Err(LogError::HighWatermarkBelowLogStart { high_watermark, log_start });
        }
        for (index, segment) in self.segments.iter().enumerate() {
            let next_base = self.segments.get(index + 1).map(|next| next.base_offset());
            if segment.base_offset() > segment.next_offset()
                || next_base.is_some_and(|next_base| segment.next_offset() > next_base)
            {
                return Err(LogError::SegmentsOutOfOrder { index });
            }
        }
        let last_stable_offset = self.last_stable_offset();
        if last_stable_offset < log_start || last_stable_offset > high_watermark {
            return Err(LogError::LastStableOffsetOutOfRange { last_stable_offset });
        }
        self.epochs.validate(log_start, log_end)?;
        self.producers.validate(log_end)
    }

    /// [`validate`](Self::validate), and every batch: it parses with a valid CRC, lies within its
    /// segment, starts after the previous batch ends, and its records' offsets increase within
    /// its range; each segment's size and largest timestamp are its batches'. The producer
    /// batches the log remembers lie within it in order, each producer's sequences continue
    /// batch after batch, and replaying them gives the producer state held.
    pub fn validate_records(&self) -> Result<(), LogError> {
        self.validate()?;
        let (log_start, log_end) = (self.log_start_offset(), self.log_end_offset());
        self.producers.validate_journal(log_start, log_end, self.high_watermark)?;
        let mut previous_end = self.log_start_offset();
        for segment in &self.segments {
            if !segment.summary_matches_batches() {
                return Err(LogError::SegmentSummaryWrong { segment_base_offset: segment.base_offset() });
            }
            for batch in segment.batches() {
                let base_offset = batch.base_offset();
                if let Err(error) = RecordBatch::parse(batch.as_bytes().clone()) {
                    return Err(LogError::BatchInvalid { base_offset, error });
                }
                let expected_at_least = previous_end.max(segment.base_offset());
                if base_offset < expected_at_least {
                    return Err(LogError::BatchOutOfOrder { base_offset, expected_at_least });
                }
                if batch.next_offset() > segment.next_offset() {
                    return Err(LogError::BatchBeyondSegment {
                        base_offset,
                        segment_next_offset: segment.next_offset(),
                    });
                }
                if let Some(index) = misplaced_record(batch) {
                    return Err(LogError::RecordOffsetsNotIncreasing { base_offset, index });
                }
                previous_end = batch.next_offset();
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{LeaderEpoch, Offset};
    use crate::partition_log::{single_record_batch, LogConfig, Segment};

    #[test]
    fn validate_catches_a_high_watermark_above_the_log_end() {
        let mut log = PartitionLog::new(LogConfig::default());
        log.append_as_leader(LeaderEpoch(0), 0, single_record_batch(0, None, None)).unwrap();
        log.high_watermark = Offset(2);
        assert_eq!(
            log.validate(),
            Err(LogError::HighWatermarkAboveLogEnd { high_watermark: Offset(2), log_end: Offset(1) })
        );
    }

    #[test]
    fn validate_records_catches_a_batch_that_overlaps_the_previous_one() {
        let mut log = PartitionLog::new(LogConfig::default());
        log.append_as_leader(LeaderEpoch(0), 0, single_record_batch(0, None, None)).unwrap();
        let mut overlapping = single_record_batch(0, None, None);
        overlapping.set_base_offset(Offset(1));
        log.append_as_follower(0, &[overlapping]).unwrap();
        assert_eq!(log.validate_records(), Ok(()));
        // Corrupt the log: the second batch claims offset 0 again.
        let mut batches = log.segments[0].batches().to_vec();
        batches[1].set_base_offset(Offset(0));
        log.segments[0] = Segment::unchecked_for_test(Offset(0), Offset(2), batches);
        assert_eq!(log.validate(), Ok(()), "the cheap check does not look at batches");
        assert_eq!(
            log.validate_records(),
            Err(LogError::BatchOutOfOrder { base_offset: Offset(0), expected_at_least: Offset(1) })
        );
    }
}
