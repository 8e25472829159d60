//! Reading a line of the command language: the tokenizer (spaces split, double quotes keep a
//! stretch whole), the readers of ids, nodes, partitions, shares and durations that other
//! line-based languages (expectations, lesson checks) share, and [`Command::parse`]. Every
//! refusal says what is wrong and at which column.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use super::{clients, ClientName, Command, NodeName, SplitMember};
use crate::ids::{BrokerId, ControllerId, TopicPartition};
use crate::message::Acks;
use crate::metadata::ConfigName;
use crate::partition_log::LogConfig;

/// Why a line is not a command, and where in the line (1-based column).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "column {}: {}", self.column, self.message)
    }
}

/// One word of a line, unquoted, with where it starts (1-based) and how it was written.
pub(crate) struct Token<'a> {
    pub(crate) column: usize,
    pub(crate) text: String,
    pub(crate) raw: &'a str,
}

pub(crate) fn error(column: usize, message: impl Into<String>) -> ParseError {
    ParseError { column, message: message.into() }
}

/// Splits on spaces; a double-quoted stretch (`value="a b"`) stays in one token.
pub(crate) fn tokenize(line: &str) -> Result<Vec<Token<'_>>, ParseError> {
    let mut tokens = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b' ' || bytes[i] == b'\t' {
            i += 1;
            continue;
        }
        let start = i;
        if bytes[i] == b'|' {
            tokens.push(Token { column: start + 1, text: String::from("|"), raw: &line[start..start + 1] });
            i += 1;
            continue;
        }
        let mut text = String::new();
        while i < bytes.len() && bytes[i] != b' ' && bytes[i] != b'\t' && bytes[i] != b'|' {
            if bytes[i] == b'"' {
                let quote = i;
                i += 1;
                let close = line[i..].find('"').ok_or_else(|| error(quote + 1, "unclosed quote"))?;
                text.push_str(&line[i..i + close]);
                i += close + 1;
            } else {
                let c = line[i..].chars().next().expect("inside the line");
                text.push(c);
                i += c.len_utf8();
            }
        }
        tokens.push(Token { column: start + 1, text, raw: &line[start..i] });
    }
    Ok(tokens)
}

fn parse_broker(token: Option<&Token<'_>>, end: usize) -> Result<BrokerId, ParseError> {
    let token = token.ok_or_else(|| error(end, "expected a broker id, such as 2"))?;
    token
        .text
        .parse::<i32>()
        .map(BrokerId)
        .map_err(|_| error(token.column, alloc::format!("{:?} is not a broker id", token.raw)))
}

/// `2` (a broker) or `c2` (a controller).
fn parse_node(token: Option<&Token<'_>>, end: usize) -> Result<NodeName, ParseError> {
    let token = token.ok_or_else(|| error(end, "expected a node, such as 2 (a broker) or c2 (a controller)"))?;
    let wrong = || error(token.column, alloc::format!("{:?} is not a broker id (2) or a controller (c2)", token.raw));
    match token.text.strip_prefix('c') {
        Some(id) => id.parse::<i32>().map(|id| NodeName::Controller(ControllerId(id))).map_err(|_| wrong()),
        None => token.text.parse::<i32>().map(|id| NodeName::Broker(BrokerId(id))).map_err(|_| wrong()),
    }
}

/// `orders/0`: a topic and partition index.
pub(crate) fn parse_partition(token: &Token<'_>) -> Result<TopicPartition, ParseError> {
    let (topic, index) = token.text.rsplit_once('/').ok_or_else(|| {
        error(token.column, alloc::format!("{:?} is not a partition; write topic/index, as in orders/0", token.raw))
    })?;
    let index =
        index.parse::<i32>().map_err(|_| error(token.column, alloc::format!("{index:?} is not a partition index")))?;
    Ok(TopicPartition::new(topic, index))
}

fn parse_percent(token: &Token<'_>) -> Result<u8, ParseError> {
    let text = token.text.as_str();
    text.strip_suffix('%')
        .and_then(|n| n.parse::<u8>().ok())
        .filter(|n| *n <= 100)
        .ok_or_else(|| error(token.column, alloc::format!("{text:?} is not a share from 0% to 100%")))
}

fn parse_duration(token: &Token<'_>) -> Result<u64, ParseError> {
    let text = token.text.as_str();
    let (number, scale) = if let Some(n) = text.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = text.strip_suffix('s') {
        (n, 1000)
    } else {
        return Err(error(token.column, alloc::format!("{text:?} needs a unit: ms or s, as in 500ms")));
    };
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .ok_or_else(|| error(token.column, alloc::format!("{text:?} is not a duration")))
}

