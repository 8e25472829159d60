//! What the inspector shows of the thing selected (a partition replica, a broker, a controller
//! or a consumer group), as plain rows read from the core's views (plain Rust, tested on the
//! host; `inspector` draws them).
//!
//! The selection is the page's state only, never part of the recording: inspecting changes
//! nothing in the run. The replica's log and the nodes' own state come from the core's
//! on-demand reads ([`Simulation::replica_log`], [`Simulation::broker_details`], ...), built
//! only for the one thing selected.

use kafkalab_core::ids::{BrokerId, ControllerId, TopicPartition};
use kafkalab_core::record_batch::TransactionResult;
use kafkalab_core::simulation::{BatchView, ReplicaLogView};
use kafkalab_core::view::ClusterView;
use kafkalab_core::Simulation;

use crate::broker_rows::broker_state;
use crate::panels::{group_rows, GroupRow};

/// What the inspector is showing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Selection {
    /// One broker's replica of a partition: its log.
    Replica {
        broker: BrokerId,
        partition: TopicPartition,
    },
    Broker(BrokerId),
    Controller(ControllerId),
    /// A consumer group, by id.
    Group(String),
}

/// A label and its value, as a line of a panel's facts.
pub type Fact = (&'static str, String);

/// One batch of a replica's log, as the batch list shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchRow {
    pub base_offset: i64,
    pub last_offset: i64,
    /// `3` or `3–5`.
    pub offsets: String,
    /// `producer 4000 · epoch 0 · seq 0`, or `no producer id` for a plain producer's batch.
    pub producer: String,
    pub producer_id: i64,
    pub committed: bool,
    /// `transactional`, `control: COMMIT`, `gzip`, ...
    pub flags: Vec<String>,
    /// `offset 3: key "alice" → "10"`, one per record.
    pub records: Vec<String>,
    /// Batch length plus the 12 bytes before it.
    pub size_bytes: usize,
}

/// A partition replica's panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaPanel {
    pub broker: BrokerId,
    pub partition: String,
    /// The brokers assigned a replica of the partition, to switch between them.
    pub replica_brokers: Vec<BrokerId>,
    pub facts: Vec<Fact>,
    pub batches: Vec<BatchRow>,
    /// The batches as the core read them, for the hex dump of the one chosen.
    pub log: ReplicaLogView,
}

/// One replica a broker holds, as its panel lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HeldReplicaRow {
    /// `orders/0`.
    pub partition: String,
    /// The same, to select it.
    pub topic_partition: TopicPartition,
    /// `★ leader` or `follower of 2`.
    pub role: String,
    /// `in ISR`, `out of ISR`, or `not assigned` for a stray replica.
    pub isr: &'static str,
    pub log_end: i64,
    pub high_watermark: i64,
}

/// A broker's panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerPanel {
    pub id: BrokerId,
    pub status: &'static str,
    pub facts: Vec<Fact>,
    pub replicas: Vec<HeldReplicaRow>,
}

/// A controller's panel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerPanel {
    pub id: ControllerId,
    pub role: String,
    pub facts: Vec<Fact>,
    /// Its metadata log, newest first: `(offset, epoch, committed, record)`.
    pub entries: Vec<(i64, u64, bool, String)>,
}

/// A consumer group's panel: its row of the groups panel, and its protocol.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupPanel {
    pub row: GroupRow,
    pub facts: Vec<Fact>,
}

/// What the inspector shows now.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Inspected {
    Nothing,
    Replica(Box<ReplicaPanel>),
    Broker(BrokerPanel),
    Controller(ControllerPanel),
    Group(GroupPanel),
    /// The selection names something the run does not hold (any longer).
    Gone(String),
}

/// The most metadata log entries a controller's panel lists.
pub const MAX_METADATA_ENTRIES: usize = 40;

/// Reads what `selection` shows from the run and its view.
pub fn inspect(simulation: &Simulation, view: &ClusterView, selection: Option<&Selection>) -> Inspected {
    match selection {
        None => Inspected::Nothing,
        Some(Selection::Replica { broker, partition }) => replica_panel(simulation, view, *broker, partition)
            .map_or_else(
                || Inspected::Gone(format!("broker {broker} holds no replica of {partition}")),
                |p| Inspected::Replica(Box::new(p)),
            ),
        Some(Selection::Broker(id)) => broker_panel(simulation, view, *id)
            .map_or_else(|| Inspected::Gone(format!("no broker {id}")), Inspected::Broker),
        Some(Selection::Controller(id)) => controller_panel(simulation, view, *id)
            .map_or_else(|| Inspected::Gone(format!("no controller {}", id.0)), Inspected::Controller),
        Some(Selection::Group(group_id)) => group_panel(simulation, view, group_id)
            .map_or_else(|| Inspected::Gone(format!("no group {group_id}")), Inspected::Group),
    }
}

