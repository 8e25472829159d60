//! What nodes say to each other, and what a node asks of its driver.
//!
//! A node never sends anything itself: it returns [`Output`]s, and the driver (the simulator or
//! the native server) carries messages over its network and fires timers at their time.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::group::protocol::{GroupRequest, GroupResponse};
use crate::ids::{BrokerId, ClientId, ControllerId, LeaderEpoch, Offset, TopicPartition};
use crate::metadata::{ConfigName, MetadataBatch};
pub use crate::partition_log::AbortedTransaction;
use crate::partition_log::LogConfig;
use crate::raft;
use crate::record_batch::RecordBatch;
use crate::topology::PartitionState;
use crate::trace::TraceEvent;
use crate::transaction::protocol::{TxnMarker, TxnRequest, TxnResponse};
use crate::transaction::TxnTimer;

pub use crate::controller::protocol::{TopicRequest, TopicResponse};

/// An address on the cluster's network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum NodeId {
    Broker(BrokerId),
    /// A KRaft controller: a voter of the metadata quorum, active while it leads it.
    Controller(ControllerId),
    /// A client: [`ClientId::CONSOLE`] is the one a person drives with commands; the others
    /// are the producers and consumers a run starts.
    Client(ClientId),
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
    /// The metadata quorum's Raft (KIP-595): votes among controllers, and the fetches by which
    /// followers and brokers' observers replicate the metadata log. Boxed: rare next to the
    /// partitions' traffic, and larger than the other messages.
    Raft(Box<raft::Message<MetadataBatch>>),
    /// A (re)started broker announces itself to the active controller; it repeats this every
    /// heartbeat interval, and whenever it learns of a new active controller, until answered.
    BrokerRegistration {
        broker: BrokerId,
        /// Counts the broker's starts: a repeat with the same number is a retry, not a restart.
        incarnation: u64,
    },
    /// The controller admits the broker under a new broker epoch (KRaft's `BrokerRegistration`),
    /// once the registration is committed.
    BrokerRegistrationResponse {
        /// The registration's incarnation, so a restarted broker ignores answers meant for its
        /// previous life.
        incarnation: u64,
        broker_epoch: u64,
    },
    /// A live broker tells the active controller it is still there.
    BrokerHeartbeat {
        broker: BrokerId,
        broker_epoch: u64,
        /// KRaft's `WantShutDown`: it is shutting down, so hearing from it must not unfence it.
        want_shut_down: bool,
    },
    /// The controller refuses a heartbeat (STALE_BROKER_EPOCH: it names an earlier
    /// registration); the broker registers again.
    BrokerHeartbeatResponse {
        broker_epoch: u64,
        result: Result<(), ErrorCode>,
    },
    /// A broker asks to stop cleanly: the controller moves its leaderships away first.
    ControlledShutdown {
        broker: BrokerId,
        broker_epoch: u64,
    },
    /// The controller has moved the broker's leaderships and fenced it: it may stop.
    ControlledShutdownResponse {
        result: Result<(), ErrorCode>,
    },
    /// An administrator's request, sent by the client to the active controller (a controller
    /// that is not active answers NOT_CONTROLLER, and the client asks again).
    Admin {
        request_id: u64,
        request: AdminRequest,
    },
    AdminResponse {
        request_id: u64,
        result: Result<(), AdminError>,
    },
    /// The controller's answer to `AlterPartition`, with the partition's state after it
    /// (changed or not), once that state is committed.
    AlterPartitionResponse {
        result: Result<(), ErrorCode>,
        state: PartitionState,
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
        /// The follower's number for this fetch; the answer carries it back.
        fetch_id: u64,
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
        fetch_offset: Offset,
        /// The epoch of the follower's last record, so the leader can spot divergence (KIP-320).
        last_fetched_epoch: Option<LeaderEpoch>,
    },
    FetchResponse {
        fetch_id: u64,
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
        result: Result<FetchData, ErrorCode>,
    },
    Produce {
        request_id: u64,
        partition: TopicPartition,
        /// The records, as the producer encoded them; the leader stores the batch as it came.
        batch: RecordBatch,
        acks: Acks,
    },
    /// A consumer asks a partition's leader for records from `fetch_offset` (Kafka's Fetch
    /// from a client): it gets only committed records, below the high watermark, or with
    /// `read_committed` below the last stable offset.
    ConsumerFetch {
        fetch_id: u64,
        partition: TopicPartition,
        fetch_offset: Offset,
        isolation: IsolationLevel,
    },
    ConsumerFetchResponse {
        fetch_id: u64,
        partition: TopicPartition,
        /// Where the leader's log starts, so a consumer told OFFSET_OUT_OF_RANGE can reset.
        log_start_offset: Offset,
        result: Result<ConsumerFetchData, ErrorCode>,
    },
    ProduceResponse {
        request_id: u64,
        partition: TopicPartition,
        result: Result<Offset, ErrorCode>,
    },
    /// A broker's transaction coordinator asks the active controller for a block of producer
    /// ids (KRaft's `AllocateProducerIds`).
    AllocateProducerIds {
        broker: BrokerId,
        broker_epoch: u64,
    },
    /// The block: `count` ids from `first`, once the record granting them is committed.
    AllocateProducerIdsResponse {
        result: Result<(i64, i64), ErrorCode>,
    },
    /// A client asks any broker which broker coordinates a group or a transactional id: the
    /// leader of the key's partition of `__consumer_offsets` or `__transaction_state`.
    FindCoordinator {
        request_id: u64,
        key: Arc<str>,
        key_type: CoordinatorType,
    },
    FindCoordinatorResponse {
        request_id: u64,
        result: Result<BrokerId, ErrorCode>,
    },
    /// A request for a group coordinator (boxed, like every coordinator message: larger than
    /// the replication traffic and much rarer).
    Group {
        request_id: u64,
        request: Box<GroupRequest>,
    },
    GroupResponse {
        request_id: u64,
        response: Box<GroupResponse>,
    },
    /// A request for a transaction coordinator (or, InitProducerId without a transactional id,
    /// for any broker).
    Txn {
        request_id: u64,
        request: Box<TxnRequest>,
    },
    TxnResponse {
        request_id: u64,
        response: Box<TxnResponse>,
    },
    /// A transaction coordinator asks a partition leader to write commit or abort markers.
    WriteTxnMarkers {
        request_id: u64,
        markers: Box<Vec<TxnMarker>>,
    },
    /// Per producer id and partition, whether its marker was written.
    WriteTxnMarkersResponse {
        request_id: u64,
        results: Box<Vec<(i64, TopicPartition, Option<ErrorCode>)>>,
    },
    /// A client's Fetch over several partitions at once, as Kafka's Fetch request is: the
    /// broker holds it (Kafka's `DelayedFetch`) until `min_bytes` are readable across them, one
    /// of them fails, or `max_wait_ms` passes.
    ClientFetch {
        fetch_id: u64,
        request: Box<ClientFetchRequest>,
    },
    /// Every partition of a [`Message::ClientFetch`], in the order the request listed them.
    ClientFetchResponse {
        fetch_id: u64,
        partitions: Box<Vec<ClientFetchPartitionResult>>,
    },
    /// A client's CreateTopics, DeleteTopics or CreatePartitions, sent to any broker, which
    /// forwards it to the active controller (KIP-590) and relays the answer; or Metadata's
    /// auto-creation, which the broker answers itself.
    TopicAdmin {
        request_id: u64,
        request: Box<TopicRequest>,
    },
    /// The answer, per topic, once the controller has committed what it decided.
    TopicAdminResponse {
        request_id: u64,
        response: Box<TopicResponse>,
    },
}

