//! The group coordinator driven through realistic sequences: consumers joining, syncing,
//! heartbeating, going quiet, restarting as static members, committing offsets (plain and
//! transactional), and the coordinator failing over to another instance from the same records.
//!
//! The harness plays the broker: it keeps a clock and the timers the coordinator sets, appends
//! the records it asks for to an in-memory log (at once, or when a test says so), and files the
//! responses by request id.

use bytes::Bytes;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::group::protocol::{
    GroupRequest, GroupResponse, GroupState, JoinedMember, LeavingMember, OffsetToCommit, Protocol,
};
use kafkalab_core::group::records::{OffsetCommitValue, RecordKey};
use kafkalab_core::group::{AppendToken, GroupConfig, GroupCoordinator, GroupEvent, GroupOutput, GroupTimer};
use kafkalab_core::ids::{Offset, TopicPartition};
use kafkalab_core::message::NodeId;
use std::collections::BTreeMap;
use std::sync::Arc;

const SESSION_MS: u64 = 10_000;
const REBALANCE_MS: u64 = 30_000;
/// Two members joining an empty group at once: the second one arrives during
/// `group.initial.rebalance.delay.ms` (3 s), which extends it once more (Kafka's
/// `InitialDelayedJoin`), so the first generation forms after 6 s.
const FIRST_GENERATION_MS: u64 = 6_000;

type Records = Vec<(Bytes, Option<Bytes>)>;

struct Harness {
    coordinator: GroupCoordinator,
    now_ms: u64,
    timers: Vec<(u64, u64, GroupTimer)>,
    next_timer: u64,
    responses: BTreeMap<u64, GroupResponse>,
    next_request: u64,
    /// Appends not yet completed, in order.
    appends: Vec<(AppendToken, Records, Option<i64>)>,
    log: Records,
    events: Vec<GroupEvent>,
    /// Complete every append as soon as it is asked for.
    auto_append: bool,
    /// Every output, for the determinism check.
    trace: Vec<String>,
}

impl Harness {
    fn new() -> Harness {
        let config = GroupConfig { offsets_topic_num_partitions: 1, ..GroupConfig::default() };
        let mut coordinator = GroupCoordinator::new(config).unwrap();
        coordinator.load_partition(0, 0, Vec::new());
        let mut harness = Harness {
            coordinator,
            now_ms: 0,
            timers: Vec::new(),
            next_timer: 0,
            responses: BTreeMap::new(),
            next_request: 0,
            appends: Vec::new(),
            log: Vec::new(),
            events: Vec::new(),
            auto_append: true,
            trace: Vec::new(),
        };
        harness.drain();
        harness
    }

