//! A broker: the replicas it holds, leading some partitions and following others.
//!
//! As leader of a partition it appends produced records, answers followers' fetches (parking
//! them up to `replica.fetch.wait.max.ms` when there is nothing new), tracks how far each
//! follower has got, advances the high watermark to what every in-sync replica has, completes
//! `acks=all` writes once the high watermark covers them, and asks the controller to shrink the
//! ISR when a follower lags longer than `replica.lag.time.max.ms` or to expand it when one has
//! caught up. As follower it fetches from its leader, truncates a divergent tail (KIP-101,
//! KIP-320) and takes the leader's high watermark.
//!
//! It learns the metadata as KRaft brokers do: it observes the controllers' metadata log (a
//! Raft observer fetching from the quorum's leader), applies each committed batch to its own
//! image and takes up the roles it assigns. It sends registration, heartbeats, AlterPartition
//! and ControlledShutdown to the leader its log names (to each controller in turn while it
//! knows none), and sends what is still unanswered again when that leader changes.
//!
//! Inputs: [`Broker::handle_message`] and [`Broker::handle_timer`]; outputs: [`Broker::take_outputs`].
//! The metadata it follows is applied in `metadata` (which also drops deleted topics' replicas),
//! the leader's side in `leader`, the follower's in `follower`; clients' topic requests, which
//! it forwards to the active controller, and Metadata's auto-creation in `topic_admin`.

mod consumers;
pub mod coordination;
mod delayed_fetch;
mod follower;
mod groups;
mod leader;
pub mod list_offsets;
mod metadata;
mod recovery;
mod storage;
mod topic_admin;
mod transactions;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::config::ClusterConfig;
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, ControllerId, LeaderEpoch, Offset, TopicPartition};
use crate::message::{Acks, FetchData, IsolationLevel, Message, NodeId, Output, Timer};
use crate::metadata::{DynamicConfig, MetadataBatch, MetadataImage, MetadataLog};
use crate::partition_log::{LogConfig, PartitionLog};
use crate::raft::RaftNode;
use crate::record_batch::RecordBatch;
use crate::topology::PartitionState;
use crate::trace::TraceEvent;

/// The most bytes one fetch response carries (`replica.fetch.max.bytes`, Kafka: 1 MiB); at
/// least one batch goes, whatever its size.
const REPLICA_FETCH_MAX_BYTES: usize = 1_048_576;

/// One partition as this broker holds it.
#[derive(Clone, Debug)]
pub struct Replica {
    pub log: PartitionLog,
    pub role: Role,
    /// The id of the topic it belongs to ([`MetadataImage::topic_ids`]): a replica of a topic
    /// since deleted, perhaps created again under the same name, is stray and is dropped. It
    /// survives a crash with the log, as Kafka's `partition.metadata` file does.
    pub topic_id: u64,
}

/// The topic id of a replica recovered from a disk that did not keep it: the broker takes the
/// id its metadata gives the topic's name.
pub const UNKNOWN_TOPIC_ID: u64 = u64::MAX;

#[derive(Clone, Debug)]
pub enum Role {
    Leader(Leadership),
    Follower(Following),
}

/// A leader's bookkeeping for its partition.
#[derive(Clone, Debug)]
pub struct Leadership {
    pub leader_epoch: LeaderEpoch,
    pub partition_epoch: i32,
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
    followers: BTreeMap<BrokerId, FollowerProgress>,
    parked_fetches: Vec<ParkedFetch>,
    /// Consumer fetches waiting for the high watermark to pass their offset.
    parked_consumer_fetches: Vec<ParkedConsumerFetch>,
    pending_acks: Vec<PendingAck>,
    /// Coordinators' appends to this internal partition, waiting for the high watermark.
    coordinator_appends: Vec<coordination::CoordinatorAppend>,
    /// The ISR asked of the controller and not yet answered; Kafka sends one AlterPartition at
    /// a time per partition. Until the answer, the high watermark counts these members too
    /// (KIP-497's "maximal ISR"), so a member the controller may already have admitted is never
    /// left out of it.
    pending_isr: Option<Vec<BrokerId>>,
}

/// What a leader knows of one follower (Kafka's `Replica` state on the leader).
#[derive(Clone, Debug)]
struct FollowerProgress {
    /// The follower's log end offset, known once it has fetched under this leader.
    log_end: Option<Offset>,
    last_caught_up_ms: u64,
    last_fetch_ms: u64,
    last_fetch_leader_log_end: Offset,
}

