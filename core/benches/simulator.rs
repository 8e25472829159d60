//! The simulator's speed: events per second for a 5-broker cluster, three of whose nodes also
//! run the KRaft controller quorum, with 50 partitions at replication factor 3, under a steady
//! load: one `acks=all` record produced per simulated millisecond and a consumer reading every
//! partition along, against a baseline measured in the same run: the bare event queue (a binary
//! heap push and pop per event), so the ratio says what the model costs on this machine today.
//!
//! `cargo bench -p kafkalab-core --bench simulator` prints a table.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::time::{Duration, Instant};

use kafkalab_core::config::TopicConfig;
use kafkalab_core::{ClusterConfig, Command, Simulation};

const SIMULATED_SECONDS: u64 = 20;

struct Measurement {
    name: &'static str,
    events: u64,
    elapsed: Duration,
}

impl Measurement {
    fn per_second(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64()
    }
}

fn cluster() -> Simulation {
    let config = ClusterConfig {
        seed: 42,
        broker_count: 5,
        topics: vec![TopicConfig {
            name: "load".to_string(),
            partitions: 50,
            replication_factor: 3,
            log: Default::default(),
        }],
        ..ClusterConfig::default()
    };
    Simulation::new(config).expect("a valid config")
}

/// Steady load: a keyed acks=all record every simulated millisecond, spread by key, and a
/// consumer reading all 50 partitions.
fn simulate() -> Measurement {
    let mut simulation = cluster();
    simulation.advance(1_000);
    simulation.apply(&Command::parse("consume load").unwrap()).unwrap();
    let produce: Vec<Command> = (0..1_000)
        .map(|i| Command::parse(&format!("produce load key=k{i} value=payload-{i} acks=all")).unwrap())
        .collect();
    let start_events = simulation.events_processed();
    let start = Instant::now();
    for millisecond in 0..SIMULATED_SECONDS * 1_000 {
        simulation.apply(&produce[(millisecond % 1_000) as usize]).unwrap();
        simulation.advance(1);
    }
    let elapsed = start.elapsed();
    assert!(simulation.lost_writes().is_empty());
    Measurement {
        name: "simulator: 5 brokers, 3 controllers, 50 partitions × RF 3",
        events: simulation.events_processed() - start_events,
        elapsed,
    }
}

/// The same number of events through a bare binary heap: the floor any event-driven
/// simulator pays.
fn baseline(events: u64) -> Measurement {
    let mut heap = BinaryHeap::new();
    let mut sequence = 0u64;
    for i in 0..1_000u64 {
        heap.push(Reverse((i, sequence, [0u8; 48])));
        sequence += 1;
    }
    let start = Instant::now();
    for _ in 0..events {
        let Reverse((at, _, payload)) = heap.pop().unwrap();
        heap.push(Reverse((at + 3, sequence, black_box(payload))));
        sequence += 1;
    }
    Measurement { name: "baseline: bare event queue", events, elapsed: start.elapsed() }
}

fn main() {
    let model = simulate();
    let floor = baseline(model.events);
    println!("| run | events | seconds | events/s | vs baseline |");
    println!("|---|---:|---:|---:|---:|");
    for m in [&floor, &model] {
        println!(
            "| {} | {} | {:.3} | {:.0} | {:.3} |",
            m.name,
            m.events,
            m.elapsed.as_secs_f64(),
            m.per_second(),
            m.per_second() / floor.per_second()
        );
    }
    println!("\n{} simulated seconds; target ≥ 1,000,000 events/s on one core.", SIMULATED_SECONDS);
}
