//! TxnOffsetCommit (key 28): a transactional producer commits a consumer group's offsets as
//! part of its transaction (`sendOffsetsToTransaction`), after AddOffsetsToTxn. It goes to the
//! group's coordinator as one core group request; the offsets take effect when the transaction
//! commits.
//!
//! Versions v0-v4: v3 adds the member's generation and id (KIP-447, fencing zombies across a
//! rebalance), which older versions lack (generation -1, member id ""); v5 belongs to
//! transaction version 2, where TxnOffsetCommit adds the offsets partition itself without
//! AddOffsetsToTxn, which the core's coordinator does not do.

use bytes::Bytes;
use kafka_protocol::messages::txn_offset_commit_response::{
    TxnOffsetCommitResponsePartition, TxnOffsetCommitResponseTopic,
};
use kafka_protocol::messages::{ApiKey, TxnOffsetCommitRequest, TxnOffsetCommitResponse};
use kafka_protocol::protocol::VersionRange;
use kafkalab_core::group::protocol::{GroupRequest, GroupResponse, OffsetToCommit};
use kafkalab_core::{Offset, TopicPartition};

use super::group_membership::{ask, shared};
use super::{decode_served, results_by_topic, topic_name, Answer, Context, Rejection, RequestPrefix};

/// Up to v4: v5 is transaction version 2's.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 4 };

/// What Kafka assumes of a request from before v3: no generation, no member.
const UNKNOWN_GENERATION_ID: i32 = -1;

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (_, request): (_, TxnOffsetCommitRequest) = decode_served(prefix, frame, ApiKey::TxnOffsetCommit, VERSIONS)?;
    let offsets = request
        .topics
        .iter()
        .flat_map(|topic| {
            topic.partitions.iter().map(|p| OffsetToCommit {
                partition: TopicPartition::new(topic.name.0.as_str(), p.partition_index),
                offset: Offset(p.committed_offset),
                leader_epoch: if version >= 2 { p.committed_leader_epoch } else { -1 },
                metadata: p.committed_metadata.as_ref().map_or_else(|| "".into(), shared),
            })
        })
        .collect();
    let member = version >= 3;
    let core = GroupRequest::TxnOffsetCommit {
        transactional_id: shared(&request.transactional_id.0),
        group_id: shared(&request.group_id.0),
        producer_id: request.producer_id.0,
        producer_epoch: request.producer_epoch,
        generation_id: if member { request.generation_id } else { UNKNOWN_GENERATION_ID },
        member_id: if member { shared(&request.member_id) } else { "".into() },
        group_instance_id: if member { request.group_instance_id.as_ref().map(shared) } else { None },
        offsets,
    };
    Ok(ask(context, ApiKey::TxnOffsetCommit, prefix, core, |response| {
        let results = match response {
            GroupResponse::TxnOffsetCommit { results } => results,
            _ => Vec::new(),
        };
        let entry = |index, error| {
            TxnOffsetCommitResponsePartition::default().with_partition_index(index).with_error_code(error)
        };
        let topics = results_by_topic(results, entry)
            .into_iter()
            .map(|(name, partitions)| {
                TxnOffsetCommitResponseTopic::default().with_name(topic_name(&name)).with_partitions(partitions)
            })
            .collect();
        TxnOffsetCommitResponse::default().with_topics(topics)
    }))
}