/// A follower's fetch as the leader handles it.
#[derive(Clone, Debug)]
struct FetchRequest {
    follower: BrokerId,
    /// The follower's number for this fetch, echoed in the answer.
    fetch_id: u64,
    fetch_offset: Offset,
    last_fetched_epoch: Option<LeaderEpoch>,
}

/// A fetch waiting on the leader for new records or `replica.fetch.wait.max.ms`.
#[derive(Clone, Debug)]
struct ParkedFetch {
    request: FetchRequest,
}

/// A consumer's fetch waiting on the leader for committed records or `fetch.max.wait.ms`.
#[derive(Clone, Debug)]
struct ParkedConsumerFetch {
    from: NodeId,
    fetch_id: u64,
    fetch_offset: Offset,
    isolation: IsolationLevel,
}

#[derive(Clone, Debug)]
struct PendingAck {
    request_id: u64,
    from: NodeId,
    /// The batch's first offset (what the producer is told) and last (what must be committed).
    offset: Offset,
    last_offset: Offset,
}

/// A follower's view of its leader.
#[derive(Clone, Debug)]
pub struct Following {
    pub leader: Option<BrokerId>,
    pub leader_epoch: LeaderEpoch,
    /// The id of the fetch awaiting an answer, if one is.
    fetch_in_flight: Option<u64>,
}

impl Following {
    /// Following no one: after a start, until the metadata names a leader.
    fn nobody() -> Self {
        Following { leader: None, leader_epoch: LeaderEpoch(-1), fetch_in_flight: None }
    }
}

impl Replica {
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    pub fn leader_epoch(&self) -> LeaderEpoch {
        match &self.role {
            Role::Leader(leadership) => leadership.leader_epoch,
            Role::Follower(following) => following.leader_epoch,
        }
    }
}

/// A broker's state machine.
#[derive(Clone, Debug)]
pub struct Broker {
    id: BrokerId,
    config: ClusterConfig,
    replicas: BTreeMap<TopicPartition, Replica>,
    /// Its replica of the metadata log, an observer of the controller quorum. The log survives
    /// a crash, as Kafka's `__cluster_metadata` on disk does.
    metadata_log: MetadataLog,
    /// The bootstrap image with the committed batches applied.
    image: MetadataImage,
    /// Where the next committed entry goes.
    applied: Offset,
    /// The partition metadata this broker has taken up roles from.
    metadata: BTreeMap<TopicPartition, PartitionState>,
    /// The active controller its metadata log last named.
    known_controller: Option<ControllerId>,
    /// Whose turn it is, when no controller is known to lead.
    controller_probe: i32,
    /// The cluster-wide settings, as the metadata last said.
    settings: DynamicConfig,
    /// Each topic's log settings, as the metadata last said.
    topic_configs: BTreeMap<String, LogConfig>,
    /// Each topic's id, as the metadata last said.
    topic_ids: BTreeMap<String, u64>,
    /// Clients' topic requests forwarded to the controller, by the id they were sent under.
    forwarded: BTreeMap<u64, topic_admin::Forwarded>,
    /// Numbers forwarded requests.
    next_forward_id: u64,
    /// Coordinator appends that were committed or failed, to hand back once the current input
    /// has been handled.
    finished_appends: Vec<(coordination::AppendOwner, u64, Result<(), ErrorCode>)>,
    /// The transaction coordinator for the `__transaction_state` partitions it leads (and the
    /// producer ids of idempotent producers, which any broker hands out).
    txn: crate::transaction::TransactionCoordinator,
    /// The group coordinator for the `__consumer_offsets` partitions it leads.
    groups: crate::group::GroupCoordinator,
    /// Markers its coordinator asked for, by token, with the partitions yet to confirm.
    marker_writes: BTreeMap<u64, transactions::MarkerWrite>,
    /// WriteTxnMarkers requests it is writing as leader, until their markers are committed.
    marker_requests: BTreeMap<u64, transactions::MarkerRequest>,
    /// Its coordinator waits for a block of producer ids from the controller.
    producer_ids_wanted: bool,
    /// Internal partitions it leads whose coordinator waits for the high watermark to reach
    /// this log end offset before loading.
    pending_loads: BTreeMap<TopicPartition, Offset>,
    /// Internal partitions ready to load once the current input is handled.
    due_loads: Vec<TopicPartition>,
    /// Internal topics it has asked the controller to create, awaiting the answer.
    creating_topics: alloc::collections::BTreeSet<String>,
    /// It has asked the controller for a controlled shutdown.
    shutting_down: bool,
    /// Its current registration's epoch, once the controller has answered.
    broker_epoch: Option<u64>,
    /// How many times this broker has started: the controller tells a retried registration
    /// from a restart by it.
    incarnation: u64,
    /// Numbers this broker's fetches, so an answer is matched to its request.
    next_fetch_id: u64,
    /// Clients' fetches held for bytes or their wait, by client and fetch id.
    delayed_fetches: BTreeMap<(NodeId, u64), delayed_fetch::DelayedFetch>,
    outputs: Vec<Output>,
}

