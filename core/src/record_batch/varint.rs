//! Zigzag variable-length integers, as records use them for lengths, deltas and counts.
//!
//! The encoding is Protocol Buffers' `sint32`/`sint64`: zigzag maps signed to unsigned so small
//! magnitudes of either sign stay short, then seven bits per byte, least significant first, the
//! high bit saying "more follows". Decoding follows Kafka's `ByteUtils.readVarint` and
//! `readVarlong` exactly, including where it is lenient:
//! - a varint is at most 5 bytes and a varlong at most 10; a continuation bit on the last
//!   allowed byte is an error ([`VarintError::Overlong`]);
//! - bits of that last byte beyond the 32 (or 64) that fit are dropped, not rejected, and
//!   non-minimal encodings (`0x80 0x00` for 0) are accepted.

use bytes::BufMut;
use core::fmt;

/// The most bytes a 32-bit varint takes.
pub const MAX_VARINT_BYTES: usize = 5;
/// The most bytes a 64-bit varlong takes.
pub const MAX_VARLONG_BYTES: usize = 10;

const CONTINUATION: u8 = 0x80;
const PAYLOAD: u8 = 0x7F;

/// Why a varint could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VarintError {
    /// The input ended before a byte without the continuation bit.
    Truncated,
    /// The last byte a value of this width may take still had the continuation bit set.
    Overlong,
}

impl fmt::Display for VarintError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VarintError::Truncated => write!(f, "the input ends inside a variable-length integer"),
            VarintError::Overlong => write!(f, "a variable-length integer runs past its maximum length"),
        }
    }
}

/// Zigzag: 0, -1, 1, -2, ... become 0, 1, 2, 3, ...
pub const fn zigzag_encode_32(value: i32) -> u32 {
    ((value << 1) ^ (value >> 31)) as u32
}

pub const fn zigzag_decode_32(raw: u32) -> i32 {
    ((raw >> 1) as i32) ^ -((raw & 1) as i32)
}

pub const fn zigzag_encode_64(value: i64) -> u64 {
    ((value << 1) ^ (value >> 63)) as u64
}

pub const fn zigzag_decode_64(raw: u64) -> i64 {
    ((raw >> 1) as i64) ^ -((raw & 1) as i64)
}

/// How many bytes [`write_varint`] takes for `value`.
pub const fn varint_size(value: i32) -> usize {
    unsigned_size(zigzag_encode_32(value) as u64)
}

/// How many bytes [`write_varlong`] takes for `value`.
pub const fn varlong_size(value: i64) -> usize {
    unsigned_size(zigzag_encode_64(value))
}

const fn unsigned_size(raw: u64) -> usize {
    let significant_bits = 64 - raw.leading_zeros() as usize;
    if significant_bits == 0 {
        1
    } else {
        significant_bits.div_ceil(7)
    }
}

/// Appends `value` zigzag-encoded, in its shortest form.
pub fn write_varint(value: i32, out: &mut impl BufMut) {
    write_unsigned(zigzag_encode_32(value) as u64, out);
}

/// Appends `value` zigzag-encoded, in its shortest form.
pub fn write_varlong(value: i64, out: &mut impl BufMut) {
    write_unsigned(zigzag_encode_64(value), out);
}

fn write_unsigned(mut raw: u64, out: &mut impl BufMut) {
    while raw > PAYLOAD as u64 {
        out.put_u8((raw as u8 & PAYLOAD) | CONTINUATION);
        raw >>= 7;
    }
    out.put_u8(raw as u8);
}

/// Reads a zigzag varint from the start of `input`: the value and how many bytes it took.
pub fn read_varint(input: &[u8]) -> Result<(i32, usize), VarintError> {
    let (raw, length) = read_unsigned(input, MAX_VARINT_BYTES)?;
    // Kafka accumulates into a 32-bit int, so bits shifted past bit 31 are lost, not rejected.
    Ok((zigzag_decode_32(raw as u32), length))
}

/// Reads a zigzag varlong from the start of `input`: the value and how many bytes it took.
pub fn read_varlong(input: &[u8]) -> Result<(i64, usize), VarintError> {
    let (raw, length) = read_unsigned(input, MAX_VARLONG_BYTES)?;
    Ok((zigzag_decode_64(raw), length))
}

