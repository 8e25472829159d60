//! The transaction coordinator alone, driven the way a broker drives it: requests in, appends
//! to `__transaction_state` committed (or failed) when the test says so, markers reported
//! written when the test says so. Each test names the KIP-98 / KIP-360 / KIP-588 claim it checks.

mod transaction_broker;

use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::transaction::protocol::{ProducerIdAndEpoch, TransactionState, TxnRequest, TxnResponse};
use kafkalab_core::transaction::{
    partition_for, TransactionLogKey, TransactionMetadata, TxnEvent, TxnOutput, TxnTimer,
};
use kafkalab_core::TopicPartition;
use std::collections::BTreeSet;
use std::sync::Arc;
use transaction_broker::*;

#[test]
fn an_idempotent_producer_gets_a_fresh_id_at_epoch_0_each_time_and_ids_never_repeat_across_blocks() {
    let mut broker = Broker::without_ids();
    let (first, outputs) = broker.send_raw(init(None, ProducerIdAndEpoch::NONE));
    assert!(outputs.contains(&TxnOutput::RequestProducerIdBlock), "no ids yet: ask the controller");
    assert_eq!(response_to(&outputs, first), None, "the request waits for a block");
    let mut granted = 0;
    broker.coordinator.producer_id_block_granted(0, granted, 1000);
    granted += 1000;
    let mut ids = BTreeSet::new();
    ids.insert(init_result(&response_to(&broker.take(), first).unwrap()).unwrap().producer_id);
    for _ in 0..2500 {
        let (request_id, outputs) = broker.send_raw(init(None, ProducerIdAndEpoch::NONE));
        if outputs.contains(&TxnOutput::RequestProducerIdBlock) {
            broker.coordinator.producer_id_block_granted(0, granted, 1000);
            granted += 1000;
        }
        let response = response_to(&outputs, request_id).or_else(|| response_to(&broker.take(), request_id));
        let producer = init_result(&response.expect("answered")).expect("an id");
        assert_eq!(producer.epoch, 0);
        assert!(ids.insert(producer.producer_id), "id {} handed out twice", producer.producer_id);
    }
    assert_eq!(ids.len(), 2501);
    assert!(broker.log.is_empty(), "an idempotent producer's id is not persisted");
}

#[test]
fn a_new_transactional_id_gets_a_producer_id_at_epoch_0_persisted_before_the_answer() {
    let mut broker = Broker::new();
    let (request_id, outputs) = broker.send_raw(init(Some(TXN), ProducerIdAndEpoch::NONE));
    assert_eq!(response_to(&outputs, request_id), None, "no answer before the append commits");
    let appended = appends(&outputs);
    assert_eq!(appended.len(), 1);
    let (value, token) = appended[0].clone();
    assert_eq!(
        (value.transaction_status, value.producer_epoch, value.transaction_partitions),
        (TransactionState::Empty, 0, None)
    );
    assert!(matches!(&outputs[0], TxnOutput::Append { partition_index, .. } if *partition_index == txn_partition()));
    broker.coordinator.append_completed(0, token, Ok(()));
    let producer = init_result(&response_to(&broker.take(), request_id).unwrap()).unwrap();
    assert_eq!(producer, ProducerIdAndEpoch { producer_id: value.producer_id, epoch: 0 });
}

#[test]
fn kip_588_a_second_init_bumps_the_epoch_and_the_old_epoch_is_fenced() {
    let mut broker = Broker::new();
    let old = broker.init();
    let new = broker.init();
    assert_eq!(new, ProducerIdAndEpoch { producer_id: old.producer_id, epoch: old.epoch + 1 });
    assert_eq!(add_errors(&broker.send(add(old, &[("orders", 0)]))), vec![Some(ErrorCode::ProducerFenced)]);
    assert_eq!(end_error(&broker.send(end(old, true))), Some(ErrorCode::ProducerFenced));
    assert!(broker.seen.iter().any(|o| matches!(o, TxnOutput::Event(TxnEvent::Fenced { .. }))));
    // The new instance works.
    assert_eq!(add_errors(&broker.send(add(new, &[("orders", 0)]))), vec![None]);
}

