//! What happened in a group, one short line each, for the trace and the page.
//!
//! Legend: `joined`, `asked to rejoin with id`, `removed` (with why), `replaced` (a static member
//! restarted under a new member id), `rebalance` (with why), `generation` (a join phase
//! completed), `state`, `committed` / `transaction` / `expired` (offsets), `loaded` / `unloaded`
//! (an offsets partition).

use alloc::sync::Arc;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::protocol::{GroupId, GroupState, InstanceId, MemberId};
use crate::error_code::ErrorCode;

/// Why a member left the group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RemovalReason {
    /// It sent LeaveGroup (or an admin removed it by instance id).
    Left,
    /// Not heard from for `session.timeout.ms`.
    SessionTimeout,
    /// It did not join again before the rebalance timeout.
    RebalanceTimeout,
    /// It did not send SyncGroup within the rebalance timeout after the join phase.
    SyncTimeout,
}

/// Why a rebalance started.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RebalanceReason {
    MemberJoined {
        member_id: MemberId,
    },
    /// A known member joined with different protocols (a subscription change, say).
    MetadataChanged {
        member_id: MemberId,
    },
    /// The leader joined again while the group was stable: it wants to reassign.
    LeaderRejoined {
        member_id: MemberId,
    },
    MemberRemoved {
        member_id: MemberId,
        reason: RemovalReason,
    },
    /// A static member restarted while the group was completing a rebalance, or asked for a
    /// protocol that changes the group's choice.
    StaticMemberReplaced {
        member_id: MemberId,
    },
    /// Storing the assignment failed.
    StoreFailed {
        error: ErrorCode,
    },
    /// The broker asked for it (`trigger_rebalance`), e.g. partitions were added to a topic.
    Requested {
        reason: Arc<str>,
    },
}

/// One change in a group or in the coordinator's offsets partitions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupEvent {
    MemberJoined {
        group_id: GroupId,
        member_id: MemberId,
        group_instance_id: Option<InstanceId>,
    },
    /// KIP-394: a new member got its id and must join again with it.
    MemberIdRequired {
        group_id: GroupId,
        member_id: MemberId,
    },
    MemberRemoved {
        group_id: GroupId,
        member_id: MemberId,
        reason: RemovalReason,
    },
    /// KIP-345: a static member came back under a new member id; the old one is fenced.
    StaticMemberReplaced {
        group_id: GroupId,
        group_instance_id: InstanceId,
        old_member_id: MemberId,
        new_member_id: MemberId,
    },
    RebalanceStarted {
        group_id: GroupId,
        generation_id: i32,
        reason: RebalanceReason,
    },
    GenerationCompleted {
        group_id: GroupId,
        generation_id: i32,
        leader: Option<MemberId>,
        members: usize,
    },
    StateChanged {
        group_id: GroupId,
        from: GroupState,
        to: GroupState,
    },
    OffsetsCommitted {
        group_id: GroupId,
        partitions: usize,
        transactional: bool,
    },
    TransactionCompleted {
        group_id: GroupId,
        producer_id: i64,
        committed: bool,
        partitions: usize,
    },
    OffsetsExpired {
        group_id: GroupId,
        partitions: usize,
    },
    PartitionLoaded {
        partition_index: i32,
        groups: usize,
        unreadable_records: usize,
    },
    PartitionUnloaded {
        partition_index: i32,
        groups: usize,
    },
}

impl fmt::Display for RemovalReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RemovalReason::Left => "left the group",
            RemovalReason::SessionTimeout => "session timed out",
            RemovalReason::RebalanceTimeout => "did not rejoin before the rebalance timeout",
            RemovalReason::SyncTimeout => "did not sync before the rebalance timeout",
        })
    }
}

