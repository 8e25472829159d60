//! Topic administration as clients ask for it (Kafka's CreateTopics, DeleteTopics and
//! CreatePartitions, and Metadata's auto-creation) and the per-topic answers.
//!
//! A client sends a [`TopicRequest`] to any broker; the broker forwards it to the active
//! controller, which decides each topic on its own (one topic's refusal does not stop the
//! others) and answers once the records of what it did are committed. Auto-creation is the
//! exception: the broker answers it at once and asks the controller on its own.

use alloc::string::String;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::error_code::ErrorCode;
use crate::message::AdminError;

/// One topic to create. `-1` asks for the cluster's default (`num.partitions`,
/// `default.replication.factor`), as CreateTopics does.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTopic {
    pub name: String,
    pub partitions: i32,
    pub replication_factor: i32,
    /// Topic settings by Kafka's names (`cleanup.policy`, `retention.ms`, ...), as given.
    pub configs: Vec<(String, String)>,
}

/// What a client asks of the cluster's topics.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopicRequest {
    /// CreateTopics; with `validate_only` the controller checks and writes nothing.
    CreateTopics { topics: Vec<NewTopic>, validate_only: bool, timeout_ms: u64 },
    /// DeleteTopics, by name.
    DeleteTopics { topics: Vec<String>, timeout_ms: u64 },
    /// CreatePartitions: grow each topic to its count.
    CreatePartitions { topics: Vec<(String, i32)>, validate_only: bool, timeout_ms: u64 },
    /// Metadata naming topics the client may have created (`allow_auto_topic_creation`): the
    /// broker answers at once, asking the controller to create the unknown ones when
    /// `auto.create.topics.enable` says so.
    AutoCreate { topics: Vec<String> },
}

/// What a topic request did to each topic, in the order the request named them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum TopicResponse {
    /// Each topic created (or, validating only, creatable) with this many partitions and
    /// replicas, or why not.
    CreateTopics(Vec<(String, Result<CreatedTopic, AdminError>)>),
    DeleteTopics(Vec<(String, Result<(), AdminError>)>),
    CreatePartitions(Vec<(String, Result<(), AdminError>)>),
    /// Per topic: it exists (describe it), or the error Metadata reports for it:
    /// LEADER_NOT_AVAILABLE while it is being created, UNKNOWN_TOPIC_OR_PARTITION when
    /// auto-creation is off, INVALID_TOPIC_EXCEPTION for an illegal name.
    AutoCreate(Vec<(String, Result<(), ErrorCode>)>),
}

/// A created topic's shape, defaults resolved (CreateTopics v5+ reports it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreatedTopic {
    pub partitions: i32,
    pub replication_factor: i32,
}

impl TopicRequest {
    /// Kafka's name for the request.
    pub fn name(&self) -> &'static str {
        match self {
            TopicRequest::CreateTopics { .. } => "CreateTopics",
            TopicRequest::DeleteTopics { .. } => "DeleteTopics",
            TopicRequest::CreatePartitions { .. } => "CreatePartitions",
            TopicRequest::AutoCreate { .. } => "AutoCreateTopics",
        }
    }

    /// How long the client lets the cluster take (its `timeout_ms`), for requests that go to
    /// the controller.
    pub fn timeout_ms(&self) -> Option<u64> {
        match self {
            TopicRequest::CreateTopics { timeout_ms, .. }
            | TopicRequest::DeleteTopics { timeout_ms, .. }
            | TopicRequest::CreatePartitions { timeout_ms, .. } => Some(*timeout_ms),
            TopicRequest::AutoCreate { .. } => None,
        }
    }

    /// The answer that refuses every topic with `error` (NOT_CONTROLLER, REQUEST_TIMED_OUT).
    pub fn refuse_all(&self, error: &AdminError) -> TopicResponse {
        fn refused<T>(name: &str, error: &AdminError) -> (String, Result<T, AdminError>) {
            (String::from(name), Err(error.clone()))
        }
        match self {
            TopicRequest::CreateTopics { topics, .. } => {
                TopicResponse::CreateTopics(topics.iter().map(|t| refused(&t.name, error)).collect())
            }
            TopicRequest::DeleteTopics { topics, .. } => {
                TopicResponse::DeleteTopics(topics.iter().map(|name| refused(name, error)).collect())
            }
            TopicRequest::CreatePartitions { topics, .. } => {
                TopicResponse::CreatePartitions(topics.iter().map(|(name, _)| refused(name, error)).collect())
            }
            TopicRequest::AutoCreate { topics } => {
                TopicResponse::AutoCreate(topics.iter().map(|name| (name.clone(), Err(error.code))).collect())
            }
        }
    }
}

impl TopicResponse {
    /// Kafka's name for the response.
    pub fn name(&self) -> &'static str {
        match self {
            TopicResponse::CreateTopics(_) => "CreateTopicsResponse",
            TopicResponse::DeleteTopics(_) => "DeleteTopicsResponse",
            TopicResponse::CreatePartitions(_) => "CreatePartitionsResponse",
            TopicResponse::AutoCreate(_) => "AutoCreateTopicsResponse",
        }
    }

    /// Whether it came from a controller that is not the active one (every topic refused
    /// NOT_CONTROLLER): the forwarding broker asks again.
    pub fn is_not_controller(&self) -> bool {
        let not_controller = |e: &AdminError| e.code == ErrorCode::NotController;
        match self {
            TopicResponse::CreateTopics(results) => {
                !results.is_empty() && results.iter().all(|(_, r)| r.as_ref().is_err_and(not_controller))
            }
            TopicResponse::DeleteTopics(results) | TopicResponse::CreatePartitions(results) => {
                !results.is_empty() && results.iter().all(|(_, r)| r.as_ref().is_err_and(not_controller))
            }
            TopicResponse::AutoCreate(_) => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn not_controller() -> AdminError {
        AdminError { code: ErrorCode::NotController, message: String::from("not the controller") }
    }

    #[test]
    fn refusing_a_request_answers_every_topic_it_names_in_order() {
        let request = TopicRequest::DeleteTopics { topics: vec![String::from("a"), String::from("b")], timeout_ms: 1 };
        let response = request.refuse_all(&not_controller());
        let TopicResponse::DeleteTopics(results) = &response else { panic!("a DeleteTopics answer") };
        let names: Vec<&str> = results.iter().map(|(name, _)| name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(response.is_not_controller());
    }

    #[test]
    fn an_answer_with_any_decided_topic_is_not_a_not_controller_answer() {
        let response = TopicResponse::CreatePartitions(vec![
            (String::from("a"), Err(not_controller())),
            (String::from("b"), Ok(())),
        ]);
        assert!(!response.is_not_controller());
        assert!(!TopicResponse::CreateTopics(Vec::new()).is_not_controller());
    }
}
