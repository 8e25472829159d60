//! A client's Fetch over several partitions, held on the broker until it can be answered well:
//! Kafka's long poll (`ReplicaManager.fetchMessages` and `DelayedFetch` in the fetch purgatory).
//!
//! The broker reads every partition at once. It answers at once when the client will not wait
//! (`max_wait_ms` 0), when `min_bytes` are already readable across the partitions, or when a
//! partition fails (not led here, unknown, offset out of range): the client must learn that
//! without delay. Otherwise it holds the fetch, and tries again whenever a partition's high
//! watermark or last stable offset moves, or its leadership leaves this broker; at
//! `max_wait_ms` it answers with whatever there is, empty if need be.
//!
//! Bytes count as Kafka counts them: whole batches below the high watermark (the last stable
//! offset for `read_committed`), within each partition's `max_bytes`.

use alloc::boxed::Box;

use super::consumers::committed_read;
use super::*;
use crate::message::{ClientFetchPartitionResult, ClientFetchRequest};

/// A client's fetch waiting for bytes or its `max_wait_ms`.
#[derive(Clone, Debug)]
pub(super) struct DelayedFetch {
    request: ClientFetchRequest,
}

impl Broker {
    pub(super) fn handle_client_fetch(&mut self, from: NodeId, fetch_id: u64, request: ClientFetchRequest) {
        let results = self.read_client_fetch(&request);
        if request.max_wait_ms == 0 || request.partitions.is_empty() || is_satisfied(&request, &results) {
            self.send(from, Message::ClientFetchResponse { fetch_id, partitions: Box::new(results) });
            return;
        }
        let max_wait_ms = request.max_wait_ms;
        self.delayed_fetches.insert((from, fetch_id), DelayedFetch { request });
        self.set_timer(max_wait_ms, Timer::ClientFetchWaitExpired { from, fetch_id });
    }

    /// Something `partition`'s readers care about changed: answers the held fetches of it that
    /// now have enough bytes or a failed partition.
    pub(super) fn try_complete_delayed_fetches(&mut self, partition: &TopicPartition) {
        let waiting: Vec<(NodeId, u64)> = self
            .delayed_fetches
            .iter()
            .filter(|(_, held)| held.request.partitions.iter().any(|p| &p.partition == partition))
            .map(|(key, _)| *key)
            .collect();
        for (from, fetch_id) in waiting {
            let request = &self.delayed_fetches[&(from, fetch_id)].request;
            let results = self.read_client_fetch(request);
            if is_satisfied(request, &results) {
                self.delayed_fetches.remove(&(from, fetch_id));
                self.send(from, Message::ClientFetchResponse { fetch_id, partitions: Box::new(results) });
            }
        }
    }

    /// A held fetch's `max_wait_ms` is over: answered with what there is (nothing if it was
    /// answered already).
    pub(super) fn handle_client_fetch_expired(&mut self, from: NodeId, fetch_id: u64) {
        let Some(held) = self.delayed_fetches.remove(&(from, fetch_id)) else { return };
        let results = self.read_client_fetch(&held.request);
        self.send(from, Message::ClientFetchResponse { fetch_id, partitions: Box::new(results) });
    }

    /// Reads every partition of the request, in its order, within each partition's and the
    /// response's byte limits (the first partition with records gets at least one batch).
    fn read_client_fetch(&self, request: &ClientFetchRequest) -> Vec<ClientFetchPartitionResult> {
        let mut total_bytes = 0usize;
        request
            .partitions
            .iter()
            .map(|wanted| {
                let partition = wanted.partition.clone();
                let log_start_offset = self.replicas.get(&partition).map_or(Offset(0), |r| r.log.log_start_offset());
                let result = self.consumer_fetch_check(&partition, wanted.fetch_offset).map(|()| {
                    let log = &self.replicas[&partition].log;
                    let room = request.max_bytes.saturating_sub(total_bytes);
                    let mut data =
                        committed_read(log, wanted.fetch_offset, request.isolation, wanted.max_bytes.min(room));
                    if total_bytes > 0 {
                        // Only the first partition with records may go over the response's limit.
                        let mut kept = 0usize;
                        data.batches.retain(|batch| {
                            kept += batch.size_bytes();
                            kept <= room
                        });
                    }
                    total_bytes += data.batches.iter().map(RecordBatch::size_bytes).sum::<usize>();
                    data
                });
                ClientFetchPartitionResult { partition, log_start_offset, result }
            })
            .collect()
    }

    /// Forgets the held fetches: a restarted broker has none.
    pub(super) fn clear_delayed_fetches(&mut self) {
        self.delayed_fetches.clear();
    }
}

/// Whether a fetch can be answered now: a partition failed, or `min_bytes` are readable.
fn is_satisfied(request: &ClientFetchRequest, results: &[ClientFetchPartitionResult]) -> bool {
    let mut readable_bytes = 0usize;
    for result in results {
        match &result.result {
            Err(_) => return true,
            Ok(data) => readable_bytes += data.batches.iter().map(RecordBatch::size_bytes).sum::<usize>(),
        }
    }
    readable_bytes >= request.min_bytes
}
