//! The persister: after each interval it compares what the core's nodes hold with what is on
//! disk and writes the difference, so the data directory follows the cluster.
//!
//! It keeps a mirror of the files: for each segment file, a mark of every batch written
//! (base offset, leader epoch, size, CRC: what tells two batches' bytes apart) and where its
//! index stands; for each controller, the epoch of every line of its metadata log file. A
//! persist runs in two steps so the simulation is locked only to compare:
//!
//! 1. [`Persister::plan`], under the simulation's lock: per segment, nothing new, the new
//!    batches to append (the file's batches are a prefix of the segment's), or the whole
//!    segment to write again (compaction or truncation changed what was written, or the file
//!    is new); files of segments retention deleted; checkpoints whose content changed; for
//!    each controller, the quorum state if changed, how many lines of its log to keep and the
//!    entries to append. The batches are `Bytes`: taking them copies no record.
//! 2. [`Persister::write`], without it: the file operations, each file flushed (`fsync`) once
//!    written, and the mirror updated with what was written.
//!
//! All nodes are planned at one instant, so the files are one moment of the whole cluster
//! (less whatever a crash mid-write cuts, which recovery truncates). Flushing at every
//! persist costs one `fsync` per file touched; Kafka leaves flushing to the OS by default and
//! counts on replication, which three brokers in one process cannot offer.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use kafkalab_core::ids::{BrokerId, ControllerId, LeaderEpoch, Offset, TopicPartition};
use kafkalab_core::metadata::MetadataBatch;
use kafkalab_core::partition_log::{EpochEntry, PartitionLog};
use kafkalab_core::raft::{Epoch, LogEntry, QuorumState};
use kafkalab_core::record_batch::RecordBatch;
use kafkalab_core::storage::ClusterDisks;
use kafkalab_core::Simulation;

use super::layout::{self, HIGH_WATERMARK_FILE, LEADER_EPOCH_FILE, QUORUM_STATE_FILE};
use super::offset_index::{IndexCursor, IndexEntry};
use super::{checkpoint, metadata_log};

/// What tells one batch's bytes from another's at the same place: the fields outside the CRC
/// that a leader writes, and the CRC over the rest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct BatchMark {
    base_offset: Offset,
    leader_epoch: LeaderEpoch,
    size: usize,
    crc: u32,
}

impl BatchMark {
    fn of(batch: &RecordBatch) -> Self {
        BatchMark {
            base_offset: batch.base_offset(),
            leader_epoch: batch.partition_leader_epoch(),
            size: batch.size_bytes(),
            crc: batch.crc(),
        }
    }
}

/// One segment file as written.
#[derive(Clone, Debug)]
struct SegmentMirror {
    marks: Vec<BatchMark>,
    index: IndexCursor,
}

impl SegmentMirror {
    fn of(base_offset: Offset, batches: &[RecordBatch]) -> Self {
        let mut mirror = SegmentMirror { marks: Vec::new(), index: IndexCursor::new(base_offset) };
        for batch in batches {
            mirror.marks.push(BatchMark::of(batch));
            mirror.index.append(batch);
        }
        mirror
    }
}

/// One partition's directory as written.
#[derive(Clone, Debug, Default)]
struct LogMirror {
    segments: BTreeMap<Offset, SegmentMirror>,
    /// `None` until the checkpoint is written by this process.
    epochs: Option<Vec<EpochEntry>>,
}

#[derive(Clone, Debug, Default)]
struct BrokerMirror {
    logs: BTreeMap<TopicPartition, LogMirror>,
    high_watermarks: Option<BTreeMap<TopicPartition, Offset>>,
}

#[derive(Clone, Debug, Default)]
struct ControllerMirror {
    quorum: Option<QuorumState>,
    /// The epoch of each entry line in the file, and where each line ends.
    epochs: Vec<Epoch>,
    line_ends: Vec<u64>,
}

/// How a segment file changes.
#[derive(Clone, Debug)]
enum SegmentWrite {
    Append {
        base_offset: Offset,
        batches: Vec<RecordBatch>,
    },
    /// Written whole: a new file, or one whose batches changed.
    Replace {
        base_offset: Offset,
        batches: Vec<RecordBatch>,
    },
}

