//! Consumer groups end to end in the simulator: named consumers find their coordinator (the
//! leader of the group's `__consumer_offsets` partition, created on first use), join, get
//! partitions from the group leader's assignor, commit offsets and process records. Each test
//! names the claim it shows.

mod scenario;

use std::collections::BTreeMap;

use kafkalab_core::group::protocol::GroupState;
use kafkalab_core::ids::{BrokerId, TopicPartition};
use kafkalab_core::simulation::{ClientKind, ProcessedRecord};
use kafkalab_core::{Offset, Simulation};
use scenario::{lab, run};

/// The broker coordinating `group`, with the group's state, generation and member count.
fn group_state(simulation: &Simulation, group: &str) -> Option<(BrokerId, GroupState, i32, usize)> {
    simulation.brokers().filter(|b| simulation.is_alive(b.id())).find_map(|broker| {
        let g = broker.group_coordinator().group(group)?;
        Some((broker.id(), g.state(), g.generation_id(), g.members().count()))
    })
}

/// A named consumer's own view: generation and assignment.
fn consumer_view(simulation: &Simulation, name: &str) -> (i32, Vec<String>) {
    let client = simulation.client(name).unwrap_or_else(|| panic!("no client {name}"));
    let ClientKind::Consumer(consumer) = &client.kind else { panic!("{name} is not a consumer") };
    let mut assignment: Vec<String> = consumer.assignment().iter().map(|p| p.to_string()).collect();
    assignment.sort();
    (consumer.generation_id(), assignment)
}

/// The group's committed offsets, as its coordinator holds them.
fn committed(simulation: &Simulation, group: &str) -> BTreeMap<String, i64> {
    let (coordinator, ..) = group_state(simulation, group).expect("a coordinator knows the group");
    let broker = simulation.broker(coordinator).unwrap();
    broker.group_coordinator().committed_offsets(group).into_iter().map(|(p, o)| (p.to_string(), o.offset.0)).collect()
}

/// How many times each (partition, offset) of the group was processed.
fn processing_counts(records: &[ProcessedRecord], group: &str) -> BTreeMap<(String, i64), usize> {
    let mut counts = BTreeMap::new();
    for r in records.iter().filter(|r| r.group == group) {
        *counts.entry((r.partition.to_string(), r.offset.0)).or_insert(0) += 1;
    }
    counts
}

fn produce(lab: &mut Simulation, count: usize, prefix: &str) {
    for i in 0..count {
        run(lab, &format!("produce orders key={prefix}{i} value={prefix}{i}"));
    }
}

#[test]
fn a_lone_consumer_joins_its_group_and_processes_every_record() {
    let mut lab = lab();
    produce(&mut lab, 6, "k");
    run(&mut lab, "consumer alice group=billing topics=orders auto.offset.reset=earliest");
    lab.advance(15_000);
    let (_, state, generation, members) = group_state(&lab, "billing").expect("the group exists");
    assert_eq!((state, generation, members), (GroupState::Stable, 1, 1));
    assert_eq!(consumer_view(&lab, "alice"), (1, vec!["orders/0".into(), "orders/1".into(), "orders/2".into()]));
    let counts = processing_counts(lab.processed(), "billing");
    assert_eq!(counts.len(), 6, "every record processed: {counts:?}");
    assert!(counts.values().all(|&n| n == 1), "each once: {counts:?}");
    // Auto commit stored the positions after the last records.
    let total: i64 = committed(&lab, "billing").values().sum();
    assert_eq!(total, 6);
}

#[test]
fn a_new_member_triggers_a_rebalance_and_every_partition_has_exactly_one_owner_afterwards() {
    let mut lab = lab();
    run(&mut lab, "consumer alice group=billing topics=orders");
    lab.advance(10_000);
    let (_, _, first_generation, _) = group_state(&lab, "billing").unwrap();
    run(&mut lab, "consumer bob group=billing topics=orders");
    lab.advance(10_000);
    let (_, state, generation, members) = group_state(&lab, "billing").unwrap();
    assert_eq!((state, members), (GroupState::Stable, 2));
    assert!(generation > first_generation, "bob's join started a new generation");
    let (alice_generation, alice) = consumer_view(&lab, "alice");
    let (bob_generation, bob) = consumer_view(&lab, "bob");
    assert_eq!((alice_generation, bob_generation), (generation, generation));
    let mut owned: Vec<String> = alice.iter().chain(bob.iter()).cloned().collect();
    owned.sort();
    assert_eq!(owned, vec!["orders/0", "orders/1", "orders/2"], "alice {alice:?}, bob {bob:?}");
    assert!(!alice.is_empty() && !bob.is_empty(), "range gives both a share of three partitions");
}

