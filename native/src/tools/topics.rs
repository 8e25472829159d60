//! `kafkalab topics`, after kafka-topics.sh: `--create`, `--list`, `--describe`, `--alter`
//! (more partitions) and `--delete`, printed as Kafka's tool prints them.
//!
//! Tab-separated, as Kafka's tool prints it:
//!
//! ```text
//! Topic: orders<TAB>PartitionCount: 3<TAB>ReplicationFactor: 3<TAB>Configs:
//! <TAB>Topic: orders<TAB>Partition: 0<TAB>Leader: 1<TAB>Replicas: 1,2,3<TAB>Isr: 1,2,3
//! ```

use std::io::Write;

use crate::client::admin::{self, NewTopic};
use crate::client::bootstrap::TopicInfo;
use crate::client::{Client, ClientError};

use super::{ToolError, TopicsAction, TopicsOptions};

/// Runs `kafkalab topics`.
pub async fn run(options: TopicsOptions) -> Result<(), ToolError> {
    let mut client = Client::connect(&options.bootstrap).await?;
    let mut out = std::io::stdout().lock();
    match options.action {
        TopicsAction::Create(topic) => {
            check_new_topic(&topic)?;
            admin::create_topic(&mut client, &topic).await?;
            writeln!(out, "Created topic {}.", topic.name)?;
        }
        TopicsAction::List => {
            let metadata = client.refresh(None).await?;
            for name in metadata.topics.keys() {
                writeln!(out, "{name}")?;
            }
        }
        TopicsAction::Describe { topic } => {
            let topics: Vec<TopicInfo> = match &topic {
                Some(name) => vec![client.topic(name).await?],
                None => client.refresh(None).await?.topics.values().cloned().collect(),
            };
            for topic in topics {
                let configs = admin::topic_configs(&mut client, &topic.name).await?;
                write!(out, "{}", describe(&topic, &configs))?;
            }
        }
        TopicsAction::Alter { topic, partitions } => {
            let current = client.topic(&topic).await?;
            if usize::try_from(partitions).is_ok_and(|wanted| wanted <= current.partitions.len()) {
                return Err(ToolError(format!(
                    "topic '{topic}' has {} partitions: --alter can only add partitions",
                    current.partitions.len()
                )));
            }
            admin::create_partitions(&mut client, &topic, partitions).await?;
        }
        TopicsAction::Delete { topic } => {
            // Like kafka-topics.sh, say the topic is unknown before asking to delete it.
            client.topic(&topic).await?;
            admin::delete_topic(&mut client, &topic).await?;
        }
    }
    Ok(())
}

/// Refuses what no broker would accept, before asking.
fn check_new_topic(topic: &NewTopic) -> Result<(), ClientError> {
    let valid = !topic.name.is_empty()
        && topic.name.len() <= 249
        && topic.name != "."
        && topic.name != ".."
        && topic.name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if valid {
        Ok(())
    } else {
        Err(ClientError::Kafka {
            doing: format!("creating topic '{}' (names are up to 249 of a-z, A-Z, 0-9, '.', '_' and '-')", topic.name),
            error: kafka_protocol::error::ResponseError::InvalidTopicException,
        })
    }
}

/// A topic as kafka-topics.sh --describe prints it: a summary line, then one line per
/// partition.
pub fn describe(topic: &TopicInfo, configs: &[(String, String)]) -> String {
    let replication_factor = topic.partitions.first().map_or(0, |p| p.replicas.len());
    let configs: Vec<String> = configs.iter().map(|(name, value)| format!("{name}={value}")).collect();
    let mut text = format!(
        "Topic: {}\tPartitionCount: {}\tReplicationFactor: {replication_factor}\tConfigs: {}\n",
        topic.name,
        topic.partitions.len(),
        configs.join(",")
    );
    for partition in &topic.partitions {
        let leader = if partition.leader < 0 { "none".to_string() } else { partition.leader.to_string() };
        text.push_str(&format!(
            "\tTopic: {}\tPartition: {}\tLeader: {leader}\tReplicas: {}\tIsr: {}\n",
            topic.name,
            partition.index,
            ids(&partition.replicas),
            ids(&partition.isr)
        ));
    }
    text
}

fn ids(brokers: &[i32]) -> String {
    brokers.iter().map(i32::to_string).collect::<Vec<_>>().join(",")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::bootstrap::PartitionInfo;

    fn partition(index: i32, leader: i32, replicas: &[i32], isr: &[i32]) -> PartitionInfo {
        PartitionInfo { index, leader, leader_epoch: 0, replicas: replicas.to_vec(), isr: isr.to_vec(), error_code: 0 }
    }

    #[test]
    fn describe_prints_like_kafka_topics() {
        let topic = TopicInfo {
            name: "orders".to_string(),
            error_code: 0,
            is_internal: false,
            partitions: vec![partition(0, 1, &[1, 2, 3], &[1, 2, 3]), partition(1, -1, &[2, 3, 1], &[])],
        };
        let text = describe(&topic, &[("cleanup.policy".to_string(), "compact".to_string())]);
        assert_eq!(
            text,
            "Topic: orders\tPartitionCount: 2\tReplicationFactor: 3\tConfigs: cleanup.policy=compact\n\
             \tTopic: orders\tPartition: 0\tLeader: 1\tReplicas: 1,2,3\tIsr: 1,2,3\n\
             \tTopic: orders\tPartition: 1\tLeader: none\tReplicas: 2,3,1\tIsr: \n"
        );
    }

    #[test]
    fn invalid_topic_names_are_refused_before_asking() {
        let named = |name: &str| NewTopic { name: name.to_string(), ..NewTopic::default() };
        assert!(check_new_topic(&named("payments.v2_eu-1")).is_ok());
        for bad in ["", "..", "a b", "ünïcode", &"x".repeat(250)] {
            let error = check_new_topic(&named(bad)).unwrap_err().to_string();
            assert!(error.contains("INVALID_TOPIC_EXCEPTION"), "{bad:?}: {error}");
        }
    }
}
