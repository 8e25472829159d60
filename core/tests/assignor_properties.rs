//! Properties every assignor must have, over random groups: random topics and partition
//! counts, members with random subscriptions (equal or not), static ids, and previous ownership
//! with random generations, including stale and conflicting claims.
//!
//! - range, round-robin and sticky assign every partition of a subscribed topic to exactly one
//!   member that subscribes to it, and nothing else;
//! - the result does not depend on the order the members are listed in;
//! - sticky is balanced in Kafka's sense, and with equal subscriptions counts differ by at most
//!   one;
//! - cooperative-sticky never hands a member a partition it does not claim while another member
//!   owns it in the newest generation claiming it, withholds exactly what sticky moves, and
//!   completes the moves in the following rebalances.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use kafkalab_core::assignor::consumer_protocol::Subscription;
use kafkalab_core::assignor::{assign, assign_with_details, AssignorName, GroupAssignment, MemberSubscription};
use kafkalab_core::TopicPartition;
use proptest::prelude::*;

const TOPICS: [&str; 4] = ["t0", "t1", "t2", "t3"];

#[derive(Clone, Debug)]
struct Group {
    members: Vec<MemberSubscription>,
    topics: BTreeMap<Arc<str>, i32>,
}

impl Group {
    /// Partitions some member subscribes to, with the members that subscribe.
    fn assignable(&self) -> BTreeMap<TopicPartition, BTreeSet<Arc<str>>> {
        let mut assignable = BTreeMap::new();
        for (topic, count) in &self.topics {
            let subscribers: BTreeSet<Arc<str>> = self
                .members
                .iter()
                .filter(|member| member.subscribes_to(topic))
                .map(|member| member.member_id.clone())
                .collect();
            if !subscribers.is_empty() {
                for index in 0..*count {
                    assignable.insert(TopicPartition::new(topic.clone(), index), subscribers.clone());
                }
            }
        }
        assignable
    }

    fn subscriptions_equal(&self) -> bool {
        let topic_set = |member: &MemberSubscription| -> BTreeSet<Arc<str>> {
            member.subscription.topics.iter().cloned().collect()
        };
        self.members.windows(2).all(|pair| topic_set(&pair[0]) == topic_set(&pair[1]))
    }

    /// The next rebalance: every member owns what it was assigned, in `generation`.
    fn next_round(&self, assignment: &GroupAssignment, generation: i32) -> Group {
        let mut next = self.clone();
        for member in &mut next.members {
            member.subscription.owned_partitions = assignment[&member.member_id].clone();
            member.subscription.generation_id = generation;
        }
        next
    }
}

/// `equal`: every member subscribes to the same topics. `consistent`: previous ownership is
/// one earlier assignment (each partition at most one owner, one generation for all).
fn group_strategy(equal: bool, consistent: bool) -> impl Strategy<Value = Group> {
    let topics = proptest::collection::vec(0..7i32, TOPICS.len());
    let ids = proptest::collection::btree_set("[a-z]{1,5}", 1..7);
    (topics, ids).prop_flat_map(move |(counts, ids)| {
        let member_count = ids.len();
        let partition_count: usize = counts.iter().map(|count| *count as usize).sum();
        let subscription_masks = proptest::collection::vec(0u8..32, member_count);
        let instances = proptest::collection::vec(proptest::option::of(0u8..4), member_count);
        let generations = proptest::collection::vec(-1i32..4, member_count);
        let claims = proptest::collection::vec(
            proptest::collection::vec(0..member_count, 0..=if consistent { 1 } else { 2 }),
            partition_count,
        );
        (Just(counts), Just(ids), subscription_masks, instances, generations, claims).prop_map(
            move |(counts, ids, masks, instances, generations, claims)| {
                build_group(&counts, &ids, &masks, &instances, &generations, &claims, equal, consistent)
            },
        )
    })
}

