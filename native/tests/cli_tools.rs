//! The Kafka tools end to end: the built `kafkalab` binary as a client of an in-process server
//! (produce and consume, a group's committed offsets and lag, a killed broker's leaderships
//! moving), and its one-line errors.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::TestServer;

const KAFKALAB: &str = env!("CARGO_BIN_EXE_kafkalab");

/// Runs `kafkalab args...` with `input` on its standard input, off the async threads.
async fn kafkalab(args: &[&str], input: &str) -> Output {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    let input = input.to_string();
    tokio::task::spawn_blocking(move || {
        let mut child = Command::new(KAFKALAB)
            .args(&args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("kafkalab starts");
        child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("write stdin");
        child.wait_with_output().expect("kafkalab runs")
    })
    .await
    .expect("join")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

fn assert_success(output: &Output, what: &str) {
    assert!(output.status.success(), "{what} failed\nstdout:\n{}\nstderr:\n{}", stdout(output), stderr(output));
}

fn bootstrap(server: &TestServer) -> String {
    format!("127.0.0.1:{}", server.broker_ports[0])
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

/// `groups --describe` rows for `topic`: (partition, current offset, log end offset, lag).
fn describe_rows(text: &str, topic: &str) -> Vec<(i32, String, String, String)> {
    text.lines()
        .map(|line| line.split_whitespace().collect::<Vec<_>>())
        .filter(|columns| columns.len() >= 6 && columns[1] == topic)
        .map(|c| (c[2].parse().expect("a partition"), c[3].to_string(), c[4].to_string(), c[5].to_string()))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn produced_keyed_lines_come_back_with_their_keys_from_the_beginning() {
    let server = TestServer::start_settled().await;
    let b = bootstrap(&server);
    let lines = "alice:1\nbob:2\ncarol:3\nalice:4\n";
    let produced = kafkalab(
        &[
            "produce",
            "--bootstrap-server",
            &b,
            "--topic",
            "orders",
            "--property",
            "parse.key=true",
            "--property",
            "key.separator=:",
        ],
        lines,
    )
    .await;
    assert_success(&produced, "produce");

    let consumed = kafkalab(
        &[
            "consume",
            "--bootstrap-server",
            &b,
            "--topic",
            "orders",
            "--from-beginning",
            "--property",
            "print.key=true",
            "--property",
            "key.separator=:",
            "--max-messages",
            "4",
            "--timeout-ms",
            "10000",
        ],
        "",
    )
    .await;
    assert_success(&consumed, "consume");
    let text = stdout(&consumed);
    let mut printed: Vec<&str> = text.lines().collect();
    let alice: Vec<&str> = printed.iter().copied().filter(|l| l.starts_with("alice:")).collect();
    assert_eq!(alice, ["alice:1", "alice:4"], "one key, one partition, in order");
    printed.sort_unstable();
    assert_eq!(printed, ["alice:1", "alice:4", "bob:2", "carol:3"]);
    assert!(stderr(&consumed).contains("Processed a total of 4 messages"), "{}", stderr(&consumed));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_group_commits_what_it_consumed_and_describe_shows_the_lag() {
    let server = TestServer::start_settled().await;
    let b = bootstrap(&server);
    let produced = kafkalab(&["produce", "--bootstrap-server", &b, "--topic", "orders"], "a\nb\nc\n").await;
    assert_success(&produced, "produce");
    let consumed = kafkalab(
        &["consume", "--bootstrap-server", &b, "--topic", "orders", "--group", "billing", "--from-beginning"]
            .into_iter()
            .chain(["--max-messages", "3", "--timeout-ms", "15000"])
            .collect::<Vec<_>>(),
        "",
    )
    .await;
    assert_success(&consumed, "consume --group");
    assert_eq!(stdout(&consumed).lines().count(), 3, "{}", stdout(&consumed));

    let listed = kafkalab(&["groups", "--bootstrap-server", &b, "--list"], "").await;
    assert_success(&listed, "groups --list");
    assert!(stdout(&listed).lines().any(|l| l == "billing"), "{}", stdout(&listed));

    let described = kafkalab(&["groups", "--bootstrap-server", &b, "--describe", "--group", "billing"], "").await;
    assert_success(&described, "groups --describe");
    let text = stdout(&described);
    assert!(text.contains("GROUP") && text.contains("CURRENT-OFFSET") && text.contains("LOG-END-OFFSET"), "{text}");
    assert!(text.contains("has no active members"), "the consumer left: {text}");
    let rows = describe_rows(&text, "orders");
    assert_eq!(rows.iter().map(|r| r.0).collect::<Vec<_>>(), [0, 1, 2], "{text}");
    for (partition, current, log_end, lag) in &rows {
        assert_eq!(current, log_end, "partition {partition} is committed up to its end: {text}");
        assert_eq!(lag, "0", "{text}");
    }
    let committed: i64 = rows.iter().map(|r| r.1.parse::<i64>().expect("a committed offset")).sum();
    assert_eq!(committed, 3, "{text}");

    let more = kafkalab(&["produce", "--bootstrap-server", &b, "--topic", "orders", "--acks", "1"], "d\ne\n").await;
    assert_success(&more, "produce --acks 1");
    let described = kafkalab(&["groups", "--bootstrap-server", &b, "--describe", "--group", "billing"], "").await;
    assert_success(&described, "groups --describe");
    let rows = describe_rows(&stdout(&described), "orders");
    let lag: i64 = rows.iter().map(|r| r.3.parse::<i64>().expect("a lag")).sum();
    assert_eq!(lag, 2, "{}", stdout(&described));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_broker_loses_its_leaderships_and_leaves_the_isr() {
    let server = TestServer::start_settled().await;
    let b = format!("127.0.0.1:{}", server.broker_ports[1]);
    let admin = format!("127.0.0.1:{}", server.http_port);
    let killed = kafkalab(&["broker", "kill", "1", "--admin", &admin], "").await;
    assert_success(&killed, "broker kill 1");
    assert_eq!(stdout(&killed).trim(), "broker 1 killed");

    let again = kafkalab(&["broker", "kill", "1", "--admin", &admin], "").await;
    assert_eq!(again.status.code(), Some(1));
    assert_eq!(stderr(&again).trim(), "kafkalab: broker 1 is already down");

    // alice's partition, 0, was led by broker 1: the producer waits out the failover (the
    // controller fences broker 1 when its session times out) and sends to the new leader.
    let produced = kafkalab(
        &["produce", "--bootstrap-server", &b, "--topic", "orders", "--property", "parse.key=true"],
        "alice\tafter the kill\n",
    )
    .await;
    assert_success(&produced, "produce while partition 0's leader is down");

    let deadline = Instant::now() + Duration::from_secs(30);
    let text = loop {
        let described = kafkalab(&["topics", "--bootstrap-server", &b, "--describe", "--topic", "orders"], "").await;
        assert_success(&described, "topics --describe");
        let text = stdout(&described);
        let partitions: Vec<&str> = text.lines().filter(|l| l.contains("Partition: ")).collect();
        let moved = partitions.len() == 3
            && partitions
                .iter()
                .all(|l| !l.contains("Leader: 1\t") && !l.split("Isr: ").nth(1).unwrap_or("1").contains('1'));
        if moved {
            break text;
        }
        assert!(Instant::now() < deadline, "broker 1 still leads or is in sync:\n{text}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    assert!(text.contains("Partition: 0\tLeader: 2\tReplicas: 1,2,3\tIsr: 2,3"), "{text}");
    let consumed = kafkalab(
        &["consume", "--bootstrap-server", &b, "--topic", "orders", "--from-beginning", "--property", "print.key=true"]
            .into_iter()
            .chain(["--property", "print.partition=true", "--max-messages", "1", "--timeout-ms", "10000"])
            .collect::<Vec<_>>(),
        "",
    )
    .await;
    assert_success(&consumed, "consume from the new leaders");
    assert_eq!(stdout(&consumed), "Partition:0\talice\tafter the kill\n");

    let restarted = kafkalab(&["broker", "restart", "1", "--admin", &admin], "").await;
    assert_success(&restarted, "broker restart 1");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unreachable_broker_is_one_line_and_status_1() {
    let address = format!("127.0.0.1:{}", closed_port());
    for args in [
        &["topics", "--bootstrap-server", &address, "--list"][..],
        &["produce", "--bootstrap-server", &address, "--topic", "orders"][..],
        &["consume", "--bootstrap-server", &address, "--topic", "orders"][..],
        &["groups", "--bootstrap-server", &address, "--list"][..],
    ] {
        let output = kafkalab(args, "").await;
        assert_eq!(output.status.code(), Some(1), "{args:?}");
        assert_eq!(stderr(&output), format!("kafkalab: cannot reach {address}: connection refused\n"), "{args:?}");
    }
    let output = kafkalab(&["broker", "kill", "1", "--admin", &address], "").await;
    assert_eq!(output.status.code(), Some(1));
    assert!(stderr(&output).starts_with(&format!("kafkalab: cannot reach {address}: connection refused")));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_topic_is_one_line_and_status_1() {
    let server = TestServer::start_settled().await;
    let b = bootstrap(&server);
    for args in [
        &["topics", "--bootstrap-server", &b, "--describe", "--topic", "x"][..],
        &["produce", "--bootstrap-server", &b, "--topic", "x"][..],
        &["consume", "--bootstrap-server", &b, "--topic", "x"][..],
        &["consume", "--bootstrap-server", &b, "--topic", "x", "--group", "g"][..],
    ] {
        let output = kafkalab(args, "a\n").await;
        assert_eq!(output.status.code(), Some(1), "{args:?}: {}", stderr(&output));
        assert_eq!(stderr(&output), "kafkalab: topic 'x' does not exist\n", "{args:?}");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_flag_is_named_with_the_usage_and_status_2() {
    for (args, first) in [
        (
            &["topics", "--list", "--bogus"][..],
            "kafkalab: unknown flag --bogus for topics (see kafkalab topics --help)",
        ),
        (&["consume", "--topic"][..], "kafkalab: missing value for --topic (see kafkalab consume --help)"),
        (&["groups", "--describe"][..], "kafkalab: missing --group (see kafkalab groups --help)"),
    ] {
        let output = kafkalab(args, "").await;
        assert_eq!(output.status.code(), Some(2), "{args:?}");
        let text = stderr(&output);
        let mut lines = text.lines();
        assert_eq!(lines.next(), Some(first), "{args:?}");
        assert!(lines.next().is_some_and(|l| l.starts_with("Usage: kafkalab ")), "{args:?}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn topics_are_created_grown_and_deleted() {
    let server = TestServer::start_settled().await;
    let b = bootstrap(&server);
    let created = kafkalab(
        &["topics", "--bootstrap-server", &b, "--create", "--topic", "payments", "--partitions", "2"]
            .into_iter()
            .chain(["--replication-factor", "3", "--config", "cleanup.policy=compact"])
            .collect::<Vec<_>>(),
        "",
    )
    .await;
    assert_success(&created, "topics --create");
    assert_eq!(stdout(&created), "Created topic payments.\n");
    let listed = kafkalab(&["topics", "--bootstrap-server", &b, "--list"], "").await;
    assert!(stdout(&listed).lines().any(|l| l == "payments"), "{}", stdout(&listed));

    let altered =
        kafkalab(&["topics", "--bootstrap-server", &b, "--alter", "--topic", "payments", "--partitions", "4"], "")
            .await;
    assert_success(&altered, "topics --alter");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let described = kafkalab(&["topics", "--bootstrap-server", &b, "--describe", "--topic", "payments"], "").await;
        if stdout(&described).contains("PartitionCount: 4\tReplicationFactor: 3") {
            break;
        }
        assert!(Instant::now() < deadline, "{}", stdout(&described));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let shrunk =
        kafkalab(&["topics", "--bootstrap-server", &b, "--alter", "--topic", "payments", "--partitions", "2"], "")
            .await;
    assert_eq!(shrunk.status.code(), Some(1), "partitions are only ever added");

    let deleted = kafkalab(&["topics", "--bootstrap-server", &b, "--delete", "--topic", "payments"], "").await;
    assert_success(&deleted, "topics --delete");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let described = kafkalab(&["topics", "--bootstrap-server", &b, "--describe", "--topic", "payments"], "").await;
        if stderr(&described) == "kafkalab: topic 'payments' does not exist\n" {
            break;
        }
        assert!(Instant::now() < deadline, "{}", stdout(&described));
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let again = kafkalab(&["topics", "--bootstrap-server", &b, "--create", "--topic", "orders"], "").await;
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("TOPIC_ALREADY_EXISTS"), "{}", stderr(&again));
    server.stop().await;
}
