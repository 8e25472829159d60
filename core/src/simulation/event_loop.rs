//! The event loop: [`Simulation::advance`] and [`Simulation::step`] take the next event off the
//! queue (a message arriving, a timer firing, a client hearing its connection reset), hand it
//! to its node, schedule what the node sends or sets in return (through the network's faults
//! and latency), and check the invariants after every event.

use alloc::vec::Vec;

use super::*;

#[derive(Clone, Debug)]
pub(super) enum Event {
    /// A message arrives; between a client and a broker, `connection` is the epoch of the
    /// connection it was sent on.
    Deliver {
        from: NodeId,
        to: NodeId,
        message: Message,
        connection: u32,
        /// Its id in the traffic record (0 when traffic is not recorded).
        traffic: u64,
    },
    Timer {
        node: NodeId,
        incarnation: u32,
        timer: Timer,
    },
    /// The client learns that its connection to the broker was reset.
    ConnectionReset {
        client: ClientId,
        broker: BrokerId,
    },
}

impl Simulation {
    /// Runs every event due within the next `ms` milliseconds, then sets the clock to the end.
    pub fn advance(&mut self, ms: u64) {
        let until = self.now_ms + ms;
        while self.queue.next_at_ms().is_some_and(|at_ms| at_ms <= until) {
            self.step();
        }
        self.now_ms = until;
    }

    /// The time of the next event, if any.
    pub fn next_event_ms(&self) -> Option<u64> {
        self.queue.next_at_ms()
    }

    /// Runs the next event; false when there is none.
    pub fn step(&mut self) -> bool {
        let Some((at_ms, event)) = self.queue.pop() else {
            return false;
        };
        debug_assert!(at_ms >= self.now_ms, "time never runs backwards");
        self.now_ms = at_ms;
        self.events_processed += 1;
        // The metadata log's traffic changes a broker's partitions only when it commits
        // something: otherwise only the log itself needs checking.
        let metadata_only = matches!(
            &event,
            Event::Deliver { message: Message::Raft(_), .. } | Event::Timer { timer: Timer::RaftTick, .. }
        );
        let applied_before = self.applied_metadata(&event);
        let (node, scope) = match event {
            Event::Deliver { from, to, message, connection, traffic } => {
                let scope = message.partition().cloned();
                let fate = self.deliver(from, to, message, connection);
                self.traffic_arrived(traffic, fate);
                (to, scope)
            }
            Event::ConnectionReset { client, broker } => {
                self.connections.reopen((client, broker));
                self.disconnected(client, broker);
                (NodeId::Client(client), None)
            }
            Event::Timer { node, incarnation, timer } => {
                let scope = timer.partition().cloned();
                self.fire(node, incarnation, timer);
                (node, scope)
            }
        };
        let partitions_changed = !metadata_only || self.applied_metadata_of(node) != applied_before;
        if let Err(violation) = self.check_invariants(node, scope.as_ref(), partitions_changed) {
            panic!("{}", invariants::describe(&violation, self.config.seed));
        }
        true
    }

    pub(super) fn applied_metadata(&self, event: &Event) -> Option<Offset> {
        match event {
            Event::Deliver { to, .. } => self.applied_metadata_of(*to),
            Event::Timer { node, .. } => self.applied_metadata_of(*node),
            Event::ConnectionReset { client, .. } => self.applied_metadata_of(NodeId::Client(*client)),
        }
    }

    pub(super) fn applied_metadata_of(&self, node: NodeId) -> Option<Offset> {
        let NodeId::Broker(id) = node else { return None };
        self.broker(id).map(|broker| broker.applied_metadata_offset())
    }

    /// Hands a message that arrives to its receiver, unless it is dropped on the way in; what
    /// became of it.
    pub(super) fn deliver(&mut self, from: NodeId, to: NodeId, message: Message, connection: u32) -> TrafficFate {
        let link = connections::link_of(from, to);
        if !self.faults.connected(self.host(from), self.host(to)) {
            let what = message.name().into();
            self.record(TraceEvent::Dropped { from, to, what, reason: DropReason::Split });
            if let Some(link) = link {
                self.connection_lost(link);
            }
            return TrafficFate::Dropped(DropReason::Split);
        }
        if link.is_some_and(|link| !self.connections.is_open(link, connection)) {
            let what = message.name().into();
            self.record(TraceEvent::Dropped { from, to, what, reason: DropReason::ConnectionReset });
            return TrafficFate::Dropped(DropReason::ConnectionReset);
        }
        let alive = match to {
            NodeId::Broker(id) => self.node_index(id).map(|i| self.brokers[i].alive),
            NodeId::Controller(id) => self.controller_index(id).map(|i| self.controllers[i].alive),
            NodeId::Client(id) if external::Externals::is_external(id) => Some(self.externals.is_open(id)),
            NodeId::Client(id) => Some(self.is_client_alive(id)),
        };
        match alive {
            None => return TrafficFate::Dropped(DropReason::NodeDown),
            Some(false) => {
                let what = message.name().into();
                self.record(TraceEvent::Dropped { from, to, what, reason: DropReason::NodeDown });
                if let (NodeId::Client(client), NodeId::Broker(broker)) = (from, to) {
                    // A crashed broker refuses the client's connection: it hears at once.
                    self.disconnected(client, broker);
                }
                return TrafficFate::Dropped(DropReason::NodeDown);
            }
            Some(true) => {}
        }
        match to {
            NodeId::Controller(id) => {
                let index = self.controller_index(id).expect("checked above");
                self.controllers[index].controller.handle_message(self.now_ms, from, message);
                self.collect_controller_outputs(index);
            }
            NodeId::Broker(id) => {
                let index = self.node_index(id).expect("checked above");
                self.brokers[index].broker.handle_message(self.now_ms, from, message);
                self.collect_broker_outputs(index);
            }
            NodeId::Client(ClientId::CONSOLE) => self.client_receive(message),
            NodeId::Client(id) if external::Externals::is_external(id) => self.external_receive(id, from, message),
            NodeId::Client(id) => self.named_client_receive(id, from, message),
        }
        TrafficFate::Delivered
    }