#[allow(clippy::too_many_arguments)]
fn build_group(
    counts: &[i32],
    ids: &BTreeSet<String>,
    masks: &[u8],
    instances: &[Option<u8>],
    generations: &[i32],
    claims: &[Vec<usize>],
    equal: bool,
    consistent: bool,
) -> Group {
    let topics: BTreeMap<Arc<str>, i32> =
        TOPICS.iter().zip(counts).map(|(topic, count)| (Arc::from(*topic), *count)).collect();
    let partitions: Vec<TopicPartition> = topics
        .iter()
        .flat_map(|(topic, count)| (0..*count).map(|index| TopicPartition::new(topic.clone(), index)))
        .collect();
    let mut members: Vec<MemberSubscription> = ids
        .iter()
        .enumerate()
        .map(|(position, id)| {
            let mask = if equal { masks[0] } else { masks[position] };
            // Bit 4 subscribes to a topic the metadata does not know.
            let mut subscribed: Vec<Arc<str>> = TOPICS
                .iter()
                .enumerate()
                .filter(|(bit, _)| mask & (1 << bit) != 0)
                .map(|(_, topic)| Arc::from(*topic))
                .collect();
            if mask & 16 != 0 {
                subscribed.push("missing".into());
            }
            MemberSubscription {
                member_id: id.as_str().into(),
                group_instance_id: instances[position].map(|instance| format!("instance-{instance}").into()),
                subscription: Subscription {
                    generation_id: if consistent { 1 } else { generations[position] },
                    ..Subscription::new(subscribed)
                },
            }
        })
        .collect();
    for (partition, owners) in partitions.iter().zip(claims) {
        for owner in owners {
            members[*owner].subscription.owned_partitions.push(partition.clone());
        }
    }
    Group { members, topics }
}

fn shuffled(group: Group) -> impl Strategy<Value = (Group, Vec<MemberSubscription>)> {
    let members = group.members.clone();
    (Just(group), Just(members).prop_shuffle())
}

/// Kafka's `isBalanced`: no member could take a partition of its topics from a member with
/// at least two more partitions.
fn assert_balanced(group: &Group, assignment: &GroupAssignment) -> Result<(), TestCaseError> {
    let owner: BTreeMap<&TopicPartition, &Arc<str>> = assignment
        .iter()
        .flat_map(|(member, partitions)| partitions.iter().map(move |partition| (partition, member)))
        .collect();
    for (partition, subscribers) in group.assignable() {
        let holder = owner[&partition];
        for taker in &subscribers {
            prop_assert!(
                assignment[taker].len() + 1 >= assignment[holder].len(),
                "{} could take {} from {}: {:?}",
                taker,
                partition,
                holder,
                assignment
            );
        }
    }
    if group.subscriptions_equal() {
        let counts: Vec<usize> = assignment.values().map(Vec::len).collect();
        prop_assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1, "counts {:?}", counts);
    }
    Ok(())
}

/// Every assignable partition exactly once, to a subscriber; nothing else; every member listed.
fn assert_complete(group: &Group, assignment: &GroupAssignment) -> Result<(), TestCaseError> {
    let member_ids: BTreeSet<&Arc<str>> = group.members.iter().map(|member| &member.member_id).collect();
    prop_assert_eq!(assignment.keys().collect::<BTreeSet<_>>(), member_ids);
    let mut seen = BTreeMap::new();
    for (member, partitions) in assignment {
        for partition in partitions {
            prop_assert!(seen.insert(partition.clone(), member.clone()).is_none(), "{} assigned twice", partition);
        }
    }
    let assignable = group.assignable();
    prop_assert_eq!(seen.keys().collect::<BTreeSet<_>>(), assignable.keys().collect::<BTreeSet<_>>());
    for (partition, member) in &seen {
        prop_assert!(assignable[partition].contains(member), "{} got {} without subscribing", member, partition);
    }
    Ok(())
}

fn as_sets(assignment: &GroupAssignment) -> BTreeMap<Arc<str>, BTreeSet<TopicPartition>> {
    assignment.iter().map(|(member, partitions)| (member.clone(), partitions.iter().cloned().collect())).collect()
}

