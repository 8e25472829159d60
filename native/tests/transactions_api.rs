//! Transactions over raw wire frames, as a transactional producer sends them: InitProducerId,
//! AddPartitionsToTxn, a transactional Produce, AddOffsetsToTxn and TxnOffsetCommit, EndTxn;
//! then what `read_committed` consumers see of committed, open and aborted transactions, and
//! how a second producer with the same transactional id fences the first.

mod common;

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use common::{call, TestServer, PATIENCE};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::messages::add_partitions_to_txn_request::AddPartitionsToTxnTopic;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::txn_offset_commit_request::{
    TxnOffsetCommitRequestPartition, TxnOffsetCommitRequestTopic,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, ApiKey,
    EndTxnRequest, EndTxnResponse, FetchRequest, FetchResponse, FindCoordinatorRequest, FindCoordinatorResponse,
    GroupId, InitProducerIdRequest, InitProducerIdResponse, MetadataRequest, MetadataResponse, OffsetFetchRequest,
    OffsetFetchResponse, ProduceRequest, ProduceResponse, ProducerId, TopicName, TransactionalId,
    TxnOffsetCommitRequest, TxnOffsetCommitResponse,
};
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression, Record, RecordBatchDecoder, RecordBatchEncoder, RecordEncodeOptions, TimestampType,
};
use tokio::net::TcpStream;

const TOPIC: &str = "orders";
const GROUP: &str = "txn-group";
const NONE: i16 = 0;
const INVALID_PRODUCER_EPOCH: i16 = 47;
const PRODUCER_FENCED: i16 = 90;
/// Errors a client waits out and asks again after.
const RETRIABLE: [i16; 4] = [
    14, // COORDINATOR_LOAD_IN_PROGRESS
    15, // COORDINATOR_NOT_AVAILABLE
    16, // NOT_COORDINATOR
    51, // CONCURRENT_TRANSACTIONS
];

