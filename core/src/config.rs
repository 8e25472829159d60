//! The settings of a simulated cluster, with Kafka's names and, where they exist, its defaults.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::partition_log::LogConfig;

/// One topic to create when the cluster starts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TopicConfig {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    /// The topic's log settings (`cleanup.policy`, `retention.ms`, `segment.bytes`, ...).
    pub log: LogConfig,
}

/// Where the KRaft controllers run (`process.roles`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum ControllerLayout {
    /// Controller `n` runs in the same node as broker `n` (`process.roles=broker,controller`),
    /// as in the usual three-node setup: killing, restarting or cutting off node `n` does it to
    /// both.
    #[default]
    Combined,
    /// Controllers are nodes of their own (`process.roles=controller`), written `c1`, `c2`, ...
    Dedicated,
}

/// Everything that shapes a run besides the commands given to it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClusterConfig {
    /// The seed every random choice of the run derives from.
    pub seed: u64,
    /// Brokers are numbered `1..=broker_count`.
    pub broker_count: i32,
    /// The voters of the metadata quorum (`controller.quorum.voters`), numbered
    /// `1..=controller_count`.
    pub controller_count: i32,
    pub controller_layout: ControllerLayout,
    pub topics: Vec<TopicConfig>,
    /// `broker.heartbeat.interval.ms` (Kafka: 2000).
    pub broker_heartbeat_interval_ms: u64,
    /// `broker.session.timeout.ms` (Kafka: 9000): a broker silent this long is fenced.
    pub broker_session_timeout_ms: u64,
    /// `replica.lag.time.max.ms` (Kafka: 30000): a follower not caught up this long leaves the ISR.
    pub replica_lag_time_max_ms: u64,
    /// `replica.fetch.wait.max.ms` (Kafka: 500): how long a follower's fetch waits for data.
    pub replica_fetch_wait_max_ms: u64,
    /// `replica.fetch.backoff.ms` (Kafka: 1000): a follower's pause after a failed fetch.
    pub replica_fetch_backoff_ms: u64,
    /// `replica.socket.timeout.ms` (Kafka: 30000): how long a follower waits for a fetch answer.
    pub replica_socket_timeout_ms: u64,
    /// `request.timeout.ms` (Kafka: 30000): how long the producer waits for a produce answer.
    pub request_timeout_ms: u64,
    /// `min.insync.replicas` (Kafka: 1): the fewest in-sync replicas an `acks=all` write needs.
    pub min_insync_replicas: i32,
    /// `unclean.leader.election.enable` (Kafka: false): when no in-sync replica is left, let
    /// an out-of-sync one lead, losing what it lacks.
    pub unclean_leader_election_enable: bool,
    /// `auto.leader.rebalance.enable` (Kafka: true): move leadership back to preferred replicas
    /// when a broker leads too few of the partitions it prefers.
    pub auto_leader_rebalance_enable: bool,
    /// `leader.imbalance.check.interval.seconds` (Kafka: 300 s), in ms.
    pub leader_imbalance_check_interval_ms: u64,
    /// `leader.imbalance.per.broker.percentage` (Kafka: 10).
    pub leader_imbalance_per_broker_percentage: u32,
    /// `log.retention.check.interval.ms` (Kafka: 300000): how often brokers delete old segments.
    pub log_retention_check_interval_ms: u64,
    /// `log.cleaner.backoff.ms` (Kafka: 15000): how often the log cleaner looks for work.
    pub log_cleaner_backoff_ms: u64,
    /// One-way network latency between two nodes, drawn uniformly from this range.
    pub network_latency_min_ms: u64,
    pub network_latency_max_ms: u64,
    /// `offsets.topic.num.partitions`: the partitions of `__consumer_offsets`, which spread the
    /// groups' coordinators over the brokers. Kafka's default is 50; the lab's is 5, so the
    /// drawing stays readable (each partition is a replicated log like any other).
    pub offsets_topic_num_partitions: i32,
    /// `offsets.topic.replication.factor` (Kafka: 3), lowered to the broker count when fewer.
    pub offsets_topic_replication_factor: i32,
    /// `transaction.state.log.num.partitions`: the partitions of `__transaction_state`. Kafka's
    /// default is 50; the lab's is 5, for the same reason.
    pub transaction_state_log_num_partitions: i32,
    /// `transaction.state.log.replication.factor` (Kafka: 3), lowered to the broker count when
    /// fewer.
    pub transaction_state_log_replication_factor: i32,
    /// `group.initial.rebalance.delay.ms` (Kafka: 3000): how long a new group waits for more
    /// members before its first rebalance.
    pub group_initial_rebalance_delay_ms: u64,
    /// `auto.create.topics.enable` (Kafka: true): a Metadata request naming an unknown topic,
    /// from a client that allows it, makes the broker ask the controller to create it.
    pub auto_create_topics_enable: bool,
    /// `num.partitions` (Kafka: 1): the partitions of a topic created without a count (by
    /// auto-creation, or CreateTopics with -1).
    pub num_partitions: i32,
    /// `default.replication.factor` (Kafka: 1): the replicas of each partition of a topic
    /// created without a replication factor.
    pub default_replication_factor: i32,
}