/// The members claiming `partition` in the newest generation that claims it.
fn newest_claimants(group: &Group, partition: &TopicPartition) -> BTreeSet<Arc<str>> {
    let claims: Vec<&MemberSubscription> =
        group.members.iter().filter(|member| member.subscription.owned_partitions.contains(partition)).collect();
    let newest = claims.iter().map(|member| member.subscription.generation_id).max();
    claims
        .iter()
        .filter(|member| Some(member.subscription.generation_id) == newest)
        .map(|member| member.member_id.clone())
        .collect()
}

fn any_group() -> impl Strategy<Value = Group> {
    prop_oneof![
        group_strategy(true, true),
        group_strategy(false, true),
        group_strategy(true, false),
        group_strategy(false, false)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(192))]

    #[test]
    fn eager_assignors_assign_every_subscribed_partition_exactly_once(group in any_group()) {
        for assignor in [AssignorName::Range, AssignorName::RoundRobin, AssignorName::Sticky] {
            assert_complete(&group, &assign(assignor, &group.members, &group.topics))?;
        }
    }

    #[test]
    fn the_order_members_are_listed_in_does_not_matter((group, reordered) in any_group().prop_flat_map(shuffled)) {
        for assignor in AssignorName::ALL {
            prop_assert_eq!(
                assign_with_details(assignor, &group.members, &group.topics),
                assign_with_details(assignor, &reordered, &group.topics),
                "{}", assignor.name()
            );
        }
    }

    #[test]
    fn sticky_assignments_are_balanced(group in any_group()) {
        assert_balanced(&group, &assign(AssignorName::Sticky, &group.members, &group.topics))?;
    }

    #[test]
    fn sticky_keeps_a_consistent_previous_assignment_that_is_already_balanced(group in any_group()) {
        let first = assign(AssignorName::Sticky, &group.members, &group.topics);
        let again = assign(AssignorName::Sticky, &group.next_round(&first, 2).members, &group.topics);
        prop_assert_eq!(as_sets(&first), as_sets(&again));
    }

    #[test]
    fn cooperative_withholds_exactly_what_sticky_moves_and_never_double_assigns(group in any_group()) {
        let sticky = assign(AssignorName::Sticky, &group.members, &group.topics);
        let outcome = assign_with_details(AssignorName::CooperativeSticky, &group.members, &group.topics);
        for (member, partitions) in &outcome.assignment {
            let mut restored = partitions.clone();
            restored.extend(outcome.withheld.iter().filter(|(_, to)| *to == member).map(|(partition, _)| partition.clone()));
            restored.sort();
            let mut expected = sticky[member].clone();
            expected.sort();
            prop_assert_eq!(restored, expected, "{}", member);
            // A member that itself claims the partition (if in an older generation) may get it
            // back: Kafka's general algorithm does not withhold those either.
            let member_claims = |partition: &TopicPartition| {
                group.members.iter().any(|m| &m.member_id == member && m.subscription.owned_partitions.contains(partition))
            };
            for partition in partitions.iter().filter(|partition| !member_claims(partition)) {
                let claimants = newest_claimants(&group, partition);
                prop_assert!(claimants.is_empty(), "{} got {} while {:?} own it", member, partition, claimants);
            }
        }
    }

    #[test]
    fn cooperative_completes_the_moves_in_the_following_rebalances(group in any_group()) {
        let mut round = group.clone();
        let mut outcome = assign_with_details(AssignorName::CooperativeSticky, &round.members, &round.topics);
        let rounds_needed = if group.subscriptions_equal() { 2 } else { 4 };
        for generation in 2..=rounds_needed {
            if outcome.withheld.is_empty() {
                break;
            }
            round = round.next_round(&outcome.assignment, generation);
            outcome = assign_with_details(AssignorName::CooperativeSticky, &round.members, &round.topics);
        }
        prop_assert!(outcome.withheld.is_empty(), "still withheld after {} rounds: {:?}", rounds_needed, outcome.withheld);
        assert_complete(&group, &outcome.assignment)?;
        assert_balanced(&group, &outcome.assignment)?;
    }
}
