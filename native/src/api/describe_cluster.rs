//! DescribeCluster (key 60): the cluster id, the controller clients should name, and the
//! brokers, as Metadata reports them (v2 can ask for fenced brokers too). Asking for the
//! controllers' endpoints (`endpoint_type` 2) gets UNSUPPORTED_ENDPOINT_TYPE: the lab's
//! controllers take no client connections.

use bytes::Bytes;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::BrokerId as NodeId;
use kafka_protocol::messages::{ApiKey, DescribeClusterRequest, DescribeClusterResponse};
use kafka_protocol::protocol::{HeaderVersion, Message, StrBytes, VersionRange};
use kafkalab_core::view::ClusterView;

use super::metadata::{controller_id, CLUSTER_ID};
use super::{decode_served, encode_response, Answer, Context, Rejection, RequestPrefix};
use crate::cluster::Endpoint;

/// Every version the protocol crate knows.
pub const VERSIONS: VersionRange = DescribeClusterRequest::VERSIONS;

/// Kafka's `UNSUPPORTED_ENDPOINT_TYPE`.
const UNSUPPORTED_ENDPOINT_TYPE: i16 = 115;

pub fn handle(prefix: &RequestPrefix, frame: Bytes, context: &Context<'_>) -> Result<Answer, Rejection> {
    let (header, request): (_, DescribeClusterRequest) =
        decode_served(prefix, frame, ApiKey::DescribeCluster, VERSIONS)?;
    let version = prefix.api_version;
    let response = answer(&request, &context.cluster.view(), context.cluster.endpoints());
    encode_response(
        ApiKey::DescribeCluster,
        header.correlation_id,
        DescribeClusterResponse::header_version(version),
        &response,
        version,
    )
    .map(Answer::Now)
}

/// The answer to `request` as the cluster stands in `view`.
pub fn answer(request: &DescribeClusterRequest, view: &ClusterView, endpoints: &[Endpoint]) -> DescribeClusterResponse {
    if request.endpoint_type != 1 {
        return DescribeClusterResponse::default()
            .with_error_code(UNSUPPORTED_ENDPOINT_TYPE)
            .with_error_message(Some(StrBytes::from_static_str("the lab's controllers take no client connections")))
            .with_endpoint_type(request.endpoint_type);
    }
    let listed: Vec<(&Endpoint, bool)> = endpoints
        .iter()
        .filter_map(|endpoint| {
            let fenced = view.broker(endpoint.broker).is_none_or(|broker| broker.fenced);
            (!fenced || request.include_fenced_brokers).then_some((endpoint, fenced))
        })
        .collect();
    let live: Vec<_> = listed.iter().filter(|(_, fenced)| !fenced).map(|(e, _)| e.broker).collect();
    DescribeClusterResponse::default()
        .with_cluster_id(StrBytes::from_static_str(CLUSTER_ID))
        .with_controller_id(NodeId(controller_id(view, &live)))
        .with_brokers(
            listed
                .iter()
                .map(|(endpoint, fenced)| {
                    DescribeClusterBroker::default()
                        .with_broker_id(NodeId(endpoint.broker.0))
                        .with_host(StrBytes::from_string(endpoint.host.clone()))
                        .with_port(i32::from(endpoint.port))
                        .with_is_fenced(*fenced)
                })
                .collect(),
        )
}
