//! A controller's `__cluster_metadata-0` directory: its Raft epoch and vote in `quorum-state`
//! (JSON, as KRaft's file is, with this crate's field names) and its replica of the metadata
//! log in `00000000000000000000.log`, one entry per line as JSON (Kafka's real format is record
//! batches; these entries are the core's, so JSON of the core's types is kept instead).
//!
//! Lines are appended as entries arrive; a follower that truncates its log truncates the file
//! after the last entry it keeps. Read back, the log ends at the first line that is cut short,
//! does not parse, or breaks the order (offsets from 0, one by one; epochs never decreasing).

use std::fs;
use std::io;
use std::path::Path;

use kafkalab_core::ids::Offset;
use kafkalab_core::metadata::MetadataBatch;
use kafkalab_core::raft::{LogEntry, QuorumState, RaftLog};
use kafkalab_core::storage::ControllerDisk;

use super::layout::{self, QUORUM_STATE_FILE};

/// A metadata log file as read back.
#[derive(Debug)]
pub struct ReadMetadataLog {
    pub disk: ControllerDisk,
    /// Bytes after the last good line (cut off, unreadable or out of order), if any: the
    /// first of them and how many.
    pub dropped: Option<(u64, u64)>,
    /// The quorum state's epoch was behind the log's last entry and was raised to it.
    pub epoch_raised: bool,
}

/// One entry as its line in the file.
pub fn entry_line(entry: &LogEntry<MetadataBatch>) -> Vec<u8> {
    let mut line = serde_json::to_vec(entry).expect("a metadata entry serialises");
    line.push(b'\n');
    line
}

pub fn quorum_state_text(quorum: &QuorumState) -> String {
    serde_json::to_string(quorum).expect("the quorum state serialises")
}

pub fn log_path(dir: &Path) -> std::path::PathBuf {
    layout::segment_path(dir, Offset(0))
}

/// Reads a controller's directory; a missing directory or file is an empty disk.
pub fn read(dir: &Path) -> io::Result<ReadMetadataLog> {
    let mut quorum: QuorumState = match fs::read_to_string(dir.join(QUORUM_STATE_FILE)) {
        Ok(text) => serde_json::from_str(&text).unwrap_or_default(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => QuorumState::default(),
        Err(e) => return Err(e),
    };
    let bytes = match fs::read(log_path(dir)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e),
    };
    let (entries, line_ends) = parse_lines(&bytes);
    let good_bytes = line_ends.last().copied().unwrap_or(0);
    let dropped = (good_bytes < bytes.len() as u64).then(|| (good_bytes, bytes.len() as u64 - good_bytes));
    let mut log = RaftLog::new();
    log.append_as_follower(&entries).expect("parse_lines keeps only an ordered prefix");
    let epoch_raised = log.last_epoch().is_some_and(|last| last > quorum.epoch);
    if epoch_raised {
        // The vote of that epoch is unknown: cast none, so none is cast twice.
        quorum = QuorumState { epoch: log.last_epoch().unwrap_or_default(), voted_for: None };
    }
    Ok(ReadMetadataLog { disk: ControllerDisk { quorum, log }, dropped, epoch_raised })
}

/// The entries of the good lines at the start of `bytes`, and where each line ends.
fn parse_lines(bytes: &[u8]) -> (Vec<LogEntry<MetadataBatch>>, Vec<u64>) {
    let mut entries: Vec<LogEntry<MetadataBatch>> = Vec::new();
    let mut line_ends = Vec::new();
    let mut start = 0usize;
    while let Some(length) = bytes[start..].iter().position(|&b| b == b'\n') {
        let Ok(entry) = serde_json::from_slice::<LogEntry<MetadataBatch>>(&bytes[start..start + length]) else {
            break;
        };
        let in_order = entry.offset == Offset(entries.len() as i64)
            && entries.last().is_none_or(|last: &LogEntry<MetadataBatch>| last.epoch <= entry.epoch);
        if !in_order {
            break;
        }
        entries.push(entry);
        start += length + 1;
        line_ends.push(start as u64);
    }
    (entries, line_ends)
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::raft::{Epoch, Payload, ReplicaId};

    fn entry(offset: i64, epoch: u64) -> LogEntry<MetadataBatch> {
        let payload = Payload::LeaderChange { leader: ReplicaId(1), voters: vec![ReplicaId(1)] };
        LogEntry { offset: Offset(offset), epoch: Epoch(epoch), payload }
    }

    #[test]
    fn lines_read_back_up_to_a_torn_or_out_of_order_one() {
        let mut bytes: Vec<u8> = [entry(0, 1), entry(1, 1), entry(2, 2)].iter().flat_map(entry_line).collect();
        let (entries, ends) = parse_lines(&bytes);
        assert_eq!(entries.len(), 3);
        assert_eq!(ends.last(), Some(&(bytes.len() as u64)));
        bytes.extend_from_slice(&entry_line(&entry(3, 2))[..10]);
        assert_eq!(parse_lines(&bytes).0.len(), 3, "a torn last line is dropped");
        let out_of_order: Vec<u8> = [entry(0, 2), entry(1, 1)].iter().flat_map(entry_line).collect();
        assert_eq!(parse_lines(&out_of_order).0.len(), 1, "an epoch going back ends the log");
    }
}
