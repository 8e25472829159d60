//! Compaction in the record-batch partition log: below the active segment and the high
//! watermark only each key's newest record survives, at its original offset; tombstones go
//! after `delete.retention.ms`; thinned batches are re-encoded with a fresh CRC and the same
//! base offset, last offset delta and producer fields.

use bytes::Bytes;
use kafkalab_core::ids::{LeaderEpoch, Offset};
use kafkalab_core::partition_log::{single_record_batch, CleanupPolicy, LogConfig, PartitionLog};
use kafkalab_core::record_batch::{encode, BatchHeader, Record, RecordBatch};

fn bytes(text: &str) -> Bytes {
    Bytes::copy_from_slice(text.as_bytes())
}

/// A one-record batch; `value` `None` is a tombstone.
fn put(timestamp_ms: i64, key: &str, value: Option<&str>) -> RecordBatch {
    single_record_batch(timestamp_ms, Some(bytes(key)), value.map(bytes))
}

/// Compacted, two one-record batches per segment (keys and values are one byte each).
fn compacted() -> LogConfig {
    let two = 2 * put(0, "k", Some("v")).size_bytes() as u64;
    LogConfig { cleanup_policy: CleanupPolicy::Compact, segment_bytes: two, ..LogConfig::default() }
}

fn append_all(log: &mut PartitionLog, writes: &[(&str, Option<&str>)], timestamp_ms: i64) {
    for (key, value) in writes {
        log.append_as_leader(LeaderEpoch(0), timestamp_ms as u64, put(timestamp_ms, key, *value)).unwrap();
    }
}

/// Each record as `offset key=value` (`key=-` for a tombstone).
fn contents(log: &PartitionLog) -> Vec<String> {
    log.records()
        .map(|r| {
            let text = |b: Option<Bytes>| b.map_or("-".to_string(), |b| String::from_utf8(b.to_vec()).unwrap());
            format!("{} {}={}", r.offset, text(r.key), text(r.value))
        })
        .collect()
}

/// a, b, a, c, b, a at offsets 0-5 in segments of two, then d at 6 in the active segment.
fn abacbad() -> PartitionLog {
    let mut log = PartitionLog::new(compacted());
    let writes = [("a", Some("1")), ("b", Some("1")), ("a", Some("2")), ("c", Some("1")), ("b", Some("2"))];
    append_all(&mut log, &writes, 0);
    append_all(&mut log, &[("a", Some("3")), ("d", Some("1"))], 0);
    log.set_high_watermark(log.log_end_offset());
    assert_eq!(log.segments().iter().map(|s| s.base_offset().0).collect::<Vec<_>>(), [0, 2, 4, 6]);
    log
}

