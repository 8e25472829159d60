//! The scripted cluster the producer scenarios run against: a [`ClientMetadata`] of one topic,
//! a broker that appends batches and checks idempotent producers' sequences as Kafka's leader
//! does, and a [`Lab`] that carries the producer's requests to the test, which answers each
//! (or fails it, or loses the answer), and fires the producer's timers in order. Shared by
//! `producer_model` and `producer_disconnects`; each uses its part.
#![allow(dead_code)]

use std::collections::BTreeMap;

use bytes::Bytes;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::ids::{BrokerId, Offset, TopicPartition};
use kafkalab_core::message::{CoordinatorType, Message, NodeId};
use kafkalab_core::producer::{
    ClientMetadata, Producer, ProducerConfig, ProducerError, ProducerEvent, ProducerOutput, ProducerRecord,
    ProducerTimer, RecordId, TransactionState,
};
use kafkalab_core::record_batch::RecordBatch;
use kafkalab_core::transaction::protocol::{ProducerIdAndEpoch, TxnRequest, TxnResponse};

/// The metadata: topics with their partition counts, and each partition's leader.
pub struct Cluster {
    pub topics: BTreeMap<String, i32>,
    pub leaders: BTreeMap<TopicPartition, BrokerId>,
}

impl ClientMetadata for Cluster {
    fn partition_count(&self, topic: &str) -> Option<i32> {
        self.topics.get(topic).copied()
    }
    fn leader(&self, partition: &TopicPartition) -> Option<BrokerId> {
        self.leaders.get(partition).copied()
    }
    fn brokers(&self) -> Vec<BrokerId> {
        vec![BrokerId(1), BrokerId(2)]
    }
}

/// Topic `t` with `partitions` partitions, all led by broker 1.
pub fn cluster(partitions: i32) -> Cluster {
    let leaders = (0..partitions).map(|p| (TopicPartition::new("t", p), BrokerId(1))).collect();
    Cluster { topics: BTreeMap::from([("t".to_string(), partitions)]), leaders }
}

/// What the scripted broker does with one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// Append as a broker would (checking sequences) and answer.
    Write,
    /// Answer with this error, writing nothing.
    Error(ErrorCode),
    /// Append, but the answer is lost on the way back.
    WriteButLoseResponse,
}

/// One idempotent producer's state on the broker, per partition (Kafka's `ProducerStateEntry`).
#[derive(Default)]
pub struct ProducerState {
    pub epoch: i16,
    pub last_sequence: i32,
    /// First and last sequence and base offset of the batches written, for duplicates.
    pub batches: Vec<(i32, i32, i64)>,
}

/// The partition logs (one value per record) and producer states of the scripted broker.
#[derive(Default)]
pub struct Broker {
    pub logs: BTreeMap<TopicPartition, Vec<String>>,
    pub producers: BTreeMap<(TopicPartition, i64), ProducerState>,
    pub epochs_handed_out: i16,
}

impl Broker {
    /// Appends the batch as Kafka's leader does: a duplicate of a recent batch gets its
    /// original offset, a gap in sequences OUT_OF_ORDER_SEQUENCE_NUMBER.
    pub fn append(&mut self, partition: &TopicPartition, batch: &RecordBatch) -> Result<Offset, ErrorCode> {
        let producer_id = batch.producer_id();
        let (first, last) = (batch.base_sequence(), batch.last_sequence());
        if producer_id >= 0 {
            let state = self.producers.entry((partition.clone(), producer_id)).or_default();
            if batch.producer_epoch() < state.epoch {
                return Err(ErrorCode::InvalidProducerEpoch);
            }
            let new_epoch = batch.producer_epoch() > state.epoch || state.batches.is_empty();
            if !new_epoch {
                if let Some(&(_, _, offset)) = state.batches.iter().find(|b| (b.0, b.1) == (first, last)) {
                    return Ok(Offset(offset));
                }
            }
            let expected = if new_epoch { 0 } else { state.last_sequence + 1 };
            if first != expected {
                return Err(ErrorCode::OutOfOrderSequenceNumber);
            }
        }
        let log = self.logs.entry(partition.clone()).or_default();
        let base = log.len() as i64;
        for record in batch.records().expect("uncompressed") {
            log.push(String::from_utf8(record.value.unwrap().to_vec()).unwrap());
        }
        if producer_id >= 0 {
            let state = self.producers.get_mut(&(partition.clone(), producer_id)).unwrap();
            if batch.producer_epoch() > state.epoch {
                *state = ProducerState { epoch: batch.producer_epoch(), ..ProducerState::default() };
            }
            state.last_sequence = last;
            state.batches.push((first, last, base));
        }
        Ok(Offset(base))
    }

    pub fn log(&self, partition: i32) -> Vec<&str> {
        self.logs
            .get(&TopicPartition::new("t", partition))
            .map_or(vec![], |log| log.iter().map(String::as_str).collect())
    }
}

