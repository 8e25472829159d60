//! CreatePartitions (key 37): grow topics to a new partition count, as one core request to
//! the connection's broker, which forwards it to the active controller; the answer comes once
//! the new partitions are committed. A manual assignment of the new partitions' replicas is not
//! followed: the lab places them itself. Compact encoding from v2.

use bytes::Bytes;
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::{ApiKey, CreatePartitionsRequest, CreatePartitionsResponse};
use kafka_protocol::protocol::{HeaderVersion, Message as _, StrBytes, VersionRange};
use kafkalab_core::controller::protocol::{TopicRequest, TopicResponse};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::{AdminError, Message};

use super::{decode_served, encode_response, topic_name, Answer, Context, Rejection, RequestPrefix};
use crate::exchange::Pending;

/// Every version the protocol crate can decode and encode (0-3).
pub const VERSIONS: VersionRange = CreatePartitionsRequest::VERSIONS;

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, CreatePartitionsRequest) =
        decode_served(prefix, frame, ApiKey::CreatePartitions, VERSIONS)?;
    let topics: Vec<(String, i32)> = request.topics.iter().map(|t| (t.name.0.to_string(), t.count)).collect();
    let names: Vec<String> = topics.iter().map(|(name, _)| name.clone()).collect();
    let core = TopicRequest::CreatePartitions {
        topics,
        validate_only: request.validate_only,
        timeout_ms: u64::try_from(request.timeout_ms).unwrap_or(0),
    };
    let id = context.send(|request_id| Message::TopicAdmin { request_id, request: Box::new(core) });
    let correlation_id = header.correlation_id;
    Ok(Answer::Later(Pending::new(vec![id], move |answers| {
        let results = match answers.into_iter().next() {
            Some(Message::TopicAdminResponse { response, .. }) => match *response {
                TopicResponse::CreatePartitions(results) => results,
                _ => unanswered(&names),
            },
            _ => unanswered(&names),
        };
        let response =
            CreatePartitionsResponse::default().with_results(results.into_iter().map(result_entry).collect());
        encode_response(
            ApiKey::CreatePartitions,
            correlation_id,
            CreatePartitionsResponse::header_version(version),
            &response,
            version,
        )
    })))
}

fn unanswered(names: &[String]) -> Vec<(String, Result<(), AdminError>)> {
    let error = AdminError { code: ErrorCode::RequestTimedOut, message: "No answer from the cluster.".into() };
    names.iter().map(|name| (name.clone(), Err(error.clone()))).collect()
}

fn result_entry((name, result): (String, Result<(), AdminError>)) -> CreatePartitionsTopicResult {
    let entry = CreatePartitionsTopicResult::default().with_name(topic_name(&name));
    match result {
        Ok(()) => entry.with_error_message(None),
        Err(error) => {
            entry.with_error_code(error.code.code()).with_error_message(Some(StrBytes::from_string(error.message)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_growth_carries_kafkas_code_and_message_and_a_done_one_no_message() {
        let error =
            AdminError { code: ErrorCode::InvalidPartitions, message: "Topic already has 3 partitions.".into() };
        let entry = result_entry(("orders".to_string(), Err(error)));
        assert_eq!(entry.error_code, 37);
        assert_eq!(entry.error_message.as_deref(), Some("Topic already has 3 partitions."));
        let entry = result_entry(("orders".to_string(), Ok(())));
        assert_eq!(entry.error_code, 0);
        assert!(entry.error_message.is_none());
    }
}
