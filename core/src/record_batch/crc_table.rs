//! The table-driven, bit-reflected CRC-32 that both of Kafka's checksums use, for any
//! polynomial: [`super::crc32c`] (record batches) and [`super::crc32`] (gzip trailers).
//!
//! Written here rather than taken from a crate because the usual crates need `std`, and the core
//! must build for `wasm32-unknown-unknown` without it. One 256-entry table per polynomial, built
//! at compile time; one lookup per byte; initial value and final XOR `0xFFFF_FFFF`.

/// `table[byte]` is the CRC register's contribution of one byte shifted through eight rounds of
/// the bit-reflected polynomial `polynomial_reflected`.
pub(super) const fn reflected_table(polynomial_reflected: u32) -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut index = 0;
    while index < 256 {
        let mut register = index as u32;
        let mut round = 0;
        while round < 8 {
            register = if register & 1 == 1 { (register >> 1) ^ polynomial_reflected } else { register >> 1 };
            round += 1;
        }
        table[index] = register;
        index += 1;
    }
    table
}

/// The CRC of `data` under the polynomial `table` was built for.
pub(super) fn reflected_checksum(table: &[u32; 256], data: &[u8]) -> u32 {
    let mut register = 0xFFFF_FFFFu32;
    for &byte in data {
        register = table[((register ^ byte as u32) & 0xFF) as usize] ^ (register >> 8);
    }
    register ^ 0xFFFF_FFFF
}
