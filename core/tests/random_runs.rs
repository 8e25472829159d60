//! Random runs: each seed derives a sequence of kills, restarts, produces and waits. The
//! simulator checks its invariants after every event (a violation panics with the seed); after
//! the faults stop and every broker is back, the cluster must heal: every partition led, every
//! replica in the ISR, every log the same length. A failure names the seed and its script.

use kafkalab_core::rng::Rng;
use kafkalab_core::{ClusterConfig, Command, Simulation};

fn script_for(seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed);
    let mut alive = [true; 3];
    let mut lines = Vec::new();
    for _ in 0..rng.between(5, 30) {
        let broker = rng.between(1, 3) as usize;
        let line = match rng.between(0, 9) {
            0 | 1 if alive[broker - 1] && alive.iter().filter(|a| **a).count() > 1 => {
                alive[broker - 1] = false;
                format!("kill {broker}")
            }
            2 | 3 if !alive[broker - 1] => {
                alive[broker - 1] = true;
                format!("restart {broker}")
            }
            4..=6 => {
                let acks = ["0", "1", "all"][rng.between(0, 2) as usize];
                format!("produce orders key=k{} value=v acks={acks}", rng.between(0, 20))
            }
            _ => format!("advance {}ms", rng.between(1, 12_000)),
        };
        lines.push(line);
    }
    for (index, up) in alive.iter().enumerate() {
        if !up {
            lines.push(format!("restart {}", index + 1));
        }
    }
    lines.push("advance 40s".to_string());
    lines
}

fn check_healed(seed: u64) -> Result<(), String> {
    let script = script_for(seed);
    let mut simulation = Simulation::new(ClusterConfig { seed, ..ClusterConfig::default() }).unwrap();
    for line in &script {
        simulation.apply(&Command::parse(line).unwrap()).map_err(|e| format!("{line}: {e}"))?;
    }
    let view = simulation.view();
    for partition in &view.partitions {
        if partition.leader.is_none() {
            return Err(format!("{} has no leader", partition.partition));
        }
        if partition.isr.len() != 3 {
            return Err(format!("{} isr is {:?}", partition.partition, partition.isr));
        }
        let ends: Vec<_> = partition.replicas.iter().map(|r| r.log_end_offset).collect();
        if ends.windows(2).any(|w| w[0] != w[1]) {
            return Err(format!("{} log ends differ: {ends:?}", partition.partition));
        }
    }
    Ok(())
}

#[test]
fn random_faults_keep_the_invariants_and_the_cluster_heals() {
    for seed in 0..300 {
        if let Err(problem) = check_healed(seed) {
            panic!("seed {seed}: {problem}\nscript:\n{}", script_for(seed).join("\n"));
        }
    }
}
