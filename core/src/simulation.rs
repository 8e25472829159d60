//! The simulator: brokers, the controller and a producer on a simulated network, run by a
//! logical clock and an event queue.
//!
//! Every event (a message arriving, a timer firing) sits in one queue ordered by time and then
//! by the order it was scheduled, and every random choice (network latency) comes from the
//! run's seeded [`Rng`]. So the same seed and the same commands give the same run, event for
//! event, which is what lets the page rewind by replaying and a URL reproduce a run.
//!
//! Driving it: [`Simulation::apply`] a [`Command`], then [`Simulation::advance`] time (or
//! [`Simulation::step`] one event); read [`Simulation::view`] and [`Simulation::trace`].

use alloc::collections::{BTreeMap, BinaryHeap};
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use bytes::Bytes;
use core::cmp::{Ordering, Reverse};
use core::fmt;

use crate::broker::Broker;
use crate::command::Command;
use crate::config::{ClusterConfig, ConfigError};
use crate::controller::Controller;
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, Offset, TopicPartition};
use crate::invariants::{self, Invariants};
use crate::message::{Acks, AdminRequest, Message, NodeId, Output, Timer};
use crate::network::{Fate, FaultModel};
use crate::oracle::{self, AcknowledgedWrite};
use crate::partition_log::single_record_batch;
use crate::partitioner::partition_for_key;
use crate::rng::Rng;
use crate::trace::{DropReason, TraceEvent, TraceLine};
use crate::view::{BrokerStatus, BrokerView, ClusterView, PartitionView, ReplicaView};

/// A command that cannot be carried out in the run's current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    UnknownBroker(BrokerId),
    AlreadyDead(BrokerId),
    AlreadyAlive(BrokerId),
    UnknownTopic(String),
    UnknownPartition(TopicPartition),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnknownBroker(b) => write!(f, "there is no broker {b}"),
            CommandError::AlreadyDead(b) => write!(f, "broker {b} is already down"),
            CommandError::AlreadyAlive(b) => write!(f, "broker {b} is already running"),
            CommandError::UnknownTopic(t) => write!(f, "there is no topic {t:?}"),
            CommandError::UnknownPartition(p) => write!(f, "there is no partition {p}"),
        }
    }
}

#[derive(Clone, Debug)]
enum Event {
    Deliver { from: NodeId, to: NodeId, message: Message },
    Timer { node: NodeId, incarnation: u32, timer: Timer },
}

#[derive(Clone, Debug)]
struct Scheduled {
    at_ms: u64,
    sequence: u64,
    event: Event,
}

impl PartialEq for Scheduled {
    fn eq(&self, other: &Self) -> bool {
        (self.at_ms, self.sequence) == (other.at_ms, other.sequence)
    }
}
impl Eq for Scheduled {}
impl PartialOrd for Scheduled {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scheduled {
    fn cmp(&self, other: &Self) -> Ordering {
        (self.at_ms, self.sequence).cmp(&(other.at_ms, other.sequence))
    }
}

#[derive(Clone, Debug)]
struct BrokerNode {
    broker: Broker,
    alive: bool,
    /// Bumped on every crash, so timers set before it are not delivered after a restart.
    incarnation: u32,
}

/// A produce the client has sent and not yet heard back about.
#[derive(Clone, Debug)]
struct InFlight {
    partition: TopicPartition,
    key: Option<Vec<u8>>,
    value: Option<Vec<u8>>,
    acks: Acks,
}

#[derive(Clone, Debug)]
pub struct Simulation {
    config: ClusterConfig,
    now_ms: u64,
    rng: Rng,
    faults: FaultModel,
    queue: BinaryHeap<Reverse<Scheduled>>,
    next_sequence: u64,
    /// Events run so far (messages delivered and timers fired), for the benchmark.
    events_processed: u64,
    brokers: Vec<BrokerNode>,
    controller: Controller,
    next_request_id: u64,
    in_flight: BTreeMap<u64, InFlight>,
    /// Where the next null-key record goes, per topic (round robin).
    next_partition: BTreeMap<String, i32>,
    trace: Vec<TraceLine>,
    invariants: Invariants,
    /// Every write the producer saw acknowledged, for the oracle.
    acknowledged: Vec<AcknowledgedWrite>,
    /// Admin requests sent and not yet answered, with the command that sent them.
    admin_in_flight: BTreeMap<u64, String>,
}

impl Simulation {
    /// A running cluster at time 0: topics created, brokers starting to register.
    pub fn new(config: ClusterConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let brokers = (1..=config.broker_count)
            .map(|id| BrokerNode { broker: Broker::new(BrokerId(id), config.clone()), alive: true, incarnation: 0 })
            .collect();
        let mut simulation = Simulation {
            rng: Rng::new(config.seed),
            faults: FaultModel::new(config.network_latency_min_ms, config.network_latency_max_ms),
            controller: Controller::new(config.clone()),
            config,
            now_ms: 0,
            queue: BinaryHeap::new(),
            next_sequence: 0,
            events_processed: 0,
            brokers,
            next_request_id: 0,
            in_flight: BTreeMap::new(),
            next_partition: BTreeMap::new(),
            trace: Vec::new(),
            invariants: Invariants::default(),
            acknowledged: Vec::new(),
            admin_in_flight: BTreeMap::new(),
        };
        simulation.controller.start();
        simulation.collect_controller_outputs();
        for index in 0..simulation.brokers.len() {
            simulation.brokers[index].broker.start();
            simulation.collect_broker_outputs(index);
        }
        Ok(simulation)
    }

