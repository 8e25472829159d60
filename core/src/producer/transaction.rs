//! The transactional producer's state (the transaction half of Kafka's `TransactionManager`):
//! where the transaction stands, which partitions and groups it has told its coordinator
//! about, and the coordinator requests still to send.
//!
//! ```text
//!  Uninitialized --init_transactions--> Initializing --InitProducerId ok--> Ready
//!  Ready --begin--> InTransaction --commit--> Committing --EndTxn ok--> Ready
//!                        |    \--abort--> Aborting --EndTxn ok--> Ready
//!                        '--a batch failed--> AbortableError --abort--> Aborting
//!  any --PRODUCER_FENCED--> Fatal
//! ```
//!
//! Requests go one at a time, the most urgent first as in Kafka's priority queue:
//! FindCoordinator, then InitProducerId, then AddPartitionsToTxn / AddOffsetsToTxn /
//! TxnOffsetCommit, then EndTxn, which also waits until no batch is queued or in flight.
//! A partition's batches are drained only once AddPartitionsToTxn has added it.

use alloc::collections::BTreeSet;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::event::ProducerError;
use crate::group::protocol::OffsetToCommit;
use crate::ids::{BrokerId, TopicPartition};
use crate::message::CoordinatorType;
use crate::transaction::protocol::ProducerIdAndEpoch;

/// Where the transactional producer stands (Kafka's `TransactionManager.State`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TransactionState {
    Uninitialized,
    Initializing,
    Ready,
    InTransaction,
    Committing,
    Aborting,
    /// A batch of the transaction failed: it can only be aborted.
    AbortableError(ProducerError),
    /// Fenced by a newer producer with the same `transactional.id`.
    Fatal(ProducerError),
}

impl fmt::Display for TransactionState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TransactionState::Uninitialized => write!(f, "UNINITIALIZED"),
            TransactionState::Initializing => write!(f, "INITIALIZING"),
            TransactionState::Ready => write!(f, "READY"),
            TransactionState::InTransaction => write!(f, "IN_TRANSACTION"),
            TransactionState::Committing => write!(f, "COMMITTING_TRANSACTION"),
            TransactionState::Aborting => write!(f, "ABORTING_TRANSACTION"),
            TransactionState::AbortableError(error) => write!(f, "ABORTABLE_ERROR ({error})"),
            TransactionState::Fatal(error) => write!(f, "FATAL_ERROR ({error})"),
        }
    }
}

/// A transactional call made in a state that does not allow it (Kafka's
/// `IllegalStateException`, or the abortable or fatal error the transaction is in).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransactionError {
    pub operation: &'static str,
    pub state: Option<TransactionState>,
}

impl fmt::Display for TransactionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            Some(state) => write!(f, "cannot {} in state {state}", self.operation),
            None => write!(f, "cannot {}: no transactional.id is set", self.operation),
        }
    }
}

/// A consumer's group membership, for offsets committed in a transaction (Kafka's
/// `ConsumerGroupMetadata`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMetadata {
    pub group_id: Arc<str>,
    pub generation_id: i32,
    pub member_id: Arc<str>,
    pub group_instance_id: Option<Arc<str>>,
}

/// A request to a coordinator, waiting or in flight.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnStep {
    FindCoordinator {
        key_type: CoordinatorType,
        key: Arc<str>,
    },
    /// `current` is NONE for a first id, the present one for a bump after an abort (KIP-360).
    InitProducerId {
        current: ProducerIdAndEpoch,
    },
    AddPartitions {
        partitions: Vec<TopicPartition>,
    },
    AddOffsets {
        offsets: Vec<OffsetToCommit>,
        group: GroupMetadata,
    },
    /// Goes to the group coordinator, after AddOffsetsToTxn.
    TxnOffsetCommit {
        offsets: Vec<OffsetToCommit>,
        group: GroupMetadata,
    },
    EndTxn {
        committed: bool,
    },
}

impl TxnStep {
    /// Kafka's `TransactionManager.Priority`: lower goes first.
    fn priority(&self) -> u8 {
        match self {
            TxnStep::FindCoordinator { .. } => 0,
            TxnStep::InitProducerId { .. } => 1,
            TxnStep::AddPartitions { .. } | TxnStep::AddOffsets { .. } | TxnStep::TxnOffsetCommit { .. } => 2,
            TxnStep::EndTxn { .. } => 3,
        }
    }
}

