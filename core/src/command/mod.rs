//! The command language: one line per thing a person, a lesson or a test does to a run.
//!
//! ```text
//! kill 2                                      crash node 2 (its logs survive); in the combined
//!                                             layout that is broker 2 and controller 2
//! kill c2                                     crash controller 2 (in the dedicated layout, the
//!                                             node of its own; in the combined one, node 2)
//! restart 2                                   start it again (restart c2 likewise)
//! produce orders key=alice value=10 acks=all  send one record (acks 0, 1 or all; default all)
//! produce orders partition=1 value="a b"      choose the partition; quote values with spaces
//! advance 500ms                               let simulated time pass (ms or s)
//! split 1 | 2 3                               cut every link between the groups
//! split 1 c1 | 2 3 c2 c3                      ... naming controllers puts them in a group
//! split 1 | 2 3 controller                    ... `controller` names every controller
//! heal                                        join the network again
//! loss 10%                                    lose this share of all messages (0% to stop)
//! consume orders                              read every partition from the beginning
//! shutdown 2                                  stop broker 2 cleanly (controlled shutdown)
//! create-topic payments partitions=6 replication-factor=3
//! create-topic users cleanup.policy=compact segment.ms=60000   (topic settings by Kafka's names)
//! alter-topic orders partitions=6             add partitions (never fewer)
//! delete-topic payments                       delete a topic: brokers drop its replicas and logs
//! elect-preferred orders/0                    move leadership back to the preferred replica
//!                                             (of every partition when none is named)
//! set min.insync.replicas=2                   change a cluster-wide setting (also
//!                                             unclean.leader.election.enable, auto.leader.rebalance.enable,
//!                                             auto.create.topics.enable, num.partitions,
//!                                             default.replication.factor)
//! ```
//!
//! Named producers and consumers (`producer p1 ...`, `consumer alice group=billing ...`,
//! `begin`/`commit`/`abort`, `stop`, and `kill`/`restart` of a client) are in [`clients`].
//!
//! In a split, a node that no group names keeps all its links. In the combined layout broker
//! `n` and controller `n` are one node: naming either names both.
//!
//! Lines are parsed into [`Command`]s and printed back in the same form, so a run's actions can
//! be stored (in a URL, a lesson) and replayed exactly.

pub mod clients;
mod parse;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::ids::{BrokerId, ControllerId, TopicPartition};
use crate::message::Acks;
use crate::metadata::ConfigName;
use crate::partition_log::LogConfig;

pub use clients::{ClientName, CrashSetting, Setting};
pub use parse::ParseError;
pub(crate) use parse::{error, parse_partition, tokenize, Token};

/// A node as commands name it: `2` is broker 2, `c2` controller 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum NodeName {
    Broker(BrokerId),
    Controller(ControllerId),
}

/// What a split's group can name: a node, or every controller (`controller`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SplitMember {
    Node(NodeName),
    AllControllers,
}

impl fmt::Display for NodeName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NodeName::Broker(id) => write!(f, "{id}"),
            NodeName::Controller(id) => write!(f, "c{id}"),
        }
    }
}

impl From<BrokerId> for NodeName {
    fn from(broker: BrokerId) -> Self {
        NodeName::Broker(broker)
    }
}

