//! Rules every run must keep, checked by the simulator after every event, one rule per module,
//! each citing where the rule comes from.
//!
//! A violation is a bug in the model, never a legitimate outcome, so the simulator stops with
//! the seed that reproduces it. Some rules need memory across events (the highest high
//! watermark a leader reached, the records known committed); [`Invariants`] keeps it.

mod committed_records;
mod leader_high_watermark;
mod log_order;
mod single_leader;

use alloc::string::String;
use core::fmt;

use crate::broker::{Broker, Replica};
use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};
use crate::partition_log::LogError;

pub use committed_records::CommittedRecords;
pub use leader_high_watermark::LeaderHighWatermarks;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Violation {
    /// A replica's log broke log start ≤ HW ≤ LEO or its offset order.
    Log { broker: BrokerId, partition: TopicPartition, error: LogError },
    /// Two brokers lead one partition at the same leader epoch.
    TwoLeadersInOneEpoch { partition: TopicPartition, leader_epoch: LeaderEpoch, brokers: (BrokerId, BrokerId) },
    /// A leader's high watermark moved backwards within its epoch.
    HighWatermarkWentBack { broker: BrokerId, partition: TopicPartition, from: Offset, to: Offset },
    /// A committed record was lost or replaced, with unclean election off.
    CommittedRecordLost { partition: TopicPartition, offset: Offset, leader: BrokerId },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::Log { broker, partition, error } => write!(f, "broker {broker} {partition}: {error}"),
            Violation::TwoLeadersInOneEpoch { partition, leader_epoch, brokers } => {
                write!(f, "{partition}: brokers {} and {} both lead at epoch {leader_epoch}", brokers.0, brokers.1)
            }
            Violation::HighWatermarkWentBack { broker, partition, from, to } => {
                write!(f, "broker {broker} leads {partition} and its high watermark went back from {from} to {to}")
            }
            Violation::CommittedRecordLost { partition, offset, leader } => write!(
                f,
                "{partition}: the committed record at offset {offset} is not on leader {leader} (unclean election is off)"
            ),
        }
    }
}

/// The rules, with what they remember between events.
#[derive(Clone, Debug, Default)]
pub struct Invariants {
    high_watermarks: LeaderHighWatermarks,
    committed: CommittedRecords,
}

impl Invariants {
    /// Checks the broker an event just changed (`brokers[changed]`): only it can have broken a
    /// rule. When the event concerned one partition (`scope`), only that partition's replica is
    /// checked; this keeps checking after every event cheap enough for long runs. The rules
    /// that compare brokers compare it with the others. `unclean_allowed` turns off the rule
    /// that committed records survive.
    pub fn check(
        &mut self,
        brokers: &[&Broker],
        changed: usize,
        scope: Option<&TopicPartition>,
        unclean_allowed: bool,
    ) -> Result<(), Violation> {
        let broker = brokers[changed];
        for (partition, replica) in in_scope(broker, scope) {
            log_order::check(broker, partition, replica)?;
            single_leader::check(broker, partition, replica, brokers)?;
            self.high_watermarks.check(broker, partition, replica)?;
            if !unclean_allowed {
                self.committed.check(broker, partition, replica)?;
            }
        }
        Ok(())
    }
}

/// The replicas of `broker` an event may have changed: one partition's, or all.
fn in_scope<'a>(
    broker: &'a Broker,
    scope: Option<&'a TopicPartition>,
) -> impl Iterator<Item = (&'a TopicPartition, &'a Replica)> + 'a {
    let one = scope.map(|partition| broker.replica(partition).map(|replica| (partition, replica)));
    let all = scope.is_none().then(|| broker.replicas());
    one.into_iter().flatten().chain(all.into_iter().flatten())
}

/// The simulator's panic message: the violation and the seed that reproduces it.
pub fn describe(violation: &Violation, seed: u64) -> String {
    alloc::format!("invariant violated with seed {seed}: {violation}")
}
