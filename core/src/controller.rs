//! The active controller: broker liveness, fencing, and partition leadership.
//!
//! Brokers register and then heartbeat every `broker.heartbeat.interval.ms`; a broker silent
//! for `broker.session.timeout.ms` is fenced. Fencing removes it from every ISR (never
//! emptying one: the last member stays, as in KRaft) and gives each partition it led a new
//! leader from the remaining in-sync replicas, at a new leader epoch; with none left the
//! partition has no leader until an in-sync replica comes back. Leaders change ISRs through
//! `AlterPartition`, accepted only at the current leader and partition epochs. Every change
//! goes to every broker as a versioned `MetadataUpdate` of the whole partition metadata, and
//! a broker whose heartbeat reports an older version gets it again (messages can be lost). A broker that registers while its previous
//! registration is still live restarted uncleanly: it is fenced first, as if its session had
//! expired, and then admitted again.
//!
//! The walking skeleton runs one controller that cannot fail; the KRaft quorum (Raft over a
//! replicated metadata log) replaces its in-memory state with committed metadata records.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::config::ClusterConfig;
use crate::election::elect;
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, LeaderEpoch, TopicPartition};
use crate::message::{Message, NodeId, Output, Timer};
use crate::topology::{assign_replicas, PartitionState};
use crate::trace::{FenceReason, TraceEvent};

/// How often the controller looks for expired broker sessions.
const SESSION_CHECK_INTERVAL_MS: u64 = 250;

#[derive(Clone, Debug)]
struct BrokerSession {
    /// The epoch of its current registration; none before it first registers (at start the
    /// cluster is taken as already running, its brokers unfenced).
    broker_epoch: Option<u64>,
    /// The incarnation that registration came from.
    incarnation: u64,
    fenced: bool,
    last_heartbeat_ms: u64,
}

#[derive(Clone, Debug)]
pub struct Controller {
    config: ClusterConfig,
    sessions: BTreeMap<BrokerId, BrokerSession>,
    partitions: BTreeMap<TopicPartition, PartitionState>,
    /// Bumped on every metadata change; brokers report the version they have.
    metadata_version: u64,
    /// The last broker epoch handed out; each registration gets the next.
    last_broker_epoch: u64,
    outputs: Vec<Output>,
}

