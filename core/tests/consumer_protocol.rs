//! The consumer protocol codec: round trips at every version, hand-written bytes, a cross-check
//! against an independent implementation (the `kafka-protocol` crate's
//! `ConsumerProtocolSubscription` and `ConsumerProtocolAssignment`), Kafka's forward
//! compatibility, and inputs that are truncated or garbage.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition as TheirAssignedPartitions;
use kafka_protocol::messages::consumer_protocol_subscription::TopicPartition as TheirOwnedPartitions;
use kafka_protocol::messages::{ConsumerProtocolAssignment, ConsumerProtocolSubscription, TopicName};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafkalab_core::assignor::consumer_protocol::{
    decode_assignment, decode_subscription, encode_assignment, encode_subscription, Assignment, ProtocolError,
    ProtocolField, Subscription,
};
use kafkalab_core::TopicPartition;
use proptest::prelude::*;

fn topic_strategy() -> impl Strategy<Value = Arc<str>> {
    // Non-ASCII included, so lengths are counted in bytes.
    "[a-zé._-]{0,12}".prop_map(Arc::from)
}

fn bytes_strategy() -> impl Strategy<Value = Option<Bytes>> {
    proptest::option::of(proptest::collection::vec(any::<u8>(), 0..24).prop_map(Bytes::from))
}

/// Partitions sorted by topic then index, as encoding sorts them, so a round trip is exact.
fn sorted_partitions_strategy() -> impl Strategy<Value = Vec<TopicPartition>> {
    proptest::collection::btree_set((topic_strategy(), 0..40i32), 0..12)
        .prop_map(|set| set.into_iter().map(|(topic, index)| TopicPartition::new(topic, index)).collect())
}

/// A subscription in the form encoding produces: topics and owned partitions sorted, and no
/// empty rack id (which decodes as none).
fn subscription_strategy() -> impl Strategy<Value = Subscription> {
    (
        proptest::collection::vec(topic_strategy(), 0..6),
        bytes_strategy(),
        sorted_partitions_strategy(),
        any::<i32>(),
        proptest::option::of("[a-z0-9-]{1,8}".prop_map(Arc::from)),
    )
        .prop_map(|(mut topics, user_data, owned_partitions, generation_id, rack_id)| {
            topics.sort();
            Subscription { topics, user_data, owned_partitions, generation_id, rack_id }
        })
}

fn assignment_strategy() -> impl Strategy<Value = Assignment> {
    (sorted_partitions_strategy(), bytes_strategy())
        .prop_map(|(partitions, user_data)| Assignment { partitions, user_data })
}

/// What survives encoding at `version`: the fields it lacks fall back to their defaults.
fn as_of_version(subscription: &Subscription, version: i16) -> Subscription {
    let mut expected = subscription.clone();
    if version < 1 {
        expected.owned_partitions.clear();
    }
    if version < 2 {
        expected.generation_id = -1;
    }
    if version < 3 {
        expected.rack_id = None;
    }
    expected
}

fn str_bytes(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_owned())
}

fn theirs_from_subscription(subscription: &Subscription) -> ConsumerProtocolSubscription {
    let mut owned: Vec<TheirOwnedPartitions> = Vec::new();
    for partition in &subscription.owned_partitions {
        if owned.last().is_none_or(|group| group.topic.0.as_str() != &*partition.topic) {
            owned.push(TheirOwnedPartitions::default().with_topic(TopicName(str_bytes(&partition.topic))));
        }
        owned.last_mut().unwrap().partitions.push(partition.partition.0);
    }
    ConsumerProtocolSubscription::default()
        .with_topics(subscription.topics.iter().map(|topic| str_bytes(topic)).collect())
        .with_user_data(subscription.user_data.clone())
        .with_owned_partitions(owned)
        .with_generation_id(subscription.generation_id)
        .with_rack_id(subscription.rack_id.as_deref().map(str_bytes))
}

fn subscription_from_theirs(theirs: &ConsumerProtocolSubscription) -> Subscription {
    Subscription {
        topics: theirs.topics.iter().map(|topic| Arc::from(topic.as_str())).collect(),
        user_data: theirs.user_data.clone(),
        owned_partitions: theirs
            .owned_partitions
            .iter()
            .flat_map(|group| group.partitions.iter().map(|index| TopicPartition::new(group.topic.0.as_str(), *index)))
            .collect(),
        generation_id: theirs.generation_id,
        rack_id: theirs.rack_id.as_ref().map(|rack| Arc::from(rack.as_str())),
    }
}

