//! A batch's bytes as the inspector shows them: rows of 16 bytes with their position, each
//! byte tagged with the field of the [`BatchAnatomy`] it belongs to, a table of the fields and
//! a legend of the kinds present (plain Rust, tested on the host; `inspector` draws it).
//!
//! Colour is never the only cue: the first byte of every field is marked (the page draws a
//! bar before it), and every byte names its field on hover and in the field table.

use kafkalab_core::record_batch::{BatchAnatomy, BatchField, FieldKind};

/// Bytes per row, as `xxd` and `hexdump -C` show them.
pub const BYTES_PER_ROW: usize = 16;

/// One byte of the dump.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexByte {
    /// Its position in the batch.
    pub position: usize,
    /// Two lower-case hex digits.
    pub hex: String,
    /// The index of its field in [`BatchAnatomy::fields`].
    pub field: usize,
    /// The first byte of its field.
    pub starts_field: bool,
    /// The field's kind, as a CSS class suffix (`offset`, `key`, ...).
    pub kind: &'static str,
}

/// One row of 16 bytes (fewer on the last).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexRow {
    /// The position of its first byte, as four hex digits (`0030`).
    pub offset: String,
    pub bytes: Vec<HexByte>,
}

/// One field, as a row of the field table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldRow {
    /// Its index in [`BatchAnatomy::fields`].
    pub index: usize,
    pub name: &'static str,
    pub kind: &'static str,
    /// `header` or `record 0`.
    pub part: String,
    /// Its byte positions: `0–7`, or `16` for one byte.
    pub bytes: String,
    pub value: String,
    /// What its bytes say when hovered: `baseOffset 5 (bytes 0–7)`.
    pub title: String,
}

/// A kind of field present in the batch, for the legend.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LegendEntry {
    pub kind: &'static str,
    /// What it covers, for people: `offsets`, `producer id, epoch, sequence`, ...
    pub label: &'static str,
}

/// Everything the hex dump draws for one batch.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HexDump {
    pub rows: Vec<HexRow>,
    pub fields: Vec<FieldRow>,
    pub legend: Vec<LegendEntry>,
    /// The batch's size: batch length plus the 12 bytes before it counts.
    pub size_bytes: usize,
    /// For a compressed batch: how its records read once decompressed (gzip only).
    pub decompressed_fields: Vec<FieldRow>,
}

/// Two hex digits, lower case.
pub fn hex_byte(byte: u8) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(2);
    text.push(DIGITS[usize::from(byte >> 4)] as char);
    text.push(DIGITS[usize::from(byte & 0x0f)] as char);
    text
}

/// A byte position as four hex digits (more if it needs them).
pub fn position_label(position: usize) -> String {
    format!("{position:04x}")
}

/// `0–7`, or `16` for a single byte.
pub fn byte_range_label(field: &BatchField) -> String {
    let last = field.range.end.saturating_sub(1);
    if last == field.range.start {
        field.range.start.to_string()
    } else {
        format!("{}–{last}", field.range.start)
    }
}

/// The legend's words for a kind.
pub fn kind_label(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Offset => "offsets",
        FieldKind::Length => "lengths",
        FieldKind::LeaderEpoch => "leader epoch",
        FieldKind::Magic => "magic (format version)",
        FieldKind::Crc => "CRC-32C",
        FieldKind::Attributes => "attributes",
        FieldKind::Timestamp => "timestamps",
        FieldKind::Producer => "producer id, epoch, sequence",
        FieldKind::Count => "counts",
        FieldKind::Key => "key",
        FieldKind::Value => "value",
        FieldKind::Header => "record headers",
        FieldKind::CompressedRecords => "compressed records",
    }
}

impl HexDump {
    /// The dump of a labelled batch.
    pub fn of(anatomy: &BatchAnatomy) -> HexDump {
        let fields: Vec<FieldRow> = field_rows(&anatomy.fields);
        let mut rows: Vec<HexRow> = Vec::with_capacity(anatomy.bytes.len().div_ceil(BYTES_PER_ROW));
        let mut field = 0;
        for (position, &byte) in anatomy.bytes.iter().enumerate() {
            while anatomy.fields[field].range.end <= position {
                field += 1;
            }
            if position % BYTES_PER_ROW == 0 {
                rows.push(HexRow { offset: position_label(position), bytes: Vec::with_capacity(BYTES_PER_ROW) });
            }
            let starts_field = anatomy.fields[field].range.start == position;
            let kind = anatomy.fields[field].kind.name();
            let cell = HexByte { position, hex: hex_byte(byte), field, starts_field, kind };
            rows.last_mut().expect("a row was started").bytes.push(cell);
        }
        let legend = FieldKind::ALL
            .into_iter()
            .filter(|kind| anatomy.fields.iter().any(|f| f.kind == *kind))
            .map(|kind| LegendEntry { kind: kind.name(), label: kind_label(kind) })
            .collect();
        let decompressed_fields = anatomy.compressed.as_ref().map(|c| field_rows(&c.fields)).unwrap_or_default();
        HexDump { rows, fields, legend, size_bytes: anatomy.bytes.len(), decompressed_fields }
    }
}

