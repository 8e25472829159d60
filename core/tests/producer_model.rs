//! The producer model told as scenarios against a scripted broker: the test plays the cluster,
//! answering (or failing, or losing the answer to) each request the producer sends, and moves
//! the clock by firing the producer's timers in order.

mod producer_lab;

use bytes::Bytes;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::group::protocol::{GroupRequest, GroupResponse, OffsetToCommit};
use kafkalab_core::ids::{BrokerId, Offset, TopicPartition};
use kafkalab_core::message::{Acks, CoordinatorType, Message};
use kafkalab_core::producer::{
    ConfigError, GroupMetadata, PartitionerKind, Producer, ProducerConfig, ProducerError, ProducerEvent,
    ProducerRecord, RecordId, SendError, TransactionState,
};
use kafkalab_core::transaction::protocol::{ProducerIdAndEpoch, TxnRequest, TxnResponse};
use producer_lab::{cluster, coordinator_answers, transactional_lab, Answer, Lab};

/// Idempotence off (as `enable.idempotence=false`), for the scenarios about plain producers.
fn plain() -> ProducerConfig {
    ProducerConfig { enable_idempotence: Some(false), ..ProducerConfig::default() }
}

/// A batch of exactly ten 10-byte values without key: 61 header bytes + 10 records of 17.
const TEN_RECORD_BATCH_SIZE: u32 = 61 + 10 * 17;

#[test]
fn same_key_same_partition() {
    let mut lab = Lab::new(ProducerConfig::default(), cluster(6));
    let ids: Vec<RecordId> = (0..8).map(|i| lab.send(None, Some("alice"), &format!("v{i}"))).collect();
    lab.flush();
    lab.write_all();
    let partitions: Vec<i32> = ids.iter().map(|&id| lab.delivered_partition(id)).collect();
    assert!(partitions.iter().all(|&p| p == partitions[0]), "{partitions:?}");
}

#[test]
fn keyed_records_land_where_the_java_client_puts_them() {
    // murmur2 values from Kafka's UtilsTest, masked to positive and taken modulo 10 by hand:
    // "21" -973932308 -> 1173551340 -> 0; "foobar" -790332482 -> 1357151166 -> 6;
    // "abc" 479470107 -> 7; "a-little-bit-long-string" -985981536 -> 1161502112 -> 2.
    let mut lab = Lab::new(ProducerConfig::default(), cluster(10));
    let cases = [("21", 0), ("foobar", 6), ("abc", 7), ("a-little-bit-long-string", 2)];
    let ids: Vec<RecordId> = cases.iter().map(|(key, _)| lab.send(None, Some(key), "v")).collect();
    lab.flush();
    lab.write_all();
    for (id, (key, expected)) in ids.into_iter().zip(cases) {
        assert_eq!(lab.delivered_partition(id), expected, "key {key}");
    }
}

#[test]
fn null_keys_stick_to_one_partition_until_batch_size_bytes_then_move() {
    let config = ProducerConfig {
        batch_size: TEN_RECORD_BATCH_SIZE,
        linger_ms: 60_000,
        delivery_timeout_ms: 200_000,
        ..plain()
    };
    let mut lab = Lab::new(config, cluster(6));
    let ids: Vec<RecordId> = (0..60).map(|_| lab.send(None, None, "0123456789")).collect();
    let switches = lab.events.iter().filter(|e| matches!(e, ProducerEvent::StickyPartitionChanged { .. })).count();
    assert_eq!(switches, 6, "one switch per batch.size bytes");
    lab.flush();
    lab.write_all();
    let partitions: Vec<i32> = ids.iter().map(|&id| lab.delivered_partition(id)).collect();
    for run in partitions.chunks(10) {
        assert!(
            run.iter().all(|&p| p == run[0]),
            "ten records (batch.size bytes) per sticky partition: {partitions:?}"
        );
    }
    let mut used = partitions.clone();
    used.sort();
    used.dedup();
    assert!(used.len() > 1, "the sticky partition moves: {partitions:?}");
}

#[test]
fn round_robin_option_spreads_records_keys_and_all() {
    let config = ProducerConfig { partitioner: PartitionerKind::RoundRobin, ..ProducerConfig::default() };
    let mut lab = Lab::new(config, cluster(3));
    let ids: Vec<RecordId> = (0..6).map(|_| lab.send(None, Some("alice"), "v")).collect();
    lab.flush();
    lab.write_all();
    let partitions: Vec<i32> = ids.iter().map(|&id| lab.delivered_partition(id)).collect();
    assert_eq!(partitions, [0, 1, 2, 0, 1, 2]);
}

