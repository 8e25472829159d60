//! The walking skeleton's replication story, told as scenarios: a record reaches the leader,
//! followers fetch it, the high watermark moves; a dead leader is replaced from the ISR after
//! the session timeout; a restarted broker catches up and rejoins the ISR. (Truncation of a
//! divergent tail is told at the broker level, in `follower_truncation.rs`.)

mod scenario;

use scenario::{lab, lab_with, run};

use kafkalab_core::config::ControllerLayout;
use kafkalab_core::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};
use kafkalab_core::simulation::CommandError;
use kafkalab_core::trace::TraceEvent;
use kafkalab_core::view::{BrokerStatus, ClusterView, PartitionView};
use kafkalab_core::{ClusterConfig, Command, Simulation};

/// The controllers on nodes of their own, for stories about brokers alone.
fn lab_with_dedicated_controllers() -> Simulation {
    lab_with(ClusterConfig { controller_layout: ControllerLayout::Dedicated, ..ClusterConfig::default() })
}

fn partition(view: &ClusterView, index: i32) -> &PartitionView {
    view.partition(&TopicPartition::new("orders", index)).expect("orders has 3 partitions")
}

fn offsets(view: &ClusterView, index: i32) -> Vec<(i32, i64, i64)> {
    partition(view, index).replicas.iter().map(|r| (r.broker.0, r.log_end_offset.0, r.high_watermark.0)).collect()
}

#[test]
fn the_lab_starts_with_preferred_leaders_and_full_isrs() {
    let view = lab().view();
    assert_eq!(view.brokers.len(), 3);
    assert!(view.brokers.iter().all(|b| b.status == BrokerStatus::Alive));
    for (index, leader) in [(0, 1), (1, 2), (2, 3)] {
        let p = partition(&view, index);
        assert_eq!(p.leader, Some(BrokerId(leader)));
        assert_eq!(p.isr.len(), 3);
        assert_eq!(p.leader_epoch, LeaderEpoch(0));
    }
}

#[test]
fn a_produced_record_is_appended_by_the_leader_and_fetched_by_followers() {
    let mut sim = lab();
    run(&mut sim, "produce orders partition=0 value=first acks=all");
    sim.advance(5);
    // The leader has it before anyone else.
    let leader_log_end = partition(&sim.view(), 0).replicas[0].log_end_offset;
    assert_eq!(leader_log_end, Offset(1));
    sim.advance(1_000);
    assert_eq!(offsets(&sim.view(), 0), vec![(1, 1, 1), (2, 1, 1), (3, 1, 1)]);
    let follower_log = &sim.broker(BrokerId(3)).unwrap().replica(&TopicPartition::new("orders", 0)).unwrap().log;
    assert_eq!(follower_log.records().next().unwrap().value.as_deref(), Some(&b"first"[..]));
}

#[test]
fn the_high_watermark_waits_for_every_in_sync_replica_and_then_acks_all() {
    let mut sim = lab();
    run(&mut sim, "produce orders partition=1 value=x acks=all");
    let mut hw_before_followers = None;
    while sim.step() {
        let view = sim.view();
        let p = partition(&view, 1);
        let leader = p.replicas.iter().find(|r| r.is_leader).unwrap();
        let followers_have_it = p.replicas.iter().all(|r| r.log_end_offset == Offset(1));
        if leader.high_watermark == Offset(1) {
            hw_before_followers.get_or_insert(!followers_have_it);
            break;
        }
    }
    assert_eq!(hw_before_followers, Some(false), "HW moved before every ISR member had the record");
    sim.advance(100);
    let acked = sim.trace().iter().any(|l| matches!(&l.event, TraceEvent::ProduceAcked { offset: Offset(0), .. }));
    assert!(acked, "acks=all is answered once the HW covers the record");
}

#[test]
fn acks_one_is_answered_by_the_leader_alone() {
    let mut sim = lab();
    run(&mut sim, "kill 2");
    run(&mut sim, "kill 3");
    // Partition 0's followers are down but not yet fenced: the ISR still names them.
    run(&mut sim, "produce orders partition=0 value=lonely acks=1");
    run(&mut sim, "produce orders partition=0 value=waiting acks=all");
    sim.advance(1_000);
    // The two may reach the leader in either order; only the acks=1 write is acknowledged.
    let acked: Vec<&[u8]> = sim.acknowledged().iter().filter_map(|w| w.value.as_deref()).collect();
    assert_eq!(acked, [&b"lonely"[..]]);
    assert_eq!(partition(&sim.view(), 0).replicas[0].log_end_offset, Offset(2), "both were appended");
    assert_eq!(partition(&sim.view(), 0).replicas[0].high_watermark, Offset(0));
}