    pub fn config(&self) -> &ClusterConfig {
        &self.config
    }

    /// How many events (messages delivered, timers fired) the run has processed.
    pub fn events_processed(&self) -> u64 {
        self.events_processed
    }

    pub fn now_ms(&self) -> u64 {
        self.now_ms
    }

    pub fn trace(&self) -> &[TraceLine] {
        &self.trace
    }

    pub fn controller(&self) -> &Controller {
        &self.controller
    }

    pub fn broker(&self, id: BrokerId) -> Option<&Broker> {
        self.node_index(id).map(|i| &self.brokers[i].broker)
    }

    pub fn is_alive(&self, id: BrokerId) -> bool {
        self.node_index(id).is_some_and(|i| self.brokers[i].alive)
    }

    /// Carries out one command. `advance` runs the clock; the others act at the current time.
    pub fn apply(&mut self, command: &Command) -> Result<(), CommandError> {
        match command {
            Command::Kill { broker } => self.kill(*broker),
            Command::Restart { broker } => self.restart(*broker),
            Command::Advance { ms } => {
                self.advance(*ms);
                Ok(())
            }
            Command::Split { groups } => {
                self.faults.split = groups.iter().map(|group| group.iter().copied().collect()).collect();
                Ok(())
            }
            Command::Heal => {
                self.faults.split.clear();
                Ok(())
            }
            Command::Loss { percent } => {
                self.faults.loss_percent = *percent;
                Ok(())
            }
            Command::Shutdown { broker } => self.shut_down(*broker),
            Command::CreateTopic { name, partitions, replication_factor, config } => {
                let (partitions, replication_factor) = (*partitions, *replication_factor);
                self.send_admin(
                    command,
                    AdminRequest::CreateTopic {
                        name: name.clone(),
                        partitions,
                        replication_factor,
                        config: config.clone(),
                    },
                );
                Ok(())
            }
            Command::AlterTopic { name, partitions } => {
                self.send_admin(command, AdminRequest::CreatePartitions { topic: name.clone(), count: *partitions });
                Ok(())
            }
            Command::ElectPreferred { partitions } => {
                let partitions = (!partitions.is_empty()).then(|| partitions.clone());
                self.send_admin(command, AdminRequest::ElectPreferredLeaders { partitions });
                Ok(())
            }
            Command::Set { name, value } => {
                self.send_admin(command, AdminRequest::AlterConfig { name: *name, value: value.clone() });
                Ok(())
            }
            Command::Produce { topic, partition, key, value, acks } => {
                let partition = self.choose_partition(topic, *partition, key.as_deref())?;
                let key = key.as_ref().map(|k| k.as_bytes().to_vec());
                let value = value.as_ref().map(|v| v.as_bytes().to_vec());
                self.send_produce(partition, key, value, *acks);
                Ok(())
            }
        }
    }

    pub fn kill(&mut self, broker: BrokerId) -> Result<(), CommandError> {
        let index = self.node_index(broker).ok_or(CommandError::UnknownBroker(broker))?;
        let node = &mut self.brokers[index];
        if !node.alive {
            return Err(CommandError::AlreadyDead(broker));
        }
        node.alive = false;
        node.incarnation += 1;
        self.record(TraceEvent::Killed { broker });
        Ok(())
    }

    /// Starts a controlled shutdown: the broker asks the controller to move its leaderships,
    /// then stops.
    pub fn shut_down(&mut self, broker: BrokerId) -> Result<(), CommandError> {
        let index = self.node_index(broker).ok_or(CommandError::UnknownBroker(broker))?;
        if !self.brokers[index].alive {
            return Err(CommandError::AlreadyDead(broker));
        }
        self.brokers[index].broker.begin_controlled_shutdown();
        self.collect_broker_outputs(index);
        Ok(())
    }

