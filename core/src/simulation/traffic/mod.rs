//! The traffic record: every message the simulated network carried in the last few seconds,
//! who sent it to whom, when it left, when it arrived (or would have), and what became of it.
//! The page draws it as records and requests travelling between brokers and as a sequence
//! diagram of the requests between clients and brokers.
//!
//! It is opt-in ([`Simulation::record_traffic`]) and off by default, so the random sweeps pay
//! one branch per message for it. Recording only watches: it draws nothing from the run's
//! random generator and schedules nothing, so a run with it is the same run, event for event,
//! as one without it. It is part of the simulation's state, so a clone (the page's timeline
//! checkpoints) carries it along and a replay from a checkpoint records the same messages.
//!
//! A message's record is written when it is sent: its arrival time is then known (the network
//! draws the latency at send time), and so is its fate when the network loses it or its
//! connection is already broken. The other fates are learnt on arrival: delivered, or dropped
//! because the receiver is down, a split cuts the link or its connection was reset meanwhile.
//! Until then its fate is [`TrafficFate::InFlight`].

mod describe;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt;

use super::clients::ClientNode;
use super::external::{Externals, FIRST_EXTERNAL_CLIENT};
use super::Simulation;
use crate::ids::{BrokerId, ClientId, ControllerId};
use crate::message::{Message, NodeId};
use crate::trace::DropReason;

/// One end of a message, as the page names it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    /// The console's client: the `produce`, `consume` and admin commands'.
    Console,
    /// A named producer or consumer (`producer p1 ...`).
    Client(Arc<str>),
    /// A client outside the simulation (a real connection to the native server), numbered
    /// from 0 in the order they connected.
    External(u32),
    Broker(BrokerId),
    Controller(ControllerId),
}

impl Endpoint {
    /// Whether it is a client of any kind (not a broker or a controller).
    pub fn is_client(&self) -> bool {
        matches!(self, Endpoint::Console | Endpoint::Client(_) | Endpoint::External(_))
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Console => write!(f, "console"),
            Endpoint::Client(name) => write!(f, "{name}"),
            Endpoint::External(n) => write!(f, "external {n}"),
            Endpoint::Broker(id) => write!(f, "broker {id}"),
            Endpoint::Controller(id) => write!(f, "controller c{id}"),
        }
    }
}

/// What became of a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrafficFate {
    /// Still travelling: its fate is decided when it arrives.
    InFlight,
    /// The receiver handled it.
    Delivered,
    /// It never reached the receiver, and why.
    Dropped(DropReason),
}

/// One message the network carried.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Traffic {
    /// Numbers the messages sent while recording, from 1, in the order they were sent.
    pub id: u64,
    pub from: Endpoint,
    pub to: Endpoint,
    /// The request's or response's name (`Produce`, `FetchResponse`, `Vote`, `JoinGroup`...),
    /// as [`Message::name`] gives it.
    pub kind: &'static str,
    /// A few words on what it carries: the partition, offsets, `acks`, an error.
    pub summary: String,
    /// Background chatter, which says nothing new: the metadata log's fetches, broker
    /// heartbeats, and replica fetches that neither bring records nor confirm any.
    pub background: bool,
    pub sent_ms: u64,
    /// When it arrives, or would have arrived (for a message the network lost, the middle of
    /// the latency range: the latency it drew is not kept).
    pub arrive_ms: u64,
    pub fate: TrafficFate,
}

impl Traffic {
    /// Whether it is travelling at `now_ms`: sent and not yet arrived. A message the network
    /// loses travels too (its fate already says it will not arrive), as one lost in flight.
    pub fn in_flight_at(&self, now_ms: u64) -> bool {
        self.sent_ms <= now_ms && now_ms < self.arrive_ms
    }

    /// How much of its flight is behind it at `now_ms`, from 0 (just sent) to 1 (arrived).
    pub fn progress_at(&self, now_ms: u64) -> f64 {
        let flight = self.arrive_ms.saturating_sub(self.sent_ms);
        if flight == 0 {
            return 1.0;
        }
        (now_ms.saturating_sub(self.sent_ms) as f64 / flight as f64).min(1.0)
    }
}