impl Command {
    pub fn parse(line: &str) -> Result<Command, ParseError> {
        let tokens = tokenize(line)?;
        let end = line.len() + 1;
        let Some(verb) = tokens.first() else {
            return Err(error(1, "empty command"));
        };
        let command = match verb.text.as_str() {
            "kill" | "restart" if tokens.get(1).is_some_and(|t| t.text.starts_with(|c: char| c.is_ascii_alphabetic()) && ClientName::parse(t).is_ok()) => {
                let client = clients::parse_client(&tokens, end)?;
                return Ok(if verb.text == "kill" { Command::KillClient { client } } else { Command::RestartClient { client } });
            }
            "kill" => Command::Kill { node: parse_node(tokens.get(1), end)? },
            "restart" => Command::Restart { node: parse_node(tokens.get(1), end)? },
            "producer" => return clients::parse_producer(&tokens, end),
            "consumer" => return clients::parse_consumer(&tokens, end),
            "stop" => return Ok(Command::Stop { client: clients::parse_client(&tokens, end)? }),
            "begin" => return Ok(Command::Begin { producer: clients::parse_client(&tokens, end)? }),
            "commit" => return Ok(Command::Commit { producer: clients::parse_client(&tokens, end)? }),
            "abort" => return Ok(Command::Abort { producer: clients::parse_client(&tokens, end)? }),
            "advance" => {
                let token = tokens.get(1).ok_or_else(|| error(end, "expected a duration, such as 500ms"))?;
                Command::Advance { ms: parse_duration(token)? }
            }
            "produce" => return Self::parse_produce(&tokens, end),
            "split" => return Self::parse_split(&tokens, end),
            "heal" => Command::Heal,
            "loss" => {
                let token = tokens.get(1).ok_or_else(|| error(end, "expected a share, such as 10%"))?;
                Command::Loss { percent: parse_percent(token)? }
            }
            "consume" => {
                Command::Consume { topic: tokens.get(1).ok_or_else(|| error(end, "expected a topic name"))?.text.clone() }
            }
            "shutdown" => Command::Shutdown { broker: parse_broker(tokens.get(1), end)? },
            "create-topic" | "alter-topic" => return Self::parse_topic_command(&tokens, end),
            "delete-topic" => {
                Command::DeleteTopic { name: tokens.get(1).ok_or_else(|| error(end, "expected a topic name"))?.text.clone() }
            }
            "elect-preferred" => {
                let partitions = tokens[1..].iter().map(parse_partition).collect::<Result<_, _>>()?;
                return Ok(Command::ElectPreferred { partitions });
            }
            "set" => {
                let token = tokens.get(1).ok_or_else(|| error(end, "expected name=value, such as min.insync.replicas=2"))?;
                let (key, value) = token.text.split_once('=').ok_or_else(|| {
                    error(token.column, alloc::format!("expected name=value, found {:?}", token.raw))
                })?;
                let name = ConfigName::from_key(key).ok_or_else(|| {
                    error(
                        token.column,
                        alloc::format!(
                            "unknown setting {key:?}; expected min.insync.replicas, unclean.leader.election.enable, auto.leader.rebalance.enable, auto.create.topics.enable, num.partitions or default.replication.factor"
                        ),
                    )
                })?;
                Command::Set { name, value: value.to_string() }
            }
            other => {
                return Err(error(
                    verb.column,
                    alloc::format!(
                        "unknown command {other:?}; expected kill, restart, shutdown, produce, consume, advance, split, heal, loss, create-topic, alter-topic, delete-topic, elect-preferred, set, producer, consumer, stop, begin, commit or abort"
                    ),
                ))
            }
        };
        let expected = if matches!(command, Command::Heal) { 1 } else { 2 };
        // (commands that read their own arguments return above)
        if let Some(extra) = tokens.get(expected) {
            return Err(error(extra.column, alloc::format!("unexpected {:?}", extra.raw)));
        }
        Ok(command)
    }