    /// A client's connection to `broker` was refused or reset: the client hears of it.
    pub(super) fn disconnected(&mut self, client: ClientId, broker: BrokerId) {
        if external::Externals::is_external(client) {
            self.external_disconnected(client, broker);
        } else {
            self.client_disconnected(client, broker);
        }
    }

    pub(super) fn fire(&mut self, node: NodeId, incarnation: u32, timer: Timer) {
        match node {
            NodeId::Controller(id) => {
                let Some(index) = self.controller_index(id) else { return };
                let node = &self.controllers[index];
                if !node.alive || node.incarnation != incarnation {
                    return; // set before a crash: that process is gone
                }
                self.controllers[index].controller.handle_timer(self.now_ms, timer);
                self.collect_controller_outputs(index);
            }
            NodeId::Broker(id) => {
                let Some(index) = self.node_index(id) else { return };
                let node = &self.brokers[index];
                if !node.alive || node.incarnation != incarnation {
                    return;
                }
                self.brokers[index].broker.handle_timer(self.now_ms, timer);
                self.collect_broker_outputs(index);
            }
            NodeId::Client(ClientId::CONSOLE) => self.client_timer(timer),
            NodeId::Client(id) => self.named_client_timer(id, incarnation, timer),
        }
    }

    pub(super) fn collect_broker_outputs(&mut self, index: usize) {
        let node = NodeId::Broker(self.brokers[index].broker.id());
        let incarnation = self.brokers[index].incarnation;
        let outputs = self.brokers[index].broker.take_outputs();
        self.schedule_outputs(node, incarnation, outputs);
    }

    pub(super) fn collect_controller_outputs(&mut self, index: usize) {
        let controller = &self.controllers[index].controller;
        if controller.applied_offset() > self.latest_metadata.0 {
            self.latest_metadata = (controller.applied_offset(), controller.image().clone());
        }
        let node = NodeId::Controller(self.controllers[index].controller.id());
        let incarnation = self.controllers[index].incarnation;
        let outputs = self.controllers[index].controller.take_outputs();
        self.schedule_outputs(node, incarnation, outputs);
    }

    pub(super) fn schedule_outputs(&mut self, node: NodeId, incarnation: u32, outputs: Vec<Output>) {
        for output in outputs {
            match output {
                Output::Send { to, message } => self.schedule_send(node, to, message),
                Output::SetTimer { after_ms, timer } => {
                    self.schedule(self.now_ms + after_ms, Event::Timer { node, incarnation, timer })
                }
                Output::Trace(event) => self.record(event),
                Output::MetadataCommitted { offset, events } => {
                    // Every controller reports every committed entry: the first report tells.
                    if offset >= self.metadata_traced_until {
                        self.metadata_traced_until = offset.next();
                        events.into_iter().for_each(|event| self.record(event));
                    }
                }
                Output::Stop => self.stop(node),
            }
        }
    }

    pub(super) fn schedule_send(&mut self, from: NodeId, to: NodeId, message: Message) {
        let link = connections::link_of(from, to);
        match self.faults.on_send(&mut self.rng) {
            Fate::Delayed { latency_ms } => match link {
                None => {
                    let due_ms = self.now_ms + latency_ms;
                    let traffic = self.traffic_sent(from, to, &message, due_ms, TrafficFate::InFlight);
                    self.schedule(due_ms, Event::Deliver { from, to, message, connection: 0, traffic })
                }
                Some(link) => match self.connections.send(link, self.now_ms, latency_ms) {
                    Some((due_ms, connection)) => {
                        let traffic = self.traffic_sent(from, to, &message, due_ms, TrafficFate::InFlight);
                        self.schedule(due_ms, Event::Deliver { from, to, message, connection, traffic })
                    }
                    None => {
                        let fate = TrafficFate::Dropped(DropReason::ConnectionReset);
                        self.traffic_sent(from, to, &message, self.now_ms + latency_ms, fate);
                        let what = message.name().into();
                        self.record(TraceEvent::Dropped { from, to, what, reason: DropReason::ConnectionReset });
                    }
                },
            },
            Fate::Lost => {
                // The latency it drew is not kept: it would have arrived about halfway through.
                let would_arrive_ms = self.now_ms + (self.faults.latency_min_ms + self.faults.latency_max_ms) / 2;
                self.traffic_sent(from, to, &message, would_arrive_ms, TrafficFate::Dropped(DropReason::Lost));
                let what = message.name().into();
                self.record(TraceEvent::Dropped { from, to, what, reason: DropReason::Lost });
                if let Some(link) = link {
                    self.connection_lost(link);
                }
            }
        }
    }

    /// A message between a client and a broker was lost: their connection breaks, and the
    /// client hears of it once the current event is done (see [`connections`]).
    pub(super) fn connection_lost(&mut self, (client, broker): (ClientId, BrokerId)) {
        if self.connections.break_link((client, broker)) {
            self.schedule(self.now_ms, Event::ConnectionReset { client, broker });
        }
    }

    pub(super) fn schedule(&mut self, at_ms: u64, event: Event) {
        self.queue.push(at_ms, event);
    }

    pub(super) fn record(&mut self, event: TraceEvent) {
        self.trace.push(TraceLine { at_ms: self.now_ms, event });
    }
}
