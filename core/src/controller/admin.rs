//! An administrator's requests: create a topic, add partitions (never remove them), delete a
//! topic, elect preferred leaders, change a cluster-wide setting. Refusals carry Kafka's error
//! codes and messages. Each change is a check (on the speculative image) and a write, so the
//! clients' batched requests ([`super::topic_requests`]) reuse them topic by topic.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::config::is_legal_topic_name;
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, TopicPartition};
use crate::message::{AdminError, AdminRequest, Message, NodeId};
use crate::metadata::{ConfigName, MetadataRecord};
use crate::partition_log::LogConfig;
use crate::placement::{CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC};
use crate::topology::new_partitions;

use super::protocol::CreatedTopic;
use super::Controller;

/// How many producer ids a broker gets at a time (Kafka's `ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`).
pub const PRODUCER_ID_BLOCK_SIZE: i64 = 1000;

pub(super) fn refuse<T>(code: ErrorCode, message: impl Into<String>) -> Result<T, AdminError> {
    Err(AdminError { code, message: message.into() })
}

impl Controller {
    pub(super) fn handle_admin(&mut self, request: AdminRequest) -> Result<(), AdminError> {
        match request {
            AdminRequest::CreateTopic { name, partitions, replication_factor, config } => {
                self.create_topic(name, partitions, replication_factor, config)
            }
            AdminRequest::CreatePartitions { topic, count } => self.create_partitions(topic, count),
            AdminRequest::ElectPreferredLeaders { partitions } => self.elect_preferred_on_request(partitions),
            AdminRequest::AlterConfig { name, value } => self.alter_config(name, value),
            AdminRequest::DeleteTopic { name } => self.delete_topic(&name),
        }
    }

    /// Gives a broker the next block of producer ids, recorded so no id is given twice, even
    /// across controller failovers (KRaft's `ProducerIdControlManager`).
    pub(super) fn allocate_producer_ids(&mut self, from: NodeId, broker: BrokerId, broker_epoch: u64) {
        let current = self.speculative.brokers.get(&broker).and_then(|b| b.broker_epoch) == Some(broker_epoch);
        let result = if current {
            let first = self.speculative.next_producer_id;
            let next_producer_id = first + PRODUCER_ID_BLOCK_SIZE;
            self.write(alloc::vec![MetadataRecord::ProducerIds { broker, broker_epoch, next_producer_id }]);
            Ok((first, PRODUCER_ID_BLOCK_SIZE))
        } else {
            Err(ErrorCode::StaleBrokerEpoch)
        };
        self.respond_when_committed(from, Message::AllocateProducerIdsResponse { result });
    }

    /// The console's CreateTopics of one topic.
    fn create_topic(
        &mut self,
        name: String,
        partitions: i32,
        replication_factor: i32,
        config: LogConfig,
    ) -> Result<(), AdminError> {
        let created = self.check_new_topic(&name, partitions, replication_factor, &config)?;
        self.write_new_topic(&name, created, config);
        Ok(())
    }

    /// Whether a topic can be created as asked, and its shape with `-1` read as the cluster's
    /// defaults (`num.partitions`, `default.replication.factor`), checked in Kafka's order:
    /// name, existence, partitions, replication factor, settings.
    pub(super) fn check_new_topic(
        &self,
        name: &str,
        partitions: i32,
        replication_factor: i32,
        config: &LogConfig,
    ) -> Result<CreatedTopic, AdminError> {
        if !is_legal_topic_name(name) {
            return refuse(
                ErrorCode::InvalidTopicException,
                format!("Topic name \"{name}\" is illegal: use 1 to 249 characters from ASCII alphanumerics, '.', '_' and '-'."),
            );
        }
        if self.speculative.topics.contains_key(name) {
            return refuse(ErrorCode::TopicAlreadyExists, format!("Topic '{name}' already exists."));
        }
        let defaults = &self.speculative.config;
        let partitions = if partitions == -1 { defaults.num_partitions } else { partitions };
        let replication_factor =
            if replication_factor == -1 { defaults.default_replication_factor } else { replication_factor };
        if partitions < 1 {
            return refuse(ErrorCode::InvalidPartitions, "Number of partitions must be larger than 0.");
        }
        let brokers = self.speculative.brokers.len() as i32;
        if replication_factor < 1 {
            return refuse(ErrorCode::InvalidReplicationFactor, "Replication factor must be larger than 0.");
        }
        if replication_factor > brokers {
            return refuse(
                ErrorCode::InvalidReplicationFactor,
                format!("Replication factor: {replication_factor} larger than available brokers: {brokers}."),
            );
        }
        if let Err(error) = config.validate() {
            return refuse(ErrorCode::InvalidConfig, format!("{error}"));
        }
        Ok(CreatedTopic { partitions, replication_factor })
    }