    fn drain(&mut self) {
        loop {
            let outputs = self.coordinator.take_outputs();
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                self.trace.push(format!("{} {output:?}", self.now_ms));
                match output {
                    GroupOutput::Respond { request_id, response, .. } => {
                        assert!(self.responses.insert(request_id, response).is_none(), "answered twice");
                    }
                    GroupOutput::SetTimer { after_ms, timer } => {
                        self.next_timer += 1;
                        self.timers.push((self.now_ms + after_ms, self.next_timer, timer));
                    }
                    GroupOutput::Append { records, producer, token, .. } => {
                        self.appends.push((token, records, producer.map(|p| p.producer_id)))
                    }
                    GroupOutput::Event(event) => self.events.push(event),
                }
            }
            if self.auto_append {
                self.complete_appends(Ok(()));
            }
        }
    }

    /// Completes every append in flight with `result`.
    fn complete_appends(&mut self, result: Result<(), ErrorCode>) {
        for (token, records, _) in std::mem::take(&mut self.appends) {
            if result.is_ok() {
                self.log.extend(records);
            }
            self.coordinator.append_completed(self.now_ms, token, result);
        }
    }

    /// Completes every append in flight with `result` and collects what follows.
    fn settle(&mut self, result: Result<(), ErrorCode>) {
        self.complete_appends(result);
        self.drain();
    }

    fn send(&mut self, request: GroupRequest) -> u64 {
        self.next_request += 1;
        let id = self.next_request;
        self.coordinator.handle_request(self.now_ms, NodeId::Client, id, request);
        self.drain();
        id
    }

    /// Moves the clock on, firing due timers in order.
    fn advance(&mut self, ms: u64) {
        let end = self.now_ms + ms;
        loop {
            self.timers.sort_by_key(|(due, seq, _)| (*due, *seq));
            if self.timers.first().is_none_or(|(due, _, _)| *due > end) {
                break;
            }
            let (due, _, timer) = self.timers.remove(0);
            self.now_ms = due;
            self.coordinator.handle_timer(self.now_ms, timer);
            self.drain();
        }
        self.now_ms = end;
    }

    fn response(&self, id: u64) -> Option<&GroupResponse> {
        self.responses.get(&id)
    }

    fn join_request(&mut self, member_id: &str, instance: Option<&str>, metadata: &[u8]) -> u64 {
        self.send(GroupRequest::JoinGroup {
            group_id: "g".into(),
            session_timeout_ms: SESSION_MS,
            rebalance_timeout_ms: REBALANCE_MS,
            member_id: member_id.into(),
            group_instance_id: instance.map(Arc::from),
            protocol_type: "consumer".into(),
            protocols: vec![Protocol { name: "range".into(), metadata: Bytes::copy_from_slice(metadata) }],
            reason: None,
        })
    }

    /// A dynamic member's two-step join (KIP-394): returns its id and the held join's request id.
    fn join_new(&mut self, metadata: &[u8]) -> (Arc<str>, u64) {
        let first = self.join_request("", None, metadata);
        let GroupResponse::JoinGroup { error: Some(ErrorCode::MemberIdRequired), member_id, .. } =
            self.response(first).unwrap().clone()
        else {
            panic!("expected MEMBER_ID_REQUIRED, got {:?}", self.response(first))
        };
        let second = self.join_request(&member_id, None, metadata);
        (member_id, second)
    }

    fn sync(&mut self, member_id: &str, generation_id: i32, assignments: Vec<(&str, &[u8])>) -> u64 {
        self.send(GroupRequest::SyncGroup {
            group_id: "g".into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: None,
            protocol_type: Some("consumer".into()),
            protocol_name: Some("range".into()),
            assignments: assignments.into_iter().map(|(m, a)| (Arc::from(m), Bytes::copy_from_slice(a))).collect(),
        })
    }

    fn heartbeat(&mut self, member_id: &str, instance: Option<&str>, generation_id: i32) -> Option<ErrorCode> {
        let id = self.send(GroupRequest::Heartbeat {
            group_id: "g".into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: instance.map(Arc::from),
        });
        match self.response(id) {
            Some(GroupResponse::Heartbeat { error }) => *error,
            other => panic!("no heartbeat answer: {other:?}"),
        }
    }

    fn commit(&mut self, member_id: &str, generation_id: i32, partition: i32, offset: i64) -> u64 {
        self.send(GroupRequest::OffsetCommit {
            group_id: "g".into(),
            generation_id,
            member_id: member_id.into(),
            group_instance_id: None,
            offsets: vec![commit_of(partition, offset)],
        })
    }

    fn fetch(&mut self, partition: i32, require_stable: bool) -> (Option<Offset>, Option<ErrorCode>) {
        let id = self.send(GroupRequest::OffsetFetch {
            group_id: "g".into(),
            partitions: Some(vec![TopicPartition::new("orders", partition)]),
            require_stable,
        });
        match self.response(id) {
            Some(GroupResponse::OffsetFetch { error: None, offsets }) => (offsets[0].offset, offsets[0].error),
            other => panic!("no offset fetch answer: {other:?}"),
        }
    }

    fn state(&self) -> GroupState {
        self.coordinator.group("g").map(|g| g.state()).unwrap_or(GroupState::Dead)
    }

    fn generation(&self) -> i32 {
        self.coordinator.group("g").unwrap().generation_id()
    }

    /// Two dynamic members, `a` the leader, in a stable first generation with assignments.
    fn stable_pair(&mut self) -> (Arc<str>, Arc<str>) {
        let (a, join_a) = self.join_new(b"sub-a");
        let (b, join_b) = self.join_new(b"sub-b");
        self.advance(FIRST_GENERATION_MS);
        assert!(joined(self.response(join_a)).is_some() && joined(self.response(join_b)).is_some());
        let sync_b = self.sync(&b, 1, vec![]);
        let sync_a = self.sync(&a, 1, vec![(&a, b"p0"), (&b, b"p1")]);
        assert_eq!(assignment(self.response(sync_a)), Some(Bytes::from_static(b"p0")));
        assert_eq!(assignment(self.response(sync_b)), Some(Bytes::from_static(b"p1")));
        assert_eq!(self.state(), GroupState::Stable);
        (a, b)
    }
}

