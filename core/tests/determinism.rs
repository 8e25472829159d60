//! Same seed and same commands, same run: the property rewind, sharing and replay rest on.

use kafkalab_core::{ClusterConfig, Command, Simulation};

const SCRIPT: &[&str] = &[
    "advance 1s",
    "produce orders key=alice value=1",
    "produce orders key=bob value=2 acks=1",
    "produce orders value=3 acks=0",
    "advance 300ms",
    "kill 2",
    "produce orders partition=1 value=4 acks=all",
    "advance 12s",
    "produce orders partition=1 value=5",
    "restart 2",
    "advance 5s",
];

fn trace_of(seed: u64) -> Vec<String> {
    let config = ClusterConfig { seed, ..ClusterConfig::default() };
    let mut simulation = Simulation::new(config).unwrap();
    for line in SCRIPT {
        simulation.apply(&Command::parse(line).unwrap()).unwrap();
    }
    simulation.trace().iter().map(|line| line.to_string()).collect()
}

#[test]
fn the_same_seed_and_commands_give_the_same_trace() {
    let first = trace_of(7);
    assert!(first.len() > 50, "the script does enough to be a real check ({} lines)", first.len());
    assert_eq!(first, trace_of(7));
}

#[test]
fn a_different_seed_gives_different_timings() {
    assert_ne!(trace_of(7), trace_of(8));
}
