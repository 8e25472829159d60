//! One replica's partition log: records at offsets, the log end offset, the high watermark,
//! and the leader-epoch cache that lets a returning follower find where its log diverged.
//!
//! The walking skeleton keeps records as plain values; the record-batch v2 format, segments,
//! retention and compaction arrive with the storage work and keep this interface.

use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::ids::{LeaderEpoch, Offset};

/// One record as the log holds it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    pub offset: Offset,
    /// The leader epoch of the leader that appended it.
    pub leader_epoch: LeaderEpoch,
    pub timestamp_ms: u64,
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
}

/// The first offset written under a leader epoch (Kafka's `leader-epoch-checkpoint` entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochStart {
    pub epoch: LeaderEpoch,
    pub start_offset: Offset,
}

/// A log whose offsets broke one of the orderings every log keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogError {
    HighWatermarkAboveLogEnd { high_watermark: Offset, log_end: Offset },
    HighWatermarkBelowLogStart { high_watermark: Offset, log_start: Offset },
    OffsetsNotContiguous { position: usize, expected: Offset, found: Offset },
    EpochsNotIncreasing { position: usize },
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LogError::HighWatermarkAboveLogEnd { high_watermark, log_end } => {
                write!(f, "high watermark {high_watermark} is above the log end offset {log_end}")
            }
            LogError::HighWatermarkBelowLogStart { high_watermark, log_start } => {
                write!(f, "high watermark {high_watermark} is below the log start offset {log_start}")
            }
            LogError::OffsetsNotContiguous { position, expected, found } => {
                write!(f, "record {position} has offset {found}, expected {expected}")
            }
            LogError::EpochsNotIncreasing { position } => {
                write!(f, "leader epoch cache entry {position} does not increase")
            }
        }
    }
}

/// A partition log on one broker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PartitionLog {
    log_start: Offset,
    records: Vec<Record>,
    high_watermark: Offset,
    epochs: Vec<EpochStart>,
}

impl PartitionLog {
    pub fn new() -> Self {
        PartitionLog::default()
    }

    pub fn log_start_offset(&self) -> Offset {
        self.log_start
    }

    /// The offset the next record will get (LEO).
    pub fn log_end_offset(&self) -> Offset {
        Offset(self.log_start.0 + self.records.len() as i64)
    }

    /// Records below this offset are committed: every in-sync replica has them.
    pub fn high_watermark(&self) -> Offset {
        self.high_watermark
    }

    pub fn records(&self) -> &[Record] {
        &self.records
    }

    /// The leader epoch of the last record, if the log has any.
    pub fn last_epoch(&self) -> Option<LeaderEpoch> {
        self.epochs.last().map(|e| e.epoch)
    }

    /// A new leader records where its epoch starts, before it appends anything (Kafka does this
    /// on becoming leader, so followers of an empty epoch can still find the divergence point).
    pub fn assign_epoch_start(&mut self, epoch: LeaderEpoch) {
        match self.epochs.last() {
            Some(last) if last.epoch >= epoch => {}
            _ => self.epochs.push(EpochStart { epoch, start_offset: self.log_end_offset() }),
        }
    }

    /// Appends one record as the leader of `epoch`; returns its offset.
    pub fn append_as_leader(
        &mut self,
        epoch: LeaderEpoch,
        timestamp_ms: u64,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
    ) -> Offset {
        self.assign_epoch_start(epoch);
        let offset = self.log_end_offset();
        self.records.push(Record { offset, leader_epoch: epoch, timestamp_ms, key, value });
        offset
    }

    /// Appends records fetched from the leader; they must start at this log's end.
    pub fn append_as_follower(&mut self, records: &[Record]) {
        for record in records {
            assert_eq!(record.offset, self.log_end_offset(), "follower append must be contiguous");
            self.assign_epoch_start(record.leader_epoch);
            self.records.push(record.clone());
        }
    }

    /// The record at `offset`, if the log holds it.
    pub fn record_at(&self, offset: Offset) -> Option<&Record> {
        let index = usize::try_from(offset.0 - self.log_start.0).ok()?;
        self.records.get(index)
    }

    /// Up to `max_records` records from `offset` on.
    pub fn read_from(&self, offset: Offset, max_records: usize) -> Vec<Record> {
        let start = (offset.0 - self.log_start.0).max(0) as usize;
        self.records.iter().skip(start).take(max_records).cloned().collect()
    }

    /// Moves the high watermark; it never passes the log end.
    pub fn set_high_watermark(&mut self, offset: Offset) {
        assert!(offset <= self.log_end_offset(), "high watermark {offset} beyond log end");
        self.high_watermark = offset.max(self.log_start);
    }

    /// Kafka's `OffsetsForLeaderEpoch` answer: the largest epoch at or below `epoch` that this log
    /// knows, and the offset where it ends (the start of the next epoch, or the log end).
    pub fn end_offset_for_epoch(&self, epoch: LeaderEpoch) -> Option<(LeaderEpoch, Offset)> {
        let position = self.epochs.iter().rposition(|e| e.epoch <= epoch)?;
        let end = match self.epochs.get(position + 1) {
            Some(next) => next.start_offset,
            None => self.log_end_offset(),
        };
        Some((self.epochs[position].epoch, end))
    }

