//! Metadata (key 3): the live brokers, the controller, and each topic's partitions with
//! their leader, leader epoch, replicas and in-sync replicas, all read from the core's view.
//!
//! What each version carries (Kafka's `MetadataResponse.json`): rack from v1, cluster id from
//! v2, offline replicas from v5, leader epoch from v7, authorized operations from v8, compact
//! encoding from v9, topic ids from v10, a top-level error code from v13. The crate writes
//! only the fields a version has, so one answer serves them all.
//!
//! Named topics the cluster does not have go to the connection's broker for auto-creation
//! when the client allows it (`allow_auto_topic_creation`, v4+; always before): the core's
//! broker decides and says what to report for each (LEADER_NOT_AVAILABLE while it creates it).

use std::collections::BTreeMap;

use bytes::{Buf, Bytes};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::BrokerId as NodeId;
use kafka_protocol::messages::{ApiKey, MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::{HeaderVersion, Message, StrBytes, VersionRange};
use kafkalab_core::config::ControllerLayout;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::view::{ClusterView, PartitionView};
use kafkalab_core::BrokerId;
use uuid::Uuid;

use kafkalab_core::controller::protocol::{TopicRequest, TopicResponse};
use kafkalab_core::message::Message as CoreMessage;

use super::{
    decode_body, decode_header, encode_response, malformed, supports, Answer, Context, Rejection, RequestPrefix,
};
use crate::cluster::Endpoint;
use crate::exchange::Pending;

/// Every version the protocol crate can decode and encode.
pub const VERSIONS: VersionRange = MetadataRequest::VERSIONS;

/// What `cluster.id` the brokers report (v2+).
pub const CLUSTER_ID: &str = "kafkalab-cluster";

/// A topic asked for by an id no topic has (v10+).
const UNKNOWN_TOPIC_ID: i16 = ErrorCode::UnknownTopicId.code();

/// Kafka's "not asked for" value of the authorized-operations bit fields.
const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    if !supports(VERSIONS, version) {
        return Err(Rejection::UnsupportedVersion { api: ApiKey::Metadata, api_version: version });
    }
    let (header, body) = decode_header(frame, ApiKey::Metadata, version)?;
    check_topic_count(&body, version)?;
    let request: MetadataRequest = decode_body(body, ApiKey::Metadata, version)?;
    let cluster = context.cluster;
    let mut response = answer(&request, version, &cluster.view(), cluster.endpoints());
    let correlation_id = header.correlation_id;
    let encode = move |response: &MetadataResponse| {
        encode_response(ApiKey::Metadata, correlation_id, MetadataResponse::header_version(version), response, version)
    };
    let unknown = unknown_names(&response);
    // v0-v3 have no flag: those clients always let the broker create (Kafka's default, true).
    if unknown.is_empty() || !request.allow_auto_topic_creation {
        return encode(&response).map(Answer::Now);
    }
    let auto_create = TopicRequest::AutoCreate { topics: unknown };
    let id = context.send(|request_id| CoreMessage::TopicAdmin { request_id, request: Box::new(auto_create) });
    Ok(Answer::Later(Pending::new(vec![id], move |answers| {
        if let Some(CoreMessage::TopicAdminResponse { response: answer, .. }) = answers.into_iter().next() {
            if let TopicResponse::AutoCreate(results) = *answer {
                report_auto_creation(&mut response, &results);
            }
        }
        encode(&response)
    })))
}

/// The names asked for that the cluster does not have.
fn unknown_names(response: &MetadataResponse) -> Vec<String> {
    let unknown = ErrorCode::UnknownTopicOrPartition.code();
    response
        .topics
        .iter()
        .filter(|topic| topic.error_code == unknown)
        .filter_map(|topic| topic.name.as_ref().map(|name| name.0.to_string()))
        .collect()
}

