//! Produce (key 0): each partition's records, one record batch v2 as the producer encoded it,
//! go to the connection's broker as one core Produce; the answers are gathered into Kafka's
//! response. A batch that does not parse or fails its CRC never reaches the core: its
//! partition gets CORRUPT_MESSAGE, and the rest of the request goes on.
//!
//! With `acks=0` nothing is answered at all, as in Kafka. Topics are named from v3 to v12 and
//! by id from v13.

use bytes::Bytes;
use kafka_protocol::messages::produce_response::{PartitionProduceResponse, TopicProduceResponse};
use kafka_protocol::messages::{ApiKey, ProduceRequest, ProduceResponse};
use kafka_protocol::protocol::{HeaderVersion, Message as _, VersionRange};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::{Acks, Message};
use kafkalab_core::record_batch::RecordBatch;
use kafkalab_core::TopicPartition;

use super::{decode_served, encode_response, topic_by_id, topic_name, Answer, Context, Rejection, RequestPrefix};
use crate::exchange::Pending;

/// Every version the protocol crate can decode and encode.
pub const VERSIONS: VersionRange = ProduceRequest::VERSIONS;

/// One partition of the response: sent to the core, or refused here.
enum Slot {
    Sent { index: i32, request_id: u64 },
    Refused { index: i32, error: ErrorCode },
}

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, ProduceRequest) = decode_served(prefix, frame, ApiKey::Produce, VERSIONS)?;
    let acks = match request.acks {
        0 => Some(Acks::None),
        1 => Some(Acks::Leader),
        -1 => Some(Acks::All),
        _ => None,
    };
    let mut topics = Vec::new();
    for topic in &request.topic_data {
        let name = if version >= 13 {
            topic_by_id(context.cluster, topic.topic_id)
        } else {
            Some(topic.name.0.to_string().into())
        };
        let slots = topic
            .partition_data
            .iter()
            .map(|data| {
                let index = data.index;
                let Some(name) = name.clone() else {
                    return Slot::Refused { index, error: ErrorCode::UnknownTopicId };
                };
                let Some(acks) = acks else { return Slot::Refused { index, error: ErrorCode::InvalidRequiredAcks } };
                match single_batch(data.records.clone()) {
                    Err(error) => Slot::Refused { index, error },
                    Ok(batch) => {
                        let partition = TopicPartition::new(name, index);
                        let request_id =
                            context.send(|request_id| Message::Produce { request_id, partition, batch, acks });
                        Slot::Sent { index, request_id }
                    }
                }
            })
            .collect::<Vec<_>>();
        topics.push((topic.name.clone(), topic.topic_id, slots));
    }
    if acks == Some(Acks::None) {
        return Ok(Answer::Nothing);
    }
    let ids: Vec<u64> = topics
        .iter()
        .flat_map(|(_, _, slots)| slots.iter())
        .filter_map(|slot| match slot {
            Slot::Sent { request_id, .. } => Some(*request_id),
            Slot::Refused { .. } => None,
        })
        .collect();
    let correlation_id = header.correlation_id;
    Ok(Answer::Later(Pending::new(ids, move |answers| {
        let mut answers = answers.into_iter();
        let responses = topics
            .into_iter()
            .map(|(name, topic_id, slots)| {
                let partitions = slots.into_iter().map(|slot| partition_response(slot, &mut answers)).collect();
                TopicProduceResponse::default()
                    .with_name(if version >= 13 { topic_name("") } else { name })
                    .with_topic_id(topic_id)
                    .with_partition_responses(partitions)
            })
            .collect();
        let response = ProduceResponse::default().with_responses(responses);
        encode_response(ApiKey::Produce, correlation_id, ProduceResponse::header_version(version), &response, version)
    })))
}

/// The partition's records as exactly one record batch v2 with a good CRC, as Kafka requires
/// of a produce (CORRUPT_MESSAGE otherwise).
fn single_batch(records: Option<Bytes>) -> Result<RecordBatch, ErrorCode> {
    let records = records.ok_or(ErrorCode::CorruptMessage)?;
    RecordBatch::parse(records).map_err(|_| ErrorCode::CorruptMessage)
}

fn partition_response(slot: Slot, answers: &mut impl Iterator<Item = Message>) -> PartitionProduceResponse {
    let (index, result) = match slot {
        Slot::Refused { index, error } => (index, Err(error)),
        Slot::Sent { index, .. } => match answers.next() {
            Some(Message::ProduceResponse { result, .. }) => (index, result),
            _ => (index, Err(ErrorCode::RequestTimedOut)),
        },
    };
    let response = PartitionProduceResponse::default().with_index(index).with_log_append_time_ms(-1);
    match result {
        Ok(offset) => response.with_base_offset(offset.0).with_log_start_offset(-1),
        Err(error) => response.with_error_code(error.code()).with_base_offset(-1).with_log_start_offset(-1),
    }
}
