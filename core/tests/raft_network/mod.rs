//! A tiny deterministic network that drives `RaftNode`s by simulated time, for the raft tests.
//!
//! Messages wait in a queue ordered by delivery time (then by send order), with delays drawn
//! from a seeded `Rng`; links can be cut one way or both, messages dropped at a ratio, and
//! nodes crashed (keeping only their `PersistentState`) and restarted. After every event the
//! [`Oracle`] checks Raft's safety properties; a violation panics with the seed and the end of
//! the trace, so a failing sweep prints what reproduces it.
#![allow(dead_code)]

mod oracle;

pub use oracle::Oracle;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use kafkalab_core::raft::{
    Epoch, LogEntry, Message, NotLeader, Output, PersistentState, RaftConfig, RaftEvent, RaftNode, ReplicaId, Role,
};
use kafkalab_core::rng::Rng;
use kafkalab_core::Offset;

/// The entries the tests replicate: readable strings.
pub type Entry = String;

/// The fault model, a plain options struct. Probabilities are integer ratios per thousand.
#[derive(Clone, Debug)]
pub struct Faults {
    pub delay_min_ms: u64,
    pub delay_max_ms: u64,
    pub drop_per_thousand: u64,
}

impl Faults {
    /// A calm LAN: 1 to 5 ms, nothing lost.
    pub fn none() -> Self {
        Faults { delay_min_ms: 1, delay_max_ms: 5, drop_per_thousand: 0 }
    }

    /// Every message takes exactly `delay_ms`: symmetric starts stay symmetric.
    pub fn fixed_delay(delay_ms: u64) -> Self {
        Faults { delay_min_ms: delay_ms, delay_max_ms: delay_ms, drop_per_thousand: 0 }
    }
}

struct Envelope {
    from: ReplicaId,
    to: ReplicaId,
    message: Message<Entry>,
}

struct Slot {
    node: Option<RaftNode<Entry>>,
    /// What survives a crash.
    persisted: PersistentState<Entry>,
    incarnation: u64,
    /// What this incarnation applied, in order.
    applied: Vec<LogEntry<Entry>>,
}

pub struct Network {
    seed: u64,
    now_ms: u64,
    config: RaftConfig,
    rng: Rng,
    pub faults: Faults,
    nodes: BTreeMap<ReplicaId, Slot>,
    queue: BTreeMap<(u64, u64), Envelope>,
    next_sequence: u64,
    /// Directed links that lose everything: (from, to).
    cut: BTreeSet<(ReplicaId, ReplicaId)>,
    trace: Vec<String>,
    pub oracle: Oracle,
    pub messages_sent: u64,
}

impl Network {
    /// `config.voters` plus `observers`, all started at time 0 with empty persistent state.
    pub fn new(seed: u64, config: RaftConfig, observers: &[ReplicaId], faults: Faults) -> Self {
        let mut network = Network {
            seed,
            now_ms: 0,
            rng: Rng::new(seed),
            faults,
            nodes: BTreeMap::new(),
            queue: BTreeMap::new(),
            next_sequence: 0,
            cut: BTreeSet::new(),
            trace: Vec::new(),
            oracle: Oracle::default(),
            messages_sent: 0,
            config: config.clone(),
        };
        for &id in config.voters.iter().chain(observers) {
            let slot = Slot { node: None, persisted: PersistentState::default(), incarnation: 0, applied: Vec::new() };
            network.nodes.insert(id, slot);
            network.boot(id);
        }
        network
    }

    /// Three voters, 1, 2 and 3, with KRaft's default timeouts.
    pub fn three_voters(seed: u64, faults: Faults) -> Self {
        Network::new(seed, RaftConfig::default(), &[], faults)
    }

