//! Bad input, at random: for every API and version the server serves, frames whose header is
//! right and whose body is random bytes (or a real request cut at a random point). Each
//! connection gets an answer or is closed; the server, a connection held open throughout,
//! and the records stored before all come through unharmed.

mod common;

use std::process::Command;
use std::time::Duration;

use bytes::{BufMut, BytesMut};
use common::{frame, read_frame, TestServer};
use kafka_protocol::messages::{ApiKey, RequestHeader};
use kafka_protocol::protocol::{Encodable, StrBytes};
use kafkalab_native::api::SERVED;
use tokio::io::AsyncWriteExt;

/// A small deterministic generator (xorshift64*): the same frames on every run.
struct Random(u64);

impl Random {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn bytes(&mut self, count: usize) -> Vec<u8> {
        (0..count).map(|_| self.next() as u8).collect()
    }
}

fn header(api: ApiKey, version: i16, correlation_id: i32) -> BytesMut {
    let mut payload = BytesMut::new();
    RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("fuzz")))
        .encode(&mut payload, api.request_header_version(version))
        .expect("encode header");
    payload
}

fn kafkalab(args: &[String], stdin: Option<&str>) -> String {
    use std::io::Write;
    use std::process::Stdio;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kafkalab"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("kafkalab runs");
    child.stdin.take().expect("stdin").write_all(stdin.unwrap_or_default().as_bytes()).expect("write stdin");
    let output = child.wait_with_output().expect("kafkalab ends");
    assert!(output.status.success(), "kafkalab {args:?}: {}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn random_bodies_for_every_served_api_leave_the_server_and_the_stored_records_intact() {
    let server = TestServer::start_settled().await;
    let bootstrap = format!("127.0.0.1:{}", server.broker_ports[0]);
    let words = |text: &str| -> Vec<String> { text.split(' ').map(String::from).collect() };
    let keyed = "--property parse.key=true --property key.separator=:";
    let produce = words(&format!("produce --bootstrap-server {bootstrap} --topic orders --acks all {keyed}"));
    let consume = words(&format!(
        "consume --bootstrap-server {bootstrap} --topic orders --from-beginning --max-messages 3 --timeout-ms 10000 \
         --property print.key=true --property key.separator=:"
    ));
    let consume_again = consume.clone();
    let before = tokio::task::spawn_blocking(move || {
        kafkalab(&produce, Some("alpha:1\nbeta:2\ngamma:3\n"));
        kafkalab(&consume, None)
    })
    .await
    .expect("join");
    let mut lines_before: Vec<&str> = before.lines().collect();
    lines_before.sort_unstable();
    assert_eq!(lines_before, ["alpha:1", "beta:2", "gamma:3"]);

    // One connection stays open through it all and must still be answered at the end.
    let mut bystander = server.connect(2).await;
    let mut random = Random(0x9e37_79b9_7f4a_7c15);
    let mut frames = 0;
    for (api, versions) in SERVED {
        for version in versions.min..=versions.max {
            for attempt in 0..3 {
                let mut payload = header(api, version, frames);
                let length = (random.next() % 300) as usize;
                payload.put_slice(&random.bytes(length));
                frames += 1;
                let mut stream = server.connect((frames % 3) as usize).await;
                stream.write_all(&frame(&payload)).await.expect("send");
                // An answer, or the connection closed: either way within the patience.
                let answered = tokio::time::timeout(Duration::from_secs(5), read_frame(&mut stream)).await;
                assert!(answered.is_ok(), "{api:?} v{version} attempt {attempt}: neither answered nor closed");
            }
        }
    }
    assert!(frames > 200, "{frames} random frames sent");

    let response: kafka_protocol::messages::ApiVersionsResponse = common::call(
        &mut bystander,
        ApiKey::ApiVersions,
        3,
        1,
        &kafka_protocol::messages::ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("bystander"))
            .with_client_software_version(StrBytes::from_static_str("1")),
    )
    .await;
    assert_eq!(response.error_code, 0, "the connection held open is still served");

    let after = tokio::task::spawn_blocking(move || kafkalab(&consume_again, None)).await.expect("join");
    assert_eq!(after, before, "the records stored before read back the same");
    server.stop().await;
}
