//! The consumer model against a scripted broker that is both the group's coordinator and every
//! partition's leader: joins, assignments, fetches, commits, crashes and rebalances, checked
//! record by record through what the application reports it processed.

mod consumer_harness;

use std::sync::Arc;

use consumer_harness::*;
use kafkalab_core::assignor::consumer_protocol::{encode_subscription, Subscription, HIGHEST_VERSION};
use kafkalab_core::assignor::AssignorName;
use kafkalab_core::consumer::{
    ApplicationConfig, AutoOffsetReset, CommitMode, ConsumerConfig, ConsumerEvent, ConsumerOutput, CrashPoint,
    MemberState,
};
use kafkalab_core::group::protocol::{GroupRequest, JoinedMember, MemberId};
use kafkalab_core::ids::{BrokerId, Offset};
use kafkalab_core::message::{AbortedTransaction, IsolationLevel};
use kafkalab_core::record_batch::TransactionResult;

#[test]
fn a_lone_consumer_leads_assigns_itself_every_partition_with_range_and_processes_from_committed_offsets_in_order() {
    let mut h = Harness::new(3, consumer(config(), ApplicationConfig::default()));
    h.broker.logs.insert(tp(0), vec![plain(0, 5)]);
    h.broker.logs.insert(tp(1), vec![plain(0, 2), plain(2, 1)]);
    h.broker.committed.insert(tp(0), (Offset(2), EPOCH));
    h.start();
    h.run_until(2_000);

    let joined = h.events().into_iter().find(|e| matches!(e, ConsumerEvent::Joined { .. })).unwrap();
    assert_eq!(
        joined,
        ConsumerEvent::Joined { generation_id: 1, member_id: member(1), leader: true, protocol: Arc::from("range") }
    );
    let (_, join) = h.requests("JoinGroup").pop().unwrap();
    let GroupRequest::JoinGroup { protocols, .. } = join else { unreachable!() };
    let names: Vec<&str> = protocols.iter().map(|p| &*p.name).collect();
    assert_eq!(names, ["range", "cooperative-sticky"], "Kafka's default partition.assignment.strategy, in order");
    assert_eq!(h.broker.assignments[&member(1)], [tp(0), tp(1), tp(2)], "the leader's SyncGroup gives it all");
    assert_eq!(h.consumer.assignment(), [tp(0), tp(1), tp(2)]);
    assert_eq!(h.consumer.state(), MemberState::Stable);

    let processed = h.processed();
    let of = |p: i32| processed.iter().filter(|(q, _)| *q == p).map(|(_, o)| *o).collect::<Vec<_>>();
    assert_eq!(of(0), [2, 3, 4], "partition 0 starts at its committed offset");
    assert_eq!(of(1), [0, 1, 2], "partition 1 has no committed offset: earliest");
    assert!(of(2).is_empty());
    assert!(h.events().contains(&ConsumerEvent::OffsetReset {
        partition: tp(1),
        strategy: AutoOffsetReset::Earliest,
        offset: Offset(0)
    }));
    let positions: Vec<i64> = h.consumer.positions().values().map(|o| o.0).collect();
    assert_eq!(positions, [5, 3, 0]);
    assert_eq!(h.consumer.records_processed(), 6);
    assert_eq!(h.consumer.lag()[&tp(0)], 0);
}

#[test]
fn with_no_committed_offset_auto_offset_reset_latest_starts_at_the_high_watermark() {
    let latest = ConsumerConfig::for_group("g");
    assert_eq!(latest.auto_offset_reset, AutoOffsetReset::Latest, "Kafka's default");
    let mut h = Harness::new(1, consumer(latest, ApplicationConfig::default()));
    h.broker.logs.insert(tp(0), vec![plain(0, 4)]);
    h.start();
    h.run_until(2_000);
    assert!(h.processed().is_empty(), "the records already written are skipped");
    assert_eq!(h.consumer.positions()[&tp(0)], Offset(4));
    assert!(h.events().contains(&ConsumerEvent::OffsetReset {
        partition: tp(0),
        strategy: AutoOffsetReset::Latest,
        offset: Offset(4)
    }));
}

