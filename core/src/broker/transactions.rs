//! The broker hosting a transaction coordinator, and writing the markers coordinators ask for.
//!
//! The coordinator ([`TransactionCoordinator`]) decides; the broker carries out what it asks:
//! appends to the `__transaction_state` partitions it leads, producer-id blocks from the
//! controller (AllocateProducerIds), and commit or abort markers, sent as WriteTxnMarkers to
//! each partition's leader and sent again every second to the partitions that have not
//! confirmed (Kafka's marker channel retries likewise; a repeated marker is harmless, since it
//! ends no open transaction). As a partition leader it writes the markers it is sent and
//! answers once they are committed; a marker in a `__consumer_offsets` partition also settles
//! the transaction's offsets with the group coordinator.

use alloc::boxed::Box;
use alloc::collections::BTreeSet;

use crate::message::Timer;
use crate::transaction::protocol::{TxnMarker, TxnRequest};
use crate::transaction::{AppendToken, MarkerToken, TransactionCoordinator, TxnConfig, TxnOutput, TxnTimer};

use super::coordination::{AppendOwner, CoordinatorAppend, TRANSACTION_STATE};
use super::*;

/// How long the marker channel waits for a leader's answer before sending again.
const MARKER_RETRY_MS: u64 = 1_000;
/// The pause before asking the controller for producer ids again.
const PRODUCER_ID_RETRY_MS: u64 = 100;

/// Markers the coordinator asked for and not every partition has confirmed.
#[derive(Clone, Debug)]
pub(super) struct MarkerWrite {
    marker: TxnMarker,
    remaining: BTreeSet<TopicPartition>,
}

/// A WriteTxnMarkers this broker is writing as leader, answered once every marker is committed.
#[derive(Clone, Debug)]
pub(super) struct MarkerRequest {
    from: NodeId,
    request_id: u64,
    results: Vec<(i64, TopicPartition, Option<ErrorCode>)>,
    /// Markers appended and not yet committed.
    waiting: usize,
    /// Per marker appended: the offsets partition and transaction to settle once committed.
    settle: Vec<(u64, TopicPartition, i64, bool)>,
}

/// The coordinator's configuration, from the cluster's.
pub(super) fn txn_config(config: &ClusterConfig) -> TxnConfig {
    TxnConfig {
        transaction_state_log_num_partitions: config.transaction_state_log_num_partitions,
        offsets_topic_num_partitions: config.offsets_topic_num_partitions,
        ..TxnConfig::default()
    }
}

impl Broker {
    pub fn transaction_coordinator(&self) -> &TransactionCoordinator {
        &self.txn
    }

    pub(super) fn handle_txn_request(&mut self, now_ms: u64, from: NodeId, request_id: u64, request: TxnRequest) {
        self.txn.handle_request(now_ms, from, request_id, request);
        self.drain_txn_outputs(now_ms);
    }

    pub(super) fn handle_txn_timer(&mut self, now_ms: u64, timer: TxnTimer) {
        self.txn.handle_timer(now_ms, timer);
        self.drain_txn_outputs(now_ms);
    }

    /// Carries out what the coordinator asked, until it asks nothing more.
    pub(super) fn drain_txn_outputs(&mut self, now_ms: u64) {
        loop {
            let outputs = self.txn.take_outputs();
            if outputs.is_empty() {
                return;
            }
            for output in outputs {
                match output {
                    TxnOutput::Respond { to, request_id, response } => {
                        self.send(to, Message::TxnResponse { request_id, response: Box::new(response) })
                    }
                    TxnOutput::SetTimer { after_ms, timer } => self.set_timer(after_ms, Timer::Txn(timer)),
                    TxnOutput::Append { partition_index, key, value, token } => {
                        let partition = TopicPartition::new(TRANSACTION_STATE, partition_index);
                        let owner = AppendOwner::Transaction;
                        let records = alloc::vec![(key, value)];
                        if let Err(error) =
                            self.append_for_coordinator(now_ms, owner, token.0, &partition, records, None)
                        {
                            self.txn.append_completed(now_ms, token, Err(error));
                        }
                    }
                    TxnOutput::WriteMarkers { marker, token } => {
                        let remaining = marker.partitions.iter().cloned().collect();
                        self.marker_writes.insert(token.0, MarkerWrite { marker, remaining });
                        self.send_markers(token.0);
                    }
                    TxnOutput::RequestProducerIdBlock => self.request_producer_ids(),
                    TxnOutput::Event(event) => self.trace(TraceEvent::Transaction { broker: self.id, event }),
                }
            }
        }
    }

