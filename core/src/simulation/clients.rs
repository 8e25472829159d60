//! Named clients: the producers and consumers a run starts with `producer` and `consumer`
//! commands. Each is a node of its own on the simulated network (its own [`ClientId`]), runs the
//! client model ([`Producer`], [`Consumer`]) against the committed metadata, and can be
//! stopped cleanly, crashed and restarted; a restart is a new process with the same settings.
//!
//! What clients tell their application is recorded here: every acknowledged write (for the
//! oracle, as the console producer's are) and every record a consumer's application processed,
//! in order, so duplicates and losses can be counted record by record.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use bytes::Bytes;

use crate::command::{ClientName, Command, Setting};
use crate::consumer::{Consumer, ConsumerOutput};
use crate::ids::{BrokerId, ClientId, Offset, TopicPartition};
use crate::message::{Message, NodeId, Timer};
use crate::oracle::AcknowledgedWrite;
use crate::producer::{Producer, ProducerOutput, ProducerRecord, RecordId};
use crate::trace::TraceEvent;

use super::client_settings::{consumer_config, producer_config};
use super::pipelines::Pipeline;
use super::{CommandError, Event, Simulation};
use crate::command::clients::setting;

/// A producer or a consumer, as the run drives it.
#[derive(Clone, Debug)]
pub enum ClientKind {
    Producer(Producer),
    Consumer(Consumer),
}

/// One named client.
#[derive(Clone, Debug)]
pub struct ClientNode {
    pub name: ClientName,
    /// Its current process's address: each start gets a new one.
    pub id: ClientId,
    /// Its process runs (a crash stops it; a clean stop leaves it running until it has left).
    pub alive: bool,
    /// Bumped at each crash and restart, so timers of an earlier life are not delivered.
    incarnation: u32,
    settings: Vec<Setting>,
    pub kind: ClientKind,
    /// A producer's records sent and not yet acknowledged or failed: their key and value.
    pub(super) unsettled: alloc::collections::BTreeMap<RecordId, (Option<Bytes>, Option<Bytes>)>,
    /// A consume-transform-produce consumer's transactional producer.
    pub pipeline: Option<Pipeline>,
}

/// A record a consumer's application finished processing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcessedRecord {
    pub client: ClientName,
    pub group: String,
    pub partition: TopicPartition,
    pub offset: Offset,
    pub key: Option<Bytes>,
    pub value: Option<Bytes>,
    pub at_ms: u64,
}

impl Simulation {
    /// The named clients, in the order they were started.
    pub fn clients(&self) -> &[ClientNode] {
        &self.clients
    }

    pub fn client(&self, name: &str) -> Option<&ClientNode> {
        self.clients.iter().find(|c| c.name.0 == name)
    }

    /// Every record a consumer's application processed, in the order it did.
    pub fn processed(&self) -> &[ProcessedRecord] {
        &self.processed
    }

    fn client_index(&self, name: &ClientName) -> Result<usize, CommandError> {
        self.clients.iter().position(|c| &c.name == name).ok_or_else(|| CommandError::UnknownClient(name.clone()))
    }

