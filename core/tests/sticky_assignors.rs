//! The sticky and cooperative-sticky assignors on hand-computed rebalances: a first assignment,
//! a member joining, a member leaving, conflicting ownership claims, unequal subscriptions, and
//! the cooperative protocol's two rounds.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafkalab_core::assignor::consumer_protocol::Subscription;
use kafkalab_core::assignor::{assign, assign_with_details, AssignorName, GroupAssignment, MemberSubscription};
use kafkalab_core::TopicPartition;

/// `id` subscribed to `topics`, owning `owned` (written `t/0 t/3`) since `generation`.
fn member(id: &str, topics: &[&str], owned: &str, generation: i32) -> MemberSubscription {
    let owned_partitions = owned
        .split_whitespace()
        .map(|name| {
            let (topic, index) = name.split_once('/').unwrap();
            TopicPartition::new(topic, index.parse().unwrap())
        })
        .collect();
    MemberSubscription {
        member_id: id.into(),
        group_instance_id: None,
        subscription: Subscription {
            owned_partitions,
            generation_id: generation,
            ..Subscription::new(topics.iter().map(|topic| Arc::from(*topic)))
        },
    }
}

fn topics(counts: &[(&str, i32)]) -> BTreeMap<Arc<str>, i32> {
    counts.iter().map(|(topic, count)| (Arc::from(*topic), *count)).collect()
}

/// `member: t/0 t/3` lines, in member id order, partitions in assignment order.
fn rendered(assignment: &GroupAssignment) -> Vec<String> {
    assignment
        .iter()
        .map(|(member, partitions)| {
            let names: Vec<String> = partitions.iter().map(ToString::to_string).collect();
            format!("{member}: {}", names.join(" "))
        })
        .collect()
}

/// The next generation's subscriptions: each member owns what it was just assigned.
fn next_round(
    members: &[MemberSubscription],
    assignment: &GroupAssignment,
    generation: i32,
) -> Vec<MemberSubscription> {
    members
        .iter()
        .map(|member| {
            let mut next = member.clone();
            next.subscription.owned_partitions = assignment[&member.member_id].clone();
            next.subscription.generation_id = generation;
            next
        })
        .collect()
}

#[test]
fn a_first_sticky_assignment_deals_round_robin_with_the_extra_partition_first() {
    let members = [member("a", &["t"], "", -1), member("b", &["t"], "", -1), member("c", &["t"], "", -1)];
    let assignment = assign(AssignorName::Sticky, &members, &topics(&[("t", 7)]));
    assert_eq!(rendered(&assignment), ["a: t/0 t/3 t/6", "b: t/1 t/4", "c: t/2 t/5"]);
}

#[test]
fn a_joining_member_takes_only_what_balance_requires() {
    let members = [
        member("a", &["t"], "t/0 t/3 t/6", 1),
        member("b", &["t"], "t/1 t/4", 1),
        member("c", &["t"], "t/2 t/5", 1),
        member("d", &["t"], "", -1),
    ];
    let assignment = assign(AssignorName::Sticky, &members, &topics(&[("t", 7)]));
    assert_eq!(rendered(&assignment), ["a: t/0 t/3", "b: t/1 t/4", "c: t/2 t/5", "d: t/6"]);
}

#[test]
fn a_leaving_member_moves_only_its_own_partitions() {
    let members =
        [member("a", &["t"], "t/0 t/3", 2), member("b", &["t"], "t/1 t/4", 2), member("c", &["t"], "t/2 t/5", 2)];
    let assignment = assign(AssignorName::Sticky, &members, &topics(&[("t", 7)]));
    assert_eq!(rendered(&assignment), ["a: t/0 t/3 t/6", "b: t/1 t/4", "c: t/2 t/5"]);
}

#[test]
fn the_newest_generation_wins_a_conflicting_claim() {
    // b is a zombie of generation 4 that still claims t/1, which a got in generation 5.
    let members = [member("a", &["t"], "t/1", 5), member("b", &["t"], "t/1", 4)];
    let assignment = assign(AssignorName::Sticky, &members, &topics(&[("t", 2)]));
    assert_eq!(rendered(&assignment), ["a: t/1", "b: t/0"]);
    let members = [member("a", &["t"], "t/1", 4), member("b", &["t"], "t/1", 5)];
    let assignment = assign(AssignorName::Sticky, &members, &topics(&[("t", 2)]));
    assert_eq!(rendered(&assignment), ["a: t/0", "b: t/1"]);
}

