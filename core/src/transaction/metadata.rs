//! One transactional id's state at its coordinator, and the transitions it may make.
//!
//! As in Kafka's `TransactionMetadata`, a change is made in two steps: `prepare_*` checks that
//! the transition is legal, marks it pending and returns the target [`TxnSnapshot`]; the
//! coordinator writes that snapshot to `__transaction_state`, and only once the write is
//! committed does [`TransactionMetadata::complete_transition`] make it the current state. If the
//! write fails, [`TransactionMetadata::abort_transition`] drops the pending mark and the state is
//! what it was before. While a transition is pending, other requests get CONCURRENT_TRANSACTIONS.
//!
//! The legal transitions (Kafka's `validPreviousStates`):
//!
//! ```text
//! Empty, CompleteCommit, CompleteAbort --InitProducerId--> Empty
//! Empty, CompleteCommit, CompleteAbort, Ongoing --AddPartitions--> Ongoing
//! Ongoing --EndTxn(commit)--> PrepareCommit --markers written--> CompleteCommit
//! Ongoing --EndTxn(abort), fence, timeout--> PrepareAbort --markers written--> CompleteAbort
//! ```

use alloc::collections::BTreeSet;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::protocol::{ProducerIdAndEpoch, TransactionState, TransactionalId};
use super::records::{TransactionLogValue, TransactionPartitions};
use crate::error_code::ErrorCode;
use crate::ids::TopicPartition;

/// Kafka's `NO_PRODUCER_EPOCH`.
pub const NO_PRODUCER_EPOCH: i16 = -1;
/// Kafka's `NO_PRODUCER_ID`.
pub const NO_PRODUCER_ID: i64 = -1;

/// Whether `to` may follow `from` (Kafka's `TransactionState.validPreviousStates`).
pub fn is_valid_transition(from: TransactionState, to: TransactionState) -> bool {
    use TransactionState::*;
    match to {
        Empty | Dead => matches!(from, Empty | CompleteCommit | CompleteAbort),
        Ongoing => matches!(from, Ongoing | Empty | CompleteCommit | CompleteAbort),
        PrepareCommit | PrepareEpochFence => from == Ongoing,
        PrepareAbort => matches!(from, Ongoing | PrepareEpochFence),
        CompleteCommit => from == PrepareCommit,
        CompleteAbort => from == PrepareAbort,
    }
}

/// Whether a producer at `epoch` may not be given another bump: Kafka keeps `i16::MAX` in
/// reserve so the coordinator can always fence, and hands out a new producer id instead.
pub fn is_epoch_exhausted(epoch: i16) -> bool {
    epoch >= i16::MAX - 1
}

/// A transactional id's state at one moment: the current one, or the target of a transition
/// (Kafka's `TxnTransitMetadata`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxnSnapshot {
    pub producer_id: i64,
    /// The producer id before the last rotation, so a retried InitProducerId is recognised.
    pub last_producer_id: i64,
    pub producer_epoch: i16,
    /// The epoch before the last bump (KIP-360), or -1.
    pub last_producer_epoch: i16,
    pub transaction_timeout_ms: u64,
    pub state: TransactionState,
    pub partitions: BTreeSet<TopicPartition>,
    /// When the current transaction began (its first AddPartitions), if one has.
    pub start_ms: Option<u64>,
    pub last_update_ms: u64,
}

impl TxnSnapshot {
    pub fn producer(&self) -> ProducerIdAndEpoch {
        ProducerIdAndEpoch { producer_id: self.producer_id, epoch: self.producer_epoch }
    }

    /// The record value that persists this snapshot (Kafka's `TransactionLog.valueToBytes`):
    /// null partitions when Empty, partitions grouped by topic otherwise.
    pub fn to_log_value(&self) -> TransactionLogValue {
        let transaction_partitions = (self.state != TransactionState::Empty).then(|| group_by_topic(&self.partitions));
        TransactionLogValue {
            producer_id: self.producer_id,
            producer_epoch: self.producer_epoch,
            transaction_timeout_ms: i32::try_from(self.transaction_timeout_ms).expect("timeouts are validated"),
            transaction_status: self.state,
            transaction_partitions,
            transaction_last_update_timestamp_ms: clamp_i64(self.last_update_ms),
            transaction_start_timestamp_ms: self.start_ms.map_or(-1, clamp_i64),
        }
    }
}

fn clamp_i64(ms: u64) -> i64 {
    i64::try_from(ms).unwrap_or(i64::MAX)
}

