//! Administration, as Kafka's `Admin` client does it: topics are created, deleted and given
//! more partitions through the controller (which the brokers forward to, KIP-590), topic
//! configs are described by a broker, and groups are listed by asking every broker (each
//! knows only the groups it coordinates) and described by their coordinator.

use std::collections::{BTreeMap, BTreeSet};

use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{
    ApiKey, CreatePartitionsRequest, CreateTopicsRequest, DeleteTopicsRequest, DescribeConfigsRequest,
    DescribeGroupsRequest, GroupId, ListGroupsRequest,
};
use kafka_protocol::protocol::StrBytes;

use super::bootstrap::Client;
use super::connection::Connection;
use super::fetch::topic_name;
use super::group::{decode_assignment, find_coordinator, Assignment, PROTOCOL_TYPE};
use super::{check, ClientError};

const CREATE_TOPICS_VERSION: i16 = 7;
/// DeleteTopics v5 is the newest naming topics in a plain list (v6 takes names or ids).
const DELETE_TOPICS_VERSION: i16 = 5;
const CREATE_PARTITIONS_VERSION: i16 = 3;
const DESCRIBE_CONFIGS_VERSION: i16 = 4;
const DESCRIBE_GROUPS_VERSION: i16 = 5;
const LIST_GROUPS_VERSION: i16 = 4;
/// How long the controller may take (the Admin client's `default.api.timeout.ms` share).
const ADMIN_TIMEOUT_MS: i32 = 30_000;
/// DescribeConfigs' resource type for a topic.
const TOPIC_RESOURCE: i8 = 2;
/// The error a topic the cluster does not have gets.
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;
/// A config set on the topic itself (`DYNAMIC_TOPIC_CONFIG`), as opposed to a default.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;

/// What `topics --create` asks for; `None` leaves it to the broker's defaults
/// (`num.partitions`, `default.replication.factor`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewTopic {
    pub name: String,
    pub partitions: Option<i32>,
    pub replication_factor: Option<i16>,
    pub configs: Vec<(String, String)>,
}

/// A group as DescribeGroups tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupDescription {
    pub group_id: String,
    pub state: String,
    pub protocol_type: String,
    /// The assignor the group agreed on.
    pub protocol: String,
    pub coordinator: i32,
    pub members: Vec<MemberDescription>,
}

/// One member of a described group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberDescription {
    pub member_id: String,
    pub client_id: String,
    pub host: String,
    pub assignment: Assignment,
}

/// Creates a topic.
pub async fn create_topic(client: &mut Client, topic: &NewTopic) -> Result<(), ClientError> {
    let request = create_topics_request(topic);
    let response = controller(client).await?.call(&request, CREATE_TOPICS_VERSION).await?;
    for result in &response.topics {
        check(result.error_code, || format!("creating topic '{}'", topic.name))?;
    }
    Ok(())
}

/// Deletes a topic.
pub async fn delete_topic(client: &mut Client, name: &str) -> Result<(), ClientError> {
    let request =
        DeleteTopicsRequest::default().with_topic_names(vec![topic_name(name)]).with_timeout_ms(ADMIN_TIMEOUT_MS);
    let response = controller(client).await?.call(&request, DELETE_TOPICS_VERSION).await?;
    for result in &response.responses {
        if result.error_code == UNKNOWN_TOPIC_OR_PARTITION {
            return Err(ClientError::UnknownTopic(name.to_string()));
        }
        check(result.error_code, || format!("deleting topic '{name}'"))?;
    }
    Ok(())
}

/// Grows a topic to `count` partitions.
pub async fn create_partitions(client: &mut Client, name: &str, count: i32) -> Result<(), ClientError> {
    let request = create_partitions_request(name, count);
    let response = controller(client).await?.call(&request, CREATE_PARTITIONS_VERSION).await?;
    for result in &response.results {
        if result.error_code == UNKNOWN_TOPIC_OR_PARTITION {
            return Err(ClientError::UnknownTopic(name.to_string()));
        }
        check(result.error_code, || format!("adding partitions to topic '{name}'"))?;
    }
    Ok(())
}

