//! The group coordinator's requests and responses, field for field as Kafka's classic group
//! protocol has them (JoinGroup v9, SyncGroup v5, Heartbeat v4, LeaveGroup v5, OffsetCommit v8,
//! OffsetFetch v8, TxnOffsetCommit v3, DescribeGroups v5, ListGroups v4), one group per request.
//!
//! A member's protocol metadata and assignment are opaque bytes to the coordinator, as in Kafka:
//! consumers encode them with the consumer protocol (`assignor::consumer_protocol`), and the
//! native server relays what real clients send unchanged.

use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::ids::{Offset, TopicPartition};

/// A group's name (`group.id`).
pub type GroupId = Arc<str>;
/// A member id the coordinator handed out; the empty string asks for one.
pub type MemberId = Arc<str>;
/// A static member's `group.instance.id` (KIP-345).
pub type InstanceId = Arc<str>;

/// One protocol a joining member can speak, with its metadata (for consumers: an assignor's name
/// and the encoded subscription).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Protocol {
    pub name: Arc<str>,
    pub metadata: Bytes,
}

/// A member as the group leader learns of it from JoinGroup, to compute the assignment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct JoinedMember {
    pub member_id: MemberId,
    pub group_instance_id: Option<InstanceId>,
    /// The metadata it sent for the protocol the group chose.
    pub metadata: Bytes,
}

/// What a member leaving names (LeaveGroup v3+ can name several, for static members).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeavingMember {
    pub member_id: MemberId,
    pub group_instance_id: Option<InstanceId>,
}

/// One partition's offset to commit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OffsetToCommit {
    pub partition: TopicPartition,
    /// The next offset to read: one past the last record processed.
    pub offset: Offset,
    /// The leader epoch of the last record consumed (KIP-320), -1 when unknown.
    pub leader_epoch: i32,
    pub metadata: Arc<str>,
}

/// A committed offset, as OffsetFetch reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommittedOffset {
    pub partition: TopicPartition,
    /// `None` when the group has committed nothing for the partition (Kafka's -1).
    pub offset: Option<Offset>,
    pub leader_epoch: i32,
    pub metadata: Arc<str>,
    /// UNSTABLE_OFFSET_COMMIT while a transaction's offsets for it are pending and the request
    /// asked for stable offsets.
    pub error: Option<ErrorCode>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupRequest {
    JoinGroup {
        group_id: GroupId,
        session_timeout_ms: u64,
        rebalance_timeout_ms: u64,
        /// Empty on a member's first join.
        member_id: MemberId,
        group_instance_id: Option<InstanceId>,
        /// `consumer` for consumers.
        protocol_type: Arc<str>,
        protocols: Vec<Protocol>,
        reason: Option<Arc<str>>,
    },
    SyncGroup {
        group_id: GroupId,
        generation_id: i32,
        member_id: MemberId,
        group_instance_id: Option<InstanceId>,
        protocol_type: Option<Arc<str>>,
        protocol_name: Option<Arc<str>>,
        /// Only the leader sends assignments; followers send none.
        assignments: Vec<(MemberId, Bytes)>,
    },
    Heartbeat {
        group_id: GroupId,
        generation_id: i32,
        member_id: MemberId,
        group_instance_id: Option<InstanceId>,
    },
    LeaveGroup {
        group_id: GroupId,
        members: Vec<LeavingMember>,
    },
    OffsetCommit {
        group_id: GroupId,
        /// -1 for a commit from outside the group (a simple consumer or an admin tool).
        generation_id: i32,
        /// Empty for a commit from outside the group.
        member_id: MemberId,
        group_instance_id: Option<InstanceId>,
        offsets: Vec<OffsetToCommit>,
    },
    OffsetFetch {
        group_id: GroupId,
        /// `None` asks for every partition the group has offsets for.
        partitions: Option<Vec<TopicPartition>>,
        /// KIP-447: report UNSTABLE_OFFSET_COMMIT for partitions with pending transactional
        /// offsets instead of the last stable one.
        require_stable: bool,
    },
    /// Offsets committed as part of a transaction: they take effect when the transaction
    /// commits (the coordinator sees the marker in `__consumer_offsets`) and vanish if it aborts.
    TxnOffsetCommit {
        transactional_id: Arc<str>,
        group_id: GroupId,
        producer_id: i64,
        producer_epoch: i16,
        generation_id: i32,
        member_id: MemberId,
        group_instance_id: Option<InstanceId>,
        offsets: Vec<OffsetToCommit>,
    },
    DescribeGroup {
        group_id: GroupId,
    },
    ListGroups,
}

