//! `kafkalab consume`, after kafka-console-consumer.sh: prints a topic's records one per line
//! until Ctrl-C, `--max-messages` or `--timeout-ms`, then says how many it processed.
//!
//! Without `--group` it reads every partition, from the log end (or, `--from-beginning`, the
//! log start). With `--group` it is a member of the group: it reads the partitions the group
//! assigns it from the group's committed offsets (or, where none is committed, from the end or
//! the beginning, as `auto.offset.reset`), commits what it has printed after every poll, and
//! leaves the group when it stops.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};

use crate::client::fetch::{list_offsets, ConsumedRecord, Fetcher, EARLIEST, LATEST};
use crate::client::group::GroupMember;
use crate::client::{offsets, Client, ClientError};

use super::{ConsumeOptions, ToolError};

/// What each printed line holds (the console consumer's `print.*` properties).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Print {
    pub timestamp: bool,
    pub partition: bool,
    pub offset: bool,
    pub key: bool,
    pub value: bool,
    /// Written between the columns (Kafka's `key.separator`).
    pub key_separator: String,
}

impl Default for Print {
    fn default() -> Self {
        Print {
            timestamp: false,
            partition: false,
            offset: false,
            key: false,
            value: true,
            key_separator: super::args::DEFAULT_KEY_SEPARATOR.to_string(),
        }
    }
}

/// One record as the console consumer prints it (Kafka's `DefaultMessageFormatter`): the
/// chosen columns, separated by the key separator, a missing key or value as `null`.
pub fn format_record(record: &ConsumedRecord, print: &Print) -> String {
    let bytes =
        |b: &Option<bytes::Bytes>| b.as_ref().map_or("null".to_string(), |b| String::from_utf8_lossy(b).into_owned());
    let mut columns = Vec::new();
    if print.timestamp {
        columns.push(if record.timestamp < 0 {
            "NO_TIMESTAMP".to_string()
        } else {
            format!("CreateTime:{}", record.timestamp)
        });
    }
    if print.partition {
        columns.push(format!("Partition:{}", record.partition));
    }
    if print.offset {
        columns.push(format!("Offset:{}", record.offset));
    }
    if print.key {
        columns.push(bytes(&record.key));
    }
    if print.value {
        columns.push(bytes(&record.value));
    }
    let mut line = columns.join(&print.key_separator);
    line.push('\n');
    line
}

/// Where the records come from: all partitions, or a group member's share.
enum Source {
    Standalone(Fetcher),
    Group {
        member: GroupMember,
        fetcher: Fetcher,
        /// What the group has committed for each assigned partition, as far as this member knows.
        committed: BTreeMap<i32, i64>,
    },
}

/// Runs `kafkalab consume` until Ctrl-C, `--max-messages` or `--timeout-ms`.
pub async fn run(options: ConsumeOptions) -> Result<(), ToolError> {
    let mut client = Client::connect(&options.bootstrap).await?;
    let topic = client.topic(&options.topic).await?;
    let reset = if options.from_beginning { EARLIEST } else { LATEST };
    let mut source = match &options.group {
        None => {
            let partitions: Vec<i32> = topic.partitions.iter().map(|p| p.index).collect();
            let positions = list_offsets(&mut client, &options.topic, &partitions, reset).await?;
            Source::Standalone(Fetcher::new(&options.topic, positions, reset))
        }
        Some(group) => {
            let member = GroupMember::join(&mut client, group, &[&options.topic]).await?;
            let (fetcher, committed) = group_fetcher(&mut client, &member, &options.topic, reset).await?;
            Source::Group { member, fetcher, committed }
        }
    };
    let mut out = std::io::stdout().lock();
    let mut consumed = positions(&source).clone();
    let mut count = 0u64;
    let mut last_record = Instant::now();
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    let outcome: Result<(), ToolError> = loop {
        if options.max_messages.is_some_and(|max| count >= max)
            || options.timeout_ms.is_some_and(|ms| last_record.elapsed() >= Duration::from_millis(ms))
        {
            break Ok(());
        }
        let polled = tokio::select! {
            _ = &mut stop => break Ok(()),
            polled = fetcher(&mut source).poll(&mut client) => polled,
        };
        let records = match polled {
            Ok(records) => records,
            Err(error) => break Err(error.into()),
        };
        for record in records {
            if options.max_messages.is_some_and(|max| count >= max) {
                break;
            }
            out.write_all(format_record(&record, &options.print).as_bytes())?;
            consumed.insert(record.partition, record.offset + 1);
            count += 1;
            last_record = Instant::now();
        }
        out.flush()?;
        if let Err(error) = keep_membership(&mut client, &mut source, &options.topic, reset, &mut consumed).await {
            break Err(error.into());
        }
    };
    let closed = close(&mut client, &mut source, &options.topic, &consumed).await;
    eprintln!("Processed a total of {count} messages");
    outcome.and(closed.map_err(ToolError::from))
}