    /// An administrator's request goes from the client to the controller, like Kafka's admin
    /// client forwarded to the active controller.
    fn send_admin(&mut self, command: &Command, request: AdminRequest) {
        let request_id = self.next_request_id;
        self.next_request_id += 1;
        self.admin_in_flight.insert(request_id, command.to_string());
        self.schedule_send(NodeId::Client, NodeId::Controller, Message::Admin { request_id, request });
    }

    pub fn restart(&mut self, broker: BrokerId) -> Result<(), CommandError> {
        let index = self.node_index(broker).ok_or(CommandError::UnknownBroker(broker))?;
        if self.brokers[index].alive {
            return Err(CommandError::AlreadyAlive(broker));
        }
        self.brokers[index].alive = true;
        self.record(TraceEvent::Restarted { broker });
        self.brokers[index].broker.start();
        self.collect_broker_outputs(index);
        Ok(())
    }

    /// Runs every event due within the next `ms` milliseconds, then sets the clock to the end.
    pub fn advance(&mut self, ms: u64) {
        let until = self.now_ms + ms;
        while self.queue.peek().is_some_and(|Reverse(next)| next.at_ms <= until) {
            self.step();
        }
        self.now_ms = until;
    }

    /// The time of the next event, if any.
    pub fn next_event_ms(&self) -> Option<u64> {
        self.queue.peek().map(|Reverse(next)| next.at_ms)
    }

    /// Runs the next event; false when there is none.
    pub fn step(&mut self) -> bool {
        let Some(Reverse(scheduled)) = self.queue.pop() else {
            return false;
        };
        debug_assert!(scheduled.at_ms >= self.now_ms, "time never runs backwards");
        self.now_ms = scheduled.at_ms;
        self.events_processed += 1;
        let (node, scope) = match scheduled.event {
            Event::Deliver { from, to, message } => {
                let scope = message.partition().cloned();
                self.deliver(from, to, message);
                (to, scope)
            }
            Event::Timer { node, incarnation, timer } => {
                let scope = timer.partition().cloned();
                self.fire(node, incarnation, timer);
                (node, scope)
            }
        };
        // Only a broker's own events change its state: check that broker.
        if let Some(changed) = match node {
            NodeId::Broker(id) => self.node_index(id),
            NodeId::Controller | NodeId::Client => None,
        } {
            let brokers: Vec<&Broker> = self.brokers.iter().map(|n| &n.broker).collect();
            let unclean_allowed = self.controller.image().config.unclean_leader_election_enable;
            if let Err(violation) = self.invariants.check(&brokers, changed, scope.as_ref(), unclean_allowed) {
                panic!("{}", invariants::describe(&violation, self.config.seed));
            }
        }
        true
    }

    /// Everything as it stands now, for drawing.
    pub fn view(&self) -> ClusterView {
        let brokers = self
            .brokers
            .iter()
            .map(|node| {
                let id = node.broker.id();
                let fenced = self.controller.is_fenced(id);
                let status = match (node.alive, fenced) {
                    (false, _) => BrokerStatus::Dead,
                    (true, true) => BrokerStatus::Fenced,
                    (true, false) => BrokerStatus::Alive,
                };
                BrokerView { id, status, fenced }
            })
            .collect();
        let partitions = self
            .controller
            .partitions()
            .map(|state| PartitionView {
                partition: state.partition.clone(),
                leader: state.leader,
                leader_epoch: state.leader_epoch,
                isr: state.isr.clone(),
                replicas: state
                    .replicas
                    .iter()
                    .map(|&broker| {
                        let log = self.broker(broker).and_then(|b| b.replica(&state.partition)).map(|r| &r.log);
                        ReplicaView {
                            broker,
                            is_leader: state.leader == Some(broker),
                            in_isr: state.isr.contains(&broker),
                            log_start_offset: log.map_or(Offset(0), |l| l.log_start_offset()),
                            log_end_offset: log.map_or(Offset(0), |l| l.log_end_offset()),
                            high_watermark: log.map_or(Offset(0), |l| l.high_watermark()),
                        }
                    })
                    .collect(),
            })
            .collect();
        ClusterView { now_ms: self.now_ms, brokers, partitions }
    }

    fn node_index(&self, id: BrokerId) -> Option<usize> {
        usize::try_from(id.0 - 1).ok().filter(|&i| i < self.brokers.len())
    }

