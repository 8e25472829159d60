//! `kafkalab produce`, after kafka-console-producer.sh: every line of standard input is one
//! record; with `parse.key=true` the line splits into key and value at the first
//! `key.separator`.
//!
//! Lines are gathered for a few milliseconds (`linger.ms`) so that a piped file goes out in
//! batches, while a line typed by hand still goes at once.

use std::time::Duration;

use bytes::Bytes;
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::client::produce::{OutgoingRecord, Producer};
use crate::client::Client;

use super::{ProduceOptions, ToolError};

/// How long to wait for more lines before sending what has been read.
const LINGER: Duration = Duration::from_millis(5);
/// The most lines sent in one request.
const MAX_BATCH_LINES: usize = 1000;

/// Runs `kafkalab produce` until standard input ends.
pub async fn run(options: ProduceOptions) -> Result<(), ToolError> {
    let mut client = Client::connect(&options.bootstrap).await?;
    // Fail on an unknown topic before reading any input, as Kafka's tool does on its first send.
    client.topic(&options.topic).await?;
    let mut producer = Producer::new(&options.topic, options.acks);
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut line_number = 0u64;
    loop {
        let Some(first) = lines.next_line().await.map_err(read_error)? else {
            return Ok(());
        };
        let mut batch = vec![first];
        let mut ended = false;
        while batch.len() < MAX_BATCH_LINES {
            match tokio::time::timeout(LINGER, lines.next_line()).await {
                Ok(Ok(Some(line))) => batch.push(line),
                Ok(Ok(None)) => {
                    ended = true;
                    break;
                }
                Ok(Err(e)) => return Err(read_error(e)),
                Err(_) => break,
            }
        }
        let mut records = Vec::with_capacity(batch.len());
        for line in batch {
            line_number += 1;
            records.push(parse_line(&line, line_number, &options)?);
        }
        producer.send(&mut client, records).await?;
        if ended {
            return Ok(());
        }
    }
}

/// One input line as a record: all value, or key and value around the first separator.
pub fn parse_line(line: &str, line_number: u64, options: &ProduceOptions) -> Result<OutgoingRecord, ToolError> {
    let text = |s: &str| Some(Bytes::from(s.to_string()));
    if !options.parse_key {
        return Ok(OutgoingRecord { key: None, value: text(line) });
    }
    match line.split_once(options.key_separator.as_str()) {
        Some((key, value)) => Ok(OutgoingRecord { key: text(key), value: text(value) }),
        None => Err(ToolError(format!("no key separator found on line number {line_number}: '{line}'"))),
    }
}

fn read_error(error: std::io::Error) -> ToolError {
    ToolError(format!("cannot read standard input: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::produce::Acks;

    fn options(parse_key: bool, separator: &str) -> ProduceOptions {
        ProduceOptions {
            bootstrap: String::new(),
            topic: "t".to_string(),
            acks: Acks::All,
            parse_key,
            key_separator: separator.to_string(),
        }
    }

    #[test]
    fn keys_split_at_the_first_separator() {
        let record = parse_line("alice:10:eur", 1, &options(true, ":")).expect("parses");
        assert_eq!(record.key, Some(Bytes::from_static(b"alice")));
        assert_eq!(record.value, Some(Bytes::from_static(b"10:eur")));
    }

    #[test]
    fn without_parse_key_the_whole_line_is_the_value() {
        let record = parse_line("alice:10", 1, &options(false, ":")).expect("parses");
        assert_eq!((record.key, record.value), (None, Some(Bytes::from_static(b"alice:10"))));
    }

    #[test]
    fn a_line_without_the_separator_is_an_error_naming_it() {
        let error = parse_line("no-key-here", 7, &options(true, "\t")).unwrap_err();
        assert_eq!(error.0, "no key separator found on line number 7: 'no-key-here'");
    }
}
