//! Group membership in Kafka's classic protocol, as a consumer does it: find the group's
//! coordinator, JoinGroup with a subscription, and (as leader) assign the partitions with
//! the range assignor before SyncGroup hands every member its share; then Heartbeat while
//! consuming, rejoin when the coordinator says a rebalance is on, and LeaveGroup at the end.
//!
//! Subscriptions and assignments travel as the consumer protocol's bytes, written and read by
//! the protocol crate's `ConsumerProtocolSubscription` / `ConsumerProtocolAssignment`; the
//! range assignment itself is the core's ([`kafkalab_core::assignor`]), the same one the
//! simulated consumers run.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use kafka_protocol::error::ResponseError;
use kafka_protocol::messages::consumer_protocol_assignment::TopicPartition as AssignedTopic;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::{
    ConsumerProtocolAssignment, ConsumerProtocolSubscription, FindCoordinatorRequest, GroupId, HeartbeatRequest,
    JoinGroupRequest, JoinGroupResponse, LeaveGroupRequest, SyncGroupRequest,
};
use kafka_protocol::protocol::{Decodable, Encodable, StrBytes};
use kafkalab_core::assignor::consumer_protocol::Subscription;
use kafkalab_core::assignor::{assign, AssignorName, MemberSubscription};

use super::bootstrap::Client;
use super::fetch::topic_name;
use super::{ClientError, RETRY_BACKOFF, RETRY_DEADLINE};

/// The consumer protocol's `protocol_type`.
pub const PROTOCOL_TYPE: &str = "consumer";
/// `session.timeout.ms` (Kafka's default is 45 s; a shorter one frees a crashed tool's
/// partitions sooner).
pub const SESSION_TIMEOUT_MS: i32 = 10_000;
/// `max.poll.interval.ms`, which the classic protocol uses as the rebalance timeout.
pub const REBALANCE_TIMEOUT_MS: i32 = 300_000;
/// `heartbeat.interval.ms`, Kafka's default.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_secs(3);

/// The consumer protocol version written: v0 (topics and user data) is all the range
/// assignor needs, and every reader understands it.
const CONSUMER_PROTOCOL_VERSION: i16 = 0;
const FIND_COORDINATOR_VERSION: i16 = 3;
const JOIN_GROUP_VERSION: i16 = 7;
const SYNC_GROUP_VERSION: i16 = 5;
const HEARTBEAT_VERSION: i16 = 4;
const LEAVE_GROUP_VERSION: i16 = 4;

/// One topic's partitions, by topic name.
pub type Assignment = BTreeMap<String, Vec<i32>>;

/// The broker coordinating `group_id`, retried while the coordinator is being elected.
pub async fn find_coordinator(client: &mut Client, group_id: &str) -> Result<i32, ClientError> {
    let request = FindCoordinatorRequest::default().with_key(StrBytes::from_string(group_id.to_string()));
    let deadline = Instant::now() + RETRY_DEADLINE;
    loop {
        let response = client.any().await?.call(&request, FIND_COORDINATOR_VERSION).await?;
        match super::check(response.error_code, || format!("finding the coordinator of group '{group_id}'")) {
            Ok(()) => return Ok(response.node_id.0),
            Err(error) if error.is_retriable() && Instant::now() < deadline => tokio::time::sleep(RETRY_BACKOFF).await,
            Err(error) => return Err(error),
        }
    }
}

/// A member of a consumer group, subscribed to some topics.
#[derive(Debug)]
pub struct GroupMember {
    group_id: String,
    topics: Vec<String>,
    coordinator: i32,
    member_id: String,
    generation_id: i32,
    protocol_name: String,
    assignment: Assignment,
    last_heartbeat: Instant,
}

impl GroupMember {
    /// Joins `group_id` subscribed to `topics` and waits for the first assignment.
    pub async fn join(client: &mut Client, group_id: &str, topics: &[&str]) -> Result<GroupMember, ClientError> {
        let coordinator = find_coordinator(client, group_id).await?;
        let mut member = GroupMember {
            group_id: group_id.to_string(),
            topics: topics.iter().map(|t| t.to_string()).collect(),
            coordinator,
            member_id: String::new(),
            generation_id: -1,
            protocol_name: String::new(),
            assignment: Assignment::new(),
            last_heartbeat: Instant::now(),
        };
        member.rejoin(client).await?;
        Ok(member)
    }

    /// The group joined.
    pub fn group_id(&self) -> &str {
        &self.group_id
    }