    pub(super) fn apply_client_command(&mut self, command: &Command) -> Result<(), CommandError> {
        match command {
            Command::Producer { name, settings } | Command::Consumer { name, settings } => {
                if self.clients.iter().any(|c| &c.name == name) {
                    return Err(CommandError::ClientExists(name.clone()));
                }
                let producer = matches!(command, Command::Producer { .. });
                let kind = self.new_client_kind(name, producer, settings)?;
                let pipeline = match (setting(settings, "output"), setting(settings, "transactional.id")) {
                    (Some(output), Some(transactional_id)) if !producer => {
                        let companion = ClientName(alloc::format!("{name}-tx"));
                        if self.clients.iter().any(|c| c.name == companion) {
                            return Err(CommandError::ClientExists(companion));
                        }
                        if self.metadata().partition_count(output).is_none() {
                            return Err(CommandError::UnknownTopic(output.to_string()));
                        }
                        let settings = alloc::vec![
                            Setting { key: "transactional.id".into(), value: transactional_id.into() },
                            Setting { key: "linger.ms".into(), value: "0".into() },
                        ];
                        let kind = self.new_client_kind(&companion, true, &settings)?;
                        self.add_client(companion.clone(), settings, kind, None)?;
                        Some(Pipeline::new(output.into(), companion))
                    }
                    _ => None,
                };
                self.add_client(name.clone(), settings.clone(), kind, pipeline)
            }
            Command::Produce { topic, partition, key, value, producer: Some(name), .. } => {
                let index = self.client_index(name)?;
                let record = ProducerRecord {
                    topic: topic.as_str().into(),
                    partition: *partition,
                    key: key.as_ref().map(|k| Bytes::from(k.clone().into_bytes())),
                    value: value.as_ref().map(|v| Bytes::from(v.clone().into_bytes())),
                    timestamp_ms: None,
                };
                let now_ms = self.now_ms;
                let node = &mut self.clients[index];
                let ClientKind::Producer(producer) = &mut node.kind else {
                    return Err(CommandError::NotAProducer(name.clone()));
                };
                if !node.alive {
                    return Err(CommandError::ClientDown(name.clone()));
                }
                let (k, v) = (record.key.clone(), record.value.clone());
                let sent = producer.send(now_ms, record, &self.latest_metadata.1);
                let id = sent.map_err(|e| CommandError::Client(name.clone(), e.to_string()))?;
                node.unsettled.insert(id, (k, v));
                self.collect_client_outputs(index);
                Ok(())
            }
            Command::Begin { producer } | Command::Commit { producer } | Command::Abort { producer } => {
                let index = self.client_index(producer)?;
                let now_ms = self.now_ms;
                let node = &mut self.clients[index];
                let ClientKind::Producer(client) = &mut node.kind else {
                    return Err(CommandError::NotAProducer(producer.clone()));
                };
                let image = &self.latest_metadata.1;
                let result = match command {
                    Command::Begin { .. } => client.begin_transaction(),
                    Command::Commit { .. } => client.commit_transaction(now_ms, image),
                    _ => client.abort_transaction(now_ms, image),
                };
                result.map_err(|e| CommandError::Client(producer.clone(), e.to_string()))?;
                self.collect_client_outputs(index);
                Ok(())
            }
            Command::Stop { client } => {
                let index = self.client_index(client)?;
                if let Some(companion) = self.companion_of(index) {
                    self.apply_client_command(&Command::Stop { client: companion })?;
                }
                let now_ms = self.now_ms;
                let node = &mut self.clients[index];
                if !node.alive {
                    return Err(CommandError::ClientDown(client.clone()));
                }
                match &mut node.kind {
                    ClientKind::Consumer(consumer) => consumer.close(now_ms),
                    ClientKind::Producer(producer) => producer.flush(now_ms, &self.latest_metadata.1),
                }
                self.collect_client_outputs(index);
                Ok(())
            }
            Command::KillClient { client } => {
                let index = self.client_index(client)?;
                if !self.clients[index].alive {
                    return Err(CommandError::ClientDown(client.clone()));
                }
                self.crash_client(index);
                Ok(())
            }
            Command::RestartClient { client } if self.companion_of(self.client_index(client)?).is_some() => {
                // The application comes back with a new producer instance, which fences the
                // old one, before its consumer rejoins.
                let index = self.client_index(client)?;
                let companion = self.companion_of(index).expect("checked above");
                let companion_index = self.client_index(&companion)?;
                if self.clients[companion_index].alive {
                    self.crash_client(companion_index);
                }
                self.apply_client_command(&Command::RestartClient { client: companion })?;
                if let Some(pipeline) = self.clients[index].pipeline.as_mut() {
                    pipeline.reset();
                }
                let restart = Command::RestartClient { client: client.clone() };
                self.restart_one(index, &restart)
            }
            Command::RestartClient { client } => {
                let index = self.client_index(client)?;
                self.restart_one(index, command)
            }
            _ => unreachable!("only client commands come here"),
        }
    }

    /// The transactional producer of a consume-transform-produce consumer.
    fn companion_of(&self, index: usize) -> Option<ClientName> {
        self.clients[index].pipeline.as_ref().map(|p| p.producer.clone())
    }

    fn add_client(
        &mut self,
        name: ClientName,
        settings: Vec<Setting>,
        kind: ClientKind,
        pipeline: Option<Pipeline>,
    ) -> Result<(), CommandError> {
        let id = self.new_client_id();
        let node = ClientNode {
            name,
            id,
            alive: true,
            incarnation: 0,
            settings,
            kind,
            unsettled: Default::default(),
            pipeline,
        };
        self.clients.push(node);
        self.start_client(self.clients.len() - 1)
    }

