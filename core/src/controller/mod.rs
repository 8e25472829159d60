//! A KRaft controller: a voter of the metadata quorum and, while it leads it, the active
//! controller, which decides every change to the cluster metadata and writes it as
//! [`MetadataRecord`]s.
//!
//! - Only the quorum's leader is active ([`quorum`]): it decides on a speculative image (the
//!   committed records plus its own uncommitted ones), proposes each decision's records as one
//!   batch to Raft, and answers the request behind it only once the batch is committed. Every
//!   controller applies committed batches to its own committed image, so a new leader starts
//!   from it; a controller that is not active ignores brokers' requests (they retry with the
//!   leader their metadata log names) and answers an admin request NOT_CONTROLLER.
//! - Brokers register, then heartbeat every `broker.heartbeat.interval.ms`; one silent for
//!   `broker.session.timeout.ms` is fenced ([`leadership`]). A broker that registers while an
//!   earlier incarnation's registration is still live restarted uncleanly: it is fenced first,
//!   then admitted.
//! - Leaders change ISRs through `AlterPartition`, accepted only at the current leader and
//!   partition epochs (KIP-497).
//! - Elections, preferred leader election, auto rebalance and controlled shutdown live in
//!   [`leadership`]; topic creation, new partitions, deletion and settings in [`admin`]; the
//!   clients' batched topic requests, which brokers forward here, in [`topic_requests`], with
//!   their messages in [`protocol`].
//!
//! Brokers learn the metadata from the log itself, as observers of the quorum: the controller
//! sends them no images. Heartbeat times are the only state outside the log (KRaft keeps them
//! in memory too); a new active controller gives every broker a fresh session.

mod admin;
mod leadership;
pub mod protocol;
mod quorum;
mod topic_requests;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::config::ClusterConfig;
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, ControllerId, LeaderEpoch, Offset, TopicPartition};
use crate::message::{AdminError, Message, NodeId, Output, Timer};
use crate::metadata::{ElectionKind, MetadataBatch, MetadataImage, MetadataLog, MetadataRecord};
use crate::raft::RaftNode;
use crate::topology::PartitionState;
use crate::trace::{FenceReason, TraceEvent};

/// How often the active controller looks for expired broker sessions.
const SESSION_CHECK_INTERVAL_MS: u64 = 250;

/// A response that promises a change, held until the log commits what it depends on.
#[derive(Clone, Debug)]
struct PendingResponse {
    /// The log end offset when it was decided: everything below must be committed first.
    after: Offset,
    to: NodeId,
    message: Message,
}

#[derive(Clone, Debug)]
pub struct Controller {
    id: ControllerId,
    config: ClusterConfig,
    log: MetadataLog,
    /// The bootstrap image with every committed batch applied: what the cluster agreed.
    image: MetadataImage,
    /// Where the next committed entry goes.
    applied: Offset,
    /// While active: the committed image plus every uncommitted batch in its log. Decisions
    /// read it, so that one sees the decisions before it.
    speculative: MetadataImage,
    active: bool,
    last_heartbeat_ms: BTreeMap<BrokerId, u64>,
    pending: Vec<PendingResponse>,
    outputs: Vec<Output>,
}

impl Controller {
    /// A controller of a cluster that is already running with the configured topics.
    pub fn new(id: ControllerId, config: ClusterConfig) -> Self {
        let image = MetadataImage::bootstrap(&config);
        Controller {
            id,
            log: MetadataLog::new(NodeId::Controller(id), &config),
            speculative: image.clone(),
            applied: Offset(0),
            image,
            active: false,
            last_heartbeat_ms: BTreeMap::new(),
            pending: Vec::new(),
            outputs: Vec::new(),
            config,
        }
    }

    /// A controller whose disk held `disk` (its epoch, vote and metadata log), not started: it
    /// starts as after a crash, replaying its log once a leader commits it again.
    pub fn recovered(
        id: ControllerId,
        config: ClusterConfig,
        disk: crate::storage::ControllerDisk,
    ) -> Result<Self, crate::raft::RaftConfigError> {
        let log = MetadataLog::recovered(NodeId::Controller(id), &config, disk)?;
        Ok(Controller { log, ..Controller::new(id, config) })
    }

