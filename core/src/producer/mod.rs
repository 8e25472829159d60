//! The producer client (Kafka's `KafkaProducer`) as a sans-IO state machine.
//!
//! ```text
//!  send(record) ──> partitioner ──> accumulator ──(ready: full, linger.ms, flush, back-off over)
//!                                                     │
//!  handle_message(ProduceResponse) ──> sender <───────┘ drain to each partition's leader,
//!  handle_timer(linger, back-off,        │              at most max.in.flight per broker
//!               request/delivery timeout)│
//!                                        v
//!  take_outputs(): Send, SetTimer, Delivered, Failed, Event
//! ```
//!
//! Inputs are [`Producer::send`], [`Producer::flush`], [`Producer::handle_message`],
//! [`Producer::handle_timer`] and [`Producer::handle_disconnect`] (a broker's connection was
//! refused or reset: see `disconnect`), each with the current time and a [`ClientMetadata`] of the
//! metadata; outputs come out of [`Producer::take_outputs`]. A transactional producer also
//! takes [`Producer::init_transactions`], [`Producer::begin_transaction`],
//! [`Producer::send_offsets_to_transaction`], [`Producer::commit_transaction`] and
//! [`Producer::abort_transaction`]. The pieces: [`config`], [`partitioning`], [`batch`],
//! [`accumulator`], the sender (in `sender`), [`idempotence`], [`retry`], [`transaction`]
//! (with its requests in `txn_sender`) and [`event`].
//!
//! Differences from Kafka's client, on purpose:
//! - One Produce message carries one partition's batch. Kafka packs the ready batches of every
//!   partition a broker leads into one request; the in-flight limit is per broker here as in
//!   Kafka, so it counts partitions' batches rather than multi-partition requests.
//! - Metadata is not requested: the [`ClientMetadata`] is assumed fresh. After an error that
//!   would make Kafka refresh it (NOT_LEADER_OR_FOLLOWER, ...) the batch still waits its
//!   back-off, as Kafka's does while the refresh happens (KIP-951's skip of the back-off when
//!   the response names a new leader is left out).
//! - A request that times out fails alone; Kafka also closes the connection, failing the
//!   broker's other in-flight requests with it. A connection that breaks (the driver calls
//!   [`Producer::handle_disconnect`]) fails all of them, as in Kafka.
//! - MESSAGE_TOO_LARGE fails the batch; Kafka splits a multi-record batch and retries.
//! - A transactional producer (`transactional.id`, [`transaction`]) finds its coordinator,
//!   adds partitions and offsets to the transaction and ends it, one coordinator request at a
//!   time as Kafka does; two-phase commit (KIP-939) is left out.

pub mod accumulator;
pub mod batch;
pub mod config;
mod disconnect;
pub mod event;
pub mod idempotence;
pub mod partitioning;
pub mod retry;
mod sender;
pub mod transaction;
mod txn_sender;

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::ids::{BrokerId, TopicPartition};
use crate::message::{Message, NodeId};
use crate::rng::Rng;
use crate::transaction::protocol::ProducerIdAndEpoch;

pub use accumulator::QueuedBatch;
pub use config::{ConfigError, PartitionerKind, ProducerConfig};
pub use event::{
    AttemptError, BatchId, ProducerError, ProducerEvent, ProducerOutput, ProducerTimer, RecordId, SendError,
};
pub use transaction::{GroupMetadata, TransactionError, TransactionState};

use accumulator::Accumulator;
use batch::{lone_record_size, PendingRecord, ProducerBatch};
use idempotence::Idempotence;
use partitioning::Partitioner;
use transaction::TransactionManager;

pub use crate::metadata::ClientMetadata;

/// A record to send (Kafka's `ProducerRecord`, with serialized key and value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerRecord {
    pub topic: Arc<str>,
    /// An explicit partition; `None` lets the partitioner choose.
    pub partition: Option<i32>,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    /// Create time; `None` stamps it with the time of `send`.
    pub timestamp_ms: Option<i64>,
}

/// A request sent and not yet answered, for drawing and tests.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InFlightView {
    pub request_id: u64,
    pub broker: BrokerId,
    /// The partition and batch of a Produce; `None` for InitProducerId.
    pub batch: Option<(TopicPartition, BatchId)>,
    pub records: usize,
    pub sent_ms: u64,
}

/// A request sent and not yet answered.
#[derive(Clone, Debug)]
enum InFlight {
    Produce { broker: BrokerId, batch: ProducerBatch, sent_ms: u64 },
    InitProducerId { broker: BrokerId, sent_ms: u64 },
}

impl InFlight {
    fn broker(&self) -> BrokerId {
        match self {
            InFlight::Produce { broker, .. } | InFlight::InitProducerId { broker, .. } => *broker,
        }
    }
}

