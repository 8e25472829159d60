//! Keeping the cluster on disk: each broker's partition logs in segment files laid out as
//! Kafka lays out its log directories, each controller's metadata log, recovered when `serve`
//! starts again on the same data directory.
//!
//! The core says what a node keeps ([`kafkalab_core::storage`]); this module keeps it:
//! - [`layout`]: where each file lives and how it is named;
//! - [`segment_file`]: a `.log` file's batches, checked (length, CRC-32C, order) when read;
//! - [`offset_index`]: Kafka's `.index` beside each segment;
//! - [`checkpoint`]: Kafka's checkpoint files (high watermarks, leader epochs);
//! - [`metadata_log`]: a controller's quorum state and metadata log;
//! - [`recovery`]: the data directory read back at start, damage truncated and reported;
//! - [`persister`]: the files kept in step with the running cluster.
//!
//! [`open`] locks a directory (one server at a time) and recovers it; [`drive_persister`] then writes every
//! [`PERSIST_INTERVAL_MS`], and [`persist_now`] once more at shutdown, so a clean stop loses
//! nothing and a crash at most the last interval.

pub mod checkpoint;
pub mod layout;
pub mod metadata_log;
pub mod offset_index;
pub mod persister;
pub mod recovery;
pub mod segment_file;

use std::fmt;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use kafkalab_core::storage::{ClusterDisks, RecoveryError};
use tokio::time::MissedTickBehavior;

use crate::cluster::Cluster;
pub use persister::{PersistStats, Persister};
pub use recovery::{Dropped, RecoveryReport};

/// How often the persister writes what changed.
pub const PERSIST_INTERVAL_MS: u64 = 100;

/// Why the data directory cannot be used.
#[derive(Debug)]
pub enum StorageError {
    Io {
        path: PathBuf,
        source: io::Error,
    },
    /// The directory holds a cluster of another size.
    OtherCluster {
        path: PathBuf,
        found: String,
        expected: String,
    },
    /// What was read does not start a cluster.
    Recovery(RecoveryError),
    /// Another process holds the directory's lock: two servers writing one directory would
    /// corrupt each other's logs.
    InUse {
        path: PathBuf,
    },
}

impl StorageError {
    pub fn io(path: &Path, source: io::Error) -> Self {
        StorageError::Io { path: path.to_path_buf(), source }
    }
}

impl fmt::Display for StorageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StorageError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            StorageError::OtherCluster { path, found, expected } => write!(
                f,
                "{} holds a cluster with {found}, not {expected}: use another --data-dir or the same --brokers",
                path.display()
            ),
            StorageError::Recovery(error) => write!(f, "the data directory does not start a cluster: {error}"),
            StorageError::InUse { path } => write!(
                f,
                "{} is locked by another kafkalab using this data directory: stop it, or use another --data-dir",
                path.display()
            ),
        }
    }
}

impl std::error::Error for StorageError {}

/// A data directory opened for a cluster: what its files held and what recovery did.
#[derive(Debug)]
pub struct Opened {
    pub disks: ClusterDisks,
    pub report: RecoveryReport,
    pub persister: Persister,
    /// The directory's lock: keep it for as long as the directory is written.
    pub lock: DirectoryLock,
}

/// An exclusive lock on a data directory's [`layout::LOCK_FILE`], released when dropped (or
/// by the operating system when the process dies, so a crash leaves no stale lock).
#[derive(Debug)]
pub struct DirectoryLock {
    _file: fs::File,
}

impl DirectoryLock {
    /// Takes the lock of `root`, or says who has it.
    pub fn take(root: &Path) -> Result<DirectoryLock, StorageError> {
        let path = root.join(layout::LOCK_FILE);
        let file = fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| StorageError::io(&path, e))?;
        match file.try_lock() {
            Ok(()) => Ok(DirectoryLock { _file: file }),
            Err(fs::TryLockError::WouldBlock) => Err(StorageError::InUse { path }),
            Err(fs::TryLockError::Error(e)) => Err(StorageError::io(&path, e)),
        }
    }
}

/// Opens (creating it if needed) the data directory of a cluster of `broker_count` brokers,
/// locks it and recovers every log in it.
pub fn open(root: &Path, broker_count: i32) -> Result<Opened, StorageError> {
    fs::create_dir_all(root).map_err(|e| StorageError::io(root, e))?;
    let lock = DirectoryLock::take(root)?;
    check_cluster_shape(root, broker_count)?;
    let (disks, report) = recovery::recover(root)?;
    let persister = Persister::new(root.to_path_buf(), &disks);
    Ok(Opened { disks, report, persister, lock })
}

/// The directory is for `broker_count` brokers: the first `open` says so in
/// `kafkalab.properties`, later ones check it (the controllers' metadata was written for that
/// cluster and is replayed over its bootstrap).
fn check_cluster_shape(root: &Path, broker_count: i32) -> Result<(), StorageError> {
    let path = root.join(layout::CLUSTER_FILE);
    let expected = format!("broker.count={broker_count}");
    match fs::read_to_string(&path) {
        Ok(text) => {
            let found = text.lines().find(|line| line.starts_with("broker.count=")).unwrap_or("").to_string();
            if found != expected {
                return Err(StorageError::OtherCluster { path, found, expected });
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            checkpoint::write_atomically(&path, &format!("{expected}\n")).map_err(|e| StorageError::io(&path, e))
        }
        Err(e) => Err(StorageError::io(&path, e)),
    }
}

/// Prints what recovery did: a summary line, then every truncation and repair.
pub fn announce(root: &Path, opened: &Opened) {
    if opened.disks == ClusterDisks::default() {
        println!("kafkalab: data in {} (new: nothing to recover)", root.display());
    } else {
        println!("kafkalab: data in {}: {}", root.display(), recovery::summary(&opened.report, &opened.disks));
    }
    for dropped in &opened.report.dropped {
        eprintln!("kafkalab: recovery truncated {dropped}");
    }
    for note in &opened.report.notes {
        eprintln!("kafkalab: recovery: {note}");
    }
}

/// One persist: the plan under the simulation's lock, the writes outside it.
pub fn persist_now(cluster: &Cluster, persister: &Mutex<Persister>) -> PersistStats {
    let mut persister = persister.lock().unwrap_or_else(PoisonError::into_inner);
    let plan = cluster.read(|simulation| persister.plan(simulation));
    if plan.is_empty() {
        return PersistStats::default();
    }
    persister.write(plan)
}

/// Persists every [`PERSIST_INTERVAL_MS`], forever (the server aborts it at shutdown and
/// persists once more itself). The writes run on the blocking pool: `fsync` may take a while.
pub async fn drive_persister(cluster: Arc<Cluster>, persister: Arc<Mutex<Persister>>) {
    let mut ticks = tokio::time::interval(Duration::from_millis(PERSIST_INTERVAL_MS));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let (cluster, persister) = (Arc::clone(&cluster), Arc::clone(&persister));
        let _ = tokio::task::spawn_blocking(move || persist_now(&cluster, &persister)).await;
    }
}