#[test]
fn member_id_required_makes_the_consumer_join_again_with_the_id_it_was_given() {
    let mut h = Harness::new(1, consumer(config(), ApplicationConfig::default()));
    h.start();
    h.run_until(1_000);
    let member_ids: Vec<MemberId> = h
        .requests("JoinGroup")
        .into_iter()
        .map(|(_, r)| match r {
            GroupRequest::JoinGroup { member_id, .. } => member_id,
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(member_ids, [Arc::from(""), member(1)]);
    assert_eq!(h.consumer.member_id(), &member(1));
    assert_eq!(h.consumer.generation_id(), 1);
}

#[test]
fn a_crash_after_processing_before_committing_makes_a_successor_reprocess_exactly_the_records_since_the_last_commit() {
    let app = |crash| ApplicationConfig { commit: CommitMode::AfterProcessing, crash, ..ApplicationConfig::default() };
    let settings = ConsumerConfig { max_poll_records: 3, ..manual(config()) };
    let crash = Some(CrashPoint::AfterProcessingBeforeCommit { after_records: 5 });
    let mut h = Harness::new(1, consumer(settings.clone(), app(crash)));
    h.broker.logs.insert(tp(0), vec![plain(0, 10)]);
    h.start();
    h.run_until(5_000);

    assert_eq!(h.processed(), [(0, 0), (0, 1), (0, 2), (0, 3), (0, 4)]);
    assert_eq!(h.log.last().unwrap().1, ConsumerOutput::Crashed, "nothing after the crash");
    assert!(h.consumer.is_crashed());
    assert_eq!(h.committed(0), Some(3), "the commit after the first poll's three records is the last");
    assert_eq!(h.broker.committed[&tp(0)].1, EPOCH, "committed with the leader epoch of the last record");

    let crash_index = h.log.len();
    h.replace_consumer(consumer(settings, app(None)));
    h.run_until(10_000);
    let again = h.processed_since(crash_index);
    assert_eq!(again, (3..10).map(|o| (0, o)).collect::<Vec<_>>());
    let duplicates: Vec<i64> = again.iter().filter(|(_, o)| *o < 5).map(|(_, o)| *o).collect();
    assert_eq!(duplicates, [3, 4], "processed since the last commit: processed twice");
    assert_eq!(h.committed(0), Some(10));
}

#[test]
fn committing_before_processing_then_crashing_commits_offsets_of_records_never_processed() {
    let app = |crash| ApplicationConfig { commit: CommitMode::BeforeProcessing, crash, ..ApplicationConfig::default() };
    let settings = ConsumerConfig { max_poll_records: 3, ..manual(config()) };
    let crash = Some(CrashPoint::AfterCommitBeforeProcessing { after_records: 5 });
    let mut h = Harness::new(1, consumer(settings.clone(), app(crash)));
    h.broker.logs.insert(tp(0), vec![plain(0, 10)]);
    h.start();
    h.run_until(5_000);

    assert_eq!(h.processed().len(), 6, "two polls of three were processed");
    assert_eq!(h.committed(0), Some(9), "the third poll's records were committed, then the application died");
    assert_eq!(h.log.last().unwrap().1, ConsumerOutput::Crashed);

    let crash_index = h.log.len();
    h.replace_consumer(consumer(settings, app(None)));
    h.run_until(10_000);
    assert_eq!(h.processed_since(crash_index), [(0, 9)], "the successor starts after the lost records");
    let all: Vec<i64> = h.processed().iter().map(|(_, o)| *o).collect();
    let lost: Vec<i64> = (0..10).filter(|o| !all.contains(o)).collect();
    assert_eq!(lost, [6, 7, 8], "committed, never processed: at most once");
}

#[test]
fn rebalance_in_progress_on_heartbeat_makes_an_eager_member_commit_and_revoke_everything_before_rejoining() {
    let mut h = Harness::new(2, consumer(config(), ApplicationConfig::default()));
    h.broker.logs.insert(tp(0), vec![plain(0, 4)]);
    h.broker.logs.insert(tp(1), vec![plain(0, 4)]);
    h.start();
    h.run_until(2_000);
    assert_eq!(h.processed().len(), 8);
    let before = h.log.len();
    h.broker.rebalance_pending = true;
    h.run_until(4_000);

    let rejoin = h.position_of(before, |o| matches!(o, ConsumerOutput::Event(ConsumerEvent::RejoinNeeded { .. })));
    let commit = h.position_of(before, |o| is_group_send(o, "OffsetCommit")).unwrap();
    let revoke = h.position_of(before, |o| matches!(o, ConsumerOutput::Event(ConsumerEvent::Revoked { .. }))).unwrap();
    let join = h.position_of(before, |o| is_group_send(o, "JoinGroup")).unwrap();
    assert!(rejoin.unwrap() < commit && commit < revoke && revoke < join, "rejoin, commit, revoke, then join");
    assert_eq!(h.log[revoke].1, ConsumerOutput::Event(ConsumerEvent::Revoked { partitions: vec![tp(0), tp(1)] }));
    assert_eq!((h.committed(0), h.committed(1)), (Some(4), Some(4)));
    assert_eq!(h.consumer.generation_id(), 2);
    assert_eq!(h.consumer.assignment(), [tp(0), tp(1)]);
    assert_eq!(h.processed().len(), 8, "nothing is processed twice: the commit preceded the revocation");
}

#[test]
fn a_cooperative_sticky_member_revokes_only_the_partitions_it_lost_and_then_rejoins() {
    let settings = ConsumerConfig { partition_assignment_strategy: vec![AssignorName::CooperativeSticky], ..config() };
    let mut h = Harness::new(4, consumer(settings, ApplicationConfig::default()));
    h.start();
    h.run_until(1_000);
    assert_eq!(h.consumer.assignment().len(), 4);

    let newcomer = Subscription::new([Arc::from(TOPIC)]);
    h.broker.other_members.push(JoinedMember {
        member_id: Arc::from("member-z"),
        group_instance_id: None,
        metadata: encode_subscription(&newcomer, HIGHEST_VERSION),
    });
    h.broker.rebalance_pending = true;
    let before = h.log.len();
    h.run_until(5_000);

    let joined_2 = h
        .position_of(before, |o| matches!(o, ConsumerOutput::Event(ConsumerEvent::Joined { generation_id: 2, .. })))
        .unwrap();
    let revoke = h.position_of(before, |o| matches!(o, ConsumerOutput::Event(ConsumerEvent::Revoked { .. }))).unwrap();
    assert!(joined_2 < revoke, "nothing is revoked before the join: the member keeps consuming");
    let ConsumerOutput::Event(ConsumerEvent::Revoked { partitions }) = &h.log[revoke].1 else { unreachable!() };
    assert_eq!(partitions.len(), 2, "only the two partitions the newcomer gets");
    assert!(h.position_of(revoke, |o| is_group_send(o, "JoinGroup")).is_some(), "it rejoins after revoking");
    assert_eq!(h.consumer.generation_id(), 3);
    let mut kept = h.consumer.assignment();
    kept.extend(h.broker.assignments[&Arc::from("member-z")].iter().cloned());
    kept.sort();
    assert_eq!(kept, [tp(0), tp(1), tp(2), tp(3)], "generation 3 hands the revoked partitions to the newcomer");
    assert_eq!(h.consumer.assignment().len(), 2);
    assert!(!h.events().iter().any(|e| matches!(e, ConsumerEvent::Lost { .. })));
}

/// Offsets 0-1 plain, 2-3 aborted by producer 7 (marker at 4), 5 plain, 6-7 committed by
/// producer 8 (marker at 8), 9 plain.
fn transactional_log(h: &mut Harness) {
    h.broker.logs.insert(
        tp(0),
        vec![
            plain(0, 2),
            batch(2, 2, Some(7)),
            marker(4, 7, TransactionResult::Abort),
            plain(5, 1),
            batch(6, 2, Some(8)),
            marker(8, 8, TransactionResult::Commit),
            plain(9, 1),
        ],
    );
    h.broker.aborted.insert(tp(0), vec![AbortedTransaction { producer_id: 7, first_offset: Offset(2) }]);
}

#[test]
fn read_committed_skips_aborted_transactions_and_control_batches_while_read_uncommitted_returns_aborted_records() {
    let mut offsets = Vec::new();
    for isolation_level in [IsolationLevel::ReadCommitted, IsolationLevel::ReadUncommitted] {
        let mut h =
            Harness::new(1, consumer(ConsumerConfig { isolation_level, ..config() }, ApplicationConfig::default()));
        transactional_log(&mut h);
        h.start();
        h.run_until(2_000);
        assert_eq!(h.consumer.positions()[&tp(0)], Offset(10), "the position passes every batch");
        offsets.push(h.processed().into_iter().map(|(_, o)| o).collect::<Vec<_>>());
    }
    assert_eq!(offsets[0], [0, 1, 5, 6, 7, 9], "read_committed");
    assert_eq!(offsets[1], [0, 1, 2, 3, 5, 6, 7, 9], "read_uncommitted: aborted records too, markers never");
}

#[test]
fn processing_longer_than_max_poll_interval_makes_the_member_leave_fail_its_commit_and_rejoin_as_new() {
    let settings = ConsumerConfig { max_poll_interval_ms: 1_000, max_poll_records: 3, ..manual(config()) };
    let app = ApplicationConfig { processing_ms: 600, commit: CommitMode::AfterProcessing, crash: None };
    let mut h = Harness::new(1, consumer(settings, app));
    h.broker.logs.insert(tp(0), vec![plain(0, 3)]);
    h.start();
    h.run_until(2_500);

    let polled_ms =
        h.log.iter().find(|(_, o)| *o == ConsumerOutput::Event(ConsumerEvent::Polled { records: 3 })).unwrap().0;
    let leaves = h.requests("LeaveGroup");
    assert_eq!(leaves.len(), 1);
    assert_eq!(leaves[0].0, polled_ms + 1_000, "max.poll.interval.ms after the poll, mid-processing");
    assert!(h.events().contains(&ConsumerEvent::PollTimeoutExpired));
    assert!(h.events().contains(&ConsumerEvent::CommitFailed { error: None }), "commitSync out of the group fails");
    assert!(h.requests("OffsetCommit").is_empty(), "and sends nothing");
    assert!(h.events().contains(&ConsumerEvent::Lost { partitions: vec![tp(0)] }), "lost, not revoked");
    let last_join = h.requests("JoinGroup").pop().unwrap();
    assert!(last_join.0 > leaves[0].0);
    assert!(
        matches!(last_join.1, GroupRequest::JoinGroup { ref member_id, .. } if member_id.is_empty() || **member_id == *"member-2")
    );
    assert_eq!(h.consumer.member_id(), &member(2), "a new member id");
}

#[test]
fn a_static_member_closes_without_leave_group_while_a_dynamic_member_sends_one_after_committing() {
    for instance in [Some(Arc::from("instance-a")), None] {
        let settings = ConsumerConfig { group_instance_id: instance.clone(), ..config() };
        let mut h = Harness::new(1, consumer(settings, ApplicationConfig::default()));
        h.broker.logs.insert(tp(0), vec![plain(0, 2)]);
        h.start();
        h.run_until(1_000);
        let before = h.log.len();
        h.close();
        h.run_until(1_100);
        let commit = h.position_of(before, |o| is_group_send(o, "OffsetCommit")).expect("auto commit on close");
        let leave = h.position_of(before, |o| is_group_send(o, "LeaveGroup"));
        match instance {
            Some(_) => assert_eq!(leave, None, "a static member keeps its place until its session ends"),
            None => assert!(leave.unwrap() > commit, "LeaveGroup waits for the commit"),
        }
        assert_eq!(h.committed(0), Some(2));
        assert!(h.consumer.is_closed());
        assert_eq!(h.events().last(), Some(&ConsumerEvent::Closed));
    }
}

#[test]
fn auto_commit_commits_the_consumed_positions_every_auto_commit_interval() {
    let mut h = Harness::new(1, consumer(config(), ApplicationConfig::default()));
    h.broker.logs.insert(tp(0), vec![plain(0, 5)]);
    h.start();
    h.run_until(16_000);
    let commits: Vec<(u64, Offset)> = h
        .requests("OffsetCommit")
        .into_iter()
        .map(|(at, r)| match r {
            GroupRequest::OffsetCommit { offsets, .. } => (at, offsets[0].offset),
            _ => unreachable!(),
        })
        .collect();
    assert_eq!(commits, [(5_000, Offset(5)), (10_000, Offset(5)), (15_000, Offset(5))]);
}

#[test]
fn an_auto_commit_due_during_processing_waits_for_the_next_poll_and_covers_only_processed_records() {
    let app = ApplicationConfig { processing_ms: 1_000, ..ApplicationConfig::default() };
    let mut h = Harness::new(1, consumer(config(), app));
    h.broker.logs.insert(tp(0), vec![plain(0, 8)]);
    h.start();
    h.run_until(12_000);
    let (at, request) = h.requests("OffsetCommit").into_iter().next().unwrap();
    let GroupRequest::OffsetCommit { offsets, .. } = request else { unreachable!() };
    let processing_done_ms =
        h.log.iter().filter(|(_, o)| matches!(o, ConsumerOutput::Processed { .. })).last().unwrap().0;
    assert!(at > 5_000, "not at the interval: the application was processing");
    assert_eq!(at, processing_done_ms, "at the poll right after the last record");
    assert_eq!(offsets[0].offset, Offset(8));
}

#[test]
fn the_same_inputs_give_the_same_outputs() {
    let run = || {
        let mut h = Harness::new(2, consumer(config(), ApplicationConfig::default()));
        h.broker.logs.insert(tp(0), vec![plain(0, 3)]);
        h.broker.logs.insert(tp(1), vec![plain(0, 3)]);
        h.start();
        h.run_until(3_000);
        h.broker.rebalance_pending = true;
        h.run_until(8_000);
        format!("{:?}", h.log)
    };
    assert_eq!(run(), run());
}

/// A harness whose partitions are led by `leader` and whose group is coordinated by
/// `coordinator`, among brokers 1 to 3.
fn spread(partitions: i32, consumer: kafkalab_core::consumer::Consumer, leader: i32, coordinator: i32) -> Harness {
    let mut h = Harness::new(partitions, consumer);
    h.cluster.leader = BrokerId(leader);
    h.cluster.coordinator = BrokerId(coordinator);
    h.cluster.brokers = vec![BrokerId(1), BrokerId(2), BrokerId(3)];
    h
}

#[test]
fn a_broken_connection_fails_the_fetch_to_it_and_fetches_again_from_the_new_leader_after_the_backoff() {
    let mut h = spread(1, consumer(config(), ApplicationConfig::default()), 1, 3);
    h.broker.logs.insert(tp(0), vec![plain(0, 3)]);
    h.start();
    h.run_until(2_000);
    assert_eq!(h.processed(), [(0, 0), (0, 1), (0, 2)]);
    let killed_at = h.log.len();
    h.cluster.leader = BrokerId(2);
    h.kill(BrokerId(1)); // with a fetch waiting there for new records
    let events = h.events();
    assert!(events.contains(&ConsumerEvent::Disconnected { broker: BrokerId(1), requests: 1 }), "{events:?}");
    assert!(!events.iter().any(|e| matches!(e, ConsumerEvent::CoordinatorLost { .. })), "broker 3 coordinates");
    h.broker.logs.insert(tp(0), vec![plain(0, 3), plain(3, 2)]);
    h.run_until(3_000);
    let fetches = h.sent_since(killed_at, "ConsumerFetch");
    assert_eq!(fetches[0], (2_100, BrokerId(2)), "after retry.backoff.ms, to the new leader");
    assert!(fetches.iter().all(|(_, broker)| *broker == BrokerId(2)));
    assert_eq!(h.processed_since(killed_at), [(0, 3), (0, 4)]);
}

#[test]
fn losing_the_coordinator_stops_heartbeats_until_the_new_one_is_found_and_the_member_stays_in_its_generation() {
    let mut h = spread(1, consumer(config(), ApplicationConfig::default()), 2, 1);
    h.broker.logs.insert(tp(0), vec![plain(0, 3)]);
    h.start();
    h.run_until(4_000);
    assert_eq!(h.consumer.state(), MemberState::Stable);
    let (member, generation) = (h.consumer.member_id().clone(), h.consumer.generation_id());
    let killed_at = h.log.len();
    h.cluster.coordinator = BrokerId(3);
    h.kill(BrokerId(1));
    assert!(h.events().contains(&ConsumerEvent::CoordinatorLost { broker: BrokerId(1) }));
    assert_eq!(h.consumer.coordinator(), None);
    h.broker.logs.insert(tp(0), vec![plain(0, 3), plain(3, 2)]);
    h.run_until(12_000);
    let finds = h.sent_since(killed_at, "FindCoordinator");
    assert_eq!(finds[0].0, 4_100, "looked up again after retry.backoff.ms");
    assert!(h.events().contains(&ConsumerEvent::CoordinatorFound { broker: BrokerId(3) }));
    let heartbeats = h.sent_since(killed_at, "Heartbeat");
    assert!(!heartbeats.is_empty() && heartbeats.iter().all(|(_, b)| *b == BrokerId(3)), "{heartbeats:?}");
    assert!(h.sent_since(killed_at, "JoinGroup").is_empty(), "no rebalance: the group moved with its log");
    assert_eq!((h.consumer.member_id(), h.consumer.generation_id()), (&member, generation));
    assert_eq!(h.processed_since(killed_at), [(0, 3), (0, 4)], "fetching went on meanwhile");
}

#[test]
fn a_join_in_flight_when_the_coordinator_dies_is_sent_again_to_the_new_one_at_once_not_after_its_timeout() {
    let mut h = spread(1, consumer(config(), ApplicationConfig::default()), 2, 1);
    h.broker.logs.insert(tp(0), vec![plain(0, 3)]);
    h.broker.silent = vec!["JoinGroup"];
    h.start();
    h.run_until(1_000);
    assert_eq!(h.consumer.state(), MemberState::Joining);
    h.broker.silent.clear();
    h.cluster.coordinator = BrokerId(3);
    h.kill(BrokerId(1));
    assert_eq!(h.consumer.state(), MemberState::Unjoined, "the join failed with the connection");
    h.run_until(2_000);
    let joins: Vec<BrokerId> = h.sent_since(0, "JoinGroup").into_iter().map(|(_, b)| b).collect();
    assert_eq!(joins, [BrokerId(1), BrokerId(3), BrokerId(3)], "again, at the new coordinator (KIP-394 twice)");
    assert_eq!(h.consumer.state(), MemberState::Stable);
    assert_eq!(h.processed(), [(0, 0), (0, 1), (0, 2)]);
}

#[test]
fn a_commit_sync_in_flight_when_the_coordinator_dies_is_stored_by_the_new_one() {
    let app = ApplicationConfig { commit: CommitMode::AfterProcessing, ..ApplicationConfig::default() };
    let mut h = spread(1, consumer(manual(config()), app), 2, 1);
    h.broker.logs.insert(tp(0), vec![plain(0, 3)]);
    h.broker.silent = vec!["OffsetCommit"];
    h.start();
    h.run_until(1_000);
    assert_eq!(h.sent_since(0, "OffsetCommit").len(), 1, "the commit after processing waits for its answer");
    assert_eq!(h.committed(0), None);
    h.broker.silent.clear();
    h.cluster.coordinator = BrokerId(3);
    h.kill(BrokerId(1));
    h.run_until(2_000);
    let commits: Vec<BrokerId> = h.sent_since(0, "OffsetCommit").into_iter().map(|(_, b)| b).collect();
    assert_eq!(commits[..2], [BrokerId(1), BrokerId(3)], "sent again to the new coordinator");
    assert_eq!(h.committed(0), Some(3));
    assert!(h.events().contains(&ConsumerEvent::Committed { offsets: vec![(tp(0), Offset(3))] }));
}
