//! Kafka's `CooperativeStickyAssignor` (protocol name `cooperative-sticky`, KIP-429): the
//! sticky assignment, adjusted for the cooperative rebalance protocol.
//!
//! Under the cooperative protocol members keep consuming their partitions through a rebalance,
//! so a partition must never be handed to a new member while its old owner may still read it.
//! The assignor therefore gives every partition that changes owner to nobody this round: the
//! old owner sees it missing from its new assignment, revokes it (committing its offsets) and
//! rejoins, and in that follow-up rebalance nobody owns it any more, so the sticky assignment
//! hands it to its new member.
//!
//! [`assign`] does this adjustment itself, and reports what it withheld, each partition with
//! the member that will get it. Which partitions change owner is tracked by the constrained
//! algorithm as it runs and computed afterwards by the general one, as in Kafka. A partition
//! that several members of the newest generation claimed is withheld too: every claimant must
//! give it up first.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use super::sticky::{self, OwnershipSource};
use super::{AssignmentOutcome, MemberSubscription};

/// The cooperative-sticky assignment of the partitions of `topics` members subscribe to: the sticky
/// one without the partitions that change owner, which come back in `withheld`.
pub fn assign(members: &[MemberSubscription], topics: &BTreeMap<Arc<str>, i32>) -> AssignmentOutcome {
    let sticky::StickyOutcome { mut assignment, transferring_ownership } =
        sticky::assign(members, topics, OwnershipSource::Cooperative);
    for (partition, new_owner) in &transferring_ownership {
        let partitions = assignment.get_mut(new_owner).expect("the new owner is a member");
        partitions.retain(|assigned| assigned != partition);
    }
    AssignmentOutcome { assignment, withheld: transferring_ownership }
}