    /// The member id the coordinator gave.
    pub fn member_id(&self) -> &str {
        &self.member_id
    }

    /// The generation of the current assignment.
    pub fn generation_id(&self) -> i32 {
        self.generation_id
    }

    /// The broker coordinating the group.
    pub fn coordinator(&self) -> i32 {
        self.coordinator
    }

    /// The partitions this member owns in the current generation.
    pub fn assignment(&self) -> &Assignment {
        &self.assignment
    }

    /// Heartbeats if one is due; rejoins if the coordinator says the group is rebalancing.
    /// Returns whether the assignment may have changed.
    pub async fn heartbeat_if_due(&mut self, client: &mut Client) -> Result<bool, ClientError> {
        if self.last_heartbeat.elapsed() < HEARTBEAT_INTERVAL {
            return Ok(false);
        }
        let request = HeartbeatRequest::default()
            .with_group_id(GroupId(text(&self.group_id)))
            .with_generation_id(self.generation_id)
            .with_member_id(text(&self.member_id));
        let response = client.broker(self.coordinator).await?.call(&request, HEARTBEAT_VERSION).await;
        self.last_heartbeat = Instant::now();
        let code = match response {
            Ok(response) => response.error_code,
            Err(error) if error.is_retriable() => {
                client.forget(self.coordinator);
                ResponseError::NotCoordinator.code()
            }
            Err(error) => return Err(error),
        };
        match super::check(code, || format!("heartbeating in group '{}'", self.group_id)) {
            Ok(()) => Ok(false),
            Err(error) if self.handle_membership_error(client, &error).await? => {
                self.rejoin(client).await?;
                Ok(true)
            }
            Err(error) => Err(error),
        }
    }

