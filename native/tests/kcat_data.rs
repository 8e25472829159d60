//! Real records through the simulated cluster with Debian's kcat (librdkafka 2.0.2): keyed
//! produce, consume from the beginning, consume as a group with committed offsets, and a
//! corrupt produce from a raw client that the server refuses without harm to anyone else.

mod common;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use bytes::{Bytes, BytesMut};
use common::{call, TestServer};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::{ApiKey, ProduceRequest, ProduceResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use kafkalab_core::partition_log::single_record_batch;

const KCAT: &str = "/usr/bin/kcat";

fn kcat_missing() -> bool {
    let missing = !Path::new(KCAT).exists();
    if missing {
        assert!(
            std::env::var_os("KAFKALAB_REQUIRE_CLIENTS").is_none(),
            "{KCAT} is not installed: run scripts/setup.sh test"
        );
        eprintln!("note: {KCAT} is not installed; skipping");
    }
    missing
}

/// Runs kcat with `args` against the server, feeding it `input`.
async fn kcat(server: &TestServer, args: &[&str], input: &str) -> Output {
    let bootstrap = format!("127.0.0.1:{}", server.broker_ports[0]);
    let mut all: Vec<String> = vec!["-b".into(), bootstrap];
    all.extend(args.iter().map(|a| a.to_string()));
    let input = input.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(KCAT)
            .args(&all)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kcat runs");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("feed kcat");
        child.wait_with_output().expect("kcat finishes")
    })
    .await
    .expect("join")
}

fn check(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).to_string();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kcat failed\n{stdout}\n{stderr}");
    stdout
}

/// The records kcat printed as `partition:key:value` lines, per partition in order.
fn by_partition(stdout: &str) -> BTreeMap<String, Vec<String>> {
    let mut partitions: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in stdout.lines().filter(|l| !l.is_empty()) {
        let (partition, record) = line.split_once(':').expect("partition:key:value");
        partitions.entry(partition.to_string()).or_default().push(record.to_string());
    }
    partitions
}

/// Ten keyed records: three keys, so each key's records land in one partition in order.
fn records() -> Vec<String> {
    (0..10).map(|i| format!("{}:value-{i}", ["alice", "bob", "carol"][i % 3])).collect()
}

/// What each key should read back, in produce order.
fn per_key(lines: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut keys: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for line in lines {
        let key = line.split_once(':').expect("key:value").0.to_string();
        keys.entry(key).or_default().push(line.clone());
    }
    keys
}

async fn produce_records(server: &TestServer) {
    let input = records().join("\n") + "\n";
    check(&kcat(server, &["-P", "-K:", "-t", "orders", "-X", "acks=all"], &input).await);
}

#[tokio::test(flavor = "multi_thread")]
async fn keyed_records_produced_by_kcat_read_back_byte_for_byte_in_partition_order() {
    if kcat_missing() {
        return;
    }
    let server = TestServer::start_settled().await;
    produce_records(&server).await;
    let stdout = check(&kcat(&server, &["-C", "-e", "-o", "beginning", "-t", "orders", "-f", "%p:%k:%s\n"], "").await);
    let partitions = by_partition(&stdout);
    let read: Vec<String> = partitions.values().flatten().cloned().collect();
    assert_eq!(read.len(), 10, "every record once\n{stdout}");
    let mut sorted_read = read.clone();
    sorted_read.sort();
    let mut sorted_sent = records();
    sorted_sent.sort();
    assert_eq!(sorted_read, sorted_sent, "byte for byte");
    // Each key in one partition, its records in the order they were produced.
    let expected = per_key(&records());
    for records in partitions.values() {
        for (key, in_partition) in per_key(records) {
            assert_eq!(in_partition, expected[&key], "key {key} in order\n{stdout}");
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_kcat_group_consumer_commits_its_offsets_and_a_second_run_resumes_after_them() {
    if kcat_missing() {
        return;
    }
    let server = TestServer::start_settled().await;
    produce_records(&server).await;
    let group = ["-G", "g1", "-e", "-f", "%k:%s\n", "-X", "auto.offset.reset=earliest", "orders"];
    let first = check(&kcat(&server, &group, "").await);
    let mut read: Vec<String> = first.lines().map(str::to_string).collect();
    read.sort();
    let mut sent = records();
    sent.sort();
    assert_eq!(read, sent, "the group reads everything once\n{first}");

    // More records, then the group again: it resumes from its committed offsets.
    check(&kcat(&server, &["-P", "-K:", "-t", "orders"], "dave:late-1\ndave:late-2\n").await);
    let second = check(&kcat(&server, &group, "").await);
    assert_eq!(second.lines().collect::<Vec<_>>(), ["dave:late-1", "dave:late-2"], "only what is new\n{second}");
    server.stop().await;
}

/// A Produce v7 of one partition carrying `records` as they are.
fn produce_request(records: Bytes) -> ProduceRequest {
    let partition = PartitionProduceData::default().with_index(0).with_records(Some(records));
    let topic = TopicProduceData::default()
        .with_name(TopicName(StrBytes::from_static_str("orders")))
        .with_partition_data(vec![partition]);
    ProduceRequest::default().with_acks(1).with_timeout_ms(5_000).with_topic_data(vec![topic])
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_with_a_bad_crc_gets_corrupt_message_and_everyone_keeps_working() {
    let server = TestServer::start_settled().await;
    let batch = single_record_batch(0, Some(Bytes::from_static(b"k")), Some(Bytes::from_static(b"v")));
    let mut corrupt = BytesMut::from(&batch.as_bytes()[..]);
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0xff; // the value's last byte: the CRC no longer matches
                           // Broker 1 leads orders/0 in the settled lab.
    let mut stream = server.connect(0).await;
    let mut bystander = server.connect(0).await;
    let response: ProduceResponse = call(&mut stream, ApiKey::Produce, 7, 1, &produce_request(corrupt.freeze())).await;
    let partition = &response.responses[0].partition_responses[0];
    assert_eq!(partition.error_code, 2, "CORRUPT_MESSAGE");

    // The same connection and another one still produce, and the good record is the first.
    let response: ProduceResponse =
        call(&mut stream, ApiKey::Produce, 7, 2, &produce_request(batch.as_bytes().clone())).await;
    let partition = &response.responses[0].partition_responses[0];
    assert_eq!((partition.error_code, partition.base_offset), (0, 0), "nothing corrupt was stored");
    let response: ProduceResponse =
        call(&mut bystander, ApiKey::Produce, 7, 3, &produce_request(batch.as_bytes().clone())).await;
    assert_eq!(response.responses[0].partition_responses[0].base_offset, 1);
    server.stop().await;
}
