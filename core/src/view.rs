//! The whole state of a run as plain data: what the page draws and the native server reports.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterView {
    pub now_ms: u64,
    pub brokers: Vec<BrokerView>,
    pub partitions: Vec<PartitionView>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BrokerStatus {
    /// Running and in the controller's good books.
    Alive,
    /// Running, but the controller has fenced it (or has not yet seen it come back).
    Fenced,
    /// Crashed.
    Dead,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerView {
    pub id: BrokerId,
    pub status: BrokerStatus,
    /// Whether the controller's metadata fences it. A broker that has just crashed is `Dead`
    /// but not yet fenced: until its session times out, metadata still lists it and its
    /// leaderships, as in a real cluster.
    pub fenced: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionView {
    pub partition: TopicPartition,
    /// As the controller's metadata says.
    pub leader: Option<BrokerId>,
    pub leader_epoch: LeaderEpoch,
    pub isr: Vec<BrokerId>,
    /// One per assigned replica, in assignment order.
    pub replicas: Vec<ReplicaView>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplicaView {
    pub broker: BrokerId,
    pub is_leader: bool,
    pub in_isr: bool,
    pub log_start_offset: Offset,
    pub log_end_offset: Offset,
    pub high_watermark: Offset,
}

impl ClusterView {
    pub fn broker(&self, id: BrokerId) -> Option<&BrokerView> {
        self.brokers.iter().find(|b| b.id == id)
    }

    pub fn partition(&self, partition: &TopicPartition) -> Option<&PartitionView> {
        self.partitions.iter().find(|p| &p.partition == partition)
    }

    /// The replicas a broker holds, with the partition each belongs to.
    pub fn replicas_on(&self, broker: BrokerId) -> impl Iterator<Item = (&PartitionView, &ReplicaView)> {
        self.partitions
            .iter()
            .flat_map(move |p| p.replicas.iter().filter(move |r| r.broker == broker).map(move |r| (p, r)))
    }
}
