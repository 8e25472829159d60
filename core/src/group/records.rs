//! The records the coordinator keeps in `__consumer_offsets`, in Kafka's own format, so that the
//! page can show their real bytes and a log written by the native server reads like Kafka's.
//!
//! Every key and value starts with an i16 version, then the fields of Kafka's schema
//! (`group-coordinator/src/main/resources/common/message/*.json`) in its non-flexible encoding:
//! - `OffsetCommitKey` v1: group, topic, partition (v0 has the same fields);
//! - `OffsetCommitValue` v3: offset, leader epoch, metadata, commit timestamp (v0-v2 are read);
//! - `GroupMetadataKey` v2: group;
//! - `GroupMetadataValue` v3: protocol type, generation, protocol, leader, current state
//!   timestamp and the members with their subscription and assignment (v0-v2 are read).
//!
//! A `None` value is a tombstone: compaction then drops the key (deleted offsets, a dead group).
//! Version 4 of the values is flexible (KIP-915) and not written by Kafka by default; it is not
//! read here and decodes as [`RecordError::UnknownValueVersion`].

use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

pub use super::wire::RecordError;
use super::wire::{Reader, Writer};

/// The version Kafka writes for offset commit keys.
pub const OFFSET_COMMIT_KEY_VERSION: i16 = 1;
/// The version Kafka writes for group metadata keys.
pub const GROUP_METADATA_KEY_VERSION: i16 = 2;
/// The version Kafka writes for offset commit values (without an expire timestamp).
pub const OFFSET_COMMIT_VALUE_VERSION: i16 = 3;
/// The version Kafka writes for group metadata values (with static members' instance ids).
pub const GROUP_METADATA_VALUE_VERSION: i16 = 3;

/// A `__consumer_offsets` key: what the record is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RecordKey {
    /// A group's committed offset for one partition.
    OffsetCommit { group: Arc<str>, topic: Arc<str>, partition: i32 },
    /// A group's membership and assignment.
    GroupMetadata { group: Arc<str> },
}

/// A committed offset, as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OffsetCommitValue {
    pub offset: i64,
    /// The leader epoch of the last consumed record, -1 when unknown (from v3; older versions
    /// read as -1).
    pub leader_epoch: i32,
    pub metadata: Arc<str>,
    pub commit_timestamp_ms: i64,
    /// Only version 1 has it (a per-commit retention, removed by KIP-211).
    pub expire_timestamp_ms: Option<i64>,
}

/// One member as the group metadata record stores it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberMetadataRecord {
    pub member_id: Arc<str>,
    pub group_instance_id: Option<Arc<str>>,
    pub client_id: Arc<str>,
    pub client_host: Arc<str>,
    pub rebalance_timeout_ms: i32,
    pub session_timeout_ms: i32,
    /// The metadata the member sent for the group's protocol.
    pub subscription: Bytes,
    pub assignment: Bytes,
}

/// A group's state as stored after each completed rebalance (and when it becomes empty).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupMetadataValue {
    /// Empty for a group that only stores offsets.
    pub protocol_type: Arc<str>,
    pub generation: i32,
    pub protocol: Option<Arc<str>>,
    pub leader: Option<Arc<str>>,
    /// When the group entered its current state; -1 when unknown (before v2).
    pub current_state_timestamp_ms: i64,
    pub members: Vec<MemberMetadataRecord>,
}

impl RecordKey {
    /// The group the record belongs to.
    pub fn group(&self) -> &Arc<str> {
        match self {
            RecordKey::OffsetCommit { group, .. } | RecordKey::GroupMetadata { group } => group,
        }
    }

    /// The key's bytes, with the version Kafka writes.
    pub fn encode(&self) -> Bytes {
        let mut writer = Writer::default();
        match self {
            RecordKey::OffsetCommit { group, topic, partition } => {
                writer.i16(OFFSET_COMMIT_KEY_VERSION);
                writer.string(group);
                writer.string(topic);
                writer.i32(*partition);
            }
            RecordKey::GroupMetadata { group } => {
                writer.i16(GROUP_METADATA_KEY_VERSION);
                writer.string(group);
            }
        }
        writer.finish()
    }

    /// Reads a key of version 0 or 1 (offset commit) or 2 (group metadata).
    pub fn decode(bytes: &[u8]) -> Result<RecordKey, RecordError> {
        let mut reader = Reader::new(bytes);
        let key = match reader.i16()? {
            0 | 1 => {
                RecordKey::OffsetCommit { group: reader.string()?, topic: reader.string()?, partition: reader.i32()? }
            }
            2 => RecordKey::GroupMetadata { group: reader.string()? },
            version => return Err(RecordError::UnknownKeyVersion(version)),
        };
        reader.end()?;
        Ok(key)
    }
}