fn group_by_topic(partitions: &BTreeSet<TopicPartition>) -> Vec<TransactionPartitions> {
    let mut topics: Vec<TransactionPartitions> = Vec::new();
    for partition in partitions {
        match topics.last_mut() {
            Some(last) if last.topic == partition.topic => last.partition_ids.push(partition.partition.0),
            _ => topics.push(TransactionPartitions {
                topic: Arc::clone(&partition.topic),
                partition_ids: alloc::vec![partition.partition.0],
            }),
        }
    }
    topics
}

/// One transactional id at its coordinator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionMetadata {
    pub transactional_id: TransactionalId,
    /// The state as last committed to `__transaction_state` (or just created, at epoch -1).
    pub current: TxnSnapshot,
    /// The state a write in flight will move it to.
    pub pending_state: Option<TransactionState>,
}

/// What a fence changed in memory before its write, to put back if the write fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FenceRollback {
    pub producer_epoch: i16,
    pub last_producer_epoch: i16,
}

impl TransactionMetadata {
    /// A transactional id seen for the first time: its producer id, no epoch yet (the first
    /// InitProducerId bumps it to 0), Empty.
    pub fn new(transactional_id: TransactionalId, producer_id: i64, transaction_timeout_ms: u64, now_ms: u64) -> Self {
        TransactionMetadata {
            transactional_id,
            current: TxnSnapshot {
                producer_id,
                last_producer_id: NO_PRODUCER_ID,
                producer_epoch: NO_PRODUCER_EPOCH,
                last_producer_epoch: NO_PRODUCER_EPOCH,
                transaction_timeout_ms,
                state: TransactionState::Empty,
                partitions: BTreeSet::new(),
                start_ms: None,
                last_update_ms: now_ms,
            },
            pending_state: None,
        }
    }

    /// The state a committed record says (Kafka's `readTxnRecordValue`; the last epoch and
    /// producer id are not in version 0 of the record, so they start unknown).
    pub fn from_log_value(transactional_id: TransactionalId, value: &TransactionLogValue) -> Self {
        let mut partitions = BTreeSet::new();
        if value.transaction_status != TransactionState::Empty {
            for topic in value.transaction_partitions.iter().flatten() {
                for id in &topic.partition_ids {
                    partitions.insert(TopicPartition::new(Arc::clone(&topic.topic), *id));
                }
            }
        }
        TransactionMetadata {
            transactional_id,
            current: TxnSnapshot {
                producer_id: value.producer_id,
                last_producer_id: NO_PRODUCER_ID,
                producer_epoch: value.producer_epoch,
                last_producer_epoch: NO_PRODUCER_EPOCH,
                transaction_timeout_ms: u64::try_from(value.transaction_timeout_ms).unwrap_or(0),
                state: value.transaction_status,
                partitions,
                start_ms: u64::try_from(value.transaction_start_timestamp_ms).ok(),
                last_update_ms: u64::try_from(value.transaction_last_update_timestamp_ms).unwrap_or(0),
            },
            pending_state: None,
        }
    }

    pub fn state(&self) -> TransactionState {
        self.current.state
    }

    pub fn producer(&self) -> ProducerIdAndEpoch {
        self.current.producer()
    }

    pub fn is_pending(&self) -> bool {
        self.pending_state.is_some()
    }

    /// Whether the producer's epoch has no bump left (see [`is_epoch_exhausted`]).
    pub fn is_producer_epoch_exhausted(&self) -> bool {
        is_epoch_exhausted(self.current.producer_epoch)
    }

    /// InitProducerId on an idle id: bump the epoch. With `expected` (KIP-360), a producer that
    /// already has the current epoch bumps it, one that has the previous epoch is retrying a
    /// bump it did not hear about and keeps the current one, and any other is fenced.
    pub fn prepare_increment_epoch(
        &mut self,
        transaction_timeout_ms: u64,
        expected: Option<i16>,
        now_ms: u64,
    ) -> Result<TxnSnapshot, ErrorCode> {
        assert!(!self.is_producer_epoch_exhausted(), "{}: no epoch left to bump to", self.transactional_id);
        let current = self.current.producer_epoch;
        let (epoch, last_epoch) = match expected {
            None => (current + 1, NO_PRODUCER_EPOCH),
            Some(expected) if current == NO_PRODUCER_EPOCH || expected == current => (current + 1, current),
            Some(expected) if expected == self.current.last_producer_epoch => {
                (current, self.current.last_producer_epoch)
            }
            Some(_) => return Err(ErrorCode::ProducerFenced),
        };
        Ok(self.prepare(TxnSnapshot {
            producer_epoch: epoch,
            last_producer_epoch: last_epoch,
            transaction_timeout_ms,
            state: TransactionState::Empty,
            partitions: BTreeSet::new(),
            start_ms: None,
            last_update_ms: now_ms,
            ..self.current.clone()
        }))
    }