#[test]
fn kip_360_init_with_the_current_epoch_bumps_it_and_with_a_stale_one_is_fenced() {
    let mut broker = Broker::new();
    let first = broker.init();
    let bumped = init_result(&broker.send(init(Some(TXN), first))).unwrap();
    assert_eq!(bumped.epoch, first.epoch + 1);
    let other_id = ProducerIdAndEpoch { producer_id: first.producer_id + 500, epoch: 0 };
    assert_eq!(init_result(&broker.send(init(Some(TXN), other_id))), Err(ErrorCode::ProducerFenced));
}

#[test]
fn init_during_an_ongoing_transaction_aborts_it_with_markers_before_answering() {
    let mut broker = Broker::new();
    let old = broker.ongoing();
    let (request_id, outputs) = broker.send_raw(init(Some(TXN), ProducerIdAndEpoch::NONE));
    let outputs = broker.commit_appends(outputs);
    assert_eq!(appended_states(&outputs), vec![TransactionState::PrepareAbort]);
    let fenced = ProducerIdAndEpoch { producer_id: old.producer_id, epoch: old.epoch + 1 };
    assert_eq!(appends(&outputs)[0].0.producer_epoch, fenced.epoch, "the abort is written at the bumped epoch");
    assert_eq!(init_result(&response_to(&outputs, request_id).unwrap()), Err(ErrorCode::ConcurrentTransactions));
    let written = markers(&outputs);
    assert_eq!(written.len(), 1);
    let (marker, token) = written[0].clone();
    assert_eq!((marker.committed, marker.producer, marker.coordinator_epoch), (false, fenced, 1));
    assert_eq!(marker.partitions, vec![TopicPartition::new("orders", 0), TopicPartition::new("orders", 1)]);
    // The zombie cannot commit what is being aborted; the new instance must retry meanwhile.
    assert_eq!(end_error(&broker.send(end(old, true))), Some(ErrorCode::ProducerFenced));
    assert_eq!(
        init_result(&broker.send(init(Some(TXN), ProducerIdAndEpoch::NONE))),
        Err(ErrorCode::ConcurrentTransactions)
    );
    let outputs = broker.markers_written(token);
    assert_eq!(appended_states(&outputs), vec![TransactionState::CompleteAbort]);
    assert_eq!(broker.state(), TransactionState::CompleteAbort);
    let retried = broker.init();
    assert_eq!(retried, ProducerIdAndEpoch { producer_id: old.producer_id, epoch: old.epoch + 2 });
}

#[test]
fn commit_goes_ongoing_prepare_commit_answered_markers_complete_commit() {
    let mut broker = Broker::new();
    let producer = broker.ongoing();
    let (request_id, outputs) = broker.send_raw(end(producer, true));
    assert_eq!(appended_states(&outputs), vec![TransactionState::PrepareCommit]);
    assert_eq!(response_to(&outputs, request_id), None, "answered only once PrepareCommit is committed");
    assert!(markers(&outputs).is_empty(), "no marker before the decision is written");
    let outputs = broker.commit_appends(outputs);
    assert_eq!(end_error(&response_to(&outputs, request_id).unwrap()), None);
    assert_eq!(broker.state(), TransactionState::PrepareCommit);
    let (marker, token) = markers(&outputs)[0].clone();
    assert!(marker.committed);
    assert_eq!(marker.producer, producer);
    let outputs = broker.markers_written(token);
    let complete = appends(&outputs);
    assert_eq!(complete[0].0.transaction_status, TransactionState::CompleteCommit);
    assert_eq!(complete[0].0.transaction_partitions, Some(vec![]), "the partitions are cleared");
    let metadata = broker.coordinator.transaction(TXN).unwrap();
    assert_eq!((metadata.state(), metadata.current.partitions.len()), (TransactionState::CompleteCommit, 0));
    // A retried EndTxn(commit) is answered OK; an abort now is an invalid transition.
    assert_eq!(end_error(&broker.send(end(producer, true))), None);
    assert_eq!(end_error(&broker.send(end(producer, false))), Some(ErrorCode::InvalidTxnState));
    // The next transaction starts from CompleteCommit.
    assert_eq!(add_errors(&broker.send(add(producer, &[("orders", 2)]))), vec![None]);
}