impl OffsetCommitValue {
    /// The value's bytes: version 3, or version 1 when it carries an expire timestamp.
    pub fn encode(&self) -> Bytes {
        let mut writer = Writer::default();
        match self.expire_timestamp_ms {
            None => {
                writer.i16(OFFSET_COMMIT_VALUE_VERSION);
                writer.i64(self.offset);
                writer.i32(self.leader_epoch);
                writer.string(&self.metadata);
                writer.i64(self.commit_timestamp_ms);
            }
            Some(expire_timestamp_ms) => {
                writer.i16(1);
                writer.i64(self.offset);
                writer.string(&self.metadata);
                writer.i64(self.commit_timestamp_ms);
                writer.i64(expire_timestamp_ms);
            }
        }
        writer.finish()
    }

    /// Reads versions 0 to 3.
    pub fn decode(bytes: &[u8]) -> Result<OffsetCommitValue, RecordError> {
        let mut reader = Reader::new(bytes);
        let version = reader.i16()?;
        if !(0..=3).contains(&version) {
            return Err(RecordError::UnknownValueVersion(version));
        }
        let offset = reader.i64()?;
        let leader_epoch = if version >= 3 { reader.i32()? } else { -1 };
        let metadata = reader.string()?;
        let commit_timestamp_ms = reader.i64()?;
        let expire_timestamp_ms = if version == 1 { Some(reader.i64()?) } else { None };
        reader.end()?;
        Ok(OffsetCommitValue { offset, leader_epoch, metadata, commit_timestamp_ms, expire_timestamp_ms })
    }
}

impl GroupMetadataValue {
    /// The value's bytes, version 3.
    pub fn encode(&self) -> Bytes {
        let mut writer = Writer::default();
        writer.i16(GROUP_METADATA_VALUE_VERSION);
        writer.string(&self.protocol_type);
        writer.i32(self.generation);
        writer.nullable_string(self.protocol.as_deref());
        writer.nullable_string(self.leader.as_deref());
        writer.i64(self.current_state_timestamp_ms);
        let count = i32::try_from(self.members.len()).expect("fewer than 2^31 members");
        writer.i32(count);
        for member in &self.members {
            writer.string(&member.member_id);
            writer.nullable_string(member.group_instance_id.as_deref());
            writer.string(&member.client_id);
            writer.string(&member.client_host);
            writer.i32(member.rebalance_timeout_ms);
            writer.i32(member.session_timeout_ms);
            writer.bytes(&member.subscription);
            writer.bytes(&member.assignment);
        }
        writer.finish()
    }