/// The replica a click on a partition (not on one broker's replica) opens: its leader's, or
/// its first assigned replica's while it has no leader.
pub fn replica_of_partition(view: &ClusterView, partition: &TopicPartition) -> Option<Selection> {
    let state = view.partition(partition)?;
    let broker = state.leader.or_else(|| state.replicas.first().map(|r| r.broker))?;
    Some(Selection::Replica { broker, partition: partition.clone() })
}

fn replica_panel(
    simulation: &Simulation,
    view: &ClusterView,
    broker: BrokerId,
    partition: &TopicPartition,
) -> Option<ReplicaPanel> {
    let log = simulation.replica_log(broker, partition)?;
    let replica_brokers = view.partition(partition).map(|p| p.replicas.iter().map(|r| r.broker).collect());
    let facts = vec![
        ("role", if log.is_leader { String::from("★ leader") } else { String::from("follower") }),
        ("leader epoch", log.leader_epoch.0.to_string()),
        ("log start", log.log_start_offset.0.to_string()),
        ("log end (LEO)", log.log_end_offset.0.to_string()),
        ("high watermark", log.high_watermark.0.to_string()),
        ("last stable offset", log.last_stable_offset.0.to_string()),
        ("batches", log.batches.len().to_string()),
    ];
    Some(ReplicaPanel {
        broker,
        partition: partition.to_string(),
        replica_brokers: replica_brokers.unwrap_or_else(|| vec![broker]),
        facts,
        batches: log.batches.iter().map(batch_row).collect(),
        log,
    })
}

/// One batch's line in the list.
pub fn batch_row(batch: &BatchView) -> BatchRow {
    let (base, last) = (batch.base_offset.0, batch.last_offset.0);
    let producer = if batch.producer_id < 0 {
        String::from("no producer id")
    } else {
        format!("producer {} · epoch {} · seq {}", batch.producer_id, batch.producer_epoch, batch.base_sequence)
    };
    let mut flags = Vec::new();
    if batch.transactional {
        flags.push(String::from("transactional"));
    }
    match (batch.control, batch.marker) {
        (true, Some(TransactionResult::Commit)) => flags.push(String::from("control: COMMIT")),
        (true, Some(TransactionResult::Abort)) => flags.push(String::from("control: ABORT")),
        (true, None) => flags.push(String::from("control")),
        (false, _) => {}
    }
    if batch.compression.id() != 0 {
        flags.push(batch.compression.name().to_string());
    }
    let shown = |text: &Option<String>| text.as_ref().map_or_else(|| String::from("null"), |t| format!("{t:?}"));
    let records = batch
        .records
        .iter()
        .map(|r| format!("offset {}: key {} → {}", r.offset.0, shown(&r.key), shown(&r.value)))
        .collect();
    BatchRow {
        base_offset: base,
        last_offset: last,
        offsets: if base == last { base.to_string() } else { format!("{base}–{last}") },
        producer,
        producer_id: batch.producer_id,
        committed: batch.committed,
        flags,
        records,
        size_bytes: batch.bytes.len(),
    }
}

fn broker_panel(simulation: &Simulation, view: &ClusterView, id: BrokerId) -> Option<BrokerPanel> {
    let details = simulation.broker_details(id)?;
    let status = view.broker(id).map_or("dead", broker_state);
    let fenced = view.broker(id).is_some_and(|b| b.fenced);
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| String::from("–"));
    let list = |items: &[String]| if items.is_empty() { String::from("none") } else { items.join(", ") };
    let leads = details.replicas.iter().filter(|r| r.is_leader).count();
    let facts = vec![
        ("status", String::from(status)),
        ("fenced", String::from(if fenced { "yes: the controller fenced it" } else { "no" })),
        ("metadata applied to", details.applied_metadata_offset.0.to_string()),
        ("metadata log HW", details.metadata_high_watermark.0.to_string()),
        ("active controller it follows", or_dash(details.metadata_leader.map(|c| format!("c{}", c.0)))),
        ("leads · follows", format!("{leads} · {}", details.replicas.len() - leads)),
        ("coordinates groups", list(&details.coordinated_groups)),
        ("coordinates transactions", list(&details.coordinated_transactions)),
    ];
    let replicas = details
        .replicas
        .iter()
        .map(|held| {
            let assigned = view.partition(&held.partition);
            let isr = match assigned {
                Some(p) if p.isr.contains(&id) => "in ISR",
                Some(p) if p.replicas.iter().any(|r| r.broker == id) => "out of ISR",
                _ => "not assigned",
            };
            let role = if held.is_leader {
                String::from("★ leader")
            } else {
                held.following.map_or_else(|| String::from("follower"), |leader| format!("follower of {leader}"))
            };
            HeldReplicaRow {
                partition: held.partition.to_string(),
                topic_partition: held.partition.clone(),
                role,
                isr,
                log_end: held.log_end_offset.0,
                high_watermark: held.high_watermark.0,
            }
        })
        .collect();
    Some(BrokerPanel { id, status, facts, replicas })
}