#[test]
fn abort_goes_ongoing_prepare_abort_markers_complete_abort() {
    let mut broker = Broker::new();
    let producer = broker.ongoing();
    let (request_id, outputs) = broker.send_raw(end(producer, false));
    let outputs = broker.commit_appends(outputs);
    assert_eq!(appended_states(&outputs), vec![TransactionState::PrepareAbort]);
    assert_eq!(end_error(&response_to(&outputs, request_id).unwrap()), None);
    let (marker, token) = markers(&outputs)[0].clone();
    assert!(!marker.committed);
    assert_eq!(marker.producer, producer, "a client's abort keeps its epoch");
    assert_eq!(appended_states(&broker.markers_written(token)), vec![TransactionState::CompleteAbort]);
    assert_eq!(end_error(&broker.send(end(producer, false))), None, "a retried abort is OK");
}

#[test]
fn end_txn_with_nothing_begun_is_an_invalid_transition() {
    let mut broker = Broker::new();
    let producer = broker.init();
    assert_eq!(end_error(&broker.send(end(producer, true))), Some(ErrorCode::InvalidTxnState));
}

#[test]
fn a_transaction_past_its_timeout_is_aborted_at_a_bumped_epoch_and_its_producer_fenced() {
    let mut broker = Broker::new();
    let zombie = broker.ongoing();
    // Exactly at the timeout it is not yet over (Kafka's check is strict).
    broker.now_ms = TIMEOUT_MS;
    broker.coordinator.handle_timer(broker.now_ms, TxnTimer::AbortTimedOutTransactions);
    let outputs = broker.take();
    assert!(appends(&outputs).is_empty());
    assert!(outputs.contains(&TxnOutput::SetTimer { after_ms: 10_000, timer: TxnTimer::AbortTimedOutTransactions }));
    broker.now_ms = TIMEOUT_MS + 10_000;
    broker.coordinator.handle_timer(broker.now_ms, TxnTimer::AbortTimedOutTransactions);
    let outputs = broker.take();
    assert!(outputs.iter().any(|o| matches!(o, TxnOutput::Event(TxnEvent::TimedOut { .. }))));
    let outputs = broker.commit_appends(outputs);
    let bumped = ProducerIdAndEpoch { producer_id: zombie.producer_id, epoch: zombie.epoch + 1 };
    assert_eq!(appends(&outputs)[0].0.transaction_status, TransactionState::PrepareAbort);
    assert_eq!(appends(&outputs)[0].0.producer_epoch, bumped.epoch);
    let (marker, token) = markers(&outputs)[0].clone();
    assert_eq!((marker.committed, marker.producer), (false, bumped));
    assert_eq!(end_error(&broker.send(end(zombie, true))), Some(ErrorCode::ProducerFenced));
    broker.markers_written(token);
    assert_eq!(broker.state(), TransactionState::CompleteAbort);
    assert_eq!(add_errors(&broker.send(add(zombie, &[("orders", 0)]))), vec![Some(ErrorCode::ProducerFenced)]);
}

#[test]
fn add_partitions_while_a_write_is_pending_or_during_prepare_commit_gets_concurrent_transactions() {
    let mut broker = Broker::new();
    let producer = broker.init();
    let (_, pending) = broker.send_raw(add(producer, &[("orders", 0)]));
    assert_eq!(
        add_errors(&broker.send(add(producer, &[("orders", 1)]))),
        vec![Some(ErrorCode::ConcurrentTransactions)]
    );
    broker.commit_appends(pending);
    assert_eq!(end_error(&broker.send(end(producer, true))), None);
    assert_eq!(broker.state(), TransactionState::PrepareCommit);
    assert_eq!(
        add_errors(&broker.send(add(producer, &[("orders", 1)]))),
        vec![Some(ErrorCode::ConcurrentTransactions)]
    );
    assert_eq!(end_error(&broker.send(end(producer, true))), Some(ErrorCode::ConcurrentTransactions));
    assert_eq!(end_error(&broker.send(end(producer, false))), Some(ErrorCode::InvalidTxnState));
}

#[test]
fn add_partitions_already_in_the_transaction_is_answered_without_a_write() {
    let mut broker = Broker::new();
    let producer = broker.ongoing();
    let (request_id, outputs) = broker.send_raw(add(producer, &[("orders", 1)]));
    assert!(appends(&outputs).is_empty());
    assert_eq!(add_errors(&response_to(&outputs, request_id).unwrap()), vec![None]);
}

