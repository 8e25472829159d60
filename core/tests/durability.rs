//! What acknowledged writes survive, told as the lab tells it: `acks=1` loses exactly what the
//! old leader had not replicated; `acks=all` with `min.insync.replicas=2` loses nothing;
//! `min.insync.replicas` refuses writes before and after the append; an unclean election loses
//! committed records, and without it the partition waits instead.
//!
//! These are stories about brokers alone: the controllers run on nodes of their own (the
//! dedicated layout), out of the way of the kills and splits, which name brokers only.

mod scenario;

use scenario::{produce_errors, run};

/// A running lab with dedicated controllers: these stories are about brokers alone.
fn lab_with(config: ClusterConfig) -> Simulation {
    scenario::lab_with(ClusterConfig { controller_layout: ControllerLayout::Dedicated, ..config })
}

use kafkalab_core::config::ControllerLayout;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::ids::{BrokerId, Offset, TopicPartition};
use kafkalab_core::metadata::ElectionKind;
use kafkalab_core::trace::TraceEvent;
use kafkalab_core::{ClusterConfig, Simulation};

fn lost_offsets(simulation: &Simulation) -> Vec<i64> {
    let mut offsets: Vec<i64> = simulation.lost_writes().iter().map(|w| w.offset.0).collect();
    offsets.sort_unstable();
    offsets
}

/// The offsets acknowledged, in offset order (answers sent together may arrive in any order).
fn acked_offsets(simulation: &Simulation) -> Vec<i64> {
    let mut offsets: Vec<i64> = simulation.acknowledged().iter().map(|w| w.offset.0).collect();
    offsets.sort_unstable();
    offsets
}

#[test]
fn acks_1_loses_exactly_the_records_the_old_leader_had_not_replicated() {
    let mut sim = lab_with(ClusterConfig::default());
    run(&mut sim, "produce orders partition=0 value=before acks=1");
    sim.advance(1_000); // replicated to 2 and 3
                        // Broker 1 still leads orders/0 but can reach neither its followers nor the controller.
    run(&mut sim, "split 1 | 2 3 controller");
    for value in ["a", "b", "c"] {
        run(&mut sim, &format!("produce orders partition=0 value={value} acks=1"));
    }
    sim.advance(100);
    assert_eq!(acked_offsets(&sim), [0, 1, 2, 3], "the leader acknowledged all four alone");
    sim.advance(10_000); // fenced; broker 2 leads from the ISR
    run(&mut sim, "heal");
    sim.advance(2_000);
    assert_eq!(lost_offsets(&sim), [1, 2, 3], "exactly the three it never replicated");
    let tp = TopicPartition::new("orders", 0);
    assert_eq!(sim.broker(BrokerId(1)).unwrap().replica(&tp).unwrap().log.log_end_offset(), Offset(1), "truncated");
}

#[test]
fn acks_all_with_min_insync_2_loses_nothing_in_the_same_failure() {
    let config = ClusterConfig { min_insync_replicas: 2, ..ClusterConfig::default() };
    let mut sim = lab_with(config);
    run(&mut sim, "produce orders partition=0 value=before acks=all");
    sim.advance(1_000);
    run(&mut sim, "split 1 | 2 3 controller");
    for value in ["a", "b", "c"] {
        run(&mut sim, &format!("produce orders partition=0 value={value} acks=all"));
    }
    sim.advance(10_000);
    run(&mut sim, "heal");
    sim.advance(40_000);
    assert_eq!(acked_offsets(&sim), [0], "no follower had them, so they were never acknowledged");
    assert!(lost_offsets(&sim).is_empty());
    // The producer heard why: the deposed leader gave up on them, or the requests timed out.
    let failed = produce_errors(&sim);
    assert_eq!(failed.len(), 3, "{failed:?}");
    assert!(failed.iter().all(|e| matches!(e, ErrorCode::NotLeaderOrFollower | ErrorCode::RequestTimedOut)));
}

#[test]
fn min_insync_replicas_refuses_acks_all_when_the_isr_is_too_small() {
    let config = ClusterConfig { min_insync_replicas: 2, ..ClusterConfig::default() };
    let mut sim = lab_with(config);
    run(&mut sim, "kill 2");
    run(&mut sim, "kill 3");
    sim.advance(10_000); // both fenced: orders/0's ISR is [1]
    run(&mut sim, "produce orders partition=0 value=refused acks=all");
    run(&mut sim, "produce orders partition=0 value=taken acks=1");
    sim.advance(100);
    assert_eq!(produce_errors(&sim), [ErrorCode::NotEnoughReplicas], "refused before the append");
    assert_eq!(acked_offsets(&sim), [0], "acks=1 does not ask for min.insync.replicas");
}

