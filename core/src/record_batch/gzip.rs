//! gzip, the codec of `compression.type=gzip` (id 1): a deflate stream between a small header
//! and a trailer that checks it (RFC 1952).
//!
//! ```text
//! member   1f 8b | CM=8 | FLG | MTIME (4) | XFL | OS | [FEXTRA] [FNAME] [FCOMMENT] [FHCRC]
//!          deflate blocks (RFC 1951)
//!          CRC-32 of the uncompressed data (4, little-endian) | ISIZE: its length mod 2^32 (4)
//! ```
//!
//! Kafka's gzip is the ordinary file format (the Java client wraps `GZIPOutputStream`), so what a
//! real client compressed decompresses here and the other way round. The deflate part is the
//! `miniz_oxide` crate's (no `std`); header and trailer are written and read here. Writing is
//! deterministic: no file name, modification time 0, "unknown" operating system, level 6 (the
//! level Kafka's `gzip` codec uses unless `compression.gzip.level` says otherwise).
//!
//! Reading accepts every header field the format allows and several members one after another
//! (as `GZIPInputStream` does), and refuses anything else with a [`GzipError`] rather than a
//! panic. Output is capped at [`MAX_DECOMPRESSED_BYTES`] so a few bytes cannot ask for gigabytes.

use alloc::boxed::Box;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use miniz_oxide::inflate::core::{self as inflate_core, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;

use super::crc32;

/// The most bytes one gzip payload may decompress to here (64 MiB): far above any batch a lab
/// writes, far below what would exhaust a browser tab.
pub const MAX_DECOMPRESSED_BYTES: usize = 64 << 20;

/// Deflate's level 6, zlib's default and Kafka's (`GzipCompression.DEFAULT_LEVEL`).
const LEVEL: u8 = 6;

const MAGIC: [u8; 2] = [0x1f, 0x8b];
const METHOD_DEFLATE: u8 = 8;
/// The fixed part of a member's header, before the optional fields.
const HEADER_BYTES: usize = 10;
const TRAILER_BYTES: usize = 8;
/// RFC 1952's code for "unknown operating system".
const OS_UNKNOWN: u8 = 255;

const FLAG_HEADER_CRC: u8 = 0x02;
const FLAG_EXTRA: u8 = 0x04;
const FLAG_NAME: u8 = 0x08;
const FLAG_COMMENT: u8 = 0x10;
const FLAGS_RESERVED: u8 = 0xE0;

/// Why bytes could not be read as gzip. Positions count from the start of the payload.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GzipError {
    /// The payload ends inside a member's header, which starts at `member_start`.
    TruncatedHeader { member_start: usize },
    /// The member at `member_start` does not begin with the magic bytes 1f 8b.
    NotGzip { member_start: usize, found: [u8; 2] },
    /// A compression method other than 8 (deflate), the only one RFC 1952 defines.
    UnknownMethod { method: u8 },
    /// Flag bits 5 to 7, which RFC 1952 reserves, are set.
    ReservedFlags { flags: u8 },
    /// The header's own CRC (FHCRC) does not match the header.
    HeaderCrcMismatch { stored: u16, computed: u16 },
    /// The deflate stream starting at `position` is malformed.
    CorruptDeflate { position: usize },
    /// The deflate stream starting at `position` stops before its last block.
    TruncatedDeflate { position: usize },
    /// The data decompresses to more than `limit` bytes.
    TooLarge { limit: usize },
    /// The payload ends inside the 8-byte trailer at `position`.
    TruncatedTrailer { position: usize },
    /// The trailer's CRC-32 is not the CRC-32 of the decompressed data.
    CrcMismatch { stored: u32, computed: u32 },
    /// The trailer's ISIZE is not the decompressed length (mod 2^32).
    SizeMismatch { stored: u32, actual: u32 },
}

