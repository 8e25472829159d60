//! The sweep's consume-transform-produce pipeline: in some seeds, instances of one application
//! read `orders` in group `etl` and write each record to `shipments` through their own
//! transactional producers (`consumer ... output=shipments transactional.id=...`), so the
//! results and the offsets commit together. Among the broker faults an instance is crashed,
//! stopped, restarted, or replaced: a new instance takes a crashed one's `transactional.id`
//! (fencing its producer, KIP-98), or joins with a `transactional.id` of its own and takes
//! partitions over in a rebalance (fenced by the group generation, KIP-447). An instance
//! sometimes crashes by itself after processing some records (`crash=after-processing:N`); it
//! would crash again after a restart, so it is only ever replaced.
//!
//! After the heal one instance per `transactional.id` runs (the one started last, or a new
//! replacement for one that crashes by itself): the group must settle, commit past every
//! committed input record, and the output must hold each input record's result exactly once
//! (`kafkalab_core::invariants::check_pipelines_caught_up`).

use std::collections::BTreeMap;

use kafkalab_core::invariants::{check_pipelines_caught_up, BatchFates, RecordFate};
use kafkalab_core::rng::Rng;
use kafkalab_core::Simulation;

use super::{check_group_stable, check_processed_everything, coordinator, leader_log, partitions, Life, TOPIC};

/// The pipeline's group.
const GROUP: &str = "etl";
/// The pipeline's output topic.
const OUTPUT: &str = "shipments";
/// At most this many instances are ever started.
const MAX_INSTANCES: usize = 4;

#[derive(Clone, Debug)]
struct Instance {
    name: String,
    transactional_id: String,
    /// `crash=after-processing:N`: the instance crashes by itself, at every start.
    crashes_after: Option<u64>,
    life: Life,
}

/// The pipeline's instances, and how each is started.
#[derive(Clone, Debug)]
pub struct PipelinePlan {
    instances: Vec<Instance>,
    max_poll_records: u64,
    processing_ms: u64,
    session_timeout: bool,
    transactional_ids: u32,
}

impl PipelinePlan {
    /// One seed in two runs a pipeline.
    pub fn draw(rng: &mut Rng) -> Option<PipelinePlan> {
        if rng.between(0, 1) == 0 {
            return None;
        }
        let mut plan = PipelinePlan {
            instances: Vec::new(),
            max_poll_records: rng.between(1, 5),
            processing_ms: rng.between(0, 20),
            session_timeout: rng.between(0, 1) == 0,
            transactional_ids: 0,
        };
        let crashes_after = (rng.between(0, 2) == 0).then(|| rng.between(1, 10));
        plan.add_instance(None, crashes_after);
        Some(plan)
    }

    /// The line creating the output topic, before the clients start.
    pub fn setup_lines(&self) -> Vec<String> {
        vec![format!("create-topic {OUTPUT} partitions=3 replication-factor=3")]
    }

    /// The line starting the first instance.
    pub fn start_lines(&self) -> Vec<String> {
        vec![self.start_line(&self.instances[0])]
    }

    fn add_instance(&mut self, transactional_id: Option<String>, crashes_after: Option<u64>) -> &Instance {
        let transactional_id = transactional_id.unwrap_or_else(|| {
            self.transactional_ids += 1;
            format!("etl-{}", self.transactional_ids)
        });
        let name = format!("pipe{}", self.instances.len() + 1);
        self.instances.push(Instance { name, transactional_id, crashes_after, life: Life::Running });
        self.instances.last().expect("just pushed")
    }

    fn start_line(&self, instance: &Instance) -> String {
        let mut line = format!(
            "consumer {} group={GROUP} topics={TOPIC} output={OUTPUT} transactional.id={} auto.offset.reset=earliest \
             max.poll.records={} processing.ms={} max.poll.interval.ms=30000",
            instance.name, instance.transactional_id, self.max_poll_records, self.processing_ms
        );
        if self.session_timeout {
            line.push_str(" session.timeout.ms=10000");
        }
        if let Some(n) = instance.crashes_after {
            line.push_str(&format!(" crash=after-processing:{n}"));
        }
        line
    }

