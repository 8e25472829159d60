//! The page's web server: the right file with the right type, and nothing outside the root.

mod common;

use common::{temp_dir, TestServer};
use kafkalab_native::http::WebRoot;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends one raw request and returns the status code, the headers and the body.
async fn fetch(port: u16, request: &str) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    tokio::time::timeout(common::PATIENCE, stream.read_to_end(&mut response))
        .await
        .expect("answered within the patience")
        .expect("read");
    let end = response.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8(response[..end].to_vec()).expect("ascii head");
    let status = head[9..12].parse().expect("a status code");
    (status, head, response[end + 4..].to_vec())
}

fn get(path: &str) -> String {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n")
}

#[tokio::test(flavor = "multi_thread")]
async fn the_page_and_its_wasm_are_served_with_their_types() {
    let dir = temp_dir("http");
    std::fs::write(dir.join("index.html"), "<!doctype html><h1>Kafka Lab</h1>").expect("write");
    std::fs::create_dir_all(dir.join("pkg")).expect("mkdir");
    let wasm = b"\0asm\x01\0\0\0".to_vec();
    std::fs::write(dir.join("pkg/lab_bg.wasm"), &wasm).expect("write");
    std::fs::write(dir.parent().expect("parent").join("kafkalab-secret.txt"), "secret").expect("write");
    let server = TestServer::start(1, WebRoot::Dir(dir.clone())).await;
    let port = server.http_port;

    let (status, head, body) = fetch(port, &get("/")).await;
    assert_eq!(status, 200);
    assert!(head.contains("Content-Type: text/html"), "{head}");
    assert_eq!(body, b"<!doctype html><h1>Kafka Lab</h1>");

    let (status, head, body) = fetch(port, &get("/pkg/lab_bg.wasm")).await;
    assert_eq!(status, 200);
    assert!(head.contains("Content-Type: application/wasm"), "{head}");
    assert_eq!(body, wasm);

    let (status, head, body) = fetch(port, "HEAD /pkg/lab_bg.wasm HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, 200);
    assert!(head.contains(&format!("Content-Length: {}", wasm.len())), "{head}");
    assert!(body.is_empty());

    let (status, _, _) = fetch(port, &get("/missing.js")).await;
    assert_eq!(status, 404);

    for traversal in ["/../kafkalab-secret.txt", "/pkg/%2e%2e/%2e%2e/kafkalab-secret.txt"] {
        let (status, _, body) = fetch(port, &get(traversal)).await;
        assert_eq!(status, 403, "{traversal}");
        assert!(!String::from_utf8_lossy(&body).contains("secret"));
    }

    let (status, head, _) = fetch(port, "DELETE / HTTP/1.1\r\n\r\n").await;
    assert_eq!(status, 405);
    assert!(head.contains("Allow: GET, HEAD"));

    let (status, _, _) = fetch(port, "nonsense\r\n\r\n").await;
    assert_eq!(status, 400);
    server.stop().await;
    let _ = std::fs::remove_file(dir.parent().expect("parent").join("kafkalab-secret.txt"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_a_built_page_a_placeholder_says_so_and_the_brokers_run() {
    let server = TestServer::start(3, WebRoot::NotBuilt).await;
    let (status, head, body) = fetch(server.http_port, &get("/")).await;
    assert_eq!(status, 200);
    assert!(head.contains("text/html"));
    assert!(String::from_utf8_lossy(&body).contains("not built"));
    let _ = server.connect(0).await;
    server.stop().await;
}