#[test]
fn records_batch_up_to_batch_size_and_a_full_batch_goes_at_once() {
    let config = ProducerConfig {
        batch_size: TEN_RECORD_BATCH_SIZE,
        linger_ms: 60_000,
        delivery_timeout_ms: 200_000,
        ..plain()
    };
    let mut lab = Lab::new(config, cluster(1));
    for i in 0..9 {
        lab.send(Some(0), None, &format!("value-{i:04}"));
    }
    assert!(lab.pending().is_empty(), "nine records do not fill the batch");
    for i in 9..25 {
        lab.send(Some(0), None, &format!("value-{i:04}"));
    }
    let sizes: Vec<usize> = lab.pending().iter().map(|p| p.3.len()).collect();
    assert_eq!(sizes, [10, 10], "two full batches went without waiting for linger.ms");
    assert_eq!(lab.producer.queued_batches(lab.now_ms).iter().map(|b| b.records).collect::<Vec<_>>(), [5]);
    lab.flush();
    assert_eq!(lab.pending().iter().map(|p| p.3.len()).collect::<Vec<_>>(), [10, 10, 5]);
}

#[test]
fn linger_ms_holds_a_batch_until_it_expires() {
    let config = ProducerConfig { linger_ms: 50, ..plain() };
    let mut lab = Lab::new(config, cluster(1));
    lab.send(Some(0), None, "a");
    lab.advance(49);
    lab.send(Some(0), None, "b");
    assert!(lab.pending().is_empty(), "held for linger.ms");
    assert_eq!(lab.producer.queued_batches(lab.now_ms)[0].age_ms, 49);
    lab.advance(1);
    assert_eq!(lab.pending().iter().map(|p| p.3.clone()).collect::<Vec<_>>(), [vec!["a", "b"]]);
}

#[test]
fn max_in_flight_bounds_outstanding_requests_per_broker() {
    let mut cluster = cluster(5);
    cluster.leaders.insert(TopicPartition::new("t", 4), BrokerId(2));
    let config = ProducerConfig { linger_ms: 0, max_in_flight_requests_per_connection: 2, ..plain() };
    let mut lab = Lab::new(config, cluster);
    for p in 0..5 {
        lab.send(Some(p), None, "v");
    }
    let to = |lab: &Lab, b: i32| lab.pending().iter().filter(|p| p.1 == BrokerId(b)).count();
    assert_eq!((to(&lab, 1), to(&lab, 2)), (2, 1), "broker 1 gets two, broker 2 is not held up by it");
    assert_eq!(lab.producer.in_flight_to(BrokerId(1)), 2);
    let first = lab.pending_ids()[0];
    lab.answer(first, Answer::Write);
    assert_eq!(to(&lab, 1), 2, "an answer frees a slot for the next batch");
    lab.write_all();
    assert_eq!(lab.delivered.len(), 5);
}

#[test]
fn retries_reorder_records_without_idempotence() {
    let config = ProducerConfig { linger_ms: 0, ..plain() };
    let mut lab = Lab::new(config, cluster(1));
    lab.send(Some(0), None, "A");
    lab.send(Some(0), None, "B");
    let [a, b] = lab.pending_ids()[..] else { panic!("A and B both in flight") };
    lab.answer(a, Answer::Error(ErrorCode::NotLeaderOrFollower));
    lab.answer(b, Answer::Write);
    lab.advance(200);
    lab.write_all();
    assert_eq!(lab.broker.log(0), ["B", "A"], "the retried batch lands after the later one");
    assert_eq!(
        lab.delivered.iter().map(|d| (d.0 .0, d.2)).collect::<Vec<_>>(),
        [(1, Some(Offset(0))), (0, Some(Offset(1)))]
    );
}

