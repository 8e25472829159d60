//! One connection to one broker: requests out, answers in, one at a time.
//!
//! Opening a connection asks ApiVersions first, as every Kafka client does, and each later
//! request goes at the newest version both the broker and this client speak
//! ([`Connection::version`]). Frames are Kafka's size-prefixed ones ([`crate::framing`]);
//! headers and bodies are the protocol crate's types, never hand-encoded.
//!
//! A request that fails half-way (no answer in time, a broken socket) leaves the connection
//! unusable: its next answer could be the late one. Such a connection says so
//! ([`Connection::is_broken`]) and the client opens a new one.

use std::collections::BTreeMap;
use std::io;
use std::time::Duration;

use bytes::BytesMut;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, RequestHeader, ResponseHeader};
use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, Request, StrBytes, VersionRange};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{check, ClientError, REQUEST_TIMEOUT};
use crate::framing::{encode_frame, take_frame, FrameError};

/// The `client.id` every request carries.
pub const CLIENT_ID: &str = "kafkalab-cli";

/// ApiVersions v3 is the first to name the client software (KIP-511); brokers since 2.4 serve it.
const API_VERSIONS_VERSION: i16 = 3;

/// An open, negotiated connection to one broker.
#[derive(Debug)]
pub struct Connection {
    address: String,
    stream: TcpStream,
    buffer: BytesMut,
    next_correlation_id: i32,
    /// The versions the broker serves, by API key: (oldest, newest).
    versions: BTreeMap<i16, (i16, i16)>,
    broken: bool,
}

impl Connection {
    /// Connects to `address` (`host:port`) and asks which API versions it serves.
    pub async fn connect(address: &str) -> Result<Connection, ClientError> {
        let unreachable = |reason: String| ClientError::Unreachable { address: address.to_string(), reason };
        let stream = tokio::time::timeout(REQUEST_TIMEOUT, TcpStream::connect(address))
            .await
            .map_err(|_| unreachable("timed out".to_string()))?
            .map_err(|e| unreachable(describe(&e)))?;
        let _ = stream.set_nodelay(true);
        let mut connection = Connection {
            address: address.to_string(),
            stream,
            buffer: BytesMut::with_capacity(64 * 1024),
            next_correlation_id: 0,
            versions: BTreeMap::new(),
            broken: false,
        };
        connection.negotiate().await?;
        Ok(connection)
    }

    /// The address this connection was opened to.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Whether a request failed half-way, so that the connection must not be used again.
    pub fn is_broken(&self) -> bool {
        self.broken
    }

    /// Whether the broker serves `api` at all.
    pub fn serves(&self, api: ApiKey) -> bool {
        self.versions.contains_key(&(api as i16))
    }

    /// The version to send `R` at: the newest the broker, the crate and the caller (`newest`,
    /// the newest whose fields the caller fills in) all speak.
    pub fn version<R: Request>(&self, newest: i16) -> Result<i16, ClientError> {
        let unsupported = || ClientError::Unsupported { address: self.address.clone(), api: api_name(R::KEY) };
        let broker = *self.versions.get(&R::KEY).ok_or_else(unsupported)?;
        pick_version(broker, R::VERSIONS, newest).ok_or_else(unsupported)
    }

    /// Sends `request` at the newest common version up to `newest` and waits for its answer.
    pub async fn call<R: Request>(&mut self, request: &R, newest: i16) -> Result<R::Response, ClientError> {
        let version = self.version::<R>(newest)?;
        self.send(request, version).await
    }

    /// Sends `request` at `version` and waits for its answer.
    pub async fn send<R: Request>(&mut self, request: &R, version: i16) -> Result<R::Response, ClientError> {
        self.send_within(request, version, REQUEST_TIMEOUT).await
    }

    /// Sends `request` at `version` and waits up to `patience` for its answer (a JoinGroup
    /// waits for the whole rebalance).
    pub async fn send_within<R: Request>(
        &mut self,
        request: &R,
        version: i16,
        patience: Duration,
    ) -> Result<R::Response, ClientError> {
        let correlation_id = self.write(request, version).await?;
        let payload = match tokio::time::timeout(patience, self.read_frame()).await {
            Ok(read) => read?,
            Err(_) => return Err(self.lost(format!("no answer to {} within {patience:?}", api_name(R::KEY)))),
        };
        let mut payload = payload;
        let header = ResponseHeader::decode(&mut payload, R::Response::header_version(version))
            .map_err(|e| self.malformed(R::KEY, &e))?;
        if header.correlation_id != correlation_id {
            let reason = format!("answer to request {} arrived for request {correlation_id}", header.correlation_id);
            return Err(self.lost(reason));
        }
        R::Response::decode(&mut payload, version).map_err(|e| self.malformed(R::KEY, &e))
    }

    /// Sends a request that gets no answer (a Produce with `acks=0`).
    pub async fn send_only<R: Request>(&mut self, request: &R, version: i16) -> Result<(), ClientError> {
        self.write(request, version).await.map(|_| ())
    }

