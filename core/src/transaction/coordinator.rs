//! The transaction coordinator: one broker's share of transactional ids, as a pure state
//! machine (KIP-98, with KIP-360's epoch bumps and KIP-588's PRODUCER_FENCED).
//!
//! ```text
//!                                +-------------------------------+
//!  handle_request ------------>  |                               | ----> take_outputs():
//!  append_completed ---------->  |  TransactionCoordinator       |         Respond { to, .. }
//!  markers_written ----------->  |   loaded partitions of        |         Append { partition_index, .. }
//!  producer_id_block_granted ->  |   __transaction_state, each   |         WriteMarkers { marker, .. }
//!  handle_timer -------------->  |   transactional id's state    |         RequestProducerIdBlock
//!  load_partition ------------>  |   (metadata.rs), producer ids |         SetTimer { .. }
//!  unload_partition ---------->  |                               |         Event(..)
//!                                +-------------------------------+
//! ```
//!
//! A transactional id belongs to partition `partition_for(id)` of `__transaction_state`; the
//! broker leading that partition is its coordinator and loads the partition's records when it
//! becomes leader. Every state change is appended to that partition and takes effect only once
//! the append is committed, so a new leader rebuilds exactly what clients were told. A commit
//! or abort goes: PrepareCommit/PrepareAbort written (the client hears OK: the outcome is now
//! decided), markers written to every partition of the transaction, CompleteCommit/CompleteAbort
//! written. A coordinator that loads a partition with a transaction in a Prepare state resumes
//! it from the markers on.
//!
//! The client requests are handled in `requests.rs`; what happens when appends and markers
//! complete, and the timeout sweep, in `completion.rs`.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

use super::config::TxnConfig;
use super::event::TxnEvent;
use super::metadata::{FenceRollback, TransactionMetadata, TxnSnapshot};
use super::output::{AppendToken, MarkerToken, TxnOutput, TxnTimer};
use super::producer_ids::ProducerIdManager;
use super::protocol::{ProducerIdAndEpoch, TransactionState, TransactionalId, TxnRequest};
use super::records::{TransactionLogKey, TransactionLogValue, TxnRecordError};
use crate::error_code::ErrorCode;
use crate::message::NodeId;
use crate::placement::partition_for;

/// Who to answer: the requester and its request's number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Client {
    pub(super) to: NodeId,
    pub(super) request_id: u64,
}

/// A loaded partition of `__transaction_state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct TxnPartition {
    /// The partition's leader epoch when this broker became its leader: markers carry it.
    pub(super) coordinator_epoch: i32,
    pub(super) transactions: BTreeMap<TransactionalId, TransactionMetadata>,
}

/// What to do once an append is committed (or has failed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum AfterAppend {
    /// InitProducerId, AddPartitionsToTxn or AddOffsetsToTxn: answer the client.
    Answer { client: Client, request: TxnRequest },
    /// PrepareCommit or PrepareAbort: answer the client if one asked (EndTxn hears OK; an
    /// InitProducerId that fenced an open transaction hears CONCURRENT_TRANSACTIONS and
    /// retries), then write the markers.
    Prepared { reply: Option<(Client, TxnRequest)> },
    /// CompleteCommit or CompleteAbort: the transaction is over.
    Complete,
}

/// An append asked for and not yet reported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PendingAppend {
    pub(super) partition_index: i32,
    pub(super) coordinator_epoch: i32,
    pub(super) transactional_id: TransactionalId,
    pub(super) target: TxnSnapshot,
    /// The transactional id was new: if the append fails it is forgotten again.
    pub(super) created: bool,
    /// The epoch a fence bumped in memory, to put back if the append fails.
    pub(super) fence: Option<FenceRollback>,
    pub(super) then: AfterAppend,
}

/// Markers asked for and not yet reported written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PendingMarkers {
    pub(super) partition_index: i32,
    pub(super) coordinator_epoch: i32,
    pub(super) transactional_id: TransactionalId,
    pub(super) producer: ProducerIdAndEpoch,
}

/// One broker's transaction coordinator.
#[derive(Clone, Debug)]
pub struct TransactionCoordinator {
    pub(super) config: TxnConfig,
    pub(super) partitions: BTreeMap<i32, TxnPartition>,
    pub(super) producer_ids: ProducerIdManager,
    /// Requests that need a producer id, waiting for a block, in arrival order.
    pub(super) waiting_for_producer_id: VecDeque<(Client, TxnRequest)>,
    pub(super) appends: BTreeMap<AppendToken, PendingAppend>,
    pub(super) markers: BTreeMap<MarkerToken, PendingMarkers>,
    next_token: u64,
    pub(super) abort_timer_armed: bool,
    pub(super) outputs: Vec<TxnOutput>,
}