impl Broker {
    pub fn new(id: BrokerId, config: ClusterConfig) -> Self {
        let txn = crate::transaction::TransactionCoordinator::new(transactions::txn_config(&config));
        let groups = groups::new_group_coordinator(&config, id, 0);
        let image = MetadataImage::bootstrap(&config);
        Broker {
            id,
            metadata_log: MetadataLog::new(NodeId::Broker(id), &config),
            config,
            replicas: BTreeMap::new(),
            settings: image.config.clone(),
            image,
            applied: Offset(0),
            metadata: BTreeMap::new(),
            topic_configs: BTreeMap::new(),
            topic_ids: BTreeMap::new(),
            forwarded: BTreeMap::new(),
            next_forward_id: 0,
            creating_topics: alloc::collections::BTreeSet::new(),
            finished_appends: Vec::new(),
            pending_loads: BTreeMap::new(),
            due_loads: Vec::new(),
            txn,
            groups,
            marker_writes: BTreeMap::new(),
            marker_requests: BTreeMap::new(),
            producer_ids_wanted: false,
            known_controller: None,
            controller_probe: 0,
            shutting_down: false,
            broker_epoch: None,
            incarnation: 0,
            next_fetch_id: 0,
            delayed_fetches: BTreeMap::new(),
            outputs: Vec::new(),
        }
    }

    pub fn id(&self) -> BrokerId {
        self.id
    }

    pub fn replica(&self, partition: &TopicPartition) -> Option<&Replica> {
        self.replicas.get(partition)
    }

    pub fn replicas(&self) -> impl Iterator<Item = (&TopicPartition, &Replica)> {
        self.replicas.iter()
    }

