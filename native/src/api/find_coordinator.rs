//! FindCoordinator (key 10): which broker coordinates a group or a transactional id, asked of
//! the connection's broker as one core FindCoordinator per key (v0-v3 carry one key, v4+ a
//! batch). The core answers with a broker id; this module adds its address.

use bytes::Bytes;
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{ApiKey, BrokerId as NodeId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::{HeaderVersion, Message as _, StrBytes, VersionRange};
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::message::{CoordinatorType, Message};

use super::{decode_served, encode_response, Answer, Context, Rejection, RequestPrefix};
use crate::cluster::Endpoint;
use crate::exchange::Pending;

/// Every version the protocol crate can decode and encode.
pub const VERSIONS: VersionRange = FindCoordinatorRequest::VERSIONS;

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, FindCoordinatorRequest) =
        decode_served(prefix, frame, ApiKey::FindCoordinator, VERSIONS)?;
    let keys: Vec<StrBytes> = if version >= 4 { request.coordinator_keys.clone() } else { vec![request.key.clone()] };
    let key_type = match request.key_type {
        0 => Some(CoordinatorType::Group),
        1 => Some(CoordinatorType::Transaction),
        _ => None,
    };
    let ids: Vec<u64> = match key_type {
        Some(key_type) => keys
            .iter()
            .map(|key| {
                let key = key.as_str().into();
                context.send(|request_id| Message::FindCoordinator { request_id, key, key_type })
            })
            .collect(),
        None => Vec::new(),
    };
    let endpoints = context.cluster.endpoints().to_vec();
    let correlation_id = header.correlation_id;
    Ok(Answer::Later(Pending::new(ids, move |answers| {
        let results: Vec<Result<&Endpoint, ErrorCode>> = match key_type {
            None => keys.iter().map(|_| Err(ErrorCode::InvalidRequest)).collect(),
            Some(_) => answers
                .iter()
                .map(|answer| match answer {
                    Message::FindCoordinatorResponse { result: Ok(broker), .. } => {
                        endpoints.iter().find(|e| e.broker == *broker).ok_or(ErrorCode::CoordinatorNotAvailable)
                    }
                    Message::FindCoordinatorResponse { result: Err(error), .. } => Err(*error),
                    _ => Err(ErrorCode::CoordinatorNotAvailable),
                })
                .collect(),
        };
        let response = if version >= 4 {
            let coordinators =
                keys.into_iter().zip(&results).map(|(key, result)| coordinator(result).with_key(key)).collect();
            FindCoordinatorResponse::default().with_coordinators(coordinators)
        } else {
            let single = coordinator(&results[0]);
            FindCoordinatorResponse::default()
                .with_error_code(single.error_code)
                .with_error_message(single.error_message)
                .with_node_id(single.node_id)
                .with_host(single.host)
                .with_port(single.port)
        };
        encode_response(
            ApiKey::FindCoordinator,
            correlation_id,
            FindCoordinatorResponse::header_version(version),
            &response,
            version,
        )
    })))
}

fn coordinator(result: &Result<&Endpoint, ErrorCode>) -> Coordinator {
    match result {
        Ok(endpoint) => Coordinator::default()
            .with_node_id(NodeId(endpoint.broker.0))
            .with_host(StrBytes::from_string(endpoint.host.clone()))
            .with_port(i32::from(endpoint.port)),
        Err(error) => Coordinator::default()
            .with_error_code(error.code())
            .with_error_message(Some(StrBytes::from_static_str(error.name())))
            .with_node_id(NodeId(-1))
            .with_host(StrBytes::from_static_str(""))
            .with_port(-1),
    }
}