/// The configs set on `topic` itself, by name; empty when the broker does not serve
/// DescribeConfigs.
pub async fn topic_configs(client: &mut Client, topic: &str) -> Result<Vec<(String, String)>, ClientError> {
    let connection = client.any().await?;
    if !connection.serves(ApiKey::DescribeConfigs) {
        return Ok(Vec::new());
    }
    let resource = DescribeConfigsResource::default()
        .with_resource_type(TOPIC_RESOURCE)
        .with_resource_name(StrBytes::from_string(topic.to_string()))
        .with_configuration_keys(None);
    let request = DescribeConfigsRequest::default().with_resources(vec![resource]);
    let response = connection.call(&request, DESCRIBE_CONFIGS_VERSION).await?;
    let mut configs = Vec::new();
    for result in &response.results {
        check(result.error_code, || format!("describing the configs of topic '{topic}'"))?;
        for config in result.configs.iter().filter(|c| c.config_source == DYNAMIC_TOPIC_CONFIG) {
            let value = config.value.as_ref().map_or_else(String::new, |v| v.to_string());
            configs.push((config.name.to_string(), value));
        }
    }
    configs.sort();
    Ok(configs)
}

/// Every consumer group of the cluster, by name: each broker lists the ones it coordinates.
pub async fn list_groups(client: &mut Client) -> Result<BTreeSet<String>, ClientError> {
    let brokers: Vec<i32> = client.metadata().brokers.keys().copied().collect();
    let mut groups = BTreeSet::new();
    for broker in brokers {
        let response = client.broker(broker).await?.call(&ListGroupsRequest::default(), LIST_GROUPS_VERSION).await?;
        check(response.error_code, || format!("listing the groups of broker {broker}"))?;
        groups.extend(response.groups.iter().map(|g| g.group_id.0.to_string()));
    }
    Ok(groups)
}

/// Describes `group_id`, its members' assignments decoded (for consumer groups).
pub async fn describe_group(client: &mut Client, group_id: &str) -> Result<GroupDescription, ClientError> {
    let coordinator = find_coordinator(client, group_id).await?;
    let request =
        DescribeGroupsRequest::default().with_groups(vec![GroupId(StrBytes::from_string(group_id.to_string()))]);
    let response = client.broker(coordinator).await?.call(&request, DESCRIBE_GROUPS_VERSION).await?;
    let group =
        response.groups.into_iter().next().ok_or_else(|| {
            ClientError::Protocol(format!("DescribeGroups answered nothing about group '{group_id}'"))
        })?;
    check(group.error_code, || format!("describing group '{group_id}'"))?;
    let consumer = group.protocol_type.as_str() == PROTOCOL_TYPE;
    let members = group
        .members
        .iter()
        .map(|m| {
            let assignment = if consumer { decode_assignment(&m.member_assignment)? } else { Assignment::new() };
            Ok(MemberDescription {
                member_id: m.member_id.to_string(),
                client_id: m.client_id.to_string(),
                host: m.client_host.to_string(),
                assignment,
            })
        })
        .collect::<Result<Vec<_>, ClientError>>()?;
    Ok(GroupDescription {
        group_id: group_id.to_string(),
        state: group.group_state.to_string(),
        protocol_type: group.protocol_type.to_string(),
        protocol: group.protocol_data.to_string(),
        coordinator,
        members,
    })
}

