//! What the coordinator asks of the broker that runs it: answers, timers, appends to its
//! `__consumer_offsets` partitions, and events for the trace.

use alloc::vec::Vec;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::event::GroupEvent;
use super::protocol::{GroupId, GroupResponse, MemberId};
use crate::message::NodeId;
use crate::transaction::protocol::ProducerIdAndEpoch;

/// Names one append the coordinator asked for, so the broker can report its outcome through
/// `append_completed`. Tokens grow: a later token is a later append to the same partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AppendToken(pub u64);

/// A deadline the coordinator set. Each timer is checked against the state when it fires, so
/// a timer made stale by later events does nothing.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupTimer {
    /// The member's session may have run out (`session.timeout.ms` since it was last heard).
    Session { group_id: GroupId, member_id: MemberId },
    /// A member told MEMBER_ID_REQUIRED (KIP-394) may not have joined again in time.
    PendingMember { group_id: GroupId, member_id: MemberId },
    /// The join phase of rebalance `rebalance` may be over: the initial delay or the rebalance
    /// timeout ran out.
    Join { group_id: GroupId, rebalance: u64 },
    /// Members that joined generation `generation_id` may not have sent SyncGroup within the
    /// rebalance timeout.
    Sync { group_id: GroupId, generation_id: i32 },
    /// Time to remove expired offsets and dead groups of this `__consumer_offsets` partition
    /// (`offsets.retention.check.interval.ms`).
    OffsetsRetention { partition_index: i32 },
}

/// One thing the coordinator wants done, queued in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupOutput {
    /// Answer request `request_id` from `to`.
    Respond { to: NodeId, request_id: u64, response: GroupResponse },
    /// Call `handle_timer(timer)` `after_ms` from now.
    SetTimer { after_ms: u64, timer: GroupTimer },
    /// Append `records` (key, value; `None` is a tombstone) to `__consumer_offsets` partition
    /// `partition_index` as one batch, transactional when `producer` is set, and call
    /// `append_completed(token, ..)` once it is committed (replicated to the ISR) or failed.
    Append {
        partition_index: i32,
        records: Vec<(Bytes, Option<Bytes>)>,
        producer: Option<ProducerIdAndEpoch>,
        token: AppendToken,
    },
    /// A change worth a line in the trace.
    Event(GroupEvent),
}
