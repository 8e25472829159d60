//! The application using the consumer, as the usual Java poll loop:
//!
//! ```text
//! loop {
//!     records = consumer.poll()          // joins or rebalances first when needed
//!     [commitSync()]                     // BeforeProcessing: at most once
//!     for record in records { process }  // processing_ms each
//!     [commitSync()]                     // AfterProcessing: at least once
//! }                                      // Auto: enable.auto.commit inside poll
//! ```
//!
//! In [`CommitMode::Transactional`] (consume-transform-produce, exactly once) processing a
//! record means producing its result in a transaction, and the offsets are committed in that
//! same transaction (`sendOffsetsToTransaction` then `commitTransaction`): the consumer asks its
//! driver to commit with [`ConsumerOutput::CommitTransaction`](super::ConsumerOutput) and polls
//! again once [`Consumer::transaction_done`] says how it ended. An aborted transaction rewinds
//! the positions to the committed offsets, so its records are processed again.
//!
//! The application may be set to crash at one point of the loop, once it has processed a number
//! of records in total; the consumer then reports [`ConsumerOutput::Crashed`](super::ConsumerOutput)
//! and says nothing more, which shows what each commit mode loses or repeats: the records a
//! successor processes again are those past the last commit.

use alloc::collections::VecDeque;
use alloc::vec::Vec;

use super::config::{ConsumerConfig, ConsumerConfigError};
use super::records::ConsumedRecord;
use super::{Consumer, ConsumerEvent, ConsumerOutput, ConsumerTimer, Lifecycle};
use crate::ids::{Offset, TopicPartition};

/// When the application commits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CommitMode {
    /// `enable.auto.commit=true`: the consumer commits inside poll, every
    /// `auto.commit.interval.ms`.
    #[default]
    Auto,
    /// commitSync after each poll's records are processed: at least once.
    AfterProcessing,
    /// commitSync of the polled records' positions before processing them: at most once.
    BeforeProcessing,
    /// The offsets go into the transaction that writes the results: exactly once.
    Transactional,
}

/// Where the application dies, once it has processed `after_records` records in total.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashPoint {
    /// Right after processing the record that brings the total to `after_records`, before any
    /// commit covers it.
    AfterProcessingBeforeCommit { after_records: u64 },
    /// After a poll's commitSync is answered and before its records are processed (reached
    /// only with [`CommitMode::BeforeProcessing`]), at the first such point once `after_records`
    /// records are processed.
    AfterCommitBeforeProcessing { after_records: u64 },
}

/// How the application behaves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApplicationConfig {
    /// Simulated time to process one record.
    pub processing_ms: u64,
    pub commit: CommitMode,
    pub crash: Option<CrashPoint>,
}

impl Default for ApplicationConfig {
    fn default() -> Self {
        ApplicationConfig { processing_ms: 10, commit: CommitMode::Auto, crash: None }
    }
}

impl ApplicationConfig {
    /// The commit mode must agree with `enable.auto.commit`: true for [`CommitMode::Auto`],
    /// false for the manual modes.
    pub fn validate(&self, consumer: &ConsumerConfig) -> Result<(), ConsumerConfigError> {
        if (self.commit == CommitMode::Auto) != consumer.enable_auto_commit
            || (self.commit == CommitMode::Transactional
                && consumer.isolation_level != crate::message::IsolationLevel::ReadCommitted)
        {
            return Err(ConsumerConfigError::CommitModeConflictsWithAutoCommit);
        }
        Ok(())
    }
}

/// Where the application is in its loop.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
enum LoopState {
    #[default]
    NotStarted,
    /// Inside poll, until it has records to return.
    Polling,
    /// Waiting for the commitSync before processing these records.
    CommittingBefore {
        batch: VecDeque<ConsumedRecord>,
    },
    /// Processing the first of these records.
    Processing {
        batch: VecDeque<ConsumedRecord>,
    },
    /// Waiting for the commitSync after processing.
    CommittingAfter,
    /// Waiting for the transaction holding the results and the offsets to end.
    CommittingTransaction,
    Stopped,
}

/// The application's loop and its counters.
#[derive(Clone, Debug)]
pub(super) struct Application {
    config: ApplicationConfig,
    state: LoopState,
    /// Records processed in total.
    pub(super) processed: u64,
    /// Polls that returned records.
    pub(super) polls: u64,
    pub(super) close_requested: bool,
}

impl Application {
    pub(super) fn new(config: ApplicationConfig) -> Self {
        Application { config, state: LoopState::NotStarted, processed: 0, polls: 0, close_requested: false }
    }

    pub(super) fn start_polling(&mut self) {
        self.state = LoopState::Polling;
    }

    pub(super) fn is_polling(&self) -> bool {
        self.state == LoopState::Polling
    }

    fn crash_after_processing(&self) -> bool {
        matches!(self.config.crash, Some(CrashPoint::AfterProcessingBeforeCommit { after_records })
            if self.processed >= after_records)
    }

    fn crash_after_commit(&self) -> bool {
        matches!(self.config.crash, Some(CrashPoint::AfterCommitBeforeProcessing { after_records })
            if self.processed >= after_records)
    }
}