#[derive(Clone, Debug, Default)]
struct LogPlan {
    writes: Vec<SegmentWrite>,
    deleted: Vec<Offset>,
    epochs: Option<Vec<EpochEntry>>,
}

#[derive(Clone, Debug, Default)]
struct BrokerPlan {
    logs: BTreeMap<TopicPartition, LogPlan>,
    /// Partitions the broker no longer holds: their directories go.
    removed: Vec<TopicPartition>,
    high_watermarks: Option<BTreeMap<TopicPartition, Offset>>,
}

#[derive(Clone, Debug)]
struct ControllerPlan {
    quorum: Option<QuorumState>,
    /// Entry lines of the file to keep; the rest are truncated.
    keep: usize,
    append: Vec<LogEntry<MetadataBatch>>,
}

/// What one persist will write, taken from the simulation at one instant.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    brokers: BTreeMap<BrokerId, BrokerPlan>,
    controllers: BTreeMap<ControllerId, ControllerPlan>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.brokers.is_empty() && self.controllers.is_empty()
    }
}

/// What one persist did and what it cost.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PersistStats {
    pub files_written: usize,
    pub bytes_written: u64,
    pub failures: usize,
    pub write_micros: u64,
}

/// Keeps the data directory in step with the simulation.
#[derive(Debug)]
pub struct Persister {
    root: PathBuf,
    brokers: BTreeMap<BrokerId, BrokerMirror>,
    controllers: BTreeMap<ControllerId, ControllerMirror>,
    /// The last failure reported, so a disk that stays full is reported once.
    last_failure: Option<String>,
}

