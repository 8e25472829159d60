//! What the consumer-groups and clients panels list, as plain rows computed from a
//! [`ClusterView`] (plain Rust, tested on the host), and the topics the line above the drawing
//! names. The components in `groups` and `clients` only draw these rows.
//!
//! A group's partition table joins what the coordinator holds (members' assignments and
//! committed offsets) with the partition leaders' log end offsets: the lag is the leader's log
//! end offset minus the committed offset, as `kafka-consumer-groups --describe` reports LAG.

use kafkalab_core::group::protocol::GroupState;
use kafkalab_core::ids::{BrokerId, TopicPartition};
use kafkalab_core::placement::{CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC};
use kafkalab_core::view::{ClientKindView, ClientView, ClusterView, GroupView, MemberView};

/// Kafka's internal topics, which the page hides unless asked: the coordinators' logs.
pub fn is_internal_topic(topic: &str) -> bool {
    topic == CONSUMER_OFFSETS_TOPIC || topic == TRANSACTION_STATE_TOPIC
}

/// A topic as the line above the drawing describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSummary {
    pub name: String,
    pub partitions: usize,
    /// Replicas of its first partition (Kafka gives every partition of a topic as many).
    pub replication_factor: usize,
}

/// The topics of the cluster but Kafka's internal ones, by name.
pub fn topic_summaries(view: &ClusterView) -> Vec<TopicSummary> {
    let mut topics: Vec<TopicSummary> = Vec::new();
    for partition in view.partitions.iter().filter(|p| !is_internal_topic(&p.partition.topic)) {
        match topics.iter_mut().find(|t| *t.name == *partition.partition.topic) {
            Some(topic) => topic.partitions += 1,
            None => topics.push(TopicSummary {
                name: partition.partition.topic.to_string(),
                partitions: 1,
                replication_factor: partition.replicas.len(),
            }),
        }
    }
    topics.sort_by(|a, b| a.name.cmp(&b.name));
    topics
}

/// A group's state as the page names it: Kafka's word, a marker that tells the states apart
/// without colour, and the CSS class that colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StateLabel {
    /// Kafka's name (`Stable`), or `Unknown` while no coordinator holds the group.
    pub word: &'static str,
    /// A shape per state: ● stable, ◐ rebalancing, ○ empty, ✕ dead, ? unknown.
    pub marker: &'static str,
    /// `stable`, `rebalancing`, `empty`, `dead` or `unknown`.
    pub class: &'static str,
}

/// How the page shows a group in `state` (`None`: no live coordinator holds it).
pub fn group_state_label(state: Option<GroupState>) -> StateLabel {
    let (marker, class) = match state {
        Some(GroupState::Stable) => ("●", "stable"),
        Some(GroupState::PreparingRebalance) => ("◐", "rebalancing"),
        Some(GroupState::CompletingRebalance) => ("◑", "rebalancing"),
        Some(GroupState::Empty) => ("○", "empty"),
        Some(GroupState::Dead) => ("✕", "dead"),
        None => ("?", "unknown"),
    };
    StateLabel { word: state.map_or("Unknown", GroupState::name), marker, class }
}

/// One member of a group, as its row in the panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberRow {
    /// The named client holding the member id, or the member id itself.
    pub label: String,
    pub member_id: String,
    /// `group.instance.id`, for a static member.
    pub instance_id: Option<String>,
    /// The member whose assignor decides.
    pub is_leader: bool,
    /// Its partitions in the current generation, as `orders/0`.
    pub assignment: Vec<String>,
}

/// One partition of a group's table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupPartitionRow {
    /// `orders/0`.
    pub partition: String,
    /// The member the coordinator assigned it to (by label), if any.
    pub owner: Option<String>,
    /// The committed offset: the next record the group reads.
    pub committed: Option<i64>,
    /// The leader replica's log end offset.
    pub log_end: Option<i64>,
    /// Log end minus committed, when both are known.
    pub lag: Option<i64>,
}

/// One consumer group, as the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupRow {
    pub group_id: String,
    pub state: StateLabel,
    pub generation: Option<i32>,
    pub coordinator: Option<BrokerId>,
    pub members: Vec<MemberRow>,
    /// Every partition assigned or committed, in partition order.
    pub partitions: Vec<GroupPartitionRow>,
    /// Partitions of internal topics left out of `partitions`.
    pub hidden_internal: usize,
    pub records_processed: u64,
    pub duplicates: u64,
}

fn member_label(member: &MemberView) -> String {
    member.client.as_ref().map_or_else(|| member.member_id.clone(), |c| c.0.clone())
}

