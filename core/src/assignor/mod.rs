//! Partition assignors: how the leader of a consumer group divides the partitions of the topics
//! its members subscribe to, and the consumer protocol that carries subscriptions and
//! assignments through JoinGroup and SyncGroup.
//!
//! In Kafka's classic group protocol the coordinator does not assign anything: it picks one
//! member as leader, hands it every member's [`Subscription`],
//! and relays the [`Assignment`](consumer_protocol::Assignment)s the leader computes. The
//! leader runs the assignor the group agreed on, one of Kafka's four built-in ones:
//!
//! - [`range`]: per topic, contiguous ranges of partitions, the first members one extra;
//! - [`round_robin`]: all partitions dealt one by one to the members in turn;
//! - [`sticky`]: balanced, keeping each member's previous partitions as far as balance allows;
//! - [`cooperative`]: the sticky assignment, minus the partitions that change owner, which the
//!   old owner must revoke before a follow-up rebalance hands them over (KIP-429).
//!
//! [`assign`] runs one. Members are given in any order; the result is the same.
//!
//! Two simplifications hold for every assignor: rack-aware assignment (KIP-881) is left out,
//! since the simulated cluster has no racks, and names compare by their UTF-8 bytes where Java
//! compares UTF-16 code units (the orders differ only between characters above U+FFFF and those
//! in U+E000..U+FFFF, which no member id or topic name here contains).

pub mod consumer_protocol;
pub mod cooperative;
pub mod range;
pub mod round_robin;
pub mod sticky;
mod sticky_general;

use alloc::collections::{BTreeMap, BTreeSet};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cmp::Ordering;

use crate::ids::TopicPartition;
use consumer_protocol::Subscription;

/// Each member's partitions, keyed by member id. Every member has an entry, possibly empty.
pub type GroupAssignment = BTreeMap<Arc<str>, Vec<TopicPartition>>;

/// Kafka's built-in assignors (`partition.assignment.strategy`), by their protocol names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum AssignorName {
    Range,
    RoundRobin,
    Sticky,
    CooperativeSticky,
}

/// How a group moves partitions between members in a rebalance (`RebalanceProtocol`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RebalanceProtocol {
    /// Every member revokes all its partitions before rejoining; the group stops consuming
    /// while it rebalances.
    Eager,
    /// Members keep their partitions through the rebalance and revoke only those that move,
    /// which a second rebalance then assigns (KIP-429).
    Cooperative,
}

impl AssignorName {
    /// All four, in Kafka's order of introduction.
    pub const ALL: [AssignorName; 4] =
        [AssignorName::Range, AssignorName::RoundRobin, AssignorName::Sticky, AssignorName::CooperativeSticky];

    /// The protocol name a consumer sends in JoinGroup.
    pub const fn name(self) -> &'static str {
        match self {
            AssignorName::Range => "range",
            AssignorName::RoundRobin => "roundrobin",
            AssignorName::Sticky => "sticky",
            AssignorName::CooperativeSticky => "cooperative-sticky",
        }
    }

    /// The assignor with protocol name `name`, exactly as [`name`](Self::name) spells it.
    pub fn parse(name: &str) -> Option<AssignorName> {
        AssignorName::ALL.into_iter().find(|assignor| assignor.name() == name)
    }

    /// The protocol a group using only this assignor rebalances with: Kafka picks the newest
    /// protocol every assignor supports, and only cooperative-sticky supports COOPERATIVE.
    pub const fn rebalance_protocol(self) -> RebalanceProtocol {
        match self {
            AssignorName::CooperativeSticky => RebalanceProtocol::Cooperative,
            _ => RebalanceProtocol::Eager,
        }
    }
}

/// One member as the group leader sees it: its ids and its decoded subscription.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberSubscription {
    pub member_id: Arc<str>,
    /// Its `group.instance.id` when it is a static member (KIP-345).
    pub group_instance_id: Option<Arc<str>>,
    pub subscription: Subscription,
}

impl MemberSubscription {
    /// Whether it subscribes to `topic`.
    pub fn subscribes_to(&self, topic: &str) -> bool {
        self.subscription.topics.iter().any(|subscribed| &**subscribed == topic)
    }
}

/// An assignment with what the cooperative protocol holds back from it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AssignmentOutcome {
    pub assignment: GroupAssignment,
    /// Partitions given to nobody this round because another member still owns them, each with
    /// the member that gets it once revoked. Empty except for cooperative-sticky.
    pub withheld: BTreeMap<TopicPartition, Arc<str>>,
}

/// Runs `assignor` over `members`. `partitions_per_topic` is the number of partitions of each
/// topic the metadata knows; subscribed topics missing from it (or with no partitions) are
/// skipped, as Kafka skips topics without metadata, and topics nobody subscribes to are not
/// assigned. For cooperative-sticky the partitions that change owner are withheld (see
/// [`cooperative`]); [`assign_with_details`] says which.
///
/// # Panics
/// If two members share a member id: the coordinator never hands out one twice.
pub fn assign(
    assignor: AssignorName,
    members: &[MemberSubscription],
    partitions_per_topic: &BTreeMap<Arc<str>, i32>,
) -> GroupAssignment {
    assign_with_details(assignor, members, partitions_per_topic).assignment
}