/// A group's state, as DescribeGroups and ListGroups name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum GroupState {
    Empty,
    PreparingRebalance,
    CompletingRebalance,
    Stable,
    Dead,
}

impl GroupState {
    /// Kafka's name for the state, as DescribeGroups returns it.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }
}

/// A member as DescribeGroups reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DescribedMember {
    pub member_id: MemberId,
    pub group_instance_id: Option<InstanceId>,
    pub client_id: Arc<str>,
    pub metadata: Bytes,
    pub assignment: Bytes,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupResponse {
    JoinGroup {
        /// MEMBER_ID_REQUIRED carries the new member's id in `member_id` (KIP-394): the member
        /// joins again with it.
        error: Option<ErrorCode>,
        generation_id: i32,
        protocol_type: Option<Arc<str>>,
        protocol_name: Option<Arc<str>>,
        leader: MemberId,
        /// KIP-814: a static leader rejoining without a rebalance must not reassign.
        skip_assignment: bool,
        member_id: MemberId,
        /// Every member with its metadata, for the leader only; empty for the others.
        members: Vec<JoinedMember>,
    },
    SyncGroup {
        error: Option<ErrorCode>,
        protocol_type: Option<Arc<str>>,
        protocol_name: Option<Arc<str>>,
        assignment: Bytes,
    },
    Heartbeat {
        /// REBALANCE_IN_PROGRESS tells a member to join again.
        error: Option<ErrorCode>,
    },
    LeaveGroup {
        error: Option<ErrorCode>,
        members: Vec<(LeavingMember, Option<ErrorCode>)>,
    },
    OffsetCommit {
        results: Vec<(TopicPartition, Option<ErrorCode>)>,
    },
    OffsetFetch {
        /// A group-level error (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, ...).
        error: Option<ErrorCode>,
        offsets: Vec<CommittedOffset>,
    },
    TxnOffsetCommit {
        results: Vec<(TopicPartition, Option<ErrorCode>)>,
    },
    DescribeGroup {
        error: Option<ErrorCode>,
        state: GroupState,
        protocol_type: Arc<str>,
        protocol_name: Arc<str>,
        members: Vec<DescribedMember>,
    },
    ListGroups {
        error: Option<ErrorCode>,
        groups: Vec<(GroupId, Arc<str>, GroupState)>,
    },
}

impl GroupRequest {
    /// The API's name, as Kafka calls it.
    pub fn name(&self) -> &'static str {
        match self {
            GroupRequest::JoinGroup { .. } => "JoinGroup",
            GroupRequest::SyncGroup { .. } => "SyncGroup",
            GroupRequest::Heartbeat { .. } => "Heartbeat",
            GroupRequest::LeaveGroup { .. } => "LeaveGroup",
            GroupRequest::OffsetCommit { .. } => "OffsetCommit",
            GroupRequest::OffsetFetch { .. } => "OffsetFetch",
            GroupRequest::TxnOffsetCommit { .. } => "TxnOffsetCommit",
            GroupRequest::DescribeGroup { .. } => "DescribeGroups",
            GroupRequest::ListGroups => "ListGroups",
        }
    }

    /// The group it concerns, which picks its coordinator; `None` for ListGroups, which every
    /// broker answers for the groups it coordinates.
    pub fn group_id(&self) -> Option<&GroupId> {
        match self {
            GroupRequest::JoinGroup { group_id, .. }
            | GroupRequest::SyncGroup { group_id, .. }
            | GroupRequest::Heartbeat { group_id, .. }
            | GroupRequest::LeaveGroup { group_id, .. }
            | GroupRequest::OffsetCommit { group_id, .. }
            | GroupRequest::OffsetFetch { group_id, .. }
            | GroupRequest::TxnOffsetCommit { group_id, .. }
            | GroupRequest::DescribeGroup { group_id } => Some(group_id),
            GroupRequest::ListGroups => None,
        }
    }
}