#[test]
fn more_consumers_than_partitions_leaves_some_idle() {
    let mut lab = lab();
    for name in ["c-a", "c-b", "c-c", "c-d"] {
        run(&mut lab, &format!("consumer {name} group=billing topics=orders"));
    }
    lab.advance(15_000);
    let (_, state, _, members) = group_state(&lab, "billing").unwrap();
    assert_eq!((state, members), (GroupState::Stable, 4));
    let assigned: Vec<usize> = ["c-a", "c-b", "c-c", "c-d"].iter().map(|n| consumer_view(&lab, n).1.len()).collect();
    assert_eq!(assigned.iter().sum::<usize>(), 3);
    assert_eq!(assigned.iter().filter(|&&n| n == 0).count(), 1, "one idle member: {assigned:?}");
}

#[test]
fn a_consumer_crash_between_processing_and_committing_redelivers_exactly_those_records() {
    let mut lab = lab();
    produce(&mut lab, 9, "r");
    run(
        &mut lab,
        "consumer alice group=billing topics=orders auto.offset.reset=earliest commit=after-processing max.poll.records=2 crash=after-processing:5",
    );
    lab.advance(15_000);
    assert!(!lab.client("alice").unwrap().alive, "alice crashed after processing 5 records");
    let before_crash: Vec<(String, i64)> =
        lab.processed().iter().map(|r| (r.partition.to_string(), r.offset.0)).collect();
    assert_eq!(before_crash.len(), 5);
    let committed_before = committed(&lab, "billing");
    // Records alice processed past what her group had committed: these come again.
    let unprotected: Vec<(String, i64)> =
        before_crash.iter().filter(|(p, o)| committed_before.get(p).is_none_or(|c| o >= c)).cloned().collect();
    assert!(!unprotected.is_empty(), "the crash came between processing and committing");
    run(&mut lab, "consumer bob group=billing topics=orders auto.offset.reset=earliest");
    lab.advance(60_000);
    let counts = processing_counts(lab.processed(), "billing");
    let twice: Vec<(String, i64)> = counts.iter().filter(|(_, &n)| n > 1).map(|(k, _)| k.clone()).collect();
    let mut expected = unprotected.clone();
    expected.sort();
    assert_eq!(twice, expected, "exactly the processed-but-uncommitted records are processed again");
    assert_eq!(counts.len(), 9, "nothing lost: at-least-once");
}

#[test]
fn committing_before_processing_then_crashing_loses_exactly_those_records() {
    let mut lab = lab();
    produce(&mut lab, 9, "r");
    run(
        &mut lab,
        "consumer alice group=billing topics=orders auto.offset.reset=earliest commit=before-processing max.poll.records=3 crash=after-commit:4",
    );
    lab.advance(15_000);
    assert!(!lab.client("alice").unwrap().alive, "alice crashed after committing");
    let committed_at_crash = committed(&lab, "billing");
    let processed: Vec<(String, i64)> = lab.processed().iter().map(|r| (r.partition.to_string(), r.offset.0)).collect();
    run(&mut lab, "consumer bob group=billing topics=orders auto.offset.reset=earliest");
    lab.advance(60_000);
    let counts = processing_counts(lab.processed(), "billing");
    // Every record below a committed offset that alice never processed is never processed.
    let mut lost = Vec::new();
    for (partition, &end) in &committed_at_crash {
        for offset in 0..end {
            if !processed.contains(&(partition.clone(), offset)) {
                lost.push((partition.clone(), offset));
            }
        }
    }
    assert!(!lost.is_empty(), "the crash left committed but unprocessed records");
    for record in &lost {
        assert!(!counts.contains_key(record), "{record:?} was committed before processing and never processed");
    }
    assert_eq!(counts.len() + lost.len(), 9, "everything else was processed: at-most-once");
    assert!(counts.values().all(|&n| n == 1), "and nothing twice");
}

#[test]
fn a_static_member_restarting_within_the_session_timeout_gets_its_partitions_back_without_a_rebalance() {
    let mut lab = lab();
    run(&mut lab, "consumer alice group=billing topics=orders group.instance.id=alice-1 session.timeout.ms=30000");
    run(&mut lab, "consumer bob group=billing topics=orders group.instance.id=bob-1 session.timeout.ms=30000");
    lab.advance(15_000);
    let (_, state, generation, _) = group_state(&lab, "billing").unwrap();
    assert_eq!(state, GroupState::Stable);
    let (_, alice_before) = consumer_view(&lab, "alice");
    run(&mut lab, "kill alice");
    lab.advance(5_000);
    run(&mut lab, "restart alice");
    lab.advance(10_000);
    let (_, state_after, generation_after, members) = group_state(&lab, "billing").unwrap();
    assert_eq!((state_after, members), (GroupState::Stable, 2));
    assert_eq!(generation_after, generation, "no rebalance: the generation did not change");
    assert_eq!(consumer_view(&lab, "alice").1, alice_before, "the same partitions as before the restart");
}

