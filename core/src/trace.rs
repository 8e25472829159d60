//! The trace: one line per thing that happened, for debugging, tests and the page's event log.
//!
//! Legend, by the first word after the time:
//! - `kill` / `restart`: a person crashed or restarted a broker or a controller (in the
//!   combined layout, one line for each of a node's two roles);
//! - `controller N ...`: the metadata quorum's Raft, in KRaft's words (KIP-595): controller N
//!   became `unattached`, `follower`, `prospective`, `candidate`, `leader` or `resigned` at an
//!   epoch, granted a `vote` or `pre-vote`, dropped a divergent tail (`truncate`), or moved its
//!   high watermark (`hw`), committing the metadata log's entries below it;
//! - `registered`, `fenced`, `unfenced`: the controller's view of a broker's liveness, traced
//!   when the record saying so is committed (like every controller decision below);
//! - `elect`: the controller gave a partition a leader (or none) at a new leader epoch, marked
//!   UNCLEAN when the leader was not in sync;
//! - `isr`: the controller accepted a partition's new in-sync replica set;
//! - `topic`, `config`: a topic was created, grew or was deleted; a setting changed; `admin`:
//!   an administrator's request was done or refused;
//! - `shutdown`, `stopped`: a controlled shutdown began and ended;
//! - `retention`, `compact`: a broker deleted old segments, or compacted a log;
//! - `leader` / `follower`: a broker took up a role for a partition; `delete`: a broker dropped
//!   a deleted topic's replica and its log;
//! - `append`: a leader wrote a produced record; `replicate`: a follower copied records;
//! - `hw`: a replica's high watermark moved; `truncate`: a follower dropped a divergent tail;
//! - `produce`, `ack`, `error`: the producer sent a record, had it acknowledged, or failed;
//!   `consume`: the consumer read committed records;
//! - `processed NAME`: a named consumer's application finished a record; `NAME: ...` a named
//!   client's own account (joined a group, sent a batch, revoked partitions, ...);
//! - `group`: a broker's group coordinator admitted or removed a member, began a rebalance,
//!   completed a generation, stored offsets;
//! - `txn`: a broker's transaction coordinator gave a producer id, bumped an epoch, fenced a
//!   zombie, began, prepared or completed a transaction;
//! - `drop`: a message was lost: its receiver was down, the network split, or it lost it.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, ControllerId, LeaderEpoch, Offset, TopicPartition};
use crate::message::NodeId;
use crate::metadata::{ConfigName, ElectionKind};
use crate::raft::RaftEvent;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TraceEvent {
    /// A named producer's record was acknowledged (at this offset, unless `acks=0`).
    ClientDelivered {
        client: crate::command::ClientName,
        partition: TopicPartition,
        offset: Option<Offset>,
    },
    /// A named producer's record could not be delivered.
    ClientFailed {
        client: crate::command::ClientName,
        partition: TopicPartition,
        error: String,
    },
    /// A transactional producer's transaction ended.
    TransactionEnded {
        client: crate::command::ClientName,
        committed: bool,
    },
    /// A named client's own account of what it did (joined a group, sent a batch, ...).
    Client {
        client: crate::command::ClientName,
        event: String,
    },
    /// A named consumer's application finished processing a record.
    Processed {
        client: crate::command::ClientName,
        partition: TopicPartition,
        offset: Offset,
    },
    /// What a broker's group coordinator did.
    Group {
        broker: BrokerId,
        event: crate::group::GroupEvent,
    },
    /// What a broker's transaction coordinator did.
    Transaction {
        broker: BrokerId,
        event: crate::transaction::TxnEvent,
    },
    Killed {
        node: NodeId,
    },
    Restarted {
        node: NodeId,
    },
    /// Something a controller's Raft replica did: a role change, a vote, a truncation, a new
    /// high watermark.
    Quorum {
        controller: ControllerId,
        event: RaftEvent,
    },
    Registered {
        broker: BrokerId,
    },
    Fenced {
        broker: BrokerId,
        reason: FenceReason,
    },
    Unfenced {
        broker: BrokerId,
    },
    Elected {
        partition: TopicPartition,
        leader: Option<BrokerId>,
        leader_epoch: LeaderEpoch,
        isr: Vec<BrokerId>,
        /// How: from the ISR, uncleanly, back to the preferred replica, or away from a broker
        /// shutting down.
        kind: ElectionKind,
    },
    IsrChanged {
        partition: TopicPartition,
        isr: Vec<BrokerId>,
    },
    BecameLeader {
        broker: BrokerId,
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
    },
    BecameFollower {
        broker: BrokerId,
        partition: TopicPartition,
        leader: Option<BrokerId>,
        leader_epoch: LeaderEpoch,
    },
    Appended {
        broker: BrokerId,
        partition: TopicPartition,
        offset: Offset,
    },
    Replicated {
        broker: BrokerId,
        partition: TopicPartition,
        from: Offset,
        to: Offset,
    },
    HighWatermark {
        broker: BrokerId,
        partition: TopicPartition,
        high_watermark: Offset,
    },
    Truncated {
        broker: BrokerId,
        partition: TopicPartition,
        to: Offset,
    },
    ProduceSent {
        request_id: u64,
        partition: TopicPartition,
        leader: BrokerId,
    },
    ProduceAcked {
        request_id: u64,
        partition: TopicPartition,
        offset: Offset,
    },
    ProduceFailed {
        request_id: u64,
        partition: TopicPartition,
        error: ErrorCode,
    },
    /// A topic was created, or grew to this many partitions.
    TopicChanged {
        topic: String,
        partitions: i32,
    },
    /// A topic was deleted, with all its partitions.
    TopicDeleted {
        topic: String,
    },
    /// A broker dropped its replica (and log) of a deleted topic's partition.
    ReplicaDeleted {
        broker: BrokerId,
        partition: TopicPartition,
    },
    ConfigChanged {
        name: ConfigName,
        value: String,
    },
    /// An administrator's request was carried out, or refused.
    AdminDone {
        request_id: u64,
        what: String,
    },
    AdminFailed {
        request_id: u64,
        what: String,
        error: ErrorCode,
        message: String,
    },
    /// Retention deleted whole segments; the log now starts at `log_start`.
    SegmentsDeleted {
        broker: BrokerId,
        partition: TopicPartition,
        segments: usize,
        records: u64,
        log_start: Offset,
    },
    /// The log cleaner removed records superseded by a newer one with the same key, and
    /// tombstones past `delete.retention.ms`.
    Compacted {
        broker: BrokerId,
        partition: TopicPartition,
        records_removed: u64,
        tombstones_removed: u64,
    },
    /// The consumer read `records` committed records of a partition; its position moved from
    /// `from` to `to`.
    Consumed {
        partition: TopicPartition,
        from: Offset,
        to: Offset,
        records: u64,
    },
    /// A broker asked to shut down cleanly; later it stopped.
    ShutdownRequested {
        broker: BrokerId,
    },
    /// A node stopped after its controlled shutdown (in the combined layout, its controller
    /// stops with it).
    Stopped {
        node: NodeId,
    },
    Dropped {
        from: NodeId,
        to: NodeId,
        what: String,
        reason: DropReason,
    },
}

