//! The brokers speak Kafka: ApiVersions and Metadata at every version, and requests they
//! cannot serve close only their own connection.

mod common;

use bytes::BytesMut;
use common::{assert_closed, call, decode_response, frame, read_frame, request_frame, TestServer};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{
    ApiKey, ApiVersionsRequest, ApiVersionsResponse, MetadataRequest, MetadataResponse, RequestHeader, TopicName,
};
use kafka_protocol::protocol::{Encodable, StrBytes};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const UNSUPPORTED_VERSION: i16 = 35;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

fn api_versions_request(version: i16) -> ApiVersionsRequest {
    let request = ApiVersionsRequest::default();
    if version >= 3 {
        request
            .with_client_software_name(StrBytes::from_static_str("kafkalab-test"))
            .with_client_software_version(StrBytes::from_static_str("1.0"))
    } else {
        request
    }
}

fn range_of(keys: &[ApiVersion], api: ApiKey) -> Option<(i16, i16)> {
    keys.iter().find(|k| k.api_key == api as i16).map(|k| (k.min_version, k.max_version))
}

/// The server still answers a fresh connection.
async fn assert_alive(server: &TestServer) {
    let mut stream = server.connect(1).await;
    let response: ApiVersionsResponse = call(&mut stream, ApiKey::ApiVersions, 3, 99, &api_versions_request(3)).await;
    assert_eq!(response.error_code, 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn api_versions_advertises_exactly_what_is_served_at_every_version() {
    let server = TestServer::start(3, kafkalab_native::http::WebRoot::NotBuilt).await;
    let mut stream = server.connect(0).await;
    for version in [0, 1, 2, 3, 4] {
        let response: ApiVersionsResponse =
            call(&mut stream, ApiKey::ApiVersions, version, version as i32, &api_versions_request(version)).await;
        assert_eq!(response.error_code, 0, "v{version}");
        assert_eq!(response.api_keys.len(), kafkalab_native::api::SERVED.len(), "v{version}");
        assert_eq!(range_of(&response.api_keys, ApiKey::ApiVersions), Some((0, 4)));
        assert_eq!(range_of(&response.api_keys, ApiKey::Metadata), Some((0, 13)));
        assert_eq!(range_of(&response.api_keys, ApiKey::Produce), Some((3, 13)));
        assert_eq!(range_of(&response.api_keys, ApiKey::Fetch), Some((4, 18)));
        assert_eq!(range_of(&response.api_keys, ApiKey::CreateTopics), Some((2, 7)));
        assert_eq!(range_of(&response.api_keys, ApiKey::DescribeConfigs), Some((1, 4)));
        assert_eq!(range_of(&response.api_keys, ApiKey::DescribeCluster), Some((0, 2)));
        // librdkafka 2.0.2 misreads these tagged fields when present: they must stay unset.
        assert_eq!(response.finalized_features_epoch, -1);
        assert!(response.supported_features.is_empty());
        assert!(!response.zk_migration_ready);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn api_versions_too_new_gets_unsupported_version_in_the_v0_layout() {
    let server = TestServer::start(3, kafkalab_native::http::WebRoot::NotBuilt).await;
    let mut stream = server.connect(0).await;
    // A client from the future: header v2 layout, a body we cannot know.
    let header = RequestHeader::default()
        .with_request_api_key(ApiKey::ApiVersions as i16)
        .with_request_api_version(99)
        .with_correlation_id(7)
        .with_client_id(Some(StrBytes::from_static_str("future-client")));
    let mut payload = BytesMut::new();
    header.encode(&mut payload, 2).expect("encode");
    payload.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef]);
    stream.write_all(&frame(&payload)).await.expect("send");

    let answer = read_frame(&mut stream).await.expect("an answer");
    let (header, response): (_, ApiVersionsResponse) = decode_response(answer, ApiKey::ApiVersions, 0);
    assert_eq!(header.correlation_id, 7);
    assert_eq!(response.error_code, UNSUPPORTED_VERSION);
    assert_eq!(range_of(&response.api_keys, ApiKey::ApiVersions), Some((0, 4)));

    // The client retries on the same connection at a version listed, as librdkafka does.
    let response: ApiVersionsResponse = call(&mut stream, ApiKey::ApiVersions, 4, 8, &api_versions_request(4)).await;
    assert_eq!(response.error_code, 0);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_lists_three_brokers_and_the_orders_partitions_at_every_version() {
    let server = TestServer::start_settled().await;
    let mut stream = server.connect(0).await;
    for version in [0, 1, 4, 7, 9, 10, 12, 13] {
        // v0 has no null list: empty means all topics. Later versions say null.
        let request = match version {
            0 => MetadataRequest::default().with_topics(Some(vec![])),
            1..=3 => MetadataRequest::default().with_topics(None),
            _ => MetadataRequest::default().with_topics(None).with_allow_auto_topic_creation(false),
        };
        let response: MetadataResponse =
            call(&mut stream, ApiKey::Metadata, version, 100 + version as i32, &request).await;

        let brokers: Vec<(i32, String, i32)> =
            response.brokers.iter().map(|b| (b.node_id.0, b.host.to_string(), b.port)).collect();
        let expected: Vec<(i32, String, i32)> =
            (0..3).map(|i| (i as i32 + 1, "127.0.0.1".to_string(), server.broker_ports[i] as i32)).collect();
        assert_eq!(brokers, expected, "v{version}");
        if version >= 1 {
            assert_eq!(response.controller_id.0, 1, "v{version}");
        }
        if version >= 2 {
            assert_eq!(response.cluster_id.as_deref(), Some("kafkalab-cluster"));
        }

        let [orders] = &response.topics[..] else { panic!("v{version}: one topic, got {:?}", response.topics) };
        assert_eq!(orders.error_code, 0);
        assert_eq!(orders.name.as_ref().map(|n| n.0.as_str()), Some("orders"));
        assert!(!orders.is_internal);
        if version >= 10 {
            assert!(!orders.topic_id.is_nil(), "v{version}: a topic id");
        }
        let partitions: Vec<(i32, i32, usize)> =
            orders.partitions.iter().map(|p| (p.partition_index, p.leader_id.0, p.isr_nodes.len())).collect();
        assert_eq!(partitions, [(0, 1, 3), (1, 2, 3), (2, 3, 3)], "v{version}");
        for partition in &orders.partitions {
            assert_eq!(partition.error_code, 0);
            assert_eq!(partition.replica_nodes.len(), 3);
            assert!(partition.offline_replicas.is_empty());
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_for_a_named_unknown_topic_says_unknown_topic_or_partition() {
    // Without auto-creation: with it, the broker creates the topic (tests/admin_api.rs).
    let server = TestServer::start_settled().await;
    let mut stream = server.connect(2).await;
    let topic = |name: &'static str| {
        MetadataRequestTopic::default().with_name(Some(TopicName(StrBytes::from_static_str(name))))
    };
    let request = MetadataRequest::default()
        .with_topics(Some(vec![topic("missing"), topic("orders")]))
        .with_allow_auto_topic_creation(false);
    let response: MetadataResponse = call(&mut stream, ApiKey::Metadata, 9, 1, &request).await;
    let codes: Vec<(String, i16)> = response
        .topics
        .iter()
        .map(|t| (t.name.as_ref().map_or(String::new(), |n| n.0.to_string()), t.error_code))
        .collect();
    assert_eq!(codes, [("missing".to_string(), UNKNOWN_TOPIC_OR_PARTITION), ("orders".to_string(), 0)]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn pipelined_requests_are_answered_in_order() {
    let server = TestServer::start(3, kafkalab_native::http::WebRoot::NotBuilt).await;
    let mut stream = server.connect(0).await;
    let mut burst = BytesMut::new();
    for correlation_id in 0..20 {
        let frame = if correlation_id % 2 == 0 {
            request_frame(ApiKey::ApiVersions, 3, correlation_id, &api_versions_request(3))
        } else {
            request_frame(ApiKey::Metadata, 12, correlation_id, &MetadataRequest::default())
        };
        burst.extend_from_slice(&frame);
    }
    stream.write_all(&burst).await.expect("send");
    for correlation_id in 0..20 {
        let payload = read_frame(&mut stream).await.expect("an answer");
        assert_eq!(i32::from_be_bytes(payload[..4].try_into().expect("4 bytes")), correlation_id);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unserved_api_or_version_closes_only_that_connection() {
    let server = TestServer::start(3, kafkalab_native::http::WebRoot::NotBuilt).await;
    let mut bystander = server.connect(0).await;

    // WriteTxnMarkers (key 27): a real API, between brokers only, this server does not serve.
    let mut stream = server.connect(0).await;
    let produce = request_frame(ApiKey::ApiVersions, 3, 1, &api_versions_request(3));
    let mut produce = BytesMut::from(&produce[..]);
    produce[4..6].copy_from_slice(&27i16.to_be_bytes());
    stream.write_all(&produce).await.expect("send");
    assert_closed(&mut stream).await;

    // An API key Kafka has never had.
    let mut stream = server.connect(1).await;
    let mut unknown = BytesMut::from(&produce[..]);
    unknown[4..6].copy_from_slice(&999i16.to_be_bytes());
    stream.write_all(&unknown).await.expect("send");
    assert_closed(&mut stream).await;

    // Metadata at a version past the newest served.
    let mut stream = server.connect(2).await;
    let mut too_new = BytesMut::from(&request_frame(ApiKey::Metadata, 12, 1, &MetadataRequest::default())[..]);
    too_new[6..8].copy_from_slice(&14i16.to_be_bytes());
    stream.write_all(&too_new).await.expect("send");
    assert_closed(&mut stream).await;

    let response: ApiVersionsResponse = call(&mut bystander, ApiKey::ApiVersions, 0, 5, &api_versions_request(0)).await;
    assert_eq!(response.error_code, 0, "an open connection is untouched");
    assert_alive(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_truncated_and_oversized_frames_do_not_take_the_server_down() {
    let server = TestServer::start(3, kafkalab_native::http::WebRoot::NotBuilt).await;
    let metadata_v4 = request_frame(ApiKey::Metadata, 4, 1, &MetadataRequest::default());
    let attacks: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", frame(&[0xff; 37]).to_vec()),
        ("too short for a header", frame(&[0, 18, 0]).to_vec()),
        ("empty frame", frame(&[]).to_vec()),
        // A Metadata header with the body cut off (the frame size matches what is sent).
        ("body cut short", frame(&metadata_v4[4..metadata_v4.len() - 2]).to_vec()),
        // Metadata v4 claiming two billion topics in a few bytes.
        ("absurd topic count", {
            let mut payload = metadata_v4[4..metadata_v4.len() - 5].to_vec();
            payload.extend_from_slice(&[0x7f, 0xff, 0xff, 0xff, 0]);
            frame(&payload).to_vec()
        }),
        ("over socket.request.max.bytes", 200_000_000u32.to_be_bytes().to_vec()),
        ("negative size", (-5i32).to_be_bytes().to_vec()),
    ];
    for (name, bytes) in attacks {
        let mut stream = server.connect(0).await;
        stream.write_all(&bytes).await.expect(name);
        assert_closed(&mut stream).await;
        assert_alive(&server).await;
    }

    // A frame that never finishes: the client gives up half way.
    let mut stream = server.connect(0).await;
    stream.write_all(&metadata_v4[..10]).await.expect("send");
    stream.shutdown().await.expect("half close");
    assert_closed(&mut stream).await;
    assert_alive(&server).await;

    // A client that hangs up without a word.
    drop(TcpStream::connect(("127.0.0.1", server.broker_ports[0])).await);
    assert_alive(&server).await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn shutdown_completes_with_idle_clients_connected() {
    let server = TestServer::start(3, kafkalab_native::http::WebRoot::NotBuilt).await;
    let mut idle = server.connect(0).await;
    let _: ApiVersionsResponse = call(&mut idle, ApiKey::ApiVersions, 3, 1, &api_versions_request(3)).await;
    server.stop().await;
    assert_closed(&mut idle).await;
}
