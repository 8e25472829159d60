//! The producer model when a broker's connection breaks (the broker crashed, or the network
//! reset the connection): its requests fail at once as a retriable network error, told as
//! scenarios against a scripted broker (see `producer_model.rs`).

mod producer_lab;

use kafkalab_core::ids::{BrokerId, Offset, TopicPartition};
use kafkalab_core::message::{CoordinatorType, Message};
use kafkalab_core::producer::{AttemptError, ProducerConfig, ProducerError, ProducerEvent};
use kafkalab_core::transaction::protocol::TxnResponse;
use producer_lab::{cluster, coordinator_answers, transactional_lab, Answer, Lab};

/// Idempotence off (as `enable.idempotence=false`), for the scenarios about plain producers.
fn plain() -> ProducerConfig {
    ProducerConfig { enable_idempotence: Some(false), ..ProducerConfig::default() }
}

/// Whether the producer reported a retry after a broken connection.
fn retried_after_disconnect(lab: &Lab) -> usize {
    lab.events
        .iter()
        .filter(|e| matches!(e, ProducerEvent::BatchRetrying { error: AttemptError::Disconnected, .. }))
        .count()
}

#[test]
fn a_broken_connection_fails_its_batches_at_once_and_an_idempotent_producer_resends_them_in_order_to_the_new_leader() {
    let mut lab = Lab::new(ProducerConfig { linger_ms: 0, ..ProducerConfig::default() }, cluster(1));
    lab.send(Some(0), None, "A");
    lab.send(Some(0), None, "B");
    assert_eq!(lab.producer.in_flight_to(BrokerId(1)), 2);
    lab.cluster.leaders.insert(TopicPartition::new("t", 0), BrokerId(2));
    lab.disconnect(BrokerId(1));
    assert!(lab.events.contains(&ProducerEvent::Disconnected { broker: BrokerId(1), requests: 2 }));
    assert_eq!(retried_after_disconnect(&lab), 2, "both fail at once, retriable");
    assert_eq!(lab.producer.in_flight_to(BrokerId(1)), 0);
    lab.advance(120); // retry.backoff.ms, jittered by at most 20%
    let retry = lab.pending();
    assert_eq!(
        retry.iter().map(|p| (p.1, p.3[0].as_str(), p.4)).collect::<Vec<_>>(),
        [(BrokerId(2), "A", 0)],
        "A first, at the new leader, with its sequence; B waits its turn"
    );
    lab.answer(retry[0].0, Answer::Write);
    lab.advance(1_000);
    lab.write_all();
    assert_eq!(lab.broker.log(0), ["A", "B"]);
    assert_eq!(lab.delivered.iter().map(|d| d.2).collect::<Vec<_>>(), [Some(Offset(0)), Some(Offset(1))]);
    assert!(lab.failed.is_empty());
}

#[test]
fn a_broken_connection_puts_a_plain_producers_later_batch_before_the_earlier_one() {
    let mut lab = Lab::new(ProducerConfig { linger_ms: 0, ..plain() }, cluster(1));
    lab.send(Some(0), None, "A");
    lab.send(Some(0), None, "B");
    lab.disconnect(BrokerId(1));
    lab.advance(1_000);
    lab.write_all();
    assert_eq!(lab.broker.log(0), ["B", "A"], "each goes back to the front of the queue, oldest first");
}

#[test]
fn a_write_whose_connection_broke_before_the_answer_is_written_twice_without_idempotence_once_with_it() {
    let cases = [(plain(), vec!["A", "A"], 1), (ProducerConfig::default(), vec!["A"], 0)];
    for (config, log, offset) in cases {
        let idempotent = config.idempotence();
        let mut lab = Lab::new(ProducerConfig { linger_ms: 0, ..config }, cluster(1));
        let id = lab.send(Some(0), None, "A");
        lab.answer(lab.pending_ids()[0], Answer::WriteButLoseResponse);
        lab.disconnect(BrokerId(1));
        assert!(lab.delivered.is_empty() && lab.failed.is_empty(), "retried, not settled");
        lab.advance(200);
        lab.write_all();
        assert_eq!(lab.broker.log(0), log, "idempotent: {idempotent}");
        let acknowledged = [(id, TopicPartition::new("t", 0), Some(Offset(offset)))];
        assert_eq!(lab.delivered, acknowledged, "acknowledged once, idempotent: {idempotent}");
    }
}

