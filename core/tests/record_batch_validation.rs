//! What the parser rejects and where it says the fault is; rewriting the leader-assigned
//! header fields without touching the CRC; compressed and control batches.

use bytes::Bytes;
use kafkalab_core::ids::{LeaderEpoch, Offset};
use kafkalab_core::record_batch::{
    crc32c, encode, encode_compressed, BatchAttributes, BatchError, BatchHeader, Compression, ControlError,
    ControlRecordType, EncodeError, GzipError, Record, RecordBatch, RecordError, RecordField, RecordHeader,
    TimestampType, TransactionMarker, TransactionResult, UnsupportedCompression,
};

fn text(value: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(value.as_bytes()))
}

/// A batch at offset 100 with records "a" (offset delta 0) and "b" (offset delta 1).
fn two_record_batch() -> RecordBatch {
    let records = [Record::new(0, 0, text("k"), text("a")), Record::new(1, 3, None, text("b"))];
    encode(&BatchHeader::new(Offset(100), 1_000).fitted_to(&records), &records).unwrap()
}

fn bytes_of(batch: &RecordBatch) -> Vec<u8> {
    batch.as_bytes().to_vec()
}

/// Rewrites the CRC so a deliberately malformed batch gets past the CRC check.
fn with_valid_crc(mut bytes: Vec<u8>) -> Bytes {
    let crc = crc32c::checksum(&bytes[21..]);
    bytes[17..21].copy_from_slice(&crc.to_be_bytes());
    Bytes::from(bytes)
}

fn parse(bytes: Vec<u8>) -> Result<RecordBatch, BatchError> {
    RecordBatch::parse(Bytes::from(bytes))
}

#[test]
fn a_batch_shorter_than_its_length_field_is_truncated() {
    let bytes = bytes_of(&two_record_batch());
    let size = bytes.len();
    assert_eq!(parse(bytes[..5].to_vec()), Err(BatchError::Truncated { needed: 12, available: 5 }));
    assert_eq!(parse(bytes[..size - 1].to_vec()), Err(BatchError::Truncated { needed: size, available: size - 1 }));
}

#[test]
fn bytes_after_the_batch_are_rejected() {
    let mut bytes = bytes_of(&two_record_batch());
    let batch_end = bytes.len();
    bytes.push(0);
    assert_eq!(parse(bytes), Err(BatchError::TrailingBytes { batch_end, available: batch_end + 1 }));
}

#[test]
fn a_batch_length_below_an_empty_batch_is_rejected() {
    let mut bytes = bytes_of(&two_record_batch());
    bytes[8..12].copy_from_slice(&48i32.to_be_bytes());
    assert_eq!(parse(bytes), Err(BatchError::BatchLengthTooSmall { batch_length: 48 }));
}

#[test]
fn magic_other_than_2_is_rejected_before_the_crc_is_checked() {
    let mut bytes = bytes_of(&two_record_batch());
    bytes[16] = 1;
    let error = parse(bytes).unwrap_err();
    assert_eq!(error, BatchError::UnsupportedMagic { magic: 1 });
    assert_eq!(error.to_string(), "magic byte 1 at offset 16; only magic 2 is supported");
}

#[test]
fn a_changed_byte_in_the_crc_range_is_a_crc_mismatch() {
    let batch = two_record_batch();
    let mut bytes = bytes_of(&batch);
    bytes[30] ^= 0x01;
    let error = parse(bytes.clone()).unwrap_err();
    let computed = crc32c::checksum(&bytes[21..]);
    assert_eq!(error, BatchError::CrcMismatch { stored: batch.crc(), computed });
    assert!(error.to_string().starts_with("CRC at offset 17 is "), "{error}");
}

#[test]
fn an_undefined_codec_id_is_rejected() {
    let mut bytes = bytes_of(&two_record_batch());
    bytes[22] = 0x05;
    assert_eq!(RecordBatch::parse(with_valid_crc(bytes)), Err(BatchError::UnknownCompression { id: 5 }));
}