    fn choose_partition(
        &mut self,
        topic: &str,
        partition: Option<i32>,
        key: Option<&str>,
    ) -> Result<TopicPartition, CommandError> {
        let count = self
            .controller
            .image()
            .partition_count(topic)
            .ok_or_else(|| CommandError::UnknownTopic(topic.to_string()))?;
        let index = match (partition, key) {
            (Some(p), _) if (0..count).contains(&p) => p,
            (Some(p), _) => return Err(CommandError::UnknownPartition(TopicPartition::new(topic, p))),
            (None, Some(key)) => partition_for_key(key.as_bytes(), count),
            (None, None) => {
                let next = self.next_partition.entry(topic.to_string()).or_insert(0);
                let p = *next;
                *next = (p + 1) % count;
                p
            }
        };
        Ok(TopicPartition::new(topic, index))
    }

    /// The producer sends to the leader the metadata names (its metadata request is not
    /// simulated yet: it reads the controller's answer directly).
    fn send_produce(&mut self, partition: TopicPartition, key: Option<Vec<u8>>, value: Option<Vec<u8>>, acks: Acks) {
        let request_id = self.next_request_id;
        self.next_request_id += 1;
        let leader = self.controller.partition(&partition).and_then(|s| s.leader);
        let Some(leader) = leader else {
            let error = ErrorCode::LeaderNotAvailable;
            self.record(TraceEvent::ProduceFailed { request_id, partition, error });
            return;
        };
        // The producer encodes the record as Kafka's clients do: a record batch (of one record,
        // until the producer model batches), stamped with its create time.
        let timestamp_ms = i64::try_from(self.now_ms).unwrap_or(i64::MAX);
        let batch = single_record_batch(timestamp_ms, key.clone().map(Bytes::from), value.clone().map(Bytes::from));
        self.record(TraceEvent::ProduceSent { request_id, partition: partition.clone(), leader });
        if acks != Acks::None {
            self.in_flight.insert(request_id, InFlight { partition: partition.clone(), key, value, acks });
            let timer = Timer::RequestTimeout { request_id };
            self.schedule(
                self.now_ms + self.config.request_timeout_ms,
                Event::Timer { node: NodeId::Client, incarnation: 0, timer },
            );
        }
        let message = Message::Produce { request_id, partition, batch, acks };
        self.schedule_send(NodeId::Client, NodeId::Broker(leader), message);
    }

    /// Every write the producer saw acknowledged, in the order it heard.
    pub fn acknowledged(&self) -> &[AcknowledgedWrite] {
        &self.acknowledged
    }

    /// The acknowledged writes that the partitions' current leaders no longer hold.
    pub fn lost_writes(&self) -> Vec<&AcknowledgedWrite> {
        oracle::lost_writes(&self.acknowledged, |partition| {
            let leader = self.controller.partition(partition)?.leader?;
            Some(&self.broker(leader)?.replica(partition)?.log)
        })
    }

    /// The network's faults as they stand.
    pub fn faults(&self) -> &FaultModel {
        &self.faults
    }

    fn deliver(&mut self, from: NodeId, to: NodeId, message: Message) {
        if !self.faults.connected(from, to) {
            let what = message_name(&message).to_string();
            self.record(TraceEvent::Dropped { from, to, what, reason: DropReason::Split });
            return;
        }
        match to {
            NodeId::Controller => {
                self.controller.handle_message(self.now_ms, from, message);
                self.collect_controller_outputs();
            }
            NodeId::Client => self.client_receive(message),
            NodeId::Broker(id) => {
                let Some(index) = self.node_index(id) else {
                    return;
                };
                if !self.brokers[index].alive {
                    let what = message_name(&message).to_string();
                    self.record(TraceEvent::Dropped { from, to, what, reason: DropReason::NodeDown });
                    return;
                }
                self.brokers[index].broker.handle_message(self.now_ms, from, message);
                self.collect_broker_outputs(index);
            }
        }
    }

    fn fire(&mut self, node: NodeId, incarnation: u32, timer: Timer) {
        match node {
            NodeId::Controller => {
                self.controller.handle_timer(self.now_ms, timer);
                self.collect_controller_outputs();
            }
            NodeId::Broker(id) => {
                let Some(index) = self.node_index(id) else {
                    return;
                };
                let node = &self.brokers[index];
                if !node.alive || node.incarnation != incarnation {
                    return; // set before a crash: that process is gone
                }
                self.brokers[index].broker.handle_timer(self.now_ms, timer);
                self.collect_broker_outputs(index);
            }
            NodeId::Client => {
                let Timer::RequestTimeout { request_id } = timer else { return };
                if let Some(sent) = self.in_flight.remove(&request_id) {
                    let error = ErrorCode::RequestTimedOut;
                    self.record(TraceEvent::ProduceFailed { request_id, partition: sent.partition, error });
                }
            }
        }
    }

