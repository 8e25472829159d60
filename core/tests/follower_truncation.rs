//! KIP-101 / KIP-320: a former leader that comes back as a follower truncates the records the
//! new leader never had, found through leader epochs rather than its own (stale) high watermark.
//!
//! Told with two brokers wired by hand, so the moment the old leader's record fails to reach
//! anyone is exact.

use std::collections::VecDeque;

use bytes::Bytes;
use kafkalab_core::broker::Broker;
use kafkalab_core::ids::{BrokerId, ClientId, LeaderEpoch, Offset, TopicPartition};
use kafkalab_core::message::{Acks, Message, NodeId, Output};
use kafkalab_core::metadata::MetadataImage;
use kafkalab_core::partition_log::single_record_batch;
use kafkalab_core::topology::PartitionState;
use kafkalab_core::trace::TraceEvent;
use kafkalab_core::ClusterConfig;

fn orders0() -> TopicPartition {
    TopicPartition::new("orders", 0)
}

/// A metadata image in which orders/0, on brokers 1 and 2, has this leader and ISR.
fn state(leader: i32, leader_epoch: i32, partition_epoch: i32, isr: &[i32]) -> MetadataImage {
    let config = ClusterConfig { broker_count: 2, topics: vec![], ..ClusterConfig::default() };
    let mut image = MetadataImage::bootstrap(&config);
    image.version = partition_epoch as u64 + 1;
    image.topics.insert("orders".to_string(), 1);
    // The same id in every image built here: one topic, never deleted.
    image.topic_ids.insert("orders".to_string(), image.next_topic_id);
    image.next_topic_id += 1;
    let state = PartitionState {
        partition: orders0(),
        replicas: vec![BrokerId(1), BrokerId(2)],
        isr: isr.iter().map(|&b| BrokerId(b)).collect(),
        leader: Some(BrokerId(leader)),
        leader_epoch: LeaderEpoch(leader_epoch),
        partition_epoch,
    };
    image.partitions.insert(orders0(), state);
    image
}

fn produce(value: &str) -> Message {
    Message::Produce {
        request_id: 0,
        partition: orders0(),
        batch: single_record_batch(0, None, Some(Bytes::copy_from_slice(value.as_bytes()))),
        acks: Acks::Leader,
    }
}

/// Delivers messages between the two brokers until none are left; returns the trace.
fn exchange(brokers: &mut [Broker; 2], now_ms: u64) -> Vec<TraceEvent> {
    let mut trace = Vec::new();
    let mut queue: VecDeque<(NodeId, NodeId, Message)> = VecDeque::new();
    for _round in 0..100 {
        for broker in brokers.iter_mut() {
            let from = NodeId::Broker(broker.id());
            for output in broker.take_outputs() {
                match output {
                    Output::Send { to: to @ NodeId::Broker(_), message } => queue.push_back((from, to, message)),
                    Output::Trace(event) => trace.push(event),
                    _ => {}
                }
            }
        }
        let Some((from, NodeId::Broker(to), message)) = queue.pop_front() else {
            return trace;
        };
        brokers[(to.0 - 1) as usize].handle_message(now_ms, from, message);
    }
    trace
}

#[test]
fn a_former_leader_truncates_its_unreplicated_tail_and_takes_the_new_leaders_records() {
    let config = ClusterConfig::default();
    let mut brokers = [Broker::new(BrokerId(1), config.clone()), Broker::new(BrokerId(2), config)];

    // Broker 1 leads at epoch 0 and takes a record that broker 2 never fetches.
    brokers[0].apply_metadata(0, &state(1, 0, 0, &[1, 2]));
    brokers[0].handle_message(1, NodeId::Client(ClientId::CONSOLE), produce("lost"));
    brokers[0].take_outputs();

    // The controller moves leadership to broker 2 at epoch 1; it takes a record of its own.
    brokers[1].apply_metadata(2, &state(2, 1, 1, &[2]));
    brokers[1].handle_message(3, NodeId::Client(ClientId::CONSOLE), produce("kept"));
    brokers[1].take_outputs();

    // Broker 1 learns it is now a follower and fetches with its last epoch (0) at offset 1.
    brokers[0].apply_metadata(4, &state(2, 1, 1, &[2]));
    let trace = exchange(&mut brokers, 5);

    assert!(
        trace.contains(&TraceEvent::Truncated { broker: BrokerId(1), partition: orders0(), to: Offset(0) }),
        "{trace:?}"
    );
    let log = &brokers[0].replica(&orders0()).unwrap().log;
    let values: Vec<_> = log.records().map(|r| (r.value.clone().unwrap(), r.leader_epoch)).collect();
    assert_eq!(values, vec![(Bytes::from_static(b"kept"), LeaderEpoch(1))]);
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn a_follower_whose_log_matches_the_leader_keeps_it() {
    let config = ClusterConfig::default();
    let mut brokers = [Broker::new(BrokerId(1), config.clone()), Broker::new(BrokerId(2), config)];
    brokers[0].apply_metadata(0, &state(1, 0, 0, &[1, 2]));
    brokers[1].apply_metadata(0, &state(1, 0, 0, &[1, 2]));
    brokers[0].handle_message(1, NodeId::Client(ClientId::CONSOLE), produce("shared"));
    let trace = exchange(&mut brokers, 2);
    assert!(trace.iter().any(|e| matches!(e, TraceEvent::Replicated { broker: BrokerId(2), .. })));

    // Leadership moves to broker 2, which had everything: broker 1 must truncate nothing.
    brokers[1].apply_metadata(3, &state(2, 1, 1, &[1, 2]));
    brokers[0].apply_metadata(3, &state(2, 1, 1, &[1, 2]));
    let trace = exchange(&mut brokers, 4);
    assert!(!trace.iter().any(|e| matches!(e, TraceEvent::Truncated { .. })), "{trace:?}");
    assert_eq!(brokers[0].replica(&orders0()).unwrap().log.log_end_offset(), Offset(1));
}
