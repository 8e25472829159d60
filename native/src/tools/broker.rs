//! `kafkalab broker (kill|restart|shutdown) N`: asks a running `kafkalab serve` to act on
//! one of its brokers, with one HTTP request to its admin endpoint
//! (`POST /admin/brokers/N/ACTION`, see [`crate::http_admin`]), and prints the answer.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::client::connection::describe;
use crate::http_admin::BrokerAction;

use super::{BrokerOptions, ToolError};

/// How long the admin endpoint has to answer.
const PATIENCE: Duration = Duration::from_secs(10);

/// Runs `kafkalab broker ACTION N`.
pub async fn run(options: BrokerOptions) -> Result<(), ToolError> {
    let path = format!("/admin/brokers/{}/{}", options.broker, action_name(options.action));
    let (status, body) = tokio::time::timeout(PATIENCE, post(&options.admin, &path))
        .await
        .map_err(|_| ToolError(format!("{} did not answer within {PATIENCE:?}", options.admin)))??;
    let message = body.trim();
    if (200..300).contains(&status) {
        println!("{message}");
        Ok(())
    } else if message.is_empty() {
        Err(ToolError(format!("{} answered HTTP {status}", options.admin)))
    } else {
        Err(ToolError(message.to_string()))
    }
}

/// The path segment for an action.
pub fn action_name(action: BrokerAction) -> &'static str {
    match action {
        BrokerAction::Kill => "kill",
        BrokerAction::Restart => "restart",
        BrokerAction::Shutdown => "shutdown",
    }
}

/// Sends an empty POST and returns the status code and body.
async fn post(address: &str, path: &str) -> Result<(u16, String), ToolError> {
    let mut stream = TcpStream::connect(address)
        .await
        .map_err(|e| ToolError(format!("cannot reach {address}: {} (is `kafkalab serve` running?)", describe(&e))))?;
    let request = format!("POST {path} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    let lost = |e: std::io::Error| ToolError(format!("lost the connection to {address}: {}", describe(&e)));
    stream.write_all(request.as_bytes()).await.map_err(lost)?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.map_err(lost)?;
    parse_response(&response).ok_or_else(|| ToolError(format!("{address} did not answer in HTTP")))
}

/// The status code and body of an HTTP/1.1 response read to its end.
pub fn parse_response(response: &[u8]) -> Option<(u16, String)> {
    let end = response.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&response[..end]).ok()?;
    let status = head.strip_prefix("HTTP/1.")?.get(2..5)?.parse().ok()?;
    Some((status, String::from_utf8_lossy(&response[end + 4..]).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_give_their_status_and_body() {
        let response = b"HTTP/1.1 409 Conflict\r\nContent-Length: 25\r\n\r\nbroker 1 is already down\n";
        assert_eq!(parse_response(response), Some((409, "broker 1 is already down\n".to_string())));
        assert_eq!(parse_response(b"SSH-2.0-OpenSSH\r\n\r\n"), None);
    }

    #[test]
    fn actions_name_their_paths() {
        for name in ["kill", "restart", "shutdown"] {
            assert_eq!(BrokerAction::parse(name).map(action_name), Some(name));
        }
    }
}