fn commit_of(partition: i32, offset: i64) -> OffsetToCommit {
    OffsetToCommit {
        partition: TopicPartition::new("orders", partition),
        offset: Offset(offset),
        leader_epoch: 2,
        metadata: "".into(),
    }
}

/// A successful JoinGroup answer: (generation, leader, members listed).
fn joined(response: Option<&GroupResponse>) -> Option<(i32, Arc<str>, Vec<JoinedMember>)> {
    match response? {
        GroupResponse::JoinGroup { error: None, generation_id, leader, members, .. } => {
            Some((*generation_id, leader.clone(), members.clone()))
        }
        _ => None,
    }
}

fn join_error(response: Option<&GroupResponse>) -> Option<ErrorCode> {
    match response? {
        GroupResponse::JoinGroup { error, .. } => *error,
        other => panic!("not a join answer: {other:?}"),
    }
}

fn assignment(response: Option<&GroupResponse>) -> Option<Bytes> {
    match response? {
        GroupResponse::SyncGroup { error: None, assignment, .. } => Some(assignment.clone()),
        _ => None,
    }
}

fn sync_error(response: Option<&GroupResponse>) -> Option<ErrorCode> {
    match response? {
        GroupResponse::SyncGroup { error, .. } => *error,
        other => panic!("not a sync answer: {other:?}"),
    }
}

fn commit_errors(response: Option<&GroupResponse>) -> Vec<Option<ErrorCode>> {
    match response {
        Some(GroupResponse::OffsetCommit { results } | GroupResponse::TxnOffsetCommit { results }) => {
            results.iter().map(|(_, error)| *error).collect()
        }
        other => panic!("not a commit answer: {other:?}"),
    }
}

#[test]
fn first_member_becomes_leader_and_gets_everyones_metadata() {
    let mut h = Harness::new();
    let (a, join_a) = h.join_new(b"sub-a");
    let (b, join_b) = h.join_new(b"sub-b");
    // group.initial.rebalance.delay.ms holds the first generation back, twice since b came.
    h.advance(3_000);
    assert_eq!(h.response(join_a), None);
    h.advance(FIRST_GENERATION_MS - 3_000 - 1);
    assert_eq!(h.response(join_a), None);
    h.advance(1);
    let (generation, leader, members) = joined(h.response(join_a)).unwrap();
    assert_eq!((generation, &leader), (1, &a));
    let metadata: Vec<(Arc<str>, Bytes)> = members.into_iter().map(|m| (m.member_id, m.metadata)).collect();
    assert_eq!(metadata, vec![(a.clone(), Bytes::from_static(b"sub-a")), (b.clone(), Bytes::from_static(b"sub-b"))]);
    let (generation, leader, members) = joined(h.response(join_b)).unwrap();
    assert_eq!((generation, &leader, members.len()), (1, &a, 0), "followers get no member list");
    assert_eq!(h.state(), GroupState::CompletingRebalance);
}

