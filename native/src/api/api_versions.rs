//! ApiVersions (key 18): which APIs and versions this broker serves, so clients can pick.
//!
//! A client sends it first, at the newest version it knows. If that is newer than ours,
//! Kafka answers UNSUPPORTED_VERSION in the version-0 layout, which every client can read,
//! and the client retries at a version the answer lists; we do the same.

use bytes::Bytes;
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{HeaderVersion, Message, VersionRange};
use kafkalab_core::error_code::ErrorCode;

use super::{decode_request, encode_response, supports, Rejection, RequestPrefix, SERVED};

/// Every version the protocol crate can decode and encode.
pub const VERSIONS: VersionRange = ApiVersionsRequest::VERSIONS;

pub fn handle(prefix: &RequestPrefix, frame: Bytes) -> Result<Bytes, Rejection> {
    let version = prefix.api_version;
    if !supports(VERSIONS, version) {
        // The body is not read: its layout at an unknown version is unknown.
        let response = advertisement().with_error_code(ErrorCode::UnsupportedVersion.code());
        return encode_response(ApiKey::ApiVersions, prefix.correlation_id, 0, &response, 0);
    }
    let (header, _request) = decode_request::<ApiVersionsRequest>(frame, ApiKey::ApiVersions, version)?;
    // Everything else stays at its default: librdkafka 2.0.2 misreads the v3+ tagged fields
    // (supported and finalized features, their epoch, zk_migration_ready) when they are
    // present, and the crate leaves out those holding their defaults.
    encode_response(
        ApiKey::ApiVersions,
        header.correlation_id,
        ApiVersionsResponse::header_version(version),
        &advertisement(),
        version,
    )
}

/// A successful answer listing exactly the APIs and versions in [`SERVED`].
fn advertisement() -> ApiVersionsResponse {
    let api_keys = SERVED
        .iter()
        .map(|(api, versions)| {
            ApiVersion::default()
                .with_api_key(*api as i16)
                .with_min_version(versions.min)
                .with_max_version(versions.max)
        })
        .collect();
    ApiVersionsResponse::default().with_api_keys(api_keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_advertisement_holds_no_tagged_fields() {
        let response = advertisement();
        assert_eq!(response.error_code, 0);
        assert_eq!(response.finalized_features_epoch, -1);
        assert!(response.supported_features.is_empty());
        assert!(response.finalized_features.is_empty());
        assert!(!response.zk_migration_ready);
        assert_eq!(response.api_keys.len(), SERVED.len());
    }
}
