//! Real Kafka clients against the simulated brokers: kafka-python, kafkajs and confluent-kafka
//! (librdkafka) run the scripts in `tests/clients/`, which print what they saw as JSON; the
//! assertions are here.
//!
//! The clients come from `scripts/setup.sh test` (tools/venv for Python, tools/node_modules
//! for Node). Without them a test is skipped with a note, unless `KAFKALAB_REQUIRE_CLIENTS` is
//! set, as `./lab test` sets it: then a missing client fails the test.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::TestServer;
use serde_json::Value;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The interpreter that runs one kind of client script, if it is installed.
fn interpreter(script: &str) -> Option<PathBuf> {
    let (program, installed) = if script.ends_with(".py") {
        let python = workspace().join("tools/venv/bin/python");
        (python.clone(), python.exists())
    } else {
        (PathBuf::from("node"), workspace().join("tools/node_modules/kafkajs").exists())
    };
    if installed {
        return Some(program);
    }
    assert!(
        std::env::var_os("KAFKALAB_REQUIRE_CLIENTS").is_none(),
        "the client for {script} is not installed: run scripts/setup.sh test"
    );
    eprintln!("note: the client for {script} is not installed (scripts/setup.sh test); skipping");
    None
}

/// Runs `tests/clients/<script> <args>` to its end and returns the JSON it printed last.
async fn run_client(script: &str, args: &[String]) -> Option<Value> {
    let program = interpreter(script)?;
    let path = workspace().join("tests/clients").join(script);
    let args = args.to_vec();
    let output = tokio::task::spawn_blocking(move || Command::new(program).arg(path).args(args).output())
        .await
        .expect("join")
        .expect("the client script starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{script} failed ({})\n{stdout}\n{stderr}", output.status);
    let last = stdout.lines().last().unwrap_or_default();
    Some(serde_json::from_str(last).unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{stdout}\n{stderr}")))
}

fn bootstrap(server: &TestServer) -> String {
    format!("127.0.0.1:{}", server.broker_ports[0])
}

/// Every broker, as a client that must survive losing one lists them.
fn all_brokers(server: &TestServer) -> String {
    server.broker_ports.iter().map(|port| format!("127.0.0.1:{port}")).collect::<Vec<_>>().join(",")
}

fn int(value: &Value) -> i64 {
    value.as_i64().unwrap_or_else(|| panic!("{value} is not an integer"))
}

fn text(value: &Value) -> String {
    value.as_str().unwrap_or_else(|| panic!("{value} is not a string")).to_string()
}

/// A consumed record: partition, offset, key, value.
type Consumed = (i64, i64, String, String);

fn consumed_records(report: &Value) -> Vec<Consumed> {
    report["consumed"]
        .as_array()
        .expect("a consumed list")
        .iter()
        .map(|r| (int(&r[0]), int(&r[1]), text(&r[2]), text(&r[3])))
        .collect()
}

/// Checks that every record the script produced (its `produced[i]` = partition and offset of
/// record `i`, whose key is `key-{i % 7}` and value `value-{i}`) was consumed once, at that
/// partition and offset, and that each partition was consumed in offset order.
fn assert_read_back_exactly(report: &Value, count: usize) {
    let produced = report["produced"].as_array().expect("a produced list");
    assert_eq!(produced.len(), count, "every record was acknowledged: {report}");
    let consumed = consumed_records(report);
    let mut at: BTreeMap<(i64, i64), (String, String)> = BTreeMap::new();
    for (partition, offset, key, value) in &consumed {
        let previous = at.insert((*partition, *offset), (key.clone(), value.clone()));
        assert!(previous.is_none(), "{partition}@{offset} consumed twice: {report}");
    }
    assert_eq!(consumed.len(), count, "each acknowledged record consumed once: {report}");
    for (i, record) in produced.iter().enumerate() {
        let place = (int(&record[0]), int(&record[1]));
        let expected = (format!("key-{}", i % 7), format!("value-{i}"));
        assert_eq!(at.get(&place), Some(&expected), "record {i} at {place:?}: {report}");
    }
    let mut last_offset: BTreeMap<i64, i64> = BTreeMap::new();
    for (partition, offset, _, _) in &consumed {
        let previous = last_offset.insert(*partition, *offset);
        assert!(previous.is_none_or(|p| p < *offset), "partition {partition} read out of order: {report}");
    }
}

/// The committed offset of each partition is one past the last record consumed from it.
fn assert_committed_past_the_end(report: &Value) {
    let mut ends: BTreeMap<i64, i64> = BTreeMap::new();
    for (partition, offset, _, _) in consumed_records(report) {
        let end = ends.entry(partition).or_insert(0);
        *end = (*end).max(offset + 1);
    }
    for (partition, end) in ends {
        let committed = &report["committed"][partition.to_string()];
        assert_eq!(int(committed), end, "partition {partition}'s committed offset: {report}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kafka_python_produces_idempotently_and_reads_back_as_a_committing_group() {
    let server = TestServer::start_settled().await;
    let args = [bootstrap(&server), "orders".into(), "30".into(), "kafka-python-group".into()];
    if let Some(report) = run_client("kafka_python_group.py", &args).await {
        assert_eq!(report["idempotent"], Value::Bool(true), "kafka-python 3 is idempotent by default");
        assert_read_back_exactly(&report, 30);
        assert_committed_past_the_end(&report);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kafkajs_produces_at_acks_all_and_reads_back_as_a_committing_group() {
    let server = TestServer::start_settled().await;
    let args = [bootstrap(&server), "orders".into(), "30".into(), "kafkajs-group".into()];
    if let Some(report) = run_client("kafkajs_group.mjs", &args).await {
        assert_read_back_exactly(&report, 30);
        assert_committed_past_the_end(&report);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn confluent_kafka_idempotent_producer_at_acks_all_reads_back_byte_for_byte() {
    let server = TestServer::start_settled().await;
    let args = [bootstrap(&server), "orders".into(), "50".into()];
    if let Some(report) = run_client("confluent_idempotent.py", &args).await {
        assert_eq!(report["errors"], Value::Array(Vec::new()), "no delivery or consume errors: {report}");
        assert_eq!(int(&report["unflushed"]), 0);
        // The delivery reports carry key and value: rebuild the produced list in send order.
        let mut produced: Vec<(i64, Value)> = report["produced"]
            .as_array()
            .expect("produced")
            .iter()
            .map(|r| {
                (
                    text(&r[3]).trim_start_matches("value-").parse().expect("value-i"),
                    Value::Array(r.as_array().unwrap()[..2].to_vec()),
                )
            })
            .collect();
        produced.sort_by_key(|(i, _)| *i);
        let mut normalised = report.clone();
        normalised["produced"] = Value::Array(produced.into_iter().map(|(_, place)| place).collect());
        assert_read_back_exactly(&normalised, 50);
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn confluent_kafka_transactions_a_read_committed_consumer_never_sees_aborted_records() {
    let server = TestServer::start_settled().await;
    let args = [bootstrap(&server), "orders".into()];
    if let Some(report) = run_client("confluent_transactions.py", &args).await {
        let values = |key: &str| -> Vec<String> {
            let mut values: Vec<String> = report[key].as_array().expect(key).iter().map(text).collect();
            values.sort();
            values
        };
        let committed = values("read_committed");
        assert_eq!(committed.len(), 20, "both committed transactions, once each: {report}");
        assert!(committed.iter().all(|v| v.starts_with("commit-")), "no aborted record: {report}");
        let uncommitted = values("read_uncommitted");
        assert_eq!(uncommitted.len(), 30, "read_uncommitted sees the aborted records too: {report}");
        assert_eq!(uncommitted.iter().filter(|v| v.starts_with("abort-")).count(), 10, "{report}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn confluent_kafka_group_of_two_shares_six_partitions_and_a_restarted_member_resumes_from_committed_offsets() {
    let server = TestServer::start_settled().await;
    let args = [bootstrap(&server), "payments".into(), "payments-group".into()];
    if let Some(report) = run_client("confluent_group.py", &args).await {
        // Both members got three of the six partitions, between them all six.
        let first_assignment = &report["first_assignment"];
        let mut all: Vec<i64> = Vec::new();
        for name in ["member-a", "member-b"] {
            let partitions: Vec<i64> = first_assignment[name].as_array().expect(name).iter().map(int).collect();
            assert_eq!(partitions.len(), 3, "{name} owns three partitions: {report}");
            all.extend(partitions);
        }
        all.sort_unstable();
        assert_eq!(all, vec![0, 1, 2, 3, 4, 5], "{report}");
        // The first 60 records once each, by the member owning the partition.
        let values = |round: &str| -> Vec<String> {
            let mut values: Vec<String> = report[round].as_array().expect(round).iter().map(|r| text(&r[3])).collect();
            values.sort();
            values
        };
        let mut expected: Vec<String> = (0..60).map(|i| format!("value-{i}")).collect();
        expected.sort();
        assert_eq!(values("first"), expected, "the first 60 records, each once: {report}");
        for record in report["first"].as_array().unwrap() {
            let owner = text(&record[0]);
            let partition = int(&record[1]);
            assert!(
                first_assignment[owner.as_str()].as_array().unwrap().iter().any(|p| int(p) == partition),
                "{owner} read partition {partition} it does not own: {report}"
            );
        }
        // After member-b's replacement joined, only the 30 new records: nothing before the
        // committed offsets came again.
        let mut expected: Vec<String> = (60..90).map(|i| format!("value-{i}")).collect();
        expected.sort();
        assert_eq!(values("second"), expected, "the restarted group resumes at the committed offsets: {report}");
        let second_assignment = &report["second_assignment"];
        let sizes: Vec<usize> = ["member-a", "member-b2"]
            .iter()
            .map(|name| second_assignment[*name].as_array().expect(name).len())
            .collect();
        assert_eq!(sizes, vec![3, 3], "the replacement shares the partitions again: {report}");
    }
    server.stop().await;
}

/// Runs a client script that prints `READY <broker>` once it is writing; then kills that
/// broker with `kafkalab broker kill`, as a learner would, and returns the script's JSON.
async fn run_client_killing_the_leader(server: &TestServer, script: &str, args: &[String]) -> Option<Value> {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let program = interpreter(script)?;
    let path = workspace().join("tests/clients").join(script);
    let args = args.to_vec();
    let admin = format!("127.0.0.1:{}", server.http_port);
    let (stdout, stderr, status, killed) = tokio::task::spawn_blocking(move || {
        let mut child = Command::new(program)
            .arg(path)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the client script starts");
        let mut lines = Vec::new();
        let mut killed = None;
        for line in BufReader::new(child.stdout.take().expect("stdout")).lines() {
            let line = line.expect("a line of output");
            if let Some(leader) = line.strip_prefix("READY ") {
                std::thread::sleep(std::time::Duration::from_secs(1));
                let kill = Command::new(env!("CARGO_BIN_EXE_kafkalab"))
                    .args(["broker", "kill", leader, "--admin", &admin])
                    .output()
                    .expect("kafkalab broker kill runs");
                assert!(
                    kill.status.success(),
                    "kafkalab broker kill {leader}: {}",
                    String::from_utf8_lossy(&kill.stderr)
                );
                killed = Some(leader.to_string());
            }
            lines.push(line);
        }
        let output = child.wait_with_output().expect("the script ends");
        (lines.join("\n"), String::from_utf8_lossy(&output.stderr).to_string(), output.status, killed)
    })
    .await
    .expect("join");
    assert!(status.success(), "{script} failed ({status})\n{stdout}\n{stderr}");
    assert!(killed.is_some(), "{script} never said READY\n{stdout}\n{stderr}");
    let last = stdout.lines().last().unwrap_or_default();
    Some(serde_json::from_str(last).unwrap_or_else(|e| panic!("{script} printed no JSON ({e}):\n{stdout}\n{stderr}")))
}

#[tokio::test(flavor = "multi_thread")]
async fn killing_the_leader_under_acks_all_loses_and_duplicates_no_acknowledged_record() {
    let server = TestServer::start_settled().await;
    let args = [all_brokers(&server), "failover".into(), "400".into()];
    if let Some(report) = run_client_killing_the_leader(&server, "confluent_failover.py", &args).await {
        assert_eq!(int(&report["unflushed"]), 0, "every record was settled: {report}");
        let before = int(&report["leader_before"]);
        assert_ne!(int(&report["leader_after"]), before, "partition 0 has a new leader: {report}");
        assert!(
            report["isr_after"].as_array().unwrap().iter().all(|b| int(b) != before),
            "the killed broker left the ISR: {report}"
        );
        let acknowledged: Vec<(i64, i64, String)> =
            report["acknowledged"].as_array().unwrap().iter().map(|r| (int(&r[0]), int(&r[1]), text(&r[2]))).collect();
        assert!(acknowledged.len() >= 300, "most records were acknowledged despite the failover: {report}");
        let consumed = consumed_records(&report);
        let mut read_at: BTreeMap<(i64, i64), String> = BTreeMap::new();
        let mut count_of: BTreeMap<String, usize> = BTreeMap::new();
        for (partition, offset, _, value) in &consumed {
            read_at.insert((*partition, *offset), value.clone());
            *count_of.entry(value.clone()).or_default() += 1;
        }
        for (partition, offset, value) in &acknowledged {
            assert_eq!(
                read_at.get(&(*partition, *offset)),
                Some(value),
                "acknowledged {value} at {partition}@{offset}"
            );
            assert_eq!(count_of.get(value), Some(&1), "{value} read exactly once");
        }
        // Per partition, the acknowledged records are read in the order they were sent.
        let mut sent_order: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
        for (partition, _, value) in &acknowledged {
            sent_order.entry(*partition).or_default().push(value["value-".len()..].parse().unwrap());
        }
        for (partition, sent) in &mut sent_order {
            let read: Vec<i64> = consumed
                .iter()
                .filter(|(p, ..)| p == partition)
                .map(|(.., v)| v["value-".len()..].parse().unwrap())
                .filter(|i| sent.contains(i))
                .collect();
            sent.sort_unstable();
            assert_eq!(&read, sent, "partition {partition} keeps the send order");
        }
    }
    server.stop().await;
}
