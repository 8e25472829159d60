//! What the coordinator asks of its driver (the broker that hosts it), queued in order.
//!
//! The coordinator never writes a log, sends a message or reads a clock. It asks the broker to
//! append records to `__transaction_state` ([`TxnOutput::Append`]), to have partition leaders
//! write markers ([`TxnOutput::WriteMarkers`]), to ask the controller for producer ids
//! ([`TxnOutput::RequestProducerIdBlock`]), to answer clients ([`TxnOutput::Respond`]) and to
//! call back later ([`TxnOutput::SetTimer`]); the broker reports back through the
//! coordinator's `append_completed`, `markers_written`, `producer_id_block_granted` and
//! `handle_timer`.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::event::TxnEvent;
use super::protocol::{TransactionalId, TxnMarker, TxnResponse};
use crate::message::NodeId;

/// Names one append the coordinator asked for; the broker hands it back with the result.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AppendToken(pub u64);

/// Names one transaction's markers; the broker hands it back once all are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct MarkerToken(pub u64);

/// A timer the coordinator asked for; the driver hands it back to `handle_timer` at its time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TxnTimer {
    /// `transaction.abort.timed.out.transaction.cleanup.interval.ms` has passed: abort the
    /// transactions open longer than their timeout. Re-armed while any partition is loaded.
    AbortTimedOutTransactions,
    /// `retry.backoff.ms` after a failed write of a transaction's completion: write it again.
    RetryComplete { transactional_id: TransactionalId, coordinator_epoch: i32 },
}

/// One thing the coordinator wants done.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TxnOutput {
    /// Answer request `request_id` of node `to`.
    Respond { to: NodeId, request_id: u64, response: TxnResponse },
    /// Call `handle_timer(timer)` in `after_ms`.
    SetTimer { after_ms: u64, timer: TxnTimer },
    /// Append one record to partition `partition_index` of `__transaction_state`, as the leader
    /// with `acks=all`, and call `append_completed(token, ..)` once it is committed (replicated
    /// to the ISR) or has failed. `value` `None` is a tombstone.
    Append { partition_index: i32, key: Bytes, value: Option<Bytes>, token: AppendToken },
    /// Have the leaders of `marker.partitions` write this commit or abort marker (WriteTxnMarkers)
    /// and call `markers_written(token)` once every partition has it. The broker retries failed
    /// partitions itself, as Kafka's marker channel does.
    WriteMarkers { marker: TxnMarker, token: MarkerToken },
    /// Ask the controller for a block of producer ids (AllocateProducerIds) and call
    /// `producer_id_block_granted` with it. Asked once per block: the broker keeps asking until
    /// the controller grants one.
    RequestProducerIdBlock,
    /// A line for the trace and the page.
    Event(TxnEvent),
}
