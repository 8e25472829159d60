//! The Kafka APIs the brokers answer, one module each, dispatched from [`handle`].
//!
//! A request frame is a request header and a body, both versioned. [`handle`] reads the
//! fixed start of the header (API key, version, correlation id), picks the API's module and
//! gets back either the response frame or a [`Rejection`]: Kafka's answer to a request it
//! cannot serve is to close the connection, and so is ours.
//!
//! Most APIs are answered by the core: the module translates the request into core
//! [`Message`]s, sends them to the broker the connection is on ([`Context::send`]), and returns
//! an [`Answer::Later`] that gathers the core's answers by request id and then writes Kafka's
//! response. The connection answers its requests in the order they came
//! ([`crate::exchange`]).
//!
//! To serve a new API: add its module, a row in [`SERVED`] and an arm in [`handle`].

pub mod api_versions;
pub mod create_partitions;
pub mod create_topics;
pub mod delete_topics;
pub mod describe_cluster;
pub mod describe_configs;
pub mod fetch;
pub mod find_coordinator;
pub mod group_membership;
pub mod group_offsets;
pub mod groups_admin;
pub mod init_producer_id;
pub mod list_offsets;
pub mod metadata;
pub mod produce;
pub mod transactions;
pub mod txn_offset_commit;

use std::fmt;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, VersionRange};

use kafkalab_core::ids::ClientId;
use kafkalab_core::message::Message;
use kafkalab_core::BrokerId;

use crate::cluster::Cluster;
use crate::exchange::Pending;
use crate::framing::encode_frame;

/// Every API this server answers, with the versions it answers at; ApiVersions advertises
/// exactly this list.
pub const SERVED: [(ApiKey, VersionRange); 24] = [
    (ApiKey::Produce, produce::VERSIONS),
    (ApiKey::Fetch, fetch::VERSIONS),
    (ApiKey::ListOffsets, list_offsets::VERSIONS),
    (ApiKey::Metadata, metadata::VERSIONS),
    (ApiKey::OffsetCommit, group_offsets::OFFSET_COMMIT_VERSIONS),
    (ApiKey::OffsetFetch, group_offsets::OFFSET_FETCH_VERSIONS),
    (ApiKey::FindCoordinator, find_coordinator::VERSIONS),
    (ApiKey::JoinGroup, group_membership::JOIN_GROUP_VERSIONS),
    (ApiKey::Heartbeat, group_membership::HEARTBEAT_VERSIONS),
    (ApiKey::LeaveGroup, group_membership::LEAVE_GROUP_VERSIONS),
    (ApiKey::SyncGroup, group_membership::SYNC_GROUP_VERSIONS),
    (ApiKey::DescribeGroups, groups_admin::DESCRIBE_GROUPS_VERSIONS),
    (ApiKey::ListGroups, groups_admin::LIST_GROUPS_VERSIONS),
    (ApiKey::ApiVersions, api_versions::VERSIONS),
    (ApiKey::InitProducerId, init_producer_id::VERSIONS),
    (ApiKey::AddPartitionsToTxn, transactions::ADD_PARTITIONS_TO_TXN_VERSIONS),
    (ApiKey::AddOffsetsToTxn, transactions::ADD_OFFSETS_TO_TXN_VERSIONS),
    (ApiKey::EndTxn, transactions::END_TXN_VERSIONS),
    (ApiKey::TxnOffsetCommit, txn_offset_commit::VERSIONS),
    (ApiKey::CreateTopics, create_topics::VERSIONS),
    (ApiKey::DeleteTopics, delete_topics::VERSIONS),
    (ApiKey::CreatePartitions, create_partitions::VERSIONS),
    (ApiKey::DescribeConfigs, describe_configs::VERSIONS),
    (ApiKey::DescribeCluster, describe_cluster::VERSIONS),
];

/// The connection a request came in on: the cluster, the connection's own client in the
/// simulation, and the broker it is connected to (where every request it makes goes).
#[derive(Clone, Copy, Debug)]
pub struct Context<'a> {
    pub cluster: &'a Cluster,
    pub client: ClientId,
    pub broker: BrokerId,
}

impl Context<'_> {
    /// Sends the core message `build` makes from a fresh request id to the connection's
    /// broker; returns the id its answer will carry.
    pub fn send(&self, build: impl FnOnce(u64) -> Message) -> u64 {
        self.cluster.submit(self.client, self.broker, build)
    }
}

