//! Kafka's `RoundRobinAssignor` (protocol name `roundrobin`): every partition of every
//! subscribed topic, sorted by topic then partition, is dealt to the members in
//! [`MemberInfo` order](super::member_info_order) one at a time, going round; a member not
//! subscribed to a partition's topic is passed over for that partition.
//!
//! With equal subscriptions the counts differ by at most one; with unequal ones the deal can be
//! lopsided (Kafka's example: C0 on t0, C1 on t0 and t1, C2 on all three of t0, t1, t2 with 1,
//! 2 and 3 partitions gives C0 one, C1 one, C2 four).

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::{
    all_partitions, empty_assignment, member_info_order, subscribed_topics, GroupAssignment, MemberSubscription,
};

/// Deals the partitions of `topics` that members subscribe to, to the members in turn.
pub fn assign(members: &[MemberSubscription], topics: &BTreeMap<Arc<str>, i32>) -> GroupAssignment {
    let topics = &subscribed_topics(members, topics);
    let mut assignment = empty_assignment(members);
    let mut dealer: Vec<&MemberSubscription> = members.iter().collect();
    dealer.sort_by(|a, b| member_info_order(a, b));
    let mut next = 0;
    for partition in all_partitions(topics) {
        // Some member subscribes to every topic in `topics`, so this stops within one round.
        let skipped = (0..dealer.len())
            .find(|offset| dealer[(next + offset) % dealer.len()].subscribes_to(&partition.topic))
            .expect("some member subscribes to every assigned topic");
        let member = dealer[(next + skipped) % dealer.len()];
        assignment.get_mut(&member.member_id).expect("every member has an entry").push(partition);
        next = (next + skipped + 1) % dealer.len();
    }
    assignment
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assignor::consumer_protocol::Subscription;
    use alloc::string::{String, ToString};

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

    fn rendered(assignment: &GroupAssignment) -> Vec<(String, String)> {
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
    fn equal_subscriptions_deal_partitions_in_turn() {
        // Kafka's example: C0 gets [t0p0, t0p2, t1p1], C1 gets [t0p1, t1p0, t1p2].
        let members = [member("C1", &["t0", "t1"]), member("C0", &["t0", "t1"])];
        let assignment = assign(&members, &topics(&[("t0", 3), ("t1", 3)]));
        assert_eq!(rendered(&assignment), expect(&[("C0", "t0/0 t0/2 t1/1"), ("C1", "t0/1 t1/0 t1/2")]));
    }

    #[test]
    fn members_not_subscribed_to_a_topic_are_passed_over() {
        // Kafka's example of unequal subscriptions.
        let members = [member("C0", &["t0"]), member("C1", &["t0", "t1"]), member("C2", &["t0", "t1", "t2"])];
        let assignment = assign(&members, &topics(&[("t0", 1), ("t1", 2), ("t2", 3)]));
        assert_eq!(rendered(&assignment), expect(&[("C0", "t0/0"), ("C1", "t1/0"), ("C2", "t1/1 t2/0 t2/1 t2/2")]));
    }

    #[test]
    fn more_members_than_partitions_leaves_some_idle() {
        let members = [member("a", &["t"]), member("b", &["t"]), member("c", &["t"]), member("d", &["t"])];
        let assignment = assign(&members, &topics(&[("t", 2)]));
        assert_eq!(rendered(&assignment), expect(&[("a", "t/0"), ("b", "t/1"), ("c", ""), ("d", "")]));
    }

    #[test]
    fn static_members_are_dealt_to_first() {
        let mut members = [member("a", &["t"]), member("b", &["t"])];
        members[1].group_instance_id = Some("i".into());
        let assignment = assign(&members, &topics(&[("t", 3)]));
        assert_eq!(rendered(&assignment), expect(&[("a", "t/1"), ("b", "t/0 t/2")]));
    }
}
