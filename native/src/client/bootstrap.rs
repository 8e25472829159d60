//! The client's view of the cluster: it connects to a bootstrap server, learns the brokers
//! and the topics' partitions from Metadata, and keeps one connection per broker it talks to.
//!
//! A bootstrap server is only a way in (`bootstrap.servers`): after the first Metadata every
//! request goes to the broker that should answer it, by broker id, at the address Metadata
//! advertises for it.

use std::collections::BTreeMap;

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, MetadataResponse, TopicName};
use kafka_protocol::protocol::StrBytes;

use super::connection::Connection;
use super::{check, ClientError};

/// Metadata v12 is the newest that names topics in Produce and Fetch's era and carries
/// everything the tools print (v13 only adds a top-level error code).
const METADATA_VERSION: i16 = 12;

/// `UNKNOWN_TOPIC_OR_PARTITION`.
const UNKNOWN_TOPIC_OR_PARTITION: i16 = 3;

/// One partition as Metadata describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionInfo {
    pub index: i32,
    /// The leader's broker id, -1 when there is none.
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub error_code: i16,
}

/// One topic as Metadata describes it, partitions in index order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicInfo {
    pub name: String,
    pub error_code: i16,
    pub is_internal: bool,
    pub partitions: Vec<PartitionInfo>,
}

/// What the client knows of the cluster.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterMetadata {
    /// Each live broker's `host:port`.
    pub brokers: BTreeMap<i32, String>,
    pub controller_id: i32,
    pub topics: BTreeMap<String, TopicInfo>,
}

impl ClusterMetadata {
    /// Reads a Metadata response.
    pub fn from_response(response: &MetadataResponse) -> ClusterMetadata {
        let brokers =
            response.brokers.iter().map(|b| (b.node_id.0, format!("{}:{}", b.host.as_str(), b.port))).collect();
        let topics = response
            .topics
            .iter()
            .filter_map(|topic| {
                let name = topic.name.as_ref()?.0.to_string();
                let mut partitions: Vec<PartitionInfo> = topic
                    .partitions
                    .iter()
                    .map(|p| PartitionInfo {
                        index: p.partition_index,
                        leader: p.leader_id.0,
                        leader_epoch: p.leader_epoch,
                        replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                        isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                        error_code: p.error_code,
                    })
                    .collect();
                partitions.sort_by_key(|p| p.index);
                let info = TopicInfo {
                    name: name.clone(),
                    error_code: topic.error_code,
                    is_internal: topic.is_internal,
                    partitions,
                };
                Some((name, info))
            })
            .collect();
        ClusterMetadata { brokers, controller_id: response.controller_id.0, topics }
    }

    /// The topic `name`, or [`ClientError::UnknownTopic`] if the cluster has none.
    pub fn topic(&self, name: &str) -> Result<&TopicInfo, ClientError> {
        match self.topics.get(name) {
            Some(topic) if topic.error_code != UNKNOWN_TOPIC_OR_PARTITION => Ok(topic),
            _ => Err(ClientError::UnknownTopic(name.to_string())),
        }
    }

    /// The leader of `topic`'s partition `partition`, if it has one.
    pub fn leader(&self, topic: &str, partition: i32) -> Option<i32> {
        let topic = self.topics.get(topic)?;
        topic.partitions.iter().find(|p| p.index == partition).map(|p| p.leader).filter(|&leader| leader >= 0)
    }
}

/// A connected client: the bootstrap servers, the metadata, a connection per broker.
#[derive(Debug)]
pub struct Client {
    bootstrap: Vec<String>,
    /// A connection for requests any broker answers (Metadata, FindCoordinator).
    any: Option<Connection>,
    connections: BTreeMap<i32, Connection>,
    metadata: ClusterMetadata,
}

impl Client {
    /// Connects to the first reachable of `bootstrap_servers` (comma-separated `host:port`)
    /// and reads the cluster's brokers.
    pub async fn connect(bootstrap_servers: &str) -> Result<Client, ClientError> {
        let bootstrap: Vec<String> =
            bootstrap_servers.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect();
        let mut client =
            Client { bootstrap, any: None, connections: BTreeMap::new(), metadata: ClusterMetadata::default() };
        client.refresh(Some(&[])).await?;
        Ok(client)
    }

    /// What the last Metadata said.
    pub fn metadata(&self) -> &ClusterMetadata {
        &self.metadata
    }

    /// Asks for fresh metadata about `topics` (every topic for `None`). Brokers and the
    /// controller are replaced; the topics asked about are replaced, the others kept.
    pub async fn refresh(&mut self, topics: Option<&[&str]>) -> Result<&ClusterMetadata, ClientError> {
        let request = metadata_request(topics);
        let response = self.any().await?.call(&request, METADATA_VERSION).await;
        let response = match response {
            Ok(response) => response,
            Err(error) => {
                self.any = None;
                return Err(error);
            }
        };
        let fresh = ClusterMetadata::from_response(&response);
        if topics.is_none() {
            self.metadata.topics.clear();
        }
        self.metadata.brokers = fresh.brokers;
        self.metadata.controller_id = fresh.controller_id;
        self.metadata.topics.extend(fresh.topics);
        Ok(&self.metadata)
    }

    /// Fresh metadata for one topic; [`ClientError::UnknownTopic`] if the cluster has none.
    pub async fn topic(&mut self, name: &str) -> Result<TopicInfo, ClientError> {
        let metadata = self.refresh(Some(&[name])).await?;
        let topic = metadata.topic(name)?;
        check(topic.error_code, || format!("reading the metadata of topic '{name}'"))?;
        Ok(topic.clone())
    }

