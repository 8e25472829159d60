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
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::partition_log::PartitionLog;
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

/// The offset, its timestamp (-1 for the special ones) and the leader epoch.
fn lookup(
    simulation: &Simulation,
    broker: BrokerId,
    partition: &TopicPartition,
    timestamp: i64,
    read_committed: bool,
) -> Result<(i64, i64, i32), ErrorCode> {
    if !simulation.is_alive(broker) {
        return Err(ErrorCode::NotLeaderOrFollower);
    }
    let replica =
        simulation.broker(broker).and_then(|b| b.replica(partition)).ok_or(ErrorCode::UnknownTopicOrPartition)?;
    if !replica.is_leader() {
        return Err(ErrorCode::NotLeaderOrFollower);
    }
    let log = &replica.log;
    let end = if read_committed { log.last_stable_offset() } else { log.high_watermark() };
    let epoch = replica.leader_epoch().0;
    match timestamp {
        EARLIEST => Ok((log.log_start_offset().0, -1, epoch)),
        LATEST => Ok((end.0, -1, epoch)),
        MAX_TIMESTAMP => Ok(max_timestamp(log, end.0).map_or((end.0, -1, epoch), |(o, t)| (o, t, epoch))),
        timestamp if timestamp >= 0 => {
            Ok(at_or_after(log, end.0, timestamp).map_or((-1, -1, epoch), |(o, t)| (o, t, epoch)))
        }
        _ => Err(ErrorCode::InvalidRequest),
    }
}

/// The first readable record with a timestamp at or after `timestamp`.
fn at_or_after(log: &PartitionLog, end: i64, timestamp: i64) -> Option<(i64, i64)> {
    log.records()
        .take_while(|record| record.offset.0 < end)
        .find(|record| record.timestamp_ms >= timestamp)
        .map(|record| (record.offset.0, record.timestamp_ms))
}

/// The readable record with the largest timestamp (the first of equals).
fn max_timestamp(log: &PartitionLog, end: i64) -> Option<(i64, i64)> {
    log.records().take_while(|record| record.offset.0 < end).fold(None, |best: Option<(i64, i64)>, record| match best {
        Some((_, t)) if t >= record.timestamp_ms => best,
        _ => Some((record.offset.0, record.timestamp_ms)),
    })
}
