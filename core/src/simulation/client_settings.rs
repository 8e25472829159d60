//! A named client's settings, as a `producer` or `consumer` line gives them (Kafka's names),
//! turned into the producer's, consumer's and application's configurations. The command parser
//! has checked each value's form already; what is left is combinations the client refuses
//! (Kafka's `ConfigException`), reported with the client's own reasons.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::assignor::AssignorName;
use crate::command::clients::{parse_crash_point, setting, CrashSetting, Setting};
use crate::consumer::{ApplicationConfig, AutoOffsetReset, CommitMode, ConsumerConfig, CrashPoint};
use crate::message::{Acks, IsolationLevel};
use crate::producer::{PartitionerKind, ProducerConfig};
use crate::record_batch::Compression;

fn number(settings: &[Setting], key: &str) -> Option<u64> {
    setting(settings, key).and_then(|v| v.parse().ok())
}

/// The producer a `producer` line describes; Kafka's defaults for what it leaves out.
pub(super) fn producer_config(settings: &[Setting]) -> Result<ProducerConfig, String> {
    let mut config = ProducerConfig::default();
    if let Some(acks) = setting(settings, "acks") {
        config.acks = match acks {
            "0" => Acks::None,
            "1" => Acks::Leader,
            _ => Acks::All,
        };
    }
    if let Some(value) = setting(settings, "enable.idempotence") {
        config.enable_idempotence = Some(value == "true");
    }
    let small = |n: u64| u32::try_from(n).unwrap_or(u32::MAX);
    if let Some(n) = number(settings, "linger.ms") {
        config.linger_ms = n;
    }
    if let Some(n) = number(settings, "batch.size") {
        config.batch_size = small(n);
    }
    if let Some(name) = setting(settings, "compression.type") {
        config.compression_type = Compression::from_name(name).ok_or_else(|| format!("unknown codec {name:?}"))?;
    }
    if let Some(n) = number(settings, "retries") {
        config.retries = small(n);
    }
    if let Some(n) = number(settings, "retry.backoff.ms") {
        config.retry_backoff_ms = n;
    }
    if let Some(n) = number(settings, "delivery.timeout.ms") {
        config.delivery_timeout_ms = n;
    }
    if let Some(n) = number(settings, "request.timeout.ms") {
        config.request_timeout_ms = n;
    }
    if let Some(n) = number(settings, "max.in.flight.requests.per.connection") {
        config.max_in_flight_requests_per_connection = small(n);
    }
    if let Some(id) = setting(settings, "transactional.id") {
        config.transactional_id = Some(Arc::from(id));
    }
    if let Some(n) = number(settings, "transaction.timeout.ms") {
        config.transaction_timeout_ms = n;
    }
    if setting(settings, "partitioner") == Some("round-robin") {
        config.partitioner = PartitionerKind::RoundRobin;
    }
    config.validate().map_err(|e| format!("{e}"))?;
    Ok(config)
}

/// The consumer and its application that a `consumer` line describes, with the topics it
/// subscribes to.
pub(super) fn consumer_config(
    settings: &[Setting],
) -> Result<(ConsumerConfig, ApplicationConfig, Vec<Arc<str>>), String> {
    let group = setting(settings, "group").unwrap_or_default();
    let mut config = ConsumerConfig::for_group(group);
    if let Some(id) = setting(settings, "group.instance.id") {
        config.group_instance_id = Some(Arc::from(id));
    }
    if let Some(name) = setting(settings, "assignor") {
        let assignor = AssignorName::parse(name).ok_or_else(|| format!("unknown assignor {name:?}"))?;
        config.partition_assignment_strategy = alloc::vec![assignor];
    }
    if let Some(value) = setting(settings, "auto.offset.reset") {
        config.auto_offset_reset =
            if value == "earliest" { AutoOffsetReset::Earliest } else { AutoOffsetReset::Latest };
    }
    if let Some(value) = setting(settings, "isolation.level") {
        config.isolation_level =
            if value == "read_committed" { IsolationLevel::ReadCommitted } else { IsolationLevel::ReadUncommitted };
    }
    if let Some(n) = number(settings, "session.timeout.ms") {
        config.session_timeout_ms = n;
    }
    if let Some(n) = number(settings, "heartbeat.interval.ms") {
        config.heartbeat_interval_ms = n;
    }
    if let Some(n) = number(settings, "max.poll.interval.ms") {
        config.max_poll_interval_ms = n;
    }
    if let Some(n) = number(settings, "max.poll.records") {
        config.max_poll_records = usize::try_from(n).unwrap_or(usize::MAX);
    }
    if let Some(n) = number(settings, "auto.commit.interval.ms") {
        config.auto_commit_interval_ms = n;
    }
    // `commit` says how the application commits; `enable.auto.commit=false` alone means it
    // commits by hand after processing, the usual at-least-once loop.
    let auto_commit = setting(settings, "enable.auto.commit").map(|v| v == "true");
    let transactional = setting(settings, "output").is_some();
    if transactional && setting(settings, "commit").is_some() {
        return Err(String::from("with output= the offsets commit in the transaction; leave commit= out"));
    }
    if transactional && setting(settings, "isolation.level").is_none() {
        // Exactly once reads only committed input.
        config.isolation_level = IsolationLevel::ReadCommitted;
    }
    let commit = match (setting(settings, "commit"), auto_commit) {
        _ if transactional => CommitMode::Transactional,
        (Some("after-processing"), _) | (None, Some(false)) => CommitMode::AfterProcessing,
        (Some("before-processing"), _) => CommitMode::BeforeProcessing,
        _ => CommitMode::Auto,
    };
    if auto_commit == Some(true) && commit != CommitMode::Auto {
        return Err(String::from(
            "enable.auto.commit=true commits on its own; leave commit= (and output=) out or set commit=auto",
        ));
    }
    config.enable_auto_commit = commit == CommitMode::Auto;
    let mut app = ApplicationConfig { commit, ..ApplicationConfig::default() };
    if let Some(n) = number(settings, "processing.ms") {
        app.processing_ms = n;
    }
    app.crash = setting(settings, "crash").and_then(parse_crash_point).map(|point| match point {
        CrashSetting::AfterProcessing(after_records) => CrashPoint::AfterProcessingBeforeCommit { after_records },
        CrashSetting::AfterCommit(after_records) => CrashPoint::AfterCommitBeforeProcessing { after_records },
    });
    config.validate().map_err(|e| format!("{e}"))?;
    app.validate(&config).map_err(|e| format!("{e}"))?;
    let topics = setting(settings, "topics").unwrap_or_default().split(',').map(Arc::from).collect();
    Ok((config, app, topics))
}
