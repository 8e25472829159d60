//! Within one generation of a group, no partition has two owners. Kafka's classic group
//! protocol hands the group leader's assignment out at SyncGroup, one part per member, and the
//! assignors give every partition to one member (`ConsumerPartitionAssignor`); the cooperative
//! protocol (KIP-429) keeps the rule across a rebalance by having the old owner revoke a
//! partition in one generation before the assignor may give it to another in the next, so a
//! member that keeps its partitions through a rebalance never shares one with a newcomer.
//!
//! Checked from both sides:
//! - the members': among the live consumers of one group that believe they are `Stable` in the
//!   same generation, the assignments they act on are disjoint. A member of an older generation
//!   may still hold a partition another owns in a newer one (a zombie, fenced when it commits):
//!   that is Kafka's design, and not a violation. A consumer that closed or crashed acts on
//!   nothing and is left out;
//! - the coordinator's: the assignments it stored for the members of a `Stable` group are
//!   disjoint.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::assignor::consumer_protocol::decode_assignment;
use crate::broker::Broker;
use crate::consumer::{Consumer, MemberState};
use crate::group::protocol::GroupState;
use crate::ids::{BrokerId, TopicPartition};

use super::Violation;

/// Whose belief two owners of one partition came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OwnershipView {
    /// The consumers themselves, named by client name.
    Members,
    /// The coordinator on this broker, naming members by member id.
    Coordinator(BrokerId),
}

/// What one owner believes it owns: in which generation, which partitions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ownership<'a> {
    /// A client name (members' view) or a member id (coordinator's view).
    pub owner: &'a str,
    pub generation_id: i32,
    pub partitions: Vec<TopicPartition>,
}

/// The members' side: the consumers among `consumers` (live ones, with their client names)
/// that are in `group`, running, and `Stable`, must not share a partition with another of the
/// same generation.
pub fn check_members<'a>(
    group: &str,
    consumers: impl IntoIterator<Item = (&'a str, &'a Consumer)>,
) -> Result<(), Violation> {
    let stable = consumers
        .into_iter()
        .filter(|(_, consumer)| {
            consumer.config().group_id.as_ref() == group
                && consumer.state() == MemberState::Stable
                && !consumer.is_closed()
                && !consumer.is_crashed()
        })
        .map(|(name, consumer)| Ownership {
            owner: name,
            generation_id: consumer.generation_id(),
            partitions: consumer.assignment(),
        });
    disjoint_per_generation(group, stable, OwnershipView::Members)
}

/// The coordinator's side: every `Stable` group `broker` coordinates has disjoint stored
/// assignments. An assignment that does not decode is not the consumer protocol's (a group of
/// another protocol type stores its own format) and is skipped.
pub fn check_coordinator(broker: &Broker) -> Result<(), Violation> {
    for group in broker.group_coordinator().groups().filter(|g| g.state() == GroupState::Stable) {
        let stored = group.members().filter_map(|member| {
            let assignment = decode_assignment(&member.assignment).ok()?;
            let owner = member.member_id.as_ref();
            Some(Ownership { owner, generation_id: group.generation_id(), partitions: assignment.partitions })
        });
        disjoint_per_generation(group.id(), stored, OwnershipView::Coordinator(broker.id()))?;
    }
    Ok(())
}

/// No partition appears in two owners' lists of one generation.
pub fn disjoint_per_generation<'a>(
    group: &str,
    owners: impl IntoIterator<Item = Ownership<'a>>,
    view: OwnershipView,
) -> Result<(), Violation> {
    let mut seen: BTreeMap<(i32, TopicPartition), &str> = BTreeMap::new();
    for ownership in owners {
        for partition in ownership.partitions {
            let generation_id = ownership.generation_id;
            if let Some(other) = seen.insert((generation_id, partition.clone()), ownership.owner) {
                return Err(Violation::PartitionOwnedTwice {
                    group: group.to_string(),
                    generation_id,
                    partition,
                    owners: (String::from(other), String::from(ownership.owner)),
                    view,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::consumer::{ApplicationConfig, ConsumerConfig};
    use alloc::sync::Arc;
    use alloc::vec;

    fn owns<'a>(owner: &'a str, generation_id: i32, partitions: &[i32]) -> Ownership<'a> {
        let partitions = partitions.iter().map(|&p| TopicPartition::new("orders", p)).collect();
        Ownership { owner, generation_id, partitions }
    }

    #[test]
    fn two_members_of_one_generation_sharing_a_partition_is_a_violation_naming_both() {
        let owners = [owns("alice", 3, &[0, 1]), owns("bob", 3, &[1, 2])];
        let violation = disjoint_per_generation("billing", owners, OwnershipView::Members).unwrap_err();
        assert_eq!(
            violation,
            Violation::PartitionOwnedTwice {
                group: "billing".into(),
                generation_id: 3,
                partition: TopicPartition::new("orders", 1),
                owners: ("alice".into(), "bob".into()),
                view: OwnershipView::Members,
            }
        );
        let text = alloc::format!("{violation}");
        assert!(text.contains("generation 3") && text.contains("orders/1") && text.contains("alice and bob"), "{text}");
    }

    #[test]
    fn a_zombie_of_an_older_generation_may_still_hold_what_a_newer_member_owns() {
        let owners = [owns("alice", 3, &[0, 1]), owns("bob", 4, &[1, 2])];
        assert_eq!(disjoint_per_generation("billing", owners, OwnershipView::Members), Ok(()));
    }

    #[test]
    fn disjoint_assignments_in_one_generation_are_fine() {
        let owners = [owns("alice", 3, &[0]), owns("bob", 3, &[1, 2]), owns("carol", 3, &[])];
        assert_eq!(disjoint_per_generation("billing", owners, OwnershipView::Coordinator(BrokerId(1))), Ok(()));
    }

    #[test]
    fn consumers_that_have_not_joined_are_not_owners() {
        let consumer = || {
            Consumer::new(ConsumerConfig::for_group("billing"), ApplicationConfig::default(), vec![Arc::from("orders")])
        };
        let (a, b) = (consumer(), consumer());
        assert_eq!(check_members("billing", [("a", &a), ("b", &b)]), Ok(()));
    }
}
