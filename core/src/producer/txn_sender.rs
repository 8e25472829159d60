//! The transactional producer's calls (`initTransactions`, `beginTransaction`,
//! `sendOffsetsToTransaction`, `commitTransaction`, `abortTransaction`) and the coordinator
//! requests they lead to: FindCoordinator, InitProducerId with the transactional id,
//! AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit (to the group coordinator) and EndTxn.

use alloc::boxed::Box;
use alloc::vec::Vec;

use super::event::{ProducerError, ProducerEvent, ProducerOutput, ProducerTimer};
use super::retry::{is_fencing, is_retriable};
use super::transaction::{GroupMetadata, TransactionError, TransactionState, TxnStep};
use super::{ClientMetadata, InFlight, Producer};
use crate::error_code::ErrorCode;
use crate::group::protocol::{GroupRequest, GroupResponse, OffsetToCommit};
use crate::ids::{BrokerId, TopicPartition};
use crate::message::{CoordinatorType, Message, NodeId};
use crate::transaction::protocol::{ProducerIdAndEpoch, TxnRequest, TxnResponse};

impl Producer {
    /// Finds the transaction coordinator and gets a producer id for the `transactional.id`,
    /// fencing any older producer with it (`initTransactions`).
    pub fn init_transactions(&mut self, now_ms: u64, cluster: &impl ClientMetadata) -> Result<(), TransactionError> {
        self.transition("initTransactions", &[TransactionState::Uninitialized], TransactionState::Initializing)?;
        let manager = self.transaction.as_mut().expect("checked by transition");
        let key = manager.transactional_id.clone();
        manager.enqueue(TxnStep::FindCoordinator { key_type: CoordinatorType::Transaction, key });
        manager.enqueue(TxnStep::InitProducerId { current: ProducerIdAndEpoch::NONE });
        self.run(now_ms, cluster);
        Ok(())
    }

    /// Starts a transaction (`beginTransaction`): nothing is sent until records are.
    pub fn begin_transaction(&mut self) -> Result<(), TransactionError> {
        self.transition("beginTransaction", &[TransactionState::Ready], TransactionState::InTransaction)
    }

    /// Commits the consumer's `offsets` for `group` with the transaction
    /// (`sendOffsetsToTransaction`): AddOffsetsToTxn, then TxnOffsetCommit.
    pub fn send_offsets_to_transaction(
        &mut self,
        now_ms: u64,
        offsets: Vec<OffsetToCommit>,
        group: GroupMetadata,
        cluster: &impl ClientMetadata,
    ) -> Result<(), TransactionError> {
        let state = TransactionState::InTransaction;
        self.transition("sendOffsetsToTransaction", &[state], state)?;
        self.transaction.as_mut().expect("checked").enqueue(TxnStep::AddOffsets { offsets, group });
        self.run(now_ms, cluster);
        Ok(())
    }

    /// Flushes and, once every batch is acknowledged, ends the transaction with a commit
    /// (`commitTransaction`). The outcome comes as [`ProducerOutput::TransactionCompleted`].
    pub fn commit_transaction(&mut self, now_ms: u64, cluster: &impl ClientMetadata) -> Result<(), TransactionError> {
        self.transition("commitTransaction", &[TransactionState::InTransaction], TransactionState::Committing)?;
        self.transaction.as_mut().expect("checked").enqueue(TxnStep::EndTxn { committed: true });
        self.flush(now_ms, cluster);
        Ok(())
    }

    /// Fails the batches not yet sent and ends the transaction with an abort
    /// (`abortTransaction`); allowed after an abortable error.
    pub fn abort_transaction(&mut self, now_ms: u64, cluster: &impl ClientMetadata) -> Result<(), TransactionError> {
        let from = match self.transaction_state() {
            Some(state @ TransactionState::AbortableError(_)) => state,
            _ => TransactionState::InTransaction,
        };
        self.transition("abortTransaction", &[from], TransactionState::Aborting)?;
        for batch in self.accumulator.take_all() {
            let error = ProducerError::TransactionAborted;
            self.event(ProducerEvent::BatchFailed { batch: batch.id, partition: batch.partition.clone(), error });
            self.fail_records(&batch, error);
        }
        let manager = self.transaction.as_mut().expect("checked");
        manager.drop_transaction_steps();
        manager.enqueue(TxnStep::EndTxn { committed: false });
        self.run(now_ms, cluster);
        Ok(())
    }