/// The record itself: the messages sent in the last `keep_ms`, oldest first.
///
/// A `Vec` rather than a ring, so [`Simulation::traffic`] can lend a slice: messages are
/// appended in the order they are sent, so by `sent_ms`, and the expired head is cut off once
/// it is as long as the rest (each message is moved at most once on average).
#[derive(Clone, Debug)]
pub(super) struct TrafficLog {
    keep_ms: u64,
    entries: Vec<Traffic>,
    /// The id the next message gets; ids are contiguous, so a message is found by its id.
    next_id: u64,
    /// Named clients' names by address (an address is never reused, so this never goes stale).
    names: BTreeMap<ClientId, Arc<str>>,
    fetched: describe::FetchPositions,
}

impl TrafficLog {
    fn new(keep_ms: u64) -> Self {
        TrafficLog { keep_ms, entries: Vec::new(), next_id: 1, names: BTreeMap::new(), fetched: BTreeMap::new() }
    }

    /// Index of the first message still in the window at `now_ms`.
    fn first_kept(&self, now_ms: u64) -> usize {
        self.entries.partition_point(|t| t.sent_ms.saturating_add(self.keep_ms) < now_ms)
    }

    /// The messages sent within the last `keep_ms` of `now_ms`.
    fn window(&self, now_ms: u64) -> &[Traffic] {
        &self.entries[self.first_kept(now_ms)..]
    }

    /// Writes down a message sent at `now_ms`; its id.
    fn sent(
        &mut self,
        now_ms: u64,
        (from, to): (NodeId, NodeId),
        message: &Message,
        arrive_ms: u64,
        fate: TrafficFate,
        clients: &[ClientNode],
    ) -> u64 {
        let expired = self.first_kept(now_ms);
        if expired > 0 && expired * 2 >= self.entries.len() {
            self.entries.drain(..expired);
        }
        debug_assert!(self.entries.last().is_none_or(|last| last.sent_ms <= now_ms), "sent in time order");
        let (summary, background) = describe::describe(message, &mut self.fetched);
        let id = self.next_id;
        self.next_id += 1;
        let traffic = Traffic {
            id,
            from: self.endpoint(from, clients),
            to: self.endpoint(to, clients),
            kind: message.name(),
            summary,
            background,
            sent_ms: now_ms,
            arrive_ms,
            fate,
        };
        self.entries.push(traffic);
        id
    }

    /// The message `id` arrived (or was dropped on arrival).
    fn arrived(&mut self, id: u64, fate: TrafficFate) {
        let Some(first) = self.entries.first().map(|t| t.id) else { return };
        // Sent before recording began, or cut off already: nothing to update.
        let Some(index) = id.checked_sub(first).and_then(|i| usize::try_from(i).ok()) else { return };
        if let Some(traffic) = self.entries.get_mut(index) {
            debug_assert_eq!(traffic.id, id, "ids are contiguous");
            debug_assert_eq!(traffic.fate, TrafficFate::InFlight, "a message arrives once");
            traffic.fate = fate;
        }
    }

    fn endpoint(&mut self, node: NodeId, clients: &[ClientNode]) -> Endpoint {
        match node {
            NodeId::Broker(id) => Endpoint::Broker(id),
            NodeId::Controller(id) => Endpoint::Controller(id),
            NodeId::Client(ClientId::CONSOLE) => Endpoint::Console,
            NodeId::Client(id) if Externals::is_external(id) => Endpoint::External(id.0 - FIRST_EXTERNAL_CLIENT.0),
            NodeId::Client(id) => {
                if let Some(name) = self.names.get(&id) {
                    return Endpoint::Client(name.clone());
                }
                match clients.iter().find(|client| client.id == id) {
                    Some(client) => {
                        let name: Arc<str> = Arc::from(client.name.0.as_str());
                        self.names.insert(id, name.clone());
                        Endpoint::Client(name)
                    }
                    None => Endpoint::Client(Arc::from(format!("client {id}").as_str())),
                }
            }
        }
    }
}

