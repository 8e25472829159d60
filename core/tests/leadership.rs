//! Who leads, and how it changes without a crash: controlled shutdown hands leadership over
//! before the broker stops; preferred leader election and the automatic rebalance move it back;
//! settings change while the cluster runs.

mod scenario;

use scenario::{admin_errors, lab_with, run};

use kafkalab_core::config::ControllerLayout;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::ids::{BrokerId, TopicPartition};
use kafkalab_core::message::NodeId;
use kafkalab_core::metadata::ElectionKind;
use kafkalab_core::trace::TraceEvent;
use kafkalab_core::view::BrokerStatus;
use kafkalab_core::{ClusterConfig, Simulation};

fn leader(simulation: &Simulation, index: i32) -> Option<BrokerId> {
    simulation.view().partition(&TopicPartition::new("orders", index)).unwrap().leader
}

fn elections(simulation: &Simulation) -> Vec<(String, Option<BrokerId>, ElectionKind)> {
    simulation
        .trace()
        .iter()
        .filter_map(|l| match &l.event {
            TraceEvent::Elected { partition, leader, kind, .. } => Some((partition.to_string(), *leader, *kind)),
            _ => None,
        })
        .collect()
}

#[test]
fn a_controlled_shutdown_moves_leadership_before_the_broker_stops() {
    let mut sim = lab_with(ClusterConfig::default());
    run(&mut sim, "shutdown 1");
    sim.advance(100); // no session timeout to wait for
    let view = sim.view();
    assert_eq!(view.broker(BrokerId(1)).unwrap().status, BrokerStatus::Dead);
    assert_eq!(leader(&sim, 0), Some(BrokerId(2)));
    assert!(view.partitions.iter().all(|p| !p.isr.contains(&BrokerId(1))), "out of every ISR");
    assert_eq!(elections(&sim), [("orders/0".to_string(), Some(BrokerId(2)), ElectionKind::ControlledShutdown)]);
    let stopped_at =
        sim.trace().iter().position(|l| l.event == TraceEvent::Stopped { node: NodeId::Broker(BrokerId(1)) });
    let moved_at = sim.trace().iter().position(|l| matches!(l.event, TraceEvent::Elected { .. }));
    assert!(moved_at < stopped_at, "leadership moved first");
    // It comes back without being fenced for an unclean restart.
    run(&mut sim, "restart 1");
    sim.advance(2_000);
    assert!(!sim.trace().iter().any(|l| l.to_string().contains("unclean restart")));
    assert!(sim.view().partitions.iter().all(|p| p.isr.contains(&BrokerId(1))));
}

#[test]
fn preferred_leader_election_moves_leadership_back_and_says_when_it_is_not_needed() {
    let config = ClusterConfig { auto_leader_rebalance_enable: false, ..ClusterConfig::default() };
    let mut sim = lab_with(config);
    run(&mut sim, "kill 1");
    sim.advance(10_000);
    run(&mut sim, "restart 1");
    sim.advance(2_000);
    assert_eq!(leader(&sim, 0), Some(BrokerId(2)), "no rebalance by itself");
    run(&mut sim, "elect-preferred orders/0");
    sim.advance(100);
    assert_eq!(leader(&sim, 0), Some(BrokerId(1)));
    assert_eq!(elections(&sim).last().unwrap().2, ElectionKind::Preferred);
    run(&mut sim, "elect-preferred orders/0");
    sim.advance(100);
    assert_eq!(admin_errors(&sim)[0].0, ErrorCode::ElectionNotNeeded);
}

#[test]
fn the_automatic_rebalance_returns_leadership_to_the_preferred_replica() {
    let mut sim = lab_with(ClusterConfig::default());
    run(&mut sim, "kill 1");
    sim.advance(10_000);
    run(&mut sim, "restart 1");
    sim.advance(2_000);
    assert_eq!(leader(&sim, 0), Some(BrokerId(2)));
    sim.advance(300_000); // leader.imbalance.check.interval.seconds = 300
    assert_eq!(leader(&sim, 0), Some(BrokerId(1)));
}

#[test]
fn settings_change_while_the_cluster_runs() {
    // Brokers 2 and 3 go down: the controllers run on nodes of their own so the quorum stays.
    let config = ClusterConfig { controller_layout: ControllerLayout::Dedicated, ..ClusterConfig::default() };
    let mut sim = lab_with(config);
    run(&mut sim, "kill 2");
    run(&mut sim, "kill 3");
    sim.advance(10_000);
    run(&mut sim, "produce orders partition=0 value=a acks=all");
    sim.advance(100);
    assert_eq!(sim.acknowledged().len(), 1, "min.insync.replicas=1: the leader alone suffices");
    run(&mut sim, "set min.insync.replicas=2");
    sim.advance(100);
    run(&mut sim, "produce orders partition=0 value=b acks=all");
    sim.advance(100);
    assert_eq!(sim.acknowledged().len(), 1);
    assert!(sim
        .trace()
        .iter()
        .any(|l| matches!(l.event, TraceEvent::ProduceFailed { error: ErrorCode::NotEnoughReplicas, .. })));
    run(&mut sim, "set min.insync.replicas=zero");
    sim.advance(100);
    assert_eq!(admin_errors(&sim)[0].0, ErrorCode::InvalidConfig);
}
