//! [`LogConfig`]: the topic settings one partition log obeys, under Kafka's names and with
//! Kafka's defaults (`TopicConfig` / `LogConfig` in Apache Kafka): when to roll a segment, how
//! long and how much to keep, and whether to delete old segments, compact them, or both.
//!
//! Kafka writes "forever" as -1; here it is `None`. Times are milliseconds, sizes bytes.

use core::fmt;
use serde::{Deserialize, Serialize};

use super::error::ConfigError;
use crate::record_batch::header::HEADER_BYTES;

const DAY_MS: u64 = 24 * 60 * 60 * 1000;

/// `cleanup.policy`: what happens to old data.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum CleanupPolicy {
    /// `delete`: whole segments go once they are older than `retention.ms` or the log is larger
    /// than `retention.bytes`.
    #[default]
    Delete,
    /// `compact`: only the newest record per key is kept; nothing is deleted by age or size.
    Compact,
    /// `compact,delete`: both.
    CompactAndDelete,
}

impl CleanupPolicy {
    /// Kafka's spelling of the setting's value.
    pub const fn name(self) -> &'static str {
        match self {
            CleanupPolicy::Delete => "delete",
            CleanupPolicy::Compact => "compact",
            CleanupPolicy::CompactAndDelete => "compact,delete",
        }
    }

    /// Reads Kafka's spelling; the list may come in either order.
    pub fn from_name(name: &str) -> Option<CleanupPolicy> {
        match name {
            "delete" => Some(CleanupPolicy::Delete),
            "compact" => Some(CleanupPolicy::Compact),
            "compact,delete" | "delete,compact" => Some(CleanupPolicy::CompactAndDelete),
            _ => None,
        }
    }

    /// Whether retention deletes old segments.
    pub const fn deletes(self) -> bool {
        matches!(self, CleanupPolicy::Delete | CleanupPolicy::CompactAndDelete)
    }

    /// Whether the log is compacted.
    pub const fn compacts(self) -> bool {
        matches!(self, CleanupPolicy::Compact | CleanupPolicy::CompactAndDelete)
    }
}

impl fmt::Display for CleanupPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The settings of one partition's log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogConfig {
    /// `segment.bytes`: the active segment rolls before it would grow past this (1 GiB).
    pub segment_bytes: u64,
    /// `segment.ms`: the active segment rolls once it is older than this (7 days).
    pub segment_ms: u64,
    /// `retention.ms`: segments whose newest record is older than this are deleted (7 days);
    /// `None` is Kafka's -1, keep forever.
    pub retention_ms: Option<u64>,
    /// `retention.bytes`: oldest segments are deleted while the log is larger than this;
    /// `None` is Kafka's default -1, no limit.
    pub retention_bytes: Option<u64>,
    /// `cleanup.policy` (delete).
    pub cleanup_policy: CleanupPolicy,
    /// `delete.retention.ms`: how long compaction keeps a tombstone after it was written (1 day).
    pub delete_retention_ms: u64,
    /// `min.compaction.lag.ms`: compaction leaves segments holding records younger than this (0).
    pub min_compaction_lag_ms: u64,
    /// `min.insync.replicas` set on the topic: how many in-sync replicas an `acks=all` write
    /// needs; `None` leaves it to the cluster's setting.
    pub min_insync_replicas: Option<i32>,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            segment_bytes: 1 << 30,
            segment_ms: 7 * DAY_MS,
            retention_ms: Some(7 * DAY_MS),
            retention_bytes: None,
            cleanup_policy: CleanupPolicy::Delete,
            delete_retention_ms: DAY_MS,
            min_compaction_lag_ms: 0,
            min_insync_replicas: None,
        }
    }
}

/// A topic setting that could not be applied: its key is unknown or its value does not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SettingError {
    pub key: alloc::string::String,
    pub message: alloc::string::String,
}

impl fmt::Display for SettingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.message)
    }
}

impl LogConfig {
    /// The topic settings [`LogConfig::set`] knows, by Kafka's names.
    pub const KEYS: [&'static str; 8] = [
        "cleanup.policy",
        "retention.ms",
        "retention.bytes",
        "segment.bytes",
        "segment.ms",
        "delete.retention.ms",
        "min.compaction.lag.ms",
        "min.insync.replicas",
    ];

    /// Sets one topic setting by Kafka's name and value as written (`retention.ms=-1` is
    /// forever, `cleanup.policy=compact,delete` both).
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingError> {
        let error = |message: &str| SettingError { key: key.into(), message: message.into() };
        let number = || value.parse::<u64>().map_err(|_| error("expected a whole number of ms or bytes"));
        let limit = || -> Result<Option<u64>, SettingError> {
            if value == "-1" {
                Ok(None)
            } else {
                number().map(Some)
            }
        };
        match key {
            "cleanup.policy" => {
                self.cleanup_policy = CleanupPolicy::from_name(value)
                    .ok_or_else(|| error("expected delete, compact or compact,delete"))?
            }
            "retention.ms" => self.retention_ms = limit()?,
            "retention.bytes" => self.retention_bytes = limit()?,
            "segment.bytes" => self.segment_bytes = number()?,
            "segment.ms" => self.segment_ms = number()?,
            "delete.retention.ms" => self.delete_retention_ms = number()?,
            "min.compaction.lag.ms" => self.min_compaction_lag_ms = number()?,
            "min.insync.replicas" => match value.parse::<i32>() {
                Ok(count) if count >= 1 => self.min_insync_replicas = Some(count),
                _ => return Err(error("expected a whole number of replicas, at least 1")),
            },
            _ => return Err(error("not a topic setting the lab knows")),
        }
        Ok(())
    }