#[test]
fn a_dead_leader_is_replaced_from_the_isr_only_after_the_session_timeout() {
    // The session timeout alone, with no controller failover in the way.
    let mut sim = lab_with_dedicated_controllers();
    run(&mut sim, "kill 1");
    assert_eq!(sim.view().broker(BrokerId(1)).unwrap().status, BrokerStatus::Dead);
    sim.advance(8_000); // broker.session.timeout.ms is 9000: not yet
    assert_eq!(partition(&sim.view(), 0).leader, Some(BrokerId(1)));
    sim.advance(3_000);
    let view = sim.view();
    let p0 = partition(&view, 0);
    assert_eq!(p0.leader, Some(BrokerId(2)), "the next in-sync replica in assignment order");
    assert_eq!(p0.leader_epoch, LeaderEpoch(1));
    assert_eq!(p0.isr, vec![BrokerId(2), BrokerId(3)]);
    // Broker 1 also left the ISR of partitions it only followed; their leaders stay.
    let p1 = partition(&view, 1);
    assert_eq!(
        (p1.leader, p1.leader_epoch, p1.isr.clone()),
        (Some(BrokerId(2)), LeaderEpoch(0), vec![BrokerId(2), BrokerId(3)])
    );
    // And the new leader serves writes.
    run(&mut sim, "produce orders partition=0 value=after acks=all");
    sim.advance(1_000);
    assert_eq!(offsets(&sim.view(), 0), vec![(1, 0, 0), (2, 1, 1), (3, 1, 1)]);
}

#[test]
fn a_restarted_broker_catches_up_and_rejoins_the_isr() {
    let mut sim = lab();
    run(&mut sim, "kill 3");
    sim.advance(10_000);
    for value in ["a", "b", "c"] {
        run(&mut sim, &format!("produce orders partition=2 value={value} acks=all"));
    }
    sim.advance(1_000);
    let p2 = partition(&sim.view(), 2).clone();
    assert_eq!(p2.leader, Some(BrokerId(1)));
    assert!(!p2.isr.contains(&BrokerId(3)));
    run(&mut sim, "restart 3");
    sim.advance(2_000);
    let view = sim.view();
    assert_eq!(view.broker(BrokerId(3)).unwrap().status, BrokerStatus::Alive);
    let p2 = partition(&view, 2);
    assert_eq!(p2.isr, vec![BrokerId(3), BrokerId(1), BrokerId(2)], "back in the ISR, in assignment order");
    assert_eq!(p2.leader, Some(BrokerId(1)), "no automatic move back to the preferred leader yet");
    assert!(p2.replicas.iter().all(|r| r.log_end_offset == Offset(3)));
}

#[test]
fn killing_a_dead_broker_or_restarting_a_live_one_is_refused() {
    let mut sim = lab();
    assert_eq!(sim.apply(&Command::parse("restart 1").unwrap()), Err(CommandError::AlreadyAlive(BrokerId(1).into())));
    assert_eq!(sim.apply(&Command::parse("kill 9").unwrap()), Err(CommandError::UnknownBroker(BrokerId(9))));
    sim.apply(&Command::parse("kill 1").unwrap()).unwrap();
    assert_eq!(sim.apply(&Command::parse("kill 1").unwrap()), Err(CommandError::AlreadyDead(BrokerId(1).into())));
    assert!(matches!(sim.apply(&Command::parse("produce nope").unwrap()), Err(CommandError::UnknownTopic(_))));
}

#[test]
fn keyed_records_land_where_the_java_client_would_put_them() {
    let mut sim = lab();
    run(&mut sim, "produce orders key=alice value=1");
    sim.advance(1_000);
    let expected = kafkalab_core::partitioner::partition_for_key(b"alice", 3);
    let view = sim.view();
    for index in 0..3 {
        let leader_end = partition(&view, index).replicas[0].log_end_offset;
        assert_eq!(leader_end == Offset(1), index == expected, "partition {index}");
    }
}

