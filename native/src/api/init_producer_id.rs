//! InitProducerId (key 22): a producer id and epoch for an idempotent producer (any broker
//! hands one out) or a transactional one (its transaction coordinator, which the core finds
//! is or is not the connection's broker), as one core request.

use bytes::Bytes;
use kafka_protocol::messages::{ApiKey, InitProducerIdRequest, InitProducerIdResponse, ProducerId};
use kafka_protocol::protocol::{HeaderVersion, Message as _, VersionRange};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::Message;
use kafkalab_core::transaction::protocol::{ProducerIdAndEpoch, TxnRequest, TxnResponse};

use super::group_membership::shared;
use super::{decode_served, encode_response, Answer, Context, Rejection, RequestPrefix};
use crate::exchange::Pending;

/// The versions both the request and the response exist at in the crate.
pub const VERSIONS: VersionRange = InitProducerIdRequest::VERSIONS;

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, InitProducerIdRequest) = decode_served(prefix, frame, ApiKey::InitProducerId, VERSIONS)?;
    let current = if version >= 3 {
        ProducerIdAndEpoch { producer_id: request.producer_id.0, epoch: request.producer_epoch }
    } else {
        ProducerIdAndEpoch::NONE
    };
    let core = TxnRequest::InitProducerId {
        transactional_id: request.transactional_id.as_ref().map(|id| shared(&id.0)),
        transaction_timeout_ms: u64::try_from(request.transaction_timeout_ms).unwrap_or(0),
        current,
    };
    let id = context.send(|request_id| Message::Txn { request_id, request: Box::new(core) });
    let correlation_id = header.correlation_id;
    Ok(Answer::Later(Pending::new(vec![id], move |answers| {
        let result = match answers.into_iter().next() {
            Some(Message::TxnResponse { response, .. }) => match *response {
                TxnResponse::InitProducerId { result } => result,
                _ => Err(ErrorCode::CoordinatorNotAvailable),
            },
            _ => Err(ErrorCode::CoordinatorNotAvailable),
        };
        let response = match result {
            Ok(producer) => InitProducerIdResponse::default()
                .with_producer_id(ProducerId(producer.producer_id))
                .with_producer_epoch(producer.epoch),
            // PRODUCER_FENCED came with v4 (KIP-588): older clients hear INVALID_PRODUCER_EPOCH.
            Err(error) => InitProducerIdResponse::default()
                .with_error_code(super::transactions::for_version(error, version, 4).code())
                .with_producer_id(ProducerId(-1))
                .with_producer_epoch(-1),
        };
        encode_response(
            ApiKey::InitProducerId,
            correlation_id,
            InitProducerIdResponse::header_version(version),
            &response,
            version,
        )
    })))
}