/// What a request gets.
pub enum Answer {
    /// The response frame, ready now.
    Now(Bytes),
    /// Waiting for the core's answers to the messages sent for it.
    Later(Pending),
    /// No response at all (a Produce with `acks=0`).
    Nothing,
}

/// The start every request header shares, whatever its API and version: read before
/// knowing how to decode the rest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestPrefix {
    pub api_key: i16,
    pub api_version: i16,
    pub correlation_id: i32,
    /// The client's `client.id`, when the header could be read that far.
    pub client_id: Option<String>,
}

/// Why a request gets no answer and its connection is closed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rejection {
    /// An API this server does not serve.
    UnsupportedApi { api_key: i16, api_version: i16 },
    /// A served API at a version outside the advertised range.
    UnsupportedVersion { api: ApiKey, api_version: i16 },
    /// Bytes that do not decode as the request they claim to be.
    Malformed { reason: String },
    /// A response the protocol crate refused to encode: a bug here, not the client's fault.
    Unencodable { api: ApiKey, reason: String },
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Rejection::UnsupportedApi { api_key, api_version } => {
                let name =
                    ApiKey::try_from(*api_key).map(|api| format!("{api:?}")).unwrap_or_else(|()| "unknown".to_string());
                write!(f, "unsupported API key {api_key} ({name}) version {api_version}")
            }
            Rejection::UnsupportedVersion { api, api_version } => write!(
                f,
                "unsupported {api:?} version {api_version} (serves {})",
                served_versions(*api).map_or("none".to_string(), |v| format!("{}..={}", v.min, v.max))
            ),
            Rejection::Malformed { reason } => write!(f, "malformed request: {reason}"),
            Rejection::Unencodable { api, reason } => {
                write!(f, "could not encode the {api:?} response: {reason}")
            }
        }
    }
}

/// Answers one request frame: the response (now, later or never), or why to close the
/// connection.
pub fn handle(frame: Bytes, context: &Context<'_>) -> Result<Answer, (RequestPrefix, Rejection)> {
    let prefix = read_prefix(&frame).map_err(|rejection| (unknown_prefix(), rejection))?;
    let answer = match ApiKey::try_from(prefix.api_key) {
        Ok(ApiKey::ApiVersions) => api_versions::handle(&prefix, frame).map(Answer::Now),
        Ok(ApiKey::Metadata) => metadata::handle(&prefix, frame, context),
        Ok(ApiKey::Produce) => produce::handle(&prefix, frame, context),
        Ok(ApiKey::Fetch) => fetch::handle(&prefix, frame, context),
        Ok(ApiKey::ListOffsets) => list_offsets::handle(&prefix, frame, context).map(Answer::Now),
        Ok(ApiKey::FindCoordinator) => find_coordinator::handle(&prefix, frame, context),
        Ok(ApiKey::JoinGroup) => group_membership::join_group(&prefix, frame, context),
        Ok(ApiKey::SyncGroup) => group_membership::sync_group(&prefix, frame, context),
        Ok(ApiKey::Heartbeat) => group_membership::heartbeat(&prefix, frame, context),
        Ok(ApiKey::LeaveGroup) => group_membership::leave_group(&prefix, frame, context),
        Ok(ApiKey::OffsetCommit) => group_offsets::offset_commit(&prefix, frame, context),
        Ok(ApiKey::OffsetFetch) => group_offsets::offset_fetch(&prefix, frame, context),
        Ok(ApiKey::DescribeGroups) => groups_admin::describe_groups(&prefix, frame, context),
        Ok(ApiKey::ListGroups) => groups_admin::list_groups(&prefix, frame, context),
        Ok(ApiKey::InitProducerId) => init_producer_id::handle(&prefix, frame, context),
        Ok(ApiKey::AddPartitionsToTxn) => transactions::add_partitions_to_txn(&prefix, frame, context),
        Ok(ApiKey::AddOffsetsToTxn) => transactions::add_offsets_to_txn(&prefix, frame, context),
        Ok(ApiKey::EndTxn) => transactions::end_txn(&prefix, frame, context),
        Ok(ApiKey::TxnOffsetCommit) => txn_offset_commit::handle(&prefix, frame, context),
        Ok(ApiKey::CreateTopics) => create_topics::handle(&prefix, frame, context),
        Ok(ApiKey::DeleteTopics) => delete_topics::handle(&prefix, frame, context),
        Ok(ApiKey::CreatePartitions) => create_partitions::handle(&prefix, frame, context),
        Ok(ApiKey::DescribeConfigs) => describe_configs::handle(&prefix, frame, context),
        Ok(ApiKey::DescribeCluster) => describe_cluster::handle(&prefix, frame, context),
        _ => Err(Rejection::UnsupportedApi { api_key: prefix.api_key, api_version: prefix.api_version }),
    };
    answer.map_err(|rejection| (prefix, rejection))
}

