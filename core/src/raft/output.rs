//! What a node asks of its driver, and the trace of what it did, in KRaft's vocabulary.
//!
//! Trace legend, one line per event (the driver prefixes the time and the node):
//! - `unattached`, `follower`, `prospective`, `candidate`, `leader`, `resigned`: the node took
//!   up that role (KIP-595's states, KIP-996's prospective) at the epoch shown;
//! - `vote` / `pre-vote`: it granted a candidate's vote or a prospective node's pre-vote;
//! - `truncate`: a follower dropped a tail that diverged from the leader's log;
//! - `hw`: the high watermark moved, committing the entries below it.

use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::log::{DivergingEpoch, LogEntry};
use super::message::Message;
use super::{Epoch, ReplicaId};
use crate::ids::Offset;

/// One thing a node wants done, queued in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output<T> {
    /// Carry `message` to node `to`. Send it only after persisting the node's
    /// `persistent_state()`, which already includes any vote or entries it relies on.
    Send { to: ReplicaId, message: Message<T> },
    /// Entries that became committed (the high watermark passed them), in offset order.
    /// Each incarnation of a node hands out every committed entry once, from offset 0 on:
    /// apply them to the state machine in this order.
    Committed { entries: Vec<LogEntry<T>> },
    /// A change worth a line in the trace.
    Trace(RaftEvent),
}

/// Why a leader stepped down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResignReason {
    /// KIP-996: no majority of voters fetched within the check-quorum timeout.
    CheckQuorumFailed,
    /// The driver asked it to (graceful shutdown).
    Requested,
}

/// A change in a node's role, vote, log or high watermark.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RaftEvent {
    Unattached { epoch: Epoch, voted_for: Option<ReplicaId> },
    Follower { epoch: Epoch, leader: ReplicaId },
    Prospective { epoch: Epoch },
    Candidate { epoch: Epoch },
    Leader { epoch: Epoch, epoch_start_offset: Offset },
    Resigned { epoch: Epoch, reason: ResignReason },
    VoteGranted { epoch: Epoch, candidate: ReplicaId, pre_vote: bool },
    Truncated { to: Offset, diverging_epoch: DivergingEpoch },
    HighWatermark { high_watermark: Offset },
}

impl fmt::Display for RaftEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RaftEvent::Unattached { epoch, voted_for: Some(candidate) } => {
                write!(f, "unattached at epoch {epoch}, voted for {candidate}")
            }
            RaftEvent::Unattached { epoch, voted_for: None } => write!(f, "unattached at epoch {epoch}"),
            RaftEvent::Follower { epoch, leader } => write!(f, "follower of {leader} at epoch {epoch}"),
            RaftEvent::Prospective { epoch } => write!(f, "prospective at epoch {epoch}: asks for pre-votes"),
            RaftEvent::Candidate { epoch } => write!(f, "candidate at epoch {epoch}: voted for itself"),
            RaftEvent::Leader { epoch, epoch_start_offset } => {
                write!(f, "leader at epoch {epoch}, LeaderChange at offset {epoch_start_offset}")
            }
            RaftEvent::Resigned { epoch, reason: ResignReason::CheckQuorumFailed } => {
                write!(f, "resigned at epoch {epoch}: no majority fetched within the check-quorum timeout")
            }
            RaftEvent::Resigned { epoch, reason: ResignReason::Requested } => {
                write!(f, "resigned at epoch {epoch}: asked to")
            }
            RaftEvent::VoteGranted { epoch, candidate, pre_vote: true } => {
                write!(f, "pre-vote for {candidate} at epoch {epoch}")
            }
            RaftEvent::VoteGranted { epoch, candidate, pre_vote: false } => {
                write!(f, "vote for {candidate} at epoch {epoch}")
            }
            RaftEvent::Truncated { to, diverging_epoch } => write!(
                f,
                "truncate to {to}: leader's epoch {} ends at {}",
                diverging_epoch.epoch, diverging_epoch.end_offset
            ),
            RaftEvent::HighWatermark { high_watermark } => write!(f, "hw {high_watermark}"),
        }
    }
}

/// `propose` or `resign` on a node that is not the leader: where to go instead, if known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NotLeader {
    pub epoch: Epoch,
    pub leader: Option<ReplicaId>,
}

impl fmt::Display for NotLeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.leader {
            Some(leader) => write!(f, "NOT_LEADER_OR_FOLLOWER: the leader at epoch {} is {leader}", self.epoch),
            None => write!(f, "NOT_LEADER_OR_FOLLOWER: no known leader at epoch {}", self.epoch),
        }
    }
}