    /// A connection any broker's answer will do for: the bootstrap connection, reopened (to
    /// any bootstrap server or known broker) if it broke.
    pub async fn any(&mut self) -> Result<&mut Connection, ClientError> {
        if self.any.as_ref().is_some_and(Connection::is_broken) {
            self.any = None;
        }
        if self.any.is_none() {
            let known = self.metadata.brokers.values().cloned();
            let candidates: Vec<String> = self.bootstrap.iter().cloned().chain(known).collect();
            let mut last_error = ClientError::Unreachable {
                address: self.bootstrap.join(","),
                reason: "no bootstrap server given".to_string(),
            };
            for address in candidates {
                match Connection::connect(&address).await {
                    Ok(connection) => {
                        self.any = Some(connection);
                        break;
                    }
                    Err(error) => last_error = error,
                }
            }
            if self.any.is_none() {
                return Err(last_error);
            }
        }
        Ok(self.any.as_mut().expect("connected above"))
    }

    /// The connection to broker `id`, opened (or reopened, if it broke) as needed.
    pub async fn broker(&mut self, id: i32) -> Result<&mut Connection, ClientError> {
        if self.connections.get(&id).is_none_or(Connection::is_broken) {
            let connection = self.open(id).await?;
            self.connections.insert(id, connection);
        }
        Ok(self.connections.get_mut(&id).expect("inserted above"))
    }

    /// Takes broker `id`'s connection out, to use it in a task of its own; give it back with
    /// [`Client::put_back`].
    pub async fn take(&mut self, id: i32) -> Result<Connection, ClientError> {
        match self.connections.remove(&id) {
            Some(connection) if !connection.is_broken() => Ok(connection),
            _ => self.open(id).await,
        }
    }

    /// Returns a connection [`Client::take`] lent out (a broken one is dropped).
    pub fn put_back(&mut self, id: i32, connection: Connection) {
        if !connection.is_broken() {
            self.connections.insert(id, connection);
        }
    }

    /// Drops broker `id`'s connection, so that the next request opens a new one.
    pub fn forget(&mut self, id: i32) {
        self.connections.remove(&id);
    }

    async fn open(&self, id: i32) -> Result<Connection, ClientError> {
        let address = self.metadata.brokers.get(&id).ok_or_else(|| ClientError::Lost {
            address: format!("broker {id}"),
            reason: "the cluster no longer lists it".to_string(),
        })?;
        Connection::connect(address).await
    }
}

/// A Metadata request for `topics` (all of them for `None`), never creating topics.
pub fn metadata_request(topics: Option<&[&str]>) -> MetadataRequest {
    let topics = topics.map(|names| {
        names
            .iter()
            .map(|name| {
                MetadataRequestTopic::default().with_name(Some(TopicName(StrBytes::from_string(name.to_string()))))
            })
            .collect()
    });
    MetadataRequest::default().with_topics(topics).with_allow_auto_topic_creation(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafka_protocol::messages::metadata_response::{
        MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
    };
    use kafka_protocol::messages::BrokerId;

    fn response() -> MetadataResponse {
        let partition = |index: i32, leader: i32| {
            MetadataResponsePartition::default()
                .with_partition_index(index)
                .with_leader_id(BrokerId(leader))
                .with_replica_nodes(vec![BrokerId(leader), BrokerId(3)])
                .with_isr_nodes(vec![BrokerId(leader)])
        };
        MetadataResponse::default()
            .with_brokers(vec![MetadataResponseBroker::default()
                .with_node_id(BrokerId(2))
                .with_host(StrBytes::from_static_str("127.0.0.1"))
                .with_port(9093)])
            .with_controller_id(BrokerId(2))
            .with_topics(vec![
                MetadataResponseTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_static_str("orders"))))
                    .with_partitions(vec![partition(1, 2), partition(0, -1)]),
                MetadataResponseTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_static_str("gone"))))
                    .with_error_code(UNKNOWN_TOPIC_OR_PARTITION),
            ])
    }

    #[test]
    fn metadata_names_brokers_by_address_and_sorts_partitions() {
        let metadata = ClusterMetadata::from_response(&response());
        assert_eq!(metadata.brokers.get(&2).map(String::as_str), Some("127.0.0.1:9093"));
        let orders = metadata.topic("orders").expect("known");
        assert_eq!(orders.partitions.iter().map(|p| p.index).collect::<Vec<_>>(), [0, 1]);
        assert_eq!(orders.partitions[1].replicas, [2, 3]);
        assert_eq!(metadata.leader("orders", 1), Some(2));
        assert_eq!(metadata.leader("orders", 0), None, "no leader is -1 on the wire");
    }

    #[test]
    fn a_topic_the_cluster_does_not_know_is_an_unknown_topic() {
        let metadata = ClusterMetadata::from_response(&response());
        assert_eq!(metadata.topic("gone"), Err(ClientError::UnknownTopic("gone".to_string())));
        assert_eq!(metadata.topic("never"), Err(ClientError::UnknownTopic("never".to_string())));
    }

    #[test]
    fn metadata_requests_never_create_topics() {
        let request = metadata_request(Some(&["a"]));
        assert!(!request.allow_auto_topic_creation);
        assert_eq!(request.topics.as_ref().map(Vec::len), Some(1));
        assert_eq!(metadata_request(None).topics, None, "null asks for every topic");
    }
}
