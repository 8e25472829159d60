//! What a partition log knows about each idempotent or transactional producer, and the rules a
//! leader checks their batches against (Kafka's `ProducerStateEntry`, `BatchMetadata` and
//! `ProducerAppendInfo`).
//!
//! Per producer id: its epoch, the sequence and offset ranges of its last
//! [`BATCHES_TO_RETAIN`] batches, the first offset of its open transaction, and the coordinator
//! epoch of its last marker. A leader checks each producer batch before writing it:
//!
//! ```text
//! same epoch, same first and last sequence as a cached batch  -> duplicate: not written again,
//!                                                                answered with its offsets
//! epoch older than the producer's                             -> INVALID_PRODUCER_EPOCH
//! newer epoch, first sequence not 0                           -> OUT_OF_ORDER_SEQUENCE_NUMBER
//! same epoch, first sequence not last sequence + 1            -> OUT_OF_ORDER_SEQUENCE_NUMBER
//! (Integer.MAX_VALUE is followed by 0)
//! non-transactional batch while a transaction is open         -> INVALID_TXN_STATE
//! marker with an older producer epoch                         -> INVALID_PRODUCER_EPOCH
//! marker with an older coordinator epoch                      -> TRANSACTION_COORDINATOR_FENCED
//! ```
//!
//! An unknown producer id is accepted at any sequence: since KIP-360 (Kafka 2.5) the log no
//! longer answers `UNKNOWN_PRODUCER_ID`, because a producer whose state retention removed must
//! be able to continue. A retried batch older than the cached five fails the sequence check and
//! gets `OUT_OF_ORDER_SEQUENCE_NUMBER`, as in Kafka; the broker never answers
//! `DUPLICATE_SEQUENCE_NUMBER`. Markers follow transaction versions 0 and 1 (a marker carries
//! the producer's epoch, accepted at or above the current one); transaction version 2's
//! strictly newer marker epochs and KIP-890's verification of a transaction's first batch are
//! not modelled. A follower applies the leader's batches without these checks
//! (`ProducerStateTable::apply`), as Kafka's replication origin does.

use alloc::collections::{BTreeMap, VecDeque};
use serde::{Deserialize, Serialize};

use super::error::AppendError;
use super::transaction_index::CompletedTransaction;
use crate::ids::Offset;
use crate::record_batch::header::{NO_PRODUCER_EPOCH, NO_SEQUENCE, NO_TIMESTAMP};
use crate::record_batch::{RecordBatch, TransactionResult};

/// How many of a producer's latest batches a leader remembers to recognise a retry (Kafka's
/// `ProducerStateEntry.NUM_BATCHES_TO_RETAIN`, matching the client's largest
/// `max.in.flight.requests.per.connection` with idempotence).
pub const BATCHES_TO_RETAIN: usize = 5;

/// Where one of a producer's batches went (Kafka's `BatchMetadata`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BatchMetadata {
    pub first_sequence: i32,
    pub last_sequence: i32,
    pub first_offset: Offset,
    pub last_offset: Offset,
    /// The batch's max timestamp.
    pub timestamp_ms: i64,
}

/// What the producer state learns from one stored batch with a producer id: a data batch or
/// a transaction marker. The log keeps one per such batch, in offset order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct ProducerAppend {
    pub producer_id: i64,
    pub producer_epoch: i16,
    pub first_offset: Offset,
    pub last_offset: Offset,
    pub timestamp_ms: i64,
    pub kind: AppendKind,
}

/// The two kinds of producer batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum AppendKind {
    /// Records, with the sequence range they carry; a transactional one opens a transaction.
    Data { first_sequence: i32, last_sequence: i32, transactional: bool },
    /// A commit or abort marker, ending the producer's transaction.
    Marker { committed: bool, coordinator_epoch: i32 },
}

