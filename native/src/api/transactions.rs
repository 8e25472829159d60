//! The transactional producer's requests to its transaction coordinator: AddPartitionsToTxn
//! (key 24), AddOffsetsToTxn (key 25) and EndTxn (key 26). Each is one core transaction request
//! to the connection's broker, whose coordinator decides everything (NOT_COORDINATOR when it does
//! not coordinate the transactional id); its answer is translated back.
//!
//! Versions: AddPartitionsToTxn v0-v3, the client versions (v4+ batches several transactions and
//! is sent by brokers verifying a produce, KIP-890); AddOffsetsToTxn v0-v4; EndTxn v0-v4 (v5
//! belongs to transaction version 2, where every EndTxn bumps the epoch and answers with it,
//! which the core's coordinator does not do). As Kafka does, versions older than 2 hear
//! INVALID_PRODUCER_EPOCH instead of PRODUCER_FENCED, which they do not know.

use bytes::Bytes;
use kafka_protocol::messages::add_partitions_to_txn_response::{
    AddPartitionsToTxnPartitionResult, AddPartitionsToTxnTopicResult,
};
use kafka_protocol::messages::{
    AddOffsetsToTxnRequest, AddOffsetsToTxnResponse, AddPartitionsToTxnRequest, AddPartitionsToTxnResponse, ApiKey,
    EndTxnRequest, EndTxnResponse,
};
use kafka_protocol::protocol::{Encodable, HeaderVersion, VersionRange};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::Message;
use kafkalab_core::transaction::protocol::{ProducerIdAndEpoch, TxnRequest, TxnResponse};
use kafkalab_core::TopicPartition;

use super::group_membership::shared;
use super::{decode_served, encode_response, topic_name, Answer, Context, Rejection, RequestPrefix};
use crate::exchange::Pending;

/// The client versions: v4+ is the brokers' batched form.
pub const ADD_PARTITIONS_TO_TXN_VERSIONS: VersionRange = VersionRange { min: 0, max: 3 };
/// Every version the crate knows.
pub const ADD_OFFSETS_TO_TXN_VERSIONS: VersionRange = VersionRange { min: 0, max: 4 };
/// Up to v4: v5 is transaction version 2's.
pub const END_TXN_VERSIONS: VersionRange = VersionRange { min: 0, max: 4 };

/// PRODUCER_FENCED came with v2 of these APIs (KIP-588); older clients are told
/// INVALID_PRODUCER_EPOCH, which they handle the same way.
pub fn for_version(error: ErrorCode, version: i16, fenced_since: i16) -> ErrorCode {
    if error == ErrorCode::ProducerFenced && version < fenced_since {
        ErrorCode::InvalidProducerEpoch
    } else {
        error
    }
}

pub fn add_partitions_to_txn(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (_, request): (_, AddPartitionsToTxnRequest) =
        decode_served(prefix, frame, ApiKey::AddPartitionsToTxn, ADD_PARTITIONS_TO_TXN_VERSIONS)?;
    let partitions = request
        .v3_and_below_topics
        .iter()
        .flat_map(|topic| topic.partitions.iter().map(|&index| TopicPartition::new(topic.name.0.as_str(), index)))
        .collect();
    let core = TxnRequest::AddPartitionsToTxn {
        transactional_id: shared(&request.v3_and_below_transactional_id.0),
        producer: ProducerIdAndEpoch {
            producer_id: request.v3_and_below_producer_id.0,
            epoch: request.v3_and_below_producer_epoch,
        },
        partitions,
    };
    Ok(ask(context, ApiKey::AddPartitionsToTxn, prefix, core, move |response| {
        let results = match response {
            TxnResponse::AddPartitionsToTxn { results } => results,
            _ => Vec::new(),
        };
        let mut topics: Vec<AddPartitionsToTxnTopicResult> = Vec::new();
        for (partition, error) in results {
            let code = error.map_or(0, |e| for_version(e, version, 2).code());
            let result = AddPartitionsToTxnPartitionResult::default()
                .with_partition_index(partition.partition.0)
                .with_partition_error_code(code);
            match topics.iter_mut().find(|t| t.name.0.as_str() == partition.topic.as_ref()) {
                Some(topic) => topic.results_by_partition.push(result),
                None => topics.push(
                    AddPartitionsToTxnTopicResult::default()
                        .with_name(topic_name(&partition.topic))
                        .with_results_by_partition(vec![result]),
                ),
            }
        }
        AddPartitionsToTxnResponse::default().with_results_by_topic_v3_and_below(topics)
    }))
}

