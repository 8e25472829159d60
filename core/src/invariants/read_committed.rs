//! A `read_committed` consumer only ever processes records of committed transactions, or
//! records written outside any transaction: never one of an aborted transaction, nor one of a
//! transaction still open (KIP-98: the fetch stops at the last stable offset and the consumer
//! drops the records of the aborted transactions the broker lists).
//!
//! An oracle (in the manner of [`crate::oracle`]): it judges what the consumers' applications
//! processed against the logs the partitions' leaders hold. A record's transaction is known by
//! its batch: a transactional batch belongs to its producer's transaction, which the next
//! control batch of that producer in the log ends, with a COMMIT or an ABORT marker; a batch
//! with no marker after it yet is of an open transaction. A processed offset that falls on a
//! control batch, or that no batch at or above the log start holds, is a violation too.
//!
//! It runs once, at the end of a run ([`check_processed_records`], called by the random
//! sweep), not after every event: it reads every batch of every partition a consumer
//! processed from, which after every event would cost more than the rest of the simulation,
//! and a record's fate is final once the run is over (a record processed while its
//! transaction was open stays one of an open, and later of an aborted or committed,
//! transaction; the end of the run sees which).
//!
//! Exactly once end to end is the consume-transform-produce pipeline's promise, checked on its
//! output by [`super::exactly_once`]; a consumer in any other commit mode may process a record
//! twice by design.

use alloc::collections::BTreeMap;

use crate::command::ClientName;
use crate::ids::{Offset, TopicPartition};
use crate::message::IsolationLevel;
use crate::partition_log::PartitionLog;
use crate::record_batch::{control_record_type, ControlRecordType, RecordBatch};
use crate::simulation::{ClientKind, ProcessedRecord};
use crate::Simulation;

use super::Violation;

/// What became of the records of one batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RecordFate {
    /// Written outside a transaction.
    NotTransactional,
    /// Its transaction's marker is a COMMIT.
    Committed,
    /// Its transaction's marker is an ABORT.
    Aborted,
    /// No marker of its producer follows it yet.
    Open,
    /// A control batch: a marker, never a record for the application.
    Control,
    /// No batch in the log holds the offset.
    Missing,
}

/// Every batch of a log, by base offset: its last offset and its records' fate.
#[derive(Clone, Debug, Default)]
pub struct BatchFates {
    batches: BTreeMap<Offset, (Offset, RecordFate)>,
}

impl BatchFates {
    /// Reads `batches` in offset order, settling each producer's open transaction at its
    /// next marker.
    pub fn of<'b>(batches: impl IntoIterator<Item = &'b RecordBatch>) -> BatchFates {
        let mut fates = BatchFates::default();
        let mut open: BTreeMap<i64, alloc::vec::Vec<Offset>> = BTreeMap::new();
        for batch in batches {
            let (base, last) = (batch.base_offset(), batch.last_offset());
            let fate = if batch.is_control() {
                if let Some(outcome) = marker_outcome(batch) {
                    for transactional in open.remove(&batch.producer_id()).unwrap_or_default() {
                        fates.batches.entry(transactional).and_modify(|entry| entry.1 = outcome);
                    }
                }
                RecordFate::Control
            } else if batch.is_transactional() {
                open.entry(batch.producer_id()).or_default().push(base);
                RecordFate::Open
            } else {
                RecordFate::NotTransactional
            };
            fates.batches.insert(base, (last, fate));
        }
        fates
    }

    /// The fate of the record at `offset`.
    pub fn fate_of(&self, offset: Offset) -> RecordFate {
        match self.batches.range(..=offset).next_back() {
            Some((_, (last, fate))) if offset <= *last => *fate,
            _ => RecordFate::Missing,
        }
    }
}

/// A COMMIT marker commits, an ABORT aborts; any other control record settles nothing.
fn marker_outcome(batch: &RecordBatch) -> Option<RecordFate> {
    let record = batch.records().ok()?.next()?;
    match control_record_type(record.key.as_deref()).ok()? {
        ControlRecordType::Commit => Some(RecordFate::Committed),
        ControlRecordType::Abort => Some(RecordFate::Aborted),
        _ => None,
    }
}

/// Checks `processed` records of the clients `reads_committed` names against the logs
/// `leader_log` gives (a partition with no leader now cannot be judged, nor can a record below
/// its log's start, removed by retention).
pub fn check<'l>(
    processed: &[ProcessedRecord],
    reads_committed: impl Fn(&ClientName) -> bool,
    leader_log: impl Fn(&TopicPartition) -> Option<&'l PartitionLog>,
) -> Result<(), Violation> {
    let mut fates: BTreeMap<&TopicPartition, Option<(Offset, BatchFates)>> = BTreeMap::new();
    for record in processed.iter().filter(|record| reads_committed(&record.client)) {
        let fates = fates.entry(&record.partition).or_insert_with(|| {
            leader_log(&record.partition).map(|log| (log.log_start_offset(), BatchFates::of(log.batches())))
        });
        let Some((log_start, fates)) = fates else { continue };
        if record.offset < *log_start {
            continue;
        }
        let fate = fates.fate_of(record.offset);
        if !matches!(fate, RecordFate::NotTransactional | RecordFate::Committed) {
            return Err(Violation::ReadCommittedProcessedUncommitted {
                client: record.client.clone(),
                partition: record.partition.clone(),
                offset: record.offset,
                fate,
            });
        }
    }
    Ok(())
}

