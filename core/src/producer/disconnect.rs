//! A broken connection: the broker the producer was talking to refused it or reset it (it
//! crashed), so every request in flight on it fails at once, without waiting for
//! `request.timeout.ms` (Kafka's `Sender.handleDisconnection` and the transaction manager's
//! `wasDisconnected` branch).
//!
//! - A Produce fails as a retriable network error and goes back to its queue for another
//!   attempt after its back-off, at whatever leader the metadata names then. Batches keep
//!   Kafka's order on the way back: an idempotent producer's in sequence order (so they go
//!   again one by one, in order, and a batch the dead leader had written is recognised as a
//!   duplicate), a plain producer's each at the front of its queue, oldest first, which puts a
//!   later batch before an earlier one: that, and a write whose answer was lost being written
//!   again, is why a producer without idempotence can reorder and duplicate records.
//! - An idempotent producer's InitProducerId is asked of the next broker after a back-off.
//! - A transactional producer's coordinator request (FindCoordinator, InitProducerId,
//!   AddPartitionsToTxn, AddOffsetsToTxn, TxnOffsetCommit, EndTxn) is put back to go again
//!   after `retry.backoff.ms`; one meant for a coordinator first finds that coordinator again
//!   (`lookupCoordinator`), and a FindCoordinator is asked of the next broker.

use alloc::vec::Vec;

use super::event::{AttemptError, ProducerEvent};
use super::transaction::TxnStep;
use super::{ClientMetadata, InFlight, Producer};
use crate::ids::BrokerId;

impl Producer {
    /// The connection to `broker` broke (refused or reset): the requests in flight to it fail
    /// now and are retried as Kafka's client retries a `NetworkException`. Nothing happens when
    /// none was in flight there.
    pub fn handle_disconnect(&mut self, now_ms: u64, broker: BrokerId, cluster: &impl ClientMetadata) {
        // Oldest first, as Kafka completes a closed connection's requests.
        let failed: Vec<u64> =
            self.in_flight.iter().filter(|(_, sent)| sent.broker() == broker).map(|(&id, _)| id).collect();
        let coordinator_request = self
            .transaction
            .as_ref()
            .and_then(|manager| manager.in_flight.as_ref())
            .filter(|(_, to, _)| *to == broker)
            .map(|(id, _, _)| *id);
        let requests = failed.len() + usize::from(coordinator_request.is_some());
        if requests == 0 {
            return;
        }
        self.event(ProducerEvent::Disconnected { broker, requests });
        for request_id in failed {
            match self.in_flight.remove(&request_id).expect("listed above") {
                InFlight::Produce { batch, .. } => self.failed_attempt(now_ms, batch, AttemptError::Disconnected),
                InFlight::InitProducerId { .. } => self.producer_id_request_failed(request_id),
            }
        }
        if let Some(request_id) = coordinator_request {
            self.txn_request_disconnected(now_ms, request_id);
        }
        self.run(now_ms, cluster);
    }

    /// The coordinator request `request_id` was on the broken connection: find the coordinator
    /// again if it needs one, and send the request again after the back-off.
    fn txn_request_disconnected(&mut self, now_ms: u64, request_id: u64) {
        let manager = self.transaction.as_mut().expect("a coordinator request was in flight");
        let Some((_, _, step)) = manager.in_flight.take().filter(|(id, _, _)| *id == request_id) else {
            return;
        };
        match &step {
            // Ask another broker: Kafka's least loaded node is never one it cannot reach.
            TxnStep::FindCoordinator { .. } => manager.next_broker += 1,
            TxnStep::TxnOffsetCommit { .. } => manager.group_coordinator = None,
            _ => manager.coordinator = None,
        }
        self.txn_backoff(now_ms, step);
    }
}
