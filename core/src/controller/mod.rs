//! The active controller: it decides every change to the cluster metadata and writes it as
//! [`MetadataRecord`]s; applying them builds the [`MetadataImage`] that brokers follow.
//!
//! - Brokers register, then heartbeat every `broker.heartbeat.interval.ms`; one silent for
//!   `broker.session.timeout.ms` is fenced ([`leadership`]). A broker that registers while its
//!   previous registration is still live restarted uncleanly: it is fenced first, then admitted.
//! - Leaders change ISRs through `AlterPartition`, accepted only at the current leader and
//!   partition epochs (KIP-497).
//! - Elections, preferred leader election, auto rebalance and controlled shutdown live in
//!   [`leadership`]; topic creation, new partitions and settings in [`admin`].
//! - Each change goes to every broker as a `MetadataUpdate` of the whole image, and a broker
//!   whose heartbeat reports an older version gets it again (messages can be lost).
//!
//! Heartbeat times are the only state outside the records (KRaft keeps them in memory too).
//! The walking skeleton commits records at once on one controller that cannot fail; the KRaft
//! quorum will commit them through Raft.

mod admin;
mod leadership;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::config::ClusterConfig;
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, LeaderEpoch, TopicPartition};
use crate::message::{Message, NodeId, Output, Timer};
use crate::metadata::{ElectionKind, MetadataImage, MetadataRecord};
use crate::topology::PartitionState;
use crate::trace::{FenceReason, TraceEvent};

/// How often the controller looks for expired broker sessions.
const SESSION_CHECK_INTERVAL_MS: u64 = 250;

#[derive(Clone, Debug)]
pub struct Controller {
    config: ClusterConfig,
    image: MetadataImage,
    /// The committed metadata records, in order: the metadata log.
    log: Vec<MetadataRecord>,
    last_heartbeat_ms: BTreeMap<BrokerId, u64>,
    /// The last broker epoch handed out; each registration gets the next.
    last_broker_epoch: u64,
    outputs: Vec<Output>,
}

impl Controller {
    /// A controller for a cluster that is already running with the configured topics.
    pub fn new(config: ClusterConfig) -> Self {
        let image = MetadataImage::bootstrap(&config);
        let last_heartbeat_ms = image.brokers.keys().map(|&b| (b, 0)).collect();
        Controller { config, image, log: Vec::new(), last_heartbeat_ms, last_broker_epoch: 0, outputs: Vec::new() }
    }

    pub fn start(&mut self) {
        self.set_timer(SESSION_CHECK_INTERVAL_MS, Timer::SessionExpiration);
        self.set_timer(self.config.leader_imbalance_check_interval_ms, Timer::LeaderImbalanceCheck);
    }

    pub fn image(&self) -> &MetadataImage {
        &self.image
    }

    /// The metadata records committed since the start.
    pub fn metadata_log(&self) -> &[MetadataRecord] {
        &self.log
    }

    pub fn partitions(&self) -> impl Iterator<Item = &PartitionState> {
        self.image.partitions.values()
    }

    pub fn partition(&self, partition: &TopicPartition) -> Option<&PartitionState> {
        self.image.partition(partition)
    }

    pub fn is_fenced(&self, broker: BrokerId) -> bool {
        self.image.is_fenced(broker)
    }

