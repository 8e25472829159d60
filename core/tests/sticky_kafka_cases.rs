//! Kafka's own expectations for its sticky assignor, from `AbstractStickyAssignorTest` (without
//! racks), checked against ours: the same members, topics and owned partitions must give the
//! same assignment and the same partitions transferring ownership. Where Kafka's test compares
//! lists, so does this one (order included); where it compares sets, this one sorts.

use std::collections::BTreeMap;
use std::sync::Arc;

use kafkalab_core::assignor::consumer_protocol::Subscription;
use kafkalab_core::assignor::sticky::{self, OwnershipSource, StickyOutcome};
use kafkalab_core::assignor::MemberSubscription;
use kafkalab_core::TopicPartition;

/// Kafka's test generation (`generationId = 1`).
const GENERATION: i32 = 1;

fn tp(topic: &str, partition: i32) -> TopicPartition {
    TopicPartition::new(topic, partition)
}

fn member(id: &str, topics: &[&str], owned: &[TopicPartition], generation: i32) -> MemberSubscription {
    MemberSubscription {
        member_id: id.into(),
        group_instance_id: None,
        subscription: Subscription {
            owned_partitions: owned.to_vec(),
            generation_id: generation,
            ..Subscription::new(topics.iter().map(|topic| Arc::from(*topic)))
        },
    }
}

fn run(members: &[MemberSubscription], counts: &[(&str, i32)]) -> StickyOutcome {
    let topics: BTreeMap<Arc<str>, i32> = counts.iter().map(|(topic, count)| (Arc::from(*topic), *count)).collect();
    sticky::assign(members, &topics, OwnershipSource::Cooperative)
}

fn sorted(mut partitions: Vec<TopicPartition>) -> Vec<TopicPartition> {
    partitions.sort();
    partitions
}

#[test]
fn test_one_consumer_multiple_topics() {
    let outcome = run(&[member("consumer", &["topic1", "topic2"], &[], -1)], &[("topic1", 1), ("topic2", 2)]);
    assert_eq!(outcome.assignment["consumer"], [tp("topic1", 0), tp("topic2", 0), tp("topic2", 1)]);
    assert!(outcome.transferring_ownership.is_empty());
}

#[test]
fn test_two_consumers_one_topic_two_partitions() {
    let members = [member("consumer1", &["topic"], &[], -1), member("consumer2", &["topic"], &[], -1)];
    let outcome = run(&members, &[("topic", 2)]);
    assert_eq!(outcome.assignment["consumer1"], [tp("topic", 0)]);
    assert_eq!(outcome.assignment["consumer2"], [tp("topic", 1)]);
}

#[test]
fn test_multiple_consumers_mixed_topic_subscriptions() {
    let members = [
        member("consumer1", &["topic1"], &[], -1),
        member("consumer2", &["topic1", "topic2"], &[], -1),
        member("consumer3", &["topic1"], &[], -1),
    ];
    let outcome = run(&members, &[("topic1", 3), ("topic2", 2)]);
    assert_eq!(outcome.assignment["consumer1"], [tp("topic1", 0), tp("topic1", 2)]);
    assert_eq!(outcome.assignment["consumer2"], [tp("topic2", 0), tp("topic2", 1)]);
    assert_eq!(outcome.assignment["consumer3"], [tp("topic1", 1)]);
}

#[test]
fn test_two_consumers_two_topics_six_partitions() {
    let topics = ["topic1", "topic2"];
    let members = [member("consumer1", &topics, &[], -1), member("consumer2", &topics, &[], -1)];
    let outcome = run(&members, &[("topic1", 3), ("topic2", 3)]);
    assert_eq!(outcome.assignment["consumer1"], [tp("topic1", 0), tp("topic1", 2), tp("topic2", 1)]);
    assert_eq!(outcome.assignment["consumer2"], [tp("topic1", 1), tp("topic2", 0), tp("topic2", 2)]);
}

#[test]
fn test_consumer_owning_min_quota_expected_max_quota() {
    let topics = ["topic1", "topic2"];
    let members = [
        member("consumer1", &topics, &[tp("topic1", 0), tp("topic2", 1)], GENERATION),
        member("consumer2", &topics, &[tp("topic1", 1), tp("topic2", 2)], GENERATION),
    ];
    let outcome = run(&members, &[("topic1", 2), ("topic2", 3)]);
    assert_eq!(outcome.assignment["consumer1"], [tp("topic1", 0), tp("topic2", 1), tp("topic2", 0)]);
    assert_eq!(outcome.assignment["consumer2"], [tp("topic1", 1), tp("topic2", 2)]);
    assert!(outcome.transferring_ownership.is_empty());
}