impl fmt::Display for GzipError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GzipError::TruncatedHeader { member_start } => {
                write!(f, "the gzip header starting at byte {member_start} is cut short")
            }
            GzipError::NotGzip { member_start, found } => {
                write!(f, "byte {member_start} starts with {:02x} {:02x}, not the gzip magic 1f 8b", found[0], found[1])
            }
            GzipError::UnknownMethod { method } => {
                write!(f, "gzip compression method {method}; only 8 (deflate) is defined")
            }
            GzipError::ReservedFlags { flags } => write!(f, "gzip flags {flags:#04x} set reserved bits 5-7"),
            GzipError::HeaderCrcMismatch { stored, computed } => {
                write!(f, "gzip header CRC is {stored:#06x} but the header gives {computed:#06x}")
            }
            GzipError::CorruptDeflate { position } => write!(f, "the deflate stream at byte {position} is corrupt"),
            GzipError::TruncatedDeflate { position } => {
                write!(f, "the deflate stream at byte {position} ends before its last block")
            }
            GzipError::TooLarge { limit } => write!(f, "the gzip data decompresses to more than {limit} bytes"),
            GzipError::TruncatedTrailer { position } => {
                write!(f, "the gzip trailer at byte {position} is cut short (it takes 8 bytes)")
            }
            GzipError::CrcMismatch { stored, computed } => {
                write!(f, "gzip trailer CRC-32 is {stored:#010x} but the decompressed data gives {computed:#010x}")
            }
            GzipError::SizeMismatch { stored, actual } => {
                write!(f, "gzip trailer says {stored} bytes but {actual} were decompressed")
            }
        }
    }
}

/// `data` as one gzip member.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let deflated = miniz_oxide::deflate::compress_to_vec(data, LEVEL);
    let mut out = Vec::with_capacity(HEADER_BYTES + deflated.len() + TRAILER_BYTES);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&[METHOD_DEFLATE, 0, 0, 0, 0, 0, 0, OS_UNKNOWN]);
    out.extend_from_slice(&deflated);
    out.extend_from_slice(&crc32::checksum(data).to_le_bytes());
    // ISIZE is the length modulo 2^32 by definition: the truncation is the format's.
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

/// The data in one or more gzip members, at most `limit` bytes of it.
pub fn decompress(payload: &[u8], limit: usize) -> Result<Vec<u8>, GzipError> {
    let mut out = Vec::new();
    let mut position = 0;
    loop {
        position = decompress_member(payload, position, limit, &mut out)?;
        if position == payload.len() {
            return Ok(out);
        }
    }
}

/// Appends the member starting at `start` to `out`; returns where the member ends.
fn decompress_member(payload: &[u8], start: usize, limit: usize, out: &mut Vec<u8>) -> Result<usize, GzipError> {
    let deflate_start = read_header(payload, start)?;
    let output_start = out.len();
    let deflate_length = inflate(&payload[deflate_start..], deflate_start, limit, out)?;
    let trailer_start = deflate_start + deflate_length;
    let trailer = payload
        .get(trailer_start..trailer_start + TRAILER_BYTES)
        .ok_or(GzipError::TruncatedTrailer { position: trailer_start })?;
    let stored_crc = u32::from_le_bytes([trailer[0], trailer[1], trailer[2], trailer[3]]);
    let stored_size = u32::from_le_bytes([trailer[4], trailer[5], trailer[6], trailer[7]]);
    let member_output = &out[output_start..];
    let computed = crc32::checksum(member_output);
    if computed != stored_crc {
        return Err(GzipError::CrcMismatch { stored: stored_crc, computed });
    }
    let actual = member_output.len() as u32;
    if actual != stored_size {
        return Err(GzipError::SizeMismatch { stored: stored_size, actual });
    }
    Ok(trailer_start + TRAILER_BYTES)
}

