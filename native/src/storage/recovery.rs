//! Reading a data directory back at start (Kafka's `LogManager.loadLogs`): every broker's
//! partition logs and every controller's metadata log, each file checked, damage truncated
//! and reported, into the core's [`ClusterDisks`].
//!
//! For each partition, segments are read in base-offset order and every batch is validated
//! (length, magic, CRC-32C, offsets in order). At the first damaged batch the file is
//! truncated there, every later segment of the partition is deleted (Kafka's recovery deletes
//! the segments after an unrecoverable one), and a [`Dropped`] says what went. A missing or
//! inconsistent `.index` is rebuilt from the batches.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use kafkalab_core::ids::{BrokerId, ControllerId, Offset, TopicPartition};
use kafkalab_core::storage::{BrokerDisk, ClusterDisks, StoredLog, StoredSegment};

use super::layout::{self, HIGH_WATERMARK_FILE, LEADER_EPOCH_FILE};
use super::segment_file::{self, CheckedSegment};
use super::{checkpoint, metadata_log, offset_index, StorageError};

/// Bytes recovery cut off one log, because they were torn or corrupt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dropped {
    /// The file the damage was found in.
    pub path: PathBuf,
    /// Where in it: the length it was truncated to.
    pub position: u64,
    /// Every byte dropped: the rest of that file and every later segment of the log.
    pub bytes: u64,
    /// The log now ends here: every offset from it on that the files held is gone.
    pub log_end: Offset,
    /// What was wrong.
    pub reason: String,
    /// Later segment files deleted with it.
    pub later_segments: usize,
}

impl fmt::Display for Dropped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {}; dropped {} bytes from byte {} (offsets from {} on",
            self.path.display(),
            self.reason,
            self.bytes,
            self.position,
            self.log_end
        )?;
        if self.later_segments > 0 {
            write!(f, ", with {} later segment file(s)", self.later_segments)?;
        }
        write!(f, ")")
    }
}

/// What recovery found and did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RecoveryReport {
    pub partitions: usize,
    pub batches: usize,
    pub bytes: u64,
    pub controllers: usize,
    pub dropped: Vec<Dropped>,
    /// Repairs that lost nothing: indexes rebuilt, unreadable checkpoints ignored.
    pub notes: Vec<String>,
}

/// Every node's disk under `root` (an empty one for a node with no directory), with damage
/// truncated in the files themselves.
pub fn recover(root: &Path) -> Result<(ClusterDisks, RecoveryReport), StorageError> {
    let mut disks = ClusterDisks::default();
    let mut report = RecoveryReport::default();
    for entry in read_dir(root)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        if let Some(broker) = layout::parse_broker_dir(&name) {
            disks.brokers.insert(broker, recover_broker(&entry.path(), &mut report)?);
        } else if let Some(controller) = layout::parse_controller_dir(&name) {
            recover_controller(root, controller, &mut disks, &mut report)?;
        }
    }
    Ok((disks, report))
}

fn recover_broker(dir: &Path, report: &mut RecoveryReport) -> Result<BrokerDisk, StorageError> {
    let high_watermarks = match read_optional(&dir.join(HIGH_WATERMARK_FILE))? {
        None => BTreeMap::new(),
        Some(text) => checkpoint::parse_high_watermarks(&text).unwrap_or_else(|| {
            report
                .notes
                .push(format!("{}: unreadable, high watermarks start at 0", dir.join(HIGH_WATERMARK_FILE).display()));
            BTreeMap::new()
        }),
    };
    let mut disk = BrokerDisk::default();
    for entry in read_dir(dir)? {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(partition) = layout::parse_partition_dir(&name).filter(|_| entry.path().is_dir()) else { continue };
        let high_watermark = high_watermarks.get(&partition).copied().unwrap_or(Offset(0));
        let log = recover_log(&entry.path(), high_watermark, report)?;
        report.partitions += 1;
        disk.partitions.insert(partition, log);
    }
    Ok(disk)
}

/// One partition's directory: its segments, checked in order; its epoch checkpoint.
fn recover_log(dir: &Path, high_watermark: Offset, report: &mut RecoveryReport) -> Result<StoredLog, StorageError> {
    let mut bases: Vec<Offset> =
        read_dir(dir)?.iter().filter_map(|e| layout::parse_segment_name(&e.file_name().to_string_lossy())).collect();
    bases.sort();
    let mut segments = Vec::new();
    let mut previous_end = bases.first().copied().unwrap_or(Offset(0));
    for (index, &base_offset) in bases.iter().enumerate() {
        let path = layout::segment_path(dir, base_offset);
        let bytes = Bytes::from(fs::read(&path).map_err(|e| StorageError::io(&path, e))?);
        let mut checked = segment_file::check(&bytes, previous_end.max(base_offset));
        if base_offset < previous_end && checked.damage.is_none() && checked.batches.is_empty() {
            // An empty segment inside the previous one's offsets: out of order all the same.
            checked.damage = Some(segment_file::Damage::Corrupt {
                position: 0,
                error: format!("segment base {base_offset} is below the previous segment's end {previous_end}"),
            });
        }
        let valid_bytes = checked.valid_bytes() as u64;
        let log_end = checked.batches.last().map_or(previous_end.max(base_offset), |b| b.next_offset());
        rebuild_index_if_needed(dir, base_offset, &checked, report)?;
        report.batches += checked.batches.len();
        report.bytes += valid_bytes;
        let damage = checked.damage.take();
        segments.push(StoredSegment { base_offset, batches: checked.batches });
        previous_end = log_end;
        if let Some(damage) = damage {
            let later = &bases[index + 1..];
            let dropped = cut(dir, &path, valid_bytes, bytes.len() as u64, later, log_end, damage.to_string())?;
            report.dropped.push(dropped);
            break;
        }
    }
    let epochs = match read_optional(&dir.join(LEADER_EPOCH_FILE))? {
        None => None,
        Some(text) => checkpoint::parse_epochs(&text).or_else(|| {
            report
                .notes
                .push(format!("{}: unreadable, rebuilt from the batches", dir.join(LEADER_EPOCH_FILE).display()));
            None
        }),
    };
    Ok(StoredLog { segments, high_watermark, epochs, topic_id: None })
}

