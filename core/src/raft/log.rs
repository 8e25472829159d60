//! The replicated metadata log: entries at offsets, each stamped with the epoch of the leader
//! that appended it, and the epoch cache that finds where two logs diverge.
//!
//! Raft's Log Matching property (§5.3) says two logs holding an entry with the same offset and
//! epoch agree on every entry up to it. KRaft checks it by fetch position rather than with
//! AppendEntries: a follower says which offset it wants and the epoch of its last entry, and
//! the leader answers with a diverging epoch (KIP-320's `OffsetsForLeaderEpoch` logic, reused
//! by KIP-595) when they disagree. The log starts at offset 0: snapshots (KIP-630) are not
//! modelled. The high watermark is not here: it is volatile and lives in the node.

use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::{Epoch, ReplicaId};
use crate::ids::Offset;

/// What an entry holds: one of KRaft's control records, or the application's payload.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Payload<T> {
    /// The first entry of every epoch (KRaft's `LeaderChangeMessage`): it gives the new leader
    /// an entry of its own epoch to commit, which commits everything before it (Raft §5.4.2).
    LeaderChange {
        leader: ReplicaId,
        voters: Vec<ReplicaId>,
    },
    Data(T),
}

/// One entry of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogEntry<T> {
    pub offset: Offset,
    /// The epoch of the leader that appended it.
    pub epoch: Epoch,
    pub payload: Payload<T>,
}

/// Where a follower's log parts from the leader's: the largest epoch the leader has at or
/// below the follower's last fetched epoch, and the offset where the leader's entries of
/// that epoch end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DivergingEpoch {
    pub epoch: Epoch,
    pub end_offset: Offset,
}

/// The first offset of each epoch present in the log (Kafka's leader-epoch cache).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct EpochStart {
    epoch: Epoch,
    start_offset: Offset,
}

/// A log that broke one of the orderings every log keeps.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftLogError {
    OffsetsNotContiguous { position: usize, found: Offset },
    EpochsDecrease { offset: Offset },
    EpochCacheStale,
}

impl fmt::Display for RaftLogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaftLogError::OffsetsNotContiguous { position, found } => {
                write!(f, "entry {position} has offset {found}")
            }
            RaftLogError::EpochsDecrease { offset } => write!(f, "the epoch decreases at offset {offset}"),
            RaftLogError::EpochCacheStale => write!(f, "the epoch cache does not match the entries"),
        }
    }
}

/// One node's copy of the replicated log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftLog<T> {
    entries: Vec<LogEntry<T>>,
    epochs: Vec<EpochStart>,
}

impl<T> Default for RaftLog<T> {
    fn default() -> Self {
        RaftLog { entries: Vec::new(), epochs: Vec::new() }
    }
}

impl<T: Clone> RaftLog<T> {
    pub fn new() -> Self {
        RaftLog::default()
    }

    /// The offset the next entry will get (LEO).
    pub fn end_offset(&self) -> Offset {
        Offset(self.entries.len() as i64)
    }

    /// The epoch of the last entry; `None` for an empty log.
    pub fn last_epoch(&self) -> Option<Epoch> {
        self.entries.last().map(|entry| entry.epoch)
    }

    pub fn entries(&self) -> &[LogEntry<T>] {
        &self.entries
    }

    pub fn entry(&self, offset: Offset) -> Option<&LogEntry<T>> {
        usize::try_from(offset.0).ok().and_then(|index| self.entries.get(index))
    }

    /// Entries in `from..to`, clamped to the log.
    pub fn slice(&self, from: Offset, to: Offset) -> &[LogEntry<T>] {
        let end = self.entries.len();
        let clamp = |offset: Offset| usize::try_from(offset.0).unwrap_or(0).min(end);
        let (from, to) = (clamp(from), clamp(to));
        &self.entries[from.min(to)..to]
    }

    /// Raft §5.4.1's election restriction: is a log ending with `(last_epoch, end_offset)` at
    /// least as up-to-date as this one? The later last epoch wins, then the longer log.
    pub fn is_behind_or_equal(&self, last_epoch: Option<Epoch>, end_offset: Offset) -> bool {
        (last_epoch, end_offset) >= (self.last_epoch(), self.end_offset())
    }

    /// Appends one entry as the leader of `epoch`; returns its offset.
    pub fn append_as_leader(&mut self, epoch: Epoch, payload: Payload<T>) -> Offset {
        let offset = self.end_offset();
        self.push(LogEntry { offset, epoch, payload });
        offset
    }

