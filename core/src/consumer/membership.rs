//! The client side of Kafka's classic group protocol (`AbstractCoordinator` and
//! `ConsumerCoordinator`): find the coordinator, join (again with the member id the coordinator
//! hands out on MEMBER_ID_REQUIRED, KIP-394), have the leader compute every member's
//! assignment with the agreed assignor, sync, heartbeat while stable, and rejoin when told to.
//!
//! Before each join (`onJoinPrepare`) the member commits its consumed positions when auto
//! commit is on, then gives partitions up: all of them under the eager protocol, none under the
//! cooperative one, and all of them as *lost*, without committing, when its generation was reset
//! (after ILLEGAL_GENERATION, UNKNOWN_MEMBER_ID or a poll timeout), since another member may own
//! them already. After a cooperative join (`onJoinComplete`) it revokes only the partitions it
//! no longer has and joins once more, so the assignor can hand them over.
//!
//! Heartbeats stop the moment the member is not stable. The poll timeout is the heartbeat
//! thread's too: an application that has not polled for `max.poll.interval.ms` makes a dynamic
//! member send LeaveGroup; any member resets its generation and rejoins on its next poll.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::assignor::consumer_protocol::{
    decode_assignment, decode_subscription, encode_assignment, encode_subscription, Assignment, Subscription,
    HIGHEST_VERSION,
};
use crate::assignor::{assign, AssignorName, MemberSubscription, RebalanceProtocol};
use crate::error_code::ErrorCode;
use crate::group::protocol::{GroupRequest, JoinedMember, LeavingMember, MemberId, Protocol};
use crate::ids::{BrokerId, TopicPartition};
use crate::message::{CoordinatorType, Message};

use super::{Backoff, ClientMetadata, Consumer, ConsumerEvent, ConsumerTimer, Lifecycle, Pending};

/// The consumer protocol's type in JoinGroup and SyncGroup.
const PROTOCOL_TYPE: &str = "consumer";

/// Where a member stands in the group (Kafka's `MemberState`, with joining split in two).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MemberState {
    /// Not in the group: never joined, or its generation was reset.
    #[default]
    Unjoined,
    /// JoinGroup sent.
    Joining,
    /// SyncGroup sent.
    Syncing,
    /// In a generation with an assignment; heartbeating.
    Stable,
}

/// The member's side of the group.
/// How many partitions each topic has.
type PartitionCounts = BTreeMap<Arc<str>, i32>;

#[derive(Clone, Debug)]
pub(super) struct Membership {
    pub(super) coordinator: Option<BrokerId>,
    find_backoff: bool,
    find_attempts: usize,
    pub(super) member_id: MemberId,
    pub(super) generation_id: i32,
    pub(super) state: MemberState,
    /// A rebalance is wanted; it starts at the application's next poll.
    pub(super) rejoin_needed: bool,
    rejoin_reason: Arc<str>,
    join_backoff: bool,
    /// `onJoinPrepare` ran for the rebalance under way.
    join_prepared: bool,
    pub(super) heartbeat_in_flight: bool,
    heartbeat_token: u64,
    /// As the group leader: the partition counts of the group's topics when it assigned them
    /// (Kafka's `assignmentSnapshot`); when the metadata shows others, it rejoins so the group
    /// assigns the new partitions.
    assignment_snapshot: Option<PartitionCounts>,
}

impl Default for Membership {
    fn default() -> Self {
        Membership {
            coordinator: None,
            find_backoff: false,
            find_attempts: 0,
            member_id: Arc::from(""),
            generation_id: -1,
            state: MemberState::Unjoined,
            rejoin_needed: false,
            rejoin_reason: Arc::from("initial join"),
            join_backoff: false,
            join_prepared: false,
            assignment_snapshot: None,
            heartbeat_in_flight: false,
            heartbeat_token: 0,
        }
    }
}

impl Membership {
    /// A join or sync failed: the member will join again.
    pub(super) fn state_after_failed_join(&mut self) {
        if matches!(self.state, MemberState::Joining | MemberState::Syncing) {
            self.state = MemberState::Unjoined;
        }
    }

    /// Whether the member has a generation to commit under.
    pub(super) fn in_active_generation(&self) -> bool {
        self.state == MemberState::Stable && self.generation_id >= 0 && !self.member_id.is_empty()
    }
}

/// A successful JoinGroup answer's fields.
pub(super) struct JoinAnswer {
    pub(super) generation_id: i32,
    pub(super) protocol_name: Option<Arc<str>>,
    pub(super) leader: MemberId,
    pub(super) skip_assignment: bool,
    pub(super) member_id: MemberId,
    pub(super) members: Vec<JoinedMember>,
}

