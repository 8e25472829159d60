//! A client's Fetch is held by the broker as Kafka's DelayedFetch holds it: answered as soon as
//! `min_bytes` are readable across its partitions, at once when a partition fails or the
//! client will not wait, and otherwise after `max_wait_ms` with whatever there is, all on the
//! simulation's clock.

use bytes::Bytes;
use kafkalab_core::command::Command;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::ids::ClientId;
use kafkalab_core::message::{
    Acks, ClientFetchPartition, ClientFetchPartitionResult, ClientFetchRequest, IsolationLevel, Message,
};
use kafkalab_core::partition_log::single_record_batch;
use kafkalab_core::{BrokerId, ClusterConfig, Offset, Simulation, TopicPartition};

/// The most one message takes to cross the simulated network (the default latency is 1-5 ms),
/// with room for the leader's replication of a produce with `acks=all`.
const SLACK_MS: u64 = 100;

fn settled() -> Simulation {
    let mut simulation = Simulation::new(ClusterConfig::default()).expect("the default config is valid");
    simulation.advance(2_000);
    simulation
}

fn orders(partition: i32) -> TopicPartition {
    TopicPartition::new("orders", partition)
}

fn leader_of(simulation: &Simulation, partition: i32) -> BrokerId {
    simulation.metadata().partition(&orders(partition)).and_then(|p| p.leader).expect("orders has a leader")
}

fn fetch(partitions: &[i32], min_bytes: usize, max_wait_ms: u64) -> ClientFetchRequest {
    ClientFetchRequest {
        partitions: partitions
            .iter()
            .map(|&p| ClientFetchPartition { partition: orders(p), fetch_offset: Offset(0), max_bytes: 1 << 20 })
            .collect(),
        isolation: IsolationLevel::ReadUncommitted,
        min_bytes,
        max_wait_ms,
        max_bytes: 50 << 20,
    }
}

/// Sends the fetch to `broker`; returns its id.
fn send_fetch(simulation: &mut Simulation, client: ClientId, broker: BrokerId, request: ClientFetchRequest) -> u64 {
    let fetch_id = simulation.next_external_request_id();
    simulation.submit(client, broker, Message::ClientFetch { fetch_id, request: Box::new(request) });
    fetch_id
}

fn produce(simulation: &mut Simulation, client: ClientId, partition: i32, value: &'static [u8]) {
    let request_id = simulation.next_external_request_id();
    let batch = single_record_batch(0, None, Some(Bytes::from_static(value)));
    let message = Message::Produce { request_id, partition: orders(partition), batch, acks: Acks::All };
    let leader = leader_of(simulation, partition);
    simulation.submit(client, leader, message);
}

/// Runs the clock in 1 ms steps, up to `limit_ms`, until the fetch is answered: the time it
/// was, and the answer.
fn answer_within(
    simulation: &mut Simulation,
    client: ClientId,
    fetch_id: u64,
    limit_ms: u64,
) -> Option<(u64, Vec<ClientFetchPartitionResult>)> {
    for _ in 0..limit_ms {
        simulation.advance(1);
        for (_, message) in simulation.take_external(client) {
            if let Message::ClientFetchResponse { fetch_id: id, partitions } = message {
                if id == fetch_id {
                    return Some((simulation.now_ms(), *partitions));
                }
            }
        }
    }
    None
}

fn batch_count(result: &ClientFetchPartitionResult) -> usize {
    result.result.as_ref().map_or(0, |data| data.batches.len())
}

#[test]
fn a_held_fetch_is_answered_when_a_record_arrives_and_not_before() {
    let mut simulation = settled();
    let client = simulation.open_external();
    let leader = leader_of(&simulation, 0);
    let fetch_id = send_fetch(&mut simulation, client, leader, fetch(&[0], 1, 10_000));
    assert!(answer_within(&mut simulation, client, fetch_id, 2_000).is_none(), "held while the partition is empty");
    let produced_ms = simulation.now_ms();
    produce(&mut simulation, client, 0, b"late");
    let (answered_ms, partitions) =
        answer_within(&mut simulation, client, fetch_id, 10_000).expect("answered within the wait");
    assert!(answered_ms > produced_ms && answered_ms <= produced_ms + SLACK_MS, "answered at {answered_ms}");
    assert_eq!(partitions.len(), 1);
    assert_eq!(batch_count(&partitions[0]), 1, "{partitions:?}");
}

#[test]
fn a_held_fetch_with_nothing_to_read_is_answered_empty_after_max_wait() {
    let mut simulation = settled();
    let client = simulation.open_external();
    let leader = leader_of(&simulation, 1);
    let sent_ms = simulation.now_ms();
    let fetch_id = send_fetch(&mut simulation, client, leader, fetch(&[1], 1, 500));
    let (answered_ms, partitions) = answer_within(&mut simulation, client, fetch_id, 2_000).expect("answered");
    assert!(answered_ms >= sent_ms + 500, "not before max_wait_ms: {answered_ms} vs {sent_ms}");
    assert!(answered_ms <= sent_ms + 500 + SLACK_MS, "soon after max_wait_ms: {answered_ms} vs {sent_ms}");
    assert!(matches!(&partitions[0].result, Ok(data) if data.batches.is_empty()), "{partitions:?}");
}