fn text(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

/// A producer session: its transactional id, producer id and epoch, and next sequence.
#[derive(Clone, Debug)]
struct Producer {
    transactional_id: String,
    producer_id: i64,
    epoch: i16,
    sequence: i32,
}

/// Runs the attempt (an expression giving an error code and a value) again while it answers a
/// retriable error, up to the patience.
macro_rules! until_settled {
    ($attempt:expr) => {{
        let deadline = Instant::now() + PATIENCE;
        loop {
            let (error, value) = $attempt;
            if !RETRIABLE.contains(&error) || Instant::now() > deadline {
                break (error, value);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }};
}

/// The coordinator (key type 0 group, 1 transaction) of `key`, as a connection to it.
async fn coordinator(server: &TestServer, key: &str, key_type: i8) -> TcpStream {
    let mut any = server.connect(0).await;
    let request = FindCoordinatorRequest::default().with_key(text(key)).with_key_type(key_type);
    let (error, node) = until_settled!({
        let response: FindCoordinatorResponse = call(&mut any, ApiKey::FindCoordinator, 3, 1, &request).await;
        (response.error_code, response.node_id.0)
    });
    assert_eq!(error, NONE, "FindCoordinator {key}");
    server.connect(usize::try_from(node - 1).expect("a broker id")).await
}

/// A connection to the leader of `orders/partition`.
async fn leader(server: &TestServer, partition: i32) -> TcpStream {
    let mut any = server.connect(0).await;
    let request = MetadataRequest::default()
        .with_topics(Some(vec![MetadataRequestTopic::default().with_name(Some(TopicName(text(TOPIC))))]));
    let response: MetadataResponse = call(&mut any, ApiKey::Metadata, 4, 2, &request).await;
    let leader = response.topics[0].partitions.iter().find(|p| p.partition_index == partition).expect("partition");
    server.connect(usize::try_from(leader.leader_id.0 - 1).expect("a leader")).await
}

async fn init_producer_id(stream: &mut TcpStream, transactional_id: &str) -> (i16, Producer) {
    let request = InitProducerIdRequest::default()
        .with_transactional_id(Some(TransactionalId(text(transactional_id))))
        .with_transaction_timeout_ms(60_000);
    until_settled!({
        let response: InitProducerIdResponse = call(&mut *stream, ApiKey::InitProducerId, 4, 3, &request).await;
        let producer = Producer {
            transactional_id: transactional_id.to_string(),
            producer_id: response.producer_id.0,
            epoch: response.producer_epoch,
            sequence: 0,
        };
        (response.error_code, producer)
    })
}

async fn add_partition(stream: &mut TcpStream, producer: &Producer, partition: i32) -> i16 {
    let request = AddPartitionsToTxnRequest::default()
        .with_v3_and_below_transactional_id(TransactionalId(text(&producer.transactional_id)))
        .with_v3_and_below_producer_id(ProducerId(producer.producer_id))
        .with_v3_and_below_producer_epoch(producer.epoch)
        .with_v3_and_below_topics(vec![AddPartitionsToTxnTopic::default()
            .with_name(TopicName(text(TOPIC)))
            .with_partitions(vec![partition])]);
    let (error, ()) = until_settled!({
        let response: AddPartitionsToTxnResponse = call(&mut *stream, ApiKey::AddPartitionsToTxn, 3, 4, &request).await;
        let topic = &response.results_by_topic_v3_and_below[0];
        assert_eq!(topic.name.0.as_str(), TOPIC);
        assert_eq!(topic.results_by_partition[0].partition_index, partition);
        (topic.results_by_partition[0].partition_error_code, ())
    });
    error
}

/// Produces `values` as one transactional batch; returns the error code and base offset.
async fn produce(stream: &mut TcpStream, producer: &mut Producer, partition: i32, values: &[&str]) -> (i16, i64) {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(i, value)| Record {
            transactional: true,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: -1,
            producer_id: producer.producer_id,
            producer_epoch: producer.epoch,
            timestamp_type: TimestampType::Creation,
            offset: i as i64,
            sequence: producer.sequence + i as i32,
            timestamp: 1_700_000_000_000,
            key: None,
            value: Some(Bytes::from(value.to_string())),
            headers: IndexMap::new(),
        })
        .collect();
    let mut batch = BytesMut::new();
    RecordBatchEncoder::encode(
        &mut batch,
        &records,
        &RecordEncodeOptions { version: 2, compression: Compression::None },
    )
    .expect("encode the batch");
    producer.sequence += values.len() as i32;
    let request = ProduceRequest::default()
        .with_transactional_id(Some(TransactionalId(text(&producer.transactional_id))))
        .with_acks(-1)
        .with_timeout_ms(5_000)
        .with_topic_data(vec![TopicProduceData::default().with_name(TopicName(text(TOPIC))).with_partition_data(
            vec![PartitionProduceData::default().with_index(partition).with_records(Some(batch.freeze()))],
        )]);
    let response: ProduceResponse = call(&mut *stream, ApiKey::Produce, 9, 5, &request).await;
    let answer = &response.responses[0].partition_responses[0];
    (answer.error_code, answer.base_offset)
}

async fn add_offsets(stream: &mut TcpStream, producer: &Producer) -> i16 {
    let request = AddOffsetsToTxnRequest::default()
        .with_transactional_id(TransactionalId(text(&producer.transactional_id)))
        .with_producer_id(ProducerId(producer.producer_id))
        .with_producer_epoch(producer.epoch)
        .with_group_id(GroupId(text(GROUP)));
    let (error, ()) = until_settled!({
        let response: AddOffsetsToTxnResponse = call(&mut *stream, ApiKey::AddOffsetsToTxn, 3, 6, &request).await;
        (response.error_code, ())
    });
    error
}

async fn txn_offset_commit(stream: &mut TcpStream, producer: &Producer, partition: i32, offset: i64) -> i16 {
    let request = TxnOffsetCommitRequest::default()
        .with_transactional_id(TransactionalId(text(&producer.transactional_id)))
        .with_group_id(GroupId(text(GROUP)))
        .with_producer_id(ProducerId(producer.producer_id))
        .with_producer_epoch(producer.epoch)
        .with_generation_id(-1)
        .with_member_id(text(""))
        .with_topics(vec![TxnOffsetCommitRequestTopic::default().with_name(TopicName(text(TOPIC))).with_partitions(
            vec![TxnOffsetCommitRequestPartition::default()
                .with_partition_index(partition)
                .with_committed_offset(offset)
                .with_committed_leader_epoch(-1)],
        )]);
    let (error, ()) = until_settled!({
        let response: TxnOffsetCommitResponse = call(&mut *stream, ApiKey::TxnOffsetCommit, 3, 7, &request).await;
        let partition = &response.topics[0].partitions[0];
        (partition.error_code, ())
    });
    error
}

async fn end_txn(stream: &mut TcpStream, producer: &Producer, committed: bool, version: i16) -> i16 {
    let request = EndTxnRequest::default()
        .with_transactional_id(TransactionalId(text(&producer.transactional_id)))
        .with_producer_id(ProducerId(producer.producer_id))
        .with_producer_epoch(producer.epoch)
        .with_committed(committed);
    let (error, ()) = until_settled!({
        let response: EndTxnResponse = call(&mut *stream, ApiKey::EndTxn, version, 8, &request).await;
        (response.error_code, ())
    });
    error
}

/// One Fetch of `orders/partition` from `offset`; `read_committed` with isolation level 1.
async fn fetch(stream: &mut TcpStream, partition: i32, offset: i64, isolation_level: i8) -> PartitionData {
    let request = FetchRequest::default()
        .with_max_wait_ms(100)
        .with_min_bytes(1)
        .with_isolation_level(isolation_level)
        .with_topics(vec![FetchTopic::default().with_topic(TopicName(text(TOPIC))).with_partitions(vec![
            FetchPartition::default()
                .with_partition(partition)
                .with_fetch_offset(offset)
                .with_partition_max_bytes(1 << 20),
        ])]);
    let response: FetchResponse = call(&mut *stream, ApiKey::Fetch, 11, 9, &request).await;
    response.responses[0].partitions[0].clone()
}

/// The values of the data records (not markers) in a fetched partition, with their offsets.
fn values(data: &PartitionData) -> Vec<(i64, String)> {
    let mut bytes = data.records.clone().unwrap_or_default();
    let sets = RecordBatchDecoder::decode_all(&mut bytes).expect("decode the records");
    sets.iter()
        .flat_map(|set| set.records.iter())
        .filter(|record| !record.control)
        .map(|record| (record.offset, String::from_utf8_lossy(record.value.as_deref().unwrap_or_default()).into()))
        .collect()
}

/// Fetches until `done` holds of the answer (markers land after EndTxn is answered).
async fn fetch_until(
    stream: &mut TcpStream,
    partition: i32,
    offset: i64,
    isolation_level: i8,
    done: impl Fn(&PartitionData) -> bool,
) -> PartitionData {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let data = fetch(stream, partition, offset, isolation_level).await;
        if done(&data) {
            return data;
        }
        assert!(Instant::now() < deadline, "the fetch never got there: {data:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_committed_transaction_is_read_committed_with_its_offsets_and_an_aborted_one_is_listed_to_skip() {
    let server = TestServer::start_settled().await;
    let mut txn = coordinator(&server, "txn-wire-a", 1).await;
    let mut group = coordinator(&server, GROUP, 0).await;
    let mut leader = leader(&server, 0).await;
    let (error, mut producer) = init_producer_id(&mut txn, "txn-wire-a").await;
    assert_eq!(error, NONE);
    assert!(producer.producer_id >= 0 && producer.epoch >= 0, "{producer:?}");

    // Transaction one: two records and the group's offset, committed.
    assert_eq!(add_partition(&mut txn, &producer, 0).await, NONE);
    let (error, first) = produce(&mut leader, &mut producer, 0, &["one", "two"]).await;
    assert_eq!(error, NONE);
    assert_eq!(add_offsets(&mut txn, &producer).await, NONE);
    assert_eq!(txn_offset_commit(&mut group, &producer, 0, 42).await, NONE);
    // Open: a read_committed consumer sees nothing past the transaction's first offset.
    let open = fetch(&mut leader, 0, first, 1).await;
    assert_eq!(open.last_stable_offset, first, "the LSO stops at the open transaction");
    assert!(values(&open).is_empty(), "nothing of an open transaction is read committed");
    assert_eq!(values(&fetch(&mut leader, 0, first, 0).await).len(), 2, "read_uncommitted sees it");
    assert_eq!(end_txn(&mut txn, &producer, true, 3).await, NONE);
    let committed = fetch_until(&mut leader, 0, first, 1, |d| !values(d).is_empty()).await;
    assert_eq!(values(&committed), [(first, "one".to_string()), (first + 1, "two".to_string())]);
    assert!(committed.aborted_transactions.as_ref().is_none_or(|a| a.is_empty()));
    let marker_end = committed.last_stable_offset;
    assert_eq!(marker_end, first + 3, "two records and the commit marker");

    // The transaction's offset is the group's now.
    let request = OffsetFetchRequest::default().with_group_id(GroupId(text(GROUP))).with_topics(Some(vec![
        OffsetFetchRequestTopic::default().with_name(TopicName(text(TOPIC))).with_partition_indexes(vec![0]),
    ]));
    let deadline = Instant::now() + PATIENCE;
    loop {
        let response: OffsetFetchResponse = call(&mut group, ApiKey::OffsetFetch, 5, 10, &request).await;
        if response.topics.first().map(|t| t.partitions[0].committed_offset) == Some(42) {
            break;
        }
        assert!(Instant::now() < deadline, "the transactional offset never took effect: {response:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Transaction two: aborted; read_committed readers are told to skip it.
    assert_eq!(add_partition(&mut txn, &producer, 0).await, NONE);
    let (error, second) = produce(&mut leader, &mut producer, 0, &["lost"]).await;
    assert_eq!(error, NONE);
    assert_eq!(second, marker_end);
    assert_eq!(end_txn(&mut txn, &producer, false, 3).await, NONE);
    let aborted = fetch_until(&mut leader, 0, second, 1, |d| d.last_stable_offset > second + 1).await;
    let listed = aborted.aborted_transactions.clone().expect("read_committed lists aborted transactions");
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!((listed[0].producer_id.0, listed[0].first_offset), (producer.producer_id, second));
    assert_eq!(values(&aborted), [(second, "lost".to_string())], "the batch comes, with the list to drop it by");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_init_producer_id_fences_the_first_producer() {
    let server = TestServer::start_settled().await;
    let mut txn = coordinator(&server, "txn-wire-b", 1).await;
    let mut leader = leader(&server, 1).await;
    let (error, mut zombie) = init_producer_id(&mut txn, "txn-wire-b").await;
    assert_eq!(error, NONE);
    assert_eq!(add_partition(&mut txn, &zombie, 1).await, NONE);
    assert_eq!(produce(&mut leader, &mut zombie, 1, &["zombie"]).await.0, NONE);

    let (error, successor) = init_producer_id(&mut txn, "txn-wire-b").await;
    assert_eq!(error, NONE);
    assert_eq!(successor.producer_id, zombie.producer_id);
    assert!(successor.epoch > zombie.epoch, "{successor:?} after {zombie:?}");

    assert_eq!(end_txn(&mut txn, &zombie, true, 3).await, PRODUCER_FENCED);
    assert_eq!(end_txn(&mut txn, &zombie, true, 1).await, INVALID_PRODUCER_EPOCH, "v1 predates PRODUCER_FENCED");
    assert_eq!(add_partition(&mut txn, &zombie, 1).await, PRODUCER_FENCED);
    // The zombie's open transaction was aborted by the fencing: nothing of it is committed.
    let data = fetch_until(&mut leader, 1, 0, 1, |d| d.last_stable_offset == d.high_watermark).await;
    let listed = data.aborted_transactions.clone().unwrap_or_default();
    assert!(listed.iter().any(|a| a.producer_id.0 == zombie.producer_id), "{data:?}");
    server.stop().await;
}