    /// One random action on an instance: a crash, a clean stop, a restart, or a new instance
    /// (replacing a down one with its `transactional.id`, or with one of its own).
    pub fn step(&mut self, rng: &mut Rng) -> Vec<String> {
        let index = rng.between(0, self.instances.len() as u64 - 1) as usize;
        let room = self.instances.len() < MAX_INSTANCES;
        let instance = &mut self.instances[index];
        let name = instance.name.clone();
        match (instance.life, rng.between(0, 3)) {
            (_, 3) if room => {
                let down = self.instances[index].life != Life::Running;
                let transactional_id = down.then(|| self.instances[index].transactional_id.clone());
                let crashes_after = (rng.between(0, 3) == 0).then(|| rng.between(1, 10));
                let instance = self.add_instance(transactional_id, crashes_after).clone();
                vec![self.start_line(&instance)]
            }
            (Life::Running, 0) => {
                instance.life = Life::Stopped;
                vec![format!("stop {name}")]
            }
            (Life::Running, _) => {
                instance.life = Life::Killed;
                vec![format!("kill {name}")]
            }
            (Life::Killed | Life::Stopped, _) => {
                instance.life = Life::Running;
                vec![format!("restart {name}")]
            }
        }
    }

    /// Every instance crashes (a kill is refused for one down already).
    pub fn quiesce_lines(&mut self) -> Vec<String> {
        self.instances
            .iter_mut()
            .map(|instance| {
                instance.life = Life::Killed;
                format!("kill {}", instance.name)
            })
            .collect()
    }

    /// For each `transactional.id`, the instance started last runs again, or a new one takes
    /// its place if it crashes by itself.
    pub fn restart_lines(&mut self) -> Vec<String> {
        let mut last: BTreeMap<String, usize> = BTreeMap::new();
        for (index, instance) in self.instances.iter().enumerate() {
            last.insert(instance.transactional_id.clone(), index);
        }
        let mut lines = Vec::new();
        for (transactional_id, index) in last {
            if self.instances[index].crashes_after.is_some() {
                let instance = self.add_instance(Some(transactional_id), None).clone();
                lines.push(self.start_line(&instance));
            } else {
                self.instances[index].life = Life::Running;
                lines.push(format!("restart {}", self.instances[index].name));
            }
        }
        lines
    }

    /// After the liveness phase: the group is Stable with the running instances as members,
    /// has processed every committed input record and committed past each, and the output
    /// holds each such record's result exactly once.
    pub fn check_settled(&self, simulation: &Simulation) -> Result<(), String> {
        let running = self.instances.iter().filter(|i| i.life == Life::Running).map(|i| i.name.as_str());
        check_group_stable(simulation, GROUP, running)?;
        check_processed_everything(simulation, GROUP)?;
        check_committed_past_everything(simulation)?;
        check_pipelines_caught_up(simulation).map_err(|violation| format!("exactly-once oracle: {violation}"))
    }
}

/// The group's committed offset of each input partition is past its last committed record.
fn check_committed_past_everything(simulation: &Simulation) -> Result<(), String> {
    let committed: BTreeMap<_, _> =
        coordinator(simulation, GROUP)?.group_coordinator().committed_offsets(GROUP).into_iter().collect();
    for partition in partitions(simulation) {
        let log = leader_log(simulation, &partition)?;
        let fates = BatchFates::of(log.batches());
        let last = log
            .records()
            .filter(|r| matches!(fates.fate_of(r.offset), RecordFate::NotTransactional | RecordFate::Committed))
            .map(|r| r.offset)
            .last();
        let at = committed.get(&partition).map(|c| c.offset);
        if let Some(last) = last {
            if at.is_none_or(|at| at <= last) {
                return Err(format!(
                    "pipeline group {GROUP} committed {at:?} for {partition}, whose last committed record is at {last}"
                ));
            }
        }
    }
    Ok(())
}