#[test]
fn idempotence_keeps_order_under_the_same_failure() {
    let config = ProducerConfig { linger_ms: 0, ..ProducerConfig::default() };
    let mut lab = Lab::new(config, cluster(1));
    lab.send(Some(0), None, "A");
    lab.send(Some(0), None, "B");
    assert_eq!(lab.producer.producer_id(), Some(ProducerIdAndEpoch { producer_id: 1000, epoch: 0 }));
    let pending = lab.pending();
    assert_eq!(pending.iter().map(|p| p.4).collect::<Vec<_>>(), [0, 1], "base sequences 0 and 1");
    lab.answer(pending[0].0, Answer::Error(ErrorCode::NotLeaderOrFollower));
    lab.answer(pending[1].0, Answer::Write);
    assert!(lab.broker.log(0).is_empty(), "the broker refused B: sequence 1 before 0 is out of order");
    lab.advance(1_000);
    let retry = lab.pending();
    assert_eq!(retry.iter().map(|p| (p.3[0].as_str(), p.4)).collect::<Vec<_>>(), [("A", 0)], "only A goes first");
    lab.answer(retry[0].0, Answer::Write);
    lab.advance(1_000);
    lab.write_all();
    assert_eq!(lab.broker.log(0), ["A", "B"]);
    assert_eq!(
        lab.delivered.iter().map(|d| (d.0 .0, d.2)).collect::<Vec<_>>(),
        [(0, Some(Offset(0))), (1, Some(Offset(1)))]
    );
    assert_eq!(lab.producer.next_sequence(&TopicPartition::new("t", 0)), Some(2));
}

#[test]
fn a_lost_responses_retry_is_acknowledged_once_with_idempotence() {
    let config = ProducerConfig { linger_ms: 0, ..ProducerConfig::default() };
    let mut lab = Lab::new(config, cluster(1));
    let id = lab.send(Some(0), None, "A");
    lab.answer(lab.pending_ids()[0], Answer::WriteButLoseResponse);
    lab.advance(30_000);
    assert!(lab.events.iter().any(|e| matches!(e, ProducerEvent::RequestTimedOut { .. })));
    lab.advance(1_000);
    let retry = lab.pending();
    assert_eq!((retry.len(), retry[0].4), (1, 0), "the retry keeps sequence 0");
    lab.answer(retry[0].0, Answer::Write);
    assert_eq!(lab.broker.log(0), ["A"], "written once");
    assert_eq!(
        lab.delivered,
        [(id, TopicPartition::new("t", 0), Some(Offset(0)))],
        "acknowledged once, original offset"
    );
}

#[test]
fn a_lost_responses_retry_writes_the_record_twice_without_idempotence() {
    let config = ProducerConfig { linger_ms: 0, ..plain() };
    let mut lab = Lab::new(config, cluster(1));
    lab.send(Some(0), None, "A");
    lab.answer(lab.pending_ids()[0], Answer::WriteButLoseResponse);
    lab.advance(31_000);
    lab.write_all();
    assert_eq!(lab.broker.log(0), ["A", "A"]);
    assert_eq!(lab.delivered.len(), 1, "the producer itself hears of one write");
}

#[test]
fn delivery_timeout_fails_records_without_a_leader() {
    let mut cluster = cluster(1);
    cluster.leaders.clear();
    let mut lab = Lab::new(ProducerConfig::default(), cluster);
    let id = lab.send(Some(0), None, "A");
    lab.advance(119_999);
    assert!(lab.failed.is_empty() && lab.pending().is_empty(), "waits for a leader until delivery.timeout.ms");
    lab.advance(1);
    assert_eq!(lab.failed, [(id, ProducerError::DeliveryTimeout)]);
    assert!(lab.events.iter().any(|e| matches!(e, ProducerEvent::BatchExpired { records: 1, .. })));
}

#[test]
fn delivery_timeout_ends_retries_of_a_batch_the_broker_keeps_refusing() {
    let mut lab = Lab::new(ProducerConfig { linger_ms: 0, ..plain() }, cluster(1));
    let id = lab.send(Some(0), None, "A");
    let mut attempts = 0;
    while lab.failed.is_empty() {
        for request in lab.pending_ids() {
            attempts += 1;
            lab.answer(request, Answer::Error(ErrorCode::NotEnoughReplicas));
        }
        lab.advance(100);
    }
    assert_eq!(lab.failed, [(id, ProducerError::DeliveryTimeout)]);
    assert!(lab.now_ms >= 120_000 && lab.now_ms < 121_100, "failed at delivery.timeout.ms, not before: {}", lab.now_ms);
    // Back-off doubles from 100 ms to 1 s: about 120 retries in two minutes, not 1200.
    assert!((100..=200).contains(&attempts), "{attempts} attempts");
}