    /// The value of the setting named `key`, as Kafka writes it (`-1` for no limit); `None` for
    /// a key it does not know, or for `min.insync.replicas` when the topic leaves it to the
    /// cluster.
    pub fn value(&self, key: &str) -> Option<alloc::string::String> {
        use alloc::string::ToString;
        let limit = |v: Option<u64>| v.map_or("-1".to_string(), |v| v.to_string());
        Some(match key {
            "cleanup.policy" => self.cleanup_policy.name().to_string(),
            "retention.ms" => limit(self.retention_ms),
            "retention.bytes" => limit(self.retention_bytes),
            "segment.bytes" => self.segment_bytes.to_string(),
            "segment.ms" => self.segment_ms.to_string(),
            "delete.retention.ms" => self.delete_retention_ms.to_string(),
            "min.compaction.lag.ms" => self.min_compaction_lag_ms.to_string(),
            "min.insync.replicas" => return self.min_insync_replicas.map(|count| count.to_string()),
            _ => return None,
        })
    }

    /// The settings that differ from Kafka's defaults, as `key=value`, in [`LogConfig::KEYS`] order.
    pub fn overrides(&self) -> alloc::vec::Vec<(&'static str, alloc::string::String)> {
        use alloc::string::ToString;
        let limit = |v: Option<u64>| v.map_or("-1".to_string(), |v| v.to_string());
        let default = LogConfig::default();
        let mut out = alloc::vec::Vec::new();
        if self.cleanup_policy != default.cleanup_policy {
            out.push(("cleanup.policy", self.cleanup_policy.name().to_string()));
        }
        if self.retention_ms != default.retention_ms {
            out.push(("retention.ms", limit(self.retention_ms)));
        }
        if self.retention_bytes != default.retention_bytes {
            out.push(("retention.bytes", limit(self.retention_bytes)));
        }
        for (key, value, default) in [
            ("segment.bytes", self.segment_bytes, default.segment_bytes),
            ("segment.ms", self.segment_ms, default.segment_ms),
            ("delete.retention.ms", self.delete_retention_ms, default.delete_retention_ms),
            ("min.compaction.lag.ms", self.min_compaction_lag_ms, default.min_compaction_lag_ms),
        ] {
            if value != default {
                out.push((key, value.to_string()));
            }
        }
        if let Some(count) = self.min_insync_replicas {
            out.push(("min.insync.replicas", count.to_string()));
        }
        out
    }

    /// The smallest `segment.bytes` accepted: room for one batch with no records. (Kafka's own
    /// floor is larger; a small one lets the lab show rolling with a handful of records.)
    pub const MIN_SEGMENT_BYTES: u64 = HEADER_BYTES as u64;

    /// Rejects settings no log can run with. A log given an invalid config still never panics;
    /// it refuses appends that cannot fit a segment.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.segment_bytes < Self::MIN_SEGMENT_BYTES {
            return Err(ConfigError::SegmentBytesTooSmall {
                segment_bytes: self.segment_bytes,
                minimum: Self::MIN_SEGMENT_BYTES,
            });
        }
        if self.segment_ms == 0 {
            return Err(ConfigError::SegmentMsZero);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_reads_back_what_set_wrote() {
        let mut config = LogConfig::default();
        for (key, value) in [
            ("cleanup.policy", "compact,delete"),
            ("retention.ms", "-1"),
            ("retention.bytes", "1048576"),
            ("segment.bytes", "4096"),
            ("segment.ms", "60000"),
            ("delete.retention.ms", "1000"),
            ("min.compaction.lag.ms", "5"),
            ("min.insync.replicas", "2"),
        ] {
            config.set(key, value).unwrap();
            assert_eq!(config.value(key).as_deref(), Some(value), "{key}");
        }
        assert_eq!(LogConfig::default().value("min.insync.replicas"), None, "left to the cluster");
        assert_eq!(LogConfig::default().value("compression.type"), None);
        assert!(LogConfig::KEYS.iter().all(|key| config.value(key).is_some()));
    }

    #[test]
    fn defaults_are_kafkas() {
        let config = LogConfig::default();
        assert_eq!(config.segment_bytes, 1_073_741_824);
        assert_eq!(config.segment_ms, 604_800_000);
        assert_eq!(config.retention_ms, Some(604_800_000));
        assert_eq!(config.retention_bytes, None);
        assert_eq!(config.cleanup_policy, CleanupPolicy::Delete);
        assert_eq!(config.delete_retention_ms, 86_400_000);
        assert_eq!(config.min_compaction_lag_ms, 0);
        assert_eq!(config.validate(), Ok(()));
    }

    #[test]
    fn impossible_segment_settings_are_rejected() {
        let tiny = LogConfig { segment_bytes: 10, ..LogConfig::default() };
        assert_eq!(tiny.validate(), Err(ConfigError::SegmentBytesTooSmall { segment_bytes: 10, minimum: 61 }));
        let instant = LogConfig { segment_ms: 0, ..LogConfig::default() };
        assert_eq!(instant.validate(), Err(ConfigError::SegmentMsZero));
    }

    #[test]
    fn cleanup_policy_names_round_trip() {
        for policy in [CleanupPolicy::Delete, CleanupPolicy::Compact, CleanupPolicy::CompactAndDelete] {
            assert_eq!(CleanupPolicy::from_name(policy.name()), Some(policy));
        }
        assert_eq!(CleanupPolicy::from_name("delete,compact"), Some(CleanupPolicy::CompactAndDelete));
        assert!(CleanupPolicy::CompactAndDelete.deletes() && CleanupPolicy::CompactAndDelete.compacts());
        assert!(!CleanupPolicy::Compact.deletes() && !CleanupPolicy::Delete.compacts());
    }
}
