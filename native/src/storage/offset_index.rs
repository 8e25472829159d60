//! Kafka's offset index (`OffsetIndex`, the `.index` file beside each segment): a sparse map
//! from offsets to byte positions in the segment's `.log` file.
//!
//! Each entry is 8 bytes, big-endian: the offset relative to the segment's base offset (4
//! bytes) and the position of a batch in the file (4 bytes). An entry is added before a batch
//! once more than `index.interval.bytes` (4096) have been written since the last entry; it
//! names the batch's last offset and the batch's position (Kafka's `LogSegment.append` and
//! `LogSegment.recover`). A lookup finds the last entry at or below the offset sought, where a
//! reader starts scanning.

use kafkalab_core::ids::Offset;
use kafkalab_core::record_batch::RecordBatch;

/// Kafka's `index.interval.bytes` default.
pub const INDEX_INTERVAL_BYTES: u64 = 4096;
/// Each entry's size in the file.
pub const ENTRY_BYTES: usize = 8;

/// One entry: an offset relative to the segment's base, and a byte position in its log file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexEntry {
    pub relative_offset: u32,
    pub position: u32,
}

impl IndexEntry {
    pub fn encode(&self) -> [u8; ENTRY_BYTES] {
        let mut bytes = [0u8; ENTRY_BYTES];
        bytes[..4].copy_from_slice(&self.relative_offset.to_be_bytes());
        bytes[4..].copy_from_slice(&self.position.to_be_bytes());
        bytes
    }
}

/// Where a segment's log file ends and how far since its last index entry: what decides the
/// next entry as batches are appended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IndexCursor {
    base_offset: Offset,
    /// The log file's size so far: the next batch's position.
    position: u64,
    bytes_since_last_entry: u64,
}

impl IndexCursor {
    /// The cursor of an empty segment.
    pub fn new(base_offset: Offset) -> Self {
        IndexCursor { base_offset, position: 0, bytes_since_last_entry: 0 }
    }

    /// The log file's size so far.
    pub fn position(&self) -> u64 {
        self.position
    }

    /// Appends `batch` at the end of the file; returns the index entry it gets, if any.
    pub fn append(&mut self, batch: &RecordBatch) -> Option<IndexEntry> {
        let mut entry = None;
        if self.bytes_since_last_entry > INDEX_INTERVAL_BYTES {
            let relative_offset = u32::try_from(batch.last_offset().0 - self.base_offset.0).ok();
            let position = u32::try_from(self.position).ok();
            if let (Some(relative_offset), Some(position)) = (relative_offset, position) {
                entry = Some(IndexEntry { relative_offset, position });
                self.bytes_since_last_entry = 0;
            }
        }
        let size = batch.size_bytes() as u64;
        self.position += size;
        self.bytes_since_last_entry += size;
        entry
    }
}

/// The whole index of a segment holding `batches`, as Kafka's recovery rebuilds it.
pub fn build(base_offset: Offset, batches: &[RecordBatch]) -> Vec<IndexEntry> {
    let mut cursor = IndexCursor::new(base_offset);
    batches.iter().filter_map(|batch| cursor.append(batch)).collect()
}

pub fn encode(entries: &[IndexEntry]) -> Vec<u8> {
    entries.iter().flat_map(IndexEntry::encode).collect()
}

/// The entries of an index file; `None` if its size is not a whole number of entries.
pub fn decode(bytes: &[u8]) -> Option<Vec<IndexEntry>> {
    if !bytes.len().is_multiple_of(ENTRY_BYTES) {
        return None;
    }
    let word = |chunk: &[u8]| u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
    Some(
        bytes
            .chunks_exact(ENTRY_BYTES)
            .map(|chunk| IndexEntry { relative_offset: word(&chunk[..4]), position: word(&chunk[4..]) })
            .collect(),
    )
}

/// Kafka's `OffsetIndex.lookup`: the last entry whose offset is at or below `offset`, as an
/// absolute offset and position; the segment's start when there is none.
pub fn lookup(base_offset: Offset, entries: &[IndexEntry], offset: Offset) -> (Offset, u32) {
    let below = entries.partition_point(|entry| base_offset.0 + i64::from(entry.relative_offset) <= offset.0);
    match below.checked_sub(1).map(|index| entries[index]) {
        Some(entry) => (Offset(base_offset.0 + i64::from(entry.relative_offset)), entry.position),
        None => (base_offset, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use kafkalab_core::partition_log::single_record_batch;

    /// Ten batches of about 1 KiB, at offsets 100, 101, ...
    fn batches() -> Vec<RecordBatch> {
        (0..10)
            .map(|i| {
                let mut batch = single_record_batch(0, None, Some(Bytes::from(vec![b'x'; 1000])));
                batch.set_base_offset(Offset(100 + i));
                batch
            })
            .collect()
    }

    #[test]
    fn an_entry_is_added_once_more_than_index_interval_bytes_were_written_since_the_last() {
        let batches = batches();
        let size = batches[0].size_bytes() as u32;
        assert!(size > 1024 && 3 * size <= 4096, "four batches pass 4096 bytes, three do not: {size}");
        // The first four pass 4096 bytes: the fifth gets an entry; four more after it, the ninth.
        assert_eq!(
            build(Offset(100), &batches),
            vec![
                IndexEntry { relative_offset: 4, position: 4 * size },
                IndexEntry { relative_offset: 8, position: 8 * size },
            ]
        );
    }

    #[test]
    fn lookup_finds_the_last_entry_at_or_below_the_offset_or_the_segment_start() {
        let batches = batches();
        let entries = build(Offset(100), &batches);
        let size = batches[0].size_bytes() as u32;
        assert_eq!(lookup(Offset(100), &entries, Offset(103)), (Offset(100), 0));
        assert_eq!(lookup(Offset(100), &entries, Offset(104)), (Offset(104), 4 * size));
        assert_eq!(lookup(Offset(100), &entries, Offset(107)), (Offset(104), 4 * size));
        assert_eq!(lookup(Offset(100), &entries, Offset(500)), (Offset(108), 8 * size));
    }

    #[test]
    fn the_file_is_eight_byte_big_endian_entries_and_a_partial_entry_is_refused() {
        let entries = vec![IndexEntry { relative_offset: 4, position: 0x0102_0304 }];
        let bytes = encode(&entries);
        assert_eq!(bytes, [0, 0, 0, 4, 1, 2, 3, 4]);
        assert_eq!(decode(&bytes), Some(entries));
        assert_eq!(decode(&bytes[..7]), None);
    }

    #[test]
    fn the_position_an_entry_names_starts_the_batch_holding_its_offset() {
        let batches = batches();
        let file: Vec<u8> = batches.iter().flat_map(|b| b.as_bytes().to_vec()).collect();
        for entry in build(Offset(100), &batches) {
            let at = entry.position as usize;
            let base_offset = i64::from_be_bytes(file[at..at + 8].try_into().unwrap());
            assert_eq!(base_offset, 100 + i64::from(entry.relative_offset), "single-record batches");
        }
    }
}
