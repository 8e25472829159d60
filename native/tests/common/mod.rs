//! Shared by the integration tests: an in-process server on free ports, and a minimal Kafka
//! client built from the protocol crate's client half.
#![allow(dead_code)] // Each test file uses its own share of these helpers.

use std::path::PathBuf;
use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use kafka_protocol::messages::{ApiKey, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafkalab_native::http::WebRoot;
use kafkalab_native::server::{run, Listeners, ServerError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a test waits for any one answer before failing.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A server running inside the test, on ports the OS picked.
pub struct TestServer {
    pub broker_ports: Vec<u16>,
    pub http_port: u16,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), ServerError>>,
}

impl TestServer {
    pub async fn start(broker_count: usize, web_root: WebRoot) -> TestServer {
        let mut brokers = Vec::new();
        for _ in 0..broker_count {
            brokers.push(TcpListener::bind("127.0.0.1:0").await.expect("bind broker"));
        }
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
        let broker_ports = brokers.iter().map(|l| l.local_addr().expect("address").port()).collect();
        let http_port = http.local_addr().expect("address").port();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(run(Listeners { brokers, http }, web_root, async move {
            let _ = stopped.await;
        }));
        TestServer { broker_ports, http_port, stop: Some(stop), task }
    }

    /// Three brokers and no page, with the simulation given a second to settle.
    pub async fn start_settled() -> TestServer {
        let server = TestServer::start(3, WebRoot::NotBuilt).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        server
    }

    pub async fn connect(&self, broker_index: usize) -> TcpStream {
        TcpStream::connect(("127.0.0.1", self.broker_ports[broker_index])).await.expect("connect to a broker")
    }

    /// Stops the server, checking it shuts down cleanly and promptly.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let outcome = tokio::time::timeout(PATIENCE, &mut self.task)
            .await
            .expect("the server stops within the patience")
            .expect("the server task does not panic");
        assert!(outcome.is_ok(), "the server stopped with {outcome:?}");
    }
}

/// A request frame: size, header (at the API's header version), body.
pub fn request_frame<R: Encodable>(api: ApiKey, version: i16, correlation_id: i32, body: &R) -> Bytes {
    let header = RequestHeader::default()
        .with_request_api_key(api as i16)
        .with_request_api_version(version)
        .with_correlation_id(correlation_id)
        .with_client_id(Some(StrBytes::from_static_str("kafkalab-test")));
    let mut payload = BytesMut::new();
    header.encode(&mut payload, api.request_header_version(version)).expect("encode header");
    body.encode(&mut payload, version).expect("encode body");
    frame(&payload)
}

/// `payload` with its 4-byte size in front.
pub fn frame(payload: &[u8]) -> Bytes {
    let mut bytes = BytesMut::new();
    bytes.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    bytes.extend_from_slice(payload);
    bytes.freeze()
}

/// Reads one response frame's payload; `None` if the server closed the connection.
pub async fn read_frame(stream: &mut TcpStream) -> Option<Bytes> {
    tokio::time::timeout(PATIENCE, async {
        let mut size = [0u8; 4];
        stream.read_exact(&mut size).await.ok()?;
        let mut payload = vec![0u8; u32::from_be_bytes(size) as usize];
        stream.read_exact(&mut payload).await.ok()?;
        Some(Bytes::from(payload))
    })
    .await
    .expect("the server answers or closes within the patience")
}

/// Sends a request and decodes the answer as `R` at `response_version`.
pub async fn call<Q: Encodable, R: Decodable>(
    stream: &mut TcpStream,
    api: ApiKey,
    version: i16,
    correlation_id: i32,
    body: &Q,
) -> R {
    let request = request_frame(api, version, correlation_id, body);
    stream.write_all(&request).await.expect("send");
    let payload = read_frame(stream).await.expect("an answer");
    let (header, response) = decode_response(payload, api, version);
    assert_eq!(header.correlation_id, correlation_id);
    response
}

pub fn decode_response<R: Decodable>(payload: Bytes, api: ApiKey, version: i16) -> (ResponseHeader, R) {
    let mut buffer = payload;
    let header =
        ResponseHeader::decode(&mut buffer, api.response_header_version(version)).expect("decode response header");
    let response = R::decode(&mut buffer, version).expect("decode response body");
    assert_eq!(buffer.remaining(), 0, "the whole response is read");
    (header, response)
}

/// Asserts the server closes `stream` without answering.
pub async fn assert_closed(stream: &mut TcpStream) {
    let mut byte = [0u8; 1];
    let read =
        tokio::time::timeout(PATIENCE, stream.read(&mut byte)).await.expect("the server closes within the patience");
    assert!(matches!(read, Ok(0) | Err(_)), "expected the connection closed, read {read:?}");
}

/// A fresh, empty directory for one test.
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kafkalab-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("create temp dir");
    dir
}
