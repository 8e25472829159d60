//! Replays a script of commands with a seed and prints the trace, even when an invariant
//! breaks midway: `cargo run -p kafkalab-core --example replay -- <seed> [combined|dedicated]
//! < script.txt` (the controllers' layout; combined by default).
//! The random sweep prints this command, with its script, for any seed that fails.

use std::io::Read;
use std::panic::{catch_unwind, AssertUnwindSafe};

use kafkalab_core::config::ControllerLayout;
use kafkalab_core::{ClusterConfig, Command, Simulation};

fn main() {
    let seed = std::env::args().nth(1).and_then(|s| s.parse().ok()).unwrap_or(1);
    let controller_layout = match std::env::args().nth(2).as_deref() {
        Some("dedicated") => ControllerLayout::Dedicated,
        _ => ControllerLayout::Combined,
    };
    let mut script = String::new();
    std::io::stdin().read_to_string(&mut script).expect("a script on stdin");
    let mut simulation =
        Simulation::new(ClusterConfig { seed, controller_layout, ..ClusterConfig::default() }).expect("a valid config");
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        for line in script.lines().filter(|l| !l.trim().is_empty()) {
            let command = Command::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
            println!("> {command}   (at {} ms)", simulation.now_ms());
            if let Err(e) = simulation.apply(&command) {
                println!("{line}: {e}");
            }
        }
    }));
    for line in simulation.trace() {
        println!("{line}");
    }
    for partition in simulation.view().partitions {
        let replicas: Vec<String> = partition
            .replicas
            .iter()
            .map(|r| format!("{}: leo {} hw {}", r.broker, r.log_end_offset, r.high_watermark))
            .collect();
        println!(
            "{} leader {:?} isr {:?} | {}",
            partition.partition,
            partition.leader,
            partition.isr,
            replicas.join(", ")
        );
    }
    for controller in simulation.view().controllers {
        println!(
            "controller {} {} {} epoch {} leo {} hw {}",
            controller.id,
            if controller.alive { "alive" } else { "dead" },
            controller.role,
            controller.epoch,
            controller.log_end_offset,
            controller.high_watermark
        );
    }
    if outcome.is_err() {
        std::process::exit(1);
    }
}
