//! The classic group protocol's membership APIs: JoinGroup (key 11), SyncGroup (key 14),
//! Heartbeat (key 12) and LeaveGroup (key 13). Each is one core group request to the
//! connection's broker (the core answers NOT_COORDINATOR when that broker does not coordinate
//! the group), translated field for field both ways: the coordinator decides everything.
//! Member metadata and assignments pass through as the client encoded them.

use std::sync::Arc;

use bytes::Bytes;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::{
    ApiKey, HeartbeatRequest, HeartbeatResponse, JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest,
    LeaveGroupResponse, SyncGroupRequest, SyncGroupResponse,
};
use kafka_protocol::protocol::{Encodable, Message as _, StrBytes, VersionRange};
use kafkalab_core::group::protocol::{GroupRequest, GroupResponse, LeavingMember, Protocol};
use kafkalab_core::message::Message;

use super::{decode_served, encode_response, error_code, Answer, Context, Rejection, RequestPrefix};
use crate::exchange::Pending;

pub const JOIN_GROUP_VERSIONS: VersionRange = JoinGroupRequest::VERSIONS;
pub const SYNC_GROUP_VERSIONS: VersionRange = SyncGroupRequest::VERSIONS;
pub const HEARTBEAT_VERSIONS: VersionRange = HeartbeatRequest::VERSIONS;
pub const LEAVE_GROUP_VERSIONS: VersionRange = LeaveGroupRequest::VERSIONS;

/// Sends `request` to the connection's broker and answers with what `respond` makes of the
/// coordinator's response.
pub(super) fn ask<R: Encodable + kafka_protocol::protocol::HeaderVersion>(
    context: &Context<'_>,
    api: ApiKey,
    prefix: &RequestPrefix,
    request: GroupRequest,
    respond: impl FnOnce(GroupResponse) -> R + Send + 'static,
) -> Answer {
    let fallback = request.error_response(kafkalab_core::error_code::ErrorCode::RequestTimedOut);
    let id = context.send(|request_id| Message::Group { request_id, request: Box::new(request) });
    let (correlation_id, version) = (prefix.correlation_id, prefix.api_version);
    Answer::Later(Pending::new(vec![id], move |answers| {
        let response = match answers.into_iter().next() {
            Some(Message::GroupResponse { response, .. }) => *response,
            _ => fallback,
        };
        encode_response(api, correlation_id, R::header_version(version), &respond(response), version)
    }))
}

/// A string as the core keeps it.
pub(super) fn shared(text: &StrBytes) -> Arc<str> {
    Arc::from(text.as_str())
}

