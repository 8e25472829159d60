//! Kafka's consumer protocol: the bytes a consumer puts in JoinGroup's protocol metadata (its
//! [`Subscription`]) and the bytes the group leader hands back through SyncGroup (each member's
//! [`Assignment`]). The coordinator relays them without looking inside; the leader decodes the
//! subscriptions, runs an assignor and encodes the assignments.
//!
//! The format is Kafka's `ConsumerProtocolSubscription` and `ConsumerProtocolAssignment`
//! (`clients/src/main/resources/common/message/`), versions 0 to 3, prefixed by an `i16` version,
//! in the classic non-flexible encoding: big-endian integers, strings with an `i16` length,
//! arrays with an `i32` length, nullable bytes with an `i32` length where -1 is null.
//!
//! | version | subscription adds                         | assignment |
//! |---------|-------------------------------------------|------------|
//! | 0       | topics, user data                         | partitions grouped by topic, user data |
//! | 1       | owned partitions, grouped by topic        | unchanged |
//! | 2       | generation id (-1 when absent)            | unchanged |
//! | 3       | rack id (nullable)                        | unchanged |
//!
//! As in Kafka's `ConsumerProtocol`: a version above 3 is read as version 3 (new versions may
//! only append fields), bytes after the last known field are ignored, nullable fields read any
//! negative length as null, an empty rack id reads as none, and encoding sorts a subscription's
//! topics and owned partitions. One difference: a string that is not UTF-8 is an error here,
//! where Java would decode it with replacement characters.

use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::{BufMut, Bytes, BytesMut};
use core::fmt;

use crate::ids::TopicPartition;

/// The newest version of both messages this codec knows.
pub const HIGHEST_VERSION: i16 = 3;

/// What a consumer tells the group leader when it joins (`ConsumerProtocolSubscription`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    /// The topics it subscribes to.
    pub topics: Vec<Arc<str>>,
    /// The assignor's own data (the eager sticky assignor's previous assignment, say).
    pub user_data: Option<Bytes>,
    /// The partitions it owns now (v1+); cooperative members keep them through a rebalance.
    pub owned_partitions: Vec<TopicPartition>,
    /// The generation in which it got `owned_partitions` (v2+); -1 when unknown.
    pub generation_id: i32,
    /// Its `client.rack` (v3+).
    pub rack_id: Option<Arc<str>>,
}

/// What the group leader gives one member (`ConsumerProtocolAssignment`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assignment {
    pub partitions: Vec<TopicPartition>,
    pub user_data: Option<Bytes>,
}

impl Subscription {
    /// A subscription to `topics` owning nothing, with no user data, generation or rack.
    pub fn new(topics: impl IntoIterator<Item = Arc<str>>) -> Self {
        Subscription {
            topics: topics.into_iter().collect(),
            user_data: None,
            owned_partitions: Vec::new(),
            generation_id: -1,
            rack_id: None,
        }
    }
}

/// The field a decoder was reading when it found a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProtocolField {
    Version,
    Topics,
    Topic,
    UserData,
    OwnedPartitions,
    AssignedPartitions,
    Partitions,
    Partition,
    GenerationId,
    RackId,
}

impl ProtocolField {
    /// The field's name in Kafka's JSON schema.
    pub const fn name(self) -> &'static str {
        match self {
            ProtocolField::Version => "Version",
            ProtocolField::Topics => "Topics",
            ProtocolField::Topic => "Topic",
            ProtocolField::UserData => "UserData",
            ProtocolField::OwnedPartitions => "OwnedPartitions",
            ProtocolField::AssignedPartitions => "AssignedPartitions",
            ProtocolField::Partitions => "Partitions",
            ProtocolField::Partition => "Partition",
            ProtocolField::GenerationId => "GenerationId",
            ProtocolField::RackId => "RackId",
        }
    }
}

/// Why bytes are not a valid subscription or assignment; `position` is the byte offset from the
/// start of the input (the version header included) where the bad field starts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProtocolError {
    /// The input ends inside `field` (Kafka's "Buffer underflow while parsing").
    Truncated { field: ProtocolField, position: usize },
    /// A version below 0 (Kafka: "Unsupported subscription version").
    UnsupportedVersion { version: i16 },
    /// A negative length for a field that cannot be null (Kafka: "non-nullable field ... was
    /// serialized as null").
    NullField { field: ProtocolField, position: usize },
    /// A string whose bytes are not UTF-8.
    InvalidUtf8 { field: ProtocolField, position: usize },
}