#[test]
fn the_initial_delay_is_extended_while_members_keep_arriving() {
    let mut h = Harness::new();
    let (_, join_a) = h.join_new(b"a");
    h.advance(2_000);
    let (_, join_b) = h.join_new(b"b");
    h.advance(1_000); // the first delay ends, but a member arrived during it
    assert_eq!(h.response(join_a), None);
    h.advance(2_999);
    assert_eq!(h.response(join_a), None);
    h.advance(1);
    assert_eq!(joined(h.response(join_b)).map(|j| j.0), Some(1));
}

#[test]
fn followers_wait_for_the_leaders_sync_and_the_store_before_answers() {
    let mut h = Harness::new();
    h.auto_append = false;
    let (a, _) = h.join_new(b"a");
    let (b, _) = h.join_new(b"b");
    h.advance(FIRST_GENERATION_MS);
    let sync_b = h.sync(&b, 1, vec![]);
    assert_eq!(h.response(sync_b), None, "the follower waits for the leader");
    let sync_a = h.sync(&a, 1, vec![(&a, b"x"), (&b, b"y")]);
    assert_eq!((h.response(sync_a), h.response(sync_b)), (None, None), "nothing before the store");
    assert_eq!(h.appends.len(), 1);
    h.settle(Ok(()));
    assert_eq!(assignment(h.response(sync_b)), Some(Bytes::from_static(b"y")));
    assert_eq!(h.state(), GroupState::Stable);
}

#[test]
fn a_new_member_triggers_a_rebalance_and_all_members_get_the_new_generation() {
    let mut h = Harness::new();
    let (a, b) = h.stable_pair();
    let (c, join_c) = h.join_new(b"sub-c");
    assert_eq!(h.state(), GroupState::PreparingRebalance);
    assert_eq!(h.heartbeat(&a, None, 1), Some(ErrorCode::RebalanceInProgress));
    assert_eq!(h.sync(&b, 1, vec![]), h.next_request);
    assert_eq!(sync_error(h.response(h.next_request)), Some(ErrorCode::RebalanceInProgress));
    let join_a = h.join_request(&a, None, b"sub-a");
    assert_eq!(h.response(join_a), None, "waits for b");
    let join_b = h.join_request(&b, None, b"sub-b");
    for join in [join_a, join_b, join_c] {
        assert_eq!(joined(h.response(join)).map(|j| j.0), Some(2));
    }
    assert_eq!(joined(h.response(join_a)).unwrap().2.len(), 3, "the leader sees all three");
    assert!(h.coordinator.group("g").unwrap().member(&c).is_some());
}

#[test]
fn a_member_that_stops_heartbeating_is_removed_after_session_timeout_and_the_rest_rebalance() {
    let mut h = Harness::new();
    let (a, b) = h.stable_pair();
    for _ in 0..3 {
        h.advance(3_000);
        assert_eq!(h.heartbeat(&a, None, 1), None);
    }
    h.advance(1_000); // b was last heard 10 s ago
    assert!(h.coordinator.group("g").unwrap().member(&b).is_none());
    assert!(h.events.iter().any(|e| matches!(e, GroupEvent::MemberRemoved { member_id, .. } if *member_id == b)));
    assert_eq!(h.heartbeat(&a, None, 1), Some(ErrorCode::RebalanceInProgress));
    let join_a = h.join_request(&a, None, b"sub-a");
    let (generation, leader, members) = joined(h.response(join_a)).unwrap();
    assert_eq!((generation, leader, members.len()), (2, a, 1));
}

#[test]
fn a_member_that_does_not_rejoin_before_the_rebalance_timeout_is_removed() {
    let mut h = Harness::new();
    let (a, b) = h.stable_pair();
    assert!(h.coordinator.trigger_rebalance(h.now_ms, "g", "partitions added to orders"));
    let join_a = h.join_request(&a, None, b"sub-a");
    for _ in 0..10 {
        h.advance(3_000);
        h.heartbeat(&b, None, 1); // b heartbeats but never rejoins
    }
    assert_eq!(joined(h.response(join_a)).map(|j| (j.0, j.2.len())), Some((2, 1)));
    assert!(h.coordinator.group("g").unwrap().member(&b).is_none());
    assert_eq!(h.heartbeat(&b, None, 1), Some(ErrorCode::UnknownMemberId));
}

