//! A leader's high watermark never moves backwards while it leads (Kafka's replication design:
//! the leader's HW is the minimum log end of the ISR, and an ISR only admits replicas that
//! have reached it, so the minimum cannot fall).

use alloc::collections::BTreeMap;

use crate::broker::{Broker, Replica, Role};
use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};

use super::Violation;

/// The highest HW seen for each partition (and topic id: a topic created again starts afresh),
/// per (broker, leader epoch) that led it.
#[derive(Clone, Debug, Default)]
pub struct LeaderHighWatermarks {
    highest: BTreeMap<(TopicPartition, u64), BTreeMap<(BrokerId, LeaderEpoch), Offset>>,
}

impl LeaderHighWatermarks {
    pub fn check(&mut self, broker: &Broker, partition: &TopicPartition, replica: &Replica) -> Result<(), Violation> {
        {
            let Role::Leader(leadership) = &replica.role else { return Ok(()) };
            let now = replica.log.high_watermark();
            let leaders = self.highest.entry((partition.clone(), replica.topic_id)).or_default();
            let highest = leaders.entry((broker.id(), leadership.leader_epoch)).or_insert(now);
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
        Ok(())
    }
}