    fn client_receive(&mut self, message: Message) {
        if let Message::AdminResponse { request_id, result } = message {
            let Some(what) = self.admin_in_flight.remove(&request_id) else { return };
            self.record(match result {
                Ok(()) => TraceEvent::AdminDone { request_id, what },
                Err(e) => TraceEvent::AdminFailed { request_id, what, error: e.code, message: e.message },
            });
            return;
        }
        let Message::ProduceResponse { request_id, partition, result } = message else {
            return;
        };
        let Some(sent) = self.in_flight.remove(&request_id) else {
            return;
        };
        debug_assert_eq!(sent.partition, partition, "a response names the partition it answers for");
        match result {
            Ok(offset) => {
                self.acknowledged.push(AcknowledgedWrite {
                    request_id,
                    partition: partition.clone(),
                    offset,
                    key: sent.key,
                    value: sent.value,
                    acks: sent.acks,
                    at_ms: self.now_ms,
                });
                self.record(TraceEvent::ProduceAcked { request_id, partition, offset });
            }
            Err(error) => self.record(TraceEvent::ProduceFailed { request_id, partition, error }),
        }
    }

    fn collect_broker_outputs(&mut self, index: usize) {
        let node = NodeId::Broker(self.brokers[index].broker.id());
        let incarnation = self.brokers[index].incarnation;
        let outputs = self.brokers[index].broker.take_outputs();
        self.schedule_outputs(node, incarnation, outputs);
    }

    fn collect_controller_outputs(&mut self) {
        let outputs = self.controller.take_outputs();
        self.schedule_outputs(NodeId::Controller, 0, outputs);
    }

    fn schedule_outputs(&mut self, node: NodeId, incarnation: u32, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Send { to, message } => self.schedule_send(node, to, message),
                Output::SetTimer { after_ms, timer } => {
                    self.schedule(self.now_ms + after_ms, Event::Timer { node, incarnation, timer })
                }
                Output::Trace(event) => self.record(event),
                Output::Stop => self.stop(node),
            }
        }
    }

    /// A node finished its controlled shutdown: it is down now, cleanly.
    fn stop(&mut self, node: NodeId) {
        let NodeId::Broker(broker) = node else { return };
        let Some(index) = self.node_index(broker) else { return };
        let stopped = &mut self.brokers[index];
        stopped.alive = false;
        stopped.incarnation += 1;
        self.record(TraceEvent::Stopped { broker });
    }

    fn schedule_send(&mut self, from: NodeId, to: NodeId, message: Message) {
        match self.faults.on_send(&mut self.rng) {
            Fate::Delayed { latency_ms } => {
                self.schedule(self.now_ms + latency_ms, Event::Deliver { from, to, message })
            }
            Fate::Lost => {
                let what = message_name(&message).to_string();
                self.record(TraceEvent::Dropped { from, to, what, reason: DropReason::Lost });
            }
        }
    }

    fn schedule(&mut self, at_ms: u64, event: Event) {
        let sequence = self.next_sequence;
        self.next_sequence += 1;
        self.queue.push(Reverse(Scheduled { at_ms, sequence, event }));
    }

    fn record(&mut self, event: TraceEvent) {
        self.trace.push(TraceLine { at_ms: self.now_ms, event });
    }
}

fn message_name(message: &Message) -> &'static str {
    match message {
        Message::BrokerRegistration { .. } => "BrokerRegistration",
        Message::BrokerRegistrationResponse { .. } => "BrokerRegistrationResponse",
        Message::BrokerHeartbeat { .. } => "BrokerHeartbeat",
        Message::BrokerHeartbeatResponse { .. } => "BrokerHeartbeatResponse",
        Message::AlterPartitionResponse { .. } => "AlterPartitionResponse",
        Message::MetadataUpdate { .. } => "MetadataUpdate",
        Message::ControlledShutdown { .. } => "ControlledShutdown",
        Message::ControlledShutdownResponse { .. } => "ControlledShutdownResponse",
        Message::Admin { .. } => "Admin",
        Message::AdminResponse { .. } => "AdminResponse",
        Message::AlterPartition { .. } => "AlterPartition",
        Message::Fetch { .. } => "Fetch",
        Message::FetchResponse { .. } => "FetchResponse",
        Message::Produce { .. } => "Produce",
        Message::ProduceResponse { .. } => "ProduceResponse",
    }
}
