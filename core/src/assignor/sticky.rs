//! Kafka's sticky assignment (`AbstractStickyAssignor`), shared by the `sticky` assignor and
//! `cooperative-sticky`: balanced, and keeping each member's partitions from the previous
//! generation as far as balance allows, so that a rebalance moves few partitions.
//!
//! Previous ownership comes from each subscription's `owned_partitions` and `generation_id`.
//! When members claim the same partition the claim of the highest generation wins and older
//! ones are dropped; when several claims share the highest generation nobody keeps it (Kafka
//! logs "Found multiple consumers ... claiming the same TopicPartition" and invalidates it).
//! Claims of partitions that do not exist, or repeated in one list, are dropped too.
//!
//! When every member subscribes to the same topics, Kafka's "constrained" algorithm runs, ported
//! step by step below: with `P` partitions and `M` members every member ends with
//! `minQuota = P / M` or `maxQuota = ceil(P / M)` partitions, exactly `P % M` of them with
//! `maxQuota`. First each member keeps its owned partitions up to its quota (sorted by partition
//! then topic, lowest first), then the rest are dealt round-robin to the members below quota in
//! member id order. Otherwise a general algorithm runs (`sticky_general`).
//!
//! Which members keep `maxQuota` partitions, when more own that many than may keep it, depends
//! on the order Kafka visits them: the iteration order of a Java `HashMap` keyed by member id.
//! [`java_hash_map_order`] reproduces it, so the choice is Kafka's.
//!
//! Differences from Kafka, both about order:
//! - members whose ids fall in one `HashMap` bucket are visited in member id order, where Java
//!   visits them in the order they were inserted (the order of the JoinGroup member list);
//! - a partition claimed by two members of one generation is dropped for both whatever the
//!   order; Kafka's result can depend on the order when a third, newer claim exists.
//!
//! Kafka's eager `StickyAssignor` reads previous ownership from its own user data, because an
//! eager member revokes everything before it rejoins; here both flavours read the subscription's
//! fields, which the simulated consumers fill in.

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{all_partitions, sticky_general, subscribed_topics, GroupAssignment, MemberSubscription};
use crate::ids::TopicPartition;

/// Kafka's "no generation" (`DEFAULT_GENERATION`).
pub const DEFAULT_GENERATION: i32 = -1;

/// Where a member's generation comes from, which differs between the two sticky assignors.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OwnershipSource {
    /// `sticky`: the subscription's `generation_id`.
    Eager,
    /// `cooperative-sticky`: the subscription's `generation_id`, or for subscriptions older
    /// than version 2 (generation -1) the generation the assignor wrote as its 4-byte user data.
    Cooperative,
}

/// A sticky assignment and the partitions in it that change owner.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StickyOutcome {
    pub assignment: GroupAssignment,
    /// Each partition given to a member other than one that still claims to own it, with that
    /// new member (Kafka's `partitionsTransferringOwnership`).
    pub transferring_ownership: BTreeMap<TopicPartition, Arc<str>>,
}

/// Which previous claims survive: each member's owned partitions after conflicts are resolved.
pub(super) struct Claims {
    /// Member id to the partitions it keeps a claim on, in the order it listed them.
    pub owned: BTreeMap<Arc<str>, Vec<TopicPartition>>,
    /// Partitions claimed by several members of the newest claiming generation.
    pub multiply_claimed: BTreeSet<TopicPartition>,
}

/// Sticky-assigns the partitions of `topics` that members subscribe to.
pub fn assign(
    members: &[MemberSubscription],
    topics: &BTreeMap<Arc<str>, i32>,
    source: OwnershipSource,
) -> StickyOutcome {
    if members.is_empty() {
        return StickyOutcome::default();
    }
    let topics = &subscribed_topics(members, topics);
    let claims = resolve_claims(members, topics, source);
    if all_subscriptions_equal(members) {
        Constrained::new(topics, claims).build()
    } else {
        let assignment = sticky_general::assign(members, topics, &claims.owned);
        let transferring_ownership = partitions_transferring_ownership(members, &assignment);
        StickyOutcome { assignment, transferring_ownership }
    }
}

