//! The transaction coordinator's requests and responses, field for field as Kafka has them
//! (InitProducerId v5, AddPartitionsToTxn v3, AddOffsetsToTxn v3, EndTxn v3), and the markers
//! a coordinator asks partition leaders to write (WriteTxnMarkers v1).
//!
//! InitProducerId without a transactional id goes to any broker and only hands out a producer id
//! for an idempotent producer; with one, it goes to that id's coordinator, which fences the
//! previous epoch.

use alloc::sync::Arc;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::ids::TopicPartition;

/// A producer's `transactional.id`.
pub type TransactionalId = Arc<str>;

/// A producer id and the epoch it is at: together they name one producer session.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ProducerIdAndEpoch {
    pub producer_id: i64,
    pub epoch: i16,
}

impl ProducerIdAndEpoch {
    /// What a producer without one sends (Kafka's -1 / -1).
    pub const NONE: ProducerIdAndEpoch = ProducerIdAndEpoch { producer_id: -1, epoch: -1 };
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnRequest {
    InitProducerId {
        transactional_id: Option<TransactionalId>,
        transaction_timeout_ms: u64,
        /// KIP-360: the id and epoch the producer already has, to bump instead of starting over;
        /// [`ProducerIdAndEpoch::NONE`] otherwise.
        current: ProducerIdAndEpoch,
    },
    AddPartitionsToTxn {
        transactional_id: TransactionalId,
        producer: ProducerIdAndEpoch,
        partitions: Vec<TopicPartition>,
    },
    /// The transaction will commit offsets for `group_id`: the coordinator adds the group's
    /// `__consumer_offsets` partition to it.
    AddOffsetsToTxn { transactional_id: TransactionalId, producer: ProducerIdAndEpoch, group_id: Arc<str> },
    EndTxn {
        transactional_id: TransactionalId,
        producer: ProducerIdAndEpoch,
        /// Commit (`true`) or abort.
        committed: bool,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnResponse {
    InitProducerId { result: Result<ProducerIdAndEpoch, ErrorCode> },
    AddPartitionsToTxn { results: Vec<(TopicPartition, Option<ErrorCode>)> },
    AddOffsetsToTxn { error: Option<ErrorCode> },
    EndTxn { error: Option<ErrorCode> },
}

/// One transaction's end, to be marked in some partitions (WriteTxnMarkers).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TxnMarker {
    pub producer: ProducerIdAndEpoch,
    /// Commit (`true`) or abort.
    pub committed: bool,
    pub partitions: Vec<TopicPartition>,
    /// The coordinator's epoch for the transactional id's partition (its leader epoch), so a
    /// partition can refuse markers from a deposed coordinator.
    pub coordinator_epoch: i32,
}

/// What a transaction is doing, as the coordinator records it in `__transaction_state`
/// (Kafka's `TransactionState`, with the same ids in the log).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TransactionState {
    Empty,
    Ongoing,
    PrepareCommit,
    PrepareAbort,
    CompleteCommit,
    CompleteAbort,
    Dead,
    PrepareEpochFence,
}

impl TransactionState {
    /// The state's byte in a `TransactionLogValue`.
    pub fn id(self) -> i8 {
        match self {
            TransactionState::Empty => 0,
            TransactionState::Ongoing => 1,
            TransactionState::PrepareCommit => 2,
            TransactionState::PrepareAbort => 3,
            TransactionState::CompleteCommit => 4,
            TransactionState::CompleteAbort => 5,
            TransactionState::Dead => 6,
            TransactionState::PrepareEpochFence => 7,
        }
    }

    pub fn from_id(id: i8) -> Option<TransactionState> {
        Some(match id {
            0 => TransactionState::Empty,
            1 => TransactionState::Ongoing,
            2 => TransactionState::PrepareCommit,
            3 => TransactionState::PrepareAbort,
            4 => TransactionState::CompleteCommit,
            5 => TransactionState::CompleteAbort,
            6 => TransactionState::Dead,
            7 => TransactionState::PrepareEpochFence,
            _ => return None,
        })
    }

