//! Properties of the record-batch partition log over random runs: every batch stays valid and
//! ordered after any sequence of appends, high watermark moves, truncations, retention and
//! compaction; each operation does only what it says (compaction keeps each key's newest
//! committed record, retention removes a prefix, truncation a suffix); a follower copying the
//! result stores the same bytes; and no public call panics on any argument of the right type.

use bytes::Bytes;
use kafkalab_core::ids::{LeaderEpoch, Offset};
use kafkalab_core::partition_log::{CleanupPolicy, LogConfig, LogRecord, PartitionLog};
use kafkalab_core::record_batch::{
    encode, encode_compressed, BatchAttributes, BatchHeader, Compression, Record, RecordBatch, TimestampType,
};
use proptest::prelude::*;
use std::collections::BTreeMap;

#[derive(Clone, Debug)]
enum Step {
    /// A producer batch of `(key, is_tombstone)` records, possibly under a new leader epoch.
    Append {
        new_epoch: bool,
        writes: Vec<(u8, bool)>,
        advance_ms: u16,
    },
    /// The high watermark to this many thousandths of the way from log start to log end.
    SetHighWatermark {
        permille: u16,
    },
    /// Truncate this many offsets below the log end (0: at the log end; past the start: below it).
    Truncate {
        back: u8,
    },
    Retention {
        advance_ms: u16,
    },
    Compact {
        advance_ms: u16,
    },
}

fn step_strategy() -> impl Strategy<Value = Step> {
    prop_oneof![
        4 => (any::<bool>(), proptest::collection::vec((0u8..6, proptest::bool::weighted(0.2)), 1..4), 0u16..60)
            .prop_map(|(new_epoch, writes, advance_ms)| Step::Append { new_epoch: new_epoch && writes.len() > 2, writes, advance_ms }),
        // Mostly all the way, as when every in-sync replica keeps up.
        2 => prop_oneof![Just(1000u16), 0u16..=1000].prop_map(|permille| Step::SetHighWatermark { permille }),
        1 => (0u8..12).prop_map(|back| Step::Truncate { back }),
        1 => (0u16..200).prop_map(|advance_ms| Step::Retention { advance_ms }),
        1 => (0u16..200).prop_map(|advance_ms| Step::Compact { advance_ms }),
    ]
}

fn config_strategy() -> impl Strategy<Value = LogConfig> {
    let policy =
        prop_oneof![Just(CleanupPolicy::Delete), Just(CleanupPolicy::Compact), Just(CleanupPolicy::CompactAndDelete)];
    (
        150u64..600,
        20u64..400,
        proptest::option::of(0u64..400),
        proptest::option::of(0u64..1500),
        policy,
        0u64..300,
        0u64..100,
    )
        .prop_map(
            |(segment_bytes, segment_ms, retention_ms, retention_bytes, cleanup_policy, delete_retention_ms, lag)| {
                LogConfig {
                    segment_bytes,
                    segment_ms,
                    retention_ms,
                    retention_bytes,
                    cleanup_policy,
                    delete_retention_ms,
                    min_compaction_lag_ms: lag,
                    min_insync_replicas: None,
                }
            },
        )
}

fn producer_batch(timestamp_ms: i64, writes: &[(u8, bool)]) -> RecordBatch {
    let records: Vec<Record> = writes
        .iter()
        .enumerate()
        .map(|(index, &(key, tombstone))| {
            let value = (!tombstone).then(|| Bytes::from(format!("value-{timestamp_ms}-{index}")));
            Record::new(index as i32, 0, Some(Bytes::from(vec![b'k', key])), value)
        })
        .collect();
    encode(&BatchHeader::new(Offset(0), timestamp_ms).fitted_to(&records), &records).unwrap()
}

/// Each key's newest record below the high watermark.
fn newest_committed(log: &PartitionLog) -> BTreeMap<Bytes, LogRecord> {
    let committed = log.records().filter(|r| r.offset < log.high_watermark());
    committed.filter_map(|r| Some((r.key.clone()?, r))).collect()
}

fn by_offset(log: &PartitionLog) -> BTreeMap<Offset, LogRecord> {
    log.records().map(|r| (r.offset, r)).collect()
}