/// The panel's rows for every group of the view; internal topics' partitions only with
/// `show_internal`.
pub fn group_rows(view: &ClusterView, show_internal: bool) -> Vec<GroupRow> {
    view.groups.iter().map(|group| group_row(view, group, show_internal)).collect()
}

fn group_row(view: &ClusterView, group: &GroupView, show_internal: bool) -> GroupRow {
    let members: Vec<MemberRow> = group
        .members
        .iter()
        .map(|m| MemberRow {
            label: member_label(m),
            member_id: m.member_id.clone(),
            instance_id: m.instance_id.clone(),
            is_leader: group.leader.as_deref() == Some(m.member_id.as_str()),
            assignment: m.assignment.iter().map(ToString::to_string).collect(),
        })
        .collect();
    let mut partitions: Vec<&TopicPartition> = group
        .members
        .iter()
        .flat_map(|m| m.assignment.iter())
        .chain(group.committed.iter().map(|c| &c.partition))
        .collect();
    partitions.sort();
    partitions.dedup();
    let all = partitions.len();
    partitions.retain(|p| show_internal || !is_internal_topic(&p.topic));
    let rows = partitions
        .into_iter()
        .map(|partition| {
            let owner = group.members.iter().find(|m| m.assignment.contains(partition)).map(member_label);
            let committed = group.committed_offset(partition).map(|o| o.0);
            let log_end = view.leader_replica(partition).map(|r| r.log_end_offset.0);
            GroupPartitionRow {
                partition: partition.to_string(),
                owner,
                committed,
                log_end,
                lag: view.lag(&group.group_id, partition),
            }
        })
        .collect::<Vec<_>>();
    GroupRow {
        group_id: group.group_id.clone(),
        state: group_state_label(group.state),
        generation: group.generation_id,
        coordinator: group.coordinator,
        members,
        hidden_internal: all - rows.len(),
        partitions: rows,
        records_processed: group.records_processed,
        duplicates: group.duplicates,
    }
}

/// One named client, as the clients panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientRow {
    pub name: String,
    /// `producer` or `consumer`.
    pub kind: &'static str,
    pub alive: bool,
    /// What the client holds, as `label: value` pairs in the order shown.
    pub details: Vec<(&'static str, String)>,
    /// The command its button runs: `kill NAME` while it runs, `restart NAME` once it is down.
    pub action: String,
}

/// The panel's rows, one per named client in the order they were started.
pub fn client_rows(view: &ClusterView) -> Vec<ClientRow> {
    view.clients.iter().map(client_row).collect()
}