/// The name of the topic with id `id` (requests from Produce v13 and Fetch v13 name topics by
/// id), if the cluster has it.
pub fn topic_by_id(cluster: &Cluster, id: uuid::Uuid) -> Option<std::sync::Arc<str>> {
    cluster.read(|simulation| {
        let mut topics = simulation.metadata().partitions.keys().map(|p| p.topic.clone());
        topics.find(|topic| metadata::topic_id(topic) == id)
    })
}

/// A topic name as the protocol crate carries it.
pub fn topic_name(name: &str) -> kafka_protocol::messages::TopicName {
    kafka_protocol::messages::TopicName(kafka_protocol::protocol::StrBytes::from_string(name.to_string()))
}

/// Checks `api` is served at the prefix's version and decodes the request.
pub fn decode_served<R: Decodable>(
    prefix: &RequestPrefix,
    frame: Bytes,
    api: ApiKey,
    versions: VersionRange,
) -> Result<(RequestHeader, R), Rejection> {
    if !supports(versions, prefix.api_version) {
        return Err(Rejection::UnsupportedVersion { api, api_version: prefix.api_version });
    }
    decode_request(frame, api, prefix.api_version)
}

/// Per-partition results grouped by topic, in name order, each partition made by `entry` from its
/// index and Kafka's error code: the shape of OffsetCommit's and TxnOffsetCommit's answers.
pub fn results_by_topic<P>(
    results: Vec<(kafkalab_core::ids::TopicPartition, Option<kafkalab_core::error_code::ErrorCode>)>,
    entry: impl Fn(i32, i16) -> P,
) -> Vec<(String, Vec<P>)> {
    let mut topics: std::collections::BTreeMap<String, Vec<P>> = std::collections::BTreeMap::new();
    for (partition, error) in results {
        topics.entry(partition.topic.to_string()).or_default().push(entry(partition.partition.0, error_code(error)));
    }
    topics.into_iter().collect()
}

/// Kafka's error code for an optional core error: 0 for none.
pub fn error_code(error: Option<kafkalab_core::error_code::ErrorCode>) -> i16 {
    error.map_or(0, |e| e.code())
}

/// The versions this server answers `api` at, if it serves it at all.
pub fn served_versions(api: ApiKey) -> Option<VersionRange> {
    SERVED.iter().find(|(served, _)| *served == api).map(|(_, versions)| *versions)
}

/// Whether `version` is within `versions`.
pub fn supports(versions: VersionRange, version: i16) -> bool {
    (versions.min..=versions.max).contains(&version)
}

/// Decodes a served request's header and body at `version` (already checked to be served).
pub fn decode_request<R: Decodable>(frame: Bytes, api: ApiKey, version: i16) -> Result<(RequestHeader, R), Rejection> {
    let (header, body) = decode_header(frame, api, version)?;
    Ok((header, decode_body(body, api, version)?))
}

/// Decodes a request header, returning it and the body that follows.
pub fn decode_header(frame: Bytes, api: ApiKey, version: i16) -> Result<(RequestHeader, Bytes), Rejection> {
    let mut buffer = frame;
    let header = RequestHeader::decode(&mut buffer, api.request_header_version(version))
        .map_err(|e| malformed(api, version, "header", &e))?;
    Ok((header, buffer))
}

/// Decodes a request body at `version`.
pub fn decode_body<R: Decodable>(body: Bytes, api: ApiKey, version: i16) -> Result<R, Rejection> {
    let mut buffer = body;
    R::decode(&mut buffer, version).map_err(|e| malformed(api, version, "body", &e))
}

/// A request that does not decode as what it claims to be.
pub fn malformed(api: ApiKey, version: i16, what: &str, error: &dyn fmt::Display) -> Rejection {
    Rejection::Malformed { reason: format!("{api:?} v{version} {what}: {error}") }
}

