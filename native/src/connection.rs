//! One client's connection to one broker: read frames, answer each in order, and close on
//! anything Kafka would close on. All decisions are in [`crate::framing`] and [`crate::api`];
//! this loop only moves bytes.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use kafkalab_core::BrokerId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::api;
use crate::cluster::Cluster;
use crate::framing::{take_frame, FrameError};
use crate::shutdown::Shutdown;

/// Where a connection came in, for the log.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    pub broker: BrokerId,
    pub address: SocketAddr,
}

/// Serves one connection until the client leaves, breaks the protocol, or the server stops.
pub async fn serve(mut stream: TcpStream, peer: Peer, cluster: Arc<Cluster>, mut shutdown: Shutdown) {
    let mut buffer = BytesMut::with_capacity(4 * 1024);
    loop {
        match take_frame(&mut buffer) {
            Ok(frame) => match api::handle(frame, &cluster) {
                Ok(response) => {
                    // A client that never reads must not hold up shutdown.
                    let written = tokio::select! {
                        written = stream.write_all(&response) => written,
                        () = shutdown.recv() => return,
                    };
                    if written.is_err() {
                        return;
                    }
                }
                Err((prefix, rejection)) => {
                    let client = prefix.client_id.map_or(String::new(), |id| format!(" (client.id {id:?})"));
                    log_close(peer, &format!("{client}: {rejection}"));
                    return;
                }
            },
            Err(FrameError::Incomplete) => {
                let read = tokio::select! {
                    read = stream.read_buf(&mut buffer) => read,
                    () = shutdown.recv() => return,
                };
                match read {
                    Ok(0) if buffer.is_empty() => return,
                    Ok(0) => {
                        let reason = format!(": truncated frame ({} bytes unread)", buffer.len());
                        log_close(peer, &reason);
                        return;
                    }
                    Ok(_) => {}
                    Err(_) => return, // Reset by the client: nothing to answer.
                }
            }
            Err(error @ FrameError::InvalidSize(_)) => {
                log_close(peer, &format!(": {error}"));
                return;
            }
        }
    }
}

fn log_close(peer: Peer, reason: &str) {
    eprintln!("kafkalab: broker {}: closing connection from {}{reason}", peer.broker, peer.address);
}
