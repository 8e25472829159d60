//! Idempotent and transactional producers in the partition log (Kafka's `ProducerStateManager`,
//! `ProducerAppendInfo` and transaction index): a retry is not written twice, zombies and
//! sequence gaps are refused with Kafka's error codes, open transactions hold the last stable
//! offset back, aborted ones are reported to `read_committed` fetches, and followers,
//! truncation, retention and compaction keep that state consistent.

use bytes::Bytes;
use kafkalab_core::broker::Broker;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::ids::{BrokerId, TopicPartition};
use kafkalab_core::ids::{LeaderEpoch, Offset};
use kafkalab_core::message::{Acks, Message, NodeId, Output};
use kafkalab_core::metadata::MetadataImage;
use kafkalab_core::partition_log::{
    AbortedTransaction, AppendError, Appended, CleanupPolicy, LogConfig, LogError, PartitionLog, ProducerView,
};
use kafkalab_core::record_batch::{encode, BatchAttributes, BatchHeader, Record, RecordBatch};
use kafkalab_core::topology::PartitionState;
use kafkalab_core::trace::TraceEvent;
use kafkalab_core::ClusterConfig;
use proptest::prelude::*;
use std::collections::BTreeSet;

const EPOCH: LeaderEpoch = LeaderEpoch(0);

/// A batch of `count` keyed records from producer `producer_id` at `producer_epoch`, sequences
/// from `first_sequence`, transactional if asked.
fn producer_batch(producer_id: i64, producer_epoch: i16, first_sequence: i32, count: i32, txn: bool) -> RecordBatch {
    let records: Vec<Record> = (0..count)
        .map(|delta| {
            let key = Bytes::from(format!("p{producer_id}"));
            let value = Bytes::from(format!("e{producer_epoch}s{}", first_sequence.wrapping_add(delta)));
            Record::new(delta, 0, Some(key), Some(value))
        })
        .collect();
    let header = BatchHeader {
        attributes: BatchAttributes::default().with_transactional(txn),
        producer_id,
        producer_epoch,
        base_sequence: first_sequence,
        ..BatchHeader::new(Offset(0), 0)
    }
    .fitted_to(&records);
    encode(&header, &records).unwrap()
}

fn idempotent(producer_id: i64, producer_epoch: i16, first_sequence: i32, count: i32) -> RecordBatch {
    producer_batch(producer_id, producer_epoch, first_sequence, count, false)
}

fn transactional(producer_id: i64, producer_epoch: i16, first_sequence: i32, count: i32) -> RecordBatch {
    producer_batch(producer_id, producer_epoch, first_sequence, count, true)
}

fn appended(first: i64, last: i64) -> Appended {
    Appended { first_offset: Offset(first), last_offset: Offset(last), duplicate: false }
}

fn duplicate_of(first: i64, last: i64) -> Appended {
    Appended { first_offset: Offset(first), last_offset: Offset(last), duplicate: true }
}

fn append(log: &mut PartitionLog, batch: RecordBatch) -> Result<Appended, AppendError> {
    log.append_from_producer(EPOCH, 0, batch)
}

fn plain_batch() -> RecordBatch {
    kafkalab_core::partition_log::single_record_batch(0, Some(Bytes::from_static(b"plain")), None)
}

fn new_log() -> PartitionLog {
    PartitionLog::new(LogConfig::default())
}

/// Copies every batch of `leader` into a new follower log, and the high watermark.
fn replicate(leader: &PartitionLog) -> PartitionLog {
    let mut follower = new_log();
    let batches: Vec<RecordBatch> = leader.batches().cloned().collect();
    follower.append_as_follower(0, &batches).unwrap();
    follower.set_high_watermark(leader.high_watermark());
    follower
}

