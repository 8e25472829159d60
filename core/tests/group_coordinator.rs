//! The group coordinator driven through realistic sequences: consumers joining, syncing,
//! heartbeating, going quiet, restarting as static members, committing offsets (plain and
//! transactional), and the coordinator failing over to another instance from the same records.

#[path = "group_coordinator/harness.rs"]
mod harness;

use bytes::Bytes;
use harness::*;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::group::protocol::{GroupRequest, GroupResponse, GroupState, LeavingMember, Protocol};
use kafkalab_core::group::records::{OffsetCommitValue, RecordKey};
use kafkalab_core::group::{GroupConfig, GroupCoordinator, GroupEvent, GroupOutput};
use kafkalab_core::ids::Offset;
use kafkalab_core::message::NodeId;
use std::sync::Arc;

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
fn a_failed_assignment_store_answers_the_sync_with_the_mapped_error_and_rebalances() {
    let mut h = Harness::new();
    h.auto_append = false;
    let (a, _) = h.join_new(b"a");
    let (b, _) = h.join_new(b"b");
    h.advance(FIRST_GENERATION_MS);
    let sync_b = h.sync(&b, 1, vec![]);
    let sync_a = h.sync(&a, 1, vec![(&a, b"x"), (&b, b"y")]);
    h.settle(Err(ErrorCode::NotLeaderOrFollower));
    assert_eq!(sync_error(h.response(sync_a)), Some(ErrorCode::NotCoordinator));
    assert_eq!(sync_error(h.response(sync_b)), Some(ErrorCode::NotCoordinator));
    assert_eq!(h.state(), GroupState::PreparingRebalance);
}

#[test]
fn unloading_answers_held_requests_with_not_coordinator_and_forgets_the_groups() {
    let mut h = Harness::new();
    let (_, join_a) = h.join_new(b"a");
    assert_eq!(h.response(join_a), None);
    h.coordinator.unload_partition(0);
    h.drain();
    assert_eq!(join_error(h.response(join_a)), Some(ErrorCode::NotCoordinator));
    assert!(h.coordinator.group("g").is_none());
    h.advance(60_000); // the group's timers fire harmlessly
    assert!(h.coordinator.group("g").is_none());
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
    coordinator.handle_request(0, NodeId::Client(kafkalab_core::ids::ClientId(1)), 1, describe("my-group"));
    coordinator.handle_request(0, NodeId::Client(kafkalab_core::ids::ClientId(1)), 2, describe("a")); // partition 47
    coordinator.load_partition(0, 12, Vec::new());
    coordinator.handle_request(0, NodeId::Client(kafkalab_core::ids::ClientId(1)), 3, describe("my-group"));
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

#[test]
fn commits_keep_a_member_alive_like_heartbeats() {
    let mut h = Harness::new();
    let (a, b) = h.stable_pair();
    for offset in 0..4 {
        h.advance(4_000);
        h.heartbeat(&a, None, 1);
        h.commit(&b, 1, 0, offset); // b only commits, never heartbeats
    }
    assert!(h.coordinator.group("g").unwrap().member(&b).is_some());
    h.advance(SESSION_MS);
    assert!(h.coordinator.group("g").unwrap().member(&b).is_none(), "silent at last, b times out");
}
