//! The simulator: brokers, the controller quorum and clients on a simulated network, run by a
//! logical clock and an event queue.
//!
//! Every event (a message arriving, a timer firing) sits in one queue ordered by time and then
//! by the order it was scheduled, and every random choice (network latency, Raft's election
//! timeouts) comes from the run's seed. So the same seed and the same commands give the same
//! run, event for event, which is what lets the page rewind by replaying and a URL reproduce a
//! run.
//!
//! The pieces: this file holds the run's state and applies commands; `event_loop` runs the
//! queue and checks the invariants after every event; `hosts`
//! says which processes run on which machine (a combined node runs broker `n` and controller
//! `n`) and crashes, restarts, stops and splits them; `client` and `consumer` are the console's
//! producer, admin client and reader; `clients` runs the named producers and consumers
//! (settings read in `client_settings`), `pipelines` joins a consumer to its transactional
//! producer for exactly-once processing, and `connections` gives client-broker traffic TCP's
//! order and resets; `checks` runs the invariants after an event; `recovery` starts a run from
//! every node's disk and reads the disks out; `external` queues what arrives for clients outside the simulation (the
//! native server's real connections); `error` says why a command was refused; `view` reads the
//! state for drawing; `log_view` and `node_details` read one replica's log or one node's own
//! state on demand, for the page's inspector; `traffic` records, when asked, the messages the
//! network carried.
//!
//! Driving it: [`Simulation::apply`] a [`Command`], then [`Simulation::advance`] time (or
//! [`Simulation::step`] one event); read [`Simulation::view`] and [`Simulation::trace`].

mod checks;
mod client;
mod client_settings;
mod clients;
mod connections;
mod consumer;
mod event_loop;
pub mod external;
mod hosts;
mod log_view;
mod node_details;
mod pipelines;
mod queue;
mod recovery;
pub mod traffic;
mod view;

use consumer::ConsumerPosition;
use event_loop::Event;
use queue::EventQueue;

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use crate::broker::Broker;
use crate::command::Command;
use crate::config::{ClusterConfig, ConfigError};
use crate::controller::Controller;
use crate::ids::{BrokerId, ClientId, ControllerId, Offset, TopicPartition};
use crate::invariants::{self, Invariants};
use crate::message::{AdminRequest, Message, NodeId, Output, Timer};
use crate::metadata::MetadataImage;
use crate::network::{Fate, FaultModel};
use crate::oracle::AcknowledgedWrite;
use crate::rng::Rng;
use crate::trace::{DropReason, TraceEvent, TraceLine};

mod error;

pub use client::InFlight;
pub use clients::{ClientKind, ClientNode, ProcessedRecord};
pub use error::CommandError;
pub use log_view::{BatchView, RecordView, ReplicaLogView};
pub use node_details::{BrokerDetails, GroupProtocol, HeldReplica};
pub use traffic::{Endpoint, Traffic, TrafficFate};

#[derive(Clone, Debug)]
struct BrokerNode {
    broker: Broker,
    alive: bool,
    /// Bumped on every crash, so timers set before it are not delivered after a restart.
    incarnation: u32,
}

#[derive(Clone, Debug)]
struct ControllerNode {
    controller: Controller,
    alive: bool,
    incarnation: u32,
}

/// An admin request sent and not yet answered.
#[derive(Clone, Debug)]
struct AdminInFlight {
    /// The command that sent it, for the trace.
    what: String,
    request: AdminRequest,
}

#[derive(Clone, Debug)]
pub struct Simulation {
    config: ClusterConfig,
    now_ms: u64,
    rng: Rng,
    faults: FaultModel,
    queue: EventQueue<Event>,
    /// Events run so far (messages delivered and timers fired), for the benchmark.
    events_processed: u64,
    brokers: Vec<BrokerNode>,
    controllers: Vec<ControllerNode>,
    next_request_id: u64,
    in_flight: BTreeMap<u64, InFlight>,
    /// Where the next null-key record goes, per topic (round robin).
    next_partition: BTreeMap<String, i32>,
    trace: Vec<TraceLine>,
    /// Metadata log entries below this offset are in the trace already.
    metadata_traced_until: Offset,
    invariants: Invariants,
    /// Every write the producer saw acknowledged, for the oracle.
    acknowledged: Vec<AcknowledgedWrite>,
    admin_in_flight: BTreeMap<u64, AdminInFlight>,
    /// The console consumer's position in each partition it reads.
    consumers: BTreeMap<TopicPartition, ConsumerPosition>,
    /// The named producers and consumers, in the order they were first started.
    clients: Vec<ClientNode>,
    /// Every record a named consumer's application processed, in order.
    processed: Vec<ProcessedRecord>,
    /// The connections between clients and brokers.
    connections: connections::Connections,
    /// The furthest committed metadata any controller has applied, and how far that is.
    latest_metadata: (Offset, MetadataImage),
    /// The clients outside the simulation and what arrived for them.
    externals: external::Externals,
    /// The messages the network carried lately, when asked for (see [`traffic`]).
    traffic: Option<alloc::boxed::Box<traffic::TrafficLog>>,
}

impl Simulation {
    /// A running cluster at time 0: topics created, controllers about to elect a leader,
    /// brokers starting to register.
    pub fn new(config: ClusterConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        let brokers = (1..=config.broker_count).map(|id| Broker::new(BrokerId(id), config.clone())).collect();
        let controllers = config.controller_ids().map(|id| Controller::new(id, config.clone())).collect();
        Ok(Self::start_nodes(config, brokers, controllers))
    }

