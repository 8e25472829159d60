//! A small async Kafka client for the command-line tools (`topics`, `produce`, `consume`,
//! `groups`): real Kafka requests built from the `kafka-protocol` crate's types, so the tools
//! work against Apache Kafka as well as against `kafkalab serve`.
//!
//! The pieces, each one concept:
//! - [`connection`]: one broker connection, its API versions negotiated with ApiVersions;
//! - [`bootstrap`]: the bootstrap servers, the cluster's metadata and a connection per broker;
//! - [`produce`]: records into a topic, each to its partition's leader;
//! - [`fetch`]: offsets by time (ListOffsets) and records from partition leaders (Fetch);
//! - [`group`]: a consumer group member (JoinGroup, SyncGroup, Heartbeat, LeaveGroup);
//! - [`offsets`]: a group's committed offsets (OffsetCommit, OffsetFetch);
//! - [`admin`]: topic and group administration (CreateTopics, DeleteTopics,
//!   CreatePartitions, ListGroups, DescribeGroups).
//!
//! Requests that must reach a partition's leader are retried after a metadata refresh when
//! the leader moved (`NOT_LEADER_OR_FOLLOWER`, `LEADER_NOT_AVAILABLE`) or its broker stopped
//! answering, as the Java client does.

pub mod admin;
pub mod bootstrap;
pub mod connection;
pub mod fetch;
pub mod group;
pub mod offsets;
pub mod produce;

use std::fmt;
use std::time::Duration;

use kafka_protocol::error::ResponseError;

pub use bootstrap::Client;

/// How long a request may wait for its answer (Kafka's `request.timeout.ms` is 30 s; the
/// tools give up sooner).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait before retrying a request whose leader moved (`retry.backoff.ms`).
pub const RETRY_BACKOFF: Duration = Duration::from_millis(200);

/// How long requests to partition leaders keep being retried (`delivery.timeout.ms` is two
/// minutes in Kafka; a broker the lab kills is fenced within `broker.session.timeout.ms`).
pub const RETRY_DEADLINE: Duration = Duration::from_secs(30);

/// What went wrong, as one line for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientError {
    /// No connection could be made (refused, no such host, timed out).
    Unreachable { address: String, reason: String },
    /// An open connection broke or an answer did not come in time.
    Lost { address: String, reason: String },
    /// The broker does not serve an API the tool needs, at any version the crate speaks.
    Unsupported { address: String, api: String },
    /// The cluster has no topic of that name.
    UnknownTopic(String),
    /// A Kafka error code, with what was being done.
    Kafka { doing: String, error: ResponseError },
    /// Bytes that do not encode or decode as the protocol says.
    Protocol(String),
}

impl ClientError {
    /// Whether retrying after a metadata refresh may succeed: the leader moved, or its broker
    /// is gone and the cluster will elect another.
    pub fn is_retriable(&self) -> bool {
        match self {
            ClientError::Lost { .. } => true,
            ClientError::Kafka { error, .. } => error.is_retriable(),
            _ => false,
        }
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Unreachable { address, reason } => write!(f, "cannot reach {address}: {reason}"),
            ClientError::Lost { address, reason } => write!(f, "lost the connection to {address}: {reason}"),
            ClientError::Unsupported { address, api } => write!(f, "the broker at {address} does not serve {api}"),
            ClientError::UnknownTopic(topic) => write!(f, "topic '{topic}' does not exist"),
            ClientError::Kafka { doing, error } => write!(f, "{doing}: {}", error_name(*error)),
            ClientError::Protocol(reason) => write!(f, "protocol error: {reason}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// The error a response's error code stands for, if any.
pub fn check(code: i16, doing: impl FnOnce() -> String) -> Result<(), ClientError> {
    match ResponseError::try_from_code(code) {
        None => Ok(()),
        Some(error) => Err(ClientError::Kafka { doing: doing(), error }),
    }
}

/// Kafka's own spelling of an error, as its tools print it: `NOT_LEADER_OR_FOLLOWER`.
pub fn error_name(error: ResponseError) -> String {
    let camel = error.to_string();
    if matches!(error, ResponseError::Unknown(_)) {
        return camel;
    }
    let mut name = String::with_capacity(camel.len() + 8);
    for (index, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && index > 0 {
            name.push('_');
        }
        name.push(c.to_ascii_uppercase());
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_print_with_kafkas_names() {
        assert_eq!(error_name(ResponseError::NotLeaderOrFollower), "NOT_LEADER_OR_FOLLOWER");
        assert_eq!(error_name(ResponseError::TopicAlreadyExists), "TOPIC_ALREADY_EXISTS");
        let error = check(36, || "creating topic 'a'".to_string()).unwrap_err();
        assert_eq!(error.to_string(), "creating topic 'a': TOPIC_ALREADY_EXISTS");
        assert!(check(0, String::new).is_ok());
    }

    #[test]
    fn only_moved_leaders_and_lost_brokers_are_retried() {
        let kafka = |error| ClientError::Kafka { doing: String::new(), error };
        assert!(kafka(ResponseError::NotLeaderOrFollower).is_retriable());
        assert!(kafka(ResponseError::LeaderNotAvailable).is_retriable());
        assert!(!kafka(ResponseError::TopicAuthorizationFailed).is_retriable());
        assert!(ClientError::Lost { address: "a".into(), reason: "b".into() }.is_retriable());
        assert!(!ClientError::UnknownTopic("x".into()).is_retriable());
    }

    #[test]
    fn unreachable_and_unknown_topic_read_as_one_line() {
        let error = ClientError::Unreachable { address: "127.0.0.1:9999".into(), reason: "connection refused".into() };
        assert_eq!(error.to_string(), "cannot reach 127.0.0.1:9999: connection refused");
        assert_eq!(ClientError::UnknownTopic("x".into()).to_string(), "topic 'x' does not exist");
    }
}
