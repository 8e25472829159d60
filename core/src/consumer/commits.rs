//! Committed offsets on the client side (`ConsumerCoordinator`'s offset half): OffsetFetch for
//! the starting positions of newly assigned partitions, the auto commit every
//! `auto.commit.interval.ms`, the application's commitSync, and the commits before a rebalance
//! and on close.
//!
//! What is committed is always the consumed position of every assigned partition: the offset
//! after the last record a poll returned (the next one to read), with that record's leader
//! epoch. As in Kafka, the auto commit runs only inside `poll`: when its interval passes while
//! the application processes records, it waits for the next poll, so it commits only records
//! whose processing has finished. That is auto commit's at-least-once promise.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::error_code::ErrorCode;
use crate::group::protocol::{CommittedOffset, GroupRequest, OffsetToCommit};
use crate::ids::{Offset, TopicPartition};
use crate::message::IsolationLevel;

use super::{Backoff, Consumer, ConsumerEvent, ConsumerTimer, Lifecycle, Pending};

/// Why an offset commit was sent, which decides what its answer unblocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommitKind {
    /// The periodic auto commit: asynchronous, nobody waits for it.
    Auto,
    /// The application's commitSync: its loop waits for the answer.
    Sync,
    /// The auto commit before a rebalance (`onJoinPrepare`): the join waits for it.
    JoinPrepare,
    /// The auto commit on close: LeaveGroup waits for it.
    Close,
}

/// Where the commit before a rebalance stands.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) enum PrepareCommit {
    #[default]
    Idle,
    InFlight,
    Done,
}

/// The consumer's knowledge of committed offsets and its commits under way.
#[derive(Clone, Debug, Default)]
pub(super) struct Commits {
    /// The offsets this consumer learned are committed, from OffsetFetch or its own commits.
    pub(super) committed: BTreeMap<TopicPartition, Offset>,
    pub(super) offset_fetch_in_flight: bool,
    pub(super) offset_fetch_backoff: bool,
    next_auto_commit_ms: u64,
    auto_commit_due: bool,
    prepare_commit: PrepareCommit,
    /// The application's commitSync, waiting to be sent (no coordinator, or backing off).
    sync_waiting: Option<Vec<OffsetToCommit>>,
    pub(super) sync_backoff: bool,
}

/// Errors worth sending a commitSync again for (Kafka's retriable commit errors).
fn is_retriable(error: ErrorCode) -> bool {
    matches!(
        error,
        ErrorCode::NotCoordinator
            | ErrorCode::CoordinatorNotAvailable
            | ErrorCode::CoordinatorLoadInProgress
            | ErrorCode::RequestTimedOut
            | ErrorCode::UnknownTopicOrPartition
    )
}

impl Consumer {
    /// The consumed position of every assigned partition that has one.
    pub(super) fn consumed_offsets(&self) -> Vec<OffsetToCommit> {
        self.fetcher
            .consumed()
            .map(|(partition, offset, leader_epoch)| OffsetToCommit {
                partition: partition.clone(),
                offset,
                leader_epoch,
                metadata: Arc::from(""),
            })
            .collect()
    }

    fn send_commit(&mut self, kind: CommitKind, offsets: Vec<OffsetToCommit>) -> bool {
        let request = GroupRequest::OffsetCommit {
            group_id: self.config.group_id.clone(),
            generation_id: self.membership.generation_id,
            member_id: self.membership.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            offsets: offsets.clone(),
        };
        self.send_group_request(request, Pending::Commit { kind, offsets }, self.config.request_timeout_ms)
    }

    /// Sets the next auto commit `auto.commit.interval.ms` from now.
    pub(super) fn arm_auto_commit(&mut self) {
        if !self.config.enable_auto_commit {
            return;
        }
        let due_ms = self.now_ms + self.config.auto_commit_interval_ms;
        self.commits.next_auto_commit_ms = due_ms;
        self.set_timer(self.config.auto_commit_interval_ms, ConsumerTimer::AutoCommit { due_ms });
    }

    pub(super) fn on_auto_commit_timer(&mut self, due_ms: u64) {
        if self.config.enable_auto_commit && due_ms == self.commits.next_auto_commit_ms {
            self.commits.auto_commit_due = true;
        }
    }

    /// Inside a poll: the auto commit, if its time has come (`maybeAutoCommitOffsetsAsync`).
    pub(super) fn maybe_auto_commit(&mut self) {
        if !self.commits.auto_commit_due || self.membership.coordinator.is_none() {
            return;
        }
        self.commits.auto_commit_due = false;
        let offsets = self.consumed_offsets();
        if !offsets.is_empty() {
            self.send_commit(CommitKind::Auto, offsets);
        }
        self.arm_auto_commit();
    }

    /// The commit before a rebalance: true once it is answered (or there is nothing to commit).
    pub(super) fn join_prepare_commit_done(&mut self) -> bool {
        match self.commits.prepare_commit {
            PrepareCommit::Done => {
                self.commits.prepare_commit = PrepareCommit::Idle;
                true
            }
            PrepareCommit::InFlight => false,
            PrepareCommit::Idle => {
                let offsets = self.consumed_offsets();
                if offsets.is_empty() {
                    return true;
                }
                if self.send_commit(CommitKind::JoinPrepare, offsets) {
                    self.commits.prepare_commit = PrepareCommit::InFlight;
                }
                false
            }
        }
    }

    /// The commit on close; false when there is nothing to commit or no one to commit to.
    pub(super) fn commit_on_close(&mut self) -> bool {
        let offsets = self.consumed_offsets();
        self.config.enable_auto_commit
            && self.membership.in_active_generation()
            && !offsets.is_empty()
            && self.send_commit(CommitKind::Close, offsets)
    }

