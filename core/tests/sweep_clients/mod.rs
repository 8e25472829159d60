//! The random sweep's clients: each seed starts one to three consumers in one or two groups and
//! up to two producers, drives them alongside the broker faults (records, transactions, crashes,
//! restarts, clean stops), brings every client back for the liveness phase, and then checks
//! that the groups settled and caught up.
//!
//! A group's members share its assignor (members that speak no common protocol cannot join
//! one group, INCONSISTENT_GROUP_PROTOCOL); each consumer draws its own commit mode, static
//! membership and isolation level. Producers are plain (idempotent or not) or transactional,
//! running `begin`, a few `produce` lines and `commit` or `abort`, sometimes with faults in
//! between. A client line the client refuses (a `begin` while `initTransactions` is still under
//! way, a produce after a fatal error) is harmless: a real application would get the exception.
//! Every record a client writes has a value of its own, so the oracles can tell records apart.
//!
//! In some seeds a consume-transform-produce pipeline runs too ([`pipeline`]), with its own
//! group, output topic and end-of-run exactly-once checks.

mod pipeline;

use std::collections::{BTreeMap, BTreeSet};

use kafkalab_core::assignor::consumer_protocol::decode_assignment;
use kafkalab_core::consumer::MemberState;
use kafkalab_core::group::partition_for;
use kafkalab_core::group::protocol::GroupState;
use kafkalab_core::ids::TopicPartition;
use kafkalab_core::invariants::{BatchFates, RecordFate};
use kafkalab_core::rng::Rng;
use kafkalab_core::simulation::ClientKind;
use kafkalab_core::Simulation;
use pipeline::PipelinePlan;

/// The topic every client uses (the default lab's).
const TOPIC: &str = "orders";

/// Whether a client's process runs, as the script left it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Life {
    Running,
    Killed,
    Stopped,
}

#[derive(Clone, Debug)]
struct PlannedConsumer {
    name: String,
    group: String,
    /// `commit=`: auto, after-processing or before-processing.
    commit: &'static str,
    life: Life,
}

#[derive(Clone, Debug)]
struct PlannedProducer {
    name: String,
    transactional: bool,
    /// A transaction the script began and has not ended.
    in_transaction: bool,
    life: Life,
}

/// The clients one seed runs, and where the script has left each.
#[derive(Clone, Debug, Default)]
pub struct ClientPlan {
    consumers: Vec<PlannedConsumer>,
    producers: Vec<PlannedProducer>,
    start: Vec<String>,
    next_record: u64,
    pipeline: Option<PipelinePlan>,
}

impl ClientPlan {
    /// Draws the clients for a seed and the lines that start them.
    pub fn draw(rng: &mut Rng) -> ClientPlan {
        let mut plan = ClientPlan::default();
        let groups = rng.between(1, 2);
        let assignors: Vec<&str> = (0..groups)
            .map(|_| ["range", "roundrobin", "sticky", "cooperative-sticky"][rng.between(0, 3) as usize])
            .collect();
        for index in 1..=rng.between(1, 3) {
            let name = format!("reader{index}");
            let group_index = rng.between(0, groups - 1) as usize;
            let group = format!("g{}", group_index + 1);
            let commit = ["auto", "auto", "after-processing", "before-processing"][rng.between(0, 3) as usize];
            // max.poll.interval.ms bounds the JoinGroup timeout (it plus 5 s): a JoinGroup sent
            // to a crashed coordinator is dropped unanswered in the simulator (see
            // sweep_findings.rs), so Kafka's 300 s default would outlast the liveness phase.
            let mut line = format!(
                "consumer {name} group={group} topics={TOPIC} auto.offset.reset=earliest assignor={} commit={commit} \
                 processing.ms={} max.poll.interval.ms=30000",
                assignors[group_index],
                rng.between(0, 20)
            );
            if rng.between(0, 2) == 0 {
                line.push_str(&format!(" group.instance.id={name}"));
            }
            if rng.between(0, 2) == 0 {
                line.push_str(" isolation.level=read_committed");
            }
            if rng.between(0, 1) == 0 {
                line.push_str(" session.timeout.ms=10000");
            }
            plan.start.push(line);
            plan.consumers.push(PlannedConsumer { name, group, commit, life: Life::Running });
        }
        for index in 1..=rng.between(0, 2) {
            let name = format!("writer{index}");
            let transactional = rng.between(0, 1) == 0;
            let line = if transactional {
                format!("producer {name} transactional.id=tx-{name} linger.ms={}", rng.between(0, 20))
            } else {
                let idempotent = rng.between(0, 1) == 0;
                let acks = if idempotent { "all" } else { ["0", "1", "all"][rng.between(0, 2) as usize] };
                format!("producer {name} enable.idempotence={idempotent} acks={acks} linger.ms={}", rng.between(0, 20))
            };
            plan.start.push(line);
            plan.producers.push(PlannedProducer { name, transactional, in_transaction: false, life: Life::Running });
        }
        plan
    }

