//! The data directory end to end: `serve` stopped and started again on the same directory
//! serves the same records, byte for byte, and the same committed offsets; a torn or corrupt
//! tail is found by its CRC, truncated and reported, and the rest is served; the `.index`
//! files map offsets to positions as Kafka's do; and what one persist costs.

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use bytes::Bytes;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::find_coordinator_request::FindCoordinatorRequest;
use kafka_protocol::messages::offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{
    ApiKey, BrokerId as WireBrokerId, FetchRequest, FetchResponse, FindCoordinatorResponse, GroupId, MetadataRequest,
    MetadataResponse, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse,
    ProduceRequest, ProduceResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kafkalab_core::ids::Offset;
use kafkalab_core::record_batch::{encode, BatchHeader, Record};
use kafkalab_core::storage::ClusterDisks;
use kafkalab_core::{ClusterConfig, Command, Simulation};
use kafkalab_native::http::WebRoot;
use kafkalab_native::server::{run_with_storage, Listeners, ServerError};
use kafkalab_native::storage::{self, offset_index, segment_file, Persister};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use common::{call, temp_dir};

/// How long a restarted cluster may take to elect, recover and answer.
const RESTART_PATIENCE: Duration = Duration::from_secs(20);

/// A three-broker server keeping its cluster in a data directory.
struct DiskServer {
    ports: Vec<u16>,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl DiskServer {
    async fn start(dir: &Path) -> DiskServer {
        let mut brokers = Vec::new();
        for _ in 0..3 {
            brokers.push(TcpListener::bind("127.0.0.1:0").await.expect("bind broker"));
        }
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
        let ports = brokers.iter().map(|l| l.local_addr().expect("address").port()).collect();
        let (stop, stopped) = oneshot::channel::<()>();
        let listeners = Listeners { brokers, http };
        let task = tokio::spawn(run_with_storage(listeners, WebRoot::NotBuilt, Some(dir.to_path_buf()), async move {
            let _ = stopped.await;
        }));
        DiskServer { ports, stop, task }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let outcome = tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("stops").expect("no panic");
        assert!(outcome.is_ok(), "the server stopped with {outcome:?}");
    }

    async fn connect(&self, broker: i32) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.ports[(broker - 1) as usize])).await.expect("connect")
    }

    /// The leader of `orders/partition`, once the metadata names one.
    async fn leader(&self, partition: i32) -> i32 {
        let deadline = Instant::now() + RESTART_PATIENCE;
        loop {
            let mut stream = self.connect(1).await;
            let response: MetadataResponse =
                call(&mut stream, ApiKey::Metadata, 12, 1, &MetadataRequest::default().with_topics(None)).await;
            let leader = response
                .topics
                .iter()
                .filter(|t| t.name.as_ref().is_some_and(|n| n.0.as_str() == "orders"))
                .flat_map(|t| &t.partitions)
                .find(|p| p.partition_index == partition)
                .map(|p| p.leader_id.0)
                .filter(|&id| id > 0);
            if let Some(leader) = leader {
                return leader;
            }
            assert!(Instant::now() < deadline, "no leader for orders/{partition}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Produces one batch of `values` to `orders/partition` with acks=all; its base offset.
    async fn produce(&self, partition: i32, values: &[&[u8]]) -> i64 {
        let records: Vec<Record> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Record::new(i as i32, 0, None, Some(Bytes::copy_from_slice(v))))
            .collect();
        let header = BatchHeader::new(Offset(0), 1_700_000_000_000).fitted_to(&records);
        let batch = encode(&header, &records).expect("encode").into_bytes();
        let request = ProduceRequest::default().with_acks(-1).with_timeout_ms(5_000).with_topic_data(vec![
            TopicProduceData::default().with_name(TopicName(StrBytes::from_static_str("orders"))).with_partition_data(
                vec![PartitionProduceData::default().with_index(partition).with_records(Some(batch))],
            ),
        ]);
        let deadline = Instant::now() + RESTART_PATIENCE;
        loop {
            let mut stream = self.connect(self.leader(partition).await).await;
            let response: ProduceResponse = call(&mut stream, ApiKey::Produce, 9, 2, &request).await;
            let answer = &response.responses[0].partition_responses[0];
            if answer.error_code == 0 {
                return answer.base_offset;
            }
            assert!(Instant::now() < deadline, "produce kept failing with {}", answer.error_code);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Everything `orders/partition` holds below its high watermark, as the leader sends it,
    /// once that reaches `until`.
    async fn fetch(&self, partition: i32, until: i64) -> Bytes {
        let request =
            FetchRequest::default().with_max_wait_ms(0).with_max_bytes(1 << 20).with_topics(vec![FetchTopic::default(
            )
            .with_topic(TopicName(StrBytes::from_static_str("orders")))
            .with_partitions(vec![FetchPartition::default()
                .with_partition(partition)
                .with_partition_max_bytes(1 << 20)])]);
        let deadline = Instant::now() + RESTART_PATIENCE;
        loop {
            let mut stream = self.connect(self.leader(partition).await).await;
            let response: FetchResponse = call(&mut stream, ApiKey::Fetch, 12, 3, &request).await;
            let data = &response.responses[0].partitions[0];
            if data.error_code == 0 && data.high_watermark >= until {
                return data.records.clone().unwrap_or_default();
            }
            assert!(
                Instant::now() < deadline,
                "fetch: error {}, high watermark {}",
                data.error_code,
                data.high_watermark
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// A connection to `group`'s coordinator.
    async fn coordinator(&self, group: &'static str) -> TcpStream {
        let request = FindCoordinatorRequest::default().with_key(StrBytes::from_static_str(group));
        let deadline = Instant::now() + RESTART_PATIENCE;
        loop {
            let mut stream = self.connect(1).await;
            let response: FindCoordinatorResponse = call(&mut stream, ApiKey::FindCoordinator, 3, 4, &request).await;
            if response.error_code == 0 && response.node_id != WireBrokerId(-1) {
                return self.connect(response.node_id.0).await;
            }
            assert!(Instant::now() < deadline, "no coordinator: {}", response.error_code);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Commits `offset` for `orders/partition` as a group without members would (generation
    /// -1), retrying while the coordinator is not ready.
    async fn commit(&self, group: &'static str, partition: i32, offset: i64) {
        let request = OffsetCommitRequest::default()
            .with_group_id(GroupId(StrBytes::from_static_str(group)))
            .with_generation_id_or_member_epoch(-1)
            .with_topics(vec![OffsetCommitRequestTopic::default()
                .with_name(TopicName(StrBytes::from_static_str("orders")))
                .with_partitions(vec![OffsetCommitRequestPartition::default()
                    .with_partition_index(partition)
                    .with_committed_offset(offset)])]);
        let deadline = Instant::now() + RESTART_PATIENCE;
        loop {
            let mut stream = self.coordinator(group).await;
            let response: OffsetCommitResponse = call(&mut stream, ApiKey::OffsetCommit, 8, 5, &request).await;
            let error = response.topics[0].partitions[0].error_code;
            if error == 0 {
                return;
            }
            assert!(Instant::now() < deadline, "commit kept failing with {error}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The group's committed offset for `orders/partition`, once the coordinator has loaded.
    async fn committed(&self, group: &'static str, partition: i32) -> i64 {
        let request = OffsetFetchRequest::default()
            .with_group_id(GroupId(StrBytes::from_static_str(group)))
            .with_topics(Some(vec![OffsetFetchRequestTopic::default()
                .with_name(TopicName(StrBytes::from_static_str("orders")))
                .with_partition_indexes(vec![partition])]));
        let deadline = Instant::now() + RESTART_PATIENCE;
        loop {
            let mut stream = self.coordinator(group).await;
            let response: OffsetFetchResponse = call(&mut stream, ApiKey::OffsetFetch, 7, 6, &request).await;
            let answer = response.topics.first().and_then(|t| t.partitions.first());
            if let (0, Some(answer)) = (response.error_code, answer) {
                if answer.error_code == 0 {
                    return answer.committed_offset;
                }
            }
            assert!(Instant::now() < deadline, "offset fetch kept failing with {}", response.error_code);
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

fn segment(dir: &Path, broker: i32, partition: i32) -> PathBuf {
    dir.join(format!("broker-{broker}/orders-{partition}/00000000000000000000.log"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_and_committed_offsets_survive_a_stop_and_a_start_on_the_same_data_directory() {
    let dir = temp_dir("storage-restart");
    let server = DiskServer::start(&dir).await;
    server.produce(0, &[b"alpha", b"beta"]).await;
    let offset = server.produce(0, &[b"gamma"]).await;
    assert_eq!(offset, 2);
    server.commit("billing", 0, 3).await;
    let before = server.fetch(0, 3).await;
    server.stop().await;
    for broker in 1..=3 {
        let bytes = std::fs::read(segment(&dir, broker, 0)).expect("every replica's segment file");
        assert_eq!(bytes, before, "broker {broker}'s .log file holds the batches as fetched");
    }

    let server = DiskServer::start(&dir).await;
    assert_eq!(server.fetch(0, 3).await, before, "the same batches, byte for byte");
    assert_eq!(server.committed("billing", 0).await, 3);
    assert_eq!(server.produce(0, &[b"delta"]).await, 3, "new records follow the recovered ones");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_tail_and_a_corrupt_byte_are_found_truncated_reported_and_the_rest_is_served() {
    let dir = temp_dir("storage-damage");
    let server = DiskServer::start(&dir).await;
    for value in [b"one", b"two", b"six"] {
        server.produce(1, &[value]).await;
    }
    let whole = server.fetch(1, 3).await;
    server.stop().await;
    let last_batch_bytes = whole.len() / 3; // three batches of the same size
    let kept = whole.len() - last_batch_bytes;

    // Broker 1's last write was cut short; brokers 2 and 3 have a flipped byte in the last
    // batch's records, which only its CRC-32C can tell.
    let torn = segment(&dir, 1, 1);
    std::fs::OpenOptions::new().write(true).open(&torn).unwrap().set_len((whole.len() - 7) as u64).unwrap();
    for broker in [2, 3] {
        let path = segment(&dir, broker, 1);
        let mut bytes = std::fs::read(&path).unwrap();
        let at = bytes.len() - 2;
        bytes[at] ^= 0x5a;
        std::fs::write(&path, bytes).unwrap();
    }

    let opened = storage::open(&dir, 3).expect("the directory opens");
    let mut dropped: Vec<_> = opened.report.dropped.iter().map(|d| (d.path.clone(), d.position, d.log_end)).collect();
    dropped.sort();
    let expected: Vec<_> = (1..=3).map(|b| (segment(&dir, b, 1), kept as u64, Offset(2))).collect();
    assert_eq!(dropped, expected, "{:#?}", opened.report.dropped);
    let reasons: Vec<&str> = opened.report.dropped.iter().map(|d| d.reason.as_str()).collect();
    assert!(reasons.iter().any(|r| r.contains("torn")), "{reasons:?}");
    assert_eq!(reasons.iter().filter(|r| r.contains("CRC")).count(), 2, "{reasons:?}");
    for broker in 1..=3 {
        assert_eq!(std::fs::metadata(segment(&dir, broker, 1)).unwrap().len(), kept as u64, "truncated in place");
    }
    drop(opened);

    let server = DiskServer::start(&dir).await;
    assert_eq!(server.fetch(1, 2).await, whole.slice(..kept), "the batches before the damage are served");
    assert_eq!(server.produce(1, &[b"new"]).await, 2, "the dropped offset is written again");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_index_entry_points_at_the_batch_holding_its_offset_as_kafkas_offset_index_does() {
    let dir = temp_dir("storage-index");
    let server = DiskServer::start(&dir).await;
    let value = vec![b'x'; 900];
    for _ in 0..12 {
        server.produce(2, &[&value]).await;
    }
    server.fetch(2, 12).await;
    server.stop().await;

    let log = Bytes::from(std::fs::read(segment(&dir, 1, 2)).unwrap());
    let checked = segment_file::check(&log, Offset(0));
    assert_eq!((checked.batches.len(), checked.damage), (12, None));
    let index = std::fs::read(dir.join("broker-1/orders-2/00000000000000000000.index")).unwrap();
    let entries = offset_index::decode(&index).expect("whole entries");
    assert_eq!(entries, offset_index::build(Offset(0), &checked.batches));
    assert!(entries.len() >= 2, "12 batches of ~1 KiB pass 4096 bytes more than once: {entries:?}");
    for entry in &entries {
        let at = entry.position as usize;
        let batch =
            checked.batches.iter().find(|b| b.as_bytes().as_ptr() == log[at..].as_ptr()).expect("a batch start");
        assert_eq!(batch.last_offset().0, i64::from(entry.relative_offset), "the entry names its batch's last offset");
    }
    let (found, position) = offset_index::lookup(Offset(0), &entries, Offset(11));
    assert!(found <= Offset(11) && position as usize <= log.len());
}

#[test]
fn an_unchanged_cluster_writes_nothing_and_what_a_persist_costs_is_measured() {
    let dir = temp_dir("storage-cost");
    let mut lab = Simulation::new(ClusterConfig::default()).unwrap();
    lab.advance(2_000);
    let partitions = 60;
    let create = format!("create-topic bulk partitions={partitions} replication-factor=3");
    lab.apply(&Command::parse(&create).unwrap()).unwrap();
    lab.advance(3_000);
    let mut persister = Persister::new(dir.clone(), &ClusterDisks::default());

    let started = Instant::now();
    let first = persister.write(persister.plan(&lab));
    eprintln!("first persist, every file created: {first:?} in {:?}", started.elapsed());

    for partition in 0..partitions {
        let line = format!("produce bulk partition={partition} value=v acks=all");
        lab.apply(&Command::parse(&line).unwrap()).unwrap();
    }
    lab.advance(1_000);
    let planned = Instant::now();
    let plan = persister.plan(&lab);
    let plan_time = planned.elapsed();
    let appended = persister.write(plan);
    eprintln!(
        "one record on each of {partitions} partitions (x3 replicas): plan {plan_time:?}, write {appended:?} ({} us)",
        appended.write_micros
    );
    assert!(appended.files_written >= 3 * partitions, "every replica's segment got its batch");

    let planned = Instant::now();
    let idle = persister.plan(&lab);
    eprintln!("nothing changed: plan {:?}", planned.elapsed());
    assert!(idle.is_empty(), "an unchanged cluster writes nothing: {idle:?}");
}

#[test]
fn a_data_directory_in_use_is_refused_until_the_server_using_it_lets_go() {
    let dir = temp_dir("storage-lock");
    let first = storage::open(&dir, 3).expect("a new directory opens");
    let refused = storage::open(&dir, 3).expect_err("a second server on the same directory");
    assert!(matches!(refused, storage::StorageError::InUse { .. }), "{refused:?}");
    let said = refused.to_string();
    assert!(said.contains(".lock") && said.contains("another kafkalab") && said.contains("--data-dir"), "{said}");
    drop(first);
    storage::open(&dir, 3).expect("free again once the first lets go");
    let _ = std::fs::remove_dir_all(&dir);
}
