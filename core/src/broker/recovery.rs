//! A broker's disk: its partition logs read out ([`Broker::disk`]) and a broker started from
//! them ([`Broker::recovered`]), as a Kafka broker loads its log directory at start.
//!
//! A recovered broker starts as after a crash: it holds every log but no role until its
//! metadata log has caught up with the controllers' and named its leaderships again.

use crate::storage::{BrokerDisk, RecoveryError, StoredLog};

use super::*;

impl Broker {
    /// A broker whose disk held `disk`, not started. `previous_incarnation` is the latest
    /// incarnation it registered with before (0 if unknown): its next start registers as a
    /// later one, so the controllers take it for a restart rather than an old message. Every
    /// log is recovered with the default log settings; the metadata brings the topics' own.
    pub fn recovered(
        id: BrokerId,
        config: ClusterConfig,
        disk: &BrokerDisk,
        previous_incarnation: u64,
        now_ms: u64,
    ) -> Result<Broker, RecoveryError> {
        let mut broker = Broker::new(id, config);
        for (partition, stored) in &disk.partitions {
            let log = PartitionLog::recover(LogConfig::default(), stored, now_ms)
                .map_err(|error| RecoveryError::Log { partition: partition.clone(), error })?;
            let topic_id = stored.topic_id.unwrap_or(UNKNOWN_TOPIC_ID);
            broker
                .replicas
                .insert(partition.clone(), Replica { log, role: Role::Follower(Following::nobody()), topic_id });
        }
        // A broker that registered before starts as a restart: no role until its metadata
        // has caught up. One that never did (no controller remembers it) starts as a new
        // cluster's broker does, from the bootstrap metadata.
        broker.incarnation = previous_incarnation;
        Ok(broker)
    }

    /// What this broker keeps on disk: every partition log it holds.
    pub fn disk(&self) -> BrokerDisk {
        let partitions = self
            .replicas
            .iter()
            .map(|(partition, replica)| {
                let stored = StoredLog { topic_id: Some(replica.topic_id), ..StoredLog::of(&replica.log) };
                (partition.clone(), stored)
            })
            .collect();
        BrokerDisk { partitions }
    }
}