impl Persister {
    /// A persister for `root`, whose segment files hold exactly `disks` (as recovery left
    /// them). Checkpoints and metadata logs are written afresh at the first persist.
    pub fn new(root: PathBuf, disks: &ClusterDisks) -> Self {
        let brokers = disks
            .brokers
            .iter()
            .map(|(&broker, disk)| {
                let logs = disk
                    .partitions
                    .iter()
                    .map(|(partition, stored)| {
                        let segments = stored
                            .segments
                            .iter()
                            .map(|s| (s.base_offset, SegmentMirror::of(s.base_offset, &s.batches)))
                            .collect();
                        (partition.clone(), LogMirror { segments, epochs: None })
                    })
                    .collect();
                (broker, BrokerMirror { logs, high_watermarks: None })
            })
            .collect();
        Persister { root, brokers, controllers: BTreeMap::new(), last_failure: None }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Compares every node with the files; see the module docs.
    pub fn plan(&self, simulation: &Simulation) -> Plan {
        let mut plan = Plan::default();
        for broker in simulation.brokers() {
            let mirror = self.brokers.get(&broker.id());
            let broker_plan = plan_broker(mirror, broker.replicas().map(|(p, r)| (p, &r.log)));
            if broker_plan.high_watermarks.is_some() || !broker_plan.logs.is_empty() || !broker_plan.removed.is_empty()
            {
                plan.brokers.insert(broker.id(), broker_plan);
            }
        }
        for controller in simulation.controllers() {
            let persistent = controller.raft().persistent_state();
            let mirror = self.controllers.get(&controller.id());
            if let Some(controller_plan) = plan_controller(mirror, &persistent.quorum, persistent.log.entries()) {
                plan.controllers.insert(controller.id(), controller_plan);
            }
        }
        plan
    }

    /// Carries `plan` out; a file that fails is reported and written whole next time.
    pub fn write(&mut self, plan: Plan) -> PersistStats {
        let started = Instant::now();
        let mut stats = PersistStats::default();
        for (broker, broker_plan) in plan.brokers {
            self.write_broker(broker, broker_plan, &mut stats);
        }
        for (controller, controller_plan) in plan.controllers {
            self.write_controller(controller, controller_plan, &mut stats);
        }
        stats.write_micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        stats
    }

    fn write_broker(&mut self, broker: BrokerId, plan: BrokerPlan, stats: &mut PersistStats) {
        let dir = layout::broker_dir(&self.root, broker);
        let mut failures = Vec::new();
        let mirror = self.brokers.entry(broker).or_default();
        for partition in plan.removed {
            let path = layout::partition_dir(&dir, &partition);
            match fs::remove_dir_all(&path) {
                Ok(()) => drop(mirror.logs.remove(&partition)),
                Err(e) if e.kind() == io::ErrorKind::NotFound => drop(mirror.logs.remove(&partition)),
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
        for (partition, log_plan) in plan.logs {
            let log_dir = layout::partition_dir(&dir, &partition);
            let log_mirror = mirror.logs.entry(partition).or_default();
            write_log(&log_dir, log_plan, log_mirror, stats, &mut failures);
        }
        if let Some(high_watermarks) = plan.high_watermarks {
            let path = dir.join(HIGH_WATERMARK_FILE);
            let text = checkpoint::render_high_watermarks(&high_watermarks);
            match fs::create_dir_all(&dir).and_then(|()| checkpoint::write_atomically(&path, &text)) {
                Ok(()) => {
                    stats.count(text.len());
                    mirror.high_watermarks = Some(high_watermarks);
                }
                Err(e) => failures.push(format!("{}: {e}", path.display())),
            }
        }
        self.report(failures, stats);
    }

    fn write_controller(&mut self, controller: ControllerId, plan: ControllerPlan, stats: &mut PersistStats) {
        let dir = layout::controller_dir(&self.root, controller);
        let mirror = self.controllers.entry(controller).or_default();
        let outcome = write_metadata_log(&dir, &plan, mirror, stats);
        if let Err(e) = outcome {
            // Start the file over next time.
            *mirror = ControllerMirror::default();
            self.report(vec![format!("{}: {e}", dir.display())], stats);
        }
    }

    fn report(&mut self, failures: Vec<String>, stats: &mut PersistStats) {
        stats.failures += failures.len();
        for failure in failures {
            if self.last_failure.as_ref() != Some(&failure) {
                eprintln!("kafkalab: cannot write the data directory: {failure}");
                self.last_failure = Some(failure);
            }
        }
    }
}

impl PersistStats {
    fn count(&mut self, bytes: usize) {
        self.files_written += 1;
        self.bytes_written += bytes as u64;
    }
}

/// What changed in one broker's logs and checkpoints since they were written.
fn plan_broker<'a>(
    mirror: Option<&BrokerMirror>,
    logs: impl Iterator<Item = (&'a TopicPartition, &'a PartitionLog)>,
) -> BrokerPlan {
    let mut plan = BrokerPlan::default();
    let mut high_watermarks = BTreeMap::new();
    let mut held = BTreeSet::new();
    for (partition, log) in logs {
        held.insert(partition);
        high_watermarks.insert(partition.clone(), log.high_watermark());
        let log_mirror = mirror.and_then(|m| m.logs.get(partition));
        let log_plan = plan_log(log_mirror, log);
        if !log_plan.writes.is_empty() || !log_plan.deleted.is_empty() || log_plan.epochs.is_some() {
            plan.logs.insert(partition.clone(), log_plan);
        }
    }
    if let Some(mirror) = mirror {
        plan.removed = mirror.logs.keys().filter(|p| !held.contains(p)).cloned().collect();
    }
    if mirror.and_then(|m| m.high_watermarks.as_ref()) != Some(&high_watermarks) {
        plan.high_watermarks = Some(high_watermarks);
    }
    plan
}

/// What changed in one log's segments and epoch cache since they were written.
fn plan_log(mirror: Option<&LogMirror>, log: &PartitionLog) -> LogPlan {
    let mut plan = LogPlan::default();
    for segment in log.segments() {
        let (base_offset, batches) = (segment.base_offset(), segment.batches());
        match mirror.and_then(|m| m.segments.get(&base_offset)) {
            Some(written) if is_prefix(&written.marks, batches) => {
                if written.marks.len() < batches.len() {
                    let batches = batches[written.marks.len()..].to_vec();
                    plan.writes.push(SegmentWrite::Append { base_offset, batches });
                }
            }
            _ => plan.writes.push(SegmentWrite::Replace { base_offset, batches: batches.to_vec() }),
        }
    }
    if let Some(mirror) = mirror {
        let live: BTreeSet<Offset> = log.segments().iter().map(|s| s.base_offset()).collect();
        plan.deleted = mirror.segments.keys().filter(|base| !live.contains(base)).copied().collect();
    }
    if mirror.and_then(|m| m.epochs.as_deref()) != Some(log.epoch_entries()) {
        plan.epochs = Some(log.epoch_entries().to_vec());
    }
    plan
}

/// Whether the batches written are the first of `batches`, byte for byte as far as the marks
/// tell.
fn is_prefix(marks: &[BatchMark], batches: &[RecordBatch]) -> bool {
    marks.len() <= batches.len() && marks.iter().zip(batches).all(|(mark, batch)| *mark == BatchMark::of(batch))
}

/// What changed in a controller's quorum state and log since they were written: entries are
/// identified by offset and epoch (Raft's Log Matching), so the file keeps the longest run of
/// lines whose epochs match the log's.
fn plan_controller(
    mirror: Option<&ControllerMirror>,
    quorum: &QuorumState,
    entries: &[LogEntry<MetadataBatch>],
) -> Option<ControllerPlan> {
    let written: &[Epoch] = mirror.map_or(&[], |m| &m.epochs);
    let keep = written.iter().zip(entries).take_while(|(epoch, entry)| **epoch == entry.epoch).count();
    let quorum_changed = mirror.and_then(|m| m.quorum.as_ref()) != Some(quorum);
    if keep == written.len() && keep == entries.len() && !quorum_changed {
        return None;
    }
    Some(ControllerPlan { quorum: quorum_changed.then_some(*quorum), keep, append: entries[keep..].to_vec() })
}

/// One partition's directory: segment files, then deletions, then the epoch checkpoint.
fn write_log(dir: &Path, plan: LogPlan, mirror: &mut LogMirror, stats: &mut PersistStats, failures: &mut Vec<String>) {
    if let Err(e) = fs::create_dir_all(dir) {
        failures.push(format!("{}: {e}", dir.display()));
        return;
    }
    let mut directory_changed = false;
    for write in plan.writes {
        let (base_offset, outcome) = match write {
            SegmentWrite::Append { base_offset, batches } => {
                let segment = mirror.segments.get_mut(&base_offset).expect("an append goes to a written segment");
                (base_offset, append_segment(dir, base_offset, &batches, segment, stats))
            }
            SegmentWrite::Replace { base_offset, batches } => {
                directory_changed |= !mirror.segments.contains_key(&base_offset);
                let outcome = replace_segment(dir, base_offset, &batches, stats);
                if outcome.is_ok() {
                    mirror.segments.insert(base_offset, SegmentMirror::of(base_offset, &batches));
                }
                (base_offset, outcome)
            }
        };
        if let Err(e) = outcome {
            mirror.segments.remove(&base_offset); // written whole next time
            failures.push(format!("{}: {e}", layout::segment_path(dir, base_offset).display()));
        }
    }
    for base_offset in plan.deleted {
        let path = layout::segment_path(dir, base_offset);
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                failures.push(format!("{}: {e}", path.display()));
                continue;
            }
        }
        let _ = fs::remove_file(layout::index_path(dir, base_offset));
        mirror.segments.remove(&base_offset);
        directory_changed = true;
    }
    if let Some(epochs) = plan.epochs {
        let path = dir.join(LEADER_EPOCH_FILE);
        let text = checkpoint::render_epochs(&epochs);
        match checkpoint::write_atomically(&path, &text) {
            Ok(()) => {
                stats.count(text.len());
                mirror.epochs = Some(epochs);
                directory_changed = true;
            }
            Err(e) => failures.push(format!("{}: {e}", path.display())),
        }
    }
    if directory_changed {
        // New, renamed and deleted names survive a crash only once the directory is flushed.
        if let Err(e) = fs::File::open(dir).and_then(|d| d.sync_all()) {
            failures.push(format!("{}: {e}", dir.display()));
        }
    }
}