    /// Everything the broker asked for since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        core::mem::take(&mut self.outputs)
    }

    /// Starts (or restarts after a crash): the logs survive, everything in memory is rebuilt.
    /// The first start takes the bootstrap metadata as it stands (the cluster is already
    /// running); a restart holds no role until its metadata log has caught up again.
    pub fn start(&mut self, now_ms: u64) {
        let first_start = self.incarnation == 0;
        self.image = MetadataImage::bootstrap(&self.config);
        self.applied = Offset(0);
        self.metadata.clear();
        self.known_controller = None;
        self.broker_epoch = None;
        self.shutting_down = false;
        self.incarnation += 1;
        // Coordinators live in memory: a restart loads them again from the logs it leads.
        self.txn = crate::transaction::TransactionCoordinator::new(transactions::txn_config(&self.config));
        self.groups = groups::new_group_coordinator(&self.config, self.id, self.incarnation);
        self.marker_writes.clear();
        self.marker_requests.clear();
        self.producer_ids_wanted = false;
        self.finished_appends.clear();
        self.pending_loads.clear();
        self.due_loads.clear();
        self.creating_topics.clear();
        self.clear_delayed_fetches();
        self.forwarded.clear();
        for replica in self.replicas.values_mut() {
            replica.role = Role::Follower(Following::nobody());
        }
        if first_start {
            let image = self.image.clone();
            self.apply_metadata(now_ms, &image);
        }
        self.metadata_log.start(now_ms);
        self.register();
        self.set_timer(self.config.broker_heartbeat_interval_ms, Timer::Heartbeat);
        self.set_timer(self.isr_expiration_interval_ms(), Timer::IsrExpiration);
        self.set_timer(self.config.log_retention_check_interval_ms, Timer::LogRetentionCheck);
        self.set_timer(self.config.log_cleaner_backoff_ms, Timer::LogCleaner);
        self.drain_metadata_log(now_ms);
    }

    /// Its replica of the metadata log.
    pub fn metadata_log(&self) -> &RaftNode<MetadataBatch> {
        self.metadata_log.raft()
    }

    /// How many entries of the metadata log this broker has applied since it started.
    pub fn applied_metadata_offset(&self) -> Offset {
        self.applied
    }

    /// The metadata as this broker has applied it.
    pub fn image(&self) -> &MetadataImage {
        &self.image
    }

    fn register(&mut self) {
        let message = Message::BrokerRegistration { broker: self.id, incarnation: self.incarnation };
        let controller = self.controller();
        self.send(controller, message);
    }

    /// Where requests for the active controller go: the leader its metadata log names, or,
    /// while it knows none, each controller in turn.
    fn controller(&mut self) -> NodeId {
        if let Some(leader) = self.metadata_log.leader() {
            return NodeId::Controller(leader);
        }
        self.controller_probe = self.controller_probe % self.config.controller_count + 1;
        NodeId::Controller(ControllerId(self.controller_probe))
    }

    /// Whether it is in a controlled shutdown: waiting for the controller to move its
    /// leaderships away before it stops.
    pub fn is_shutting_down(&self) -> bool {
        self.shutting_down
    }

    /// Asks the controller to move this broker's leaderships away; once it has, the broker
    /// stops (the driver sees [`Output::Stop`]).
    pub fn begin_controlled_shutdown(&mut self) {
        self.shutting_down = true;
        self.trace(TraceEvent::ShutdownRequested { broker: self.id });
        self.request_controlled_shutdown();
    }

    fn request_controlled_shutdown(&mut self) {
        if let (true, Some(broker_epoch)) = (self.shutting_down, self.broker_epoch) {
            let controller = self.controller();
            self.send(controller, Message::ControlledShutdown { broker: self.id, broker_epoch });
        }
    }

    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, message: Message) {
        match message {
            Message::Raft(message) => {
                self.metadata_log.handle_message(now_ms, from, *message);
                self.drain_metadata_log(now_ms);
            }
            Message::BrokerRegistrationResponse { incarnation, broker_epoch } => {
                if incarnation == self.incarnation {
                    self.broker_epoch = Some(broker_epoch);
                }
            }
            Message::BrokerHeartbeatResponse { broker_epoch, result } => {
                if result.is_err() && self.broker_epoch == Some(broker_epoch) {
                    self.broker_epoch = None; // register again at the next heartbeat
                }
            }
            Message::ControlledShutdownResponse { result } => {
                if self.shutting_down && result.is_ok() {
                    self.outputs.push(Output::Stop);
                }
            }
            Message::AlterPartitionResponse { state, .. } => self.handle_alter_partition_response(now_ms, state),
            Message::Fetch { follower, fetch_id, partition, leader_epoch, fetch_offset, last_fetched_epoch } => {
                let request = FetchRequest { follower, fetch_id, fetch_offset, last_fetched_epoch };
                self.handle_fetch(now_ms, partition, leader_epoch, request)
            }
            Message::FetchResponse { fetch_id, partition, leader_epoch, result } => {
                self.handle_fetch_response(now_ms, fetch_id, partition, leader_epoch, result)
            }
            Message::ConsumerFetch { fetch_id, partition, fetch_offset, isolation } => {
                self.handle_consumer_fetch(from, fetch_id, partition, fetch_offset, isolation)
            }
            Message::Produce { request_id, partition, batch, acks } => {
                self.handle_produce(now_ms, from, request_id, partition, batch, acks)
            }
            Message::BrokerRegistration { .. }
            | Message::BrokerHeartbeat { .. }
            | Message::AlterPartition { .. }
            | Message::ControlledShutdown { .. }
            | Message::Admin { .. }
            | Message::ProduceResponse { .. }
            | Message::ConsumerFetchResponse { .. }
            | Message::FindCoordinatorResponse { .. }
            | Message::GroupResponse { .. }
            | Message::TxnResponse { .. }
            | Message::ClientFetchResponse { .. } => {
                debug_assert!(false, "broker {} got a message meant for another role", self.id)
            }
            // Coordinators arrive with the group and transaction coordinators.
            Message::AdminResponse { .. } => self.handle_admin_response(),
            Message::FindCoordinator { request_id, key, key_type } => {
                self.handle_find_coordinator(from, request_id, key, key_type)
            }
            Message::Txn { request_id, request } => self.handle_txn_request(now_ms, from, request_id, *request),
            Message::WriteTxnMarkers { request_id, markers } => {
                self.handle_write_txn_markers(now_ms, from, request_id, *markers)
            }
            Message::WriteTxnMarkersResponse { request_id, results } => {
                self.handle_write_txn_markers_response(now_ms, request_id, *results)
            }
            Message::AllocateProducerIdsResponse { result } => self.handle_allocated_producer_ids(now_ms, result),
            Message::AllocateProducerIds { .. } => {
                debug_assert!(false, "broker {} got a message meant for the controller", self.id)
            }
            Message::Group { request_id, request } => self.handle_group_request(now_ms, from, request_id, *request),
            Message::ClientFetch { fetch_id, request } => self.handle_client_fetch(from, fetch_id, *request),
            Message::TopicAdmin { request_id, request } => self.handle_topic_admin(now_ms, from, request_id, *request),
            Message::TopicAdminResponse { request_id, response } => {
                self.handle_topic_admin_response(now_ms, request_id, *response)
            }
        }
        self.finish_coordinator_appends(now_ms);
    }

    pub fn handle_timer(&mut self, now_ms: u64, timer: Timer) {
        match timer {
            Timer::RaftTick => {
                self.metadata_log.handle_tick(now_ms);
                self.drain_metadata_log(now_ms);
            }
            Timer::Heartbeat => {
                // An internal topic asked for and not created by now is asked for again (the
                // request or its answer may have been lost with a controller).
                self.creating_topics.clear();
                let message = match self.broker_epoch {
                    None => Message::BrokerRegistration { broker: self.id, incarnation: self.incarnation },
                    Some(broker_epoch) => {
                        Message::BrokerHeartbeat { broker: self.id, broker_epoch, want_shut_down: self.shutting_down }
                    }
                };
                let controller = self.controller();
                self.send(controller, message);
                self.request_controlled_shutdown(); // again, if one is under way and unanswered
                self.set_timer(self.config.broker_heartbeat_interval_ms, Timer::Heartbeat);
            }
            Timer::LogRetentionCheck => {
                self.enforce_retention(now_ms);
                self.set_timer(self.config.log_retention_check_interval_ms, Timer::LogRetentionCheck);
            }
            Timer::LogCleaner => {
                self.compact_logs(now_ms);
                self.set_timer(self.config.log_cleaner_backoff_ms, Timer::LogCleaner);
            }
            Timer::IsrExpiration => {
                self.shrink_lagging_isrs(now_ms);
                self.set_timer(self.isr_expiration_interval_ms(), Timer::IsrExpiration);
            }
            Timer::ConsumerFetchWaitExpired { partition, from, fetch_id } => self
                .answer_parked_consumer_fetches(&partition, |parked| {
                    parked.fetch_id == fetch_id && parked.from == from
                }),
            Timer::FetchWaitExpired { partition, follower, fetch_id } => self
                .answer_parked_fetch(&partition, |parked| {
                    parked.request.fetch_id == fetch_id && parked.request.follower == follower
                }),
            Timer::FetchBackoffOver { partition, leader_epoch } => {
                let retry = matches!(
                    self.replicas.get(&partition).map(|r| &r.role),
                    Some(Role::Follower(f)) if f.leader_epoch == leader_epoch && f.fetch_in_flight.is_none()
                );
                if retry {
                    self.send_fetch(&partition);
                }
            }
            Timer::FetchTimeout { partition, leader_epoch, fetch_id } => {
                let unanswered = matches!(
                    self.replicas.get(&partition).map(|r| &r.role),
                    Some(Role::Follower(f)) if f.leader_epoch == leader_epoch && f.fetch_in_flight == Some(fetch_id)
                );
                if unanswered {
                    self.send_fetch(&partition);
                }
            }
            Timer::AlterPartitionTimeout { partition, partition_epoch } => {
                // No answer: ask again, keeping the maximal ISR until one comes.
                let retry = match self.replicas.get(&partition) {
                    Some(Replica { role: Role::Leader(l), .. }) if l.partition_epoch == partition_epoch => {
                        l.pending_isr.clone()
                    }
                    _ => None,
                };
                if let Some(isr) = retry {
                    self.request_isr_change(&partition, self.id, isr);
                }
            }
            Timer::Txn(timer) => self.handle_txn_timer(now_ms, timer),
            Timer::Group(timer) => self.handle_group_timer(now_ms, timer),
            Timer::MarkerRetry { token } => self.handle_marker_retry(token),
            Timer::ProducerIdRetry => self.handle_producer_id_retry(),
            Timer::ClientFetchWaitExpired { from, fetch_id } => self.handle_client_fetch_expired(from, fetch_id),
            Timer::TopicAdminRetry { forward_id, attempt } => {
                self.handle_topic_admin_retry(now_ms, forward_id, attempt)
            }
            Timer::SessionExpiration
            | Timer::RequestTimeout { .. }
            | Timer::AdminRetry { .. }
            | Timer::ConsumerRetry { .. }
            | Timer::ConsumerFetchTimeout { .. }
            | Timer::Producer(_)
            | Timer::Consumer(_)
            | Timer::LeaderImbalanceCheck => {
                debug_assert!(false, "a timer of another node sent to a broker")
            }
        }
        self.finish_coordinator_appends(now_ms);
    }

    /// Kafka runs its ISR expiration task every half `replica.lag.time.max.ms`.
    fn isr_expiration_interval_ms(&self) -> u64 {
        (self.config.replica_lag_time_max_ms / 2).max(1)
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