impl Controller {
    /// A controller for a cluster whose topics already exist: every partition led by its
    /// preferred replica at leader epoch 0, with all replicas in sync.
    pub fn new(config: ClusterConfig) -> Self {
        let sessions = (1..=config.broker_count)
            .map(|id| {
                (
                    BrokerId(id),
                    BrokerSession { broker_epoch: None, incarnation: 0, fenced: false, last_heartbeat_ms: 0 },
                )
            })
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
        Controller { config, sessions, partitions, metadata_version: 1, last_broker_epoch: 0, outputs: Vec::new() }
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
            Message::BrokerRegistration { broker, incarnation } => {
                self.handle_registration(now_ms, broker, incarnation)
            }
            Message::BrokerHeartbeat { broker, broker_epoch, metadata_version } => {
                let current = self.sessions.get(&broker).and_then(|s| s.broker_epoch);
                if current != Some(broker_epoch) {
                    let result = Err(ErrorCode::StaleBrokerEpoch);
                    self.send(NodeId::Broker(broker), Message::BrokerHeartbeatResponse { broker_epoch, result });
                    return;
                }
                self.heard_from(now_ms, broker);
                if metadata_version < self.metadata_version {
                    self.send_snapshot(broker);
                }
            }
            Message::AlterPartition { leader, partition, leader_epoch, partition_epoch, isr } => {
                self.handle_alter_partition(leader, partition, leader_epoch, partition_epoch, isr)
            }
            _ => debug_assert!(false, "controller got a message meant for a broker or client"),
        }
    }

    fn handle_registration(&mut self, now_ms: u64, broker: BrokerId, incarnation: u64) {
        let Some(session) = self.sessions.get_mut(&broker) else {
            return;
        };
        if incarnation < session.incarnation {
            return; // sent before the broker's last restart, and overtaken on the way
        }
        if let (Some(broker_epoch), true) = (session.broker_epoch, session.incarnation == incarnation) {
            // A retry whose answer was lost: the same registration, answered again.
            self.heard_from(now_ms, broker);
            self.send(NodeId::Broker(broker), Message::BrokerRegistrationResponse { incarnation, broker_epoch });
            self.send_snapshot(broker);
            return;
        }
        session.incarnation = incarnation;
        let reregistered = session.broker_epoch.is_some() && !session.fenced;
        self.last_broker_epoch += 1;
        let broker_epoch = self.last_broker_epoch;
        self.trace(TraceEvent::Registered { broker });
        if reregistered {
            // Its old session never ended: it crashed and came back before the session
            // timeout. KRaft fences the old incarnation first, moving its leaderships.
            self.fence(broker, FenceReason::Reregistered);
        }
        self.sessions.get_mut(&broker).expect("checked above").broker_epoch = Some(broker_epoch);
        self.heard_from(now_ms, broker);
        self.elect_where_leaderless(broker);
        self.send(NodeId::Broker(broker), Message::BrokerRegistrationResponse { incarnation, broker_epoch });
        self.send_snapshot(broker);
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
        let unclean_allowed = self.config.unclean_leader_election_enable;
        let sessions = &self.sessions;
        let is_live = |b: BrokerId| sessions.get(&b).is_some_and(|s| !s.fenced);
        let mut changed = Vec::new();
        for state in self.partitions.values_mut() {
            if !state.isr.contains(&broker) && state.leader != Some(broker) {
                continue;
            }
            if state.isr.len() > 1 {
                state.isr.retain(|&b| b != broker);
            }
            let mut unclean = None;
            if state.leader == Some(broker) {
                let election = elect(state, is_live, unclean_allowed);
                state.leader = election.leader;
                state.isr = election.isr;
                state.leader_epoch = LeaderEpoch(state.leader_epoch.0 + 1);
                unclean = Some(election.unclean);
            }
            state.partition_epoch += 1;
            changed.push((state.clone(), unclean));
        }
        self.publish(changed);
    }

    /// A returning broker leads the partitions that lost every in-sync replica: cleanly if it
    /// is in the ISR, uncleanly if that is allowed and it is not.
    fn elect_where_leaderless(&mut self, broker: BrokerId) {
        let unclean_allowed = self.config.unclean_leader_election_enable;
        let sessions = &self.sessions;
        let is_live = |b: BrokerId| sessions.get(&b).is_some_and(|s| !s.fenced);
        let mut changed = Vec::new();
        for state in self.partitions.values_mut() {
            if state.leader.is_some() || !state.replicas.contains(&broker) {
                continue;
            }
            let election = elect(state, is_live, unclean_allowed);
            if election.leader.is_none() {
                continue;
            }
            state.leader = election.leader;
            state.isr = election.isr;
            state.leader_epoch = LeaderEpoch(state.leader_epoch.0 + 1);
            state.partition_epoch += 1;
            changed.push((state.clone(), Some(election.unclean)));
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
        let same_leadership = state.leader == Some(leader) && state.leader_epoch == leader_epoch;
        if same_leadership && !current && state.isr == isr {
            // A retry of a change already made: its first answer was lost.
            let state = state.clone();
            self.send(NodeId::Broker(leader), Message::AlterPartitionResponse { result: Ok(()), state });
            return;
        }
        if !(current && admissible) {
            let error = if !same_leadership {
                ErrorCode::FencedLeaderEpoch
            } else if !current {
                ErrorCode::InvalidUpdateVersion
            } else {
                ErrorCode::InvalidRequest
            };
            let state = state.clone();
            self.send(NodeId::Broker(leader), Message::AlterPartitionResponse { result: Err(error), state });
            return;
        }
        state.isr = isr.clone();
        state.partition_epoch += 1;
        let state = state.clone();
        self.trace(TraceEvent::IsrChanged { partition, isr });
        self.send(NodeId::Broker(leader), Message::AlterPartitionResponse { result: Ok(()), state });
        self.broadcast();
    }

    /// Traces and broadcasts changed partitions. With each goes whether it had an election,
    /// and if so whether it was unclean.
    fn publish(&mut self, changed: Vec<(PartitionState, Option<bool>)>) {
        if changed.is_empty() {
            return;
        }
        for (state, election) in &changed {
            let (partition, isr) = (state.partition.clone(), state.isr.clone());
            self.trace(match election {
                Some(unclean) => TraceEvent::Elected {
                    partition,
                    leader: state.leader,
                    leader_epoch: state.leader_epoch,
                    isr,
                    unclean: *unclean,
                },
                None => TraceEvent::IsrChanged { partition, isr },
            });
        }
        self.broadcast();
    }

    /// A metadata change: a new version, sent to every broker.
    fn broadcast(&mut self) {
        self.metadata_version += 1;
        for broker in 1..=self.config.broker_count {
            self.send_snapshot(BrokerId(broker));
        }
    }

    fn send_snapshot(&mut self, broker: BrokerId) {
        let partitions = self.partitions.values().cloned().collect();
        self.send(NodeId::Broker(broker), Message::MetadataUpdate { version: self.metadata_version, partitions });
    }

    fn send(&mut self, to: NodeId, message: Message) {
        self.outputs.push(Output::Send { to, message });
    }

    fn trace(&mut self, event: TraceEvent) {
        self.outputs.push(Output::Trace(event));
    }
}