    /// Starts, or starts again after a crash: only the metadata log survived (epoch, vote and
    /// entries); the images are rebuilt as the log commits again.
    pub fn start(&mut self, now_ms: u64) {
        let bootstrap = MetadataImage::bootstrap(&self.config);
        self.image = bootstrap.clone();
        self.speculative = bootstrap;
        self.applied = Offset(0);
        self.active = false;
        self.last_heartbeat_ms.clear();
        self.pending.clear();
        self.log.start(now_ms);
        self.set_timer(SESSION_CHECK_INTERVAL_MS, Timer::SessionExpiration);
        self.set_timer(self.config.leader_imbalance_check_interval_ms, Timer::LeaderImbalanceCheck);
        self.drain_log(now_ms);
    }

    /// A clean stop (its node's controlled shutdown): a leader hands over first.
    pub fn stop(&mut self, now_ms: u64) {
        self.log.resign(now_ms);
        self.drain_log(now_ms);
    }

    pub fn id(&self) -> ControllerId {
        self.id
    }

    /// Whether it leads the quorum and so decides.
    pub fn is_active(&self) -> bool {
        self.active
    }

    pub fn raft(&self) -> &RaftNode<MetadataBatch> {
        self.log.raft()
    }

    /// What the committed metadata says.
    pub fn image(&self) -> &MetadataImage {
        &self.image
    }

    /// How many entries of the log it has applied to its committed image.
    pub fn applied_offset(&self) -> Offset {
        self.applied
    }

