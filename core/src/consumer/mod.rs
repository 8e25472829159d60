//! The consumer client: a member of a consumer group with the poll loop of the application
//! that uses it, as a sans-IO state machine (Kafka's classic `KafkaConsumer` with its
//! `ConsumerCoordinator`, `Fetcher` and `SubscriptionState`).
//!
//! ```text
//!   start / handle_message / handle_timer /
//!   handle_disconnect / close                               take_outputs
//!   ───────────────────────────────────────────▶ Consumer ──────────────▶ Send, SetTimer,
//!                                                                         Processed, Crashed, Event
//! ```
//!
//! The pieces, each borrowing its own part of the state:
//! - [`membership`]: FindCoordinator, JoinGroup, SyncGroup, heartbeats, LeaveGroup; the leader
//!   runs the assignor; eager and cooperative revocation;
//! - [`fetcher`]: a position per assigned partition, one fetch in flight per partition to its
//!   leader, buffered records, `auto.offset.reset`;
//! - [`records`]: a fetch response's batches to records, with `read_committed` filtering;
//! - [`commits`]: OffsetFetch for starting positions, auto commit, commitSync, commits before
//!   a rebalance and on close;
//! - [`application`]: the application's loop: poll, process each record, commit, poll again,
//!   crashing where it is configured to;
//! - `disconnect`: a broker's connection refused or reset, failing what was in flight on it;
//! - [`config`] and [`event`].
//!
//! As in the Java client, the group is joined and rebalanced only inside `poll`, while the
//! heartbeat thread keeps heartbeating during processing and makes the member leave the group
//! when the application has not polled for `max.poll.interval.ms`. After [`ConsumerOutput::Crashed`]
//! the consumer is dead and outputs nothing more.

pub mod application;
pub mod commits;
pub mod config;
mod disconnect;
pub mod event;
pub mod fetcher;
pub mod membership;
pub mod records;

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::assignor::RebalanceProtocol;
use crate::group::protocol::{GroupRequest, GroupResponse, OffsetToCommit};
use crate::ids::{BrokerId, Offset, TopicPartition};
use crate::message::{Message, NodeId};

pub use application::{ApplicationConfig, CommitMode, CrashPoint};
pub use config::{AutoOffsetReset, ConsumerConfig, ConsumerConfigError};
pub use event::ConsumerEvent;
pub use membership::MemberState;
pub use records::ConsumedRecord;

use application::Application;
use commits::{CommitKind, Commits};
use fetcher::Fetcher;
use membership::Membership;

pub use crate::metadata::ClientMetadata;

/// A timer the consumer asked for; it comes back through [`Consumer::handle_timer`]. Each
/// carries what makes a stale one recognisable, so early or superseded timers are harmless.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ConsumerTimer {
    /// Time to heartbeat (`heartbeat.interval.ms`); `token` names the run of heartbeats.
    Heartbeat { token: u64 },
    /// A request had no answer within its timeout.
    RequestTimeout { request_id: u64 },
    /// A back-off (`retry.backoff.ms`) is over.
    Backoff { what: Backoff },
    /// `auto.commit.interval.ms` has passed since the last auto commit.
    AutoCommit { due_ms: u64 },
    /// `max.poll.interval.ms` has passed since poll number `poll` returned.
    PollInterval { poll: u64 },
    /// A fetch had no answer within `request.timeout.ms`.
    FetchTimeout { partition: TopicPartition, fetch_id: u64 },
    /// The back-off after a failed fetch of the partition is over.
    FetchRetry { partition: TopicPartition },
    /// The application finished processing record number `record` (counting from 1).
    RecordProcessed { record: u64 },
}

/// What is being retried after a back-off.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Backoff {
    FindCoordinator,
    Join,
    OffsetFetch,
    SyncCommit,
}

