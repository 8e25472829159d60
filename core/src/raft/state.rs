//! What a node keeps across a crash, and the role it plays between crashes.
//!
//! Raft (Figure 2) makes `currentTerm`, `votedFor` and the log persistent; KRaft keeps the
//! first two in its `quorum-state` file. The roles are KRaft's `EpochState`s (KIP-595, with
//! KIP-996's Prospective): each holds the timers and tallies that only make sense in it, so
//! leaving a role drops them.

use core::fmt;
use serde::{Deserialize, Serialize};

use super::leader::LeaderState;
use super::log::RaftLog;
use super::quorum::VoteTally;
use super::{Epoch, ReplicaId};

/// KRaft's `quorum-state` file: the epoch and the vote cast in it (at most one per epoch).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuorumState {
    pub epoch: Epoch,
    pub voted_for: Option<ReplicaId>,
}

/// Everything that survives a crash. The driver persists it after each call into the node and
/// before sending the messages that call produced, and hands it back to `RaftNode::new`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersistentState<T> {
    pub quorum: QuorumState,
    pub log: RaftLog<T>,
}

impl<T> Default for PersistentState<T> {
    fn default() -> Self {
        PersistentState { quorum: QuorumState::default(), log: RaftLog::default() }
    }
}

/// The role a node plays in its epoch, for views and tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Knows an epoch but no leader for it (and may have voted in it).
    Unattached,
    /// Fetches from the leader of its epoch.
    Follower,
    /// KIP-996: asks for pre-votes, without bumping its epoch.
    Prospective,
    /// Bumped its epoch, voted for itself, asks for votes.
    Candidate,
    Leader,
    /// Was the leader of its epoch and stepped down; waits for the next election.
    Resigned,
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            Role::Unattached => "unattached",
            Role::Follower => "follower",
            Role::Prospective => "prospective",
            Role::Candidate => "candidate",
            Role::Leader => "leader",
            Role::Resigned => "resigned",
        };
        f.write_str(name)
    }
}

/// The role with its role-only state.
#[derive(Clone, Debug)]
pub(crate) enum RoleState {
    /// A voter waits `election_deadline_ms` for a leader; an observer looks for one by fetching.
    Unattached {
        election_deadline_ms: u64,
        fetcher: Fetcher,
    },
    Follower(FollowerState),
    Prospective {
        election: Election,
        leader: Option<ReplicaId>,
    },
    Candidate {
        election: Election,
    },
    Leader(LeaderState),
    Resigned {
        election_deadline_ms: u64,
    },
}

impl RoleState {
    pub(crate) fn role(&self) -> Role {
        match self {
            RoleState::Unattached { .. } => Role::Unattached,
            RoleState::Follower(_) => Role::Follower,
            RoleState::Prospective { .. } => Role::Prospective,
            RoleState::Candidate { .. } => Role::Candidate,
            RoleState::Leader(_) => Role::Leader,
            RoleState::Resigned { .. } => Role::Resigned,
        }
    }
}

/// A follower's view of its leader (KRaft's `FollowerState`).
#[derive(Clone, Debug)]
pub(crate) struct FollowerState {
    pub(crate) leader: ReplicaId,
    /// Past this without a successful fetch, the leader is presumed gone.
    pub(crate) fetch_deadline_ms: u64,
    /// KRaft's `hasFetchedFromLeader`: until a fetch succeeds, the leader may be unreachable
    /// from here, so this follower still grants pre-votes (KIP-996).
    pub(crate) has_fetched_from_leader: bool,
    pub(crate) fetcher: Fetcher,
}

/// The one fetch a node keeps outstanding, and when to send the next.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Fetcher {
    /// When the outstanding fetch was sent; it is sent again after the request timeout.
    pub(crate) in_flight_since_ms: Option<u64>,
    /// With none outstanding, when to send one (now, or after a back-off).
    pub(crate) next_fetch_ms: u64,
    /// An observer without a leader asks the voters in turn; this is whose turn it is.
    pub(crate) probe_index: usize,
}

/// One round of (pre-)vote requests.
#[derive(Clone, Debug)]
pub(crate) struct Election {
    pub(crate) tally: VoteTally,
    pub(crate) election_deadline_ms: u64,
}
