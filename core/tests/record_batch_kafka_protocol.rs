//! Cross-checks against an independent implementation, the `kafka-protocol` crate: batches this
//! crate encodes, it decodes to the same records; batches it encodes, this crate parses to the
//! same records and re-encodes to the same bytes.
//!
//! Its record model differs in ways the generators respect: headers are a map (so keys are
//! unique here), and its encoder derives the header from the records (base offset and base
//! timestamp are the minimums, sequences follow offsets) and never sets the timestamp type bit.

use bytes::{Bytes, BytesMut};
use kafka_protocol::indexmap::IndexMap;
use kafka_protocol::protocol::StrBytes;
use kafka_protocol::records::{
    Compression as TheirCompression, Record as TheirRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType as TheirTimestampType,
};
use kafkalab_core::ids::{LeaderEpoch, Offset};
use kafkalab_core::record_batch::{
    encode, BatchAttributes, BatchHeader, Compression, Record, RecordBatch, RecordHeader, TimestampType,
};
use proptest::prelude::*;

fn bytes_strategy(max_length: usize) -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..max_length).prop_map(Bytes::from))
}

/// Headers with distinct keys, since the other crate keeps them in a map.
fn headers_strategy() -> impl Strategy<Value = Vec<RecordHeader>> {
    proptest::collection::btree_map("[a-z]{0,5}", bytes_strategy(8), 0..3)
        .prop_map(|map| map.into_iter().map(|(key, value)| RecordHeader { key, value }).collect())
}

fn record_strategy() -> impl Strategy<Value = Record> {
    (any::<i32>(), -(1i64 << 40)..(1i64 << 40), bytes_strategy(16), bytes_strategy(32), headers_strategy()).prop_map(
        |(offset_delta, timestamp_delta, key, value, headers)| Record {
            attributes: 0,
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers,
        },
    )
}

fn header_strategy() -> impl Strategy<Value = BatchHeader> {
    (
        (0..(1i64 << 60), any::<i32>(), any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()),
        (any::<i32>(), -(1i64 << 50)..(1i64 << 50), any::<i64>(), any::<i64>(), any::<i16>(), any::<i32>()),
    )
        .prop_map(|(first, second)| {
            let (base_offset, epoch, log_append_time, transactional, control, delete_horizon) = first;
            let (last_offset_delta, base_timestamp_ms, max_timestamp_ms, producer_id, producer_epoch, base_sequence) =
                second;
            let timestamp_type = if log_append_time { TimestampType::LogAppendTime } else { TimestampType::CreateTime };
            let attributes = BatchAttributes::new(Compression::None, timestamp_type)
                .with_transactional(transactional)
                .with_control(control)
                .with_delete_horizon(delete_horizon);
            BatchHeader {
                base_offset: Offset(base_offset),
                partition_leader_epoch: LeaderEpoch(epoch),
                attributes,
                last_offset_delta,
                base_timestamp_ms,
                max_timestamp_ms,
                producer_id,
                producer_epoch,
                base_sequence,
            }
        })
}

/// Records as the other crate's encoder wants them: one producer, consecutive offsets from
/// `first_offset`, sequences following offsets.
fn their_records_strategy() -> impl Strategy<Value = Vec<TheirRecord>> {
    let batch_fields = (0..(1i64 << 60), any::<i32>(), any::<bool>(), any::<i64>(), any::<i16>(), 0..(1i32 << 30));
    let record_fields = proptest::collection::vec(
        (-(1i64 << 40)..(1i64 << 40), bytes_strategy(16), bytes_strategy(32), headers_strategy()),
        1..6,
    );
    (batch_fields, record_fields).prop_map(|(batch, records)| {
        let (first_offset, epoch, transactional, producer_id, producer_epoch, first_sequence) = batch;
        records
            .into_iter()
            .enumerate()
            .map(|(index, (timestamp, key, value, headers))| TheirRecord {
                transactional,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: epoch,
                producer_id,
                producer_epoch,
                timestamp_type: TheirTimestampType::Creation,
                offset: first_offset + index as i64,
                sequence: first_sequence + index as i32,
                timestamp,
                key,
                value,
                headers: to_their_headers(&headers),
            })
            .collect()
    })
}