/// Appends batches to a segment's log file and their index entries to its index.
fn append_segment(
    dir: &Path,
    base_offset: Offset,
    batches: &[RecordBatch],
    mirror: &mut SegmentMirror,
    stats: &mut PersistStats,
) -> io::Result<()> {
    let mut index = mirror.index;
    let entries: Vec<IndexEntry> = batches.iter().filter_map(|batch| index.append(batch)).collect();
    let bytes = concatenate(batches);
    let mut file = fs::OpenOptions::new().append(true).open(layout::segment_path(dir, base_offset))?;
    file.write_all(&bytes)?;
    file.sync_data()?;
    stats.count(bytes.len());
    if !entries.is_empty() {
        let mut index_file =
            fs::OpenOptions::new().create(true).append(true).open(layout::index_path(dir, base_offset))?;
        let index_bytes = super::offset_index::encode(&entries);
        index_file.write_all(&index_bytes)?;
        index_file.sync_data()?;
        stats.count(index_bytes.len());
    }
    mirror.marks.extend(batches.iter().map(BatchMark::of));
    mirror.index = index;
    Ok(())
}

/// Writes a segment's log file and index whole.
fn replace_segment(
    dir: &Path,
    base_offset: Offset,
    batches: &[RecordBatch],
    stats: &mut PersistStats,
) -> io::Result<()> {
    let bytes = concatenate(batches);
    let mut file = fs::File::create(layout::segment_path(dir, base_offset))?;
    file.write_all(&bytes)?;
    file.sync_data()?;
    stats.count(bytes.len());
    let index_bytes = super::offset_index::encode(&super::offset_index::build(base_offset, batches));
    let mut index_file = fs::File::create(layout::index_path(dir, base_offset))?;
    index_file.write_all(&index_bytes)?;
    index_file.sync_data()?;
    stats.count(index_bytes.len());
    Ok(())
}