/// The producer, the cluster it sees, the scripted broker, the clock and what came out.
pub struct Lab {
    pub now_ms: u64,
    pub producer: Producer,
    pub cluster: Cluster,
    pub broker: Broker,
    /// Due time, order set, timer.
    pub timers: Vec<(u64, u64, ProducerTimer)>,
    pub timers_set: u64,
    /// Produce requests sent and not yet answered by the test: request id -> (to, message).
    pub requests: BTreeMap<u64, (BrokerId, Message)>,
    pub delivered: Vec<(RecordId, TopicPartition, Option<Offset>)>,
    pub failed: Vec<(RecordId, ProducerError)>,
    /// Transactions completed: committed (`true`) or aborted.
    pub transactions: Vec<bool>,
    pub events: Vec<ProducerEvent>,
    /// Every output, in order, for the determinism check.
    pub log: Vec<String>,
    /// Answer InitProducerId at once (otherwise it waits among `requests`).
    pub answer_init_producer_id: bool,
}

impl Lab {
    pub fn new(config: ProducerConfig, cluster: Cluster) -> Lab {
        Lab {
            now_ms: 0,
            producer: Producer::with_seed(config, 7),
            cluster,
            broker: Broker::default(),
            timers: vec![],
            timers_set: 0,
            requests: BTreeMap::new(),
            delivered: vec![],
            failed: vec![],
            transactions: vec![],
            events: vec![],
            log: vec![],
            answer_init_producer_id: true,
        }
    }

    pub fn send(&mut self, partition: Option<i32>, key: Option<&str>, value: &str) -> RecordId {
        let record = ProducerRecord {
            topic: "t".into(),
            partition,
            key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
            value: Some(Bytes::copy_from_slice(value.as_bytes())),
            timestamp_ms: Some(0),
        };
        let id = self.producer.send(self.now_ms, record, &self.cluster).expect("send accepted");
        self.collect();
        id
    }

    /// Takes the producer's outputs: timers to the queue, requests to the test, outcomes noted.
    pub fn collect(&mut self) {
        for output in self.producer.take_outputs() {
            self.log.push(format!("{} {output:?}", self.now_ms));
            match output {
                ProducerOutput::SetTimer { after_ms, timer } => {
                    self.timers_set += 1;
                    self.timers.push((self.now_ms + after_ms, self.timers_set, timer));
                }
                ProducerOutput::Send { to: NodeId::Broker(broker), message } => match &message {
                    Message::Produce { request_id, .. } => {
                        self.requests.insert(*request_id, (broker, message));
                    }
                    Message::Txn { request_id, request } if self.answer_init_producer_id => {
                        self.answer_init_producer_id(broker, *request_id, request);
                    }
                    Message::Txn { request_id, .. }
                    | Message::FindCoordinator { request_id, .. }
                    | Message::Group { request_id, .. } => {
                        self.requests.insert(*request_id, (broker, message));
                    }
                    other => panic!("unexpected request {other:?}"),
                },
                ProducerOutput::Send { to, .. } => panic!("sent to {to:?}"),
                ProducerOutput::Delivered { record, partition, offset } => {
                    self.delivered.push((record, partition, offset))
                }
                ProducerOutput::Failed { record, error, .. } => self.failed.push((record, error)),
                ProducerOutput::Event(event) => self.events.push(event),
                ProducerOutput::TransactionCompleted { committed } => self.transactions.push(committed),
            }
        }
    }

    pub fn answer_init_producer_id(&mut self, broker: BrokerId, request_id: u64, request: &TxnRequest) {
        let TxnRequest::InitProducerId { current, .. } = request else { panic!("{request:?}") };
        let producer = if current.producer_id < 0 {
            ProducerIdAndEpoch { producer_id: 1000, epoch: 0 }
        } else {
            self.broker.epochs_handed_out += 1;
            ProducerIdAndEpoch { producer_id: current.producer_id, epoch: current.epoch + 1 }
        };
        let response = Box::new(TxnResponse::InitProducerId { result: Ok(producer) });
        let message = Message::TxnResponse { request_id, response };
        self.producer.handle_message(self.now_ms, NodeId::Broker(broker), message, &self.cluster);
        self.collect();
    }

    /// Produce requests waiting for an answer, oldest first: (request id, broker, partition,
    /// values, base sequence).
    pub fn pending(&self) -> Vec<(u64, BrokerId, i32, Vec<String>, i32)> {
        self.requests
            .iter()
            .filter_map(|(&id, (broker, message))| match message {
                Message::Produce { partition, batch, .. } => {
                    let values = batch
                        .records()
                        .unwrap()
                        .map(|r| String::from_utf8(r.value.unwrap().to_vec()).unwrap())
                        .collect();
                    Some((id, *broker, partition.partition.0, values, batch.base_sequence()))
                }
                _ => None,
            })
            .collect()
    }

