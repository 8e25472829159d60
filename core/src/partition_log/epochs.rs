//! The leader-epoch cache: where each leader epoch's records start in this log (Kafka's
//! `LeaderEpochFileCache`, persisted as `leader-epoch-checkpoint`).
//!
//! It answers `OffsetsForLeaderEpoch` (KIP-101, KIP-279): given a follower's last epoch, the
//! offset where that epoch ends here, which is where the follower's log may have diverged.
//! Entries strictly increase in both epoch and start offset; `assign`, `truncate_from_end` and
//! `truncate_from_start` follow Kafka's methods of the same names.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::error::LogError;
use crate::ids::{LeaderEpoch, Offset};

/// The first offset written under a leader epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EpochEntry {
    pub epoch: LeaderEpoch,
    pub start_offset: Offset,
}

/// The epochs of a log, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LeaderEpochCache {
    entries: Vec<EpochEntry>,
}

impl LeaderEpochCache {
    pub fn entries(&self) -> &[EpochEntry] {
        &self.entries
    }

    pub fn latest(&self) -> Option<EpochEntry> {
        self.entries.last().copied()
    }

    /// Records that `epoch` starts at `start_offset` (Kafka's `assign`). Nothing changes when the
    /// latest entry already is this epoch starting no later. Otherwise entries that would no
    /// longer increase (an epoch at or above `epoch`, or a start at or above `start_offset`) are
    /// dropped first, so the cache stays monotonic whatever order the batches come in. Negative
    /// epochs are "no epoch" (batches written before KIP-101) and are not recorded.
    pub(super) fn assign(&mut self, epoch: LeaderEpoch, start_offset: Offset) {
        if epoch.0 < 0 || start_offset.0 < 0 {
            return;
        }
        let needed = self.latest().is_none_or(|latest| latest.epoch != epoch || start_offset < latest.start_offset);
        if !needed {
            return;
        }
        while self.entries.last().is_some_and(|last| last.epoch >= epoch || last.start_offset >= start_offset) {
            self.entries.pop();
        }
        self.entries.push(EpochEntry { epoch, start_offset });
    }

    /// Drops the entries of epochs that start at or after `end_offset`: the log was truncated
    /// there (Kafka's `truncateFromEnd`).
    pub(super) fn truncate_from_end(&mut self, end_offset: Offset) {
        self.entries.retain(|entry| entry.start_offset < end_offset);
    }

    /// The log now starts at `start_offset`: entries starting at or before it go, except the
    /// last of them, which now starts there (Kafka's `truncateFromStart`), so the epoch the
    /// first remaining record belongs to is still known.
    pub(super) fn truncate_from_start(&mut self, start_offset: Offset) {
        let removed = self.entries.iter().take_while(|entry| entry.start_offset <= start_offset).count();
        if removed == 0 {
            return;
        }
        let kept_epoch = self.entries[removed - 1].epoch;
        self.entries.drain(..removed);
        self.entries.insert(0, EpochEntry { epoch: kept_epoch, start_offset });
    }

    pub(super) fn clear(&mut self) {
        self.entries.clear();
    }

    /// Kafka's `endOffsetFor`: for the requested epoch, the largest known epoch at or below it
    /// and the offset where that epoch ends (the next epoch's start, or `log_end` for the latest).
    ///
    /// - the latest epoch or any newer one: (latest epoch, `log_end`);
    /// - an epoch older than every entry: (the requested epoch, the first entry's start), as
    ///   Kafka answers, so a follower truncates to where this log's known history begins;
    /// - no entries, or a negative epoch: `None` (Kafka's `UNDEFINED_EPOCH_OFFSET`).
    pub fn end_offset_for(&self, requested: LeaderEpoch, log_end: Offset) -> Option<(LeaderEpoch, Offset)> {
        let latest = self.latest()?;
        if requested.0 < 0 {
            return None;
        }
        if requested >= latest.epoch {
            return Some((latest.epoch, log_end));
        }
        let higher = self.entries.partition_point(|entry| entry.epoch <= requested);
        let end = self.entries[higher].start_offset;
        match higher.checked_sub(1) {
            Some(floor) => Some((self.entries[floor].epoch, end)),
            None => Some((requested, end)),
        }
    }