#[test]
fn a_wrong_producer_id_is_invalid_producer_id_mapping() {
    let mut broker = Broker::new();
    let producer = broker.init();
    let stranger = ProducerIdAndEpoch { producer_id: producer.producer_id + 1, epoch: producer.epoch };
    assert_eq!(
        add_errors(&broker.send(add(stranger, &[("orders", 0)]))),
        vec![Some(ErrorCode::InvalidProducerIdMapping)]
    );
    assert_eq!(end_error(&broker.send(end(stranger, true))), Some(ErrorCode::InvalidProducerIdMapping));
    let unknown = TxnRequest::EndTxn { transactional_id: Arc::from("never-seen"), producer, committed: true };
    let (id, outputs) = broker.send_raw(unknown);
    let response = response_to(&outputs, id).unwrap();
    // "never-seen" may live in another partition, which this coordinator does not lead.
    let expected = if partition_for("never-seen", 50) == txn_partition() {
        ErrorCode::InvalidProducerIdMapping
    } else {
        ErrorCode::NotCoordinator
    };
    assert_eq!(end_error(&response), Some(expected));
}

#[test]
fn a_timeout_above_transaction_max_timeout_ms_is_invalid_transaction_timeout() {
    let mut broker = Broker::new();
    for (timeout_ms, expected) in [
        (900_001, Err(ErrorCode::InvalidTransactionTimeout)),
        (0, Err(ErrorCode::InvalidTransactionTimeout)),
        (900_000, Ok(0)),
    ] {
        let request = TxnRequest::InitProducerId {
            transactional_id: Some(Arc::from(TXN)),
            transaction_timeout_ms: timeout_ms,
            current: ProducerIdAndEpoch::NONE,
        };
        assert_eq!(init_result(&broker.send(request)).map(|producer| producer.epoch), expected, "{timeout_ms} ms");
    }
}

#[test]
fn add_offsets_to_txn_adds_the_groups_consumer_offsets_partition() {
    let mut broker = Broker::new();
    let producer = broker.init();
    let request =
        TxnRequest::AddOffsetsToTxn { transactional_id: Arc::from(TXN), producer, group_id: Arc::from("orders-app") };
    assert_eq!(broker.send(request), TxnResponse::AddOffsetsToTxn { error: None });
    // Java's "orders-app".hashCode() is 772757305; 772757305 % 50 = 5.
    let offsets = TopicPartition::new("__consumer_offsets", 5);
    assert!(broker.coordinator.transaction(TXN).unwrap().current.partitions.contains(&offsets));
}

#[test]
fn a_failed_append_rolls_the_state_back_and_answers_not_coordinator() {
    let mut broker = Broker::new();
    let producer = broker.ongoing();
    let (request_id, outputs) = broker.send_raw(end(producer, true));
    let (_, token) = appends(&outputs)[0].clone();
    broker.coordinator.append_completed(0, token, Err(ErrorCode::NotLeaderOrFollower));
    let outputs = broker.take();
    assert_eq!(end_error(&response_to(&outputs, request_id).unwrap()), Some(ErrorCode::NotCoordinator));
    assert!(markers(&outputs).is_empty(), "nothing decided, nothing marked");
    let metadata = broker.coordinator.transaction(TXN).unwrap();
    assert_eq!((metadata.state(), metadata.pending_state), (TransactionState::Ongoing, None));
    // Not enough replicas maps to COORDINATOR_NOT_AVAILABLE.
    let (request_id, outputs) = broker.send_raw(end(producer, true));
    broker.coordinator.append_completed(0, appends(&outputs)[0].1, Err(ErrorCode::NotEnoughReplicas));
    let response = response_to(&broker.take(), request_id).unwrap();
    assert_eq!(end_error(&response), Some(ErrorCode::CoordinatorNotAvailable));
    // The state is as before: the retried commit goes through.
    assert_eq!(end_error(&broker.send(end(producer, true))), None);
}

