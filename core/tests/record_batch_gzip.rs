//! gzip-compressed record batches: they round-trip through the core; a batch the `kafka-protocol`
//! crate compresses with its own gzip (flate2) decodes here, and one the core compresses decodes
//! there; damaged gzip is refused with a reason, never a panic.

use bytes::{Bytes, BytesMut};
use kafka_protocol::records::{
    Compression as TheirCompression, Record as TheirRecord, RecordBatchDecoder, RecordBatchEncoder,
    RecordEncodeOptions, TimestampType as TheirTimestampType,
};
use kafkalab_core::ids::Offset;
use kafkalab_core::record_batch::gzip::{self, MAX_DECOMPRESSED_BYTES};
use kafkalab_core::record_batch::{
    crc32c, encode, encode_compressed, BatchAttributes, BatchError, BatchHeader, Compression, Record, RecordBatch,
    TimestampType,
};
use proptest::prelude::*;

fn gzip_header(base_offset: i64, base_timestamp_ms: i64) -> BatchHeader {
    BatchHeader {
        attributes: BatchAttributes::new(Compression::Gzip, TimestampType::CreateTime),
        ..BatchHeader::new(Offset(base_offset), base_timestamp_ms)
    }
}

/// `count` records whose values are the same small JSON document with a different order id.
fn json_records(count: usize) -> Vec<Record> {
    (0..count)
        .map(|index| {
            let value = format!(r#"{{"order":{index},"customer":"alice","status":"pending","warehouse":"north"}}"#);
            Record::new(index as i32, index as i64, Some(Bytes::from(format!("k{index}"))), Some(Bytes::from(value)))
        })
        .collect()
}

fn record_strategy() -> impl Strategy<Value = Record> {
    let bytes = || proptest::option::of(proptest::collection::vec(any::<u8>(), 0..40).prop_map(Bytes::from));
    (0..1_000i64, bytes(), bytes())
        .prop_map(|(timestamp_delta, key, value)| Record::new(0, timestamp_delta, key, value))
}

fn numbered(mut records: Vec<Record>) -> Vec<Record> {
    for (index, record) in records.iter_mut().enumerate() {
        record.offset_delta = index as i32;
    }
    records
}

/// The kafka-protocol crate's records for `values`, from producer 7, at offsets from `first_offset`.
fn their_records(first_offset: i64, values: &[Bytes]) -> Vec<TheirRecord> {
    values
        .iter()
        .enumerate()
        .map(|(index, value)| TheirRecord {
            transactional: false,
            control: false,
            delete_horizon: false,
            partition_leader_epoch: 0,
            producer_id: 7,
            producer_epoch: 0,
            timestamp_type: TheirTimestampType::Creation,
            offset: first_offset + index as i64,
            // Sequences follow offsets, or the encoder starts a new batch.
            sequence: index as i32,
            timestamp: 1_000 + index as i64,
            key: None,
            value: Some(value.clone()),
            headers: Default::default(),
        })
        .collect()
}

#[test]
fn a_gzip_batch_reads_back_the_records_it_was_given() {
    let records = json_records(100);
    let header = gzip_header(0, 1_000).fitted_to(&records);
    let batch = encode(&header, &records).unwrap();
    assert_eq!(batch.compression(), Compression::Gzip);
    let parsed = RecordBatch::parse(batch.as_bytes().clone()).unwrap();
    assert_eq!(parsed.records().unwrap().collect::<Vec<_>>(), records);
    assert_eq!(parsed.header(), header);
}

#[test]
fn a_hundred_repetitive_json_records_take_several_times_fewer_bytes_with_gzip() {
    let records = json_records(100);
    let plain = encode(&BatchHeader::new(Offset(0), 1_000).fitted_to(&records), &records).unwrap();
    let compressed = encode(&gzip_header(0, 1_000).fitted_to(&records), &records).unwrap();
    assert_eq!(compressed.uncompressed_records_bytes(), plain.uncompressed_records_bytes());
    assert!(
        compressed.size_bytes() * 4 < plain.size_bytes(),
        "gzip {} bytes, none {} bytes",
        compressed.size_bytes(),
        plain.size_bytes()
    );
}

#[test]
fn one_small_record_is_larger_gzipped_than_plain() {
    let records = json_records(1);
    let plain = encode(&BatchHeader::new(Offset(0), 1_000).fitted_to(&records), &records).unwrap();
    let compressed = encode(&gzip_header(0, 1_000).fitted_to(&records), &records).unwrap();
    assert!(compressed.size_bytes() > plain.size_bytes(), "{} vs {}", compressed.size_bytes(), plain.size_bytes());
}

#[test]
fn a_batch_the_other_crate_gzipped_decodes_here() {
    let values: Vec<Bytes> = (0..20).map(|i| Bytes::from(format!("order {i} for alice, status pending"))).collect();
    let mut buffer = BytesMut::new();
    let options = RecordEncodeOptions { version: 2, compression: TheirCompression::Gzip };
    RecordBatchEncoder::encode(&mut buffer, &their_records(40, &values), &options).unwrap();
    let batch = RecordBatch::parse(buffer.freeze()).unwrap();
    assert_eq!(batch.compression(), Compression::Gzip);
    assert_eq!((batch.base_offset(), batch.record_count()), (Offset(40), 20));
    let ours: Vec<Option<Bytes>> = batch.records().unwrap().map(|record| record.value).collect();
    assert_eq!(ours, values.into_iter().map(Some).collect::<Vec<_>>());
}

#[test]
fn a_batch_gzipped_here_decodes_in_the_other_crate() {
    let records = json_records(30);
    let batch = encode(&gzip_header(7, 5_000).fitted_to(&records), &records).unwrap();
    let mut buffer = batch.as_bytes().clone();
    let decoded = RecordBatchDecoder::decode(&mut buffer).unwrap();
    assert!(buffer.is_empty());
    assert_eq!(decoded.compression, TheirCompression::Gzip);
    assert_eq!(decoded.records.len(), 30);
    for (ours, theirs) in records.iter().zip(&decoded.records) {
        assert_eq!(theirs.offset, 7 + ours.offset_delta as i64);
        assert_eq!(theirs.timestamp, 5_000 + ours.timestamp_delta);
        assert_eq!((&theirs.key, &theirs.value), (&ours.key, &ours.value));
    }
}

/// Wraps `payload` as a gzip batch's records section with a valid CRC-32C, so parsing reaches
/// the gzip reader.
fn framed_gzip_payload(count: i32, payload: &[u8]) -> Bytes {
    let empty = encode(&BatchHeader::new(Offset(0), 0), &[]).unwrap();
    let mut bytes = empty.as_bytes().to_vec();
    bytes[21..23].copy_from_slice(&u16::from(Compression::Gzip.id()).to_be_bytes());
    bytes[57..61].copy_from_slice(&count.to_be_bytes());
    bytes.extend_from_slice(payload);
    let batch_length = (bytes.len() - 12) as i32;
    bytes[8..12].copy_from_slice(&batch_length.to_be_bytes());
    let crc = crc32c::checksum(&bytes[21..]);
    bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(bytes)
}

#[test]
fn gzip_whose_records_do_not_match_the_count_is_refused_with_positions_in_the_decompressed_records() {
    let records = json_records(3);
    let plain = encode(&BatchHeader::new(Offset(0), 0).fitted_to(&records), &records).unwrap();
    let payload = gzip::compress(&plain.records_section());
    let error = RecordBatch::parse(framed_gzip_payload(4, &payload)).unwrap_err();
    let inner = BatchError::FewerRecordsThanCount { declared: 4, found: 3 };
    assert_eq!(error, BatchError::InDecompressedRecords { compression: Compression::Gzip, error: Box::new(inner) });
    assert!(error.to_string().starts_with("in the gzip-decompressed records"), "{error}");
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn gzip_batches_round_trip(records in proptest::collection::vec(record_strategy(), 0..20)) {
        let records = numbered(records);
        let header = gzip_header(3, 100).fitted_to(&records);
        let batch = encode(&header, &records).unwrap();
        let parsed = RecordBatch::parse(batch.as_bytes().clone()).unwrap();
        prop_assert_eq!(parsed.records().unwrap().collect::<Vec<_>>(), records);
        let again = encode_compressed(&parsed.header(), parsed.record_count(), &parsed.records_section()).unwrap();
        prop_assert_eq!(again.as_bytes(), batch.as_bytes());
    }

    #[test]
    fn random_bytes_never_panic_the_gzip_reader(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let _ = gzip::decompress(&bytes, MAX_DECOMPRESSED_BYTES);
    }

    #[test]
    fn random_bytes_after_a_gzip_header_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let mut payload = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
        payload.extend_from_slice(&bytes);
        let _ = gzip::decompress(&payload, 10_000);
    }

    #[test]
    fn damaged_gzip_in_a_batch_is_an_error_not_a_panic(
        records in proptest::collection::vec(record_strategy(), 1..10),
        damage in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4),
    ) {
        let records = numbered(records);
        let plain = encode(&BatchHeader::new(Offset(0), 0).fitted_to(&records), &records).unwrap();
        let mut payload = gzip::compress(&plain.records_section());
        for (position, value) in damage {
            let length = payload.len();
            payload[position % length] = value;
        }
        match RecordBatch::parse(framed_gzip_payload(records.len() as i32, &payload)) {
            Ok(batch) => prop_assert_eq!(batch.records().unwrap().count(), records.len()),
            Err(error) => prop_assert!(!error.to_string().is_empty()),
        }
    }
}