/// The generation a member's ownership claims belong to.
pub(super) fn generation(member: &MemberSubscription, source: OwnershipSource) -> i32 {
    let subscription = &member.subscription;
    match (source, &subscription.user_data) {
        (OwnershipSource::Cooperative, Some(user_data)) if subscription.generation_id == DEFAULT_GENERATION => {
            // CooperativeStickyAssignor's user data v0 is one INT32; unreadable means none.
            match user_data.get(..4) {
                Some(raw) => i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
                None => DEFAULT_GENERATION,
            }
        }
        _ => subscription.generation_id,
    }
}

/// Resolves the members' claims on partitions of `topics` (Kafka's `allSubscriptionsEqual`).
fn resolve_claims(members: &[MemberSubscription], topics: &BTreeMap<Arc<str>, i32>, source: OwnershipSource) -> Claims {
    let exists = |partition: &TopicPartition| {
        topics.get(&partition.topic).is_some_and(|count| (0..*count).contains(&partition.partition.0))
    };
    let mut claimants: BTreeMap<&TopicPartition, Vec<(i32, &Arc<str>)>> = BTreeMap::new();
    for member in members {
        let member_generation = generation(member, source);
        let mut seen = BTreeSet::new();
        for partition in member.subscription.owned_partitions.iter().filter(|partition| exists(partition)) {
            if seen.insert(partition) {
                claimants.entry(partition).or_default().push((member_generation, &member.member_id));
            }
        }
    }
    let mut winners: BTreeMap<&TopicPartition, &Arc<str>> = BTreeMap::new();
    let mut multiply_claimed = BTreeSet::new();
    for (partition, claims) in claimants {
        let newest = claims.iter().map(|(generation, _)| *generation).max().expect("a claimed partition has a claim");
        let mut newest_claims = claims.iter().filter(|(generation, _)| *generation == newest);
        let (_, first) = newest_claims.next().expect("the newest generation has a claim");
        if newest_claims.next().is_none() {
            winners.insert(partition, *first);
        } else {
            multiply_claimed.insert(partition.clone());
        }
    }
    let owned = members
        .iter()
        .map(|member| {
            let mut kept: Vec<TopicPartition> = Vec::new();
            for partition in &member.subscription.owned_partitions {
                if winners.get(partition) == Some(&&member.member_id) && !kept.contains(partition) {
                    kept.push(partition.clone());
                }
            }
            (member.member_id.clone(), kept)
        })
        .collect();
    Claims { owned, multiply_claimed }
}

/// Whether every member subscribes to the same set of topics.
fn all_subscriptions_equal(members: &[MemberSubscription]) -> bool {
    let topic_set =
        |member: &MemberSubscription| -> BTreeSet<Arc<str>> { member.subscription.topics.iter().cloned().collect() };
    let first = topic_set(&members[0]);
    members[1..].iter().all(|member| topic_set(member) == first)
}

/// Partitions some member is given that another member's subscription still lists as owned
/// (Kafka's `CooperativeStickyAssignor.computePartitionsTransferringOwnership`, used after the
/// general algorithm, which does not track them as it goes).
fn partitions_transferring_ownership(
    members: &[MemberSubscription],
    assignment: &GroupAssignment,
) -> BTreeMap<TopicPartition, Arc<str>> {
    let mut added = BTreeMap::new();
    let mut revoked = BTreeSet::new();
    for member in members {
        let owned = &member.subscription.owned_partitions;
        let assigned = &assignment[&member.member_id];
        added.extend(assigned.iter().filter(|p| !owned.contains(p)).map(|p| (p.clone(), member.member_id.clone())));
        revoked.extend(owned.iter().filter(|p| !assigned.contains(p)).cloned());
    }
    added.retain(|partition, _| revoked.contains(partition));
    added
}

/// Kafka's `ConstrainedAssignmentBuilder`, without racks: the state of one constrained run.
struct Constrained {
    all_partitions: Vec<TopicPartition>,
    claims: Claims,
    min_quota: usize,
    max_quota: usize,
    /// How many members end with `max_quota` (zero when the quotas are equal).
    expected_over_min: usize,
    current_over_min: usize,
    /// Members below `min_quota`, in member id order once owned partitions are kept.
    unfilled_under_min: Vec<Arc<str>>,
    /// Members at `min_quota` that may still take one more, while fewer than
    /// `expected_over_min` members have `max_quota`.
    unfilled_at_min: Vec<Arc<str>>,
    /// Owned partitions past a member's quota, with that member: giving one to another member
    /// is a transfer of ownership.
    maybe_revoked: BTreeMap<TopicPartition, Arc<str>>,
    assignment: GroupAssignment,
    transferring_ownership: BTreeMap<TopicPartition, Arc<str>>,
}