    /// Draws, from a generator of its own, whether the seed runs a pipeline.
    pub fn draw_pipeline(&mut self, rng: &mut Rng) {
        self.pipeline = PipelinePlan::draw(rng);
    }

    /// The lines to run before the clients start: the pipeline's output topic.
    pub fn setup_lines(&self) -> Vec<String> {
        self.pipeline.iter().flat_map(PipelinePlan::setup_lines).collect()
    }

    /// The lines that start the clients (once the topic exists).
    pub fn start_lines(&self) -> Vec<String> {
        let pipeline = self.pipeline.iter().flat_map(PipelinePlan::start_lines);
        self.start.iter().cloned().chain(pipeline).collect()
    }

    /// One random action on the pipeline's instances, if the seed runs one.
    pub fn pipeline_step(&mut self, rng: &mut Rng) -> Vec<String> {
        self.pipeline.as_mut().map(|pipeline| pipeline.step(rng)).unwrap_or_default()
    }

    /// One random client action: records or a transaction step from a producer, or a crash,
    /// clean stop or restart of a client.
    pub fn step(&mut self, rng: &mut Rng) -> Vec<String> {
        let clients = self.consumers.len() + self.producers.len();
        let index = rng.between(0, clients as u64 - 1) as usize;
        if index < self.consumers.len() {
            return self.consumer_step(index, rng);
        }
        self.producer_step(index - self.consumers.len(), rng)
    }

    fn consumer_step(&mut self, index: usize, rng: &mut Rng) -> Vec<String> {
        let consumer = &mut self.consumers[index];
        let name = consumer.name.clone();
        match (consumer.life, rng.between(0, 2)) {
            (Life::Running, 0) => {
                consumer.life = Life::Stopped;
                vec![format!("stop {name}")]
            }
            (Life::Running, _) => {
                consumer.life = Life::Killed;
                vec![format!("kill {name}")]
            }
            (Life::Killed | Life::Stopped, _) => {
                consumer.life = Life::Running;
                vec![format!("restart {name}")]
            }
        }
    }

    fn producer_step(&mut self, index: usize, rng: &mut Rng) -> Vec<String> {
        let record = self.next_record;
        self.next_record += 1;
        let producer = &mut self.producers[index];
        let name = producer.name.clone();
        if producer.life == Life::Killed {
            producer.life = Life::Running;
            producer.in_transaction = false; // the new process's initTransactions aborts it
            return vec![format!("restart {name}")];
        }
        if rng.between(0, 5) == 0 {
            producer.life = Life::Killed;
            return vec![format!("kill {name}")];
        }
        let produce = |n: u64| format!("produce {TOPIC} key=w{n} value={name}-{n} producer={name}");
        if !producer.transactional {
            return (0..rng.between(1, 4)).map(|i| produce(record * 10 + i)).collect();
        }
        let mut lines = Vec::new();
        if !producer.in_transaction {
            producer.in_transaction = true;
            lines.push(format!("begin {name}"));
        }
        lines.extend((0..rng.between(1, 4)).map(|i| produce(record * 10 + i)));
        match rng.between(0, 3) {
            0 => {} // the transaction stays open over what comes next
            1 => {
                producer.in_transaction = false;
                lines.push(format!("abort {name}"));
            }
            _ => {
                producer.in_transaction = false;
                lines.push(format!("commit {name}"));
            }
        }
        lines
    }

