//! Turning a fetch response's batches into the records a poll may return, as Kafka's
//! `CompletedFetch` does: records before the fetch position are dropped (a fetch returns the
//! whole batch holding it), control batches are never returned, and with `read_committed` the
//! batches of aborted transactions are skipped.
//!
//! The leader lists the aborted transactions overlapping the response, each as a producer id and
//! the transaction's first offset. Walking the batches in order, a producer becomes "aborted"
//! once a batch reaches its transaction's first offset; its transactional batches are skipped
//! until its abort marker (a control batch), which ends the aborted transaction. Compressed
//! batches are skipped whole: the model never compresses, and the core does not decompress.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use bytes::Bytes;

use crate::ids::{LeaderEpoch, Offset, TopicPartition};
use crate::message::{AbortedTransaction, IsolationLevel};
use crate::record_batch::{RecordBatch, TransactionResult};

/// One record a poll hands the application.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumedRecord {
    pub partition: TopicPartition,
    pub offset: Offset,
    /// The epoch of the leader that appended it, committed with the offset (KIP-320).
    pub leader_epoch: LeaderEpoch,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
}

/// The records of `batches` a consumer at `position` may return, and the position after the
/// last batch (past skipped and control batches too), never behind `position`.
pub fn consumable_records(
    partition: &TopicPartition,
    batches: &[RecordBatch],
    aborted_transactions: &[AbortedTransaction],
    isolation: IsolationLevel,
    position: Offset,
) -> (Vec<ConsumedRecord>, Offset) {
    let mut pending_aborts: Vec<AbortedTransaction> = aborted_transactions.to_vec();
    pending_aborts.sort_by_key(|aborted| (aborted.first_offset, aborted.producer_id));
    let mut pending_aborts = pending_aborts.into_iter().peekable();
    let mut aborted_producers: BTreeSet<i64> = BTreeSet::new();
    let mut records = Vec::new();
    let mut next_offset = position;
    for batch in batches {
        next_offset = next_offset.max(batch.next_offset());
        if isolation == IsolationLevel::ReadCommitted && batch.producer_id() >= 0 {
            while let Some(aborted) = pending_aborts.next_if(|aborted| aborted.first_offset <= batch.last_offset()) {
                aborted_producers.insert(aborted.producer_id);
            }
            if is_abort_marker(batch) {
                aborted_producers.remove(&batch.producer_id());
            } else if batch.is_transactional() && aborted_producers.contains(&batch.producer_id()) {
                continue;
            }
        }
        if batch.is_control() {
            continue;
        }
        let Ok(batch_records) = batch.records() else { continue };
        let base_offset = batch.base_offset();
        for record in batch_records {
            let offset = record.offset(base_offset);
            if offset < position {
                continue;
            }
            records.push(ConsumedRecord {
                partition: partition.clone(),
                offset,
                leader_epoch: batch.partition_leader_epoch(),
                key: record.key,
                value: record.value,
            });
        }
    }
    (records, next_offset)
}

fn is_abort_marker(batch: &RecordBatch) -> bool {
    batch.is_control() && batch.transaction_marker().is_ok_and(|marker| marker.result == TransactionResult::Abort)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record_batch::test_batches::{batch_of, marker};
    use crate::record_batch::Record;
    use alloc::vec;

    fn batch(base: i64, count: i32, producer_id: Option<i64>) -> RecordBatch {
        let records: Vec<Record> =
            (0..count).map(|i| Record::new(i, 0, None, Some(Bytes::from(vec![(base + i as i64) as u8])))).collect();
        batch_of(base, records, producer_id)
    }

    fn offsets(records: &[ConsumedRecord]) -> Vec<i64> {
        records.iter().map(|record| record.offset.0).collect()
    }

    /// Offsets 0-1 plain, 2-3 aborted by producer 7 (marker at 4), 5 plain, 6-7 committed by
    /// producer 8 (marker at 8).
    fn log() -> Vec<RecordBatch> {
        vec![
            batch(0, 2, None),
            batch(2, 2, Some(7)),
            marker(4, 7, TransactionResult::Abort),
            batch(5, 1, None),
            batch(6, 2, Some(8)),
            marker(8, 8, TransactionResult::Commit),
        ]
    }

    #[test]
    fn read_committed_skips_aborted_batches_and_control_batches() {
        let partition = TopicPartition::new("t", 0);
        let aborted = [AbortedTransaction { producer_id: 7, first_offset: Offset(2) }];
        let (records, next) =
            consumable_records(&partition, &log(), &aborted, IsolationLevel::ReadCommitted, Offset(0));
        assert_eq!(offsets(&records), [0, 1, 5, 6, 7]);
        assert_eq!(next, Offset(9));
    }

    #[test]
    fn read_uncommitted_returns_aborted_records_but_never_control_records() {
        let partition = TopicPartition::new("t", 0);
        let (records, next) = consumable_records(&partition, &log(), &[], IsolationLevel::ReadUncommitted, Offset(0));
        assert_eq!(offsets(&records), [0, 1, 2, 3, 5, 6, 7]);
        assert_eq!(next, Offset(9));
    }

    #[test]
    fn records_before_the_position_in_the_first_batch_are_dropped() {
        let partition = TopicPartition::new("t", 0);
        let (records, next) =
            consumable_records(&partition, &[batch(10, 4, None)], &[], IsolationLevel::ReadUncommitted, Offset(12));
        assert_eq!(offsets(&records), [12, 13]);
        assert_eq!(next, Offset(14));
    }

    #[test]
    fn a_producer_aborted_later_is_read_before_its_aborted_transaction_starts() {
        // Producer 7 commits offsets 0-1 (marker 2), then aborts 3-4 (marker 5).
        let partition = TopicPartition::new("t", 0);
        let batches = [
            batch(0, 2, Some(7)),
            marker(2, 7, TransactionResult::Commit),
            batch(3, 2, Some(7)),
            marker(5, 7, TransactionResult::Abort),
            batch(6, 1, Some(7)),
        ];
        let aborted = [AbortedTransaction { producer_id: 7, first_offset: Offset(3) }];
        let (records, _) = consumable_records(&partition, &batches, &aborted, IsolationLevel::ReadCommitted, Offset(0));
        assert_eq!(offsets(&records), [0, 1, 6]);
    }
}