/// The transaction's state and the coordinator requests it needs.
#[derive(Clone, Debug)]
pub struct TransactionManager {
    pub transactional_id: Arc<str>,
    pub state: TransactionState,
    /// The transaction coordinator, once found.
    pub coordinator: Option<BrokerId>,
    /// The group coordinator for the offsets being committed, once found.
    pub group_coordinator: Option<BrokerId>,
    /// Partitions the coordinator has added to the current transaction.
    pub partitions: BTreeSet<TopicPartition>,
    /// Partitions sent to and not yet added.
    pub new_partitions: BTreeSet<TopicPartition>,
    /// Something was added at the coordinator (partitions or offsets): EndTxn is needed.
    pub started: bool,
    queue: Vec<TxnStep>,
    /// The request in flight: its id, where it went, and what it was.
    pub in_flight: Option<(u64, BrokerId, TxnStep)>,
    /// Backing off after an error until then.
    pub retry_at_ms: Option<u64>,
    /// Which broker to ask FindCoordinator next.
    pub next_broker: usize,
}

impl TransactionManager {
    pub fn new(transactional_id: Arc<str>) -> Self {
        TransactionManager {
            transactional_id,
            state: TransactionState::Uninitialized,
            coordinator: None,
            group_coordinator: None,
            partitions: BTreeSet::new(),
            new_partitions: BTreeSet::new(),
            started: false,
            queue: Vec::new(),
            in_flight: None,
            retry_at_ms: None,
            next_broker: 0,
        }
    }

    /// Queues a request; it goes after those of the same or higher priority already queued.
    pub fn enqueue(&mut self, step: TxnStep) {
        let position = self.queue.iter().position(|queued| queued.priority() > step.priority());
        self.queue.insert(position.unwrap_or(self.queue.len()), step);
    }

    /// Puts back a step that failed, ahead of others of its priority.
    pub fn requeue(&mut self, step: TxnStep) {
        let position = self.queue.iter().position(|queued| queued.priority() >= step.priority());
        self.queue.insert(position.unwrap_or(self.queue.len()), step);
    }

    /// The next request to send, if one may go now: AddPartitionsToTxn for new partitions comes
    /// first among its peers; EndTxn waits for every batch (`batches_pending`).
    pub fn next_step(&mut self, now_ms: u64, batches_pending: bool) -> Option<TxnStep> {
        if self.in_flight.is_some() || self.retry_at_ms.is_some_and(|at| now_ms < at) {
            return None;
        }
        self.retry_at_ms = None;
        if !self.new_partitions.is_empty() && self.queue.first().is_none_or(|step| step.priority() >= 2) {
            let partitions: Vec<TopicPartition> = core::mem::take(&mut self.new_partitions).into_iter().collect();
            return Some(TxnStep::AddPartitions { partitions });
        }
        let first = self.queue.first()?;
        if matches!(first, TxnStep::EndTxn { .. }) && batches_pending {
            return None;
        }
        Some(self.queue.remove(0))
    }

    /// Whether a batch of `partition` may be drained: the coordinator has added it.
    pub fn send_allowed(&self, partition: &TopicPartition) -> bool {
        self.partitions.contains(partition)
    }

    /// A record is about to go to `partition`: it joins the transaction if new.
    pub fn maybe_add_partition(&mut self, partition: &TopicPartition) {
        if !self.partitions.contains(partition) {
            self.new_partitions.insert(partition.clone());
        }
    }

    /// Drops the queued requests that belong to the transaction being abandoned.
    pub fn drop_transaction_steps(&mut self) {
        self.new_partitions.clear();
        self.queue.retain(|step| !matches!(step, TxnStep::AddOffsets { .. } | TxnStep::TxnOffsetCommit { .. }));
    }

    /// The transaction ended: a fresh one starts empty.
    pub fn transaction_ended(&mut self) {
        self.partitions.clear();
        self.new_partitions.clear();
        self.started = false;
        self.state = TransactionState::Ready;
    }

    /// A failure the application must answer by aborting.
    pub fn abortable_error(&mut self, error: ProducerError) {
        if matches!(self.state, TransactionState::InTransaction | TransactionState::Committing) {
            self.state = TransactionState::AbortableError(error);
            self.queue.retain(|step| !matches!(step, TxnStep::EndTxn { committed: true }));
        }
    }

    /// Whether the transaction accepts records now.
    pub fn check_send(&self) -> Result<(), TransactionError> {
        match self.state {
            TransactionState::InTransaction => Ok(()),
            state => Err(TransactionError { operation: "send", state: Some(state) }),
        }
    }
}
