//! Majorities: counting votes (Raft §5.2) and finding the offset a majority of voters have
//! replicated, which bounds the high watermark (Raft §5.3, KIP-595's `LeaderState`).

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use super::ReplicaId;
use crate::ids::Offset;

/// How many of `voter_count` voters make a majority.
pub fn majority(voter_count: usize) -> usize {
    assert!(voter_count > 0, "a quorum needs voters");
    voter_count / 2 + 1
}

/// The largest offset that at least a majority of the voters' log end offsets reach: the
/// high watermark a leader may move to (if its own epoch has an entry below it).
pub fn majority_end_offset(mut end_offsets: Vec<Offset>) -> Offset {
    let needed = majority(end_offsets.len());
    end_offsets.sort_unstable_by(|a, b| b.cmp(a));
    end_offsets[needed - 1]
}

/// The answers to one round of (pre-)vote requests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VoteTally {
    voter_count: usize,
    granted: BTreeSet<ReplicaId>,
    rejected: BTreeSet<ReplicaId>,
}

impl VoteTally {
    /// A round where `me` votes for itself.
    pub fn new(voter_count: usize, me: ReplicaId) -> Self {
        VoteTally { voter_count, granted: BTreeSet::from([me]), rejected: BTreeSet::new() }
    }

    /// Records one answer; a voter that already answered keeps its first answer.
    pub fn record(&mut self, voter: ReplicaId, granted: bool) {
        if self.granted.contains(&voter) || self.rejected.contains(&voter) {
            return;
        }
        if granted {
            self.granted.insert(voter);
        } else {
            self.rejected.insert(voter);
        }
        assert!(self.granted.len() + self.rejected.len() <= self.voter_count, "more answers than voters");
    }

    pub fn is_won(&self) -> bool {
        self.granted.len() >= majority(self.voter_count)
    }

    /// A majority said no: this round cannot be won.
    pub fn is_lost(&self) -> bool {
        self.rejected.len() >= majority(self.voter_count)
    }

    pub fn granted(&self) -> &BTreeSet<ReplicaId> {
        &self.granted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn majorities_of_small_quorums() {
        assert_eq!(majority(1), 1);
        assert_eq!(majority(3), 2);
        assert_eq!(majority(4), 3);
        assert_eq!(majority(5), 3);
    }

    #[test]
    fn majority_end_offset_is_the_median_for_three() {
        assert_eq!(majority_end_offset(vec![Offset(7), Offset(3), Offset(5)]), Offset(5));
        assert_eq!(majority_end_offset(vec![Offset(7), Offset(0), Offset(0)]), Offset(0));
        assert_eq!(majority_end_offset(vec![Offset(4)]), Offset(4));
    }

    #[test]
    fn a_tally_is_won_by_a_majority_and_lost_by_a_majority() {
        let mut tally = VoteTally::new(3, ReplicaId(1));
        assert!(!tally.is_won());
        tally.record(ReplicaId(2), false);
        tally.record(ReplicaId(2), true);
        assert!(!tally.is_won(), "a voter's first answer counts");
        tally.record(ReplicaId(3), false);
        assert!(tally.is_lost());
    }
}
