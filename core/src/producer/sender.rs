//! The sender (Kafka's `Sender`): after every input it expires batches past
//! `delivery.timeout.ms`, gets the idempotent producer its id, drains sendable batches to
//! their leaders within the in-flight limits, and settles the answers: acknowledged, retried
//! after a back-off, or failed.

use alloc::boxed::Box;

use super::batch::ProducerBatch;
use super::event::{AttemptError, ProducerError, ProducerEvent, ProducerOutput, ProducerTimer};
use super::idempotence::increment_sequence;
use super::retry::{backoff_ms, is_fencing, is_retriable};
use super::{ClientMetadata, InFlight, Producer};
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, Offset, TopicPartition};
use crate::message::{Acks, Message, NodeId};
use crate::transaction::protocol::{ProducerIdAndEpoch, TxnRequest, TxnResponse};

impl Producer {
    /// One pass of the sender loop (Kafka's `Sender.runOnce`).
    pub(super) fn run(&mut self, now_ms: u64, cluster: &impl ClientMetadata) {
        if self.fatal.is_some() {
            return;
        }
        self.expire_batches(now_ms);
        self.maybe_request_producer_id(now_ms, cluster);
        self.maybe_send_txn_request(now_ms, cluster);
        let mut waiting_for_metadata = false;
        for partition in self.accumulator.partitions() {
            waiting_for_metadata |= self.drain_partition(now_ms, &partition, cluster);
        }
        if waiting_for_metadata && !self.retry_timer_set {
            self.retry_timer_set = true;
            self.set_timer(self.config.retry_backoff_ms, ProducerTimer::Retry);
        }
    }

    /// Sends the partition's sendable batches, in queue order, while nothing stops them.
    /// Returns true when a sendable batch waits for the partition to get a leader.
    fn drain_partition(&mut self, now_ms: u64, partition: &TopicPartition, cluster: &impl ClientMetadata) -> bool {
        loop {
            let Some(head) = self.accumulator.head(partition) else { return false };
            let flushing = head.id < self.flush_below;
            if !self.accumulator.head_sendable(partition, now_ms, self.config.linger_ms, flushing) {
                return false;
            }
            let Some(leader) = cluster.leader(partition) else { return true };
            if self.in_flight_to(leader) >= self.config.max_in_flight_requests_per_connection as usize {
                return false;
            }
            // With one request in flight per connection Kafka mutes the partition while its
            // batch is out (`guaranteeMessageOrder`), which holds even across a leader change.
            if self.config.max_in_flight_requests_per_connection == 1 && self.partition_in_flight(partition) {
                return false;
            }
            let head_sequence = head.base_sequence;
            if let Some(idempotence) = &self.idempotence {
                if idempotence.producer().is_none() || !idempotence.may_drain(partition, head_sequence) {
                    return false;
                }
            }
            if self.transaction.as_ref().is_some_and(|manager| !manager.send_allowed(partition)) {
                return false;
            }
            let batch = self.accumulator.pop_head(partition).expect("the head was just seen");
            self.send_batch(now_ms, leader, batch);
        }
    }

    fn partition_in_flight(&self, partition: &TopicPartition) -> bool {
        self.in_flight
            .values()
            .any(|sent| matches!(sent, InFlight::Produce { batch, .. } if &batch.partition == partition))
    }

    /// Numbers the batch on its first send (idempotent producer) and sends it to `leader`.
    fn send_batch(&mut self, now_ms: u64, leader: BrokerId, mut batch: ProducerBatch) {
        batch.transactional = self.transaction.is_some();
        if let Some(idempotence) = &mut self.idempotence {
            if batch.base_sequence.is_none() {
                batch.producer = idempotence.producer();
                batch.base_sequence = Some(idempotence.assign_sequence(&batch.partition, batch.records.len() as i32));
            }
            idempotence.sent(&batch.partition, batch.base_sequence.expect("numbered above"));
        }
        let request_id = self.next_request_id();
        let encoded = batch.encode(self.config.compression_type);
        self.event(ProducerEvent::BatchSent {
            batch: batch.id,
            partition: batch.partition.clone(),
            broker: leader,
            request_id,
            records: batch.records.len(),
            size_bytes: encoded.size_bytes(),
            compression: encoded.compression(),
            attempt: batch.retries + 1,
            base_sequence: batch.base_sequence,
        });
        let message =
            Message::Produce { request_id, partition: batch.partition.clone(), batch: encoded, acks: self.config.acks };
        self.outputs.push(ProducerOutput::Send { to: NodeId::Broker(leader), message });
        if self.config.acks == Acks::None {
            // acks=0: no answer comes; the records count as sent, with no offset (Kafka's -1).
            self.complete(batch, None);
            return;
        }
        self.in_flight.insert(request_id, InFlight::Produce { broker: leader, batch, sent_ms: now_ms });
        self.set_timer(self.config.request_timeout_ms, ProducerTimer::RequestTimeout { request_id });
    }