/// One thing the consumer wants done or reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsumerOutput {
    /// Send `message` to `to`.
    Send {
        to: NodeId,
        message: Message,
    },
    /// Call [`Consumer::handle_timer`] with `timer` after `after_ms`.
    SetTimer {
        after_ms: u64,
        timer: ConsumerTimer,
    },
    /// The application finished processing this record.
    Processed {
        partition: TopicPartition,
        offset: Offset,
        key: Option<Bytes>,
        value: Option<Bytes>,
    },
    /// The application reached its crash point: the driver kills the process. Nothing follows.
    Crashed,
    /// In [`CommitMode::Transactional`]: commit `offsets` in the transaction holding this
    /// poll's results (the driver's transactional producer sends them with
    /// `sendOffsetsToTransaction` and commits), then call [`Consumer::transaction_done`].
    CommitTransaction {
        offsets: Vec<crate::group::protocol::OffsetToCommit>,
        group: crate::producer::GroupMetadata,
    },
    Event(ConsumerEvent),
}

/// A request awaiting its answer, by request id.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Pending {
    /// FindCoordinator, asked of `broker`.
    FindCoordinator {
        broker: BrokerId,
    },
    Join,
    Sync,
    Heartbeat,
    Leave,
    Commit {
        kind: CommitKind,
        offsets: Vec<OffsetToCommit>,
    },
    OffsetFetch {
        partitions: Vec<TopicPartition>,
    },
}

/// Where the consumer is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Lifecycle {
    Created,
    Running,
    /// Committing before leaving, after `close`.
    Closing,
    Closed,
    Crashed,
    /// A fatal group error stopped it.
    Failed,
}

/// A consumer group member and the application polling it.
#[derive(Clone, Debug)]
pub struct Consumer {
    config: ConsumerConfig,
    topics: Vec<Arc<str>>,
    protocol: RebalanceProtocol,
    now_ms: u64,
    next_request_id: u64,
    pending: BTreeMap<u64, Pending>,
    outputs: Vec<ConsumerOutput>,
    lifecycle: Lifecycle,
    membership: Membership,
    fetcher: Fetcher,
    commits: Commits,
    app: Application,
}

impl Consumer {
    /// A consumer of `topics` in `config.group_id`, used by an application behaving as `app`.
    ///
    /// # Panics
    /// If the configuration fails [`ConsumerConfig::validate`] or
    /// [`ApplicationConfig::validate`]: check them first.
    pub fn new(config: ConsumerConfig, app: ApplicationConfig, topics: Vec<Arc<str>>) -> Self {
        if let Err(error) = config.validate().and_then(|()| app.validate(&config)) {
            panic!("invalid consumer configuration: {error}");
        }
        let protocol = config.rebalance_protocol();
        Consumer {
            protocol,
            now_ms: 0,
            next_request_id: 0,
            pending: BTreeMap::new(),
            outputs: Vec::new(),
            lifecycle: Lifecycle::Created,
            membership: Membership::default(),
            fetcher: Fetcher::default(),
            commits: Commits::default(),
            app: Application::new(app),
            config,
            topics,
        }
    }

    /// Starts the application's poll loop: it polls, which finds the coordinator and joins.
    pub fn start(&mut self, now_ms: u64, cluster: &impl ClientMetadata) {
        if self.lifecycle != Lifecycle::Created {
            return;
        }
        self.now_ms = now_ms;
        self.lifecycle = Lifecycle::Running;
        self.arm_auto_commit();
        self.app.start_polling();
        self.drive(cluster);
    }

