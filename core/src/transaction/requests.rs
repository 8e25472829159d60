//! The coordinator's handlers for the client requests: InitProducerId, AddPartitionsToTxn and
//! AddOffsetsToTxn, EndTxn. Each checks the request against the transactional id's state in
//! Kafka's order (`TransactionCoordinator.scala`), then either answers at once or prepares a
//! transition and asks for its append; the answer then waits for the append (`completion.rs`).

use alloc::sync::Arc;
use alloc::vec::Vec;

use super::coordinator::{AfterAppend, Client, PendingAppend, TransactionCoordinator};
use super::event::TxnEvent;
use super::metadata::{is_epoch_exhausted, TransactionMetadata, TxnSnapshot, NO_PRODUCER_EPOCH};
use super::protocol::{ProducerIdAndEpoch, TransactionState, TransactionalId, TxnRequest};
use crate::error_code::ErrorCode;
use crate::ids::TopicPartition;
use crate::placement::{partition_for, CONSUMER_OFFSETS_TOPIC};

/// What InitProducerId does to an existing transactional id.
enum InitDecision {
    /// Write this new epoch (or producer id), then answer with it.
    Bump(TxnSnapshot),
    /// The epoch is exhausted: a new producer id is needed.
    Rotate { record_last_epoch: bool },
    /// A transaction is open: fence its producer and abort it first.
    FenceOngoing,
}

impl TransactionCoordinator {
    pub(super) fn init_producer_id(&mut self, now_ms: u64, client: Client, request: TxnRequest) {
        let TxnRequest::InitProducerId { transactional_id, transaction_timeout_ms, current } = &request else {
            unreachable!("init_producer_id gets InitProducerId");
        };
        let Some(id) = transactional_id.clone() else {
            // An idempotent producer: any broker hands it a fresh id, nothing is written.
            if let Some(producer_id) = self.take_producer_id_or_wait(client, &request) {
                let producer = ProducerIdAndEpoch { producer_id, epoch: 0 };
                self.event(TxnEvent::ProducerIdGiven { transactional_id: None, producer });
                self.respond(client, request.success_response(producer));
            }
            return;
        };
        if id.is_empty() {
            return self.refuse(client, &request, ErrorCode::InvalidRequest);
        }
        let timeout_ms = *transaction_timeout_ms;
        if timeout_ms == 0 || timeout_ms > self.config.transaction_max_timeout_ms {
            return self.refuse(client, &request, ErrorCode::InvalidTransactionTimeout);
        }
        let (partition_index, coordinator_epoch) = match self.locate(&id) {
            Ok(location) => location,
            Err(error) => return self.refuse(client, &request, error),
        };
        let expected = (*current != ProducerIdAndEpoch::NONE).then_some(*current);
        let created = self.metadata_mut(partition_index, &id).is_none();
        if created {
            let Some(producer_id) = self.take_producer_id_or_wait(client, &request) else { return };
            let metadata = TransactionMetadata::new(Arc::clone(&id), producer_id, timeout_ms, now_ms);
            let partition = self.partitions.get_mut(&partition_index).expect("located above");
            partition.transactions.insert(Arc::clone(&id), metadata);
        }
        let metadata = self.metadata_mut(partition_index, &id).expect("present or just created");
        let decision = match decide_init(metadata, timeout_ms, expected, now_ms) {
            Ok(decision) => decision,
            Err(error) => return self.refuse(client, &request, error),
        };
        let (target, fence) = match decision {
            InitDecision::Bump(target) => (target, None),
            InitDecision::Rotate { record_last_epoch } => {
                if !self.has_producer_id_or_wait(client, &request) {
                    return;
                }
                let new_producer_id = self.producer_ids.next_id().expect("checked above");
                let metadata = self.metadata_mut(partition_index, &id).expect("present");
                (metadata.prepare_producer_id_rotation(new_producer_id, timeout_ms, now_ms, record_last_epoch), None)
            }
            InitDecision::FenceOngoing => {
                let reply = Some((client, request));
                return self.fence_and_abort(now_ms, partition_index, coordinator_epoch, &id, reply);
            }
        };
        let then = AfterAppend::Answer { client, request };
        let transactional_id = id;
        self.append(PendingAppend {
            partition_index,
            coordinator_epoch,
            transactional_id,
            target,
            created,
            fence,
            then,
        });
    }

