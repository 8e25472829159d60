//! The active controller: broker liveness, fencing, and partition leadership.
//!
//! Brokers register and then heartbeat every `broker.heartbeat.interval.ms`; a broker silent
//! for `broker.session.timeout.ms` is fenced. Fencing removes it from every ISR (never
//! emptying one: the last member stays, as in KRaft) and gives each partition it led a new
//! leader from the remaining in-sync replicas, at a new leader epoch; with none left the
//! partition has no leader until an in-sync replica comes back. Leaders change ISRs through
//! `AlterPartition`, accepted only at the current leader and partition epochs. Every change
//! goes to the brokers as a `MetadataUpdate`. A broker that registers while its previous
//! registration is still live restarted uncleanly: it is fenced first, as if its session had
//! expired, and then admitted again.
//!
//! The walking skeleton runs one controller that cannot fail; the KRaft quorum (Raft over a
//! replicated metadata log) replaces its in-memory state with committed metadata records.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::config::ClusterConfig;
use crate::ids::{BrokerId, LeaderEpoch, TopicPartition};
use crate::message::{Message, NodeId, Output, Timer};
use crate::topology::{assign_replicas, PartitionState};
use crate::trace::{FenceReason, TraceEvent};

/// How often the controller looks for expired broker sessions.
const SESSION_CHECK_INTERVAL_MS: u64 = 250;

#[derive(Clone, Debug)]
struct BrokerSession {
    /// It has registered at least once (at start the cluster is taken as already running).
    registered: bool,
    fenced: bool,
    last_heartbeat_ms: u64,
}

#[derive(Clone, Debug)]
pub struct Controller {
    config: ClusterConfig,
    sessions: BTreeMap<BrokerId, BrokerSession>,
    partitions: BTreeMap<TopicPartition, PartitionState>,
    outputs: Vec<Output>,
}

impl Controller {
    /// A controller for a cluster whose topics already exist: every partition led by its
    /// preferred replica at leader epoch 0, with all replicas in sync.
    pub fn new(config: ClusterConfig) -> Self {
        let sessions = (1..=config.broker_count)
            .map(|id| (BrokerId(id), BrokerSession { registered: false, fenced: false, last_heartbeat_ms: 0 }))
            .collect();
        let mut partitions = BTreeMap::new();
        for topic in &config.topics {
            for index in 0..topic.partitions {
                let replicas = assign_replicas(index, topic.replication_factor, config.broker_count);
                let partition = TopicPartition::new(topic.name.clone(), index);
                partitions.insert(
                    partition.clone(),
                    PartitionState {
                        partition,
                        leader: Some(replicas[0]),
                        isr: replicas.clone(),
                        replicas,
                        leader_epoch: LeaderEpoch(0),
                        partition_epoch: 0,
                    },
                );
            }
        }
        Controller { config, sessions, partitions, outputs: Vec::new() }
    }

    pub fn start(&mut self) {
        self.outputs.push(Output::SetTimer { after_ms: SESSION_CHECK_INTERVAL_MS, timer: Timer::SessionExpiration });
    }

    pub fn partitions(&self) -> impl Iterator<Item = &PartitionState> {
        self.partitions.values()
    }

    pub fn partition(&self, partition: &TopicPartition) -> Option<&PartitionState> {
        self.partitions.get(partition)
    }

    pub fn is_fenced(&self, broker: BrokerId) -> bool {
        self.sessions.get(&broker).is_none_or(|s| s.fenced)
    }

    pub fn take_outputs(&mut self) -> Vec<Output> {
        core::mem::take(&mut self.outputs)
    }

    pub fn handle_message(&mut self, now_ms: u64, message: Message) {
        match message {
            Message::BrokerRegistration { broker } => {
                self.trace(TraceEvent::Registered { broker });
                let session = self.sessions.get_mut(&broker);
                let reregistered = session.is_some_and(|s| {
                    let was_registered = core::mem::replace(&mut s.registered, true);
                    was_registered && !s.fenced
                });
                if reregistered {
                    // Its old session never ended: it crashed and came back before the session
                    // timeout. KRaft fences the old incarnation first, moving its leaderships.
                    self.fence(broker, FenceReason::Reregistered);
                }
                self.heard_from(now_ms, broker);
                let snapshot = self.partitions.values().cloned().collect();
                self.send(NodeId::Broker(broker), Message::MetadataUpdate { partitions: snapshot });
            }
            Message::BrokerHeartbeat { broker } => self.heard_from(now_ms, broker),
            Message::AlterPartition { leader, partition, leader_epoch, partition_epoch, isr } => {
                self.handle_alter_partition(leader, partition, leader_epoch, partition_epoch, isr)
            }
            _ => debug_assert!(false, "controller got a message meant for a broker or client"),
        }
    }

