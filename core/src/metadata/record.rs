//! The metadata records: each change to the cluster's metadata is one record in the metadata
//! log, named after KRaft's (`RegisterBrokerRecord`, `FenceBrokerRecord`, `TopicRecord`,
//! `PartitionRecord`, `PartitionChangeRecord`, `ConfigRecord`). Where Kafka's record holds only
//! the new values, ours also says why (an election's kind, a fence's reason) for the learner.

use alloc::string::String;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::ids::{BrokerId, TopicPartition};
use crate::partition_log::LogConfig;
use crate::topology::PartitionState;
use crate::trace::FenceReason;

/// How a partition got its leader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ElectionKind {
    /// From the ISR, after the leader was fenced or when a leaderless partition's replica came back.
    Clean,
    /// From outside the ISR (`unclean.leader.election.enable`): what it lacked is lost.
    Unclean,
    /// Back to the first assigned replica (preferred leader election or auto rebalance).
    Preferred,
    /// Away from a broker shutting down cleanly.
    ControlledShutdown,
}

/// A cluster-wide setting that can change while the cluster runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ConfigName {
    MinInsyncReplicas,
    UncleanLeaderElectionEnable,
    AutoLeaderRebalanceEnable,
    AutoCreateTopicsEnable,
    NumPartitions,
    DefaultReplicationFactor,
}

impl ConfigName {
    pub const ALL: [ConfigName; 6] = [
        ConfigName::MinInsyncReplicas,
        ConfigName::UncleanLeaderElectionEnable,
        ConfigName::AutoLeaderRebalanceEnable,
        ConfigName::AutoCreateTopicsEnable,
        ConfigName::NumPartitions,
        ConfigName::DefaultReplicationFactor,
    ];

    /// Kafka's name for it.
    pub fn key(self) -> &'static str {
        match self {
            ConfigName::MinInsyncReplicas => "min.insync.replicas",
            ConfigName::UncleanLeaderElectionEnable => "unclean.leader.election.enable",
            ConfigName::AutoLeaderRebalanceEnable => "auto.leader.rebalance.enable",
            ConfigName::AutoCreateTopicsEnable => "auto.create.topics.enable",
            ConfigName::NumPartitions => "num.partitions",
            ConfigName::DefaultReplicationFactor => "default.replication.factor",
        }
    }

    /// Whether its value is `true` or `false` (else a whole number of at least 1).
    pub fn is_boolean(self) -> bool {
        matches!(
            self,
            ConfigName::UncleanLeaderElectionEnable
                | ConfigName::AutoLeaderRebalanceEnable
                | ConfigName::AutoCreateTopicsEnable
        )
    }

    pub fn from_key(key: &str) -> Option<ConfigName> {
        ConfigName::ALL.into_iter().find(|name| name.key() == key)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetadataRecord {
    /// A broker registered (again), under a new broker epoch.
    RegisterBroker {
        broker: BrokerId,
        broker_epoch: u64,
        incarnation: u64,
    },
    FenceBroker {
        broker: BrokerId,
        reason: FenceReason,
    },
    UnfenceBroker {
        broker: BrokerId,
    },
    /// A topic was created with this many partitions (or grew to it).
    Topic {
        name: String,
        partitions: i32,
    },
    /// A topic was deleted with all its partitions (KRaft's `RemoveTopicRecord`): brokers drop
    /// its replicas and logs.
    RemoveTopic {
        name: String,
    },
    /// A topic's log settings were set (KRaft's `ConfigRecord` for a topic resource).
    TopicConfig {
        name: String,
        config: LogConfig,
    },
    /// A partition was created.
    Partition {
        state: PartitionState,
    },
    /// A partition's leader or ISR changed; `election` says how, when the leader changed.
    PartitionChange {
        state: PartitionState,
        election: Option<ElectionKind>,
    },
    /// A dynamic setting changed; the value is as written (`2`, `true`).
    Config {
        name: ConfigName,
        value: String,
    },
    /// A broker was given the producer ids below `next_producer_id`, from the previous value
    /// on (KRaft's `ProducerIdsRecord`, written for `AllocateProducerIds`).
    ProducerIds {
        broker: BrokerId,
        broker_epoch: u64,
        next_producer_id: i64,
    },
}

impl MetadataRecord {
    /// The partition a record concerns, if one.
    pub fn partition(&self) -> Option<&TopicPartition> {
        match self {
            MetadataRecord::Partition { state } | MetadataRecord::PartitionChange { state, .. } => {
                Some(&state.partition)
            }
            _ => None,
        }
    }
}

struct Brokers<'a>(&'a [BrokerId]);

impl fmt::Display for Brokers<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "[")?;
        for (i, broker) in self.0.iter().enumerate() {
            write!(f, "{}{broker}", if i > 0 { " " } else { "" })?;
        }
        write!(f, "]")
    }
}

impl fmt::Display for MetadataRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetadataRecord::RegisterBroker { broker, broker_epoch, .. } => {
                write!(f, "RegisterBroker {broker} epoch {broker_epoch}")
            }
            MetadataRecord::FenceBroker { broker, .. } => write!(f, "FenceBroker {broker}"),
            MetadataRecord::UnfenceBroker { broker } => write!(f, "UnfenceBroker {broker}"),
            MetadataRecord::Topic { name, partitions } => write!(f, "Topic {name} partitions {partitions}"),
            MetadataRecord::RemoveTopic { name } => write!(f, "RemoveTopic {name}"),
            MetadataRecord::Partition { state } => write!(
                f,
                "Partition {} replicas {} leader {}",
                state.partition,
                Brokers(&state.replicas),
                state.leader.map_or(-1, |b| b.0)
            ),
            MetadataRecord::PartitionChange { state, .. } => write!(
                f,
                "PartitionChange {} leader {} epoch {} isr {}",
                state.partition,
                state.leader.map_or(-1, |b| b.0),
                state.leader_epoch,
                Brokers(&state.isr)
            ),
            MetadataRecord::Config { name, value } => write!(f, "Config {}={value}", name.key()),
            MetadataRecord::ProducerIds { broker, next_producer_id, .. } => {
                write!(f, "ProducerIds broker {broker} next {next_producer_id}")
            }
            MetadataRecord::TopicConfig { name, config } => {
                write!(f, "TopicConfig {name}")?;
                config.overrides().iter().try_for_each(|(key, value)| write!(f, " {key}={value}"))
            }
        }
    }
}
