//! DescribeConfigs and DescribeCluster over the wire: what a topic sets and where each value
//! comes from, the cluster-wide broker settings, and the cluster's id, controller and brokers.

mod common;

use common::{call, TestServer};
use kafka_protocol::messages::create_topics_request::{CreatableTopic, CreatableTopicConfig};
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::{
    ApiKey, CreateTopicsRequest, CreateTopicsResponse, DescribeClusterRequest, DescribeClusterResponse,
    DescribeConfigsRequest, DescribeConfigsResponse, TopicName,
};
use kafka_protocol::protocol::StrBytes;

fn text(value: &str) -> StrBytes {
    StrBytes::from_string(value.to_string())
}

fn resource(resource_type: i8, name: &str, keys: Option<&[&str]>) -> DescribeConfigsResource {
    DescribeConfigsResource::default()
        .with_resource_type(resource_type)
        .with_resource_name(text(name))
        .with_configuration_keys(keys.map(|keys| keys.iter().map(|k| text(k)).collect()))
}

/// (name, value, source) of every config in one result.
fn configs(response: &DescribeConfigsResponse, index: usize) -> Vec<(String, String, i8)> {
    response.results[index]
        .configs
        .iter()
        .map(|c| (c.name.to_string(), c.value.as_deref().unwrap_or_default().to_string(), c.config_source))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_configs_tells_a_topics_own_settings_from_kafkas_defaults_at_every_version() {
    let server = TestServer::start_settled().await;
    let mut stream = server.connect(0).await;
    let compacted = CreatableTopic::default()
        .with_name(TopicName(text("prices")))
        .with_num_partitions(2)
        .with_replication_factor(3)
        .with_configs(vec![
            CreatableTopicConfig::default().with_name(text("cleanup.policy")).with_value(Some(text("compact"))),
            CreatableTopicConfig::default().with_name(text("min.insync.replicas")).with_value(Some(text("2"))),
        ]);
    let created: CreateTopicsResponse = call(
        &mut stream,
        ApiKey::CreateTopics,
        7,
        1,
        &CreateTopicsRequest::default().with_topics(vec![compacted]).with_timeout_ms(10_000),
    )
    .await;
    assert_eq!(created.topics[0].error_code, 0, "{created:?}");

    for version in 1..=4 {
        let request = DescribeConfigsRequest::default().with_resources(vec![
            resource(2, "prices", None),
            resource(2, "orders", Some(&["retention.ms", "min.insync.replicas"])),
            resource(2, "missing", None),
            resource(4, "1", Some(&["min.insync.replicas", "auto.create.topics.enable"])),
            resource(8, "1", None),
        ]);
        let response: DescribeConfigsResponse =
            call(&mut stream, ApiKey::DescribeConfigs, version, 10 + i32::from(version), &request).await;
        let prices = configs(&response, 0);
        assert!(prices.contains(&("cleanup.policy".into(), "compact".into(), 1)), "v{version}: {prices:?}");
        assert!(prices.contains(&("min.insync.replicas".into(), "2".into(), 1)), "v{version}: {prices:?}");
        assert!(prices.contains(&("retention.ms".into(), "604800000".into(), 5)), "v{version}: {prices:?}");
        assert_eq!(prices.len(), 8, "every topic setting the lab knows");
        assert_eq!(
            configs(&response, 1),
            vec![("retention.ms".into(), "604800000".into(), 5), ("min.insync.replicas".into(), "1".into(), 5)],
            "only the keys asked for; orders leaves min.insync.replicas to the cluster"
        );
        assert_eq!(response.results[2].error_code, 3, "UNKNOWN_TOPIC_OR_PARTITION for a missing topic");
        assert_eq!(
            configs(&response, 3),
            vec![("min.insync.replicas".into(), "1".into(), 5), ("auto.create.topics.enable".into(), "true".into(), 5)]
        );
        assert_eq!(response.results[4].error_code, 42, "INVALID_REQUEST for a broker logger");
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn describe_cluster_names_the_cluster_its_controller_and_its_brokers_at_every_version() {
    let server = TestServer::start_settled().await;
    let mut stream = server.connect(1).await;
    for version in 0..=2 {
        let response: DescribeClusterResponse =
            call(&mut stream, ApiKey::DescribeCluster, version, i32::from(version), &DescribeClusterRequest::default())
                .await;
        assert_eq!(response.error_code, 0, "v{version}");
        assert_eq!(response.cluster_id.as_str(), "kafkalab-cluster");
        assert!((1..=3).contains(&response.controller_id.0), "v{version}: {}", response.controller_id.0);
        let brokers: Vec<(i32, i32)> = response.brokers.iter().map(|b| (b.broker_id.0, b.port)).collect();
        let expected: Vec<(i32, i32)> =
            server.broker_ports.iter().enumerate().map(|(i, port)| (i as i32 + 1, i32::from(*port))).collect();
        assert_eq!(brokers, expected, "v{version}");
    }
    let controllers: DescribeClusterResponse =
        call(&mut stream, ApiKey::DescribeCluster, 1, 9, &DescribeClusterRequest::default().with_endpoint_type(2))
            .await;
    assert_eq!(controllers.error_code, 115, "UNSUPPORTED_ENDPOINT_TYPE");
    server.stop().await;
}