#[test]
fn a_retried_duplicate_is_acknowledged_with_the_original_offset_without_a_second_append() {
    let mut log = new_log();
    append(&mut log, plain_batch()).unwrap();
    assert_eq!(append(&mut log, idempotent(7, 0, 0, 3)), Ok(appended(1, 3)));
    append(&mut log, plain_batch()).unwrap();
    let size_before = log.size_bytes();
    assert_eq!(append(&mut log, idempotent(7, 0, 0, 3)), Ok(duplicate_of(1, 3)));
    assert_eq!((log.log_end_offset(), log.size_bytes()), (Offset(5), size_before), "nothing was written");
    assert_eq!(log.append_as_leader(EPOCH, 0, idempotent(7, 0, 0, 3)), Ok((Offset(1), Offset(3))));
    assert_eq!(append(&mut log, idempotent(7, 0, 3, 1)), Ok(appended(5, 5)), "the sequence continues after it");
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn any_of_the_last_five_batches_is_a_duplicate_but_an_older_retry_is_out_of_order_as_in_kafka() {
    let mut log = new_log();
    for sequence in 0..6 {
        assert_eq!(append(&mut log, idempotent(7, 0, sequence, 1)), Ok(appended(sequence as i64, sequence as i64)));
    }
    for sequence in 1..6 {
        let offset = sequence as i64;
        assert_eq!(append(&mut log, idempotent(7, 0, sequence, 1)), Ok(duplicate_of(offset, offset)));
    }
    // Kafka's broker answers a retry it no longer remembers with OUT_OF_ORDER_SEQUENCE_NUMBER,
    // never DUPLICATE_SEQUENCE_NUMBER (UnifiedLogTest.testDuplicateAppends).
    let refused = append(&mut log, idempotent(7, 0, 0, 1)).unwrap_err();
    assert_eq!(refused.error_code(), ErrorCode::OutOfOrderSequenceNumber);
    assert_eq!(log.log_end_offset(), Offset(6));
}

#[test]
fn a_retry_must_match_the_whole_sequence_range_to_be_a_duplicate() {
    let mut log = new_log();
    append(&mut log, idempotent(7, 0, 0, 3)).unwrap();
    let partial = append(&mut log, idempotent(7, 0, 1, 2)).unwrap_err();
    assert_eq!(partial.error_code(), ErrorCode::OutOfOrderSequenceNumber);
}

#[test]
fn a_sequence_gap_is_refused_with_out_of_order_sequence_number_and_nothing_is_stored() {
    let mut log = new_log();
    append(&mut log, idempotent(7, 0, 0, 2)).unwrap();
    let before = log.clone();
    let refused = append(&mut log, idempotent(7, 0, 3, 1)).unwrap_err();
    assert_eq!(
        refused,
        AppendError::OutOfOrderSequence { producer_id: 7, epoch: 0, first_sequence: 3, last_sequence: 1 }
    );
    assert_eq!(refused.error_code(), ErrorCode::OutOfOrderSequenceNumber);
    assert_eq!(log, before, "the log and its producer state are unchanged");
}

#[test]
fn an_older_producer_epoch_is_refused_with_invalid_producer_epoch() {
    let mut log = new_log();
    append(&mut log, idempotent(7, 2, 0, 1)).unwrap();
    let refused = append(&mut log, idempotent(7, 1, 1, 1)).unwrap_err();
    assert_eq!(refused, AppendError::InvalidProducerEpoch { producer_id: 7, epoch: 1, current: 2 });
    assert_eq!(refused.error_code(), ErrorCode::InvalidProducerEpoch);
    assert_eq!(log.log_end_offset(), Offset(1));
}

#[test]
fn a_new_epoch_must_start_at_sequence_zero() {
    let mut log = new_log();
    append(&mut log, idempotent(7, 0, 0, 4)).unwrap();
    let refused = append(&mut log, idempotent(7, 1, 4, 1)).unwrap_err();
    assert_eq!(refused.error_code(), ErrorCode::OutOfOrderSequenceNumber);
    assert_eq!(append(&mut log, idempotent(7, 1, 0, 1)), Ok(appended(4, 4)));
    let retry_of_old_epoch = append(&mut log, idempotent(7, 0, 0, 4)).unwrap_err();
    assert_eq!(retry_of_old_epoch.error_code(), ErrorCode::InvalidProducerEpoch, "the new epoch fenced the old");
}

#[test]
fn an_unknown_producer_may_start_at_any_sequence_since_kip_360() {
    // Kafka no longer answers UNKNOWN_PRODUCER_ID from the log: a producer whose state was
    // removed continues where it was.
    let mut log = new_log();
    assert_eq!(append(&mut log, idempotent(7, 3, 41, 2)), Ok(appended(0, 1)));
    let view = log.producer_states().next().unwrap();
    assert_eq!((view.producer_epoch, view.last_sequence), (3, 42));
}

#[test]
fn a_non_transactional_batch_inside_an_open_transaction_is_refused_with_invalid_txn_state() {
    let mut log = new_log();
    append(&mut log, transactional(7, 0, 0, 1)).unwrap();
    let refused = append(&mut log, idempotent(7, 0, 1, 1)).unwrap_err();
    assert_eq!(refused.error_code(), ErrorCode::InvalidTxnState);
}

#[test]
fn an_open_transaction_holds_the_lso_at_its_first_offset_while_the_hw_moves_on_and_the_commit_marker_releases_it() {
    let mut log = new_log();
    append(&mut log, plain_batch()).unwrap();
    append(&mut log, transactional(7, 0, 0, 2)).unwrap(); // offsets 1-2
    append(&mut log, plain_batch()).unwrap(); // 3
    log.set_high_watermark(Offset(4));
    assert_eq!((log.high_watermark(), log.last_stable_offset()), (Offset(4), Offset(1)));
    assert_eq!(log.append_marker_as_leader(EPOCH, 0, 7, 0, true, 0), Ok(Offset(4)));
    assert_eq!(log.last_stable_offset(), Offset(1), "held until the marker itself is committed");
    log.set_high_watermark(Offset(5));
    assert_eq!(log.last_stable_offset(), Offset(5), "the committed marker released it");
    assert_eq!(log.aborted_transactions(Offset(0), Offset(5)), vec![], "a commit is not an abort");
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn the_lso_is_held_by_the_earliest_of_several_open_transactions() {
    let mut log = new_log();
    append(&mut log, transactional(7, 0, 0, 1)).unwrap(); // 0
    append(&mut log, transactional(8, 0, 0, 1)).unwrap(); // 1
    log.append_marker_as_leader(EPOCH, 0, 7, 0, false, 0).unwrap(); // 2
    log.set_high_watermark(Offset(3));
    assert_eq!(log.last_stable_offset(), Offset(1), "producer 8's transaction is still open");
}

#[test]
fn an_aborted_transaction_is_reported_for_ranges_overlapping_it_and_not_for_ranges_after_it() {
    let mut log = new_log();
    append(&mut log, plain_batch()).unwrap(); // 0
    append(&mut log, transactional(7, 0, 0, 2)).unwrap(); // 1-2
    append(&mut log, plain_batch()).unwrap(); // 3
    assert_eq!(log.append_marker_as_leader(EPOCH, 0, 7, 0, false, 0), Ok(Offset(4)));
    append(&mut log, plain_batch()).unwrap(); // 5
    let aborted = vec![AbortedTransaction { producer_id: 7, first_offset: Offset(1) }];
    assert_eq!(log.aborted_transactions(Offset(0), Offset(6)), aborted);
    assert_eq!(log.aborted_transactions(Offset(3), Offset(4)), aborted, "a range inside it");
    assert_eq!(log.aborted_transactions(Offset(4), Offset(6)), aborted, "a range starting at its marker");
    assert_eq!(log.aborted_transactions(Offset(0), Offset(1)), vec![], "a range before it");
    assert_eq!(log.aborted_transactions(Offset(5), Offset(6)), vec![], "a range after it");
}

#[test]
fn markers_from_an_older_coordinator_or_producer_epoch_are_fenced_and_not_written() {
    let mut log = new_log();
    append(&mut log, transactional(7, 3, 0, 1)).unwrap();
    log.append_marker_as_leader(EPOCH, 0, 7, 3, true, 5).unwrap();
    append(&mut log, transactional(7, 3, 1, 1)).unwrap();
    let before = log.clone();
    let zombie_coordinator = log.append_marker_as_leader(EPOCH, 0, 7, 3, false, 4).unwrap_err();
    assert_eq!(zombie_coordinator.error_code(), ErrorCode::TransactionCoordinatorFenced);
    let zombie_producer = log.append_marker_as_leader(EPOCH, 0, 7, 2, false, 5).unwrap_err();
    assert_eq!(zombie_producer.error_code(), ErrorCode::InvalidProducerEpoch);
    assert_eq!(log, before);
    assert_eq!(log.append_marker_as_leader(EPOCH, 0, 7, 3, false, 6), Ok(Offset(3)), "a newer coordinator may");
}

#[test]
fn a_marker_under_a_new_producer_epoch_fences_the_old_epoch() {
    let mut log = new_log();
    append(&mut log, transactional(7, 0, 0, 1)).unwrap();
    log.append_marker_as_leader(EPOCH, 0, 7, 1, false, 0).unwrap();
    assert_eq!(
        log.aborted_transactions(Offset(0), Offset(2)),
        vec![AbortedTransaction { producer_id: 7, first_offset: Offset(0) }]
    );
    assert_eq!(append(&mut log, transactional(7, 0, 1, 1)).unwrap_err().error_code(), ErrorCode::InvalidProducerEpoch);
    assert_eq!(append(&mut log, transactional(7, 1, 0, 1)), Ok(appended(2, 2)));
}

#[test]
fn a_follower_that_replicated_the_same_batches_has_the_same_producer_state_and_dedups_after_becoming_leader() {
    let mut leader = new_log();
    append(&mut leader, idempotent(7, 0, 0, 2)).unwrap(); // 0-1
    append(&mut leader, transactional(8, 4, 0, 1)).unwrap(); // 2
    leader.append_marker_as_leader(EPOCH, 0, 8, 4, false, 1).unwrap(); // 3
    append(&mut leader, transactional(8, 4, 1, 1)).unwrap(); // 4
    append(&mut leader, idempotent(7, 0, 2, 1)).unwrap(); // 5
    leader.set_high_watermark(Offset(6));
    let mut follower = replicate(&leader);
    let states: Vec<ProducerView> = leader.producer_states().collect();
    assert_eq!(follower.producer_states().collect::<Vec<_>>(), states);
    assert_eq!(follower.aborted_transactions(Offset(0), Offset(6)), leader.aborted_transactions(Offset(0), Offset(6)));
    assert_eq!(follower.last_stable_offset(), Offset(4), "it knows producer 8's open transaction");
    // The follower becomes leader and the producer retries its last batch there.
    assert_eq!(follower.append_from_producer(LeaderEpoch(1), 0, idempotent(7, 0, 2, 1)), Ok(duplicate_of(5, 5)));
    assert_eq!(follower.append_from_producer(LeaderEpoch(1), 0, idempotent(7, 0, 0, 2)), Ok(duplicate_of(0, 1)));
    assert_eq!(follower.log_end_offset(), Offset(6));
}

#[test]
fn a_follower_takes_the_leaders_batches_unchecked_and_validate_records_notices_a_sequence_gap() {
    let mut corrupt = new_log();
    append(&mut corrupt, idempotent(7, 0, 0, 1)).unwrap();
    let mut gap = idempotent(7, 0, 5, 1);
    gap.set_base_offset(Offset(1));
    corrupt.append_as_follower(0, &[gap]).unwrap();
    assert_eq!(corrupt.validate(), Ok(()));
    assert_eq!(
        corrupt.validate_records(),
        Err(LogError::SequenceNotContinued { producer_id: 7, first_offset: Offset(1) })
    );
}

#[test]
fn truncation_below_a_transactions_start_forgets_that_transaction() {
    let mut log = new_log();
    append(&mut log, idempotent(7, 0, 0, 1)).unwrap(); // 0
    append(&mut log, transactional(8, 0, 0, 2)).unwrap(); // 1-2
    append(&mut log, idempotent(7, 0, 1, 1)).unwrap(); // 3
    log.truncate_to(Offset(1));
    assert_eq!(log.producer_states().map(|view| view.producer_id).collect::<Vec<_>>(), vec![7]);
    assert_eq!(log.producer_batches(7).len(), 1, "producer 7's batch at 3 is forgotten");
    log.set_high_watermark(Offset(1));
    assert_eq!(log.last_stable_offset(), Offset(1), "no open transaction holds the LSO back");
    assert_eq!(append(&mut log, idempotent(7, 0, 1, 1)), Ok(appended(1, 1)), "sequence 1 is new again");
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn truncating_an_abort_marker_reopens_its_transaction_and_unindexes_it() {
    let mut log = new_log();
    append(&mut log, transactional(8, 0, 0, 2)).unwrap(); // 0-1
    log.append_marker_as_leader(EPOCH, 0, 8, 0, false, 0).unwrap(); // 2
    log.truncate_to(Offset(2));
    assert_eq!(log.aborted_transactions(Offset(0), Offset(3)), vec![]);
    let view = log.producer_states().next().unwrap();
    assert_eq!(view.ongoing_transaction_first_offset, Some(Offset(0)));
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn retention_keeps_producer_state_but_drops_aborted_transactions_below_the_log_start() {
    let config = LogConfig { segment_bytes: 200, retention_bytes: Some(1), ..LogConfig::default() };
    let mut log = PartitionLog::new(config);
    append(&mut log, transactional(8, 0, 0, 1)).unwrap(); // 0
    log.append_marker_as_leader(EPOCH, 0, 8, 0, false, 0).unwrap(); // 1
    append(&mut log, idempotent(7, 0, 0, 1)).unwrap(); // 2
    for _ in 0..4 {
        append(&mut log, plain_batch()).unwrap();
    }
    log.set_high_watermark(log.log_end_offset());
    let outcome = log.enforce_retention(0);
    assert!(outcome.log_start_offset > Offset(2), "the producer batches' segments were deleted: {outcome:?}");
    assert_eq!(log.aborted_transactions(Offset(0), log.log_end_offset()), vec![]);
    assert_eq!(log.producer_batches(7).len(), 1, "producer 7 is remembered");
    assert_eq!(append(&mut log, idempotent(7, 0, 0, 1)), Ok(duplicate_of(2, 2)));
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn compaction_never_changes_producer_state_and_stops_at_the_lso() {
    let config = LogConfig { cleanup_policy: CleanupPolicy::Compact, segment_bytes: 200, ..LogConfig::default() };
    let mut log = PartitionLog::new(config);
    append(&mut log, idempotent(7, 0, 0, 1)).unwrap(); // 0, key p7
    append(&mut log, idempotent(7, 0, 1, 1)).unwrap(); // 1, key p7: shadows 0
    append(&mut log, transactional(8, 0, 0, 1)).unwrap(); // 2: open transaction
    append(&mut log, transactional(8, 0, 1, 1)).unwrap(); // 3
    for sequence in 2..5 {
        append(&mut log, idempotent(7, 0, sequence, 1)).unwrap(); // 4, 5, 6
    }
    log.set_high_watermark(log.log_end_offset());
    let states: Vec<ProducerView> = log.producer_states().collect();
    let outcome = log.compact(0);
    assert_eq!(outcome.first_uncleanable_offset, Offset(2), "compaction stops at the LSO");
    assert_eq!((outcome.records_removed, log.record_at(Offset(0))), (1, None), "the shadowed record at 0 went");
    assert!(log.record_at(Offset(2)).is_some(), "the open transaction's shadowed record stays");
    assert_eq!(log.producer_states().collect::<Vec<_>>(), states);
    assert_eq!(append(&mut log, idempotent(7, 0, 0, 1)), Ok(duplicate_of(0, 0)), "its batch still counts");
    assert_eq!(log.validate_records(), Ok(()));
}

/// Broker 1 leading orders/0 with itself the only in-sync replica, so it commits alone.
fn lone_leader() -> Broker {
    let orders0 = TopicPartition::new("orders", 0);
    let config = ClusterConfig { broker_count: 2, topics: vec![], ..ClusterConfig::default() };
    let mut image = MetadataImage::bootstrap(&config);
    image.version = 1;
    image.topics.insert("orders".to_string(), 1);
    let state = PartitionState {
        partition: orders0.clone(),
        replicas: vec![BrokerId(1), BrokerId(2)],
        isr: vec![BrokerId(1)],
        leader: Some(BrokerId(1)),
        leader_epoch: EPOCH,
        partition_epoch: 0,
    };
    image.partitions.insert(orders0, state);
    let mut leader = Broker::new(BrokerId(1), config);
    leader.apply_metadata(0, &image);
    leader.take_outputs();
    leader
}

/// Produces `batch` to orders/0 and returns the answers and whether an append was traced.
fn produce(leader: &mut Broker, now_ms: u64, request_id: u64, batch: RecordBatch, acks: Acks) -> (Vec<Message>, bool) {
    let partition = TopicPartition::new("orders", 0);
    leader.handle_message(
        now_ms,
        NodeId::Client(kafkalab_core::ids::ClientId::CONSOLE),
        Message::Produce { request_id, partition, batch, acks },
    );
    let outputs = leader.take_outputs();
    let traced = outputs.iter().any(|output| matches!(output, Output::Trace(TraceEvent::Appended { .. })));
    let answers = outputs
        .into_iter()
        .filter_map(|output| match output {
            Output::Send { message: message @ Message::ProduceResponse { .. }, .. } => Some(message),
            _ => None,
        })
        .collect();
    (answers, traced)
}

#[test]
fn a_broker_answers_a_retried_batch_with_the_original_offset_and_traces_no_append() {
    let mut leader = lone_leader();
    let partition = TopicPartition::new("orders", 0);
    let answer = |request_id, offset| Message::ProduceResponse {
        request_id,
        partition: partition.clone(),
        result: Ok(Offset(offset)),
    };
    assert_eq!(produce(&mut leader, 1, 1, plain_batch(), Acks::All), (vec![answer(1, 0)], true));
    assert_eq!(produce(&mut leader, 2, 2, idempotent(7, 0, 0, 2), Acks::All), (vec![answer(2, 1)], true));
    for (request_id, acks) in [(3, Acks::All), (4, Acks::Leader)] {
        let retried = produce(&mut leader, 3, request_id, idempotent(7, 0, 0, 2), acks);
        assert_eq!(retried, (vec![answer(request_id, 1)], false), "{acks:?}: the original offset, nothing appended");
    }
    let log = &leader.replica(&partition).unwrap().log;
    assert_eq!(log.log_end_offset(), Offset(3), "stored once");
}

/// One step of a random run of producers against a leader.
#[derive(Clone, Debug)]
enum Step {
    Send { producer: usize, count: i32 },
    Retry { producer: usize, back: usize },
    Marker { producer: usize, committed: bool },
    BumpEpoch { producer: usize },
    HighWatermark { permille: u16 },
}

fn step() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (0usize..3, 1i32..4).prop_map(|(producer, count)| Step::Send { producer, count }),
        3 => (0usize..3, 0usize..8).prop_map(|(producer, back)| Step::Retry { producer, back }),
        2 => (0usize..3, any::<bool>()).prop_map(|(producer, committed)| Step::Marker { producer, committed }),
        1 => (0usize..3).prop_map(|producer| Step::BumpEpoch { producer }),
        2 => (0u16..=1000).prop_map(|permille| Step::HighWatermark { permille }),
    ]
}

/// What a producer has sent: producer `n` has id `100 + n`; producers 0 and 1 are
/// transactional, producer 2 only idempotent.
#[derive(Clone, Debug, Default)]
struct Producer {
    epoch: i16,
    /// The newest epoch the log has seen from it: a bumped epoch counts once a batch or a
    /// marker carries it.
    log_epoch: i16,
    next_sequence: i32,
    /// (epoch, first sequence, count, transactional, first offset, last offset) of each batch
    /// the log took.
    sent: Vec<(i16, i32, i32, bool, i64, i64)>,
}

fn run(log: &mut PartitionLog, producers: &mut [Producer], step: &Step) {
    match *step {
        Step::Send { producer, count } => {
            let model = &mut producers[producer];
            let txn = producer < 2;
            let batch = producer_batch(100 + producer as i64, model.epoch, model.next_sequence, count, txn);
            let result = append(log, batch).expect("an in-order batch is taken");
            assert!(!result.duplicate);
            let sent = (model.epoch, model.next_sequence, count, txn, result.first_offset.0, result.last_offset.0);
            model.sent.push(sent);
            model.next_sequence += count;
            model.log_epoch = model.epoch;
        }
        Step::Retry { producer, back } => {
            let model = &producers[producer];
            let Some(&(epoch, first, count, txn, first_offset, last_offset)) = model.sent.iter().rev().nth(back) else {
                return;
            };
            let newer_same_epoch = model.sent.iter().rev().take(back).filter(|sent| sent.0 == epoch).count();
            let result = append(log, producer_batch(100 + producer as i64, epoch, first, count, txn));
            if epoch < model.log_epoch {
                assert_eq!(result.unwrap_err().error_code(), ErrorCode::InvalidProducerEpoch);
            } else if newer_same_epoch < 5 {
                assert_eq!(result, Ok(duplicate_of(first_offset, last_offset)), "one of the last five");
            } else {
                assert_eq!(result.unwrap_err().error_code(), ErrorCode::OutOfOrderSequenceNumber);
            }
        }
        Step::Marker { producer, committed } if producer < 2 => {
            let epoch = producers[producer].epoch;
            log.append_marker_as_leader(EPOCH, 0, 100 + producer as i64, epoch, committed, 0).unwrap();
        }
        Step::Marker { .. } => {}
        Step::BumpEpoch { producer } => {
            let model = &mut producers[producer];
            model.epoch += 1;
            model.next_sequence = 0;
            if producer < 2 {
                // The coordinator fences the old epoch by aborting under the new one.
                log.append_marker_as_leader(EPOCH, 0, 100 + producer as i64, model.epoch, false, 0).unwrap();
                model.log_epoch = model.epoch;
            }
        }
        Step::HighWatermark { permille } => {
            let (hw, end) = (log.high_watermark().0, log.log_end_offset().0);
            log.set_high_watermark(Offset(hw + (end - hw) * permille as i64 / 1000));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Random interleavings of producers' batches, retries, markers and epoch bumps keep the
    /// LSO at or below the HW, never store a batch twice, and a follower copying the log ends
    /// with the same producer state.
    #[test]
    fn random_producers_keep_lso_below_hw_and_never_store_a_batch_twice(steps in proptest::collection::vec(step(), 1..60)) {
        let mut log = PartitionLog::new(LogConfig { segment_bytes: 400, ..LogConfig::default() });
        let mut producers = vec![Producer::default(); 3];
        for step in &steps {
            run(&mut log, &mut producers, step);
            prop_assert!(log.last_stable_offset() <= log.high_watermark());
            prop_assert_eq!(log.validate_records(), Ok(()));
        }
        let mut stored = BTreeSet::new();
        for batch in log.batches().filter(|batch| batch.producer_id() >= 0 && !batch.is_control()) {
            let key = (batch.producer_id(), batch.producer_epoch(), batch.base_sequence());
            prop_assert!(stored.insert(key), "batch {:?} stored twice", key);
        }
        let taken: usize = producers.iter().map(|producer| producer.sent.len()).sum();
        prop_assert_eq!(stored.len(), taken);
        let follower = replicate(&log);
        prop_assert_eq!(follower.producer_states().collect::<Vec<_>>(), log.producer_states().collect::<Vec<_>>());
        prop_assert_eq!(follower.last_stable_offset(), log.last_stable_offset());
        let end = log.log_end_offset();
        prop_assert_eq!(follower.aborted_transactions(Offset(0), end), log.aborted_transactions(Offset(0), end));
    }

    /// Truncating anywhere leaves the producer state a follower would have built from the
    /// batches that remain.
    #[test]
    fn truncation_rebuilds_the_state_of_the_remaining_batches(
        steps in proptest::collection::vec(step(), 1..40),
        cut_permille in 0u16..=1000,
    ) {
        let mut log = PartitionLog::new(LogConfig { segment_bytes: 400, ..LogConfig::default() });
        let mut producers = vec![Producer::default(); 3];
        for step in &steps {
            run(&mut log, &mut producers, step);
        }
        let cut = Offset(log.log_end_offset().0 * cut_permille as i64 / 1000);
        log.truncate_to(cut);
        let rebuilt = replicate(&log);
        prop_assert_eq!(log.producer_states().collect::<Vec<_>>(), rebuilt.producer_states().collect::<Vec<_>>());
        let end = log.log_end_offset();
        prop_assert_eq!(log.aborted_transactions(Offset(0), end), rebuilt.aborted_transactions(Offset(0), end));
        prop_assert_eq!(log.last_stable_offset(), rebuilt.last_stable_offset());
        prop_assert_eq!(log.validate_records(), Ok(()));
    }
}
