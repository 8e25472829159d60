//! Choosing a partition's leader, as the controller does: the pure rules, apart from the
//! controller's bookkeeping (Kafka's `PartitionChangeBuilder` and `Election` in the metadata
//! module).
//!
//! - A clean election picks the first replica in assignment order that is in the ISR and live
//!   (registered and not fenced).
//! - With `unclean.leader.election.enable`, when no in-sync replica is live, the first live
//!   replica outside the ISR may lead; the ISR becomes just that replica, and whatever the old
//!   ISR had committed beyond its log is lost.
//! - The preferred leader is the first replica in assignment order.

use alloc::vec;
use alloc::vec::Vec;

use crate::ids::BrokerId;
use crate::topology::PartitionState;

/// The outcome of an election.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Election {
    pub leader: Option<BrokerId>,
    pub isr: Vec<BrokerId>,
    /// The leader came from outside the ISR.
    pub unclean: bool,
}

/// Elects a leader among the live replicas, cleanly if any in-sync replica is live.
pub fn elect(state: &PartitionState, is_live: impl Fn(BrokerId) -> bool, unclean_allowed: bool) -> Election {
    let clean = state.replicas.iter().copied().find(|b| state.isr.contains(b) && is_live(*b));
    if let Some(leader) = clean {
        return Election { leader: Some(leader), isr: state.isr.clone(), unclean: false };
    }
    if unclean_allowed {
        if let Some(leader) = state.replicas.iter().copied().find(|b| is_live(*b)) {
            return Election { leader: Some(leader), isr: vec![leader], unclean: true };
        }
    }
    Election { leader: None, isr: state.isr.clone(), unclean: false }
}

/// The replica Kafka prefers as leader: the first assigned.
pub fn preferred_leader(state: &PartitionState) -> BrokerId {
    state.replicas[0]
}

/// Whether the preferred replica could take over now: it is live, in the ISR, and not
/// already leading.
pub fn preferred_is_electable(state: &PartitionState, is_live: impl Fn(BrokerId) -> bool) -> bool {
    let preferred = preferred_leader(state);
    state.leader != Some(preferred) && state.isr.contains(&preferred) && is_live(preferred)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::{LeaderEpoch, TopicPartition};

    fn state(replicas: &[i32], isr: &[i32], leader: Option<i32>) -> PartitionState {
        PartitionState {
            partition: TopicPartition::new("orders", 0),
            replicas: replicas.iter().map(|&b| BrokerId(b)).collect(),
            isr: isr.iter().map(|&b| BrokerId(b)).collect(),
            leader: leader.map(BrokerId),
            leader_epoch: LeaderEpoch(0),
            partition_epoch: 0,
        }
    }

    fn live(ids: &'static [i32]) -> impl Fn(BrokerId) -> bool {
        move |b| ids.contains(&b.0)
    }

    #[test]
    fn a_clean_election_takes_the_first_live_in_sync_replica_in_assignment_order() {
        let election = elect(&state(&[3, 1, 2], &[1, 2], None), live(&[1, 2, 3]), false);
        assert_eq!(
            election,
            Election { leader: Some(BrokerId(1)), isr: vec![BrokerId(1), BrokerId(2)], unclean: false }
        );
    }

    #[test]
    fn without_a_live_in_sync_replica_there_is_no_leader_unless_unclean_is_allowed() {
        let s = state(&[1, 2, 3], &[1], None);
        assert_eq!(elect(&s, live(&[2, 3]), false).leader, None);
        let unclean = elect(&s, live(&[2, 3]), true);
        assert_eq!(unclean, Election { leader: Some(BrokerId(2)), isr: vec![BrokerId(2)], unclean: true });
    }

    #[test]
    fn an_in_sync_replica_always_wins_over_an_unclean_one() {
        let election = elect(&state(&[1, 2, 3], &[3], None), live(&[2, 3]), true);
        assert_eq!((election.leader, election.unclean), (Some(BrokerId(3)), false));
    }

    #[test]
    fn the_preferred_leader_is_electable_only_when_live_in_sync_and_not_leading() {
        assert!(preferred_is_electable(&state(&[1, 2], &[1, 2], Some(2)), live(&[1, 2])));
        assert!(!preferred_is_electable(&state(&[1, 2], &[2], Some(2)), live(&[1, 2])));
        assert!(!preferred_is_electable(&state(&[1, 2], &[1, 2], Some(2)), live(&[2])));
        assert!(!preferred_is_electable(&state(&[1, 2], &[1, 2], Some(1)), live(&[1, 2])));
    }
}