    /// Epochs and start offsets strictly increase, and every start lies in `log_start ..= log_end`.
    pub(super) fn validate(&self, log_start: Offset, log_end: Offset) -> Result<(), LogError> {
        for (position, entry) in self.entries.iter().enumerate() {
            if entry.start_offset < log_start || entry.start_offset > log_end {
                return Err(LogError::EpochStartOutOfRange { position, start_offset: entry.start_offset });
            }
            if position > 0 {
                let before = self.entries[position - 1];
                if entry.epoch <= before.epoch || entry.start_offset <= before.start_offset {
                    return Err(LogError::EpochsNotIncreasing { position });
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn cache(entries: &[(i32, i64)]) -> LeaderEpochCache {
        let mut cache = LeaderEpochCache::default();
        for &(epoch, start) in entries {
            cache.assign(LeaderEpoch(epoch), Offset(start));
        }
        cache
    }

    fn pairs(cache: &LeaderEpochCache) -> Vec<(i32, i64)> {
        cache.entries().iter().map(|entry| (entry.epoch.0, entry.start_offset.0)).collect()
    }

    #[test]
    fn assign_keeps_the_first_start_of_each_epoch() {
        let cache = cache(&[(0, 0), (0, 5), (2, 7), (2, 9)]);
        assert_eq!(pairs(&cache), vec![(0, 0), (2, 7)]);
    }

    #[test]
    fn assign_drops_entries_that_would_no_longer_increase() {
        // Epoch 5 was assigned by a leader that wrote nothing; the batches of epoch 4 that
        // replace it start at the same offset.
        let replaced = cache(&[(3, 0), (5, 10), (4, 10)]);
        assert_eq!(pairs(&replaced), vec![(3, 0), (4, 10)]);
        let earlier_start = cache(&[(3, 0), (4, 10), (4, 8)]);
        assert_eq!(pairs(&earlier_start), vec![(3, 0), (4, 8)]);
    }

    #[test]
    fn negative_epochs_are_not_recorded() {
        assert_eq!(pairs(&cache(&[(-1, 0)])), vec![]);
    }

    #[test]
    fn end_offset_is_the_next_epochs_start_or_the_log_end() {
        let cache = cache(&[(1, 0), (3, 4), (6, 9)]);
        let log_end = Offset(12);
        assert_eq!(cache.end_offset_for(LeaderEpoch(1), log_end), Some((LeaderEpoch(1), Offset(4))));
        assert_eq!(cache.end_offset_for(LeaderEpoch(2), log_end), Some((LeaderEpoch(1), Offset(4))));
        assert_eq!(cache.end_offset_for(LeaderEpoch(5), log_end), Some((LeaderEpoch(3), Offset(9))));
        assert_eq!(cache.end_offset_for(LeaderEpoch(6), log_end), Some((LeaderEpoch(6), log_end)));
        assert_eq!(cache.end_offset_for(LeaderEpoch(9), log_end), Some((LeaderEpoch(6), log_end)));
    }

    #[test]
    fn an_epoch_older_than_the_cache_ends_where_the_cache_begins() {
        let cache = cache(&[(4, 20), (6, 30)]);
        assert_eq!(cache.end_offset_for(LeaderEpoch(2), Offset(40)), Some((LeaderEpoch(2), Offset(20))));
        assert_eq!(cache.end_offset_for(LeaderEpoch(-1), Offset(40)), None);
        assert_eq!(LeaderEpochCache::default().end_offset_for(LeaderEpoch(2), Offset(0)), None);
    }

    #[test]
    fn truncate_from_end_drops_epochs_starting_at_or_after_the_new_end() {
        let mut cache = cache(&[(1, 0), (2, 5), (3, 8)]);
        cache.truncate_from_end(Offset(5));
        assert_eq!(pairs(&cache), vec![(1, 0)]);
    }

    #[test]
    fn truncate_from_start_moves_the_surviving_epoch_to_the_log_start() {
        let mut cache = cache(&[(1, 0), (2, 5), (3, 8)]);
        cache.truncate_from_start(Offset(6));
        assert_eq!(pairs(&cache), vec![(2, 6), (3, 8)]);
        cache.truncate_from_start(Offset(8));
        assert_eq!(pairs(&cache), vec![(3, 8)]);
        assert_eq!(cache.validate(Offset(8), Offset(9)), Ok(()));
    }

    #[test]
    fn validate_catches_a_start_outside_the_log() {
        let cache = cache(&[(1, 0), (2, 5)]);
        assert_eq!(
            cache.validate(Offset(0), Offset(4)),
            Err(LogError::EpochStartOutOfRange { position: 1, start_offset: Offset(5) })
        );
    }
}