#[test]
fn a_pending_member_that_never_rejoins_is_dropped_after_its_session_timeout() {
    let mut h = Harness::new();
    let first = h.join_request("", None, b"a");
    assert_eq!(join_error(h.response(first)), Some(ErrorCode::MemberIdRequired));
    h.advance(SESSION_MS);
    let GroupResponse::JoinGroup { member_id, .. } = h.response(first).unwrap().clone() else { unreachable!() };
    let late = h.join_request(&member_id, None, b"a");
    assert_eq!(join_error(h.response(late)), Some(ErrorCode::UnknownMemberId));
}

#[test]
fn a_subscription_change_rebalances_but_an_unchanged_join_keeps_the_generation() {
    let mut h = Harness::new();
    let (a, b) = h.stable_pair();
    let same = h.join_request(&b, None, b"sub-b");
    assert_eq!(joined(h.response(same)).map(|j| j.0), Some(1));
    assert_eq!(h.state(), GroupState::Stable);
    let changed = h.join_request(&b, None, b"sub-b-and-more");
    assert_eq!(h.response(changed), None);
    assert_eq!(h.state(), GroupState::PreparingRebalance);
    h.join_request(&a, None, b"sub-a");
    assert_eq!(joined(h.response(changed)).map(|j| j.0), Some(2));
}

#[test]
fn a_stale_generations_commit_is_refused_with_illegal_generation() {
    let mut h = Harness::new();
    let (a, b) = h.stable_pair();
    h.coordinator.trigger_rebalance(h.now_ms, "g", "test");
    h.join_request(&a, None, b"sub-a");
    h.join_request(&b, None, b"sub-b");
    assert_eq!(h.generation(), 2);
    let during_completing = h.commit(&a, 2, 0, 5);
    assert_eq!(commit_errors(h.response(during_completing)), vec![Some(ErrorCode::RebalanceInProgress)]);
    let stale = h.commit(&a, 1, 0, 5);
    assert_eq!(commit_errors(h.response(stale)), vec![Some(ErrorCode::IllegalGeneration)]);
    let stranger = h.commit("nobody", 2, 0, 5);
    assert_eq!(commit_errors(h.response(stranger)), vec![Some(ErrorCode::UnknownMemberId)]);
    assert_eq!(h.fetch(0, false), (None, None));
}

#[test]
fn a_static_member_restarting_within_the_session_timeout_gets_its_assignment_back_without_a_rebalance() {
    let mut h = Harness::new();
    let join_a = h.join_request("", Some("instance-a"), b"sub-a");
    let join_b = h.join_request("", Some("instance-b"), b"sub-b");
    h.advance(FIRST_GENERATION_MS);
    let (_, leader, _) = joined(h.response(join_a)).unwrap();
    let GroupResponse::JoinGroup { member_id: b, .. } = h.response(join_b).unwrap().clone() else { unreachable!() };
    h.sync(&leader, 1, vec![(&leader, b"p0"), (&b, b"p1")]);
    h.advance(4_000);
    // instance-b restarts: it has forgotten its member id.
    let rejoin = h.join_request("", Some("instance-b"), b"sub-b");
    let GroupResponse::JoinGroup {
        error: None,
        generation_id: 1,
        member_id: new_b,
        skip_assignment: false,
        members,
        ..
    } = h.response(rejoin).unwrap().clone()
    else {
        panic!("expected the current generation: {:?}", h.response(rejoin))
    };
    assert_ne!(new_b, b);
    assert!(members.is_empty());
    assert_eq!((h.state(), h.generation()), (GroupState::Stable, 1));
    let sync = h.sync(&new_b, 1, vec![]);
    assert_eq!(assignment(h.response(sync)), Some(Bytes::from_static(b"p1")));
    assert_eq!(h.heartbeat(&b, Some("instance-b"), 1), Some(ErrorCode::FencedInstanceId));
    assert!(!h.events.iter().any(|e| matches!(e, GroupEvent::RebalanceStarted { generation_id: 1, .. })));
}

