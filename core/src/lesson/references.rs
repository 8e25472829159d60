//! Every topic, partition, broker and named client a lesson names must exist at that point of
//! the lesson: a typo such as `ordrs/0`, `kill 4` in a three-broker cluster or `processed alcie`
//! is found when the lesson is read, with its line, rather than as a puzzling failure in the lab.
//! Consumer groups are the exception: consumers create them as the lesson runs, so any group id
//! goes.
//!
//! Topics are known from the cluster block and from `create-topic` and `alter-topic` lines, named
//! clients from `producer` and `consumer` lines, earlier in the lesson (a task's solution counts
//! before its checks, and a prediction's proof is read at the end of its step, when the runner
//! checks it).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::check::Check;
use super::error::LineError;
use super::model::{Lesson, Located, Part};
use crate::command::clients::setting;
use crate::command::{ClientName, Command, NodeName, SplitMember};
use crate::expectation::{Comparison, Subject, Value};
use crate::ids::{BrokerId, ControllerId, TopicPartition};

struct Known {
    broker_count: i32,
    controller_count: i32,
    /// Topic name to partition count.
    topics: BTreeMap<String, i32>,
    /// The named clients started so far: whether each is a producer (and transactional).
    clients: BTreeMap<ClientName, KnownClient>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum KnownClient {
    Producer { transactional: bool },
    Consumer,
}

pub(crate) fn check(lesson: &Lesson) -> Result<(), LineError> {
    let mut known = Known {
        broker_count: lesson.cluster.broker_count,
        controller_count: lesson.cluster.controller_count,
        topics: lesson.cluster.topics.iter().map(|t| (t.name.clone(), t.partitions)).collect(),
        clients: BTreeMap::new(),
    };
    for step in &lesson.steps {
        let mut proofs = Vec::new();
        for part in &step.parts {
            match part {
                Part::Narration(_) => {}
                Part::Actions(actions) => {
                    for command in &actions.commands {
                        known.command(command, "in an action")?;
                    }
                }
                Part::Task(task) => {
                    for command in &task.solution {
                        known.command(command, "in a task's solution")?;
                    }
                    for check in &task.checks {
                        known.check(check.line, &check.value, "in a task's check")?;
                    }
                }
                Part::Prediction(prediction) => proofs.extend(prediction.proofs.iter()),
                Part::Wait(wait) => known.check(wait.line, &wait.until, "in a wait")?,
            }
        }
        for proof in proofs {
            known.check(proof.line, &proof.value, "in a prediction's proof")?;
        }
    }
    Ok(())
}

impl Known {
    fn broker(&self, line: usize, context: &str, broker: BrokerId) -> Result<(), LineError> {
        if (1..=self.broker_count).contains(&broker.0) {
            return Ok(());
        }
        Err(LineError::new(
            line,
            format!("{context}: there is no broker {broker}; the cluster has brokers 1 to {}", self.broker_count),
        ))
    }

    fn controller(&self, line: usize, context: &str, controller: ControllerId) -> Result<(), LineError> {
        if (1..=self.controller_count).contains(&controller.0) {
            return Ok(());
        }
        Err(LineError::new(
            line,
            format!(
                "{context}: there is no controller c{controller}; the cluster has controllers c1 to c{}",
                self.controller_count
            ),
        ))
    }

    fn node(&self, line: usize, context: &str, node: NodeName) -> Result<(), LineError> {
        match node {
            NodeName::Broker(broker) => self.broker(line, context, broker),
            NodeName::Controller(controller) => self.controller(line, context, controller),
        }
    }

    fn topic(&self, line: usize, context: &str, topic: &str) -> Result<i32, LineError> {
        self.topics.get(topic).copied().ok_or_else(|| {
            let names: Vec<&str> = self.topics.keys().map(String::as_str).collect();
            let known = if names.is_empty() { "none yet".to_string() } else { names.join(", ") };
            LineError::new(line, format!("{context}: unknown topic {topic:?}; the lesson's topics here are {known}"))
        })
    }

    fn partition(&self, line: usize, context: &str, partition: &TopicPartition) -> Result<(), LineError> {
        let count = self.topic(line, context, &partition.topic)?;
        if (0..count).contains(&partition.partition.0) {
            return Ok(());
        }
        Err(LineError::new(
            line,
            format!(
                "{context}: there is no partition {partition}; {} has partitions 0 to {}",
                partition.topic,
                count - 1
            ),
        ))
    }

    fn new_client(&self, line: usize, context: &str, name: &ClientName) -> Result<(), LineError> {
        if self.clients.contains_key(name) {
            return Err(LineError::new(line, format!("{context}: there is already a client named {name}")));
        }
        Ok(())
    }

    fn client(&self, line: usize, context: &str, name: &ClientName) -> Result<KnownClient, LineError> {
        self.clients.get(name).copied().ok_or_else(|| {
            LineError::new(line, format!("{context}: there is no client {name}; start it with `producer {name}` or `consumer {name} ...` first"))
        })
    }