#[test]
fn compaction_keeps_only_the_newest_record_per_key_at_its_original_offset() {
    let mut log = abacbad();
    let outcome = log.compact(0);
    assert_eq!(contents(&log), ["3 c=1", "4 b=2", "5 a=3", "6 d=1"]);
    assert_eq!((outcome.records_removed, outcome.batches_removed, outcome.segments_cleaned), (3, 3, 2));
    assert_eq!(outcome.first_uncleanable_offset, Offset(6));
    assert_eq!((log.log_start_offset(), log.high_watermark(), log.log_end_offset()), (Offset(0), Offset(7), Offset(7)));
    // Emptied segments keep their offsets: the gaps stay where the records were.
    let ranges: Vec<(i64, i64)> = log.segments().iter().map(|s| (s.base_offset().0, s.next_offset().0)).collect();
    assert_eq!(ranges, [(0, 2), (2, 4), (4, 6), (6, 7)]);
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn a_read_from_a_gap_starts_at_the_next_batch() {
    let mut log = abacbad();
    log.compact(0);
    assert_eq!(log.record_at(Offset(2)), None);
    assert_eq!(log.read(Offset(0), 1).iter().map(|b| b.base_offset().0).collect::<Vec<_>>(), [3]);
    assert_eq!(log.read(Offset(2), 1).iter().map(|b| b.base_offset().0).collect::<Vec<_>>(), [3]);
    assert_eq!(log.read(Offset(2), usize::MAX).len(), 4);
}

#[test]
fn a_thinned_batch_keeps_its_offsets_and_producer_fields_with_a_new_crc() {
    let keyed = |delta: i32, key: &str, value: &str| {
        Record::new(delta, delta as i64 * 10, Some(bytes(key)), Some(bytes(value)))
    };
    let records = [keyed(0, "a", "1"), keyed(1, "b", "1"), keyed(2, "a", "2"), keyed(3, "c", "1")];
    let header =
        BatchHeader { producer_id: 77, producer_epoch: 2, base_sequence: 40, ..BatchHeader::new(Offset(0), 1000) }
            .fitted_to(&records);
    let mut log = PartitionLog::new(LogConfig { cleanup_policy: CleanupPolicy::Compact, ..LogConfig::default() });
    log.append_as_leader(LeaderEpoch(3), 0, encode(&header, &records).unwrap()).unwrap();
    log.append_as_leader(LeaderEpoch(3), 0, put(2000, "a", Some("3"))).unwrap();
    log.append_as_leader(LeaderEpoch(3), 0, put(2000, "c", Some("2"))).unwrap();
    // Close the first segment (offsets 0-4) by hand: roll on the next append.
    let mut config = log.config().clone();
    config.segment_ms = 1;
    log.set_config(config);
    log.append_as_leader(LeaderEpoch(3), 10, put(3000, "z", Some("1"))).unwrap();
    log.set_high_watermark(log.log_end_offset());
    let before = log.batches().next().unwrap().clone();

    log.compact(10);
    let after = log.batches().next().unwrap().clone();
    assert_eq!(contents(&log), ["1 b=1", "4 a=3", "5 c=2", "6 z=1"]);
    assert_ne!(after.crc(), before.crc());
    assert_eq!((after.base_offset(), after.last_offset()), (before.base_offset(), before.last_offset()));
    assert_eq!((after.producer_id(), after.producer_epoch(), after.base_sequence()), (77, 2, 40));
    assert_eq!((after.partition_leader_epoch(), after.record_count()), (LeaderEpoch(3), 1));
    let kept = log.record_at(Offset(1)).unwrap();
    assert_eq!((kept.timestamp_ms, kept.sequence), (1010, 41), "timestamps and sequences survive re-encoding");
    assert_eq!(after.base_timestamp_ms(), 1010);
    assert_eq!(RecordBatch::parse(after.as_bytes().clone()), Ok(after));
}

#[test]
fn a_tombstone_removes_its_key_and_disappears_after_delete_retention_ms() {
    let config = LogConfig { delete_retention_ms: 100, ..compacted() };
    let mut log = PartitionLog::new(config);
    append_all(&mut log, &[("a", Some("1")), ("b", Some("1"))], 0);
    append_all(&mut log, &[("a", None), ("c", Some("1"))], 10);
    append_all(&mut log, &[("d", Some("1"))], 20);
    log.set_high_watermark(log.log_end_offset());

    log.compact(50);
    assert_eq!(contents(&log), ["1 b=1", "2 a=-", "3 c=1", "4 d=1"]);
    let outcome = log.compact(109);
    assert_eq!(outcome.tombstones_removed, 0, "99 ms after it was written the tombstone stays");
    let outcome = log.compact(110);
    assert_eq!((outcome.tombstones_removed, outcome.records_removed), (1, 1));
    assert_eq!(contents(&log), ["1 b=1", "3 c=1", "4 d=1"]);
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn the_active_segment_is_never_compacted() {
    let mut log = PartitionLog::new(LogConfig { cleanup_policy: CleanupPolicy::Compact, ..LogConfig::default() });
    append_all(&mut log, &[("a", Some("1")), ("a", Some("2")), ("a", None)], 0);
    log.set_high_watermark(log.log_end_offset());
    let before = log.clone();
    let outcome = log.compact(1_000_000_000);
    assert_eq!(outcome.records_removed, 0);
    assert_eq!(log, before);
}

#[test]
fn records_above_the_high_watermark_are_never_compacted_nor_shadow_older_ones() {
    let mut log = abacbad();
    log.set_high_watermark(Offset(2));
    log.compact(0);
    assert_eq!(log.records().count(), 7, "a=2 at 2 is uncommitted: a=1 at 0 must stay");
    log.set_high_watermark(Offset(4));
    log.compact(0);
    assert_eq!(contents(&log), ["1 b=1", "2 a=2", "3 c=1", "4 b=2", "5 a=3", "6 d=1"]);
}

#[test]
fn segments_younger_than_min_compaction_lag_are_not_compacted() {
    let config = LogConfig { min_compaction_lag_ms: 100, ..compacted() };
    let mut log = PartitionLog::new(config);
    append_all(&mut log, &[("a", Some("1")), ("a", Some("2"))], 0);
    append_all(&mut log, &[("a", Some("3")), ("a", Some("4"))], 50);
    append_all(&mut log, &[("z", Some("1"))], 60);
    log.set_high_watermark(log.log_end_offset());
    let outcome = log.compact(120);
    assert_eq!(outcome.first_uncleanable_offset, Offset(2), "segment 2-3 is 70 ms old");
    assert_eq!(contents(&log), ["2 a=3", "3 a=4", "4 z=1"], "a=3 at 2 is shadowed but too young to go");
}

#[test]
fn a_delete_policy_log_is_never_compacted() {
    let mut log = abacbad();
    let mut config = log.config().clone();
    config.cleanup_policy = CleanupPolicy::Delete;
    log.set_config(config);
    assert_eq!(log.compact(0).records_removed, 0);
    assert_eq!(log.records().count(), 7);
}

#[test]
fn records_without_keys_are_kept_by_compaction() {
    let mut log = PartitionLog::new(LogConfig { segment_bytes: compacted().segment_bytes, ..LogConfig::default() });
    log.append_as_leader(LeaderEpoch(0), 0, single_record_batch(0, None, Some(bytes("x")))).unwrap();
    append_all(&mut log, &[("a", Some("1")), ("a", Some("2")), ("b", Some("1"))], 0);
    log.set_high_watermark(log.log_end_offset());
    let mut config = log.config().clone();
    config.cleanup_policy = CleanupPolicy::Compact;
    log.set_config(config);
    log.compact(0);
    assert_eq!(contents(&log), ["0 -=x", "2 a=2", "3 b=1"]);
}

#[test]
fn a_follower_copies_a_compacted_log_with_its_gaps() {
    let mut leader = abacbad();
    leader.compact(0);
    let mut follower = PartitionLog::new(compacted());
    follower.append_as_follower(0, &leader.read(Offset(0), usize::MAX)).unwrap();
    assert_eq!(contents(&follower), contents(&leader));
    assert_eq!(follower.log_end_offset(), leader.log_end_offset());
    assert_eq!(follower.validate_records(), Ok(()));
}

/// Kafka's cleaner writes the records it keeps with the batch's own codec; so does the lab's.
#[test]
fn a_thinned_gzip_batch_stays_gzip_and_reads_back_the_kept_records() {
    use kafkalab_core::record_batch::{BatchAttributes, Compression, TimestampType};
    let records: Vec<Record> = ["a", "b", "a"]
        .iter()
        .enumerate()
        .map(|(i, key)| Record::new(i as i32, 0, Some(bytes(key)), Some(bytes(&i.to_string()))))
        .collect();
    let header = BatchHeader {
        attributes: BatchAttributes::new(Compression::Gzip, TimestampType::CreateTime),
        ..BatchHeader::new(Offset(0), 0).fitted_to(&records)
    };
    // segment.ms rolls the gzip batch's segment, so it is below the active one and cleanable.
    let config = LogConfig { cleanup_policy: CleanupPolicy::Compact, segment_ms: 1_000, ..LogConfig::default() };
    let mut log = PartitionLog::new(config);
    log.append_as_leader(LeaderEpoch(0), 0, encode(&header, &records).unwrap()).unwrap();
    log.append_as_leader(LeaderEpoch(0), 2_000, put(2_000, "c", Some("x"))).unwrap();
    log.set_high_watermark(log.log_end_offset());
    let outcome = log.compact(2_000);
    assert_eq!(outcome.records_removed, 1);
    let thinned = log.batches().next().unwrap();
    assert_eq!(thinned.compression(), Compression::Gzip);
    assert_eq!((thinned.base_offset(), thinned.next_offset()), (Offset(0), Offset(3)));
    assert_eq!(contents(&log), ["1 b=1", "2 a=2", "3 c=x"]);
}
