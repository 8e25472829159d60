//! What the coordinator does when the broker reports back: an append committed or failed,
//! a transaction's markers written; and the periodic abort of transactions past their timeout.
//!
//! An append that commits makes its transition current and lets the waiting request be
//! answered; one that fails puts the state back as it was and answers with the error Kafka's
//! `TransactionStateManager.appendTransactionToLog` maps the log's error to. The completion of a
//! transaction has no client waiting: if its write fails it is tried again after
//! `retry.backoff.ms`, unless this broker is losing the partition, whose next coordinator
//! resumes it from the Prepare record.

use alloc::sync::Arc;

use super::coordinator::{AfterAppend, PendingAppend, PendingMarkers, TransactionCoordinator};
use super::event::TxnEvent;
use super::metadata::NO_PRODUCER_EPOCH;
use super::output::{AppendToken, MarkerToken, TxnOutput, TxnTimer};
use super::protocol::{TransactionState, TransactionalId, TxnMarker};
use crate::error_code::ErrorCode;

/// The error a client hears when its state change could not be written (Kafka's mapping of
/// a produce error to a coordinator error). MESSAGE_TOO_LARGE, which Kafka turns into
/// UNKNOWN_SERVER_ERROR, is passed on unchanged: the model has no such code.
pub fn coordinator_error_for_append(error: ErrorCode) -> ErrorCode {
    match error {
        ErrorCode::UnknownTopicOrPartition
        | ErrorCode::NotEnoughReplicas
        | ErrorCode::NotEnoughReplicasAfterAppend
        | ErrorCode::RequestTimedOut => ErrorCode::CoordinatorNotAvailable,
        ErrorCode::NotLeaderOrFollower => ErrorCode::NotCoordinator,
        other => other,
    }
}

impl TransactionCoordinator {
    /// The append named `token` is committed to `__transaction_state` (replicated to the ISR),
    /// or failed with `result`'s error. A token of a partition unloaded since is ignored.
    pub fn append_completed(&mut self, now_ms: u64, token: AppendToken, result: Result<(), ErrorCode>) {
        let Some(pending) = self.appends.remove(&token) else { return };
        match result {
            Ok(()) => self.append_committed(now_ms, pending),
            Err(error) => self.append_failed(pending, coordinator_error_for_append(error)),
        }
    }

    /// Every partition of the transaction named `token` has its marker.
    pub fn markers_written(&mut self, now_ms: u64, token: MarkerToken) {
        let Some(markers) = self.markers.remove(&token) else { return };
        let PendingMarkers { partition_index, coordinator_epoch, transactional_id, producer } = markers;
        let still_ours =
            self.partitions.get(&partition_index).is_some_and(|p| p.coordinator_epoch == coordinator_epoch);
        let Some(metadata) = self.metadata_mut(partition_index, &transactional_id).filter(|_| still_ours) else {
            return;
        };
        let state = metadata.state();
        let committed = state == TransactionState::PrepareCommit;
        assert!(
            committed || state == TransactionState::PrepareAbort,
            "{transactional_id}: markers written in state {}",
            state.name()
        );
        assert_eq!(metadata.producer(), producer, "{transactional_id}: markers of another producer epoch");
        self.event(TxnEvent::MarkersWritten { transactional_id: Arc::clone(&transactional_id), committed });
        self.write_complete(now_ms, partition_index, coordinator_epoch, &transactional_id);
    }

    fn append_committed(&mut self, now_ms: u64, pending: PendingAppend) {
        let PendingAppend { partition_index, coordinator_epoch, transactional_id, target, then, .. } = pending;
        let metadata = self.metadata_mut(partition_index, &transactional_id).expect("unloading drops its appends");
        let previous = metadata.producer();
        let previous_state = metadata.state();
        let producer = target.producer();
        let partitions = target.partitions.len();
        metadata.complete_transition(target);
        let id = Arc::clone(&transactional_id);
        match then {
            AfterAppend::Answer { client, request } => {
                let event = match metadata.state() {
                    TransactionState::Empty if previous.epoch == NO_PRODUCER_EPOCH => {
                        TxnEvent::ProducerIdGiven { transactional_id: Some(id), producer }
                    }
                    TransactionState::Empty => TxnEvent::EpochBumped { transactional_id: id, previous, producer },
                    _ if previous_state == TransactionState::Ongoing => {
                        TxnEvent::PartitionsAdded { transactional_id: id, partitions }
                    }
                    _ => TxnEvent::TransactionBegan { transactional_id: id, producer, partitions },
                };
                self.event(event);
                self.respond(client, request.success_response(producer));
            }
            AfterAppend::Prepared { reply } => {
                let committed = metadata.state() == TransactionState::PrepareCommit;
                self.event(TxnEvent::Preparing { transactional_id: id, committed, partitions });
                if let Some((client, request)) = reply {
                    let response = match request {
                        // The fenced transaction is aborting: the new instance retries.
                        super::protocol::TxnRequest::InitProducerId { .. } => {
                            request.error_response(ErrorCode::ConcurrentTransactions)
                        }
                        _ => request.success_response(producer),
                    };
                    self.respond(client, response);
                }
                self.write_markers(now_ms, partition_index, coordinator_epoch, &transactional_id);
            }
            AfterAppend::Complete => {
                let committed = metadata.state() == TransactionState::CompleteCommit;
                self.event(TxnEvent::Completed { transactional_id: id, committed });
            }
        }
    }

