//! A leader's high watermark never moves backwards while it leads (Kafka's replication design:
//! the leader's HW is the minimum log end of the ISR, and an ISR only admits replicas that
//! have reached it, so the minimum cannot fall).

use alloc::collections::BTreeMap;

use crate::broker::{Broker, Role};
use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};

use super::Violation;

/// The highest HW seen for each (broker, partition, leader epoch) it led under.
#[derive(Clone, Debug, Default)]
pub struct LeaderHighWatermarks {
    highest: BTreeMap<(BrokerId, TopicPartition, LeaderEpoch), Offset>,
}

impl LeaderHighWatermarks {
    pub fn check(&mut self, brokers: &[&Broker]) -> Result<(), Violation> {
        for broker in brokers {
            for (partition, replica) in broker.replicas() {
                let Role::Leader(leadership) = &replica.role else { continue };
                let now = replica.log.high_watermark();
                let key = (broker.id(), partition.clone(), leadership.leader_epoch);
                let highest = self.highest.entry(key).or_insert(now);
                if now < *highest {
                    return Err(Violation::HighWatermarkWentBack {
                        broker: broker.id(),
                        partition: partition.clone(),
                        from: *highest,
                        to: now,
                    });
                }
                *highest = now;
            }
        }
        Ok(())
    }
}
