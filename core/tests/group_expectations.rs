//! Expectations about consumer groups, named clients and transactions, read from real runs: the
//! group's state, generation and members as its coordinator holds them, which named consumer
//! owns a partition, committed offsets and lag, what each application processed and how often
//! twice, whether a client runs, the last stable offset and a producer's transaction.

mod scenario;

use kafkalab_core::expectation::Expectation;
use kafkalab_core::group::partition_for;
use kafkalab_core::{Simulation, TopicPartition};
use scenario::{lab, run};

fn check(simulation: &Simulation, line: &str) -> Result<(), String> {
    let expectation = Expectation::parse(line).unwrap_or_else(|e| panic!("{line}: {e}"));
    expectation.check(&simulation.view()).map_err(|mismatch| mismatch.to_string())
}

/// Fails the test, saying what was found, unless every line holds.
fn assert_holds(simulation: &Simulation, lines: &[&str]) {
    for line in lines {
        check(simulation, line).unwrap_or_else(|mismatch| panic!("{mismatch}"));
    }
}

/// What the subject of `line` reads now (the line's own value is a placeholder).
fn actual(simulation: &Simulation, line: &str) -> String {
    match check(simulation, &format!("{line} == none")) {
        Ok(()) => "none".to_string(),
        Err(mismatch) => mismatch.rsplit("but it is ").next().unwrap().to_string(),
    }
}

fn produce_to(lab: &mut Simulation, partition: i32, count: usize) {
    for i in 0..count {
        run(lab, &format!("produce orders partition={partition} value=p{partition}-{i}"));
    }
}

#[test]
fn group_client_and_transaction_expectations_print_as_they_parse() {
    for line in [
        "group billing == Stable",
        "group billing != PreparingRebalance",
        "group billing == none",
        "generation billing >= 3",
        "members billing == 2",
        "owner orders/0 billing == alice",
        "owner orders/2 billing == none",
        "committed billing orders/0 == 5",
        "committed billing orders/1 == none",
        "lag billing orders/0 <= 0",
        "processed alice == 6",
        "duplicates billing > 0",
        "lso orders/0 == 3",
        "lso orders/0 on 2 < 4",
        "client alice == dead",
        "client bob != alive",
        "transaction tx == CompleteCommit",
        "members \"night shift\" == 1",
    ] {
        assert_eq!(Expectation::parse(line).unwrap().to_string(), line);
    }
}

#[test]
fn bad_group_and_client_expectations_say_what_and_where() {
    let cases = [
        ("group billing == Stabel", 18, "not a group state: Empty, PreparingRebalance"),
        ("group == Stable", 7, "expected a group id"),
        ("generation", 11, "expected a group id"),
        ("members billing == two", 20, "not a number"),
        ("owner orders billing == alice", 7, "not a partition"),
        ("owner orders/0 == alice", 16, "expected a group id, such as billing, after the partition"),
        ("owner orders/0 billing == 2alice", 27, "not a client name"),
        ("owner orders/0 billing > alice", 24, "only == and !="),
        ("committed orders/0 == 5", 20, "not a partition"),
        ("lag billing == 0", 13, "not a partition"),
        ("processed == 6", 11, "not a client name"),
        ("processed alice", 16, "expected a comparison"),
        ("duplicates billing == 1 2", 25, "unexpected"),
        ("client alice == fenced", 17, "not a client state: alive or dead"),
        ("client c2 == dead", 8, "not a client name"),
        ("transaction tx == Committed", 19, "not a transaction state"),
        ("lso orders/0 on x == 1", 17, "not a broker id"),
        ("lag billing orders/0 on 2 == 0", 22, "not a comparison"),
        ("ownr orders/0 billing == alice", 1, "unknown expectation \"ownr\"; expected one of leader,"),
    ];
    for (line, column, message) in cases {
        let e = Expectation::parse(line).unwrap_err();
        assert_eq!(e.column, column, "{line}: {e}");
        assert!(e.message.contains(message), "{line}: {e}");
    }
}

