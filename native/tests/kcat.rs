//! A real client: Debian's kcat (librdkafka 2.0.2) lists the simulated cluster. It sends
//! ApiVersions v3, then Metadata v4, and is strict about tagged fields in the answer.

mod common;

use std::path::Path;
use std::process::Command;

use common::TestServer;

const KCAT: &str = "/usr/bin/kcat";

#[tokio::test(flavor = "multi_thread")]
async fn kcat_lists_three_brokers_and_the_orders_partitions() {
    if !Path::new(KCAT).exists() {
        assert!(
            std::env::var_os("KAFKALAB_REQUIRE_CLIENTS").is_none(),
            "{KCAT} is not installed: run scripts/setup.sh test"
        );
        eprintln!("note: {KCAT} is not installed; skipping the kcat test");
        return;
    }
    let server = TestServer::start_settled().await;
    let ports = server.broker_ports.clone();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(KCAT).args(["-b", &format!("127.0.0.1:{}", ports[0]), "-L", "-m", "10"]).output()
    })
    .await
    .expect("join")
    .expect("kcat runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "kcat failed\n{stdout}\n{stderr}");

    let p = &server.broker_ports;
    let expected = [
        " 3 brokers:".to_string(),
        format!("broker 1 at 127.0.0.1:{} (controller)", p[0]),
        format!("broker 2 at 127.0.0.1:{}", p[1]),
        format!("broker 3 at 127.0.0.1:{}", p[2]),
        "topic \"orders\" with 3 partitions:".to_string(),
        "partition 0, leader 1, replicas: 1,2,3, isrs: 1,2,3".to_string(),
        "partition 1, leader 2, replicas: 2,3,1, isrs: 2,3,1".to_string(),
        "partition 2, leader 3, replicas: 3,1,2, isrs: 3,1,2".to_string(),
    ];
    for line in expected {
        assert!(stdout.contains(&line), "missing {line:?} in\n{stdout}\n{stderr}");
    }
    server.stop().await;
}