fn field_rows(fields: &[BatchField]) -> Vec<FieldRow> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let bytes = byte_range_label(field);
            FieldRow {
                index,
                name: field.name,
                kind: field.kind.name(),
                part: field.record.map_or_else(|| String::from("header"), |r| format!("record {r}")),
                title: format!("{field} (bytes {bytes})"),
                bytes,
                value: field.value.clone(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Lab;
    use kafkalab_core::ids::{BrokerId, TopicPartition};
    use kafkalab_core::record_batch::RecordBatch;

    /// The anatomy of the first batch broker 1 holds of orders/0 after one keyed record.
    fn produced_anatomy() -> BatchAnatomy {
        let mut lab = Lab::new(1);
        lab.run_line("advance 1s").unwrap();
        lab.run_line("produce orders partition=0 key=alice value=10 acks=all").unwrap();
        lab.run_line("advance 1s").unwrap();
        let log = lab.simulation().replica_log(BrokerId(1), &TopicPartition::new("orders", 0)).unwrap();
        BatchAnatomy::of(&RecordBatch::parse(log.batches[0].bytes.clone()).unwrap())
    }

    #[test]
    fn hex_digits_and_positions_are_zero_padded() {
        assert_eq!(hex_byte(0x0a), "0a");
        assert_eq!(hex_byte(0xff), "ff");
        assert_eq!(position_label(0x30), "0030");
    }

    #[test]
    fn rows_hold_sixteen_bytes_and_every_byte_of_the_batch_once() {
        let anatomy = produced_anatomy();
        let dump = HexDump::of(&anatomy);
        assert_eq!(dump.size_bytes, anatomy.bytes.len());
        assert!(dump.rows.iter().rev().skip(1).all(|row| row.bytes.len() == BYTES_PER_ROW));
        let positions: Vec<usize> = dump.rows.iter().flat_map(|r| r.bytes.iter().map(|b| b.position)).collect();
        assert_eq!(positions, (0..anatomy.bytes.len()).collect::<Vec<_>>());
        assert_eq!(dump.rows[1].offset, "0010");
        assert_eq!(dump.rows[0].bytes[16 - 1].hex, hex_byte(anatomy.bytes[15]));
    }

    #[test]
    fn each_byte_is_tagged_with_its_field_and_a_fields_first_byte_is_marked() {
        let anatomy = produced_anatomy();
        let dump = HexDump::of(&anatomy);
        let cells: Vec<&HexByte> = dump.rows.iter().flat_map(|r| r.bytes.iter()).collect();
        for cell in &cells {
            let field = &anatomy.fields[cell.field];
            assert!(field.range.contains(&cell.position), "byte {} lies in {}", cell.position, field.name);
            assert_eq!(cell.starts_field, field.range.start == cell.position);
        }
        let key = dump.fields.iter().find(|f| f.name == "key").unwrap();
        assert_eq!((key.value.as_str(), key.part.as_str(), key.kind), ("\"alice\"", "record 0", "key"));
        let key_hex: String = cells.iter().filter(|c| c.field == key.index).map(|c| c.hex.as_str()).collect();
        assert_eq!(key_hex, "616c696365", "the key's bytes are \"alice\" in ASCII");
        let magic = dump.fields.iter().find(|f| f.name == "magic").unwrap();
        assert_eq!((magic.bytes.as_str(), magic.title.as_str()), ("16", "magic 2 (bytes 16)"));
    }

    #[test]
    fn the_legend_lists_only_the_kinds_present_in_layout_order() {
        let dump = HexDump::of(&produced_anatomy());
        let kinds: Vec<&str> = dump.legend.iter().map(|entry| entry.kind).collect();
        assert_eq!(kinds.first(), Some(&"offset"));
        assert!(kinds.contains(&"key") && kinds.contains(&"producer"));
        assert!(!kinds.contains(&"compressed") && !kinds.contains(&"header"), "{kinds:?}");
        assert!(dump.decompressed_fields.is_empty());
    }
}