    fn producer(&self, line: usize, context: &str, name: &ClientName, transactional: bool) -> Result<(), LineError> {
        match self.client(line, context, name)? {
            KnownClient::Producer { transactional: true } => Ok(()),
            KnownClient::Producer { .. } if !transactional => Ok(()),
            KnownClient::Producer { .. } => Err(LineError::new(
                line,
                format!("{context}: producer {name} has no transactional.id, so it cannot begin, commit or abort"),
            )),
            KnownClient::Consumer => {
                Err(LineError::new(line, format!("{context}: {name} is a consumer, not a producer")))
            }
        }
    }

    fn consumer(&self, line: usize, context: &str, name: &ClientName) -> Result<(), LineError> {
        match self.client(line, context, name)? {
            KnownClient::Consumer => Ok(()),
            KnownClient::Producer { .. } => {
                Err(LineError::new(line, format!("{context}: {name} is a producer, not a consumer")))
            }
        }
    }

    /// A producer with a `transactional.id`, whose transaction an expectation can read.
    fn transactional(&self, line: usize, context: &str, name: &ClientName) -> Result<(), LineError> {
        match self.client(line, context, name)? {
            KnownClient::Producer { transactional: true } => Ok(()),
            _ => Err(LineError::new(
                line,
                format!("{context}: {name} is not a producer with a transactional.id, so it has no transaction"),
            )),
        }
    }

    fn command(&mut self, command: &Located<Command>, context: &str) -> Result<(), LineError> {
        let line = command.line;
        match &command.value {
            Command::Kill { node } | Command::Restart { node } => self.node(line, context, *node),
            Command::Shutdown { broker } => self.broker(line, context, *broker),
            Command::Consume { topic } => self.topic(line, context, topic).map(|_| ()),
            Command::Produce { topic, partition, producer, .. } => {
                if let Some(producer) = producer {
                    self.producer(line, context, producer, false)?;
                }
                match partition {
                    Some(index) => self.partition(line, context, &TopicPartition::new(topic.as_str(), *index)),
                    None => self.topic(line, context, topic).map(|_| ()),
                }
            }
            Command::Producer { name, settings } => {
                self.new_client(line, context, name)?;
                let transactional = setting(settings, "transactional.id").is_some();
                self.clients.insert(name.clone(), KnownClient::Producer { transactional });
                Ok(())
            }
            Command::Consumer { name, settings } => {
                self.new_client(line, context, name)?;
                for topic in setting(settings, "topics").unwrap_or_default().split(',') {
                    self.topic(line, context, topic)?;
                }
                self.clients.insert(name.clone(), KnownClient::Consumer);
                Ok(())
            }
            Command::Stop { client } | Command::KillClient { client } | Command::RestartClient { client } => {
                self.client(line, context, client).map(|_| ())
            }
            Command::Begin { producer } | Command::Commit { producer } | Command::Abort { producer } => {
                self.producer(line, context, producer, true)
            }
            Command::Split { groups } => groups.iter().flatten().try_for_each(|member| match member {
                SplitMember::Node(node) => self.node(line, context, *node),
                SplitMember::AllControllers => Ok(()),
            }),
            Command::CreateTopic { name, partitions, replication_factor, .. } => {
                if *replication_factor > self.broker_count {
                    return Err(LineError::new(
                        line,
                        format!(
                            "{context}: replication factor {replication_factor} needs that many brokers; \
                             the cluster has {}",
                            self.broker_count
                        ),
                    ));
                }
                if self.topics.contains_key(name) {
                    return Err(LineError::new(line, format!("{context}: topic {name:?} already exists")));
                }
                self.topics.insert(name.clone(), *partitions);
                Ok(())
            }
            Command::AlterTopic { name, partitions } => {
                let count = self.topic(line, context, name)?;
                // Asking for fewer is allowed: the lab refuses it, and a lesson may show that.
                self.topics.insert(name.clone(), count.max(*partitions));
                Ok(())
            }
            Command::DeleteTopic { name } => {
                self.topic(line, context, name)?;
                self.topics.remove(name);
                Ok(())
            }
            Command::ElectPreferred { partitions } => {
                partitions.iter().try_for_each(|partition| self.partition(line, context, partition))
            }
            Command::Advance { .. } | Command::Heal | Command::Loss { .. } | Command::Set { .. } => Ok(()),
        }
    }