#[test]
fn a_topics_own_min_insync_replicas_overrides_the_clusters() {
    let mut sim = lab_with(ClusterConfig::default());
    run(&mut sim, "create-topic strict partitions=1 replication-factor=3 min.insync.replicas=2");
    sim.advance(2_000);
    run(&mut sim, "kill 2");
    run(&mut sim, "kill 3");
    sim.advance(10_000); // both fenced: every ISR is [1]
    run(&mut sim, "produce strict partition=0 value=refused acks=all");
    run(&mut sim, "produce orders partition=0 value=taken acks=all");
    sim.advance(100);
    assert_eq!(produce_errors(&sim), [ErrorCode::NotEnoughReplicas], "strict asks for two in-sync replicas");
    assert_eq!(acked_offsets(&sim), [0], "orders keeps the cluster's min.insync.replicas=1");
}

#[test]
fn a_write_appended_before_the_isr_shrank_fails_after_the_append() {
    let config = ClusterConfig { min_insync_replicas: 2, request_timeout_ms: 120_000, ..ClusterConfig::default() };
    let mut sim = lab_with(config);
    run(&mut sim, "split 1 | 2 3"); // the leader keeps the controller, loses its followers
    run(&mut sim, "produce orders partition=0 value=stranded acks=all");
    sim.advance(60_000); // replica.lag.time.max.ms passes; the ISR shrinks to [1]
    assert_eq!(produce_errors(&sim), [ErrorCode::NotEnoughReplicasAfterAppend]);
    assert!(sim.acknowledged().is_empty());
}

#[test]
fn an_unclean_election_loses_committed_records_and_a_clean_one_waits() {
    for unclean in [true, false] {
        let config = ClusterConfig { unclean_leader_election_enable: unclean, ..ClusterConfig::default() };
        let mut sim = lab_with(config);
        run(&mut sim, "kill 2");
        sim.advance(10_000); // orders/0's ISR is [1 3]
        run(&mut sim, "kill 3");
        sim.advance(10_000); // ISR [1]
        for value in ["x", "y"] {
            run(&mut sim, &format!("produce orders partition=0 value={value} acks=all"));
        }
        sim.advance(100);
        assert_eq!(acked_offsets(&sim), [0, 1], "committed by the ISR, which is broker 1 alone");
        run(&mut sim, "kill 1");
        run(&mut sim, "restart 2"); // out of sync: it never saw x or y
        sim.advance(12_000);
        let p0 = sim.view().partition(&TopicPartition::new("orders", 0)).unwrap().clone();
        if unclean {
            assert_eq!((p0.leader, p0.isr), (Some(BrokerId(2)), vec![BrokerId(2)]));
            assert_eq!(lost_offsets(&sim), [0, 1], "the committed records are gone");
            assert!(sim
                .trace()
                .iter()
                .any(|l| matches!(l.event, TraceEvent::Elected { kind: ElectionKind::Unclean, .. })));
        } else {
            assert_eq!(p0.leader, None, "no in-sync replica is alive, so no leader");
            run(&mut sim, "produce orders partition=0 value=z acks=1");
            sim.advance(100);
            assert_eq!(produce_errors(&sim), [ErrorCode::LeaderNotAvailable]);
            run(&mut sim, "restart 1");
            sim.advance(2_000);
            assert!(lost_offsets(&sim).is_empty(), "broker 1 comes back with everything");
        }
    }
}

#[test]
fn turning_unclean_election_on_elects_a_waiting_partition_at_once() {
    let mut sim = lab_with(ClusterConfig::default());
    run(&mut sim, "kill 2");
    run(&mut sim, "kill 3");
    sim.advance(10_000); // orders/0's ISR is [1]
    run(&mut sim, "produce orders partition=0 value=x acks=all");
    sim.advance(100);
    run(&mut sim, "kill 1");
    run(&mut sim, "restart 2");
    sim.advance(12_000);
    let leader = |sim: &Simulation| sim.view().partition(&TopicPartition::new("orders", 0)).unwrap().leader;
    assert_eq!(leader(&sim), None, "waiting for broker 1, the only in-sync replica");
    run(&mut sim, "set unclean.leader.election.enable=true");
    sim.advance(1_000);
    assert_eq!(leader(&sim), Some(BrokerId(2)), "an out-of-sync replica leads as soon as it is allowed");
    assert_eq!(lost_offsets(&sim), [0]);
}
