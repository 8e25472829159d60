//! The simulated network's faults: latency, message loss and splits, as a plain options struct
//! (the fault model) plus the rule that decides each message's fate.
//!
//! Loss is decided when a message is sent, from the run's seeded generator; a split is checked
//! when a message arrives, so a message in flight when the network splits is lost and healing
//! does not bring it back. A split names groups of nodes: a link between two nodes in different
//! groups is cut; a node no group names keeps all its links. The nodes here are machines: the
//! simulator names a combined broker and controller by its broker (see `Simulation::host`).

use alloc::collections::BTreeSet;
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

use crate::message::NodeId;
use crate::rng::Rng;

/// What can go wrong on the network, and how often.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultModel {
    /// One-way latency of every message, drawn uniformly from this range (inclusive).
    pub latency_min_ms: u64,
    pub latency_max_ms: u64,
    /// Each message is lost with probability `loss_percent / 100`.
    pub loss_percent: u8,
    /// The groups the network is split into; empty when whole.
    pub split: Vec<BTreeSet<NodeId>>,
}

/// What happens to one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fate {
    /// It arrives after this many milliseconds (unless a split cuts the link by then).
    Delayed { latency_ms: u64 },
    /// The network drops it.
    Lost,
}

impl FaultModel {
    pub fn new(latency_min_ms: u64, latency_max_ms: u64) -> Self {
        assert!(latency_min_ms <= latency_max_ms, "latency range {latency_min_ms}..={latency_max_ms} is empty");
        FaultModel { latency_min_ms, latency_max_ms, loss_percent: 0, split: Vec::new() }
    }

    /// Decides a message's fate when it is sent. Always draws both the latency and the loss
    /// roll, so that changing the loss rate does not shift every later random choice of the run.
    pub fn on_send(&self, rng: &mut Rng) -> Fate {
        let latency_ms = rng.between(self.latency_min_ms, self.latency_max_ms);
        let roll = rng.between(0, 99);
        if roll < u64::from(self.loss_percent) {
            Fate::Lost
        } else {
            Fate::Delayed { latency_ms }
        }
    }

    /// Whether a message can go from `from` to `to` right now.
    pub fn connected(&self, from: NodeId, to: NodeId) -> bool {
        let group_of = |node: NodeId| self.split.iter().position(|group| group.contains(&node));
        match (group_of(from), group_of(to)) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }

    pub fn is_split(&self) -> bool {
        !self.split.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{BrokerId, ControllerId};

    fn broker(id: i32) -> NodeId {
        NodeId::Broker(BrokerId(id))
    }

    fn split(groups: &[&[i32]]) -> FaultModel {
        let mut model = FaultModel::new(1, 5);
        model.split = groups.iter().map(|g| g.iter().map(|&id| broker(id)).collect()).collect();
        model
    }

    #[test]
    fn a_split_cuts_links_between_groups_only() {
        let model = split(&[&[1], &[2, 3]]);
        assert!(!model.connected(broker(1), broker(2)));
        assert!(!model.connected(broker(3), broker(1)));
        assert!(model.connected(broker(2), broker(3)));
        // Nodes no group names keep their links.
        assert!(model.connected(broker(1), NodeId::Controller(ControllerId(1))));
        assert!(model.connected(NodeId::Client(crate::ids::ClientId::CONSOLE), broker(2)));
    }

    #[test]
    fn loss_drops_about_the_share_asked_for() {
        let mut model = FaultModel::new(1, 5);
        model.loss_percent = 25;
        let mut rng = Rng::new(3);
        let lost = (0..10_000).filter(|_| model.on_send(&mut rng) == Fate::Lost).count();
        assert!((2_200..2_800).contains(&lost), "{lost} of 10000 lost");
        model.loss_percent = 0;
        assert!((0..1000).all(|_| model.on_send(&mut rng) != Fate::Lost));
    }

    #[test]
    fn latency_stays_in_its_range() {
        let model = FaultModel::new(3, 7);
        let mut rng = Rng::new(9);
        for _ in 0..1000 {
            match model.on_send(&mut rng) {
                Fate::Delayed { latency_ms } => assert!((3..=7).contains(&latency_ms)),
                Fate::Lost => panic!("no loss configured"),
            }
        }
    }
}
