//! External clients: processes outside the simulation (a real Kafka client on a socket of the
//! native server) that talk to its brokers like any simulated client.
//!
//! The driver opens one per real connection ([`Simulation::open_external`]), hands the
//! simulation each request translated into a [`Message`] ([`Simulation::submit`]), and after
//! running the clock takes what the brokers sent back ([`Simulation::take_external`]). Requests
//! and answers travel over the simulated network under the same rules as any client's: the
//! link's latency, loss and splits, and its connection (in order; a loss resets it, and the
//! client is told: [`Simulation::take_external_resets`]).
//!
//! The simulation decides nothing for an external client: it only queues what arrives. Once the
//! driver closes one ([`Simulation::close_external`]) whatever still arrives for it is dropped,
//! as a closed socket's data is.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use super::Simulation;
use crate::ids::{BrokerId, ClientId};
use crate::message::{Message, NodeId};

/// The first external client id: far above the named clients' ids, which count up from 1.
pub const FIRST_EXTERNAL_CLIENT: ClientId = ClientId(1 << 31);

/// The first request id handed to external clients: far above the ids simulated clients count
/// up from 0, since a broker keys some waiting requests (a parked consumer fetch) by id alone.
pub const FIRST_EXTERNAL_REQUEST_ID: u64 = 1 << 62;

/// What the simulation keeps for its external clients.
#[derive(Clone, Debug)]
pub(super) struct Externals {
    open: BTreeMap<ClientId, Outbox>,
    next_client: u32,
    next_request_id: u64,
}

impl Default for Externals {
    fn default() -> Self {
        Externals {
            open: BTreeMap::new(),
            next_client: FIRST_EXTERNAL_CLIENT.0,
            next_request_id: FIRST_EXTERNAL_REQUEST_ID,
        }
    }
}

/// What arrived for one open external client and the driver has not taken yet.
#[derive(Clone, Debug, Default)]
struct Outbox {
    messages: Vec<(NodeId, Message)>,
    /// Brokers whose connection to the client was reset (refused or broken).
    resets: Vec<BrokerId>,
}

impl Externals {
    /// Whether `client` is an external client's id (open or closed).
    pub(super) fn is_external(client: ClientId) -> bool {
        client >= FIRST_EXTERNAL_CLIENT
    }

    pub(super) fn is_open(&self, client: ClientId) -> bool {
        self.open.contains_key(&client)
    }
}

impl Simulation {
    /// A new external client, with an id no client has had.
    pub fn open_external(&mut self) -> ClientId {
        let client = ClientId(self.externals.next_client);
        self.externals.next_client = self.externals.next_client.checked_add(1).expect("fewer than 2^31 connections");
        self.externals.open.insert(client, Outbox::default());
        client
    }

    /// A request id no other request in the run has: external clients' requests are numbered
    /// from one counter, apart from the simulated clients'.
    pub fn next_external_request_id(&mut self) -> u64 {
        let id = self.externals.next_request_id;
        self.externals.next_request_id += 1;
        id
    }

    /// Sends `message` from the external `client` to `broker` over the simulated network, now.
    /// Nothing is sent for a client that is not open.
    pub fn submit(&mut self, client: ClientId, broker: BrokerId, message: Message) {
        if !self.externals.is_open(client) {
            debug_assert!(false, "submit from external client {client}, which is not open");
            return;
        }
        self.schedule_send(NodeId::Client(client), NodeId::Broker(broker), message);
    }

    /// Everything that arrived for `client` since the last call, in the order it arrived.
    pub fn take_external(&mut self, client: ClientId) -> Vec<(NodeId, Message)> {
        self.externals.open.get_mut(&client).map(|outbox| core::mem::take(&mut outbox.messages)).unwrap_or_default()
    }

    /// The brokers whose connection to `client` was reset since the last call: what was in
    /// flight on them is gone and will never be answered.
    pub fn take_external_resets(&mut self, client: ClientId) -> Vec<BrokerId> {
        self.externals.open.get_mut(&client).map(|outbox| core::mem::take(&mut outbox.resets)).unwrap_or_default()
    }

    /// The external clients open now, in id order.
    pub fn external_clients(&self) -> impl Iterator<Item = ClientId> + '_ {
        self.externals.open.keys().copied()
    }

    /// The driver closed the client's connection: nothing more is queued for it.
    pub fn close_external(&mut self, client: ClientId) {
        self.externals.open.remove(&client);
    }

    /// A message arrived for an external client: queue it for the driver.
    pub(super) fn external_receive(&mut self, client: ClientId, from: NodeId, message: Message) {
        if let Some(outbox) = self.externals.open.get_mut(&client) {
            outbox.messages.push((from, message));
        }
    }

    /// The external client's connection to `broker` broke: the driver is told.
    pub(super) fn external_disconnected(&mut self, client: ClientId, broker: BrokerId) {
        if let Some(outbox) = self.externals.open.get_mut(&client) {
            outbox.resets.push(broker);
        }
    }
}