/// [`assign`], also reporting the partitions cooperative-sticky withholds.
pub fn assign_with_details(
    assignor: AssignorName,
    members: &[MemberSubscription],
    partitions_per_topic: &BTreeMap<Arc<str>, i32>,
) -> AssignmentOutcome {
    let member_ids: BTreeSet<&Arc<str>> = members.iter().map(|member| &member.member_id).collect();
    assert_eq!(member_ids.len(), members.len(), "two members share a member id");
    // Each assignor drops the topics nobody subscribes to (`subscribed_topics`) itself.
    let topics = partitions_per_topic;
    let outcome = match assignor {
        AssignorName::Range => AssignmentOutcome { assignment: range::assign(members, topics), ..Default::default() },
        AssignorName::RoundRobin => {
            AssignmentOutcome { assignment: round_robin::assign(members, topics), ..Default::default() }
        }
        AssignorName::Sticky => AssignmentOutcome {
            assignment: sticky::assign(members, topics, sticky::OwnershipSource::Eager).assignment,
            ..Default::default()
        },
        AssignorName::CooperativeSticky => cooperative::assign(members, topics),
    };
    debug_assert!(outcome.assignment.len() == members.len());
    outcome
}

/// The topics some member subscribes to that have partitions, with their partition counts.
fn subscribed_topics(
    members: &[MemberSubscription],
    partitions_per_topic: &BTreeMap<Arc<str>, i32>,
) -> BTreeMap<Arc<str>, i32> {
    partitions_per_topic
        .iter()
        .filter(|(topic, count)| **count > 0 && members.iter().any(|member| member.subscribes_to(topic)))
        .map(|(topic, count)| (topic.clone(), *count))
        .collect()
}

/// An empty list for every member.
fn empty_assignment(members: &[MemberSubscription]) -> GroupAssignment {
    members.iter().map(|member| (member.member_id.clone(), Vec::new())).collect()
}

/// Kafka's `MemberInfo` order, which range and round-robin deal partitions in: static members
/// first, by `group.instance.id`, then dynamic members by member id. Static membership makes
/// the order, and so the assignment, survive a restart that changes member ids. Ties (two
/// members with one instance id, which the coordinator forbids) fall back to the member id.
pub fn member_info_order(a: &MemberSubscription, b: &MemberSubscription) -> Ordering {
    match (&a.group_instance_id, &b.group_instance_id) {
        (Some(a_instance), Some(b_instance)) => a_instance.cmp(b_instance),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
    .then_with(|| a.member_id.cmp(&b.member_id))
}

/// The partitions of `topics`, sorted by topic then partition.
fn all_partitions(topics: &BTreeMap<Arc<str>, i32>) -> Vec<TopicPartition> {
    topics
        .iter()
        .flat_map(|(topic, count)| (0..*count).map(|index| TopicPartition::new(topic.clone(), index)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn names_are_kafkas_protocol_names_and_parse_back() {
        let names: Vec<&str> = AssignorName::ALL.iter().map(|assignor| assignor.name()).collect();
        assert_eq!(names, ["range", "roundrobin", "sticky", "cooperative-sticky"]);
        for assignor in AssignorName::ALL {
            assert_eq!(AssignorName::parse(assignor.name()), Some(assignor));
        }
        assert_eq!(AssignorName::parse("Range"), None);
        assert_eq!(AssignorName::parse("round-robin"), None);
    }

    #[test]
    fn only_cooperative_sticky_rebalances_cooperatively() {
        let cooperative: Vec<AssignorName> = AssignorName::ALL
            .into_iter()
            .filter(|assignor| assignor.rebalance_protocol() == RebalanceProtocol::Cooperative)
            .collect();
        assert_eq!(cooperative, [AssignorName::CooperativeSticky]);
    }

    fn member(id: &str, instance: Option<&str>) -> MemberSubscription {
        MemberSubscription {
            member_id: id.into(),
            group_instance_id: instance.map(Into::into),
            subscription: Subscription::new([Arc::from("t")]),
        }
    }

    #[test]
    fn member_info_order_puts_static_members_first_by_instance_id() {
        let mut members =
            alloc::vec![member("a", None), member("b", Some("i2")), member("c", None), member("d", Some("i1")),];
        members.sort_by(member_info_order);
        let order: Vec<_> = members.iter().map(|member| member.member_id.to_string()).collect();
        assert_eq!(order, ["d", "b", "a", "c"]);
    }

    #[test]
    fn topics_nobody_subscribes_to_or_without_partitions_are_dropped() {
        let members = [member("a", None)];
        let topics: BTreeMap<Arc<str>, i32> = [("t".into(), 0), ("u".into(), 3)].into_iter().collect();
        assert!(subscribed_topics(&members, &topics).is_empty());
        let topics: BTreeMap<Arc<str>, i32> = [("t".into(), 2), ("u".into(), 3)].into_iter().collect();
        assert_eq!(subscribed_topics(&members, &topics).into_iter().collect::<Vec<_>>(), [("t".into(), 2)]);
    }

    #[test]
    #[should_panic(expected = "share a member id")]
    fn duplicate_member_ids_are_refused() {
        let topics = BTreeMap::new();
        assign(AssignorName::Range, &[member("a", None), member("a", None)], &topics);
    }
}
