//! Kafka's checkpoint files (`CheckpointFile`): plain text, a version line (0), a count line,
//! then one entry per line, fields separated by a space. Two kinds are kept here:
//!
//! - `replication-offset-checkpoint`, one per broker: `topic partition high-watermark`;
//! - `leader-epoch-checkpoint`, one per partition: `epoch start-offset`.
//!
//! Both are replaced whole, as Kafka does: written to a temporary file, flushed, renamed over
//! the old one, so a crash leaves the old file or the new one, never half of one.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::Path;

use kafkalab_core::ids::{LeaderEpoch, Offset, TopicPartition};
use kafkalab_core::partition_log::EpochEntry;

/// The format version Kafka writes in the first line.
const VERSION: &str = "0";

/// A checkpoint's text from its entry lines.
fn render(lines: Vec<String>) -> String {
    let mut text = format!("{VERSION}\n{}\n", lines.len());
    for line in lines {
        text.push_str(&line);
        text.push('\n');
    }
    text
}

/// The entry lines of a checkpoint's text; `None` if the version or count is wrong.
fn entry_lines(text: &str) -> Option<Vec<&str>> {
    let mut lines = text.lines();
    if lines.next()? != VERSION {
        return None;
    }
    let count: usize = lines.next()?.parse().ok()?;
    let entries: Vec<&str> = lines.collect();
    (entries.len() == count).then_some(entries)
}

pub fn render_high_watermarks(high_watermarks: &BTreeMap<TopicPartition, Offset>) -> String {
    render(high_watermarks.iter().map(|(p, hw)| format!("{} {} {}", p.topic, p.partition.0, hw.0)).collect())
}

/// The high watermarks a `replication-offset-checkpoint` holds; `None` if it is malformed.
pub fn parse_high_watermarks(text: &str) -> Option<BTreeMap<TopicPartition, Offset>> {
    entry_lines(text)?
        .into_iter()
        .map(|line| {
            let mut fields = line.split(' ');
            let (topic, partition, offset) = (fields.next()?, fields.next()?, fields.next()?);
            let partition = TopicPartition::new(topic, partition.parse().ok()?);
            Some((partition, Offset(offset.parse().ok()?)))
        })
        .collect()
}

pub fn render_epochs(entries: &[EpochEntry]) -> String {
    render(entries.iter().map(|e| format!("{} {}", e.epoch.0, e.start_offset.0)).collect())
}

/// The entries a `leader-epoch-checkpoint` holds; `None` if it is malformed.
pub fn parse_epochs(text: &str) -> Option<Vec<EpochEntry>> {
    entry_lines(text)?
        .into_iter()
        .map(|line| {
            let (epoch, start) = line.split_once(' ')?;
            Some(EpochEntry { epoch: LeaderEpoch(epoch.parse().ok()?), start_offset: Offset(start.parse().ok()?) })
        })
        .collect()
}

/// Replaces `path` with `text` atomically: a temporary file, flushed, renamed over it.
pub fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let temporary = path.with_extension("tmp");
    let mut file = fs::File::create(&temporary)?;
    file.write_all(text.as_bytes())?;
    file.sync_data()?;
    fs::rename(&temporary, path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn high_watermarks_are_written_as_kafka_writes_them_and_read_back() {
        let marks = BTreeMap::from([
            (TopicPartition::new("orders", 0), Offset(12)),
            (TopicPartition::new("__consumer_offsets", 3), Offset(4)),
        ]);
        let text = render_high_watermarks(&marks);
        assert_eq!(text, "0\n2\n__consumer_offsets 3 4\norders 0 12\n");
        assert_eq!(parse_high_watermarks(&text), Some(marks));
    }

    #[test]
    fn epochs_round_trip_and_a_wrong_count_or_version_is_malformed() {
        let entries = vec![
            EpochEntry { epoch: LeaderEpoch(0), start_offset: Offset(0) },
            EpochEntry { epoch: LeaderEpoch(2), start_offset: Offset(7) },
        ];
        let text = render_epochs(&entries);
        assert_eq!(text, "0\n2\n0 0\n2 7\n");
        assert_eq!(parse_epochs(&text), Some(entries));
        assert_eq!(parse_epochs("0\n3\n0 0\n2 7\n"), None);
        assert_eq!(parse_epochs("1\n0\n"), None);
    }
}
