//! Appends, the leader-epoch cache and truncation in the record-batch partition log: a leader
//! stamps only base offset and epoch (outside the CRC), a follower stores the leader's bytes,
//! and truncation cuts at batch boundaries (KIP-101).

use bytes::Bytes;
use kafkalab_core::ids::{LeaderEpoch, Offset};
use kafkalab_core::partition_log::{single_record_batch, AppendError, EpochEntry, LogConfig, PartitionLog};
use kafkalab_core::record_batch::header::{CRC_POSITION, PARTITION_LEADER_EPOCH_POSITION};
use kafkalab_core::record_batch::{encode, BatchAttributes, BatchHeader, Record, RecordBatch};

/// A producer's batch of `values.len()` keyless records, stamped `timestamp_ms`.
fn batch(timestamp_ms: i64, values: &[&str]) -> RecordBatch {
    let records: Vec<Record> = values
        .iter()
        .enumerate()
        .map(|(index, value)| Record::new(index as i32, 0, None, Some(Bytes::copy_from_slice(value.as_bytes()))))
        .collect();
    encode(&BatchHeader::new(Offset(0), timestamp_ms).fitted_to(&records), &records).unwrap()
}

fn values(log: &PartitionLog) -> Vec<(i64, String)> {
    log.records().map(|r| (r.offset.0, String::from_utf8(r.value.unwrap().to_vec()).unwrap())).collect()
}

/// A leader log holding batches of 3, 1 and 2 records at offsets 0-2, 3 and 4-5.
fn three_batches(epoch: LeaderEpoch) -> PartitionLog {
    let mut log = PartitionLog::new(LogConfig::default());
    log.append_as_leader(epoch, 0, batch(0, &["a", "b", "c"])).unwrap();
    log.append_as_leader(epoch, 1, batch(1, &["d"])).unwrap();
    log.append_as_leader(epoch, 2, batch(2, &["e", "f"])).unwrap();
    log
}

