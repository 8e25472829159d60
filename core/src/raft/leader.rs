//! A leader's view of the other replicas (KRaft's `LeaderState`): how far each has fetched,
//! which voters still have to acknowledge the new epoch, the fetches it holds back until there
//! is news, and KIP-996's check quorum.
//!
//! The high watermark a leader may reach is the offset a majority of voters have (Raft §5.3),
//! but only once that passes the start of its own epoch (Raft §5.4.2): before that, counting
//! replicas could "commit" an older epoch's entry that a later leader may still overwrite.
//! Observers fetch like followers and are tracked, but never counted.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use super::quorum::{majority, majority_end_offset};
use super::{Epoch, ReplicaId};
use crate::ids::Offset;

/// What the leader knows of one other replica.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaProgress {
    pub is_voter: bool,
    /// The replica's log end offset as of its last fetch that matched the leader's log in
    /// this epoch: its log equals the leader's below this.
    pub end_offset: Option<Offset>,
    pub last_fetch_ms: Option<u64>,
    /// The high watermark last sent to it, so a fetch that would otherwise wait is answered at
    /// once when the replica is behind on it.
    pub last_sent_high_watermark: Option<Offset>,
}

/// A fetch with nothing new to answer yet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct ParkedFetch {
    pub(crate) fetch_offset: Offset,
    pub(crate) last_fetched_epoch: Option<Epoch>,
    pub(crate) deadline_ms: u64,
}

#[derive(Clone, Debug)]
pub(crate) struct LeaderState {
    /// The offset of this epoch's `LeaderChange` entry: the high watermark must pass it.
    pub(crate) epoch_start_offset: Offset,
    pub(crate) replicas: BTreeMap<ReplicaId, ReplicaProgress>,
    pub(crate) parked: BTreeMap<ReplicaId, ParkedFetch>,
    /// Voters that have neither answered `BeginQuorumEpoch` nor fetched in this epoch.
    pub(crate) unacknowledged: BTreeSet<ReplicaId>,
    pub(crate) next_begin_quorum_ms: u64,
    /// Voters that fetched since the check-quorum timer was last reset.
    fetched_since_check: BTreeSet<ReplicaId>,
    pub(crate) check_quorum_deadline_ms: u64,
    voter_count: usize,
}

impl LeaderState {
    pub(crate) fn new(
        now_ms: u64,
        me: ReplicaId,
        voters: &[ReplicaId],
        epoch_start_offset: Offset,
        check_quorum_timeout_ms: u64,
    ) -> Self {
        let others: BTreeSet<ReplicaId> = voters.iter().copied().filter(|&v| v != me).collect();
        let progress =
            ReplicaProgress { is_voter: true, end_offset: None, last_fetch_ms: None, last_sent_high_watermark: None };
        LeaderState {
            epoch_start_offset,
            replicas: others.iter().map(|&v| (v, progress)).collect(),
            parked: BTreeMap::new(),
            unacknowledged: others,
            next_begin_quorum_ms: now_ms,
            fetched_since_check: BTreeSet::new(),
            check_quorum_deadline_ms: now_ms + check_quorum_timeout_ms,
            voter_count: voters.len(),
        }
    }

    /// A fetch arrived from `replica` in this epoch. `matched_end` is its fetch offset when
    /// its log matches ours up to there, `None` when it was told to truncate first.
    pub(crate) fn record_fetch(
        &mut self,
        now_ms: u64,
        replica: ReplicaId,
        is_voter: bool,
        matched_end: Option<Offset>,
        check_quorum_timeout_ms: u64,
    ) {
        let progress = self.replicas.entry(replica).or_insert(ReplicaProgress {
            is_voter,
            end_offset: None,
            last_fetch_ms: None,
            last_sent_high_watermark: None,
        });
        progress.last_fetch_ms = Some(now_ms);
        if matched_end.is_some() {
            progress.end_offset = matched_end;
        }
        if !is_voter {
            return;
        }
        // Fetching acknowledges the epoch as well as an answer to BeginQuorumEpoch does.
        self.unacknowledged.remove(&replica);
        self.fetched_since_check.insert(replica);
        if self.fetched_since_check.len() + 1 >= majority(self.voter_count) {
            self.fetched_since_check.clear();
            self.check_quorum_deadline_ms = now_ms + check_quorum_timeout_ms;
        }
    }

    /// KIP-996: no majority of voters (counting this leader) fetched within the timeout.
    pub(crate) fn check_quorum_failed(&self, now_ms: u64) -> bool {
        self.voter_count > 1 && now_ms >= self.check_quorum_deadline_ms
    }

