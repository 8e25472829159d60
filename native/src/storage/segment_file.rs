//! One segment's `.log` file: record batches back to back, exactly as Kafka's log files hold
//! them, checked batch by batch when read back (Kafka's `LogSegment.recover`).
//!
//! A file is good up to its first damaged batch: one cut short by a crash mid-write (a torn
//! tail), one whose length, magic or CRC-32C is wrong (corruption, found by the core's
//! validating parse), or one whose offsets go back. Recovery keeps what comes before and
//! truncates the rest.

use std::fmt;

use bytes::Bytes;
use kafkalab_core::ids::Offset;
use kafkalab_core::record_batch::{split_batches, RecordBatch, TornTail};

/// What is wrong at the end of a segment file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Damage {
    /// The last batch is incomplete: a crash cut its write short.
    Torn(TornTail),
    /// A complete batch fails validation (length, magic, CRC-32C, records).
    Corrupt { position: usize, error: String },
    /// A batch starts before the previous one ends or before its segment's base.
    OutOfOrder { position: usize, base_offset: Offset, expected_at_least: Offset },
}

impl Damage {
    /// Where the damage starts: the length the file is truncated to.
    pub fn position(&self) -> usize {
        match self {
            Damage::Torn(tail) => tail.position,
            Damage::Corrupt { position, .. } | Damage::OutOfOrder { position, .. } => *position,
        }
    }
}

impl fmt::Display for Damage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Damage::Torn(tail) => write!(f, "{tail}"),
            Damage::Corrupt { position, error } => write!(f, "corrupt batch at byte {position}: {error}"),
            Damage::OutOfOrder { position, base_offset, expected_at_least } => {
                write!(f, "batch at byte {position} starts at offset {base_offset}, before offset {expected_at_least}")
            }
        }
    }
}

/// A segment file as read: its good batches, in order, and the damage after them, if any.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckedSegment {
    pub batches: Vec<RecordBatch>,
    pub damage: Option<Damage>,
}

impl CheckedSegment {
    /// The bytes that hold good batches: what the file keeps.
    pub fn valid_bytes(&self) -> usize {
        self.batches.iter().map(RecordBatch::size_bytes).sum()
    }
}

/// Reads a segment file's bytes: every batch validated (CRC-32C included), each starting at
/// or after `expected_at_least` (the previous segment's end, or this one's base) and the
/// previous batch's end; everything from the first that is not is damage.
pub fn check(bytes: &Bytes, expected_at_least: Offset) -> CheckedSegment {
    let (mut batches, mut damage) = match split_batches(bytes) {
        Ok(split) => (split.batches, split.torn_tail.map(Damage::Torn)),
        Err(error) => {
            // Everything before the bad batch split cleanly once already.
            let before = split_batches(&bytes.slice(..error.position)).map(|split| split.batches).unwrap_or_default();
            (before, Some(Damage::Corrupt { position: error.position, error: error.error.to_string() }))
        }
    };
    let mut expected = expected_at_least;
    let mut position = 0;
    for (index, batch) in batches.iter().enumerate() {
        if batch.base_offset() < expected {
            let base_offset = batch.base_offset();
            damage = Some(Damage::OutOfOrder { position, base_offset, expected_at_least: expected });
            batches.truncate(index);
            break;
        }
        expected = batch.next_offset();
        position += batch.size_bytes();
    }
    CheckedSegment { batches, damage }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::partition_log::single_record_batch;

    fn file_of(offsets: &[i64]) -> (Vec<RecordBatch>, Bytes) {
        let batches: Vec<RecordBatch> = offsets
            .iter()
            .map(|&offset| {
                let mut batch = single_record_batch(5, None, Some(Bytes::from_static(b"value")));
                batch.set_base_offset(Offset(offset));
                batch
            })
            .collect();
        let bytes: Vec<u8> = batches.iter().flat_map(|b| b.as_bytes().to_vec()).collect();
        (batches, Bytes::from(bytes))
    }

    #[test]
    fn a_whole_file_reads_back_as_its_batches() {
        let (batches, bytes) = file_of(&[0, 1, 2]);
        assert_eq!(check(&bytes, Offset(0)), CheckedSegment { batches, damage: None });
    }

    #[test]
    fn a_torn_last_batch_is_damage_at_its_start() {
        let (batches, bytes) = file_of(&[0, 1, 2]);
        let cut = bytes.slice(..bytes.len() - 10);
        let checked = check(&cut, Offset(0));
        assert_eq!(checked.batches, batches[..2]);
        assert!(matches!(checked.damage, Some(Damage::Torn(_))));
        assert_eq!(checked.damage.as_ref().map(Damage::position), Some(checked.valid_bytes()));
    }

    #[test]
    fn a_flipped_byte_in_a_batch_fails_its_crc_and_ends_the_good_part() {
        let (batches, bytes) = file_of(&[0, 1, 2]);
        let mut corrupted = bytes.to_vec();
        let last = bytes.len() - 3; // inside the last batch's records, under its CRC
        corrupted[last] ^= 0xff;
        let checked = check(&Bytes::from(corrupted), Offset(0));
        assert_eq!(checked.batches, batches[..2]);
        let Some(Damage::Corrupt { position, error }) = checked.damage else { panic!("corruption found") };
        assert_eq!(position, 2 * batches[0].size_bytes());
        assert!(error.to_lowercase().contains("crc"), "{error}");
    }

    #[test]
    fn a_batch_whose_offsets_go_back_ends_the_good_part() {
        let (batches, bytes) = file_of(&[3, 4, 4]);
        let checked = check(&bytes, Offset(3));
        assert_eq!(checked.batches, batches[..2]);
        assert!(matches!(checked.damage, Some(Damage::OutOfOrder { base_offset: Offset(4), .. })));
        assert!(matches!(check(&bytes, Offset(5)).damage, Some(Damage::OutOfOrder { position: 0, .. })));
    }
}
