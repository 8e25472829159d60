//! CRC-32C (Castagnoli), the checksum a record batch carries over everything from its
//! `attributes` field to its end.
//!
//! The table-driven form of [`super::crc_table`] with the Castagnoli polynomial, as Kafka's
//! `org.apache.kafka.common.utils.Crc32C` computes it.

/// The Castagnoli polynomial 0x1EDC6F41, bit-reflected, as the table-driven form needs it.
const POLYNOMIAL_REFLECTED: u32 = 0x82F6_3B78;

/// The register contribution of each byte value (see [`super::crc_table`]).
const TABLE: [u32; 256] = super::crc_table::reflected_table(POLYNOMIAL_REFLECTED);

/// The CRC-32C of `data`.
pub fn checksum(data: &[u8]) -> u32 {
    super::crc_table::reflected_checksum(&TABLE, data)
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