/// Why a message never arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DropReason {
    /// It reached a node that was down.
    NodeDown,
    /// The network split between sender and receiver.
    Split,
    /// The network lost it (the fault model's loss rate).
    Lost,
    /// Its client-broker connection had been reset by an earlier loss.
    ConnectionReset,
}

/// Why the controller fenced a broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FenceReason {
    /// No heartbeat for `broker.session.timeout.ms`.
    SessionExpired,
    /// It registered again while its old registration was live: it restarted without a clean
    /// shutdown, so what it led before cannot be trusted to it.
    Reregistered,
    /// It asked to stop and the controller moved its leaderships away.
    ControlledShutdown,
}

/// A trace event and the simulated time it happened at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TraceLine {
    pub at_ms: u64,
    pub event: TraceEvent,
}

struct Brokers<'a>(&'a [BrokerId]);

impl fmt::Display for Brokers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, broker) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, " ")?;
            }
            write!(f, "{broker}")?;
        }
        write!(f, "]")
    }
}

impl fmt::Display for NodeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeId::Broker(id) => write!(f, "broker {id}"),
            NodeId::Controller(id) => write!(f, "controller {id}"),
            NodeId::Client(crate::ids::ClientId::CONSOLE) => write!(f, "client"),
            NodeId::Client(id) => write!(f, "client {id}"),
        }
    }
}