    pub fn take_outputs(&mut self) -> Vec<Output> {
        core::mem::take(&mut self.outputs)
    }

    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, message: Message) {
        match message {
            Message::BrokerRegistration { broker, incarnation } => {
                self.handle_registration(now_ms, broker, incarnation)
            }
            Message::BrokerHeartbeat { broker, broker_epoch, metadata_version } => {
                if !self.current_registration(broker, broker_epoch) {
                    let result = Err(ErrorCode::StaleBrokerEpoch);
                    self.send(NodeId::Broker(broker), Message::BrokerHeartbeatResponse { broker_epoch, result });
                    return;
                }
                self.heard_from(now_ms, broker);
                if metadata_version < self.image.version {
                    self.send_image(broker);
                }
            }
            Message::AlterPartition { leader, partition, leader_epoch, partition_epoch, isr } => {
                self.handle_alter_partition(leader, partition, leader_epoch, partition_epoch, isr)
            }
            Message::ControlledShutdown { broker, broker_epoch } => {
                let result = if self.current_registration(broker, broker_epoch) {
                    self.shut_down(broker);
                    Ok(())
                } else {
                    Err(ErrorCode::StaleBrokerEpoch)
                };
                self.send(NodeId::Broker(broker), Message::ControlledShutdownResponse { result });
            }
            Message::Admin { request_id, request } => {
                let result = self.handle_admin(request);
                self.send(from, Message::AdminResponse { request_id, result });
            }
            _ => debug_assert!(false, "controller got a message meant for a broker or client"),
        }
    }

    pub fn handle_timer(&mut self, now_ms: u64, timer: Timer) {
        match timer {
            Timer::SessionExpiration => {
                let timeout = self.config.broker_session_timeout_ms;
                let expired: Vec<BrokerId> = self
                    .last_heartbeat_ms
                    .iter()
                    .filter(|(&b, &last)| !self.image.is_fenced(b) && now_ms.saturating_sub(last) > timeout)
                    .map(|(&b, _)| b)
                    .collect();
                for broker in expired {
                    self.fence(broker, FenceReason::SessionExpired);
                }
                self.set_timer(SESSION_CHECK_INTERVAL_MS, Timer::SessionExpiration);
            }
            Timer::LeaderImbalanceCheck => {
                if self.image.config.auto_leader_rebalance_enable {
                    self.rebalance_leaders();
                }
                self.set_timer(self.config.leader_imbalance_check_interval_ms, Timer::LeaderImbalanceCheck);
            }
            _ => debug_assert!(false, "a broker's timer sent to the controller"),
        }
    }

    fn current_registration(&self, broker: BrokerId, broker_epoch: u64) -> bool {
        self.image.brokers.get(&broker).and_then(|b| b.broker_epoch) == Some(broker_epoch)
    }

    fn handle_registration(&mut self, now_ms: u64, broker: BrokerId, incarnation: u64) {
        let Some(registration) = self.image.brokers.get(&broker).cloned() else {
            return;
        };
        if incarnation < registration.incarnation {
            return; // sent before the broker's last restart, and overtaken on the way
        }
        if let (Some(broker_epoch), true) = (registration.broker_epoch, registration.incarnation == incarnation) {
            // A retry whose answer was lost: the same registration, answered again.
            self.heard_from(now_ms, broker);
            self.send(NodeId::Broker(broker), Message::BrokerRegistrationResponse { incarnation, broker_epoch });
            self.send_image(broker);
            return;
        }
        if registration.broker_epoch.is_some() && !registration.fenced {
            // Its old session never ended: it crashed and came back before the session
            // timeout. KRaft fences the old incarnation first, moving its leaderships.
            self.fence(broker, FenceReason::Reregistered);
        }
        self.last_broker_epoch += 1;
        let broker_epoch = self.last_broker_epoch;
        self.commit(alloc::vec![MetadataRecord::RegisterBroker { broker, broker_epoch, incarnation }]);
        self.heard_from(now_ms, broker);
        self.elect_where_leaderless(broker);
        self.send(NodeId::Broker(broker), Message::BrokerRegistrationResponse { incarnation, broker_epoch });
        self.send_image(broker);
    }

    fn heard_from(&mut self, now_ms: u64, broker: BrokerId) {
        self.last_heartbeat_ms.insert(broker, now_ms);
        if self.image.is_fenced(broker) {
            self.commit(alloc::vec![MetadataRecord::UnfenceBroker { broker }]);
            self.elect_where_leaderless(broker);
        }
    }

    fn handle_alter_partition(
        &mut self,
        leader: BrokerId,
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
        partition_epoch: i32,
        isr: Vec<BrokerId>,
    ) {
        let Some(state) = self.image.partition(&partition).cloned() else {
            return;
        };
        let same_leadership = state.leader == Some(leader) && state.leader_epoch == leader_epoch;
        let current = same_leadership && state.partition_epoch == partition_epoch;
        let admissible = !isr.is_empty()
            && isr.contains(&leader)
            && isr.iter().all(|b| state.replicas.contains(b))
            && isr.iter().all(|b| state.isr.contains(b) || self.image.is_live(*b));
        if same_leadership && !current && state.isr == isr {
            // A retry of a change already made: its first answer was lost.
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
            self.send(NodeId::Broker(leader), Message::AlterPartitionResponse { result: Err(error), state });
            return;
        }
        let changed = PartitionState { isr, partition_epoch: state.partition_epoch + 1, ..state };
        self.commit(alloc::vec![MetadataRecord::PartitionChange { state: changed.clone(), election: None }]);
        self.send(NodeId::Broker(leader), Message::AlterPartitionResponse { result: Ok(()), state: changed });
    }

    /// Commits records: applies them to the image, appends them to the metadata log, traces
    /// them, and sends the new image to every broker.
    fn commit(&mut self, records: Vec<MetadataRecord>) {
        if records.is_empty() {
            return;
        }
        for record in records {
            self.image.apply(&record);
            if let Some(event) = trace_of(&record) {
                self.trace(event);
            }
            self.log.push(record);
        }
        let brokers: Vec<BrokerId> = self.image.brokers.keys().copied().collect();
        for broker in brokers {
            self.send_image(broker);
        }
    }

    fn send_image(&mut self, broker: BrokerId) {
        let image = self.image.clone();
        self.send(NodeId::Broker(broker), Message::MetadataUpdate { image });
    }

    fn send(&mut self, to: NodeId, message: Message) {
        self.outputs.push(Output::Send { to, message });
    }

    fn set_timer(&mut self, after_ms: u64, timer: Timer) {
        self.outputs.push(Output::SetTimer { after_ms, timer });
    }

    fn trace(&mut self, event: TraceEvent) {
        self.outputs.push(Output::Trace(event));
    }
}

