//! Topics and partitions: creation spreads replicas and leaders over the brokers; partitions
//! can be added but never removed; adding them moves keys, which is why key order breaks.

mod scenario;

use scenario::{admin_errors, lab, run};

use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::ids::{BrokerId, Offset, TopicPartition};
use kafkalab_core::partitioner::partition_for_key;
use kafkalab_core::trace::TraceEvent;

#[test]
fn a_new_topic_spreads_its_leaders_and_takes_records() {
    let mut sim = lab();
    run(&mut sim, "create-topic payments partitions=6 replication-factor=2");
    sim.advance(1_000);
    let view = sim.view();
    let payments: Vec<_> = view.partitions.iter().filter(|p| &*p.partition.topic == "payments").collect();
    assert_eq!(payments.len(), 6);
    assert!(payments.iter().all(|p| p.replicas.len() == 2 && p.isr.len() == 2));
    for broker in 1..=3 {
        let led = payments.iter().filter(|p| p.leader == Some(BrokerId(broker))).count();
        assert_eq!(led, 2, "broker {broker} leads two of six");
    }
    run(&mut sim, "produce payments key=alice value=5");
    sim.advance(1_000);
    let expected = TopicPartition::new("payments", partition_for_key(b"alice", 6));
    let p = sim.view().partition(&expected).unwrap().clone();
    assert!(p.replicas.iter().all(|r| r.log_end_offset == Offset(1)));
}

#[test]
fn bad_topics_are_refused_with_kafkas_errors() {
    let mut sim = lab();
    for line in [
        "create-topic orders partitions=3 replication-factor=3",
        "create-topic wide partitions=3 replication-factor=4",
        "create-topic none partitions=0",
        "create-topic bad/name",
    ] {
        run(&mut sim, line);
    }
    sim.advance(100);
    // Four requests on the network may arrive in any order: match each answer to its command.
    let mut answers: Vec<(String, ErrorCode)> = sim
        .trace()
        .iter()
        .filter_map(|l| match &l.event {
            TraceEvent::AdminFailed { what, error, .. } => Some((what.clone(), *error)),
            _ => None,
        })
        .collect();
    answers.sort();
    assert_eq!(
        answers,
        [
            ("create-topic bad/name partitions=1 replication-factor=1".to_string(), ErrorCode::InvalidTopicException),
            ("create-topic none partitions=0 replication-factor=1".to_string(), ErrorCode::InvalidPartitions),
            ("create-topic orders partitions=3 replication-factor=3".to_string(), ErrorCode::TopicAlreadyExists),
            ("create-topic wide partitions=3 replication-factor=4".to_string(), ErrorCode::InvalidReplicationFactor),
        ]
    );
    let wide = admin_errors(&sim).into_iter().find(|(code, _)| *code == ErrorCode::InvalidReplicationFactor).unwrap();
    assert_eq!(wide.1, "Replication factor: 4 larger than available brokers: 3.");
}

#[test]
fn partitions_can_be_added_but_never_removed_and_adding_moves_keys() {
    let mut sim = lab();
    // Find a key whose partition changes when orders grows from 3 to 6 partitions.
    let key = (0..100)
        .map(|i| format!("user-{i}"))
        .find(|k| partition_for_key(k.as_bytes(), 3) != partition_for_key(k.as_bytes(), 6))
        .unwrap();
    run(&mut sim, &format!("produce orders key={key} value=before"));
    run(&mut sim, "alter-topic orders partitions=6");
    sim.advance(500);
    run(&mut sim, &format!("produce orders key={key} value=after"));
    sim.advance(1_000);
    let acked: Vec<i32> = sim.acknowledged().iter().map(|w| w.partition.partition.0).collect();
    assert_eq!(acked, [partition_for_key(key.as_bytes(), 3), partition_for_key(key.as_bytes(), 6)]);
    assert_ne!(acked[0], acked[1], "the same key now lands elsewhere: order per key is broken");
    run(&mut sim, "alter-topic orders partitions=2");
    sim.advance(100);
    assert_eq!(
        admin_errors(&sim),
        [(
            ErrorCode::InvalidPartitions,
            "Topic currently has 6 partitions, which is higher than the requested 2.".to_string()
        )]
    );
    assert_eq!(sim.view().partitions.iter().filter(|p| &*p.partition.topic == "orders").count(), 6);
}

#[test]
fn the_metadata_clients_see_never_forgets_a_topic_while_restarted_controllers_replay_their_log() {
    let config = kafkalab_core::ClusterConfig {
        controller_layout: kafkalab_core::config::ControllerLayout::Dedicated,
        ..kafkalab_core::ClusterConfig::default()
    };
    let mut lab = scenario::lab_with(config);
    scenario::run(&mut lab, "create-topic shipments partitions=3 replication-factor=3");
    lab.advance(2_000);
    assert_eq!(lab.metadata().partition_count("shipments"), Some(3));
    for c in 1..=3 {
        scenario::run(&mut lab, &format!("kill c{c}"));
    }
    for c in 1..=3 {
        scenario::run(&mut lab, &format!("restart c{c}"));
    }
    // Restarted controllers replay the metadata log from the start; until they are through, the
    // furthest metadata any of them applied stays what clients see, as Kafka's clients keep
    // their metadata while the controllers catch up.
    for _ in 0..50 {
        lab.advance(10);
        assert_eq!(lab.metadata().partition_count("shipments"), Some(3));
    }
}