#[test]
fn a_static_leader_restarting_is_told_it_leads_but_to_skip_assignment() {
    let mut h = Harness::new();
    let join_a = h.join_request("", Some("instance-a"), b"sub-a");
    h.advance(3_000);
    let (_, leader, _) = joined(h.response(join_a)).unwrap();
    h.sync(&leader, 1, vec![(&leader, b"p0")]);
    let rejoin = h.join_request("", Some("instance-a"), b"sub-a");
    let GroupResponse::JoinGroup {
        generation_id: 1,
        skip_assignment: true,
        leader: new_leader,
        member_id,
        members,
        ..
    } = h.response(rejoin).unwrap().clone()
    else {
        panic!("{:?}", h.response(rejoin))
    };
    assert_eq!((new_leader, members.len()), (member_id, 1));
}

#[test]
fn a_static_member_that_stays_away_past_the_session_timeout_is_removed() {
    let mut h = Harness::new();
    let join_a = h.join_request("", Some("instance-a"), b"sub-a");
    let join_b = h.join_request("", Some("instance-b"), b"sub-b");
    h.advance(FIRST_GENERATION_MS);
    let (_, a, _) = joined(h.response(join_a)).unwrap();
    let GroupResponse::JoinGroup { member_id: b, .. } = h.response(join_b).unwrap().clone() else { unreachable!() };
    h.sync(&a, 1, vec![(&a, b"p0"), (&b, b"p1")]);
    for _ in 0..4 {
        h.advance(3_000);
        h.heartbeat(&a, Some("instance-a"), 1);
    }
    assert!(h.coordinator.group("g").unwrap().member(&b).is_none());
    assert_eq!(h.state(), GroupState::PreparingRebalance);
    let leave = h.send(GroupRequest::LeaveGroup {
        group_id: "g".into(),
        members: vec![LeavingMember { member_id: "".into(), group_instance_id: Some("instance-a".into()) }],
    });
    assert!(
        matches!(h.response(leave), Some(GroupResponse::LeaveGroup { error: None, members }) if members[0].1.is_none())
    );
    assert_eq!(h.state(), GroupState::Empty, "the last member left: the group is empty");
}

#[test]
fn commits_become_visible_only_after_the_append_completes() {
    let mut h = Harness::new();
    let (a, _) = h.stable_pair();
    h.auto_append = false;
    let commit = h.commit(&a, 1, 0, 42);
    assert_eq!(h.response(commit), None);
    assert_eq!(h.fetch(0, false), (None, None));
    assert_eq!(h.fetch(0, true), (None, Some(ErrorCode::UnstableOffsetCommit)));
    h.settle(Ok(()));
    assert_eq!(commit_errors(h.response(commit)), vec![None]);
    assert_eq!(h.fetch(0, true), (Some(Offset(42)), None));
}

#[test]
fn a_failed_append_answers_not_coordinator() {
    let mut h = Harness::new();
    let (a, _) = h.stable_pair();
    h.auto_append = false;
    let commit = h.commit(&a, 1, 0, 42);
    h.settle(Err(ErrorCode::NotLeaderOrFollower));
    assert_eq!(commit_errors(h.response(commit)), vec![Some(ErrorCode::NotCoordinator)]);
    let commit = h.commit(&a, 1, 0, 43);
    h.settle(Err(ErrorCode::NotEnoughReplicas));
    assert_eq!(commit_errors(h.response(commit)), vec![Some(ErrorCode::CoordinatorNotAvailable)]);
    assert_eq!(h.fetch(0, true), (None, None), "nothing committed, nothing pending");
}

