//! What the control panel's forms mean, as lines of the core's command language: each form
//! builds a core [`Command`] and the page runs its printed line, so a click is recorded, shared
//! and replayed exactly like a typed line, and quoting is the core's.
//!
//! Also the values the panel shows: the cluster's dynamic settings as its metadata holds them,
//! the topics a form can name, and which group of a split each broker is in.

use kafkalab_core::command::{ClientName, NodeName, Setting, SplitMember};
use kafkalab_core::ids::BrokerId;
use kafkalab_core::message::Acks;
use kafkalab_core::metadata::ConfigName;
use kafkalab_core::partition_log::LogConfig;
use kafkalab_core::view::ClusterView;
use kafkalab_core::{Command, Simulation};

use crate::panels::is_internal_topic;

/// `produce TOPIC [key=K] [value=V] acks=A`; an empty key or value is left out.
pub fn produce(topic: &str, key: &str, value: &str, acks: Acks) -> String {
    let given = |text: &str| (!text.is_empty()).then(|| text.to_string());
    Command::Produce {
        topic: topic.to_string(),
        partition: None,
        key: given(key),
        value: given(value),
        acks,
        producer: None,
    }
    .to_string()
}

/// The acks a form's choice names: `0`, `1` or `all`.
pub fn acks(choice: &str) -> Acks {
    match choice {
        "0" => Acks::None,
        "1" => Acks::Leader,
        _ => Acks::All,
    }
}

/// `set NAME=VALUE` for one of the cluster's dynamic settings.
pub fn set(name: ConfigName, value: &str) -> String {
    Command::Set { name, value: value.to_string() }.to_string()
}

/// `consumer NAME group=G topics=T auto.offset.reset=earliest`: a consumer that reads the
/// topic from its start, as a learner adding one to a group expects.
pub fn add_consumer(name: &str, group: &str, topic: &str) -> String {
    let setting = |key: &str, value: &str| Setting { key: key.to_string(), value: value.to_string() };
    let settings = vec![setting("group", group), setting("topics", topic), setting("auto.offset.reset", "earliest")];
    Command::Consumer { name: ClientName(name.to_string()), settings }.to_string()
}

/// The first name of the form `consumer-1`, `consumer-2`, ... that no client of the run has.
pub fn next_consumer_name(view: &ClusterView) -> String {
    (1..).map(|n| format!("consumer-{n}")).find(|name| view.client(name).is_none()).expect("an unused name")
}

/// `stop NAME`: the consumer commits and leaves its group, which rebalances.
pub fn remove_consumer(name: &str) -> String {
    Command::Stop { client: ClientName(name.to_string()) }.to_string()
}

/// `create-topic NAME partitions=P replication-factor=R`.
pub fn create_topic(name: &str, partitions: i32, replication_factor: i32) -> String {
    Command::CreateTopic { name: name.to_string(), partitions, replication_factor, config: LogConfig::default() }
        .to_string()
}

/// `alter-topic NAME partitions=P`: partitions are only ever added.
pub fn add_partitions(name: &str, partitions: i32) -> String {
    Command::AlterTopic { name: name.to_string(), partitions }.to_string()
}

/// `split ...` putting each broker in its chosen group (`None`: in no group, so it keeps all
/// its links), or `heal` when fewer than two groups are named.
pub fn split(choices: &[(BrokerId, Option<u8>)]) -> String {
    let mut named: Vec<u8> = choices.iter().filter_map(|(_, group)| *group).collect();
    named.sort_unstable();
    named.dedup();
    if named.len() < 2 {
        return Command::Heal.to_string();
    }
    let groups = named
        .iter()
        .map(|group| {
            choices
                .iter()
                .filter(|(_, chosen)| *chosen == Some(*group))
                .map(|(broker, _)| SplitMember::Node(NodeName::Broker(*broker)))
                .collect()
        })
        .collect();
    Command::Split { groups }.to_string()
}

/// Which group of the current split each broker is in (numbered from 0 in the split's order),
/// or `None` when the split names it in no group or the network is whole.
pub fn split_groups(simulation: &Simulation) -> Vec<(BrokerId, Option<u8>)> {
    let faults = simulation.faults();
    simulation
        .brokers()
        .map(|broker| {
            let node = simulation.host(kafkalab_core::message::NodeId::Broker(broker.id()));
            let group = faults.split.iter().position(|group| group.contains(&node));
            (broker.id(), group.and_then(|g| u8::try_from(g).ok()))
        })
        .collect()
}

/// The cluster's dynamic settings the panel shows, as the active metadata holds them.
pub fn setting(simulation: &Simulation, name: ConfigName) -> String {
    simulation.metadata().config.value(name)
}

/// The topics a form can name (internal topics left out), with their partition counts.
pub fn topics(simulation: &Simulation) -> Vec<(String, i32)> {
    simulation
        .metadata()
        .topics
        .iter()
        .filter(|(name, _)| !is_internal_topic(name))
        .map(|(name, partitions)| (name.clone(), *partitions))
        .collect()
}