    fn restart_one(&mut self, index: usize, command: &Command) -> Result<(), CommandError> {
        let _ = command;
        {
            let node = &self.clients[index];
            let producer = matches!(node.kind, ClientKind::Producer(_));
            let (name, settings) = (node.name.clone(), node.settings.clone());
            let kind = self.new_client_kind(&name, producer, &settings)?;
            // A new process: new connections, so answers meant for the old one never reach it.
            let id = self.new_client_id();
            let node = &mut self.clients[index];
            node.kind = kind;
            node.alive = true;
            node.incarnation += 1;
            node.unsettled.clear();
            node.id = id;
            self.record(TraceEvent::Restarted { node: NodeId::Client(id) });
            self.start_client(index)
        }
    }

    fn new_client_kind(
        &mut self,
        name: &ClientName,
        producer: bool,
        settings: &[Setting],
    ) -> Result<ClientKind, CommandError> {
        let invalid = |reason: String| CommandError::Client(name.clone(), reason);
        if producer {
            let config = producer_config(settings).map_err(invalid)?;
            Ok(ClientKind::Producer(Producer::with_seed(config, self.rng.next_u64())))
        } else {
            let (config, app, topics) = consumer_config(settings).map_err(invalid)?;
            for topic in &topics {
                if self.metadata().partition_count(topic).is_none() {
                    return Err(CommandError::UnknownTopic(topic.to_string()));
                }
            }
            Ok(ClientKind::Consumer(Consumer::new(config, app, topics)))
        }
    }

    fn start_client(&mut self, index: usize) -> Result<(), CommandError> {
        let now_ms = self.now_ms;
        let image = &self.latest_metadata.1;
        let node = &mut self.clients[index];
        match &mut node.kind {
            ClientKind::Consumer(consumer) => consumer.start(now_ms, image),
            ClientKind::Producer(producer) if producer.config().transactional_id.is_some() => {
                // A transactional application calls initTransactions first.
                let name = node.name.clone();
                producer.init_transactions(now_ms, image).map_err(|e| CommandError::Client(name, e.to_string()))?;
            }
            ClientKind::Producer(_) => {}
        }
        self.collect_client_outputs(index);
        Ok(())
    }

    /// The client's process dies: it sends nothing more, and its timers never fire. A
    /// consume-transform-produce application takes its producer down with it.
    fn crash_client(&mut self, index: usize) {
        let node = &mut self.clients[index];
        node.alive = false;
        node.incarnation += 1;
        let id = node.id;
        self.record(TraceEvent::Killed { node: NodeId::Client(id) });
        if let Some(companion) = self.companion_of(index) {
            if let Some(companion_index) = self.clients.iter().position(|c| c.name == companion && c.alive) {
                self.crash_client(companion_index);
            }
        }
    }

    /// A client id no process has had: each start of a named client gets its own.
    fn new_client_id(&self) -> ClientId {
        ClientId(self.clients.iter().map(|c| c.id.0).max().unwrap_or(0) + 1)
    }

    fn client_at(&self, id: ClientId) -> Option<usize> {
        self.clients.iter().position(|c| c.id == id)
    }

    /// Whether a process listens at `id`: the console always; a named client while it runs,
    /// and only its current process.
    pub(super) fn is_client_alive(&self, id: ClientId) -> bool {
        id == ClientId::CONSOLE || self.client_at(id).is_some_and(|i| self.clients[i].alive)
    }

    pub(super) fn named_client_receive(&mut self, id: ClientId, from: NodeId, message: Message) {
        let now_ms = self.now_ms;
        let Some(index) = self.client_at(id) else { return };
        let image = &self.latest_metadata.1;
        match &mut self.clients[index].kind {
            ClientKind::Producer(producer) => producer.handle_message(now_ms, from, message, image),
            ClientKind::Consumer(consumer) => consumer.handle_message(now_ms, from, message, image),
        }
        self.collect_client_outputs(index);
    }

    /// The client's connection to `broker` broke: refused (it reached a dead broker) or reset
    /// (the broker crashed). The client fails what it had in flight there at once, as a real
    /// client does, instead of waiting for `request.timeout.ms`. A client that is not running
    /// has no connections.
    pub(super) fn client_disconnected(&mut self, id: ClientId, broker: BrokerId) {
        if id == ClientId::CONSOLE {
            self.consumer_connections_lost(broker);
            return;
        }
        let now_ms = self.now_ms;
        let index = id.0 as usize - 1;
        if !self.clients.get(index).is_some_and(|c| c.alive) {
            return;
        }
        let image = &self.latest_metadata.1;
        match &mut self.clients[index].kind {
            ClientKind::Producer(producer) => producer.handle_disconnect(now_ms, broker, image),
            ClientKind::Consumer(consumer) => consumer.handle_disconnect(now_ms, broker, image),
        }
        self.collect_client_outputs(index);
    }

