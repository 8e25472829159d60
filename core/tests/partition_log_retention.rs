//! Segments and retention in the record-batch partition log: the active segment rolls by
//! `segment.bytes` and `segment.ms`; retention deletes whole old segments by `retention.ms` and
//! `retention.bytes`, never the active one nor one reaching above the high watermark, and the
//! log start moves up while offsets are never reused.

use bytes::Bytes;
use kafkalab_core::ids::{LeaderEpoch, Offset};
use kafkalab_core::partition_log::{
    single_record_batch, CleanupPolicy, EpochEntry, LogConfig, PartitionLog, RetentionOutcome,
};
use kafkalab_core::record_batch::RecordBatch;

fn one(timestamp_ms: i64) -> RecordBatch {
    single_record_batch(timestamp_ms, None, Some(Bytes::from_static(b"value")))
}

fn one_batch_bytes() -> u64 {
    one(0).size_bytes() as u64
}

/// Segments of three one-record batches each.
fn three_per_segment() -> LogConfig {
    LogConfig { segment_bytes: 3 * one_batch_bytes(), ..LogConfig::default() }
}

fn bases(log: &PartitionLog) -> Vec<i64> {
    log.segments().iter().map(|segment| segment.base_offset().0).collect()
}

/// Nine records at offsets 0-8 with timestamps 0-8, in segments at 0, 3 and 6, all committed.
fn nine_records(config: LogConfig) -> PartitionLog {
    let mut log = PartitionLog::new(config);
    for offset in 0..9 {
        log.append_as_leader(LeaderEpoch(0), offset as u64, one(offset)).unwrap();
    }
    log.set_high_watermark(log.log_end_offset());
    assert_eq!(bases(&log), [0, 3, 6]);
    log
}

#[test]
fn segments_roll_before_the_next_batch_would_pass_segment_bytes() {
    let mut log = PartitionLog::new(three_per_segment());
    for offset in 0..7 {
        log.append_as_leader(LeaderEpoch(0), 0, one(offset)).unwrap();
    }
    assert_eq!(bases(&log), [0, 3, 6]);
    assert!(log.segments().iter().all(|segment| segment.size_bytes() <= 3 * one_batch_bytes()));
    assert_eq!(log.segments().iter().map(|s| s.batch_count()).collect::<Vec<_>>(), [3, 3, 1]);
    assert_eq!(log.active_segment().next_offset(), log.log_end_offset());
    assert_eq!(log.size_bytes(), 7 * one_batch_bytes());
}

#[test]
fn segments_roll_once_the_active_one_is_older_than_segment_ms() {
    let mut log = PartitionLog::new(LogConfig { segment_ms: 100, ..LogConfig::default() });
    for now_ms in [0, 50, 101, 150, 202] {
        log.append_as_leader(LeaderEpoch(0), now_ms, one(now_ms as i64)).unwrap();
    }
    assert_eq!(bases(&log), [0, 2, 4]);
    assert_eq!(log.segments().iter().map(|s| s.created_ms()).collect::<Vec<_>>(), [0, 101, 202]);
}

#[test]
fn a_follower_rolls_its_segments_by_the_same_rules() {
    let leader = nine_records(three_per_segment());
    let mut follower = PartitionLog::new(three_per_segment());
    follower.append_as_follower(0, &leader.read(Offset(0), usize::MAX)).unwrap();
    assert_eq!(bases(&follower), [0, 3, 6]);
}

