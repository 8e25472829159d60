//! The coordinator's output buffer and its bookkeeping of appends in flight, shared by the
//! handlers, which borrow it beside the one group they work on.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

use super::config::GroupConfig;
use super::event::GroupEvent;
use super::member::Waiter;
use super::offsets::OffsetAndMetadata;
use super::output::{AppendToken, GroupOutput, GroupTimer};
use super::protocol::{GroupId, GroupResponse, MemberId, Protocol};
use crate::error_code::ErrorCode;
use crate::ids::TopicPartition;
use crate::transaction::protocol::ProducerIdAndEpoch;

/// What to do when a stored group's append completes.
#[derive(Clone, Debug)]
pub(crate) enum AfterStore {
    /// The leader's SyncGroup: install the assignment and go Stable (or fail the sync).
    SyncAssignment { generation_id: i32, assignment: BTreeMap<MemberId, Bytes> },
    /// A static member rejoined a stable group under a new id: answer it (or undo the swap).
    StaticRejoin {
        old_member_id: MemberId,
        new_member_id: MemberId,
        old_protocols: Vec<Protocol>,
        old_timeouts: (u64, u64),
    },
    /// Nothing waits (the group became empty).
    Nothing,
}

/// An append the coordinator asked for and has not heard back about.
#[derive(Clone, Debug)]
pub(crate) enum PendingAppend {
    Group {
        group_id: GroupId,
        partition_index: i32,
        then: AfterStore,
    },
    /// An OffsetCommit or TxnOffsetCommit: `results` already holds the refused partitions;
    /// `offsets` are the ones written.
    Offsets {
        group_id: GroupId,
        partition_index: i32,
        waiter: Waiter,
        producer_id: Option<i64>,
        offsets: Vec<(TopicPartition, OffsetAndMetadata)>,
        results: Vec<(TopicPartition, Option<ErrorCode>)>,
    },
    /// Tombstones for expired offsets or a dead group: nothing waits.
    Tombstones {
        partition_index: i32,
    },
}

impl PendingAppend {
    pub(crate) fn partition_index(&self) -> i32 {
        match self {
            PendingAppend::Group { partition_index, .. }
            | PendingAppend::Offsets { partition_index, .. }
            | PendingAppend::Tombstones { partition_index } => *partition_index,
        }
    }
}

/// The output queue, the appends in flight and the counters ids are made from.
#[derive(Clone, Debug, Default)]
pub(crate) struct Effects {
    pub(crate) outputs: Vec<GroupOutput>,
    pub(crate) appends: BTreeMap<AppendToken, PendingAppend>,
    next_token: u64,
    next_member_number: u64,
    next_rebalance: u64,
    /// Names the coordinator's process in the ids it makes (Kafka puts a UUID there), so that
    /// ids from coordinators on other brokers, or from this broker before a restart, never clash.
    pub(crate) member_id_scope: alloc::string::String,
}

impl Effects {
    pub(crate) fn respond(&mut self, waiter: Waiter, response: GroupResponse) {
        self.outputs.push(GroupOutput::Respond { to: waiter.to, request_id: waiter.request_id, response });
    }

    pub(crate) fn set_timer(&mut self, after_ms: u64, timer: GroupTimer) {
        self.outputs.push(GroupOutput::SetTimer { after_ms, timer });
    }

    pub(crate) fn event(&mut self, event: GroupEvent) {
        self.outputs.push(GroupOutput::Event(event));
    }

    /// Queues an append and remembers what waits on it.
    pub(crate) fn append(
        &mut self,
        records: Vec<(Bytes, Option<Bytes>)>,
        producer: Option<ProducerIdAndEpoch>,
        pending: PendingAppend,
    ) -> AppendToken {
        self.next_token += 1;
        let token = AppendToken(self.next_token);
        let partition_index = pending.partition_index();
        self.outputs.push(GroupOutput::Append { partition_index, records, producer, token });
        self.appends.insert(token, pending);
        token
    }

    /// A fresh member id, `{prefix}-{scope}-{n}` (`{prefix}-{n}` without a scope): unique
    /// among the ids any coordinator made, and `taken` rules out ids a loaded group already holds.
    pub(crate) fn new_member_id(&mut self, prefix: &str, taken: impl Fn(&str) -> bool) -> MemberId {
        loop {
            self.next_member_number += 1;
            let id = if self.member_id_scope.is_empty() {
                format!("{prefix}-{}", self.next_member_number)
            } else {
                format!("{prefix}-{}-{}", self.member_id_scope, self.next_member_number)
            };
            if !taken(&id) {
                return Arc::from(id);
            }
        }
    }

    /// A number for a new rebalance, unique in this coordinator, so a join timer of an earlier
    /// rebalance (even of a group since unloaded and loaded again) never ends a later one.
    pub(crate) fn new_rebalance(&mut self) -> u64 {
        self.next_rebalance += 1;
        self.next_rebalance
    }
}

/// What a group handler works with besides its group.
pub(crate) struct Cx<'a> {
    pub(crate) now_ms: u64,
    pub(crate) config: &'a GroupConfig,
    pub(crate) out: &'a mut Effects,
}

/// The error a client hears when an append for its request failed, as Kafka's
/// `GroupMetadataManager` maps it: a lost leadership means another broker is the coordinator
/// now; a shortage of replicas means none is available for the moment.
pub(crate) fn client_error_for_append(error: ErrorCode, for_offsets: bool) -> ErrorCode {
    match error {
        ErrorCode::UnknownTopicOrPartition
        | ErrorCode::NotEnoughReplicas
        | ErrorCode::NotEnoughReplicasAfterAppend
        | ErrorCode::RequestTimedOut => ErrorCode::CoordinatorNotAvailable,
        ErrorCode::NotLeaderOrFollower | ErrorCode::FencedLeaderEpoch => ErrorCode::NotCoordinator,
        // Kafka answers UNKNOWN_SERVER_ERROR for a group record too large; the model has no such
        // code, and a too large assignment is the closest it can say.
        ErrorCode::MessageTooLarge | ErrorCode::InvalidRecord if for_offsets => ErrorCode::InvalidCommitOffsetSize,
        ErrorCode::MessageTooLarge | ErrorCode::InvalidRecord => ErrorCode::CoordinatorNotAvailable,
        other => other,
    }
}
