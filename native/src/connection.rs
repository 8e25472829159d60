//! One client's connection to one broker: read frames, answer each in order, and close on
//! anything Kafka would close on. All decisions are in [`crate::framing`], [`crate::api`] and
//! the core; this loop only moves bytes: requests in, the core's deliveries in, responses out.
//!
//! The connection is one external client of the simulation for as long as it is open.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use kafkalab_core::BrokerId;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::api::{self, Context};
use crate::cluster::{Cluster, Delivery};
use crate::exchange::Exchanges;
use crate::framing::{take_frame, FrameError};
use crate::shutdown::Shutdown;

/// Where a connection came in, for the log.
#[derive(Clone, Copy, Debug)]
pub struct Peer {
    pub broker: BrokerId,
    pub address: SocketAddr,
}

/// Serves one connection until the client leaves, breaks the protocol, or the server stops.
pub async fn serve(stream: TcpStream, peer: Peer, cluster: Arc<Cluster>, shutdown: Shutdown) {
    let (client, deliveries) = cluster.open_external();
    let context = Context { cluster: &cluster, client, broker: peer.broker };
    pump(stream, peer, &context, deliveries, shutdown).await;
    cluster.close_external(client);
}

async fn pump(
    mut stream: TcpStream,
    peer: Peer,
    context: &Context<'_>,
    mut deliveries: tokio::sync::mpsc::UnboundedReceiver<Delivery>,
    mut shutdown: Shutdown,
) {
    let mut buffer = BytesMut::with_capacity(4 * 1024);
    let mut exchanges = Exchanges::default();
    loop {
        match exchanges.take_ready() {
            Ok(responses) => {
                for response in responses {
                    // A client that never reads must not hold up shutdown.
                    let written = tokio::select! {
                        written = stream.write_all(&response) => written,
                        () = shutdown.recv() => return,
                    };
                    if written.is_err() {
                        return;
                    }
                }
            }
            Err(rejection) => {
                log_close(peer, &format!(": {rejection}"));
                return;
            }
        }
        match take_frame(&mut buffer) {
            Ok(frame) => match api::handle(frame, context) {
                Ok(answer) => {
                    exchanges.push(answer);
                    continue;
                }
                Err((prefix, rejection)) => {
                    let client = prefix.client_id.map_or(String::new(), |id| format!(" (client.id {id:?})"));
                    log_close(peer, &format!("{client}: {rejection}"));
                    return;
                }
            },
            Err(FrameError::Incomplete) => {}
            Err(error @ FrameError::InvalidSize(_)) => {
                log_close(peer, &format!(": {error}"));
                return;
            }
        }
        tokio::select! {
            read = stream.read_buf(&mut buffer) => match read {
                Ok(0) if buffer.is_empty() => return,
                Ok(0) => {
                    let reason = format!(": truncated frame ({} bytes unread)", buffer.len());
                    log_close(peer, &reason);
                    return;
                }
                Ok(_) => {}
                Err(_) => return, // Reset by the client: nothing to answer.
            },
            delivery = deliveries.recv() => match delivery {
                Some(Delivery::Message { message, .. }) => exchanges.deliver(message),
                // The simulated connection broke: so does the real one, and the client
                // reconnects and retries, as it would with Kafka.
                Some(Delivery::Reset { broker }) => {
                    log_close(peer, &format!(": the simulated connection to broker {broker} was reset"));
                    return;
                }
                None => return,
            },
            () = shutdown.recv() => return,
        }
    }
}

fn log_close(peer: Peer, reason: &str) {
    eprintln!("kafkalab: broker {}: closing connection from {}{reason}", peer.broker, peer.address);
}
