//! Record batches written out byte by byte from Kafka's format documentation
//! (<https://kafka.apache.org/documentation/#recordbatch>), and batches published by other
//! implementations: the encoder must produce exactly these bytes, and the parser must read
//! back exactly these fields.

use bytes::Bytes;
use kafkalab_core::ids::{LeaderEpoch, Offset};
use kafkalab_core::record_batch::crc32c;
use kafkalab_core::record_batch::{
    encode, BatchAttributes, BatchHeader, Compression, Record, RecordBatch, RecordHeader, TimestampType,
    TransactionMarker, TransactionResult,
};

/// Two records, the first with a null key and a header, from an idempotent producer.
#[rustfmt::skip]
const DATA_BATCH: [u8; 95] = [
    // base offset: int64 42
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2A,
    // batch length: int32 83 = 95 bytes - 12 (base offset and this field)
    0x00, 0x00, 0x00, 0x53,
    // partition leader epoch: int32 7
    0x00, 0x00, 0x00, 0x07,
    // magic: int8 2
    0x02,
    // crc: uint32, CRC-32C of bytes 21..95
    0x2D, 0x6F, 0x3E, 0x09,
    // attributes: int16 0 (no compression, create time, not transactional, not control)
    0x00, 0x00,
    // last offset delta: int32 1
    0x00, 0x00, 0x00, 0x01,
    // base timestamp: int64 1_700_000_000_000
    0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x00,
    // max timestamp: int64 1_700_000_000_005
    0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x05,
    // producer id: int64 4000
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0F, 0xA0,
    // producer epoch: int16 3
    0x00, 0x03,
    // base sequence: int32 17
    0x00, 0x00, 0x00, 0x11,
    // records count: int32 2
    0x00, 0x00, 0x00, 0x02,
    // record 0 (offset 61)
    0x2A,                         // length: varint 21 (zigzag 42)
    0x00,                         // attributes: int8 0
    0x00,                         // timestamp delta: varlong 0
    0x00,                         // offset delta: varint 0
    0x01,                         // key length: varint -1 (null key)
    0x0A,                         // value length: varint 5
    b'h', b'e', b'l', b'l', b'o', // value
    0x02,                         // header count: varint 1
    0x0A,                         // header key length: varint 5
    b't', b'r', b'a', b'c', b'e', // header key
    0x06,                         // header value length: varint 3
    b'a', b'b', b'c',             // header value
    // record 1 (offset 83)
    0x16,                         // length: varint 11 (zigzag 22)
    0x00,                         // attributes
    0x0A,                         // timestamp delta: varlong 5
    0x02,                         // offset delta: varint 1
    0x04,                         // key length: varint 2
    b'k', b'1',                   // key
    0x01,                         // value length: varint -1 (null value)
    0x02,                         // header count: varint 1
    0x02,                         // header key length: varint 1
    b'h',                         // header key
    0x01,                         // header value length: varint -1 (null)
];
const DATA_BATCH_CRC: u32 = 0x2D6F_3E09;