#[test]
fn test_max_quota_consumer_more_than_num_expected_max_capacity_members() {
    // Two members own maxQuota but only one may keep it: Kafka's HashMap visits consumer2 first.
    let topics = ["topic1", "topic2"];
    let members = [
        member("consumer1", &topics, &[tp("topic1", 0), tp("topic2", 0)], GENERATION),
        member("consumer2", &topics, &[tp("topic1", 1), tp("topic2", 1)], GENERATION),
        member("consumer3", &topics, &[], GENERATION),
    ];
    let outcome = run(&members, &[("topic1", 2), ("topic2", 2)]);
    assert_eq!(outcome.transferring_ownership.into_iter().collect::<Vec<_>>(), [(tp("topic2", 0), "consumer3".into())]);
    assert_eq!(outcome.assignment["consumer1"], [tp("topic1", 0)]);
    assert_eq!(outcome.assignment["consumer2"], [tp("topic1", 1), tp("topic2", 1)]);
    assert_eq!(outcome.assignment["consumer3"], [tp("topic2", 0)]);
}

#[test]
fn test_all_consumers_are_under_min_quota() {
    let topics = ["topic1", "topic2"];
    let members = [
        member("consumer1", &topics, &[tp("topic1", 0)], GENERATION),
        member("consumer2", &topics, &[tp("topic1", 1)], GENERATION),
        member("consumer3", &topics, &[], GENERATION),
    ];
    let outcome = run(&members, &[("topic1", 2), ("topic2", 3)]);
    assert!(outcome.transferring_ownership.is_empty());
    assert_eq!(outcome.assignment["consumer1"], [tp("topic1", 0), tp("topic2", 1)]);
    assert_eq!(outcome.assignment["consumer2"], [tp("topic1", 1), tp("topic2", 2)]);
    assert_eq!(outcome.assignment["consumer3"], [tp("topic2", 0)]);
}

#[test]
fn test_add_remove_consumer_one_topic() {
    let outcome = run(&[member("consumer1", &["topic"], &[], -1)], &[("topic", 3)]);
    assert_eq!(outcome.assignment["consumer1"], [tp("topic", 0), tp("topic", 1), tp("topic", 2)]);

    let members = [
        member("consumer1", &["topic"], &outcome.assignment["consumer1"], GENERATION),
        member("consumer2", &["topic"], &[], GENERATION),
    ];
    let outcome = run(&members, &[("topic", 3)]);
    assert_eq!(outcome.transferring_ownership.into_iter().collect::<Vec<_>>(), [(tp("topic", 2), "consumer2".into())]);
    assert_eq!(outcome.assignment["consumer1"], [tp("topic", 0), tp("topic", 1)]);
    assert_eq!(outcome.assignment["consumer2"], [tp("topic", 2)]);

    let members = [member("consumer2", &["topic"], &outcome.assignment["consumer2"], GENERATION)];
    let outcome = run(&members, &[("topic", 3)]);
    assert_eq!(sorted(outcome.assignment["consumer2"].clone()), [tp("topic", 0), tp("topic", 1), tp("topic", 2)]);
    assert!(outcome.transferring_ownership.is_empty());
}

#[test]
fn test_all_consumers_reach_expected_quota_and_are_considered_filled() {
    let members = [
        member("consumer1", &["topic"], &[tp("topic", 0), tp("topic", 1)], GENERATION),
        member("consumer2", &["topic"], &[tp("topic", 2)], GENERATION),
        member("consumer3", &["topic"], &[], GENERATION),
    ];
    let outcome = run(&members, &[("topic", 4)]);
    assert_eq!(outcome.assignment["consumer1"], [tp("topic", 0), tp("topic", 1)]);
    assert_eq!(outcome.assignment["consumer2"], [tp("topic", 2)]);
    assert_eq!(outcome.assignment["consumer3"], [tp("topic", 3)]);
    assert!(outcome.transferring_ownership.is_empty());
}