    /// InitProducerId when the epoch is exhausted: a new producer id at epoch 0.
    pub fn prepare_producer_id_rotation(
        &mut self,
        new_producer_id: i64,
        transaction_timeout_ms: u64,
        now_ms: u64,
        record_last_epoch: bool,
    ) -> TxnSnapshot {
        self.prepare(TxnSnapshot {
            producer_id: new_producer_id,
            last_producer_id: self.current.producer_id,
            producer_epoch: 0,
            last_producer_epoch: if record_last_epoch { self.current.producer_epoch } else { NO_PRODUCER_EPOCH },
            transaction_timeout_ms,
            state: TransactionState::Empty,
            partitions: BTreeSet::new(),
            start_ms: None,
            last_update_ms: now_ms,
        })
    }

    /// AddPartitionsToTxn: the transaction is Ongoing with these partitions too; it starts now
    /// unless it had already.
    pub fn prepare_add_partitions(&mut self, added: &[TopicPartition], now_ms: u64) -> TxnSnapshot {
        let start_ms = match self.current.state {
            TransactionState::Ongoing => self.current.start_ms,
            _ => Some(now_ms),
        };
        let mut partitions = self.current.partitions.clone();
        partitions.extend(added.iter().cloned());
        self.prepare(TxnSnapshot {
            state: TransactionState::Ongoing,
            partitions,
            start_ms,
            last_update_ms: now_ms,
            ..self.current.clone()
        })
    }

    /// EndTxn: PrepareCommit or PrepareAbort, with the transaction's partitions.
    pub fn prepare_abort_or_commit(&mut self, committed: bool, now_ms: u64) -> TxnSnapshot {
        let state = if committed { TransactionState::PrepareCommit } else { TransactionState::PrepareAbort };
        self.prepare(TxnSnapshot { state, last_update_ms: now_ms, ..self.current.clone() })
    }

    /// The markers are written: CompleteCommit or CompleteAbort, no partitions.
    pub fn prepare_complete(&mut self, now_ms: u64) -> TxnSnapshot {
        let state = match self.current.state {
            TransactionState::PrepareCommit => TransactionState::CompleteCommit,
            TransactionState::PrepareAbort => TransactionState::CompleteAbort,
            other => panic!("{}: completing a transaction in {}", self.transactional_id, other.name()),
        };
        self.prepare(TxnSnapshot { state, partitions: BTreeSet::new(), last_update_ms: now_ms, ..self.current.clone() })
    }

    /// Fences the producer of an Ongoing transaction (a new instance called InitProducerId, or
    /// the transaction timed out): bumps the epoch in memory at once, as Kafka does, so that
    /// the old instance's requests get PRODUCER_FENCED while the abort is written. The caller
    /// then prepares the abort; if its write fails, [`TransactionMetadata::rollback_fence`]
    /// puts the epoch back (Kafka keeps it and skips the next bump instead: the same epochs).
    pub fn fence_epoch(&mut self) -> FenceRollback {
        assert_eq!(
            self.current.state,
            TransactionState::Ongoing,
            "{}: fencing outside a transaction",
            self.transactional_id
        );
        assert!(self.current.producer_epoch < i16::MAX, "{}: fencing would overflow the epoch", self.transactional_id);
        assert!(self.pending_state.is_none(), "{}: fencing during a pending transition", self.transactional_id);
        let rollback = FenceRollback {
            producer_epoch: self.current.producer_epoch,
            last_producer_epoch: self.current.last_producer_epoch,
        };
        self.current.producer_epoch += 1;
        self.current.last_producer_epoch = NO_PRODUCER_EPOCH;
        rollback
    }

    pub fn rollback_fence(&mut self, rollback: FenceRollback) {
        self.current.producer_epoch = rollback.producer_epoch;
        self.current.last_producer_epoch = rollback.last_producer_epoch;
    }

    /// The write of `target` is committed: it becomes the current state.
    pub fn complete_transition(&mut self, target: TxnSnapshot) {
        assert_eq!(
            self.pending_state,
            Some(target.state),
            "{}: completing a transition not pending",
            self.transactional_id
        );
        let epoch_ok =
            target.producer_id != self.current.producer_id || target.producer_epoch >= self.current.producer_epoch;
        assert!(epoch_ok, "{}: a transition may not lower the epoch", self.transactional_id);
        self.current = target;
        self.pending_state = None;
    }

    /// The write failed: the transition is dropped and the state is what it was before it.
    pub fn abort_transition(&mut self) {
        self.pending_state = None;
    }