/// A Kafka producer: partitioner, record accumulator, sender and idempotence state.
#[derive(Clone, Debug)]
pub struct Producer {
    config: ProducerConfig,
    partitioner: Partitioner,
    accumulator: Accumulator,
    /// `None` when idempotence is off.
    idempotence: Option<Idempotence>,
    /// `None` without a `transactional.id`.
    transaction: Option<TransactionManager>,
    in_flight: BTreeMap<u64, InFlight>,
    /// Batches numbered below this were created before the last flush: they go at once.
    flush_below: BatchId,
    /// Set by a fencing error: everything fails from then on.
    fatal: Option<ProducerError>,
    /// A [`ProducerTimer::Retry`] is set and has not fired.
    retry_timer_set: bool,
    /// The sticky partitioner's picks and the back-off jitter.
    rng: Rng,
    next_record_id: u64,
    next_request_id: u64,
    outputs: Vec<ProducerOutput>,
}

impl Producer {
    /// A producer with `config`, whose random choices come from seed 0.
    ///
    /// # Panics
    /// If the config is invalid ([`ProducerConfig::validate`]).
    pub fn new(config: ProducerConfig) -> Self {
        Producer::with_seed(config, 0)
    }

    /// A producer whose random choices (sticky partitions, back-off jitter) come from `seed`.
    pub fn with_seed(config: ProducerConfig, seed: u64) -> Self {
        if let Err(error) = config.validate() {
            panic!("invalid producer config: {error}");
        }
        Producer {
            partitioner: Partitioner::new(config.partitioner, config.partitioner_ignore_keys, config.batch_size),
            accumulator: Accumulator::new(config.batch_size),
            idempotence: config.idempotence().then(Idempotence::new),
            transaction: config.transactional_id.clone().map(TransactionManager::new),
            in_flight: BTreeMap::new(),
            flush_below: BatchId(0),
            fatal: None,
            retry_timer_set: false,
            rng: Rng::new(seed),
            next_record_id: 0,
            next_request_id: 0,
            outputs: Vec::new(),
            config,
        }
    }

    /// Hands `record` to the partitioner and the accumulator, and sends what is ready.
    pub fn send(
        &mut self,
        now_ms: u64,
        record: ProducerRecord,
        cluster: &impl ClientMetadata,
    ) -> Result<RecordId, SendError> {
        if let Some(error) = self.fatal {
            return Err(SendError::Fatal(error));
        }
        if let Some(manager) = &self.transaction {
            manager.check_send().map_err(SendError::Transaction)?;
        }
        let topic = record.topic.clone();
        let Some(partition_count) = cluster.partition_count(&topic) else {
            return Err(SendError::UnknownTopic { topic: topic.as_ref().into() });
        };
        if let Some(index) = record.partition {
            if !(0..partition_count).contains(&index) {
                return Err(SendError::UnknownPartition {
                    partition: TopicPartition::new(topic, index),
                    partition_count,
                });
            }
        }
        let size_bytes = lone_record_size(&record.key, &record.value);
        if size_bytes > self.config.max_request_size as usize {
            return Err(SendError::RecordTooLarge { size_bytes, max_request_size: self.config.max_request_size });
        }
        let available = available_partitions(&topic, partition_count, cluster);
        let choice = match record.partition {
            Some(index) => partitioning::Choice { partition: index, sticky: false },
            None => self.partitioner.choose(&topic, record.key.as_deref(), partition_count, &available, &mut self.rng),
        };
        let partition = TopicPartition::new(topic.clone(), choice.partition);
        if let Some(manager) = &mut self.transaction {
            manager.maybe_add_partition(&partition);
        }
        let id = RecordId(self.next_record_id);
        self.next_record_id += 1;
        let timestamp_ms = record.timestamp_ms.unwrap_or(now_ms as i64);
        let pending = PendingRecord { id, timestamp_ms, key: record.key, value: record.value };
        let appended = self.accumulator.append(now_ms, &partition, pending);
        if appended.new_batch {
            self.batch_created(appended.batch, partition);
        }
        if choice.sticky {
            let bytes = appended.appended_bytes as u64;
            let full = appended.all_batches_full;
            if let Some(next) =
                self.partitioner.record_appended(&topic, bytes, full, partition_count, &available, &mut self.rng)
            {
                let topic = topic.as_ref().into();
                self.event(ProducerEvent::StickyPartitionChanged { topic, partition: next });
            }
        }
        self.run(now_ms, cluster);
        Ok(id)
    }

    /// Makes every batch waiting now ready at once, as `KafkaProducer.flush` does (which then
    /// blocks until they complete; here their outcomes come out as they happen).
    pub fn flush(&mut self, now_ms: u64, cluster: &impl ClientMetadata) {
        self.flush_below = self.accumulator.next_batch_id();
        self.run(now_ms, cluster);
    }