/// [`check`] for a simulation: every record its `read_committed` consumers processed, against
/// the logs of the partitions' current leaders. Call it at the end of a run.
pub fn check_processed_records(simulation: &Simulation) -> Result<(), Violation> {
    let reads_committed = |name: &ClientName| {
        simulation.client(&name.0).is_some_and(|client| match &client.kind {
            ClientKind::Consumer(consumer) => consumer.config().isolation_level == IsolationLevel::ReadCommitted,
            ClientKind::Producer(_) => false,
        })
    };
    let leader_log = |partition: &TopicPartition| {
        let leader = simulation.metadata().partition(partition)?.leader?;
        Some(&simulation.broker(leader)?.replica(partition)?.log)
    };
    check(simulation.processed(), reads_committed, leader_log)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record_batch::test_batches::{batch_of, marker};

    use crate::record_batch::{Record, TransactionResult};
    use alloc::vec;
    use alloc::vec::Vec;
    use bytes::Bytes;

    fn batch(base: i64, count: i32, producer_id: Option<i64>) -> RecordBatch {
        let records: Vec<Record> =
            (0..count).map(|i| Record::new(i, 0, None, Some(Bytes::from_static(b"v")))).collect();
        batch_of(base, records, producer_id)
    }

    /// 0-1 plain; 2-3 producer 7, aborted at 6; 4-5 producer 8, committed at 7; 8 producer 7
    /// again, still open.
    fn fates() -> BatchFates {
        let log = vec![
            batch(0, 2, None),
            batch(2, 2, Some(7)),
            batch(4, 2, Some(8)),
            marker(6, 7, TransactionResult::Abort),
            marker(7, 8, TransactionResult::Commit),
            batch(8, 1, Some(7)),
        ];
        BatchFates::of(&log)
    }

    #[test]
    fn each_transactional_batch_takes_the_outcome_of_its_own_producers_next_marker() {
        let fates = fates();
        let of = |offsets: core::ops::Range<i64>| offsets.map(|o| fates.fate_of(Offset(o))).collect::<Vec<_>>();
        use RecordFate::*;
        assert_eq!(
            of(0..10),
            [
                NotTransactional,
                NotTransactional,
                Aborted,
                Aborted,
                Committed,
                Committed,
                Control,
                Control,
                Open,
                Missing
            ]
        );
    }

    fn processed(offset: i64) -> ProcessedRecord {
        ProcessedRecord {
            client: ClientName("alice".into()),
            group: "billing".into(),
            partition: TopicPartition::new("orders", 0),
            offset: Offset(offset),
            key: None,
            value: None,
            at_ms: 0,
        }
    }

    /// The log of [`fates`], as a follower holds it (offsets as the leader assigned them).
    fn log() -> PartitionLog {
        let mut log = PartitionLog::new(crate::partition_log::LogConfig::default());
        let batches = vec![
            batch(0, 2, None),
            batch(2, 2, Some(7)),
            batch(4, 2, Some(8)),
            marker(6, 7, TransactionResult::Abort),
            marker(7, 8, TransactionResult::Commit),
            batch(8, 1, Some(7)),
        ];
        log.append_as_follower(0, &batches).unwrap();
        log
    }

    fn judge(offsets: &[i64], reads_committed: bool) -> Result<(), Violation> {
        let log = log();
        let records: Vec<ProcessedRecord> = offsets.iter().map(|&o| processed(o)).collect();
        check(&records, |_| reads_committed, |_| Some(&log))
    }

    #[test]
    fn a_read_committed_consumer_processing_an_aborted_record_is_a_violation() {
        assert_eq!(judge(&[0, 1, 4, 5], true), Ok(()));
        let violation = judge(&[0, 1, 2], true).unwrap_err();
        assert!(matches!(violation, Violation::ReadCommittedProcessedUncommitted { fate: RecordFate::Aborted, .. }));
        assert!(alloc::format!("{violation}").contains("aborted"), "{violation}");
    }

    #[test]
    fn a_read_uncommitted_consumer_may_process_anything_below_the_high_watermark() {
        assert_eq!(judge(&[2, 3, 8], false), Ok(()));
    }

    #[test]
    fn a_record_of_an_open_transaction_or_a_marker_is_a_violation_too() {
        assert!(matches!(
            judge(&[8], true),
            Err(Violation::ReadCommittedProcessedUncommitted { fate: RecordFate::Open, .. })
        ));
        assert!(matches!(
            judge(&[6], true),
            Err(Violation::ReadCommittedProcessedUncommitted { fate: RecordFate::Control, .. })
        ));
    }
}
