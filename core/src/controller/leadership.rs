//! Who leads: fencing and the elections it triggers, leaderless partitions regaining a
//! leader, controlled shutdown, preferred leader election and the automatic rebalance.

use alloc::vec::Vec;

use crate::election::{elect, preferred_is_electable, preferred_leader};
use crate::ids::{BrokerId, TopicPartition};
use crate::metadata::{ElectionKind, MetadataRecord};
use crate::topology::PartitionState;
use crate::trace::FenceReason;

use super::{elected, Controller};

impl Controller {
    /// Fences a broker: out of every ISR (never emptying one), and each partition it led gets
    /// a new leader from the ISR, or, with unclean election allowed, from outside it.
    pub(super) fn fence(&mut self, broker: BrokerId, reason: FenceReason) {
        let mut records = alloc::vec![MetadataRecord::FenceBroker { broker, reason }];
        let mut image = self.speculative.clone();
        image.apply(&records[0]);
        let unclean_allowed = image.config.unclean_leader_election_enable;
        for state in image.partitions.values() {
            if !state.isr.contains(&broker) && state.leader != Some(broker) {
                continue;
            }
            let isr = without(&state.isr, broker);
            if state.leader == Some(broker) {
                let election = elect(&PartitionState { isr, ..state.clone() }, |b| image.is_live(b), unclean_allowed);
                let kind = if election.unclean { ElectionKind::Unclean } else { ElectionKind::Clean };
                records.push(elected(state, election.leader, election.isr, kind));
            } else {
                let state = PartitionState { isr, partition_epoch: state.partition_epoch + 1, ..state.clone() };
                records.push(MetadataRecord::PartitionChange { state, election: None });
            }
        }
        self.write(records);
    }

    /// Partitions left without a leader get one from their live replicas: cleanly from the ISR,
    /// or, if `unclean.leader.election.enable` allows, from outside it. Run when a broker comes
    /// back (only its partitions, `replicas_of`) and when unclean election is switched on (all).
    pub(super) fn elect_leaderless(&mut self, replicas_of: Option<BrokerId>) {
        let unclean_allowed = self.speculative.config.unclean_leader_election_enable;
        let records: Vec<MetadataRecord> = self
            .speculative
            .partitions
            .values()
            .filter(|state| state.leader.is_none() && replicas_of.is_none_or(|b| state.replicas.contains(&b)))
            .filter_map(|state| {
                let election = elect(state, |b| self.speculative.is_live(b), unclean_allowed);
                let kind = if election.unclean { ElectionKind::Unclean } else { ElectionKind::Clean };
                election.leader.map(|leader| elected(state, Some(leader), election.isr, kind))
            })
            .collect();
        self.write(records);
    }

    /// Controlled shutdown: each partition the broker leads moves to another in-sync replica
    /// (one with no other stays, and goes offline with it), the broker leaves every ISR it is
    /// not alone in, and it is fenced, so its stop costs no unclean election.
    pub(super) fn shut_down(&mut self, broker: BrokerId) {
        let mut records = Vec::new();
        for state in self.speculative.partitions.values() {
            if !state.isr.contains(&broker) && state.leader != Some(broker) {
                continue;
            }
            let isr = without(&state.isr, broker);
            let successor = (state.leader == Some(broker))
                .then(|| {
                    state
                        .replicas
                        .iter()
                        .copied()
                        .find(|b| *b != broker && isr.contains(b) && self.speculative.is_live(*b))
                })
                .flatten();
            if let Some(leader) = successor {
                records.push(elected(state, Some(leader), isr, ElectionKind::ControlledShutdown));
            } else if isr != state.isr {
                let state = PartitionState { isr, partition_epoch: state.partition_epoch + 1, ..state.clone() };
                records.push(MetadataRecord::PartitionChange { state, election: None });
            }
        }
        records.push(MetadataRecord::FenceBroker { broker, reason: FenceReason::ControlledShutdown });
        self.write(records);
    }

    /// Moves leadership back to the preferred replica of the given partitions (all when none
    /// are named) wherever it is live and in sync. Returns how many moved.
    pub(super) fn elect_preferred(&mut self, partitions: Option<&[TopicPartition]>) -> usize {
        let records: Vec<MetadataRecord> = self
            .speculative
            .partitions
            .values()
            .filter(|state| partitions.is_none_or(|wanted| wanted.contains(&state.partition)))
            .filter(|state| preferred_is_electable(state, |b| self.speculative.is_live(b)))
            .map(|state| elected(state, Some(preferred_leader(state)), state.isr.clone(), ElectionKind::Preferred))
            .collect();
        let moved = records.len();
        self.write(records);
        moved
    }

    /// `auto.leader.rebalance.enable`: a broker that leads fewer than it should of the
    /// partitions it prefers, by more than `leader.imbalance.per.broker.percentage`, gets them
    /// back (Kafka's `checkAndTriggerAutoLeaderRebalance`).
    pub(super) fn rebalance_leaders(&mut self) {
        let threshold = self.config.leader_imbalance_per_broker_percentage as usize;
        let mut to_move = Vec::new();
        for &broker in self.speculative.brokers.keys() {
            let preferred: Vec<&PartitionState> =
                self.speculative.partitions.values().filter(|s| preferred_leader(s) == broker).collect();
            let not_leading = preferred.iter().filter(|s| s.leader != Some(broker)).count();
            if preferred.is_empty() || not_leading * 100 <= threshold * preferred.len() {
                continue;
            }
            to_move.extend(preferred.iter().map(|s| s.partition.clone()));
        }
        if !to_move.is_empty() {
            self.elect_preferred(Some(&to_move));
        }
    }
}

fn without(isr: &[BrokerId], broker: BrokerId) -> Vec<BrokerId> {
    if isr.len() > 1 {
        isr.iter().copied().filter(|&b| b != broker).collect()
    } else {
        isr.to_vec()
    }
}