impl Consumer {
    /// Inside poll: rebalance if needed, auto commit when due, and return records once there are
    /// some.
    pub(super) fn poll_progress(&mut self) {
        if !self.join_progress() {
            return;
        }
        self.maybe_auto_commit();
        if !self.fetcher.has_records() {
            return;
        }
        let batch = self.fetcher.take_records(self.config.max_poll_records);
        self.poll_returned(batch);
    }

    fn poll_returned(&mut self, batch: Vec<ConsumedRecord>) {
        self.app.polls += 1;
        self.event(ConsumerEvent::Polled { records: batch.len() });
        let poll = self.app.polls;
        self.set_timer(self.config.max_poll_interval_ms, ConsumerTimer::PollInterval { poll });
        let batch: VecDeque<ConsumedRecord> = batch.into();
        if self.app.config.commit == CommitMode::BeforeProcessing {
            self.app.state = LoopState::CommittingBefore { batch };
            self.commit_sync();
        } else {
            self.app.state = LoopState::Processing { batch };
            self.schedule_next_record();
        }
    }

    fn schedule_next_record(&mut self) {
        let record = self.app.processed + 1;
        self.set_timer(self.app.config.processing_ms, ConsumerTimer::RecordProcessed { record });
    }

    pub(super) fn on_record_processed(&mut self, record: u64) {
        if record != self.app.processed + 1 || self.lifecycle != Lifecycle::Running {
            return;
        }
        let LoopState::Processing { batch } = &mut self.app.state else { return };
        let Some(done) = batch.pop_front() else { return };
        let batch_finished = batch.is_empty();
        self.app.processed += 1;
        self.outputs.push(ConsumerOutput::Processed {
            partition: done.partition,
            offset: done.offset,
            key: done.key,
            value: done.value,
        });
        if self.app.crash_after_processing() {
            return self.crash();
        }
        if !batch_finished {
            return self.schedule_next_record();
        }
        match self.app.config.commit {
            CommitMode::AfterProcessing => {
                self.app.state = LoopState::CommittingAfter;
                self.commit_sync();
            }
            CommitMode::Transactional => {
                self.app.state = LoopState::CommittingTransaction;
                let offsets = self.consumed_offsets();
                let group = self.group_metadata();
                self.outputs.push(ConsumerOutput::CommitTransaction { offsets, group });
            }
            CommitMode::Auto | CommitMode::BeforeProcessing => self.next_poll(),
        }
    }

    /// The transaction holding this poll's results and offsets ended. Committed: the offsets
    /// are the group's. Aborted: the positions go back to the committed offsets, so the records
    /// are processed again.
    pub fn transaction_done(&mut self, now_ms: u64, committed: bool, offsets: &[(TopicPartition, Offset)]) {
        self.now_ms = now_ms;
        if self.lifecycle != Lifecycle::Running || self.app.state != LoopState::CommittingTransaction {
            return;
        }
        if committed {
            for (partition, offset) in offsets {
                self.commits.committed.insert(partition.clone(), *offset);
            }
            self.event(ConsumerEvent::Committed { offsets: offsets.to_vec() });
        } else {
            let assigned: Vec<TopicPartition> = self.fetcher.assigned().cloned().collect();
            self.fetcher.remove(&assigned);
            self.fetcher.add(&assigned);
            self.maybe_fetch_committed_offsets();
        }
        self.next_poll();
    }

    /// What `sendOffsetsToTransaction` needs of the group: its id and this member's standing.
    fn group_metadata(&self) -> crate::producer::GroupMetadata {
        crate::producer::GroupMetadata {
            group_id: self.config.group_id.clone(),
            generation_id: self.membership.generation_id,
            member_id: self.membership.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
        }
    }

    /// The application's commitSync returned (stored or failed).
    pub(super) fn on_sync_commit_done(&mut self) {
        if self.lifecycle != Lifecycle::Running {
            return;
        }
        match core::mem::take(&mut self.app.state) {
            LoopState::CommittingBefore { batch } => {
                if self.app.crash_after_commit() {
                    return self.crash();
                }
                self.app.state = LoopState::Processing { batch };
                self.schedule_next_record();
            }
            LoopState::CommittingAfter => self.next_poll(),
            other => self.app.state = other,
        }
    }

    fn next_poll(&mut self) {
        if self.app.close_requested {
            self.begin_close();
        } else {
            self.app.state = LoopState::Polling;
        }
    }

    fn crash(&mut self) {
        self.app.state = LoopState::Stopped;
        self.lifecycle = Lifecycle::Crashed;
        self.outputs.push(ConsumerOutput::Crashed);
    }

    /// The application calls close: commit first with auto commit on (LeaveGroup waits for
    /// the answer), then leave.
    pub(super) fn begin_close(&mut self) {
        self.app.state = LoopState::Stopped;
        self.lifecycle = super::Lifecycle::Closing;
        if !self.commit_on_close() {
            self.finish_close();
        }
    }

    /// Kafka's `onLeavePrepare` and `maybeLeaveGroup`: revoke everything, then leave unless
    /// static.
    pub(super) fn finish_close(&mut self) {
        if self.lifecycle != Lifecycle::Closing {
            return;
        }
        let owned: Vec<_> = self.fetcher.assigned().cloned().collect();
        if !owned.is_empty() {
            self.fetcher.remove(&owned);
            self.event(ConsumerEvent::Revoked { partitions: owned });
        }
        self.maybe_leave_group();
        self.lifecycle = Lifecycle::Closed;
        self.event(ConsumerEvent::Closed);
    }
}