#[test]
fn a_lone_consumer_shows_its_group_offsets_lag_and_processing_in_expectations() {
    let mut lab = lab();
    produce_to(&mut lab, 0, 3);
    produce_to(&mut lab, 1, 2);
    produce_to(&mut lab, 2, 1);
    lab.advance(1_000);
    assert_holds(
        &lab,
        &["group billing == none", "members billing == none", "processed alice == none", "client alice == none"],
    );
    let mismatch = check(&lab, "group billing == Stable").unwrap_err();
    assert_eq!(mismatch, "expected group billing == Stable, but it is none", "no coordinator knows billing yet");
    run(&mut lab, "consumer alice group=billing topics=orders auto.offset.reset=earliest auto.commit.interval.ms=1000");
    lab.advance(15_000);
    assert_holds(
        &lab,
        &[
            "group billing == Stable",
            "generation billing == 1",
            "members billing == 1",
            "owner orders/0 billing == alice",
            "owner orders/2 billing == alice",
            "processed alice == 6",
            "duplicates billing == 0",
            "committed billing orders/0 == 3",
            "committed billing orders/1 == 2",
            "committed billing orders/2 == 1",
            "lag billing orders/0 == 0",
            "client alice == alive",
        ],
    );
    let view = lab.view();
    let group = view.group("billing").expect("the view holds the group");
    assert_eq!(group.members.len(), 1);
    assert_eq!(group.members[0].client.as_ref().map(|c| c.0.as_str()), Some("alice"), "the member is alice");
    assert_eq!(group.members[0].assignment.len(), 3, "the member's assignment, decoded");
    let offsets = TopicPartition::new("__consumer_offsets", partition_for("billing", 5));
    let offsets_leader = lab.metadata().partition(&offsets).and_then(|p| p.leader);
    assert!(offsets_leader.is_some());
    assert_eq!(group.coordinator, offsets_leader, "the leader of the group's offsets partition coordinates it");

    // Alice dies; new records wait behind her committed offsets.
    run(&mut lab, "kill alice");
    produce_to(&mut lab, 0, 2);
    lab.advance(2_000);
    assert_holds(
        &lab,
        &[
            "client alice == dead",
            "owner orders/0 billing == none",
            "committed billing orders/0 == 3",
            "lag billing orders/0 == 2",
            "lag billing orders/1 == 0",
            "members billing == 1",
        ],
    );
    assert_eq!(
        check(&lab, "lag billing orders/0 == 0").unwrap_err(),
        "expected lag billing orders/0 == 0, but it is 2"
    );
}

#[test]
fn two_consumers_split_the_partitions_and_each_owns_its_own() {
    let mut lab = lab();
    run(&mut lab, "consumer alice group=billing topics=orders");
    run(&mut lab, "consumer bob group=billing topics=orders");
    lab.advance(15_000);
    // Both joined within the group's initial rebalance delay: one generation.
    assert_holds(&lab, &["members billing == 2", "group billing == Stable", "generation billing == 1"]);
    let owners: Vec<String> = (0..3).map(|p| actual(&lab, &format!("owner orders/{p} billing"))).collect();
    let mut distinct = owners.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct, ["alice", "bob"], "both own a share of orders: {owners:?}");
    assert_ne!(owners[0], owners[2], "range gives the first and last partitions to different members");
    for (partition, owner) in owners.iter().enumerate() {
        let other = if owner == "alice" { "bob" } else { "alice" };
        assert_holds(&lab, &[&format!("owner orders/{partition} billing != {other}")]);
    }
    // Each member of the coordinator's group is one named consumer, holding what it was given.
    let view = lab.view();
    let group = view.group("billing").unwrap();
    for member in &group.members {
        let client = view.client(&member.client.as_ref().expect("a named client").0).unwrap();
        assert_eq!(client.member_id.as_deref(), Some(member.member_id.as_str()));
        assert_eq!(client.assignment, member.assignment, "{} holds what the leader gave it", client.name);
    }
}

#[test]
fn a_crash_after_processing_makes_the_restarted_consumer_process_the_same_records_again() {
    let mut lab = lab();
    produce_to(&mut lab, 0, 6);
    run(
        &mut lab,
        "consumer alice group=billing topics=orders auto.offset.reset=earliest commit=after-processing \
         crash=after-processing:3",
    );
    lab.advance(15_000);
    // Alice processed three records of her first poll and died before committing any.
    assert_holds(
        &lab,
        &[
            "client alice == dead",
            "processed alice == 3",
            "duplicates billing == 0",
            "committed billing orders/0 == none",
        ],
    );
    run(&mut lab, "restart alice");
    assert_holds(&lab, &["client alice == alive"]);
    // Her new life starts over from the earliest offset, processes the same three and dies the
    // same way (the crash point is part of her settings).
    lab.advance(60_000);
    assert_holds(
        &lab,
        &[
            "client alice == dead",
            "processed alice == 6",
            "duplicates billing == 3",
            "committed billing orders/0 == none",
            "lag billing orders/0 == none",
        ],
    );
    assert_eq!(lab.view().group("billing").unwrap().records_processed, 6);
}

#[test]
fn an_open_transaction_holds_the_last_stable_offset_until_it_commits() {
    let mut lab = lab();
    run(&mut lab, "producer tx transactional.id=orders-tx");
    lab.advance(5_000);
    assert_holds(&lab, &["client tx == alive", "transaction tx == Empty", "lso orders/0 == 0"]);
    run(&mut lab, "begin tx");
    run(&mut lab, "produce orders partition=0 value=open producer=tx");
    lab.advance(2_000);
    run(&mut lab, "produce orders partition=0 value=plain");
    lab.advance(2_000);
    assert_holds(
        &lab,
        &["transaction tx == Ongoing", "hw orders/0 == 2", "lso orders/0 == 0", "lso orders/0 on 2 == 0"],
    );
    run(&mut lab, "commit tx");
    lab.advance(5_000);
    assert_holds(&lab, &["transaction tx == CompleteCommit", "hw orders/0 == 3", "lso orders/0 == 3"]);
    let view = lab.view();
    let tx = view.client("tx").unwrap();
    assert_eq!(tx.transactional_id.as_deref(), Some("orders-tx"));
    assert!(tx.producer_id.is_some_and(|id| id >= 0) && tx.producer_epoch == Some(0), "{tx:?}");
}
