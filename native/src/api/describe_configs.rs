//! DescribeConfigs (key 32): a topic's settings, or the cluster-wide broker settings the lab
//! models, with where each value comes from, read from the metadata the core's controllers
//! committed.
//!
//! A topic's value is its own (source DYNAMIC_TOPIC_CONFIG) when the topic sets it, else
//! Kafka's default (DEFAULT_CONFIG); `min.insync.replicas` left to the cluster shows the
//! cluster's value. A broker's value is DEFAULT_CONFIG while it has Kafka's default and
//! DYNAMIC_DEFAULT_BROKER_CONFIG once changed for the whole cluster (`set` in the lab).
//! Synonyms and documentation are not sent.

use bytes::Bytes;
use kafka_protocol::messages::describe_configs_response::{DescribeConfigsResourceResult, DescribeConfigsResult};
use kafka_protocol::messages::{ApiKey, DescribeConfigsRequest, DescribeConfigsResponse};
use kafka_protocol::protocol::{HeaderVersion, Message, StrBytes, VersionRange};
use kafkalab_core::config::ClusterConfig;
use kafkalab_core::error_code::ErrorCode;
use kafkalab_core::metadata::{ConfigName, MetadataImage};
use kafkalab_core::partition_log::LogConfig;

use super::{decode_served, encode_response, Answer, Context, Rejection, RequestPrefix};

/// Every version the protocol crate knows (v0 is not in it).
pub const VERSIONS: VersionRange = DescribeConfigsRequest::VERSIONS;

/// Kafka's `ConfigResource.Type` codes.
const TOPIC: i8 = 2;
const BROKER: i8 = 4;

/// Kafka's `ConfigSource` codes.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const DYNAMIC_DEFAULT_BROKER_CONFIG: i8 = 3;
const DEFAULT_CONFIG: i8 = 5;

/// Kafka's `ConfigType` codes (v3+).
const BOOLEAN: i8 = 1;
const INT: i8 = 3;
const LONG: i8 = 5;
const LIST: i8 = 7;

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let (header, request): (_, DescribeConfigsRequest) =
        decode_served(prefix, frame, ApiKey::DescribeConfigs, VERSIONS)?;
    let version = prefix.api_version;
    let image = context.cluster.read(|simulation| simulation.metadata().clone());
    let response = answer(&request, &image);
    encode_response(
        ApiKey::DescribeConfigs,
        header.correlation_id,
        DescribeConfigsResponse::header_version(version),
        &response,
        version,
    )
    .map(Answer::Now)
}

/// The answer to `request` from the committed metadata `image`.
pub fn answer(request: &DescribeConfigsRequest, image: &MetadataImage) -> DescribeConfigsResponse {
    let results = request
        .resources
        .iter()
        .map(|resource| {
            let wanted = |key: &str| {
                resource.configuration_keys.as_ref().is_none_or(|keys| keys.iter().any(|k| k.as_str() == key))
            };
            let name = resource.resource_name.as_str();
            let outcome = match resource.resource_type {
                TOPIC => topic_configs(image, name),
                BROKER => broker_configs(image, name),
                other => Err((
                    ErrorCode::InvalidRequest,
                    format!("the lab describes topics and brokers, not resource type {other}"),
                )),
            };
            let result = DescribeConfigsResult::default()
                .with_resource_type(resource.resource_type)
                .with_resource_name(resource.resource_name.clone());
            match outcome {
                Ok(configs) => result.with_configs(configs.into_iter().filter(|c| wanted(c.name.as_str())).collect()),
                Err((error, message)) => {
                    result.with_error_code(error.code()).with_error_message(Some(StrBytes::from_string(message)))
                }
            }
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

type Refusal = (ErrorCode, String);

fn topic_configs(image: &MetadataImage, topic: &str) -> Result<Vec<DescribeConfigsResourceResult>, Refusal> {
    if !image.topics.contains_key(topic) {
        return Err((ErrorCode::UnknownTopicOrPartition, format!("Topic '{topic}' does not exist.")));
    }
    let config = image.topic_configs.get(topic).cloned().unwrap_or_default();
    let defaults = LogConfig::default();
    Ok(LogConfig::KEYS
        .iter()
        .map(|key| {
            let own = config.value(key);
            let (value, source) = match own {
                Some(value) if defaults.value(key).as_ref() != Some(&value) => (value, DYNAMIC_TOPIC_CONFIG),
                Some(value) => (value, DEFAULT_CONFIG),
                // Only min.insync.replicas is left to the cluster.
                None => (image.config.min_insync_replicas.to_string(), DEFAULT_CONFIG),
            };
            entry(key, value, source, topic_config_type(key))
        })
        .collect())
}

fn topic_config_type(key: &str) -> i8 {
    match key {
        "cleanup.policy" => LIST,
        "segment.bytes" | "min.insync.replicas" => INT,
        _ => LONG,
    }
}

fn broker_configs(image: &MetadataImage, broker: &str) -> Result<Vec<DescribeConfigsResourceResult>, Refusal> {
    // "" is the cluster-wide default resource; otherwise a broker the cluster has.
    let known = broker.is_empty() || broker.parse::<i32>().is_ok_and(|id| image.brokers.keys().any(|b| b.0 == id));
    if !known {
        return Err((ErrorCode::InvalidRequest, format!("there is no broker {broker:?} in the cluster")));
    }
    let defaults = MetadataImage::bootstrap(&ClusterConfig { topics: Vec::new(), ..ClusterConfig::default() }).config;
    Ok(ConfigName::ALL
        .iter()
        .map(|name| {
            let value = image.config.value(*name);
            let source = if value == defaults.value(*name) { DEFAULT_CONFIG } else { DYNAMIC_DEFAULT_BROKER_CONFIG };
            let config_type = match name {
                ConfigName::MinInsyncReplicas | ConfigName::NumPartitions | ConfigName::DefaultReplicationFactor => INT,
                _ => BOOLEAN,
            };
            entry(name.key(), value, source, config_type)
        })
        .collect())
}

fn entry(key: &str, value: String, source: i8, config_type: i8) -> DescribeConfigsResourceResult {
    DescribeConfigsResourceResult::default()
        .with_name(StrBytes::from_string(key.to_string()))
        .with_value(Some(StrBytes::from_string(value)))
        .with_read_only(false)
        .with_config_source(source)
        .with_is_sensitive(false)
        .with_config_type(config_type)
}
