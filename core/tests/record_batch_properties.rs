//! Properties of the record batch format over random inputs: encode and parse are inverse, the
//! CRC catches every single-bit change it covers, varints round trip over their whole range, and
//! no input, however malformed, makes parsing panic.

use bytes::Bytes;
use kafkalab_core::ids::{LeaderEpoch, Offset};
use kafkalab_core::record_batch::varint::{
    read_varint, read_varlong, varint_size, varlong_size, write_varint, write_varlong,
};
use kafkalab_core::record_batch::{
    concatenate, crc32c, encode, encode_compressed, split_batches, BatchAttributes, BatchError, BatchHeader,
    Compression, Record, RecordBatch, RecordHeader,
};
use proptest::prelude::*;

fn bytes_strategy(max_length: usize) -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..max_length).prop_map(Bytes::from))
}

fn record_header_strategy() -> impl Strategy<Value = RecordHeader> {
    (".{0,6}", bytes_strategy(12)).prop_map(|(key, value)| RecordHeader { key, value })
}

fn record_strategy() -> impl Strategy<Value = Record> {
    (
        any::<i8>(),
        any::<i64>(),
        any::<i32>(),
        bytes_strategy(24),
        bytes_strategy(48),
        proptest::collection::vec(record_header_strategy(), 0..3),
    )
        .prop_map(|(attributes, timestamp_delta, offset_delta, key, value, headers)| Record {
            attributes,
            timestamp_delta,
            offset_delta,
            key,
            value,
            headers,
        })
}

/// Any header whose offsets do not overflow, with any attribute bits but the codec's.
fn batch_header_strategy() -> impl Strategy<Value = BatchHeader> {
    (
        (-(1i64 << 62)..(1i64 << 62), any::<i32>(), any::<u16>(), any::<i32>()),
        (any::<i64>(), any::<i64>(), any::<i64>(), any::<i16>(), any::<i32>()),
    )
        .prop_map(|((base_offset, epoch, attribute_bits, last_offset_delta), rest)| {
            let (base_timestamp_ms, max_timestamp_ms, producer_id, producer_epoch, base_sequence) = rest;
            BatchHeader {
                base_offset: Offset(base_offset),
                partition_leader_epoch: LeaderEpoch(epoch),
                attributes: BatchAttributes::from_bits(attribute_bits & !0x07).unwrap(),
                last_offset_delta,
                base_timestamp_ms,
                max_timestamp_ms,
                producer_id,
                producer_epoch,
                base_sequence,
            }
        })
}

fn batch_strategy() -> impl Strategy<Value = (BatchHeader, Vec<Record>)> {
    (batch_header_strategy(), proptest::collection::vec(record_strategy(), 0..6))
}

fn compressed_batch_strategy() -> impl Strategy<Value = RecordBatch> {
    // Snappy, lz4 and zstd: the codecs the lab carries without reading (gzip payloads are checked).
    (batch_header_strategy(), 2..=4u8, 0..i32::MAX, proptest::collection::vec(any::<u8>(), 0..64)).prop_map(
        |(header, codec, count, payload)| {
            let compression = Compression::from_id(codec).unwrap();
            let header = BatchHeader { attributes: header.attributes.with_compression(compression), ..header };
            encode_compressed(&header, count, &payload).unwrap()
        },
    )
}

/// A batch with a valid length, magic and CRC around random record bytes, so parsing gets past
/// the header checks and into the records.
fn framed_garbage_strategy() -> impl Strategy<Value = Bytes> {
    (batch_header_strategy(), 0..4i32, proptest::collection::vec(any::<u8>(), 0..80)).prop_map(
        |(header, count, records)| {
            let empty = encode(&BatchHeader { attributes: BatchAttributes::default(), ..header }, &[]).unwrap();
            let mut bytes = empty.as_bytes().to_vec();
            bytes[57..61].copy_from_slice(&count.to_be_bytes());
            bytes.extend_from_slice(&records);
            let batch_length = (bytes.len() - 12) as i32;
            bytes[8..12].copy_from_slice(&batch_length.to_be_bytes());
            let crc = crc32c::checksum(&bytes[21..]);
            bytes[17..21].copy_from_slice(&crc.to_be_bytes());
            Bytes::from(bytes)
        },
    )
}

/// A valid batch with a few of its record bytes overwritten and the CRC fixed up: records that
/// are nearly right, which reach deeper into the record decoder than random bytes do.
fn mutated_records_strategy() -> impl Strategy<Value = Bytes> {
    (batch_strategy(), proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4)).prop_map(
        |((header, records), mutations)| {
            let mut bytes = encode(&header, &records).unwrap().into_bytes().to_vec();
            let records_length = bytes.len() - 61;
            if records_length > 0 {
                for (position, value) in mutations {
                    bytes[61 + position % records_length] = value;
                }
            }
            let crc = crc32c::checksum(&bytes[21..]);
            bytes[17..21].copy_from_slice(&crc.to_be_bytes());
            Bytes::from(bytes)
        },
    )
}

