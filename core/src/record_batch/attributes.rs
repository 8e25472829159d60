//! The batch `attributes` field: sixteen bits of flags in the header.
//!
//! ```text
//! | unused (7-15) | delete horizon (6) | control (5) | transactional (4) | timestamp type (3) | compression (0-2) |
//! ```
//!
//! The codec says how the records section is stored: the encoder applies gzip and the batch
//! reads it back ([`super::gzip`]); snappy, lz4 and zstd are carried as opaque bytes. Unused
//! bits are kept as they arrived so a parsed batch re-encodes to the same bytes.

use core::fmt;
use serde::{Deserialize, Serialize};

const COMPRESSION_MASK: u16 = 0x07;
const TIMESTAMP_TYPE_BIT: u16 = 0x08;
const TRANSACTIONAL_BIT: u16 = 0x10;
const CONTROL_BIT: u16 = 0x20;
const DELETE_HORIZON_BIT: u16 = 0x40;

/// The codec of a batch's records section, as Kafka numbers them (`CompressionType.id`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Compression {
    None,
    Gzip,
    Snappy,
    Lz4,
    Zstd,
}

impl Compression {
    /// Every codec Kafka defines, in id order.
    pub const ALL: [Compression; 5] =
        [Compression::None, Compression::Gzip, Compression::Snappy, Compression::Lz4, Compression::Zstd];

    /// The id in attribute bits 0-2.
    pub const fn id(self) -> u8 {
        match self {
            Compression::None => 0,
            Compression::Gzip => 1,
            Compression::Snappy => 2,
            Compression::Lz4 => 3,
            Compression::Zstd => 4,
        }
    }

    /// The codec with this id; 5 to 7 are undefined and Kafka rejects them too.
    pub const fn from_id(id: u8) -> Option<Compression> {
        match id {
            0 => Some(Compression::None),
            1 => Some(Compression::Gzip),
            2 => Some(Compression::Snappy),
            3 => Some(Compression::Lz4),
            4 => Some(Compression::Zstd),
            _ => None,
        }
    }

    /// The codec with this configuration name (`compression.type`), in Kafka's lower case.
    pub fn from_name(name: &str) -> Option<Compression> {
        Compression::ALL.into_iter().find(|compression| compression.name() == name)
    }

    /// Kafka's configuration name (`compression.type`).
    pub const fn name(self) -> &'static str {
        match self {
            Compression::None => "none",
            Compression::Gzip => "gzip",
            Compression::Snappy => "snappy",
            Compression::Lz4 => "lz4",
            Compression::Zstd => "zstd",
        }
    }
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What the batch's timestamps mean (`message.timestamp.type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimestampType {
    /// Set by the producer; `max timestamp` is the largest record timestamp.
    CreateTime,
    /// Set by the broker on append; `max timestamp` holds that time for every record.
    LogAppendTime,
}

/// Attribute bits 0-2 held a codec id Kafka does not define.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownCompression {
    pub id: u8,
}

impl fmt::Display for UnknownCompression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "compression codec id {} is not defined (0 none, 1 gzip, 2 snappy, 3 lz4, 4 zstd)", self.id)
    }
}

/// The attributes of a batch. Always holds a defined codec; other bits are kept as given.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct BatchAttributes(u16);

impl BatchAttributes {
    /// No flags set, with the given codec and timestamp type.
    pub const fn new(compression: Compression, timestamp_type: TimestampType) -> Self {
        BatchAttributes(0).with_compression(compression).with_timestamp_type(timestamp_type)
    }

    /// The attributes these bits describe, if their codec is defined.
    pub const fn from_bits(bits: u16) -> Result<Self, UnknownCompression> {
        let id = (bits & COMPRESSION_MASK) as u8;
        match Compression::from_id(id) {
            Some(_) => Ok(BatchAttributes(bits)),
            None => Err(UnknownCompression { id }),
        }
    }

    /// The field as written on the wire.
    pub const fn bits(self) -> u16 {
        self.0
    }

    pub const fn compression(self) -> Compression {
        match Compression::from_id((self.0 & COMPRESSION_MASK) as u8) {
            Some(compression) => compression,
            None => panic!("BatchAttributes always holds a defined codec"),
        }
    }

    pub const fn timestamp_type(self) -> TimestampType {
        if self.0 & TIMESTAMP_TYPE_BIT == 0 {
            TimestampType::CreateTime
        } else {
            TimestampType::LogAppendTime
        }
    }

    /// Written by a transactional producer; consumers reading committed data skip aborted ones.
    pub const fn is_transactional(self) -> bool {
        self.0 & TRANSACTIONAL_BIT != 0
    }

    /// Holds control records (transaction markers) rather than application records.
    pub const fn is_control(self) -> bool {
        self.0 & CONTROL_BIT != 0
    }

    /// The log cleaner set a delete horizon; `base timestamp` then holds it (KIP-534).
    pub const fn has_delete_horizon(self) -> bool {
        self.0 & DELETE_HORIZON_BIT != 0
    }

    pub const fn with_compression(self, compression: Compression) -> Self {
        BatchAttributes((self.0 & !COMPRESSION_MASK) | compression.id() as u16)
    }

    pub const fn with_timestamp_type(self, timestamp_type: TimestampType) -> Self {
        let set = matches!(timestamp_type, TimestampType::LogAppendTime);
        self.with_bit(TIMESTAMP_TYPE_BIT, set)
    }

    pub const fn with_transactional(self, set: bool) -> Self {
        self.with_bit(TRANSACTIONAL_BIT, set)
    }

    pub const fn with_control(self, set: bool) -> Self {
        self.with_bit(CONTROL_BIT, set)
    }

    pub const fn with_delete_horizon(self, set: bool) -> Self {
        self.with_bit(DELETE_HORIZON_BIT, set)
    }

    const fn with_bit(self, bit: u16, set: bool) -> Self {
        if set {
            BatchAttributes(self.0 | bit)
        } else {
            BatchAttributes(self.0 & !bit)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_flag_has_its_documented_bit() {
        let none = BatchAttributes::default();
        assert_eq!(none.bits(), 0);
        assert_eq!(none.with_compression(Compression::Zstd).bits(), 0x04);
        assert_eq!(none.with_timestamp_type(TimestampType::LogAppendTime).bits(), 0x08);
        assert_eq!(none.with_transactional(true).bits(), 0x10);
        assert_eq!(none.with_control(true).bits(), 0x20);
        assert_eq!(none.with_delete_horizon(true).bits(), 0x40);
    }

    #[test]
    fn bits_read_back_as_flags() {
        let attributes = BatchAttributes::from_bits(0x7B).unwrap();
        assert_eq!(attributes.compression(), Compression::Lz4);
        assert_eq!(attributes.timestamp_type(), TimestampType::LogAppendTime);
        assert!(attributes.is_transactional() && attributes.is_control() && attributes.has_delete_horizon());
    }

    #[test]
    fn unused_bits_are_kept() {
        assert_eq!(BatchAttributes::from_bits(0x8001).unwrap().bits(), 0x8001);
    }

    #[test]
    fn codec_ids_five_to_seven_are_rejected() {
        for id in 5..=7u8 {
            assert_eq!(BatchAttributes::from_bits(id as u16), Err(UnknownCompression { id }));
        }
        for compression in Compression::ALL {
            assert_eq!(Compression::from_id(compression.id()), Some(compression));
        }
    }
}
