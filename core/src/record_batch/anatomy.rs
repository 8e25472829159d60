//! A stored batch's bytes, labelled: which byte ranges hold which field of Kafka's record batch
//! v2 layout, and what each says. The page draws it as a hex dump with the fields named.
//!
//! The walk reads the header at its fixed positions ([`super::header`]) and the records with
//! the same [`Cursor`] the decoder uses, so a field's range is exactly what the decoder read.
//! For an uncompressed batch the fields tile the batch: every byte belongs to exactly one field,
//! in order. A compressed batch's records section is one field, the codec's payload; its
//! records, decompressed (gzip only: the lab does not implement the other codecs), are labelled
//! separately in [`CompressedRecords`], their ranges counted within the decompressed bytes.
//! Field names are Kafka's (`baseOffset`, `producerId`, `timestampDelta`, ...), as in
//! <https://kafka.apache.org/documentation/#recordbatch>.

use alloc::borrow::ToOwned;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;
use core::ops::Range;

use super::attributes::{BatchAttributes, Compression, TimestampType};
use super::batch::{read_i16, read_i32, read_i64, read_u16, read_u32, RecordBatch};
use super::cursor::Cursor;
use super::error::{RecordError, RecordField};
use super::gzip;
use super::header::*;

/// What a field is, so the page can colour fields of one kind alike.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FieldKind {
    /// `baseOffset`, `lastOffsetDelta`, a record's `offsetDelta`.
    Offset,
    /// `batchLength`, a record's `length` and the lengths of keys, values and header parts.
    Length,
    /// `partitionLeaderEpoch`.
    LeaderEpoch,
    /// `magic`.
    Magic,
    /// `crc`.
    Crc,
    /// The batch's and a record's `attributes`.
    Attributes,
    /// `baseTimestamp`, `maxTimestamp`, a record's `timestampDelta`.
    Timestamp,
    /// `producerId`, `producerEpoch`, `baseSequence`.
    Producer,
    /// `recordsCount` and a record's `headersCount`.
    Count,
    Key,
    Value,
    /// A record header's key or value.
    Header,
    /// A compressed batch's records section, as the codec wrote it.
    CompressedRecords,
}

impl FieldKind {
    /// Every kind, in the order the page lists them in its legend.
    pub const ALL: [FieldKind; 13] = [
        FieldKind::Offset,
        FieldKind::Length,
        FieldKind::LeaderEpoch,
        FieldKind::Magic,
        FieldKind::Crc,
        FieldKind::Attributes,
        FieldKind::Timestamp,
        FieldKind::Producer,
        FieldKind::Count,
        FieldKind::Key,
        FieldKind::Value,
        FieldKind::Header,
        FieldKind::CompressedRecords,
    ];

    /// A short lower-case name, also usable as a CSS class: `offset`, `producer`, `key`, ...
    pub const fn name(self) -> &'static str {
        match self {
            FieldKind::Offset => "offset",
            FieldKind::Length => "length",
            FieldKind::LeaderEpoch => "leader-epoch",
            FieldKind::Magic => "magic",
            FieldKind::Crc => "crc",
            FieldKind::Attributes => "attributes",
            FieldKind::Timestamp => "timestamp",
            FieldKind::Producer => "producer",
            FieldKind::Count => "count",
            FieldKind::Key => "key",
            FieldKind::Value => "value",
            FieldKind::Header => "header",
            FieldKind::CompressedRecords => "compressed",
        }
    }
}

/// One field of a batch: where its bytes are and what they say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchField {
    /// Kafka's name for it: `baseOffset`, `producerId`, `key`, `headerValue`, ...
    pub name: &'static str,
    pub kind: FieldKind,
    /// Its bytes: within the batch, or for [`CompressedRecords`] within the decompressed records.
    pub range: Range<usize>,
    /// What it says, for people: `4000`, `"alice"`, `-1 (null)`, `0x0010: none, CreateTime, ...`.
    pub value: String,
    /// The index of the record it belongs to; `None` for the batch header's fields.
    pub record: Option<usize>,
}

impl fmt::Display for BatchField {
    /// `producerId 4000`, `key "alice"`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.name, self.value)
    }
}

/// A compressed batch's records, decompressed and labelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CompressedRecords {
    pub compression: Compression,
    /// The records section once decompressed.
    pub decompressed: Bytes,
    /// Its fields, tiling `decompressed`.
    pub fields: Vec<BatchField>,
}

