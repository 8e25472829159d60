//! The ```` ```cluster ```` block: the cluster a lesson starts from.
//!
//! ```text
//! seed 7                                          the run's seed (1 when not given)
//! brokers 3                                       brokers 1..=3 (3 when not given)
//! controllers 3 dedicated                         the controller quorum: how many, and whether
//!                                                 they run beside brokers 1..=n (combined) or
//!                                                 on nodes of their own (dedicated)
//! topic orders partitions=3 replication-factor=3  a topic that exists from the start, with
//! topic users cleanup.policy=compact segment.ms=2000   ... topic settings as in create-topic
//! set min.insync.replicas=2                       a cluster setting, by Kafka's name
//! ```
//!
//! Anything not named keeps the lab's default ([`ClusterConfig::default`]), except topics: a
//! lesson lists every topic it starts with, and controllers: with fewer brokers than
//! controllers and no layout named, the controllers are dedicated (they cannot all run beside
//! a broker).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use super::error::LineError;
use crate::command::Command;
use crate::config::{ClusterConfig, ConfigError, ControllerLayout, TopicConfig};

/// The cluster settings a lesson may change, by Kafka's names.
pub const SETTINGS: [&str; 14] = [
    "min.insync.replicas",
    "unclean.leader.election.enable",
    "auto.leader.rebalance.enable",
    "broker.heartbeat.interval.ms",
    "broker.session.timeout.ms",
    "replica.lag.time.max.ms",
    "replica.fetch.wait.max.ms",
    "replica.fetch.backoff.ms",
    "replica.socket.timeout.ms",
    "request.timeout.ms",
    "leader.imbalance.check.interval.seconds",
    "leader.imbalance.per.broker.percentage",
    "log.retention.check.interval.ms",
    "log.cleaner.backoff.ms",
];

/// Reads the block's lines; `block_line` is where the block opens, for errors about the whole.
pub(crate) fn parse_cluster(block_line: usize, body: &[(usize, &str)]) -> Result<ClusterConfig, LineError> {
    let mut config = ClusterConfig { topics: Vec::new(), ..ClusterConfig::default() };
    let (mut seed_given, mut brokers_given, mut layout_given, mut controllers_given) = (false, false, false, false);
    let mut topic_lines = Vec::new();
    for &(line, text) in body {
        let text = text.trim();
        if text.is_empty() || text.starts_with('#') {
            continue;
        }
        let (word, rest) = text.split_once([' ', '\t']).map_or((text, ""), |(w, r)| (w, r.trim()));
        let err = |message: String| LineError::new(line, format!("in the cluster: {message}"));
        match word {
            "seed" => {
                if seed_given {
                    return Err(err(String::from("the seed is given twice")));
                }
                seed_given = true;
                config.seed = rest.parse().map_err(|_| err(format!("{rest:?} is not a seed (a whole number)")))?;
            }
            "brokers" => {
                if brokers_given {
                    return Err(err(String::from("the broker count is given twice")));
                }
                brokers_given = true;
                config.broker_count = rest
                    .parse()
                    .ok()
                    .filter(|n| (1..=64).contains(n))
                    .ok_or_else(|| err(format!("{rest:?} is not a broker count from 1 to 64")))?;
            }
            "controllers" => {
                if controllers_given {
                    return Err(err(String::from("the controllers are given twice")));
                }
                controllers_given = true;
                for word in rest.split_whitespace() {
                    match word {
                        "combined" => (config.controller_layout, layout_given) = (ControllerLayout::Combined, true),
                        "dedicated" => (config.controller_layout, layout_given) = (ControllerLayout::Dedicated, true),
                        count => {
                            config.controller_count =
                                count.parse().ok().filter(|n| (1..=9).contains(n)).ok_or_else(|| {
                                    err(format!(
                                        "{count:?} is not a controller count from 1 to 9, combined or dedicated"
                                    ))
                                })?
                        }
                    }
                }
            }
            "topic" => {
                config.topics.push(parse_topic(rest).map_err(err)?);
                topic_lines.push(line);
            }
            "set" => set(&mut config, rest).map_err(err)?,
            other => {
                return Err(err(format!("unknown line {other:?}; expected seed, brokers, controllers, topic or set")));
            }
        }
    }
    if !layout_given && config.broker_count < config.controller_count {
        config.controller_layout = ControllerLayout::Dedicated;
    }
    if let Some((topic, &line)) =
        config.topics.iter().zip(&topic_lines).find(|(t, _)| t.replication_factor > config.broker_count)
    {
        return Err(LineError::new(
            line,
            format!(
                "in the cluster: topic {}: replication factor {} needs that many brokers, and there are {}",
                topic.name, topic.replication_factor, config.broker_count
            ),
        ));
    }
    config.validate().map_err(|e| {
        // Point at the topic's own line when the error is about one (the last, for a duplicate).
        let topic = match &e {
            ConfigError::NoPartitions { topic }
            | ConfigError::DuplicateTopic { topic }
            | ConfigError::InvalidTopicName { topic }
            | ConfigError::ReplicationFactorOutOfRange { topic, .. } => Some(topic),
            _ => None,
        };
        let line = topic
            .and_then(|name| config.topics.iter().zip(&topic_lines).rev().find(|(t, _)| &t.name == name))
            .map_or(block_line, |(_, &line)| line);
        LineError::new(line, format!("in the cluster: {e}"))
    })?;
    Ok(config)
}