#[test]
fn a_failed_fence_puts_the_epoch_back_and_a_failed_first_init_forgets_the_id() {
    let mut broker = Broker::new();
    let old = broker.ongoing();
    let (_, outputs) = broker.send_raw(init(Some(TXN), ProducerIdAndEpoch::NONE));
    broker.coordinator.append_completed(0, appends(&outputs)[0].1, Err(ErrorCode::RequestTimedOut));
    broker.take();
    assert_eq!(broker.coordinator.transaction(TXN).unwrap().producer(), old, "the fence did not happen");
    assert_eq!(add_errors(&broker.send(add(old, &[("orders", 0)]))), vec![None]);

    let mut broker = Broker::new();
    let (request_id, outputs) = broker.send_raw(init(Some(TXN), ProducerIdAndEpoch::NONE));
    broker.coordinator.append_completed(0, appends(&outputs)[0].1, Err(ErrorCode::NotLeaderOrFollower));
    let response = response_to(&broker.take(), request_id).unwrap();
    assert_eq!(init_result(&response), Err(ErrorCode::NotCoordinator));
    assert!(broker.coordinator.transaction(TXN).is_none());
}

#[test]
fn a_new_coordinator_loading_a_partition_in_prepare_commit_resumes_the_markers_and_completes() {
    let mut old = Broker::new();
    let producer = old.ongoing();
    assert_eq!(end_error(&old.send(end(producer, true))), None);
    // The old coordinator dies before the markers are written.
    let mut new = Broker::new();
    new.coordinator.load_partition(5_000, txn_partition(), 2, old.records());
    let outputs = new.take();
    assert!(outputs
        .iter()
        .any(|o| matches!(o, TxnOutput::Event(TxnEvent::PartitionLoaded { transactional_ids: 1, .. }))));
    let (marker, token) = markers(&outputs)[0].clone();
    assert_eq!((marker.committed, marker.producer, marker.coordinator_epoch), (true, producer, 2));
    assert_eq!(marker.partitions.len(), 2);
    assert_eq!(new.state(), TransactionState::PrepareCommit);
    assert_eq!(appended_states(&new.markers_written(token)), vec![TransactionState::CompleteCommit]);
    assert_eq!(new.state(), TransactionState::CompleteCommit);
    // The producer carries on at the new coordinator.
    assert_eq!(add_errors(&new.send(add(producer, &[("orders", 3)]))), vec![None]);
}

#[test]
fn loading_keeps_the_last_record_per_id_and_an_epoch_near_i16_max_gets_a_new_producer_id() {
    let mut broker = Broker::new();
    let key = TransactionLogKey { transactional_id: Arc::from(TXN) }.encode();
    let value = |epoch| {
        let mut metadata = TransactionMetadata::new(Arc::from(TXN), 4242, 60_000, 1);
        (metadata.current.state, metadata.current.producer_epoch) = (TransactionState::CompleteCommit, epoch);
        Some(metadata.current.to_log_value().encode())
    };
    let records = vec![(key.clone(), value(3)), (key, value(i16::MAX - 1))];
    broker.coordinator.load_partition(0, txn_partition(), 7, records);
    broker.take();
    assert_eq!(broker.coordinator.transaction(TXN).unwrap().producer().epoch, i16::MAX - 1);
    let producer = broker.init();
    assert_ne!(producer.producer_id, 4242, "the epoch is exhausted: a new producer id");
    assert_eq!(producer.epoch, 0);
    // A tombstone deletes the id.
    let key = TransactionLogKey { transactional_id: Arc::from(TXN) }.encode();
    broker.coordinator.load_partition(0, txn_partition(), 8, vec![(key.clone(), value(3)), (key, None)]);
    assert!(broker.coordinator.transaction(TXN).is_none());
}

#[test]
fn unloading_answers_waiting_requests_not_coordinator_and_later_ones_too() {
    let mut broker = Broker::new();
    let producer = broker.ongoing();
    let (request_id, outputs) = broker.send_raw(end(producer, true));
    broker.coordinator.unload_partition(txn_partition());
    let response = response_to(&broker.take(), request_id).unwrap();
    assert_eq!(end_error(&response), Some(ErrorCode::NotCoordinator));
    // The append's late report changes nothing.
    broker.coordinator.append_completed(0, appends(&outputs)[0].1, Ok(()));
    assert!(broker.take().is_empty());
    assert!(broker.coordinator.transaction(TXN).is_none());
    assert_eq!(init_result(&broker.send(init(Some(TXN), ProducerIdAndEpoch::NONE))), Err(ErrorCode::NotCoordinator));
}

