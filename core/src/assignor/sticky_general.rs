//! The sticky assignment when members subscribe to different topics: Kafka's
//! `GeneralAssignmentBuilder`, in a simpler form with the same guarantees.
//!
//! 1. Each member keeps the owned partitions its claims kept (see [`sticky`](super::sticky)),
//!    except those of topics it no longer subscribes to.
//! 2. Every other partition, topics with the fewest potential members first (then by name),
//!    goes to the subscribed member with the fewest partitions (then the lowest member id):
//!    Kafka's order and choice.
//! 3. Then single partitions move from a member to one with at least two fewer that subscribes
//!    to the partition's topic, until no such move is left. That is Kafka's definition of a
//!    balanced assignment (`isBalanced`): no member could take a partition from one with two
//!    more. The most loaded member gives first, its most recently added partition first, to
//!    the least loaded taker.
//!
//! Kafka's step 3 searches differently (it prefers handing a partition back to its owner of an
//! older generation, and undoes a reassignment that does not lower its balance score), so the
//! partitions chosen to move, and with them the result, can differ from Kafka's; both are
//! balanced in Kafka's sense, and owned partitions move only when a member has two more than
//! some member that could take them. Each move lowers the
//! sum of squared counts, so the loop ends.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{empty_assignment, GroupAssignment, MemberSubscription};
use crate::ids::TopicPartition;

/// Assigns the partitions of `topics` to `members` (whose subscriptions differ), keeping the
/// `owned` partitions balance allows.
pub(super) fn assign(
    members: &[MemberSubscription],
    topics: &BTreeMap<Arc<str>, i32>,
    owned: &BTreeMap<Arc<str>, Vec<TopicPartition>>,
) -> GroupAssignment {
    let subscribers: BTreeMap<&Arc<str>, Vec<&MemberSubscription>> = topics
        .keys()
        .map(|topic| (topic, members.iter().filter(|member| member.subscribes_to(topic)).collect()))
        .collect();

    let mut assignment = empty_assignment(members);
    for member in members {
        let kept = owned[&member.member_id].iter().filter(|partition| member.subscribes_to(&partition.topic));
        assignment.get_mut(&member.member_id).expect("every member has an entry").extend(kept.cloned());
    }

    let mut sorted_topics: Vec<&Arc<str>> = topics.keys().collect();
    sorted_topics.sort_by_key(|topic| (subscribers[topic].len(), *topic));
    let assigned: alloc::collections::BTreeSet<TopicPartition> = assignment.values().flatten().cloned().collect();
    for topic in sorted_topics {
        for index in 0..topics[topic] {
            let partition = TopicPartition::new(topic.clone(), index);
            if assigned.contains(&partition) {
                continue;
            }
            let taker = least_loaded(&assignment, &subscribers[topic], None).expect("a topic here has a subscriber");
            assignment.get_mut(taker).expect("every member has an entry").push(partition);
        }
    }

    while let Some((giver, position, taker)) = find_move(&assignment, &subscribers) {
        let partition = assignment.get_mut(&giver).expect("giver has an entry").remove(position);
        assignment.get_mut(&taker).expect("taker has an entry").push(partition);
    }
    assignment
}

/// The member of `candidates` (other than `except`) with the fewest partitions, then the
/// lowest member id.
fn least_loaded<'a>(
    assignment: &GroupAssignment,
    candidates: &[&'a MemberSubscription],
    except: Option<&Arc<str>>,
) -> Option<&'a Arc<str>> {
    candidates
        .iter()
        .map(|member| &member.member_id)
        .filter(|member| Some(*member) != except)
        .min_by_key(|member| (assignment[*member].len(), *member))
}

/// A partition to move (giver, index in its list, taker) that makes the assignment more
/// balanced, or `None` when it is balanced.
fn find_move(
    assignment: &GroupAssignment,
    subscribers: &BTreeMap<&Arc<str>, Vec<&MemberSubscription>>,
) -> Option<(Arc<str>, usize, Arc<str>)> {
    let mut givers: Vec<(&Arc<str>, &Vec<TopicPartition>)> = assignment.iter().collect();
    givers.sort_by(|(a, a_partitions), (b, b_partitions)| b_partitions.len().cmp(&a_partitions.len()).then(a.cmp(b)));
    for (giver, partitions) in givers {
        for (position, partition) in partitions.iter().enumerate().rev() {
            let Some(taker) = least_loaded(assignment, &subscribers[&partition.topic], Some(giver)) else {
                continue;
            };
            if assignment[taker].len() + 1 < partitions.len() {
                return Some((giver.clone(), position, taker.clone()));
            }
        }
    }
    None
}
