//! The producer state of a whole log, kept consistent through truncation, retention and
//! compaction (Kafka's `ProducerStateManager` with its snapshots).
//!
//! ```text
//!   base: the state the deleted segments left      journal: one entry per producer batch
//!   (Kafka's snapshot at the log start)            still in the log, in offset order
//!   |----------------------------------------------|---- ... ----|
//!                                                                 current = base + journal
//! ```
//!
//! - An append applies its batch to `current` and adds it to the journal.
//! - Truncation drops the journal's entries above the new log end and rebuilds `current` by
//!   replaying the rest over `base`, as Kafka reloads its latest snapshot below the truncation
//!   point and replays the log from there. A simulator can afford the replay.
//! - Retention folds the deleted segments' entries into `base`: Kafka keeps producer state
//!   when segments go (KIP-360), but drops their aborted-transaction index entries.
//! - Compaction never touches producer state: the journal is not the batches, so a batch the
//!   cleaner empties still counts, much as Kafka's cleaner keeps each producer's last batch and
//!   its markers for this very reason.
//!
//! Full truncation below the log start forgets everything (Kafka's `truncateFullyAndStartAt`).

use alloc::vec::Vec;

use super::error::{AppendError, LogError};
use super::producer_state::{ProducerAppend, ProducerEntry, ProducerStateTable, Verdict};
use super::transaction_index::{AbortedTransaction, TransactionIndex};
use crate::ids::Offset;

/// Producers and transactions, as of some offset.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct ProducerState {
    producers: ProducerStateTable,
    transactions: TransactionIndex,
}

impl ProducerState {
    /// Takes one written producer batch in; a marker may complete a transaction.
    fn apply(&mut self, append: &ProducerAppend, high_watermark: Offset) {
        if let Some(completed) = self.producers.apply(append) {
            self.transactions.complete(completed);
            self.transactions.on_high_watermark(high_watermark);
        }
    }
}

/// A log's producer state: the state its deleted segments left, the producer batches it still
/// holds, and the state after them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct ProducerStateManager {
    base: ProducerState,
    journal: Vec<ProducerAppend>,
    current: ProducerState,
}

impl ProducerStateManager {
    /// A leader's producer checks for a batch about to be written at the log end.
    pub(super) fn check(&self, append: &ProducerAppend) -> Result<Verdict, AppendError> {
        self.current.producers.check(append)
    }

    /// A batch was written at the log end.
    pub(super) fn apply(&mut self, append: ProducerAppend, high_watermark: Offset) {
        assert!(
            self.journal.last().is_none_or(|last| last.last_offset < append.first_offset),
            "producer batches are applied in offset order"
        );
        self.current.apply(&append, high_watermark);
        self.journal.push(append);
    }

    /// The high watermark moved: transactions it now covers no longer hold the stable offset.
    pub(super) fn on_high_watermark(&mut self, high_watermark: Offset) {
        self.current.transactions.on_high_watermark(high_watermark);
        self.base.transactions.on_high_watermark(high_watermark);
    }

    /// The log was truncated to end at `log_end`: forgets the batches from there on and
    /// rebuilds the state from what is left.
    pub(super) fn truncate_to(&mut self, log_end: Offset, high_watermark: Offset) {
        let kept = self.journal.partition_point(|append| append.last_offset < log_end);
        if kept == self.journal.len() {
            return;
        }
        self.journal.truncate(kept);
        self.current = self.replay(high_watermark);
    }

    /// Retention moved the log start: batches below it fold into the base state, and aborted
    /// transactions whose marker lies below it leave the index.
    pub(super) fn truncate_from_start(&mut self, log_start: Offset, high_watermark: Offset) {
        let deleted = self.journal.partition_point(|append| append.last_offset < log_start);
        for append in self.journal.drain(..deleted) {
            self.base.apply(&append, high_watermark);
        }
        self.base.transactions.truncate_from_start(log_start);
        self.current.transactions.truncate_from_start(log_start);
    }

    /// The earliest offset a `read_committed` consumer may not read past: the first offset of
    /// an open transaction or of a completed one whose marker is not yet committed (Kafka's
    /// `firstUnstableOffset`), if any.
    pub(super) fn first_unstable_offset(&self, high_watermark: Offset) -> Option<Offset> {
        let ongoing = self.current.producers.first_ongoing_offset();
        let unreplicated = self.current.transactions.first_unreplicated_offset(high_watermark);
        ongoing.into_iter().chain(unreplicated).min()
    }

    /// The aborted transactions with a record in `from .. to`, in marker order.
    pub(super) fn aborted_overlapping(&self, from: Offset, to: Offset) -> Vec<AbortedTransaction> {
        self.current.transactions.aborted_overlapping(from, to)
    }

    /// The state of `producer_id`, if the log has seen it.
    pub(super) fn producer(&self, producer_id: i64) -> Option<&ProducerEntry> {
        self.current.producers.get(producer_id)
    }

    /// Every producer, by increasing id.
    pub(super) fn producers(&self) -> impl Iterator<Item = (i64, &ProducerEntry)> + '_ {
        self.current.producers.iter()
    }

    /// Nothing the state remembers lies at or past the log end: cached batches, open
    /// transactions and indexed transactions all end below it.
    pub(super) fn validate(&self, log_end: Offset) -> Result<(), LogError> {
        for (producer_id, entry) in self.producers() {
            let last_batch = entry.batches().last().map(|batch| batch.last_offset);
            let remembered = entry.ongoing_transaction_first_offset().into_iter().chain(last_batch);
            if let Some(offset) = remembered.filter(|&offset| offset >= log_end).max() {
                return Err(LogError::ProducerStateBeyondLogEnd { producer_id, offset });
            }
        }
        for transaction in self.current.transactions.entries() {
            if transaction.last_offset >= log_end || transaction.first_offset > transaction.last_offset {
                let producer_id = transaction.producer_id;
                return Err(LogError::TransactionOutOfRange { producer_id, first_offset: transaction.first_offset });
            }
        }
        Ok(())
    }

    /// The journal lies in `log_start .. log_end` in offset order, each producer's sequences
    /// run on without a gap, and replaying it over the base gives the current producers and
    /// aborted transactions. (Which completed transactions still hold the stable offset depends
    /// on how the high watermark moved, which a follower's may do backwards, so it is left out.)
    pub(super) fn validate_journal(
        &self,
        log_start: Offset,
        log_end: Offset,
        high_watermark: Offset,
    ) -> Result<(), LogError> {
        let mut replayed = self.base.clone();
        let mut previous_end = log_start;
        for append in &self.journal {
            let first_offset = append.first_offset;
            if first_offset < previous_end || append.last_offset >= log_end {
                return Err(LogError::ProducerBatchOutOfRange { producer_id: append.producer_id, first_offset });
            }
            if !replayed.producers.continues_sequence(append) {
                return Err(LogError::SequenceNotContinued { producer_id: append.producer_id, first_offset });
            }
            replayed.apply(append, high_watermark);
            previous_end = append.last_offset.next();
        }
        let everything =
            |state: &ProducerState| state.transactions.aborted_overlapping(Offset(i64::MIN), Offset(i64::MAX));
        if replayed.producers != self.current.producers || everything(&replayed) != everything(&self.current) {
            return Err(LogError::ProducerStateNotReplayable);
        }
        Ok(())
    }

    /// `base` with the journal replayed over it.
    fn replay(&self, high_watermark: Offset) -> ProducerState {
        let mut state = self.base.clone();
        for append in &self.journal {
            state.apply(append, high_watermark);
        }
        state
    }
}