impl ProducerAppend {
    /// The producer facts of a batch whose offsets are assigned. `None` for a batch without a
    /// producer id, and for a control batch that holds no readable marker (compaction emptied
    /// it, or it is compressed), which Kafka's `ProducerAppendInfo.append` skips too.
    pub(super) fn of(batch: &RecordBatch) -> Option<ProducerAppend> {
        if batch.producer_id() < 0 {
            return None;
        }
        let kind = if batch.is_control() {
            let marker = batch.transaction_marker().ok()?;
            let committed = marker.result == TransactionResult::Commit;
            AppendKind::Marker { committed, coordinator_epoch: marker.coordinator_epoch }
        } else {
            AppendKind::Data {
                first_sequence: batch.base_sequence(),
                last_sequence: batch.last_sequence(),
                transactional: batch.is_transactional(),
            }
        };
        Some(ProducerAppend {
            producer_id: batch.producer_id(),
            producer_epoch: batch.producer_epoch(),
            first_offset: batch.base_offset(),
            last_offset: batch.last_offset(),
            timestamp_ms: batch.max_timestamp_ms(),
            kind,
        })
    }
}

/// One producer's state (Kafka's `ProducerStateEntry`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProducerEntry {
    producer_epoch: i16,
    /// Oldest first, at most [`BATCHES_TO_RETAIN`], all of `producer_epoch`.
    batches: VecDeque<BatchMetadata>,
    coordinator_epoch: i32,
    last_timestamp_ms: i64,
    ongoing_transaction_first_offset: Option<Offset>,
}

impl Default for ProducerEntry {
    /// A producer the log has not seen: no epoch, no batches, coordinator epoch -1.
    fn default() -> Self {
        ProducerEntry {
            producer_epoch: NO_PRODUCER_EPOCH,
            batches: VecDeque::new(),
            coordinator_epoch: -1,
            last_timestamp_ms: NO_TIMESTAMP,
            ongoing_transaction_first_offset: None,
        }
    }
}

impl ProducerEntry {
    /// The newest epoch a batch or marker of this producer carried.
    pub fn producer_epoch(&self) -> i16 {
        self.producer_epoch
    }

    /// The last sequence written under the current epoch; -1 when none is cached.
    pub fn last_sequence(&self) -> i32 {
        self.batches.back().map_or(NO_SEQUENCE, |batch| batch.last_sequence)
    }

    /// The cached batches, oldest first.
    pub fn batches(&self) -> impl Iterator<Item = &BatchMetadata> + '_ {
        self.batches.iter()
    }

    /// The coordinator epoch of the producer's last marker; -1 before any.
    pub fn coordinator_epoch(&self) -> i32 {
        self.coordinator_epoch
    }

    /// The max timestamp of the producer's last batch or marker.
    pub fn last_timestamp_ms(&self) -> i64 {
        self.last_timestamp_ms
    }

    /// Where the producer's open transaction began, if one is open.
    pub fn ongoing_transaction_first_offset(&self) -> Option<Offset> {
        self.ongoing_transaction_first_offset
    }

    /// A new epoch forgets the old epoch's batches (Kafka's `maybeUpdateProducerEpoch`).
    fn update_epoch(&mut self, producer_epoch: i16) {
        if self.producer_epoch != producer_epoch {
            self.batches.clear();
            self.producer_epoch = producer_epoch;
        }
    }

    /// The cached batch with exactly this epoch and sequence range (Kafka's `findDuplicateBatch`).
    fn duplicate_of(&self, producer_epoch: i16, first_sequence: i32, last_sequence: i32) -> Option<BatchMetadata> {
        if producer_epoch != self.producer_epoch {
            return None;
        }
        self.batches.iter().find(|b| b.first_sequence == first_sequence && b.last_sequence == last_sequence).copied()
    }
}

/// A read-only summary of one producer, for the page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProducerView {
    pub producer_id: i64,
    pub producer_epoch: i16,
    /// -1 when no batch of the current epoch is cached.
    pub last_sequence: i32,
    pub ongoing_transaction_first_offset: Option<Offset>,
    /// The coordinator epoch of the producer's last marker; -1 before any.
    pub coordinator_epoch: i32,
}