    /// The high watermark the voters' progress allows, if it passes this epoch's start.
    pub(crate) fn high_watermark_candidate(&self, leader_end_offset: Offset) -> Option<Offset> {
        let mut end_offsets: Vec<Offset> = self
            .replicas
            .values()
            .filter(|progress| progress.is_voter)
            .map(|progress| progress.end_offset.unwrap_or(Offset(0)))
            .collect();
        end_offsets.push(leader_end_offset);
        assert_eq!(end_offsets.len(), self.voter_count, "one end offset per voter");
        let candidate = majority_end_offset(end_offsets);
        (candidate > self.epoch_start_offset).then_some(candidate)
    }

    /// The voters by how far they have replicated, most caught up first, for EndQuorumEpoch.
    pub(crate) fn preferred_successors(&self) -> Vec<ReplicaId> {
        let mut voters: Vec<(Option<Offset>, ReplicaId)> = self
            .replicas
            .iter()
            .filter(|(_, progress)| progress.is_voter)
            .map(|(&id, progress)| (progress.end_offset, id))
            .collect();
        voters.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        voters.into_iter().map(|(_, id)| id).collect()
    }

    /// Parked fetches whose wait is over.
    pub(crate) fn take_expired(&mut self, now_ms: u64) -> Vec<(ReplicaId, ParkedFetch)> {
        let expired: Vec<ReplicaId> =
            self.parked.iter().filter(|(_, parked)| parked.deadline_ms <= now_ms).map(|(&id, _)| id).collect();
        expired.into_iter().filter_map(|id| self.parked.remove(&id).map(|parked| (id, parked))).collect()
    }

    pub(crate) fn take_all_parked(&mut self) -> Vec<(ReplicaId, ParkedFetch)> {
        core::mem::take(&mut self.parked).into_iter().collect()
    }

    /// The earliest time this leader has something to do.
    pub(crate) fn next_deadline_ms(&self) -> u64 {
        let parked = self.parked.values().map(|parked| parked.deadline_ms).min().unwrap_or(u64::MAX);
        let begin_quorum = if self.unacknowledged.is_empty() { u64::MAX } else { self.next_begin_quorum_ms };
        let check_quorum = if self.voter_count > 1 { self.check_quorum_deadline_ms } else { u64::MAX };
        parked.min(begin_quorum).min(check_quorum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leader_of_three(epoch_start: i64) -> LeaderState {
        LeaderState::new(0, ReplicaId(1), &[ReplicaId(1), ReplicaId(2), ReplicaId(3)], Offset(epoch_start), 3_000)
    }

    #[test]
    fn raft_5_4_2_no_high_watermark_until_the_leaders_own_epoch_is_replicated() {
        let mut leader = leader_of_three(5);
        // Voter 2 has everything before this epoch, but not the LeaderChange entry at 5.
        leader.record_fetch(10, ReplicaId(2), true, Some(Offset(5)), 3_000);
        assert_eq!(leader.high_watermark_candidate(Offset(6)), None);
        leader.record_fetch(20, ReplicaId(2), true, Some(Offset(6)), 3_000);
        assert_eq!(leader.high_watermark_candidate(Offset(6)), Some(Offset(6)));
    }

    #[test]
    fn observers_never_count_toward_the_high_watermark() {
        let mut leader = leader_of_three(0);
        leader.record_fetch(10, ReplicaId(9), false, Some(Offset(1)), 3_000);
        assert_eq!(leader.high_watermark_candidate(Offset(1)), None);
    }

    #[test]
    fn kip_996_check_quorum_is_reset_by_a_majority_of_fetches() {
        let mut leader = leader_of_three(0);
        assert!(!leader.check_quorum_failed(2_999));
        leader.record_fetch(2_000, ReplicaId(3), true, None, 3_000);
        assert!(!leader.check_quorum_failed(4_999));
        assert!(leader.check_quorum_failed(5_000));
        leader.record_fetch(9, ReplicaId(9), false, None, 3_000);
        assert_eq!(leader.check_quorum_deadline_ms, 5_000, "observers do not keep a leader in office");
    }

    #[test]
    fn preferred_successors_are_the_most_caught_up_first() {
        let mut leader = leader_of_three(0);
        leader.record_fetch(1, ReplicaId(3), true, Some(Offset(4)), 3_000);
        assert_eq!(leader.preferred_successors(), alloc::vec![ReplicaId(3), ReplicaId(2)]);
    }
}