impl Simulation {
    /// Starts recording the messages the network carries, keeping those sent in the last
    /// `keep_ms` of simulated time (a running record keeps what it has and takes the new
    /// window); 0 stops recording and forgets it. Recording never changes the run.
    pub fn record_traffic(&mut self, keep_ms: u64) {
        match (&mut self.traffic, keep_ms) {
            (_, 0) => self.traffic = None,
            (Some(log), _) => log.keep_ms = keep_ms,
            (None, _) => self.traffic = Some(alloc::boxed::Box::new(TrafficLog::new(keep_ms))),
        }
    }

    /// The messages sent in the recorded window up to now, oldest first; empty when traffic is
    /// not recorded.
    pub fn traffic(&self) -> &[Traffic] {
        self.traffic.as_deref().map_or(&[], |log| log.window(self.now_ms))
    }

    /// Records a message being sent now; its id for [`Self::traffic_arrived`] (0 when traffic
    /// is not recorded).
    pub(super) fn traffic_sent(
        &mut self,
        from: NodeId,
        to: NodeId,
        message: &Message,
        arrive_ms: u64,
        fate: TrafficFate,
    ) -> u64 {
        match self.traffic.as_deref_mut() {
            None => 0,
            Some(log) => log.sent(self.now_ms, (from, to), message, arrive_ms, fate, &self.clients),
        }
    }

    /// Records what became of message `id` when it arrived.
    pub(super) fn traffic_arrived(&mut self, id: u64, fate: TrafficFate) {
        if let Some(log) = self.traffic.as_deref_mut() {
            log.arrived(id, fate);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClusterConfig;
    use crate::ids::TopicPartition;
    use crate::Command;

    fn run(simulation: &mut Simulation, line: &str) {
        let command = Command::parse(line).expect("a valid command");
        simulation.apply(&command).expect("the command runs");
    }

    /// A three-broker cluster, settled, recording `keep_ms` of traffic.
    fn recording(keep_ms: u64) -> Simulation {
        let mut simulation = Simulation::new(ClusterConfig::default()).expect("the default config is valid");
        simulation.record_traffic(keep_ms);
        simulation.advance(3_000);
        simulation
    }

    fn leader(simulation: &Simulation, partition: i32) -> BrokerId {
        let partition = TopicPartition::new("orders", partition);
        simulation.metadata().partition(&partition).and_then(|p| p.leader).expect("orders has a leader")
    }

    fn one<'a>(traffic: &'a [Traffic], kind: &str, from: &Endpoint) -> &'a Traffic {
        let found: Vec<&Traffic> = traffic.iter().filter(|t| t.kind == kind && &t.from == from).collect();
        assert_eq!(found.len(), 1, "one {kind} from {from} in {traffic:#?}");
        found[0]
    }

    /// A run with every kind of fault, and a producer and consumer group as clients.
    const SCRIPT: &[&str] = &[
        "producer p acks=all linger.ms=0",
        "consumer c group=g topics=orders",
        "produce orders key=alice value=1 acks=all",
        "produce orders key=bob value=2 producer=p",
        "advance 300ms",
        "kill 2",
        "produce orders value=3 acks=all",
        "loss 20%",
        "advance 2s",
        "split 1 | 3",
        "produce orders value=4 producer=p",
        "advance 2s",
        "heal",
        "loss 0%",
        "restart 2",
        "advance 5s",
    ];

    fn scripted(record_ms: Option<u64>) -> Simulation {
        let mut simulation = Simulation::new(ClusterConfig::default()).expect("the default config is valid");
        if let Some(keep_ms) = record_ms {
            simulation.record_traffic(keep_ms);
        }
        simulation.advance(3_000);
        for line in SCRIPT {
            run(&mut simulation, line);
        }
        simulation
    }