fn controller_panel(simulation: &Simulation, view: &ClusterView, id: ControllerId) -> Option<ControllerPanel> {
    let controller = view.controller(id)?;
    let role = if controller.alive { controller.role.to_string() } else { String::from("dead") };
    let name = |c: Option<ControllerId>| c.map_or_else(|| String::from("–"), |c| format!("c{}", c.0));
    let facts = vec![
        ("role", role.clone()),
        ("active", String::from(if view.active_controller == Some(id) { "yes ★" } else { "no" })),
        ("epoch", controller.epoch.0.to_string()),
        ("leader it knows", name(controller.leader)),
        ("voted for", name(simulation.controller_voted_for(id))),
        ("log end", controller.log_end_offset.0.to_string()),
        ("high watermark", controller.high_watermark.0.to_string()),
    ];
    let entries = controller
        .entries
        .iter()
        .rev()
        .flat_map(|e| e.records.iter().rev().map(move |r| (e.offset.0, e.epoch.0, e.committed, r.clone())))
        .take(MAX_METADATA_ENTRIES)
        .collect();
    Some(ControllerPanel { id, role, facts, entries })
}

fn group_panel(simulation: &Simulation, view: &ClusterView, group_id: &str) -> Option<GroupPanel> {
    let group = view.group(group_id)?;
    let row = group_rows(view, true).into_iter().find(|row| row.group_id == group_id)?;
    let protocol = group.coordinator.and_then(|c| simulation.group_protocol(c, group_id));
    let or_dash = |value: Option<String>| value.unwrap_or_else(|| String::from("–"));
    let leader = group.leader.as_ref().map(|leader| {
        row.members.iter().find(|m| &m.member_id == leader).map_or_else(|| leader.clone(), |m| m.label.clone())
    });
    let facts = vec![
        ("state", format!("{} {}", row.state.marker, row.state.word)),
        ("generation", or_dash(group.generation_id.map(|g| g.to_string()))),
        ("coordinator", or_dash(group.coordinator.map(|b| format!("broker {b}")))),
        ("protocol type", or_dash(protocol.as_ref().and_then(|p| p.protocol_type.clone()))),
        ("assignor", or_dash(protocol.and_then(|p| p.protocol_name))),
        ("leader", or_dash(leader)),
    ];
    Some(GroupPanel { row, facts })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Lab;

    fn fact<'a>(facts: &'a [Fact], label: &str) -> &'a str {
        facts.iter().find(|(l, _)| *l == label).map(|(_, v)| v.as_str()).unwrap_or_else(|| panic!("no {label}"))
    }

    /// A settled lab with two keyed records in orders/0 and consumer alice in group billing.
    fn lab() -> Lab {
        let mut lab = Lab::new(1);
        lab.run_line("advance 1s").unwrap();
        lab.run_line("produce orders partition=0 key=alice value=10 acks=all").unwrap();
        lab.run_line("produce orders partition=0 key=bob value=11 acks=all").unwrap();
        lab.run_line("consumer alice group=billing topics=orders").unwrap();
        lab.run_line("advance 10s").unwrap();
        lab
    }

    fn inspected(lab: &Lab, selection: Selection) -> Inspected {
        inspect(lab.simulation(), &lab.view(), Some(&selection))
    }

    #[test]
    fn a_replica_shows_its_batches_with_offsets_producer_and_records() {
        let lab = lab();
        let orders0 = TopicPartition::new("orders", 0);
        let selection = replica_of_partition(&lab.view(), &orders0).unwrap();
        let Inspected::Replica(panel) = inspected(&lab, selection) else { panic!("a replica panel") };
        assert_eq!(fact(&panel.facts, "role"), "★ leader", "a partition opens its leader's replica");
        assert_eq!(fact(&panel.facts, "log end (LEO)"), "2");
        assert_eq!(panel.replica_brokers.len(), 3);
        let offsets: Vec<&str> = panel.batches.iter().map(|b| b.offsets.as_str()).collect();
        assert_eq!(offsets, ["0", "1"]);
        assert_eq!(panel.batches[0].records, ["offset 0: key \"alice\" → \"10\""]);
        assert!(panel.batches.iter().all(|b| b.committed));
        assert_eq!(panel.batches[0].size_bytes, panel.log.batches[0].bytes.len());
    }

    #[test]
    fn a_batch_row_names_its_producer_and_flags() {
        let mut lab = Lab::new(1);
        lab.run_line("advance 1s").unwrap();
        lab.run_line("producer tx transactional.id=orders-tx").unwrap();
        lab.run_line("advance 5s").unwrap();
        lab.run_line("begin tx").unwrap();
        lab.run_line("produce orders partition=1 key=a value=1 producer=tx").unwrap();
        lab.run_line("advance 1s").unwrap();
        lab.run_line("commit tx").unwrap();
        lab.run_line("advance 2s").unwrap();
        let view = lab.view();
        let selection = replica_of_partition(&view, &TopicPartition::new("orders", 1)).unwrap();
        let Inspected::Replica(panel) = inspect(lab.simulation(), &view, Some(&selection)) else { panic!() };
        let producer_id = view.client("tx").and_then(|c| c.producer_id).unwrap();
        let data = &panel.batches[0];
        assert_eq!(data.producer, format!("producer {producer_id} · epoch 0 · seq 0"));
        assert_eq!(data.flags, ["transactional"]);
        let marker = panel.batches.last().unwrap();
        assert_eq!(marker.flags, ["transactional", "control: COMMIT"]);
        assert_eq!(marker.records.len(), 1);
    }

    #[test]
    fn a_broker_shows_what_it_leads_and_follows_and_its_isr_membership() {
        let lab = lab();
        let Inspected::Broker(panel) = inspected(&lab, Selection::Broker(BrokerId(2))) else { panic!() };
        assert_eq!((panel.status, fact(&panel.facts, "fenced")), ("alive", "no"));
        let view = lab.view();
        let orders: Vec<&HeldReplicaRow> =
            panel.replicas.iter().filter(|r| r.partition.starts_with("orders/")).collect();
        assert_eq!(orders.len(), 3);
        for row in orders {
            let leader =
                view.partition(&TopicPartition::new("orders", row.partition[7..].parse().unwrap())).unwrap().leader;
            let expected = if leader == Some(BrokerId(2)) {
                String::from("★ leader")
            } else {
                format!("follower of {}", leader.unwrap())
            };
            assert_eq!((row.role.clone(), row.isr), (expected, "in ISR"));
        }
    }

    #[test]
    fn a_controller_shows_role_epoch_vote_and_its_metadata_log_newest_first() {
        let lab = lab();
        let view = lab.view();
        let active = view.active_controller.unwrap();
        let Inspected::Controller(panel) = inspected(&lab, Selection::Controller(active)) else { panic!() };
        assert_eq!(panel.role, "leader");
        assert_eq!(fact(&panel.facts, "active"), "yes ★");
        assert_eq!(fact(&panel.facts, "voted for"), format!("c{}", active.0));
        assert_eq!(fact(&panel.facts, "epoch"), view.controller(active).unwrap().epoch.0.to_string());
        assert!(!panel.entries.is_empty());
        assert!(panel.entries.windows(2).all(|w| w[0].0 >= w[1].0), "newest first");
    }

    #[test]
    fn a_group_shows_state_protocol_members_and_lag() {
        let lab = lab();
        let Inspected::Group(panel) = inspected(&lab, Selection::Group(String::from("billing"))) else { panic!() };
        assert_eq!(fact(&panel.facts, "state"), "● Stable");
        assert_eq!(fact(&panel.facts, "protocol type"), "consumer");
        assert_eq!(fact(&panel.facts, "leader"), "alice");
        assert_eq!(panel.row.members[0].assignment, ["orders/0", "orders/1", "orders/2"]);
        assert!(panel.row.partitions.iter().any(|p| p.partition == "orders/0"));
    }

    #[test]
    fn a_selection_the_run_does_not_hold_says_so() {
        let lab = lab();
        let gone = inspected(&lab, Selection::Replica { broker: BrokerId(1), partition: TopicPartition::new("x", 0) });
        assert!(matches!(gone, Inspected::Gone(_)));
        assert!(matches!(inspected(&lab, Selection::Group(String::from("nobody"))), Inspected::Gone(_)));
        assert_eq!(inspect(lab.simulation(), &lab.view(), None), Inspected::Nothing);
    }
}