    /// AddPartitionsToTxn, and AddOffsetsToTxn (which adds the group's offsets partition).
    pub(super) fn add_partitions(&mut self, now_ms: u64, client: Client, request: TxnRequest) {
        let (id, producer, partitions) = match &request {
            TxnRequest::AddPartitionsToTxn { transactional_id, producer, partitions } => {
                (Arc::clone(transactional_id), *producer, partitions.clone())
            }
            TxnRequest::AddOffsetsToTxn { transactional_id, producer, group_id } => {
                let partition = partition_for(group_id, self.config.offsets_topic_num_partitions);
                (
                    Arc::clone(transactional_id),
                    *producer,
                    alloc::vec![TopicPartition::new(CONSUMER_OFFSETS_TOPIC, partition)],
                )
            }
            _ => unreachable!("add_partitions gets AddPartitionsToTxn or AddOffsetsToTxn"),
        };
        let (partition_index, coordinator_epoch) = match self.check_request(&id, producer) {
            Ok(location) => location,
            Err(error) => return self.refuse(client, &request, error),
        };
        let metadata = self.metadata_mut(partition_index, &id).expect("check_request found it");
        let state = metadata.state();
        if matches!(state, TransactionState::PrepareCommit | TransactionState::PrepareAbort) {
            return self.refuse(client, &request, ErrorCode::ConcurrentTransactions);
        }
        if state == TransactionState::Ongoing && partitions.iter().all(|p| metadata.current.partitions.contains(p)) {
            // Already in the transaction: nothing to write.
            return self.respond(client, request.success_response(producer));
        }
        let target = metadata.prepare_add_partitions(&partitions, now_ms);
        let then = AfterAppend::Answer { client, request };
        let (created, fence) = (false, None);
        let transactional_id = id;
        self.append(PendingAppend {
            partition_index,
            coordinator_epoch,
            transactional_id,
            target,
            created,
            fence,
            then,
        });
    }

    /// The checks every request about a transaction begins with (Kafka's order): a
    /// transactional id, this coordinator's partition for it, a producer id it knows, and the
    /// producer's current epoch. Where the transaction's state lives, when they pass.
    fn check_request(&mut self, id: &Arc<str>, producer: ProducerIdAndEpoch) -> Result<(i32, i32), ErrorCode> {
        if id.is_empty() {
            return Err(ErrorCode::InvalidRequest);
        }
        let (partition_index, coordinator_epoch) = self.locate(id)?;
        let metadata = self.metadata_mut(partition_index, id).ok_or(ErrorCode::InvalidProducerIdMapping)?;
        check_producer(metadata, producer)?;
        Ok((partition_index, coordinator_epoch))
    }

    pub(super) fn end_txn(&mut self, now_ms: u64, client: Client, request: TxnRequest) {
        let TxnRequest::EndTxn { transactional_id, producer, committed } = &request else {
            unreachable!("end_txn gets EndTxn");
        };
        let (id, producer, committed) = (Arc::clone(transactional_id), *producer, *committed);
        let (partition_index, coordinator_epoch) = match self.check_request(&id, producer) {
            Ok(location) => location,
            Err(error) => return self.refuse(client, &request, error),
        };
        let metadata = self.metadata_mut(partition_index, &id).expect("check_request found it");
        let answer = match (metadata.state(), committed) {
            (TransactionState::Ongoing, _) => None,
            // A retry of an EndTxn whose answer was lost: it did what was asked.
            (TransactionState::CompleteCommit, true) | (TransactionState::CompleteAbort, false) => Some(None),
            // Still writing the markers for the same outcome: the client retries.
            (TransactionState::PrepareCommit, true) | (TransactionState::PrepareAbort, false) => {
                Some(Some(ErrorCode::ConcurrentTransactions))
            }
            _ => Some(Some(ErrorCode::InvalidTxnState)),
        };
        match answer {
            Some(None) => self.respond(client, request.success_response(producer)),
            Some(Some(error)) => self.refuse(client, &request, error),
            None => {
                let target = metadata.prepare_abort_or_commit(committed, now_ms);
                let then = AfterAppend::Prepared { reply: Some((client, request)) };
                let (created, fence) = (false, None);
                let transactional_id = id;
                self.append(PendingAppend {
                    partition_index,
                    coordinator_epoch,
                    transactional_id,
                    target,
                    created,
                    fence,
                    then,
                });
            }
        }
    }

