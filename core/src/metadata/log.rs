//! The metadata log as one node holds it: a [`RaftNode`] over batches of metadata records,
//! wired to the cluster's addresses, messages and timers.
//!
//! - Every controller is a voter; controller `n` is replica `n`. Every broker fetches the log
//!   as an observer (KRaft brokers do, from the quorum's leader), as replica
//!   [`OBSERVER_ID_BASE`] + its id, so the two kinds of ids never meet.
//! - An entry's payload is a [`MetadataBatch`]: the records one decision writes, appended and
//!   committed together (KRaft's atomic batches), so no node ever sees half a decision (a
//!   broker fenced but its partitions not moved).
//! - Raft's messages travel as [`Message::Raft`] between [`NodeId`]s.
//! - Time: `RaftNode` names its next deadline; this keeps one [`Timer::RaftTick`] armed at or
//!   before it. A tick that comes early (its deadline moved later) is harmless: `handle_tick`
//!   does only what is due, and the tick is armed again.
//! - A crash keeps the persistent state (epoch, vote, log) and nothing else: [`MetadataLog::start`]
//!   on a restart builds the node again from it.

use alloc::boxed::Box;
use alloc::vec::Vec;

use crate::config::ClusterConfig;
use crate::ids::{BrokerId, ControllerId, Offset};
use crate::message::{Message, NodeId, Output, Timer};
use crate::raft::{self, LogEntry, NotLeader, PersistentState, RaftConfig, RaftEvent, RaftNode, ReplicaId};
use crate::rng::Rng;

use super::MetadataRecord;

/// The records of one decision, appended and committed as one entry of the metadata log.
pub type MetadataBatch = Vec<MetadataRecord>;

/// Broker `n` observes the metadata log as replica `1000 + n`.
pub const OBSERVER_ID_BASE: i32 = 1000;

/// The most entries one fetch answer carries: enough that a restarted broker catches up on the
/// lab's whole log in one round trip.
const MAX_FETCH_ENTRIES: usize = 4_096;

/// The quorum's settings for a cluster: its controllers vote, with KRaft's default timeouts.
pub fn raft_config(config: &ClusterConfig) -> RaftConfig {
    RaftConfig {
        voters: config.controller_ids().map(|c| ReplicaId(c.0)).collect(),
        max_fetch_entries: MAX_FETCH_ENTRIES,
        ..RaftConfig::default()
    }
}

/// The replica a node is in the metadata quorum; the client is none.
pub fn replica_of(node: NodeId) -> Option<ReplicaId> {
    match node {
        NodeId::Controller(controller) => Some(ReplicaId(controller.0)),
        NodeId::Broker(broker) => Some(ReplicaId(OBSERVER_ID_BASE + broker.0)),
        NodeId::Client(_) => None,
    }
}

/// The node a replica of the metadata quorum is.
pub fn node_of(replica: ReplicaId) -> NodeId {
    if replica.0 > OBSERVER_ID_BASE {
        NodeId::Broker(BrokerId(replica.0 - OBSERVER_ID_BASE))
    } else {
        NodeId::Controller(ControllerId(replica.0))
    }
}

/// What the log asks of the node that holds it, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogOutput {
    /// A message or a timer for the driver, ready to pass on.
    Driver(Output),
    /// Entries newly committed, in offset order; each incarnation gets every committed entry
    /// once, from offset 0.
    Committed(Vec<LogEntry<MetadataBatch>>),
    /// A role change, vote, truncation or high watermark move, for the trace.
    Event(RaftEvent),
}

/// One node's replica of the metadata log.
#[derive(Clone, Debug)]
pub struct MetadataLog {
    raft: RaftNode<MetadataBatch>,
    seed: u64,
    starts: u64,
    /// The earliest `RaftTick` armed and not yet fired.
    armed_tick_ms: Option<u64>,
}

impl MetadataLog {
    /// The replica `node` holds, empty, not started.
    pub fn new(node: NodeId, config: &ClusterConfig) -> Self {
        let replica = replica_of(node).expect("the client holds no metadata log");
        let raft = Self::build(replica, config.seed, 0, &raft_config(config), PersistentState::default());
        MetadataLog { raft, seed: config.seed, starts: 0, armed_tick_ms: None }
    }

    /// The replica `node` held on disk before the whole process stopped, not started: it
    /// starts as a restart does, from `persistent`. Refused if the vote or the log's epochs do
    /// not fit the quorum's configuration.
    pub fn recovered(
        node: NodeId,
        config: &ClusterConfig,
        persistent: PersistentState<MetadataBatch>,
    ) -> Result<Self, raft::RaftConfigError> {
        let replica = replica_of(node).expect("the client holds no metadata log");
        let raft = RaftNode::new(replica, raft_config(config), persistent, Rng::new(config.seed))?;
        Ok(MetadataLog { raft, seed: config.seed, starts: 1, armed_tick_ms: None })
    }

