//! The scripted world the consumer model's tests run it in: broker 1, which is both the
//! group's coordinator and the leader of every partition of `orders`, a queue of timed inputs,
//! and the log of everything the consumer output. A test may move the leadership and the
//! coordinator to other brokers (the scripted broker answers for all of them, as if the group
//! and the logs were replicated) and kill brokers, whose connections then break.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use bytes::Bytes;
use kafkalab_core::assignor::consumer_protocol::decode_assignment;
use kafkalab_core::consumer::{
    ApplicationConfig, AutoOffsetReset, ClientMetadata, Consumer, ConsumerConfig, ConsumerEvent, ConsumerOutput,
    ConsumerTimer,
};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::group::protocol::{CommittedOffset, GroupRequest, GroupResponse, JoinedMember, MemberId};
use kafkalab_core::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};
use kafkalab_core::message::{AbortedTransaction, ConsumerFetchData, IsolationLevel, Message, NodeId};
use kafkalab_core::record_batch::{
    encode, BatchAttributes, BatchHeader, Compression, Record, RecordBatch, TimestampType, TransactionMarker,
    TransactionResult,
};

pub const TOPIC: &str = "orders";
/// The leader epoch every test batch carries, so commits can be checked to carry it.
pub const EPOCH: i32 = 3;
/// How long the scripted leader holds a fetch with nothing to return (fetch.max.wait.ms).
pub const FETCH_WAIT_MS: u64 = 500;

pub fn tp(partition: i32) -> TopicPartition {
    TopicPartition::new(TOPIC, partition)
}

/// The metadata: the leader of every partition of `orders`, the group's coordinator (as
/// FindCoordinator answers) and the live brokers; broker 1 is all of them unless a test says
/// otherwise.
pub struct Cluster {
    pub partitions: i32,
    pub leader: BrokerId,
    pub coordinator: BrokerId,
    pub brokers: Vec<BrokerId>,
}

impl ClientMetadata for Cluster {
    fn partition_count(&self, topic: &str) -> Option<i32> {
        (topic == TOPIC).then_some(self.partitions)
    }
    fn leader(&self, _partition: &TopicPartition) -> Option<BrokerId> {
        Some(self.leader)
    }
    fn brokers(&self) -> Vec<BrokerId> {
        self.brokers.clone()
    }
}

/// Broker 1: the group coordinator (one real member, plus scripted members the leader must
/// assign for) and the leader of every partition.
#[derive(Default)]
pub struct Broker {
    pub logs: BTreeMap<TopicPartition, Vec<RecordBatch>>,
    pub aborted: BTreeMap<TopicPartition, Vec<AbortedTransaction>>,
    pub committed: BTreeMap<TopicPartition, (Offset, i32)>,
    pub generation: i32,
    pub members_created: u32,
    pub member: Option<MemberId>,
    /// Other members, as JoinGroup reports them to the leader.
    pub other_members: Vec<JoinedMember>,
    /// Heartbeats answer REBALANCE_IN_PROGRESS until the member rejoins.
    pub rebalance_pending: bool,
    /// The assignments of the latest SyncGroup from the leader.
    pub assignments: BTreeMap<MemberId, Vec<TopicPartition>>,
    /// Every group request, with its arrival time.
    pub requests: Vec<(u64, GroupRequest)>,
    /// Group requests (by name) the broker takes in but never answers.
    pub silent: Vec<&'static str>,
}

impl Broker {
    /// Answers `message`, returning the answer and its delay.
    pub fn handle(&mut self, now_ms: u64, message: Message) -> Option<(u64, Message)> {
        match message {
            Message::FindCoordinator { request_id, .. } => {
                Some((1, Message::FindCoordinatorResponse { request_id, result: Ok(BrokerId(1)) }))
            }
            Message::Group { request_id, request } => {
                self.requests.push((now_ms, (*request).clone()));
                if self.silent.contains(&request.name()) {
                    return None;
                }
                let response = Box::new(self.group(*request));
                Some((1, Message::GroupResponse { request_id, response }))
            }
            Message::ConsumerFetch { fetch_id, partition, fetch_offset, isolation } => {
                Some(self.fetch(fetch_id, partition, fetch_offset, isolation))
            }
            _ => None,
        }
    }

