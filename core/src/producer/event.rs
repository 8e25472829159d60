//! What the producer hands its driver: messages to send, timers to set, each record's outcome,
//! and [`ProducerEvent`]s for the trace and the page; plus the identifiers and errors they name.

use alloc::string::String;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::transaction::{TransactionError, TransactionState};
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, Offset, TopicPartition};
use crate::message::{Message, NodeId};
use crate::record_batch::Compression;
use crate::transaction::protocol::ProducerIdAndEpoch;

/// A record accepted by [`send`](super::Producer::send), numbered from 0 in the order sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct RecordId(pub u64);

/// A batch the accumulator created, numbered from 0 in the order created.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct BatchId(pub u64);

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "r{}", self.0)
    }
}

impl fmt::Display for BatchId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "b{}", self.0)
    }
}

/// A timer the producer asked for; it comes back through
/// [`handle_timer`](super::Producer::handle_timer) at its time. A timer whose reason has gone
/// (the batch was sent, the request answered) is ignored, so early or stale ones are harmless.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProducerTimer {
    /// `linger.ms` has passed since the batch was created: it is ready to send.
    LingerExpired { batch: BatchId },
    /// The batch's back-off before a retry is over.
    RetryBackoff { batch: BatchId },
    /// The request had no answer within `request.timeout.ms`.
    RequestTimeout { request_id: u64 },
    /// `delivery.timeout.ms` has passed since the batch was created: if it is still waiting,
    /// its records fail.
    DeliveryTimeout { batch: BatchId },
    /// Time to look again for a partition leader, or to ask again for a producer id
    /// (`retry.backoff.ms`, as Kafka refreshes its metadata before trying again).
    Retry,
}

/// Why a record was not delivered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProducerError {
    /// The broker's error, not retriable or out of retries.
    Broker(ErrorCode),
    /// `delivery.timeout.ms` passed before the batch was acknowledged (Kafka's
    /// `TimeoutException`, "Expiring N record(s)").
    DeliveryTimeout,
    /// The transaction was aborted before the batch was sent (`TransactionAbortedException`).
    TransactionAborted,
    /// Another producer with the same id has a newer epoch (PRODUCER_FENCED or
    /// INVALID_PRODUCER_EPOCH): fatal, the producer fails everything from now on.
    Fenced(ErrorCode),
    /// The connection to the broker broke with the request in flight, and no retry was left
    /// (Kafka's `NetworkException`).
    Disconnected,
}

/// Why one attempt of a batch failed: the broker's answer, or no answer at all because the
/// connection broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum AttemptError {
    /// The broker answered with this error.
    Broker(ErrorCode),
    /// The connection to the broker was refused or reset with the request in flight. Kafka's
    /// client fails such requests itself with NETWORK_EXCEPTION (13), a retriable error no
    /// broker sends, which is why [`ErrorCode`] does not list it.
    Disconnected,
}

impl AttemptError {
    /// The broker's error code, if the broker answered.
    pub fn code(self) -> Option<ErrorCode> {
        match self {
            AttemptError::Broker(code) => Some(code),
            AttemptError::Disconnected => None,
        }
    }

    /// What the records fail with when this attempt was their last.
    pub fn as_producer_error(self) -> ProducerError {
        match self {
            AttemptError::Broker(code) => ProducerError::Broker(code),
            AttemptError::Disconnected => ProducerError::Disconnected,
        }
    }
}

impl fmt::Display for AttemptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttemptError::Broker(code) => write!(f, "{code}"),
            AttemptError::Disconnected => write!(f, "NETWORK_EXCEPTION (13)"),
        }
    }
}

impl fmt::Display for ProducerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProducerError::Broker(code) => write!(f, "{code}"),
            ProducerError::DeliveryTimeout => write!(f, "delivery.timeout.ms expired"),
            ProducerError::TransactionAborted => write!(f, "the transaction was aborted"),
            ProducerError::Fenced(code) => write!(f, "fenced: {code}"),
            ProducerError::Disconnected => write!(f, "NETWORK_EXCEPTION (13): the connection to the broker broke"),
        }
    }
}

/// Why [`send`](super::Producer::send) refused a record at once (Kafka fails its future).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The metadata knows no such topic.
    UnknownTopic { topic: String },
    /// The topic has no partition with that index.
    UnknownPartition { partition: TopicPartition, partition_count: i32 },
    /// The record with its batch overhead is larger than `max.request.size`
    /// (`RecordTooLargeException`).
    RecordTooLarge { size_bytes: usize, max_request_size: u32 },
    /// The producer hit a fatal error earlier (it was fenced) and accepts nothing more.
    Fatal(ProducerError),
    /// A transactional producer outside a transaction (or in an abortable error).
    Transaction(TransactionError),
}

impl fmt::Display for SendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SendError::UnknownTopic { topic } => write!(f, "topic {topic} not present in metadata"),
            SendError::UnknownPartition { partition, partition_count } => {
                write!(f, "partition {partition} does not exist: the topic has {partition_count} partitions")
            }
            SendError::RecordTooLarge { size_bytes, max_request_size } => write!(
                f,
                "the message is {size_bytes} bytes when serialized, which is larger than max.request.size \
                 ({max_request_size})"
            ),
            SendError::Fatal(error) => write!(f, "the producer is in a fatal state: {error}"),
            SendError::Transaction(error) => write!(f, "{error}"),
        }
    }
}