#[test]
fn a_dynamic_member_that_crashes_is_removed_after_the_session_timeout_and_the_rest_take_its_partitions() {
    let mut lab = lab();
    run(&mut lab, "consumer alice group=billing topics=orders session.timeout.ms=10000");
    run(&mut lab, "consumer bob group=billing topics=orders session.timeout.ms=10000");
    lab.advance(15_000);
    let (_, _, generation, _) = group_state(&lab, "billing").unwrap();
    run(&mut lab, "kill alice");
    lab.advance(5_000);
    assert_eq!(group_state(&lab, "billing").unwrap().3, 2, "within the session timeout alice is still a member");
    lab.advance(20_000);
    let (_, state, generation_after, members) = group_state(&lab, "billing").unwrap();
    assert_eq!((state, members), (GroupState::Stable, 1));
    assert!(generation_after > generation);
    assert_eq!(consumer_view(&lab, "bob").1.len(), 3, "bob owns every partition");
}

#[test]
fn the_coordinator_fails_over_with_its_broker_and_the_committed_offsets_survive() {
    let mut lab = lab();
    produce(&mut lab, 6, "k");
    run(&mut lab, "consumer alice group=billing topics=orders auto.offset.reset=earliest auto.commit.interval.ms=1000");
    lab.advance(15_000);
    let (coordinator, ..) = group_state(&lab, "billing").unwrap();
    let before = committed(&lab, "billing");
    assert_eq!(before.values().sum::<i64>(), 6);
    run(&mut lab, &format!("kill {coordinator}"));
    lab.advance(60_000);
    let (new_coordinator, state, _, _) = group_state(&lab, "billing").expect("another broker took the group over");
    assert_ne!(new_coordinator, coordinator);
    assert_eq!(state, GroupState::Stable);
    assert_eq!(committed(&lab, "billing"), before, "the offsets were replicated in __consumer_offsets");
    produce(&mut lab, 3, "after");
    lab.advance(30_000);
    let counts = processing_counts(lab.processed(), "billing");
    assert_eq!(counts.len(), 9, "alice goes on from the committed offsets: {counts:?}");
    assert!(counts.values().all(|&n| n == 1));
}

#[test]
fn adding_partitions_to_a_subscribed_topic_rebalances_the_group() {
    let mut lab = lab();
    run(&mut lab, "consumer alice group=billing topics=orders");
    run(&mut lab, "consumer bob group=billing topics=orders");
    lab.advance(15_000);
    let (_, _, generation, _) = group_state(&lab, "billing").unwrap();
    run(&mut lab, "alter-topic orders partitions=6");
    lab.advance(30_000);
    let (_, state, generation_after, _) = group_state(&lab, "billing").unwrap();
    assert_eq!(state, GroupState::Stable);
    assert!(generation_after > generation, "new partitions start a rebalance");
    let owned = consumer_view(&lab, "alice").1.len() + consumer_view(&lab, "bob").1.len();
    assert_eq!(owned, 6);
}

#[test]
fn offsets_partition_and_coordinator_match_kafkas_placement() {
    let lab = {
        let mut lab = lab();
        run(&mut lab, "consumer alice group=my-group topics=orders");
        lab.advance(10_000);
        lab
    };
    // Kafka: abs("my-group".hashCode()) % 5 = 1906497762 % 5 = 2.
    let partition = TopicPartition::new("__consumer_offsets", 2);
    let leader = lab.metadata().partitions.get(&partition).and_then(|s| s.leader).expect("the topic was created");
    assert_eq!(group_state(&lab, "my-group").map(|g| g.0), Some(leader));
    let _ = Offset(0);
}

#[test]
fn a_groups_total_lag_counts_the_records_produced_past_its_committed_offsets() {
    let mut lab = lab();
    run(&mut lab, "consumer alice group=billing topics=orders auto.offset.reset=earliest");
    lab.advance(15_000);
    assert_eq!(lab.view().total_lag("billing"), Some(0), "caught up");
    run(&mut lab, "kill alice");
    produce(&mut lab, 5, "k");
    lab.advance(5_000);
    let view = lab.view();
    let per_partition: i64 = view
        .partitions
        .iter()
        .filter(|p| &*p.partition.topic == "orders")
        .filter_map(|p| view.lag("billing", &p.partition))
        .sum();
    assert_eq!((view.total_lag("billing"), per_partition), (Some(5), 5), "every record is lag, none consumed");
    assert_eq!(view.total_lag("nobody"), None);
}