    pub fn group(&mut self, request: GroupRequest) -> GroupResponse {
        match request {
            GroupRequest::JoinGroup { member_id, group_instance_id, protocols, .. } => {
                if member_id.is_empty() && group_instance_id.is_none() {
                    // KIP-394: a new dynamic member first gets its id, then joins with it.
                    self.members_created += 1;
                    return join_answer(Some(ErrorCode::MemberIdRequired), -1, member(self.members_created), vec![]);
                }
                let member_id = if member_id.is_empty() {
                    self.members_created += 1;
                    member(self.members_created)
                } else {
                    member_id
                };
                self.generation += 1;
                self.rebalance_pending = false;
                self.member = Some(member_id.clone());
                let mut members = vec![JoinedMember {
                    member_id: member_id.clone(),
                    group_instance_id,
                    metadata: protocols[0].metadata.clone(),
                }];
                members.extend(self.other_members.iter().cloned());
                let mut answer = join_answer(None, self.generation, member_id, members);
                if let GroupResponse::JoinGroup { protocol_name, .. } = &mut answer {
                    *protocol_name = Some(protocols[0].name.clone());
                }
                answer
            }
            GroupRequest::SyncGroup { generation_id, member_id, assignments, .. } => {
                if generation_id != self.generation {
                    return sync_answer(Some(ErrorCode::IllegalGeneration), Bytes::new());
                }
                let mine = assignments.iter().find(|(m, _)| *m == member_id).map(|(_, bytes)| bytes.clone());
                self.assignments = assignments
                    .into_iter()
                    .map(|(m, bytes)| (m, decode_assignment(&bytes).unwrap().partitions))
                    .collect();
                sync_answer(None, mine.unwrap_or_default())
            }
            GroupRequest::Heartbeat { generation_id, member_id, .. } => {
                let error = if self.member.as_ref() != Some(&member_id) {
                    Some(ErrorCode::UnknownMemberId)
                } else if generation_id != self.generation {
                    Some(ErrorCode::IllegalGeneration)
                } else if self.rebalance_pending {
                    Some(ErrorCode::RebalanceInProgress)
                } else {
                    None
                };
                GroupResponse::Heartbeat { error }
            }
            GroupRequest::LeaveGroup { members, .. } => {
                self.member = None;
                GroupResponse::LeaveGroup { error: None, members: members.into_iter().map(|m| (m, None)).collect() }
            }
            GroupRequest::OffsetCommit { generation_id, member_id, offsets, .. } => {
                let error = if self.member.as_ref() != Some(&member_id) {
                    Some(ErrorCode::UnknownMemberId)
                } else if generation_id != self.generation {
                    Some(ErrorCode::IllegalGeneration)
                } else {
                    None
                };
                let mut results = Vec::new();
                for offset in offsets {
                    if error.is_none() {
                        self.committed.insert(offset.partition.clone(), (offset.offset, offset.leader_epoch));
                    }
                    results.push((offset.partition, error));
                }
                GroupResponse::OffsetCommit { results }
            }
            GroupRequest::OffsetFetch { partitions, .. } => {
                let offsets = partitions
                    .unwrap_or_default()
                    .into_iter()
                    .map(|partition| {
                        let committed = self.committed.get(&partition).copied();
                        CommittedOffset {
                            offset: committed.map(|(offset, _)| offset),
                            leader_epoch: committed.map_or(-1, |(_, epoch)| epoch),
                            partition,
                            metadata: Arc::from(""),
                            error: None,
                        }
                    })
                    .collect();
                GroupResponse::OffsetFetch { error: None, offsets }
            }
            other => panic!("the scripted coordinator does not answer {}", other.name()),
        }
    }

    pub fn fetch(
        &self,
        fetch_id: u64,
        partition: TopicPartition,
        fetch_offset: Offset,
        isolation: IsolationLevel,
    ) -> (u64, Message) {
        let log = self.logs.get(&partition).cloned().unwrap_or_default();
        let end = log.last().map_or(Offset(0), RecordBatch::next_offset);
        let log_start_offset = Offset(0);
        if fetch_offset > end {
            let result = Err(ErrorCode::OffsetOutOfRange);
            return (1, Message::ConsumerFetchResponse { fetch_id, partition, log_start_offset, result });
        }
        let batches: Vec<RecordBatch> = log.into_iter().filter(|batch| batch.next_offset() > fetch_offset).collect();
        let aborted_transactions = match isolation {
            IsolationLevel::ReadCommitted => self.aborted.get(&partition).cloned().unwrap_or_default(),
            IsolationLevel::ReadUncommitted => vec![],
        };
        let delay = if batches.is_empty() { FETCH_WAIT_MS } else { 1 };
        let data = ConsumerFetchData { batches, high_watermark: end, last_stable_offset: end, aborted_transactions };
        (delay, Message::ConsumerFetchResponse { fetch_id, partition, log_start_offset, result: Ok(data) })
    }
}