    /// A ProduceResponse: acknowledged, duplicate (also acknowledged), or an error.
    pub(super) fn produce_response(
        &mut self,
        now_ms: u64,
        request_id: u64,
        partition: TopicPartition,
        result: Result<Offset, ErrorCode>,
    ) {
        let Some(InFlight::Produce { batch, .. }) = self.in_flight.remove(&request_id) else {
            // Already timed out (Kafka would have dropped the connection), or not ours.
            return;
        };
        debug_assert_eq!(batch.partition, partition, "a response names the partition it answers for");
        match result {
            Ok(base_offset) => self.complete(batch, Some(base_offset)),
            Err(error) => self.failed_attempt(now_ms, batch, AttemptError::Broker(error)),
        }
    }

    /// The batch is written: each record's offset is the base offset plus its index.
    fn complete(&mut self, batch: ProducerBatch, base_offset: Option<Offset>) {
        if let (Some(idempotence), Some(base)) = (&mut self.idempotence, batch.base_sequence) {
            let last = increment_sequence(base, batch.records.len() as i32 - 1);
            idempotence.acknowledged(&batch.partition, base, last);
        }
        self.event(ProducerEvent::BatchAcknowledged {
            batch: batch.id,
            partition: batch.partition.clone(),
            base_offset,
        });
        for (index, record) in batch.records.iter().enumerate() {
            let offset = base_offset.map(|base| Offset(base.0 + index as i64));
            self.outputs.push(ProducerOutput::Delivered {
                record: record.id,
                partition: batch.partition.clone(),
                offset,
            });
        }
    }

    /// An attempt failed with `error`: retry if Kafka would (`Sender.canRetry`), else settle.
    /// A broken connection is retriable like any network error (Kafka's `NetworkException`).
    pub(super) fn failed_attempt(&mut self, now_ms: u64, mut batch: ProducerBatch, error: AttemptError) {
        let code = error.code();
        if let Some(code) = code.filter(|&code| is_fencing(code)) {
            let error = ProducerError::Fenced(code);
            self.event(ProducerEvent::BatchFailed { batch: batch.id, partition: batch.partition.clone(), error });
            self.fail_records(&batch, error);
            self.fence(error);
            return;
        }
        let idempotent_sequence = self.idempotence.as_ref().and(batch.base_sequence);
        if code == Some(ErrorCode::DuplicateSequenceNumber) && idempotent_sequence.is_some() {
            // The broker already has this batch: it was written by an earlier attempt.
            self.complete(batch, None);
            return;
        }
        let out_of_order = code == Some(ErrorCode::OutOfOrderSequenceNumber) && idempotent_sequence.is_some();
        let retriable = code.is_none_or(is_retriable) || out_of_order;
        let in_time = batch.age_ms(now_ms) < self.config.delivery_timeout_ms;
        if batch.retries < self.config.retries && in_time && retriable {
            if let (true, Some(idempotence), Some(sequence)) =
                (out_of_order, &mut self.idempotence, idempotent_sequence)
            {
                // The broker lacks the batch it should be expecting before this one: its
                // sequence is lost, so bump the epoch (KIP-360). A batch behind a failed one
                // simply waits its turn.
                if idempotence.is_next_sequence(&batch.partition, sequence) {
                    idempotence.bump_needed();
                }
            }
            batch.retries += 1;
            let backoff = backoff_ms(
                batch.retries,
                self.config.retry_backoff_ms,
                self.config.retry_backoff_max_ms,
                &mut self.rng,
            );
            batch.retry_at_ms = Some(now_ms + backoff);
            let partition = batch.partition.clone();
            self.event(ProducerEvent::BatchRetrying { batch: batch.id, partition, error, backoff_ms: backoff });
            self.set_timer(backoff, ProducerTimer::RetryBackoff { batch: batch.id });
            self.accumulator.reenqueue(batch);
            return;
        }
        let error = if in_time { error.as_producer_error() } else { ProducerError::DeliveryTimeout };
        self.fail_batch(batch, error);
    }

    /// The batch's records fail with `error`; an idempotent batch's sequence is lost, and a
    /// transaction can then only be aborted.
    fn fail_batch(&mut self, batch: ProducerBatch, error: ProducerError) {
        if let (Some(idempotence), Some(sequence)) = (&mut self.idempotence, batch.base_sequence) {
            idempotence.lost(&batch.partition, sequence);
        }
        self.transaction_failed(error);
        self.event(ProducerEvent::BatchFailed { batch: batch.id, partition: batch.partition.clone(), error });
        self.fail_records(&batch, error);
    }

    /// A batch of the transaction failed: it can only be aborted now.
    fn transaction_failed(&mut self, error: ProducerError) {
        if let Some(manager) = &mut self.transaction {
            let before = manager.state;
            manager.abortable_error(error);
            let state = manager.state;
            if state != before {
                self.event(ProducerEvent::TransactionState { state });
            }
        }
    }

    pub(super) fn fail_records(&mut self, batch: &ProducerBatch, error: ProducerError) {
        for record in &batch.records {
            self.outputs.push(ProducerOutput::Failed { record: record.id, partition: batch.partition.clone(), error });
        }
    }