#[test]
fn test_owned_partitions_are_invalidated_for_consumer_with_stale_generation() {
    let owned = [tp("topic", 0), tp("topic", 2), tp("topic2", 1)];
    for stale in [9, -1] {
        let members = [
            member("consumer1", &["topic", "topic2"], &owned, 10),
            member("consumer2", &["topic", "topic2"], &owned, stale),
        ];
        let outcome = run(&members, &[("topic", 3), ("topic2", 3)]);
        assert_eq!(sorted(outcome.assignment["consumer1"].clone()), owned);
        assert_eq!(sorted(outcome.assignment["consumer2"].clone()), [tp("topic", 1), tp("topic2", 0), tp("topic2", 2)]);
        assert!(outcome.transferring_ownership.is_empty());
    }
}

#[test]
fn test_partitions_transferring_ownership_include_the_partition_claimed_by_multiple_consumers_in_same_generation() {
    let members = [
        member("consumer1", &["topic"], &[tp("topic", 0), tp("topic", 1)], GENERATION),
        member("consumer2", &["topic"], &[tp("topic", 0), tp("topic", 2)], GENERATION),
        member("consumer3", &["topic"], &[], GENERATION),
    ];
    let outcome = run(&members, &[("topic", 3)]);
    assert_eq!(outcome.transferring_ownership.into_iter().collect::<Vec<_>>(), [(tp("topic", 0), "consumer3".into())]);
    assert_eq!(outcome.assignment["consumer1"], [tp("topic", 1)]);
    assert_eq!(outcome.assignment["consumer2"], [tp("topic", 2)]);
    assert_eq!(outcome.assignment["consumer3"], [tp("topic", 0)]);
}

#[test]
fn test_ensure_partitions_assigned_to_highest_generation() {
    let topics = ["topic", "topic2", "topic3"];
    let members = [
        member("consumer1", &topics, &[tp("topic", 0), tp("topic2", 0), tp("topic3", 0)], 10),
        member("consumer2", &topics, &[tp("topic", 1), tp("topic2", 1), tp("topic3", 1)], 9),
        member("consumer3", &topics, &[tp("topic2", 1), tp("topic3", 0), tp("topic3", 2)], 8),
    ];
    let outcome = run(&members, &[("topic", 3), ("topic2", 3), ("topic3", 3)]);
    assert_eq!(sorted(outcome.assignment["consumer1"].clone()), [tp("topic", 0), tp("topic2", 0), tp("topic3", 0)]);
    assert_eq!(sorted(outcome.assignment["consumer2"].clone()), [tp("topic", 1), tp("topic2", 1), tp("topic3", 1)]);
    assert_eq!(sorted(outcome.assignment["consumer3"].clone()), [tp("topic", 2), tp("topic2", 2), tp("topic3", 2)]);
    assert!(outcome.transferring_ownership.is_empty());
}

#[test]
fn test_no_reassignment_on_current_members() {
    let topics = ["topic", "topic2", "topic3", "topic1"];
    let members = [
        member("consumer1", &topics, &[], -1),
        member("consumer2", &topics, &[tp("topic", 0), tp("topic2", 0), tp("topic1", 0)], 9),
        member("consumer3", &topics, &[tp("topic3", 2), tp("topic2", 2), tp("topic1", 1)], 8),
        member("consumer4", &topics, &[tp("topic3", 1), tp("topic", 1), tp("topic", 2)], 7),
    ];
    let outcome = run(&members, &[("topic", 3), ("topic1", 3), ("topic2", 3), ("topic3", 3)]);
    assert_eq!(sorted(outcome.assignment["consumer1"].clone()), [tp("topic1", 2), tp("topic2", 1), tp("topic3", 0)]);
    assert!(outcome.transferring_ownership.is_empty());
}

#[test]
fn test_owned_partitions_are_invalidated_for_consumer_with_multiple_generation() {
    let members = [
        member("consumer1", &["topic", "topic2"], &[tp("topic", 0), tp("topic2", 1), tp("topic", 1)], 10),
        member("consumer2", &["topic", "topic2"], &[tp("topic", 0), tp("topic2", 1), tp("topic2", 2)], 8),
    ];
    let outcome = run(&members, &[("topic", 3), ("topic2", 3)]);
    assert_eq!(sorted(outcome.assignment["consumer1"].clone()), [tp("topic", 0), tp("topic", 1), tp("topic2", 1)]);
    assert_eq!(sorted(outcome.assignment["consumer2"].clone()), [tp("topic", 2), tp("topic2", 0), tp("topic2", 2)]);
    assert!(outcome.transferring_ownership.is_empty());
}