impl Default for ClusterConfig {
    fn default() -> Self {
        ClusterConfig {
            seed: 1,
            broker_count: 3,
            controller_count: 3,
            controller_layout: ControllerLayout::Combined,
            topics: alloc::vec![TopicConfig {
                name: String::from("orders"),
                partitions: 3,
                replication_factor: 3,
                log: LogConfig::default(),
            }],
            broker_heartbeat_interval_ms: 2_000,
            broker_session_timeout_ms: 9_000,
            replica_lag_time_max_ms: 30_000,
            replica_fetch_wait_max_ms: 500,
            replica_fetch_backoff_ms: 1_000,
            replica_socket_timeout_ms: 30_000,
            request_timeout_ms: 30_000,
            min_insync_replicas: 1,
            unclean_leader_election_enable: false,
            auto_leader_rebalance_enable: true,
            leader_imbalance_check_interval_ms: 300_000,
            leader_imbalance_per_broker_percentage: 10,
            log_retention_check_interval_ms: 300_000,
            log_cleaner_backoff_ms: 15_000,
            network_latency_min_ms: 1,
            network_latency_max_ms: 5,
            offsets_topic_num_partitions: 5,
            offsets_topic_replication_factor: 3,
            transaction_state_log_num_partitions: 5,
            transaction_state_log_replication_factor: 3,
            group_initial_rebalance_delay_ms: 3_000,
            auto_create_topics_enable: true,
            num_partitions: 1,
            default_replication_factor: 1,
        }
    }
}

/// A configuration that cannot describe a working cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    NoBrokers,
    NoControllers,
    /// In the combined layout each controller needs a broker's node to run in.
    MoreCombinedControllersThanBrokers {
        controller_count: i32,
        broker_count: i32,
    },
    NoPartitions {
        topic: String,
    },
    ReplicationFactorOutOfRange {
        topic: String,
        replication_factor: i32,
        broker_count: i32,
    },
    DuplicateTopic {
        topic: String,
    },
    InvalidTopicName {
        topic: String,
    },
    HeartbeatNotShorterThanSession,
    SocketTimeoutBelowFetchWait,
    /// `num.partitions` or `default.replication.factor` below 1.
    TopicDefaultBelowOne {
        name: &'static str,
        value: i32,
    },
    LatencyRangeEmpty,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::NoBrokers => write!(f, "a cluster needs at least one broker"),
            ConfigError::NoControllers => write!(f, "a cluster needs at least one controller"),
            ConfigError::MoreCombinedControllersThanBrokers { controller_count, broker_count } => write!(
                f,
                "{controller_count} combined controllers need as many brokers to run beside, but there are {broker_count}"
            ),
            ConfigError::NoPartitions { topic } => {
                write!(f, "topic {topic}: a topic needs at least one partition")
            }
            ConfigError::ReplicationFactorOutOfRange { topic, replication_factor, broker_count } => write!(
                f,
                "topic {topic}: replication factor {replication_factor} must be between 1 and the \
                 broker count ({broker_count})"
            ),
            ConfigError::DuplicateTopic { topic } => write!(f, "topic {topic} is listed twice"),
            ConfigError::InvalidTopicName { topic } => {
                write!(f, "topic name {topic:?} is not legal: use 1 to 249 characters from [a-zA-Z0-9._-]")
            }
            ConfigError::TopicDefaultBelowOne { name, value } => write!(f, "{name} must be at least 1, not {value}"),
            ConfigError::SocketTimeoutBelowFetchWait => {
                write!(f, "replica.socket.timeout.ms must be at least replica.fetch.wait.max.ms")
            }
            ConfigError::HeartbeatNotShorterThanSession => {
                write!(f, "broker.heartbeat.interval.ms must be shorter than broker.session.timeout.ms")
            }
            ConfigError::LatencyRangeEmpty => {
                write!(f, "network latency minimum is above its maximum")
            }
        }
    }
}

