//! The random sweep: 500 seeds of delays, loss, partitions, crashes and restarts, with Raft's
//! safety properties checked after every event by the network's oracle (election safety,
//! state machine safety, leader completeness), then a healed phase that must elect a leader
//! and commit a new entry on every voter (TigerBeetle VOPR's safety-then-liveness shape).
//!
//! Run k of the sweep uses seed k; a failure names its seed. To replay one:
//! `RAFT_SEED=123 cargo test -p kafkalab-core --test raft_sweep one_seed -- --nocapture`.

mod raft_network;

use kafkalab_core::raft::{Payload, RaftConfig, ReplicaId};
use kafkalab_core::rng::Rng;
use raft_network::{Faults, Network};

const SEEDS: u64 = 500;
const SAFETY_PHASE_MS: u64 = 60_000;
const STEP_MS: u64 = 100;

/// What one run went through, to show the sweep exercises what it claims to.
struct RunStats {
    /// How long the healed cluster took to have a stable leader again.
    recovered_ms: u64,
    epochs_with_a_leader: usize,
    committed_entries: usize,
    truncations: usize,
    check_quorum_resignations: usize,
}

fn run(seed: u64) -> RunStats {
    let mut rng = Rng::new(seed ^ 0x5EED);
    // Three or five voters, and fetch responses from one entry to KRaft-sized batches, so
    // that a new leader's LeaderChange entry may trail older entries across several fetches.
    let voter_count = if rng.between(0, 1) == 0 { 3 } else { 5 };
    let voters: Vec<ReplicaId> = (1..=voter_count).map(ReplicaId).collect();
    let observer = ReplicaId(voter_count + 1);
    let config = RaftConfig { voters, max_fetch_entries: rng.between(1, 64) as usize, ..RaftConfig::default() };
    let faults = Faults { delay_min_ms: 1, delay_max_ms: rng.between(2, 40), drop_per_thousand: rng.between(0, 150) };
    let mut network = Network::new(seed, config, &[observer], faults);
    let ids = network.ids();
    let mut proposed = 0;

    // Safety phase: faults on.
    while network.now_ms() < SAFETY_PHASE_MS {
        for leader in network.leaders() {
            if rng.between(0, 2) == 0 {
                proposed += 1;
                let _ = network.propose(leader, &format!("s{seed}-{proposed}"));
            }
        }
        let roll = rng.between(0, 999);
        let target = ids[rng.between(0, ids.len() as u64 - 1) as usize];
        match roll {
            0..=29 => network.crash(target),
            30..=99 => network.restart(target),
            100..=129 => network.isolate(target),
            130..=149 => {
                let (a, b): (Vec<ReplicaId>, Vec<ReplicaId>) = ids.iter().partition(|_| rng.between(0, 1) == 0);
                network.partition(&[&a, &b]);
            }
            150..=199 => network.heal(),
            _ => {}
        }
        network.run_for(STEP_MS);
    }

    // Liveness phase: everything healed and up; a leader must emerge and commit.
    network.heal();
    network.faults = Faults::none();
    for id in ids {
        network.restart(id);
    }
    let healed_at_ms = network.now_ms();
    network.run_until_true(20_000, |n| n.stable_leader().is_some());
    let recovered_ms = network.now_ms() - healed_at_ms;
    // Like a client, propose until it is committed: a leader may lose an uncommitted entry
    // to the next leader (a fetch lost just before the heal can still cost an election).
    let final_entry = format!("final-{seed}");
    let give_up_ms = network.now_ms() + 20_000;
    while !network.voters().iter().all(|&v| network.applied(v).contains(&final_entry)) {
        assert!(network.now_ms() < give_up_ms, "seed {seed}: the final entry never committed");
        if let Some((leader, _)) = network.stable_leader() {
            if !network.applied(leader).contains(&final_entry) && !has_entry(&network, leader, &final_entry) {
                network.propose(leader, &final_entry).unwrap();
            }
        }
        network.run_for(STEP_MS);
    }
    // An observer may wait out the request timeout of a fetch lost just before the heal.
    network.run_until_true(5_000, |n| n.applied(observer).contains(&final_entry));
    for id in network.ids() {
        network.node(id).check_log().unwrap_or_else(|error| panic!("seed {seed}: node {id}: {error}"));
    }
    if std::env::var("RAFT_SEED").is_ok() {
        println!("{}\n{} messages sent", network.trace().join("\n"), network.messages_sent);
    }
    let count = |word: &str| network.trace().iter().filter(|line| line.contains(word)).count();
    RunStats {
        recovered_ms,
        epochs_with_a_leader: network.oracle.leaders.len(),
        committed_entries: network.oracle.committed.len(),
        truncations: count(": truncate"),
        check_quorum_resignations: count("no majority fetched"),
    }
}

fn has_entry(network: &Network, id: ReplicaId, entry: &str) -> bool {
    let data = |payload: &Payload<String>| matches!(payload, Payload::Data(text) if text == entry);
    network.node(id).log().entries().iter().any(|e| data(&e.payload))
}

fn sweep(part: u64, parts: u64) -> Vec<RunStats> {
    (0..SEEDS).filter(|seed| seed % parts == part).map(run).collect()
}

// Four tests so the harness spreads the sweep over the machine's cores.
#[test]
fn raft_5_2_and_5_4_safety_and_recovery_over_random_faults_part_1() {
    report(sweep(0, 4));
}

#[test]
fn raft_5_2_and_5_4_safety_and_recovery_over_random_faults_part_2() {
    report(sweep(1, 4));
}

#[test]
fn raft_5_2_and_5_4_safety_and_recovery_over_random_faults_part_3() {
    report(sweep(2, 4));
}

#[test]
fn raft_5_2_and_5_4_safety_and_recovery_over_random_faults_part_4() {
    report(sweep(3, 4));
}

fn report(runs: Vec<RunStats>) {
    let mut recovery_ms: Vec<u64> = runs.iter().map(|run| run.recovered_ms).collect();
    recovery_ms.sort_unstable();
    let (median, max) = (recovery_ms[recovery_ms.len() / 2], recovery_ms[recovery_ms.len() - 1]);
    let total = |field: fn(&RunStats) -> usize| runs.iter().map(field).sum::<usize>();
    println!(
        "{} seeds: {} epochs with a leader, {} committed entries, {} truncations, {} check-quorum \
         resignations; after healing, a stable leader in median {median} ms, max {max} ms",
        runs.len(),
        total(|run| run.epochs_with_a_leader),
        total(|run| run.committed_entries),
        total(|run| run.truncations),
        total(|run| run.check_quorum_resignations),
    );
}

#[test]
fn one_seed() {
    if let Some(seed) = std::env::var("RAFT_SEED").ok().and_then(|s| s.parse().ok()) {
        println!("seed {seed}: recovered in {} ms", run(seed).recovered_ms);
    }
}