pub fn member(n: u32) -> MemberId {
    Arc::from(format!("member-{n}"))
}

pub fn join_answer(
    error: Option<ErrorCode>,
    generation_id: i32,
    member_id: MemberId,
    members: Vec<JoinedMember>,
) -> GroupResponse {
    GroupResponse::JoinGroup {
        error,
        generation_id,
        protocol_type: Some(Arc::from("consumer")),
        protocol_name: None,
        leader: if error.is_none() { member_id.clone() } else { Arc::from("") },
        skip_assignment: false,
        member_id,
        members,
    }
}

pub fn sync_answer(error: Option<ErrorCode>, assignment: Bytes) -> GroupResponse {
    GroupResponse::SyncGroup { error, protocol_type: None, protocol_name: None, assignment }
}

/// Plain records `base .. base + count`, values `v<offset>`.
pub fn plain(base: i64, count: i32) -> RecordBatch {
    batch(base, count, None)
}

pub fn batch(base: i64, count: i32, transactional_producer: Option<i64>) -> RecordBatch {
    let records: Vec<Record> =
        (0..count).map(|i| Record::new(i, 0, None, Some(Bytes::from(format!("v{}", base + i64::from(i)))))).collect();
    let mut header = BatchHeader::new(Offset(base), 0).fitted_to(&records);
    header.partition_leader_epoch = LeaderEpoch(EPOCH);
    if let Some(producer_id) = transactional_producer {
        header.producer_id = producer_id;
        header.producer_epoch = 0;
        header.base_sequence = 0;
        header.attributes = BatchAttributes::new(Compression::None, TimestampType::CreateTime).with_transactional(true);
    }
    encode(&header, &records).unwrap()
}

pub fn marker(base: i64, producer_id: i64, result: TransactionResult) -> RecordBatch {
    TransactionMarker { result, coordinator_epoch: 0 }
        .to_batch(Offset(base), 0, LeaderEpoch(EPOCH), producer_id, 0)
        .unwrap()
}

/// What arrives at the consumer at a time.
#[derive(Debug)]
pub enum Input {
    Message {
        from: BrokerId,
        message: Message,
    },
    Timer(ConsumerTimer),
    /// The connection to the broker broke.
    Disconnect(BrokerId),
}

/// The consumer, the broker and a queue of timed inputs between them.
pub struct Harness {
    pub consumer: Consumer,
    pub cluster: Cluster,
    pub broker: Broker,
    pub now_ms: u64,
    pub queue: BTreeMap<(u64, u64), Input>,
    pub sequence: u64,
    /// Every output of every consumer so far, with its time.
    pub log: Vec<(u64, ConsumerOutput)>,
    /// Brokers that crashed: they refuse connections.
    pub down: BTreeSet<BrokerId>,
}

impl Harness {
    pub fn new(partitions: i32, consumer: Consumer) -> Self {
        let mut harness = Harness {
            consumer,
            cluster: Cluster { partitions, leader: BrokerId(1), coordinator: BrokerId(1), brokers: vec![BrokerId(1)] },
            broker: Broker::default(),
            now_ms: 0,
            queue: BTreeMap::new(),
            sequence: 0,
            log: Vec::new(),
            down: BTreeSet::new(),
        };
        for partition in 0..partitions {
            harness.broker.logs.insert(tp(partition), vec![]);
        }
        harness
    }

    pub fn start(&mut self) {
        self.consumer.start(self.now_ms, &self.cluster);
        self.collect();
    }

    /// Runs every input due up to `end_ms`, then sets the clock to `end_ms`.
    pub fn run_until(&mut self, end_ms: u64) {
        while let Some((&(at_ms, sequence), _)) = self.queue.iter().next() {
            if at_ms > end_ms {
                break;
            }
            let input = self.queue.remove(&(at_ms, sequence)).unwrap();
            self.now_ms = at_ms;
            match input {
                Input::Message { from, message } => {
                    self.consumer.handle_message(at_ms, NodeId::Broker(from), message, &self.cluster)
                }
                Input::Timer(timer) => self.consumer.handle_timer(at_ms, timer, &self.cluster),
                Input::Disconnect(broker) => self.consumer.handle_disconnect(at_ms, broker, &self.cluster),
            }
            self.collect();
        }
        self.now_ms = end_ms;
    }

    pub fn close(&mut self) {
        self.consumer.close(self.now_ms);
        self.collect();
    }

    /// A successor takes the crashed consumer's place: the coordinator forgets the dead member
    /// (as its session would expire) and the new one joins.
    pub fn replace_consumer(&mut self, consumer: Consumer) {
        self.queue.clear();
        self.broker.member = None;
        self.consumer = consumer;
        self.start();
    }

