//! What the cluster's metadata says about a partition: its replicas, leader, epochs and ISR.
//!
//! The controller owns these records; brokers and clients hold copies they learn from it. New
//! partitions get their replicas here.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::ids::{BrokerId, LeaderEpoch, TopicPartition};

/// One partition's entry in the cluster metadata (KRaft's `PartitionRecord` and
/// `PartitionChangeRecord` folded together).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionState {
    pub partition: TopicPartition,
    /// The assigned replicas; the first is the preferred leader.
    pub replicas: Vec<BrokerId>,
    /// The in-sync replicas. Kafka never shrinks it to empty: the last member stays.
    pub isr: Vec<BrokerId>,
    /// `None` when no in-sync replica is available (Kafka reports leader -1).
    pub leader: Option<BrokerId>,
    /// Bumped each time the leader changes.
    pub leader_epoch: LeaderEpoch,
    /// Bumped on every change to this partition's state, ISR changes included.
    pub partition_epoch: i32,
}

/// Assigns replicas round-robin from a starting broker, the way Kafka spreads partitions when
/// no rack information is given: partition `p`'s replicas start at broker `p mod n`.
pub fn assign_replicas(partition: i32, replication_factor: i32, broker_count: i32) -> Vec<BrokerId> {
    assert!(replication_factor >= 1 && replication_factor <= broker_count);
    (0..replication_factor).map(|i| BrokerId((partition + i) % broker_count + 1)).collect()
}

/// New partitions `indexes` of `topic`, each led by its preferred (first) replica at epoch 0
/// with every replica in sync. `start` shifts the round robin, as Kafka's random start index
/// does, so that topics created one after another do not all lead from broker 1.
pub fn new_partitions(
    topic: &str,
    indexes: core::ops::Range<i32>,
    replication_factor: i32,
    broker_count: i32,
    start: i32,
) -> Vec<PartitionState> {
    indexes
        .map(|index| {
            let replicas = assign_replicas(index + start, replication_factor, broker_count);
            PartitionState {
                partition: TopicPartition::new(topic, index),
                leader: Some(replicas[0]),
                isr: replicas.clone(),
                replicas,
                leader_epoch: LeaderEpoch(0),
                partition_epoch: 0,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn leaders_spread_over_brokers() {
        assert_eq!(assign_replicas(0, 3, 3), vec![BrokerId(1), BrokerId(2), BrokerId(3)]);
        assert_eq!(assign_replicas(1, 3, 3), vec![BrokerId(2), BrokerId(3), BrokerId(1)]);
        assert_eq!(assign_replicas(2, 3, 3), vec![BrokerId(3), BrokerId(1), BrokerId(2)]);
        assert_eq!(assign_replicas(4, 2, 3), vec![BrokerId(2), BrokerId(3)]);
    }
}