impl fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProtocolError::Truncated { field, position } => {
                write!(f, "input ends inside field {} at byte {position}", field.name())
            }
            ProtocolError::UnsupportedVersion { version } => {
                write!(f, "unsupported consumer protocol version {version}")
            }
            ProtocolError::NullField { field, position } => {
                write!(f, "non-nullable field {} was serialized as null at byte {position}", field.name())
            }
            ProtocolError::InvalidUtf8 { field, position } => {
                write!(f, "field {} at byte {position} is not UTF-8", field.name())
            }
        }
    }
}

/// Encodes `subscription` at `version` (a version above 3 is written as 3, as Kafka does).
/// Topics and owned partitions are sorted first, as Kafka's `ConsumerProtocol` sorts them.
///
/// # Panics
/// If `version` is negative or a string is longer than 32767 bytes: Kafka refuses both.
pub fn encode_subscription(subscription: &Subscription, version: i16) -> Bytes {
    let version = checked_encode_version(version);
    let mut topics = subscription.topics.clone();
    topics.sort();
    let mut owned = subscription.owned_partitions.clone();
    owned.sort();

    let mut buffer = BytesMut::new();
    buffer.put_i16(version);
    put_array_length(&mut buffer, topics.len());
    for topic in &topics {
        put_string(&mut buffer, topic);
    }
    put_nullable_bytes(&mut buffer, subscription.user_data.as_deref());
    if version >= 1 {
        put_grouped_partitions(&mut buffer, &owned);
    }
    if version >= 2 {
        buffer.put_i32(subscription.generation_id);
    }
    if version >= 3 {
        match &subscription.rack_id {
            Some(rack) => put_string(&mut buffer, rack),
            None => buffer.put_i16(-1),
        }
    }
    buffer.freeze()
}

/// Decodes a version-prefixed subscription. Fields a version lacks get their defaults: no owned
/// partitions, generation -1, no rack.
pub fn decode_subscription(bytes: &[u8]) -> Result<Subscription, ProtocolError> {
    let mut reader = Reader { bytes, position: 0 };
    let version = reader.read_version()?;
    let topic_count = reader.read_array_length(ProtocolField::Topics)?;
    let mut topics = Vec::with_capacity(topic_count.min(reader.remaining()));
    for _ in 0..topic_count {
        topics.push(reader.read_string(ProtocolField::Topic)?);
    }
    let user_data = reader.read_nullable_bytes(ProtocolField::UserData)?;
    let owned_partitions =
        if version >= 1 { reader.read_grouped_partitions(ProtocolField::OwnedPartitions)? } else { Vec::new() };
    let generation_id = if version >= 2 { reader.read_i32(ProtocolField::GenerationId)? } else { -1 };
    let rack_id = if version >= 3 { reader.read_nullable_string(ProtocolField::RackId)? } else { None };
    Ok(Subscription {
        topics,
        user_data,
        owned_partitions,
        generation_id,
        rack_id: rack_id.filter(|rack| !rack.is_empty()),
    })
}

/// Encodes `assignment` at `version` (above 3 written as 3). Partitions are grouped by topic in
/// the order topics first appear, keeping each topic's partitions in their order, as Kafka does.
///
/// # Panics
/// If `version` is negative or a topic is longer than 32767 bytes.
pub fn encode_assignment(assignment: &Assignment, version: i16) -> Bytes {
    let version = checked_encode_version(version);
    let mut buffer = BytesMut::new();
    buffer.put_i16(version);
    put_grouped_partitions(&mut buffer, &assignment.partitions);
    put_nullable_bytes(&mut buffer, assignment.user_data.as_deref());
    buffer.freeze()
}

/// Decodes a version-prefixed assignment; the partitions come out topic by topic.
pub fn decode_assignment(bytes: &[u8]) -> Result<Assignment, ProtocolError> {
    let mut reader = Reader { bytes, position: 0 };
    reader.read_version()?;
    let partitions = reader.read_grouped_partitions(ProtocolField::AssignedPartitions)?;
    let user_data = reader.read_nullable_bytes(ProtocolField::UserData)?;
    Ok(Assignment { partitions, user_data })
}

fn checked_encode_version(version: i16) -> i16 {
    assert!(version >= 0, "unsupported consumer protocol version {version}");
    version.min(HIGHEST_VERSION)
}

fn put_array_length(buffer: &mut BytesMut, length: usize) {
    buffer.put_i32(i32::try_from(length).expect("array longer than i32::MAX"));
}

fn put_string(buffer: &mut BytesMut, value: &str) {
    let length = i16::try_from(value.len()).unwrap_or_else(|_| panic!("string of {} bytes is too long", value.len()));
    buffer.put_i16(length);
    buffer.put_slice(value.as_bytes());
}

fn put_nullable_bytes(buffer: &mut BytesMut, value: Option<&[u8]>) {
    match value {
        Some(bytes) => {
            put_array_length(buffer, bytes.len());
            buffer.put_slice(bytes);
        }
        None => buffer.put_i32(-1),
    }
}