/// Checks a member's header at `start`; returns where its deflate stream begins.
fn read_header(payload: &[u8], start: usize) -> Result<usize, GzipError> {
    let truncated = GzipError::TruncatedHeader { member_start: start };
    let fixed = payload.get(start..start + HEADER_BYTES).ok_or(truncated)?;
    if fixed[0..2] != MAGIC {
        return Err(GzipError::NotGzip { member_start: start, found: [fixed[0], fixed[1]] });
    }
    if fixed[2] != METHOD_DEFLATE {
        return Err(GzipError::UnknownMethod { method: fixed[2] });
    }
    let flags = fixed[3];
    if flags & FLAGS_RESERVED != 0 {
        return Err(GzipError::ReservedFlags { flags });
    }
    let mut position = start + HEADER_BYTES;
    if flags & FLAG_EXTRA != 0 {
        let length = payload.get(position..position + 2).ok_or(truncated)?;
        position += 2 + u16::from_le_bytes([length[0], length[1]]) as usize;
    }
    for flag in [FLAG_NAME, FLAG_COMMENT] {
        if flags & flag != 0 {
            let field = payload.get(position..).ok_or(truncated)?;
            let terminator = field.iter().position(|&byte| byte == 0).ok_or(truncated)?;
            position += terminator + 1;
        }
    }
    if flags & FLAG_HEADER_CRC != 0 {
        let stored = payload.get(position..position + 2).ok_or(truncated)?;
        let stored = u16::from_le_bytes([stored[0], stored[1]]);
        let computed = crc32::checksum(&payload[start..position]) as u16;
        if stored != computed {
            return Err(GzipError::HeaderCrcMismatch { stored, computed });
        }
        position += 2;
    }
    if position > payload.len() {
        return Err(truncated);
    }
    Ok(position)
}