impl From<ControllerId> for NodeName {
    fn from(controller: ControllerId) -> Self {
        NodeName::Controller(controller)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Command {
    Kill {
        node: NodeName,
    },
    Restart {
        node: NodeName,
    },
    Produce {
        topic: String,
        partition: Option<i32>,
        key: Option<String>,
        value: Option<String>,
        acks: Acks,
        /// Sent through this named producer (with its own acks) instead of the console's.
        producer: Option<ClientName>,
    },
    Advance {
        ms: u64,
    },
    Split {
        groups: Vec<Vec<SplitMember>>,
    },
    Heal,
    Loss {
        percent: u8,
    },
    Shutdown {
        broker: BrokerId,
    },
    CreateTopic {
        name: String,
        partitions: i32,
        replication_factor: i32,
        /// Its log settings; Kafka's defaults unless the line names others.
        config: LogConfig,
    },
    AlterTopic {
        name: String,
        partitions: i32,
    },
    /// Delete a topic (Kafka's DeleteTopics): its partitions and their logs go.
    DeleteTopic {
        name: String,
    },
    /// Preferred leader election for these partitions, or all when empty.
    ElectPreferred {
        partitions: Vec<TopicPartition>,
    },
    Set {
        name: ConfigName,
        value: String,
    },
    /// Read every partition of a topic from the beginning, as Kafka's console consumer does
    /// with `--from-beginning` and no group.
    Consume {
        topic: String,
    },
    /// Start a named producer with the Java client's settings.
    Producer {
        name: ClientName,
        settings: Vec<Setting>,
    },
    /// Start a named consumer in a group, with its application's behaviour.
    Consumer {
        name: ClientName,
        settings: Vec<Setting>,
    },
    /// Close a client cleanly (a consumer commits and leaves its group).
    Stop {
        client: ClientName,
    },
    /// Crash a client's process: it says goodbye to nobody.
    KillClient {
        client: ClientName,
    },
    /// Start a crashed or stopped client again, with the same settings.
    RestartClient {
        client: ClientName,
    },
    /// A transactional producer begins, commits or aborts a transaction.
    Begin {
        producer: ClientName,
    },
    Commit {
        producer: ClientName,
    },
    Abort {
        producer: ClientName,
    },
}

/// Writes a word, quoting it if it would not survive tokenizing.
struct Word<'a>(&'a str);

impl fmt::Display for Word<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() || self.0.contains([' ', '\t', '"', '|']) {
            // Quotes inside a value cannot be written; the parser has no escapes yet.
            write!(f, "\"{}\"", self.0.replace('"', "'"))
        } else {
            write!(f, "{}", self.0)
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Command::Kill { node } => write!(f, "kill {node}"),
            Command::Restart { node } => write!(f, "restart {node}"),
            Command::Advance { ms } if ms % 1000 == 0 && *ms > 0 => {
                write!(f, "advance {}s", ms / 1000)
            }
            Command::Advance { ms } => write!(f, "advance {ms}ms"),
            Command::Heal => write!(f, "heal"),
            Command::Loss { percent } => write!(f, "loss {percent}%"),
            Command::Shutdown { broker } => write!(f, "shutdown {broker}"),
            Command::CreateTopic { name, partitions, replication_factor, config } => {
                write!(f, "create-topic {name} partitions={partitions} replication-factor={replication_factor}")?;
                config.overrides().iter().try_for_each(|(key, value)| write!(f, " {key}={value}"))
            }
            Command::AlterTopic { name, partitions } => write!(f, "alter-topic {name} partitions={partitions}"),
            Command::DeleteTopic { name } => write!(f, "delete-topic {name}"),
            Command::ElectPreferred { partitions } => {
                write!(f, "elect-preferred")?;
                partitions.iter().try_for_each(|p| write!(f, " {p}"))
            }
            Command::Set { name, value } => write!(f, "set {}={value}", name.key()),
            Command::Consume { topic } => write!(f, "consume {topic}"),
            Command::Split { groups } => {
                write!(f, "split")?;
                for (index, group) in groups.iter().enumerate() {
                    if index > 0 {
                        write!(f, " |")?;
                    }
                    for member in group {
                        match member {
                            SplitMember::Node(node) => write!(f, " {node}")?,
                            SplitMember::AllControllers => write!(f, " controller")?,
                        }
                    }
                }
                Ok(())
            }
            Command::Producer { name, settings } => write!(f, "producer {name}{}", clients::Settings(settings)),
            Command::Consumer { name, settings } => write!(f, "consumer {name}{}", clients::Settings(settings)),
            Command::Stop { client } => write!(f, "stop {client}"),
            Command::KillClient { client } => write!(f, "kill {client}"),
            Command::RestartClient { client } => write!(f, "restart {client}"),
            Command::Begin { producer } => write!(f, "begin {producer}"),
            Command::Commit { producer } => write!(f, "commit {producer}"),
            Command::Abort { producer } => write!(f, "abort {producer}"),
            Command::Produce { topic, partition, key, value, acks, producer } => {
                write!(f, "produce {topic}")?;
                if let Some(partition) = partition {
                    write!(f, " partition={partition}")?;
                }
                if let Some(key) = key {
                    write!(f, " key={}", Word(key))?;
                }
                if let Some(value) = value {
                    write!(f, " value={}", Word(value))?;
                }
                if let Some(producer) = producer {
                    return write!(f, " producer={producer}");
                }
                let acks = match acks {
                    Acks::None => "0",
                    Acks::Leader => "1",
                    Acks::All => "all",
                };
                write!(f, " acks={acks}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn delete_topic_names_one_topic_and_prints_back_the_same() {
        let command = Command::parse("delete-topic payments").expect("parses");
        assert_eq!(command, Command::DeleteTopic { name: String::from("payments") });
        assert_eq!(command.to_string(), "delete-topic payments");
        assert_eq!(Command::parse("delete-topic").unwrap_err().message, "expected a topic name");
        assert_eq!(Command::parse("delete-topic a b").unwrap_err().column, 16);
    }

    #[test]
    fn the_topic_defaults_are_settings_set_can_change() {
        let command = Command::parse("set auto.create.topics.enable=false").expect("parses");
        assert_eq!(command, Command::Set { name: ConfigName::AutoCreateTopicsEnable, value: String::from("false") });
        assert_eq!(command.to_string(), "set auto.create.topics.enable=false");
        assert!(Command::parse("set num.partitions=3").is_ok());
        assert!(Command::parse("set default.replication.factor=2").is_ok());
    }
}