    /// Fences the producer of an Ongoing transaction and aborts it at the bumped epoch: for an
    /// InitProducerId from a new instance (`reply`), or a timeout (no reply).
    pub(super) fn fence_and_abort(
        &mut self,
        now_ms: u64,
        partition_index: i32,
        coordinator_epoch: i32,
        id: &TransactionalId,
        reply: Option<(Client, TxnRequest)>,
    ) {
        let metadata = self.metadata_mut(partition_index, id).expect("fencing a known transactional id");
        let fence = Some(metadata.fence_epoch());
        let target = metadata.prepare_abort_or_commit(false, now_ms);
        let then = AfterAppend::Prepared { reply };
        let transactional_id = Arc::clone(id);
        let created = false;
        self.append(PendingAppend {
            partition_index,
            coordinator_epoch,
            transactional_id,
            target,
            created,
            fence,
            then,
        });
    }

    /// The partitions of a transaction, for its markers.
    pub(super) fn partitions_of(&self, partition_index: i32, id: &str) -> Vec<TopicPartition> {
        let partition = self.partitions.get(&partition_index);
        let metadata = partition.and_then(|partition| partition.transactions.get(id));
        metadata.map(|metadata| metadata.current.partitions.iter().cloned().collect()).unwrap_or_default()
    }
}

/// AddPartitionsToTxn's and EndTxn's checks of the producer, in Kafka's order: another producer
/// id is INVALID_PRODUCER_ID_MAPPING, another epoch PRODUCER_FENCED (KIP-588), and a write in
/// flight CONCURRENT_TRANSACTIONS.
fn check_producer(metadata: &TransactionMetadata, producer: ProducerIdAndEpoch) -> Result<(), ErrorCode> {
    if metadata.current.producer_id != producer.producer_id {
        Err(ErrorCode::InvalidProducerIdMapping)
    } else if metadata.current.producer_epoch != producer.epoch {
        Err(ErrorCode::ProducerFenced)
    } else if metadata.is_pending() {
        Err(ErrorCode::ConcurrentTransactions)
    } else {
        Ok(())
    }
}

/// InitProducerId on a transactional id that exists (or was just created at epoch -1).
fn decide_init(
    metadata: &mut TransactionMetadata,
    timeout_ms: u64,
    expected: Option<ProducerIdAndEpoch>,
    now_ms: u64,
) -> Result<InitDecision, ErrorCode> {
    if metadata.is_pending() {
        return Err(ErrorCode::ConcurrentTransactions);
    }
    if let Some(expected) = expected {
        // KIP-360: a producer that names its id and epoch must be this id's current producer,
        // or be retrying a rotation it did not hear about; otherwise it is a zombie.
        let current = &metadata.current;
        let valid = current.producer_epoch == NO_PRODUCER_EPOCH
            || expected.producer_id == current.producer_id
            || (expected.producer_id == current.last_producer_id && is_epoch_exhausted(expected.epoch));
        if !valid {
            return Err(ErrorCode::ProducerFenced);
        }
    }
    match metadata.state() {
        TransactionState::PrepareCommit | TransactionState::PrepareAbort => Err(ErrorCode::ConcurrentTransactions),
        TransactionState::Empty | TransactionState::CompleteCommit | TransactionState::CompleteAbort => {
            let epoch = metadata.current.producer_epoch;
            if metadata.is_producer_epoch_exhausted() && expected.is_none_or(|expected| expected.epoch == epoch) {
                return Ok(InitDecision::Rotate { record_last_epoch: expected.is_some() });
            }
            let expected_epoch = expected.map(|expected| expected.epoch);
            metadata.prepare_increment_epoch(timeout_ms, expected_epoch, now_ms).map(InitDecision::Bump)
        }
        TransactionState::Ongoing => Ok(InitDecision::FenceOngoing),
        TransactionState::Dead | TransactionState::PrepareEpochFence => {
            unreachable!("{}: {} is never kept", metadata.transactional_id, metadata.state().name())
        }
    }
}