/// Whether a checked producer batch is new or a retry of one already written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Verdict {
    /// Write it.
    Append,
    /// A retry of this batch, already written: answer with its offsets, write nothing.
    Duplicate(BatchMetadata),
}

/// Every producer a log knows, by producer id.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct ProducerStateTable {
    producers: BTreeMap<i64, ProducerEntry>,
}

impl ProducerStateTable {
    /// The state of `producer_id`, if the log has seen it.
    pub(super) fn get(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.producers.get(&producer_id)
    }

    /// Every producer, by increasing id.
    pub(super) fn iter(&self) -> impl Iterator<Item = (i64, &ProducerEntry)> + '_ {
        self.producers.iter().map(|(&producer_id, entry)| (producer_id, entry))
    }

    /// The earliest first offset of any open transaction.
    pub(super) fn first_ongoing_offset(&self) -> Option<Offset> {
        self.producers.values().filter_map(ProducerEntry::ongoing_transaction_first_offset).min()
    }

    /// A leader's checks, before anything is written (Kafka's `ProducerAppendInfo` for client
    /// and coordinator appends). Changes nothing.
    pub(super) fn check(&self, append: &ProducerAppend) -> Result<Verdict, AppendError> {
        let unknown = ProducerEntry::default();
        let entry = self.producers.get(&append.producer_id).unwrap_or(&unknown);
        let (producer_id, epoch) = (append.producer_id, append.producer_epoch);
        if epoch < entry.producer_epoch {
            let current = entry.producer_epoch;
            return Err(AppendError::InvalidProducerEpoch { producer_id, epoch, current });
        }
        match append.kind {
            // A coordinator's transactional batch (offsets committed in a transaction) carries no
            // sequence: Kafka appends it with the coordinator's origin, which checks the epoch
            // and the transaction but not sequences, and it is never a retry to deduplicate.
            AppendKind::Data { first_sequence: NO_SEQUENCE, .. } => {}
            AppendKind::Data { first_sequence, last_sequence, transactional } => {
                if let Some(original) = entry.duplicate_of(epoch, first_sequence, last_sequence) {
                    return Ok(Verdict::Duplicate(original));
                }
                check_sequence(producer_id, entry, epoch, first_sequence)?;
                if entry.ongoing_transaction_first_offset.is_some() && !transactional {
                    return Err(AppendError::NonTransactionalBatchInTransaction { producer_id });
                }
            }
            AppendKind::Marker { coordinator_epoch, .. } => {
                if entry.coordinator_epoch > coordinator_epoch {
                    let current = entry.coordinator_epoch;
                    return Err(AppendError::CoordinatorEpochFenced { producer_id, coordinator_epoch, current });
                }
            }
        }
        Ok(Verdict::Append)
    }

    /// Whether a data batch continues its producer's sequence here: a new epoch, or the next
    /// sequence after the last cached one. What a leader checked; a log's invariant.
    pub(super) fn continues_sequence(&self, append: &ProducerAppend) -> bool {
        let AppendKind::Data { first_sequence, .. } = append.kind else {
            return true;
        };
        if first_sequence == NO_SEQUENCE {
            return true; // a coordinator's batch, outside the producer's sequence
        }
        match self.producers.get(&append.producer_id) {
            Some(entry) if entry.producer_epoch == append.producer_epoch && !entry.batches.is_empty() => {
                in_sequence(entry.last_sequence(), first_sequence)
            }
            _ => true,
        }
    }

    /// Takes a written batch into the state, unchecked (a follower trusts its leader). Returns
    /// the transaction a marker ended, if its producer had one open.
    pub(super) fn apply(&mut self, append: &ProducerAppend) -> Option<CompletedTransaction> {
        let entry = self.producers.entry(append.producer_id).or_default();
        entry.update_epoch(append.producer_epoch);
        entry.last_timestamp_ms = append.timestamp_ms;
        match append.kind {
            AppendKind::Data { first_sequence, last_sequence, transactional } => {
                if transactional && entry.ongoing_transaction_first_offset.is_none() {
                    entry.ongoing_transaction_first_offset = Some(append.first_offset);
                }
                if first_sequence == NO_SEQUENCE {
                    return None; // a coordinator's batch: nothing to deduplicate against
                }
                if entry.batches.len() == BATCHES_TO_RETAIN {
                    entry.batches.pop_front();
                }
                entry.batches.push_back(BatchMetadata {
                    first_sequence,
                    last_sequence,
                    first_offset: append.first_offset,
                    last_offset: append.last_offset,
                    timestamp_ms: append.timestamp_ms,
                });
                None
            }
            AppendKind::Marker { committed, coordinator_epoch } => {
                entry.coordinator_epoch = coordinator_epoch;
                let first_offset = entry.ongoing_transaction_first_offset.take()?;
                Some(CompletedTransaction {
                    producer_id: append.producer_id,
                    first_offset,
                    last_offset: append.last_offset,
                    aborted: !committed,
                })
            }
        }
    }
}