    /// A message from a broker: a ProduceResponse, or an answer to InitProducerId or another
    /// coordinator request.
    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, message: Message, cluster: &impl ClientMetadata) {
        match message {
            Message::ProduceResponse { request_id, partition, result } => {
                self.produce_response(now_ms, request_id, partition, result);
            }
            Message::TxnResponse { request_id, response } if self.transaction.is_none() => {
                self.init_producer_id_response(now_ms, from, request_id, *response);
            }
            message @ (Message::TxnResponse { .. }
            | Message::FindCoordinatorResponse { .. }
            | Message::GroupResponse { .. }) => {
                let request_id = match &message {
                    Message::TxnResponse { request_id, .. }
                    | Message::FindCoordinatorResponse { request_id, .. }
                    | Message::GroupResponse { request_id, .. } => *request_id,
                    _ => unreachable!("matched above"),
                };
                self.txn_response(now_ms, request_id, message);
            }
            _ => debug_assert!(false, "the producer got a message it never asks for: {}", message.name()),
        }
        self.run(now_ms, cluster);
    }

    /// A timer the producer set has come due.
    pub fn handle_timer(&mut self, now_ms: u64, timer: ProducerTimer, cluster: &impl ClientMetadata) {
        match timer {
            ProducerTimer::RequestTimeout { request_id } => self.request_timed_out(now_ms, request_id),
            ProducerTimer::Retry => {
                self.retry_timer_set = false;
                if let Some(idempotence) = &mut self.idempotence {
                    idempotence.backoff_over();
                }
            }
            ProducerTimer::LingerExpired { .. }
            | ProducerTimer::RetryBackoff { .. }
            | ProducerTimer::DeliveryTimeout { .. } => {}
        }
        self.run(now_ms, cluster);
    }

    /// What the producer asks of its driver, oldest first.
    pub fn take_outputs(&mut self) -> Vec<ProducerOutput> {
        core::mem::take(&mut self.outputs)
    }

    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// The batches waiting to be sent (or re-sent), per partition in queue order.
    pub fn queued_batches(&self, now_ms: u64) -> Vec<QueuedBatch> {
        self.accumulator.queued(now_ms)
    }

    /// The requests in flight, by request id.
    pub fn in_flight(&self) -> Vec<InFlightView> {
        self.in_flight
            .iter()
            .map(|(&request_id, sent)| match sent {
                InFlight::Produce { broker, batch, sent_ms } => InFlightView {
                    request_id,
                    broker: *broker,
                    batch: Some((batch.partition.clone(), batch.id)),
                    records: batch.records.len(),
                    sent_ms: *sent_ms,
                },
                InFlight::InitProducerId { broker, sent_ms } => {
                    InFlightView { request_id, broker: *broker, batch: None, records: 0, sent_ms: *sent_ms }
                }
            })
            .collect()
    }

    /// How many requests are in flight to `broker`.
    pub fn in_flight_to(&self, broker: BrokerId) -> usize {
        self.in_flight.values().filter(|sent| sent.broker() == broker).count()
    }

    /// Whether the producer is idempotent.
    pub fn is_idempotent(&self) -> bool {
        self.idempotence.is_some()
    }

    /// The producer id and epoch batches go out under, once assigned.
    pub fn producer_id(&self) -> Option<ProducerIdAndEpoch> {
        self.idempotence.as_ref().and_then(Idempotence::producer)
    }

    /// The base sequence the partition's next new batch will get (idempotent producer).
    pub fn next_sequence(&self, partition: &TopicPartition) -> Option<i32> {
        self.idempotence.as_ref().and_then(|idempotence| idempotence.next_sequence(partition))
    }

    /// The partition records without a key of `topic` currently stick to.
    pub fn sticky_partition(&self, topic: &str) -> Option<i32> {
        self.partitioner.sticky_partition(topic).map(|sticky| sticky.partition)
    }

    /// The fatal error the producer hit, if any.
    pub fn fatal_error(&self) -> Option<ProducerError> {
        self.fatal
    }

    fn event(&mut self, event: ProducerEvent) {
        self.outputs.push(ProducerOutput::Event(event));
    }

    fn set_timer(&mut self, after_ms: u64, timer: ProducerTimer) {
        self.outputs.push(ProducerOutput::SetTimer { after_ms, timer });
    }

    fn next_request_id(&mut self) -> u64 {
        let id = self.next_request_id;
        self.next_request_id += 1;
        id
    }

    /// A new batch waits at most `linger.ms` to fill and `delivery.timeout.ms` to be delivered.
    fn batch_created(&mut self, batch: BatchId, partition: TopicPartition) {
        self.event(ProducerEvent::BatchCreated { batch, partition });
        self.set_timer(self.config.linger_ms, ProducerTimer::LingerExpired { batch });
        self.set_timer(self.config.delivery_timeout_ms, ProducerTimer::DeliveryTimeout { batch });
    }
}

/// The partitions of `topic` that have a leader, ascending (Kafka's `availablePartitionsForTopic`).
fn available_partitions(topic: &Arc<str>, partition_count: i32, cluster: &impl ClientMetadata) -> Vec<i32> {
    (0..partition_count).filter(|&index| cluster.leader(&TopicPartition::new(topic.clone(), index)).is_some()).collect()
}