/// One response frame: the size, the response header at `header_version`, then the body.
pub fn encode_response<R: Encodable>(
    api: ApiKey,
    correlation_id: i32,
    header_version: i16,
    body: &R,
    version: i16,
) -> Result<Bytes, Rejection> {
    let unencodable = |error: &dyn fmt::Display| Rejection::Unencodable { api, reason: error.to_string() };
    let mut payload = BytesMut::new();
    ResponseHeader::default()
        .with_correlation_id(correlation_id)
        .encode(&mut payload, header_version)
        .map_err(|e| unencodable(&e))?;
    body.encode(&mut payload, version).map_err(|e| unencodable(&e))?;
    Ok(encode_frame(&payload))
}

/// Reads the API key, API version and correlation id every header starts with, and the
/// client id that follows them in every header version since 1.
fn read_prefix(frame: &Bytes) -> Result<RequestPrefix, Rejection> {
    let mut fixed = &frame[..];
    if fixed.len() < 8 {
        return Err(Rejection::Malformed {
            reason: format!("a request header takes at least 8 bytes, the frame has {}", frame.len()),
        });
    }
    let api_key = fixed.get_i16();
    let api_version = fixed.get_i16();
    let correlation_id = fixed.get_i32();
    // Header v1 is a prefix of v2, so it reads the client id of either; best effort, as it is
    // only for the log.
    let client_id =
        RequestHeader::decode(&mut frame.clone(), 1).ok().and_then(|header| header.client_id).map(|id| id.to_string());
    Ok(RequestPrefix { api_key, api_version, correlation_id, client_id })
}

fn unknown_prefix() -> RequestPrefix {
    RequestPrefix { api_key: -1, api_version: -1, correlation_id: -1, client_id: None }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::{ApiVersionsRequest, MetadataRequest};
    use kafka_protocol::protocol::Message;

    #[test]
    fn served_versions_are_every_version_the_crate_can_read_and_write() {
        use kafka_protocol::messages::{ApiVersionsResponse, MetadataResponse};
        assert_eq!(api_versions::VERSIONS, ApiVersionsRequest::VERSIONS.intersect(&ApiVersionsResponse::VERSIONS));
        assert_eq!(metadata::VERSIONS, MetadataRequest::VERSIONS.intersect(&MetadataResponse::VERSIONS));
        assert_eq!(served_versions(ApiKey::Metadata).map(|v| v.min), Some(0));
        assert_eq!(served_versions(ApiKey::Produce).map(|v| (v.min, v.max)), Some((3, 13)));
        assert_eq!(served_versions(ApiKey::Fetch).map(|v| v.min), Some(4));
        assert_eq!(served_versions(ApiKey::CreateTopics).map(|v| (v.min, v.max)), Some((2, 7)));
        assert_eq!(served_versions(ApiKey::DeleteTopics).map(|v| (v.min, v.max)), Some((1, 6)));
        assert_eq!(served_versions(ApiKey::CreatePartitions).map(|v| (v.min, v.max)), Some((0, 3)));
        assert_eq!(served_versions(ApiKey::DeleteRecords), None);
    }

    #[test]
    fn a_frame_shorter_than_a_header_is_malformed() {
        assert!(matches!(read_prefix(&Bytes::from_static(&[0, 18, 0, 3, 0])), Err(Rejection::Malformed { .. })));
    }

    #[test]
    fn the_prefix_names_the_client() {
        let mut frame = vec![0, 3, 0, 4, 0, 0, 0, 7, 0, 3];
        frame.extend_from_slice(b"cli");
        let prefix = read_prefix(&Bytes::from(frame)).expect("reads");
        assert_eq!(
            prefix,
            RequestPrefix { api_key: 3, api_version: 4, correlation_id: 7, client_id: Some("cli".to_string()) }
        );
    }

    #[test]
    fn rejections_read_as_one_line() {
        let line = Rejection::UnsupportedApi { api_key: 0, api_version: 9 }.to_string();
        assert_eq!(line, "unsupported API key 0 (Produce) version 9");
        let line = Rejection::UnsupportedVersion { api: ApiKey::Metadata, api_version: 99 }.to_string();
        assert_eq!(line, "unsupported Metadata version 99 (serves 0..=13)");
    }
}