impl TransactionCoordinator {
    /// A coordinator with no partitions loaded and no producer ids. Panics on a configuration
    /// that [`TxnConfig::validate`] rejects: check it first.
    pub fn new(config: TxnConfig) -> Self {
        if let Err(error) = config.validate() {
            panic!("invalid transaction coordinator configuration: {error}");
        }
        TransactionCoordinator {
            config,
            partitions: BTreeMap::new(),
            producer_ids: ProducerIdManager::new(),
            waiting_for_producer_id: VecDeque::new(),
            appends: BTreeMap::new(),
            markers: BTreeMap::new(),
            next_token: 0,
            abort_timer_armed: false,
            outputs: Vec::new(),
        }
    }

    pub fn config(&self) -> &TxnConfig {
        &self.config
    }

    /// Everything asked for since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<TxnOutput> {
        core::mem::take(&mut self.outputs)
    }

    /// The partition of `__transaction_state` that holds `transactional_id`.
    pub fn partition_for(&self, transactional_id: &str) -> i32 {
        partition_for(transactional_id, self.config.transaction_state_log_num_partitions)
    }

    /// Whether this coordinator has loaded (leads) partition `partition_index`.
    pub fn is_loaded(&self, partition_index: i32) -> bool {
        self.partitions.contains_key(&partition_index)
    }

    /// Every transactional id of the loaded partitions, by partition then id: for drawing.
    pub fn transactions(&self) -> impl Iterator<Item = &TransactionMetadata> + '_ {
        self.partitions.values().flat_map(|partition| partition.transactions.values())
    }

    /// One transactional id's state, if its partition is loaded here and it is known.
    pub fn transaction(&self, transactional_id: &str) -> Option<&TransactionMetadata> {
        self.partitions.get(&self.partition_for(transactional_id))?.transactions.get(transactional_id)
    }

    /// A request from `from` (a client, or the broker forwarding one).
    pub fn handle_request(&mut self, now_ms: u64, from: NodeId, request_id: u64, request: TxnRequest) {
        let client = Client { to: from, request_id };
        match request {
            TxnRequest::InitProducerId { .. } => self.init_producer_id(now_ms, client, request),
            TxnRequest::AddPartitionsToTxn { .. } | TxnRequest::AddOffsetsToTxn { .. } => {
                self.add_partitions(now_ms, client, request)
            }
            TxnRequest::EndTxn { .. } => self.end_txn(now_ms, client, request),
        }
    }

    /// The controller granted `len` producer ids from `first`: requests waiting for one go on.
    pub fn producer_id_block_granted(&mut self, now_ms: u64, first: i64, len: i64) {
        if self.producer_ids.grant(first, len).is_err() {
            self.event(TxnEvent::ProducerIdBlockRefused { first, len });
            return;
        }
        self.event(TxnEvent::ProducerIdBlockGranted { first, len });
        let waiting = core::mem::take(&mut self.waiting_for_producer_id);
        for (client, request) in waiting {
            self.handle_request(now_ms, client.to, client.request_id, request);
        }
        self.request_block_if_low();
    }

    /// A timer set with [`TxnOutput::SetTimer`] is due.
    pub fn handle_timer(&mut self, now_ms: u64, timer: TxnTimer) {
        match timer {
            TxnTimer::AbortTimedOutTransactions => {
                self.abort_timer_armed = false;
                self.abort_timed_out_transactions(now_ms);
                self.arm_abort_timer();
            }
            TxnTimer::RetryComplete { transactional_id, coordinator_epoch } => {
                self.retry_complete(now_ms, &transactional_id, coordinator_epoch)
            }
        }
    }

    /// This broker became leader of partition `partition_index` of `__transaction_state` at
    /// `coordinator_epoch`: rebuild its transactional ids from its committed records, in log
    /// order (a later record for an id replaces an earlier one; a null value deletes it), and
    /// resume every transaction found in PrepareCommit or PrepareAbort.
    pub fn load_partition(
        &mut self,
        now_ms: u64,
        partition_index: i32,
        coordinator_epoch: i32,
        records: impl IntoIterator<Item = (Bytes, Option<Bytes>)>,
    ) {
        if self.is_loaded(partition_index) {
            self.unload_partition(partition_index);
        }
        let mut transactions = BTreeMap::new();
        for (key, value) in records {
            match read_record(&key, value.as_deref()) {
                Ok(Some((id, Some(metadata)))) => {
                    transactions.insert(id, metadata);
                }
                Ok(Some((id, None))) => {
                    transactions.remove(&id);
                }
                Ok(None) => {}
                Err(error) => self.event(TxnEvent::RecordSkipped {
                    partition_index,
                    reason: Arc::from(alloc::format!("{error}").as_str()),
                }),
            }
        }
        let transactional_ids = transactions.len();
        let resume: Vec<TransactionalId> = transactions
            .values()
            .filter(|metadata: &&TransactionMetadata| {
                matches!(metadata.state(), TransactionState::PrepareCommit | TransactionState::PrepareAbort)
            })
            .map(|metadata| Arc::clone(&metadata.transactional_id))
            .collect();
        self.partitions.insert(partition_index, TxnPartition { coordinator_epoch, transactions });
        self.event(TxnEvent::PartitionLoaded { partition_index, coordinator_epoch, transactional_ids });
        for transactional_id in resume {
            self.write_markers(now_ms, partition_index, coordinator_epoch, &transactional_id);
        }
        self.arm_abort_timer();
    }

    /// This broker no longer leads partition `partition_index`: its state is dropped, and
    /// requests waiting on it hear NOT_COORDINATOR (the client finds the new coordinator).
    pub fn unload_partition(&mut self, partition_index: i32) {
        if self.partitions.remove(&partition_index).is_none() {
            return;
        }
        let appends = core::mem::take(&mut self.appends);
        for (token, pending) in appends {
            if pending.partition_index != partition_index {
                self.appends.insert(token, pending);
                continue;
            }
            match pending.then {
                AfterAppend::Answer { client, request } | AfterAppend::Prepared { reply: Some((client, request)) } => {
                    self.respond(client, request.error_response(ErrorCode::NotCoordinator))
                }
                AfterAppend::Prepared { reply: None } | AfterAppend::Complete => {}
            }
        }
        self.markers.retain(|_, markers| markers.partition_index != partition_index);
        let waiting = core::mem::take(&mut self.waiting_for_producer_id);
        for (client, request) in waiting {
            let here = request.transactional_id().is_some_and(|id| self.partition_for(id) == partition_index);
            if here {
                self.respond(client, request.error_response(ErrorCode::NotCoordinator));
            } else {
                self.waiting_for_producer_id.push_back((client, request));
            }
        }
        self.event(TxnEvent::PartitionUnloaded { partition_index });
    }

    /// Checks the invariants of the whole state; a violation is a bug and panics.
    pub fn validate(&self) {
        for (index, partition) in &self.partitions {
            for (id, metadata) in &partition.transactions {
                assert_eq!(&metadata.transactional_id, id, "{id} filed under another id");
                let state = metadata.state();
                let snapshot = &metadata.current;
                match state {
                    TransactionState::Empty => assert!(snapshot.partitions.is_empty(), "{id}: Empty with partitions"),
                    TransactionState::Ongoing | TransactionState::PrepareCommit | TransactionState::PrepareAbort => {
                        assert!(snapshot.start_ms.is_some(), "{id}: {} without a start time", state.name())
                    }
                    TransactionState::CompleteCommit | TransactionState::CompleteAbort => {
                        assert!(snapshot.partitions.is_empty(), "{id}: {} with partitions", state.name())
                    }
                    TransactionState::Dead | TransactionState::PrepareEpochFence => {
                        panic!("{id}: state {} is never kept", state.name())
                    }
                }
                let pending = self.appends.values().filter(|append| &append.transactional_id == id).count();
                assert_eq!(pending, usize::from(metadata.is_pending()), "{id}: pending mark and appends disagree");
                assert_eq!(self.partition_for(id), *index, "{id} loaded in the wrong partition");
            }
        }
        for append in self.appends.values() {
            let partition = self.partitions.get(&append.partition_index);
            assert!(
                partition.is_some_and(|p| p.coordinator_epoch == append.coordinator_epoch),
                "append for a lost partition"
            );
        }
    }

    // ---- plumbing shared by the handlers ----

    /// The partition and coordinator epoch of `transactional_id`, or NOT_COORDINATOR when this
    /// broker has not loaded its partition.
    pub(super) fn locate(&self, transactional_id: &str) -> Result<(i32, i32), ErrorCode> {
        let partition_index = self.partition_for(transactional_id);
        let partition = self.partitions.get(&partition_index).ok_or(ErrorCode::NotCoordinator)?;
        Ok((partition_index, partition.coordinator_epoch))
    }

    pub(super) fn metadata_mut(&mut self, partition_index: i32, id: &str) -> Option<&mut TransactionMetadata> {
        self.partitions.get_mut(&partition_index)?.transactions.get_mut(id)
    }

    pub(super) fn respond(&mut self, client: Client, response: super::protocol::TxnResponse) {
        self.outputs.push(TxnOutput::Respond { to: client.to, request_id: client.request_id, response });
    }

    /// Refuses `request`; a refusal for an old epoch is worth a line.
    pub(super) fn refuse(&mut self, client: Client, request: &TxnRequest, error: ErrorCode) {
        if error == ErrorCode::ProducerFenced {
            if let Some(id) = request.transactional_id() {
                let fenced = TxnEvent::Fenced {
                    transactional_id: Arc::clone(id),
                    producer: request.producer(),
                    request: Arc::from(request.name()),
                };
                self.event(fenced);
            }
        }
        self.respond(client, request.error_response(error));
    }

    pub(super) fn event(&mut self, event: TxnEvent) {
        self.outputs.push(TxnOutput::Event(event));
    }

    /// Asks for the write of `pending.target` to the transactional id's partition.
    pub(super) fn append(&mut self, pending: PendingAppend) {
        let key = TransactionLogKey { transactional_id: Arc::clone(&pending.transactional_id) }.encode();
        let value = pending.target.to_log_value().encode();
        let token = AppendToken(self.next_token());
        self.outputs.push(TxnOutput::Append {
            partition_index: pending.partition_index,
            key,
            value: Some(value),
            token,
        });
        self.appends.insert(token, pending);
    }

    pub(super) fn next_token(&mut self) -> u64 {
        self.next_token += 1;
        self.next_token
    }

    /// A producer id now, or `None` after queueing the request until a block is granted.
    pub(super) fn take_producer_id_or_wait(&mut self, client: Client, request: &TxnRequest) -> Option<i64> {
        let id = self.producer_ids.next_id();
        if id.is_none() {
            self.waiting_for_producer_id.push_back((client, request.clone()));
        }
        self.request_block_if_low();
        id
    }

    /// Whether an id is available now; if not, queues the request until a block is granted.
    pub(super) fn has_producer_id_or_wait(&mut self, client: Client, request: &TxnRequest) -> bool {
        if self.producer_ids.has_id() {
            return true;
        }
        self.waiting_for_producer_id.push_back((client, request.clone()));
        self.request_block_if_low();
        false
    }

    fn request_block_if_low(&mut self) {
        if self.producer_ids.wants_block() {
            self.producer_ids.block_requested();
            self.outputs.push(TxnOutput::RequestProducerIdBlock);
            self.event(TxnEvent::ProducerIdBlockRequested);
        }
    }

    fn arm_abort_timer(&mut self) {
        if !self.abort_timer_armed && !self.partitions.is_empty() {
            self.abort_timer_armed = true;
            let after_ms = self.config.abort_timed_out_transaction_cleanup_interval_ms;
            self.outputs.push(TxnOutput::SetTimer { after_ms, timer: TxnTimer::AbortTimedOutTransactions });
        }
    }
}