/// Which kind of coordinator FindCoordinator looks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum CoordinatorType {
    /// A consumer group's, keyed by `group.id`.
    Group,
    /// A transactional producer's, keyed by `transactional.id`.
    Transaction,
}

impl Message {
    /// The request's or response's name, as the trace shows a dropped message.
    pub fn name(&self) -> &'static str {
        match self {
            Message::Raft(message) => message.name(),
            Message::ConsumerFetch { .. } => "ConsumerFetch",
            Message::ConsumerFetchResponse { .. } => "ConsumerFetchResponse",
            Message::BrokerRegistration { .. } => "BrokerRegistration",
            Message::BrokerRegistrationResponse { .. } => "BrokerRegistrationResponse",
            Message::BrokerHeartbeat { .. } => "BrokerHeartbeat",
            Message::BrokerHeartbeatResponse { .. } => "BrokerHeartbeatResponse",
            Message::AlterPartitionResponse { .. } => "AlterPartitionResponse",
            Message::ControlledShutdown { .. } => "ControlledShutdown",
            Message::ControlledShutdownResponse { .. } => "ControlledShutdownResponse",
            Message::Admin { .. } => "Admin",
            Message::AdminResponse { .. } => "AdminResponse",
            Message::AlterPartition { .. } => "AlterPartition",
            Message::Fetch { .. } => "Fetch",
            Message::FetchResponse { .. } => "FetchResponse",
            Message::Produce { .. } => "Produce",
            Message::ProduceResponse { .. } => "ProduceResponse",
            Message::AllocateProducerIds { .. } => "AllocateProducerIds",
            Message::AllocateProducerIdsResponse { .. } => "AllocateProducerIdsResponse",
            Message::FindCoordinator { .. } => "FindCoordinator",
            Message::FindCoordinatorResponse { .. } => "FindCoordinatorResponse",
            Message::Group { request, .. } => request.name(),
            Message::GroupResponse { response, .. } => response.name(),
            Message::Txn { request, .. } => request.name(),
            Message::TxnResponse { response, .. } => response.name(),
            Message::WriteTxnMarkers { .. } => "WriteTxnMarkers",
            Message::WriteTxnMarkersResponse { .. } => "WriteTxnMarkersResponse",
            Message::ClientFetch { .. } => "ClientFetch",
            Message::ClientFetchResponse { .. } => "ClientFetchResponse",
            Message::TopicAdmin { request, .. } => request.name(),
            Message::TopicAdminResponse { response, .. } => response.name(),
        }
    }

    /// The one partition a message concerns, when it concerns exactly one.
    pub fn partition(&self) -> Option<&TopicPartition> {
        match self {
            Message::AlterPartition { partition, .. }
            | Message::Fetch { partition, .. }
            | Message::FetchResponse { partition, .. }
            | Message::Produce { partition, .. }
            | Message::ConsumerFetch { partition, .. }
            | Message::ConsumerFetchResponse { partition, .. }
            | Message::ProduceResponse { partition, .. } => Some(partition),
            Message::AlterPartitionResponse { state, .. } => Some(&state.partition),
            _ => None,
        }
    }
}