#[test]
fn a_negative_records_count_is_rejected() {
    let mut bytes = bytes_of(&two_record_batch());
    bytes[57..61].copy_from_slice(&(-1i32).to_be_bytes());
    assert_eq!(RecordBatch::parse(with_valid_crc(bytes)), Err(BatchError::NegativeRecordCount { count: -1 }));
}

#[test]
fn a_records_count_above_the_records_present_is_rejected() {
    let mut bytes = bytes_of(&two_record_batch());
    bytes[57..61].copy_from_slice(&3i32.to_be_bytes());
    let error = RecordBatch::parse(with_valid_crc(bytes)).unwrap_err();
    assert_eq!(error, BatchError::FewerRecordsThanCount { declared: 3, found: 2 });
}

#[test]
fn a_records_count_below_the_records_present_leaves_bytes_after_the_last() {
    let mut bytes = bytes_of(&two_record_batch());
    bytes[57..61].copy_from_slice(&1i32.to_be_bytes());
    let first_record_size = 1 + 8; // length varint; attributes, two deltas, key 1+1, value 1+1, header count
    let error = RecordBatch::parse(with_valid_crc(bytes)).unwrap_err();
    assert_eq!(error, BatchError::BytesAfterLastRecord { declared: 1, position: 61 + first_record_size });
}

#[test]
fn an_offset_range_that_overflows_is_rejected() {
    let mut bytes = bytes_of(&two_record_batch());
    bytes[0..8].copy_from_slice(&i64::MAX.to_be_bytes());
    let error = parse(bytes).unwrap_err();
    assert_eq!(error, BatchError::OffsetOverflow { base_offset: i64::MAX, last_offset_delta: 1 });
}

#[test]
fn a_key_length_below_minus_one_is_rejected_at_its_offset() {
    let mut bytes = bytes_of(&two_record_batch());
    // Record 0 starts at 61: length, attributes, timestamp delta, offset delta, key length at 65.
    assert_eq!(bytes[65], 0x02);
    bytes[65] = 0x03; // zigzag -2
    let error = RecordBatch::parse(with_valid_crc(bytes)).unwrap_err();
    let field = RecordField::KeyLength;
    let expected = RecordError::InvalidLength { field, length: -2, position: 65 };
    assert_eq!(error, BatchError::Record { index: 0, error: expected });
    assert_eq!(error.to_string(), "record 0: key length -2 at offset 65 is not a valid length");
}

#[test]
fn a_record_whose_fields_end_before_its_length_is_rejected() {
    let record = Record::new(0, 0, None, text("xy"));
    let mut bytes = bytes_of(&encode(&BatchHeader::new(Offset(0), 0), &[record]).unwrap());
    // Shorten the value to one byte and make its second byte the header count: one byte of the
    // record's declared length is left over.
    assert_eq!((bytes[66], bytes[68]), (0x04, b'y'));
    bytes[66] = 0x02;
    bytes[68] = 0x00;
    let error = RecordBatch::parse(with_valid_crc(bytes)).unwrap_err();
    let expected = RecordError::LengthMismatch { declared: 8, read: 7, position: 61 };
    assert_eq!(error, BatchError::Record { index: 0, error: expected });
}

#[test]
fn a_record_length_past_the_batch_end_is_rejected() {
    let mut bytes = bytes_of(&two_record_batch());
    bytes[61] = 0x7E; // 63 bytes; the batch holds 16 after this varint
    let error = RecordBatch::parse(with_valid_crc(bytes)).unwrap_err();
    let expected = RecordError::LengthOutOfRange { length: 63, available: 16, position: 61 };
    assert_eq!(error, BatchError::Record { index: 0, error: expected });
}

#[test]
fn a_header_key_that_is_not_utf8_is_rejected() {
    let record =
        Record { headers: vec![RecordHeader { key: "ab".into(), value: None }], ..Record::new(0, 0, None, None) };
    let mut bytes = bytes_of(&encode(&BatchHeader::new(Offset(0), 0), &[record]).unwrap());
    // length, attributes, deltas, null key, null value, header count, key length: key at 69.
    assert_eq!(&bytes[69..71], b"ab");
    bytes[69] = 0xFF;
    let error = RecordBatch::parse(with_valid_crc(bytes)).unwrap_err();
    assert_eq!(error, BatchError::Record { index: 0, error: RecordError::HeaderKeyNotUtf8 { position: 69 } });
}