    pub fn collect(&mut self) {
        for output in self.consumer.take_outputs() {
            match &output {
                ConsumerOutput::Send { to, message } => {
                    let NodeId::Broker(broker) = *to else { panic!("sent to {to:?}") };
                    if self.down.contains(&broker) {
                        // A dead broker refuses the connection: the consumer hears at once.
                        self.push(self.now_ms, Input::Disconnect(broker));
                    } else if let Some((delay_ms, answer)) = self.broker.handle(self.now_ms, message.clone()) {
                        let message = match answer {
                            Message::FindCoordinatorResponse { request_id, .. } => {
                                Message::FindCoordinatorResponse { request_id, result: Ok(self.cluster.coordinator) }
                            }
                            answer => answer,
                        };
                        self.push(self.now_ms + delay_ms, Input::Message { from: broker, message });
                    }
                }
                ConsumerOutput::SetTimer { after_ms, timer } => {
                    self.push(self.now_ms + after_ms, Input::Timer(timer.clone()));
                }
                _ => {}
            }
            self.log.push((self.now_ms, output));
        }
    }

    /// `broker` crashes: its answers still on the way are lost, its connections are reset (the
    /// consumer hears at once), and new ones are refused.
    pub fn kill(&mut self, broker: BrokerId) {
        self.down.insert(broker);
        self.queue.retain(|_, input| !matches!(input, Input::Message { from, .. } if *from == broker));
        self.consumer.handle_disconnect(self.now_ms, broker, &self.cluster);
        self.collect();
    }

    /// The brokers the consumer sent `name` requests to (a group request's name, or
    /// `ConsumerFetch`, `FindCoordinator`), with the times, from log index `from` on.
    pub fn sent_since(&self, from: usize, name: &str) -> Vec<(u64, BrokerId)> {
        self.log[from..]
            .iter()
            .filter_map(|(at_ms, output)| match output {
                ConsumerOutput::Send { to: NodeId::Broker(broker), message } => {
                    let sent = match message {
                        Message::Group { request, .. } => request.name(),
                        message => message.name(),
                    };
                    (sent == name).then_some((*at_ms, *broker))
                }
                _ => None,
            })
            .collect()
    }

    pub fn push(&mut self, at_ms: u64, input: Input) {
        self.sequence += 1;
        self.queue.insert((at_ms, self.sequence), input);
    }

    /// The offsets processed, in processing order, from log index `from` on.
    pub fn processed_since(&self, from: usize) -> Vec<(i32, i64)> {
        self.log[from..]
            .iter()
            .filter_map(|(_, output)| match output {
                ConsumerOutput::Processed { partition, offset, .. } => Some((partition.partition.0, offset.0)),
                _ => None,
            })
            .collect()
    }

    pub fn processed(&self) -> Vec<(i32, i64)> {
        self.processed_since(0)
    }

    pub fn events(&self) -> Vec<ConsumerEvent> {
        self.log
            .iter()
            .filter_map(|(_, output)| match output {
                ConsumerOutput::Event(event) => Some(event.clone()),
                _ => None,
            })
            .collect()
    }

    /// The group requests of one kind, with their times.
    pub fn requests(&self, name: &str) -> Vec<(u64, GroupRequest)> {
        self.broker.requests.iter().filter(|(_, request)| request.name() == name).cloned().collect()
    }

    /// Where in the log the first output after `from` matching `find` is.
    pub fn position_of(&self, from: usize, find: impl Fn(&ConsumerOutput) -> bool) -> Option<usize> {
        self.log[from..].iter().position(|(_, output)| find(output)).map(|index| from + index)
    }

    pub fn committed(&self, partition: i32) -> Option<i64> {
        self.broker.committed.get(&tp(partition)).map(|(offset, _)| offset.0)
    }
}

pub fn is_group_send(output: &ConsumerOutput, name: &str) -> bool {
    matches!(output, ConsumerOutput::Send { message: Message::Group { request, .. }, .. } if request.name() == name)
}

pub fn config() -> ConsumerConfig {
    ConsumerConfig { auto_offset_reset: AutoOffsetReset::Earliest, ..ConsumerConfig::for_group("g") }
}

pub fn manual(config: ConsumerConfig) -> ConsumerConfig {
    ConsumerConfig { enable_auto_commit: false, ..config }
}

pub fn consumer(config: ConsumerConfig, app: ApplicationConfig) -> Consumer {
    Consumer::new(config, app, vec![Arc::from(TOPIC)])
}