pub fn add_offsets_to_txn(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (_, request): (_, AddOffsetsToTxnRequest) =
        decode_served(prefix, frame, ApiKey::AddOffsetsToTxn, ADD_OFFSETS_TO_TXN_VERSIONS)?;
    let core = TxnRequest::AddOffsetsToTxn {
        transactional_id: shared(&request.transactional_id.0),
        producer: ProducerIdAndEpoch { producer_id: request.producer_id.0, epoch: request.producer_epoch },
        group_id: shared(&request.group_id.0),
    };
    Ok(ask(context, ApiKey::AddOffsetsToTxn, prefix, core, move |response| {
        let error = match response {
            TxnResponse::AddOffsetsToTxn { error } => error,
            _ => Some(unexpected()),
        };
        AddOffsetsToTxnResponse::default().with_error_code(error.map_or(0, |e| for_version(e, version, 2).code()))
    }))
}

pub fn end_txn(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (_, request): (_, EndTxnRequest) = decode_served(prefix, frame, ApiKey::EndTxn, END_TXN_VERSIONS)?;
    let core = TxnRequest::EndTxn {
        transactional_id: shared(&request.transactional_id.0),
        producer: ProducerIdAndEpoch { producer_id: request.producer_id.0, epoch: request.producer_epoch },
        committed: request.committed,
    };
    Ok(ask(context, ApiKey::EndTxn, prefix, core, move |response| {
        let error = match response {
            TxnResponse::EndTxn { error } => error,
            _ => Some(unexpected()),
        };
        EndTxnResponse::default().with_error_code(error.map_or(0, |e| for_version(e, version, 2).code()))
    }))
}

/// Sends `request` to the connection's broker and answers with what `respond` makes of the
/// coordinator's response (a request the core never answers gets REQUEST_TIMED_OUT).
fn ask<R: Encodable + HeaderVersion>(
    context: &Context<'_>,
    api: ApiKey,
    prefix: &RequestPrefix,
    request: TxnRequest,
    respond: impl FnOnce(TxnResponse) -> R + Send + 'static,
) -> Answer {
    let fallback = request.error_response(ErrorCode::RequestTimedOut);
    let id = context.send(|request_id| Message::Txn { request_id, request: Box::new(request) });
    let (correlation_id, version) = (prefix.correlation_id, prefix.api_version);
    Answer::Later(Pending::new(vec![id], move |answers| {
        let response = match answers.into_iter().next() {
            Some(Message::TxnResponse { response, .. }) => *response,
            _ => fallback,
        };
        encode_response(api, correlation_id, R::header_version(version), &respond(response), version)
    }))
}

/// The coordinator answered with another API's response: a bug in the core, reported to the
/// client as a retriable error rather than a crash.
fn unexpected() -> ErrorCode {
    ErrorCode::CoordinatorNotAvailable
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::protocol::Message as _;

    #[test]
    fn old_versions_hear_invalid_producer_epoch_for_a_fenced_producer() {
        assert_eq!(for_version(ErrorCode::ProducerFenced, 1, 2), ErrorCode::InvalidProducerEpoch);
        assert_eq!(for_version(ErrorCode::ProducerFenced, 2, 2), ErrorCode::ProducerFenced);
        assert_eq!(for_version(ErrorCode::ConcurrentTransactions, 0, 2), ErrorCode::ConcurrentTransactions);
    }

    #[test]
    fn served_versions_are_within_what_the_crate_knows() {
        for (served, request, response) in [
            (ADD_PARTITIONS_TO_TXN_VERSIONS, AddPartitionsToTxnRequest::VERSIONS, AddPartitionsToTxnResponse::VERSIONS),
            (ADD_OFFSETS_TO_TXN_VERSIONS, AddOffsetsToTxnRequest::VERSIONS, AddOffsetsToTxnResponse::VERSIONS),
            (END_TXN_VERSIONS, EndTxnRequest::VERSIONS, EndTxnResponse::VERSIONS),
        ] {
            assert_eq!(served.min, 0);
            assert!(served.max <= request.max && served.max <= response.max);
        }
        assert_eq!(ADD_OFFSETS_TO_TXN_VERSIONS, AddOffsetsToTxnRequest::VERSIONS);
    }
}