    pub fn take_outputs(&mut self) -> Vec<Output> {
        core::mem::take(&mut self.outputs)
    }

    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, message: Message) {
        match message {
            Message::Raft(message) => self.log.handle_message(now_ms, from, *message),
            Message::Admin { request_id, .. } if !self.active => {
                let message = "This is not the correct controller for this cluster.".into();
                let result = Err(AdminError { code: ErrorCode::NotController, message });
                self.send(from, Message::AdminResponse { request_id, result });
            }
            Message::TopicAdmin { request_id, request } if !self.active => {
                let message = "This is not the correct controller for this cluster.".into();
                let response = request.refuse_all(&AdminError { code: ErrorCode::NotController, message });
                self.send(from, Message::TopicAdminResponse { request_id, response: alloc::boxed::Box::new(response) });
            }
            // KRaft answers NOT_CONTROLLER; brokers retry with the leader their log names.
            _ if !self.active => {}
            Message::BrokerRegistration { broker, incarnation } => {
                self.handle_registration(now_ms, broker, incarnation)
            }
            Message::BrokerHeartbeat { broker, broker_epoch, want_shut_down } => {
                if self.current_registration(broker, broker_epoch) {
                    self.last_heartbeat_ms.insert(broker, now_ms);
                    if !want_shut_down {
                        self.heard_from(now_ms, broker);
                    }
                } else {
                    let result = Err(ErrorCode::StaleBrokerEpoch);
                    self.send(NodeId::Broker(broker), Message::BrokerHeartbeatResponse { broker_epoch, result });
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
                self.respond_when_committed(NodeId::Broker(broker), Message::ControlledShutdownResponse { result });
            }
            Message::AllocateProducerIds { broker, broker_epoch } => {
                self.allocate_producer_ids(from, broker, broker_epoch)
            }
            Message::Admin { request_id, request } => {
                let result = self.handle_admin(request);
                self.respond_when_committed(from, Message::AdminResponse { request_id, result });
            }
            Message::TopicAdmin { request_id, request } => {
                let response = alloc::boxed::Box::new(self.handle_topic_request(*request));
                self.respond_when_committed(from, Message::TopicAdminResponse { request_id, response });
            }
            _ => debug_assert!(false, "controller got a message meant for a broker or client"),
        }
        self.drain_log(now_ms);
    }

    pub fn handle_timer(&mut self, now_ms: u64, timer: Timer) {
        match timer {
            Timer::RaftTick => self.log.handle_tick(now_ms),
            Timer::SessionExpiration => {
                if self.active {
                    self.expire_sessions(now_ms);
                }
                self.set_timer(SESSION_CHECK_INTERVAL_MS, Timer::SessionExpiration);
            }
            Timer::LeaderImbalanceCheck => {
                if self.active && self.speculative.config.auto_leader_rebalance_enable {
                    self.rebalance_leaders();
                }
                self.set_timer(self.config.leader_imbalance_check_interval_ms, Timer::LeaderImbalanceCheck);
            }
            _ => debug_assert!(false, "a broker's timer sent to the controller"),
        }
        self.drain_log(now_ms);
    }

    fn expire_sessions(&mut self, now_ms: u64) {
        let timeout = self.config.broker_session_timeout_ms;
        let expired: Vec<BrokerId> = self
            .last_heartbeat_ms
            .iter()
            .filter(|(&b, &last)| !self.speculative.is_fenced(b) && now_ms.saturating_sub(last) > timeout)
            .map(|(&b, _)| b)
            .collect();
        for broker in expired {
            self.fence(broker, FenceReason::SessionExpired);
        }
    }

    fn current_registration(&self, broker: BrokerId, broker_epoch: u64) -> bool {
        self.speculative.brokers.get(&broker).and_then(|b| b.broker_epoch) == Some(broker_epoch)
    }

    fn handle_registration(&mut self, now_ms: u64, broker: BrokerId, incarnation: u64) {
        let Some(registration) = self.speculative.brokers.get(&broker).cloned() else {
            return;
        };
        if incarnation < registration.incarnation {
            return; // sent before the broker's last restart, and overtaken on the way
        }
        let to = NodeId::Broker(broker);
        if let (Some(broker_epoch), true) = (registration.broker_epoch, registration.incarnation == incarnation) {
            // A retry whose answer was lost, or sent to a controller since replaced: the same
            // registration, answered again.
            self.heard_from(now_ms, broker);
            self.respond_when_committed(to, Message::BrokerRegistrationResponse { incarnation, broker_epoch });
            return;
        }
        if registration.incarnation < incarnation && !registration.fenced {
            // An earlier incarnation's session never ended: it crashed and came back before the
            // session timeout. KRaft fences the old incarnation first, moving its leaderships.
            self.fence(broker, FenceReason::Reregistered);
        }
        // KRaft's broker epoch is the offset of the registration record.
        let broker_epoch = self.log.raft().log_end_offset().0 as u64;
        self.write(alloc::vec![MetadataRecord::RegisterBroker { broker, broker_epoch, incarnation }]);
        self.heard_from(now_ms, broker);
        self.elect_leaderless(Some(broker));
        self.respond_when_committed(to, Message::BrokerRegistrationResponse { incarnation, broker_epoch });
    }

    fn heard_from(&mut self, now_ms: u64, broker: BrokerId) {
        self.last_heartbeat_ms.insert(broker, now_ms);
        if self.speculative.is_fenced(broker) {
            self.write(alloc::vec![MetadataRecord::UnfenceBroker { broker }]);
            self.elect_leaderless(Some(broker));
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
        let Some(state) = self.speculative.partition(&partition).cloned() else {
            return;
        };
        let to = NodeId::Broker(leader);
        let same_leadership = state.leader == Some(leader) && state.leader_epoch == leader_epoch;
        let current = same_leadership && state.partition_epoch == partition_epoch;
        let admissible = !isr.is_empty()
            && isr.contains(&leader)
            && isr.iter().all(|b| state.replicas.contains(b))
            && isr.iter().all(|b| state.isr.contains(b) || self.speculative.is_live(*b));
        if same_leadership && !current && state.isr == isr {
            // A retry of a change already made: its first answer was lost.
            self.respond_when_committed(to, Message::AlterPartitionResponse { result: Ok(()), state });
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
            self.respond_when_committed(to, Message::AlterPartitionResponse { result: Err(error), state });
            return;
        }
        let changed = PartitionState { isr, partition_epoch: state.partition_epoch + 1, ..state };
        self.write(alloc::vec![MetadataRecord::PartitionChange { state: changed.clone(), election: None }]);
        self.respond_when_committed(to, Message::AlterPartitionResponse { result: Ok(()), state: changed });
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
        MetadataRecord::RemoveTopic { name } => TraceEvent::TopicDeleted { topic: name.clone() },
        MetadataRecord::Partition { .. } | MetadataRecord::TopicConfig { .. } | MetadataRecord::ProducerIds { .. } => {
            return None
        }
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
