//! CRC-32C (Castagnoli), the checksum a record batch carries over everything from its
//! `attributes` field to its end.
//!
//! Written here rather than taken from a crate because the usual crates need `std`, and the core
//! must build for `wasm32-unknown-unknown` without it. It is the plain table-driven form: one
//! 256-entry table built at compile time, one lookup per byte. Kafka uses the same polynomial
//! (`org.apache.kafka.common.utils.Crc32C`), reflected, with initial value and final XOR
//! `0xFFFF_FFFF`.

/// The Castagnoli polynomial 0x1EDC6F41, bit-reflected, as the table-driven form needs it.
const POLYNOMIAL_REFLECTED: u32 = 0x82F6_3B78;

/// `TABLE[byte]` is the CRC register's contribution of one byte shifted through eight rounds.
const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut index = 0;
    while index < 256 {
        let mut register = index as u32;
        let mut round = 0;
        while round < 8 {
            register = if register & 1 == 1 { (register >> 1) ^ POLYNOMIAL_REFLECTED } else { register >> 1 };
            round += 1;
        }
        table[index] = register;
        index += 1;
    }
    table
}

/// The CRC-32C of `data`.
pub fn checksum(data: &[u8]) -> u32 {
    let mut register = 0xFFFF_FFFFu32;
    for &byte in data {
        register = TABLE[((register ^ byte as u32) & 0xFF) as usize] ^ (register >> 8);
    }
    register ^ 0xFFFF_FFFF
}

#[cfg(test)]
mod tests {
    use super::checksum;

    /// The "check" value every CRC catalogue lists for CRC-32C (e.g. the Rocksoft/Williams model
    /// catalogue entry CRC-32/ISCSI).
    #[test]
    fn standard_check_value_of_123456789() {
        assert_eq!(checksum(b"123456789"), 0xE306_9283);
    }

    /// RFC 3720 (iSCSI), appendix B.4, "CRC Examples".
    #[test]
    fn rfc_3720_vector_32_bytes_of_zeros() {
        assert_eq!(checksum(&[0u8; 32]), 0x8A91_36AA);
    }

    #[test]
    fn rfc_3720_vector_32_bytes_of_ones() {
        assert_eq!(checksum(&[0xFFu8; 32]), 0x62A8_AB43);
    }

    #[test]
    fn rfc_3720_vector_32_ascending_bytes() {
        let ascending: [u8; 32] = core::array::from_fn(|index| index as u8);
        assert_eq!(checksum(&ascending), 0x46DD_794E);
    }

    #[test]
    fn rfc_3720_vector_32_descending_bytes() {
        let descending: [u8; 32] = core::array::from_fn(|index| 31 - index as u8);
        assert_eq!(checksum(&descending), 0x113F_DB5C);
    }

    #[test]
    fn empty_input_has_checksum_zero() {
        assert_eq!(checksum(&[]), 0);
    }
}
