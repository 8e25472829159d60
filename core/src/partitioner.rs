//! Which partition a keyed record goes to: the Java client's default partitioner.
//!
//! Kafka hashes the serialized key with murmur2 (seed `0x9747b28c`), clears the sign bit and
//! takes the result modulo the partition count (`Utils.murmur2`, `Utils.toPositive` and
//! `BuiltInPartitioner.partitionForKey` in Apache Kafka's clients). Matching it exactly is
//! what lets a learner predict, in the lab, where a real producer would put the same key.

/// Kafka's 32-bit murmur2, bit for bit (`org.apache.kafka.common.utils.Utils.murmur2`).
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;

    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        let mut k = u32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, byte) in tail.iter().enumerate().rev() {
            h ^= (*byte as u32) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// The partition the Java client's default partitioner picks for a non-null key.
pub fn partition_for_key(key: &[u8], partition_count: i32) -> i32 {
    assert!(partition_count > 0, "a topic has at least one partition");
    (murmur2(key) & 0x7fff_ffff) % partition_count
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Vectors from Apache Kafka's `UtilsTest.testMurmur2`.
    #[test]
    fn murmur2_matches_the_java_client() {
        let cases: [(&[u8], i32); 6] = [
            (b"21", -973932308),
            (b"foobar", -790332482),
            (b"a-little-bit-long-string", -985981536),
            (b"a-little-bit-longer-string", -1486304829),
            (b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971),
            (b"abc", 479470107),
        ];
        for (key, expected) in cases {
            assert_eq!(murmur2(key), expected, "murmur2({:?})", core::str::from_utf8(key));
        }
    }

    #[test]
    fn same_key_same_partition_and_never_negative() {
        for n in 1..20 {
            let p = partition_for_key(b"alice", n);
            assert!((0..n).contains(&p));
            assert_eq!(p, partition_for_key(b"alice", n));
        }
        // "21" hashes to a negative number: the sign bit is masked, not negated.
        assert_eq!(partition_for_key(b"21", 3), (-973932308i32 & 0x7fff_ffff) % 3);
    }
}