/// A transaction commit marker, as a transaction coordinator has the leader write it.
#[rustfmt::skip]
const COMMIT_MARKER_BATCH: [u8; 78] = [
    // base offset: int64 44
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2C,
    // batch length: int32 66
    0x00, 0x00, 0x00, 0x42,
    // partition leader epoch: int32 7
    0x00, 0x00, 0x00, 0x07,
    // magic: int8 2
    0x02,
    // crc: uint32
    0x5B, 0x8A, 0x34, 0x83,
    // attributes: int16 0x30 (transactional bit 4, control bit 5)
    0x00, 0x30,
    // last offset delta: int32 0
    0x00, 0x00, 0x00, 0x00,
    // base timestamp: int64 1_700_000_000_100
    0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x64,
    // max timestamp: int64 1_700_000_000_100
    0x00, 0x00, 0x01, 0x8B, 0xCF, 0xE5, 0x68, 0x64,
    // producer id: int64 4000
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0F, 0xA0,
    // producer epoch: int16 3
    0x00, 0x03,
    // base sequence: int32 -1 (markers carry no sequence)
    0xFF, 0xFF, 0xFF, 0xFF,
    // records count: int32 1
    0x00, 0x00, 0x00, 0x01,
    // the control record
    0x20,                   // length: varint 16
    0x00,                   // attributes
    0x00,                   // timestamp delta: 0
    0x00,                   // offset delta: 0
    0x08,                   // key length: varint 4
    0x00, 0x00,             // key: version int16 0
    0x00, 0x01,             //      type int16 1 (commit)
    0x0C,                   // value length: varint 6
    0x00, 0x00,             // value: version int16 0
    0x00, 0x00, 0x00, 0x05, //        coordinator epoch int32 5
    0x00,                   // header count: 0
];
const COMMIT_MARKER_CRC: u32 = 0x5B8A_3483;

fn text(value: &str) -> Option<Bytes> {
    Some(Bytes::copy_from_slice(value.as_bytes()))
}

fn data_batch_header() -> BatchHeader {
    BatchHeader {
        base_offset: Offset(42),
        partition_leader_epoch: LeaderEpoch(7),
        attributes: BatchAttributes::default(),
        last_offset_delta: 1,
        base_timestamp_ms: 1_700_000_000_000,
        max_timestamp_ms: 1_700_000_000_005,
        producer_id: 4000,
        producer_epoch: 3,
        base_sequence: 17,
    }
}

fn data_batch_records() -> Vec<Record> {
    let first = Record {
        headers: vec![RecordHeader { key: "trace".into(), value: text("abc") }],
        ..Record::new(0, 0, None, text("hello"))
    };
    let second =
        Record { headers: vec![RecordHeader { key: "h".into(), value: None }], ..Record::new(1, 5, text("k1"), None) };
    vec![first, second]
}

#[test]
fn crc32c_passes_the_standard_check_values_before_it_is_trusted_below() {
    assert_eq!(crc32c::checksum(b"123456789"), 0xE306_9283);
    assert_eq!(crc32c::checksum(&[0u8; 32]), 0x8A91_36AA);
    assert_eq!(crc32c::checksum(&[0xFFu8; 32]), 0x62A8_AB43);
    assert_eq!(crc32c::checksum(&core::array::from_fn::<u8, 32, _>(|index| index as u8)), 0x46DD_794E);
}

#[test]
fn the_crc_covers_attributes_to_the_end() {
    assert_eq!(crc32c::checksum(&DATA_BATCH[21..]), DATA_BATCH_CRC);
    assert_eq!(crc32c::checksum(&COMMIT_MARKER_BATCH[21..]), COMMIT_MARKER_CRC);
}

#[test]
fn encoding_the_data_batch_gives_the_documented_bytes() {
    let batch = encode(&data_batch_header(), &data_batch_records()).unwrap();
    assert_eq!(batch.as_bytes().as_ref(), DATA_BATCH);
    assert_eq!(batch.crc(), DATA_BATCH_CRC);
}

#[test]
fn fitting_the_header_to_the_records_derives_last_offset_delta_and_max_timestamp() {
    let records = data_batch_records();
    let header = BatchHeader {
        partition_leader_epoch: LeaderEpoch(7),
        producer_id: 4000,
        producer_epoch: 3,
        base_sequence: 17,
        ..BatchHeader::new(Offset(42), 1_700_000_000_000)
    }
    .fitted_to(&records);
    assert_eq!(header, data_batch_header());
}

