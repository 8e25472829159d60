//! Clients talk to brokers over TCP connections, and Kafka's guarantees lean on what TCP gives:
//! requests on one connection arrive in the order they were sent, and when one is lost the
//! connection is gone with everything still in it. An idempotent producer relies on exactly
//! that: with five batches in flight, a lost first batch cannot let the second one arrive on
//! its own and leave a gap in the sequence.
//!
//! So between a client and a broker the simulator keeps a connection with an epoch:
//!
//! - messages on it are delivered in the order they were sent (a later one never overtakes an
//!   earlier one, whatever latency each draws);
//! - when one is lost (the `loss` fault, or a split between the two) the connection breaks:
//!   nothing more goes either way on it, what is still in flight is dropped on arrival, and the
//!   client is told at once (a reset), as a real client sees its socket close;
//! - once the client has been told, its next message opens a new connection (the next epoch).
//!
//! Messages between brokers and controllers are not affected: their protocols name each
//! request and answer, and survive loss and reordering on their own.

use alloc::collections::BTreeMap;

use crate::ids::{BrokerId, ClientId};
use crate::message::NodeId;

/// One client-broker connection.
#[derive(Clone, Copy, Debug, Default)]
struct Link {
    epoch: u32,
    /// Broken and the client not told yet: messages either way are dropped.
    broken: bool,
    /// The latest time a message on it is due, so that none overtakes another.
    last_due_ms: u64,
}

/// Every client-broker connection of a run.
#[derive(Clone, Debug, Default)]
pub(super) struct Connections {
    links: BTreeMap<(ClientId, BrokerId), Link>,
}

/// The connection a message travels on, if it is between a client and a broker.
pub(super) fn link_of(from: NodeId, to: NodeId) -> Option<(ClientId, BrokerId)> {
    match (from, to) {
        (NodeId::Client(client), NodeId::Broker(broker)) | (NodeId::Broker(broker), NodeId::Client(client)) => {
            Some((client, broker))
        }
        _ => None,
    }
}

impl Connections {
    /// A message goes out at `now_ms` with `latency_ms`: when it is due and on which epoch, or
    /// `None` when the connection is broken and the message goes nowhere.
    pub(super) fn send(&mut self, link: (ClientId, BrokerId), now_ms: u64, latency_ms: u64) -> Option<(u64, u32)> {
        let state = self.links.entry(link).or_default();
        if state.broken {
            return None;
        }
        let due_ms = (now_ms + latency_ms).max(state.last_due_ms);
        state.last_due_ms = due_ms;
        Some((due_ms, state.epoch))
    }

    /// Whether a message sent on `epoch` may still arrive.
    pub(super) fn is_open(&self, link: (ClientId, BrokerId), epoch: u32) -> bool {
        self.links.get(&link).is_none_or(|state| !state.broken && state.epoch == epoch)
    }

    /// A message on the connection was lost: it breaks. True when it was open until now (the
    /// client must then be told).
    pub(super) fn break_link(&mut self, link: (ClientId, BrokerId)) -> bool {
        let state = self.links.entry(link).or_default();
        !core::mem::replace(&mut state.broken, true)
    }

    /// The client has been told: its next message opens a new connection.
    pub(super) fn reopen(&mut self, link: (ClientId, BrokerId)) {
        let state = self.links.entry(link).or_default();
        state.broken = false;
        state.epoch += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: (ClientId, BrokerId) = (ClientId(1), BrokerId(2));

    #[test]
    fn a_later_message_never_overtakes_an_earlier_one() {
        let mut connections = Connections::default();
        assert_eq!(connections.send(LINK, 100, 5), Some((105, 0)));
        // Drawn a shorter latency, it still arrives after the first.
        assert_eq!(connections.send(LINK, 101, 1), Some((105, 0)));
        assert_eq!(connections.send(LINK, 200, 1), Some((201, 0)));
    }

    #[test]
    fn a_broken_connection_carries_nothing_until_the_client_reconnects() {
        let mut connections = Connections::default();
        let (_, epoch) = connections.send(LINK, 0, 1).unwrap();
        assert!(connections.break_link(LINK), "the first loss breaks it");
        assert!(!connections.break_link(LINK), "a second loss changes nothing");
        assert_eq!(connections.send(LINK, 1, 1), None, "nothing goes on a broken connection");
        assert!(!connections.is_open(LINK, epoch), "what was in flight is dropped");
        connections.reopen(LINK);
        let (_, new_epoch) = connections.send(LINK, 2, 1).unwrap();
        assert_eq!(new_epoch, epoch + 1);
        assert!(connections.is_open(LINK, new_epoch));
        assert!(!connections.is_open(LINK, epoch), "the old connection's messages stay dropped");
    }

    #[test]
    fn only_client_broker_messages_travel_on_connections() {
        assert_eq!(link_of(NodeId::Client(ClientId(1)), NodeId::Broker(BrokerId(2))), Some(LINK));
        assert_eq!(link_of(NodeId::Broker(BrokerId(2)), NodeId::Client(ClientId(1))), Some(LINK));
        assert_eq!(link_of(NodeId::Broker(BrokerId(1)), NodeId::Broker(BrokerId(2))), None);
    }
}