    /// `create-topic NAME [partitions=N] [replication-factor=N]` (Kafka's broker defaults are
    /// 1 and 1) or `alter-topic NAME partitions=N`.
    /// `create-topic NAME [partitions=N] [replication-factor=N] [topic settings...]` (Kafka's
    /// broker defaults are 1 and 1; settings by Kafka's names, such as `cleanup.policy=compact`
    /// or `retention.ms=60000`) or `alter-topic NAME partitions=N`.
    fn parse_topic_command(tokens: &[Token<'_>], end: usize) -> Result<Command, ParseError> {
        let create = tokens[0].text == "create-topic";
        let name = tokens.get(1).ok_or_else(|| error(end, "expected a topic name"))?.text.clone();
        let (mut partitions, mut replication_factor, mut config) = (None, None, LogConfig::default());
        for token in &tokens[2..] {
            let (key, value) = token
                .text
                .split_once('=')
                .ok_or_else(|| error(token.column, alloc::format!("expected name=value, found {:?}", token.raw)))?;
            let number =
                || value.parse::<i32>().map_err(|_| error(token.column, alloc::format!("{value:?} is not a number")));
            match key {
                "partitions" => partitions = Some(number()?),
                "replication-factor" if create => replication_factor = Some(number()?),
                _ if create && LogConfig::KEYS.contains(&key) => {
                    config.set(key, value).map_err(|e| error(token.column, alloc::format!("{e}")))?
                }
                _ => {
                    let expected =
                        if create { "partitions, replication-factor or a topic setting" } else { "partitions" };
                    return Err(error(token.column, alloc::format!("unknown setting {key:?}; expected {expected}")));
                }
            }
        }
        if create {
            Ok(Command::CreateTopic {
                name,
                partitions: partitions.unwrap_or(1),
                replication_factor: replication_factor.unwrap_or(1),
                config,
            })
        } else {
            let partitions = partitions.ok_or_else(|| error(end, "expected partitions=N, the new partition count"))?;
            Ok(Command::AlterTopic { name, partitions })
        }
    }

    fn parse_split(tokens: &[Token<'_>], end: usize) -> Result<Command, ParseError> {
        let mut groups: Vec<Vec<SplitMember>> = alloc::vec![Vec::new()];
        for token in &tokens[1..] {
            if token.text == "|" {
                if groups.last().is_some_and(|g| g.is_empty()) {
                    return Err(error(token.column, "empty group before \"|\""));
                }
                groups.push(Vec::new());
                continue;
            }
            let node = match token.text.as_str() {
                "controller" | "c" => SplitMember::AllControllers,
                _ => SplitMember::Node(parse_node(Some(token), end).map_err(|e| {
                    error(
                        e.column,
                        alloc::format!("{:?} is not a broker (2), a controller (c2) or \"controller\"", token.raw),
                    )
                })?),
            };
            if groups.iter().flatten().any(|n| *n == node) {
                return Err(error(token.column, alloc::format!("{} is in two groups", token.raw)));
            }
            groups.last_mut().expect("never empty").push(node);
        }
        if groups.last().is_some_and(|g| g.is_empty()) {
            return Err(error(end, "expected a node after \"|\", or a group to split from"));
        }
        if groups.len() < 2 {
            return Err(error(end, "a split needs two groups or more, as in: split 1 | 2 3"));
        }
        Ok(Command::Split { groups })
    }

    fn parse_produce(tokens: &[Token<'_>], end: usize) -> Result<Command, ParseError> {
        let topic = tokens.get(1).ok_or_else(|| error(end, "expected a topic name"))?;
        let mut command = Command::Produce {
            topic: topic.text.clone(),
            partition: None,
            key: None,
            value: None,
            acks: Acks::All,
            producer: None,
        };
        let Command::Produce { partition, key, value, acks, producer, .. } = &mut command else { unreachable!() };
        let mut acks_column = None;
        for token in &tokens[2..] {
            let (name, setting) = token
                .text
                .split_once('=')
                .ok_or_else(|| error(token.column, alloc::format!("expected name=value, found {:?}", token.raw)))?;
            match name {
                "key" => *key = Some(setting.to_string()),
                "value" => *value = Some(setting.to_string()),
                "partition" => {
                    *partition =
                        Some(setting.parse().map_err(|_| {
                            error(token.column, alloc::format!("partition {setting:?} is not a number"))
                        })?)
                }
                "producer" => *producer = Some(ClientName::parse(&Token { text: setting.to_string(), ..*token })?),
                "acks" => {
                    acks_column = Some(token.column);
                    *acks = match setting {
                        "0" => Acks::None,
                        "1" => Acks::Leader,
                        "all" | "-1" => Acks::All,
                        _ => {
                            return Err(error(
                                token.column,
                                alloc::format!("acks must be 0, 1 or all, not {setting:?}"),
                            ))
                        }
                    }
                }
                _ => {
                    return Err(error(
                        token.column,
                        alloc::format!("unknown setting {name:?}; expected key, value, partition, acks or producer"),
                    ))
                }
            }
        }
        if let (Some(column), Some(producer)) = (acks_column, producer.as_ref()) {
            return Err(error(column, alloc::format!("acks is a setting of producer {producer}, not of one record")));
        }
        Ok(command)
    }
}