/// Truncates `path` to `valid_bytes` and deletes the segments after it.
fn cut(
    dir: &Path,
    path: &Path,
    valid_bytes: u64,
    file_bytes: u64,
    later: &[Offset],
    log_end: Offset,
    reason: String,
) -> Result<Dropped, StorageError> {
    let file = fs::OpenOptions::new().write(true).open(path).map_err(|e| StorageError::io(path, e))?;
    file.set_len(valid_bytes).and_then(|()| file.sync_all()).map_err(|e| StorageError::io(path, e))?;
    let mut bytes = file_bytes - valid_bytes;
    for &base_offset in later {
        let later_path = layout::segment_path(dir, base_offset);
        bytes += fs::metadata(&later_path).map(|m| m.len()).unwrap_or(0);
        fs::remove_file(&later_path).map_err(|e| StorageError::io(&later_path, e))?;
        let _ = fs::remove_file(layout::index_path(dir, base_offset));
    }
    Ok(Dropped { path: path.to_path_buf(), position: valid_bytes, bytes, log_end, reason, later_segments: later.len() })
}

/// Writes the segment's `.index` again if it is missing or does not match its batches.
fn rebuild_index_if_needed(
    dir: &Path,
    base_offset: Offset,
    checked: &CheckedSegment,
    report: &mut RecoveryReport,
) -> Result<(), StorageError> {
    let path = layout::index_path(dir, base_offset);
    let expected = offset_index::encode(&offset_index::build(base_offset, &checked.batches));
    let found = match fs::read(&path) {
        Ok(bytes) => Some(bytes),
        Err(e) if e.kind() == io::ErrorKind::NotFound => None,
        Err(e) => return Err(StorageError::io(&path, e)),
    };
    if found.as_deref() != Some(&expected[..]) {
        fs::write(&path, &expected).map_err(|e| StorageError::io(&path, e))?;
        let why = if found.is_some() { "did not match its log" } else { "was missing" };
        report.notes.push(format!("{}: {why}, rebuilt", path.display()));
    }
    Ok(())
}

fn recover_controller(
    root: &Path,
    controller: ControllerId,
    disks: &mut ClusterDisks,
    report: &mut RecoveryReport,
) -> Result<(), StorageError> {
    let dir = layout::controller_dir(root, controller);
    let read = metadata_log::read(&dir).map_err(|e| StorageError::io(&dir, e))?;
    let path = metadata_log::log_path(&dir);
    if let Some((position, bytes)) = read.dropped {
        let file = fs::OpenOptions::new().write(true).open(&path).map_err(|e| StorageError::io(&path, e))?;
        file.set_len(position).and_then(|()| file.sync_all()).map_err(|e| StorageError::io(&path, e))?;
        let log_end = read.disk.log.end_offset();
        let reason = "a metadata entry cut off, unreadable or out of order".to_string();
        report.dropped.push(Dropped { path, position, bytes, log_end, reason, later_segments: 0 });
    }
    if read.epoch_raised {
        report
            .notes
            .push(format!("{}: epoch behind the log's, raised to it", dir.join(layout::QUORUM_STATE_FILE).display()));
    }
    report.controllers += 1;
    disks.controllers.insert(controller, read.disk);
    Ok(())
}

/// The entries of a directory, in name order; none if it does not exist.
fn read_dir(dir: &Path) -> Result<Vec<fs::DirEntry>, StorageError> {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StorageError::io(dir, e)),
    };
    let mut entries = entries.collect::<Result<Vec<_>, _>>().map_err(|e| StorageError::io(dir, e))?;
    entries.sort_by_key(fs::DirEntry::file_name);
    Ok(entries)
}

fn read_optional(path: &Path) -> Result<Option<String>, StorageError> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StorageError::io(path, e)),
    }
}

/// The brokers and controllers a report covers, for the summary line.
pub fn summary(report: &RecoveryReport, disks: &ClusterDisks) -> String {
    let brokers: Vec<BrokerId> = disks.brokers.keys().copied().collect();
    let partitions: BTreeMap<&TopicPartition, ()> =
        disks.brokers.values().flat_map(|d| d.partitions.keys()).map(|p| (p, ())).collect();
    format!(
        "recovered {} replica logs of {} partitions on {} broker(s) ({} batches, {} bytes) and {} controller log(s); {} damaged tail(s) truncated",
        report.partitions,
        partitions.len(),
        brokers.len(),
        report.batches,
        report.bytes,
        report.controllers,
        report.dropped.len()
    )
}