/// Errors after which the consumer cannot go on (Kafka throws them to the application).
fn is_fatal(error: ErrorCode) -> bool {
    matches!(
        error,
        ErrorCode::FencedInstanceId
            | ErrorCode::InconsistentGroupProtocol
            | ErrorCode::GroupMaxSizeReached
            | ErrorCode::InvalidSessionTimeout
            | ErrorCode::InvalidGroupId
    )
}

fn is_coordinator_error(error: ErrorCode) -> bool {
    matches!(error, ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable)
}

impl Consumer {
    pub(super) fn maybe_find_coordinator(&mut self, cluster: &dyn ClientMetadata) {
        let finding = self.pending.values().any(|pending| matches!(pending, Pending::FindCoordinator { .. }));
        if self.membership.coordinator.is_some() || self.membership.find_backoff || finding {
            return;
        }
        let brokers = cluster.brokers();
        if brokers.is_empty() {
            self.backoff(Backoff::FindCoordinator);
            return;
        }
        // Ask the brokers in turn, so a dead one is not asked forever.
        let broker = brokers[self.membership.find_attempts % brokers.len()];
        self.membership.find_attempts += 1;
        let request_id = self.request_id();
        self.pending.insert(request_id, Pending::FindCoordinator { broker });
        let key = self.config.group_id.clone();
        self.send(broker, Message::FindCoordinator { request_id, key, key_type: CoordinatorType::Group });
        self.set_timer(self.config.request_timeout_ms, ConsumerTimer::RequestTimeout { request_id });
    }

    pub(super) fn on_find_coordinator_response(&mut self, result: Result<BrokerId, ErrorCode>) {
        match result {
            Ok(broker) => {
                self.membership.coordinator = Some(broker);
                self.event(ConsumerEvent::CoordinatorFound { broker });
            }
            Err(_) => self.backoff(Backoff::FindCoordinator),
        }
    }

    /// Starts a back-off of `retry.backoff.ms` for `what`.
    pub(super) fn backoff(&mut self, what: Backoff) {
        match what {
            Backoff::FindCoordinator => self.membership.find_backoff = true,
            Backoff::Join => self.membership.join_backoff = true,
            Backoff::OffsetFetch => self.commits.offset_fetch_backoff = true,
            Backoff::SyncCommit => self.commits.sync_backoff = true,
        }
        self.set_timer(self.config.retry_backoff_ms, ConsumerTimer::Backoff { what });
    }

    pub(super) fn on_backoff_over(&mut self, what: Backoff) {
        match what {
            Backoff::FindCoordinator => self.membership.find_backoff = false,
            Backoff::Join => self.membership.join_backoff = false,
            Backoff::OffsetFetch => self.commits.offset_fetch_backoff = false,
            Backoff::SyncCommit => self.commits.sync_backoff = false,
        }
    }