/// What the broker said of each unknown topic: LEADER_NOT_AVAILABLE while it is created,
/// UNKNOWN_TOPIC_OR_PARTITION with auto-creation off, INVALID_TOPIC_EXCEPTION for an illegal
/// name. One the broker already knows, but the view here not yet, is being created too.
fn report_auto_creation(response: &mut MetadataResponse, results: &[(String, Result<(), ErrorCode>)]) {
    for topic in &mut response.topics {
        let Some(name) = &topic.name else { continue };
        if let Some((_, result)) = results.iter().find(|(wanted, _)| wanted.as_str() == name.0.as_str()) {
            topic.error_code = result.err().unwrap_or(ErrorCode::LeaderNotAvailable).code();
        }
    }
}

/// The answer to `request`, asked at `version`, as the cluster stands in `view`.
pub fn answer(request: &MetadataRequest, version: i16, view: &ClusterView, endpoints: &[Endpoint]) -> MetadataResponse {
    let live: Vec<&Endpoint> = endpoints.iter().filter(|e| view.broker(e.broker).is_some_and(|b| !b.fenced)).collect();
    let listed: Vec<BrokerId> = live.iter().map(|e| e.broker).collect();
    let topics = topics_of(view);
    let topic_entries =
        requested(request, version, &topics).into_iter().map(|wanted| topic_entry(wanted, &topics, &listed)).collect();
    MetadataResponse::default()
        .with_brokers(live.iter().map(|e| broker_entry(e)).collect())
        .with_cluster_id(Some(StrBytes::from_static_str(CLUSTER_ID)))
        .with_controller_id(NodeId(controller_id(view, &listed)))
        .with_topics(topic_entries)
}

/// The active controller, when it runs beside a broker (the combined layout). Dedicated
/// controllers are not reachable by clients, and neither is a quorum without a leader: then a
/// live broker, as KRaft brokers do (they forward what is meant for the controller, KIP-590).
pub(crate) fn controller_id(view: &ClusterView, listed: &[BrokerId]) -> i32 {
    let combined = view.controller_layout == ControllerLayout::Combined;
    match view.active_controller.filter(|_| combined) {
        Some(controller) => controller.0,
        None => listed.iter().map(|b| b.0).min().unwrap_or(-1),
    }
}

/// A topic's id. Kafka draws a random UUID when it creates a topic; the lab derives one from
/// the name (FNV-1a, 128-bit, as a version-8 "custom" UUID), so every run names a topic with
/// the same id and the id is never the reserved zero.
pub fn topic_id(name: &str) -> Uuid {
    const OFFSET_BASIS: u128 = 0x6c62_272e_07bb_0142_62b8_2175_6295_c58d;
    const PRIME: u128 = 0x0000_0000_0100_0000_0000_0000_0000_013b;
    let hash = name.bytes().fold(OFFSET_BASIS, |hash, byte| (hash ^ u128::from(byte)).wrapping_mul(PRIME));
    uuid::Builder::from_custom_bytes(hash.to_be_bytes()).into_uuid()
}

/// A topic the client asked about, by name or (v10+) by id.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Wanted<'a> {
    Name(&'a str),
    Id(Uuid),
}

/// The topics to describe: all of them for a null list (and, in v0, an empty one), else the
/// ones listed, each once.
fn requested<'a>(
    request: &'a MetadataRequest,
    version: i16,
    topics: &BTreeMap<&'a str, Vec<&PartitionView>>,
) -> Vec<Wanted<'a>> {
    let all = || topics.keys().map(|&name| Wanted::Name(name)).collect();
    let Some(list) = &request.topics else {
        return all();
    };
    if list.is_empty() && version == 0 {
        return all();
    }
    let mut wanted: Vec<Wanted<'a>> = Vec::new();
    for topic in list {
        let one = match &topic.name {
            Some(name) => Wanted::Name(name.0.as_str()),
            None => Wanted::Id(topic.topic_id),
        };
        if !wanted.contains(&one) {
            wanted.push(one);
        }
    }
    wanted
}

/// The view's partitions grouped by topic name, in name then partition order.
fn topics_of(view: &ClusterView) -> BTreeMap<&str, Vec<&PartitionView>> {
    let mut topics: BTreeMap<&str, Vec<&PartitionView>> = BTreeMap::new();
    for partition in &view.partitions {
        topics.entry(&*partition.partition.topic).or_default().push(partition);
    }
    for partitions in topics.values_mut() {
        partitions.sort_by_key(|p| p.partition.partition);
    }
    topics
}