    /// The liveness phase's first client lines, before the brokers come back: every consumer
    /// stops (a kill, refused for one down already) and every open transaction ends. A consumer
    /// that failed on an answer meant for an earlier process of its own (see
    /// `sweep_findings.rs`) would otherwise never rejoin; the consumers start again in
    /// [`ClientPlan::restart_lines`], once the sessions of their earlier processes ran out.
    pub fn quiesce_lines(&mut self) -> Vec<String> {
        let mut lines = Vec::new();
        for consumer in &mut self.consumers {
            consumer.life = Life::Killed;
            lines.push(format!("kill {}", consumer.name));
        }
        for producer in &mut self.producers {
            if producer.life != Life::Running {
                producer.life = Life::Running;
                producer.in_transaction = false;
                lines.push(format!("restart {}", producer.name));
            }
            if producer.in_transaction {
                producer.in_transaction = false;
                lines.push(format!("commit {}", producer.name));
            }
        }
        lines.extend(self.pipeline.iter_mut().flat_map(PipelinePlan::quiesce_lines));
        lines
    }

    /// Every consumer starts again, for the groups to settle and catch up.
    pub fn restart_lines(&mut self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .consumers
            .iter_mut()
            .map(|consumer| {
                consumer.life = Life::Running;
                format!("restart {}", consumer.name)
            })
            .collect();
        lines.extend(self.pipeline.iter_mut().flat_map(PipelinePlan::restart_lines));
        lines
    }

    /// The groups the plan's consumers are in, each with its members' names and commit modes.
    fn groups(&self) -> BTreeMap<&str, Vec<&PlannedConsumer>> {
        let mut groups: BTreeMap<&str, Vec<&PlannedConsumer>> = BTreeMap::new();
        for consumer in &self.consumers {
            groups.entry(consumer.group.as_str()).or_default().push(consumer);
        }
        groups
    }

    /// After the liveness phase: every group is Stable at its coordinator with every consumer
    /// a member, every partition owned by exactly one of them (as the coordinator stored it and
    /// as each member believes), and the group caught up: an auto-commit group has committed
    /// every partition's log end, and a group whose members all commit after processing has
    /// processed every committed record (at least once).
    pub fn check_settled(&self, simulation: &Simulation) -> Result<(), String> {
        for (group, members) in self.groups() {
            check_group_stable(simulation, group, members.iter().map(|m| m.name.as_str()))?;
            if members.iter().all(|m| m.commit == "auto") {
                check_committed_log_end(simulation, group)?;
            }
            if members.iter().all(|m| m.commit != "before-processing") {
                check_processed_everything(simulation, group)?;
            }
        }
        self.pipeline.as_ref().map_or(Ok(()), |pipeline| pipeline.check_settled(simulation))
    }
}

fn partitions(simulation: &Simulation) -> Vec<TopicPartition> {
    let count = simulation.metadata().partition_count(TOPIC).expect("the topic exists");
    (0..count).map(|p| TopicPartition::new(TOPIC, p)).collect()
}

/// The broker leading the group's `__consumer_offsets` partition: its coordinator.
fn coordinator<'s>(simulation: &'s Simulation, group: &str) -> Result<&'s kafkalab_core::broker::Broker, String> {
    let index = partition_for(group, simulation.config().offsets_topic_num_partitions);
    let offsets = TopicPartition::new("__consumer_offsets", index);
    let leader = simulation.metadata().partition(&offsets).and_then(|p| p.leader);
    let leader = leader.ok_or_else(|| format!("group {group}: {offsets} has no leader"))?;
    Ok(simulation.broker(leader).expect("a leader is a broker"))
}