/// One record of `__transaction_state`: `Ok(None)` for a record of another kind, the id and
/// `None` for a tombstone.
type ReadRecord = Option<(TransactionalId, Option<TransactionMetadata>)>;

fn read_record(key: &[u8], value: Option<&[u8]>) -> Result<ReadRecord, TxnRecordError> {
    let key = match TransactionLogKey::decode(key) {
        Ok(key) => key,
        // Kafka skips records whose key is not a transaction log key.
        Err(TxnRecordError::UnknownKeyVersion { .. }) => return Ok(None),
        Err(error) => return Err(error),
    };
    let metadata = match value {
        None => None,
        Some(value) => {
            let value = TransactionLogValue::decode(value)?;
            match value.transaction_status {
                // An expired id: Kafka follows Dead with a tombstone; either way it is gone.
                TransactionState::Dead => return Ok(Some((key.transactional_id, None))),
                // Never written: the fence is written as PrepareAbort.
                TransactionState::PrepareEpochFence => {
                    return Err(TxnRecordError::UnknownTransactionStatus { status: value.transaction_status.id() })
                }
                _ => {}
            }
            Some(TransactionMetadata::from_log_value(Arc::clone(&key.transactional_id), &value))
        }
    };
    Ok(Some((key.transactional_id, metadata)))
}