#[test]
fn parsing_the_data_batch_gives_every_field() {
    let batch = RecordBatch::parse(Bytes::from_static(&DATA_BATCH)).unwrap();
    assert_eq!(batch.base_offset(), Offset(42));
    assert_eq!(batch.batch_length(), 83);
    assert_eq!(batch.partition_leader_epoch(), LeaderEpoch(7));
    assert_eq!(batch.magic(), 2);
    assert_eq!(batch.crc(), DATA_BATCH_CRC);
    assert_eq!(batch.compression(), Compression::None);
    assert_eq!(batch.timestamp_type(), TimestampType::CreateTime);
    assert!(!batch.is_transactional() && !batch.is_control());
    assert_eq!(batch.delete_horizon_ms(), None);
    assert_eq!(batch.last_offset_delta(), 1);
    assert_eq!(batch.base_timestamp_ms(), 1_700_000_000_000);
    assert_eq!(batch.max_timestamp_ms(), 1_700_000_000_005);
    assert_eq!((batch.producer_id(), batch.producer_epoch()), (4000, 3));
    assert_eq!((batch.base_sequence(), batch.last_sequence()), (17, 18));
    assert_eq!(batch.record_count(), 2);
    assert_eq!((batch.last_offset(), batch.next_offset()), (Offset(43), Offset(44)));
    assert_eq!(batch.size_bytes(), 95);
    assert_eq!(batch.header(), data_batch_header());
    let records: Vec<Record> = batch.records().unwrap().collect();
    assert_eq!(records, data_batch_records());
    assert_eq!(records[1].offset(batch.base_offset()), Offset(43));
}

#[test]
fn the_commit_marker_batch_is_written_as_kafka_writes_end_transaction_markers() {
    let marker = TransactionMarker { result: TransactionResult::Commit, coordinator_epoch: 5 };
    let batch = marker.to_batch(Offset(44), 1_700_000_000_100, LeaderEpoch(7), 4000, 3).unwrap();
    assert_eq!(batch.as_bytes().as_ref(), COMMIT_MARKER_BATCH);
    assert_eq!(batch.crc(), COMMIT_MARKER_CRC);
}

#[test]
fn the_commit_marker_batch_encodes_from_its_header_and_record() {
    let header = RecordBatch::parse(Bytes::from_static(&COMMIT_MARKER_BATCH)).unwrap().header();
    let marker = TransactionMarker { result: TransactionResult::Commit, coordinator_epoch: 5 };
    let batch = encode(&header, &[marker.to_record()]).unwrap();
    assert_eq!(batch.as_bytes().as_ref(), COMMIT_MARKER_BATCH);
}

#[test]
fn parsing_the_commit_marker_batch_gives_a_typed_marker() {
    let batch = RecordBatch::parse(Bytes::from_static(&COMMIT_MARKER_BATCH)).unwrap();
    assert!(batch.is_control() && batch.is_transactional());
    assert_eq!(batch.base_sequence(), -1);
    assert_eq!(batch.last_sequence(), -1);
    assert_eq!(batch.attributes(), BatchAttributes::default().with_transactional(true).with_control(true));
    assert_eq!(
        batch.transaction_marker(),
        Ok(TransactionMarker { result: TransactionResult::Commit, coordinator_epoch: 5 })
    );
}

/// From the `kafka-protocol` crate 0.18.0, `tests/all_tests/fetch_response.rs`: the batch in its
/// `FIRST_RECORD` fetch response, key "hello", value "world". Its record has attributes 1 and
/// its header says last offset delta 3 for one record: unusual, but the CRC is valid and the
/// format allows both, so it must parse and re-encode unchanged.
#[rustfmt::skip]
const KAFKA_PROTOCOL_FETCH_BATCH: [u8; 79] = [
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // base offset 0
    0x00, 0x00, 0x00, 0x43,                         // batch length 67
    0x00, 0x00, 0x00, 0x00,                         // partition leader epoch 0
    0x02,                                           // magic
    0x73, 0x6D, 0x29, 0x7B,                         // crc
    0x00, 0x00,                                     // attributes
    0x00, 0x00, 0x00, 0x03,                         // last offset delta 3
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // base timestamp 0
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, // max timestamp 2^40
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // producer id 0
    0x00, 0x00,                                     // producer epoch 0
    0x00, 0x00, 0x00, 0x00,                         // base sequence 0
    0x00, 0x00, 0x00, 0x01,                         // records count 1
    0x22, 0x01, 0xD0, 0x0F, 0x02,                   // length 17, attributes 1, timestamp delta 1000, offset delta 1
    0x0A, b'h', b'e', b'l', b'l', b'o',             // key
    0x0A, b'w', b'o', b'r', b'l', b'd',             // value
    0x00,                                           // no headers
];

