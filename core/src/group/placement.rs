//! Which `__consumer_offsets` partition a group lives in, and so which broker coordinates it.
//!
//! Kafka places a group with `Utils.abs(groupId.hashCode()) % offsets.topic.num.partitions`
//! (`GroupMetadataManager.partitionFor`), where `hashCode` is Java's `String.hashCode` over the
//! UTF-16 code units and `Utils.abs` maps `Integer.MIN_VALUE` to 0. Clients never compute this
//! themselves (they ask FindCoordinator), but the native server must put a group where a real
//! Kafka cluster with the same partition count would.

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

/// The `__consumer_offsets` partition that holds `group_id`'s offsets and metadata.
pub fn partition_for(group_id: &str, partitions: i32) -> i32 {
    assert!(partitions > 0, "offsets.topic.num.partitions must be positive, got {partitions}");
    kafka_abs(java_string_hash(group_id)) % partitions
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
}