/// What the trace says when a record is committed.
fn trace_of(record: &MetadataRecord) -> Option<TraceEvent> {
    Some(match record {
        MetadataRecord::RegisterBroker { broker, .. } => TraceEvent::Registered { broker: *broker },
        MetadataRecord::FenceBroker { broker, reason } => TraceEvent::Fenced { broker: *broker, reason: *reason },
        MetadataRecord::UnfenceBroker { broker } => TraceEvent::Unfenced { broker: *broker },
        MetadataRecord::Topic { name, partitions } => {
            TraceEvent::TopicChanged { topic: name.clone(), partitions: *partitions }
        }
        MetadataRecord::Partition { .. } | MetadataRecord::TopicConfig { .. } => return None,
        MetadataRecord::PartitionChange { state, election: Some(kind) } => TraceEvent::Elected {
            partition: state.partition.clone(),
            leader: state.leader,
            leader_epoch: state.leader_epoch,
            isr: state.isr.clone(),
            kind: *kind,
        },
        MetadataRecord::PartitionChange { state, election: None } => {
            TraceEvent::IsrChanged { partition: state.partition.clone(), isr: state.isr.clone() }
        }
        MetadataRecord::Config { name, value } => TraceEvent::ConfigChanged { name: *name, value: value.clone() },
    })
}

/// A partition's state after an election.
fn elected(state: &PartitionState, leader: Option<BrokerId>, isr: Vec<BrokerId>, kind: ElectionKind) -> MetadataRecord {
    let state = PartitionState {
        leader,
        isr,
        leader_epoch: LeaderEpoch(state.leader_epoch.0 + 1),
        partition_epoch: state.partition_epoch + 1,
        ..state.clone()
    };
    MetadataRecord::PartitionChange { state, election: Some(kind) }
}