    pub(super) fn transaction_append_done(&mut self, now_ms: u64, token: u64, result: Result<(), ErrorCode>) {
        self.txn.append_completed(now_ms, AppendToken(token), result);
        self.drain_txn_outputs(now_ms);
    }

    fn request_producer_ids(&mut self) {
        // Wanted until granted: every retry timer asks again.
        self.producer_ids_wanted = true;
        let Some(broker_epoch) = self.broker_epoch else {
            self.set_timer(PRODUCER_ID_RETRY_MS, Timer::ProducerIdRetry);
            return;
        };
        let controller = self.controller();
        self.send(controller, Message::AllocateProducerIds { broker: self.id, broker_epoch });
        // Asked again unless granted first (the request, its answer or the controller may be lost).
        self.set_timer(self.config.request_timeout_ms.min(1_000), Timer::ProducerIdRetry);
    }

    pub(super) fn handle_producer_id_retry(&mut self) {
        if self.producer_ids_wanted {
            self.request_producer_ids();
        }
    }

    pub(super) fn handle_allocated_producer_ids(&mut self, now_ms: u64, result: Result<(i64, i64), ErrorCode>) {
        match result {
            Ok((first, count)) if self.producer_ids_wanted => {
                self.producer_ids_wanted = false;
                self.txn.producer_id_block_granted(now_ms, first, count);
                self.drain_txn_outputs(now_ms);
            }
            Ok(_) => {} // a late answer to a request asked again: that block goes unused
            Err(_) => self.set_timer(PRODUCER_ID_RETRY_MS, Timer::ProducerIdRetry),
        }
    }

    /// Sends the markers still unconfirmed to their partitions' leaders, one request per
    /// leader, and sets the timer to send again.
    fn send_markers(&mut self, token: u64) {
        let Some(write) = self.marker_writes.get(&token) else { return };
        let mut by_leader: BTreeMap<BrokerId, Vec<TopicPartition>> = BTreeMap::new();
        for partition in &write.remaining {
            if let Some(leader) = self.image.partitions.get(partition).and_then(|s| s.leader) {
                by_leader.entry(leader).or_default().push(partition.clone());
            }
        }
        let marker = write.marker.clone();
        for (leader, partitions) in by_leader {
            let markers = alloc::vec![TxnMarker { partitions, ..marker.clone() }];
            self.send(
                NodeId::Broker(leader),
                Message::WriteTxnMarkers { request_id: token, markers: Box::new(markers) },
            );
        }
        self.set_timer(MARKER_RETRY_MS, Timer::MarkerRetry { token });
    }

    pub(super) fn handle_marker_retry(&mut self, token: u64) {
        self.send_markers(token);
    }

    pub(super) fn handle_write_txn_markers_response(
        &mut self,
        now_ms: u64,
        token: u64,
        results: Vec<(i64, TopicPartition, Option<ErrorCode>)>,
    ) {
        let Some(write) = self.marker_writes.get_mut(&token) else { return };
        for (_, partition, error) in results {
            if error.is_none() {
                write.remaining.remove(&partition);
            }
        }
        if write.remaining.is_empty() {
            self.marker_writes.remove(&token);
            self.txn.markers_written(now_ms, MarkerToken(token));
            self.drain_txn_outputs(now_ms);
        }
    }