#[test]
fn a_partition_claimed_twice_in_one_generation_is_kept_by_neither_and_withheld() {
    let members = [member("a", &["t"], "t/0", 3), member("b", &["t"], "t/0", 3)];
    let sticky = assign(AssignorName::Sticky, &members, &topics(&[("t", 2)]));
    assert_eq!(rendered(&sticky), ["a: t/0", "b: t/1"]);
    let cooperative = assign_with_details(AssignorName::CooperativeSticky, &members, &topics(&[("t", 2)]));
    assert_eq!(rendered(&cooperative.assignment), ["a: ", "b: t/1"]);
    assert_eq!(cooperative.withheld.into_iter().collect::<Vec<_>>(), [(TopicPartition::new("t", 0), "a".into())]);
}

#[test]
fn claims_on_partitions_that_do_not_exist_are_ignored() {
    let members = [member("a", &["t"], "t/0 t/1 t/9 u/0", 1), member("b", &["t"], "", 1)];
    let assignment = assign(AssignorName::Sticky, &members, &topics(&[("t", 2)]));
    assert_eq!(rendered(&assignment), ["a: t/0", "b: t/1"]);
}

#[test]
fn cooperative_withholds_a_moving_partition_until_its_owner_revokes_it() {
    let partitions = topics(&[("t", 7)]);
    let members = [
        member("a", &["t"], "t/0 t/3 t/6", 1),
        member("b", &["t"], "t/1 t/4", 1),
        member("c", &["t"], "t/2 t/5", 1),
        member("d", &["t"], "", -1),
    ];
    let first = assign_with_details(AssignorName::CooperativeSticky, &members, &partitions);
    assert_eq!(rendered(&first.assignment), ["a: t/0 t/3", "b: t/1 t/4", "c: t/2 t/5", "d: "]);
    assert_eq!(first.withheld.into_iter().collect::<Vec<_>>(), [(TopicPartition::new("t", 6), "d".into())]);

    // a revoked t/6 and rejoined; now nobody owns it and d gets it.
    let second =
        assign_with_details(AssignorName::CooperativeSticky, &next_round(&members, &first.assignment, 2), &partitions);
    assert_eq!(rendered(&second.assignment), ["a: t/0 t/3", "b: t/1 t/4", "c: t/2 t/5", "d: t/6"]);
    assert!(second.withheld.is_empty());
}

#[test]
fn cooperative_hands_out_unowned_partitions_at_once() {
    // The leaver's partitions have no owner left in the group: nothing to wait for.
    let members = [member("a", &["t"], "t/0 t/3", 2), member("b", &["t"], "t/1 t/4", 2)];
    let outcome = assign_with_details(AssignorName::CooperativeSticky, &members, &topics(&[("t", 6)]));
    assert_eq!(rendered(&outcome.assignment), ["a: t/0 t/3 t/2", "b: t/1 t/4 t/5"]);
    assert!(outcome.withheld.is_empty());
}

#[test]
fn unequal_subscriptions_start_with_the_topics_fewest_members_can_take() {
    let members = [member("a", &["t0", "t1"], "", -1), member("b", &["t1"], "", -1)];
    let assignment = assign(AssignorName::Sticky, &members, &topics(&[("t0", 2), ("t1", 2)]));
    assert_eq!(rendered(&assignment), ["a: t0/0 t0/1", "b: t1/0 t1/1"]);
}

#[test]
fn unequal_subscriptions_move_one_partition_to_a_joining_member() {
    let members = [
        member("a", &["t0", "t1"], "t0/0 t0/1", 1),
        member("b", &["t1"], "t1/0 t1/1", 1),
        member("c", &["t1"], "", -1),
    ];
    let partitions = topics(&[("t0", 2), ("t1", 2)]);
    let sticky = assign(AssignorName::Sticky, &members, &partitions);
    assert_eq!(rendered(&sticky), ["a: t0/0 t0/1", "b: t1/0", "c: t1/1"]);

    let first = assign_with_details(AssignorName::CooperativeSticky, &members, &partitions);
    assert_eq!(rendered(&first.assignment), ["a: t0/0 t0/1", "b: t1/0", "c: "]);
    assert_eq!(first.withheld.into_iter().collect::<Vec<_>>(), [(TopicPartition::new("t1", 1), "c".into())]);
    let second = assign(AssignorName::CooperativeSticky, &next_round(&members, &first.assignment, 2), &partitions);
    assert_eq!(second, sticky);
}

#[test]
fn a_member_that_unsubscribes_from_a_topic_gives_up_its_partitions() {
    let members = [member("a", &["t0"], "t0/0 t1/0", 1), member("b", &["t0", "t1"], "t0/1", 1)];
    let partitions = topics(&[("t0", 2), ("t1", 1)]);
    let assignment = assign(AssignorName::Sticky, &members, &partitions);
    assert_eq!(rendered(&assignment), ["a: t0/0", "b: t0/1 t1/0"]);
    // a still owns t1/0 until it revokes it, so cooperative withholds it from b.
    let outcome = assign_with_details(AssignorName::CooperativeSticky, &members, &partitions);
    assert_eq!(rendered(&outcome.assignment), ["a: t0/0", "b: t0/1"]);
}
