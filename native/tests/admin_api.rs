//! Topic administration over the wire: CreateTopics, DeleteTopics and CreatePartitions at the
//! versions clients send, answered by the core's controller through any broker; a created
//! topic takes records; Metadata auto-creates a topic a client names (kcat's producer too).

mod common;

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use common::{call, TestServer};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, BrokerId, CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest, CreateTopicsResponse,
    DeleteTopicsRequest, DeleteTopicsResponse, FetchRequest, FetchResponse, MetadataRequest, MetadataResponse,
    ProduceRequest, ProduceResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafkalab_core::partition_log::single_record_batch;
use kafkalab_native::api::metadata::topic_id;
use tokio::net::TcpStream;

const LEADER_NOT_AVAILABLE: i16 = 5;
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
const NOT_LEADER_OR_FOLLOWER: i16 = 6;
const INVALID_TOPIC_EXCEPTION: i16 = 17;
const TOPIC_ALREADY_EXISTS: i16 = 36;
const INVALID_PARTITIONS: i16 = 37;
const INVALID_REPLICATION_FACTOR: i16 = 38;
const INVALID_CONFIG: i16 = 40;

fn name(text: &str) -> TopicName {
    TopicName(StrBytes::from_string(text.to_string()))
}

fn topic(text: &str, partitions: i32, replication_factor: i16) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(name(text))
        .with_num_partitions(partitions)
        .with_replication_factor(replication_factor)
}

async fn create(stream: &mut TcpStream, version: i16, topics: Vec<CreatableTopic>) -> CreateTopicsResponse {
    let request = CreateTopicsRequest::default().with_topics(topics).with_timeout_ms(10_000);
    call(stream, ApiKey::CreateTopics, version, version.into(), &request).await
}

async fn metadata(stream: &mut TcpStream, version: i16, names: &[&str], auto: bool) -> MetadataResponse {
    let topics = names.iter().map(|n| MetadataRequestTopic::default().with_name(Some(name(n)))).collect();
    let request = MetadataRequest::default().with_topics(Some(topics)).with_allow_auto_topic_creation(auto);
    call(stream, ApiKey::Metadata, version, 100, &request).await
}

/// The partition count Metadata reports for `topic`, or its error code.
async fn partitions_of(stream: &mut TcpStream, topic: &str) -> Result<usize, i16> {
    let response = metadata(stream, 12, &[topic], false).await;
    let entry = &response.topics[0];
    if entry.error_code == 0 {
        Ok(entry.partitions.len())
    } else {
        Err(entry.error_code)
    }
}