#[test]
fn out_of_order_sequence_for_the_expected_batch_bumps_the_epoch_and_restarts_sequences() {
    let mut lab = Lab::new(ProducerConfig { linger_ms: 0, ..ProducerConfig::default() }, cluster(1));
    lab.send(Some(0), None, "A");
    lab.write_all();
    lab.send(Some(0), None, "B");
    let b = lab.pending();
    assert_eq!(b[0].4, 1);
    lab.answer(b[0].0, Answer::Error(ErrorCode::OutOfOrderSequenceNumber));
    lab.advance(1_000);
    assert_eq!(lab.producer.producer_id(), Some(ProducerIdAndEpoch { producer_id: 1000, epoch: 1 }));
    let retry = lab.pending();
    assert_eq!((retry[0].3[0].as_str(), retry[0].4), ("B", 0), "B again, sequence 0 under epoch 1");
    lab.answer(retry[0].0, Answer::Write);
    assert_eq!(lab.broker.log(0), ["A", "B"]);
    assert_eq!(lab.delivered.len(), 2);
}

#[test]
fn a_fenced_producer_fails_its_batches_and_refuses_sends() {
    let mut lab = Lab::new(ProducerConfig { linger_ms: 0, ..ProducerConfig::default() }, cluster(1));
    let id = lab.send(Some(0), None, "A");
    lab.answer(lab.pending_ids()[0], Answer::Error(ErrorCode::ProducerFenced));
    assert_eq!(lab.failed, [(id, ProducerError::Fenced(ErrorCode::ProducerFenced))]);
    let record = ProducerRecord { topic: "t".into(), partition: None, key: None, value: None, timestamp_ms: None };
    let refused = lab.producer.send(0, record, &lab.cluster);
    assert_eq!(refused, Err(SendError::Fatal(ProducerError::Fenced(ErrorCode::ProducerFenced))));
}

#[test]
fn acks_0_counts_records_as_sent_without_offsets() {
    let config = ProducerConfig { acks: Acks::None, linger_ms: 0, ..ProducerConfig::default() };
    let mut lab = Lab::new(config, cluster(1));
    let id = lab.send(Some(0), None, "A");
    assert!(!lab.producer.is_idempotent(), "acks=0 turns default idempotence off");
    assert_eq!(lab.delivered, [(id, TopicPartition::new("t", 0), None)]);
    assert_eq!(lab.producer.in_flight().len(), 0);
}

#[test]
fn config_validation_rejects_idempotence_with_acks_1() {
    let config = ProducerConfig { acks: Acks::Leader, enable_idempotence: Some(true), ..ProducerConfig::default() };
    let error = config.validate().unwrap_err();
    assert_eq!(error, ConfigError::IdempotenceRequiresAcksAll { acks: Acks::Leader });
    assert!(error.to_string().contains("must set acks to all"), "{error}");
}

#[test]
fn send_refuses_unknown_topics_partitions_and_records_over_max_request_size() {
    let mut producer = Producer::new(ProducerConfig { max_request_size: 100, ..ProducerConfig::default() });
    let record = |topic: &str, partition, size| ProducerRecord {
        topic: topic.into(),
        partition,
        key: None,
        value: Some(Bytes::from(vec![0; size])),
        timestamp_ms: None,
    };
    let cluster = cluster(2);
    let unknown = producer.send(0, record("nope", None, 1), &cluster).unwrap_err();
    assert_eq!(unknown.to_string(), "topic nope not present in metadata");
    let partition = producer.send(0, record("t", Some(2), 1), &cluster).unwrap_err();
    assert!(matches!(partition, SendError::UnknownPartition { partition_count: 2, .. }), "{partition}");
    let large = producer.send(0, record("t", None, 100), &cluster).unwrap_err();
    assert!(matches!(large, SendError::RecordTooLarge { max_request_size: 100, .. }), "{large}");
    assert!(producer.send(0, record("t", None, 10), &cluster).is_ok());
}

#[test]
fn same_inputs_give_the_same_outputs() {
    let run = || {
        let config = ProducerConfig { batch_size: 300, ..ProducerConfig::default() };
        let mut lab = Lab::new(config, cluster(4));
        for i in 0..40 {
            lab.send(None, (i % 3 == 0).then_some("k"), "0123456789");
            if i % 7 == 0 {
                if let Some(&id) = lab.pending_ids().first() {
                    lab.answer(id, Answer::Error(ErrorCode::NotLeaderOrFollower));
                }
            }
            lab.advance(3);
        }
        lab.advance(2_000);
        lab.write_all();
        lab.advance(2_000);
        lab.write_all();
        assert_eq!(lab.delivered.len(), 40);
        lab.log
    };
    assert_eq!(run(), run());
}