    fn check(&self, line: usize, check: &Check, context: &str) -> Result<(), LineError> {
        match check {
            Check::Run(observation) => {
                self.partition(line, context, observation.partition())?;
                observation.broker().map_or(Ok(()), |broker| self.broker(line, context, broker))
            }
            Check::State(expectation) => {
                match &expectation.subject {
                    Subject::Broker(broker) => self.broker(line, context, *broker)?,
                    Subject::ControllerRole(controller) => self.controller(line, context, *controller)?,
                    Subject::ControllerEpoch(on) | Subject::MetadataRecords(_, on) => {
                        if let Some(controller) = on {
                            self.controller(line, context, *controller)?;
                        }
                    }
                    // Groups come into being when consumers join them, so any group id goes.
                    Subject::ActiveController
                    | Subject::Group(_)
                    | Subject::Generation(_)
                    | Subject::Members(_)
                    | Subject::Duplicates(_) => {}
                    Subject::Leader(p)
                    | Subject::Epoch(p)
                    | Subject::Isr(p)
                    | Subject::Owner(p, _)
                    | Subject::Committed(_, p)
                    | Subject::Lag(_, p) => self.partition(line, context, p)?,
                    Subject::HighWatermark(p, on) | Subject::LogEndOffset(p, on) | Subject::LastStableOffset(p, on) => {
                        self.partition(line, context, p)?;
                        if let Some(broker) = on {
                            self.broker(line, context, *broker)?;
                        }
                    }
                    Subject::Processed(client) => self.consumer(line, context, client)?,
                    Subject::Client(client) => self.client(line, context, client).map(|_| ())?,
                    Subject::Transaction(client) => self.transactional(line, context, client)?,
                }
                match (&expectation.subject, &expectation.value) {
                    (Subject::Leader(_), Value::Number(n))
                        if matches!(expectation.comparison, Comparison::Equal | Comparison::NotEqual) =>
                    {
                        self.broker(line, context, BrokerId(i32::try_from(*n).unwrap_or(i32::MAX)))
                    }
                    (Subject::ActiveController, Value::Number(n)) => {
                        self.controller(line, context, ControllerId(i32::try_from(*n).unwrap_or(i32::MAX)))
                    }
                    (Subject::Owner(..), Value::Client(client)) => self.consumer(line, context, client),
                    (_, Value::Brokers(brokers)) => {
                        brokers.iter().try_for_each(|broker| self.broker(line, context, *broker))
                    }
                    _ => Ok(()),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::string::{String, ToString};

    use crate::lesson::parse;

    /// A one-step lesson whose task starts `consumer` (unless empty) and checks `check`.
    fn lesson(consumer: &str, check: &str) -> String {
        [
            "# Groups",
            "",
            "```cluster",
            "brokers 3",
            "topic orders partitions=3 replication-factor=3",
            "```",
            "",
            "## Step: Consume",
            "",
            "```kafkalab",
            "producer tx transactional.id=t1",
            consumer,
            "```",
            "",
            "```task",
            "goal: Watch.",
            &alloc::format!("check: {check}"),
            "hint: wait a moment",
            "solution: advance 1s",
            "```",
        ]
        .join("\n")
    }

    fn error(consumer: &str, check: &str) -> Option<String> {
        parse("lessons/groups.md", &lesson(consumer, check)).err().map(|e| e.to_string())
    }

    #[test]
    fn any_group_id_goes_because_consumers_create_groups() {
        assert_eq!(error("", "group billing == Stable"), None);
        assert_eq!(error("", "duplicates night-shift == 0"), None);
        assert_eq!(error("", "committed billing orders/1 == 4"), None);
    }

    #[test]
    fn a_client_an_expectation_names_must_have_been_started_earlier() {
        let consumer = "consumer alice group=billing topics=orders";
        assert_eq!(error(consumer, "processed alice == 3"), None);
        assert_eq!(error(consumer, "owner orders/0 billing == alice"), None);
        assert_eq!(error(consumer, "client alice == dead"), None);
        assert_eq!(error("", "transaction tx == Ongoing"), None);
        let missing = error("", "processed alice == 3").expect("alice was never started");
        assert!(missing.starts_with("lessons/groups.md:17: in a task's check: there is no client alice"), "{missing}");
        let missing = error("", "owner orders/0 billing == alice").expect("alice was never started");
        assert!(missing.starts_with("lessons/groups.md:17:") && missing.contains("no client alice"), "{missing}");
        assert!(error("", "client bob == alive").is_some_and(|e| e.contains("no client bob")));
    }

    #[test]
    fn client_expectations_name_the_right_kind_of_client() {
        let consumer = "consumer alice group=billing topics=orders";
        let producer = error(consumer, "processed tx == 1").expect("tx is a producer");
        assert!(producer.ends_with("tx is a producer, not a consumer"), "{producer}");
        let consumer_error = error(consumer, "transaction alice == Ongoing").expect("alice is a consumer");
        assert!(consumer_error.contains("not a producer with a transactional.id"), "{consumer_error}");
    }

    #[test]
    fn partitions_in_group_expectations_must_exist() {
        let wrong = error("", "lag billing orders/3 == 0").expect("orders has three partitions");
        assert!(wrong.contains("there is no partition orders/3"), "{wrong}");
        let wrong = error("", "lso ordrs/0 == 0").expect("no topic ordrs");
        assert!(wrong.contains("unknown topic \"ordrs\""), "{wrong}");
        assert!(error("", "lso orders/0 on 4 == 0").is_some_and(|e| e.contains("no broker 4")));
    }
}