/// Runs one step against `log`, checking that it did what it says.
fn run_step(log: &mut PartitionLog, step: &Step, epoch: &mut i32, now_ms: &mut u64) {
    let before = by_offset(log);
    let (start, end, high_watermark) = (log.log_start_offset(), log.log_end_offset(), log.high_watermark());
    match step {
        Step::Append { new_epoch, writes, advance_ms } => {
            *now_ms += *advance_ms as u64;
            if *new_epoch {
                *epoch += 1;
                log.assign_epoch_start(LeaderEpoch(*epoch));
            }
            let (first, last) =
                log.append_as_leader(LeaderEpoch(*epoch), *now_ms, producer_batch(*now_ms as i64, writes)).unwrap();
            assert_eq!((first, last.0 - first.0 + 1), (end, writes.len() as i64));
        }
        Step::SetHighWatermark { permille } => {
            let offset = start.0 + (end.0 - start.0) * *permille as i64 / 1000;
            log.set_high_watermark(Offset(offset));
        }
        Step::Truncate { back } => {
            let target = Offset(end.0 - *back as i64);
            log.truncate_to(target);
            assert!(log.log_end_offset() <= target.max(Offset(0)) || target >= end);
            let expected: BTreeMap<_, _> = before.into_iter().filter(|(o, _)| *o < log.log_end_offset()).collect();
            assert_eq!(by_offset(log), expected);
        }
        Step::Retention { advance_ms } => {
            *now_ms += *advance_ms as u64;
            let outcome = log.enforce_retention(*now_ms);
            assert_eq!((log.log_end_offset(), log.high_watermark()), (end, high_watermark));
            assert_eq!(outcome.log_start_offset, log.log_start_offset());
            let expected: BTreeMap<_, _> = before.into_iter().filter(|(o, _)| *o >= outcome.log_start_offset).collect();
            assert_eq!(by_offset(log), expected);
        }
        Step::Compact { advance_ms } => {
            *now_ms += *advance_ms as u64;
            let newest_before = newest_committed(log);
            let outcome = log.compact(*now_ms);
            assert_eq!(
                (log.log_start_offset(), log.log_end_offset(), log.high_watermark()),
                (start, end, high_watermark)
            );
            let after = by_offset(log);
            for (offset, record) in &after {
                assert_eq!(before.get(offset), Some(record), "compaction only removes records");
            }
            for (offset, record) in &before {
                if *offset >= outcome.first_uncleanable_offset {
                    assert_eq!(
                        after.get(offset),
                        Some(record),
                        "nothing at or above {} is touched",
                        outcome.first_uncleanable_offset
                    );
                }
            }
            let newest_after = newest_committed(log);
            for (key, newest) in &newest_before {
                match newest_after.get(key) {
                    Some(kept) => assert_eq!(kept, newest, "a key's newest committed record survives"),
                    None => assert!(newest.value.is_none(), "only a tombstoned key may vanish"),
                }
            }
        }
    }
    if let Err(error) = log.validate_records() {
        panic!("after {step:?}: {error}");
    }
}

fn batch_bytes(log: &PartitionLog) -> Vec<Bytes> {
    log.batches().map(|batch| batch.as_bytes().clone()).collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_operation_keeps_the_log_valid_and_does_only_what_it_says(
        config in config_strategy(),
        steps in proptest::collection::vec(step_strategy(), 1..60),
    ) {
        let mut log = PartitionLog::new(config.clone());
        let (mut epoch, mut now_ms) = (0, 0u64);
        for step in &steps {
            run_step(&mut log, step, &mut epoch, &mut now_ms);
        }
        let mut follower = PartitionLog::new(config);
        follower.append_as_follower(now_ms, &log.read(log.log_start_offset(), usize::MAX)).unwrap();
        prop_assert_eq!(batch_bytes(&follower), batch_bytes(&log));
        // Compaction can empty the end of a closed segment that truncation then makes active,
        // so the leader may end past its last batch; the copy ends at that batch.
        let last_batch_end = log.batches().last().map_or(Offset(0), |batch| batch.next_offset());
        prop_assert_eq!(follower.log_end_offset(), last_batch_end);
        prop_assert_eq!(follower.validate_records(), Ok(()));
    }
}