    /// Writes a checked topic: its `TopicRecord`, settings and partitions, in one batch.
    pub(super) fn write_new_topic(&mut self, name: &str, created: CreatedTopic, config: LogConfig) {
        let CreatedTopic { partitions, replication_factor } = created;
        let brokers = self.speculative.brokers.len() as i32;
        let start = self.speculative.partitions.len() as i32;
        let mut records = alloc::vec![
            MetadataRecord::Topic { name: name.to_string(), partitions },
            MetadataRecord::TopicConfig { name: name.to_string(), config },
        ];
        for state in new_partitions(name, 0..partitions, replication_factor, brokers, start) {
            records.push(MetadataRecord::Partition { state });
        }
        self.write(records);
    }

    fn create_partitions(&mut self, topic: String, count: i32) -> Result<(), AdminError> {
        let current = self.check_new_partitions(&topic, count)?;
        self.write_new_partitions(&topic, current, count);
        Ok(())
    }

    /// Whether `topic` can grow to `count` partitions (never fewer, never the same); its
    /// current count if so.
    pub(super) fn check_new_partitions(&self, topic: &str, count: i32) -> Result<i32, AdminError> {
        let Some(current) = self.speculative.partition_count(topic) else {
            return refuse(ErrorCode::UnknownTopicOrPartition, format!("Topic '{topic}' does not exist."));
        };
        if count < current {
            return refuse(
                ErrorCode::InvalidPartitions,
                format!("Topic currently has {current} partitions, which is higher than the requested {count}."),
            );
        }
        if count == current {
            return refuse(ErrorCode::InvalidPartitions, format!("Topic already has {current} partitions."));
        }
        Ok(current)
    }

    /// Writes a checked growth: the new count and the new partitions, with the replication
    /// factor of partition 0.
    pub(super) fn write_new_partitions(&mut self, topic: &str, current: i32, count: i32) {
        let replication_factor =
            self.speculative.partition(&TopicPartition::new(topic, 0)).map_or(1, |state| state.replicas.len() as i32);
        let brokers = self.speculative.brokers.len() as i32;
        let mut records = alloc::vec![MetadataRecord::Topic { name: topic.to_string(), partitions: count }];
        for state in new_partitions(topic, current..count, replication_factor, brokers, 0) {
            records.push(MetadataRecord::Partition { state });
        }
        self.write(records);
    }

    /// DeleteTopics of one topic: a `RemoveTopicRecord`, after which brokers drop its replicas.
    pub(super) fn delete_topic(&mut self, name: &str) -> Result<(), AdminError> {
        self.check_delete(name)?;
        self.write(alloc::vec![MetadataRecord::RemoveTopic { name: name.to_string() }]);
        Ok(())
    }

    /// A topic can be deleted if it exists and is not internal: the coordinators' topics stay
    /// (Kafka's tools refuse to delete them; here the controller does, with INVALID_REQUEST).
    fn check_delete(&self, name: &str) -> Result<(), AdminError> {
        if name == CONSUMER_OFFSETS_TOPIC || name == TRANSACTION_STATE_TOPIC {
            return refuse(
                ErrorCode::InvalidRequest,
                format!("Topic {name} is a Kafka internal topic and is not allowed to be deleted."),
            );
        }
        if !self.speculative.topics.contains_key(name) {
            return refuse(ErrorCode::UnknownTopicOrPartition, format!("Topic '{name}' does not exist."));
        }
        Ok(())
    }

    fn elect_preferred_on_request(&mut self, partitions: Option<Vec<TopicPartition>>) -> Result<(), AdminError> {
        if let Some(wanted) = &partitions {
            for partition in wanted {
                let Some(state) = self.speculative.partition(partition) else {
                    return refuse(ErrorCode::UnknownTopicOrPartition, format!("{partition} does not exist."));
                };
                let preferred = state.replicas[0];
                if state.leader == Some(preferred) {
                    return refuse(
                        ErrorCode::ElectionNotNeeded,
                        format!("Leader election not needed for {partition}."),
                    );
                }
                if !state.isr.contains(&preferred) || !self.speculative.is_live(preferred) {
                    return refuse(
                        ErrorCode::PreferredLeaderNotAvailable,
                        format!("Preferred replica {preferred} of {partition} is not live and in sync."),
                    );
                }
            }
        }
        self.elect_preferred(partitions.as_deref());
        Ok(())
    }

    fn alter_config(&mut self, name: ConfigName, value: String) -> Result<(), AdminError> {
        let valid = if name.is_boolean() {
            value == "true" || value == "false"
        } else {
            value.parse::<i32>().is_ok_and(|n| n >= 1)
        };
        if !valid {
            let expected = if name.is_boolean() { "true or false" } else { "an integer of at least 1" };
            return refuse(
                ErrorCode::InvalidConfig,
                format!("Invalid value {value} for {}: expected {expected}.", name.key()),
            );
        }
        self.write(alloc::vec![MetadataRecord::Config { name, value: value.to_string() }]);
        if name == ConfigName::UncleanLeaderElectionEnable && value == "true" {
            // As Kafka's controller does when the setting is turned on: partitions that wait for
            // an in-sync replica get an out-of-sync one now.
            self.elect_leaderless(None);
        }
        Ok(())
    }
}