/// Kafka's `checkSequence`: a new epoch starts at 0 (unless the producer is unknown), the same
/// epoch continues from its last sequence.
fn check_sequence(producer_id: i64, entry: &ProducerEntry, epoch: i16, first_sequence: i32) -> Result<(), AppendError> {
    let last_sequence = entry.last_sequence();
    let in_order = if epoch != entry.producer_epoch {
        first_sequence == 0 || entry.producer_epoch == NO_PRODUCER_EPOCH
    } else {
        in_sequence(last_sequence, first_sequence)
    };
    if in_order {
        Ok(())
    } else {
        Err(AppendError::OutOfOrderSequence { producer_id, epoch, first_sequence, last_sequence })
    }
}

/// `next` follows `last`; sequences wrap from `i32::MAX` to 0. After no sequence (-1) comes 0.
fn in_sequence(last: i32, next: i32) -> bool {
    next as i64 == last as i64 + 1 || (next == 0 && last == i32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::LeaderEpoch;
    use crate::record_batch::TransactionMarker;

    fn data(producer_epoch: i16, first_sequence: i32, last_sequence: i32, first_offset: i64) -> ProducerAppend {
        let count = (last_sequence as i64 - first_sequence as i64).rem_euclid(1 << 31);
        ProducerAppend {
            producer_id: 7,
            producer_epoch,
            first_offset: Offset(first_offset),
            last_offset: Offset(first_offset + count),
            timestamp_ms: 0,
            kind: AppendKind::Data { first_sequence, last_sequence, transactional: false },
        }
    }

    fn transactional(append: ProducerAppend) -> ProducerAppend {
        let AppendKind::Data { first_sequence, last_sequence, .. } = append.kind else { unreachable!() };
        ProducerAppend { kind: AppendKind::Data { first_sequence, last_sequence, transactional: true }, ..append }
    }

    fn marker(producer_epoch: i16, offset: i64, committed: bool, coordinator_epoch: i32) -> ProducerAppend {
        ProducerAppend {
            producer_id: 7,
            producer_epoch,
            first_offset: Offset(offset),
            last_offset: Offset(offset),
            timestamp_ms: 0,
            kind: AppendKind::Marker { committed, coordinator_epoch },
        }
    }

    fn applied(appends: &[ProducerAppend]) -> ProducerStateTable {
        let mut table = ProducerStateTable::default();
        for append in appends {
            assert_eq!(table.check(append), Ok(Verdict::Append), "{append:?}");
            table.apply(append);
        }
        table
    }

    #[test]
    fn a_sequence_after_i32_max_wraps_to_zero() {
        let table = applied(&[data(0, i32::MAX - 1, i32::MAX, 0)]);
        assert_eq!(table.check(&data(0, 0, 1, 2)), Ok(Verdict::Append));
        assert!(matches!(table.check(&data(0, 1, 1, 2)), Err(AppendError::OutOfOrderSequence { .. })));
    }

    #[test]
    fn an_unknown_producer_is_accepted_at_any_sequence_as_since_kip_360() {
        assert_eq!(ProducerStateTable::default().check(&data(3, 42, 42, 0)), Ok(Verdict::Append));
    }

    #[test]
    fn only_the_last_five_batches_are_cached() {
        let appends: alloc::vec::Vec<_> = (0..6).map(|n| data(0, n, n, n as i64)).collect();
        let table = applied(&appends);
        let cached: alloc::vec::Vec<i32> = table.get(7).unwrap().batches().map(|b| b.first_sequence).collect();
        assert_eq!(cached, [1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_marker_ends_the_open_transaction_and_reports_it() {
        let mut table = applied(&[transactional(data(0, 0, 1, 4)), transactional(data(0, 2, 2, 9))]);
        assert_eq!(table.first_ongoing_offset(), Some(Offset(4)), "the transaction began at its first batch");
        let completed = table.apply(&marker(0, 12, false, 3));
        let expected =
            CompletedTransaction { producer_id: 7, first_offset: Offset(4), last_offset: Offset(12), aborted: true };
        assert_eq!(completed, Some(expected));
        assert_eq!((table.first_ongoing_offset(), table.get(7).unwrap().coordinator_epoch()), (None, 3));
        assert_eq!(
            table.apply(&marker(0, 13, true, 3)),
            None,
            "a marker without an open transaction completes nothing"
        );
    }

    #[test]
    fn a_non_transactional_batch_inside_a_transaction_is_refused() {
        let table = applied(&[transactional(data(0, 0, 0, 0))]);
        assert_eq!(
            table.check(&data(0, 1, 1, 1)),
            Err(AppendError::NonTransactionalBatchInTransaction { producer_id: 7 })
        );
    }

    #[test]
    fn markers_from_an_older_coordinator_or_producer_epoch_are_fenced() {
        let table = applied(&[transactional(data(2, 0, 0, 0)), marker(2, 1, true, 5)]);
        let fenced = AppendError::CoordinatorEpochFenced { producer_id: 7, coordinator_epoch: 4, current: 5 };
        assert_eq!(table.check(&marker(2, 2, true, 4)), Err(fenced));
        let stale = AppendError::InvalidProducerEpoch { producer_id: 7, epoch: 1, current: 2 };
        assert_eq!(table.check(&marker(1, 2, true, 5)), Err(stale));
        assert_eq!(table.check(&marker(3, 2, false, 5)), Ok(Verdict::Append), "a newer epoch fences the producer");
    }

    #[test]
    fn a_follower_applies_batches_a_leader_would_refuse() {
        let mut table = ProducerStateTable::default();
        table.apply(&data(4, 0, 0, 0));
        table.apply(&data(4, 9, 9, 1));
        assert_eq!(table.get(7).unwrap().last_sequence(), 9);
        assert!(!table.continues_sequence(&data(4, 11, 11, 2)), "the invariant check notices a gap");
    }

    #[test]
    fn producer_facts_are_read_from_a_marker_batch() {
        let marker = TransactionMarker { result: TransactionResult::Abort, coordinator_epoch: 6 };
        let batch = marker.to_batch(Offset(10), 99, LeaderEpoch(1), 7, 2).unwrap();
        let append = ProducerAppend::of(&batch).unwrap();
        assert_eq!(append.kind, AppendKind::Marker { committed: false, coordinator_epoch: 6 });
        assert_eq!((append.producer_epoch, append.first_offset, append.last_offset), (2, Offset(10), Offset(10)));
        assert_eq!(ProducerAppend::of(&crate::partition_log::single_record_batch(0, None, None)), None);
    }
}