    /// The coordinator is gone (Kafka's `markCoordinatorUnknown`): its connection's requests
    /// fail, and the next drive looks for the coordinator again.
    pub(super) fn coordinator_lost(&mut self) {
        let Some(broker) = self.membership.coordinator.take() else { return };
        self.event(ConsumerEvent::CoordinatorLost { broker });
        let failed: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, pending)| !matches!(pending, Pending::FindCoordinator { .. }))
            .map(|(request_id, _)| *request_id)
            .collect();
        for request_id in failed {
            let pending = self.pending.remove(&request_id).expect("listed above");
            match pending {
                Pending::Join | Pending::Sync => self.membership.state_after_failed_join(),
                Pending::Heartbeat => self.membership.heartbeat_in_flight = false,
                Pending::Commit { kind, offsets } => self.on_commit_failed(kind, offsets, ErrorCode::NotCoordinator),
                Pending::OffsetFetch { .. } => self.commits.offset_fetch_in_flight = false,
                Pending::FindCoordinator { .. } | Pending::Leave => {}
            }
        }
    }

    /// Asks for a rebalance at the next poll (Kafka's `requestRejoin`).
    pub(super) fn request_rejoin(&mut self, reason: &str) {
        if !self.membership.rejoin_needed {
            self.membership.rejoin_needed = true;
            self.membership.rejoin_reason = Arc::from(reason);
            self.event(ConsumerEvent::RejoinNeeded { reason: Arc::from(reason) });
        }
    }

    /// Forgets the generation (and the member id too when the coordinator no longer knows it):
    /// the member is out of the group and joins again (Kafka's `resetStateAndGeneration`).
    pub(super) fn reset_generation(&mut self, reset_member_id: bool, reason: &str) {
        self.membership.generation_id = -1;
        if reset_member_id {
            self.membership.member_id = Arc::from("");
        }
        self.membership.state = MemberState::Unjoined;
        let stale: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, pending)| matches!(pending, Pending::Join | Pending::Sync | Pending::Heartbeat))
            .map(|(request_id, _)| *request_id)
            .collect();
        for request_id in stale {
            self.pending.remove(&request_id);
        }
        self.membership.heartbeat_in_flight = false;
        self.request_rejoin(reason);
    }

    /// A fatal error: the consumer stops where it is.
    pub(super) fn fail(&mut self, error: ErrorCode) {
        self.event(ConsumerEvent::Failed { error });
        self.lifecycle = Lifecycle::Failed;
    }

    /// Runs the join protocol as far as it can go inside a poll. True once the member is
    /// stable with no rebalance wanted, so the poll may return records.
    pub(super) fn join_progress(&mut self) -> bool {
        match self.membership.state {
            MemberState::Joining | MemberState::Syncing => return false,
            MemberState::Stable if !self.membership.rejoin_needed => return true,
            MemberState::Stable | MemberState::Unjoined => {}
        }
        if self.membership.coordinator.is_none() || self.membership.join_backoff {
            return false;
        }
        if !self.membership.join_prepared {
            if !self.prepare_join() {
                return false;
            }
            self.membership.join_prepared = true;
        }
        self.send_join();
        false
    }

    /// Kafka's `onJoinPrepare`: commit first when auto commit is on (waiting for the answer),
    /// then give partitions up as the protocol says. False while the commit is under way.
    fn prepare_join(&mut self) -> bool {
        if self.config.enable_auto_commit && self.membership.in_active_generation() && !self.join_prepare_commit_done()
        {
            return false;
        }
        let owned: Vec<TopicPartition> = self.fetcher.assigned().cloned().collect();
        if self.membership.generation_id < 0 || self.membership.member_id.is_empty() {
            if !owned.is_empty() {
                self.fetcher.remove(&owned);
                self.event(ConsumerEvent::Lost { partitions: owned });
            }
        } else if self.protocol == RebalanceProtocol::Eager && !owned.is_empty() {
            self.fetcher.remove(&owned);
            self.event(ConsumerEvent::Revoked { partitions: owned });
        }
        true
    }

    fn send_join(&mut self) {
        let subscription = Subscription {
            topics: self.topics.clone(),
            user_data: None,
            owned_partitions: self.fetcher.assigned().cloned().collect(),
            generation_id: self.membership.generation_id,
            rack_id: None,
        };
        let metadata = encode_subscription(&subscription, HIGHEST_VERSION);
        let protocols = self
            .config
            .partition_assignment_strategy
            .iter()
            .map(|assignor| Protocol { name: Arc::from(assignor.name()), metadata: metadata.clone() })
            .collect();
        let request = GroupRequest::JoinGroup {
            group_id: self.config.group_id.clone(),
            session_timeout_ms: self.config.session_timeout_ms,
            rebalance_timeout_ms: self.config.max_poll_interval_ms,
            member_id: self.membership.member_id.clone(),
            group_instance_id: self.config.group_instance_id.clone(),
            protocol_type: Arc::from(PROTOCOL_TYPE),
            protocols,
            reason: Some(self.membership.rejoin_reason.clone()),
        };
        // Kafka waits for a JoinGroup answer up to the rebalance timeout plus five seconds.
        let timeout_ms = self.config.request_timeout_ms.max(self.config.max_poll_interval_ms + 5_000);
        if self.send_group_request(request, Pending::Join, timeout_ms) {
            self.membership.state = MemberState::Joining;
            self.membership.rejoin_needed = false;
        }
    }

    pub(super) fn on_join_response(
        &mut self,
        error: Option<ErrorCode>,
        answer: JoinAnswer,
        cluster: &dyn ClientMetadata,
    ) {
        if self.membership.state != MemberState::Joining {
            return;
        }
        self.membership.state = MemberState::Unjoined;
        match error {
            None => self.on_joined(answer, cluster),
            Some(ErrorCode::MemberIdRequired) => self.membership.member_id = answer.member_id,
            Some(ErrorCode::UnknownMemberId) => self.reset_generation(true, "the coordinator does not know the member"),
            Some(ErrorCode::IllegalGeneration) => self.reset_generation(false, "the generation is not the group's"),
            Some(ErrorCode::RebalanceInProgress) => {}
            Some(error) if is_coordinator_error(error) => self.coordinator_lost(),
            Some(error) if is_fatal(error) => self.fail(error),
            Some(_) => self.backoff(Backoff::Join),
        }
    }

    fn on_joined(&mut self, answer: JoinAnswer, cluster: &dyn ClientMetadata) {
        let first_choice = self.config.partition_assignment_strategy[0].name();
        let protocol = answer.protocol_name.unwrap_or_else(|| Arc::from(first_choice));
        self.membership.member_id = answer.member_id.clone();
        self.membership.generation_id = answer.generation_id;
        let leader = answer.leader == answer.member_id;
        self.event(ConsumerEvent::Joined {
            generation_id: answer.generation_id,
            member_id: answer.member_id.clone(),
            leader,
            protocol: protocol.clone(),
        });
        self.membership.assignment_snapshot = None;
        let assignments = if leader && !answer.skip_assignment {
            let (assignments, snapshot) = self.leader_assignments(&protocol, &answer.members, cluster);
            self.membership.assignment_snapshot = Some(snapshot);
            assignments
        } else {
            Vec::new()
        };
        let request = GroupRequest::SyncGroup {
            group_id: self.config.group_id.clone(),
            generation_id: answer.generation_id,
            member_id: answer.member_id,
            group_instance_id: self.config.group_instance_id.clone(),
            protocol_type: Some(Arc::from(PROTOCOL_TYPE)),
            protocol_name: Some(protocol),
            assignments,
        };
        if self.send_group_request(request, Pending::Sync, self.config.request_timeout_ms) {
            self.membership.state = MemberState::Syncing;
        }
    }

    /// The leader's work (`onLeaderElected`): decode every member's subscription, run the
    /// assignor over the partition counts the metadata knows, encode each member's share.
    fn leader_assignments(
        &self,
        protocol: &str,
        members: &[JoinedMember],
        cluster: &dyn ClientMetadata,
    ) -> (Vec<(MemberId, Bytes)>, PartitionCounts) {
        let assignor = AssignorName::parse(protocol).unwrap_or(self.config.partition_assignment_strategy[0]);
        let subscriptions: Vec<MemberSubscription> = members
            .iter()
            .map(|member| MemberSubscription {
                member_id: member.member_id.clone(),
                group_instance_id: member.group_instance_id.clone(),
                // A member whose metadata does not decode subscribes to nothing.
                subscription: decode_subscription(&member.metadata).unwrap_or_else(|_| Subscription::new([])),
            })
            .collect();
        let topics: BTreeSet<Arc<str>> =
            subscriptions.iter().flat_map(|member| member.subscription.topics.iter().cloned()).collect();
        let partition_counts: BTreeMap<Arc<str>, i32> = topics
            .into_iter()
            .filter_map(|topic| cluster.partition_count(&topic).map(|count| (topic, count)))
            .collect();
        let mut assignment = assign(assignor, &subscriptions, &partition_counts);
        let assignments = members
            .iter()
            .map(|member| {
                let partitions = assignment.remove(&member.member_id).unwrap_or_default();
                let bytes = encode_assignment(&Assignment { partitions, user_data: None }, HIGHEST_VERSION);
                (member.member_id.clone(), bytes)
            })
            .collect();
        (assignments, partition_counts)
    }

    /// The group leader rejoins when a topic of the group has gained partitions since it
    /// assigned them (Kafka's `ConsumerCoordinator.rejoinNeededOrPending`); the coordinator
    /// starts a rebalance for a rejoining leader.
    pub(super) fn check_assignment_metadata(&mut self, cluster: &dyn ClientMetadata) {
        let Some(snapshot) = &self.membership.assignment_snapshot else { return };
        let changed = snapshot.iter().any(|(topic, count)| cluster.partition_count(topic) != Some(*count));
        if changed && self.membership.state == MemberState::Stable {
            self.membership.assignment_snapshot = None;
            self.request_rejoin("cached metadata has changed");
        }
    }

    pub(super) fn on_sync_response(&mut self, error: Option<ErrorCode>, assignment: Bytes) {
        if self.membership.state != MemberState::Syncing {
            return;
        }
        self.membership.state = MemberState::Unjoined;
        match error {
            None => {
                let partitions = decode_assignment(&assignment).map(|a| a.partitions).unwrap_or_default();
                self.membership.state = MemberState::Stable;
                self.membership.rejoin_needed = false;
                self.membership.join_prepared = false;
                self.apply_assignment(partitions);
                self.arm_heartbeat();
            }
            Some(ErrorCode::RebalanceInProgress) => {}
            Some(ErrorCode::UnknownMemberId) => self.reset_generation(true, "the coordinator does not know the member"),
            Some(ErrorCode::IllegalGeneration) => self.reset_generation(false, "the generation is not the group's"),
            Some(error) if is_coordinator_error(error) => self.coordinator_lost(),
            Some(error) if is_fatal(error) => self.fail(error),
            Some(_) => self.backoff(Backoff::Join),
        }
    }

    /// Kafka's `onJoinComplete`: revoke what the member owned and no longer has (then, under
    /// the cooperative protocol, join again), and take on the new partitions.
    fn apply_assignment(&mut self, partitions: Vec<TopicPartition>) {
        let assigned: BTreeSet<TopicPartition> = partitions.into_iter().collect();
        let owned: BTreeSet<TopicPartition> = self.fetcher.assigned().cloned().collect();
        let revoked: Vec<TopicPartition> = owned.difference(&assigned).cloned().collect();
        let added: Vec<TopicPartition> = assigned.difference(&owned).cloned().collect();
        if !revoked.is_empty() {
            self.fetcher.remove(&revoked);
            self.event(ConsumerEvent::Revoked { partitions: revoked });
            if self.protocol == RebalanceProtocol::Cooperative {
                self.request_rejoin("need to revoke partitions and re-join");
            }
        }
        self.fetcher.add(&added);
        self.event(ConsumerEvent::Assigned { partitions: added });
    }

    fn arm_heartbeat(&mut self) {
        self.membership.heartbeat_token += 1;
        let token = self.membership.heartbeat_token;
        self.set_timer(self.config.heartbeat_interval_ms, ConsumerTimer::Heartbeat { token });
    }

    pub(super) fn on_heartbeat_timer(&mut self, token: u64) {
        if token != self.membership.heartbeat_token || self.membership.state != MemberState::Stable {
            return;
        }
        if !self.membership.heartbeat_in_flight {
            let request = GroupRequest::Heartbeat {
                group_id: self.config.group_id.clone(),
                generation_id: self.membership.generation_id,
                member_id: self.membership.member_id.clone(),
                group_instance_id: self.config.group_instance_id.clone(),
            };
            if self.send_group_request(request, Pending::Heartbeat, self.config.request_timeout_ms) {
                self.membership.heartbeat_in_flight = true;
            }
        }
        self.set_timer(self.config.heartbeat_interval_ms, ConsumerTimer::Heartbeat { token });
    }

    pub(super) fn on_heartbeat_response(&mut self, error: Option<ErrorCode>) {
        self.membership.heartbeat_in_flight = false;
        match error {
            None => {}
            Some(ErrorCode::RebalanceInProgress) if self.membership.state == MemberState::Stable => {
                self.request_rejoin("the group is rebalancing");
            }
            Some(ErrorCode::IllegalGeneration) => self.reset_generation(false, "the generation is not the group's"),
            Some(ErrorCode::UnknownMemberId) => self.reset_generation(true, "the coordinator does not know the member"),
            Some(error) if is_coordinator_error(error) => self.coordinator_lost(),
            Some(error) if is_fatal(error) => self.fail(error),
            Some(_) => {}
        }
    }

    /// The heartbeat thread's poll check: the application has not polled since poll number
    /// `poll` returned, `max.poll.interval.ms` ago.
    pub(super) fn on_poll_interval_timer(&mut self, poll: u64) {
        if poll != self.app.polls || self.app.is_polling() || self.lifecycle != Lifecycle::Running {
            return;
        }
        if self.membership.state == MemberState::Unjoined {
            return;
        }
        self.event(ConsumerEvent::PollTimeoutExpired);
        self.maybe_leave_group();
        self.reset_generation(true, "consumer poll timeout has expired");
    }

    /// Kafka's `maybeLeaveGroup`: a dynamic member in the group tells the coordinator it
    /// leaves; a static member never does, and the coordinator keeps its place until its
    /// session times out.
    pub(super) fn maybe_leave_group(&mut self) {
        let membership = &self.membership;
        let in_group = membership.state != MemberState::Unjoined && !membership.member_id.is_empty();
        if self.config.group_instance_id.is_some() || membership.coordinator.is_none() || !in_group {
            return;
        }
        let member_id = membership.member_id.clone();
        let request = GroupRequest::LeaveGroup {
            group_id: self.config.group_id.clone(),
            members: alloc::vec![LeavingMember { member_id: member_id.clone(), group_instance_id: None }],
        };
        if self.send_group_request(request, Pending::Leave, self.config.request_timeout_ms) {
            self.event(ConsumerEvent::LeftGroup { member_id });
        }
    }
}
