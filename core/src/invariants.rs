//! Rules every run must keep, checked by the simulator after every event.
//!
//! A violation is a bug in the model, never a legitimate outcome, so the simulator stops with
//! the seed that reproduces it.

use alloc::collections::BTreeMap;
use alloc::string::String;
use core::fmt;

use crate::broker::{Broker, Role};
use crate::ids::{BrokerId, LeaderEpoch, TopicPartition};
use crate::log::LogError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A replica's log broke log start ≤ HW ≤ LEO or its offset order.
    Log { broker: BrokerId, partition: TopicPartition, error: LogError },
    /// Two brokers lead one partition at the same leader epoch (Kafka's design: a leader epoch
    /// names exactly one leader).
    TwoLeadersInOneEpoch { partition: TopicPartition, leader_epoch: LeaderEpoch, brokers: (BrokerId, BrokerId) },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Log { broker, partition, error } => write!(f, "broker {broker} {partition}: {error}"),
            Violation::TwoLeadersInOneEpoch { partition, leader_epoch, brokers } => {
                write!(f, "{partition}: brokers {} and {} both lead at epoch {leader_epoch}", brokers.0, brokers.1)
            }
        }
    }
}

/// Checks every broker, live or not (a dead broker's logs must stay sound too).
pub fn check<'a>(brokers: impl Iterator<Item = &'a Broker>) -> Result<(), Violation> {
    let mut leaders: BTreeMap<(TopicPartition, LeaderEpoch), BrokerId> = BTreeMap::new();
    for broker in brokers {
        for (partition, replica) in broker.replicas() {
            replica.log.validate().map_err(|error| Violation::Log {
                broker: broker.id(),
                partition: partition.clone(),
                error,
            })?;
            if let Role::Leader(leadership) = &replica.role {
                let key = (partition.clone(), leadership.leader_epoch);
                if let Some(&other) = leaders.get(&key) {
                    return Err(Violation::TwoLeadersInOneEpoch {
                        partition: partition.clone(),
                        leader_epoch: leadership.leader_epoch,
                        brokers: (other, broker.id()),
                    });
                }
                leaders.insert(key, broker.id());
            }
        }
    }
    Ok(())
}

/// Used by the simulator's panic message.
pub fn describe(violation: &Violation, seed: u64) -> String {
    alloc::format!("invariant violated with seed {seed}: {violation}")
}