impl Constrained {
    fn new(topics: &BTreeMap<Arc<str>, i32>, claims: Claims) -> Self {
        let all_partitions = all_partitions(topics);
        let member_count = claims.owned.len();
        let assignment = claims.owned.keys().map(|member| (member.clone(), Vec::new())).collect();
        Constrained {
            min_quota: all_partitions.len() / member_count,
            max_quota: all_partitions.len().div_ceil(member_count),
            expected_over_min: all_partitions.len() % member_count,
            current_over_min: 0,
            all_partitions,
            claims,
            unfilled_under_min: Vec::new(),
            unfilled_at_min: Vec::new(),
            maybe_revoked: BTreeMap::new(),
            assignment,
            transferring_ownership: BTreeMap::new(),
        }
    }

    fn build(mut self) -> StickyOutcome {
        self.assign_owned_partitions();
        let assigned: BTreeSet<&TopicPartition> = self.assignment.values().flatten().collect();
        let unassigned: Vec<TopicPartition> =
            self.all_partitions.iter().filter(|partition| !assigned.contains(partition)).cloned().collect();
        self.unfilled_under_min.sort();
        self.unfilled_at_min.sort();
        self.assign_round_robin(unassigned);
        self.verify();
        StickyOutcome { assignment: self.assignment, transferring_ownership: self.transferring_ownership }
    }

    /// Step 1: each member keeps its owned partitions, lowest partition numbers first, up to
    /// `min_quota`, or `max_quota` while members with `max_quota` are still expected.
    fn assign_owned_partitions(&mut self) {
        let mut owned = core::mem::take(&mut self.claims.owned);
        for member in java_hash_map_order(owned.keys()) {
            let mut partitions = owned.remove(&member).expect("an ordered member has claims");
            partitions.retain(|partition| !self.claims.multiply_claimed.contains(partition));
            partitions.sort_by(|a, b| a.partition.cmp(&b.partition).then_with(|| a.topic.cmp(&b.topic)));
            let kept = if partitions.len() < self.min_quota {
                self.unfilled_under_min.push(member.clone());
                partitions.len()
            } else if partitions.len() >= self.max_quota && self.current_over_min < self.expected_over_min {
                self.current_over_min += 1;
                if self.current_over_min == self.expected_over_min {
                    self.unfilled_at_min.clear();
                }
                self.max_quota
            } else {
                if self.current_over_min < self.expected_over_min {
                    self.unfilled_at_min.push(member.clone());
                }
                self.min_quota
            };
            for partition in partitions.drain(kept..) {
                self.maybe_revoked.insert(partition, member.clone());
            }
            self.assignment.get_mut(&member).expect("every member has an entry").extend(partitions);
        }
    }

    /// Step 2: the remaining partitions, in topic then partition order, go round the members
    /// below `min_quota`; once none is left, to the members at `min_quota` in order, one each.
    fn assign_round_robin(&mut self, unassigned: Vec<TopicPartition>) {
        // A cursor into `unfilled_under_min`, as Kafka's iterator that it restarts and removes
        // through.
        let mut cursor = 0;
        for partition in unassigned {
            let (member, from_under_min) = if cursor < self.unfilled_under_min.len() {
                cursor += 1;
                (self.unfilled_under_min[cursor - 1].clone(), true)
            } else if !self.unfilled_under_min.is_empty() {
                cursor = 1;
                (self.unfilled_under_min[0].clone(), true)
            } else {
                assert!(!self.unfilled_at_min.is_empty(), "no more unfilled members for {partition}");
                (self.unfilled_at_min.remove(0), false)
            };
            let count = self.assign_new_partition(partition, &member);
            if count == self.min_quota && from_under_min {
                cursor -= 1;
                self.unfilled_under_min.remove(cursor);
                self.unfilled_at_min.push(member);
            } else if count == self.max_quota {
                self.current_over_min += 1;
            }
        }
    }