impl Timer {
    /// The one partition a timer concerns, when it concerns exactly one.
    pub fn partition(&self) -> Option<&TopicPartition> {
        match self {
            Timer::FetchWaitExpired { partition, .. }
            | Timer::FetchBackoffOver { partition, .. }
            | Timer::FetchTimeout { partition, .. }
            | Timer::AlterPartitionTimeout { partition, .. }
            | Timer::ConsumerFetchWaitExpired { partition, .. } => Some(partition),
            _ => None,
        }
    }
}

/// What an administrator can ask of the controller (Kafka's admin APIs).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AdminRequest {
    /// CreateTopics.
    CreateTopic { name: String, partitions: i32, replication_factor: i32, config: LogConfig },
    /// CreatePartitions: grow `topic` to `count` partitions.
    CreatePartitions { topic: String, count: i32 },
    /// ElectLeaders with the preferred election type: every partition, or these.
    ElectPreferredLeaders { partitions: Option<Vec<TopicPartition>> },
    /// IncrementalAlterConfigs of one cluster-wide setting.
    AlterConfig { name: ConfigName, value: String },
    /// DeleteTopics of one topic.
    DeleteTopic { name: String },
}

/// Why an admin request was refused: Kafka's error code and its message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AdminError {
    pub code: ErrorCode,
    pub message: String,
}

/// Which records a consumer may see (`isolation.level`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum IsolationLevel {
    /// Everything below the high watermark, including open and aborted transactions' records.
    #[default]
    ReadUncommitted,
    /// Only below the last stable offset; the consumer drops aborted transactions' records.
    ReadCommitted,
}

/// What a successful consumer fetch carries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsumerFetchData {
    /// Whole batches from the one holding the fetch offset, all below the high watermark (below
    /// the last stable offset for `read_committed`).
    pub batches: Vec<RecordBatch>,
    pub high_watermark: Offset,
    pub last_stable_offset: Offset,
    /// For `read_committed`: the aborted transactions overlapping the batches.
    pub aborted_transactions: Vec<AbortedTransaction>,
}