    /// A message from the network.
    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, message: Message, cluster: &impl ClientMetadata) {
        if !self.is_live() {
            return;
        }
        self.now_ms = now_ms;
        let _ = from; // answers are matched by request id, not by sender
        match message {
            Message::FindCoordinatorResponse { request_id, result }
                if matches!(self.pending.get(&request_id), Some(Pending::FindCoordinator { .. })) =>
            {
                self.pending.remove(&request_id);
                self.on_find_coordinator_response(result);
            }
            Message::GroupResponse { request_id, response } => self.on_group_response(request_id, *response, cluster),
            Message::ConsumerFetchResponse { fetch_id, partition, log_start_offset, result } => {
                self.on_fetch_response(fetch_id, partition, log_start_offset, result);
            }
            _ => {}
        }
        self.drive(cluster);
    }

    /// A timer the consumer set has fired.
    pub fn handle_timer(&mut self, now_ms: u64, timer: ConsumerTimer, cluster: &impl ClientMetadata) {
        if !self.is_live() {
            return;
        }
        self.now_ms = now_ms;
        self.check_assignment_metadata(cluster);
        match timer {
            ConsumerTimer::Heartbeat { token } => self.on_heartbeat_timer(token),
            ConsumerTimer::RequestTimeout { request_id } => {
                if let Some(pending) = self.pending.remove(&request_id) {
                    self.on_request_failed(pending);
                }
            }
            ConsumerTimer::Backoff { what } => self.on_backoff_over(what),
            ConsumerTimer::AutoCommit { due_ms } => self.on_auto_commit_timer(due_ms),
            ConsumerTimer::PollInterval { poll } => self.on_poll_interval_timer(poll),
            ConsumerTimer::FetchTimeout { partition, fetch_id } => self.on_fetch_timeout(&partition, fetch_id),
            ConsumerTimer::FetchRetry { partition } => self.fetcher.end_backoff(&partition),
            ConsumerTimer::RecordProcessed { record } => self.on_record_processed(record),
        }
        self.drive(cluster);
    }

    /// Asks the application to stop, as its loop calls `close()`: at once when it is polling,
    /// otherwise once it has processed (and, in its commit mode, committed) the records it
    /// holds. Closing commits the consumed positions when auto commit is on, then sends
    /// LeaveGroup, except for a static member, which Kafka keeps in the group until its
    /// session times out.
    pub fn close(&mut self, now_ms: u64) {
        if self.lifecycle != Lifecycle::Running {
            if self.lifecycle == Lifecycle::Created {
                self.lifecycle = Lifecycle::Closed;
            }
            return;
        }
        self.now_ms = now_ms;
        self.app.close_requested = true;
        if self.app.is_polling() {
            self.begin_close();
        }
    }

    /// Everything the consumer wants done since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<ConsumerOutput> {
        core::mem::take(&mut self.outputs)
    }

    // ---- read-only views ----

    /// The member id the coordinator gave (empty before the first join).
    pub fn member_id(&self) -> &Arc<str> {
        &self.membership.member_id
    }

    /// The generation joined, or -1.
    pub fn generation_id(&self) -> i32 {
        self.membership.generation_id
    }

    pub fn state(&self) -> MemberState {
        self.membership.state
    }

    /// The coordinator, when known.
    pub fn coordinator(&self) -> Option<BrokerId> {
        self.membership.coordinator
    }

    /// The partitions assigned now.
    pub fn assignment(&self) -> Vec<TopicPartition> {
        self.fetcher.assigned().cloned().collect()
    }

    /// The next offset the application gets from each assigned partition whose position is
    /// known.
    pub fn positions(&self) -> BTreeMap<TopicPartition, Offset> {
        self.fetcher.positions()
    }

    /// The committed offsets this consumer has learned (from OffsetFetch or its own commits).
    pub fn committed(&self) -> &BTreeMap<TopicPartition, Offset> {
        &self.commits.committed
    }

    /// Records the application has finished processing.
    pub fn records_processed(&self) -> u64 {
        self.app.processed
    }

    /// Per partition with a known position and a fetch answered: the high watermark (the last
    /// stable offset for `read_committed`, as Kafka's lag metric) minus the position.
    pub fn lag(&self) -> BTreeMap<TopicPartition, i64> {
        self.fetcher.lag(self.config.isolation_level)
    }

    /// Whether the application crashed at its crash point.
    pub fn is_crashed(&self) -> bool {
        self.lifecycle == Lifecycle::Crashed
    }

    /// Whether it closed (or failed): it sends nothing more.
    pub fn is_closed(&self) -> bool {
        matches!(self.lifecycle, Lifecycle::Closed | Lifecycle::Failed)
    }

    pub fn config(&self) -> &ConsumerConfig {
        &self.config
    }

    // ---- plumbing shared by the handlers ----

    fn is_live(&self) -> bool {
        matches!(self.lifecycle, Lifecycle::Running | Lifecycle::Closing)
    }

    /// Moves everything forward that can move: the coordinator lookup, a waiting commitSync,
    /// the poll in progress, the offset lookups and the fetches.
    fn drive(&mut self, cluster: &dyn ClientMetadata) {
        if !self.is_live() {
            return;
        }
        self.maybe_find_coordinator(cluster);
        if self.lifecycle != Lifecycle::Running {
            return;
        }
        self.maybe_send_sync_commit();
        if self.app.is_polling() {
            self.poll_progress();
        }
        if self.lifecycle != Lifecycle::Running {
            return;
        }
        if self.membership.state == MemberState::Stable {
            self.maybe_fetch_committed_offsets();
        }
        self.send_fetches(cluster);
    }

    fn request_id(&mut self) -> u64 {
        self.next_request_id += 1;
        self.next_request_id
    }

    fn send(&mut self, to: BrokerId, message: Message) {
        self.outputs.push(ConsumerOutput::Send { to: NodeId::Broker(to), message });
    }

    fn set_timer(&mut self, after_ms: u64, timer: ConsumerTimer) {
        self.outputs.push(ConsumerOutput::SetTimer { after_ms, timer });
    }

    fn event(&mut self, event: ConsumerEvent) {
        self.outputs.push(ConsumerOutput::Event(event));
    }

    /// Sends a group request to the coordinator, remembering it under a fresh id and timing it
    /// out after `timeout_ms`. Returns false when no coordinator is known.
    fn send_group_request(&mut self, request: GroupRequest, pending: Pending, timeout_ms: u64) -> bool {
        let Some(coordinator) = self.membership.coordinator else { return false };
        let request_id = self.request_id();
        self.pending.insert(request_id, pending);
        self.send(coordinator, Message::Group { request_id, request: alloc::boxed::Box::new(request) });
        self.set_timer(timeout_ms, ConsumerTimer::RequestTimeout { request_id });
        true
    }

    fn on_group_response(&mut self, request_id: u64, response: GroupResponse, cluster: &dyn ClientMetadata) {
        let Some(pending) = self.pending.remove(&request_id) else { return };
        match (pending, response) {
            (
                Pending::Join,
                GroupResponse::JoinGroup {
                    error,
                    generation_id,
                    protocol_name,
                    leader,
                    skip_assignment,
                    member_id,
                    members,
                    ..
                },
            ) => {
                let joined = membership::JoinAnswer {
                    generation_id,
                    protocol_name,
                    leader,
                    skip_assignment,
                    member_id,
                    members,
                };
                self.on_join_response(error, joined, cluster);
            }
            (Pending::Sync, GroupResponse::SyncGroup { error, assignment, .. }) => {
                self.on_sync_response(error, assignment)
            }
            (Pending::Heartbeat, GroupResponse::Heartbeat { error }) => self.on_heartbeat_response(error),
            (Pending::Leave, GroupResponse::LeaveGroup { .. }) => {}
            (Pending::Commit { kind, offsets }, GroupResponse::OffsetCommit { results }) => {
                self.on_commit_response(kind, offsets, results);
            }
            (Pending::OffsetFetch { partitions }, GroupResponse::OffsetFetch { error, offsets }) => {
                self.on_offset_fetch_response(partitions, error, offsets);
            }
            (pending, _) => {
                // An answer of the wrong kind: keep waiting for the right one.
                self.pending.insert(request_id, pending);
            }
        }
    }

    /// A request timed out, or its coordinator was lost: Kafka fails it as disconnected.
    fn on_request_failed(&mut self, pending: Pending) {
        match pending {
            Pending::FindCoordinator { .. } => {
                self.on_find_coordinator_response(Err(crate::error_code::ErrorCode::RequestTimedOut))
            }
            Pending::Join | Pending::Sync => {
                self.coordinator_lost();
                self.membership.state_after_failed_join();
            }
            Pending::Heartbeat => {
                self.membership.heartbeat_in_flight = false;
                self.coordinator_lost();
            }
            Pending::Leave => {}
            Pending::Commit { kind, offsets } => {
                self.coordinator_lost();
                self.on_commit_failed(kind, offsets, crate::error_code::ErrorCode::RequestTimedOut);
            }
            Pending::OffsetFetch { .. } => {
                self.commits.offset_fetch_in_flight = false;
                self.coordinator_lost();
            }
        }
    }
}
