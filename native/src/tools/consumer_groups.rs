//! `kafkalab groups`, after kafka-consumer-groups.sh: `--list` prints every group;
//! `--describe --group G` prints, per partition the group has committed or owns, the committed
//! offset, the log end offset, the lag between them and the member that owns it.
//!
//! ```text
//!
//! GROUP           TOPIC           PARTITION  CURRENT-OFFSET  LOG-END-OFFSET  LAG             CONSUMER-ID     HOST            CLIENT-ID
//! billing         orders          0          5               7               2               kafkalab-...    /127.0.0.1      kafkalab-cli
//! ```

use std::collections::BTreeMap;
use std::io::Write;

use crate::client::admin::{self, owned_partitions, GroupDescription};
use crate::client::fetch::{list_offsets, LATEST};
use crate::client::{offsets, Client};

use super::{GroupsAction, GroupsOptions, ToolError};

/// The columns of `--describe`, in order.
const HEADERS: [&str; 9] =
    ["GROUP", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG", "CONSUMER-ID", "HOST", "CLIENT-ID"];

/// One line of `--describe`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub topic: String,
    pub partition: i32,
    pub committed: Option<i64>,
    pub log_end: Option<i64>,
    /// The owner's member id, host and client id.
    pub owner: Option<(String, String, String)>,
}

/// Runs `kafkalab groups`.
pub async fn run(options: GroupsOptions) -> Result<(), ToolError> {
    let mut client = Client::connect(&options.bootstrap).await?;
    let mut out = std::io::stdout().lock();
    match options.action {
        GroupsAction::List => {
            for group in admin::list_groups(&mut client).await? {
                writeln!(out, "{group}")?;
            }
        }
        GroupsAction::Describe { group } => {
            let description = admin::describe_group(&mut client, &group).await?;
            if description.state == "Dead" {
                return Err(ToolError(format!("consumer group '{group}' does not exist")));
            }
            let rows = rows(&mut client, &description).await?;
            if description.members.is_empty() {
                writeln!(out, "\nConsumer group '{group}' has no active members.")?;
            }
            write!(out, "{}", table(&group, &rows))?;
        }
    }
    Ok(())
}

/// Every partition the group has committed or owns, with its log end offset and owner.
async fn rows(client: &mut Client, group: &GroupDescription) -> Result<Vec<Row>, ToolError> {
    let committed = offsets::committed(client, group.coordinator, &group.group_id, None).await?;
    let mut partitions: BTreeMap<String, Vec<i32>> = owned_partitions(group);
    for (topic, offsets) in &committed {
        partitions.entry(topic.clone()).or_default().extend(offsets.keys());
    }
    let mut rows = Vec::new();
    for (topic, mut indexes) in partitions {
        indexes.sort_unstable();
        indexes.dedup();
        client.refresh(Some(&[&topic])).await?;
        let log_ends = list_offsets(client, &topic, &indexes, LATEST).await?;
        for partition in indexes {
            let owner = group
                .members
                .iter()
                .find(|m| m.assignment.get(&topic).is_some_and(|p| p.contains(&partition)))
                .map(|m| (m.member_id.clone(), m.host.clone(), m.client_id.clone()));
            rows.push(Row {
                committed: committed.get(&topic).and_then(|c| c.get(&partition)).copied(),
                log_end: log_ends.get(&partition).copied(),
                topic: topic.clone(),
                partition,
                owner,
            });
        }
    }
    Ok(rows)
}

/// The `--describe` table as kafka-consumer-groups.sh lays it out: a blank line, then
/// left-aligned columns at least 15 wide (PARTITION 10), `-` for what is unknown.
pub fn table(group: &str, rows: &[Row]) -> String {
    let dash = || "-".to_string();
    let cells: Vec<[String; 9]> = rows
        .iter()
        .map(|row| {
            let lag = match (row.committed, row.log_end) {
                (Some(committed), Some(log_end)) => (log_end - committed).max(0).to_string(),
                _ => dash(),
            };
            let (consumer, host, client) = row.owner.clone().unwrap_or_else(|| (dash(), dash(), dash()));
            [
                group.to_string(),
                row.topic.clone(),
                row.partition.to_string(),
                row.committed.map_or_else(dash, |o| o.to_string()),
                row.log_end.map_or_else(dash, |o| o.to_string()),
                lag,
                consumer,
                host,
                client,
            ]
        })
        .collect();
    let width = |column: usize, minimum: usize| {
        cells.iter().map(|row| row[column].len()).chain([HEADERS[column].len(), minimum]).max().unwrap_or(minimum)
    };
    let widths = [width(0, 15), width(1, 15), 10, 15, 15, 15, width(6, 15), width(7, 15), 0];
    let line = |row: [&str; 9]| {
        let mut text = String::new();
        for (index, cell) in row.iter().enumerate() {
            if index == 8 {
                text.push_str(cell);
            } else {
                text.push_str(&format!("{cell:<width$} ", width = widths[index]));
            }
        }
        text.push('\n');
        text
    };
    let mut text = String::from("\n");
    text.push_str(&line(HEADERS));
    for row in &cells {
        text.push_str(&line(std::array::from_fn(|i| row[i].as_str())));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(partition: i32, committed: Option<i64>, log_end: i64, owner: bool) -> Row {
        Row {
            topic: "orders".to_string(),
            partition,
            committed,
            log_end: Some(log_end),
            owner: owner.then(|| ("member-1".to_string(), "/127.0.0.1".to_string(), "kafkalab-cli".to_string())),
        }
    }

    #[test]
    fn the_table_shows_lag_as_log_end_minus_committed() {
        let text = table("billing", &[row(0, Some(5), 7, true), row(1, None, 3, false)]);
        let lines: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split_whitespace().collect()).collect();
        assert_eq!(lines[0], HEADERS);
        assert_eq!(lines[1], ["billing", "orders", "0", "5", "7", "2", "member-1", "/127.0.0.1", "kafkalab-cli"]);
        assert_eq!(lines[2], ["billing", "orders", "1", "-", "3", "-", "-", "-", "-"]);
        assert!(text.starts_with("\nGROUP           TOPIC           PARTITION  CURRENT-OFFSET  "), "{text:?}");
    }

    #[test]
    fn long_names_widen_their_column() {
        let group = "a-group-name-longer-than-fifteen";
        let text = table(group, &[row(0, Some(1), 1, false)]);
        let header = text.lines().nth(1).expect("a header");
        assert!(header.starts_with(&format!("GROUP{} TOPIC", " ".repeat(group.len() - 5))), "{header:?}");
    }
}
