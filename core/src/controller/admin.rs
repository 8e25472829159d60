//! An administrator's requests: create a topic, add partitions (never remove them), elect
//! preferred leaders, change a cluster-wide setting. Refusals carry Kafka's error codes and
//! messages.

use alloc::format;
use alloc::string::ToString;
use alloc::vec::Vec;

use crate::config::is_legal_topic_name;
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, TopicPartition};
use crate::message::{AdminError, AdminRequest, Message, NodeId};
use crate::metadata::{ConfigName, MetadataRecord};
use crate::partition_log::LogConfig;
use crate::topology::new_partitions;

use super::Controller;

/// How many producer ids a broker gets at a time (Kafka's `ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE`).
pub const PRODUCER_ID_BLOCK_SIZE: i64 = 1000;

fn refuse(code: ErrorCode, message: impl Into<alloc::string::String>) -> Result<(), AdminError> {
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

    fn create_topic(
        &mut self,
        name: alloc::string::String,
        partitions: i32,
        replication_factor: i32,
        config: LogConfig,
    ) -> Result<(), AdminError> {
        if !is_legal_topic_name(&name) {
            return refuse(
                ErrorCode::InvalidTopicException,
                format!("Topic name \"{name}\" is illegal: use 1 to 249 characters from ASCII alphanumerics, '.', '_' and '-'."),
            );
        }
        if self.speculative.topics.contains_key(&name) {
            return refuse(ErrorCode::TopicAlreadyExists, format!("Topic '{name}' already exists."));
        }
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
        let start = self.speculative.partitions.len() as i32;
        let mut records = alloc::vec![
            MetadataRecord::Topic { name: name.clone(), partitions },
            MetadataRecord::TopicConfig { name: name.clone(), config },
        ];
        for state in new_partitions(&name, 0..partitions, replication_factor, brokers, start) {
            records.push(MetadataRecord::Partition { state });
        }
        self.write(records);
        Ok(())
    }

    fn create_partitions(&mut self, topic: alloc::string::String, count: i32) -> Result<(), AdminError> {
        let Some(current) = self.speculative.partition_count(&topic) else {
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
        let replication_factor = self
            .speculative
            .partition(&TopicPartition::new(topic.clone(), 0))
            .map_or(1, |state| state.replicas.len() as i32);
        let brokers = self.speculative.brokers.len() as i32;
        let mut records = alloc::vec![MetadataRecord::Topic { name: topic.clone(), partitions: count }];
        for state in new_partitions(&topic, current..count, replication_factor, brokers, 0) {
            records.push(MetadataRecord::Partition { state });
        }
        self.write(records);
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

    fn alter_config(&mut self, name: ConfigName, value: alloc::string::String) -> Result<(), AdminError> {
        let valid = match name {
            ConfigName::MinInsyncReplicas => value.parse::<i32>().is_ok_and(|n| n >= 1),
            ConfigName::UncleanLeaderElectionEnable | ConfigName::AutoLeaderRebalanceEnable => {
                value == "true" || value == "false"
            }
        };
        if !valid {
            let expected =
                if name == ConfigName::MinInsyncReplicas { "an integer of at least 1" } else { "true or false" };
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