fn broker_entry(endpoint: &Endpoint) -> MetadataResponseBroker {
    MetadataResponseBroker::default()
        .with_node_id(NodeId(endpoint.broker.0))
        .with_host(StrBytes::from_string(endpoint.host.clone()))
        .with_port(i32::from(endpoint.port))
        .with_rack(None)
}

fn topic_entry(
    wanted: Wanted<'_>,
    topics: &BTreeMap<&str, Vec<&PartitionView>>,
    listed: &[BrokerId],
) -> MetadataResponseTopic {
    let found = match &wanted {
        Wanted::Name(name) => topics.get_key_value(name),
        Wanted::Id(id) => topics.iter().find(|(name, _)| topic_id(name) == *id),
    };
    let Some((&name, partitions)) = found else {
        return unknown_topic(wanted);
    };
    MetadataResponseTopic::default()
        .with_error_code(0)
        .with_name(Some(topic_name(name)))
        .with_topic_id(topic_id(name))
        .with_is_internal(false)
        .with_partitions(partitions.iter().map(|p| partition_entry(p, listed)).collect())
        .with_topic_authorized_operations(AUTHORIZED_OPERATIONS_OMITTED)
}

/// An unknown name is UNKNOWN_TOPIC_OR_PARTITION (until the broker's auto-creation says
/// otherwise), an unknown id UNKNOWN_TOPIC_ID.
fn unknown_topic(wanted: Wanted<'_>) -> MetadataResponseTopic {
    let topic = MetadataResponseTopic::default()
        .with_is_internal(false)
        .with_topic_authorized_operations(AUTHORIZED_OPERATIONS_OMITTED);
    match wanted {
        Wanted::Name(name) => {
            topic.with_error_code(ErrorCode::UnknownTopicOrPartition.code()).with_name(Some(topic_name(name)))
        }
        Wanted::Id(id) => topic.with_error_code(UNKNOWN_TOPIC_ID).with_name(None).with_topic_id(id),
    }
}

/// One partition, as the controller's metadata has it. Like KRaft's metadata cache, a leader
/// that is not among the listed (unfenced) brokers reads as LEADER_NOT_AVAILABLE, and replicas
/// on fenced brokers are offline. A broker that has crashed but is not yet fenced is still
/// listed, leaderships and all, exactly as a real cluster reports it until the session expires.
fn partition_entry(partition: &PartitionView, listed: &[BrokerId]) -> MetadataResponsePartition {
    let leader = partition.leader.filter(|leader| listed.contains(leader));
    let error_code = match leader {
        Some(_) => 0,
        None => ErrorCode::LeaderNotAvailable.code(),
    };
    let is_offline = |broker: BrokerId| !listed.contains(&broker);
    MetadataResponsePartition::default()
        .with_error_code(error_code)
        .with_partition_index(partition.partition.partition.0)
        .with_leader_id(NodeId(leader.map_or(-1, |b| b.0)))
        .with_leader_epoch(partition.leader_epoch.0)
        .with_replica_nodes(partition.replicas.iter().map(|r| NodeId(r.broker.0)).collect())
        .with_isr_nodes(partition.isr.iter().map(|b| NodeId(b.0)).collect())
        .with_offline_replicas(
            partition.replicas.iter().filter(|r| is_offline(r.broker)).map(|r| NodeId(r.broker.0)).collect(),
        )
}

fn topic_name(name: &str) -> TopicName {
    TopicName(StrBytes::from_string(name.to_string()))
}

