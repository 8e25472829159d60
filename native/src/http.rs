//! The page's web server: a minimal HTTP/1.1 server for the built static files (GET and
//! HEAD, one request per connection, `Connection: close`).
//!
//! [`respond`] maps a request head to a [`Response`]; everything else here reads the head
//! and writes the answer. Paths are checked twice against escaping the web directory: `..`
//! segments are refused outright, and the resolved file must lie under the directory's
//! canonical path (which also stops symbolic links pointing out of it).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::cluster::Cluster;
use crate::http_admin;

/// The most bytes a request head (request line and headers) may take.
pub const MAX_HEAD_BYTES: usize = 8 * 1024;

/// How long a client has to send its request head.
pub const HEAD_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the page's files come from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebRoot {
    /// A built page: `index.html` and its assets.
    Dir(PathBuf),
    /// No built page: `/` explains how to get one.
    NotBuilt,
}

/// An answer, ready to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
    /// HEAD: send the headers (with the body's length) but not the body.
    pub head_only: bool,
}

const NOT_BUILT_PAGE: &str = "<!doctype html>\n<html lang=\"en\">\n<head><meta charset=\"utf-8\">\
<title>Kafka Lab</title></head>\n<body>\n<h1>Kafka Lab</h1>\n<p>The page is not built yet, so \
there is nothing to show here. Build it, then run <code>kafkalab serve --web-dir DIR</code> \
with the directory it was built into.</p>\n<p>The brokers are running anyway: try \
<code>kcat -b 127.0.0.1:9092 -L</code>.</p>\n</body>\n</html>\n";

/// Serves one connection: one request, one response, close. Paths under `/admin/` go to
/// [`crate::http_admin`], which acts on `cluster`.
pub async fn serve(mut stream: TcpStream, root: Arc<WebRoot>, cluster: Arc<Cluster>) {
    let response = match tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut stream)).await {
        Ok(Ok(head)) => match (request_line(&head), stream.peer_addr()) {
            (Some((method, target)), Ok(peer)) if target.starts_with(http_admin::PREFIX) => {
                http_admin::respond(method, target, peer.ip(), &cluster)
                    .unwrap_or_else(|| Response::text(404, "Not Found"))
            }
            _ => respond(&root, &head).await,
        },
        Ok(Err(HeadError::TooLarge)) => Response::text(431, "Request Header Fields Too Large"),
        Ok(Err(HeadError::Closed)) | Err(_) => return,
    };
    // The client may already be gone; there is no one left to tell.
    let _ = stream.write_all(&encode(&response)).await;
    let _ = stream.shutdown().await;
}

/// The answer to a request whose head (up to the blank line) is `head`.
pub async fn respond(root: &WebRoot, head: &[u8]) -> Response {
    let Some((method, target)) = request_line(head) else {
        return Response::text(400, "Bad Request");
    };
    let head_only = match method {
        "GET" => false,
        "HEAD" => true,
        _ => return Response::text(405, "Method Not Allowed"),
    };
    let response = match relative_path(target) {
        Err(status) => Response::text(status, reason(status)),
        Ok(path) => match root {
            WebRoot::NotBuilt if path == Path::new("index.html") => Response {
                status: 200,
                content_type: content_type(&path),
                body: NOT_BUILT_PAGE.as_bytes().to_vec(),
                head_only: false,
            },
            WebRoot::NotBuilt => Response::text(404, "Not Found"),
            WebRoot::Dir(dir) => static_file(dir, &path).await,
        },
    };
    Response { head_only, ..response }
}

/// The `Content-Type` for a file, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("html" | "htm") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("json" | "map") => "application/json",
        Some("ico") => "image/x-icon",
        Some("txt" | "md") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The file a request target names, relative to the web directory: percent-decoded, query
/// dropped, `index.html` for a directory. An `Err` is the status to answer with.
pub fn relative_path(target: &str) -> Result<PathBuf, u16> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    if !path.starts_with('/') {
        return Err(400);
    }
    let decoded = percent_decode(path).ok_or(400u16)?;
    let mut relative = PathBuf::new();
    for segment in decoded.split('/') {
        match segment {
            "" | "." => {}
            ".." => return Err(403),
            s if s.contains(['\\', '\0']) => return Err(403),
            s => relative.push(s),
        }
    }
    if decoded.ends_with('/') || relative.as_os_str().is_empty() {
        relative.push("index.html");
    }
    Ok(relative)
}

impl Response {
    fn text(status: u16, message: &str) -> Response {
        Response {
            status,
            content_type: "text/plain; charset=utf-8",
            body: format!("{status} {message}\n").into_bytes(),
            head_only: false,
        }
    }
}