#[test]
fn offsets_and_members_survive_unload_and_load_on_another_coordinator_instance() {
    let mut h = Harness::new();
    let (a, b) = h.stable_pair();
    h.commit(&a, 1, 0, 7);
    h.commit(&b, 1, 1, 9);
    h.commit(&a, 1, 0, 8);
    h.coordinator.unload_partition(0);
    h.drain();
    let heartbeat = h.heartbeat(&a, None, 1);
    assert_eq!(heartbeat, Some(ErrorCode::NotCoordinator));
    let mut other = GroupCoordinator::new(h.coordinator.config().clone()).unwrap();
    other.load_partition(h.now_ms, 0, h.log.clone());
    let offsets: Vec<(i32, i64)> =
        other.committed_offsets("g").into_iter().map(|(tp, v)| (tp.partition.0, v.offset.0)).collect();
    assert_eq!(offsets, vec![(0, 8), (1, 9)]);
    let group = other.group("g").unwrap();
    assert_eq!((group.state(), group.generation_id(), group.leader()), (GroupState::Stable, 1, Some(&a)));
    assert_eq!(group.member(&b).unwrap().assignment, Bytes::from_static(b"p1"));
}

#[test]
fn transactional_offsets_appear_only_after_the_commit_marker_and_vanish_on_abort() {
    let mut h = Harness::new();
    let txn = |producer_id: i64, offset: i64| GroupRequest::TxnOffsetCommit {
        transactional_id: "tx".into(),
        group_id: "g".into(),
        producer_id,
        producer_epoch: 0,
        generation_id: -1,
        member_id: "".into(),
        group_instance_id: None,
        offsets: vec![commit_of(0, offset)],
    };
    let first = h.send(txn(1000, 11));
    assert_eq!(commit_errors(h.response(first)), vec![None]);
    assert_eq!(h.fetch(0, false), (None, None));
    assert_eq!(h.fetch(0, true), (None, Some(ErrorCode::UnstableOffsetCommit)));
    h.coordinator.complete_transaction(0, 1000, true);
    assert_eq!(h.fetch(0, true), (Some(Offset(11)), None));
    h.send(txn(1001, 99));
    h.coordinator.complete_transaction(0, 1001, false);
    assert_eq!(h.fetch(0, true), (Some(Offset(11)), None));
}

#[test]
fn a_transactional_commit_is_appended_with_its_producer() {
    let mut h = Harness::new();
    h.auto_append = false;
    h.send(GroupRequest::TxnOffsetCommit {
        transactional_id: "tx".into(),
        group_id: "g".into(),
        producer_id: 7,
        producer_epoch: 3,
        generation_id: -1,
        member_id: "".into(),
        group_instance_id: None,
        offsets: vec![commit_of(0, 1)],
    });
    let producer = h.trace.iter().rev().find(|line| line.contains("Append")).unwrap();
    assert!(producer.contains("ProducerIdAndEpoch { producer_id: 7, epoch: 3 }"), "{producer}");
}

#[test]
fn the_commit_records_encode_byte_for_byte_as_kafkas_format() {
    let mut h = Harness::new();
    h.advance(5);
    h.commit("", -1, 3, 0x10);
    let (key, value) = h.log.last().unwrap().clone();
    let mut expected_key = vec![0, 1, 0, 1, b'g', 0, 6];
    expected_key.extend_from_slice(b"orders");
    expected_key.extend_from_slice(&[0, 0, 0, 3]);
    assert_eq!(&key[..], &expected_key[..]);
    #[rustfmt::skip]
    let expected_value = [0, 3, 0, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5];
    assert_eq!(&value.unwrap()[..], &expected_value[..]);
    assert!(matches!(RecordKey::decode(&key), Ok(RecordKey::OffsetCommit { partition: 3, .. })));
    assert_eq!(OffsetCommitValue::decode(&expected_value).unwrap().commit_timestamp_ms, 5);
}

