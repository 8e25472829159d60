//! The quorum's RPCs (KIP-595, with KIP-996's `PreVote` flag on `Vote`), each carrying the
//! sender's epoch so that the receiver can step down or fence the sender (Raft §5.1).
//!
//! The sender is not in the body: the driver hands it to `handle_message` with the message.
//! Requests and responses pair up by content, not by correlation id: a fetch response echoes
//! the position it answers, and vote answers count only for the epoch they name.

use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::log::{DivergingEpoch, LogEntry};
use super::{Epoch, ReplicaId};
use crate::ids::Offset;

/// A request or response between two nodes of the quorum.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message<T> {
    Vote(VoteRequest),
    VoteResponse(VoteResponse),
    BeginQuorumEpoch(BeginQuorumEpochRequest),
    BeginQuorumEpochResponse(BeginQuorumEpochResponse),
    EndQuorumEpoch(EndQuorumEpochRequest),
    Fetch(FetchRequest),
    FetchResponse(FetchResponse<T>),
}

/// A candidate asks for a vote (Raft §5.2), or a prospective node for a pre-vote (KIP-996).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteRequest {
    /// The sender's epoch: the epoch it campaigns in, or for a pre-vote the epoch it is in.
    pub epoch: Epoch,
    /// The epoch of the sender's last entry (`LastOffsetEpoch`), for Raft §5.4.1's check.
    pub last_offset_epoch: Option<Epoch>,
    /// The sender's log end offset (`LastOffset`).
    pub last_offset: Offset,
    /// KIP-996: a pre-vote changes nothing at the receiver; it only asks "would you?".
    pub pre_vote: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VoteResponse {
    pub error: Option<RaftError>,
    /// The responder's epoch and the leader it knows of, so a stale sender catches up.
    pub epoch: Epoch,
    pub leader: Option<ReplicaId>,
    pub vote_granted: bool,
    pub pre_vote: bool,
}

/// A new leader announces itself to the voters, so they need not wait for a timeout.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeginQuorumEpochRequest {
    pub epoch: Epoch,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BeginQuorumEpochResponse {
    pub error: Option<RaftError>,
    pub epoch: Epoch,
    pub leader: Option<ReplicaId>,
}

/// A leader that resigns tells the voters, naming its preferred successors, most caught up
/// first. It does not wait for answers, so there is no response message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndQuorumEpochRequest {
    pub epoch: Epoch,
    pub preferred_successors: Vec<ReplicaId>,
}

/// A follower or observer asks the leader for entries from `fetch_offset` on.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchRequest {
    /// The epoch of the leader the sender believes it fetches from (`CurrentLeaderEpoch`).
    pub epoch: Epoch,
    /// The sender's log end offset.
    pub fetch_offset: Offset,
    /// The epoch of the sender's last entry, for the leader to check the logs match (KIP-320).
    pub last_fetched_epoch: Option<Epoch>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchResponse<T> {
    /// The responder's epoch and the leader it knows of (`CurrentLeader`).
    pub epoch: Epoch,
    pub leader: Option<ReplicaId>,
    /// The request's position, echoed so a late or duplicate answer is recognised as such.
    pub fetch_offset: Offset,
    pub last_fetched_epoch: Option<Epoch>,
    pub result: Result<FetchData<T>, RaftError>,
}

/// A successful fetch: entries to append, or where to truncate first.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchData<T> {
    pub entries: Vec<LogEntry<T>>,
    pub high_watermark: Offset,
    /// Set when the follower's log parts from the leader's: truncate, then fetch again.
    pub diverging_epoch: Option<DivergingEpoch>,
}

/// Why a node refused a request, with Kafka's names (`org.apache.kafka.common.protocol.Errors`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RaftError {
    /// The request's epoch is older than the receiver's: the sender is stale.
    FencedLeaderEpoch,
    /// The receiver is not the leader of the request's epoch.
    NotLeaderOrFollower,
    /// A vote request from or to a node that is not a voter.
    InconsistentVoterSet,
}

impl RaftError {
    /// The value on the wire.
    pub const fn code(self) -> i16 {
        match self {
            RaftError::NotLeaderOrFollower => 6,
            RaftError::InconsistentVoterSet => 68,
            RaftError::FencedLeaderEpoch => 74,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            RaftError::NotLeaderOrFollower => "NOT_LEADER_OR_FOLLOWER",
            RaftError::InconsistentVoterSet => "INCONSISTENT_VOTER_SET",
            RaftError::FencedLeaderEpoch => "FENCED_LEADER_EPOCH",
        }
    }
}

impl fmt::Display for RaftError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.name(), self.code())
    }
}

impl<T> Message<T> {
    /// The RPC's name, as Kafka's API keys spell it, for traces.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Vote(request) if request.pre_vote => "PreVote",
            Message::Vote(_) => "Vote",
            Message::VoteResponse(response) if response.pre_vote => "PreVoteResponse",
            Message::VoteResponse(_) => "VoteResponse",
            Message::BeginQuorumEpoch(_) => "BeginQuorumEpoch",
            Message::BeginQuorumEpochResponse(_) => "BeginQuorumEpochResponse",
            Message::EndQuorumEpoch(_) => "EndQuorumEpoch",
            Message::Fetch(_) => "Fetch",
            Message::FetchResponse(_) => "FetchResponse",
        }
    }

    /// The sender's epoch, which every message carries.
    pub fn epoch(&self) -> Epoch {
        match self {
            Message::Vote(m) => m.epoch,
            Message::VoteResponse(m) => m.epoch,
            Message::BeginQuorumEpoch(m) => m.epoch,
            Message::BeginQuorumEpochResponse(m) => m.epoch,
            Message::EndQuorumEpoch(m) => m.epoch,
            Message::Fetch(m) => m.epoch,
            Message::FetchResponse(m) => m.epoch,
        }
    }
}
