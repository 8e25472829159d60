//! Fetch (key 1) from a consumer: one core ClientFetch with every requested partition, to the
//! connection's broker, with the request's isolation level, `min_bytes`, `max_wait_ms` and byte
//! limits; the answer carries, per partition, whole batches from the fetch offset, the high
//! watermark, the last stable offset, the log start offset and, for `read_committed`, the
//! aborted transactions.
//!
//! Long poll: the core's broker holds the fetch until `min_bytes` are readable, a partition
//! fails, or `max_wait_ms` passes (Kafka's DelayedFetch); this module only passes them on. Fetch sessions (KIP-227) are not kept: every response is a full one with session
//! id 0, which tells the client to send full requests. Topics are named up to v12 and by id
//! from v13.

use bytes::Bytes;
use kafka_protocol::messages::fetch_response::{AbortedTransaction, FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::{ApiKey, FetchRequest, FetchResponse, ProducerId};
use kafka_protocol::protocol::{HeaderVersion, Message as _, VersionRange};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::{
    ClientFetchPartition, ClientFetchPartitionResult, ClientFetchRequest, IsolationLevel, Message,
};
use kafkalab_core::record_batch::concatenate;
use kafkalab_core::{Offset, TopicPartition};

use super::{decode_served, encode_response, topic_by_id, Answer, Context, Rejection, RequestPrefix};
use crate::exchange::Pending;

/// Every version the protocol crate can decode and encode.
pub const VERSIONS: VersionRange = FetchRequest::VERSIONS;

enum Slot {
    Sent { index: i32 },
    Refused { index: i32, error: ErrorCode },
}

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, FetchRequest) = decode_served(prefix, frame, ApiKey::Fetch, VERSIONS)?;
    let isolation =
        if request.isolation_level == 1 { IsolationLevel::ReadCommitted } else { IsolationLevel::ReadUncommitted };
    let mut partitions = Vec::new();
    let mut topics = Vec::new();
    for topic in &request.topics {
        let name = if version >= 13 {
            topic_by_id(context.cluster, topic.topic_id)
        } else {
            Some(topic.topic.0.to_string().into())
        };
        let mut slots = Vec::new();
        for wanted in &topic.partitions {
            let index = wanted.partition;
            let Some(name) = name.clone() else {
                slots.push(Slot::Refused { index, error: ErrorCode::UnknownTopicId });
                continue;
            };
            partitions.push(ClientFetchPartition {
                partition: TopicPartition::new(name, index),
                fetch_offset: Offset(wanted.fetch_offset),
                max_bytes: usize::try_from(wanted.partition_max_bytes).unwrap_or(0),
            });
            slots.push(Slot::Sent { index });
        }
        topics.push((topic.topic.clone(), topic.topic_id, slots));
    }
    let fetch = ClientFetchRequest {
        partitions,
        isolation,
        min_bytes: usize::try_from(request.min_bytes).unwrap_or(0),
        max_wait_ms: u64::try_from(request.max_wait_ms).unwrap_or(0),
        // v0-v2 have no response limit.
        max_bytes: if version >= 3 { usize::try_from(request.max_bytes).unwrap_or(0) } else { usize::MAX },
    };
    let id = context.send(|fetch_id| Message::ClientFetch { fetch_id, request: Box::new(fetch) });
    let correlation_id = header.correlation_id;
    Ok(Answer::Later(Pending::new(vec![id], move |answers| {
        // The core answers every partition, in the order they were sent.
        let mut answers = match answers.into_iter().next() {
            Some(Message::ClientFetchResponse { partitions, .. }) => *partitions,
            _ => Vec::new(),
        }
        .into_iter();
        let responses = topics
            .into_iter()
            .map(|(name, topic_id, slots)| {
                let partitions = slots.into_iter().map(|slot| partition_data(slot, &mut answers, isolation)).collect();
                FetchableTopicResponse::default().with_topic(name).with_topic_id(topic_id).with_partitions(partitions)
            })
            .collect();
        let response = FetchResponse::default().with_session_id(0).with_responses(responses);
        encode_response(ApiKey::Fetch, correlation_id, FetchResponse::header_version(version), &response, version)
    })))
}

fn partition_data(
    slot: Slot,
    answers: &mut impl Iterator<Item = ClientFetchPartitionResult>,
    isolation: IsolationLevel,
) -> PartitionData {
    let (index, answer) = match slot {
        Slot::Refused { index, error } => (index, None.ok_or(error)),
        Slot::Sent { index } => (index, answers.next().ok_or(ErrorCode::RequestTimedOut)),
    };
    let empty = PartitionData::default()
        .with_partition_index(index)
        .with_high_watermark(-1)
        .with_last_stable_offset(-1)
        .with_log_start_offset(-1)
        .with_records(Some(Bytes::new()));
    let (log_start_offset, result) = match answer {
        Ok(ClientFetchPartitionResult { log_start_offset, result, .. }) => (log_start_offset, result),
        Err(error) => return empty.with_error_code(error.code()),
    };
    match result {
        Err(error) => empty.with_error_code(error.code()).with_log_start_offset(log_start_offset.0),
        Ok(data) => {
            let aborted = (isolation == IsolationLevel::ReadCommitted).then(|| {
                data.aborted_transactions
                    .iter()
                    .map(|aborted| {
                        AbortedTransaction::default()
                            .with_producer_id(ProducerId(aborted.producer_id))
                            .with_first_offset(aborted.first_offset.0)
                    })
                    .collect()
            });
            empty
                .with_high_watermark(data.high_watermark.0)
                .with_last_stable_offset(data.last_stable_offset.0)
                .with_log_start_offset(log_start_offset.0)
                .with_aborted_transactions(aborted)
                .with_records(Some(concatenate(&data.batches)))
        }
    }
}
