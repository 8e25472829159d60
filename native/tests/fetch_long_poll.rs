//! Fetch is a long poll: the broker holds a fetch with nothing to read until records arrive or
//! the request's `max_wait_ms` passes, as Kafka does. The simulation's clock follows the wall
//! clock and never runs ahead of it, so a hold of 500 simulated milliseconds takes at least
//! about that long here.

mod common;

use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{call, TestServer};
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, FetchRequest, FetchResponse, MetadataRequest, MetadataResponse, ProduceRequest, ProduceResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafkalab_core::partition_log::single_record_batch;
use tokio::net::TcpStream;

fn orders() -> TopicName {
    TopicName(StrBytes::from_static_str("orders"))
}

/// A connection to the leader of `orders/partition`.
async fn leader(server: &TestServer, partition: i32) -> TcpStream {
    let mut any = server.connect(0).await;
    let request =
        MetadataRequest::default().with_topics(Some(vec![MetadataRequestTopic::default().with_name(Some(orders()))]));
    let response: MetadataResponse = call(&mut any, ApiKey::Metadata, 4, 1, &request).await;
    let leader = response.topics[0].partitions.iter().find(|p| p.partition_index == partition).expect("partition");
    server.connect(usize::try_from(leader.leader_id.0 - 1).expect("a leader")).await
}

fn fetch_request(partition: i32, max_wait_ms: i32) -> FetchRequest {
    FetchRequest::default().with_max_wait_ms(max_wait_ms).with_min_bytes(1).with_topics(vec![FetchTopic::default()
        .with_topic(orders())
        .with_partitions(vec![FetchPartition::default()
            .with_partition(partition)
            .with_fetch_offset(0)
            .with_partition_max_bytes(1 << 20)])])
}

/// One Fetch of `orders/partition` from offset 0: how long it took and how many bytes came.
async fn timed_fetch(stream: &mut TcpStream, partition: i32, max_wait_ms: i32) -> (Duration, usize) {
    let started = Instant::now();
    let response: FetchResponse = call(stream, ApiKey::Fetch, 11, 2, &fetch_request(partition, max_wait_ms)).await;
    let data = &response.responses[0].partitions[0];
    assert_eq!(data.error_code, 0, "{data:?}");
    (started.elapsed(), data.records.as_ref().map_or(0, Bytes::len))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fetch_of_an_empty_partition_waits_max_wait_then_comes_back_empty() {
    let server = TestServer::start_settled().await;
    let mut stream = leader(&server, 1).await;
    let (waited, bytes) = timed_fetch(&mut stream, 1, 500).await;
    assert_eq!(bytes, 0);
    // The clock ticks every 10 ms: the request may land up to a tick after the simulated time.
    assert!(waited >= Duration::from_millis(480), "held only {waited:?}");
    assert!(waited < Duration::from_secs(3), "held {waited:?}");
    let (at_once, _) = timed_fetch(&mut stream, 1, 0).await;
    assert!(at_once < waited, "max_wait 0 is not held: {at_once:?} vs {waited:?}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_held_fetch_returns_as_soon_as_a_produce_lands() {
    let server = TestServer::start_settled().await;
    let mut consumer = leader(&server, 2).await;
    let mut producer = leader(&server, 2).await;
    let fetch = tokio::spawn(async move { timed_fetch(&mut consumer, 2, 30_000).await });
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!fetch.is_finished(), "the fetch is held while the partition is empty");

    let produced = Instant::now();
    let batch = single_record_batch(0, None, Some(Bytes::from_static(b"wake up"))).into_bytes();
    let request = ProduceRequest::default().with_acks(-1).with_timeout_ms(5_000).with_topic_data(vec![
        TopicProduceData::default()
            .with_name(orders())
            .with_partition_data(vec![PartitionProduceData::default().with_index(2).with_records(Some(batch))]),
    ]);
    let response: ProduceResponse = call(&mut producer, ApiKey::Produce, 7, 3, &request).await;
    assert_eq!(response.responses[0].partition_responses[0].error_code, 0);

    let (waited, bytes) = fetch.await.expect("the fetch task");
    assert!(bytes > 0, "the record comes back");
    assert!(waited >= Duration::from_millis(300), "answered only after the produce: {waited:?}");
    assert!(produced.elapsed() < Duration::from_secs(3), "long before the 30 s max wait");
    server.stop().await;
}
