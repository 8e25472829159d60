//! CRC-32 (IEEE 802.3), the checksum a gzip member's trailer carries over the uncompressed data
//! (RFC 1952, section 8).
//!
//! Not the batch's checksum: that is CRC-32C ([`super::crc32c`]), a different polynomial in the
//! same table-driven form ([`super::crc_table`]). Java's `java.util.zip.CRC32`, which
//! `GZIPOutputStream` uses, computes the same function.

/// The IEEE polynomial 0x04C11DB7, bit-reflected.
const POLYNOMIAL_REFLECTED: u32 = 0xEDB8_8320;

/// The register contribution of each byte value (see [`super::crc_table`]).
const TABLE: [u32; 256] = super::crc_table::reflected_table(POLYNOMIAL_REFLECTED);

/// The CRC-32 of `data`.
pub fn checksum(data: &[u8]) -> u32 {
    super::crc_table::reflected_checksum(&TABLE, data)
}

#[cfg(test)]
mod tests {
    use super::checksum;

    /// The "check" value CRC catalogues list for CRC-32 (the Rocksoft/Williams model catalogue
    /// entry CRC-32, also called CRC-32/ISO-HDLC).
    #[test]
    fn standard_check_value_of_123456789() {
        assert_eq!(checksum(b"123456789"), 0xCBF4_3926);
    }

    /// A sentence whose CRC-32 is widely quoted (e.g. in zlib's and Go's `hash/crc32` tests).
    #[test]
    fn the_quick_brown_fox() {
        assert_eq!(checksum(b"The quick brown fox jumps over the lazy dog"), 0x414F_A339);
    }

    #[test]
    fn a_single_letter_a() {
        assert_eq!(checksum(b"a"), 0xE8B7_BE43);
    }

    #[test]
    fn thirty_two_bytes_of_zeros() {
        assert_eq!(checksum(&[0u8; 32]), 0x190A_55AD);
    }

    #[test]
    fn empty_input_has_checksum_zero() {
        assert_eq!(checksum(&[]), 0);
    }

    #[test]
    fn the_table_agrees_with_the_bit_at_a_time_definition_up_to_300_bytes() {
        let data: alloc::vec::Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for length in 0..data.len() {
            assert_eq!(checksum(&data[..length]), bitwise(&data[..length]), "length {length}");
        }
    }

    /// Bit-at-a-time CRC-32, the definition the table only speeds up.
    fn bitwise(data: &[u8]) -> u32 {
        let mut register = 0xFFFF_FFFFu32;
        for &byte in data {
            register ^= byte as u32;
            for _ in 0..8 {
                register = if register & 1 == 1 { (register >> 1) ^ 0xEDB8_8320 } else { register >> 1 };
            }
        }
        !register
    }
}