impl fmt::Display for RebalanceReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RebalanceReason::MemberJoined { member_id } => write!(f, "{member_id} joined"),
            RebalanceReason::MetadataChanged { member_id } => write!(f, "{member_id} changed its subscription"),
            RebalanceReason::LeaderRejoined { member_id } => write!(f, "leader {member_id} joined again"),
            RebalanceReason::MemberRemoved { member_id, reason } => write!(f, "{member_id} {reason}"),
            RebalanceReason::StaticMemberReplaced { member_id } => write!(f, "static member {member_id} replaced"),
            RebalanceReason::StoreFailed { error } => write!(f, "storing the assignment failed: {error}"),
            RebalanceReason::Requested { reason } => write!(f, "{reason}"),
        }
    }
}

impl fmt::Display for GroupEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GroupEvent::MemberJoined { group_id, member_id, group_instance_id: Some(instance) } => {
                write!(f, "{group_id}: {member_id} joined (static, instance {instance})")
            }
            GroupEvent::MemberJoined { group_id, member_id, group_instance_id: None } => {
                write!(f, "{group_id}: {member_id} joined")
            }
            GroupEvent::MemberIdRequired { group_id, member_id } => {
                write!(f, "{group_id}: asked to rejoin with id {member_id}")
            }
            GroupEvent::MemberRemoved { group_id, member_id, reason } => {
                write!(f, "{group_id}: removed {member_id}: {reason}")
            }
            GroupEvent::StaticMemberReplaced { group_id, group_instance_id, old_member_id, new_member_id } => write!(
                f,
                "{group_id}: instance {group_instance_id} replaced {old_member_id} with {new_member_id}, no rebalance"
            ),
            GroupEvent::RebalanceStarted { group_id, generation_id, reason } => {
                write!(f, "{group_id}: rebalance after generation {generation_id}: {reason}")
            }
            GroupEvent::GenerationCompleted { group_id, generation_id, leader: Some(leader), members } => {
                write!(f, "{group_id}: generation {generation_id} with {members} members, leader {leader}")
            }
            GroupEvent::GenerationCompleted { group_id, generation_id, leader: None, .. } => {
                write!(f, "{group_id}: generation {generation_id}, no members")
            }
            GroupEvent::StateChanged { group_id, from, to } => {
                write!(f, "{group_id}: state {} -> {}", from.name(), to.name())
            }
            GroupEvent::OffsetsCommitted { group_id, partitions, transactional: false } => {
                write!(f, "{group_id}: committed offsets for {partitions} partitions")
            }
            GroupEvent::OffsetsCommitted { group_id, partitions, transactional: true } => {
                write!(f, "{group_id}: wrote pending transactional offsets for {partitions} partitions")
            }
            GroupEvent::TransactionCompleted { group_id, producer_id, committed, partitions } => {
                let outcome = if *committed { "committed" } else { "aborted" };
                write!(f, "{group_id}: transaction of producer {producer_id} {outcome} ({partitions} offsets)")
            }
            GroupEvent::OffsetsExpired { group_id, partitions } => {
                write!(f, "{group_id}: expired offsets for {partitions} partitions")
            }
            GroupEvent::PartitionLoaded { partition_index, groups, unreadable_records } => write!(
                f,
                "loaded __consumer_offsets/{partition_index}: {groups} groups, {unreadable_records} unreadable records"
            ),
            GroupEvent::PartitionUnloaded { partition_index, groups } => {
                write!(f, "unloaded __consumer_offsets/{partition_index}: {groups} groups")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn events_read_as_one_plain_line() {
        let event = GroupEvent::MemberRemoved {
            group_id: "g".into(),
            member_id: "consumer-1".into(),
            reason: RemovalReason::SessionTimeout,
        };
        assert_eq!(event.to_string(), "g: removed consumer-1: session timed out");
        let event = GroupEvent::StateChanged { group_id: "g".into(), from: GroupState::Empty, to: GroupState::Stable };
        assert_eq!(event.to_string(), "g: state Empty -> Stable");
        assert!(!event.to_string().contains('\n'));
    }
}