/// A CreateTopics request for one topic; what it leaves out is -1, the broker's default.
pub fn create_topics_request(topic: &NewTopic) -> CreateTopicsRequest {
    let configs = topic
        .configs
        .iter()
        .map(|(name, value)| {
            CreatableTopicConfig::default()
                .with_name(StrBytes::from_string(name.clone()))
                .with_value(Some(StrBytes::from_string(value.clone())))
        })
        .collect();
    let creatable = CreatableTopic::default()
        .with_name(topic_name(&topic.name))
        .with_num_partitions(topic.partitions.unwrap_or(-1))
        .with_replication_factor(topic.replication_factor.unwrap_or(-1))
        .with_configs(configs);
    CreateTopicsRequest::default().with_topics(vec![creatable]).with_timeout_ms(ADMIN_TIMEOUT_MS)
}

/// A CreatePartitions request growing `name` to `count`, the broker placing the replicas.
pub fn create_partitions_request(name: &str, count: i32) -> CreatePartitionsRequest {
    let topic = CreatePartitionsTopic::default().with_name(topic_name(name)).with_count(count).with_assignments(None);
    CreatePartitionsRequest::default().with_topics(vec![topic]).with_timeout_ms(ADMIN_TIMEOUT_MS)
}

/// Where admin requests go: the controller when it is a broker Metadata lists, else any.
async fn controller(client: &mut Client) -> Result<&mut Connection, ClientError> {
    let controller = client.metadata().controller_id;
    if client.metadata().brokers.contains_key(&controller) {
        client.broker(controller).await
    } else {
        client.any().await
    }
}

/// Each topic's partitions a group's members own, merged.
pub fn owned_partitions(group: &GroupDescription) -> BTreeMap<String, Vec<i32>> {
    let mut owned: BTreeMap<String, Vec<i32>> = BTreeMap::new();
    for member in &group.members {
        for (topic, partitions) in &member.assignment {
            owned.entry(topic.clone()).or_default().extend(partitions);
        }
    }
    owned
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::protocol::Encodable;

    #[test]
    fn create_topics_carries_partitions_replication_and_configs() {
        let topic = NewTopic {
            name: "payments".to_string(),
            partitions: Some(6),
            replication_factor: Some(3),
            configs: vec![("cleanup.policy".to_string(), "compact".to_string())],
        };
        let request = create_topics_request(&topic);
        let creatable = &request.topics[0];
        assert_eq!(creatable.name.0.as_str(), "payments");
        assert_eq!((creatable.num_partitions, creatable.replication_factor), (6, 3));
        assert_eq!(creatable.configs[0].name.as_str(), "cleanup.policy");
        assert_eq!(creatable.configs[0].value.as_ref().map(|v| v.as_str()), Some("compact"));
        assert!(request.encode(&mut BytesMut::new(), CREATE_TOPICS_VERSION).is_ok());
    }

    #[test]
    fn create_topics_leaves_what_is_not_given_to_the_broker() {
        let request = create_topics_request(&NewTopic { name: "t".to_string(), ..NewTopic::default() });
        assert_eq!((request.topics[0].num_partitions, request.topics[0].replication_factor), (-1, -1));
    }

    #[test]
    fn create_partitions_names_the_new_total() {
        let request = create_partitions_request("orders", 6);
        assert_eq!(request.topics[0].count, 6);
        assert_eq!(request.topics[0].assignments, None, "the controller places the new replicas");
        assert!(request.encode(&mut BytesMut::new(), CREATE_PARTITIONS_VERSION).is_ok());
    }

    #[test]
    fn a_groups_owned_partitions_merge_every_members_share() {
        let member = |id: &str, partitions: Vec<i32>| MemberDescription {
            member_id: id.to_string(),
            client_id: "c".to_string(),
            host: "/127.0.0.1".to_string(),
            assignment: Assignment::from([("orders".to_string(), partitions)]),
        };
        let group = GroupDescription {
            group_id: "g".to_string(),
            state: "Stable".to_string(),
            protocol_type: "consumer".to_string(),
            protocol: "range".to_string(),
            coordinator: 1,
            members: vec![member("a", vec![0, 1]), member("b", vec![2])],
        };
        assert_eq!(owned_partitions(&group), BTreeMap::from([("orders".to_string(), vec![0, 1, 2])]));
    }
}