/// `orders partitions=3 replication-factor=3 retention.ms=60000`: read as `create-topic` reads it.
fn parse_topic(rest: &str) -> Result<TopicConfig, String> {
    const PREFIX: &str = "create-topic ";
    let line = format!("{PREFIX}{rest}");
    match Command::parse(&line) {
        Ok(Command::CreateTopic { name, partitions, replication_factor, config }) => {
            Ok(TopicConfig { name, partitions, replication_factor, log: config })
        }
        Ok(_) => Err(String::from("expected a topic, such as: topic orders partitions=3 replication-factor=3")),
        Err(e) => {
            // Columns as the teacher wrote the line, which starts with "topic ".
            let column = e.column.saturating_sub(PREFIX.len() - "topic ".len()).max(1);
            Err(format!("column {column}: {}", e.message))
        }
    }
}

/// `name=value`, one of [`SETTINGS`].
fn set(config: &mut ClusterConfig, rest: &str) -> Result<(), String> {
    let (name, value) =
        rest.split_once('=').ok_or_else(|| String::from("expected set name=value, as in set min.insync.replicas=2"))?;
    let (name, value) = (name.trim(), value.trim());
    let number = || value.parse::<u64>().map_err(|_| format!("{name}: {value:?} is not a whole number"));
    let flag = || match value {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{name}: {value:?} is not true or false")),
    };
    let small = |n: u64| i32::try_from(n).map_err(|_| format!("{name}: {value} is too large"));
    match name {
        "min.insync.replicas" => {
            config.min_insync_replicas = small(number()?)?;
            if config.min_insync_replicas < 1 {
                return Err(format!("{name}: must be at least 1"));
            }
        }
        "unclean.leader.election.enable" => config.unclean_leader_election_enable = flag()?,
        "auto.leader.rebalance.enable" => config.auto_leader_rebalance_enable = flag()?,
        "broker.heartbeat.interval.ms" => config.broker_heartbeat_interval_ms = number()?,
        "broker.session.timeout.ms" => config.broker_session_timeout_ms = number()?,
        "replica.lag.time.max.ms" => config.replica_lag_time_max_ms = number()?,
        "replica.fetch.wait.max.ms" => config.replica_fetch_wait_max_ms = number()?,
        "replica.fetch.backoff.ms" => config.replica_fetch_backoff_ms = number()?,
        "replica.socket.timeout.ms" => config.replica_socket_timeout_ms = number()?,
        "request.timeout.ms" => config.request_timeout_ms = number()?,
        "leader.imbalance.check.interval.seconds" => {
            config.leader_imbalance_check_interval_ms =
                number()?.checked_mul(1_000).ok_or_else(|| format!("{name}: {value} is too large"))?
        }
        "leader.imbalance.per.broker.percentage" => {
            config.leader_imbalance_per_broker_percentage =
                u32::try_from(number()?).map_err(|_| format!("{name}: {value} is too large"))?
        }
        "log.retention.check.interval.ms" => config.log_retention_check_interval_ms = number()?,
        "log.cleaner.backoff.ms" => config.log_cleaner_backoff_ms = number()?,
        _ => return Err(format!("unknown setting {name:?}; expected one of {}", SETTINGS.join(", "))),
    }
    Ok(())
}