#[test]
fn without_retries_a_broken_connection_fails_the_records_with_a_network_error() {
    let mut lab = Lab::new(ProducerConfig { linger_ms: 0, retries: 0, ..plain() }, cluster(1));
    let id = lab.send(Some(0), None, "A");
    lab.disconnect(BrokerId(1));
    assert_eq!(lab.failed, [(id, ProducerError::Disconnected)]);
}

#[test]
fn an_init_producer_id_on_a_broken_connection_is_asked_of_the_next_broker() {
    let mut lab = Lab::new(ProducerConfig { linger_ms: 0, ..ProducerConfig::default() }, cluster(1));
    lab.answer_init_producer_id = false;
    lab.send(Some(0), None, "A");
    assert_eq!(lab.pending_coordinator().iter().map(|p| p.1).collect::<Vec<_>>(), [BrokerId(1)]);
    lab.disconnect(BrokerId(1));
    assert!(lab.pending_coordinator().is_empty(), "backs off retry.backoff.ms");
    lab.advance(100);
    assert_eq!(lab.pending_coordinator().iter().map(|p| p.1).collect::<Vec<_>>(), [BrokerId(2)]);
}

#[test]
fn a_transactional_producer_finds_its_coordinator_again_after_a_broken_connection_and_resends_the_request() {
    let mut lab = transactional_lab(); // coordinator: broker 2
    lab.producer.begin_transaction().unwrap();
    lab.send(Some(0), None, "A");
    assert_eq!(
        lab.pending_coordinator().iter().map(|p| (p.1, p.2.name())).collect::<Vec<_>>(),
        [(BrokerId(2), "AddPartitionsToTxn")]
    );
    lab.disconnect(BrokerId(2));
    assert!(lab.pending_coordinator().is_empty(), "backs off retry.backoff.ms");
    lab.advance(100);
    let [(find, BrokerId(1), Message::FindCoordinator { key_type: CoordinatorType::Transaction, .. })] =
        &lab.pending_coordinator()[..]
    else {
        panic!("the coordinator is looked up again first: {:?}", lab.pending_coordinator())
    };
    lab.disconnect(BrokerId(1));
    lab.advance(100);
    let [(find_again, BrokerId(2), Message::FindCoordinator { .. })] = &lab.pending_coordinator()[..] else {
        panic!("a FindCoordinator on a broken connection asks the next broker: {:?}", lab.pending_coordinator())
    };
    assert_ne!(find, find_again);
    let find_again = *find_again;
    lab.reply(find_again, Message::FindCoordinatorResponse { request_id: find_again, result: Ok(BrokerId(3)) });
    let added = vec![(TopicPartition::new("t", 0), None)];
    let pending = lab.pending_coordinator();
    assert_eq!((pending[0].1, pending[0].2.name()), (BrokerId(3), "AddPartitionsToTxn"), "sent again");
    coordinator_answers(&mut lab, "AddPartitionsToTxn", TxnResponse::AddPartitionsToTxn { results: added });
    lab.write_all();
    lab.producer.commit_transaction(lab.now_ms, &lab.cluster).unwrap();
    lab.collect();
    lab.disconnect(BrokerId(3));
    lab.advance(100);
    let find = lab.pending_coordinator()[0].0;
    lab.reply(find, Message::FindCoordinatorResponse { request_id: find, result: Ok(BrokerId(2)) });
    let pending = lab.pending_coordinator();
    assert_eq!((pending[0].1, pending[0].2.name()), (BrokerId(2), "EndTxn"), "EndTxn at the coordinator found");
    coordinator_answers(&mut lab, "EndTxn", TxnResponse::EndTxn { error: None });
    assert_eq!(lab.transactions, [true]);
    assert_eq!(lab.broker.log(0), ["A"]);
}
