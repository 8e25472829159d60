//! The simulated cluster the brokers speak for: one [`Simulation`] behind a mutex, the
//! address each broker is reached at, and the clock task that advances the simulation by
//! wall-clock time.
//!
//! The core never reads a clock; here the wall clock is its input. Every tick advances the
//! simulation to the milliseconds elapsed since the start, so it neither drifts nor races
//! ahead when a tick comes late.
//!
//! Each client connection is an external client of the simulation: its requests go into the
//! simulated network ([`Cluster::submit`]) and, after every tick, what the brokers sent back
//! is handed to the connection's task over a channel ([`Delivery`]).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use kafkalab_core::config::{ConfigError, ControllerLayout};
use kafkalab_core::ids::ClientId;
use kafkalab_core::message::{Message, NodeId};
use kafkalab_core::simulation::CommandError;
use kafkalab_core::storage::{ClusterDisks, RecoveryError};
use kafkalab_core::view::ClusterView;
use kafkalab_core::{BrokerId, ClusterConfig, Command, Simulation};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio::time::{Instant, MissedTickBehavior};

/// How often the clock task advances the simulation.
pub const TICK_MS: u64 = 10;

/// Where clients reach one broker: what Metadata advertises for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub broker: BrokerId,
    pub host: String,
    pub port: u16,
}

/// What the simulation hands one connection's task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// A broker's answer to one of the connection's requests.
    Message { from: NodeId, message: Message },
    /// The simulated connection to this broker was reset: what was in flight is lost.
    Reset { broker: BrokerId },
}

/// The simulation and its brokers' addresses, shared by every connection.
#[derive(Debug)]
pub struct Cluster {
    simulation: Mutex<Simulation>,
    endpoints: Vec<Endpoint>,
    /// Where each open external client's deliveries go.
    routes: Mutex<BTreeMap<ClientId, UnboundedSender<Delivery>>>,
}

/// The lab's cluster for `broker_count` brokers: the core's default topics, replicated to at
/// most as many brokers as there are, and three controllers, each beside one of the first three
/// brokers as in the usual three-node setup, or, with fewer brokers, on nodes of their own.
pub fn config_for(broker_count: i32) -> ClusterConfig {
    let controller_layout = if broker_count >= 3 { ControllerLayout::Combined } else { ControllerLayout::Dedicated };
    let mut config = ClusterConfig { broker_count, controller_layout, ..ClusterConfig::default() };
    for topic in &mut config.topics {
        topic.replication_factor = topic.replication_factor.min(broker_count);
    }
    config
}

impl Cluster {
    /// A cluster of one broker per endpoint; endpoint `i` must be broker `i + 1`.
    pub fn new(endpoints: Vec<Endpoint>) -> Result<Cluster, ConfigError> {
        debug_assert!(endpoints.iter().enumerate().all(|(i, e)| usize::try_from(e.broker.0) == Ok(i + 1)));
        let broker_count = i32::try_from(endpoints.len()).map_err(|_| ConfigError::NoBrokers)?;
        let simulation = Simulation::new(config_for(broker_count))?;
        Ok(Cluster { simulation: Mutex::new(simulation), endpoints, routes: Mutex::new(BTreeMap::new()) })
    }

    /// A cluster of one broker per endpoint whose nodes start from `disks`, as after a crash
    /// of every node (see [`Simulation::from_disks`]).
    pub fn recovered(endpoints: Vec<Endpoint>, disks: &ClusterDisks) -> Result<Cluster, RecoveryError> {
        let broker_count = i32::try_from(endpoints.len()).map_err(|_| RecoveryError::Config(ConfigError::NoBrokers))?;
        let simulation = Simulation::from_disks(config_for(broker_count), disks)?;
        Ok(Cluster { simulation: Mutex::new(simulation), endpoints, routes: Mutex::new(BTreeMap::new()) })
    }

    pub fn endpoints(&self) -> &[Endpoint] {
        &self.endpoints
    }

    /// The whole state as it stands now.
    pub fn view(&self) -> ClusterView {
        self.lock().view()
    }

