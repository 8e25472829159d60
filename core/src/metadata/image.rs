//! The metadata image: what applying the metadata log in order gives. The controller reads it
//! to decide; brokers read it to know their roles and settings; the page draws it.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use serde::{Deserialize, Serialize};

use crate::config::ClusterConfig;
use crate::ids::{BrokerId, TopicPartition};
use crate::partition_log::LogConfig;
use crate::topology::{new_partitions, PartitionState};

use super::record::{ConfigName, MetadataRecord};

/// What the metadata says of one broker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokerRegistration {
    /// The epoch of its current registration (KRaft: the offset of its registration record);
    /// none until it first registers (at start the cluster is taken as already running, its
    /// brokers unfenced, in their first incarnation).
    pub broker_epoch: Option<u64>,
    /// The incarnation that registration came from (1 for the first start).
    pub incarnation: u64,
    pub fenced: bool,
}

/// The settings that can change while the cluster runs, as the metadata holds them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DynamicConfig {
    pub min_insync_replicas: i32,
    pub unclean_leader_election_enable: bool,
    pub auto_leader_rebalance_enable: bool,
    pub auto_create_topics_enable: bool,
    pub num_partitions: i32,
    pub default_replication_factor: i32,
}

impl DynamicConfig {
    /// The setting's value as Kafka writes it (`2`, `true`).
    pub fn value(&self, name: ConfigName) -> String {
        match name {
            ConfigName::MinInsyncReplicas => self.min_insync_replicas.to_string(),
            ConfigName::UncleanLeaderElectionEnable => self.unclean_leader_election_enable.to_string(),
            ConfigName::AutoLeaderRebalanceEnable => self.auto_leader_rebalance_enable.to_string(),
            ConfigName::AutoCreateTopicsEnable => self.auto_create_topics_enable.to_string(),
            ConfigName::NumPartitions => self.num_partitions.to_string(),
            ConfigName::DefaultReplicationFactor => self.default_replication_factor.to_string(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataImage {
    /// How many records have been applied: the metadata's version.
    pub version: u64,
    pub brokers: BTreeMap<BrokerId, BrokerRegistration>,
    /// Each topic's partition count.
    pub topics: BTreeMap<String, i32>,
    /// Each topic's log settings.
    pub topic_configs: BTreeMap<String, LogConfig>,
    /// Each topic's id: it tells a topic from one of the same name deleted before (Kafka's
    /// topic ids, KIP-516). The lab numbers topics in the order the log creates them, so every
    /// node that applies the same log gives a topic the same id.
    pub topic_ids: BTreeMap<String, u64>,
    /// The id the next new topic gets.
    pub next_topic_id: u64,
    pub partitions: BTreeMap<TopicPartition, PartitionState>,
    pub config: DynamicConfig,
    /// The first producer id no broker has been given yet.
    pub next_producer_id: i64,
}

impl MetadataImage {
    /// The image of a cluster that is already running: brokers unfenced, the configured topics
    /// created with every partition led by its preferred replica and all replicas in sync.
    pub fn bootstrap(config: &ClusterConfig) -> Self {
        let brokers = (1..=config.broker_count)
            .map(|id| (BrokerId(id), BrokerRegistration { broker_epoch: None, incarnation: 1, fenced: false }))
            .collect();
        let mut image = MetadataImage {
            version: 0,
            brokers,
            topics: BTreeMap::new(),
            topic_configs: BTreeMap::new(),
            topic_ids: BTreeMap::new(),
            next_topic_id: 1,
            partitions: BTreeMap::new(),
            next_producer_id: 0,
            config: DynamicConfig {
                min_insync_replicas: config.min_insync_replicas,
                unclean_leader_election_enable: config.unclean_leader_election_enable,
                auto_leader_rebalance_enable: config.auto_leader_rebalance_enable,
                auto_create_topics_enable: config.auto_create_topics_enable,
                num_partitions: config.num_partitions,
                default_replication_factor: config.default_replication_factor,
            },
        };
        for topic in &config.topics {
            let states =
                new_partitions(&topic.name, 0..topic.partitions, topic.replication_factor, config.broker_count, 0);
            image.add_topic(&topic.name, topic.partitions);
            image.topic_configs.insert(topic.name.clone(), topic.log.clone());
            for state in states {
                image.partitions.insert(state.partition.clone(), state);
            }
        }
        image
    }

    /// Applies every record of a batch, in order.
    pub fn apply_batch(&mut self, batch: &[MetadataRecord]) {
        for record in batch {
            self.apply(record);
        }
    }

    /// Applies one record. Records come from the controller, which only writes sound ones.
    pub fn apply(&mut self, record: &MetadataRecord) {
        self.version += 1;
        match record {
            MetadataRecord::RegisterBroker { broker, broker_epoch, incarnation } => {
                let registration = self.brokers.entry(*broker).or_insert(BrokerRegistration {
                    broker_epoch: None,
                    incarnation: 0,
                    fenced: true,
                });
                registration.broker_epoch = Some(*broker_epoch);
                registration.incarnation = *incarnation;
            }
            MetadataRecord::FenceBroker { broker, .. } => {
                if let Some(registration) = self.brokers.get_mut(broker) {
                    registration.fenced = true;
                }
            }
            MetadataRecord::UnfenceBroker { broker } => {
                if let Some(registration) = self.brokers.get_mut(broker) {
                    registration.fenced = false;
                }
            }
            MetadataRecord::Topic { name, partitions } => self.add_topic(name, *partitions),
            MetadataRecord::RemoveTopic { name } => {
                self.topics.remove(name);
                self.topic_configs.remove(name);
                self.topic_ids.remove(name);
                self.partitions.retain(|partition, _| &*partition.topic != name.as_str());
            }
            MetadataRecord::TopicConfig { name, config } => {
                self.topic_configs.insert(name.clone(), config.clone());
            }
            MetadataRecord::Partition { state } | MetadataRecord::PartitionChange { state, .. } => {
                self.partitions.insert(state.partition.clone(), state.clone());
            }
            MetadataRecord::Config { name, value } => match name {
                ConfigName::MinInsyncReplicas => {
                    self.config.min_insync_replicas = value.parse().unwrap_or(self.config.min_insync_replicas)
                }
                ConfigName::UncleanLeaderElectionEnable => self.config.unclean_leader_election_enable = value == "true",
                ConfigName::AutoLeaderRebalanceEnable => self.config.auto_leader_rebalance_enable = value == "true",
                ConfigName::AutoCreateTopicsEnable => self.config.auto_create_topics_enable = value == "true",
                ConfigName::NumPartitions => {
                    self.config.num_partitions = value.parse().unwrap_or(self.config.num_partitions)
                }
                ConfigName::DefaultReplicationFactor => {
                    self.config.default_replication_factor =
                        value.parse().unwrap_or(self.config.default_replication_factor)
                }
            },
            MetadataRecord::ProducerIds { next_producer_id, .. } => {
                self.next_producer_id = self.next_producer_id.max(*next_producer_id)
            }
        }
    }

    /// A topic is created (it gets the next id) or grows to `partitions`.
    fn add_topic(&mut self, name: &str, partitions: i32) {
        if self.topics.insert(String::from(name), partitions).is_none() {
            self.topic_ids.insert(String::from(name), self.next_topic_id);
            self.next_topic_id += 1;
        }
    }

    /// The id of the topic named `name` now, if it exists.
    pub fn topic_id(&self, name: &str) -> Option<u64> {
        self.topic_ids.get(name).copied()
    }

    /// Registered or taken as running, and not fenced: a broker that can lead.
    pub fn is_live(&self, broker: BrokerId) -> bool {
        self.brokers.get(&broker).is_some_and(|b| !b.fenced)
    }

    pub fn is_fenced(&self, broker: BrokerId) -> bool {
        self.brokers.get(&broker).is_none_or(|b| b.fenced)
    }

    pub fn partition(&self, partition: &TopicPartition) -> Option<&PartitionState> {
        self.partitions.get(partition)
    }

    /// A topic's log settings (Kafka's defaults for a topic that set none).
    pub fn log_config(&self, topic: &str) -> LogConfig {
        self.topic_configs.get(topic).cloned().unwrap_or_default()
    }

    /// How many partitions a topic has, if it exists.
    pub fn partition_count(&self, topic: &str) -> Option<i32> {
        self.topics.get(topic).copied()
    }
}

/// What a client knows of the cluster: the metadata a producer or consumer would have from its
/// last Metadata request. The simulator hands clients the committed metadata, as if they had
/// just refreshed it.
pub trait ClientMetadata {
    /// How many partitions `topic` has, if it exists.
    fn partition_count(&self, topic: &str) -> Option<i32>;
    /// The partition's leader, if it has one.
    fn leader(&self, partition: &TopicPartition) -> Option<BrokerId>;
    /// The live brokers, any of which answers FindCoordinator and InitProducerId.
    fn brokers(&self) -> alloc::vec::Vec<BrokerId>;
}

impl ClientMetadata for MetadataImage {
    fn partition_count(&self, topic: &str) -> Option<i32> {
        MetadataImage::partition_count(self, topic)
    }

    fn leader(&self, partition: &TopicPartition) -> Option<BrokerId> {
        self.partitions.get(partition).and_then(|state| state.leader)
    }

    fn brokers(&self) -> alloc::vec::Vec<BrokerId> {
        self.brokers.iter().filter(|(_, registration)| !registration.fenced).map(|(id, _)| *id).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::TopicPartition;

    #[test]
    fn removing_a_topic_drops_its_partitions_and_settings_and_a_new_one_of_that_name_gets_a_new_id() {
        let mut image = MetadataImage::bootstrap(&ClusterConfig::default());
        let first_id = image.topic_id("orders").expect("bootstrap topics have ids");
        image.apply(&MetadataRecord::RemoveTopic { name: String::from("orders") });
        assert_eq!(image.partition_count("orders"), None);
        assert!(image.partition(&TopicPartition::new("orders", 0)).is_none());
        assert!(!image.topic_configs.contains_key("orders"));
        assert_eq!(image.topic_id("orders"), None);
        image.apply(&MetadataRecord::Topic { name: String::from("orders"), partitions: 1 });
        let second_id = image.topic_id("orders").expect("created again");
        assert_ne!(first_id, second_id);
        image.apply(&MetadataRecord::Topic { name: String::from("orders"), partitions: 2 });
        assert_eq!(image.topic_id("orders"), Some(second_id), "growing keeps the id");
    }
}