    /// Reads versions 0 to 3.
    pub fn decode(bytes: &[u8]) -> Result<GroupMetadataValue, RecordError> {
        let mut reader = Reader::new(bytes);
        let version = reader.i16()?;
        if !(0..=3).contains(&version) {
            return Err(RecordError::UnknownValueVersion(version));
        }
        let protocol_type = reader.string()?;
        let generation = reader.i32()?;
        let protocol = reader.nullable_string()?;
        let leader = reader.nullable_string()?;
        let current_state_timestamp_ms = if version >= 2 { reader.i64()? } else { -1 };
        let count = usize::try_from(reader.i32()?).map_err(|_| RecordError::InvalidLength)?;
        // Each member takes at least 20 bytes: a count larger than that cannot be real, and
        // must not reserve memory.
        let mut members = Vec::with_capacity(count.min(bytes.len() / 20));
        for _ in 0..count {
            let member_id = reader.string()?;
            let group_instance_id = if version >= 3 { reader.nullable_string()? } else { None };
            let client_id = reader.string()?;
            let client_host = reader.string()?;
            let rebalance_timeout_ms = if version >= 1 { reader.i32()? } else { -1 };
            let session_timeout_ms = reader.i32()?;
            let subscription = reader.bytes()?;
            let assignment = reader.bytes()?;
            members.push(MemberMetadataRecord {
                member_id,
                group_instance_id,
                client_id,
                client_host,
                rebalance_timeout_ms: if version >= 1 { rebalance_timeout_ms } else { session_timeout_ms },
                session_timeout_ms,
                subscription,
                assignment,
            });
        }
        reader.end()?;
        Ok(GroupMetadataValue { protocol_type, generation, protocol, leader, current_state_timestamp_ms, members })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn offset_commit_key_is_version_1_group_topic_partition() {
        let key = RecordKey::OffsetCommit { group: "g".into(), topic: "t".into(), partition: 2 };
        assert_eq!(&key.encode()[..], &[0, 1, 0, 1, b'g', 0, 1, b't', 0, 0, 0, 2]);
        assert_eq!(RecordKey::decode(&key.encode()), Ok(key));
    }

    #[test]
    fn group_metadata_key_is_version_2_group() {
        let key = RecordKey::GroupMetadata { group: "g".into() };
        assert_eq!(&key.encode()[..], &[0, 2, 0, 1, b'g']);
        assert_eq!(RecordKey::decode(&key.encode()), Ok(key));
    }

    #[test]
    fn offset_commit_value_v3_is_byte_exact() {
        let value = OffsetCommitValue {
            offset: 5,
            leader_epoch: 3,
            metadata: "m".into(),
            commit_timestamp_ms: 0x0102,
            expire_timestamp_ms: None,
        };
        #[rustfmt::skip]
        let expected = [
            0, 3,                         // version
            0, 0, 0, 0, 0, 0, 0, 5,       // offset
            0, 0, 0, 3,                   // leader epoch
            0, 1, b'm',                   // metadata
            0, 0, 0, 0, 0, 0, 1, 2,       // commit timestamp
        ];
        assert_eq!(&value.encode()[..], &expected);
        assert_eq!(OffsetCommitValue::decode(&expected), Ok(value));
    }

    #[test]
    fn offset_commit_value_v1_carries_the_expire_timestamp_and_no_leader_epoch() {
        let value = OffsetCommitValue {
            offset: 1,
            leader_epoch: -1,
            metadata: "".into(),
            commit_timestamp_ms: 2,
            expire_timestamp_ms: Some(3),
        };
        let bytes = value.encode();
        assert_eq!(bytes.len(), 2 + 8 + 2 + 8 + 8);
        assert_eq!(OffsetCommitValue::decode(&bytes), Ok(value));
    }

    #[test]
    fn group_metadata_value_v3_is_byte_exact() {
        let value = GroupMetadataValue {
            protocol_type: "consumer".into(),
            generation: 1,
            protocol: Some("range".into()),
            leader: Some("m-1".into()),
            current_state_timestamp_ms: 9,
            members: vec![MemberMetadataRecord {
                member_id: "m-1".into(),
                group_instance_id: None,
                client_id: "c".into(),
                client_host: "/h".into(),
                rebalance_timeout_ms: 300_000,
                session_timeout_ms: 45_000,
                subscription: Bytes::from_static(&[1, 2]),
                assignment: Bytes::from_static(&[3]),
            }],
        };
        let mut expected = vec![0u8, 3];
        expected.extend_from_slice(&[0, 8]);
        expected.extend_from_slice(b"consumer");
        expected.extend_from_slice(&[0, 0, 0, 1]);
        expected.extend_from_slice(&[0, 5]);
        expected.extend_from_slice(b"range");
        expected.extend_from_slice(&[0, 3]);
        expected.extend_from_slice(b"m-1");
        expected.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 9]);
        expected.extend_from_slice(&[0, 0, 0, 1]); // one member
        expected.extend_from_slice(&[0, 3]);
        expected.extend_from_slice(b"m-1");
        expected.extend_from_slice(&[0xff, 0xff]); // no instance id
        expected.extend_from_slice(&[0, 1, b'c', 0, 2, b'/', b'h']);
        expected.extend_from_slice(&300_000i32.to_be_bytes());
        expected.extend_from_slice(&45_000i32.to_be_bytes());
        expected.extend_from_slice(&[0, 0, 0, 2, 1, 2, 0, 0, 0, 1, 3]);
        assert_eq!(&value.encode()[..], &expected[..]);
        assert_eq!(GroupMetadataValue::decode(&expected), Ok(value));
    }

    #[test]
    fn group_metadata_value_v0_reads_without_the_newer_fields() {
        let mut bytes = vec![0u8, 0, 0, 0, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0];
        let value = GroupMetadataValue::decode(&bytes).unwrap();
        assert_eq!((value.generation, value.protocol, value.current_state_timestamp_ms), (4, None, -1));
        bytes.push(0);
        assert_eq!(GroupMetadataValue::decode(&bytes), Err(RecordError::TrailingBytes));
    }

    #[test]
    fn bad_bytes_give_errors_not_panics() {
        assert_eq!(RecordKey::decode(&[0, 9, 0, 0]), Err(RecordError::UnknownKeyVersion(9)));
        assert_eq!(RecordKey::decode(&[0]), Err(RecordError::Truncated));
        assert_eq!(OffsetCommitValue::decode(&[0, 4]), Err(RecordError::UnknownValueVersion(4)));
        // A member count far beyond the bytes present.
        let bytes = [0u8, 3, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0, 0, 0];
        assert_eq!(GroupMetadataValue::decode(&bytes), Err(RecordError::Truncated));
        for cut in 0..12 {
            let key = RecordKey::OffsetCommit { group: "g".into(), topic: "t".into(), partition: 2 }.encode();
            assert!(RecordKey::decode(&key[..cut]).is_err());
        }
    }
}
