//! What the scenario tests share: a running lab, a command line to run, and the trace read back
//! as the errors the producer and the administrator were told. Each test file uses its part.
#![allow(dead_code)]

use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::trace::TraceEvent;
use kafkalab_core::{ClusterConfig, Command, Simulation};

/// A running lab: the controllers have elected an active controller, the brokers registered
/// with it and took up their roles.
pub fn lab_with(config: ClusterConfig) -> Simulation {
    let mut simulation = Simulation::new(config).expect("a valid config");
    simulation.advance(1_000);
    while simulation.active_controller().is_none() {
        simulation.advance(100);
    }
    simulation.advance(100);
    simulation
}

/// The default three-broker lab, running.
pub fn lab() -> Simulation {
    lab_with(ClusterConfig::default())
}

/// Runs one command line; a line that does not parse or is refused fails the test.
pub fn run(simulation: &mut Simulation, line: &str) {
    let command = Command::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    simulation.apply(&command).unwrap_or_else(|e| panic!("{line}: {e}"));
}

/// The errors produce requests got, in the order the producer heard them.
pub fn produce_errors(simulation: &Simulation) -> Vec<ErrorCode> {
    simulation
        .trace()
        .iter()
        .filter_map(|l| match l.event {
            TraceEvent::ProduceFailed { error, .. } => Some(error),
            _ => None,
        })
        .collect()
}

/// The refusals admin requests got, with Kafka's messages.
pub fn admin_errors(simulation: &Simulation) -> Vec<(ErrorCode, String)> {
    simulation
        .trace()
        .iter()
        .filter_map(|l| match &l.event {
            TraceEvent::AdminFailed { error, message, .. } => Some((*error, message.clone())),
            _ => None,
        })
        .collect()
}