#[test]
fn a_leader_that_restarts_before_its_session_expires_hands_over_and_the_cluster_recovers() {
    let mut sim = lab();
    run(&mut sim, "kill 1");
    sim.advance(2_000);
    run(&mut sim, "restart 1");
    sim.advance(3_000);
    let view = sim.view();
    let p0 = partition(&view, 0);
    assert_eq!(p0.leader, Some(BrokerId(2)), "the old incarnation's leadership moved on");
    assert_eq!(p0.leader_epoch, LeaderEpoch(1));
    run(&mut sim, "produce orders partition=0 value=after-restart acks=all");
    sim.advance(2_000);
    let view = sim.view();
    let p0 = partition(&view, 0);
    assert_eq!(p0.isr.len(), 3, "broker 1 caught up and rejoined");
    assert!(p0.replicas.iter().all(|r| r.log_end_offset == Offset(1) && r.high_watermark == Offset(1)));
}

#[test]
fn every_quick_restart_counts_as_unclean_not_only_the_first() {
    let mut sim = lab();
    for round in 0..3 {
        run(&mut sim, "kill 1");
        sim.advance(1_000);
        run(&mut sim, "restart 1");
        sim.advance(5_000);
        let view = sim.view();
        assert_eq!(partition(&view, 0).isr.len(), 3, "round {round}: broker 1 rejoined");
        assert!(view.partitions.iter().all(|p| p.leader.is_some()), "round {round}: every partition has a leader");
    }
    let unclean = sim.trace().iter().filter(|l| l.to_string().contains("registered again after an unclean restart"));
    assert_eq!(unclean.count(), 3);
}

#[test]
fn a_leader_cut_off_from_its_followers_shrinks_its_isr_after_the_replica_lag_time() {
    let mut sim = lab_with_dedicated_controllers();
    run(&mut sim, "split 1 | 2 3"); // the controllers, unnamed, still reach everyone
    sim.advance(20_000);
    assert_eq!(partition(&sim.view(), 0).isr.len(), 3, "replica.lag.time.max.ms (30 s) has not passed");
    sim.advance(30_000);
    let view = sim.view();
    let p0 = partition(&view, 0);
    assert_eq!((p0.leader, p0.isr.clone()), (Some(BrokerId(1)), vec![BrokerId(1)]), "its followers were dropped");
    let p1 = partition(&view, 1);
    assert_eq!(
        (p1.leader, p1.isr.clone()),
        (Some(BrokerId(2)), vec![BrokerId(2), BrokerId(3)]),
        "1 cannot fetch from 2"
    );
    // With min.insync.replicas=1, the lone leader acknowledges acks=all writes by itself.
    run(&mut sim, "produce orders partition=0 value=alone acks=all");
    sim.advance(100);
    assert!(sim.trace().iter().any(|l| matches!(l.event, TraceEvent::ProduceAcked { offset: Offset(0), .. })));
    run(&mut sim, "heal");
    sim.advance(40_000);
    assert!(sim.view().partitions.iter().all(|p| p.isr.len() == 3), "after the heal everyone catches up");
}

#[test]
fn a_broker_cut_off_from_the_controller_is_fenced_while_it_still_believes_it_leads() {
    let mut sim = lab_with_dedicated_controllers();
    run(&mut sim, "split 1 | 2 3 controller"); // `controller`: every controller
    sim.advance(10_000);
    let view = sim.view();
    assert_eq!(view.broker(BrokerId(1)).unwrap().status, BrokerStatus::Fenced);
    let p0 = partition(&view, 0);
    assert_eq!((p0.leader, p0.leader_epoch), (Some(BrokerId(2)), LeaderEpoch(1)));
    // Broker 1 has not heard of it: it still leads orders/0 at epoch 0, a zombie leader whose
    // followers have moved to the new epoch.
    let tp = TopicPartition::new("orders", 0);
    let zombie = sim.broker(BrokerId(1)).unwrap().replica(&tp).unwrap();
    assert!(zombie.is_leader());
    assert_eq!(zombie.leader_epoch(), LeaderEpoch(0));
    run(&mut sim, "produce orders partition=0 value=after-split acks=all");
    run(&mut sim, "heal");
    sim.advance(5_000);
    let view = sim.view();
    assert_eq!(view.broker(BrokerId(1)).unwrap().status, BrokerStatus::Alive);
    let follower = sim.broker(BrokerId(1)).unwrap().replica(&tp).unwrap();
    assert!(!follower.is_leader(), "the old leader learned the new epoch and follows");
    assert_eq!(follower.log.log_end_offset(), Offset(1));
    assert_eq!(partition(&view, 0).isr.len(), 3);
}