    /// Appends entries fetched from the leader. They must start at this log's end, be
    /// contiguous and not go back in epoch; a response that breaks this is refused whole.
    pub fn append_as_follower(&mut self, entries: &[LogEntry<T>]) -> Result<(), RaftLogError> {
        let mut expected = self.end_offset();
        let mut last_epoch = self.last_epoch();
        for (position, entry) in entries.iter().enumerate() {
            if entry.offset != expected {
                return Err(RaftLogError::OffsetsNotContiguous { position, found: entry.offset });
            }
            if last_epoch > Some(entry.epoch) {
                return Err(RaftLogError::EpochsDecrease { offset: entry.offset });
            }
            expected = expected.next();
            last_epoch = Some(entry.epoch);
        }
        for entry in entries {
            self.push(entry.clone());
        }
        Ok(())
    }

    fn push(&mut self, entry: LogEntry<T>) {
        assert_eq!(entry.offset, self.end_offset(), "appends are contiguous");
        match self.epochs.last() {
            Some(last) if last.epoch == entry.epoch => {}
            last => {
                assert!(last.is_none_or(|last| last.epoch < entry.epoch), "epochs only grow along the log");
                self.epochs.push(EpochStart { epoch: entry.epoch, start_offset: entry.offset });
            }
        }
        self.entries.push(entry);
    }

    /// Up to `max_entries` entries from `offset` on.
    pub fn read_from(&self, offset: Offset, max_entries: usize) -> Vec<LogEntry<T>> {
        let to = Offset(offset.0.saturating_add(max_entries as i64));
        self.slice(offset, to).to_vec()
    }

    /// The largest epoch at or below `epoch` that this log has, and the offset where its
    /// entries end; `None` when every entry is from a later epoch (or the log is empty).
    pub fn end_offset_for_epoch(&self, epoch: Epoch) -> Option<(Epoch, Offset)> {
        let position = self.epochs.iter().rposition(|start| start.epoch <= epoch)?;
        let end = match self.epochs.get(position + 1) {
            Some(next) => next.start_offset,
            None => self.end_offset(),
        };
        Some((self.epochs[position].epoch, end))
    }

    /// The leader's check of a follower's fetch position (KRaft's `validateOffsetAndEpoch`):
    /// `None` when the follower's log up to `fetch_offset` matches this one, otherwise where
    /// the follower must truncate to find out.
    pub fn divergence(&self, fetch_offset: Offset, last_fetched_epoch: Option<Epoch>) -> Option<DivergingEpoch> {
        if fetch_offset < Offset(0) {
            return Some(DivergingEpoch { epoch: Epoch(0), end_offset: Offset(0) });
        }
        let Some(last_fetched_epoch) = last_fetched_epoch else {
            // An empty follower log matches any log; a non-empty one without an epoch is nonsense.
            return (fetch_offset != Offset(0)).then_some(DivergingEpoch { epoch: Epoch(0), end_offset: Offset(0) });
        };
        let (epoch, end_offset) = self.end_offset_for_epoch(last_fetched_epoch).unwrap_or((Epoch(0), Offset(0)));
        (epoch != last_fetched_epoch || end_offset < fetch_offset).then_some(DivergingEpoch { epoch, end_offset })
    }

    /// The follower's side of a divergence: the offset to truncate to, below which both logs
    /// agree as far as this round can tell (KIP-320; the next fetch checks again).
    pub fn truncation_offset(&self, diverging: DivergingEpoch) -> Offset {
        let local_end = self.end_offset_for_epoch(diverging.epoch).map_or(Offset(0), |(_, end)| end);
        local_end.min(diverging.end_offset)
    }

    /// Drops every entry at or above `offset`: a follower's divergent tail.
    pub fn truncate_to(&mut self, offset: Offset) {
        let keep = usize::try_from(offset.0).unwrap_or(0).min(self.entries.len());
        self.entries.truncate(keep);
        let end = self.end_offset();
        self.epochs.retain(|start| start.start_offset < end);
    }