    #[test]
    fn recording_traffic_does_not_change_the_run() {
        let plain = scripted(None);
        let recorded = scripted(Some(5_000));
        assert!(plain.traffic().is_empty(), "off by default");
        assert!(!recorded.traffic().is_empty());
        assert_eq!(recorded.trace(), plain.trace(), "the same events, in the same order");
        assert_eq!(recorded.events_processed(), plain.events_processed());
        assert_eq!(recorded.view(), plain.view());
        assert_eq!(recorded.processed(), plain.processed());
    }

    #[test]
    fn an_acks_all_produce_goes_to_the_leader_and_its_answer_comes_back_after_replication() {
        let mut simulation = recording(5_000);
        let leader = leader(&simulation, 0);
        let sent_ms = simulation.now_ms();
        run(&mut simulation, "produce orders partition=0 value=v acks=all");
        simulation.advance(1_000);
        let traffic = simulation.traffic();
        let produce = one(traffic, "Produce", &Endpoint::Console);
        assert_eq!((produce.to.clone(), produce.sent_ms), (Endpoint::Broker(leader), sent_ms));
        assert_eq!(produce.summary, "orders/0 1 record acks=all");
        assert_eq!(produce.fate, TrafficFate::Delivered);
        assert!(!produce.background);
        let response = one(traffic, "ProduceResponse", &Endpoint::Broker(leader));
        assert_eq!(response.to, Endpoint::Console);
        assert_eq!(response.summary, "orders/0 offset 0");
        // acks=all: the answer waits for the followers to fetch the record and confirm it.
        let replicated: Vec<&Traffic> = traffic
            .iter()
            .filter(|t| t.kind == "FetchResponse" && t.from == Endpoint::Broker(leader) && !t.background)
            .filter(|t| t.summary.starts_with("orders/0 1 record"))
            .collect();
        assert_eq!(replicated.len(), 2, "both followers get the record");
        assert!(replicated.iter().all(|t| t.sent_ms >= produce.arrive_ms && t.sent_ms <= response.sent_ms));
        assert!(
            traffic.iter().any(|t| t.kind == "Fetch" && !t.background && t.sent_ms <= response.sent_ms),
            "a follower's fetch past the record confirms it"
        );
        assert!(produce.arrive_ms > produce.sent_ms && response.arrive_ms > response.sent_ms);
    }

    #[test]
    fn a_message_to_a_killed_broker_is_dropped_because_the_node_is_down() {
        let mut simulation = recording(5_000);
        let leader = leader(&simulation, 0);
        run(&mut simulation, &alloc::format!("kill {}", leader.0));
        let killed_ms = simulation.now_ms();
        simulation.advance(500);
        let to_dead: Vec<&Traffic> = simulation
            .traffic()
            .iter()
            .filter(|t| t.to == Endpoint::Broker(leader) && t.sent_ms >= killed_ms)
            .collect();
        assert!(!to_dead.is_empty(), "the others keep talking to it for a while");
        assert!(to_dead.iter().all(|t| t.fate == TrafficFate::Dropped(DropReason::NodeDown)), "{to_dead:#?}");
    }

    #[test]
    fn a_split_drops_what_crosses_it_and_loss_drops_messages_as_they_are_sent() {
        let mut simulation = recording(5_000);
        run(&mut simulation, "split 1 | 2 3");
        simulation.advance(500);
        let cut = |t: &&Traffic| t.from == Endpoint::Broker(BrokerId(1)) && t.to == Endpoint::Broker(BrokerId(2));
        let crossing: Vec<&Traffic> = simulation.traffic().iter().filter(cut).filter(|t| t.arrive_ms > 3_000).collect();
        assert!(!crossing.is_empty());
        assert!(crossing.iter().all(|t| t.fate == TrafficFate::Dropped(DropReason::Split)));
        run(&mut simulation, "heal");
        run(&mut simulation, "loss 100%");
        let lost_from_ms = simulation.now_ms();
        simulation.advance(300);
        let after: Vec<&Traffic> = simulation.traffic().iter().filter(|t| t.sent_ms > lost_from_ms).collect();
        assert!(!after.is_empty());
        assert!(after.iter().all(|t| t.fate == TrafficFate::Dropped(DropReason::Lost)));
    }