/// A batch's bytes with every field labelled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchAnatomy {
    /// The batch's bytes, exactly as stored.
    pub bytes: Bytes,
    /// The fields in byte order, tiling `bytes`: the header's, then each record's (or, for a
    /// compressed batch, one field for the compressed records).
    pub fields: Vec<BatchField>,
    /// A gzip batch's records, decompressed and labelled; `None` for an uncompressed batch and
    /// for codecs the lab does not implement.
    pub compressed: Option<CompressedRecords>,
}

impl BatchAnatomy {
    /// Labels every byte of `batch`.
    pub fn of(batch: &RecordBatch) -> BatchAnatomy {
        let bytes = batch.as_bytes().clone();
        let mut fields = header_fields(&bytes);
        let count = batch.record_count();
        let context =
            RecordContext { base_offset: batch.base_offset().0, base_timestamp_ms: batch.base_timestamp_ms() };
        let compression = batch.compression();
        let compressed = match compression {
            Compression::None => {
                walk_records(&bytes, RECORDS_POSITION, count, context, &mut fields);
                None
            }
            _ => {
                let payload = RECORDS_POSITION..bytes.len();
                let value = format!("{} bytes of {compression}-compressed records", payload.len());
                fields.push(BatchField {
                    name: "records",
                    kind: FieldKind::CompressedRecords,
                    range: payload,
                    value,
                    record: None,
                });
                decompress(&bytes, compression).map(|decompressed| {
                    let mut fields = Vec::new();
                    walk_records(&decompressed, 0, count, context, &mut fields);
                    CompressedRecords { compression, decompressed, fields }
                })
            }
        };
        BatchAnatomy { bytes, fields, compressed }
    }

    /// The field holding byte `position` of the batch.
    pub fn field_at(&self, position: usize) -> Option<&BatchField> {
        let index = self.fields.partition_point(|field| field.range.end <= position);
        self.fields.get(index).filter(|field| field.range.contains(&position))
    }
}

/// A gzip batch's records section, decompressed again (the batch checked it when parsed).
fn decompress(bytes: &Bytes, compression: Compression) -> Option<Bytes> {
    match compression {
        Compression::Gzip => {
            gzip::decompress(&bytes[RECORDS_POSITION..], gzip::MAX_DECOMPRESSED_BYTES).ok().map(Bytes::from)
        }
        _ => None,
    }
}

/// The 61 bytes of the header, at their fixed positions.
fn header_fields(bytes: &[u8]) -> Vec<BatchField> {
    let field = |name, kind, position: usize, size: usize, value: String| BatchField {
        name,
        kind,
        range: position..position + size,
        value,
        record: None,
    };
    let attributes_bits = read_u16(bytes, ATTRIBUTES_POSITION);
    alloc::vec![
        field(
            "baseOffset",
            FieldKind::Offset,
            BASE_OFFSET_POSITION,
            8,
            read_i64(bytes, BASE_OFFSET_POSITION).to_string()
        ),
        field(
            "batchLength",
            FieldKind::Length,
            BATCH_LENGTH_POSITION,
            4,
            format!("{} bytes follow", read_i32(bytes, BATCH_LENGTH_POSITION))
        ),
        field(
            "partitionLeaderEpoch",
            FieldKind::LeaderEpoch,
            PARTITION_LEADER_EPOCH_POSITION,
            4,
            or_none(read_i32(bytes, PARTITION_LEADER_EPOCH_POSITION).into()),
        ),
        field("magic", FieldKind::Magic, MAGIC_POSITION, 1, (bytes[MAGIC_POSITION] as i8).to_string()),
        field(
            "crc",
            FieldKind::Crc,
            CRC_POSITION,
            4,
            format!("0x{:08x} (CRC-32C of attributes to the end)", read_u32(bytes, CRC_POSITION))
        ),
        field("attributes", FieldKind::Attributes, ATTRIBUTES_POSITION, 2, describe_attributes(attributes_bits)),
        field(
            "lastOffsetDelta",
            FieldKind::Offset,
            LAST_OFFSET_DELTA_POSITION,
            4,
            read_i32(bytes, LAST_OFFSET_DELTA_POSITION).to_string()
        ),
        field(
            "baseTimestamp",
            FieldKind::Timestamp,
            BASE_TIMESTAMP_POSITION,
            8,
            format!("{} ms", read_i64(bytes, BASE_TIMESTAMP_POSITION))
        ),
        field(
            "maxTimestamp",
            FieldKind::Timestamp,
            MAX_TIMESTAMP_POSITION,
            8,
            format!("{} ms", read_i64(bytes, MAX_TIMESTAMP_POSITION))
        ),
        field(
            "producerId",
            FieldKind::Producer,
            PRODUCER_ID_POSITION,
            8,
            or_none(read_i64(bytes, PRODUCER_ID_POSITION))
        ),
        field(
            "producerEpoch",
            FieldKind::Producer,
            PRODUCER_EPOCH_POSITION,
            2,
            or_none(read_i16(bytes, PRODUCER_EPOCH_POSITION).into())
        ),
        field(
            "baseSequence",
            FieldKind::Producer,
            BASE_SEQUENCE_POSITION,
            4,
            or_none(read_i32(bytes, BASE_SEQUENCE_POSITION).into())
        ),
        field(
            "recordsCount",
            FieldKind::Count,
            RECORDS_COUNT_POSITION,
            4,
            read_i32(bytes, RECORDS_COUNT_POSITION).to_string()
        ),
    ]
}

