//! Consumer groups end to end in the simulator: named consumers find their coordinator (the
//! leader of the group's `__consumer_offsets` partition, created on first use), join, get
//! partitions from the group leader's assignor, and process records.

mod scenario;

use scenario::{lab, run};
use kafkalab_core::group::protocol::GroupState;
use kafkalab_core::Simulation;

/// The broker coordinating `group`, and the group as it holds it.
fn group_state(simulation: &Simulation, group: &str) -> Option<(GroupState, i32, usize)> {
    simulation.brokers().find_map(|broker| {
        let g = broker.group_coordinator().group(group)?;
        Some((g.state(), g.generation_id(), g.members().count()))
    })
}

#[test]
fn a_lone_consumer_joins_its_group_and_processes_every_record() {
    let mut lab = lab();
    for i in 0..6 {
        run(&mut lab, &format!("produce orders key=k{i} value=v{i}"));
    }
    run(&mut lab, "consumer alice group=billing topics=orders auto.offset.reset=earliest");
    lab.advance(15_000);
    for line in lab.trace().iter().rev().take(40).collect::<Vec<_>>().into_iter().rev() {
        std::println!("{line}");
    }
    assert_eq!(group_state(&lab, "billing").map(|(s, _, m)| (s, m)), Some((GroupState::Stable, 1)));
    let processed: Vec<_> = lab.processed().iter().map(|r| (r.partition.to_string(), r.offset.0)).collect();
    assert_eq!(processed.len(), 6, "{processed:?}");
}