    async fn negotiate(&mut self) -> Result<(), ClientError> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("kafkalab"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let response = self.send(&request, API_VERSIONS_VERSION).await?;
        check(response.error_code, || format!("asking {} for its API versions", self.address))?;
        self.versions = response.api_keys.iter().map(|k| (k.api_key, (k.min_version, k.max_version))).collect();
        Ok(())
    }

    /// Writes one request frame; returns its correlation id.
    async fn write<R: Request>(&mut self, request: &R, version: i16) -> Result<i32, ClientError> {
        if self.broken {
            return Err(self.lost("an earlier request failed on this connection".to_string()));
        }
        let correlation_id = self.next_correlation_id;
        self.next_correlation_id = self.next_correlation_id.wrapping_add(1);
        let header = RequestHeader::default()
            .with_request_api_key(R::KEY)
            .with_request_api_version(version)
            .with_correlation_id(correlation_id)
            .with_client_id(Some(StrBytes::from_static_str(CLIENT_ID)));
        let mut payload = BytesMut::new();
        header
            .encode(&mut payload, R::header_version(version))
            .and_then(|()| request.encode(&mut payload, version))
            .map_err(|e| ClientError::Protocol(format!("cannot encode {} v{version}: {e}", api_name(R::KEY))))?;
        if let Err(e) = self.stream.write_all(&encode_frame(&payload)).await {
            return Err(self.lost(describe(&e)));
        }
        Ok(correlation_id)
    }

    async fn read_frame(&mut self) -> Result<bytes::Bytes, ClientError> {
        loop {
            match take_frame(&mut self.buffer) {
                Ok(frame) => return Ok(frame),
                Err(FrameError::Incomplete) => {}
                Err(error @ FrameError::InvalidSize(_)) => return Err(self.lost(error.to_string())),
            }
            match self.stream.read_buf(&mut self.buffer).await {
                Ok(0) => return Err(self.lost("the broker closed the connection".to_string())),
                Ok(_) => {}
                Err(e) => return Err(self.lost(describe(&e))),
            }
        }
    }

    fn lost(&mut self, reason: String) -> ClientError {
        self.broken = true;
        ClientError::Lost { address: self.address.clone(), reason }
    }

    fn malformed(&mut self, api_key: i16, error: &dyn std::fmt::Display) -> ClientError {
        self.broken = true;
        ClientError::Protocol(format!(
            "the answer from {} to {} does not decode: {error}",
            self.address,
            api_name(api_key)
        ))
    }
}

/// The newest version within the broker's range `(oldest, newest)`, the crate's range and up
/// to `newest`; `None` when they do not overlap.
pub fn pick_version(broker: (i16, i16), supported: VersionRange, newest: i16) -> Option<i16> {
    let chosen = newest.min(broker.1).min(supported.max);
    (chosen >= broker.0.max(supported.min)).then_some(chosen)
}

/// An API's name, as the protocol crate spells it (`Metadata`, `CreateTopics`).
pub fn api_name(api_key: i16) -> String {
    ApiKey::try_from(api_key).map_or_else(|()| format!("API {api_key}"), |api| format!("{api:?}"))
}

/// Socket errors in plain words, without the OS error number.
pub fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::ConnectionRefused => "connection refused".to_string(),
        io::ErrorKind::ConnectionReset => "connection reset".to_string(),
        io::ErrorKind::ConnectionAborted => "connection aborted".to_string(),
        io::ErrorKind::BrokenPipe => "broken pipe".to_string(),
        io::ErrorKind::TimedOut => "timed out".to_string(),
        io::ErrorKind::AddrNotAvailable => "address not available".to_string(),
        _ => {
            // "failed to lookup address information: Name or service not known (os error -2)"
            let text = error.to_string();
            text.split(" (os error").next().unwrap_or(&text).to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::MetadataRequest;

    #[tokio::test]
    async fn a_closed_port_is_unreachable_with_the_reason() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address").to_string();
        drop(listener);
        let error = Connection::connect(&address).await.unwrap_err();
        assert_eq!(error, ClientError::Unreachable { address, reason: "connection refused".to_string() });
    }

    #[test]
    fn the_version_is_the_newest_all_three_speak() {
        let crate_range = VersionRange { min: 0, max: 13 };
        assert_eq!(pick_version((0, 12), crate_range, 9), Some(9));
        assert_eq!(pick_version((0, 7), crate_range, 9), Some(7));
        assert_eq!(pick_version((0, 20), VersionRange { min: 0, max: 11 }, 99), Some(11));
        assert_eq!(pick_version((10, 12), crate_range, 9), None);
    }

    #[test]
    fn api_names_come_from_the_crate() {
        assert_eq!(api_name(3), "Metadata");
        assert_eq!(api_name(19), "CreateTopics");
        assert_eq!(api_name(-7), "API -7");
        assert_eq!(MetadataRequest::KEY, 3);
    }
}