    /// Where the transaction stands; `None` without a `transactional.id`.
    pub fn transaction_state(&self) -> Option<TransactionState> {
        self.transaction.as_ref().map(|manager| manager.state)
    }

    /// Moves the transaction from one of `from` to `to`, or says why it cannot.
    fn transition(
        &mut self,
        operation: &'static str,
        from: &[TransactionState],
        to: TransactionState,
    ) -> Result<(), TransactionError> {
        let Some(manager) = &mut self.transaction else {
            return Err(TransactionError { operation, state: None });
        };
        if !from.contains(&manager.state) {
            return Err(TransactionError { operation, state: Some(manager.state) });
        }
        if manager.state != to {
            manager.state = to;
            self.event(ProducerEvent::TransactionState { state: to });
        }
        Ok(())
    }

    /// Sends the next coordinator request, if one may go (part of the sender's pass).
    pub(super) fn maybe_send_txn_request(&mut self, now_ms: u64, cluster: &impl ClientMetadata) {
        let batches_pending = !self.accumulator.is_empty()
            || self.in_flight.values().any(|sent| matches!(sent, InFlight::Produce { .. }));
        // A step whose coordinator is unknown puts a FindCoordinator before it: at most twice.
        for _ in 0..3 {
            let Some(manager) = &mut self.transaction else { return };
            if matches!(manager.state, TransactionState::Fatal(_)) {
                return;
            }
            let Some(step) = manager.next_step(now_ms, batches_pending) else { return };
            let destination = match &step {
                TxnStep::FindCoordinator { .. } => {
                    let brokers = cluster.brokers();
                    if brokers.is_empty() {
                        self.txn_backoff(now_ms, step);
                        return;
                    }
                    Some(brokers[manager.next_broker % brokers.len()])
                }
                TxnStep::TxnOffsetCommit { .. } => manager.group_coordinator,
                TxnStep::EndTxn { committed } if !manager.started => {
                    // Nothing reached the coordinator: the transaction ends here (Kafka skips
                    // EndTxn for a transaction that never started).
                    let committed = *committed;
                    self.transaction_completed(committed);
                    return;
                }
                _ => manager.coordinator,
            };
            let Some(broker) = destination else {
                let (key_type, key) = match &step {
                    TxnStep::TxnOffsetCommit { group, .. } => (CoordinatorType::Group, group.group_id.clone()),
                    _ => (CoordinatorType::Transaction, manager.transactional_id.clone()),
                };
                manager.requeue(step);
                manager.requeue(TxnStep::FindCoordinator { key_type, key });
                continue;
            };
            self.send_txn_request(broker, step);
            return;
        }
    }

    fn send_txn_request(&mut self, broker: BrokerId, step: TxnStep) {
        let request_id = self.next_request_id();
        let manager = self.transaction.as_mut().expect("transactional");
        let transactional_id = manager.transactional_id.clone();
        let producer = self.idempotence.as_ref().and_then(|i| i.current()).unwrap_or(ProducerIdAndEpoch::NONE);
        let txn = |request: TxnRequest| Message::Txn { request_id, request: Box::new(request) };
        let message = match &step {
            TxnStep::FindCoordinator { key_type, key } => {
                Message::FindCoordinator { request_id, key: key.clone(), key_type: *key_type }
            }
            TxnStep::InitProducerId { current } => {
                let transaction_timeout_ms = self.config.transaction_timeout_ms;
                txn(TxnRequest::InitProducerId {
                    transactional_id: Some(transactional_id),
                    transaction_timeout_ms,
                    current: *current,
                })
            }
            TxnStep::AddPartitions { partitions } => {
                txn(TxnRequest::AddPartitionsToTxn { transactional_id, producer, partitions: partitions.clone() })
            }
            TxnStep::AddOffsets { group, .. } => {
                txn(TxnRequest::AddOffsetsToTxn { transactional_id, producer, group_id: group.group_id.clone() })
            }
            TxnStep::TxnOffsetCommit { offsets, group } => Message::Group {
                request_id,
                request: Box::new(GroupRequest::TxnOffsetCommit {
                    transactional_id,
                    group_id: group.group_id.clone(),
                    producer_id: producer.producer_id,
                    producer_epoch: producer.epoch,
                    generation_id: group.generation_id,
                    member_id: group.member_id.clone(),
                    group_instance_id: group.group_instance_id.clone(),
                    offsets: offsets.clone(),
                }),
            },
            TxnStep::EndTxn { committed } => {
                txn(TxnRequest::EndTxn { transactional_id, producer, committed: *committed })
            }
        };
        manager.in_flight = Some((request_id, broker, step));
        self.event(ProducerEvent::CoordinatorRequest { broker, request: message.name().into() });
        self.outputs.push(ProducerOutput::Send { to: NodeId::Broker(broker), message });
        self.set_timer(self.config.request_timeout_ms, ProducerTimer::RequestTimeout { request_id });
    }

