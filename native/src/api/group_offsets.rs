//! A group's committed offsets: OffsetCommit (key 8) and OffsetFetch (key 9), one core group
//! request per group to the connection's broker (OffsetFetch v8+ asks for several groups at
//! once: one core request each, gathered into one response).

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::messages::offset_commit_response::{OffsetCommitResponsePartition, OffsetCommitResponseTopic};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions, OffsetFetchResponseTopic,
    OffsetFetchResponseTopics,
};
use kafka_protocol::messages::{
    ApiKey, GroupId, OffsetCommitRequest, OffsetCommitResponse, OffsetFetchRequest, OffsetFetchResponse,
};
use kafka_protocol::protocol::{HeaderVersion, Message as _, VersionRange};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::group::protocol::{CommittedOffset, GroupRequest, GroupResponse, OffsetToCommit};
use kafkalab_core::message::Message;
use kafkalab_core::{Offset, TopicPartition};

use super::group_membership::{ask, shared, text, unexpected};
use super::{
    decode_served, encode_response, error_code, results_by_topic, topic_name, Answer, Context, Rejection, RequestPrefix,
};
use crate::exchange::Pending;

pub const OFFSET_COMMIT_VERSIONS: VersionRange = OffsetCommitRequest::VERSIONS;
pub const OFFSET_FETCH_VERSIONS: VersionRange = OffsetFetchRequest::VERSIONS;

pub fn offset_commit(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let (_, request): (_, OffsetCommitRequest) =
        decode_served(prefix, frame, ApiKey::OffsetCommit, OFFSET_COMMIT_VERSIONS)?;
    let offsets = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|p| OffsetToCommit {
                partition: TopicPartition::new(topic.name.0.as_str(), p.partition_index),
                offset: Offset(p.committed_offset),
                leader_epoch: p.committed_leader_epoch,
                metadata: p.committed_metadata.as_ref().map_or_else(|| "".into(), shared),
            })
        })
        .collect();
    let core = GroupRequest::OffsetCommit {
        group_id: shared(&request.group_id.0),
        generation_id: request.generation_id_or_member_epoch,
        member_id: shared(&request.member_id),
        group_instance_id: request.group_instance_id.as_ref().map(shared),
        offsets,
    };
    Ok(ask(context, ApiKey::OffsetCommit, prefix, core, |response| {
        let results = match response {
            GroupResponse::OffsetCommit { results } => results,
            _ => Vec::new(),
        };
        let entry =
            |index, error| OffsetCommitResponsePartition::default().with_partition_index(index).with_error_code(error);
        let topics = results_by_topic(results, entry)
            .into_iter()
            .map(|(name, partitions)| {
                OffsetCommitResponseTopic::default().with_name(topic_name(&name)).with_partitions(partitions)
            })
            .collect();
        OffsetCommitResponse::default().with_topics(topics)
    }))
}

/// One group's part of an OffsetFetch: the group and the partitions asked for (`None`: all).
struct Wanted {
    group_id: GroupId,
    partitions: Option<Vec<TopicPartition>>,
}

pub fn offset_fetch(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, OffsetFetchRequest) =
        decode_served(prefix, frame, ApiKey::OffsetFetch, OFFSET_FETCH_VERSIONS)?;
    let wanted: Vec<Wanted> = if version >= 8 {
        request
            .groups
            .iter()
            .map(|group| Wanted {
                group_id: group.group_id.clone(),
                partitions: group.topics.as_ref().map(|topics| {
                    topics
                        .iter()
                        .flat_map(|t| t.partition_indexes.iter().map(|&i| TopicPartition::new(t.name.0.as_str(), i)))
                        .collect()
                }),
            })
            .collect()
    } else {
        let partitions = request.topics.as_ref().map(|topics| {
            topics
                .iter()
                .flat_map(|t| t.partition_indexes.iter().map(|&i| TopicPartition::new(t.name.0.as_str(), i)))
                .collect()
        });
        vec![Wanted { group_id: request.group_id.clone(), partitions }]
    };
    let ids = wanted
        .iter()
        .map(|w| {
            let request = GroupRequest::OffsetFetch {
                group_id: shared(&w.group_id.0),
                partitions: w.partitions.clone(),
                require_stable: request.require_stable,
            };
            context.send(|request_id| Message::Group { request_id, request: Box::new(request) })
        })
        .collect();
    let correlation_id = header.correlation_id;
    Ok(Answer::Later(Pending::new(ids, move |answers| {
        let results: Vec<(Option<ErrorCode>, Vec<CommittedOffset>)> = answers
            .into_iter()
            .map(|answer| match answer {
                Message::GroupResponse { response, .. } => match *response {
                    GroupResponse::OffsetFetch { error, offsets } => (error, offsets),
                    _ => (Some(unexpected()), Vec::new()),
                },
                _ => (Some(unexpected()), Vec::new()),
            })
            .collect();
        let response = if version >= 8 {
            let groups = wanted
                .into_iter()
                .zip(results)
                .map(|(w, (error, offsets))| {
                    OffsetFetchResponseGroup::default()
                        .with_group_id(w.group_id)
                        .with_error_code(error_code(error))
                        .with_topics(by_topic(offsets, |name, partitions| {
                            OffsetFetchResponseTopics::default().with_name(topic_name(name)).with_partitions(
                                partitions
                                    .into_iter()
                                    .map(|o| {
                                        OffsetFetchResponsePartitions::default()
                                            .with_partition_index(o.partition.partition.0)
                                            .with_committed_offset(o.offset.map_or(-1, |x| x.0))
                                            .with_committed_leader_epoch(o.leader_epoch)
                                            .with_metadata(Some(text(&o.metadata)))
                                            .with_error_code(error_code(o.error))
                                    })
                                    .collect(),
                            )
                        }))
                })
                .collect();
            OffsetFetchResponse::default().with_groups(groups)
        } else {
            let (error, offsets) = results.into_iter().next().unwrap_or((Some(unexpected()), Vec::new()));
            OffsetFetchResponse::default().with_error_code(error_code(error)).with_topics(by_topic(
                offsets,
                |name, partitions| {
                    OffsetFetchResponseTopic::default().with_name(topic_name(name)).with_partitions(
                        partitions
                            .into_iter()
                            .map(|o| {
                                OffsetFetchResponsePartition::default()
                                    .with_partition_index(o.partition.partition.0)
                                    .with_committed_offset(o.offset.map_or(-1, |x| x.0))
                                    .with_committed_leader_epoch(o.leader_epoch)
                                    .with_metadata(Some(text(&o.metadata)))
                                    .with_error_code(error_code(o.error))
                            })
                            .collect(),
                    )
                },
            ))
        };
        encode_response(
            ApiKey::OffsetFetch,
            correlation_id,
            OffsetFetchResponse::header_version(version),
            &response,
            version,
        )
    })))
}

/// Groups committed offsets by topic, in topic order, and makes each topic's entry.
fn by_topic<T>(offsets: Vec<CommittedOffset>, entry: impl Fn(&str, Vec<CommittedOffset>) -> T) -> Vec<T> {
    let mut topics: BTreeMap<String, Vec<CommittedOffset>> = BTreeMap::new();
    for offset in offsets {
        topics.entry(offset.partition.topic.to_string()).or_default().push(offset);
    }
    topics.into_iter().map(|(name, partitions)| entry(&name, partitions)).collect()
}