/// Any public call with any argument of the right type.
#[derive(Clone, Debug)]
enum Call {
    LeaderAppend {
        epoch: i32,
        now_ms: u64,
        timestamp_ms: i64,
        records: u8,
        keyed: bool,
    },
    LeaderAppendCompressed {
        epoch: i32,
        now_ms: u64,
        payload: Vec<u8>,
    },
    /// A batch as a (possibly corrupt) leader might send it: any record offset deltas.
    FollowerAppend {
        now_ms: u64,
        base_offset: i64,
        epoch: i32,
        timestamp_ms: i64,
        log_append_time: bool,
        deltas: Vec<i32>,
        last_offset_delta: i32,
    },
    Truncate(i64),
    Read(i64, usize),
    RecordAt(i64),
    EndOffsetForEpoch(i32),
    AssignEpochStart(i32),
    SetHighWatermark(i64),
    Retention(u64),
    Compact(u64),
    SetConfig(LogConfig),
}

fn any_config() -> impl Strategy<Value = LogConfig> {
    let policy =
        prop_oneof![Just(CleanupPolicy::Delete), Just(CleanupPolicy::Compact), Just(CleanupPolicy::CompactAndDelete)];
    let small_or_any = || prop_oneof![0u64..1000, any::<u64>()];
    (
        small_or_any(),
        small_or_any(),
        proptest::option::of(small_or_any()),
        proptest::option::of(small_or_any()),
        policy,
        small_or_any(),
        small_or_any(),
    )
        .prop_map(
            |(segment_bytes, segment_ms, retention_ms, retention_bytes, cleanup_policy, delete_retention_ms, lag)| {
                LogConfig {
                    segment_bytes,
                    segment_ms,
                    retention_ms,
                    retention_bytes,
                    cleanup_policy,
                    delete_retention_ms,
                    min_compaction_lag_ms: lag,
                    min_insync_replicas: None,
                }
            },
        )
}

fn call_strategy() -> impl Strategy<Value = Call> {
    let offset = || prop_oneof![-5i64..40, any::<i64>()];
    let time = || prop_oneof![0u64..1000, any::<u64>()];
    let follower_offsets = prop_oneof![
        3 => Just((vec![0, 1, 2], 2)),
        1 => (proptest::collection::vec(-2i32..6, 0..4), -2i32..6),
    ];
    prop_oneof![
        4 => (-2i32..6, time(), any::<i64>(), 0u8..4, any::<bool>())
            .prop_map(|(epoch, now_ms, timestamp_ms, records, keyed)| Call::LeaderAppend { epoch, now_ms, timestamp_ms, records, keyed }),
        1 => (-2i32..6, time(), proptest::collection::vec(any::<u8>(), 0..20))
            .prop_map(|(epoch, now_ms, payload)| Call::LeaderAppendCompressed { epoch, now_ms, payload }),
        2 => ((time(), prop_oneof![0i64..60, 0i64..(i64::MAX - 8)], -2i32..8, any::<i64>(), any::<bool>()), follower_offsets)
            .prop_map(|((now_ms, base_offset, epoch, timestamp_ms, log_append_time), (deltas, last_offset_delta))| {
                Call::FollowerAppend { now_ms, base_offset, epoch, timestamp_ms, log_append_time, deltas, last_offset_delta }
            }),
        1 => offset().prop_map(Call::Truncate),
        1 => (offset(), any::<usize>()).prop_map(|(from, max)| Call::Read(from, max)),
        1 => offset().prop_map(Call::RecordAt),
        1 => any::<i32>().prop_map(Call::EndOffsetForEpoch),
        1 => any::<i32>().prop_map(Call::AssignEpochStart),
        1 => offset().prop_map(Call::SetHighWatermark),
        1 => time().prop_map(Call::Retention),
        1 => time().prop_map(Call::Compact),
        1 => any_config().prop_map(Call::SetConfig),
    ]
}

fn records(count: u8, keyed: bool, timestamp_ms: i64) -> (BatchHeader, Vec<Record>) {
    let records: Vec<Record> = (0..count as i32)
        .map(|delta| {
            let key = keyed.then(|| Bytes::from(vec![b'k', (delta % 2) as u8]));
            let value = (delta % 3 != 2).then(|| Bytes::from_static(b"v"));
            Record::new(delta, delta as i64, key, value)
        })
        .collect();
    (BatchHeader::new(Offset(0), timestamp_ms).fitted_to(&records), records)
}