fn theirs_from_assignment(assignment: &Assignment) -> ConsumerProtocolAssignment {
    let mut groups: Vec<TheirAssignedPartitions> = Vec::new();
    for partition in &assignment.partitions {
        if groups.last().is_none_or(|group| group.topic.0.as_str() != &*partition.topic) {
            groups.push(TheirAssignedPartitions::default().with_topic(TopicName(str_bytes(&partition.topic))));
        }
        groups.last_mut().unwrap().partitions.push(partition.partition.0);
    }
    ConsumerProtocolAssignment::default().with_assigned_partitions(groups).with_user_data(assignment.user_data.clone())
}

/// Their encoding, behind the `i16` version header their message types leave to the caller.
fn with_version_header(version: i16, encode: impl FnOnce(&mut BytesMut)) -> Bytes {
    let mut buffer = BytesMut::new();
    buffer.put_i16(version);
    encode(&mut buffer);
    buffer.freeze()
}

#[test]
fn a_version_0_subscription_has_kafkas_exact_bytes() {
    let subscription =
        Subscription { user_data: Some(Bytes::from_static(b"\x07")), ..Subscription::new(["b".into(), "a".into()]) };
    let expected: &[u8] = &[
        0, 0, // version 0
        0, 0, 0, 2, // two topics, sorted:
        0, 1, b'a', 0, 1, b'b', //
        0, 0, 0, 1, 7, // user data: one byte
    ];
    assert_eq!(&encode_subscription(&subscription, 0)[..], expected);
}

#[test]
fn a_version_3_subscription_groups_owned_partitions_by_topic() {
    let subscription = Subscription {
        topics: vec!["t".into()],
        user_data: None,
        owned_partitions: vec![TopicPartition::new("t", 2), TopicPartition::new("t", 0)],
        generation_id: 5,
        rack_id: None,
    };
    let expected: &[u8] = &[
        0, 3, // version 3
        0, 0, 0, 1, 0, 1, b't', // topics ["t"]
        0xff, 0xff, 0xff, 0xff, // user data null
        0, 0, 0, 1, 0, 1, b't', 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 2, // owned: t [0, 2], sorted
        0, 0, 0, 5, // generation 5
        0xff, 0xff, // rack id null
    ];
    assert_eq!(&encode_subscription(&subscription, 3)[..], expected);
}

#[test]
fn an_assignment_groups_partitions_by_topic_in_order_of_first_appearance() {
    let assignment = Assignment {
        partitions: vec![TopicPartition::new("b", 1), TopicPartition::new("a", 0), TopicPartition::new("b", 0)],
        user_data: None,
    };
    let decoded = decode_assignment(&encode_assignment(&assignment, 0)).unwrap();
    assert_eq!(
        decoded.partitions,
        [TopicPartition::new("b", 1), TopicPartition::new("b", 0), TopicPartition::new("a", 0)]
    );
}

#[test]
fn an_empty_rack_id_decodes_as_none() {
    let subscription = Subscription { rack_id: Some("".into()), ..Subscription::new([]) };
    assert_eq!(decode_subscription(&encode_subscription(&subscription, 3)).unwrap().rack_id, None);
}

#[test]
fn a_newer_version_is_read_as_version_3_and_trailing_bytes_are_ignored() {
    let subscription = Subscription {
        topics: vec!["orders".into()],
        user_data: None,
        owned_partitions: vec![TopicPartition::new("orders", 1)],
        generation_id: 9,
        rack_id: Some("rack-a".into()),
    };
    let mut future = BytesMut::from(&encode_subscription(&subscription, 3)[..]);
    future[..2].copy_from_slice(&7i16.to_be_bytes());
    future.put_slice(b"fields of version 7");
    assert_eq!(decode_subscription(&future).unwrap(), subscription);

    let assignment = Assignment { partitions: vec![TopicPartition::new("orders", 1)], user_data: None };
    let mut future = BytesMut::from(&encode_assignment(&assignment, 3)[..]);
    future[..2].copy_from_slice(&4i16.to_be_bytes());
    future.put_i32(42);
    assert_eq!(decode_assignment(&future).unwrap(), assignment);
}

#[test]
fn encoding_above_version_3_writes_version_3() {
    let bytes = encode_subscription(&Subscription::new(["t".into()]), 9);
    assert_eq!(&bytes[..2], &[0, 3]);
    assert_eq!(bytes, encode_subscription(&Subscription::new(["t".into()]), 3));
}

#[test]
fn a_negative_version_is_unsupported() {
    assert_eq!(decode_subscription(&[0xff, 0xff, 0, 0, 0, 0]), Err(ProtocolError::UnsupportedVersion { version: -1 }));
    assert_eq!(decode_assignment(&[0x80, 0x00]), Err(ProtocolError::UnsupportedVersion { version: i16::MIN }));
}