/// `-1` is Kafka's "none" for producer ids, epochs, sequences and leader epochs.
fn or_none(value: i64) -> String {
    if value == -1 {
        "-1 (none)".to_owned()
    } else {
        value.to_string()
    }
}

/// `0x0010: compression none, CreateTime, transactional, not control`.
fn describe_attributes(bits: u16) -> String {
    let Ok(attributes) = BatchAttributes::from_bits(bits) else { unreachable!("a parsed batch has a defined codec") };
    let timestamp_type = match attributes.timestamp_type() {
        TimestampType::CreateTime => "CreateTime",
        TimestampType::LogAppendTime => "LogAppendTime",
    };
    let transactional = if attributes.is_transactional() { "transactional" } else { "not transactional" };
    let control = if attributes.is_control() { "control" } else { "not control" };
    let horizon = if attributes.has_delete_horizon() { ", delete horizon" } else { "" };
    format!(
        "0x{bits:04x}: compression {}, {timestamp_type}, {transactional}, {control}{horizon}",
        attributes.compression()
    )
}

/// What a record's relative fields are relative to.
#[derive(Clone, Copy)]
struct RecordContext {
    base_offset: i64,
    base_timestamp_ms: i64,
}

/// Labels `count` records from `start` to the end of `bytes`, which a parse has validated.
fn walk_records(bytes: &Bytes, start: usize, count: i32, context: RecordContext, out: &mut Vec<BatchField>) {
    let mut cursor = Cursor::new(bytes, start, bytes.len());
    for index in 0..count.max(0) as usize {
        walk_record(&mut cursor, index, context, out)
            .unwrap_or_else(|error| unreachable!("parse validated it: {error}"));
    }
    debug_assert_eq!(cursor.remaining(), 0, "the records fill the section");
}

/// Labels one record's fields, reading them as `Record::read` does.
fn walk_record(
    cursor: &mut Cursor<'_>,
    index: usize,
    context: RecordContext,
    out: &mut Vec<BatchField>,
) -> Result<(), RecordError> {
    let mut labeller = Labeller { record: index, out };
    let length = labeller
        .varint(cursor, "length", FieldKind::Length, RecordField::Length, |length| format!("{length} bytes follow"))?;
    let mut body = cursor.split_off(length as usize);
    let start = body.position();
    let attributes = body.read_u8(RecordField::Attributes)?;
    labeller.push("attributes", FieldKind::Attributes, start..body.position(), format!("{attributes} (unused)"));
    let start = body.position();
    let timestamp_delta = body.read_varlong(RecordField::TimestampDelta)?;
    let timestamp_ms = context.base_timestamp_ms.wrapping_add(timestamp_delta);
    labeller.push(
        "timestampDelta",
        FieldKind::Timestamp,
        start..body.position(),
        format!("{timestamp_delta} (at {timestamp_ms} ms)"),
    );
    labeller.varint(&mut body, "offsetDelta", FieldKind::Offset, RecordField::OffsetDelta, |delta| {
        format!("{delta} (offset {})", context.base_offset.wrapping_add(delta.into()))
    })?;
    labeller.nullable(&mut body, ("keyLength", RecordField::KeyLength), ("key", RecordField::Key), FieldKind::Key)?;
    labeller.nullable(
        &mut body,
        ("valueLength", RecordField::ValueLength),
        ("value", RecordField::Value),
        FieldKind::Value,
    )?;
    let headers = labeller
        .varint(&mut body, "headersCount", FieldKind::Count, RecordField::HeaderCount, |count| count.to_string())?;
    for _ in 0..headers {
        labeller.nullable(
            &mut body,
            ("headerKeyLength", RecordField::HeaderKeyLength),
            ("headerKey", RecordField::HeaderKey),
            FieldKind::Header,
        )?;
        labeller.nullable(
            &mut body,
            ("headerValueLength", RecordField::HeaderValueLength),
            ("headerValue", RecordField::HeaderValue),
            FieldKind::Header,
        )?;
    }
    Ok(())
}