    fn prepare(&mut self, target: TxnSnapshot) -> TxnSnapshot {
        let id = &self.transactional_id;
        assert!(self.pending_state.is_none(), "{id}: preparing a transition while {:?} is pending", self.pending_state);
        assert!(
            is_valid_transition(self.current.state, target.state),
            "{id}: {} may not follow {}",
            target.state.name(),
            self.current.state.name()
        );
        assert!(
            target.producer_id >= 0 && target.producer_epoch >= 0,
            "{id}: invalid producer {:?}",
            target.producer()
        );
        self.pending_state = Some(target.state);
        target
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TransactionState::*;

    fn metadata_in(state: TransactionState, epoch: i16) -> TransactionMetadata {
        let mut metadata = TransactionMetadata::new(Arc::from("t"), 10, 60_000, 0);
        metadata.current.state = state;
        metadata.current.producer_epoch = epoch;
        if state != Empty {
            metadata.current.start_ms = Some(0);
        }
        metadata
    }

    #[test]
    fn only_kafkas_transitions_are_valid() {
        assert!(is_valid_transition(Ongoing, PrepareCommit));
        assert!(is_valid_transition(PrepareCommit, CompleteCommit));
        assert!(is_valid_transition(CompleteAbort, Ongoing));
        assert!(!is_valid_transition(Empty, PrepareCommit), "nothing to commit");
        assert!(!is_valid_transition(PrepareCommit, CompleteAbort), "a decided commit cannot abort");
        assert!(!is_valid_transition(PrepareAbort, Ongoing));
        assert!(!is_valid_transition(Ongoing, Empty), "InitProducerId must abort an open transaction first");
    }

    #[test]
    fn kip_360_increment_bumps_the_current_epoch_keeps_a_retry_and_fences_others() {
        let mut fresh = TransactionMetadata::new(Arc::from("t"), 10, 60_000, 0);
        assert_eq!(fresh.prepare_increment_epoch(1_000, None, 5).unwrap().producer_epoch, 0);

        let mut current = metadata_in(Empty, 4);
        let target = current.prepare_increment_epoch(1_000, Some(4), 5).unwrap();
        assert_eq!((target.producer_epoch, target.last_producer_epoch), (5, 4));
        current.complete_transition(target);
        // A retry of that bump (the producer did not hear the answer) keeps epoch 5.
        let retry = current.prepare_increment_epoch(1_000, Some(4), 6).unwrap();
        assert_eq!(retry.producer_epoch, 5);
        current.abort_transition();
        assert_eq!(current.prepare_increment_epoch(1_000, Some(2), 6), Err(ErrorCode::ProducerFenced));
    }

    #[test]
    fn a_fence_bumps_the_epoch_at_once_and_rolls_back_exactly() {
        let mut metadata = metadata_in(Ongoing, 3);
        let rollback = metadata.fence_epoch();
        assert_eq!(metadata.current.producer_epoch, 4);
        let target = metadata.prepare_abort_or_commit(false, 9);
        assert_eq!((target.state, target.producer_epoch), (PrepareAbort, 4));
        metadata.abort_transition();
        metadata.rollback_fence(rollback);
        assert_eq!((metadata.state(), metadata.current.producer_epoch, metadata.pending_state), (Ongoing, 3, None));
    }

    #[test]
    fn complete_clears_the_partitions_and_a_snapshot_round_trips_through_its_record() {
        let mut metadata = metadata_in(Ongoing, 0);
        let partitions = [TopicPartition::new("b", 1), TopicPartition::new("a", 2), TopicPartition::new("a", 0)];
        let added = metadata.prepare_add_partitions(&partitions, 3);
        metadata.complete_transition(added);
        let value = metadata.current.to_log_value();
        let grouped = value.transaction_partitions.clone().unwrap();
        assert_eq!(grouped.len(), 2, "grouped by topic");
        assert_eq!((grouped[0].topic.as_ref(), grouped[0].partition_ids.as_slice()), ("a", &[0, 2][..]));
        let loaded = TransactionMetadata::from_log_value(Arc::from("t"), &value);
        assert_eq!(loaded.current.partitions, metadata.current.partitions);
        assert_eq!(loaded.current.start_ms, Some(0));
        let prepared = metadata.prepare_abort_or_commit(true, 4);
        metadata.complete_transition(prepared);
        let complete = metadata.prepare_complete(5);
        assert_eq!((complete.state, complete.partitions.len()), (CompleteCommit, 0));
    }

    #[test]
    #[should_panic(expected = "may not follow")]
    fn an_illegal_transition_is_a_bug_that_stops_the_program() {
        metadata_in(Empty, 0).prepare_abort_or_commit(true, 1);
    }
}