    /// Takes the coordinator request `request_id` off the books, if it is the one in flight.
    fn take_txn_request(&mut self, request_id: u64) -> Option<TxnStep> {
        let manager = self.transaction.as_mut()?;
        match &manager.in_flight {
            Some((id, _, _)) if *id == request_id => manager.in_flight.take().map(|(_, _, step)| step),
            _ => None,
        }
    }

    /// Whether `request_id` is the coordinator request in flight; if so it timed out.
    pub(super) fn txn_request_timed_out(&mut self, now_ms: u64, request_id: u64) -> bool {
        let Some(step) = self.take_txn_request(request_id) else { return false };
        self.txn_error(now_ms, step, ErrorCode::RequestTimedOut);
        true
    }

    /// A coordinator's answer: FindCoordinator, a transaction API, or TxnOffsetCommit.
    pub(super) fn txn_response(&mut self, now_ms: u64, request_id: u64, message: Message) {
        let Some(step) = self.take_txn_request(request_id) else { return };
        let manager = self.transaction.as_mut().expect("took a request");
        match (step, message) {
            (step @ TxnStep::FindCoordinator { .. }, Message::FindCoordinatorResponse { result, .. }) => match result {
                Ok(broker) => match step {
                    TxnStep::FindCoordinator { key_type: CoordinatorType::Group, .. } => {
                        manager.group_coordinator = Some(broker)
                    }
                    _ => manager.coordinator = Some(broker),
                },
                Err(error) => {
                    manager.next_broker += 1;
                    self.txn_error(now_ms, step, error);
                }
            },
            (step @ TxnStep::InitProducerId { .. }, Message::TxnResponse { response, .. }) => match *response {
                TxnResponse::InitProducerId { result: Ok(producer) } => {
                    if manager.state == TransactionState::Initializing {
                        manager.state = TransactionState::Ready;
                        self.event(ProducerEvent::TransactionState { state: TransactionState::Ready });
                    }
                    self.producer_id_assigned(producer);
                }
                TxnResponse::InitProducerId { result: Err(error) } => self.txn_error(now_ms, step, error),
                other => debug_assert!(false, "InitProducerId answered with {}", other.name()),
            },
            (TxnStep::AddPartitions { .. }, Message::TxnResponse { response, .. }) => {
                let TxnResponse::AddPartitionsToTxn { results } = *response else { return };
                self.partitions_added(now_ms, results);
            }
            (step @ TxnStep::AddOffsets { .. }, Message::TxnResponse { response, .. }) => {
                let TxnResponse::AddOffsetsToTxn { error } = *response else { return };
                match (error, step) {
                    (None, TxnStep::AddOffsets { offsets, group }) => {
                        manager.started = true;
                        manager.requeue(TxnStep::TxnOffsetCommit { offsets, group });
                    }
                    (Some(error), step) => self.txn_error(now_ms, step, error),
                    (None, _) => unreachable!("matched AddOffsets"),
                }
            }
            (step @ TxnStep::TxnOffsetCommit { .. }, Message::GroupResponse { response, .. }) => {
                let GroupResponse::TxnOffsetCommit { results } = *response else { return };
                if let Some(error) = results.iter().find_map(|(_, error)| *error) {
                    self.txn_error(now_ms, step, error);
                }
            }
            (step @ TxnStep::EndTxn { committed }, Message::TxnResponse { response, .. }) => match *response {
                TxnResponse::EndTxn { error: None } => self.transaction_completed(committed),
                TxnResponse::EndTxn { error: Some(error) } => self.txn_error(now_ms, step, error),
                other => debug_assert!(false, "EndTxn answered with {}", other.name()),
            },
            (step, message) => debug_assert!(false, "{step:?} answered with {}", message.name()),
        }
    }