    fn boot(&mut self, id: ReplicaId) {
        let slot = self.nodes.get_mut(&id).expect("a known node");
        // Each node and incarnation draws from its own stream, derived from the run's seed.
        let node_seed = self.seed ^ (id.0 as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ slot.incarnation << 32;
        let mut node = RaftNode::new(id, self.config.clone(), slot.persisted.clone(), Rng::new(node_seed))
            .unwrap_or_else(|error| panic!("seed {}: node {id} cannot start: {error}", self.seed));
        node.start(self.now_ms);
        slot.node = Some(node);
        slot.applied.clear();
        self.pump(id);
    }

    // ----- the view -----

    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn trace(&self) -> &[String] {
        &self.trace
    }

    pub fn node(&self, id: ReplicaId) -> &RaftNode<Entry> {
        self.nodes[&id].node.as_ref().unwrap_or_else(|| panic!("node {id} is down"))
    }

    pub fn is_up(&self, id: ReplicaId) -> bool {
        self.nodes[&id].node.is_some()
    }

    pub fn ids(&self) -> Vec<ReplicaId> {
        self.nodes.keys().copied().collect()
    }

    pub fn voters(&self) -> Vec<ReplicaId> {
        self.config.voters.clone()
    }

    /// What node `id` applied in its current incarnation, as strings (control records as `*`).
    pub fn applied(&self, id: ReplicaId) -> Vec<String> {
        self.nodes[&id].applied.iter().map(describe).collect()
    }

    /// Every committed data entry, in offset order.
    pub fn committed_data(&self) -> Vec<String> {
        self.oracle.committed.values().filter_map(|(entry, _)| data_of(entry)).collect()
    }

    /// Live nodes that think they lead.
    pub fn leaders(&self) -> Vec<ReplicaId> {
        self.live().filter(|(_, node)| node.role() == Role::Leader).map(|(id, _)| id).collect()
    }

    /// A leader every live voter follows at its epoch, if there is one.
    pub fn stable_leader(&self) -> Option<(ReplicaId, Epoch)> {
        let leaders = self.leaders();
        let &[leader] = leaders.as_slice() else { return None };
        let epoch = self.node(leader).epoch();
        let agreed = self.config.voters.iter().filter(|&&v| self.is_up(v)).all(|&v| {
            let node = self.node(v);
            node.epoch() == epoch
                && node.leader() == Some(leader)
                && matches!(node.role(), Role::Leader | Role::Follower)
        });
        agreed.then_some((leader, epoch))
    }

    fn live(&self) -> impl Iterator<Item = (ReplicaId, &RaftNode<Entry>)> {
        self.nodes.iter().filter_map(|(&id, slot)| slot.node.as_ref().map(|node| (id, node)))
    }

    // ----- faults -----

    pub fn crash(&mut self, id: ReplicaId) {
        let slot = self.nodes.get_mut(&id).expect("a known node");
        if let Some(node) = slot.node.take() {
            slot.persisted = node.persistent_state().clone();
            self.log(format!("crash node {id}"));
        }
    }

    pub fn restart(&mut self, id: ReplicaId) {
        if self.is_up(id) {
            return;
        }
        self.nodes.get_mut(&id).expect("a known node").incarnation += 1;
        self.log(format!("restart node {id}"));
        self.boot(id);
    }

    /// Cuts every link between `id` and the rest, both ways.
    pub fn isolate(&mut self, id: ReplicaId) {
        for other in self.ids() {
            if other != id {
                self.cut.insert((id, other));
                self.cut.insert((other, id));
            }
        }
        self.log(format!("isolate node {id}"));
    }

    /// Splits the nodes into groups that only talk within themselves.
    pub fn partition(&mut self, groups: &[&[ReplicaId]]) {
        self.cut.clear();
        for a in self.ids() {
            for b in self.ids() {
                let together = groups.iter().any(|group| group.contains(&a) && group.contains(&b));
                if a != b && !together {
                    self.cut.insert((a, b));
                }
            }
        }
        self.log(format!("partition {groups:?}"));
    }

    pub fn heal(&mut self) {
        self.cut.clear();
        self.log("heal".to_string());
    }

    // ----- driving -----

    pub fn propose(&mut self, id: ReplicaId, entry: &str) -> Result<Offset, NotLeader> {
        let slot = self.nodes.get_mut(&id).expect("a known node");
        let node = slot.node.as_mut().unwrap_or_else(|| panic!("node {id} is down"));
        let result = node.propose(entry.to_string());
        self.pump(id);
        self.check_views();
        result
    }

    /// Asks node `id` to step down gracefully.
    pub fn resign(&mut self, id: ReplicaId) -> Result<(), NotLeader> {
        let now_ms = self.now_ms;
        let node = self.nodes.get_mut(&id).and_then(|slot| slot.node.as_mut()).expect("a live node");
        let result = node.resign(now_ms);
        self.pump(id);
        self.check_views();
        result
    }

    pub fn run_for(&mut self, duration_ms: u64) {
        self.run_until(self.now_ms + duration_ms);
    }

    /// Delivers messages and fires timers in time order up to `end_ms`.
    pub fn run_until(&mut self, end_ms: u64) {
        while let Some(at_ms) = self.next_event_ms().filter(|&at| at <= end_ms) {
            self.now_ms = self.now_ms.max(at_ms);
            self.step();
        }
        self.now_ms = self.now_ms.max(end_ms);
    }

    /// Runs until `done` holds, checking after every event; panics after `limit_ms`.
    pub fn run_until_true(&mut self, limit_ms: u64, mut done: impl FnMut(&Network) -> bool) -> u64 {
        let end_ms = self.now_ms + limit_ms;
        while !done(self) {
            let Some(at_ms) = self.next_event_ms().filter(|&at| at <= end_ms) else {
                panic!("seed {}: condition not reached within {limit_ms} ms\n{}", self.seed, self.trace_tail(80));
            };
            self.now_ms = self.now_ms.max(at_ms);
            self.step();
        }
        self.now_ms
    }

    /// Moves the clock to `at_ms` without firing the timers due before it, then fires every
    /// node's timers at once: how a test lines up timeouts that would otherwise differ.
    pub fn fire_all_timers_at(&mut self, at_ms: u64) {
        assert!(self.queue.keys().all(|&(at, _)| at >= at_ms), "messages would be skipped");
        self.now_ms = at_ms;
        for id in self.ids() {
            self.with_node(id, |node, now| node.handle_tick(now));
        }
    }

    fn next_event_ms(&self) -> Option<u64> {
        let message = self.queue.keys().next().map(|&(at, _)| at);
        let timer = self.live().map(|(_, node)| node.next_deadline_ms()).min();
        message.into_iter().chain(timer).min()
    }

    /// One event: the earliest message, or else every timer due now.
    fn step(&mut self) {
        if let Some(entry) = self.queue.first_entry().filter(|entry| entry.key().0 <= self.now_ms) {
            let envelope = entry.remove();
            if self.cut.contains(&(envelope.from, envelope.to)) {
                return;
            }
            let (from, message) = (envelope.from, envelope.message);
            self.with_node(envelope.to, |node, now| node.handle_message(now, from, message));
            return;
        }
        let due: Vec<ReplicaId> =
            self.live().filter(|(_, node)| node.next_deadline_ms() <= self.now_ms).map(|(id, _)| id).collect();
        for id in due {
            self.with_node(id, |node, now| node.handle_tick(now));
            let next_ms = self.nodes[&id].node.as_ref().map_or(u64::MAX, |node| node.next_deadline_ms());
            assert!(next_ms > self.now_ms, "seed {}: node {id}'s tick left a timer due at {next_ms}", self.seed);
        }
    }

    fn with_node(&mut self, id: ReplicaId, act: impl FnOnce(&mut RaftNode<Entry>, u64)) {
        let now_ms = self.now_ms;
        let Some(node) = self.nodes.get_mut(&id).and_then(|slot| slot.node.as_mut()) else {
            return; // down: the message is lost
        };
        act(node, now_ms);
        self.pump(id);
        self.check_views();
    }

    /// Carries out what node `id` asked for, checking it against the oracle.
    fn pump(&mut self, id: ReplicaId) {
        let outputs = self.nodes.get_mut(&id).and_then(|slot| slot.node.as_mut()).map(|node| node.take_outputs());
        for output in outputs.unwrap_or_default() {
            match output {
                Output::Send { to, message } => self.send(id, to, message),
                Output::Committed { entries } => self.apply(id, entries),
                Output::Trace(event) => {
                    if let RaftEvent::Leader { epoch, .. } = event {
                        self.check_leader_completeness(id, epoch);
                    }
                    self.log(format!("node {id}: {event}"));
                }
            }
        }
    }

    fn send(&mut self, from: ReplicaId, to: ReplicaId, message: Message<Entry>) {
        self.messages_sent += 1;
        let dropped = self.faults.drop_per_thousand > 0 && self.rng.between(0, 999) < self.faults.drop_per_thousand;
        if dropped || self.cut.contains(&(from, to)) {
            return;
        }
        let delay_ms = self.rng.between(self.faults.delay_min_ms, self.faults.delay_max_ms);
        self.queue.insert((self.now_ms + delay_ms, self.next_sequence), Envelope { from, to, message });
        self.next_sequence += 1;
    }

    // ----- the oracle's checks, after every event -----

    fn apply(&mut self, id: ReplicaId, entries: Vec<LogEntry<Entry>>) {
        let epoch = self.node(id).epoch();
        let slot = self.nodes.get_mut(&id).expect("a known node");
        if let Err(violation) = self.oracle.apply(id, epoch, &mut slot.applied, entries) {
            panic!("seed {}: {violation}\n{}", self.seed, self.trace_tail(30));
        }
    }

    fn check_leader_completeness(&self, id: ReplicaId, epoch: Epoch) {
        if let Err(violation) = self.oracle.check_leader_completeness(id, epoch, self.node(id).log()) {
            panic!("seed {}: {violation}\n{}", self.seed, self.trace_tail(30));
        }
    }

    fn check_views(&mut self) {
        let views: Vec<(ReplicaId, Epoch, ReplicaId)> =
            self.live().filter_map(|(id, node)| node.leader().map(|leader| (id, node.epoch(), leader))).collect();
        for (id, epoch, leader) in views {
            if let Err(violation) = self.oracle.check_view(id, epoch, leader) {
                panic!("seed {}: {violation}\n{}", self.seed, self.trace_tail(30));
            }
        }
    }

    fn log(&mut self, line: String) {
        let mut text = String::new();
        let _ = write!(text, "{:>7} ms  {line}", self.now_ms);
        self.trace.push(text);
    }

    pub fn trace_tail(&self, lines: usize) -> String {
        self.trace[self.trace.len().saturating_sub(lines)..].join("\n")
    }
}

fn data_of(entry: &LogEntry<Entry>) -> Option<String> {
    match &entry.payload {
        kafkalab_core::raft::Payload::Data(text) => Some(text.clone()),
        kafkalab_core::raft::Payload::LeaderChange { .. } => None,
    }
}

fn describe(entry: &LogEntry<Entry>) -> String {
    data_of(entry).unwrap_or_else(|| "*".to_string())
}

/// The node ids of the default quorum.
pub const N1: ReplicaId = ReplicaId(1);
pub const N2: ReplicaId = ReplicaId(2);
pub const N3: ReplicaId = ReplicaId(3);