#[test]
fn requests_for_groups_of_other_partitions_get_not_coordinator_and_loading_gets_load_in_progress() {
    let config = GroupConfig { offsets_topic_num_partitions: 50, ..GroupConfig::default() };
    let mut coordinator = GroupCoordinator::new(config).unwrap();
    coordinator.begin_loading(12); // "my-group" lives in partition 12 of 50
    let describe = |group: &str| GroupRequest::DescribeGroup { group_id: group.into() };
    coordinator.handle_request(0, NodeId::Client, 1, describe("my-group"));
    coordinator.handle_request(0, NodeId::Client, 2, describe("a")); // partition 47
    coordinator.load_partition(0, 12, Vec::new());
    coordinator.handle_request(0, NodeId::Client, 3, describe("my-group"));
    let errors: Vec<(u64, Option<ErrorCode>)> = coordinator
        .take_outputs()
        .into_iter()
        .filter_map(|output| match output {
            GroupOutput::Respond { request_id, response: GroupResponse::DescribeGroup { error, .. }, .. } => {
                Some((request_id, error))
            }
            _ => None,
        })
        .collect();
    assert_eq!(
        errors,
        vec![(1, Some(ErrorCode::CoordinatorLoadInProgress)), (2, Some(ErrorCode::NotCoordinator)), (3, None)]
    );
}

#[test]
fn joins_with_bad_session_timeouts_or_foreign_protocols_are_refused() {
    let mut h = Harness::new();
    let (a, _) = h.stable_pair();
    let mut request = |session_timeout_ms: u64, protocol: &str| {
        h.send(GroupRequest::JoinGroup {
            group_id: "g".into(),
            session_timeout_ms,
            rebalance_timeout_ms: REBALANCE_MS,
            member_id: "".into(),
            group_instance_id: None,
            protocol_type: "consumer".into(),
            protocols: vec![Protocol { name: protocol.into(), metadata: Bytes::new() }],
            reason: None,
        })
    };
    let too_short = request(5_999, "range");
    let foreign = request(SESSION_MS, "roundrobin");
    assert_eq!(join_error(h.response(too_short)), Some(ErrorCode::InvalidSessionTimeout));
    assert_eq!(join_error(h.response(foreign)), Some(ErrorCode::InconsistentGroupProtocol));
    assert_eq!(h.heartbeat(&a, None, 1), None, "the group was not disturbed");
}

#[test]
fn offsets_of_a_group_empty_past_the_retention_expire_and_the_group_dies() {
    let mut h = Harness::new();
    let (a, b) = h.stable_pair();
    h.commit(&a, 1, 0, 5);
    for member in [&a, &b] {
        h.send(GroupRequest::LeaveGroup {
            group_id: "g".into(),
            members: vec![LeavingMember { member_id: member.clone(), group_instance_id: None }],
        });
    }
    assert_eq!(h.state(), GroupState::Empty);
    h.advance(h.coordinator.config().offsets_retention_ms() - 1_000_000);
    assert_eq!(h.fetch(0, false).0, Some(Offset(5)));
    h.advance(1_600_000);
    assert_eq!(h.fetch(0, false).0, None);
    assert_eq!(h.state(), GroupState::Dead);
    assert_eq!(h.log.iter().rev().take(2).filter(|(_, value)| value.is_none()).count(), 2, "two tombstones");
}

/// One scenario, with every output it produced as a line.
fn scenario_trace() -> Vec<String> {
    let mut h = Harness::new();
    let (a, b) = h.stable_pair();
    h.commit(&a, 1, 0, 3);
    h.advance(12_000);
    h.join_request(&a, None, b"sub-a");
    h.heartbeat(&b, None, 1);
    h.advance(40_000);
    h.trace
}

#[test]
fn the_same_inputs_give_the_same_outputs() {
    let first = scenario_trace();
    assert!(first.len() > 20);
    assert_eq!(first, scenario_trace());
}