    pub fn handle_timer(&mut self, now_ms: u64, timer: Timer) {
        debug_assert_eq!(timer, Timer::SessionExpiration);
        let timeout = self.config.broker_session_timeout_ms;
        let expired: Vec<BrokerId> = self
            .sessions
            .iter()
            .filter(|(_, s)| !s.fenced && now_ms.saturating_sub(s.last_heartbeat_ms) > timeout)
            .map(|(&b, _)| b)
            .collect();
        for broker in expired {
            self.fence(broker, FenceReason::SessionExpired);
        }
        self.outputs.push(Output::SetTimer { after_ms: SESSION_CHECK_INTERVAL_MS, timer: Timer::SessionExpiration });
    }

    fn heard_from(&mut self, now_ms: u64, broker: BrokerId) {
        let Some(session) = self.sessions.get_mut(&broker) else {
            return;
        };
        session.last_heartbeat_ms = now_ms;
        if session.fenced {
            session.fenced = false;
            self.trace(TraceEvent::Unfenced { broker });
            self.elect_where_leaderless(broker);
        }
    }

    fn fence(&mut self, broker: BrokerId, reason: FenceReason) {
        self.sessions.get_mut(&broker).expect("fencing a known broker").fenced = true;
        self.trace(TraceEvent::Fenced { broker, reason });
        let mut changed = Vec::new();
        for state in self.partitions.values_mut() {
            if !state.isr.contains(&broker) && state.leader != Some(broker) {
                continue;
            }
            if state.isr.len() > 1 {
                state.isr.retain(|&b| b != broker);
            }
            let led = state.leader == Some(broker);
            if led {
                let sessions = &self.sessions;
                state.leader = state
                    .replicas
                    .iter()
                    .copied()
                    .find(|b| *b != broker && state.isr.contains(b) && sessions.get(b).is_some_and(|s| !s.fenced));
                state.leader_epoch = LeaderEpoch(state.leader_epoch.0 + 1);
            }
            state.partition_epoch += 1;
            changed.push((state.clone(), led));
        }
        self.publish(changed);
    }

    /// A returning broker leads the partitions that lost every other in-sync replica.
    fn elect_where_leaderless(&mut self, broker: BrokerId) {
        let mut changed = Vec::new();
        for state in self.partitions.values_mut() {
            if state.leader.is_none() && state.isr.contains(&broker) {
                state.leader = Some(broker);
                state.leader_epoch = LeaderEpoch(state.leader_epoch.0 + 1);
                state.partition_epoch += 1;
                changed.push((state.clone(), true));
            }
        }
        self.publish(changed);
    }

    fn handle_alter_partition(
        &mut self,
        leader: BrokerId,
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
        partition_epoch: i32,
        isr: Vec<BrokerId>,
    ) {
        let sessions = &self.sessions;
        let Some(state) = self.partitions.get_mut(&partition) else {
            return;
        };
        let current = state.leader == Some(leader)
            && state.leader_epoch == leader_epoch
            && state.partition_epoch == partition_epoch;
        let admissible = !isr.is_empty()
            && isr.contains(&leader)
            && isr.iter().all(|b| state.replicas.contains(b))
            && isr.iter().all(|b| state.isr.contains(b) || sessions.get(b).is_some_and(|s| !s.fenced));
        if !(current && admissible) {
            // Tell the leader what the metadata really says, so it stops waiting.
            let state = state.clone();
            self.send(NodeId::Broker(leader), Message::MetadataUpdate { partitions: alloc::vec![state] });
            return;
        }
        state.isr = isr.clone();
        state.partition_epoch += 1;
        let state = state.clone();
        self.trace(TraceEvent::IsrChanged { partition, isr });
        self.broadcast(alloc::vec![state]);
    }

    /// Traces and broadcasts changed partitions; the flag says whether the leader changed.
    fn publish(&mut self, changed: Vec<(PartitionState, bool)>) {
        if changed.is_empty() {
            return;
        }
        for (state, leader_changed) in &changed {
            let (partition, isr) = (state.partition.clone(), state.isr.clone());
            self.trace(if *leader_changed {
                TraceEvent::Elected { partition, leader: state.leader, leader_epoch: state.leader_epoch, isr }
            } else {
                TraceEvent::IsrChanged { partition, isr }
            });
        }
        self.broadcast(changed.into_iter().map(|(state, _)| state).collect());
    }

    fn broadcast(&mut self, partitions: Vec<PartitionState>) {
        for broker in 1..=self.config.broker_count {
            self.send(NodeId::Broker(BrokerId(broker)), Message::MetadataUpdate { partitions: partitions.clone() });
        }
    }

    fn send(&mut self, to: NodeId, message: Message) {
        self.outputs.push(Output::Send { to, message });
    }

    fn trace(&mut self, event: TraceEvent) {
        self.outputs.push(Output::Trace(event));
    }
}
