//! The admin side of groups: DescribeGroups (key 15), one core DescribeGroup per group asked
//! for, and ListGroups (key 16), the groups the connection's broker coordinates, as in Kafka
//! (an admin client asks every broker and merges).

use bytes::Bytes;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::{
    ApiKey, DescribeGroupsRequest, DescribeGroupsResponse, GroupId, ListGroupsRequest, ListGroupsResponse,
};
use kafka_protocol::protocol::{HeaderVersion, Message as _, StrBytes, VersionRange};
use kafkalab_core::group::protocol::{GroupRequest, GroupResponse};
use kafkalab_core::message::Message;

use super::group_membership::{ask, shared, text, unexpected};
use super::{decode_served, encode_response, error_code, Answer, Context, Rejection, RequestPrefix};
use crate::exchange::Pending;

pub const DESCRIBE_GROUPS_VERSIONS: VersionRange = DescribeGroupsRequest::VERSIONS;
pub const LIST_GROUPS_VERSIONS: VersionRange = ListGroupsRequest::VERSIONS;

/// Kafka's "not asked for" value of the authorized-operations bit field.
const AUTHORIZED_OPERATIONS_OMITTED: i32 = i32::MIN;

pub fn describe_groups(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let version = prefix.api_version;
    let (header, request): (_, DescribeGroupsRequest) =
        decode_served(prefix, frame, ApiKey::DescribeGroups, DESCRIBE_GROUPS_VERSIONS)?;
    let groups: Vec<GroupId> = request.groups.clone();
    let ids = groups
        .iter()
        .map(|group| {
            let request = GroupRequest::DescribeGroup { group_id: shared(&group.0) };
            context.send(|request_id| Message::Group { request_id, request: Box::new(request) })
        })
        .collect();
    let correlation_id = header.correlation_id;
    Ok(Answer::Later(Pending::new(ids, move |answers| {
        let described = groups
            .into_iter()
            .zip(answers)
            .map(|(group_id, answer)| {
                let group = DescribedGroup::default()
                    .with_group_id(group_id)
                    .with_authorized_operations(AUTHORIZED_OPERATIONS_OMITTED);
                let Message::GroupResponse { response, .. } = answer else {
                    return group.with_error_code(error_code(Some(unexpected())));
                };
                let GroupResponse::DescribeGroup { error, state, protocol_type, protocol_name, members } = *response
                else {
                    return group.with_error_code(error_code(Some(unexpected())));
                };
                group
                    .with_error_code(error_code(error))
                    .with_group_state(StrBytes::from_static_str(state.name()))
                    .with_protocol_type(text(&protocol_type))
                    .with_protocol_data(text(&protocol_name))
                    .with_members(
                        members
                            .into_iter()
                            .map(|m| {
                                DescribedGroupMember::default()
                                    .with_member_id(text(&m.member_id))
                                    .with_group_instance_id(m.group_instance_id.as_deref().map(text))
                                    .with_client_id(text(&m.client_id))
                                    .with_client_host(StrBytes::from_static_str("/127.0.0.1"))
                                    .with_member_metadata(m.metadata)
                                    .with_member_assignment(m.assignment)
                            })
                            .collect(),
                    )
            })
            .collect();
        let response = DescribeGroupsResponse::default().with_groups(described);
        encode_response(
            ApiKey::DescribeGroups,
            correlation_id,
            DescribeGroupsResponse::header_version(version),
            &response,
            version,
        )
    })))
}

pub fn list_groups(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let (_, request): (_, ListGroupsRequest) = decode_served(prefix, frame, ApiKey::ListGroups, LIST_GROUPS_VERSIONS)?;
    let states: Vec<String> = request.states_filter.iter().map(|s| s.to_lowercase()).collect();
    let types: Vec<String> = request.types_filter.iter().map(|t| t.to_lowercase()).collect();
    Ok(ask(context, ApiKey::ListGroups, prefix, GroupRequest::ListGroups, move |response| {
        let GroupResponse::ListGroups { error, groups } = response else {
            return ListGroupsResponse::default().with_error_code(error_code(Some(unexpected())));
        };
        // The filters (v4 states, v5 types) only narrow the list; every group here is classic.
        let listed = groups
            .into_iter()
            .filter(|(_, _, state)| states.is_empty() || states.contains(&state.name().to_lowercase()))
            .filter(|_| types.is_empty() || types.iter().any(|t| t == "classic"))
            .map(|(group_id, protocol_type, state)| {
                ListedGroup::default()
                    .with_group_id(GroupId(text(&group_id)))
                    .with_protocol_type(text(&protocol_type))
                    .with_group_state(StrBytes::from_static_str(state.name()))
                    .with_group_type(StrBytes::from_static_str("classic"))
            })
            .collect();
        ListGroupsResponse::default().with_error_code(error_code(error)).with_groups(listed)
    }))
}