fn to_their_headers(headers: &[RecordHeader]) -> IndexMap<StrBytes, Option<Bytes>> {
    headers.iter().map(|header| (StrBytes::from_string(header.key.clone()), header.value.clone())).collect()
}

fn to_our_headers(headers: &IndexMap<StrBytes, Option<Bytes>>) -> Vec<RecordHeader> {
    headers.iter().map(|(key, value)| RecordHeader { key: key.to_string(), value: value.clone() }).collect()
}

/// What the other crate should make of our record at the batch's offsets and timestamps.
fn assert_same_record(ours: &Record, batch: &RecordBatch, theirs: &TheirRecord) {
    assert_eq!(theirs.offset, ours.offset(batch.base_offset()).0);
    assert_eq!(theirs.timestamp, batch.base_timestamp_ms().wrapping_add(ours.timestamp_delta));
    assert_eq!(theirs.sequence, batch.base_sequence().wrapping_add(ours.offset_delta));
    assert_eq!((&theirs.key, &theirs.value), (&ours.key, &ours.value));
    assert_eq!(to_our_headers(&theirs.headers), ours.headers);
    assert_eq!(theirs.partition_leader_epoch, batch.partition_leader_epoch().0);
    assert_eq!((theirs.producer_id, theirs.producer_epoch), (batch.producer_id(), batch.producer_epoch()));
    assert_eq!(theirs.transactional, batch.is_transactional());
    assert_eq!(theirs.control, batch.is_control());
    assert_eq!(theirs.delete_horizon, batch.attributes().has_delete_horizon());
    let their_type = match batch.timestamp_type() {
        TimestampType::CreateTime => TheirTimestampType::Creation,
        TimestampType::LogAppendTime => TheirTimestampType::LogAppend,
    };
    assert_eq!(theirs.timestamp_type, their_type);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn the_other_crate_decodes_what_we_encode(
        header in header_strategy(),
        records in proptest::collection::vec(record_strategy(), 0..6),
    ) {
        let batch = encode(&header, &records).unwrap();
        let mut buffer = batch.as_bytes().clone();
        let decoded = RecordBatchDecoder::decode(&mut buffer).unwrap();
        prop_assert!(buffer.is_empty());
        prop_assert_eq!(decoded.version, 2);
        prop_assert_eq!(decoded.compression, TheirCompression::None);
        prop_assert_eq!(decoded.records.len(), records.len());
        for (ours, theirs) in records.iter().zip(&decoded.records) {
            assert_same_record(ours, &batch, theirs);
        }
    }

    #[test]
    fn we_parse_and_reencode_what_the_other_crate_encodes(records in their_records_strategy()) {
        let mut buffer = BytesMut::new();
        let options = RecordEncodeOptions { version: 2, compression: TheirCompression::None };
        RecordBatchEncoder::encode(&mut buffer, &records, &options).unwrap();
        let bytes = buffer.freeze();
        let batch = RecordBatch::parse(bytes.clone()).unwrap();
        prop_assert_eq!(batch.record_count() as usize, records.len());
        prop_assert_eq!(batch.base_offset(), Offset(records[0].offset));
        prop_assert_eq!(batch.last_offset(), Offset(records[records.len() - 1].offset));
        prop_assert_eq!(batch.base_sequence(), records[0].sequence);
        prop_assert_eq!(batch.base_timestamp_ms(), records.iter().map(|record| record.timestamp).min().unwrap());
        prop_assert_eq!(batch.max_timestamp_ms(), records.iter().map(|record| record.timestamp).max().unwrap());
        let ours: Vec<Record> = batch.records().unwrap().collect();
        for (ours, theirs) in ours.iter().zip(&records) {
            assert_same_record(ours, &batch, theirs);
        }
        let reencoded = encode(&batch.header(), &ours).unwrap();
        prop_assert_eq!(reencoded.as_bytes(), &bytes);
    }
}