/// Inflates the raw deflate stream at the start of `input` onto `out`, which may grow to
/// `limit` bytes; returns how many input bytes the stream took. `position` is where `input`
/// starts in the payload, for errors.
fn inflate(mut input: &[u8], position: usize, limit: usize, out: &mut Vec<u8>) -> Result<usize, GzipError> {
    // Deflate refers back into its own output, so a member is inflated into a buffer of its
    // own, which must hold the whole member (the non-wrapping mode).
    let budget = limit.saturating_sub(out.len());
    let mut buffer = vec![0u8; input.len().saturating_mul(4).max(64).min(budget.max(1))];
    let mut decompressor = Box::<DecompressorOxide>::default();
    let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
    let (mut written, mut consumed) = (0, 0);
    loop {
        let (status, read, wrote) = inflate_core::decompress(&mut decompressor, input, &mut buffer, written, flags);
        written += wrote;
        consumed += read;
        input = &input[read.min(input.len())..];
        match status {
            TINFLStatus::Done => break,
            TINFLStatus::HasMoreOutput if buffer.len() < budget => {
                let grown = buffer.len().saturating_mul(2).min(budget);
                buffer.resize(grown, 0);
            }
            TINFLStatus::HasMoreOutput => return Err(GzipError::TooLarge { limit }),
            TINFLStatus::FailedCannotMakeProgress | TINFLStatus::NeedsMoreInput => {
                return Err(GzipError::TruncatedDeflate { position })
            }
            _ => return Err(GzipError::CorruptDeflate { position }),
        }
    }
    if written > budget {
        return Err(GzipError::TooLarge { limit });
    }
    out.extend_from_slice(&buffer[..written]);
    Ok(consumed)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn repetitive(records: usize) -> Vec<u8> {
        let mut data = Vec::new();
        for index in 0..records {
            let line = alloc::format!("{{\"order\":{index},\"status\":\"pending\",\"warehouse\":\"north\"}}\n");
            data.extend_from_slice(line.as_bytes());
        }
        data
    }

    #[test]
    fn what_is_compressed_decompresses_to_the_same_bytes() {
        for data in [Vec::new(), b"a".to_vec(), repetitive(100), (0..=255u8).cycle().take(70_000).collect()] {
            let compressed = compress(&data);
            assert_eq!(decompress(&compressed, MAX_DECOMPRESSED_BYTES), Ok(data));
        }
    }

    #[test]
    fn repetitive_data_shrinks_and_the_header_is_fixed() {
        let data = repetitive(100);
        let compressed = compress(&data);
        assert!(compressed.len() * 5 < data.len(), "{} of {} bytes", compressed.len(), data.len());
        assert_eq!(compressed[..10], [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255]);
        let size = compressed.len();
        assert_eq!(compressed[size - 4..], (data.len() as u32).to_le_bytes());
        assert_eq!(compressed[size - 8..size - 4], crc32::checksum(&data).to_le_bytes());
    }

    /// `printf 'hello\n' | gzip -n | xxd`, as GNU gzip 1.12 writes it (FLG 0, OS 3 = Unix).
    #[test]
    fn gnu_gzip_output_decompresses() {
        let gnu = [
            0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xe7, 0x02, 0x00,
            0x20, 0x30, 0x3a, 0x36, 0x06, 0x00, 0x00, 0x00,
        ];
        assert_eq!(decompress(&gnu, MAX_DECOMPRESSED_BYTES), Ok(b"hello\n".to_vec()));
    }

    #[test]
    fn optional_header_fields_are_skipped_and_the_header_crc_checked() {
        let member = compress(b"payload");
        let mut header = alloc::vec![0x1f, 0x8b, 8, FLAG_EXTRA | FLAG_NAME | FLAG_COMMENT | FLAG_HEADER_CRC];
        header.extend_from_slice(&[0, 0, 0, 0, 0, OS_UNKNOWN]);
        header.extend_from_slice(&[3, 0, b'x', b'y', b'z']);
        header.extend_from_slice(b"name.txt\0a comment\0");
        let header_crc = crc32::checksum(&header) as u16;
        let mut with_fields = header.clone();
        with_fields.extend_from_slice(&header_crc.to_le_bytes());
        with_fields.extend_from_slice(&member[HEADER_BYTES..]);
        assert_eq!(decompress(&with_fields, MAX_DECOMPRESSED_BYTES), Ok(b"payload".to_vec()));
        let crc_position = header.len();
        with_fields[crc_position] ^= 1;
        let expected = GzipError::HeaderCrcMismatch { stored: header_crc ^ 1, computed: header_crc };
        assert_eq!(decompress(&with_fields, MAX_DECOMPRESSED_BYTES), Err(expected));
    }

    #[test]
    fn members_one_after_another_decompress_to_their_concatenation() {
        let mut two = compress(b"first ");
        two.extend_from_slice(&compress(b"second"));
        assert_eq!(decompress(&two, MAX_DECOMPRESSED_BYTES), Ok(b"first second".to_vec()));
    }

    #[test]
    fn each_kind_of_damage_has_its_own_error() {
        let good = compress(&repetitive(10));
        let end = good.len();
        let damaged = |position: usize, value: u8| {
            let mut bytes = good.clone();
            bytes[position] = value;
            decompress(&bytes, MAX_DECOMPRESSED_BYTES)
        };
        assert_eq!(decompress(&[], 100), Err(GzipError::TruncatedHeader { member_start: 0 }));
        assert_eq!(damaged(0, 0x1e), Err(GzipError::NotGzip { member_start: 0, found: [0x1e, 0x8b] }));
        assert_eq!(damaged(2, 7), Err(GzipError::UnknownMethod { method: 7 }));
        assert_eq!(damaged(3, 0x20), Err(GzipError::ReservedFlags { flags: 0x20 }));
        assert_eq!(damaged(HEADER_BYTES, 0xff), Err(GzipError::CorruptDeflate { position: HEADER_BYTES }));
        assert!(matches!(damaged(end - 8, good[end - 8] ^ 1), Err(GzipError::CrcMismatch { .. })));
        assert!(matches!(damaged(end - 4, good[end - 4] ^ 1), Err(GzipError::SizeMismatch { .. })));
        let cut = decompress(&good[..end - 3], MAX_DECOMPRESSED_BYTES);
        assert_eq!(cut, Err(GzipError::TruncatedTrailer { position: end - 8 }));
        let cut = decompress(&good[..HEADER_BYTES + 3], MAX_DECOMPRESSED_BYTES);
        assert_eq!(cut, Err(GzipError::TruncatedDeflate { position: HEADER_BYTES }));
        let mut trailing = good.clone();
        trailing.push(0);
        assert!(matches!(decompress(&trailing, MAX_DECOMPRESSED_BYTES), Err(GzipError::TruncatedHeader { .. })));
    }

    #[test]
    fn output_beyond_the_limit_is_refused() {
        let zeros = compress(&[0u8; 100_000]);
        assert!(zeros.len() < 1_000);
        assert_eq!(decompress(&zeros, 99_999), Err(GzipError::TooLarge { limit: 99_999 }));
        assert_eq!(decompress(&zeros, 100_000).map(|data| data.len()), Ok(100_000));
    }
}
