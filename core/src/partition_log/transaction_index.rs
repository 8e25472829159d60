//! The transactions a log's markers ended: the aborted ones a `read_committed` fetch must be
//! told about (Kafka's `TransactionIndex` of `AbortedTxn` entries, one `.txnindex` file per
//! segment), and the ones whose marker the high watermark has not yet passed, which still hold
//! the last stable offset back (Kafka's `ProducerStateManager.unreplicatedTxns`).
//!
//! ```text
//!   first offset            marker (last offset)
//!   v                       v
//!   | txn data ... other producers' data ... | marker |
//!   '------- aborted entry: producer id, first offset, last offset -------'
//! ```
//!
//! A consumer reading committed records asks, for the range it fetched, which aborted
//! transactions overlap it (`PartitionLog::aborted_transactions`); it then skips each
//! producer's records from that first offset until that producer's abort marker. Kafka keeps
//! the entry in the segment holding the marker and deletes it with that segment; here an entry
//! goes once its marker lies below the log start.

use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::ids::Offset;

/// An aborted transaction as a Fetch response carries it to a `read_committed` consumer
/// (`FetchResponse.AbortedTransaction`): whose it was and where it began.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct AbortedTransaction {
    pub producer_id: i64,
    pub first_offset: Offset,
}

/// A transaction a marker ended (Kafka's `CompletedTxn`): from its producer's first
/// transactional batch to the marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct CompletedTransaction {
    pub producer_id: i64,
    pub first_offset: Offset,
    /// The marker's offset.
    pub last_offset: Offset,
    pub aborted: bool,
}

/// The aborted transactions of a log, and the completed ones not yet below the high watermark.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct TransactionIndex {
    /// In marker order, so `last_offset` increases.
    aborted: Vec<CompletedTransaction>,
    /// Completed transactions whose marker is at or above the high watermark, in marker order.
    unreplicated: Vec<CompletedTransaction>,
}

impl TransactionIndex {
    /// Records a transaction a marker just ended; markers come in offset order.
    pub(super) fn complete(&mut self, transaction: CompletedTransaction) {
        assert!(transaction.first_offset <= transaction.last_offset, "a transaction ends after it begins");
        let in_order =
            |list: &[CompletedTransaction]| list.last().is_none_or(|l| l.last_offset < transaction.last_offset);
        assert!(in_order(&self.aborted) && in_order(&self.unreplicated), "markers are indexed in offset order");
        if transaction.aborted {
            self.aborted.push(transaction);
        }
        self.unreplicated.push(transaction);
    }

    /// The high watermark moved: transactions whose marker lies below it are replicated and
    /// no longer hold the last stable offset (Kafka's `onHighWatermarkUpdated`).
    pub(super) fn on_high_watermark(&mut self, high_watermark: Offset) {
        self.unreplicated.retain(|transaction| transaction.last_offset >= high_watermark);
    }

    /// The first offset of the earliest completed transaction whose marker the high watermark
    /// has not passed: a `read_committed` consumer must not read past it yet.
    pub(super) fn first_unreplicated_offset(&self, high_watermark: Offset) -> Option<Offset> {
        let unreplicated = self.unreplicated.iter().filter(|transaction| transaction.last_offset >= high_watermark);
        unreplicated.map(|transaction| transaction.first_offset).min()
    }

    /// Kafka's `collectAbortedTransactions`: the aborted transactions with a record in
    /// `from .. to`, that is, beginning before `to` and ending (at their marker) at or after
    /// `from`, in marker order.
    pub(super) fn aborted_overlapping(&self, from: Offset, to: Offset) -> Vec<AbortedTransaction> {
        self.aborted
            .iter()
            .filter(|transaction| transaction.last_offset >= from && transaction.first_offset < to)
            .map(|transaction| AbortedTransaction {
                producer_id: transaction.producer_id,
                first_offset: transaction.first_offset,
            })
            .collect()
    }

    /// Retention moved the log start: entries whose marker lies below it go with their segment.
    pub(super) fn truncate_from_start(&mut self, log_start: Offset) {
        self.aborted.retain(|transaction| transaction.last_offset >= log_start);
        self.unreplicated.retain(|transaction| transaction.last_offset >= log_start);
    }

    /// Every transaction held, aborted ones first; for the log's invariant checks.
    pub(super) fn entries(&self) -> impl Iterator<Item = &CompletedTransaction> + '_ {
        self.aborted.iter().chain(&self.unreplicated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn transaction(producer_id: i64, first: i64, last: i64, aborted: bool) -> CompletedTransaction {
        CompletedTransaction { producer_id, first_offset: Offset(first), last_offset: Offset(last), aborted }
    }

    fn aborted(producer_id: i64, first: i64) -> AbortedTransaction {
        AbortedTransaction { producer_id, first_offset: Offset(first) }
    }

    #[test]
    fn an_aborted_transaction_is_reported_for_ranges_overlapping_it_only() {
        let mut index = TransactionIndex::default();
        index.complete(transaction(7, 3, 6, true));
        assert_eq!(index.aborted_overlapping(Offset(0), Offset(3)), vec![], "the range ends before it begins");
        assert_eq!(index.aborted_overlapping(Offset(0), Offset(4)), vec![aborted(7, 3)]);
        assert_eq!(index.aborted_overlapping(Offset(6), Offset(9)), vec![aborted(7, 3)], "the marker is in range");
        assert_eq!(index.aborted_overlapping(Offset(7), Offset(9)), vec![], "the range starts after its marker");
    }

    #[test]
    fn committed_transactions_are_not_reported_as_aborted() {
        let mut index = TransactionIndex::default();
        index.complete(transaction(7, 0, 2, false));
        assert_eq!(index.aborted_overlapping(Offset(0), Offset(10)), vec![]);
    }

    #[test]
    fn a_completed_transaction_holds_the_stable_offset_until_its_marker_is_below_the_high_watermark() {
        let mut index = TransactionIndex::default();
        index.complete(transaction(7, 2, 5, false));
        index.on_high_watermark(Offset(5));
        assert_eq!(
            index.first_unreplicated_offset(Offset(5)),
            Some(Offset(2)),
            "the marker at 5 is not replicated yet"
        );
        assert_eq!(index.first_unreplicated_offset(Offset(6)), None);
        index.on_high_watermark(Offset(6));
        assert_eq!(index.first_unreplicated_offset(Offset(5)), None, "once pruned it stays released");
    }

    #[test]
    fn retention_drops_entries_whose_marker_is_below_the_log_start() {
        let mut index = TransactionIndex::default();
        index.complete(transaction(1, 0, 3, true));
        index.complete(transaction(2, 2, 8, true));
        index.truncate_from_start(Offset(4));
        assert_eq!(index.aborted_overlapping(Offset(0), Offset(10)), vec![aborted(2, 2)]);
    }
}