/// Kafka's rule for topic names (`org.apache.kafka.common.internals.Topic.validate`).
pub fn is_legal_topic_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 249
        && name != "."
        && name != ".."
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
}

impl ClusterConfig {
    /// The controllers, in id order.
    pub fn controller_ids(&self) -> impl Iterator<Item = crate::ids::ControllerId> {
        (1..=self.controller_count).map(crate::ids::ControllerId)
    }

    /// Rejects settings no cluster could run with, before anything starts.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.broker_count < 1 {
            return Err(ConfigError::NoBrokers);
        }
        if self.controller_count < 1 {
            return Err(ConfigError::NoControllers);
        }
        if self.controller_layout == ControllerLayout::Combined && self.controller_count > self.broker_count {
            return Err(ConfigError::MoreCombinedControllersThanBrokers {
                controller_count: self.controller_count,
                broker_count: self.broker_count,
            });
        }
        for (i, topic) in self.topics.iter().enumerate() {
            if !is_legal_topic_name(&topic.name) {
                return Err(ConfigError::InvalidTopicName { topic: topic.name.clone() });
            }
            if self.topics[..i].iter().any(|t| t.name == topic.name) {
                return Err(ConfigError::DuplicateTopic { topic: topic.name.clone() });
            }
            if topic.partitions < 1 {
                return Err(ConfigError::NoPartitions { topic: topic.name.clone() });
            }
            if topic.replication_factor < 1 || topic.replication_factor > self.broker_count {
                return Err(ConfigError::ReplicationFactorOutOfRange {
                    topic: topic.name.clone(),
                    replication_factor: topic.replication_factor,
                    broker_count: self.broker_count,
                });
            }
        }
        for (name, value) in
            [("num.partitions", self.num_partitions), ("default.replication.factor", self.default_replication_factor)]
        {
            if value < 1 {
                return Err(ConfigError::TopicDefaultBelowOne { name, value });
            }
        }
        if self.broker_heartbeat_interval_ms >= self.broker_session_timeout_ms {
            return Err(ConfigError::HeartbeatNotShorterThanSession);
        }
        if self.replica_socket_timeout_ms < self.replica_fetch_wait_max_ms {
            return Err(ConfigError::SocketTimeoutBelowFetchWait);
        }
        if self.network_latency_min_ms > self.network_latency_max_ms {
            return Err(ConfigError::LatencyRangeEmpty);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_three_broker_lab() {
        let config = ClusterConfig::default();
        assert_eq!(config.validate(), Ok(()));
        assert_eq!(config.broker_count, 3);
        assert_eq!(config.topics[0].partitions, 3);
        assert_eq!(config.topics[0].replication_factor, 3);
    }

    #[test]
    fn combined_controllers_need_a_broker_each() {
        let config = ClusterConfig { broker_count: 2, topics: Vec::new(), ..ClusterConfig::default() };
        assert!(matches!(config.validate(), Err(ConfigError::MoreCombinedControllersThanBrokers { .. })));
        let config = ClusterConfig { controller_layout: ControllerLayout::Dedicated, ..config };
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn replication_factor_above_broker_count_is_rejected() {
        let mut config = ClusterConfig::default();
        config.topics[0].replication_factor = 4;
        assert!(matches!(
            config.validate(),
            Err(ConfigError::ReplicationFactorOutOfRange { replication_factor: 4, .. })
        ));
    }

    #[test]
    fn topic_defaults_are_kafkas_and_must_be_positive() {
        let config = ClusterConfig::default();
        assert!(config.auto_create_topics_enable);
        assert_eq!((config.num_partitions, config.default_replication_factor), (1, 1));
        let config = ClusterConfig { num_partitions: 0, ..ClusterConfig::default() };
        assert_eq!(config.validate(), Err(ConfigError::TopicDefaultBelowOne { name: "num.partitions", value: 0 }));
    }

    #[test]
    fn topic_names_follow_kafka_rules() {
        assert!(is_legal_topic_name("orders.v1_a-b"));
        assert!(!is_legal_topic_name(""));
        assert!(!is_legal_topic_name(".."));
        assert!(!is_legal_topic_name("a/b"));
        assert!(!is_legal_topic_name("."));
        assert!(is_legal_topic_name(&"a".repeat(249)));
        assert!(!is_legal_topic_name(&"a".repeat(250)));
    }
}