#[test]
fn a_transaction_adds_each_partition_before_its_batches_and_commits_after_all_are_written() {
    let mut lab = transactional_lab();
    let record = ProducerRecord { topic: "t".into(), partition: Some(0), key: None, value: None, timestamp_ms: None };
    assert!(
        matches!(lab.producer.send(0, record, &lab.cluster), Err(SendError::Transaction(_))),
        "no send before begin"
    );
    lab.producer.begin_transaction().unwrap();
    lab.send(Some(0), None, "A");
    lab.send(Some(1), None, "B");
    assert!(lab.pending().is_empty(), "no batch before its partition is in the transaction");
    let added = |p: i32| vec![(TopicPartition::new("t", p), None)];
    coordinator_answers(&mut lab, "AddPartitionsToTxn", TxnResponse::AddPartitionsToTxn { results: added(0) });
    assert_eq!(lab.pending().iter().map(|p| p.2).collect::<Vec<_>>(), [0], "t/0's batch goes once t/0 is added");
    coordinator_answers(&mut lab, "AddPartitionsToTxn", TxnResponse::AddPartitionsToTxn { results: added(1) });
    assert!(lab
        .requests
        .values()
        .all(|(_, m)| !matches!(m, Message::Produce { batch, .. } if !batch.is_transactional())));
    lab.producer.commit_transaction(lab.now_ms, &lab.cluster).unwrap();
    lab.collect();
    assert!(lab.pending_coordinator().is_empty(), "EndTxn waits for the batches");
    lab.write_all();
    coordinator_answers(&mut lab, "EndTxn", TxnResponse::EndTxn { error: None });
    assert_eq!(lab.transactions, [true]);
    assert_eq!(lab.producer.transaction_state(), Some(TransactionState::Ready));
}

#[test]
fn offsets_join_the_transaction_through_the_group_coordinator() {
    let mut lab = transactional_lab();
    lab.producer.begin_transaction().unwrap();
    let offsets = vec![OffsetToCommit {
        partition: TopicPartition::new("in", 0),
        offset: Offset(42),
        leader_epoch: -1,
        metadata: "".into(),
    }];
    let group =
        GroupMetadata { group_id: "g".into(), generation_id: 3, member_id: "m".into(), group_instance_id: None };
    lab.producer.send_offsets_to_transaction(0, offsets, group, &lab.cluster).unwrap();
    lab.collect();
    coordinator_answers(&mut lab, "AddOffsetsToTxn", TxnResponse::AddOffsetsToTxn { error: None });
    let [(find, _, Message::FindCoordinator { key_type: CoordinatorType::Group, .. })] = &lab.pending_coordinator()[..]
    else {
        panic!("{:?}", lab.pending_coordinator())
    };
    lab.reply(*find, Message::FindCoordinatorResponse { request_id: *find, result: Ok(BrokerId(3)) });
    let [(commit, BrokerId(3), Message::Group { request, .. })] = &lab.pending_coordinator()[..] else {
        panic!("{:?}", lab.pending_coordinator())
    };
    let GroupRequest::TxnOffsetCommit { producer_id: 2000, generation_id: 3, offsets, .. } = &**request else {
        panic!("{request:?}")
    };
    assert_eq!(offsets[0].offset, Offset(42));
    let response = Box::new(GroupResponse::TxnOffsetCommit { results: vec![(TopicPartition::new("in", 0), None)] });
    lab.reply(*commit, Message::GroupResponse { request_id: *commit, response });
    lab.producer.commit_transaction(lab.now_ms, &lab.cluster).unwrap();
    lab.collect();
    coordinator_answers(&mut lab, "EndTxn", TxnResponse::EndTxn { error: None });
    assert_eq!(lab.transactions, [true]);
}

