//! The clients' topic requests as the active controller decides them (KRaft's
//! `ReplicationControlManager.createTopics`, `deleteTopics`, `createPartitions`): each topic on
//! its own, with the checks and writes of [`super::admin`]; a name given twice in one request
//! is refused for both (INVALID_REQUEST, "Duplicate topic name."), and `validate_only` checks
//! without writing. Topic settings arrive by Kafka's names and become the log's settings here.

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};

use crate::error_code::ErrorCode;
use crate::message::AdminError;
use crate::partition_log::LogConfig;

use super::admin::refuse;
use super::protocol::{CreatedTopic, NewTopic, TopicRequest, TopicResponse};
use super::Controller;

impl Controller {
    /// Decides every topic of a client's request, writing what it may.
    pub(super) fn handle_topic_request(&mut self, request: TopicRequest) -> TopicResponse {
        match request {
            TopicRequest::CreateTopics { topics, validate_only, .. } => {
                let duplicates = duplicated(topics.iter().map(|t| t.name.as_str()));
                let results = topics
                    .into_iter()
                    .map(|topic| {
                        let result = if duplicates.contains(&topic.name) {
                            duplicate()
                        } else {
                            self.create_requested_topic(&topic, validate_only)
                        };
                        (topic.name, result)
                    })
                    .collect();
                TopicResponse::CreateTopics(results)
            }
            TopicRequest::DeleteTopics { topics, .. } => {
                let duplicates = duplicated(topics.iter().map(String::as_str));
                let results = topics
                    .into_iter()
                    .map(|name| {
                        let result = if duplicates.contains(&name) { duplicate() } else { self.delete_topic(&name) };
                        (name, result)
                    })
                    .collect();
                TopicResponse::DeleteTopics(results)
            }
            TopicRequest::CreatePartitions { topics, validate_only, .. } => {
                let duplicates = duplicated(topics.iter().map(|(name, _)| name.as_str()));
                let results = topics
                    .into_iter()
                    .map(|(name, count)| {
                        let result = if duplicates.contains(&name) {
                            duplicate()
                        } else {
                            self.check_new_partitions(&name, count).map(|current| {
                                if !validate_only {
                                    self.write_new_partitions(&name, current, count);
                                }
                            })
                        };
                        (name, result)
                    })
                    .collect();
                TopicResponse::CreatePartitions(results)
            }
            TopicRequest::AutoCreate { .. } => {
                // Brokers answer auto-creation themselves; one sent here is a bug, refused.
                debug_assert!(false, "auto-creation is a broker's to answer");
                let error = AdminError { code: ErrorCode::InvalidRequest, message: "Not a controller request.".into() };
                request.refuse_all(&error)
            }
        }
    }

    fn create_requested_topic(&mut self, topic: &NewTopic, validate_only: bool) -> Result<CreatedTopic, AdminError> {
        let config = log_config(&topic.configs)?;
        let created = self.check_new_topic(&topic.name, topic.partitions, topic.replication_factor, &config)?;
        if !validate_only {
            self.write_new_topic(&topic.name, created, config);
        }
        Ok(created)
    }
}

/// The names given more than once.
fn duplicated<'a>(names: impl Iterator<Item = &'a str>) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut twice = BTreeSet::new();
    for name in names {
        if !seen.insert(name) {
            twice.insert(name.to_string());
        }
    }
    twice
}

fn duplicate<T>() -> Result<T, AdminError> {
    refuse(ErrorCode::InvalidRequest, "Duplicate topic name.")
}

/// Topic settings by Kafka's names, on top of Kafka's defaults: INVALID_CONFIG for a name the
/// lab does not know or a value that does not parse.
pub(super) fn log_config(configs: &[(String, String)]) -> Result<LogConfig, AdminError> {
    let mut config = LogConfig::default();
    for (key, value) in configs {
        if !LogConfig::KEYS.contains(&key.as_str()) {
            return refuse(ErrorCode::InvalidConfig, format!("Unknown topic config name: {key}"));
        }
        if let Err(error) = config.set(key, value) {
            return refuse(
                ErrorCode::InvalidConfig,
                format!("Invalid value {value} for configuration {key}: {}", error.message),
            );
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn settings_by_kafkas_names_become_the_logs_settings() {
        let configs = vec![
            (String::from("cleanup.policy"), String::from("compact")),
            (String::from("retention.ms"), String::from("60000")),
        ];
        let config = log_config(&configs).expect("known settings");
        assert!(config.cleanup_policy.compacts());
        assert_eq!(config.retention_ms, Some(60_000));
    }

    #[test]
    fn an_unknown_setting_or_a_bad_value_is_invalid_config() {
        let unknown = log_config(&[(String::from("no.such.setting"), String::from("1"))]).unwrap_err();
        assert_eq!(unknown.code, ErrorCode::InvalidConfig);
        assert_eq!(unknown.message, "Unknown topic config name: no.such.setting");
        let bad = log_config(&[(String::from("retention.ms"), String::from("soon"))]).unwrap_err();
        assert_eq!(bad.code, ErrorCode::InvalidConfig);
    }

    #[test]
    fn only_names_given_twice_are_duplicates() {
        let names = duplicated(["a", "b", "a", "c"].into_iter());
        assert_eq!(names.into_iter().collect::<Vec<_>>(), ["a"]);
    }
}
