//! Which partition of an internal topic holds a key (and so which broker coordinates it): the rule that picks a transactional id's
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

/// Java's `String.hashCode`: `h = 31 * h + c` over the UTF-16 code units, wrapping as `int` does.
pub fn java_string_hash(text: &str) -> i32 {
    text.encode_utf16().fold(0i32, |hash, unit| hash.wrapping_mul(31).wrapping_add(i32::from(unit)))
}

/// Kafka's `Utils.abs`: the absolute value, except that `i32::MIN` (which has none) gives 0.
pub fn kafka_abs(value: i32) -> i32 {
    if value == i32::MIN {
        0
    } else {
        value.abs()
    }
}

/// The partition of an internal topic with `partitions` partitions that holds `key`.
pub fn partition_for(key: &str, partitions: i32) -> i32 {
    assert!(partitions > 0, "an internal topic needs partitions, got {partitions}");
    kafka_abs(java_string_hash(key)) % partitions
}

#[cfg(test)]
mod tests {
    use super::*;

    // The expected hashes were computed from Java's algorithm over each string's UTF-16 units.

    #[test]
    fn hash_matches_java_string_hash_code() {
        assert_eq!(java_string_hash(""), 0);
        assert_eq!(java_string_hash("a"), 97);
        assert_eq!(java_string_hash("my-group"), -1_906_497_762);
        assert_eq!(java_string_hash("test-group"), 627_841_412);
        assert_eq!(java_string_hash("console-consumer-12345"), 158_455_506);
    }

    #[test]
    fn hash_runs_over_utf16_code_units_not_bytes_or_chars() {
        // ü is one UTF-16 unit (two UTF-8 bytes); 😀 is a surrogate pair (four UTF-8 bytes).
        assert_eq!(java_string_hash("grüppe"), -1_233_264_812);
        assert_eq!(java_string_hash("😀"), 0xD83D * 31 + 0xDE00);
    }

    #[test]
    fn partition_for_matches_kafka_with_the_default_fifty_partitions() {
        assert_eq!(partition_for("my-group", 50), 12);
        assert_eq!(partition_for("test-group", 50), 12);
        assert_eq!(partition_for("a", 50), 47);
        assert_eq!(partition_for("console-consumer-12345", 50), 6);
        assert_eq!(partition_for("😀", 50), 49);
    }

    #[test]
    fn a_hash_of_int_min_goes_to_partition_zero() {
        // A well-known string whose Java hashCode is Integer.MIN_VALUE.
        assert_eq!(java_string_hash("polygenelubricants"), i32::MIN);
        assert_eq!(partition_for("polygenelubricants", 7), 0);
        assert_eq!(kafka_abs(-5), 5);
    }

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