    /// Coordinator requests waiting for an answer, oldest first.
    pub fn pending_coordinator(&self) -> Vec<(u64, BrokerId, Message)> {
        self.requests
            .iter()
            .filter(|(_, (_, message))| !matches!(message, Message::Produce { .. }))
            .map(|(&id, (broker, message))| (id, *broker, message.clone()))
            .collect()
    }

    /// Answers coordinator request `request_id` with `response`.
    pub fn reply(&mut self, request_id: u64, response: Message) {
        let (broker, _) = self.requests.remove(&request_id).expect("a pending request");
        self.producer.handle_message(self.now_ms, NodeId::Broker(broker), response, &self.cluster);
        self.collect();
    }

    pub fn pending_ids(&self) -> Vec<u64> {
        self.pending().into_iter().map(|p| p.0).collect()
    }

    /// The broker handles request `request_id` as `answer` says.
    pub fn answer(&mut self, request_id: u64, answer: Answer) {
        let (broker, message) = self.requests.remove(&request_id).expect("a pending request");
        let Message::Produce { partition, batch, .. } = message else { panic!("not a produce") };
        let result = match answer {
            Answer::Error(error) => Err(error),
            Answer::Write | Answer::WriteButLoseResponse => self.broker.append(&partition, &batch),
        };
        if answer != Answer::WriteButLoseResponse {
            let response = Message::ProduceResponse { request_id, partition, result };
            self.producer.handle_message(self.now_ms, NodeId::Broker(broker), response, &self.cluster);
            self.collect();
        }
    }

    /// The connection to `broker` breaks (it crashed): what it was asked is never answered, and
    /// the producer hears at once.
    pub fn disconnect(&mut self, broker: BrokerId) {
        self.requests.retain(|_, (to, _)| *to != broker);
        self.producer.handle_disconnect(self.now_ms, broker, &self.cluster);
        self.collect();
    }

    /// Writes every pending request, repeatedly, until none is left.
    pub fn write_all(&mut self) {
        while let Some(&id) = self.pending_ids().first() {
            self.answer(id, Answer::Write);
        }
    }

    /// Moves the clock `ms` forward, firing due timers in order.
    pub fn advance(&mut self, ms: u64) {
        let until = self.now_ms + ms;
        loop {
            self.timers.sort_by_key(|t| (t.0, t.1));
            match self.timers.first() {
                Some(&(due, _, _)) if due <= until => {
                    let (due, _, timer) = self.timers.remove(0);
                    self.now_ms = due;
                    self.producer.handle_timer(self.now_ms, timer, &self.cluster);
                    self.collect();
                }
                _ => break,
            }
        }
        self.now_ms = until;
    }

    pub fn flush(&mut self) {
        self.producer.flush(self.now_ms, &self.cluster);
        self.collect();
    }

    pub fn delivered_partition(&self, record: RecordId) -> i32 {
        self.delivered.iter().find(|d| d.0 == record).expect("delivered").1.partition.0
    }
}

/// A transactional producer whose coordinator (broker 2) gave it id 2000, epoch 0.
pub fn transactional_lab() -> Lab {
    let config = ProducerConfig { transactional_id: Some("tx".into()), linger_ms: 0, ..ProducerConfig::default() };
    let mut lab = Lab::new(config, cluster(2));
    lab.answer_init_producer_id = false;
    lab.producer.init_transactions(0, &lab.cluster).unwrap();
    lab.collect();
    let [(find, broker, Message::FindCoordinator { key, key_type: CoordinatorType::Transaction, .. })] =
        &lab.pending_coordinator()[..]
    else {
        panic!("FindCoordinator first: {:?}", lab.pending_coordinator())
    };
    assert_eq!((*broker, key.as_ref()), (BrokerId(1), "tx"));
    lab.reply(*find, Message::FindCoordinatorResponse { request_id: *find, result: Ok(BrokerId(2)) });
    let [(init, BrokerId(2), Message::Txn { request, .. })] = &lab.pending_coordinator()[..] else {
        panic!("InitProducerId to the coordinator: {:?}", lab.pending_coordinator())
    };
    assert!(matches!(**request, TxnRequest::InitProducerId { transactional_id: Some(_), .. }), "{request:?}");
    let producer = ProducerIdAndEpoch { producer_id: 2000, epoch: 0 };
    let response = Box::new(TxnResponse::InitProducerId { result: Ok(producer) });
    lab.reply(*init, Message::TxnResponse { request_id: *init, response });
    assert_eq!(lab.producer.transaction_state(), Some(TransactionState::Ready));
    lab
}

/// Answers the one coordinator request waiting, which must be `name`, with `response`.
pub fn coordinator_answers(lab: &mut Lab, name: &str, response: TxnResponse) {
    let pending = lab.pending_coordinator();
    assert_eq!(pending.iter().map(|p| p.2.name()).collect::<Vec<_>>(), [name]);
    let request_id = pending[0].0;
    lab.reply(request_id, Message::TxnResponse { request_id, response: Box::new(response) });
}