/// A batch from an idempotent producer (producer id 1, leader epoch -1 as sent in a Produce
/// request) that several public Kafka-protocol projects use as a fixture.
#[rustfmt::skip]
const PRODUCED_BATCH: [u8; 94] = [
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // base offset 0
    0x00, 0x00, 0x00, 0x52,                         // batch length 82
    0xFF, 0xFF, 0xFF, 0xFF,                         // partition leader epoch -1
    0x02,                                           // magic
    0xE2, 0x3F, 0xC9, 0x74,                         // crc
    0x00, 0x00,                                     // attributes
    0x00, 0x00, 0x00, 0x00,                         // last offset delta 0
    0x00, 0x00, 0x01, 0x89, 0xAF, 0x78, 0x40, 0x72, // base timestamp
    0x00, 0x00, 0x01, 0x89, 0xAF, 0x78, 0x40, 0x72, // max timestamp
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, // producer id 1
    0x00, 0x00,                                     // producer epoch 0
    0x00, 0x00, 0x00, 0x00,                         // base sequence 0
    0x00, 0x00, 0x00, 0x01,                         // records count 1
    0x40, 0x00, 0x00, 0x00,                         // length 32, attributes, timestamp delta, offset delta
    0x01,                                           // null key
    0x34,                                           // value length 26
    b'T', b'h', b'i', b's', b' ', b'i', b's', b' ', b't', b'h', b'e', b' ', b'f',
    b'i', b'r', b's', b't', b' ', b'm', b'e', b's', b's', b'a', b'g', b'e', b'.',
    0x00,                                           // no headers
];

fn reencode(batch: &RecordBatch) -> Bytes {
    let records: Vec<Record> = batch.records().unwrap().collect();
    encode(&batch.header(), &records).unwrap().into_bytes()
}

#[test]
fn the_kafka_protocol_crates_fetch_batch_parses_and_reencodes_byte_for_byte() {
    let batch = RecordBatch::parse(Bytes::from_static(&KAFKA_PROTOCOL_FETCH_BATCH)).unwrap();
    assert_eq!(batch.crc(), 0x736D_297B);
    assert_eq!((batch.last_offset_delta(), batch.max_timestamp_ms()), (3, 1 << 40));
    let records: Vec<Record> = batch.records().unwrap().collect();
    assert_eq!(records, vec![Record { attributes: 1, ..Record::new(1, 1000, text("hello"), text("world")) }]);
    assert_eq!(reencode(&batch).as_ref(), KAFKA_PROTOCOL_FETCH_BATCH);
}

#[test]
fn the_produced_fixture_batch_parses_and_reencodes_byte_for_byte() {
    let batch = RecordBatch::parse(Bytes::from_static(&PRODUCED_BATCH)).unwrap();
    assert_eq!(batch.crc(), 0xE23F_C974);
    assert_eq!(batch.partition_leader_epoch(), LeaderEpoch(-1));
    assert_eq!((batch.producer_id(), batch.producer_epoch(), batch.base_sequence()), (1, 0, 0));
    assert_eq!(batch.base_timestamp_ms(), 0x0189_AF78_4072);
    let records: Vec<Record> = batch.records().unwrap().collect();
    assert_eq!(records, vec![Record::new(0, 0, None, text("This is the first message."))]);
    assert_eq!(reencode(&batch).as_ref(), PRODUCED_BATCH);
}