/// Pushes one record's fields as the cursor reads them.
struct Labeller<'a> {
    record: usize,
    out: &'a mut Vec<BatchField>,
}

impl Labeller<'_> {
    fn push(&mut self, name: &'static str, kind: FieldKind, range: Range<usize>, value: String) {
        debug_assert!(self.out.last().is_none_or(|last| last.range.end == range.start), "fields tile the bytes");
        self.out.push(BatchField { name, kind, range, value, record: Some(self.record) });
    }

    fn varint(
        &mut self,
        cursor: &mut Cursor<'_>,
        name: &'static str,
        kind: FieldKind,
        field: RecordField,
        show: impl FnOnce(i32) -> String,
    ) -> Result<i32, RecordError> {
        let start = cursor.position();
        let value = cursor.read_varint(field)?;
        self.push(name, kind, start..cursor.position(), show(value));
        Ok(value)
    }

    /// A length (`-1` for null) and, unless null or empty, the bytes it counts.
    fn nullable(
        &mut self,
        cursor: &mut Cursor<'_>,
        (length_name, length_field): (&'static str, RecordField),
        (data_name, data_field): (&'static str, RecordField),
        kind: FieldKind,
    ) -> Result<(), RecordError> {
        let show_length = |length: i32| if length == -1 { "-1 (null)".to_owned() } else { length.to_string() };
        let length = self.varint(cursor, length_name, FieldKind::Length, length_field, show_length)?;
        if length > 0 {
            let start = cursor.position();
            let data = cursor.take(length as usize, data_field)?;
            self.push(data_name, kind, start..cursor.position(), quoted(&data));
        }
        Ok(())
    }
}

/// The most characters of a key or value shown.
const MAX_SHOWN_CHARS: usize = 60;

/// Bytes as a quoted string, invalid UTF-8 replaced and control characters escaped.
fn quoted(data: &[u8]) -> String {
    let text = String::from_utf8_lossy(data);
    let shown: String = text.chars().take(MAX_SHOWN_CHARS).collect();
    let ellipsis = if text.chars().count() > MAX_SHOWN_CHARS { "…" } else { "" };
    format!("{shown:?}{ellipsis}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::Offset;
    use crate::record_batch::test_batches::{batch_of, marker};
    use crate::record_batch::{encode, BatchHeader, Record, RecordHeader, TransactionResult};
    use alloc::vec;

    fn record(offset_delta: i32, key: Option<&str>, value: Option<&str>) -> Record {
        let bytes = |s: &str| Bytes::from(s.as_bytes().to_vec());
        Record::new(offset_delta, offset_delta as i64 * 5, key.map(bytes), value.map(bytes))
    }

    /// Every byte of `0..len` lies in exactly one field, in order.
    fn assert_tiles(fields: &[BatchField], len: usize) {
        let mut next = 0;
        for field in fields {
            assert_eq!(field.range.start, next, "{} starts where the previous field ends", field.name);
            assert!(field.range.end > field.range.start, "{} is not empty", field.name);
            next = field.range.end;
        }
        assert_eq!(next, len, "the fields reach the end");
    }

    fn find<'a>(fields: &'a [BatchField], name: &str, record: Option<usize>) -> &'a BatchField {
        fields
            .iter()
            .find(|f| f.name == name && f.record == record)
            .unwrap_or_else(|| panic!("no {name} of {record:?}"))
    }

    #[test]
    fn an_idempotent_batchs_fields_tile_its_bytes_and_say_what_the_header_holds() {
        let records = vec![record(0, Some("alice"), Some("10")), record(1, None, Some("11"))];
        let mut header = BatchHeader::new(Offset(5), 1_000).fitted_to(&records);
        (header.producer_id, header.producer_epoch, header.base_sequence) = (4000, 2, 7);
        let batch = encode(&header, &records).unwrap();
        let anatomy = BatchAnatomy::of(&batch);
        assert_eq!(anatomy.bytes.len(), batch.batch_length() as usize + 12);
        assert_tiles(&anatomy.fields, anatomy.bytes.len());
        assert!(anatomy.compressed.is_none());
        assert_eq!(find(&anatomy.fields, "producerId", None).to_string(), "producerId 4000");
        assert_eq!(find(&anatomy.fields, "producerEpoch", None).value, "2");
        assert_eq!(find(&anatomy.fields, "baseSequence", None).value, "7");
        assert_eq!(find(&anatomy.fields, "baseOffset", None).value, "5");
        assert_eq!(find(&anatomy.fields, "magic", None).range, 16..17);
        assert_eq!(find(&anatomy.fields, "recordsCount", None).value, "2");
        assert_eq!(find(&anatomy.fields, "key", Some(0)).to_string(), "key \"alice\"");
        assert_eq!(find(&anatomy.fields, "value", Some(1)).value, "\"11\"");
        assert_eq!(find(&anatomy.fields, "keyLength", Some(1)).value, "-1 (null)");
        assert!(!anatomy.fields.iter().any(|f| f.name == "key" && f.record == Some(1)), "a null key has no bytes");
        assert_eq!(find(&anatomy.fields, "offsetDelta", Some(1)).value, "1 (offset 6)");
        assert_eq!(find(&anatomy.fields, "timestampDelta", Some(1)).value, "5 (at 1005 ms)");
    }

    #[test]
    fn a_keys_range_holds_exactly_the_key_bytes() {
        let batch = batch_of(0, vec![record(0, Some("bob"), Some("v"))], None);
        let anatomy = BatchAnatomy::of(&batch);
        let key = find(&anatomy.fields, "key", Some(0));
        assert_eq!(&anatomy.bytes[key.range.clone()], b"bob");
        assert_eq!(anatomy.field_at(key.range.start), Some(key));
        assert_eq!(anatomy.field_at(0).map(|f| f.name), Some("baseOffset"));
        assert_eq!(anatomy.field_at(anatomy.bytes.len()), None);
    }

    #[test]
    fn header_key_and_value_are_labelled_within_their_record() {
        let mut with_headers = record(0, Some("k"), Some("v"));
        with_headers.headers = vec![
            RecordHeader { key: "trace".into(), value: Some(Bytes::from_static(b"abc")) },
            RecordHeader { key: "empty".into(), value: None },
        ];
        let batch = batch_of(0, vec![with_headers], None);
        let anatomy = BatchAnatomy::of(&batch);
        assert_tiles(&anatomy.fields, anatomy.bytes.len());
        assert_eq!(find(&anatomy.fields, "headersCount", Some(0)).value, "2");
        let header_keys: Vec<&str> =
            anatomy.fields.iter().filter(|f| f.name == "headerKey").map(|f| f.value.as_str()).collect();
        assert_eq!(header_keys, ["\"trace\"", "\"empty\""]);
        assert_eq!(find(&anatomy.fields, "headerValue", Some(0)).value, "\"abc\"");
        assert_eq!(
            anatomy.fields.iter().filter(|f| f.name == "headerValueLength" && f.value == "-1 (null)").count(),
            1
        );
    }

    #[test]
    fn the_attributes_say_compression_transactional_and_control() {
        let transactional = BatchAnatomy::of(&batch_of(0, vec![record(0, None, Some("v"))], Some(9)));
        let attributes = find(&transactional.fields, "attributes", None);
        assert_eq!(attributes.value, "0x0010: compression none, CreateTime, transactional, not control");
        let commit = BatchAnatomy::of(&marker(3, 9, TransactionResult::Commit));
        assert_tiles(&commit.fields, commit.bytes.len());
        assert!(find(&commit.fields, "attributes", None).value.contains("transactional, control"));
    }

    #[test]
    fn a_gzip_batchs_records_are_one_payload_field_and_are_labelled_after_decompressing() {
        let records = vec![record(0, Some("alice"), Some("10")), record(1, Some("carol"), Some("12"))];
        let mut header = BatchHeader::new(Offset(0), 0).fitted_to(&records);
        header.attributes = BatchAttributes::new(Compression::Gzip, TimestampType::CreateTime);
        let batch = encode(&header, &records).unwrap();
        let anatomy = BatchAnatomy::of(&batch);
        assert_tiles(&anatomy.fields, anatomy.bytes.len());
        let payload = anatomy.fields.last().unwrap();
        assert_eq!((payload.kind, payload.range.start), (FieldKind::CompressedRecords, RECORDS_POSITION));
        let compressed = anatomy.compressed.expect("gzip is decompressed");
        assert_tiles(&compressed.fields, compressed.decompressed.len());
        let key = find(&compressed.fields, "key", Some(1));
        assert_eq!((key.value.as_str(), &compressed.decompressed[key.range.clone()]), ("\"carol\"", &b"carol"[..]));
    }

    #[test]
    fn long_or_binary_values_are_shortened_and_escaped() {
        assert_eq!(quoted(b"a\nb"), "\"a\\nb\"");
        assert_eq!(quoted(&[0xff]), "\"\u{fffd}\"");
        let long = [b'x'; 70];
        assert!(quoted(&long).ends_with("\"…") && quoted(&long).len() < 70);
    }
}