#[test]
fn a_fetch_that_will_not_wait_is_answered_at_once() {
    let mut simulation = settled();
    let client = simulation.open_external();
    let leader = leader_of(&simulation, 1);
    let sent_ms = simulation.now_ms();
    let fetch_id = send_fetch(&mut simulation, client, leader, fetch(&[1], 1, 0));
    let (answered_ms, _) = answer_within(&mut simulation, client, fetch_id, 2_000).expect("answered");
    assert!(answered_ms <= sent_ms + SLACK_MS, "answered at {answered_ms}, sent at {sent_ms}");
}

#[test]
fn fewer_bytes_than_min_bytes_wait_for_max_wait_and_then_go() {
    let mut simulation = settled();
    let client = simulation.open_external();
    produce(&mut simulation, client, 2, b"small");
    simulation.advance(SLACK_MS);
    let _ = simulation.take_external(client);
    let leader = leader_of(&simulation, 2);
    let sent_ms = simulation.now_ms();
    let fetch_id = send_fetch(&mut simulation, client, leader, fetch(&[2], 1_000_000, 300));
    let (answered_ms, partitions) = answer_within(&mut simulation, client, fetch_id, 2_000).expect("answered");
    assert!(answered_ms >= sent_ms + 300, "held for min_bytes: {answered_ms} vs {sent_ms}");
    assert_eq!(batch_count(&partitions[0]), 1, "what there is goes at max_wait_ms");
}

#[test]
fn a_partition_not_led_here_answers_the_whole_fetch_at_once_with_its_error() {
    let mut simulation = settled();
    let client = simulation.open_external();
    let leader = leader_of(&simulation, 0);
    let elsewhere = (0..3).find(|&p| leader_of(&simulation, p) != leader);
    let Some(elsewhere) = elsewhere else {
        panic!("the default placement spreads orders' leaders over the brokers");
    };
    let sent_ms = simulation.now_ms();
    let fetch_id = send_fetch(&mut simulation, client, leader, fetch(&[0, elsewhere], 1, 10_000));
    let (answered_ms, partitions) = answer_within(&mut simulation, client, fetch_id, 2_000).expect("answered");
    assert!(answered_ms <= sent_ms + SLACK_MS, "not held: {answered_ms} vs {sent_ms}");
    assert_eq!(partitions.iter().map(|p| p.partition.partition.0).collect::<Vec<_>>(), [0, elsewhere]);
    assert!(partitions[0].result.is_ok());
    assert_eq!(partitions[1].result.as_ref().err(), Some(&ErrorCode::NotLeaderOrFollower));
}

#[test]
fn a_record_in_any_one_partition_answers_a_fetch_of_several() {
    let mut simulation = settled();
    let client = simulation.open_external();
    let leader = leader_of(&simulation, 0);
    let led: Vec<i32> = (0..3).filter(|&p| leader_of(&simulation, p) == leader).collect();
    let fetch_id = send_fetch(&mut simulation, client, leader, fetch(&led, 1, 10_000));
    assert!(answer_within(&mut simulation, client, fetch_id, 1_000).is_none());
    produce(&mut simulation, client, led[led.len() - 1], b"one");
    let (_, partitions) = answer_within(&mut simulation, client, fetch_id, 1_000).expect("answered by one record");
    assert_eq!(partitions.iter().map(batch_count).sum::<usize>(), 1);
}

fn run(simulation: &mut Simulation, line: &str) {
    let command = Command::parse(line).expect("a command");
    simulation.apply(&command).expect("the command runs");
}

#[test]
fn a_held_fetch_is_answered_with_not_leader_as_soon_as_leadership_moves_away() {
    let mut simulation = settled();
    let client = simulation.open_external();
    let preferred = leader_of(&simulation, 0);
    // Move orders/0 away from its preferred leader and bring that broker back as a follower.
    run(&mut simulation, &format!("shutdown {}", preferred.0));
    simulation.advance(5_000);
    run(&mut simulation, &format!("restart {}", preferred.0));
    simulation.advance(10_000);
    let leader = leader_of(&simulation, 0);
    assert_ne!(leader, preferred);
    let fetch_id = send_fetch(&mut simulation, client, leader, fetch(&[0], 1, 30_000));
    assert!(answer_within(&mut simulation, client, fetch_id, 500).is_none());
    let elected_ms = simulation.now_ms();
    run(&mut simulation, "elect-preferred");
    let (answered_ms, partitions) =
        answer_within(&mut simulation, client, fetch_id, 10_000).expect("answered long before the wait is over");
    assert_eq!(leader_of(&simulation, 0), preferred);
    assert!(answered_ms < elected_ms + 5_000, "answered at {answered_ms}");
    assert_eq!(partitions[0].result.as_ref().err(), Some(&ErrorCode::NotLeaderOrFollower));
}
