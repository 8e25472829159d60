//! Kafka keeps a partition's records for a time or a size, deleting whole old segments, and a
//! compacted topic keeps only each key's newest value. In the lab both run on every replica, on
//! Kafka's schedules (`log.retention.check.interval.ms`, `log.cleaner.backoff.ms`).

mod scenario;

use scenario::run;

use kafkalab_core::ids::{BrokerId, Offset, TopicPartition};
use kafkalab_core::trace::TraceEvent;
use kafkalab_core::{ClusterConfig, Simulation};

fn lab() -> Simulation {
    let config = ClusterConfig {
        log_retention_check_interval_ms: 5_000,
        log_cleaner_backoff_ms: 5_000,
        ..ClusterConfig::default()
    };
    let mut simulation = Simulation::new(config).expect("a valid config");
    simulation.advance(1_000);
    simulation
}

fn log_start(simulation: &Simulation, broker: i32, tp: &TopicPartition) -> Offset {
    simulation.broker(BrokerId(broker)).unwrap().replica(tp).unwrap().log.log_start_offset()
}

#[test]
fn retention_by_time_deletes_whole_old_segments_on_every_replica_and_never_reuses_offsets() {
    let mut sim = lab();
    run(&mut sim, "create-topic clicks partitions=1 replication-factor=3 retention.ms=20000 segment.ms=5000");
    sim.advance(1_000);
    let tp = TopicPartition::new("clicks", 0);
    for i in 0..6 {
        run(&mut sim, &format!("produce clicks value=click-{i}"));
        sim.advance(3_000); // segments roll every 5 s
    }
    assert_eq!(log_start(&sim, 1, &tp), Offset(0), "nothing is 20 s old yet");
    sim.advance(30_000);
    for broker in 1..=3 {
        assert!(log_start(&sim, broker, &tp) > Offset(0), "broker {broker} deleted its old segments");
    }
    assert!(sim.trace().iter().any(|l| matches!(l.event, TraceEvent::SegmentsDeleted { .. })));
    // The next record continues the offsets; none is reused.
    run(&mut sim, "produce clicks value=later");
    sim.advance(1_000);
    let leader_log = &sim.broker(BrokerId(1)).unwrap().replica(&tp).unwrap().log;
    assert_eq!(leader_log.log_end_offset(), Offset(7));
    assert!(sim.lost_writes().is_empty(), "records removed by retention are not lost writes");
}

#[test]
fn a_compacted_topic_keeps_each_keys_newest_value_and_drops_tombstones_later() {
    let mut sim = lab();
    run(&mut sim, "create-topic users partitions=1 replication-factor=3 cleanup.policy=compact segment.ms=2000 delete.retention.ms=30000");
    sim.advance(1_000);
    let tp = TopicPartition::new("users", 0);
    for (key, value) in [("alice", "v1"), ("bob", "v1"), ("alice", "v2"), ("carol", "v1"), ("alice", "v3")] {
        run(&mut sim, &format!("produce users key={key} value={value}"));
        sim.advance(2_500);
    }
    run(&mut sim, "produce users key=bob"); // no value: a tombstone deletes bob
    sim.advance(2_500);
    run(&mut sim, "produce users key=dave value=v1"); // rolls the tombstone's segment
    sim.advance(10_000);
    let values = |sim: &Simulation, broker: i32| -> Vec<(i64, String, Option<String>)> {
        let log = &sim.broker(BrokerId(broker)).unwrap().replica(&tp).unwrap().log;
        log.records()
            .map(|r| {
                let text = |b: Option<bytes::Bytes>| b.map(|b| String::from_utf8_lossy(&b).into_owned());
                (r.offset.0, text(r.key).unwrap(), text(r.value))
            })
            .collect()
    };
    let expected = vec![
        (3, "carol".to_string(), Some("v1".to_string())),
        (4, "alice".to_string(), Some("v3".to_string())),
        (5, "bob".to_string(), None),
        (6, "dave".to_string(), Some("v1".to_string())),
    ];
    for broker in 1..=3 {
        assert_eq!(
            values(&sim, broker),
            expected,
            "broker {broker}: newest per key, offsets unchanged, tombstone kept for now"
        );
    }
    assert!(sim.lost_writes().is_empty(), "superseded values are compacted, not lost");
    sim.advance(60_000); // past delete.retention.ms
    assert!(values(&sim, 1).iter().all(|(_, key, _)| key != "bob"), "the tombstone itself is gone");
}
