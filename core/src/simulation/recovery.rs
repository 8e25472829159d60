//! A run started from every node's disk, and the disks read out of a run: what the native
//! server writes to its data directory and recovers from when it starts again.
//!
//! Starting from disks is the whole cluster restarting after a crash, through the same paths
//! a `restart` takes: each controller starts from its epoch, vote and metadata log, and
//! replays the log into its image once a leader commits it again (topics made at runtime,
//! leaders, ISRs, epochs, producer id blocks all come back); each broker recovers its logs
//! (see [`crate::partition_log::PartitionLog::recover`]), registers as a new incarnation and
//! takes up its roles once its metadata has caught up. Coordinators load their state from the
//! internal topics' logs as they do after any leadership change.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::broker::Broker;
use crate::config::ClusterConfig;
use crate::controller::Controller;
use crate::ids::{BrokerId, ControllerId};
use crate::metadata::MetadataRecord;
use crate::raft::Payload;
use crate::storage::{BrokerDisk, ClusterDisks, ControllerDisk, RecoveryError};

use super::Simulation;

impl Simulation {
    /// A running cluster at time 0 whose nodes start from `disks`, as after a crash of every
    /// node. A node without a disk starts empty; a disk naming a node `config` lacks is
    /// refused, as is a log or a quorum state that does not hold together.
    pub fn from_disks(config: ClusterConfig, disks: &ClusterDisks) -> Result<Self, RecoveryError> {
        config.validate().map_err(RecoveryError::Config)?;
        if let Some(&id) = disks.brokers.keys().find(|id| !(1..=config.broker_count).contains(&id.0)) {
            return Err(RecoveryError::UnknownBroker(id));
        }
        if let Some(&id) = disks.controllers.keys().find(|id| !(1..=config.controller_count).contains(&id.0)) {
            return Err(RecoveryError::UnknownController(id));
        }
        let controllers = config
            .controller_ids()
            .map(|id| match disks.controllers.get(&id) {
                Some(disk) => Controller::recovered(id, config.clone(), disk.clone())
                    .map_err(|error| RecoveryError::Quorum { controller: id, error }),
                None => Ok(Controller::new(id, config.clone())),
            })
            .collect::<Result<Vec<Controller>, RecoveryError>>()?;
        let incarnations = registered_incarnations(disks.controllers.values());
        let empty = BrokerDisk::default();
        let brokers = (1..=config.broker_count)
            .map(BrokerId)
            .map(|id| {
                let disk = disks.brokers.get(&id).unwrap_or(&empty);
                let incarnation = incarnations.get(&id).copied().unwrap_or(0);
                Broker::recovered(id, config.clone(), disk, incarnation, 0)
            })
            .collect::<Result<Vec<Broker>, RecoveryError>>()?;
        Ok(Self::start_nodes(config, brokers, controllers))
    }

    /// What every node keeps on disk now, alive or not: brokers' partition logs, controllers'
    /// epoch, vote and metadata log.
    pub fn disks(&self) -> ClusterDisks {
        let brokers = self.brokers.iter().map(|node| (node.broker.id(), node.broker.disk())).collect();
        let controllers: BTreeMap<ControllerId, ControllerDisk> = self
            .controllers
            .iter()
            .map(|node| (node.controller.id(), node.controller.raft().persistent_state().clone()))
            .collect();
        ClusterDisks { brokers, controllers }
    }
}

/// The latest incarnation each broker registered with, by any controller's log.
fn registered_incarnations<'a>(disks: impl Iterator<Item = &'a ControllerDisk>) -> BTreeMap<BrokerId, u64> {
    let mut latest = BTreeMap::new();
    for entry in disks.flat_map(|disk| disk.log.entries()) {
        let Payload::Data(batch) = &entry.payload else { continue };
        for record in batch {
            if let MetadataRecord::RegisterBroker { broker, incarnation, .. } = record {
                let known = latest.entry(*broker).or_insert(0);
                *known = (*known).max(*incarnation);
            }
        }
    }
    latest
}