/// Reads `dir/relative` (or its `index.html` if it is a directory), refusing anything that
/// resolves outside `dir`.
async fn static_file(dir: &Path, relative: &Path) -> Response {
    let mut path = dir.join(relative);
    if tokio::fs::metadata(&path).await.is_ok_and(|m| m.is_dir()) {
        path.push("index.html");
    }
    let (Ok(root), Ok(file)) = (tokio::fs::canonicalize(dir).await, tokio::fs::canonicalize(&path).await) else {
        return Response::text(404, "Not Found");
    };
    if !file.starts_with(&root) {
        return Response::text(403, "Forbidden");
    }
    match tokio::fs::read(&file).await {
        Ok(body) => Response { status: 200, content_type: content_type(&file), body, head_only: false },
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Response::text(403, "Forbidden"),
        Err(_) => Response::text(404, "Not Found"),
    }
}

#[derive(Debug)]
enum HeadError {
    TooLarge,
    Closed,
}

/// Reads up to and including the blank line that ends the request head.
async fn read_head(stream: &mut TcpStream) -> Result<Vec<u8>, HeadError> {
    let mut head = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    loop {
        let read = stream.read(&mut chunk).await.map_err(|_| HeadError::Closed)?;
        if read == 0 {
            return Err(HeadError::Closed);
        }
        head.extend_from_slice(&chunk[..read]);
        if let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") {
            head.truncate(end);
            return Ok(head);
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(HeadError::TooLarge);
        }
    }
}

/// The method and target of a request line `METHOD TARGET HTTP/1.x`.
fn request_line(head: &[u8]) -> Option<(&str, &str)> {
    let line = head.split(|&b| b == b'\r' || b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?;
    let mut parts = line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || !version.starts_with("HTTP/1.") {
        return None;
    }
    Some((method, target))
}

fn percent_decode(path: &str) -> Option<String> {
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        if bytes[index] == b'%' {
            let hex = std::str::from_utf8(bytes.get(index + 1..index + 3)?).ok()?;
            decoded.push(u8::from_str_radix(hex, 16).ok()?);
            index += 3;
        } else {
            decoded.push(bytes[index]);
            index += 1;
        }
    }
    String::from_utf8(decoded).ok()
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        431 => "Request Header Fields Too Large",
        _ => "Internal Server Error",
    }
}

fn encode(response: &Response) -> Vec<u8> {
    let allow = if response.status == 405 { "Allow: GET, HEAD\r\n" } else { "" };
    let mut bytes = format!(
        "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\n{allow}\
         Cache-Control: no-cache\r\nConnection: close\r\n\r\n",
        response.status,
        reason(response.status),
        response.content_type,
        response.body.len(),
    )
    .into_bytes();
    if !response.head_only {
        bytes.extend_from_slice(&response.body);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_map_to_files_under_the_root() {
        assert_eq!(relative_path("/"), Ok(PathBuf::from("index.html")));
        assert_eq!(relative_path("/pkg/app_bg.wasm?v=3"), Ok(PathBuf::from("pkg/app_bg.wasm")));
        assert_eq!(relative_path("/docs/"), Ok(PathBuf::from("docs/index.html")));
        assert_eq!(relative_path("/a%20b.css"), Ok(PathBuf::from("a b.css")));
    }

    #[test]
    fn traversal_is_refused_even_when_encoded() {
        assert_eq!(relative_path("/../etc/passwd"), Err(403));
        assert_eq!(relative_path("/a/%2e%2e/%2e%2e/etc/passwd"), Err(403));
        assert_eq!(relative_path("/a%5c..%5cb"), Err(403));
        assert_eq!(relative_path("relative"), Err(400));
        assert_eq!(relative_path("/%zz"), Err(400));
    }

    #[test]
    fn content_types_follow_extensions() {
        assert_eq!(content_type(Path::new("a.wasm")), "application/wasm");
        assert!(content_type(Path::new("index.HTML")).starts_with("text/html"));
        assert!(content_type(Path::new("app.js")).starts_with("text/javascript"));
        assert_eq!(content_type(Path::new("x.svg")), "image/svg+xml");
        assert_eq!(content_type(Path::new("x")), "application/octet-stream");
    }

    #[test]
    fn request_lines_are_checked() {
        assert_eq!(request_line(b"GET / HTTP/1.1"), Some(("GET", "/")));
        assert_eq!(request_line(b"GET /\r\nHost: x"), None);
        assert_eq!(request_line(b"GET / SPDY/3"), None);
    }

    #[tokio::test]
    async fn without_a_built_page_the_root_explains_itself() {
        let response = respond(&WebRoot::NotBuilt, b"GET / HTTP/1.1").await;
        assert_eq!(response.status, 200);
        assert!(String::from_utf8_lossy(&response.body).contains("not built"));
        let response = respond(&WebRoot::NotBuilt, b"GET /app.js HTTP/1.1").await;
        assert_eq!(response.status, 404);
    }

    #[tokio::test]
    async fn only_get_and_head_are_served() {
        let response = respond(&WebRoot::NotBuilt, b"POST / HTTP/1.1").await;
        assert_eq!(response.status, 405);
        let response = respond(&WebRoot::NotBuilt, b"HEAD / HTTP/1.1").await;
        assert!(response.head_only);
        assert!(!encode(&response).ends_with(b"</html>\n"));
    }
}
