//! At most one leader per partition and leader epoch: the controller hands out each epoch once,
//! so two brokers that both lead under the same epoch mean the metadata was corrupted (Kafka's
//! replication design; the same rule as Raft's election safety, §5.2 of the Raft paper).

use alloc::collections::BTreeMap;

use crate::broker::{Broker, Role};
use crate::ids::{BrokerId, LeaderEpoch, TopicPartition};

use super::Violation;

pub fn check(brokers: &[&Broker]) -> Result<(), Violation> {
    let mut leaders: BTreeMap<(&TopicPartition, LeaderEpoch), BrokerId> = BTreeMap::new();
    for broker in brokers {
        for (partition, replica) in broker.replicas() {
            let Role::Leader(leadership) = &replica.role else { continue };
            if let Some(other) = leaders.insert((partition, leadership.leader_epoch), broker.id()) {
                return Err(Violation::TwoLeadersInOneEpoch {
                    partition: partition.clone(),
                    leader_epoch: leadership.leader_epoch,
                    brokers: (other, broker.id()),
                });
            }
        }
    }
    Ok(())
}