#[test]
fn retention_by_time_deletes_only_whole_segments_older_than_retention_ms() {
    let mut log = nine_records(LogConfig { retention_ms: Some(100), ..three_per_segment() });
    // Segment 0's newest record is at 2 (102 ms old), segment 1's at 5 (99 ms old).
    let outcome = log.enforce_retention(104);
    let expected = RetentionOutcome {
        segments_deleted_by_time: 1,
        segments_deleted_by_size: 0,
        records_deleted: 3,
        bytes_deleted: 3 * one_batch_bytes(),
        log_start_offset: Offset(3),
    };
    assert_eq!(outcome, expected);
    assert_eq!(bases(&log), [3, 6]);
    assert_eq!(log.log_start_offset(), Offset(3));
    assert_eq!(log.record_at(Offset(2)), None);
    assert_eq!(log.records().next().unwrap().offset, Offset(3));
    assert_eq!(log.read(Offset(0), 1)[0].base_offset(), Offset(3));
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn retention_never_deletes_the_active_segment() {
    let mut log = nine_records(LogConfig { retention_ms: Some(0), ..three_per_segment() });
    let outcome = log.enforce_retention(1_000_000);
    assert_eq!(outcome.segments_deleted(), 2);
    assert_eq!(bases(&log), [6]);
    assert_eq!(log.log_start_offset(), Offset(6));
    assert_eq!(log.records().count(), 3);
}

#[test]
fn retention_never_deletes_a_segment_reaching_above_the_high_watermark() {
    let mut log = nine_records(LogConfig { retention_ms: Some(0), ..three_per_segment() });
    log.truncate_to(Offset(9)); // nothing: it is the log end
    let mut uncommitted = log.clone();
    uncommitted.set_high_watermark(Offset(5));
    assert_eq!(uncommitted.enforce_retention(1_000_000).segments_deleted(), 1);
    assert_eq!(bases(&uncommitted), [3, 6], "segment 3-5 reaches above the high watermark 5");
    uncommitted.set_high_watermark(Offset(6));
    assert_eq!(uncommitted.enforce_retention(1_000_000).segments_deleted(), 1);
    assert_eq!(bases(&uncommitted), [6]);
}

#[test]
fn retention_by_size_deletes_oldest_segments_while_the_rest_stays_over_retention_bytes() {
    let mut log = nine_records(LogConfig { retention_bytes: Some(4 * one_batch_bytes()), ..three_per_segment() });
    let outcome = log.enforce_retention(0);
    assert_eq!((outcome.segments_deleted_by_time, outcome.segments_deleted_by_size), (0, 1));
    assert_eq!(bases(&log), [3, 6], "deleting segment 3-5 too would leave 3 batches, under 4");
    assert_eq!(log.size_bytes(), 6 * one_batch_bytes());
}

#[test]
fn offsets_are_never_reused_after_retention() {
    let mut log = nine_records(LogConfig { retention_ms: Some(0), ..three_per_segment() });
    log.enforce_retention(1_000_000);
    assert_eq!(log.append_as_leader(LeaderEpoch(0), 10, one(10)), Ok((Offset(9), Offset(9))));
    assert_eq!(log.log_end_offset(), Offset(10));
    assert_eq!(log.validate_records(), Ok(()));
}

#[test]
fn retention_moves_the_first_epoch_to_the_new_log_start() {
    let mut log = PartitionLog::new(LogConfig { retention_ms: Some(0), ..three_per_segment() });
    for (epoch, offset) in [(1, 0), (1, 1), (2, 2), (2, 3), (3, 4)] {
        log.append_as_leader(LeaderEpoch(epoch), offset as u64, one(offset)).unwrap();
    }
    log.set_high_watermark(Offset(5));
    log.enforce_retention(1_000_000);
    assert_eq!(log.log_start_offset(), Offset(3));
    let entries = [
        EpochEntry { epoch: LeaderEpoch(2), start_offset: Offset(3) },
        EpochEntry { epoch: LeaderEpoch(3), start_offset: Offset(4) },
    ];
    assert_eq!(log.epoch_entries(), entries);
    assert_eq!(log.validate(), Ok(()));
}

#[test]
fn a_compact_only_topic_deletes_nothing_by_age_or_size() {
    let config = LogConfig {
        cleanup_policy: CleanupPolicy::Compact,
        retention_ms: Some(0),
        retention_bytes: Some(0),
        ..three_per_segment()
    };
    let mut log = nine_records(LogConfig { cleanup_policy: CleanupPolicy::Delete, ..config.clone() });
    log.set_config(config);
    assert!(!log.enforce_retention(1_000_000).deleted_anything());
    assert_eq!(log.log_start_offset(), Offset(0));
}

#[test]
fn truncation_below_the_log_start_empties_the_log_and_restarts_there() {
    let mut log = nine_records(LogConfig { retention_ms: Some(0), ..three_per_segment() });
    log.enforce_retention(1_000_000);
    assert_eq!(log.log_start_offset(), Offset(6));
    log.truncate_to(Offset(4));
    assert_eq!((log.log_start_offset(), log.log_end_offset(), log.high_watermark()), (Offset(4), Offset(4), Offset(4)));
    assert_eq!(log.last_epoch(), None);
    assert_eq!(log.append_as_leader(LeaderEpoch(1), 0, one(0)), Ok((Offset(4), Offset(4))));
    assert_eq!(log.validate_records(), Ok(()));
}