pub(super) fn text(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

pub fn join_group(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let (_, request): (_, JoinGroupRequest) = decode_served(prefix, frame, ApiKey::JoinGroup, JOIN_GROUP_VERSIONS)?;
    let session_timeout_ms = u64::try_from(request.session_timeout_ms).unwrap_or(0);
    // v0 has no rebalance timeout: Kafka uses the session timeout.
    let rebalance_timeout_ms = if prefix.api_version >= 1 {
        u64::try_from(request.rebalance_timeout_ms).unwrap_or(0)
    } else {
        session_timeout_ms
    };
    let core = GroupRequest::JoinGroup {
        group_id: shared(&request.group_id.0),
        session_timeout_ms,
        rebalance_timeout_ms,
        member_id: shared(&request.member_id),
        group_instance_id: request.group_instance_id.as_ref().map(shared),
        protocol_type: shared(&request.protocol_type),
        protocols: request
            .protocols
            .iter()
            .map(|p| Protocol { name: shared(&p.name), metadata: p.metadata.clone() })
            .collect(),
        reason: request.reason.as_ref().map(shared),
    };
    Ok(ask(context, ApiKey::JoinGroup, prefix, core, |response| {
        let GroupResponse::JoinGroup {
            error,
            generation_id,
            protocol_type,
            protocol_name,
            leader,
            skip_assignment,
            member_id,
            members,
        } = response
        else {
            return JoinGroupResponse::default().with_error_code(error_code(Some(unexpected())));
        };
        JoinGroupResponse::default()
            .with_error_code(error_code(error))
            .with_generation_id(generation_id)
            .with_protocol_type(protocol_type.as_deref().map(text))
            .with_protocol_name(protocol_name.as_deref().map(text))
            .with_leader(text(&leader))
            .with_skip_assignment(skip_assignment)
            .with_member_id(text(&member_id))
            .with_members(
                members
                    .into_iter()
                    .map(|m| {
                        JoinGroupResponseMember::default()
                            .with_member_id(text(&m.member_id))
                            .with_group_instance_id(m.group_instance_id.as_deref().map(text))
                            .with_metadata(m.metadata)
                    })
                    .collect(),
            )
    }))
}

pub fn sync_group(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let (_, request): (_, SyncGroupRequest) = decode_served(prefix, frame, ApiKey::SyncGroup, SYNC_GROUP_VERSIONS)?;
    let core = GroupRequest::SyncGroup {
        group_id: shared(&request.group_id.0),
        generation_id: request.generation_id,
        member_id: shared(&request.member_id),
        group_instance_id: request.group_instance_id.as_ref().map(shared),
        protocol_type: request.protocol_type.as_ref().map(shared),
        protocol_name: request.protocol_name.as_ref().map(shared),
        assignments: request.assignments.iter().map(|a| (shared(&a.member_id), a.assignment.clone())).collect(),
    };
    Ok(ask(context, ApiKey::SyncGroup, prefix, core, |response| {
        let GroupResponse::SyncGroup { error, protocol_type, protocol_name, assignment } = response else {
            return SyncGroupResponse::default().with_error_code(error_code(Some(unexpected())));
        };
        SyncGroupResponse::default()
            .with_error_code(error_code(error))
            .with_protocol_type(protocol_type.as_deref().map(text))
            .with_protocol_name(protocol_name.as_deref().map(text))
            .with_assignment(assignment)
    }))
}

pub fn heartbeat(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let (_, request): (_, HeartbeatRequest) = decode_served(prefix, frame, ApiKey::Heartbeat, HEARTBEAT_VERSIONS)?;
    let core = GroupRequest::Heartbeat {
        group_id: shared(&request.group_id.0),
        generation_id: request.generation_id,
        member_id: shared(&request.member_id),
        group_instance_id: request.group_instance_id.as_ref().map(shared),
    };
    Ok(ask(context, ApiKey::Heartbeat, prefix, core, |response| {
        let error = match response {
            GroupResponse::Heartbeat { error } => error,
            _ => Some(unexpected()),
        };
        HeartbeatResponse::default().with_error_code(error_code(error))
    }))
}

pub fn leave_group(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let (_, request): (_, LeaveGroupRequest) = decode_served(prefix, frame, ApiKey::LeaveGroup, LEAVE_GROUP_VERSIONS)?;
    // v0-v2 name one member by id; v3+ a list, possibly of static members.
    let members = if prefix.api_version >= 3 {
        request
            .members
            .iter()
            .map(|m| LeavingMember {
                member_id: shared(&m.member_id),
                group_instance_id: m.group_instance_id.as_ref().map(shared),
            })
            .collect()
    } else {
        vec![LeavingMember { member_id: shared(&request.member_id), group_instance_id: None }]
    };
    let core = GroupRequest::LeaveGroup { group_id: shared(&request.group_id.0), members };
    let version = prefix.api_version;
    Ok(ask(context, ApiKey::LeaveGroup, prefix, core, move |response| {
        let GroupResponse::LeaveGroup { error, members } = response else {
            return LeaveGroupResponse::default().with_error_code(error_code(Some(unexpected())));
        };
        // v0-v2 have no member list: a lone member's error is the request's.
        let error = if version >= 3 { error } else { error.or_else(|| members.first().and_then(|(_, e)| *e)) };
        // The member list is in the response from v3 only.
        let members = if version >= 3 { members } else { Vec::new() };
        LeaveGroupResponse::default().with_error_code(error_code(error)).with_members(
            members
                .into_iter()
                .map(|(member, error)| {
                    MemberResponse::default()
                        .with_member_id(text(&member.member_id))
                        .with_group_instance_id(member.group_instance_id.as_deref().map(text))
                        .with_error_code(error_code(error))
                })
                .collect(),
        )
    }))
}

/// The coordinator answered with another API's response: a bug in the core, reported to the
/// client as a retriable error rather than a crash.
pub(super) fn unexpected() -> kafkalab_core::error_code::ErrorCode {
    kafkalab_core::error_code::ErrorCode::CoordinatorNotAvailable
}