    /// AddPartitionsToTxn's per-partition results: added ones may now be drained.
    fn partitions_added(&mut self, now_ms: u64, results: Vec<(TopicPartition, Option<ErrorCode>)>) {
        let manager = self.transaction.as_mut().expect("transactional");
        let mut retry = Vec::new();
        let mut failure = None;
        for (partition, error) in results {
            match error {
                None => {
                    manager.started = true;
                    manager.partitions.insert(partition);
                }
                Some(error) => {
                    failure = Some(error);
                    retry.push(partition);
                }
            }
        }
        if let Some(error) = failure {
            self.txn_error(now_ms, TxnStep::AddPartitions { partitions: retry }, error);
        }
    }

    /// EndTxn succeeded (or was not needed): the transaction is over.
    fn transaction_completed(&mut self, committed: bool) {
        let manager = self.transaction.as_mut().expect("transactional");
        manager.transaction_ended();
        // A sequence lost during the transaction is healed by bumping the epoch (KIP-360).
        if let Some(super::idempotence::ProducerIdState::BumpNeeded(current)) =
            self.idempotence.as_ref().map(|i| i.state())
        {
            manager.enqueue(TxnStep::InitProducerId { current });
        }
        self.event(ProducerEvent::TransactionState { state: TransactionState::Ready });
        self.outputs.push(ProducerOutput::TransactionCompleted { committed });
    }

    /// A coordinator request failed: find the coordinator again, retry after a back-off, or
    /// move the transaction to an abortable or fatal error.
    fn txn_error(&mut self, now_ms: u64, step: TxnStep, error: ErrorCode) {
        if is_fencing(error) {
            self.fence(ProducerError::Fenced(error));
            return;
        }
        let manager = self.transaction.as_mut().expect("transactional");
        if matches!(error, ErrorCode::NotCoordinator | ErrorCode::CoordinatorNotAvailable | ErrorCode::RequestTimedOut)
        {
            match &step {
                TxnStep::TxnOffsetCommit { .. } => manager.group_coordinator = None,
                TxnStep::FindCoordinator { .. } => {}
                _ => manager.coordinator = None,
            }
        }
        if is_retriable(error) {
            self.txn_backoff(now_ms, step);
            return;
        }
        match step {
            TxnStep::InitProducerId { .. } | TxnStep::EndTxn { .. } => self.fence(ProducerError::Broker(error)),
            _ => {
                manager.abortable_error(ProducerError::Broker(error));
                let state = manager.state;
                self.event(ProducerEvent::TransactionState { state });
            }
        }
    }

    /// Puts `step` back to go again after `retry.backoff.ms`.
    pub(super) fn txn_backoff(&mut self, now_ms: u64, step: TxnStep) {
        let manager = self.transaction.as_mut().expect("transactional");
        match step {
            TxnStep::AddPartitions { partitions } => manager.new_partitions.extend(partitions),
            step => manager.requeue(step),
        }
        manager.retry_at_ms = Some(now_ms + self.config.retry_backoff_ms);
        self.set_timer(self.config.retry_backoff_ms, ProducerTimer::Retry);
    }

    /// A fatal error: the transaction and every waiting batch fail, and so will later sends.
    pub(super) fn fence(&mut self, error: ProducerError) {
        self.fatal = Some(error);
        if let Some(manager) = &mut self.transaction {
            manager.state = TransactionState::Fatal(error);
            self.event(ProducerEvent::TransactionState { state: TransactionState::Fatal(error) });
        }
        for batch in self.accumulator.take_all() {
            self.event(ProducerEvent::BatchFailed { batch: batch.id, partition: batch.partition.clone(), error });
            self.fail_records(&batch, error);
        }
    }
}
