//! DeleteTopics (key 20): topics to delete, as one core request to the connection's broker,
//! which forwards it to the active controller; the answer comes once the deletion is committed.
//!
//! v1-v5 name topics in `topic_names` (compact from v4, error messages from v5); v6 lists
//! `topics`, each by name or by id (Kafka's rules: not both, not neither). An id is turned into
//! the name of the topic that has it here; the core deletes by name.

use bytes::Bytes;
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::{ApiKey, DeleteTopicsRequest, DeleteTopicsResponse};
use kafka_protocol::protocol::{HeaderVersion, Message as _, StrBytes, VersionRange};
use kafkalab_core::controller::protocol::{TopicRequest, TopicResponse};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::{AdminError, Message};
use uuid::Uuid;

use super::{decode_served, encode_response, topic_by_id, topic_name, Answer, Context, Rejection, RequestPrefix};
use crate::exchange::Pending;

/// Every version the protocol crate can decode and encode (1-6).
pub const VERSIONS: VersionRange = DeleteTopicsRequest::VERSIONS;

/// One topic the request names, as far as this layer can tell.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Named {
    /// A name for the core to delete, and the id the client gave for it, if any.
    Topic { name: String, id: Option<Uuid> },
    /// Refused here: the name and id to echo back, and why.
    Refused { name: Option<String>, id: Uuid, code: ErrorCode, message: &'static str },
}

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, DeleteTopicsRequest) = decode_served(prefix, frame, ApiKey::DeleteTopics, VERSIONS)?;
    let named = named_topics(&request, version, |id| topic_by_id(context.cluster, id).map(|name| name.to_string()));
    let names: Vec<String> = named
        .iter()
        .filter_map(|n| match n {
            Named::Topic { name, .. } => Some(name.clone()),
            Named::Refused { .. } => None,
        })
        .collect();
    let ids = if names.is_empty() {
        Vec::new()
    } else {
        let core = TopicRequest::DeleteTopics {
            topics: names.clone(),
            timeout_ms: u64::try_from(request.timeout_ms).unwrap_or(0),
        };
        vec![context.send(|request_id| Message::TopicAdmin { request_id, request: Box::new(core) })]
    };
    let correlation_id = header.correlation_id;
    Ok(Answer::Later(Pending::new(ids, move |answers| {
        let mut results = match answers.into_iter().next() {
            Some(Message::TopicAdminResponse { response, .. }) => match *response {
                TopicResponse::DeleteTopics(results) => results,
                _ => unanswered(&names),
            },
            _ => unanswered(&names),
        }
        .into_iter();
        let entries = named
            .into_iter()
            .map(|one| match one {
                Named::Refused { name, id, code, message } => DeletableTopicResult::default()
                    .with_name(name.as_deref().map(topic_name))
                    .with_topic_id(id)
                    .with_error_code(code.code())
                    .with_error_message(Some(StrBytes::from_static_str(message))),
                Named::Topic { name, id } => {
                    let result = results.next().map_or_else(|| Err(no_answer()), |(_, r)| r);
                    result_entry(&name, id, result)
                }
            })
            .collect();
        let response = DeleteTopicsResponse::default().with_responses(entries);
        encode_response(
            ApiKey::DeleteTopics,
            correlation_id,
            DeleteTopicsResponse::header_version(version),
            &response,
            version,
        )
    })))
}

/// The topics the request names, in its order, ids resolved by `name_of`.
fn named_topics(request: &DeleteTopicsRequest, version: i16, name_of: impl Fn(Uuid) -> Option<String>) -> Vec<Named> {
    if version < 6 {
        return request.topic_names.iter().map(|name| Named::Topic { name: name.0.to_string(), id: None }).collect();
    }
    request
        .topics
        .iter()
        .map(|topic| match (&topic.name, topic.topic_id.is_nil()) {
            (Some(name), true) => Named::Topic { name: name.0.to_string(), id: None },
            (Some(name), false) => Named::Refused {
                name: Some(name.0.to_string()),
                id: topic.topic_id,
                code: ErrorCode::InvalidRequest,
                message: "You may not specify both topic name and topic id.",
            },
            (None, true) => Named::Refused {
                name: None,
                id: Uuid::nil(),
                code: ErrorCode::InvalidRequest,
                message: "Neither topic name nor id were specified.",
            },
            (None, false) => match name_of(topic.topic_id) {
                Some(name) => Named::Topic { name, id: Some(topic.topic_id) },
                None => Named::Refused {
                    name: None,
                    id: topic.topic_id,
                    code: ErrorCode::UnknownTopicId,
                    message: "This server does not host this topic ID.",
                },
            },
        })
        .collect()
}

/// What a topic gets when the core's answer is not the expected one (a bug): refused, so the
/// client is never left waiting.
fn no_answer() -> AdminError {
    AdminError { code: ErrorCode::RequestTimedOut, message: "No answer from the cluster.".into() }
}

fn unanswered(names: &[String]) -> Vec<(String, Result<(), AdminError>)> {
    names.iter().map(|name| (name.clone(), Err(no_answer()))).collect()
}

fn result_entry(name: &str, id: Option<Uuid>, result: Result<(), AdminError>) -> DeletableTopicResult {
    let entry = DeletableTopicResult::default()
        .with_name(Some(topic_name(name)))
        .with_topic_id(id.unwrap_or_else(|| super::metadata::topic_id(name)));
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
    use kafka_protocol::messages::delete_topics_request::DeleteTopicState;

    #[test]
    fn v6_names_topics_by_name_or_by_id_never_both_nor_neither() {
        let known = Uuid::from_u128(7);
        let state = |name: Option<&str>, id: Uuid| {
            DeleteTopicState::default().with_name(name.map(topic_name)).with_topic_id(id)
        };
        let request = DeleteTopicsRequest::default().with_topics(vec![
            state(Some("a"), Uuid::nil()),
            state(None, known),
            state(None, Uuid::from_u128(8)),
            state(Some("b"), known),
            state(None, Uuid::nil()),
        ]);
        let named = named_topics(&request, 6, |id| (id == known).then(|| "by-id".to_string()));
        let codes: Vec<Option<ErrorCode>> = named
            .iter()
            .map(|n| match n {
                Named::Topic { .. } => None,
                Named::Refused { code, .. } => Some(*code),
            })
            .collect();
        assert_eq!(
            codes,
            [
                None,
                None,
                Some(ErrorCode::UnknownTopicId),
                Some(ErrorCode::InvalidRequest),
                Some(ErrorCode::InvalidRequest)
            ]
        );
        assert_eq!(named[1], Named::Topic { name: "by-id".to_string(), id: Some(known) });
    }

    #[test]
    fn before_v6_topics_are_plain_names() {
        let request = DeleteTopicsRequest::default().with_topic_names(vec![topic_name("a"), topic_name("b")]);
        let named = named_topics(&request, 5, |_| None);
        assert_eq!(named[1], Named::Topic { name: "b".to_string(), id: None });
    }
}