    /// The cluster of these (validated) nodes at time 0, every one started: controllers first.
    fn start_nodes(config: ClusterConfig, brokers: Vec<Broker>, controllers: Vec<Controller>) -> Self {
        let latest_metadata = (Offset(0), MetadataImage::bootstrap(&config));
        let brokers = brokers.into_iter().map(|broker| BrokerNode { broker, alive: true, incarnation: 0 }).collect();
        let controllers = controllers
            .into_iter()
            .map(|controller| ControllerNode { controller, alive: true, incarnation: 0 })
            .collect();
        let mut simulation = Simulation {
            rng: Rng::new(config.seed),
            faults: FaultModel::new(config.network_latency_min_ms, config.network_latency_max_ms),
            config,
            now_ms: 0,
            queue: EventQueue::new(),
            events_processed: 0,
            brokers,
            controllers,
            next_request_id: 0,
            in_flight: BTreeMap::new(),
            next_partition: BTreeMap::new(),
            trace: Vec::new(),
            metadata_traced_until: Offset(0),
            invariants: Invariants::default(),
            acknowledged: Vec::new(),
            admin_in_flight: BTreeMap::new(),
            consumers: BTreeMap::new(),
            clients: Vec::new(),
            processed: Vec::new(),
            connections: connections::Connections::default(),
            latest_metadata,
            externals: external::Externals::default(),
            traffic: None,
        };
        for index in 0..simulation.controllers.len() {
            simulation.controllers[index].controller.start(0);
            simulation.collect_controller_outputs(index);
        }
        for index in 0..simulation.brokers.len() {
            simulation.brokers[index].broker.start(0);
            simulation.collect_broker_outputs(index);
        }
        simulation
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

    pub fn controller(&self, id: ControllerId) -> Option<&Controller> {
        self.controller_index(id).map(|i| &self.controllers[i].controller)
    }

    pub fn controllers(&self) -> impl Iterator<Item = &Controller> {
        self.controllers.iter().map(|node| &node.controller)
    }

    pub fn broker(&self, id: BrokerId) -> Option<&Broker> {
        self.node_index(id).map(|i| &self.brokers[i].broker)
    }

    /// Every broker, alive or not, in id order.
    pub fn brokers(&self) -> impl Iterator<Item = &Broker> {
        self.brokers.iter().map(|node| &node.broker)
    }

    pub fn is_alive(&self, id: BrokerId) -> bool {
        self.node_index(id).is_some_and(|i| self.brokers[i].alive)
    }

    pub fn is_controller_alive(&self, id: ControllerId) -> bool {
        self.controller_index(id).is_some_and(|i| self.controllers[i].alive)
    }

    /// The committed metadata: the image of the controller that has applied the most of the
    /// committed log (committed entries never change, so the furthest is the latest truth).
    ///
    /// It never goes back: after every controller has restarted (and replays its log from the
    /// start), it stays at the furthest image any controller reached, as the clients' and the
    /// brokers' metadata does in Kafka while the controllers catch up.
    pub fn metadata(&self) -> &MetadataImage {
        &self.latest_metadata.1
    }

    /// The live controller leading the quorum at the latest epoch, if any.
    pub fn active_controller(&self) -> Option<ControllerId> {
        self.controllers
            .iter()
            .filter(|node| node.alive && node.controller.is_active())
            .max_by_key(|node| node.controller.raft().epoch())
            .map(|node| node.controller.id())
    }

    /// Carries out one command. `advance` runs the clock; the others act at the current time.
    pub fn apply(&mut self, command: &Command) -> Result<(), CommandError> {
        match command {
            Command::Kill { node } => self.kill_node(*node),
            Command::Restart { node } => self.restart_node(*node),
            Command::Advance { ms } => {
                self.advance(*ms);
                Ok(())
            }
            Command::Split { groups } => self.split(groups),
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
            Command::DeleteTopic { name } => {
                self.send_admin(command, AdminRequest::DeleteTopic { name: name.clone() });
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
            Command::Consume { topic } => self.start_consumer(topic),
            Command::Producer { .. }
            | Command::Consumer { .. }
            | Command::Stop { .. }
            | Command::KillClient { .. }
            | Command::RestartClient { .. }
            | Command::Begin { .. }
            | Command::Commit { .. }
            | Command::Abort { .. }
            | Command::Produce { producer: Some(_), .. } => self.apply_client_command(command),
            Command::Produce { topic, partition, key, value, acks, producer: None } => {
                let partition = self.choose_partition(topic, *partition, key.as_deref())?;
                let key = key.as_ref().map(|k| k.as_bytes().to_vec());
                let value = value.as_ref().map(|v| v.as_bytes().to_vec());
                self.send_produce(partition, key, value, *acks);
                Ok(())
            }
        }
    }

    /// The metadata log's entries every replica agrees are committed, so far.
    pub fn committed_metadata(&self) -> &[crate::raft::LogEntry<crate::metadata::MetadataBatch>] {
        self.invariants.committed_metadata()
    }

    fn node_index(&self, id: BrokerId) -> Option<usize> {
        usize::try_from(id.0 - 1).ok().filter(|&i| i < self.brokers.len())
    }

    fn controller_index(&self, id: ControllerId) -> Option<usize> {
        usize::try_from(id.0 - 1).ok().filter(|&i| i < self.controllers.len())
    }

    /// The network's faults as they stand.
    pub fn faults(&self) -> &FaultModel {
        &self.faults
    }
}