/// What the producer asks of its driver, in the order it asked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProducerOutput {
    /// Carry `message` to `to`.
    Send { to: NodeId, message: Message },
    /// Hand `timer` back after `after_ms`.
    SetTimer { after_ms: u64, timer: ProducerTimer },
    /// The record was acknowledged at `offset`: its batch's base offset plus its index in the
    /// batch. `None` only when the broker answered DUPLICATE_SEQUENCE_NUMBER without an offset
    /// (Kafka's callback then gets -1).
    Delivered { record: RecordId, partition: TopicPartition, offset: Option<Offset> },
    /// The record will not be delivered.
    Failed { record: RecordId, partition: TopicPartition, error: ProducerError },
    /// The transaction ended: EndTxn committed or aborted it.
    TransactionCompleted { committed: bool },
    /// Something worth a line in the trace.
    Event(ProducerEvent),
}

/// What the producer did, one line each in the trace and the page's event log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProducerEvent {
    /// The accumulator opened a new batch for the partition.
    BatchCreated { batch: BatchId, partition: TopicPartition },
    /// The built-in partitioner's sticky partition for records without a key moved.
    StickyPartitionChanged { topic: String, partition: i32 },
    /// A batch went to the partition's leader (`attempt` 1 for its first send).
    BatchSent {
        batch: BatchId,
        partition: TopicPartition,
        broker: BrokerId,
        request_id: u64,
        records: usize,
        /// The batch's bytes as sent: compressed with `compression` unless it is none.
        size_bytes: usize,
        compression: Compression,
        attempt: u32,
        /// The base sequence of an idempotent producer's batch.
        base_sequence: Option<i32>,
    },
    /// The leader acknowledged the batch; `base_offset` is `None` after DUPLICATE_SEQUENCE_NUMBER.
    BatchAcknowledged { batch: BatchId, partition: TopicPartition, base_offset: Option<Offset> },
    /// The batch failed with a retriable error and goes back to the queue for another attempt.
    BatchRetrying { batch: BatchId, partition: TopicPartition, error: AttemptError, backoff_ms: u64 },
    /// The batch failed for good.
    BatchFailed { batch: BatchId, partition: TopicPartition, error: ProducerError },
    /// The batch's `delivery.timeout.ms` passed before it was acknowledged.
    BatchExpired { batch: BatchId, partition: TopicPartition, records: usize },
    /// A request had no answer within `request.timeout.ms`.
    RequestTimedOut { request_id: u64, broker: BrokerId },
    /// The idempotent producer asked a broker for a producer id (or an epoch bump).
    ProducerIdRequested { broker: BrokerId, current: ProducerIdAndEpoch },
    /// The idempotent producer got its producer id and epoch.
    ProducerIdAssigned { producer: ProducerIdAndEpoch },
    /// The transactional producer moved to `state`.
    TransactionState { state: TransactionState },
    /// The transactional producer sent a coordinator request (FindCoordinator,
    /// AddPartitionsToTxn, EndTxn, ...).
    CoordinatorRequest { broker: BrokerId, request: String },
    /// The connection to `broker` broke: its `requests` in flight failed, to be retried.
    Disconnected { broker: BrokerId, requests: usize },
}

impl fmt::Display for ProducerEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProducerEvent::BatchCreated { batch, partition } => {
                write!(f, "producer: new batch {batch} for {partition}")
            }
            ProducerEvent::StickyPartitionChanged { topic, partition } => {
                write!(f, "producer: records without a key now stick to {topic}/{partition}")
            }
            ProducerEvent::BatchSent {
                batch,
                partition,
                broker,
                request_id,
                records,
                size_bytes,
                compression,
                attempt,
                base_sequence,
            } => {
                let plural = if *records == 1 { "" } else { "s" };
                write!(f, "producer: batch {batch} ({records} record{plural}, {size_bytes} bytes")?;
                if *compression != Compression::None {
                    write!(f, " {compression}")?;
                }
                write!(f, ") for {partition} -> broker {broker}")?;
                write!(f, " (request {request_id}, attempt {attempt}")?;
                match base_sequence {
                    Some(sequence) => write!(f, ", base sequence {sequence})"),
                    None => write!(f, ")"),
                }
            }
            ProducerEvent::BatchAcknowledged { batch, partition, base_offset } => match base_offset {
                Some(offset) => write!(f, "producer: batch {batch} written to {partition} at offset {offset}"),
                None => write!(f, "producer: batch {batch} was already in {partition} (duplicate sequence)"),
            },
            ProducerEvent::BatchRetrying { batch, partition, error, backoff_ms } => {
                write!(f, "producer: batch {batch} for {partition} failed with {error}; retry in {backoff_ms} ms")
            }
            ProducerEvent::BatchFailed { batch, partition, error } => {
                write!(f, "producer: batch {batch} for {partition} failed: {error}")
            }
            ProducerEvent::BatchExpired { batch, partition, records } => {
                write!(f, "producer: batch {batch} for {partition} expired, {records} records failed")
            }
            ProducerEvent::RequestTimedOut { request_id, broker } => {
                write!(f, "producer: request {request_id} to broker {broker} timed out")
            }
            ProducerEvent::ProducerIdRequested { broker, current } => {
                if current.producer_id < 0 {
                    write!(f, "producer: asks broker {broker} for a producer id")
                } else {
                    write!(
                        f,
                        "producer: asks broker {broker} to bump epoch {} of id {}",
                        current.epoch, current.producer_id
                    )
                }
            }
            ProducerEvent::ProducerIdAssigned { producer } => {
                write!(f, "producer: producer id {} epoch {}", producer.producer_id, producer.epoch)
            }
            ProducerEvent::TransactionState { state } => write!(f, "producer: transaction {state}"),
            ProducerEvent::CoordinatorRequest { broker, request } => {
                write!(f, "producer: {request} -> broker {broker}")
            }
            ProducerEvent::Disconnected { broker, requests } => {
                write!(f, "producer: connection to broker {broker} broke, {requests} requests in flight failed")
            }
        }
    }
}
