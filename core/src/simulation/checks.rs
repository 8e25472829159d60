//! The invariants after each event: only the node the event reached has changed, so only its
//! rules are checked (a broker's partitions only when they may have changed, its metadata log
//! always; a controller's Raft; a client's group).

use alloc::vec::Vec;

use super::{ClientKind, Simulation};
use crate::broker::Broker;
use crate::ids::TopicPartition;
use crate::invariants;
use crate::message::NodeId;

impl Simulation {
    /// Only a node's own events change its state: check that node (a broker's partitions only
    /// when they may have changed).
    pub(super) fn check_invariants(
        &mut self,
        node: NodeId,
        scope: Option<&TopicPartition>,
        partitions_changed: bool,
    ) -> Result<(), invariants::Violation> {
        match node {
            NodeId::Broker(id) => {
                let Some(changed) = self.node_index(id) else { return Ok(()) };
                if partitions_changed {
                    let brokers: Vec<&Broker> = self.brokers.iter().map(|n| &n.broker).collect();
                    let unclean_allowed = self.metadata().config.unclean_leader_election_enable;
                    self.invariants.check(&brokers, changed, scope, unclean_allowed)?;
                    // Groups change with group requests and timers, metadata (a coordinator
                    // moving) and the offsets partitions' appends and high watermarks.
                    if scope.is_none_or(|p| p.topic.as_ref() == crate::placement::CONSUMER_OFFSETS_TOPIC) {
                        self.invariants.check_groups(&self.brokers[changed].broker)?;
                    }
                }
                self.invariants.check_metadata_observer(self.brokers[changed].broker.metadata_log())
            }
            NodeId::Controller(id) => {
                let Some(index) = self.controller_index(id) else { return Ok(()) };
                self.invariants.check_controller(id, self.controllers[index].controller.raft())
            }
            NodeId::Client(id) => {
                let client = (id.0 as usize).checked_sub(1).and_then(|index| self.clients.get(index));
                let Some(ClientKind::Consumer(consumer)) = client.map(|c| &c.kind) else {
                    return Ok(()); // the console client or a producer: no group
                };
                let consumers = self.clients.iter().filter(|c| c.alive).filter_map(|c| match &c.kind {
                    ClientKind::Consumer(consumer) => Some((c.name.0.as_str(), consumer)),
                    ClientKind::Producer(_) => None,
                });
                self.invariants.check_group_members(&consumer.config().group_id, consumers)
            }
        }
    }
}