    /// Joins (again) and syncs until the group is stable with this member in it.
    pub async fn rejoin(&mut self, client: &mut Client) -> Result<(), ClientError> {
        let deadline = Instant::now() + RETRY_DEADLINE + Duration::from_millis(REBALANCE_TIMEOUT_MS as u64);
        loop {
            match self.join_and_sync(client).await {
                Ok(()) => {
                    self.last_heartbeat = Instant::now();
                    return Ok(());
                }
                Err(error) if Instant::now() < deadline && self.handle_membership_error(client, &error).await? => {
                    tokio::time::sleep(RETRY_BACKOFF).await;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Leaves the group, so that its partitions go to the others at once.
    pub async fn leave(&mut self, client: &mut Client) -> Result<(), ClientError> {
        if self.member_id.is_empty() {
            return Ok(());
        }
        let connection = client.broker(self.coordinator).await?;
        let version = connection.version::<LeaveGroupRequest>(LEAVE_GROUP_VERSION)?;
        let request = leave_group_request(&self.group_id, &self.member_id, version);
        let response = connection.send(&request, version).await?;
        super::check(response.error_code, || format!("leaving group '{}'", self.group_id))
    }

    /// What to do about a membership error: true when rejoining may fix it (after forgetting
    /// the member id or finding the coordinator again, as the error asks).
    pub async fn handle_membership_error(
        &mut self,
        client: &mut Client,
        error: &ClientError,
    ) -> Result<bool, ClientError> {
        let ClientError::Kafka { error, .. } = error else {
            if error.is_retriable() {
                client.forget(self.coordinator);
                self.coordinator = find_coordinator(client, &self.group_id).await?;
                return Ok(true);
            }
            return Ok(false);
        };
        Ok(match error {
            ResponseError::UnknownMemberId | ResponseError::FencedInstanceId => {
                self.member_id.clear();
                self.generation_id = -1;
                true
            }
            ResponseError::NotCoordinator | ResponseError::CoordinatorNotAvailable => {
                client.forget(self.coordinator);
                self.coordinator = find_coordinator(client, &self.group_id).await?;
                true
            }
            ResponseError::RebalanceInProgress
            | ResponseError::IllegalGeneration
            | ResponseError::MemberIdRequired
            | ResponseError::CoordinatorLoadInProgress => true,
            _ => false,
        })
    }

    async fn join_and_sync(&mut self, client: &mut Client) -> Result<(), ClientError> {
        let joined = self.join_group(client).await?;
        let assignments =
            if joined.leader == joined.member_id { self.assign(client, &joined).await? } else { Vec::new() };
        let connection = client.broker(self.coordinator).await?;
        let version = connection.version::<SyncGroupRequest>(SYNC_GROUP_VERSION)?;
        let mut request = SyncGroupRequest::default()
            .with_group_id(GroupId(text(&self.group_id)))
            .with_generation_id(self.generation_id)
            .with_member_id(text(&self.member_id))
            .with_assignments(assignments);
        if version >= 5 {
            request = request
                .with_protocol_type(Some(text(PROTOCOL_TYPE)))
                .with_protocol_name(Some(text(&self.protocol_name)));
        }
        let patience = Duration::from_millis(REBALANCE_TIMEOUT_MS as u64);
        let response = connection.send_within(&request, version, patience).await?;
        super::check(response.error_code, || format!("syncing group '{}'", self.group_id))?;
        self.assignment = decode_assignment(&response.assignment)?;
        Ok(())
    }

    /// One JoinGroup; a coordinator that wants a member id first (KIP-394) gets it at once.
    async fn join_group(&mut self, client: &mut Client) -> Result<JoinGroupResponse, ClientError> {
        let subscription = encode_subscription(&self.topics)?;
        loop {
            let request = JoinGroupRequest::default()
                .with_group_id(GroupId(text(&self.group_id)))
                .with_session_timeout_ms(SESSION_TIMEOUT_MS)
                .with_rebalance_timeout_ms(REBALANCE_TIMEOUT_MS)
                .with_member_id(text(&self.member_id))
                .with_protocol_type(text(PROTOCOL_TYPE))
                .with_protocols(vec![JoinGroupRequestProtocol::default()
                    .with_name(text(AssignorName::Range.name()))
                    .with_metadata(subscription.clone())]);
            let connection = client.broker(self.coordinator).await?;
            let version = connection.version::<JoinGroupRequest>(JOIN_GROUP_VERSION)?;
            // The coordinator answers when the rebalance completes: allow the rebalance timeout.
            let patience = Duration::from_millis(REBALANCE_TIMEOUT_MS as u64) + Duration::from_secs(5);
            let response = connection.send_within(&request, version, patience).await?;
            if response.error_code == ResponseError::MemberIdRequired.code() {
                self.member_id = response.member_id.to_string();
                continue;
            }
            super::check(response.error_code, || format!("joining group '{}'", self.group_id))?;
            self.member_id = response.member_id.to_string();
            self.generation_id = response.generation_id;
            self.protocol_name = response.protocol_name.as_ref().map_or_else(String::new, |p| p.to_string());
            return Ok(response);
        }
    }

    /// As the leader: every member's share of the subscribed topics, by the range assignor.
    async fn assign(
        &mut self,
        client: &mut Client,
        joined: &JoinGroupResponse,
    ) -> Result<Vec<SyncGroupRequestAssignment>, ClientError> {
        let members = joined
            .members
            .iter()
            .map(|m| {
                Ok(MemberSubscription {
                    member_id: Arc::from(m.member_id.as_str()),
                    group_instance_id: m.group_instance_id.as_ref().map(|id| Arc::from(id.as_str())),
                    subscription: decode_subscription(&m.metadata)?,
                })
            })
            .collect::<Result<Vec<_>, ClientError>>()?;
        let mut topics: Vec<&str> = members.iter().flat_map(|m| m.subscription.topics.iter().map(|t| &**t)).collect();
        topics.sort_unstable();
        topics.dedup();
        let metadata = client.refresh(Some(&topics)).await?;
        let partition_counts = topics
            .iter()
            .filter_map(|t| metadata.topic(t).ok())
            .map(|t| (Arc::from(t.name.as_str()), i32::try_from(t.partitions.len()).unwrap_or(i32::MAX)))
            .collect();
        let assignment = assign(AssignorName::Range, &members, &partition_counts);
        assignment
            .into_iter()
            .map(|(member_id, partitions)| {
                let mut owned = Assignment::new();
                for partition in partitions {
                    owned.entry(partition.topic.to_string()).or_default().push(partition.partition.0);
                }
                Ok(SyncGroupRequestAssignment::default()
                    .with_member_id(text(&member_id))
                    .with_assignment(encode_assignment(&owned)?))
            })
            .collect()
    }
}

/// A LeaveGroup for one member, in the shape `version` has (a list of members from v3).
pub fn leave_group_request(group_id: &str, member_id: &str, version: i16) -> LeaveGroupRequest {
    let request = LeaveGroupRequest::default().with_group_id(GroupId(text(group_id)));
    if version >= 3 {
        request.with_members(vec![MemberIdentity::default().with_member_id(text(member_id))])
    } else {
        request.with_member_id(text(member_id))
    }
}

/// A subscription to `topics`, as the consumer protocol's bytes (version first).
pub fn encode_subscription(topics: &[String]) -> Result<Bytes, ClientError> {
    let subscription = ConsumerProtocolSubscription::default().with_topics(topics.iter().map(|t| text(t)).collect());
    encode_versioned(&subscription)
}

/// A member's subscription from the consumer protocol's bytes.
pub fn decode_subscription(bytes: &Bytes) -> Result<Subscription, ClientError> {
    let (version, mut body) = split_version(bytes)?;
    let decoded = ConsumerProtocolSubscription::decode(&mut body, version)
        .map_err(|e| ClientError::Protocol(format!("a member's subscription does not decode: {e}")))?;
    Ok(Subscription::new(decoded.topics.iter().map(|t| Arc::from(t.as_str()))))
}

/// An assignment as the consumer protocol's bytes (version first).
pub fn encode_assignment(assignment: &Assignment) -> Result<Bytes, ClientError> {
    let partitions = assignment
        .iter()
        .map(|(topic, partitions)| {
            AssignedTopic::default().with_topic(topic_name(topic)).with_partitions(partitions.clone())
        })
        .collect();
    encode_versioned(&ConsumerProtocolAssignment::default().with_assigned_partitions(partitions))
}

/// An assignment from the consumer protocol's bytes; none at all is an empty one.
pub fn decode_assignment(bytes: &Bytes) -> Result<Assignment, ClientError> {
    if bytes.is_empty() {
        return Ok(Assignment::new());
    }
    let (version, mut body) = split_version(bytes)?;
    let decoded = ConsumerProtocolAssignment::decode(&mut body, version)
        .map_err(|e| ClientError::Protocol(format!("an assignment does not decode: {e}")))?;
    let mut assignment = Assignment::new();
    for topic in decoded.assigned_partitions {
        assignment.entry(topic.topic.0.to_string()).or_default().extend(topic.partitions);
    }
    for partitions in assignment.values_mut() {
        partitions.sort_unstable();
    }
    Ok(assignment)
}

fn encode_versioned<M: Encodable>(message: &M) -> Result<Bytes, ClientError> {
    let mut bytes = BytesMut::new();
    bytes.extend_from_slice(&CONSUMER_PROTOCOL_VERSION.to_be_bytes());
    message
        .encode(&mut bytes, CONSUMER_PROTOCOL_VERSION)
        .map_err(|e| ClientError::Protocol(format!("cannot encode the consumer protocol: {e}")))?;
    Ok(bytes.freeze())
}

/// The consumer protocol's leading version and the body after it.
fn split_version(bytes: &Bytes) -> Result<(i16, Bytes), ClientError> {
    let Some(version) = bytes.first_chunk::<2>() else {
        return Err(ClientError::Protocol("consumer protocol bytes without a version".to_string()));
    };
    // Newer versions only add fields at the end: read them as the newest the crate knows.
    let version = i16::from_be_bytes(*version).min(3);
    Ok((version, bytes.slice(2..)))
}

fn text(text: &str) -> StrBytes {
    StrBytes::from_string(text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subscriptions_and_assignments_survive_the_consumer_protocol() {
        let bytes = encode_subscription(&["orders".to_string(), "payments".to_string()]).expect("encodes");
        assert_eq!(&bytes[..2], &[0, 0], "version 0 first");
        let subscription = decode_subscription(&bytes).expect("decodes");
        assert_eq!(subscription.topics, [Arc::from("orders"), Arc::from("payments")]);

        let assignment = Assignment::from([("orders".to_string(), vec![0, 2])]);
        let bytes = encode_assignment(&assignment).expect("encodes");
        assert_eq!(decode_assignment(&bytes).expect("decodes"), assignment);
        assert_eq!(decode_assignment(&Bytes::new()).expect("empty"), Assignment::new());
    }

    #[test]
    fn leave_group_names_the_member_where_the_version_puts_it() {
        let old = leave_group_request("g", "m-1", 2);
        assert_eq!(old.member_id.as_str(), "m-1");
        assert!(old.members.is_empty());
        let new = leave_group_request("g", "m-1", 4);
        assert_eq!(new.members[0].member_id.as_str(), "m-1");
        assert_eq!(new.member_id.as_str(), "");
        let mut bytes = BytesMut::new();
        assert!(new.encode(&mut bytes, 4).is_ok(), "only v3+ fields are set");
    }

    #[test]
    fn truncated_consumer_protocol_bytes_are_a_protocol_error() {
        assert!(matches!(decode_subscription(&Bytes::from_static(&[0])), Err(ClientError::Protocol(_))));
    }
}
