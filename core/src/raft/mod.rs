//! KRaft's consensus layer: Raft over a replicated log, as a pure state machine.
//!
//! The KRaft controller quorum (KIP-595) runs Raft (Ongaro and Ousterhout, "In Search of an
//! Understandable Consensus Algorithm", 2014) with three Kafka twists this module follows:
//! - replication is pulled, not pushed: followers send `Fetch` to the leader, which answers with
//!   records, the high watermark, or a diverging epoch to truncate to (KIP-595, KIP-320);
//! - a node that lost its leader first asks for pre-votes without bumping its epoch, and a
//!   leader that no majority fetches from resigns (KIP-996);
//! - a new leader appends a `LeaderChange` control record so that its epoch has an entry to
//!   commit (Raft §5.4.2), and tells the voters with `BeginQuorumEpoch`.
//!
//! What the entries mean is not this module's business: a payload is any `T: Clone`, and the
//! controller will put metadata records there. Snapshots (KIP-630) and changing the voter set
//! (KIP-853) are out of scope: the log starts at offset 0 and the voters are fixed.
//!
//! ```text
//!                       +-------------------------------+
//!  handle_message ----> |                               | ----> take_outputs():
//!  handle_tick(now) --> |  RaftNode<T>                  |         Send { to, message }
//!  propose(entry) ----> |   role (Unattached, Follower, |         Committed { entries }
//!  resign(now) -------> |   Prospective, Candidate,     |         Trace(event)
//!                       |   Leader, Resigned)           | ----> next_deadline_ms()
//!                       |   persistent: epoch, vote, log|
//!                       +-------------------------------+
//! ```
//!
//! Time is an argument and randomness a seeded [`crate::rng::Rng`], so a run is a function of
//! its inputs. The driver keeps [`PersistentState`] across a crash and persists it after each
//! call, before sending that call's messages.
//!
//! The pieces: [`config`] (timeouts with KRaft's names), [`message`] (the RPCs), [`log`] (the
//! replicated log), [`quorum`] (majorities), [`state`] (persistent state and roles),
//! [`leader`] (a leader's view of its replicas), [`output`] (effects and the trace), and the
//! node itself in [`node`], with its role transitions in `transition.rs` and its election and
//! replication handlers in `election.rs` and `replication.rs`.

use core::fmt;
use serde::{Deserialize, Serialize};

pub mod config;
mod election;
pub mod leader;
pub mod log;
pub mod message;
pub mod node;
pub mod output;
pub mod quorum;
mod replication;
pub mod state;
mod transition;

pub use config::{RaftConfig, RaftConfigError};
pub use log::{DivergingEpoch, LogEntry, Payload, RaftLog};
pub use message::{
    BeginQuorumEpochRequest, BeginQuorumEpochResponse, EndQuorumEpochRequest, FetchData, FetchRequest, FetchResponse,
    Message, RaftError, VoteRequest, VoteResponse,
};
pub use node::RaftNode;
pub use output::{NotLeader, Output, RaftEvent, ResignReason};
pub use state::{PersistentState, QuorumState, Role};

/// A node of the metadata quorum: KRaft's `node.id`, called `ReplicaId` in its RPCs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ReplicaId(pub i32);

/// A Raft term, which KRaft calls the epoch (of the metadata log's leader). Epoch 0 has no
/// leader; the first elected leader leads epoch 1.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Epoch(pub u64);

impl Epoch {
    pub fn next(self) -> Epoch {
        Epoch(self.0 + 1)
    }
}

impl fmt::Display for ReplicaId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for Epoch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}