fn concatenate(batches: &[RecordBatch]) -> Vec<u8> {
    let mut bytes = Vec::with_capacity(batches.iter().map(RecordBatch::size_bytes).sum());
    for batch in batches {
        bytes.extend_from_slice(batch.as_bytes());
    }
    bytes
}

/// A controller's directory: the quorum state first (an epoch is on disk before any entry of
/// it), then the log file truncated to the lines kept and the new lines appended.
fn write_metadata_log(
    dir: &Path,
    plan: &ControllerPlan,
    mirror: &mut ControllerMirror,
    stats: &mut PersistStats,
) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    if let Some(quorum) = &plan.quorum {
        let text = metadata_log::quorum_state_text(quorum);
        checkpoint::write_atomically(&dir.join(QUORUM_STATE_FILE), &text)?;
        stats.count(text.len());
        mirror.quorum = Some(*quorum);
    }
    if plan.keep == mirror.epochs.len() && plan.append.is_empty() {
        return Ok(());
    }
    let keep_bytes = plan.keep.checked_sub(1).map_or(0, |last| mirror.line_ends[last]);
    let mut file = fs::OpenOptions::new().create(true).write(true).truncate(false).open(metadata_log::log_path(dir))?;
    file.set_len(keep_bytes)?;
    mirror.epochs.truncate(plan.keep);
    mirror.line_ends.truncate(plan.keep);
    let mut bytes = Vec::new();
    let mut ends = Vec::with_capacity(plan.append.len());
    for entry in &plan.append {
        bytes.extend_from_slice(&metadata_log::entry_line(entry));
        ends.push(keep_bytes + bytes.len() as u64);
    }
    io::Seek::seek(&mut file, io::SeekFrom::Start(keep_bytes))?;
    file.write_all(&bytes)?;
    file.sync_data()?;
    stats.count(bytes.len());
    mirror.epochs.extend(plan.append.iter().map(|entry| entry.epoch));
    mirror.line_ends.extend(ends);
    Ok(())
}