fn call(log: &mut PartitionLog, call: &Call) {
    match call.clone() {
        Call::LeaderAppend { epoch, now_ms, timestamp_ms, records: count, keyed } => {
            let (header, records) = records(count, keyed, timestamp_ms);
            let _ = log.append_as_leader(LeaderEpoch(epoch), now_ms, encode(&header, &records).unwrap());
        }
        Call::LeaderAppendCompressed { epoch, now_ms, payload } => {
            let attributes = BatchAttributes::new(Compression::Zstd, TimestampType::CreateTime);
            let header = BatchHeader { attributes, ..BatchHeader::new(Offset(0), 0) };
            let _ = log.append_as_leader(LeaderEpoch(epoch), now_ms, encode_compressed(&header, 1, &payload).unwrap());
        }
        Call::FollowerAppend {
            now_ms,
            base_offset,
            epoch,
            timestamp_ms,
            log_append_time,
            deltas,
            last_offset_delta,
        } => {
            let key = |delta: i32| Some(Bytes::from(vec![b'k', (delta % 2) as u8]));
            let records: Vec<Record> =
                deltas.iter().map(|&delta| Record::new(delta, delta as i64, key(delta), None)).collect();
            let timestamp_type = if log_append_time { TimestampType::LogAppendTime } else { TimestampType::CreateTime };
            let header = BatchHeader {
                partition_leader_epoch: LeaderEpoch(epoch),
                attributes: BatchAttributes::new(Compression::None, timestamp_type),
                last_offset_delta,
                ..BatchHeader::new(Offset(base_offset), timestamp_ms)
            };
            let _ = log.append_as_follower(now_ms, &[encode(&header, &records).unwrap()]);
        }
        Call::Truncate(offset) => log.truncate_to(Offset(offset)),
        Call::Read(from, max_bytes) => {
            let batches = log.read(Offset(from), max_bytes);
            assert!(batches.windows(2).all(|pair| pair[0].next_offset() <= pair[1].base_offset()));
        }
        Call::RecordAt(offset) => {
            if let Some(record) = log.record_at(Offset(offset)) {
                assert_eq!(record.offset, Offset(offset));
            }
        }
        Call::EndOffsetForEpoch(epoch) => {
            let _ = log.end_offset_for_epoch(LeaderEpoch(epoch));
        }
        Call::AssignEpochStart(epoch) => log.assign_epoch_start(LeaderEpoch(epoch)),
        // The one documented panic is a high watermark past the log end; stay within it.
        Call::SetHighWatermark(offset) => log.set_high_watermark(Offset(offset).min(log.log_end_offset())),
        Call::Retention(now_ms) => {
            log.enforce_retention(now_ms);
        }
        Call::Compact(now_ms) => {
            log.compact(now_ms);
        }
        Call::SetConfig(config) => log.set_config(config),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn no_public_call_panics_and_the_log_stays_valid(calls in proptest::collection::vec(call_strategy(), 1..40)) {
        let mut log = PartitionLog::new(LogConfig { segment_bytes: 400, ..LogConfig::default() });
        for step in &calls {
            call(&mut log, step);
            if let Err(error) = log.validate_records() {
                panic!("after {step:?}: {error}");
            }
            let _ = (log.records().count(), log.segments().len(), log.size_bytes(), log.last_epoch());
        }
    }
}

#[test]
fn calls_at_the_edges_of_the_offset_range_do_not_panic() {
    let mut log = PartitionLog::new(LogConfig::default());
    assert!(log.read(Offset(i64::MAX), 0).is_empty());
    assert_eq!(log.record_at(Offset(i64::MIN)), None);
    log.truncate_to(Offset(i64::MIN));
    assert_eq!(log.log_end_offset(), Offset(0));
    let mut far = producer_batch(0, &[(1, false)]);
    far.set_base_offset(Offset(i64::MAX - 1));
    log.append_as_follower(0, &[far]).unwrap();
    assert_eq!(log.log_end_offset(), Offset(i64::MAX));
    assert!(log.append_as_leader(LeaderEpoch(0), 0, producer_batch(0, &[(1, false)])).is_err());
    assert_eq!(log.read(Offset(0), 0).len(), 1);
    assert_eq!(log.record_at(Offset(5)), None);
    assert_eq!(log.validate_records(), Ok(()));
}