/// Refuses a topic count the body cannot hold. The protocol crate reserves room for the
/// declared count before reading a single topic, so a few garbage bytes declaring two
/// billion topics would ask for hundreds of gigabytes and abort the process. Every topic
/// takes at least 2 bytes (18 from v10, with its id), which bounds an honest count.
fn check_topic_count(body: &Bytes, version: i16) -> Result<(), Rejection> {
    let mut bytes = &body[..];
    let count = if version >= 9 {
        // A compact array stores its length plus one; 0 is null.
        match read_unsigned_varint(&mut bytes) {
            Some(length_plus_one) => u64::from(length_plus_one.saturating_sub(1)),
            None => return Ok(()), // Too short: the decoder reports it.
        }
    } else if bytes.len() >= 4 {
        u64::try_from(bytes.get_i32()).unwrap_or(0) // -1 is null.
    } else {
        return Ok(());
    };
    let min_topic_bytes: u64 = if version >= 10 { 18 } else { 2 };
    let room = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if count.saturating_mul(min_topic_bytes) > room {
        let reason = format!("declares {count} topics in {room} bytes");
        return Err(malformed(ApiKey::Metadata, version, "body", &reason));
    }
    Ok(())
}

/// Kafka's unsigned varint (at most 5 bytes for a u32); `None` if cut short or too long.
fn read_unsigned_varint(bytes: &mut &[u8]) -> Option<u32> {
    let mut value: u32 = 0;
    for index in 0..5 {
        let (&byte, rest) = bytes.split_first()?;
        *bytes = rest;
        value |= u32::from(byte & 0x7f) << (7 * index);
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    use kafkalab_core::Simulation;

    use crate::cluster::{config_for, test_endpoints as endpoints};

    fn simulation() -> Simulation {
        let mut simulation = Simulation::new(config_for(3)).expect("valid config");
        simulation.advance(1_000);
        simulation
    }

    fn all_topics() -> MetadataRequest {
        MetadataRequest::default().with_topics(None)
    }

    fn named(names: &[&'static str]) -> MetadataRequest {
        MetadataRequest::default().with_topics(Some(
            names
                .iter()
                .map(|n| MetadataRequestTopic::default().with_name(Some(TopicName(StrBytes::from_static_str(n)))))
                .collect(),
        ))
    }

    fn nodes(ids: &[NodeId]) -> Vec<i32> {
        ids.iter().map(|n| n.0).collect()
    }

    #[test]
    fn a_healthy_cluster_lists_every_broker_and_preferred_leader() {
        let response = answer(&all_topics(), 12, &simulation().view(), &endpoints(3));
        let ports: Vec<i32> = response.brokers.iter().map(|b| b.port).collect();
        assert_eq!(ports, [9092, 9093, 9094]);
        assert_eq!(response.controller_id.0, 1);
        assert_eq!(response.cluster_id.as_deref(), Some(CLUSTER_ID));
        let [orders] = &response.topics[..] else { panic!("one topic") };
        assert_eq!(orders.name.as_ref().map(|n| n.0.as_str()), Some("orders"));
        assert_eq!(orders.topic_id, topic_id("orders"));
        let leaders: Vec<i32> = orders.partitions.iter().map(|p| p.leader_id.0).collect();
        assert_eq!(leaders, [1, 2, 3]);
        assert_eq!(nodes(&orders.partitions[1].replica_nodes), [2, 3, 1]);
        assert_eq!(nodes(&orders.partitions[1].isr_nodes), [2, 3, 1]);
        assert!(orders.partitions.iter().all(|p| p.error_code == 0));
        assert!(orders.partitions.iter().all(|p| p.offline_replicas.is_empty()));
    }

    #[test]
    fn an_empty_list_means_all_topics_only_in_v0() {
        let empty = named(&[]);
        let view = simulation().view();
        assert_eq!(answer(&empty, 0, &view, &endpoints(3)).topics.len(), 1);
        assert_eq!(answer(&empty, 1, &view, &endpoints(3)).topics.len(), 0);
    }

    #[test]
    fn unknown_topics_are_reported_not_created() {
        let response = answer(&named(&["nope", "orders", "nope"]), 4, &simulation().view(), &endpoints(3));
        let codes: Vec<i16> = response.topics.iter().map(|t| t.error_code).collect();
        assert_eq!(codes, [3, 0]);
    }

    #[test]
    fn topics_can_be_asked_for_by_id() {
        let by_id = |id| {
            MetadataRequest::default()
                .with_topics(Some(vec![MetadataRequestTopic::default().with_name(None).with_topic_id(id)]))
        };
        let view = simulation().view();
        let found = answer(&by_id(topic_id("orders")), 12, &view, &endpoints(3));
        assert_eq!(found.topics[0].error_code, 0);
        assert_eq!(found.topics[0].partitions.len(), 3);
        let missing = answer(&by_id(topic_id("other")), 12, &view, &endpoints(3));
        assert_eq!(missing.topics[0].error_code, UNKNOWN_TOPIC_ID);
    }

    #[test]
    fn a_crashed_broker_is_listed_until_fenced_then_its_partitions_fail_over() {
        let mut simulation = simulation();
        simulation.advance(1_000);
        simulation.kill(BrokerId(1)).expect("broker 1 runs");
        // Until broker.session.timeout.ms passes, the metadata still names broker 1, as a real
        // cluster's does: clients find it unreachable and retry.
        let response = answer(&all_topics(), 12, &simulation.view(), &endpoints(3));
        let ids: Vec<i32> = response.brokers.iter().map(|b| b.node_id.0).collect();
        assert_eq!(ids, [1, 2, 3]);
        assert_eq!(response.topics[0].partitions[0].leader_id.0, 1);
        // Then the controller fences it and elects broker 2; broker 1 leaves the list.
        simulation.advance(15_000);
        let view = simulation.view();
        let response = answer(&all_topics(), 12, &view, &endpoints(3));
        let ids: Vec<i32> = response.brokers.iter().map(|b| b.node_id.0).collect();
        assert_eq!(ids, [2, 3]);
        // Node 1 ran controller 1 too: another controller leads the quorum now.
        let active = view.active_controller.expect("a controller quorum of two elects a leader");
        assert_ne!(active.0, 1);
        assert_eq!(response.controller_id.0, active.0);
        let partition0 = &response.topics[0].partitions[0];
        assert_eq!(partition0.leader_id.0, 2);
        assert_eq!(partition0.error_code, 0);
        assert!(partition0.leader_epoch > 0);
        assert!(!nodes(&partition0.isr_nodes).contains(&1));
        assert_eq!(nodes(&partition0.offline_replicas), [1]);
    }

    #[test]
    fn a_partition_whose_every_in_sync_replica_is_fenced_has_no_leader() {
        let mut simulation = Simulation::new(config_for(1)).expect("a one-broker lab is valid");
        simulation.advance(1_000);
        simulation.kill(BrokerId(1)).expect("broker 1 runs");
        simulation.advance(15_000);
        let response = answer(&all_topics(), 12, &simulation.view(), &endpoints(1));
        assert!(response.brokers.is_empty());
        let partition0 = &response.topics[0].partitions[0];
        assert_eq!(partition0.leader_id.0, -1);
        assert_eq!(partition0.error_code, ErrorCode::LeaderNotAvailable.code());
    }

    #[test]
    fn topic_ids_are_stable_distinct_and_never_zero() {
        assert_eq!(topic_id("orders"), topic_id("orders"));
        assert_ne!(topic_id("orders"), topic_id("payments"));
        assert!(!topic_id("").is_nil());
    }

    #[test]
    fn absurd_topic_counts_are_refused_before_decoding() {
        let huge_v4 = Bytes::from_static(&[0x7f, 0xff, 0xff, 0xff, 0, 1, b'a', 1]);
        assert!(check_topic_count(&huge_v4, 4).is_err());
        let huge_v12 = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 0x0f, 0, 0]);
        assert!(check_topic_count(&huge_v12, 12).is_err());
        let honest_v4 = Bytes::from_static(&[0, 0, 0, 1, 0, 1, b'a', 1]);
        assert!(check_topic_count(&honest_v4, 4).is_ok());
        let null_v4 = Bytes::from_static(&[0xff, 0xff, 0xff, 0xff, 1]);
        assert!(check_topic_count(&null_v4, 4).is_ok());
    }
}