    fn append_failed(&mut self, pending: PendingAppend, error: ErrorCode) {
        let PendingAppend { partition_index, coordinator_epoch, transactional_id, created, fence, then, .. } = pending;
        let metadata = self.metadata_mut(partition_index, &transactional_id).expect("unloading drops its appends");
        metadata.abort_transition();
        if let Some(rollback) = fence {
            metadata.rollback_fence(rollback);
        }
        if created && metadata.current.producer_epoch == NO_PRODUCER_EPOCH {
            let partition = self.partitions.get_mut(&partition_index).expect("loaded");
            partition.transactions.remove(&transactional_id);
        }
        self.event(TxnEvent::AppendFailed { transactional_id: Arc::clone(&transactional_id), error });
        match then {
            AfterAppend::Answer { client, request } | AfterAppend::Prepared { reply: Some((client, request)) } => {
                self.respond(client, request.error_response(error));
            }
            // A timed-out transaction stays Ongoing: the next sweep aborts it again.
            AfterAppend::Prepared { reply: None } => {}
            AfterAppend::Complete if error == ErrorCode::NotCoordinator => {}
            AfterAppend::Complete => {
                let timer = TxnTimer::RetryComplete { transactional_id, coordinator_epoch };
                self.outputs.push(TxnOutput::SetTimer { after_ms: self.config.retry_backoff_ms, timer });
            }
        }
    }

    /// Asks for the markers of a transaction in PrepareCommit or PrepareAbort; a transaction
    /// without partitions has none to write and completes at once.
    pub(super) fn write_markers(
        &mut self,
        now_ms: u64,
        partition_index: i32,
        coordinator_epoch: i32,
        id: &TransactionalId,
    ) {
        let partitions = self.partitions_of(partition_index, id);
        let metadata = self.metadata_mut(partition_index, id).expect("markers of a known transactional id");
        let producer = metadata.producer();
        let committed = metadata.state() == TransactionState::PrepareCommit;
        if partitions.is_empty() {
            return self.write_complete(now_ms, partition_index, coordinator_epoch, id);
        }
        let token = MarkerToken(self.next_token());
        let marker = TxnMarker { producer, committed, partitions, coordinator_epoch };
        self.outputs.push(TxnOutput::WriteMarkers { marker, token });
        let transactional_id = Arc::clone(id);
        self.markers.insert(token, PendingMarkers { partition_index, coordinator_epoch, transactional_id, producer });
    }

    fn write_complete(&mut self, now_ms: u64, partition_index: i32, coordinator_epoch: i32, id: &TransactionalId) {
        let metadata = self.metadata_mut(partition_index, id).expect("completing a known transactional id");
        let target = metadata.prepare_complete(now_ms);
        let then = AfterAppend::Complete;
        let (created, fence) = (false, None);
        let transactional_id = Arc::clone(id);
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

    pub(super) fn retry_complete(&mut self, now_ms: u64, id: &TransactionalId, coordinator_epoch: i32) {
        let Ok((partition_index, epoch)) = self.locate(id) else { return };
        let Some(metadata) = self.metadata_mut(partition_index, id) else { return };
        let preparing = matches!(metadata.state(), TransactionState::PrepareCommit | TransactionState::PrepareAbort);
        if epoch == coordinator_epoch && preparing && !metadata.is_pending() {
            self.write_complete(now_ms, partition_index, coordinator_epoch, id);
        }
    }

    /// Kafka's `abortTimedOutTransactions`: every Ongoing transaction, with no write in flight,
    /// that began more than its timeout ago is aborted at a bumped epoch, which fences the
    /// producer that left it open.
    pub(super) fn abort_timed_out_transactions(&mut self, now_ms: u64) {
        let mut timed_out = alloc::vec::Vec::new();
        for (partition_index, partition) in &self.partitions {
            for metadata in partition.transactions.values() {
                let current = &metadata.current;
                let Some(start_ms) = current.start_ms else { continue };
                let expired = start_ms.saturating_add(current.transaction_timeout_ms) < now_ms;
                // An epoch of i16::MAX cannot be bumped; no client is ever given it.
                let fenceable = current.producer_epoch < i16::MAX;
                if metadata.state() == TransactionState::Ongoing && !metadata.is_pending() && expired && fenceable {
                    timed_out.push((
                        *partition_index,
                        partition.coordinator_epoch,
                        Arc::clone(&metadata.transactional_id),
                    ));
                }
            }
        }
        for (partition_index, coordinator_epoch, id) in timed_out {
            let metadata = self.metadata_mut(partition_index, &id).expect("found above");
            let producer = metadata.producer();
            let open_ms = now_ms - metadata.current.start_ms.expect("Ongoing has a start");
            self.event(TxnEvent::TimedOut { transactional_id: Arc::clone(&id), producer, open_ms });
            self.fence_and_abort(now_ms, partition_index, coordinator_epoch, &id, None);
        }
    }
}
