//! What nodes say to each other, and what a node asks of its driver.
//!
//! A node never sends anything itself: it returns [`Output`]s, and the driver (the simulator or
//! the native server) carries messages over its network and fires timers at their time.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};
use crate::log::Record;
use crate::topology::PartitionState;
use crate::trace::TraceEvent;

/// An address on the cluster's network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NodeId {
    Broker(BrokerId),
    /// The active KRaft controller.
    Controller,
    /// The producer a person drives with `produce` commands.
    Client,
}

/// How many replicas must have a record before the producer hears it was written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Acks {
    /// `acks=0`: no answer at all.
    None,
    /// `acks=1`: the leader wrote it.
    Leader,
    /// `acks=all` (`-1`): every in-sync replica has it.
    All,
}

/// A request or response between two nodes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Message {
    /// A (re)started broker announces itself to the controller.
    BrokerRegistration {
        broker: BrokerId,
    },
    /// A live broker tells the controller it is still there.
    BrokerHeartbeat {
        broker: BrokerId,
    },
    /// The controller's metadata for the partitions that changed (all of them after registration).
    MetadataUpdate {
        partitions: Vec<PartitionState>,
    },
    /// A leader asks the controller to change a partition's ISR (KIP-497).
    AlterPartition {
        leader: BrokerId,
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
        partition_epoch: i32,
        isr: Vec<BrokerId>,
    },
    /// A follower asks its leader for records from `fetch_offset` on.
    Fetch {
        follower: BrokerId,
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
        fetch_offset: Offset,
        /// The epoch of the follower's last record, so the leader can spot divergence (KIP-320).
        last_fetched_epoch: Option<LeaderEpoch>,
    },
    FetchResponse {
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
        result: Result<FetchData, ErrorCode>,
    },
    Produce {
        request_id: u64,
        partition: TopicPartition,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        acks: Acks,
    },
    ProduceResponse {
        request_id: u64,
        partition: TopicPartition,
        result: Result<Offset, ErrorCode>,
    },
}

/// What a successful fetch carries back to the follower.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchData {
    pub records: Vec<Record>,
    pub high_watermark: Offset,
    /// Set when the follower's log has a tail the leader does not: the epoch and its end offset
    /// on the leader, to truncate to.
    pub diverging_epoch: Option<(LeaderEpoch, Offset)>,
}

/// A timer a node asked for; it comes back to the node at its time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Timer {
    /// Time for a broker's next heartbeat.
    Heartbeat,
    /// Time for a leader to look for followers that fell out of sync.
    IsrExpiration,
    /// A parked fetch has waited `replica.fetch.wait.max.ms`: answer it, empty if need be.
    FetchWaitExpired { partition: TopicPartition, follower: BrokerId, fetch_id: u64 },
    /// A follower's back-off after a failed fetch is over.
    FetchBackoffOver { partition: TopicPartition, leader_epoch: LeaderEpoch },
    /// Time for the controller to fence brokers whose session expired.
    SessionExpiration,
}

/// One thing a node wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Send { to: NodeId, message: Message },
    SetTimer { after_ms: u64, timer: Timer },
    Trace(TraceEvent),
}