/// What a successful fetch carries back to the follower.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchData {
    /// Whole batches, as the leader stores them, from the one holding the fetch offset.
    pub batches: Vec<RecordBatch>,
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
    /// A follower's fetch had no answer within `replica.socket.timeout.ms`: send it again.
    FetchTimeout { partition: TopicPartition, leader_epoch: LeaderEpoch, fetch_id: u64 },
    /// An `AlterPartition` had no answer in time: stop waiting so the change can be asked again.
    AlterPartitionTimeout { partition: TopicPartition, partition_epoch: i32 },
    /// The producer gave up waiting for an answer (`request.timeout.ms`).
    RequestTimeout { request_id: u64 },
    /// Time for the controller to look for leadership imbalance (`auto.leader.rebalance.enable`).
    LeaderImbalanceCheck,
    /// Time for a broker to delete segments past retention (`log.retention.check.interval.ms`).
    LogRetentionCheck,
    /// Time for a broker's log cleaner to compact (`log.cleaner.backoff.ms`).
    LogCleaner,
    /// Time for a node's metadata log (its Raft replica) to do what is due: election and fetch
    /// timeouts, check quorum, held fetches. Early ticks are harmless.
    RaftTick,
    /// The client's back-off after NOT_CONTROLLER is over: ask the active controller again.
    AdminRetry { request_id: u64 },
    /// A consumer fetch parked on the leader has waited `fetch.max.wait.ms`: answer it.
    ConsumerFetchWaitExpired { partition: TopicPartition, from: NodeId, fetch_id: u64 },
    /// A consumer's back-off after a failed fetch is over (`retry.backoff.ms`).
    ConsumerRetry { partition: TopicPartition },
    /// A consumer's fetch had no answer within `request.timeout.ms`: send it again.
    ConsumerFetchTimeout { partition: TopicPartition, fetch_id: u64 },
    /// The broker's transaction coordinator asked to be called back.
    Txn(TxnTimer),
    /// A named producer asked to be called back.
    Producer(crate::producer::ProducerTimer),
    /// A named consumer asked to be called back.
    Consumer(crate::consumer::ConsumerTimer),
    /// The broker's group coordinator asked to be called back.
    Group(crate::group::GroupTimer),
    /// Send the markers of coordinator token `token` again to the partitions yet to confirm.
    MarkerRetry { token: u64 },
    /// Ask the controller for producer ids again, if still waiting for them.
    ProducerIdRetry,
    /// A client's Fetch held on the broker has waited its `max_wait_ms`: answer it with what
    /// there is.
    ClientFetchWaitExpired { from: NodeId, fetch_id: u64 },
    /// A broker forwarding a topic request to the controller: send it again if it is still
    /// unanswered, or answer REQUEST_TIMED_OUT once its time is up.
    /// `attempt` numbers the sends: a timer set for an earlier send does nothing.
    TopicAdminRetry { forward_id: u64, attempt: u32 },
}

/// One thing a node wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Send {
        to: NodeId,
        message: Message,
    },
    SetTimer {
        after_ms: u64,
        timer: Timer,
    },
    Trace(TraceEvent),
    /// The metadata log committed the entry at `offset`, whose records say `events`. Every
    /// controller reports every committed entry; the driver traces each offset once.
    MetadataCommitted {
        offset: Offset,
        events: Vec<TraceEvent>,
    },
    /// The node has finished a controlled shutdown: the driver stops it.
    Stop,
}

/// One partition a [`Message::ClientFetch`] reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFetchPartition {
    pub partition: TopicPartition,
    pub fetch_offset: Offset,
    /// The most bytes of this partition's batches to return (`max.partition.fetch.bytes`); the
    /// first batch goes whatever its size.
    pub max_bytes: usize,
}

/// A client's Fetch: Kafka's FetchRequest as the broker needs it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFetchRequest {
    pub partitions: Vec<ClientFetchPartition>,
    pub isolation: IsolationLevel,
    /// Answer once this many bytes are readable across the partitions (`fetch.min.bytes`).
    pub min_bytes: usize,
    /// Answer after this long at the latest (`fetch.max.wait.ms`); 0 answers at once.
    pub max_wait_ms: u64,
    /// The most bytes of batches in the whole response (`fetch.max.bytes`); the first
    /// partition with records gets at least one batch whatever its size.
    pub max_bytes: usize,
}

/// One partition of a [`Message::ClientFetchResponse`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientFetchPartitionResult {
    pub partition: TopicPartition,
    /// Where the leader's log starts, so a consumer told OFFSET_OUT_OF_RANGE can reset.
    pub log_start_offset: Offset,
    pub result: Result<ConsumerFetchData, ErrorCode>,
}