    pub(super) fn named_client_timer(&mut self, id: ClientId, incarnation: u32, timer: Timer) {
        let now_ms = self.now_ms;
        let Some(index) = self.client_at(id) else { return };
        let node = &self.clients[index];
        if !node.alive || node.incarnation != incarnation {
            return;
        }
        let image = &self.latest_metadata.1;
        match (&mut self.clients[index].kind, timer) {
            (ClientKind::Producer(producer), Timer::Producer(timer)) => producer.handle_timer(now_ms, timer, image),
            (ClientKind::Consumer(consumer), Timer::Consumer(timer)) => consumer.handle_timer(now_ms, timer, image),
            _ => debug_assert!(false, "a timer for another kind of client"),
        }
        self.collect_client_outputs(index);
    }

    /// Carries out what a client asked and records what it told its application.
    pub(super) fn collect_client_outputs(&mut self, index: usize) {
        let node = NodeId::Client(self.clients[index].id);
        let incarnation = self.clients[index].incarnation;
        let name = self.clients[index].name.clone();
        match &mut self.clients[index].kind {
            ClientKind::Producer(producer) => {
                let acks = producer.config().acks;
                for output in producer.take_outputs() {
                    match output {
                        ProducerOutput::Send { to, message } => self.schedule_send(node, to, message),
                        ProducerOutput::SetTimer { after_ms, timer } => {
                            let timer = Timer::Producer(timer);
                            self.schedule(self.now_ms + after_ms, Event::Timer { node, incarnation, timer })
                        }
                        ProducerOutput::Delivered { record, partition, offset } => {
                            let (key, value) = self.clients[index].unsettled.remove(&record).unwrap_or_default();
                            if let Some(offset) = offset {
                                self.acknowledged.push(AcknowledgedWrite {
                                    request_id: record.0,
                                    partition: partition.clone(),
                                    offset,
                                    key: key.map(|k| k.to_vec()),
                                    value: value.map(|v| v.to_vec()),
                                    acks,
                                    at_ms: self.now_ms,
                                });
                            }
                            self.record(TraceEvent::ClientDelivered { client: name.clone(), partition, offset });
                        }
                        ProducerOutput::Failed { record, partition, error } => {
                            self.clients[index].unsettled.remove(&record);
                            let error = error.to_string();
                            self.record(TraceEvent::ClientFailed { client: name.clone(), partition, error });
                        }
                        ProducerOutput::TransactionCompleted { committed } => {
                            self.record(TraceEvent::TransactionEnded { client: name.clone(), committed });
                            self.pipeline_transaction_ended(&name, committed);
                        }
                        ProducerOutput::Event(event) => {
                            self.record(TraceEvent::Client { client: name.clone(), event: event.to_string() })
                        }
                    }
                }
                self.pipeline_producer_progressed(&name);
            }
            ClientKind::Consumer(consumer) => {
                let group = consumer.config().group_id.to_string();
                for output in consumer.take_outputs() {
                    match output {
                        ConsumerOutput::Send { to, message } => self.schedule_send(node, to, message),
                        ConsumerOutput::SetTimer { after_ms, timer } => {
                            let timer = Timer::Consumer(timer);
                            self.schedule(self.now_ms + after_ms, Event::Timer { node, incarnation, timer })
                        }
                        ConsumerOutput::Processed { partition, offset, key, value } => {
                            let client = name.clone();
                            self.record(TraceEvent::Processed { client, partition: partition.clone(), offset });
                            let at_ms = self.now_ms;
                            let group = group.clone();
                            let client = name.clone();
                            let result = (key.clone(), value.clone());
                            self.pipeline_result(index, result.0, result.1);
                            self.processed.push(ProcessedRecord {
                                client,
                                group,
                                partition,
                                offset,
                                key,
                                value,
                                at_ms,
                            });
                        }
                        ConsumerOutput::Crashed => {
                            self.crash_client(index);
                            return;
                        }
                        ConsumerOutput::CommitTransaction { offsets, group } => {
                            self.pipeline_commit(index, offsets, group)
                        }
                        ConsumerOutput::Event(event) => {
                            self.record(TraceEvent::Client { client: name.clone(), event: event.to_string() })
                        }
                    }
                }
            }
        }
    }
}