/// Reads everything a batch offers, as a caller would.
fn read_everything(batch: &RecordBatch) {
    let _ = (batch.header(), batch.crc(), batch.record_count(), batch.next_offset(), batch.last_sequence());
    let _ = (batch.delete_horizon_ms(), batch.records_section(), batch.transaction_marker());
    if let Ok(records) = batch.records() {
        records.for_each(drop);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn encode_then_parse_gives_the_same_fields_and_bytes((header, records) in batch_strategy()) {
        let batch = encode(&header, &records).unwrap();
        let parsed = RecordBatch::parse(batch.as_bytes().clone()).unwrap();
        prop_assert_eq!(parsed.header(), header);
        prop_assert_eq!(parsed.record_count() as usize, records.len());
        let decoded: Vec<Record> = parsed.records().unwrap().collect();
        prop_assert_eq!(&decoded, &records);
        let reencoded = encode(&parsed.header(), &decoded).unwrap();
        prop_assert_eq!(reencoded.as_bytes(), batch.as_bytes());
    }

    #[test]
    fn compressed_batches_round_trip_as_opaque_bytes(batch in compressed_batch_strategy()) {
        let parsed = RecordBatch::parse(batch.as_bytes().clone()).unwrap();
        let again = encode_compressed(&parsed.header(), parsed.record_count(), &parsed.records_section()).unwrap();
        prop_assert_eq!(again.as_bytes(), batch.as_bytes());
        prop_assert!(parsed.records().is_err());
    }

    #[test]
    fn flipping_any_bit_the_crc_covers_is_a_crc_mismatch((header, records) in batch_strategy(), bit in any::<usize>()) {
        let mut bytes = encode(&header, &records).unwrap().into_bytes().to_vec();
        let covered_bits = (bytes.len() - 21) * 8;
        let bit = bit % covered_bits;
        bytes[21 + bit / 8] ^= 1 << (bit % 8);
        let result = RecordBatch::parse(Bytes::from(bytes));
        prop_assert!(matches!(result, Err(BatchError::CrcMismatch { .. })), "{:?}", result);
    }

    #[test]
    fn flipping_any_bit_of_the_stored_crc_is_a_crc_mismatch((header, records) in batch_strategy(), bit in 0..32usize) {
        let mut bytes = encode(&header, &records).unwrap().into_bytes().to_vec();
        bytes[17 + bit / 8] ^= 1 << (bit % 8);
        let result = RecordBatch::parse(Bytes::from(bytes));
        prop_assert!(matches!(result, Err(BatchError::CrcMismatch { .. })), "{:?}", result);
    }

    #[test]
    fn truncating_a_batch_anywhere_is_an_error((header, records) in batch_strategy()) {
        let bytes = encode(&header, &records).unwrap().into_bytes();
        for length in 0..bytes.len() {
            let needed = if length < 12 { 12 } else { bytes.len() };
            let result = RecordBatch::parse(bytes.slice(..length));
            prop_assert_eq!(result, Err(BatchError::Truncated { needed, available: length }));
        }
    }

    #[test]
    fn parsing_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        if let Ok(batch) = RecordBatch::parse(Bytes::from(bytes.clone())) {
            read_everything(&batch);
        }
        let _ = split_batches(&Bytes::from(bytes));
    }

    #[test]
    fn parsing_random_records_behind_a_valid_header_never_panics(bytes in framed_garbage_strategy()) {
        if let Ok(batch) = RecordBatch::parse(bytes.clone()) {
            read_everything(&batch);
            // What parse accepted, the iterator yields in full.
            prop_assert_eq!(batch.records().unwrap().count(), batch.record_count() as usize);
        }
    }

    #[test]
    fn parsing_batches_with_mutated_records_never_panics(bytes in mutated_records_strategy()) {
        if let Ok(batch) = RecordBatch::parse(bytes) {
            read_everything(&batch);
            prop_assert_eq!(batch.records().unwrap().count(), batch.record_count() as usize);
        }
    }

    #[test]
    fn splitting_any_prefix_of_concatenated_batches_never_panics(
        batches in proptest::collection::vec(batch_strategy(), 1..4),
        cut in any::<usize>(),
    ) {
        let batches: Vec<RecordBatch> = batches.iter().map(|(header, records)| encode(header, records).unwrap()).collect();
        let buffer = concatenate(&batches);
        let cut = cut % (buffer.len() + 1);
        let split = split_batches(&buffer.slice(..cut)).unwrap();
        prop_assert_eq!(&split.batches[..], &batches[..split.batches.len()]);
        prop_assert_eq!(split.torn_tail.is_none(), split.batches.iter().map(RecordBatch::size_bytes).sum::<usize>() == cut);
    }

    #[test]
    fn varints_round_trip_over_all_of_i32(value in any::<i32>()) {
        let mut out = Vec::new();
        write_varint(value, &mut out);
        prop_assert_eq!(out.len(), varint_size(value));
        prop_assert_eq!(read_varint(&out), Ok((value, out.len())));
    }

    #[test]
    fn varlongs_round_trip_over_all_of_i64(value in any::<i64>()) {
        let mut out = Vec::new();
        write_varlong(value, &mut out);
        prop_assert_eq!(out.len(), varlong_size(value));
        prop_assert_eq!(read_varlong(&out), Ok((value, out.len())));
    }

    #[test]
    fn reading_varints_from_arbitrary_bytes_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..12)) {
        let _ = read_varint(&bytes);
        let _ = read_varlong(&bytes);
    }
}