fn codes_of_created(response: &CreateTopicsResponse) -> Vec<(String, i16)> {
    response.topics.iter().map(|t| (t.name.0.to_string(), t.error_code)).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn create_topics_creates_at_every_served_version_and_reports_the_new_topics_shape() {
    let server = TestServer::start_settled().await;
    let mut stream = server.connect(1).await;
    for version in 2..=7 {
        let topic_name = format!("created-v{version}");
        let response = create(&mut stream, version, vec![topic(&topic_name, 3, 2)]).await;
        assert_eq!(codes_of_created(&response), [(topic_name.clone(), 0)], "v{version}");
        if version >= 5 {
            let created = &response.topics[0];
            assert_eq!((created.num_partitions, created.replication_factor), (3, 2), "v{version}");
        }
        if version >= 7 {
            assert_eq!(response.topics[0].topic_id, topic_id(&topic_name));
        }
        assert_eq!(partitions_of(&mut stream, &topic_name).await, Ok(3), "v{version}");
    }
    let defaults = create(&mut stream, 7, vec![topic("defaults", -1, -1)]).await;
    assert_eq!((defaults.topics[0].num_partitions, defaults.topics[0].replication_factor), (1, 1));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_topics_refuses_each_bad_topic_with_kafkas_error_and_message() {
    let server = TestServer::start_settled().await;
    let mut stream = server.connect(0).await;
    let bad_config = topic("odd", 1, 1).with_configs(vec![CreatableTopicConfig::default()
        .with_name(StrBytes::from_static_str("no.such.setting"))
        .with_value(Some(StrBytes::from_static_str("1")))]);
    let response = create(
        &mut stream,
        5,
        vec![topic("orders", 1, 1), topic("bad/name", 1, 1), topic("zero", 0, 1), topic("wide", 1, 4), bad_config],
    )
    .await;
    assert_eq!(
        codes_of_created(&response),
        [
            ("orders".to_string(), TOPIC_ALREADY_EXISTS),
            ("bad/name".to_string(), INVALID_TOPIC_EXCEPTION),
            ("zero".to_string(), INVALID_PARTITIONS),
            ("wide".to_string(), INVALID_REPLICATION_FACTOR),
            ("odd".to_string(), INVALID_CONFIG),
        ]
    );
    assert!(response.topics.iter().all(|t| t.error_message.as_ref().is_some_and(|m| !m.is_empty())));
    let validated = CreateTopicsRequest::default()
        .with_topics(vec![topic("only-checked", 2, 1)])
        .with_validate_only(true)
        .with_timeout_ms(10_000);
    let response: CreateTopicsResponse = call(&mut stream, ApiKey::CreateTopics, 4, 9, &validated).await;
    assert_eq!(codes_of_created(&response), [("only-checked".to_string(), 0)]);
    assert_eq!(partitions_of(&mut stream, "only-checked").await, Err(UNKNOWN_TOPIC_OR_PARTITION));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_created_topic_takes_records_that_a_fetch_reads_back() {
    let server = TestServer::start_settled().await;
    let mut admin = server.connect(0).await;
    let response = create(&mut admin, 7, vec![topic("payments", 1, 3)]).await;
    assert_eq!(codes_of_created(&response), [("payments".to_string(), 0)]);
    let described = metadata(&mut admin, 12, &["payments"], false).await;
    let leader = described.topics[0].partitions[0].leader_id;
    assert!(leader.0 >= 1, "the new partition has a leader: {described:?}");
    let mut stream = server.connect((leader.0 - 1) as usize).await;

    let batch = single_record_batch(0, Some(Bytes::from_static(b"k")), Some(Bytes::from_static(b"paid")));
    let produce = ProduceRequest::default().with_acks(-1).with_timeout_ms(5_000).with_topic_data(vec![
        TopicProduceData::default().with_name(name("payments")).with_partition_data(vec![
            PartitionProduceData::default().with_index(0).with_records(Some(batch.as_bytes().clone())),
        ]),
    ]);
    // The leader may learn of its new partition a moment after the controller answered: a
    // client retries the errors that mean so, as this does.
    let mut outcome = (-1, -1);
    for attempt in 0..50 {
        let produced: ProduceResponse = call(&mut stream, ApiKey::Produce, 7, attempt, &produce).await;
        let partition = &produced.responses[0].partition_responses[0];
        outcome = (partition.error_code, partition.base_offset);
        if ![UNKNOWN_TOPIC_OR_PARTITION, NOT_LEADER_OR_FOLLOWER].contains(&outcome.0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(outcome, (0, 0));

    let fetch = FetchRequest::default()
        .with_replica_id(BrokerId(-1))
        .with_max_wait_ms(100)
        .with_min_bytes(1)
        .with_max_bytes(1 << 20)
        .with_topics(vec![FetchTopic::default().with_topic(name("payments")).with_partitions(vec![
            FetchPartition::default().with_partition(0).with_fetch_offset(0).with_partition_max_bytes(1 << 20),
        ])]);
    let fetched: FetchResponse = call(&mut stream, ApiKey::Fetch, 11, 2, &fetch).await;
    let data = &fetched.responses[0].partitions[0];
    assert_eq!((data.error_code, data.high_watermark), (0, 1));
    let records = data.records.as_ref().expect("records");
    // The batch as produced, but for its partition leader epoch (bytes 12..16), which the leader stamps.
    assert_eq!(records.len(), batch.as_bytes().len());
    assert_eq!(records[16..], batch.as_bytes()[16..]);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn create_partitions_grows_a_topic_at_every_version_and_never_shrinks_it() {
    let server = TestServer::start_settled().await;
    let mut stream = server.connect(2).await;
    for (version, count) in [(0, 4), (1, 5), (2, 6), (3, 7)] {
        let request = CreatePartitionsRequest::default()
            .with_topics(vec![CreatePartitionsTopic::default().with_name(name("orders")).with_count(count)])
            .with_timeout_ms(10_000);
        let response: CreatePartitionsResponse =
            call(&mut stream, ApiKey::CreatePartitions, version, 1, &request).await;
        assert_eq!(response.results[0].error_code, 0, "v{version}: {response:?}");
        assert_eq!(partitions_of(&mut stream, "orders").await, Ok(count as usize), "v{version}");
    }
    let request = CreatePartitionsRequest::default()
        .with_topics(vec![CreatePartitionsTopic::default().with_name(name("orders")).with_count(3)])
        .with_timeout_ms(10_000);
    let response: CreatePartitionsResponse = call(&mut stream, ApiKey::CreatePartitions, 3, 2, &request).await;
    assert_eq!(response.results[0].error_code, INVALID_PARTITIONS);
    assert!(response.results[0].error_message.as_ref().is_some_and(|m| m.contains("higher than the requested 3")));
    assert_eq!(partitions_of(&mut stream, "orders").await, Ok(7));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn deleted_topics_leave_metadata_whether_named_or_given_by_id() {
    let server = TestServer::start_settled().await;
    let mut stream = server.connect(0).await;
    let names: Vec<String> = (1..=6).map(|v| format!("doomed-v{v}")).collect();
    let topics = names.iter().map(|n| topic(n, 1, 1)).collect();
    assert!(codes_of_created(&create(&mut stream, 7, topics).await).iter().all(|(_, code)| *code == 0));
    for version in 1..=6 {
        let doomed = &names[version as usize - 1];
        let request = if version < 6 {
            DeleteTopicsRequest::default().with_topic_names(vec![name(doomed)])
        } else {
            DeleteTopicsRequest::default()
                .with_topics(vec![DeleteTopicState::default().with_name(None).with_topic_id(topic_id(doomed))])
        };
        let response: DeleteTopicsResponse =
            call(&mut stream, ApiKey::DeleteTopics, version, 1, &request.with_timeout_ms(10_000)).await;
        let result = &response.responses[0];
        assert_eq!(result.error_code, 0, "v{version}: {response:?}");
        assert_eq!(result.name.as_ref().map(|n| n.0.to_string()), Some(doomed.clone()));
        assert_eq!(partitions_of(&mut stream, doomed).await, Err(UNKNOWN_TOPIC_OR_PARTITION), "v{version}");
    }
    let missing = DeleteTopicsRequest::default().with_topic_names(vec![name("never-was")]).with_timeout_ms(10_000);
    let response: DeleteTopicsResponse = call(&mut stream, ApiKey::DeleteTopics, 4, 2, &missing).await;
    assert_eq!(response.responses[0].error_code, UNKNOWN_TOPIC_OR_PARTITION);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metadata_auto_creates_a_named_topic_when_the_client_allows_it() {
    let server = TestServer::start_settled().await;
    let mut stream = server.connect(1).await;
    let response = metadata(&mut stream, 4, &["not-wanted"], false).await;
    assert_eq!(response.topics[0].error_code, UNKNOWN_TOPIC_OR_PARTITION);
    for version in [4, 12] {
        let wanted = format!("auto-v{version}");
        let response = metadata(&mut stream, version, &[&wanted, "orders"], true).await;
        let codes: Vec<i16> = response.topics.iter().map(|t| t.error_code).collect();
        assert_eq!(codes, [LEADER_NOT_AVAILABLE, 0], "v{version}: being created, as Kafka answers");
        let mut described = None;
        for _ in 0..50 {
            let response = metadata(&mut stream, version, &[&wanted], true).await;
            if response.topics[0].error_code == 0 && response.topics[0].partitions.iter().all(|p| p.leader_id.0 >= 1) {
                described = Some(response);
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let described = described.expect("the topic is created within the patience");
        assert_eq!(described.topics[0].partitions.len(), 1, "num.partitions");
    }
    assert_eq!(partitions_of(&mut stream, "not-wanted").await, Err(UNKNOWN_TOPIC_OR_PARTITION));
    let response = metadata(&mut stream, 4, &["bad/name"], true).await;
    assert_eq!(response.topics[0].error_code, INVALID_TOPIC_EXCEPTION);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kcat_produces_to_a_topic_that_does_not_exist_yet() {
    const KCAT: &str = "/usr/bin/kcat";
    if !Path::new(KCAT).exists() {
        eprintln!("note: {KCAT} is not installed; skipping");
        return;
    }
    let server = TestServer::start_settled().await;
    let bootstrap = format!("127.0.0.1:{}", server.broker_ports[0]);
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new(KCAT)
            .args(["-b", &bootstrap, "-P", "-t", "newtopic"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kcat runs");
        child.stdin.take().expect("stdin").write_all(b"hello\n").expect("feed kcat");
        child.wait_with_output().expect("kcat finishes")
    })
    .await
    .expect("join");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kcat failed\n{stderr}");
    let mut stream = server.connect(0).await;
    assert_eq!(partitions_of(&mut stream, "newtopic").await, Ok(1));
    server.stop().await;
}
