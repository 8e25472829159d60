//! CreateTopics (key 19): new topics, as one core request to the connection's broker, which
//! forwards it to the active controller; the answer comes once the topics are committed.
//!
//! What each version carries (Kafka's `CreateTopicsResponse.json`): error messages from v1 (the
//! crate knows v2 on), the partition count, replication factor and configs of each new topic
//! from v5, compact encoding from v5, topic ids from v7. A manual replica assignment is read for
//! its shape only (partition count and replication factor): the lab places replicas itself.

use bytes::Bytes;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::create_topics_response::CreatableTopicResult;
use kafka_protocol::messages::{ApiKey, CreateTopicsRequest, CreateTopicsResponse};
use kafka_protocol::protocol::{HeaderVersion, Message as _, StrBytes, VersionRange};
use kafkalab_core::controller::protocol::{CreatedTopic, NewTopic, TopicRequest, TopicResponse};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::{AdminError, Message};

use super::{decode_served, encode_response, topic_name, Answer, Context, Rejection, RequestPrefix};
use crate::exchange::Pending;

/// Every version the protocol crate can decode and encode (2-7).
pub const VERSIONS: VersionRange = CreateTopicsRequest::VERSIONS;

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, CreateTopicsRequest) = decode_served(prefix, frame, ApiKey::CreateTopics, VERSIONS)?;
    let core = TopicRequest::CreateTopics {
        topics: request.topics.iter().map(new_topic).collect(),
        validate_only: request.validate_only,
        timeout_ms: u64::try_from(request.timeout_ms).unwrap_or(0),
    };
    let id = context.send(|request_id| Message::TopicAdmin { request_id, request: Box::new(core) });
    let names: Vec<String> = request.topics.iter().map(|t| t.name.0.to_string()).collect();
    let correlation_id = header.correlation_id;
    Ok(Answer::Later(Pending::new(vec![id], move |answers| {
        let results = match answers.into_iter().next() {
            Some(Message::TopicAdminResponse { response, .. }) => match *response {
                TopicResponse::CreateTopics(results) => results,
                _ => unanswered(&names),
            },
            _ => unanswered(&names),
        };
        let response = CreateTopicsResponse::default().with_topics(results.into_iter().map(result_entry).collect());
        encode_response(
            ApiKey::CreateTopics,
            correlation_id,
            CreateTopicsResponse::header_version(version),
            &response,
            version,
        )
    })))
}

/// One topic as the core takes it: a manual assignment gives the counts (Kafka then requires
/// -1 for both, which the core's checks would refuse otherwise).
fn new_topic(topic: &CreatableTopic) -> NewTopic {
    let (partitions, replication_factor) = match topic.assignments.first() {
        Some(first) => (
            i32::try_from(topic.assignments.len()).unwrap_or(i32::MAX),
            i32::try_from(first.broker_ids.len()).unwrap_or(i32::MAX),
        ),
        None => (topic.num_partitions, i32::from(topic.replication_factor)),
    };
    let configs = topic
        .configs
        .iter()
        .filter_map(|config| config.value.as_ref().map(|value| (config.name.to_string(), value.to_string())))
        .collect();
    NewTopic { name: topic.name.0.to_string(), partitions, replication_factor, configs }
}

/// What the client hears when the core's answer is not the expected one (a bug): every topic
/// refused, so the client is never left waiting.
fn unanswered(names: &[String]) -> Vec<(String, Result<CreatedTopic, AdminError>)> {
    let error = AdminError { code: ErrorCode::RequestTimedOut, message: "No answer from the cluster.".into() };
    names.iter().map(|name| (name.clone(), Err(error.clone()))).collect()
}

fn result_entry((name, result): (String, Result<CreatedTopic, AdminError>)) -> CreatableTopicResult {
    let entry = CreatableTopicResult::default().with_name(topic_name(&name)).with_configs(Some(Vec::new()));
    match result {
        Ok(created) => entry
            .with_topic_id(super::metadata::topic_id(&name))
            .with_error_message(None)
            .with_num_partitions(created.partitions)
            .with_replication_factor(i16::try_from(created.replication_factor).unwrap_or(i16::MAX)),
        Err(error) => {
            entry.with_error_code(error.code.code()).with_error_message(Some(StrBytes::from_string(error.message)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::create_topics_request::{CreatableReplicaAssignment, CreatableTopicConfig};
    use kafka_protocol::messages::BrokerId;

    #[test]
    fn a_manual_assignment_gives_the_partition_count_and_replication_factor() {
        let assignment = |brokers: &[i32]| {
            CreatableReplicaAssignment::default().with_broker_ids(brokers.iter().map(|b| BrokerId(*b)).collect())
        };
        let topic = CreatableTopic::default()
            .with_name(topic_name("t"))
            .with_num_partitions(-1)
            .with_replication_factor(-1)
            .with_assignments(vec![assignment(&[1, 2]), assignment(&[2, 3])]);
        let core = new_topic(&topic);
        assert_eq!((core.partitions, core.replication_factor), (2, 2));
    }

    #[test]
    fn settings_without_a_value_keep_kafkas_default() {
        let topic = CreatableTopic::default().with_name(topic_name("t")).with_configs(vec![
            CreatableTopicConfig::default()
                .with_name(StrBytes::from_static_str("retention.ms"))
                .with_value(Some(StrBytes::from_static_str("1000"))),
            CreatableTopicConfig::default().with_name(StrBytes::from_static_str("segment.ms")).with_value(None),
        ]);
        assert_eq!(new_topic(&topic).configs, [("retention.ms".to_string(), "1000".to_string())]);
    }

    #[test]
    fn a_refused_topic_carries_kafkas_code_and_message() {
        let error =
            AdminError { code: ErrorCode::TopicAlreadyExists, message: "Topic 'orders' already exists.".into() };
        let entry = result_entry(("orders".to_string(), Err(error)));
        assert_eq!(entry.error_code, 36);
        assert_eq!(entry.error_message.as_deref(), Some("Topic 'orders' already exists."));
        let created = CreatedTopic { partitions: 3, replication_factor: 2 };
        let entry = result_entry(("payments".to_string(), Ok(created)));
        assert_eq!((entry.error_code, entry.num_partitions, entry.replication_factor), (0, 3, 2));
        assert!(entry.error_message.is_none());
    }
}