    /// Runs the simulation up to `elapsed_ms` since it started (never backwards), then hands
    /// every connection what arrived for it.
    pub fn advance_to(&self, elapsed_ms: u64) {
        let mut simulation = self.lock();
        let behind_ms = elapsed_ms.saturating_sub(simulation.now_ms());
        if behind_ms > 0 {
            simulation.advance(behind_ms);
        }
        let routes = self.routes.lock().unwrap_or_else(PoisonError::into_inner);
        for (client, route) in routes.iter() {
            for (from, message) in simulation.take_external(*client) {
                let _ = route.send(Delivery::Message { from, message });
            }
            for broker in simulation.take_external_resets(*client) {
                let _ = route.send(Delivery::Reset { broker });
            }
        }
    }

    /// A new external client for one connection, and where its deliveries arrive.
    pub fn open_external(&self) -> (ClientId, UnboundedReceiver<Delivery>) {
        let mut simulation = self.lock();
        let client = simulation.open_external();
        let (route, deliveries) = unbounded_channel();
        self.routes.lock().unwrap_or_else(PoisonError::into_inner).insert(client, route);
        (client, deliveries)
    }

    /// The connection is gone: the simulation drops whatever still arrives for it.
    pub fn close_external(&self, client: ClientId) {
        let mut simulation = self.lock();
        simulation.close_external(client);
        self.routes.lock().unwrap_or_else(PoisonError::into_inner).remove(&client);
    }

    /// Sends the message `build` makes from a fresh request id, from `client` to `broker` over
    /// the simulated network; returns the id, which the broker's answer carries back.
    pub fn submit(&self, client: ClientId, broker: BrokerId, build: impl FnOnce(u64) -> Message) -> u64 {
        let mut simulation = self.lock();
        let request_id = simulation.next_external_request_id();
        simulation.submit(client, broker, build(request_id));
        request_id
    }

    /// Carries out one console command (`kill 2`, `restart 2`, `shutdown 2`, ...) now.
    pub fn apply(&self, command: &Command) -> Result<(), CommandError> {
        self.lock().apply(command)
    }

    /// Reads the simulation as it stands.
    pub fn read<R>(&self, read: impl FnOnce(&Simulation) -> R) -> R {
        read(&self.lock())
    }

    fn lock(&self) -> MutexGuard<'_, Simulation> {
        // A poisoned lock means the clock task panicked on a violated invariant; `run` is
        // already stopping, and answering from the last state is better than a second panic.
        self.simulation.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Advances the simulation with the wall clock, forever (the server aborts it at shutdown).
pub async fn drive_clock(cluster: Arc<Cluster>) {
    let start = Instant::now();
    let mut ticks = tokio::time::interval(Duration::from_millis(TICK_MS));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let elapsed_ms = u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX);
        cluster.advance_to(elapsed_ms);
    }
}

/// Brokers `1..=count` on 127.0.0.1 at the default ports, for unit tests that need no sockets.
#[cfg(test)]
pub fn test_endpoints(count: i32) -> Vec<Endpoint> {
    (1..=count)
        .map(|id| Endpoint { broker: BrokerId(id), host: "127.0.0.1".to_string(), port: 9091 + id as u16 })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoints(count: i32) -> Vec<Endpoint> {
        test_endpoints(count)
    }

    #[test]
    fn fewer_brokers_than_replicas_shrink_the_replication_factor() {
        assert_eq!(config_for(1).topics[0].replication_factor, 1);
        assert_eq!(config_for(5).topics[0].replication_factor, 3);
        assert!(Cluster::new(endpoints(1)).is_ok());
        assert_eq!(config_for(1).controller_layout, ControllerLayout::Dedicated);
        assert_eq!(config_for(3).controller_layout, ControllerLayout::Combined);
    }

    #[test]
    fn advance_to_follows_elapsed_time_and_never_goes_back() {
        let cluster = Cluster::new(endpoints(3)).expect("valid config");
        cluster.advance_to(1_000);
        assert_eq!(cluster.view().now_ms, 1_000);
        cluster.advance_to(500);
        assert_eq!(cluster.view().now_ms, 1_000);
    }
}
