//! A group's committed offsets: OffsetCommit from a member, and OffsetFetch, which a member
//! uses to know where to start and `groups --describe` to show where a group stands. Both go
//! to the group's coordinator.

use std::collections::BTreeMap;

use kafka_protocol::messages::offset_commit_request::{OffsetCommitRequestPartition, OffsetCommitRequestTopic};
use kafka_protocol::messages::offset_fetch_request::OffsetFetchRequestTopic;
use kafka_protocol::messages::{GroupId, OffsetCommitRequest, OffsetFetchRequest};
use kafka_protocol::protocol::StrBytes;

use super::bootstrap::Client;
use super::fetch::topic_name;
use super::group::GroupMember;
use super::{check, ClientError};

/// OffsetCommit v8 is the newest with the classic protocol's generation semantics.
const OFFSET_COMMIT_VERSION: i16 = 8;
/// OffsetFetch v7 is the newest asking for one group (v8 batches groups).
const OFFSET_FETCH_VERSION: i16 = 7;

/// Each topic's committed offsets, by partition.
pub type Committed = BTreeMap<String, BTreeMap<i32, i64>>;

/// Commits `offsets` (the next offset to read, per partition of `topic`) for `member`'s
/// generation.
pub async fn commit(
    client: &mut Client,
    member: &GroupMember,
    topic: &str,
    offsets: &BTreeMap<i32, i64>,
) -> Result<(), ClientError> {
    let request = commit_request(member.group_id(), member.generation_id(), member.member_id(), topic, offsets);
    let response = client.broker(member.coordinator()).await?.call(&request, OFFSET_COMMIT_VERSION).await?;
    for topic_answer in &response.topics {
        for partition in &topic_answer.partitions {
            check(partition.error_code, || {
                format!(
                    "committing the offset of {topic}-{} for group '{}'",
                    partition.partition_index,
                    member.group_id()
                )
            })?;
        }
    }
    Ok(())
}

/// The offsets `group_id` has committed, asked of broker `coordinator`: for `topics` (each
/// with the partitions wanted) or, for `None`, every partition the group has committed.
/// Partitions without a commit are left out.
pub async fn committed(
    client: &mut Client,
    coordinator: i32,
    group_id: &str,
    topics: Option<&BTreeMap<String, Vec<i32>>>,
) -> Result<Committed, ClientError> {
    let request = fetch_request(group_id, topics);
    let response = client.broker(coordinator).await?.call(&request, OFFSET_FETCH_VERSION).await?;
    check(response.error_code, || format!("reading the offsets of group '{group_id}'"))?;
    let mut committed = Committed::new();
    for topic in &response.topics {
        for partition in &topic.partitions {
            let name = topic.name.0.as_str();
            check(partition.error_code, || {
                format!("reading the offset of {name}-{} for group '{group_id}'", partition.partition_index)
            })?;
            if partition.committed_offset >= 0 {
                committed
                    .entry(name.to_string())
                    .or_default()
                    .insert(partition.partition_index, partition.committed_offset);
            }
        }
    }
    Ok(committed)
}

/// An OffsetCommit of `offsets` for one topic, by a member of generation `generation_id`.
pub fn commit_request(
    group_id: &str,
    generation_id: i32,
    member_id: &str,
    topic: &str,
    offsets: &BTreeMap<i32, i64>,
) -> OffsetCommitRequest {
    let partitions = offsets
        .iter()
        .map(|(&partition, &offset)| {
            OffsetCommitRequestPartition::default().with_partition_index(partition).with_committed_offset(offset)
        })
        .collect();
    OffsetCommitRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group_id.to_string())))
        .with_generation_id_or_member_epoch(generation_id)
        .with_member_id(StrBytes::from_string(member_id.to_string()))
        .with_topics(vec![OffsetCommitRequestTopic::default().with_name(topic_name(topic)).with_partitions(partitions)])
}

/// An OffsetFetch for one group: the listed partitions, or all (a null topic list).
pub fn fetch_request(group_id: &str, topics: Option<&BTreeMap<String, Vec<i32>>>) -> OffsetFetchRequest {
    let topics = topics.map(|topics| {
        topics
            .iter()
            .map(|(name, partitions)| {
                OffsetFetchRequestTopic::default()
                    .with_name(topic_name(name))
                    .with_partition_indexes(partitions.clone())
            })
            .collect()
    });
    OffsetFetchRequest::default()
        .with_group_id(GroupId(StrBytes::from_string(group_id.to_string())))
        .with_topics(topics)
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::protocol::Encodable;

    #[test]
    fn a_commit_names_the_generation_and_every_partition() {
        let request = commit_request("g", 4, "m-1", "orders", &BTreeMap::from([(0, 10), (2, 7)]));
        assert_eq!(request.generation_id_or_member_epoch, 4);
        assert_eq!(request.member_id.as_str(), "m-1");
        let partitions: Vec<(i32, i64)> =
            request.topics[0].partitions.iter().map(|p| (p.partition_index, p.committed_offset)).collect();
        assert_eq!(partitions, [(0, 10), (2, 7)]);
        assert!(request.encode(&mut BytesMut::new(), OFFSET_COMMIT_VERSION).is_ok());
    }

    #[test]
    fn an_offset_fetch_for_all_partitions_sends_a_null_topic_list() {
        assert_eq!(fetch_request("g", None).topics, None);
        let wanted = BTreeMap::from([("orders".to_string(), vec![0, 1])]);
        let request = fetch_request("g", Some(&wanted));
        assert_eq!(request.topics.as_ref().map(|t| t[0].partition_indexes.clone()), Some(vec![0, 1]));
        assert!(request.encode(&mut BytesMut::new(), OFFSET_FETCH_VERSION).is_ok());
    }
}