impl Simulation {
    /// ListOffsets as broker `broker` answers it now (a read of the leader's log, not sent over
    /// the simulated network): NOT_LEADER_OR_FOLLOWER from a broker that is down or does not
    /// lead the partition.
    pub fn list_offsets(
        &self,
        broker: BrokerId,
        partition: &crate::ids::TopicPartition,
        spec: crate::broker::list_offsets::OffsetSpec,
        isolation: crate::message::IsolationLevel,
    ) -> Result<crate::broker::list_offsets::ListedOffset, crate::error_code::ErrorCode> {
        if !self.is_alive(broker) {
            return Err(crate::error_code::ErrorCode::NotLeaderOrFollower);
        }
        let broker = self.broker(broker).ok_or(crate::error_code::ErrorCode::NotLeaderOrFollower)?;
        broker.list_offsets(partition, spec, isolation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClusterConfig;
    use crate::error_code::ErrorCode;
    use crate::ids::TopicPartition;
    use crate::message::{Acks, CoordinatorType, IsolationLevel};
    use crate::partition_log::single_record_batch;
    use crate::Offset;
    use bytes::Bytes;

    fn settled() -> Simulation {
        let mut simulation = Simulation::new(ClusterConfig::default()).expect("the default config is valid");
        simulation.advance(2_000);
        simulation
    }

    fn produce(simulation: &mut Simulation, partition: i32, value: &'static [u8]) -> (u64, Message) {
        let request_id = simulation.next_external_request_id();
        let batch = single_record_batch(0, None, Some(Bytes::from_static(value)));
        let message = Message::Produce {
            request_id,
            partition: TopicPartition::new("orders", partition),
            batch,
            acks: Acks::All,
        };
        (request_id, message)
    }

    #[test]
    fn each_connection_gets_its_own_client_id_apart_from_named_clients() {
        let mut simulation = settled();
        let first = simulation.open_external();
        let second = simulation.open_external();
        assert_ne!(first, second);
        assert!(first >= FIRST_EXTERNAL_CLIENT && second >= FIRST_EXTERNAL_CLIENT);
        assert_eq!(simulation.external_clients().collect::<Vec<_>>(), [first, second]);
        assert!(simulation.next_external_request_id() >= FIRST_EXTERNAL_REQUEST_ID);
    }

    #[test]
    fn a_produce_to_the_leader_is_answered_to_the_external_client_after_network_latency() {
        let mut simulation = settled();
        let client = simulation.open_external();
        let leader = simulation.metadata().partition(&TopicPartition::new("orders", 0)).and_then(|p| p.leader);
        let leader = leader.expect("orders/0 has a leader");
        let (request_id, message) = produce(&mut simulation, 0, b"v");
        simulation.submit(client, leader, message);
        assert!(simulation.take_external(client).is_empty(), "nothing arrives before the clock runs");
        simulation.advance(200);
        let answers = simulation.take_external(client);
        assert_eq!(
            answers,
            [(
                NodeId::Broker(leader),
                Message::ProduceResponse {
                    request_id,
                    partition: TopicPartition::new("orders", 0),
                    result: Ok(Offset(0))
                }
            )]
        );
        assert!(simulation.take_external(client).is_empty(), "taken once");
    }

    #[test]
    fn a_request_to_a_follower_gets_kafkas_not_leader_error() {
        let mut simulation = settled();
        let client = simulation.open_external();
        let partition = simulation.metadata().partition(&TopicPartition::new("orders", 0)).cloned();
        let partition = partition.expect("orders/0 exists");
        let follower = partition.replicas.iter().copied().find(|b| Some(*b) != partition.leader).expect("RF > 1");
        let (request_id, message) = produce(&mut simulation, 0, b"v");
        simulation.submit(client, follower, message);
        simulation.advance(200);
        let answers = simulation.take_external(client);
        assert!(matches!(
            answers.as_slice(),
            [(_, Message::ProduceResponse { request_id: id, result: Err(ErrorCode::NotLeaderOrFollower), .. })]
                if *id == request_id
        ));
    }

    #[test]
    fn answers_for_a_closed_client_are_dropped() {
        let mut simulation = settled();
        let client = simulation.open_external();
        let request_id = simulation.next_external_request_id();
        let find = Message::FindCoordinator { request_id, key: "g1".into(), key_type: CoordinatorType::Group };
        simulation.submit(client, BrokerId(1), find);
        simulation.close_external(client);
        simulation.advance(200);
        assert!(simulation.take_external(client).is_empty());
        assert_eq!(simulation.external_clients().count(), 0);
    }

    #[test]
    fn a_dead_broker_refuses_the_connection_and_the_driver_is_told() {
        let mut simulation = settled();
        let client = simulation.open_external();
        simulation.kill(BrokerId(2)).expect("broker 2 runs");
        let fetch_id = simulation.next_external_request_id();
        let fetch = Message::ConsumerFetch {
            fetch_id,
            partition: TopicPartition::new("orders", 1),
            fetch_offset: Offset(0),
            isolation: IsolationLevel::ReadUncommitted,
        };
        simulation.submit(client, BrokerId(2), fetch);
        simulation.advance(200);
        assert!(simulation.take_external(client).is_empty());
        assert_eq!(simulation.take_external_resets(client), [BrokerId(2)]);
        assert!(simulation.take_external_resets(client).is_empty(), "told once");
    }
}
