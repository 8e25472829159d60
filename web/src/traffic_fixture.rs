//! Recorded messages for the tests of what is drawn from the network's traffic
//! ([`crate::in_flight`], [`crate::sequence`]): one way to write them down.

use kafkalab_core::ids::BrokerId;
use kafkalab_core::simulation::{Endpoint, Traffic, TrafficFate};

/// Message `id`, a `kind`, from `from` to `to`, sent and delivered at those moments; no
/// summary, not background.
pub fn message(id: u64, from: Endpoint, to: Endpoint, kind: &'static str, sent_ms: u64, arrive_ms: u64) -> Traffic {
    Traffic {
        id,
        from,
        to,
        kind,
        summary: String::new(),
        background: false,
        sent_ms,
        arrive_ms,
        fate: TrafficFate::Delivered,
    }
}

/// Broker `id` as an end of a message.
pub fn broker(id: i32) -> Endpoint {
    Endpoint::Broker(BrokerId(id))
}