    fn build(
        replica: ReplicaId,
        seed: u64,
        starts: u64,
        config: &RaftConfig,
        persistent: PersistentState<MetadataBatch>,
    ) -> RaftNode<MetadataBatch> {
        // Each replica and each of its lives draws from its own stream, derived from the seed.
        let node_seed = seed ^ (replica.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (starts << 32);
        RaftNode::new(replica, config.clone(), persistent, Rng::new(node_seed))
            .expect("the cluster's quorum config was validated with it")
    }

    /// Starts, or starts again after a crash from what was persisted.
    pub fn start(&mut self, now_ms: u64) {
        if self.starts > 0 {
            let persistent = self.raft.persistent_state().clone();
            let config = self.raft.config().clone();
            self.raft = Self::build(self.raft.id(), self.seed, self.starts, &config, persistent);
        }
        self.starts += 1;
        self.armed_tick_ms = None;
        self.raft.start(now_ms);
    }

    pub fn raft(&self) -> &RaftNode<MetadataBatch> {
        &self.raft
    }

    /// The controller this replica knows leads the quorum, if it knows one.
    pub fn leader(&self) -> Option<ControllerId> {
        self.raft.leader().map(|replica| ControllerId(replica.0))
    }

    pub fn is_leader(&self) -> bool {
        self.raft.role() == raft::Role::Leader
    }

    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, message: raft::Message<MetadataBatch>) {
        let Some(from) = replica_of(from) else { return };
        if from != self.raft.id() {
            self.raft.handle_message(now_ms, from, message);
        }
    }

    /// A `RaftTick` fired.
    pub fn handle_tick(&mut self, now_ms: u64) {
        if self.armed_tick_ms.is_some_and(|armed| armed <= now_ms) {
            self.armed_tick_ms = None;
        }
        self.raft.handle_tick(now_ms);
    }

    /// Appends a batch, if this replica leads; returns its offset.
    pub fn propose(&mut self, batch: MetadataBatch) -> Result<Offset, NotLeader> {
        self.raft.propose(batch)
    }

    /// Steps down gracefully if this replica leads (before a clean stop).
    pub fn resign(&mut self, now_ms: u64) {
        let _ = self.raft.resign(now_ms);
    }

    /// What the last inputs produced, then the tick for the next deadline if one is needed.
    pub fn take_outputs(&mut self, now_ms: u64) -> Vec<LogOutput> {
        let mut outputs: Vec<LogOutput> = self
            .raft
            .take_outputs()
            .into_iter()
            .map(|output| match output {
                raft::Output::Send { to, message } => {
                    LogOutput::Driver(Output::Send { to: node_of(to), message: Message::Raft(Box::new(message)) })
                }
                raft::Output::Committed { entries } => LogOutput::Committed(entries),
                raft::Output::Trace(event) => LogOutput::Event(event),
            })
            .collect();
        let deadline_ms = self.raft.next_deadline_ms();
        if deadline_ms != u64::MAX {
            // Never at `now` itself: a deadline that is already due was handled by this call.
            let at_ms = deadline_ms.max(now_ms + 1);
            if self.armed_tick_ms.is_none_or(|armed| at_ms < armed) {
                self.armed_tick_ms = Some(at_ms);
                outputs.push(LogOutput::Driver(Output::SetTimer { after_ms: at_ms - now_ms, timer: Timer::RaftTick }));
            }
        }
        outputs
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controllers_and_observers_have_separate_replica_ids() {
        let controller = NodeId::Controller(ControllerId(2));
        let broker = NodeId::Broker(BrokerId(2));
        assert_eq!(replica_of(controller), Some(ReplicaId(2)));
        assert_eq!(replica_of(broker), Some(ReplicaId(1002)));
        assert_eq!(node_of(ReplicaId(2)), controller);
        assert_eq!(node_of(ReplicaId(1002)), broker);
        assert_eq!(replica_of(NodeId::Client(crate::ids::ClientId::CONSOLE)), None);
    }

    #[test]
    fn a_single_controller_elects_itself_and_commits_what_it_proposes() {
        let config = ClusterConfig { controller_count: 1, ..ClusterConfig::default() };
        let mut log = MetadataLog::new(NodeId::Controller(ControllerId(1)), &config);
        log.start(0);
        let mut now_ms = 0;
        while !log.is_leader() {
            let tick = log.take_outputs(now_ms).into_iter().find_map(|output| match output {
                LogOutput::Driver(Output::SetTimer { after_ms, .. }) => Some(after_ms),
                _ => None,
            });
            now_ms += tick.expect("an election timer");
            log.handle_tick(now_ms);
        }
        log.take_outputs(now_ms);
        let offset = log.propose(alloc::vec![MetadataRecord::UnfenceBroker { broker: BrokerId(1) }]).unwrap();
        let committed: Vec<Offset> = log
            .take_outputs(now_ms)
            .into_iter()
            .filter_map(|output| match output {
                LogOutput::Committed(entries) => Some(entries.into_iter().map(|e| e.offset)),
                _ => None,
            })
            .flatten()
            .collect();
        assert_eq!(committed.last(), Some(&offset));
    }
}