/// A member's fetcher over its assigned partitions of `topic`, from the committed offsets
/// (or `reset` where none is committed), and the committed offsets themselves.
async fn group_fetcher(
    client: &mut Client,
    member: &GroupMember,
    topic: &str,
    reset: i64,
) -> Result<(Fetcher, BTreeMap<i32, i64>), ClientError> {
    let assigned: Vec<i32> = member.assignment().get(topic).cloned().unwrap_or_default();
    let wanted = BTreeMap::from([(topic.to_string(), assigned.clone())]);
    let committed = offsets::committed(client, member.coordinator(), member.group_id(), Some(&wanted))
        .await?
        .remove(topic)
        .unwrap_or_default();
    let uncommitted: Vec<i32> = assigned.iter().copied().filter(|p| !committed.contains_key(p)).collect();
    let mut positions = committed.clone();
    if !uncommitted.is_empty() {
        positions.extend(list_offsets(client, topic, &uncommitted, reset).await?);
    }
    Ok((Fetcher::new(topic, positions, reset), committed))
}

/// After a poll, as a group member: commit what was printed, heartbeat, and start over from
/// the group's offsets if the group rebalanced.
async fn keep_membership(
    client: &mut Client,
    source: &mut Source,
    topic: &str,
    reset: i64,
    consumed: &mut BTreeMap<i32, i64>,
) -> Result<(), ClientError> {
    let Source::Group { member, fetcher, committed } = source else {
        return Ok(());
    };
    commit_consumed(client, member, topic, committed, consumed).await?;
    if member.heartbeat_if_due(client).await? {
        let (new_fetcher, new_committed) = group_fetcher(client, member, topic, reset).await?;
        *fetcher = new_fetcher;
        *committed = new_committed;
        *consumed = fetcher.positions().clone();
    }
    Ok(())
}

/// Commits the positions past what was printed, where they moved since the last commit. A
/// commit the group refuses because it is rebalancing is dropped: the next generation starts
/// from what was committed before.
async fn commit_consumed(
    client: &mut Client,
    member: &mut GroupMember,
    topic: &str,
    committed: &mut BTreeMap<i32, i64>,
    consumed: &BTreeMap<i32, i64>,
) -> Result<(), ClientError> {
    let changed: BTreeMap<i32, i64> =
        consumed.iter().filter(|(p, o)| committed.get(p) != Some(o)).map(|(p, o)| (*p, *o)).collect();
    if changed.is_empty() {
        return Ok(());
    }
    match offsets::commit(client, member, topic, &changed).await {
        Ok(()) => {
            committed.extend(changed);
            Ok(())
        }
        Err(error) if member.handle_membership_error(client, &error).await? => Ok(()),
        Err(error) => Err(error),
    }
}

/// At the end: a member commits and leaves its group.
async fn close(
    client: &mut Client,
    source: &mut Source,
    topic: &str,
    consumed: &BTreeMap<i32, i64>,
) -> Result<(), ClientError> {
    let Source::Group { member, committed, .. } = source else {
        return Ok(());
    };
    commit_consumed(client, member, topic, committed, consumed).await?;
    member.leave(client).await
}

fn fetcher(source: &mut Source) -> &mut Fetcher {
    match source {
        Source::Standalone(fetcher) | Source::Group { fetcher, .. } => fetcher,
    }
}

fn positions(source: &Source) -> &BTreeMap<i32, i64> {
    match source {
        Source::Standalone(fetcher) | Source::Group { fetcher, .. } => fetcher.positions(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn record(key: Option<&'static str>, value: &'static str) -> ConsumedRecord {
        ConsumedRecord {
            partition: 2,
            offset: 41,
            timestamp: 1_700_000_000_000,
            key: key.map(|k| Bytes::from_static(k.as_bytes())),
            value: Some(Bytes::from_static(value.as_bytes())),
        }
    }

    #[test]
    fn by_default_only_the_value_is_printed() {
        assert_eq!(format_record(&record(Some("alice"), "10"), &Print::default()), "10\n");
    }

    #[test]
    fn print_key_puts_the_key_and_separator_first_and_a_missing_key_is_null() {
        let print = Print { key: true, key_separator: ":".to_string(), ..Print::default() };
        assert_eq!(format_record(&record(Some("alice"), "10"), &print), "alice:10\n");
        assert_eq!(format_record(&record(None, "10"), &print), "null:10\n");
    }

    #[test]
    fn metadata_columns_come_in_kafkas_order() {
        let print = Print { timestamp: true, partition: true, offset: true, key: true, ..Print::default() };
        assert_eq!(
            format_record(&record(Some("k"), "v"), &print),
            "CreateTime:1700000000000\tPartition:2\tOffset:41\tk\tv\n"
        );
    }
}