#[test]
fn leader_appends_get_consecutive_offsets_across_batches_of_several_records() {
    let mut log = PartitionLog::new(LogConfig::default());
    assert_eq!(log.append_as_leader(LeaderEpoch(0), 0, batch(0, &["a", "b", "c"])), Ok((Offset(0), Offset(2))));
    assert_eq!(log.append_as_leader(LeaderEpoch(0), 1, batch(1, &["d"])), Ok((Offset(3), Offset(3))));
    assert_eq!(log.append_as_leader(LeaderEpoch(0), 2, batch(2, &["e", "f"])), Ok((Offset(4), Offset(5))));
    assert_eq!(log.log_end_offset(), Offset(6));
    let expected: Vec<(i64, String)> =
        ["a", "b", "c", "d", "e", "f"].iter().enumerate().map(|(i, v)| (i as i64, v.to_string())).collect();
    assert_eq!(values(&log), expected);
    assert_eq!(log.record_at(Offset(4)).unwrap().batch_base_offset, Offset(4));
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn the_stored_batch_keeps_the_producers_crc_and_differs_only_in_base_offset_and_epoch() {
    let mut log = PartitionLog::new(LogConfig::default());
    log.append_as_leader(LeaderEpoch(7), 0, batch(0, &["first"])).unwrap();
    let sent = batch(5, &["x", "y"]);
    log.append_as_leader(LeaderEpoch(7), 5, sent.clone()).unwrap();
    let stored = log.batches().last().unwrap().clone();

    assert_eq!(stored.crc(), sent.crc());
    let (sent_bytes, stored_bytes) = (sent.as_bytes(), stored.as_bytes());
    assert_eq!(stored_bytes.len(), sent_bytes.len());
    assert_eq!(&stored_bytes[CRC_POSITION..], &sent_bytes[CRC_POSITION..], "CRC and everything it covers");
    assert_eq!(&stored_bytes[8..PARTITION_LEADER_EPOCH_POSITION], &sent_bytes[8..PARTITION_LEADER_EPOCH_POSITION]);
    assert_eq!(stored.base_offset(), Offset(1));
    assert_eq!(stored.partition_leader_epoch(), LeaderEpoch(7));
    assert_eq!(sent.partition_leader_epoch(), LeaderEpoch(-1));
    assert_eq!(RecordBatch::parse(stored_bytes.clone()), Ok(stored));
}

#[test]
fn a_batch_that_is_empty_and_not_a_control_batch_is_refused_and_changes_nothing() {
    let mut log = three_batches(LeaderEpoch(0));
    let before = log.clone();
    let empty = encode(&BatchHeader::new(Offset(0), 0), &[]).unwrap();
    assert_eq!(log.append_as_leader(LeaderEpoch(0), 9, empty.clone()), Err(AppendError::EmptyBatch));
    assert_eq!(log, before);
    // A transaction marker may carry no record; it still takes an offset.
    let control = BatchHeader { attributes: BatchAttributes::default().with_control(true), ..empty.header() };
    assert_eq!(log.append_as_leader(LeaderEpoch(0), 9, encode(&control, &[]).unwrap()), Ok((Offset(6), Offset(6))));
}

#[test]
fn a_deposed_leaders_epoch_is_refused() {
    let mut log = three_batches(LeaderEpoch(4));
    let refused = log.append_as_leader(LeaderEpoch(3), 9, batch(9, &["late"]));
    assert_eq!(refused, Err(AppendError::StaleLeaderEpoch { epoch: LeaderEpoch(3), latest: LeaderEpoch(4) }));
}

#[test]
fn end_offset_for_an_epoch_is_where_the_next_epoch_starts_or_the_log_end() {
    let mut log = PartitionLog::new(LogConfig::default());
    log.append_as_leader(LeaderEpoch(0), 0, batch(0, &["a", "b"])).unwrap();
    log.append_as_leader(LeaderEpoch(2), 1, batch(1, &["c"])).unwrap();
    assert_eq!(log.end_offset_for_epoch(LeaderEpoch(0)), Some((LeaderEpoch(0), Offset(2))));
    // Epoch 1 never appended here: the answer is the largest epoch below it.
    assert_eq!(log.end_offset_for_epoch(LeaderEpoch(1)), Some((LeaderEpoch(0), Offset(2))));
    assert_eq!(log.end_offset_for_epoch(LeaderEpoch(2)), Some((LeaderEpoch(2), Offset(3))));
    assert_eq!(log.end_offset_for_epoch(LeaderEpoch(5)), Some((LeaderEpoch(2), Offset(3))));
    assert_eq!(PartitionLog::new(LogConfig::default()).end_offset_for_epoch(LeaderEpoch(0)), None);
}

#[test]
fn an_epoch_started_without_records_ends_at_the_log_end_until_another_starts() {
    let mut log = PartitionLog::new(LogConfig::default());
    log.append_as_leader(LeaderEpoch(0), 0, batch(0, &["a", "b"])).unwrap();
    log.assign_epoch_start(LeaderEpoch(1));
    assert_eq!(log.last_epoch(), Some(LeaderEpoch(1)));
    assert_eq!(log.end_offset_for_epoch(LeaderEpoch(1)), Some((LeaderEpoch(1), Offset(2))));
    assert_eq!(log.end_offset_for_epoch(LeaderEpoch(0)), Some((LeaderEpoch(0), Offset(2))));
    // Epoch 2 starts at the same offset: epoch 1, which wrote nothing, leaves the cache.
    log.assign_epoch_start(LeaderEpoch(2));
    let entries = [
        EpochEntry { epoch: LeaderEpoch(0), start_offset: Offset(0) },
        EpochEntry { epoch: LeaderEpoch(2), start_offset: Offset(2) },
    ];
    assert_eq!(log.epoch_entries(), entries);
    assert_eq!(log.end_offset_for_epoch(LeaderEpoch(1)), Some((LeaderEpoch(0), Offset(2))));
    log.assign_epoch_start(LeaderEpoch(1));
    assert_eq!(log.epoch_entries(), entries, "an older epoch never starts again");
    assert_eq!(log.validate(), Ok(()));
}

#[test]
fn truncation_at_a_batch_boundary_keeps_every_batch_below_it() {
    let mut log = three_batches(LeaderEpoch(0));
    log.truncate_to(Offset(3));
    assert_eq!(log.log_end_offset(), Offset(3));
    assert_eq!(log.batches().count(), 1);
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn truncation_inside_a_batch_drops_the_whole_batch() {
    let mut log = three_batches(LeaderEpoch(0));
    log.truncate_to(Offset(5));
    assert_eq!(log.log_end_offset(), Offset(4), "the batch at 4-5 straddled 5 and went whole");
    log.truncate_to(Offset(1));
    assert_eq!(log.log_end_offset(), Offset(0));
    assert_eq!(log.batches().count(), 0);
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn truncation_removes_epochs_from_the_new_log_end_and_lowers_the_high_watermark() {
    let mut log = PartitionLog::new(LogConfig::default());
    log.append_as_leader(LeaderEpoch(1), 0, batch(0, &["a", "b"])).unwrap();
    log.append_as_leader(LeaderEpoch(2), 0, batch(0, &["c", "d"])).unwrap();
    log.set_high_watermark(Offset(4));
    log.truncate_to(Offset(3));
    assert_eq!(log.log_end_offset(), Offset(2));
    assert_eq!(log.high_watermark(), Offset(2));
    assert_eq!(log.last_epoch(), Some(LeaderEpoch(1)));
    assert_eq!(log.end_offset_for_epoch(LeaderEpoch(2)), Some((LeaderEpoch(1), Offset(2))));
}

#[test]
fn truncation_at_or_beyond_the_log_end_changes_nothing() {
    let mut log = three_batches(LeaderEpoch(0));
    let before = log.clone();
    log.truncate_to(Offset(6));
    log.truncate_to(Offset(i64::MAX));
    assert_eq!(log, before);
}

#[test]
fn follower_append_copies_the_leaders_batches_byte_for_byte() {
    let mut leader = three_batches(LeaderEpoch(1));
    leader.append_as_leader(LeaderEpoch(3), 5, batch(5, &["g"])).unwrap();
    let mut follower = PartitionLog::new(LogConfig::default());
    follower.append_as_follower(10, &leader.read(Offset(0), usize::MAX)).unwrap();

    let bytes = |log: &PartitionLog| log.batches().map(|b| b.as_bytes().clone()).collect::<Vec<_>>();
    assert_eq!(bytes(&follower), bytes(&leader));
    assert_eq!(follower.log_end_offset(), Offset(7));
    assert_eq!(follower.epoch_entries(), leader.epoch_entries());
    assert_eq!(follower.records().collect::<Vec<_>>(), leader.records().collect::<Vec<_>>());
    assert_eq!(follower.validate_records(), Ok(()));
}

#[test]
fn follower_append_refuses_a_batch_below_its_log_end_and_appends_nothing() {
    let leader = three_batches(LeaderEpoch(1));
    let mut follower = PartitionLog::new(LogConfig::default());
    follower.append_as_follower(0, &leader.read(Offset(0), 1)).unwrap();
    let before = follower.clone();
    let refused = follower.append_as_follower(1, &leader.read(Offset(0), usize::MAX));
    assert_eq!(refused, Err(AppendError::OffsetBelowLogEnd { base_offset: Offset(0), log_end: Offset(3) }));
    assert_eq!(follower, before);
}

#[test]
fn a_follower_rejoins_by_truncating_to_the_leaders_epoch_end_then_copying() {
    // Both wrote epoch 1; the old leader then wrote epoch 2 alone, and the new leader epoch 3.
    let mut leader = PartitionLog::new(LogConfig::default());
    leader.append_as_leader(LeaderEpoch(1), 0, batch(0, &["a", "b"])).unwrap();
    let mut follower = leader.clone();
    follower.append_as_leader(LeaderEpoch(2), 1, batch(1, &["lost"])).unwrap();
    leader.assign_epoch_start(LeaderEpoch(3));
    leader.append_as_leader(LeaderEpoch(3), 2, batch(2, &["c", "d"])).unwrap();

    let (epoch, end) = leader.end_offset_for_epoch(follower.last_epoch().unwrap()).unwrap();
    assert_eq!((epoch, end), (LeaderEpoch(1), Offset(2)));
    follower.truncate_to(end);
    follower.append_as_follower(3, &leader.read(follower.log_end_offset(), usize::MAX)).unwrap();
    assert_eq!(values(&follower), values(&leader));
    assert_eq!(follower.epoch_entries(), leader.epoch_entries());
}

#[test]
fn a_single_record_batch_appends_as_one_offset() {
    let mut log = PartitionLog::new(LogConfig::default());
    let batch = single_record_batch(42, Some(Bytes::from_static(b"k")), Some(Bytes::from_static(b"v")));
    assert_eq!(log.append_as_leader(LeaderEpoch(0), 42, batch), Ok((Offset(0), Offset(0))));
    let record = log.record_at(Offset(0)).unwrap();
    assert_eq!((record.timestamp_ms, record.leader_epoch, record.producer_id), (42, LeaderEpoch(0), -1));
}

/// Kafka's `UnifiedLog.truncateTo`: a replica that became leader, recorded its epoch's start and
/// never wrote, drops that empty epoch when told to truncate at its log end; otherwise its
/// fetches would keep naming an epoch the new leader never had.
#[test]
fn truncating_at_the_log_end_drops_an_empty_epoch_left_by_a_short_leadership() {
    let mut log = PartitionLog::new(LogConfig::default());
    log.append_as_leader(LeaderEpoch(0), 0, batch(0, &["a", "b"])).unwrap();
    log.assign_epoch_start(LeaderEpoch(1)); // led epoch 1, appended nothing
    assert_eq!(log.last_epoch(), Some(LeaderEpoch(1)));
    log.truncate_to(log.log_end_offset());
    assert_eq!(log.last_epoch(), Some(LeaderEpoch(0)));
    assert_eq!(log.log_end_offset(), Offset(2));
}