    /// As a partition leader: writes each marker, answering once all are committed.
    pub(super) fn handle_write_txn_markers(
        &mut self,
        now_ms: u64,
        from: NodeId,
        request_id: u64,
        markers: Vec<TxnMarker>,
    ) {
        let key = self.next_fetch_id;
        self.next_fetch_id += 1;
        let mut request = MarkerRequest { from, request_id, results: Vec::new(), waiting: 0, settle: Vec::new() };
        for marker in markers {
            let producer = marker.producer;
            for partition in marker.partitions {
                let outcome = match self.replicas.get_mut(&partition) {
                    None => Err(ErrorCode::UnknownTopicOrPartition),
                    Some(Replica { role: Role::Follower(_), .. }) => Err(ErrorCode::NotLeaderOrFollower),
                    Some(Replica { log, role: Role::Leader(leadership), .. }) => log
                        .append_marker_as_leader(
                            leadership.leader_epoch,
                            now_ms,
                            producer.producer_id,
                            producer.epoch,
                            marker.committed,
                            marker.coordinator_epoch,
                        )
                        .inspect(|&offset| {
                            let append =
                                CoordinatorAppend { owner: AppendOwner::Marker, token: key, last_offset: offset };
                            leadership.coordinator_appends.push(append);
                        })
                        .map_err(|e| e.error_code()),
                };
                match outcome {
                    Ok(offset) => {
                        request.waiting += 1;
                        request.settle.push((key, partition.clone(), producer.producer_id, marker.committed));
                        request.results.push((producer.producer_id, partition.clone(), None));
                        self.trace(TraceEvent::Appended { broker: self.id, partition: partition.clone(), offset });
                        self.answer_parked_fetch(&partition, |_| true);
                        self.advance_high_watermark(&partition);
                    }
                    Err(error) => request.results.push((producer.producer_id, partition, Some(error))),
                }
            }
        }
        self.marker_requests.insert(key, request);
        self.maybe_answer_markers(now_ms, key);
    }

    /// One of a WriteTxnMarkers' markers was committed, or could not be.
    pub(super) fn marker_append_done(&mut self, now_ms: u64, key: u64, result: Result<(), ErrorCode>) {
        let Some(request) = self.marker_requests.get_mut(&key) else { return };
        request.waiting = request.waiting.saturating_sub(1);
        if let Err(error) = result {
            // Which partition failed is not known here: report every one, so all are sent again.
            for (_, _, slot) in &mut request.results {
                slot.get_or_insert(error);
            }
        }
        self.maybe_answer_markers(now_ms, key);
    }

    fn maybe_answer_markers(&mut self, now_ms: u64, key: u64) {
        if self.marker_requests.get(&key).is_none_or(|r| r.waiting > 0) {
            return;
        }
        let request = self.marker_requests.remove(&key).expect("checked above");
        for (_, partition, producer_id, committed) in &request.settle {
            if partition.topic.as_ref() == super::coordination::CONSUMER_OFFSETS
                && request.results.iter().any(|(_, p, e)| p == partition && e.is_none())
            {
                self.settle_offsets_transaction(now_ms, partition.partition.0, *producer_id, *committed);
            }
        }
        let results = Box::new(request.results);
        self.send(request.from, Message::WriteTxnMarkersResponse { request_id: request.request_id, results });
    }

    /// Takes up or gives up coordinating a `__transaction_state` partition with its leadership.
    pub(super) fn transaction_partition_led(&mut self, now_ms: u64, partition: &TopicPartition, leading: bool) {
        if partition.topic.as_ref() != TRANSACTION_STATE {
            return;
        }
        let index = partition.partition.0;
        if leading {
            let replica = &self.replicas[partition];
            let records = coordinator_records(&replica.log);
            let epoch = replica.leader_epoch().0;
            self.txn.load_partition(now_ms, index, epoch, records);
        } else {
            self.txn.unload_partition(index);
        }
        self.drain_txn_outputs(now_ms);
    }
}

/// The key and value of every data record in a log, in offset order: what a coordinator replays
/// to rebuild its state.
pub(super) fn coordinator_records(log: &PartitionLog) -> Vec<(bytes::Bytes, Option<bytes::Bytes>)> {
    log.records()
        .filter(|record| !record.is_control)
        .filter_map(|record| record.key.map(|key| (key, record.value)))
        .collect()
}