    /// Kafka's name for the state, as DescribeTransactions returns it.
    pub fn name(self) -> &'static str {
        match self {
            TransactionState::Empty => "Empty",
            TransactionState::Ongoing => "Ongoing",
            TransactionState::PrepareCommit => "PrepareCommit",
            TransactionState::PrepareAbort => "PrepareAbort",
            TransactionState::CompleteCommit => "CompleteCommit",
            TransactionState::CompleteAbort => "CompleteAbort",
            TransactionState::Dead => "Dead",
            TransactionState::PrepareEpochFence => "PrepareEpochFence",
        }
    }
}

impl TxnRequest {
    /// The API's name, as Kafka calls it.
    pub fn name(&self) -> &'static str {
        match self {
            TxnRequest::InitProducerId { .. } => "InitProducerId",
            TxnRequest::AddPartitionsToTxn { .. } => "AddPartitionsToTxn",
            TxnRequest::AddOffsetsToTxn { .. } => "AddOffsetsToTxn",
            TxnRequest::EndTxn { .. } => "EndTxn",
        }
    }

    /// The transactional id it concerns, which picks its coordinator; `None` for an idempotent
    /// producer's InitProducerId, which any broker answers.
    pub fn transactional_id(&self) -> Option<&TransactionalId> {
        match self {
            TxnRequest::InitProducerId { transactional_id, .. } => transactional_id.as_ref(),
            TxnRequest::AddPartitionsToTxn { transactional_id, .. }
            | TxnRequest::AddOffsetsToTxn { transactional_id, .. }
            | TxnRequest::EndTxn { transactional_id, .. } => Some(transactional_id),
        }
    }

    /// The response that refuses this request with `error` (every partition of an
    /// AddPartitionsToTxn gets it).
    pub fn error_response(&self, error: ErrorCode) -> TxnResponse {
        match self {
            TxnRequest::InitProducerId { .. } => TxnResponse::InitProducerId { result: Err(error) },
            TxnRequest::AddPartitionsToTxn { partitions, .. } => TxnResponse::AddPartitionsToTxn {
                results: partitions.iter().map(|partition| (partition.clone(), Some(error))).collect(),
            },
            TxnRequest::AddOffsetsToTxn { .. } => TxnResponse::AddOffsetsToTxn { error: Some(error) },
            TxnRequest::EndTxn { .. } => TxnResponse::EndTxn { error: Some(error) },
        }
    }

    /// The response that grants this request; `producer` is what an InitProducerId hands out
    /// (the other APIs ignore it).
    pub fn success_response(&self, producer: ProducerIdAndEpoch) -> TxnResponse {
        match self {
            TxnRequest::InitProducerId { .. } => TxnResponse::InitProducerId { result: Ok(producer) },
            TxnRequest::AddPartitionsToTxn { partitions, .. } => TxnResponse::AddPartitionsToTxn {
                results: partitions.iter().map(|partition| (partition.clone(), None)).collect(),
            },
            TxnRequest::AddOffsetsToTxn { .. } => TxnResponse::AddOffsetsToTxn { error: None },
            TxnRequest::EndTxn { .. } => TxnResponse::EndTxn { error: None },
        }
    }

    /// The producer id and epoch the request comes from ([`ProducerIdAndEpoch::NONE`] for an
    /// InitProducerId from a producer without one).
    pub fn producer(&self) -> ProducerIdAndEpoch {
        match self {
            TxnRequest::InitProducerId { current, .. } => *current,
            TxnRequest::AddPartitionsToTxn { producer, .. }
            | TxnRequest::AddOffsetsToTxn { producer, .. }
            | TxnRequest::EndTxn { producer, .. } => *producer,
        }
    }
}

impl TxnResponse {
    /// The name of the response's API.
    pub fn name(&self) -> &'static str {
        match self {
            TxnResponse::InitProducerId { .. } => "InitProducerIdResponse",
            TxnResponse::AddPartitionsToTxn { .. } => "AddPartitionsToTxnResponse",
            TxnResponse::AddOffsetsToTxn { .. } => "AddOffsetsToTxnResponse",
            TxnResponse::EndTxn { .. } => "EndTxnResponse",
        }
    }
}
