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

use crate::broker::Broker;
use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};
use crate::log::LogError;

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
    /// Checks every broker, live or not (a dead broker's logs must stay sound too).
    /// `unclean_allowed` turns off the rule that committed records survive.
    pub fn check(&mut self, brokers: &[&Broker], unclean_allowed: bool) -> Result<(), Violation> {
        log_order::check(brokers)?;
        single_leader::check(brokers)?;
        self.high_watermarks.check(brokers)?;
        if !unclean_allowed {
            self.committed.check(brokers)?;
        }
        Ok(())
    }
}

/// The simulator's panic message: the violation and the seed that reproduces it.
pub fn describe(violation: &Violation, seed: u64) -> String {
    alloc::format!("invariant violated with seed {seed}: {violation}")
}