#[test]
fn a_null_topics_array_is_refused_where_it_starts() {
    let bytes = [0, 1, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(
        decode_subscription(&bytes),
        Err(ProtocolError::NullField { field: ProtocolField::Topics, position: 2 })
    );
}

#[test]
fn a_topic_that_is_not_utf8_is_refused() {
    let bytes = [0, 0, 0, 0, 0, 1, 0, 2, 0xc3, 0x28, 0xff, 0xff, 0xff, 0xff];
    assert_eq!(
        decode_subscription(&bytes),
        Err(ProtocolError::InvalidUtf8 { field: ProtocolField::Topic, position: 6 })
    );
}

#[test]
fn a_huge_declared_length_is_truncation_not_an_allocation() {
    let bytes = [0, 0, 0x7f, 0xff, 0xff, 0xff, 0, 1, b'a'];
    assert_eq!(
        decode_assignment(&bytes),
        Err(ProtocolError::Truncated { field: ProtocolField::Partitions, position: 9 })
    );
    assert!(matches!(decode_subscription(&bytes), Err(ProtocolError::Truncated { field: ProtocolField::Topic, .. })));
}

#[test]
fn empty_input_is_truncated_in_the_version() {
    assert_eq!(decode_subscription(&[]), Err(ProtocolError::Truncated { field: ProtocolField::Version, position: 0 }));
    assert_eq!(decode_assignment(&[0]), Err(ProtocolError::Truncated { field: ProtocolField::Version, position: 0 }));
}

proptest! {
    #[test]
    fn subscriptions_round_trip_at_every_version(subscription in subscription_strategy(), version in 0i16..=3) {
        let decoded = decode_subscription(&encode_subscription(&subscription, version)).unwrap();
        prop_assert_eq!(decoded, as_of_version(&subscription, version));
    }

    #[test]
    fn assignments_round_trip_at_every_version(assignment in assignment_strategy(), version in 0i16..=3) {
        let decoded = decode_assignment(&encode_assignment(&assignment, version)).unwrap();
        prop_assert_eq!(decoded, assignment);
    }

    #[test]
    fn kafka_protocol_crate_decodes_our_subscriptions(subscription in subscription_strategy(), version in 0i16..=3) {
        let bytes = encode_subscription(&subscription, version);
        prop_assert_eq!(i16::from_be_bytes([bytes[0], bytes[1]]), version);
        let mut body = bytes.slice(2..);
        let theirs = ConsumerProtocolSubscription::decode(&mut body, version).unwrap();
        prop_assert!(body.is_empty());
        prop_assert_eq!(subscription_from_theirs(&theirs), as_of_version(&subscription, version));
    }

    #[test]
    fn we_decode_the_kafka_protocol_crates_subscriptions_to_the_same_bytes(
        subscription in subscription_strategy(),
        version in 0i16..=3,
    ) {
        let theirs = theirs_from_subscription(&subscription);
        let bytes = with_version_header(version, |buffer| theirs.encode(buffer, version).unwrap());
        prop_assert_eq!(decode_subscription(&bytes).unwrap(), as_of_version(&subscription, version));
        prop_assert_eq!(encode_subscription(&subscription, version), bytes);
    }

    #[test]
    fn assignments_agree_with_the_kafka_protocol_crate(assignment in assignment_strategy(), version in 0i16..=3) {
        let ours = encode_assignment(&assignment, version);
        let theirs = theirs_from_assignment(&assignment);
        let their_bytes = with_version_header(version, |buffer| theirs.encode(buffer, version).unwrap());
        prop_assert_eq!(&ours, &their_bytes);
        let mut body = ours.slice(2..);
        prop_assert_eq!(ConsumerProtocolAssignment::decode(&mut body, version).unwrap(), theirs);
        prop_assert_eq!(decode_assignment(&their_bytes).unwrap(), assignment);
    }

    #[test]
    fn every_strict_prefix_is_an_error_not_a_panic(
        subscription in subscription_strategy(),
        assignment in assignment_strategy(),
        version in 0i16..=3,
    ) {
        let bytes = encode_subscription(&subscription, version);
        for length in 0..bytes.len() {
            prop_assert!(decode_subscription(&bytes[..length]).is_err(), "prefix of {} bytes decoded", length);
        }
        let bytes = encode_assignment(&assignment, version);
        for length in 0..bytes.len() {
            prop_assert!(decode_assignment(&bytes[..length]).is_err(), "prefix of {} bytes decoded", length);
        }
    }

    #[test]
    fn garbage_never_panics(version in -1i16..=5, body in proptest::collection::vec(any::<u8>(), 0..64)) {
        // Mostly a plausible version header, so decoding gets past it into the fields.
        let bytes = with_version_header(version, |buffer| buffer.put_slice(&body));
        let _ = decode_subscription(&bytes);
        let _ = decode_assignment(&bytes);
        let _ = decode_subscription(&body);
    }
}
