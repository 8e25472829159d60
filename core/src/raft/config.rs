//! The quorum's settings, with KRaft's names (`controller.quorum.*`) and defaults.
//!
//! Timeouts follow KIP-595: an election timeout drawn uniformly from `[timeout, 2 * timeout)`
//! (Raft §5.2's randomized timeouts), a fetch timeout after which a follower gives up on its
//! leader, and KIP-996's check-quorum timeout, 1.5 times the fetch timeout as in Kafka's
//! `LeaderState.CHECK_QUORUM_TIMEOUT_FACTOR`.

use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::ReplicaId;

/// Everything that shapes a node's behaviour besides its inputs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RaftConfig {
    /// `controller.quorum.voters`: the fixed voter set. Every other node is an observer.
    pub voters: Vec<ReplicaId>,
    /// `controller.quorum.election.timeout.ms` (1000): the base of the randomized election timeout.
    pub election_timeout_ms: u64,
    /// `controller.quorum.fetch.timeout.ms` (2000): a follower without a successful fetch from
    /// its leader for this long looks for a new one.
    pub fetch_timeout_ms: u64,
    /// `controller.quorum.request.timeout.ms` (2000): an unanswered request is sent again.
    pub request_timeout_ms: u64,
    /// `controller.quorum.retry.backoff.ms` (20): the pause after a failed fetch.
    pub retry_backoff_ms: u64,
    /// How long the leader holds a fetch that has nothing new (KRaft's fetch max wait, 500 ms):
    /// it answers as soon as records or a new high watermark arrive, or when this runs out.
    pub fetch_max_wait_ms: u64,
    /// The most entries one fetch response carries.
    pub max_fetch_entries: usize,
}

impl Default for RaftConfig {
    fn default() -> Self {
        RaftConfig {
            voters: alloc::vec![ReplicaId(1), ReplicaId(2), ReplicaId(3)],
            election_timeout_ms: 1_000,
            fetch_timeout_ms: 2_000,
            request_timeout_ms: 2_000,
            retry_backoff_ms: 20,
            fetch_max_wait_ms: 500,
            max_fetch_entries: 64,
        }
    }
}

impl RaftConfig {
    pub fn is_voter(&self, node: ReplicaId) -> bool {
        self.voters.contains(&node)
    }

    /// How many voters make a majority.
    pub fn majority(&self) -> usize {
        super::quorum::majority(self.voters.len())
    }

    /// KIP-996's check quorum: a leader resigns when no majority fetched within this time.
    pub fn check_quorum_timeout_ms(&self) -> u64 {
        self.fetch_timeout_ms + self.fetch_timeout_ms / 2
    }

    /// Rejects settings no quorum could run with, before anything starts.
    pub fn validate(&self) -> Result<(), RaftConfigError> {
        if self.voters.is_empty() {
            return Err(RaftConfigError::NoVoters);
        }
        for (i, voter) in self.voters.iter().enumerate() {
            if self.voters[..i].contains(voter) {
                return Err(RaftConfigError::DuplicateVoter { voter: *voter });
            }
        }
        if self.election_timeout_ms == 0 || self.fetch_timeout_ms == 0 || self.request_timeout_ms == 0 {
            return Err(RaftConfigError::ZeroTimeout);
        }
        if self.fetch_max_wait_ms >= self.fetch_timeout_ms {
            return Err(RaftConfigError::FetchWaitNotShorterThanFetchTimeout);
        }
        if self.max_fetch_entries == 0 {
            return Err(RaftConfigError::NoFetchEntries);
        }
        Ok(())
    }
}

/// A configuration or persistent state no node could start from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaftConfigError {
    NoVoters,
    DuplicateVoter {
        voter: ReplicaId,
    },
    ZeroTimeout,
    /// A parked fetch would outlive the follower's patience with its leader.
    FetchWaitNotShorterThanFetchTimeout,
    NoFetchEntries,
    /// The persisted vote names a node that is not a voter.
    VotedForNotAVoter {
        voted_for: ReplicaId,
    },
    /// The persisted log holds an entry from an epoch later than the persisted epoch.
    LogAheadOfEpoch,
}

impl fmt::Display for RaftConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaftConfigError::NoVoters => write!(f, "controller.quorum.voters is empty"),
            RaftConfigError::DuplicateVoter { voter } => {
                write!(f, "voter {voter} is listed twice in controller.quorum.voters")
            }
            RaftConfigError::ZeroTimeout => write!(f, "the election, fetch and request timeouts must be positive"),
            RaftConfigError::FetchWaitNotShorterThanFetchTimeout => {
                write!(f, "the fetch max wait must be shorter than controller.quorum.fetch.timeout.ms")
            }
            RaftConfigError::NoFetchEntries => write!(f, "a fetch response must be allowed at least one entry"),
            RaftConfigError::VotedForNotAVoter { voted_for } => {
                write!(f, "the quorum state votes for {voted_for}, which is not a voter")
            }
            RaftConfigError::LogAheadOfEpoch => {
                write!(f, "the log holds an entry from an epoch after the quorum state's epoch")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_kraft_three_voters() {
        let config = RaftConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.majority(), 2);
        assert_eq!(config.check_quorum_timeout_ms(), 3_000);
    }

    #[test]
    fn duplicate_voters_are_rejected() {
        let config = RaftConfig { voters: alloc::vec![ReplicaId(1), ReplicaId(1)], ..RaftConfig::default() };
        assert_eq!(config.validate(), Err(RaftConfigError::DuplicateVoter { voter: ReplicaId(1) }));
    }

    #[test]
    fn fetch_wait_must_be_shorter_than_fetch_timeout() {
        let config = RaftConfig { fetch_max_wait_ms: 2_000, ..RaftConfig::default() };
        assert_eq!(config.validate(), Err(RaftConfigError::FetchWaitNotShorterThanFetchTimeout));
    }
}