#[test]
fn setting_the_base_offset_changes_bytes_0_to_8_only_and_keeps_the_crc_valid() {
    let original = two_record_batch();
    let mut batch = original.clone(); // shares the buffer, so the rewrite copies
    batch.set_base_offset(Offset(5_000));
    assert_eq!(batch.base_offset(), Offset(5_000));
    assert_eq!(batch.last_offset(), Offset(5_001));
    assert_eq!(&batch.as_bytes()[8..], &original.as_bytes()[8..]);
    assert_eq!(batch.crc(), original.crc());
    assert_eq!(RecordBatch::parse(batch.as_bytes().clone()), Ok(batch.clone()));
    assert_eq!(original.base_offset(), Offset(100), "the shared original is unchanged");
}

#[test]
fn setting_the_partition_leader_epoch_changes_bytes_12_to_16_only_and_keeps_the_crc_valid() {
    let original = two_record_batch();
    let mut batch = RecordBatch::parse(Bytes::from(bytes_of(&original))).unwrap(); // sole owner: in place
    batch.set_partition_leader_epoch(LeaderEpoch(9));
    assert_eq!(batch.partition_leader_epoch(), LeaderEpoch(9));
    assert_eq!(&batch.as_bytes()[..12], &original.as_bytes()[..12]);
    assert_eq!(&batch.as_bytes()[16..], &original.as_bytes()[16..]);
    assert!(RecordBatch::parse(batch.into_bytes()).is_ok());
}

#[test]
#[should_panic(expected = "overflows")]
fn setting_a_base_offset_whose_last_offset_overflows_is_a_bug() {
    two_record_batch().set_base_offset(Offset(i64::MAX));
}

#[test]
fn a_batch_under_an_unimplemented_codec_carries_its_payload_and_refuses_to_iterate() {
    let header = BatchHeader {
        attributes: BatchAttributes::new(Compression::Snappy, TimestampType::LogAppendTime),
        ..BatchHeader::new(Offset(7), 50)
    };
    let payload = b"opaque snappy output";
    let batch = encode_compressed(&header, 3, payload).unwrap();
    let parsed = RecordBatch::parse(batch.as_bytes().clone()).unwrap();
    assert_eq!(parsed.compression(), Compression::Snappy);
    assert_eq!(parsed.timestamp_type(), TimestampType::LogAppendTime);
    assert_eq!(parsed.record_count(), 3);
    assert_eq!(parsed.records_section().as_ref(), payload);
    let error = parsed.records().err().unwrap();
    assert_eq!(error, UnsupportedCompression { compression: Compression::Snappy });
    assert_eq!(
        error.to_string(),
        "the records are compressed with snappy, which the lab does not implement (only none and gzip); they are \
         carried as opaque bytes from offset 61"
    );
}

#[test]
fn a_gzip_payload_that_is_not_gzip_is_refused_with_the_reason() {
    let header = BatchHeader {
        attributes: BatchAttributes::new(Compression::Gzip, TimestampType::CreateTime),
        ..BatchHeader::new(Offset(7), 50)
    };
    let error = encode_compressed(&header, 3, b"\x1f\x8b not really gzip").unwrap_err();
    assert_eq!(error, EncodeError::InvalidPayload(BatchError::Gzip(GzipError::UnknownMethod { method: b' ' })));
    assert_eq!(
        error.to_string(),
        "the compressed payload is invalid: the records section at offset 61: gzip compression method 32; only 8 \
         (deflate) is defined"
    );
}