    /// Drops every record at or above `offset`: what a follower does with a divergent tail.
    pub fn truncate_to(&mut self, offset: Offset) {
        let keep = (offset.0 - self.log_start.0).max(0) as usize;
        self.records.truncate(keep);
        let end = self.log_end_offset();
        self.epochs.retain(|e| e.start_offset < end);
        self.high_watermark = self.high_watermark.min(end);
    }

    /// Checks log start ≤ high watermark ≤ log end and increasing epochs: cheap enough to run
    /// after every event. [`PartitionLog::validate_records`] also walks every record.
    pub fn validate(&self) -> Result<(), LogError> {
        let log_end = self.log_end_offset();
        if self.high_watermark > log_end {
            return Err(LogError::HighWatermarkAboveLogEnd { high_watermark: self.high_watermark, log_end });
        }
        if self.high_watermark < self.log_start {
            return Err(LogError::HighWatermarkBelowLogStart {
                high_watermark: self.high_watermark,
                log_start: self.log_start,
            });
        }
        for position in 1..self.epochs.len() {
            let (before, after) = (self.epochs[position - 1], self.epochs[position]);
            if after.epoch <= before.epoch || after.start_offset < before.start_offset {
                return Err(LogError::EpochsNotIncreasing { position });
            }
        }
        Ok(())
    }

    /// [`PartitionLog::validate`], and every record at the offset its position gives: offsets
    /// consecutive, never reused or skipped.
    pub fn validate_records(&self) -> Result<(), LogError> {
        self.validate()?;
        for (position, record) in self.records.iter().enumerate() {
            let expected = Offset(self.log_start.0 + position as i64);
            if record.offset != expected {
                return Err(LogError::OffsetsNotContiguous { position, expected, found: record.offset });
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn value(text: &str) -> Option<Vec<u8>> {
        Some(text.as_bytes().to_vec())
    }

    #[test]
    fn leader_appends_get_consecutive_offsets() {
        let mut log = PartitionLog::new();
        assert_eq!(log.append_as_leader(LeaderEpoch(0), 10, None, value("a")), Offset(0));
        assert_eq!(log.append_as_leader(LeaderEpoch(0), 11, None, value("b")), Offset(1));
        assert_eq!(log.log_end_offset(), Offset(2));
        assert_eq!(log.high_watermark(), Offset(0));
        assert_eq!(log.validate_records(), Ok(()));
    }

    #[test]
    fn high_watermark_cannot_pass_log_end() {
        let mut log = PartitionLog::new();
        log.append_as_leader(LeaderEpoch(0), 0, None, value("a"));
        log.set_high_watermark(Offset(1));
        assert_eq!(log.high_watermark(), Offset(1));
        let result = std::panic::catch_unwind(move || log.set_high_watermark(Offset(2)));
        assert!(result.is_err());
    }

    #[test]
    fn end_offset_for_epoch_is_the_next_epochs_start() {
        let mut log = PartitionLog::new();
        log.append_as_leader(LeaderEpoch(0), 0, None, value("a"));
        log.append_as_leader(LeaderEpoch(0), 0, None, value("b"));
        log.append_as_leader(LeaderEpoch(2), 0, None, value("c"));
        assert_eq!(log.end_offset_for_epoch(LeaderEpoch(0)), Some((LeaderEpoch(0), Offset(2))));
        // Epoch 1 never appended here: the answer is the largest epoch below it.
        assert_eq!(log.end_offset_for_epoch(LeaderEpoch(1)), Some((LeaderEpoch(0), Offset(2))));
        assert_eq!(log.end_offset_for_epoch(LeaderEpoch(2)), Some((LeaderEpoch(2), Offset(3))));
    }

    #[test]
    fn truncation_drops_the_tail_and_its_epochs() {
        let mut log = PartitionLog::new();
        log.append_as_leader(LeaderEpoch(0), 0, None, value("a"));
        log.set_high_watermark(Offset(1));
        log.append_as_leader(LeaderEpoch(1), 0, None, value("b"));
        log.truncate_to(Offset(1));
        assert_eq!(log.log_end_offset(), Offset(1));
        assert_eq!(log.last_epoch(), Some(LeaderEpoch(0)));
        assert_eq!(log.high_watermark(), Offset(1));
        assert_eq!(log.validate_records(), Ok(()));
    }

    #[test]
    fn follower_append_copies_leader_offsets_and_epochs() {
        let mut leader = PartitionLog::new();
        leader.append_as_leader(LeaderEpoch(3), 0, value("k"), value("v"));
        let mut follower = PartitionLog::new();
        follower.append_as_follower(&leader.read_from(Offset(0), 10));
        assert_eq!(follower.records(), leader.records());
        assert_eq!(follower.last_epoch(), Some(LeaderEpoch(3)));
        assert_eq!(vec![Offset(0)], follower.records().iter().map(|r| r.offset).collect::<Vec<_>>());
    }
}