    fn assign_new_partition(&mut self, partition: TopicPartition, member: &Arc<str>) -> usize {
        let moved = self.maybe_revoked.get(&partition).is_some_and(|previous| previous != member);
        if moved || self.claims.multiply_claimed.contains(&partition) {
            self.transferring_ownership.insert(partition.clone(), member.clone());
        }
        let partitions = self.assignment.get_mut(member).expect("every member has an entry");
        partitions.push(partition);
        partitions.len()
    }

    /// Kafka's `verifyUnfilledMembers`, and the quotas themselves: a violation is a bug here.
    fn verify(&self) {
        let assigned: usize = self.assignment.values().map(Vec::len).sum();
        assert_eq!(assigned, self.all_partitions.len(), "constrained sticky assigned every partition once");
        let at_max = self.assignment.values().filter(|partitions| partitions.len() == self.max_quota).count();
        for (member, partitions) in &self.assignment {
            assert!(
                (self.min_quota..=self.max_quota).contains(&partitions.len()),
                "{member} has {} partitions, outside {}..={}",
                partitions.len(),
                self.min_quota,
                self.max_quota
            );
        }
        if self.min_quota != self.max_quota {
            assert_eq!(at_max, self.expected_over_min, "members with maxQuota partitions");
        }
    }
}

/// The order a Java `HashMap<String, _>` holding `keys` iterates them: by bucket, the bucket
/// being `String.hashCode` (over UTF-16 code units) with its high half folded into the low half
/// (`HashMap.hash`), masked by the table size; the table starts at 16 buckets and doubles when
/// more than three quarters full. Keys sharing a bucket are ordered by key, where Java keeps
/// insertion order.
pub fn java_hash_map_order<'a>(keys: impl Iterator<Item = &'a Arc<str>>) -> Vec<Arc<str>> {
    let mut keys: Vec<Arc<str>> = keys.cloned().collect();
    let mut capacity: u32 = 16;
    while keys.len() > (capacity as usize) * 3 / 4 {
        capacity *= 2;
    }
    let bucket = |key: &str| {
        let hash = key.encode_utf16().fold(0u32, |hash, unit| hash.wrapping_mul(31).wrapping_add(u32::from(unit)));
        (hash ^ (hash >> 16)) & (capacity - 1)
    };
    keys.sort_by(|a, b| bucket(a).cmp(&bucket(b)).then_with(|| a.cmp(b)));
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::{String, ToString};

    fn order(keys: &[&str]) -> Vec<String> {
        let keys: Vec<Arc<str>> = keys.iter().map(|key| Arc::from(*key)).collect();
        java_hash_map_order(keys.iter()).iter().map(ToString::to_string).collect()
    }

    #[test]
    fn java_hash_map_order_matches_javas_iteration_of_consumer_ids() {
        // "consumer1".hashCode() is 0xe6e7fafb; folded and masked to 16 buckets it lands in 12,
        // and each next digit one bucket lower, so Java iterates these backwards.
        assert_eq!(order(&["consumer1", "consumer2", "consumer3"]), ["consumer3", "consumer2", "consumer1"]);
        // "a" (97) and "q" (113) share bucket 1 of 16; "b" is in bucket 2.
        assert_eq!(order(&["b", "q", "a"]), ["a", "q", "b"]);
    }

    #[test]
    fn java_hash_map_order_grows_the_table_past_three_quarters_full() {
        // With 13 keys the table has 32 buckets: "q" (113 = 0b111_0001) moves to bucket 17,
        // after "b" (bucket 2), where 16 buckets kept it beside "a".
        let mut keys = alloc::vec!["b", "q", "a"];
        let fillers: Vec<String> = (0..10).map(|index| alloc::format!("~{index}")).collect();
        keys.extend(fillers.iter().map(String::as_str));
        let ordered = order(&keys);
        let position = |key: &str| ordered.iter().position(|candidate| candidate == key).unwrap();
        assert!(position("a") < position("b") && position("b") < position("q"));
        assert_eq!(order(&["b", "q", "a"]), ["a", "q", "b"]);
    }
}