    #[test]
    fn a_message_in_flight_is_marked_so_until_it_arrives() {
        let mut simulation = recording(5_000);
        run(&mut simulation, "produce orders partition=1 value=v acks=1");
        let produce = one(simulation.traffic(), "Produce", &Endpoint::Console).clone();
        assert_eq!(produce.fate, TrafficFate::InFlight);
        assert!(produce.in_flight_at(simulation.now_ms()));
        assert_eq!(produce.progress_at(produce.sent_ms), 0.0);
        assert_eq!(produce.progress_at(produce.arrive_ms), 1.0);
        simulation.advance(produce.arrive_ms - simulation.now_ms());
        let produce = one(simulation.traffic(), "Produce", &Endpoint::Console);
        assert_eq!(produce.fate, TrafficFate::Delivered);
        assert!(!produce.in_flight_at(simulation.now_ms()));
    }

    #[test]
    fn only_the_last_keep_ms_of_traffic_is_kept() {
        let mut simulation = recording(1_000);
        simulation.advance(4_000);
        let now = simulation.now_ms();
        let traffic = simulation.traffic();
        assert!(traffic.first().is_some_and(|t| t.sent_ms + 1_000 >= now && t.sent_ms < now - 500), "{now}");
        assert!(traffic.windows(2).all(|w| w[0].sent_ms <= w[1].sent_ms && w[0].id + 1 == w[1].id));
        let log = simulation.traffic.as_deref().expect("recording");
        assert!(log.entries.len() <= 2 * traffic.len() + 1, "the expired head is cut off as it grows");
    }

    #[test]
    fn a_clone_carries_the_record_and_goes_on_as_the_original_does() {
        let mut original = recording(5_000);
        run(&mut original, "produce orders value=v acks=all");
        let mut copy = original.clone();
        assert_eq!(copy.traffic(), original.traffic());
        original.advance(700);
        copy.advance(700);
        assert_eq!(copy.traffic(), original.traffic());
        assert!(copy.traffic().iter().any(|t| t.kind == "ProduceResponse"));
    }

    #[test]
    fn recording_can_start_late_and_zero_stops_it() {
        let mut simulation = Simulation::new(ClusterConfig::default()).expect("the default config is valid");
        simulation.advance(1_000);
        assert!(simulation.traffic().is_empty());
        simulation.record_traffic(2_000);
        // Messages sent before recording arrive without a record to update.
        simulation.advance(1_000);
        assert!(simulation.traffic().iter().all(|t| t.sent_ms >= 1_000));
        assert!(simulation.traffic().iter().any(|t| t.fate == TrafficFate::Delivered));
        simulation.record_traffic(0);
        assert!(simulation.traffic().is_empty());
    }

    #[test]
    fn named_clients_and_controllers_are_named_for_display() {
        let mut simulation = recording(5_000);
        run(&mut simulation, "producer p1 acks=1 linger.ms=0");
        run(&mut simulation, "produce orders value=v producer=p1");
        simulation.advance(500);
        let traffic = simulation.traffic();
        let produce = traffic.iter().find(|t| t.kind == "Produce").expect("p1 produced");
        assert_eq!(produce.from, Endpoint::Client(Arc::from("p1")));
        assert_eq!(alloc::format!("{}", produce.from), "p1");
        assert!(produce.from.is_client() && !produce.to.is_client());
        let heartbeat = traffic.iter().find(|t| t.kind == "BrokerHeartbeat").expect("brokers heartbeat");
        assert!(heartbeat.background);
        assert!(matches!(heartbeat.to, Endpoint::Controller(_)));
        assert_eq!(alloc::format!("{}", Endpoint::Controller(ControllerId(2))), "controller c2");
        assert_eq!(alloc::format!("{}", Endpoint::Broker(BrokerId(3))), "broker 3");
    }
}