fn client_row(client: &ClientView) -> ClientRow {
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| String::from("–"));
    let details = match client.kind {
        ClientKindView::Producer => {
            let mut details = vec![
                ("producer id", or_dash(client.producer_id.map(|id| id.to_string()))),
                ("epoch", or_dash(client.producer_epoch.map(|e| e.to_string()))),
            ];
            if let Some(id) = &client.transactional_id {
                details.push(("transactional.id", id.clone()));
                details.push(("transaction", or_dash(client.transaction_state.map(|s| s.name().to_string()))));
            }
            details
        }
        ClientKindView::Consumer => {
            let assignment = client.assignment.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
            vec![
                ("group", or_dash(client.group.clone())),
                ("generation", or_dash(client.generation_id.map(|g| g.to_string()))),
                ("assignment", if assignment.is_empty() { String::from("none") } else { assignment }),
                ("processed", client.records_processed.to_string()),
            ]
        }
    };
    let verb = if client.alive { "kill" } else { "restart" };
    ClientRow {
        name: client.name.0.clone(),
        kind: match client.kind {
            ClientKindView::Producer => "producer",
            ClientKindView::Consumer => "consumer",
        },
        alive: client.alive,
        details,
        action: format!("{verb} {}", client.name),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Lab;

    /// A lab with consumer alice in group billing, settled.
    fn billing_lab() -> Lab {
        let mut lab = Lab::new(1);
        lab.run_line("advance 1s").unwrap();
        lab.run_line("consumer alice group=billing topics=orders auto.offset.reset=earliest").unwrap();
        lab.run_line("advance 10s").unwrap();
        lab
    }

    #[test]
    fn the_topics_are_summed_up_by_partitions_and_replication_factor_without_the_internal_ones() {
        let mut lab = billing_lab();
        lab.run_line("create-topic big partitions=50 replication-factor=2").unwrap();
        lab.run_line("advance 2s").unwrap();
        let summary = |name: &str, partitions, replication_factor| TopicSummary {
            name: name.to_string(),
            partitions,
            replication_factor,
        };
        assert_eq!(topic_summaries(&lab.view()), [summary("big", 50, 2), summary("orders", 3, 3)]);
    }

    #[test]
    fn a_lone_consumer_makes_its_group_stable_and_owns_every_partition() {
        let lab = billing_lab();
        let groups = group_rows(&lab.view(), false);
        let billing = groups.iter().find(|g| g.group_id == "billing").expect("the group is listed");
        assert_eq!(billing.state.word, "Stable");
        assert_eq!(billing.members.len(), 1);
        assert_eq!(billing.members[0].label, "alice");
        assert!(billing.members[0].is_leader);
        assert_eq!(billing.members[0].assignment, ["orders/0", "orders/1", "orders/2"]);
        let owners: Vec<_> = billing.partitions.iter().map(|p| (p.partition.as_str(), p.owner.as_deref())).collect();
        assert_eq!(owners, [("orders/0", Some("alice")), ("orders/1", Some("alice")), ("orders/2", Some("alice"))]);
        assert!(billing.coordinator.is_some());
    }

    #[test]
    fn lag_is_the_leaders_log_end_minus_the_committed_offset() {
        let mut lab = billing_lab();
        lab.run_line("stop alice").unwrap();
        lab.run_line("advance 2s").unwrap();
        for value in 0..3 {
            lab.run_line(&format!("produce orders partition=0 value={value} acks=all")).unwrap();
        }
        lab.run_line("advance 2s").unwrap();
        let view = lab.view();
        let billing = group_rows(&view, false).into_iter().find(|g| g.group_id == "billing").unwrap();
        let row = billing.partitions.iter().find(|p| p.partition == "orders/0").unwrap();
        assert_eq!(row.log_end, Some(3));
        assert_eq!(row.committed, Some(0), "alice committed her position before the records came");
        assert_eq!(row.lag, Some(3));
        assert_eq!(billing.state.word, "Empty");
    }

    #[test]
    fn internal_topics_are_hidden_until_asked_for() {
        let view = billing_lab().view();
        assert!(is_internal_topic("__consumer_offsets") && !is_internal_topic("orders"));
        for show in [false, true] {
            for group in group_rows(&view, show) {
                let internal =
                    group.partitions.iter().filter(|p| is_internal_topic(p.partition.split('/').next().unwrap()));
                assert_eq!(internal.count(), if show { group.hidden_internal } else { 0 });
            }
        }
    }

    #[test]
    fn a_clients_button_kills_it_while_it_runs_and_restarts_it_once_down() {
        let mut lab = billing_lab();
        let alice = client_rows(&lab.view()).into_iter().find(|c| c.name == "alice").unwrap();
        assert_eq!((alice.kind, alice.alive, alice.action.as_str()), ("consumer", true, "kill alice"));
        assert!(alice.details.contains(&("group", String::from("billing"))));
        assert!(alice.details.contains(&("assignment", String::from("orders/0, orders/1, orders/2"))));
        lab.run_line(&alice.action).unwrap();
        let alice = client_rows(&lab.view()).into_iter().find(|c| c.name == "alice").unwrap();
        assert_eq!((alice.alive, alice.action.as_str()), (false, "restart alice"));
        lab.run_line(&alice.action).unwrap();
        assert_eq!(lab.history().last().map(String::as_str), Some("restart alice"));
    }

    #[test]
    fn a_transactional_producer_shows_its_id_epoch_and_transaction() {
        let mut lab = Lab::new(1);
        lab.run_line("advance 1s").unwrap();
        lab.run_line("producer tx transactional.id=orders-tx").unwrap();
        lab.run_line("advance 5s").unwrap();
        lab.run_line("begin tx").unwrap();
        lab.run_line("produce orders key=a value=1 producer=tx").unwrap();
        lab.run_line("advance 1s").unwrap();
        let tx = client_rows(&lab.view()).into_iter().find(|c| c.name == "tx").unwrap();
        assert_eq!(tx.kind, "producer");
        let detail = |label| tx.details.iter().find(|(l, _)| *l == label).map(|(_, v)| v.clone()).unwrap();
        assert_ne!(detail("producer id"), "–", "InitProducerId assigned one");
        assert_eq!(detail("epoch"), "0");
        assert_eq!(detail("transactional.id"), "orders-tx");
        assert_eq!(detail("transaction"), "Ongoing");
    }

    #[test]
    fn every_group_state_has_its_own_marker() {
        let states = [
            Some(GroupState::Empty),
            Some(GroupState::PreparingRebalance),
            Some(GroupState::CompletingRebalance),
            Some(GroupState::Stable),
            Some(GroupState::Dead),
            None,
        ];
        let mut markers: Vec<_> = states.iter().map(|s| group_state_label(*s).marker).collect();
        markers.sort();
        markers.dedup();
        assert_eq!(markers.len(), states.len());
        assert_eq!(group_state_label(Some(GroupState::CompletingRebalance)).word, "CompletingRebalance");
    }
}
