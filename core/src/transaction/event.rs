//! What the coordinator did, one short plain line each, for the trace and the page.
//!
//! Legend: `producer id` (an id and epoch handed out), `epoch bump` (a transactional id's
//! producer moved to a new epoch, fencing the old one), `fenced` (a request from an old epoch
//! refused), `begin` / `add` (a transaction started or grew), `prepare commit` / `prepare abort`
//! (the decision is written: the transaction will end this way), `markers` (every partition has
//! its marker), `complete` (the end is written), `timed out` (the coordinator aborts it),
//! `load` / `unload` (a partition of `__transaction_state` gained or lost).

use alloc::sync::Arc;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::protocol::{ProducerIdAndEpoch, TransactionalId};
use crate::error_code::ErrorCode;

/// One thing worth a line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnEvent {
    /// An id handed out: to an idempotent producer (`transactional_id` none) or a new
    /// transactional one.
    ProducerIdGiven {
        transactional_id: Option<TransactionalId>,
        producer: ProducerIdAndEpoch,
    },
    /// InitProducerId moved a transactional id to a new epoch (or producer id): the previous
    /// instance is fenced.
    EpochBumped {
        transactional_id: TransactionalId,
        previous: ProducerIdAndEpoch,
        producer: ProducerIdAndEpoch,
    },
    /// A request from an old epoch was refused with PRODUCER_FENCED.
    Fenced {
        transactional_id: TransactionalId,
        producer: ProducerIdAndEpoch,
        request: Arc<str>,
    },
    TransactionBegan {
        transactional_id: TransactionalId,
        producer: ProducerIdAndEpoch,
        partitions: usize,
    },
    PartitionsAdded {
        transactional_id: TransactionalId,
        partitions: usize,
    },
    /// PrepareCommit or PrepareAbort is written: the outcome is decided.
    Preparing {
        transactional_id: TransactionalId,
        committed: bool,
        partitions: usize,
    },
    MarkersWritten {
        transactional_id: TransactionalId,
        committed: bool,
    },
    Completed {
        transactional_id: TransactionalId,
        committed: bool,
    },
    /// Open longer than its timeout: the coordinator bumps the epoch and aborts it.
    TimedOut {
        transactional_id: TransactionalId,
        producer: ProducerIdAndEpoch,
        open_ms: u64,
    },
    /// A write to `__transaction_state` failed; the state is back to what it was.
    AppendFailed {
        transactional_id: TransactionalId,
        error: ErrorCode,
    },
    ProducerIdBlockRequested,
    ProducerIdBlockGranted {
        first: i64,
        len: i64,
    },
    /// A block that would repeat ids (or hold none) was ignored.
    ProducerIdBlockRefused {
        first: i64,
        len: i64,
    },
    PartitionLoaded {
        partition_index: i32,
        coordinator_epoch: i32,
        transactional_ids: usize,
    },
    PartitionUnloaded {
        partition_index: i32,
    },
    /// A record of the partition could not be read and was skipped.
    RecordSkipped {
        partition_index: i32,
        reason: Arc<str>,
    },
}

fn outcome(committed: bool) -> &'static str {
    if committed {
        "commit"
    } else {
        "abort"
    }
}

impl fmt::Display for TxnEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TxnEvent::ProducerIdGiven { transactional_id: None, producer } => {
                write!(f, "producer id {} epoch {} (idempotent)", producer.producer_id, producer.epoch)
            }
            TxnEvent::ProducerIdGiven { transactional_id: Some(id), producer } => {
                write!(f, "producer id {} epoch {} for {id}", producer.producer_id, producer.epoch)
            }
            TxnEvent::EpochBumped { transactional_id, previous, producer } => write!(
                f,
                "epoch bump {transactional_id}: producer {} epoch {} -> producer {} epoch {}",
                previous.producer_id, previous.epoch, producer.producer_id, producer.epoch
            ),
            TxnEvent::Fenced { transactional_id, producer, request } => {
                write!(f, "fenced {request} of {transactional_id} at old epoch {}", producer.epoch)
            }
            TxnEvent::TransactionBegan { transactional_id, producer, partitions } => write!(
                f,
                "begin {transactional_id} (producer {} epoch {}) with {partitions} partitions",
                producer.producer_id, producer.epoch
            ),
            TxnEvent::PartitionsAdded { transactional_id, partitions } => {
                write!(f, "add {transactional_id}: now {partitions} partitions")
            }
            TxnEvent::Preparing { transactional_id, committed, partitions } => {
                write!(f, "prepare {} {transactional_id}: markers to {partitions} partitions", outcome(*committed))
            }
            TxnEvent::MarkersWritten { transactional_id, committed } => {
                write!(f, "markers {} {transactional_id} written", outcome(*committed))
            }
            TxnEvent::Completed { transactional_id, committed } => {
                write!(f, "complete {} {transactional_id}", outcome(*committed))
            }
            TxnEvent::TimedOut { transactional_id, producer, open_ms } => {
                write!(f, "timed out {transactional_id} after {open_ms} ms: abort at epoch {}", producer.epoch)
            }
            TxnEvent::AppendFailed { transactional_id, error } => {
                write!(f, "append for {transactional_id} failed: {}", error.name())
            }
            TxnEvent::ProducerIdBlockRequested => write!(f, "producer id block requested"),
            TxnEvent::ProducerIdBlockGranted { first, len } => {
                write!(f, "producer id block {first}..{} granted", first.saturating_add(*len) - 1)
            }
            TxnEvent::ProducerIdBlockRefused { first, len } => {
                write!(f, "producer id block from {first} ({len} ids) refused: repeats ids")
            }
            TxnEvent::PartitionLoaded { partition_index, coordinator_epoch, transactional_ids } => write!(
                f,
                "load __transaction_state/{partition_index} at epoch {coordinator_epoch}: {transactional_ids} ids"
            ),
            TxnEvent::PartitionUnloaded { partition_index } => {
                write!(f, "unload __transaction_state/{partition_index}")
            }
            TxnEvent::RecordSkipped { partition_index, reason } => {
                write!(f, "skipped a record of __transaction_state/{partition_index}: {reason}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn every_event_prints_one_short_plain_line() {
        let id: TransactionalId = Arc::from("my-txn");
        let producer = ProducerIdAndEpoch { producer_id: 1000, epoch: 3 };
        let events = [
            (TxnEvent::ProducerIdGiven { transactional_id: None, producer }, "producer id 1000 epoch 3 (idempotent)"),
            (
                TxnEvent::EpochBumped {
                    transactional_id: Arc::clone(&id),
                    previous: ProducerIdAndEpoch { producer_id: 1000, epoch: 2 },
                    producer,
                },
                "epoch bump my-txn: producer 1000 epoch 2 -> producer 1000 epoch 3",
            ),
            (
                TxnEvent::Preparing { transactional_id: Arc::clone(&id), committed: true, partitions: 2 },
                "prepare commit my-txn: markers to 2 partitions",
            ),
            (
                TxnEvent::TimedOut { transactional_id: Arc::clone(&id), producer, open_ms: 70_000 },
                "timed out my-txn after 70000 ms: abort at epoch 3",
            ),
            (TxnEvent::ProducerIdBlockGranted { first: 0, len: 1000 }, "producer id block 0..999 granted"),
        ];
        for (event, line) in events {
            assert_eq!(event.to_string(), line);
        }
    }
}