/// Writes `[topic, [partition]]`, one entry per topic in order of first appearance.
fn put_grouped_partitions(buffer: &mut BytesMut, partitions: &[TopicPartition]) {
    let mut groups: Vec<(&str, Vec<i32>)> = Vec::new();
    for partition in partitions {
        match groups.iter_mut().find(|(topic, _)| *topic == &*partition.topic) {
            Some((_, indexes)) => indexes.push(partition.partition.0),
            None => groups.push((&partition.topic, alloc::vec![partition.partition.0])),
        }
    }
    put_array_length(buffer, groups.len());
    for (topic, indexes) in groups {
        put_string(buffer, topic);
        put_array_length(buffer, indexes.len());
        for index in indexes {
            buffer.put_i32(index);
        }
    }
}

/// A read position in the input. Every read checks the length first, so a short input is a
/// [`ProtocolError::Truncated`], never a panic, and declared lengths are never trusted for
/// allocation beyond the bytes actually left.
struct Reader<'a> {
    bytes: &'a [u8],
    position: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.bytes.len() - self.position
    }

    fn take(&mut self, length: usize, field: ProtocolField, start: usize) -> Result<&'a [u8], ProtocolError> {
        if length > self.remaining() {
            return Err(ProtocolError::Truncated { field, position: start });
        }
        let slice = &self.bytes[self.position..self.position + length];
        self.position += length;
        Ok(slice)
    }

    fn read_i16(&mut self, field: ProtocolField) -> Result<i16, ProtocolError> {
        let start = self.position;
        let raw = self.take(2, field, start)?;
        Ok(i16::from_be_bytes([raw[0], raw[1]]))
    }

    fn read_i32(&mut self, field: ProtocolField) -> Result<i32, ProtocolError> {
        let start = self.position;
        let raw = self.take(4, field, start)?;
        Ok(i32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]))
    }

    fn read_version(&mut self) -> Result<i16, ProtocolError> {
        let version = self.read_i16(ProtocolField::Version)?;
        if version < 0 {
            return Err(ProtocolError::UnsupportedVersion { version });
        }
        Ok(version.min(HIGHEST_VERSION))
    }

    /// A non-nullable array's element count.
    fn read_array_length(&mut self, field: ProtocolField) -> Result<usize, ProtocolError> {
        let start = self.position;
        let length = self.read_i32(field)?;
        usize::try_from(length).map_err(|_| ProtocolError::NullField { field, position: start })
    }

    fn read_string(&mut self, field: ProtocolField) -> Result<Arc<str>, ProtocolError> {
        let start = self.position;
        let length = self.read_i16(field)?;
        let length = usize::try_from(length).map_err(|_| ProtocolError::NullField { field, position: start })?;
        self.read_utf8(length, field, start)
    }

    fn read_nullable_string(&mut self, field: ProtocolField) -> Result<Option<Arc<str>>, ProtocolError> {
        let start = self.position;
        let length = self.read_i16(field)?;
        match usize::try_from(length) {
            Ok(length) => self.read_utf8(length, field, start).map(Some),
            Err(_) => Ok(None),
        }
    }

    fn read_utf8(&mut self, length: usize, field: ProtocolField, start: usize) -> Result<Arc<str>, ProtocolError> {
        let raw = self.take(length, field, start)?;
        let text = core::str::from_utf8(raw).map_err(|_| ProtocolError::InvalidUtf8 { field, position: start })?;
        Ok(Arc::from(text))
    }

    fn read_nullable_bytes(&mut self, field: ProtocolField) -> Result<Option<Bytes>, ProtocolError> {
        let start = self.position;
        let length = self.read_i32(field)?;
        match usize::try_from(length) {
            Ok(length) => Ok(Some(Bytes::copy_from_slice(self.take(length, field, start)?))),
            Err(_) => Ok(None),
        }
    }

    /// Reads `[topic, [partition]]` and flattens it into topic partitions.
    fn read_grouped_partitions(&mut self, field: ProtocolField) -> Result<Vec<TopicPartition>, ProtocolError> {
        let topic_count = self.read_array_length(field)?;
        let mut partitions = Vec::new();
        for _ in 0..topic_count {
            let topic = self.read_string(ProtocolField::Topic)?;
            let count = self.read_array_length(ProtocolField::Partitions)?;
            partitions.reserve(count.min(self.remaining() / 4));
            for _ in 0..count {
                let index = self.read_i32(ProtocolField::Partition)?;
                partitions.push(TopicPartition::new(topic.clone(), index));
            }
        }
        Ok(partitions)
    }
}