impl GroupResponse {
    /// The name of the response's API.
    pub fn name(&self) -> &'static str {
        match self {
            GroupResponse::JoinGroup { .. } => "JoinGroupResponse",
            GroupResponse::SyncGroup { .. } => "SyncGroupResponse",
            GroupResponse::Heartbeat { .. } => "HeartbeatResponse",
            GroupResponse::LeaveGroup { .. } => "LeaveGroupResponse",
            GroupResponse::OffsetCommit { .. } => "OffsetCommitResponse",
            GroupResponse::OffsetFetch { .. } => "OffsetFetchResponse",
            GroupResponse::TxnOffsetCommit { .. } => "TxnOffsetCommitResponse",
            GroupResponse::DescribeGroup { .. } => "DescribeGroupsResponse",
            GroupResponse::ListGroups { .. } => "ListGroupsResponse",
        }
    }
}

impl GroupResponse {
    /// A JoinGroup answer that carries only an error (Kafka's `JoinGroupResult(memberId, error)`).
    pub fn join_error(member_id: MemberId, error: ErrorCode) -> GroupResponse {
        GroupResponse::JoinGroup {
            error: Some(error),
            generation_id: -1,
            protocol_type: None,
            protocol_name: None,
            leader: MemberId::from(""),
            skip_assignment: false,
            member_id,
            members: Vec::new(),
        }
    }

    /// A SyncGroup answer that carries only an error.
    pub fn sync_error(error: ErrorCode) -> GroupResponse {
        GroupResponse::SyncGroup {
            error: Some(error),
            protocol_type: None,
            protocol_name: None,
            assignment: Bytes::new(),
        }
    }
}

impl GroupRequest {
    /// The answer to this request when the coordinator refuses all of it with `error`
    /// (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS, INVALID_GROUP_ID, ...): every partition
    /// and member named gets the error too.
    pub fn error_response(&self, error: ErrorCode) -> GroupResponse {
        match self {
            GroupRequest::JoinGroup { member_id, .. } => GroupResponse::join_error(member_id.clone(), error),
            GroupRequest::SyncGroup { .. } => GroupResponse::sync_error(error),
            GroupRequest::Heartbeat { .. } => GroupResponse::Heartbeat { error: Some(error) },
            GroupRequest::LeaveGroup { .. } => GroupResponse::LeaveGroup { error: Some(error), members: Vec::new() },
            GroupRequest::OffsetCommit { offsets, .. } => GroupResponse::OffsetCommit {
                results: offsets.iter().map(|o| (o.partition.clone(), Some(error))).collect(),
            },
            GroupRequest::TxnOffsetCommit { offsets, .. } => GroupResponse::TxnOffsetCommit {
                results: offsets.iter().map(|o| (o.partition.clone(), Some(error))).collect(),
            },
            GroupRequest::OffsetFetch { .. } => GroupResponse::OffsetFetch { error: Some(error), offsets: Vec::new() },
            GroupRequest::DescribeGroup { .. } => GroupResponse::DescribeGroup {
                error: Some(error),
                state: GroupState::Dead,
                protocol_type: Arc::from(""),
                protocol_name: Arc::from(""),
                members: Vec::new(),
            },
            GroupRequest::ListGroups => GroupResponse::ListGroups { error: Some(error), groups: Vec::new() },
        }
    }
}