#[test]
fn abort_fails_the_batches_not_yet_sent_and_ends_the_transaction_with_an_abort() {
    let mut lab = transactional_lab();
    lab.producer.begin_transaction().unwrap();
    let id = lab.send(Some(0), None, "A");
    lab.producer.abort_transaction(lab.now_ms, &lab.cluster).unwrap();
    lab.collect();
    assert_eq!(lab.failed, [(id, ProducerError::TransactionAborted)]);
    let added = vec![(TopicPartition::new("t", 0), None)];
    coordinator_answers(&mut lab, "AddPartitionsToTxn", TxnResponse::AddPartitionsToTxn { results: added });
    coordinator_answers(&mut lab, "EndTxn", TxnResponse::EndTxn { error: None });
    assert_eq!(lab.transactions, [false]);
    assert!(lab.broker.log(0).is_empty());
}

#[test]
fn a_failed_batch_leaves_the_transaction_only_abortable() {
    let mut lab = transactional_lab();
    lab.producer.begin_transaction().unwrap();
    lab.send(Some(0), None, "A");
    let added = vec![(TopicPartition::new("t", 0), None)];
    coordinator_answers(&mut lab, "AddPartitionsToTxn", TxnResponse::AddPartitionsToTxn { results: added });
    lab.answer(lab.pending_ids()[0], Answer::Error(ErrorCode::InvalidRecord));
    assert!(matches!(lab.producer.transaction_state(), Some(TransactionState::AbortableError(_))));
    assert!(lab.producer.commit_transaction(lab.now_ms, &lab.cluster).is_err());
    lab.producer.abort_transaction(lab.now_ms, &lab.cluster).unwrap();
    lab.collect();
    coordinator_answers(&mut lab, "EndTxn", TxnResponse::EndTxn { error: None });
    assert_eq!(lab.transactions, [false]);
}

#[test]
fn producer_fenced_is_fatal_to_a_transactional_producer() {
    let mut lab = transactional_lab();
    lab.producer.begin_transaction().unwrap();
    let fenced = ErrorCode::ProducerFenced;
    coordinator_answers_nothing_then_fence(&mut lab, fenced);
    assert_eq!(lab.producer.transaction_state(), Some(TransactionState::Fatal(ProducerError::Fenced(fenced))));
    let record = ProducerRecord { topic: "t".into(), partition: Some(0), key: None, value: None, timestamp_ms: None };
    assert_eq!(
        lab.producer.send(lab.now_ms, record, &lab.cluster),
        Err(SendError::Fatal(ProducerError::Fenced(fenced)))
    );
}

/// A record's partition is added, then the coordinator fences the producer on commit.
fn coordinator_answers_nothing_then_fence(lab: &mut Lab, error: ErrorCode) {
    let id = lab.send(Some(0), None, "A");
    let results = vec![(TopicPartition::new("t", 0), Some(error))];
    coordinator_answers(lab, "AddPartitionsToTxn", TxnResponse::AddPartitionsToTxn { results });
    assert_eq!(lab.failed, [(id, ProducerError::Fenced(error))]);
}

#[test]
fn an_idempotent_producer_asks_the_next_broker_for_an_id_after_an_error() {
    let mut lab = Lab::new(ProducerConfig { linger_ms: 0, ..ProducerConfig::default() }, cluster(1));
    lab.answer_init_producer_id = false;
    lab.send(Some(0), None, "A");
    let [(first, BrokerId(1), _)] = &lab.pending_coordinator()[..] else { panic!("{:?}", lab.pending_coordinator()) };
    let response = Box::new(TxnResponse::InitProducerId { result: Err(ErrorCode::CoordinatorLoadInProgress) });
    lab.reply(*first, Message::TxnResponse { request_id: *first, response });
    assert!(lab.pending_coordinator().is_empty() && lab.pending().is_empty(), "backs off retry.backoff.ms");
    lab.advance(100);
    let [(second, BrokerId(2), Message::Txn { request, .. })] = &lab.pending_coordinator()[..] else {
        panic!("{:?}", lab.pending_coordinator())
    };
    let TxnRequest::InitProducerId { transactional_id: None, transaction_timeout_ms: 60_000, current } = **request
    else {
        panic!("{request:?}")
    };
    assert_eq!(current, ProducerIdAndEpoch::NONE);
    let producer = ProducerIdAndEpoch { producer_id: 5, epoch: 0 };
    let response = Box::new(TxnResponse::InitProducerId { result: Ok(producer) });
    lab.reply(*second, Message::TxnResponse { request_id: *second, response });
    assert_eq!(lab.pending().iter().map(|p| p.4).collect::<Vec<_>>(), [0], "the batch goes once the id is known");
}