/// Seven bits per byte into a u64; bits shifted past bit 63 fall off, as in Kafka's `readVarlong`.
fn read_unsigned(input: &[u8], max_bytes: usize) -> Result<(u64, usize), VarintError> {
    let mut raw = 0u64;
    for index in 0..max_bytes {
        let byte = *input.get(index).ok_or(VarintError::Truncated)?;
        raw |= ((byte & PAYLOAD) as u64) << (7 * index);
        if byte & CONTINUATION == 0 {
            return Ok((raw, index + 1));
        }
    }
    Err(VarintError::Overlong)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn varint_bytes(value: i32) -> Vec<u8> {
        let mut out = Vec::new();
        write_varint(value, &mut out);
        out
    }

    fn varlong_bytes(value: i64) -> Vec<u8> {
        let mut out = Vec::new();
        write_varlong(value, &mut out);
        out
    }

    /// The zigzag table from the Protocol Buffers encoding guide.
    #[test]
    fn zigzag_matches_the_protocol_buffers_table() {
        for (signed, unsigned) in
            [(0, 0u32), (-1, 1), (1, 2), (-2, 3), (2147483647, 4294967294), (-2147483648, 4294967295)]
        {
            assert_eq!(zigzag_encode_32(signed), unsigned);
            assert_eq!(zigzag_decode_32(unsigned), signed);
        }
        assert_eq!(zigzag_encode_64(i64::MIN), u64::MAX);
        assert_eq!(zigzag_encode_64(i64::MAX), u64::MAX - 1);
    }

    #[test]
    fn known_encodings() {
        assert_eq!(varint_bytes(0), [0x00]);
        assert_eq!(varint_bytes(-1), [0x01]);
        assert_eq!(varint_bytes(1), [0x02]);
        assert_eq!(varint_bytes(63), [0x7E]);
        assert_eq!(varint_bytes(-64), [0x7F]);
        assert_eq!(varint_bytes(64), [0x80, 0x01]);
        assert_eq!(varint_bytes(300), [0xD8, 0x04]);
        assert_eq!(varint_bytes(i32::MAX), [0xFE, 0xFF, 0xFF, 0xFF, 0x0F]);
        assert_eq!(varint_bytes(i32::MIN), [0xFF, 0xFF, 0xFF, 0xFF, 0x0F]);
        assert_eq!(varlong_bytes(i64::MIN), [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]);
        assert_eq!(varlong_bytes(1000), [0xD0, 0x0F]);
    }

    #[test]
    fn sizes_agree_with_the_writer() {
        for value in [0, 1, -1, 63, -64, 64, -65, 8191, 8192, i32::MAX, i32::MIN] {
            assert_eq!(varint_size(value), varint_bytes(value).len(), "{value}");
            assert_eq!(varlong_size(value as i64), varlong_bytes(value as i64).len(), "{value}");
        }
        assert_eq!(varlong_size(i64::MAX), MAX_VARLONG_BYTES);
        assert_eq!(varlong_size(i64::MIN), MAX_VARLONG_BYTES);
    }

    #[test]
    fn reading_stops_at_the_first_byte_without_continuation() {
        assert_eq!(read_varint(&[0xD8, 0x04, 0xFF]), Ok((300, 2)));
        assert_eq!(read_varlong(&[0x01, 0x02]), Ok((-1, 1)));
    }

    #[test]
    fn truncated_input_is_an_error() {
        assert_eq!(read_varint(&[]), Err(VarintError::Truncated));
        assert_eq!(read_varint(&[0x80, 0x80]), Err(VarintError::Truncated));
        assert_eq!(read_varlong(&[0xFF; 9]), Err(VarintError::Truncated));
    }

    #[test]
    fn a_sixth_varint_byte_or_an_eleventh_varlong_byte_is_overlong() {
        assert_eq!(read_varint(&[0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), Err(VarintError::Overlong));
        assert_eq!(read_varlong(&[0x80; 11]), Err(VarintError::Overlong));
    }

    /// Kafka's readers accept what a strict protobuf reader might not; so do these.
    #[test]
    fn non_minimal_encodings_and_excess_high_bits_are_accepted_as_kafka_does() {
        assert_eq!(read_varint(&[0x80, 0x00]), Ok((0, 2)));
        // The fifth byte's bits above bit 31 (0x70 here) are dropped: raw 0xFFFF_FFFF is -2^31.
        assert_eq!(read_varint(&[0xFF, 0xFF, 0xFF, 0xFF, 0x7F]), Ok((i32::MIN, 5)));
        // The tenth byte contributes only bit 63.
        let mut ten = [0xFFu8; 10];
        ten[9] = 0x7F;
        assert_eq!(read_varlong(&ten), Ok((i64::MIN, 10)));
    }
}