    /// Batches waiting past `delivery.timeout.ms` fail (Kafka's `expiredBatches`). A batch in
    /// flight is settled by its answer or its request timeout, which `validate` keeps within
    /// the delivery timeout's reach.
    fn expire_batches(&mut self, now_ms: u64) {
        for batch in self.accumulator.expire(now_ms, self.config.delivery_timeout_ms) {
            let records = batch.records.len();
            self.event(ProducerEvent::BatchExpired { batch: batch.id, partition: batch.partition.clone(), records });
            if let (Some(idempotence), Some(sequence)) = (&mut self.idempotence, batch.base_sequence) {
                idempotence.lost(&batch.partition, sequence);
            }
            self.fail_records(&batch, ProducerError::DeliveryTimeout);
            self.transaction_failed(ProducerError::DeliveryTimeout);
        }
    }

    /// `request.timeout.ms` passed without an answer: the attempt failed with REQUEST_TIMED_OUT.
    pub(super) fn request_timed_out(&mut self, now_ms: u64, request_id: u64) {
        let Some(sent) = self.in_flight.remove(&request_id) else {
            self.txn_request_timed_out(now_ms, request_id);
            return;
        };
        self.event(ProducerEvent::RequestTimedOut { request_id, broker: sent.broker() });
        match sent {
            InFlight::Produce { batch, .. } => {
                self.failed_attempt(now_ms, batch, AttemptError::Broker(ErrorCode::RequestTimedOut))
            }
            InFlight::InitProducerId { .. } => self.producer_id_request_failed(request_id),
        }
    }

    /// Asks a broker for a producer id, or for an epoch bump once nothing is in flight.
    fn maybe_request_producer_id(&mut self, now_ms: u64, cluster: &impl ClientMetadata) {
        let nothing_in_flight = self.in_flight.is_empty();
        let Some(idempotence) = &self.idempotence else { return };
        // A transactional producer gets its id from its transaction coordinator.
        if self.transaction.is_some() || !idempotence.wants_producer_id(nothing_in_flight) {
            return;
        }
        let request_id = self.next_request_id();
        let brokers = cluster.brokers();
        let idempotence = self.idempotence.as_mut().expect("checked above");
        let Some((broker, current)) = idempotence.request_sent(request_id, &brokers) else {
            if !self.retry_timer_set {
                self.retry_timer_set = true;
                self.set_timer(self.config.retry_backoff_ms, ProducerTimer::Retry);
            }
            return;
        };
        self.event(ProducerEvent::ProducerIdRequested { broker, current });
        let request = TxnRequest::InitProducerId {
            transactional_id: None,
            transaction_timeout_ms: self.config.transaction_timeout_ms,
            current,
        };
        let message = Message::Txn { request_id, request: Box::new(request) };
        self.outputs.push(ProducerOutput::Send { to: NodeId::Broker(broker), message });
        self.in_flight.insert(request_id, InFlight::InitProducerId { broker, sent_ms: now_ms });
        self.set_timer(self.config.request_timeout_ms, ProducerTimer::RequestTimeout { request_id });
    }

    /// The answer to InitProducerId: the id and epoch, or an error to try another broker after.
    pub(super) fn init_producer_id_response(
        &mut self,
        _now_ms: u64,
        from: NodeId,
        request_id: u64,
        response: TxnResponse,
    ) {
        let TxnResponse::InitProducerId { result } = response else {
            debug_assert!(
                false,
                "the idempotent producer only sends InitProducerId, got {} from {from:?}",
                response.name()
            );
            return;
        };
        if !self.idempotence.as_ref().is_some_and(|idempotence| idempotence.is_request(request_id)) {
            return;
        }
        self.in_flight.remove(&request_id);
        match result {
            Ok(producer) => self.producer_id_assigned(producer),
            Err(error) if is_fencing(error) => self.fence(ProducerError::Fenced(error)),
            Err(_) => self.producer_id_request_failed(request_id),
        }
    }

    /// A producer id and epoch arrived. Batches waiting to be retried keep their order under
    /// the new epoch, numbered again from 0 (Kafka's `startSequencesAtBeginning`).
    pub(super) fn producer_id_assigned(&mut self, producer: ProducerIdAndEpoch) {
        let Some(idempotence) = self.idempotence.as_mut() else { return };
        idempotence.assigned(producer);
        for batch in self.accumulator.batches_mut() {
            if batch.base_sequence.is_some() {
                batch.producer = Some(producer);
                batch.base_sequence = Some(idempotence.assign_sequence(&batch.partition, batch.records.len() as i32));
            }
        }
        self.event(ProducerEvent::ProducerIdAssigned { producer });
    }

    pub(super) fn producer_id_request_failed(&mut self, request_id: u64) {
        let Some(idempotence) = &mut self.idempotence else { return };
        if idempotence.request_failed(request_id) {
            self.retry_timer_set = true;
            self.set_timer(self.config.retry_backoff_ms, ProducerTimer::Retry);
        }
    }
}