#[test]
fn a_transactional_init_waits_for_a_producer_id_block_and_unloading_answers_it_not_coordinator() {
    let mut broker = Broker::without_ids();
    let (waiting, outputs) = broker.send_raw(init(Some(TXN), ProducerIdAndEpoch::NONE));
    assert!(outputs.contains(&TxnOutput::RequestProducerIdBlock));
    assert_eq!(response_to(&outputs, waiting), None);
    broker.coordinator.producer_id_block_granted(0, 5_000, 1_000);
    let outputs = broker.take();
    assert_eq!(appended_states(&outputs), vec![TransactionState::Empty], "the waiting request goes on");
    let outputs = broker.commit_appends(outputs);
    assert_eq!(
        init_result(&response_to(&outputs, waiting).unwrap()),
        Ok(ProducerIdAndEpoch { producer_id: 5_000, epoch: 0 })
    );

    let mut broker = Broker::without_ids();
    let (waiting, _) = broker.send_raw(init(Some(TXN), ProducerIdAndEpoch::NONE));
    broker.coordinator.unload_partition(txn_partition());
    let response = response_to(&broker.take(), waiting).unwrap();
    assert_eq!(init_result(&response), Err(ErrorCode::NotCoordinator));
}

/// A whole run: a commit, a fence of an open transaction, a timeout and a failover, traced.
fn scripted_run() -> Vec<String> {
    let mut broker = Broker::new();
    let producer = broker.ongoing();
    broker.send(end(producer, true));
    broker.markers_written(markers(&broker.seen)[0].1);
    broker.send(add(producer, &[("payments", 0)]));
    broker.send(init(Some(TXN), ProducerIdAndEpoch::NONE));
    broker.markers_written(markers(&broker.seen)[1].1);
    let producer = broker.init();
    broker.send(add(producer, &[("payments", 1)]));
    broker.now_ms = 200_000;
    broker.coordinator.handle_timer(broker.now_ms, TxnTimer::AbortTimedOutTransactions);
    let outputs = broker.take();
    assert!(outputs.iter().any(|o| matches!(o, TxnOutput::Event(TxnEvent::TimedOut { .. }))));
    broker.commit_appends(outputs);
    let mut other = Broker::new();
    other.coordinator.load_partition(300_000, txn_partition(), 2, broker.records());
    other.take();
    let mut trace: Vec<String> = broker.seen.iter().map(|output| format!("{output:?}")).collect();
    trace.extend(other.seen.iter().map(|output| format!("{output:?}")));
    trace
}

#[test]
fn the_same_inputs_give_the_same_outputs_byte_for_byte() {
    let first = scripted_run();
    assert!(first.len() > 20, "the run did something: {first:#?}");
    assert_eq!(first, scripted_run());
}

#[test]
fn a_failed_completion_write_is_retried_after_the_back_off_unless_the_partition_is_moving() {
    let mut broker = Broker::new();
    let producer = broker.ongoing();
    broker.send(end(producer, true));
    let token = markers(&broker.seen)[0].1;
    broker.coordinator.markers_written(0, token);
    let outputs = broker.take();
    let (_, append) = appends(&outputs)[0].clone();
    broker.coordinator.append_completed(0, append, Err(ErrorCode::NotEnoughReplicas));
    let outputs = broker.take();
    let retry = TxnTimer::RetryComplete { transactional_id: Arc::from(TXN), coordinator_epoch: 1 };
    assert!(outputs.contains(&TxnOutput::SetTimer { after_ms: 100, timer: retry.clone() }));
    assert_eq!(broker.state(), TransactionState::PrepareCommit, "still decided, not yet complete");
    broker.coordinator.handle_timer(100, retry);
    let outputs = broker.take();
    assert_eq!(appended_states(&outputs), vec![TransactionState::CompleteCommit]);
    // This time the broker is losing the partition: no retry, the next coordinator resumes.
    broker.coordinator.append_completed(100, appends(&outputs)[0].1, Err(ErrorCode::NotLeaderOrFollower));
    let outputs = broker.take();
    assert!(!outputs.iter().any(|o| matches!(o, TxnOutput::SetTimer { .. })));
    assert_eq!(broker.state(), TransactionState::PrepareCommit);
}