    /// Checks contiguous offsets from 0, epochs that never decrease, and the epoch cache.
    pub fn validate(&self) -> Result<(), RaftLogError> {
        let mut rebuilt: Vec<EpochStart> = Vec::new();
        for (position, entry) in self.entries.iter().enumerate() {
            if entry.offset != Offset(position as i64) {
                return Err(RaftLogError::OffsetsNotContiguous { position, found: entry.offset });
            }
            match rebuilt.last() {
                Some(last) if last.epoch == entry.epoch => {}
                Some(last) if last.epoch > entry.epoch => {
                    return Err(RaftLogError::EpochsDecrease { offset: entry.offset })
                }
                _ => rebuilt.push(EpochStart { epoch: entry.epoch, start_offset: entry.offset }),
            }
        }
        if rebuilt != self.epochs {
            return Err(RaftLogError::EpochCacheStale);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log_with_epochs(epochs: &[u64]) -> RaftLog<u8> {
        let mut log = RaftLog::new();
        for (i, epoch) in epochs.iter().enumerate() {
            log.append_as_leader(Epoch(*epoch), Payload::Data(i as u8));
        }
        log
    }

    #[test]
    fn raft_5_4_1_up_to_date_compares_last_epoch_then_length() {
        let log = log_with_epochs(&[1, 1, 2]);
        assert!(log.is_behind_or_equal(Some(Epoch(2)), Offset(3)));
        assert!(log.is_behind_or_equal(Some(Epoch(3)), Offset(1)), "a later last epoch wins even if shorter");
        assert!(!log.is_behind_or_equal(Some(Epoch(2)), Offset(2)));
        assert!(!log.is_behind_or_equal(Some(Epoch(1)), Offset(9)));
        assert!(!log.is_behind_or_equal(None, Offset(0)));
    }

    #[test]
    fn kip_320_a_matching_fetch_position_does_not_diverge() {
        let leader = log_with_epochs(&[1, 1, 2, 2]);
        assert_eq!(leader.divergence(Offset(0), None), None);
        assert_eq!(
            leader.divergence(Offset(-1), Some(Epoch(1))),
            Some(DivergingEpoch { epoch: Epoch(0), end_offset: Offset(0) })
        );
        assert_eq!(leader.divergence(Offset(2), Some(Epoch(1))), None);
        assert_eq!(leader.divergence(Offset(4), Some(Epoch(2))), None);
        assert_eq!(leader.divergence(Offset(3), Some(Epoch(2))), None);
    }

    #[test]
    fn kip_320_a_follower_with_an_uncommitted_tail_truncates_to_the_leaders_epoch_end() {
        // The follower took offsets 2..4 from a leader of epoch 2 that lost them; the leader of
        // epoch 3 only has epoch 1 up to offset 2.
        let leader = log_with_epochs(&[1, 1, 3]);
        let mut follower = log_with_epochs(&[1, 1, 2, 2]);
        let diverging = leader.divergence(follower.end_offset(), follower.last_epoch()).expect("diverges");
        assert_eq!(diverging, DivergingEpoch { epoch: Epoch(1), end_offset: Offset(2) });
        follower.truncate_to(follower.truncation_offset(diverging));
        assert_eq!(follower.end_offset(), Offset(2));
        assert_eq!(leader.divergence(follower.end_offset(), follower.last_epoch()), None);
        assert_eq!(follower.validate(), Ok(()));
    }

    #[test]
    fn kip_320_a_follower_ahead_in_the_same_epoch_truncates_to_the_leaders_end() {
        let leader = log_with_epochs(&[1, 1]);
        let follower = log_with_epochs(&[1, 1, 1]);
        let diverging = leader.divergence(follower.end_offset(), follower.last_epoch()).expect("diverges");
        assert_eq!(follower.truncation_offset(diverging), Offset(2));
    }

    #[test]
    fn follower_append_refuses_a_gap_or_a_falling_epoch() {
        let leader = log_with_epochs(&[1, 2, 2]);
        let mut follower: RaftLog<u8> = RaftLog::new();
        assert!(follower.append_as_follower(leader.slice(Offset(1), Offset(3))).is_err());
        assert_eq!(follower.append_as_follower(&leader.read_from(Offset(0), 10)), Ok(()));
        assert_eq!(follower, leader);
        let mut bad = leader.read_from(Offset(2), 1);
        bad[0].offset = Offset(3);
        bad[0].epoch = Epoch(1);
        assert_eq!(follower.append_as_follower(&bad), Err(RaftLogError::EpochsDecrease { offset: Offset(3) }));
    }

    #[test]
    fn end_offset_for_a_missing_epoch_is_the_previous_epochs_end() {
        let log = log_with_epochs(&[1, 1, 4]);
        assert_eq!(log.end_offset_for_epoch(Epoch(3)), Some((Epoch(1), Offset(2))));
        assert_eq!(log.end_offset_for_epoch(Epoch(4)), Some((Epoch(4), Offset(3))));
        assert_eq!(log.end_offset_for_epoch(Epoch(0)), None);
    }
}