    /// The application's commitSync of the consumed positions. A member out of the group fails
    /// at once without asking (Kafka's `CommitFailedException`).
    pub(super) fn commit_sync(&mut self) {
        if !self.membership.in_active_generation() {
            self.event(ConsumerEvent::CommitFailed { error: None });
            self.on_sync_commit_done();
            return;
        }
        let offsets = self.consumed_offsets();
        if offsets.is_empty() {
            self.on_sync_commit_done();
            return;
        }
        self.commits.sync_waiting = Some(offsets);
        self.maybe_send_sync_commit();
    }

    pub(super) fn maybe_send_sync_commit(&mut self) {
        if self.commits.sync_backoff || self.membership.coordinator.is_none() {
            return;
        }
        if let Some(offsets) = self.commits.sync_waiting.take() {
            self.send_commit(CommitKind::Sync, offsets);
        }
    }

    pub(super) fn on_commit_response(
        &mut self,
        kind: CommitKind,
        offsets: Vec<OffsetToCommit>,
        results: Vec<(TopicPartition, Option<ErrorCode>)>,
    ) {
        let errors: BTreeMap<TopicPartition, ErrorCode> =
            results.into_iter().filter_map(|(partition, error)| error.map(|error| (partition, error))).collect();
        let (failed, stored): (Vec<OffsetToCommit>, Vec<OffsetToCommit>) =
            offsets.into_iter().partition(|offset| errors.contains_key(&offset.partition));
        if !stored.is_empty() {
            for offset in &stored {
                self.commits.committed.insert(offset.partition.clone(), offset.offset);
            }
            let offsets = stored.into_iter().map(|offset| (offset.partition, offset.offset)).collect();
            self.event(ConsumerEvent::Committed { offsets });
        }
        let Some(error) = errors.values().next().copied() else {
            self.on_commit_succeeded(kind);
            return;
        };
        match error {
            ErrorCode::RebalanceInProgress => self.request_rejoin("the group is rebalancing"),
            ErrorCode::IllegalGeneration => self.reset_generation(false, "the generation is not the group's"),
            ErrorCode::UnknownMemberId => self.reset_generation(true, "the coordinator does not know the member"),
            ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable => self.coordinator_lost(),
            ErrorCode::FencedInstanceId => {
                self.fail(error);
                return;
            }
            _ => {}
        }
        self.on_commit_failed(kind, failed, error);
    }

    fn on_commit_succeeded(&mut self, kind: CommitKind) {
        match kind {
            CommitKind::Auto => {}
            CommitKind::Sync => self.on_sync_commit_done(),
            CommitKind::JoinPrepare => self.commits.prepare_commit = PrepareCommit::Done,
            CommitKind::Close => self.finish_close(),
        }
    }

    /// A commit failed with `error`: commitSync tries again after a back-off when the error is
    /// retriable; everything else reports the failure and goes on.
    pub(super) fn on_commit_failed(&mut self, kind: CommitKind, offsets: Vec<OffsetToCommit>, error: ErrorCode) {
        if kind == CommitKind::Sync && is_retriable(error) && self.lifecycle == Lifecycle::Running {
            self.commits.sync_waiting = Some(offsets);
            self.backoff(Backoff::SyncCommit);
            return;
        }
        self.event(ConsumerEvent::CommitFailed { error: Some(error) });
        match kind {
            CommitKind::Auto => {}
            CommitKind::Sync => self.on_sync_commit_done(),
            // Kafka goes on joining after a commit that failed for good (or timed out).
            CommitKind::JoinPrepare => self.commits.prepare_commit = PrepareCommit::Done,
            CommitKind::Close => self.finish_close(),
        }
    }

    /// Asks for the committed offsets of the assigned partitions that have no position yet.
    pub(super) fn maybe_fetch_committed_offsets(&mut self) {
        if self.commits.offset_fetch_in_flight || self.commits.offset_fetch_backoff {
            return;
        }
        let partitions = self.fetcher.awaiting_committed();
        if partitions.is_empty() {
            return;
        }
        let request = GroupRequest::OffsetFetch {
            group_id: self.config.group_id.clone(),
            partitions: Some(partitions.clone()),
            // KIP-447: a read_committed consumer must not start from offsets a transaction
            // may still abort.
            require_stable: self.config.isolation_level == IsolationLevel::ReadCommitted,
        };
        let pending = Pending::OffsetFetch { partitions };
        if self.send_group_request(request, pending, self.config.request_timeout_ms) {
            self.commits.offset_fetch_in_flight = true;
        }
    }

    pub(super) fn on_offset_fetch_response(
        &mut self,
        partitions: Vec<TopicPartition>,
        error: Option<ErrorCode>,
        offsets: Vec<CommittedOffset>,
    ) {
        self.commits.offset_fetch_in_flight = false;
        match error {
            None => {}
            Some(ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable) => return self.coordinator_lost(),
            Some(_) => return self.backoff(Backoff::OffsetFetch),
        }
        let mut unstable = false;
        for committed in offsets {
            if !partitions.contains(&committed.partition) || !self.fetcher.is_awaiting_committed(&committed.partition) {
                continue;
            }
            if committed.error.is_some() {
                unstable = true;
                continue;
            }
            match committed.offset {
                Some(offset) => {
                    self.commits.committed.insert(committed.partition.clone(), offset);
                    self.fetcher.set_position(&committed.partition, offset, committed.leader_epoch);
                }
                None => self.fetcher.begin_reset(&committed.partition),
            }
        }
        if unstable {
            self.backoff(Backoff::OffsetFetch);
        }
    }
}