impl fmt::Display for TraceEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use TraceEvent::*;
        match self {
            Killed { node } => write!(f, "kill {node}"),
            Restarted { node } => write!(f, "restart {node}"),
            Quorum { controller, event } => write!(f, "controller {controller} {event}"),
            Transaction { broker, event } => write!(f, "txn broker {broker}: {event}"),
            Group { broker, event } => write!(f, "group broker {broker}: {event}"),
            ClientDelivered { client, partition, offset: Some(offset) } => write!(f, "ack {client} {partition}@{offset}"),
            ClientDelivered { client, partition, offset: None } => write!(f, "ack {client} {partition}"),
            ClientFailed { client, partition, error } => write!(f, "error {client} {partition}: {error}"),
            TransactionEnded { client, committed: true } => write!(f, "txn {client} committed"),
            TransactionEnded { client, committed: false } => write!(f, "txn {client} aborted"),
            Client { client, event } => write!(f, "{client}: {event}"),
            Processed { client, partition, offset } => write!(f, "processed {client} {partition}@{offset}"),
            Registered { broker } => write!(f, "registered broker {broker}"),
            Fenced { broker, reason: FenceReason::SessionExpired } => {
                write!(f, "fenced broker {broker}: no heartbeat within the session timeout")
            }
            Fenced { broker, reason: FenceReason::Reregistered } => {
                write!(f, "fenced broker {broker}: it registered again after an unclean restart")
            }
            Fenced { broker, reason: FenceReason::ControlledShutdown } => {
                write!(f, "fenced broker {broker}: controlled shutdown")
            }
            Unfenced { broker } => write!(f, "unfenced broker {broker}"),
            Elected { partition, leader: Some(leader), leader_epoch, isr, kind } => {
                write!(f, "elect {partition} leader {leader} epoch {leader_epoch} isr {}", Brokers(isr))?;
                match kind {
                    ElectionKind::Clean => Ok(()),
                    ElectionKind::Unclean => write!(f, " UNCLEAN: it was not in sync"),
                    ElectionKind::Preferred => write!(f, " (preferred leader)"),
                    ElectionKind::ControlledShutdown => write!(f, " (controlled shutdown)"),
                }
            }
            Elected { partition, leader: None, leader_epoch, isr, .. } => {
                write!(f, "elect {partition} no leader epoch {leader_epoch} isr {}", Brokers(isr))
            }
            IsrChanged { partition, isr } => write!(f, "isr {partition} {}", Brokers(isr)),
            BecameLeader { broker, partition, leader_epoch } => {
                write!(f, "leader broker {broker} leads {partition} at epoch {leader_epoch}")
            }
            BecameFollower { broker, partition, leader: Some(leader), leader_epoch } => {
                write!(f, "follower broker {broker} follows {leader} for {partition} at epoch {leader_epoch}")
            }
            BecameFollower { broker, partition, leader: None, leader_epoch } => {
                write!(f, "follower broker {broker} has no leader for {partition} at epoch {leader_epoch}")
            }
            Appended { broker, partition, offset } => {
                write!(f, "append {partition}@{offset} on broker {broker}")
            }
            Replicated { broker, partition, from, to } => {
                write!(f, "replicate {partition} offsets {from}..{to} to broker {broker}")
            }
            HighWatermark { broker, partition, high_watermark } => {
                write!(f, "hw {partition} = {high_watermark} on broker {broker}")
            }
            Truncated { broker, partition, to } => {
                write!(f, "truncate {partition} to {to} on broker {broker}")
            }
            ProduceSent { request_id, partition, leader } => {
                write!(f, "produce #{request_id} to {partition} via broker {leader}")
            }
            ProduceAcked { request_id, partition, offset } => {
                write!(f, "ack #{request_id} {partition}@{offset}")
            }
            ProduceFailed { request_id, partition, error } => {
                write!(f, "error #{request_id} {partition}: {error}")
            }
            TopicChanged { topic, partitions } => write!(f, "topic {topic} has {partitions} partitions"),
            TopicDeleted { topic } => write!(f, "topic {topic} deleted"),
            ReplicaDeleted { broker, partition } => write!(f, "delete {partition} on broker {broker}: its topic was deleted"),
            ConfigChanged { name, value } => write!(f, "config {}={value}", name.key()),
            AdminDone { request_id, what } => write!(f, "admin #{request_id} {what}: done"),
            AdminFailed { request_id, what, error, message } => {
                write!(f, "admin #{request_id} {what}: {error}: {message}")
            }
            SegmentsDeleted { broker, partition, segments, records, log_start } => write!(
                f,
                "retention {partition} on broker {broker}: deleted {segments} segment(s), {records} record(s); log starts at {log_start}"
            ),
            Compacted { broker, partition, records_removed, tombstones_removed } => write!(
                f,
                "compact {partition} on broker {broker}: removed {records_removed} superseded record(s), {tombstones_removed} tombstone(s)"
            ),
            Consumed { partition, from, to, records } => {
                write!(f, "consume {partition} offsets {from}..{to}: {records} record(s)")
            }
            ShutdownRequested { broker } => {
                write!(f, "shutdown broker {broker}: asks the controller to move its leaders")
            }
            Stopped { node } => write!(f, "stopped {node} after a controlled shutdown"),
            Dropped { from, to, what, reason } => {
                let why = match reason {
                    DropReason::NodeDown => "the receiver is down",
                    DropReason::Split => "the network is split",
                    DropReason::Lost => "the network lost it",
                    DropReason::ConnectionReset => "its connection was reset",
                };
                write!(f, "drop {what} from {from} to {to}: {why}")
            }
        }
    }
}

impl fmt::Display for TraceLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:>8} ms  {}", self.at_ms, self.event)
    }
}
