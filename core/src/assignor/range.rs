//! Kafka's `RangeAssignor` (protocol name `range`): topic by topic, the members subscribed to
//! the topic in [`MemberInfo` order](super::member_info_order) each take a contiguous range of
//! its partitions; when the count does not divide evenly the first `partitions % members`
//! members take one more.
//!
//! Topics are independent, so with several topics of equal size the first member takes the
//! extra partition of each, which is range's known imbalance (two members, two topics of three
//! partitions: 4 and 2). In exchange, the members get the same partition numbers of every
//! topic, which co-partitioned joins rely on. The rack-aware variant (KIP-881) is left out.
//!
//! Each member's list runs topic by topic in name order; Kafka's runs in the iteration order of
//! a `HashMap` of topics, so the lists can be ordered differently, with the same partitions.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{empty_assignment, member_info_order, subscribed_topics, GroupAssignment, MemberSubscription};
use crate::ids::TopicPartition;

/// Range-assigns the partitions of `topics` that members subscribe to.
pub fn assign(members: &[MemberSubscription], topics: &BTreeMap<Arc<str>, i32>) -> GroupAssignment {
    let mut assignment = empty_assignment(members);
    for (topic, &partition_count) in &subscribed_topics(members, topics) {
        let mut consumers: Vec<&MemberSubscription> =
            members.iter().filter(|member| member.subscribes_to(topic)).collect();
        if consumers.is_empty() {
            continue;
        }
        consumers.sort_by(|a, b| member_info_order(a, b));
        let consumer_count = i32::try_from(consumers.len()).expect("fewer than 2^31 members");
        let per_consumer = partition_count / consumer_count;
        let with_extra = partition_count % consumer_count;
        let mut next = 0;
        for (position, consumer) in (0..).zip(&consumers) {
            let length = per_consumer + i32::from(position < with_extra);
            let partitions = assignment.get_mut(&consumer.member_id).expect("every member has an entry");
            partitions.extend((next..next + length).map(|index| TopicPartition::new(topic.clone(), index)));
            next += length;
        }
        assert_eq!(next, partition_count, "range assigned every partition of {topic}");
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignor::consumer_protocol::Subscription;
    use alloc::string::String;
    use alloc::vec;

    fn member(id: &str, topics: &[&str]) -> MemberSubscription {
        MemberSubscription {
            member_id: id.into(),
            group_instance_id: None,
            subscription: Subscription::new(topics.iter().map(|topic| Arc::from(*topic))),
        }
    }

    fn topics(counts: &[(&str, i32)]) -> BTreeMap<Arc<str>, i32> {
        counts.iter().map(|(topic, count)| (Arc::from(*topic), *count)).collect()
    }

    /// `member -> "t0/0 t0/1 ..."`, to compare with hand-written expectations.
    fn rendered(assignment: &GroupAssignment) -> Vec<(String, String)> {
        use alloc::string::ToString;
        assignment
            .iter()
            .map(|(member, partitions)| {
                let names: Vec<String> = partitions.iter().map(ToString::to_string).collect();
                (member.to_string(), names.join(" "))
            })
            .collect()
    }

    fn expect(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(member, partitions)| (String::from(*member), String::from(*partitions))).collect()
    }

    #[test]
    fn seven_partitions_over_three_members_split_three_two_two() {
        let members = [member("c2", &["t"]), member("c0", &["t"]), member("c1", &["t"])];
        let assignment = assign(&members, &topics(&[("t", 7)]));
        assert_eq!(rendered(&assignment), expect(&[("c0", "t/0 t/1 t/2"), ("c1", "t/3 t/4"), ("c2", "t/5 t/6")]));
    }

    #[test]
    fn each_topic_gives_its_extra_partition_to_the_first_member() {
        // Kafka's own example: C0 gets [t0p0, t0p1, t1p0, t1p1], C1 gets [t0p2, t1p2].
        let members = [member("C0", &["t0", "t1"]), member("C1", &["t0", "t1"])];
        let assignment = assign(&members, &topics(&[("t0", 3), ("t1", 3)]));
        assert_eq!(rendered(&assignment), expect(&[("C0", "t0/0 t0/1 t1/0 t1/1"), ("C1", "t0/2 t1/2")]));
    }

    #[test]
    fn more_members_than_partitions_leaves_the_last_ones_idle() {
        let members = [member("a", &["t"]), member("b", &["t"]), member("c", &["t"])];
        let assignment = assign(&members, &topics(&[("t", 2)]));
        assert_eq!(rendered(&assignment), expect(&[("a", "t/0"), ("b", "t/1"), ("c", "")]));
    }

    #[test]
    fn a_topic_is_split_only_among_its_subscribers() {
        let members = [member("a", &["t0"]), member("b", &["t0", "t1"]), member("c", &["t1"])];
        let assignment = assign(&members, &topics(&[("t0", 3), ("t1", 4)]));
        assert_eq!(rendered(&assignment), expect(&[("a", "t0/0 t0/1"), ("b", "t0/2 t1/0 t1/1"), ("c", "t1/2 t1/3")]));
    }

    #[test]
    fn static_members_come_first_in_instance_id_order() {
        let mut members = vec![member("a", &["t"]), member("b", &["t"]), member("c", &["t"])];
        members[2].group_instance_id = Some("instance-1".into());
        members[1].group_instance_id = Some("instance-2".into());
        let assignment = assign(&members, &topics(&[("t", 5)]));
        assert_eq!(rendered(&assignment), expect(&[("a", "t/4"), ("b", "t/2 t/3"), ("c", "t/0 t/1")]));
    }
}