/// What the control panel shows of the run: its forms' choices and current values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ControlState {
    pub topics: Vec<(String, i32)>,
    pub brokers: usize,
    pub min_insync_replicas: String,
    pub unclean_leader_election: bool,
    pub split: Vec<(BrokerId, Option<u8>)>,
    pub next_consumer: String,
    /// The consumer groups a new consumer can join (the first is the default).
    pub groups: Vec<String>,
    /// The named consumers running, which the panel can stop.
    pub consumers: Vec<String>,
}

impl ControlState {
    /// The panel's state for `simulation`, whose view is `view` (already built for the page).
    pub fn of(simulation: &Simulation, view: &ClusterView) -> Self {
        let mut groups: Vec<String> =
            view.groups.iter().map(|g| g.group_id.clone()).filter(|g| !is_internal_topic(g)).collect();
        if groups.is_empty() {
            groups.push(String::from("billing"));
        }
        ControlState {
            topics: topics(simulation),
            brokers: view.brokers.len(),
            min_insync_replicas: setting(simulation, ConfigName::MinInsyncReplicas),
            unclean_leader_election: setting(simulation, ConfigName::UncleanLeaderElectionEnable) == "true",
            split: split_groups(simulation),
            next_consumer: next_consumer_name(view),
            groups,
            consumers: view
                .clients
                .iter()
                .filter(|c| c.alive && !c.closed && c.group.is_some())
                .map(|c| c.name.0.clone())
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Lab;

    /// Every line a form builds is one the core reads back as the same line.
    fn round_trips(line: &str) {
        let command = Command::parse(line).unwrap_or_else(|e| panic!("{line:?}: {e}"));
        assert_eq!(command.to_string(), line);
    }

    #[test]
    fn a_record_with_spaces_in_its_value_is_quoted_by_the_core_and_read_back_whole() {
        let line = produce("orders", "alice", "two words", acks("1"));
        round_trips(&line);
        assert_eq!(line, "produce orders key=alice value=\"two words\" acks=1");
        assert_eq!(produce("orders", "", "", acks("all")), "produce orders acks=all");
    }

    #[test]
    fn every_forms_line_is_a_core_command_printed_and_reads_back_the_same() {
        for line in [
            set(ConfigName::MinInsyncReplicas, "2"),
            set(ConfigName::UncleanLeaderElectionEnable, "true"),
            add_consumer("consumer-1", "billing", "orders"),
            create_topic("payments", 6, 3),
            add_partitions("orders", 6),
            remove_consumer("consumer-1"),
            split(&[(BrokerId(1), Some(0)), (BrokerId(2), Some(1)), (BrokerId(3), Some(1))]),
        ] {
            round_trips(&line);
        }
        assert_eq!(
            add_consumer("consumer-1", "billing", "orders"),
            "consumer consumer-1 group=billing topics=orders auto.offset.reset=earliest"
        );
        assert_eq!(create_topic("payments", 6, 3), "create-topic payments partitions=6 replication-factor=3");
        assert_eq!(remove_consumer("consumer-1"), "stop consumer-1");
    }

    #[test]
    fn a_split_needs_two_groups_and_a_broker_in_none_keeps_its_links() {
        assert_eq!(split(&[(BrokerId(1), Some(0)), (BrokerId(2), None), (BrokerId(3), Some(1))]), "split 1 | 3");
        assert_eq!(split(&[(BrokerId(1), Some(1)), (BrokerId(2), Some(1)), (BrokerId(3), None)]), "heal");
    }

    #[test]
    fn the_panel_reads_back_the_split_and_the_settings_it_changed() {
        let mut lab = Lab::new(1);
        lab.advance(1_000);
        lab.run_line(&split(&[(BrokerId(1), Some(0)), (BrokerId(2), Some(1)), (BrokerId(3), Some(1))])).unwrap();
        lab.run_line(&set(ConfigName::MinInsyncReplicas, "2")).unwrap();
        lab.advance(2_000);
        let simulation = lab.simulation();
        assert_eq!(split_groups(simulation), [(BrokerId(1), Some(0)), (BrokerId(2), Some(1)), (BrokerId(3), Some(1))]);
        assert_eq!(setting(simulation, ConfigName::MinInsyncReplicas), "2");
        assert_eq!(topics(simulation), [(String::from("orders"), 3)]);
        lab.run_line("heal").unwrap();
        assert!(split_groups(lab.simulation()).iter().all(|(_, group)| group.is_none()));
    }

    #[test]
    fn a_new_consumer_gets_the_first_free_name() {
        let mut lab = Lab::new(1);
        assert_eq!(next_consumer_name(&lab.view()), "consumer-1");
        lab.run_line(&add_consumer("consumer-1", "billing", "orders")).unwrap();
        assert_eq!(next_consumer_name(&lab.view()), "consumer-2");
        assert_eq!(ControlState::of(lab.simulation(), &lab.view()).consumers, ["consumer-1"]);
        lab.run_line(&remove_consumer("consumer-1")).unwrap();
        lab.advance(1_000);
        assert!(
            ControlState::of(lab.simulation(), &lab.view()).consumers.is_empty(),
            "a stopped consumer is not offered"
        );
    }
}
