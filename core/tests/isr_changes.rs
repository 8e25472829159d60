//! KIP-497's maximal ISR: while a leader's request to add a follower to the ISR is unanswered,
//! the controller may already have admitted it, so the leader's high watermark waits for that
//! follower too. Without this, a lost answer let the high watermark pass a record the new ISR
//! member lacked, and a later election lost a committed record (the random sweep found it).

use bytes::Bytes;
use kafkalab_core::broker::Broker;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::ids::{BrokerId, ClientId, ControllerId, LeaderEpoch, Offset, TopicPartition};
use kafkalab_core::message::{Acks, Message, NodeId, Output};
use kafkalab_core::metadata::MetadataImage;
use kafkalab_core::partition_log::single_record_batch;
use kafkalab_core::topology::PartitionState;
use kafkalab_core::ClusterConfig;

fn orders0() -> TopicPartition {
    TopicPartition::new("orders", 0)
}

fn partition(isr: &[i32], partition_epoch: i32) -> PartitionState {
    PartitionState {
        partition: orders0(),
        replicas: vec![BrokerId(1), BrokerId(2)],
        isr: isr.iter().map(|&b| BrokerId(b)).collect(),
        leader: Some(BrokerId(1)),
        leader_epoch: LeaderEpoch(0),
        partition_epoch,
    }
}

fn leader_with_isr_of_one() -> Broker {
    let config = ClusterConfig { broker_count: 2, topics: vec![], ..ClusterConfig::default() };
    let mut image = MetadataImage::bootstrap(&config);
    image.version = 1;
    image.topics.insert("orders".to_string(), 1);
    image.partitions.insert(orders0(), partition(&[1], 0));
    let mut leader = Broker::new(BrokerId(1), config);
    leader.apply_metadata(0, &image);
    leader.take_outputs();
    leader
}

fn fetch(fetch_offset: i64) -> Message {
    Message::Fetch {
        follower: BrokerId(2),
        fetch_id: fetch_offset as u64,
        partition: orders0(),
        leader_epoch: LeaderEpoch(0),
        fetch_offset: Offset(fetch_offset),
        last_fetched_epoch: None,
    }
}

fn high_watermark(broker: &Broker) -> Offset {
    broker.replica(&orders0()).unwrap().log.high_watermark()
}

#[test]
fn the_high_watermark_waits_for_a_follower_whose_admission_is_unanswered() {
    let mut leader = leader_with_isr_of_one();
    // Broker 2 fetches at offset 0: caught up, so the leader asks to add it to the ISR.
    leader.handle_message(1, NodeId::Broker(BrokerId(2)), fetch(0));
    let asked = leader.take_outputs().into_iter().any(|o| {
        matches!(o, Output::Send { message: Message::AlterPartition { ref isr, .. }, .. } if isr == &[BrokerId(1), BrokerId(2)])
    });
    assert!(asked, "the leader asked for ISR [1 2]");

    // A record arrives. Broker 2 does not have it; with the request pending it may be in the
    // ISR already, so the record is not committed.
    let produce = Message::Produce {
        request_id: 7,
        partition: orders0(),
        batch: single_record_batch(0, None, Some(Bytes::from_static(b"v"))),
        acks: Acks::Leader,
    };
    leader.handle_message(2, NodeId::Client(ClientId::CONSOLE), produce);
    assert_eq!(high_watermark(&leader), Offset(0));

    // The controller refuses the change (the ISR stays [1]): now the leader alone commits.
    let answer = Message::AlterPartitionResponse { result: Err(ErrorCode::InvalidRequest), state: partition(&[1], 0) };
    leader.handle_message(3, NodeId::Controller(ControllerId(1)), answer);
    assert_eq!(high_watermark(&leader), Offset(1));
}

#[test]
fn an_accepted_admission_makes_the_follower_count_for_good() {
    let mut leader = leader_with_isr_of_one();
    leader.handle_message(1, NodeId::Broker(BrokerId(2)), fetch(0));
    leader.take_outputs();
    let answer = Message::AlterPartitionResponse { result: Ok(()), state: partition(&[1, 2], 1) };
    leader.handle_message(2, NodeId::Controller(ControllerId(1)), answer);
    let produce = Message::Produce {
        request_id: 8,
        partition: orders0(),
        batch: single_record_batch(0, None, Some(Bytes::from_static(b"v"))),
        acks: Acks::Leader,
    };
    leader.handle_message(3, NodeId::Client(ClientId::CONSOLE), produce);
    assert_eq!(high_watermark(&leader), Offset(0), "broker 2 is in the ISR and lacks the record");
    leader.handle_message(4, NodeId::Broker(BrokerId(2)), fetch(1));
    assert_eq!(high_watermark(&leader), Offset(1), "now it has it");
}
