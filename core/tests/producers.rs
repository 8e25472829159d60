//! The producer model end to end in the simulator: where keys go, batching by linger.ms, and
//! what idempotence changes when the network loses answers. Each test names the claim it shows.

mod scenario;

use std::collections::BTreeMap;

use kafkalab_core::partitioner::partition_for_key;
use kafkalab_core::{ClusterConfig, Simulation, TopicPartition};
use scenario::{lab, lab_with, run};

/// Every (key, value) in the leader's log of each partition of `orders`, in offset order.
fn log_records(lab: &Simulation) -> BTreeMap<i32, Vec<(String, String)>> {
    let mut out = BTreeMap::new();
    for index in 0..lab.metadata().partition_count("orders").unwrap() {
        let partition = TopicPartition::new("orders", index);
        let Some(leader) = lab.metadata().partitions[&partition].leader else { continue };
        let log = &lab.broker(leader).unwrap().replica(&partition).unwrap().log;
        let text = |b: Option<bytes::Bytes>| b.map(|b| String::from_utf8_lossy(&b).into_owned()).unwrap_or_default();
        let records = log.records().filter(|r| !r.is_control).map(|r| (text(r.key), text(r.value))).collect();
        out.insert(index, records);
    }
    out
}

fn partitions_of_key(lab: &Simulation, key: &str) -> Vec<i32> {
    log_records(lab).into_iter().filter(|(_, records)| records.iter().any(|(k, _)| k == key)).map(|(p, _)| p).collect()
}

#[test]
fn the_same_key_always_goes_to_the_partition_javas_partitioner_picks() {
    let mut lab = lab();
    run(&mut lab, "producer p1 linger.ms=0");
    for key in ["alice", "bob", "carol", "dave"] {
        for n in 0..3 {
            run(&mut lab, &format!("produce orders key={key} value={key}{n} producer=p1"));
        }
    }
    lab.advance(5_000);
    for key in ["alice", "bob", "carol", "dave"] {
        assert_eq!(partitions_of_key(&lab, key), vec![partition_for_key(key.as_bytes(), 3)], "{key}");
    }
    // The Java client puts "alice" on partition 1 of 3 (murmur2 = 0x0A1E5C3C...); checked in
    // the partitioner's own vectors; here the order within the partition is the send order.
    let alice: Vec<String> = log_records(&lab)[&partition_for_key(b"alice", 3)]
        .iter()
        .filter(|(k, _)| k == "alice")
        .map(|(_, v)| v.clone())
        .collect();
    assert_eq!(alice, vec!["alice0", "alice1", "alice2"]);
}

#[test]
fn adding_partitions_moves_keys_so_one_keys_records_no_longer_share_an_order() {
    let mut lab = lab();
    run(&mut lab, "producer p1 linger.ms=0");
    // Find a key that moves when the topic grows from 3 to 6 partitions.
    let key = (0..100)
        .map(|i| format!("user-{i}"))
        .find(|k| partition_for_key(k.as_bytes(), 3) != partition_for_key(k.as_bytes(), 6))
        .unwrap();
    run(&mut lab, &format!("produce orders key={key} value=before producer=p1"));
    lab.advance(2_000);
    run(&mut lab, "alter-topic orders partitions=6");
    lab.advance(5_000);
    run(&mut lab, &format!("produce orders key={key} value=after producer=p1"));
    lab.advance(5_000);
    let partitions = partitions_of_key(&lab, &key);
    assert_eq!(partitions, {
        let mut p = vec![partition_for_key(key.as_bytes(), 3), partition_for_key(key.as_bytes(), 6)];
        p.sort();
        p
    });
}

#[test]
fn records_sent_within_linger_ms_travel_as_one_batch() {
    let mut lab = lab();
    run(&mut lab, "producer p1 linger.ms=200");
    for n in 0..5 {
        run(&mut lab, &format!("produce orders partition=0 value=v{n} producer=p1"));
        lab.advance(10);
    }
    lab.advance(2_000);
    let partition = TopicPartition::new("orders", 0);
    let leader = lab.metadata().partitions[&partition].leader.unwrap();
    let log = &lab.broker(leader).unwrap().replica(&partition).unwrap().log;
    let batches: Vec<i64> = log.batches().map(|b| b.record_count() as i64).collect();
    assert_eq!(batches, vec![5], "one batch of five records");
}

/// Runs a producer through a lossy network and counts values stored more than once.
fn duplicates_under_loss(seed: u64, idempotent: bool) -> usize {
    let mut lab = lab_with(ClusterConfig { seed, ..ClusterConfig::default() });
    let settings = if idempotent { "" } else { " enable.idempotence=false" };
    run(&mut lab, &format!("producer p1 linger.ms=0 request.timeout.ms=2000 delivery.timeout.ms=60000{settings}"));
    lab.advance(3_000);
    run(&mut lab, "loss 30%");
    for n in 0..30 {
        run(&mut lab, &format!("produce orders partition={} value=v{n} producer=p1", n % 3));
        lab.advance(50);
    }
    lab.advance(10_000);
    run(&mut lab, "loss 0%");
    lab.advance(60_000);
    let mut seen = BTreeMap::new();
    for records in log_records(&lab).values() {
        for (_, value) in records {
            *seen.entry(value.clone()).or_insert(0) += 1;
        }
    }
    seen.values().filter(|&&n| n > 1).count()
}

#[test]
fn lost_answers_make_retries_write_duplicates_unless_the_producer_is_idempotent() {
    let seeds = 1..=6u64;
    let without: usize = seeds.clone().map(|seed| duplicates_under_loss(seed, false)).sum();
    let with: usize = seeds.map(|seed| duplicates_under_loss(seed, true)).sum();
    assert!(without > 0, "retries after lost answers wrote some records twice");
    assert_eq!(with, 0, "the brokers dropped every retried duplicate");
}
