//! A broken connection: a broker the consumer talks to refused or reset it (it crashed), so
//! what was in flight on it fails at once instead of after `request.timeout.ms`.
//!
//! - Fetches to it fail; each partition is fetched again after `retry.backoff.ms` from the
//!   leader the metadata names then (Kafka's fetcher fails the node's fetch session and asks
//!   for a metadata update).
//! - A FindCoordinator asked of it fails and is asked again, of the next broker, after the
//!   back-off.
//! - If it was the group coordinator, the coordinator is unknown (`AbstractCoordinator`'s
//!   `markCoordinatorUnknown` on a `DisconnectException`): heartbeats stop, a JoinGroup or
//!   SyncGroup in flight fails and the join starts again once the coordinator is found, a
//!   commitSync in flight is sent again to the new coordinator, an auto commit is reported
//!   failed, and an OffsetFetch is asked again. The member keeps its member id and generation:
//!   the new coordinator loads the group from `__consumer_offsets`, so a stable member goes on
//!   heartbeating and fetching without a rebalance. The coordinator is looked up again after
//!   `retry.backoff.ms`, which stands in for Kafka's reconnect back-off to a dead node (until
//!   the offsets partition has a new leader, FindCoordinator keeps naming the dead broker).

use alloc::vec::Vec;

use super::{Backoff, ClientMetadata, Consumer, ConsumerEvent, Pending};
use crate::ids::BrokerId;

impl Consumer {
    /// The connection to `broker` broke (refused or reset): fetches and group requests in
    /// flight to it fail now, and a lost coordinator is looked for again, as Kafka's consumer
    /// does on a disconnect. Nothing happens when the consumer had no business with it.
    pub fn handle_disconnect(&mut self, now_ms: u64, broker: BrokerId, cluster: &impl ClientMetadata) {
        if !self.is_live() {
            return;
        }
        self.now_ms = now_ms;
        let fetches = self.fetches_disconnected(broker);
        let finds: Vec<u64> = self
            .pending
            .iter()
            .filter(|(_, pending)| matches!(pending, Pending::FindCoordinator { broker: to } if *to == broker))
            .map(|(&request_id, _)| request_id)
            .collect();
        let coordinator = self.membership.coordinator == Some(broker);
        let to_coordinator = |pending: &&Pending| !matches!(pending, Pending::FindCoordinator { .. });
        let group_requests = if coordinator { self.pending.values().filter(to_coordinator).count() } else { 0 };
        let requests = fetches + finds.len() + group_requests;
        if requests > 0 || coordinator {
            self.event(ConsumerEvent::Disconnected { broker, requests });
        }
        for request_id in &finds {
            self.pending.remove(request_id);
        }
        if coordinator {
            self.coordinator_lost();
        }
        if coordinator || !finds.is_empty() {
            self.backoff(Backoff::FindCoordinator);
        }
        self.drive(cluster);
    }
}
