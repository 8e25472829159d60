//! ListOffsets (key 2): an offset of a partition the connection's broker leads, read from its
//! log as the core keeps it: the log start offset for "earliest" (-2), the high watermark for
//! "latest" (-1; the last stable offset for `read_committed`), and for a timestamp the first
//! readable record at or after it. The core has no ListOffsets message, so this reads the
//! broker's replica directly: a broker that does not lead the partition answers
//! NOT_LEADER_OR_FOLLOWER, as Kafka's does.

use bytes::Bytes;
use kafka_protocol::messages::list_offsets_response::{ListOffsetsPartitionResponse, ListOffsetsTopicResponse};
use kafka_protocol::messages::{ApiKey, ListOffsetsRequest, ListOffsetsResponse};
use kafka_protocol::protocol::{HeaderVersion, Message as _, VersionRange};
use kafkalab_core::broker::list_offsets::OffsetSpec;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::IsolationLevel;
use kafkalab_core::{BrokerId, Simulation, TopicPartition};

use super::{decode_served, encode_response, Context, Rejection, RequestPrefix};

/// Every version the protocol crate can decode and encode.
pub const VERSIONS: VersionRange = ListOffsetsRequest::VERSIONS;

/// Kafka's special timestamps.
const LATEST: i64 = -1;
const EARLIEST: i64 = -2;
const MAX_TIMESTAMP: i64 = -3;

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Bytes, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, ListOffsetsRequest) = decode_served(prefix, frame, ApiKey::ListOffsets, VERSIONS)?;
    let read_committed = request.isolation_level == 1;
    let topics = context.cluster.read(|simulation| {
        request
            .topics
            .iter()
            .map(|topic| {
                let partitions = topic
                    .partitions
                    .iter()
                    .map(|wanted| {
                        let partition = TopicPartition::new(topic.name.0.to_string(), wanted.partition_index);
                        let found = lookup(simulation, context.broker, &partition, wanted.timestamp, read_committed);
                        let response =
                            ListOffsetsPartitionResponse::default().with_partition_index(wanted.partition_index);
                        match found {
                            Ok((offset, timestamp, leader_epoch)) => {
                                // The leader epoch is in the response from v4 only.
                                let leader_epoch = if version >= 4 { leader_epoch } else { -1 };
                                response.with_offset(offset).with_timestamp(timestamp).with_leader_epoch(leader_epoch)
                            }
                            Err(error) => response.with_error_code(error.code()).with_offset(-1).with_timestamp(-1),
                        }
                    })
                    .collect();
                ListOffsetsTopicResponse::default().with_name(topic.name.clone()).with_partitions(partitions)
            })
            .collect()
    });
    let response = ListOffsetsResponse::default().with_topics(topics);
    encode_response(
        ApiKey::ListOffsets,
        header.correlation_id,
        ListOffsetsResponse::header_version(version),
        &response,
        version,
    )
}

/// The offset, its timestamp (-1 for the special ones) and the leader epoch, as the core's
/// broker answers.
fn lookup(
    simulation: &Simulation,
    broker: BrokerId,
    partition: &TopicPartition,
    timestamp: i64,
    read_committed: bool,
) -> Result<(i64, i64, i32), ErrorCode> {
    let spec = match timestamp {
        EARLIEST => OffsetSpec::Earliest,
        LATEST => OffsetSpec::Latest,
        MAX_TIMESTAMP => OffsetSpec::MaxTimestamp,
        timestamp if timestamp >= 0 => OffsetSpec::Timestamp(timestamp),
        _ => return Err(ErrorCode::InvalidRequest),
    };
    let isolation = if read_committed { IsolationLevel::ReadCommitted } else { IsolationLevel::ReadUncommitted };
    let listed = simulation.list_offsets(broker, partition, spec, isolation)?;
    Ok((listed.offset.map_or(-1, |o| o.0), listed.timestamp_ms.unwrap_or(-1), listed.leader_epoch.0))
}
