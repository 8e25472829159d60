//! Same seed, same run: the quorum's trace is a function of the seed alone (madsim's
//! `check_determinism`), even with loss, partitions and crashes in the mix.

mod raft_network;

use raft_network::{Faults, Network, N1, N2, N3};

fn trace_of(seed: u64) -> (Vec<String>, u64) {
    let faults = Faults { delay_min_ms: 1, delay_max_ms: 20, drop_per_thousand: 50 };
    let mut network = Network::three_voters(seed, faults);
    network.run_for(3_000);
    for (step, id) in [N1, N2, N3, N1].into_iter().enumerate() {
        for leader in network.leaders() {
            let _ = network.propose(leader, &format!("entry-{step}"));
        }
        network.isolate(id);
        network.run_for(2_500);
        network.crash(id);
        network.heal();
        network.run_for(1_000);
        network.restart(id);
        network.run_for(1_500);
    }
    (network.trace().to_vec(), network.messages_sent)
}

#[test]
fn the_same_seed_gives_the_same_trace() {
    let (first, messages) = trace_of(2024);
    assert!(first.len() > 50, "the scenario does enough to be a real check ({} lines)", first.len());
    assert!(first.iter().any(|line| line.contains("leader at epoch")));
    assert_eq!((first, messages), trace_of(2024));
}

#[test]
fn a_different_seed_gives_a_different_trace() {
    assert_ne!(trace_of(2024).0, trace_of(2025).0);
}