fn check_group_stable<'a>(
    simulation: &Simulation,
    group: &str,
    names: impl Iterator<Item = &'a str>,
) -> Result<(), String> {
    let broker = coordinator(simulation, group)?;
    let held = broker.group_coordinator().group(group);
    let held = held.ok_or_else(|| format!("group {group} is not held by its coordinator {}", broker.id()))?;
    if held.state() != GroupState::Stable {
        return Err(format!("group {group} is {:?} at generation {}, not Stable", held.state(), held.generation_id()));
    }
    let mut owners: BTreeMap<TopicPartition, String> = BTreeMap::new();
    let mut member_ids = BTreeSet::new();
    for name in names {
        let Some(ClientKind::Consumer(consumer)) = simulation.client(name).map(|c| &c.kind) else {
            return Err(format!("{name} is not a consumer"));
        };
        let member = held.member(consumer.member_id());
        let member =
            member.ok_or_else(|| format!("group {group}: {name} ({}) is not a member", consumer.member_id()))?;
        member_ids.insert(member.member_id.clone());
        if consumer.state() != MemberState::Stable || consumer.generation_id() != held.generation_id() {
            return Err(format!(
                "group {group}: {name} is {:?} at generation {}, the group Stable at {}",
                consumer.state(),
                consumer.generation_id(),
                held.generation_id()
            ));
        }
        let stored = decode_assignment(&member.assignment).map_err(|e| format!("{name}'s assignment: {e:?}"))?;
        let mut believed = consumer.assignment();
        believed.sort();
        let mut stored_partitions = stored.partitions.clone();
        stored_partitions.sort();
        if believed != stored_partitions {
            return Err(format!(
                "group {group}: {name} owns {believed:?}, its coordinator stored {stored_partitions:?}"
            ));
        }
        for partition in stored.partitions {
            if let Some(other) = owners.insert(partition.clone(), name.to_string()) {
                return Err(format!("group {group}: {partition} is owned by {other} and {name}"));
            }
        }
    }
    if held.members().count() != member_ids.len() {
        let ids: Vec<_> = held.members().map(|m| m.member_id.to_string()).collect();
        return Err(format!("group {group} has members {ids:?}, its live consumers are {member_ids:?}"));
    }
    for partition in partitions(simulation) {
        if !owners.contains_key(&partition) {
            return Err(format!("group {group}: nobody owns {partition}"));
        }
    }
    Ok(())
}

fn leader_log<'s>(
    simulation: &'s Simulation,
    partition: &TopicPartition,
) -> Result<&'s kafkalab_core::partition_log::PartitionLog, String> {
    let leader = simulation.metadata().partition(partition).and_then(|p| p.leader);
    let leader = leader.ok_or_else(|| format!("{partition} has no leader"))?;
    let replica = simulation.broker(leader).and_then(|b| b.replica(partition));
    Ok(&replica.ok_or_else(|| format!("{partition}: leader {leader} holds no replica"))?.log)
}

fn check_committed_log_end(simulation: &Simulation, group: &str) -> Result<(), String> {
    let committed: BTreeMap<_, _> =
        coordinator(simulation, group)?.group_coordinator().committed_offsets(group).into_iter().collect();
    for partition in partitions(simulation) {
        let log_end = leader_log(simulation, &partition)?.log_end_offset();
        let at = committed.get(&partition).map(|c| c.offset);
        if at != Some(log_end) {
            return Err(format!(
                "auto-commit group {group} committed {at:?} for {partition}, whose log ends at {log_end}"
            ));
        }
    }
    Ok(())
}

fn check_processed_everything(simulation: &Simulation, group: &str) -> Result<(), String> {
    let processed: BTreeSet<_> =
        simulation.processed().iter().filter(|r| r.group == group).map(|r| (r.partition.clone(), r.offset)).collect();
    for partition in partitions(simulation) {
        let log = leader_log(simulation, &partition)?;
        let fates = BatchFates::of(log.batches());
        for record in log.records() {
            let fate = fates.fate_of(record.offset);
            let committed = matches!(fate, RecordFate::NotTransactional | RecordFate::Committed);
            if committed && !processed.contains(&(partition.clone(), record.offset)) {
                return Err(format!(
                    "group {group} never processed the committed record {partition}@{}",
                    record.offset
                ));
            }
        }
    }
    Ok(())
}