#[test]
fn the_encoder_refuses_mismatched_compression() {
    let zstd = BatchHeader {
        attributes: BatchAttributes::new(Compression::Zstd, TimestampType::CreateTime),
        ..BatchHeader::new(Offset(0), 0)
    };
    assert_eq!(encode(&zstd, &[]), Err(EncodeError::UnsupportedCompression { compression: Compression::Zstd }));
    let plain = BatchHeader::new(Offset(0), 0);
    assert_eq!(encode_compressed(&plain, 1, b"x"), Err(EncodeError::PayloadNotCompressed));
    assert_eq!(encode_compressed(&zstd, -1, b"x"), Err(EncodeError::NegativeRecordCount { count: -1 }));
}

#[test]
fn an_empty_batch_is_valid_as_compaction_leaves_it() {
    let header = BatchHeader { last_offset_delta: 4, producer_id: 9, ..BatchHeader::new(Offset(10), -1) };
    let batch = encode(&header, &[]).unwrap();
    assert_eq!(batch.size_bytes(), 61);
    assert_eq!((batch.record_count(), batch.next_offset()), (0, Offset(15)));
    assert_eq!(batch.records().unwrap().count(), 0);
}

#[test]
fn the_delete_horizon_is_read_from_the_base_timestamp() {
    let header = BatchHeader {
        attributes: BatchAttributes::default().with_delete_horizon(true),
        ..BatchHeader::new(Offset(0), 86_400_000)
    };
    assert_eq!(encode(&header, &[]).unwrap().delete_horizon_ms(), Some(86_400_000));
}

#[test]
fn sequences_wrap_past_i32_max_to_zero_as_kafkas_do() {
    let header = BatchHeader { base_sequence: i32::MAX, last_offset_delta: 2, ..BatchHeader::new(Offset(0), 0) };
    assert_eq!(encode(&header, &[]).unwrap().last_sequence(), 1);
}

#[test]
fn an_abort_marker_round_trips() {
    let marker = TransactionMarker { result: TransactionResult::Abort, coordinator_epoch: -3 };
    let batch = marker.to_batch(Offset(1), 2, LeaderEpoch(3), 4, 5).unwrap();
    let parsed = RecordBatch::parse(batch.into_bytes()).unwrap();
    assert_eq!(parsed.transaction_marker(), Ok(marker));
}

#[test]
fn control_errors_say_what_the_batch_is_instead() {
    assert_eq!(two_record_batch().transaction_marker(), Err(ControlError::NotControlBatch));
    let attributes = BatchAttributes::default().with_control(true);
    let header = BatchHeader { attributes, ..BatchHeader::new(Offset(0), 0) };
    let leader_change = Record::new(0, 0, Some(Bytes::from_static(&[0, 0, 0, 2])), None);
    let batch = encode(&header, &[leader_change]).unwrap();
    let record_type = ControlRecordType::LeaderChange;
    assert_eq!(batch.transaction_marker(), Err(ControlError::NotTransactionMarker { record_type }));
    let short_key = Record::new(0, 0, Some(Bytes::from_static(&[0, 0])), None);
    let batch = encode(&header, &[short_key]).unwrap();
    assert_eq!(batch.transaction_marker(), Err(ControlError::KeyTooShort { length: Some(2) }));
    let negative_version = Record::new(0, 0, Some(Bytes::from_static(&[0xFF, 0xFF, 0, 1])), None);
    let batch = encode(&header, &[negative_version]).unwrap();
    assert_eq!(batch.transaction_marker(), Err(ControlError::NegativeVersion { version: -1 }));
}

#[test]
fn a_newer_marker_value_version_is_read_as_version_0() {
    let record =
        Record::new(0, 0, Some(Bytes::from_static(&[0, 0, 0, 0])), Some(Bytes::from_static(&[0, 1, 0, 0, 0, 8, 0xAA])));
    let marker = TransactionMarker::from_record(&record);
    assert_eq!(marker, Ok(TransactionMarker { result: TransactionResult::Abort, coordinator_epoch: 8 }));
}

#[test]
fn a_marker_at_the_largest_offset_cannot_be_written() {
    let marker = TransactionMarker { result: TransactionResult::Commit, coordinator_epoch: 0 };
    assert_eq!(marker.to_batch(Offset(i64::MAX), 0, LeaderEpoch(0), 1, 0), Err(EncodeError::OffsetOverflow));
}
