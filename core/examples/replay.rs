//! Replays a script of commands from stdin with a seed and prints the trace:
//! `cargo run -p kafkalab-core --example replay -- <seed> < script.txt`.
use std::io::Read;

use kafkalab_core::{ClusterConfig, Command, Simulation};

fn main() {
    let seed = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let mut script = String::new();
    std::io::stdin().read_to_string(&mut script).expect("a script on stdin");
    let mut simulation = Simulation::new(ClusterConfig { seed, ..ClusterConfig::default() }).expect("valid");
    for line in script.lines().filter(|l| !l.trim().is_empty()) {
        let command = Command::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
        if let Err(e) = simulation.apply(&command) {
            println!("{line}: {e}");
        }
    }
    for line in simulation.trace() {
        println!("{line}");
    }
    println!("{:#?}", simulation.view().partitions.iter().map(|p| (p.partition.to_string(), p.leader, p.isr.clone())).collect::<Vec<_>>());
}
