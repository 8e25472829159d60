//! Which partition of an internal topic holds a key: the rule that picks a transactional id's
//! coordinator (`__transaction_state`) and a group's (`__consumer_offsets`).
//!
//! Kafka places both with `Utils.abs(key.hashCode()) % partitions`, where `hashCode` is Java's
//! `String.hashCode` over UTF-16 code units and `Utils.abs` maps `Integer.MIN_VALUE` to 0. The
//! result must be the same as Kafka's, or a real client's FindCoordinator would name a broker
//! that does not hold the key.

/// The internal topic holding the transaction coordinators' state.
pub const TRANSACTION_STATE_TOPIC: &str = "__transaction_state";

/// The internal topic holding the group coordinators' state and committed offsets.
pub const CONSUMER_OFFSETS_TOPIC: &str = "__consumer_offsets";

/// Java's `String.hashCode`: `h = 31 * h + c` over the UTF-16 code units, wrapping.
pub fn java_string_hash(key: &str) -> i32 {
    key.encode_utf16().fold(0i32, |hash, unit| hash.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// Kafka's `Utils.abs`: the absolute value, except that `i32::MIN` (which has none) gives 0.
pub fn kafka_abs(value: i32) -> i32 {
    if value == i32::MIN {
        0
    } else {
        value.abs()
    }
}

/// The partition, out of `partitions`, that holds `key` (a transactional id or a group id).
pub fn partition_for(key: &str, partitions: i32) -> i32 {
    assert!(partitions > 0, "an internal topic has at least one partition, not {partitions}");
    kafka_abs(java_string_hash(key)) % partitions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_string_hash_matches_javas_well_known_values() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        // 31 * 97 + 98.
        assert_eq!(java_string_hash("ab"), 3105);
        assert_eq!(java_string_hash("hello"), 99_162_322);
        // The classic collision: both are 31 * 65 + 97 = 31 * 66 + 66 = 2112.
        assert_eq!(java_string_hash("Aa"), 2112);
        assert_eq!(java_string_hash("BB"), 2112);
        // A string whose hash is Integer.MIN_VALUE.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
    }

    #[test]
    fn java_string_hash_counts_utf16_code_units_not_bytes_or_chars() {
        // U+00E9 is one UTF-16 unit (0xE9 = 233) but two UTF-8 bytes.
        assert_eq!(java_string_hash("\u{e9}"), 233);
        // U+1F600 is the surrogate pair D83D DE00: 0xD83D * 31 + 0xDE00.
        assert_eq!(java_string_hash("\u{1F600}"), 55_357 * 31 + 56_832);
    }

    #[test]
    fn partition_for_is_kafkas_abs_hash_modulo_partitions() {
        assert_eq!(partition_for("hello", 50), 99_162_322 % 50);
        assert_eq!(partition_for("Aa", 50), 12);
        // Utils.abs(Integer.MIN_VALUE) is 0, not a negative partition.
        assert_eq!(partition_for("polygenelubricants", 50), 0);
        assert_eq!(partition_for("anything", 1), 0);
    }

    #[test]
    fn partition_for_takes_the_absolute_value_of_a_negative_hash() {
        // "hello world!" hashes to a negative number; the partition must not be negative.
        let hash = java_string_hash("hello world!");
        assert!(hash < 0, "the test needs a negative hash, got {hash}");
        assert_eq!(partition_for("hello world!", 50), (-hash) % 50);
        assert_eq!(hash, -217_287_203);
        assert_eq!(partition_for("hello world!", 50), 3);
    }
}
