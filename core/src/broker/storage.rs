//! The broker's log housekeeping: every replica, leader or follower, deletes segments past
//! retention and compacts by key on its own schedule, as Kafka's `LogManager` and log cleaner
//! do on each broker. Topic settings reach the logs from the metadata.

use super::*;

impl Broker {
    /// Takes the topics' log settings from the metadata, for logs that exist and those to come.
    pub(super) fn apply_topic_configs(&mut self, configs: BTreeMap<String, LogConfig>) {
        for (partition, replica) in self.replicas.iter_mut() {
            if let Some(config) = configs.get(&*partition.topic) {
                if replica.log.config() != config {
                    replica.log.set_config(config.clone());
                }
            }
        }
        self.topic_configs = configs;
    }

    /// `cleanup.policy` delete: old segments go, whole (Kafka's `LogManager.cleanupLogs`).
    pub(super) fn enforce_retention(&mut self, now_ms: u64) {
        let id = self.id;
        let mut events = Vec::new();
        for (partition, replica) in self.replicas.iter_mut() {
            if !replica.log.config().cleanup_policy.deletes() {
                continue;
            }
            let outcome = replica.log.enforce_retention(now_ms);
            let segments = outcome.segments_deleted_by_time + outcome.segments_deleted_by_size;
            if segments > 0 {
                events.push(TraceEvent::SegmentsDeleted {
                    broker: id,
                    partition: partition.clone(),
                    segments,
                    records: outcome.records_deleted,
                    log_start: outcome.log_start_offset,
                });
            }
        }
        events.into_iter().for_each(|event| self.trace(event));
    }

    /// `cleanup.policy` compact: the log cleaner keeps the newest record per key.
    pub(super) fn compact_logs(&mut self, now_ms: u64) {
        let id = self.id;
        let mut events = Vec::new();
        for (partition, replica) in self.replicas.iter_mut() {
            if !replica.log.config().cleanup_policy.compacts() {
                continue;
            }
            let outcome = replica.log.compact(now_ms);
            if outcome.records_removed > 0 || outcome.tombstones_removed > 0 {
                events.push(TraceEvent::Compacted {
                    broker: id,
                    partition: partition.clone(),
                    records_removed: outcome.records_removed,
                    tombstones_removed: outcome.tombstones_removed,
                });
            }
        }
        events.into_iter().for_each(|event| self.trace(event));
    }
}
