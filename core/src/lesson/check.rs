//! What a task, a prediction or a wait checks: an [`Expectation`] over the cluster's state
//! (`leader orders/0 != 1`), or an observation of the run that expectations cannot make yet
//! because it needs more than the [`crate::view::ClusterView`]:
//!
//! ```text
//! acked orders/0 == 4                  writes to the partition the producer saw acknowledged
//! lost orders/0 == 3                   ... of which the partition's leader no longer holds
//! errors orders/0 >= 1                 produce requests to it that failed
//! errors orders/0 NOT_ENOUGH_REPLICAS == 1     ... with this error (Kafka's name)
//! log-start clicks/0 > 0               the first offset the log still holds (on the leader,
//! records users/0 on 2 == 4            or on the named broker); how many records it holds
//! batches orders/0 == 3                ... how many record batches (markers included)
//! bytes orders/0 < 2000                ... how many bytes its batches take, as stored
//!                                      (compressed, for a producer with compression.type)
//! value users/0 key=alice == v3        the newest record with this key: its value,
//! value users/0 key=bob == tombstone   a tombstone (no value), or none (no record has the key)
//! ```
//!
//! These observations belong with the other expectations in `expectation.rs` once its owners
//! agree; they are kept here so the lessons can show what acks, elections, retention and
//! compaction do today.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use crate::command::{error, parse_partition, tokenize, ParseError, Token};
use crate::error_code::ErrorCode;
use crate::expectation::{parse_broker, Comparison, Expectation, WORDS as EXPECTATION_WORDS};
use crate::ids::{BrokerId, TopicPartition};
use crate::partition_log::PartitionLog;
use crate::simulation::Simulation;
use crate::trace::TraceEvent;

/// The words that start an [`Observation`].
const OBSERVATION_WORDS: [&str; 8] = ["acked", "lost", "errors", "log-start", "records", "batches", "bytes", "value"];

/// The errors a producer can be told, by Kafka's names.
const PRODUCE_ERRORS: [ErrorCode; 6] = [
    ErrorCode::UnknownTopicOrPartition,
    ErrorCode::LeaderNotAvailable,
    ErrorCode::NotLeaderOrFollower,
    ErrorCode::RequestTimedOut,
    ErrorCode::NotEnoughReplicas,
    ErrorCode::NotEnoughReplicasAfterAppend,
];

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Check {
    /// A statement about the cluster's state.
    State(Expectation),
    /// A statement about what the run did to the producer's writes and the logs.
    Run(Observation),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    pub subject: Observed,
    pub comparison: Comparison,
    pub value: ObservedValue,
}

/// What an [`Observation`] looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Observed {
    Acknowledged(TopicPartition),
    Lost(TopicPartition),
    Errors(TopicPartition, Option<ErrorCode>),
    /// On the leader, or on the named broker.
    LogStart(TopicPartition, Option<BrokerId>),
    Records(TopicPartition, Option<BrokerId>),
    /// How many record batches the log holds.
    Batches(TopicPartition, Option<BrokerId>),
    /// The log's size in bytes: its batches as stored.
    Bytes(TopicPartition, Option<BrokerId>),
    /// The newest record with this key.
    Value(TopicPartition, String, Option<BrokerId>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ObservedValue {
    Number(i64),
    Text(String),
    /// A record with a key and no value.
    Tombstone,
    /// Nothing: no such record, replica or leader.
    None,
}

/// A check that does not hold, with what was found instead.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckMismatch {
    pub check: Check,
    pub actual: String,
}

impl fmt::Display for CheckMismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, but it is {}", self.check, self.actual)
    }
}

impl Check {
    pub fn parse(line: &str) -> Result<Check, ParseError> {
        let tokens = tokenize(line)?;
        let Some(first) = tokens.first() else {
            return Err(error(1, "expected a check, such as leader orders/0 != 1"));
        };
        if EXPECTATION_WORDS.contains(&first.text.as_str()) {
            Expectation::parse(line).map(Check::State)
        } else if OBSERVATION_WORDS.contains(&first.text.as_str()) {
            Observation::parse(&tokens, line.len() + 1).map(Check::Run)
        } else {
            let words: Vec<&str> = EXPECTATION_WORDS.iter().chain(OBSERVATION_WORDS.iter()).copied().collect();
            Err(error(first.column, format!("unknown check {:?}; expected one of {}", first.raw, words.join(", "))))
        }
    }

    /// Whether the check holds in the run as it stands.
    pub fn check(&self, simulation: &Simulation) -> Result<(), CheckMismatch> {
        let mismatch = |actual: String| CheckMismatch { check: self.clone(), actual };
        match self {
            Check::State(expectation) => expectation.check(&simulation.view()).map_err(|m| mismatch(m.actual)),
            Check::Run(observation) => {
                let actual = observation.observe(simulation);
                if observation.holds(&actual) {
                    Ok(())
                } else {
                    Err(mismatch(ValueText(&actual).to_string()))
                }
            }
        }
    }
}

impl Observation {
    fn parse(tokens: &[Token<'_>], end: usize) -> Result<Observation, ParseError> {
        let word = |index: usize, what: &str| tokens.get(index).ok_or_else(|| error(end, format!("expected {what}")));
        let verb = tokens[0].text.as_str();
        let partition = parse_partition(word(1, "a partition, such as orders/0")?)?;
        let mut next = 2;
        let mut key = None;
        if verb == "value" {
            let token = word(2, "key=..., the key whose newest record to read")?;
            let text = token.text.strip_prefix("key=").ok_or_else(|| {
                error(
                    token.column,
                    format!("expected key=..., the key whose newest record to read, not {:?}", token.raw),
                )
            })?;
            key = Some(text.to_string());
            next = 3;
        }
        let mut on = None;
        if tokens.get(next).is_some_and(|t| t.text == "on") {
            if !matches!(verb, "log-start" | "records" | "batches" | "bytes" | "value") {
                return Err(error(
                    tokens[next].column,
                    "\"on\" only goes with log-start, records, batches, bytes or value",
                ));
            }
            on = Some(parse_broker(word(next + 1, "a broker id after \"on\"")?)?);
            next += 2;
        }
        let mut code = None;
        if verb == "errors" {
            if let Some(token) = tokens.get(next).filter(|t| t.text.starts_with(|c: char| c.is_ascii_uppercase())) {
                code = Some(parse_error_code(token)?);
                next += 1;
            }
        }
        let subject = match verb {
            "acked" => Observed::Acknowledged(partition),
            "lost" => Observed::Lost(partition),
            "errors" => Observed::Errors(partition, code),
            "log-start" => Observed::LogStart(partition, on),
            "records" => Observed::Records(partition, on),
            "batches" => Observed::Batches(partition, on),
            "bytes" => Observed::Bytes(partition, on),
            _ => Observed::Value(partition, key.unwrap_or_default(), on),
        };
        let comparison_token = word(next, "a comparison: == != < <= > >=")?;
        let comparison = Comparison::parse(comparison_token)?;
        let value_token = word(next + 1, "a value to compare with")?;
        let value = match (&subject, value_token.text.as_str()) {
            (Observed::Value(..), "tombstone") => ObservedValue::Tombstone,
            (Observed::Value(..), "none") => ObservedValue::None,
            (Observed::Value(..), text) => ObservedValue::Text(text.to_string()),
            (_, "none") => ObservedValue::None,
            (_, text) => ObservedValue::Number(
                text.parse()
                    .map_err(|_| error(value_token.column, format!("{:?} is not a number or none", value_token.raw)))?,
            ),
        };
        if !matches!(value, ObservedValue::Number(_)) && !matches!(comparison, Comparison::Equal | Comparison::NotEqual)
        {
            return Err(error(comparison_token.column, "only == and != compare a value that is not a number"));
        }
        if let Some(extra) = tokens.get(next + 2) {
            return Err(error(extra.column, format!("unexpected {:?}", extra.raw)));
        }
        Ok(Observation { subject, comparison, value })
    }

    /// The partition this observation reads.
    pub fn partition(&self) -> &TopicPartition {
        match &self.subject {
            Observed::Acknowledged(p)
            | Observed::Lost(p)
            | Observed::Errors(p, _)
            | Observed::LogStart(p, _)
            | Observed::Records(p, _)
            | Observed::Batches(p, _)
            | Observed::Bytes(p, _)
            | Observed::Value(p, _, _) => p,
        }
    }

    /// The broker named with `on`, if any.
    pub fn broker(&self) -> Option<BrokerId> {
        match &self.subject {
            Observed::LogStart(_, on)
            | Observed::Records(_, on)
            | Observed::Batches(_, on)
            | Observed::Bytes(_, on)
            | Observed::Value(_, _, on) => *on,
            _ => None,
        }
    }

    fn observe(&self, simulation: &Simulation) -> ObservedValue {
        let count = |n: usize| ObservedValue::Number(i64::try_from(n).unwrap_or(i64::MAX));
        let partition = self.partition();
        match &self.subject {
            Observed::Acknowledged(p) => count(simulation.acknowledged().iter().filter(|w| &w.partition == p).count()),
            Observed::Lost(p) => count(simulation.lost_writes().iter().filter(|w| &w.partition == p).count()),
            Observed::Errors(p, code) => count(
                simulation
                    .trace()
                    .iter()
                    .filter(|line| match &line.event {
                        TraceEvent::ProduceFailed { partition, error, .. } => {
                            partition == p && code.is_none_or(|c| c == *error)
                        }
                        _ => false,
                    })
                    .count(),
            ),
            Observed::LogStart(..) => log_of(simulation, partition, self.broker())
                .map_or(ObservedValue::None, |log| ObservedValue::Number(log.log_start_offset().0)),
            Observed::Records(..) => log_of(simulation, partition, self.broker())
                .map_or(ObservedValue::None, |log| count(log.records().count())),
            Observed::Batches(..) => log_of(simulation, partition, self.broker())
                .map_or(ObservedValue::None, |log| count(log.batches().count())),
            Observed::Bytes(..) => log_of(simulation, partition, self.broker()).map_or(ObservedValue::None, |log| {
                ObservedValue::Number(i64::try_from(log.size_bytes()).unwrap_or(i64::MAX))
            }),
            Observed::Value(_, key, _) => {
                let newest = log_of(simulation, partition, self.broker())
                    .and_then(|log| log.records().filter(|r| r.key.as_deref() == Some(key.as_bytes())).last());
                match newest {
                    None => ObservedValue::None,
                    Some(record) => match record.value {
                        None => ObservedValue::Tombstone,
                        Some(value) => ObservedValue::Text(String::from_utf8_lossy(&value).into_owned()),
                    },
                }
            }
        }
    }

    fn holds(&self, actual: &ObservedValue) -> bool {
        match (actual, &self.value) {
            (ObservedValue::Number(a), ObservedValue::Number(b)) => self.comparison.orders(*a, *b),
            (a, b) => self.comparison.equates(a, b),
        }
    }
}

/// The log of `partition` on `broker`, or on its current leader when no broker is named.
fn log_of<'a>(
    simulation: &'a Simulation,
    partition: &TopicPartition,
    broker: Option<BrokerId>,
) -> Option<&'a PartitionLog> {
    let broker = match broker {
        Some(broker) => broker,
        None => simulation.view().partition(partition)?.leader?,
    };
    Some(&simulation.broker(broker)?.replica(partition)?.log)
}

fn parse_error_code(token: &Token<'_>) -> Result<ErrorCode, ParseError> {
    PRODUCE_ERRORS.into_iter().find(|code| code.name() == token.text).ok_or_else(|| {
        let names: Vec<&str> = PRODUCE_ERRORS.iter().map(|c| c.name()).collect();
        error(
            token.column,
            format!("{:?} is not an error a producer is told; expected {}", token.raw, names.join(", ")),
        )
    })
}

struct ValueText<'a>(&'a ObservedValue);

impl fmt::Display for ValueText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            ObservedValue::Number(n) => write!(f, "{n}"),
            ObservedValue::Text(text) if text.contains([' ', '\t', '|']) || text.is_empty() => write!(f, "\"{text}\""),
            ObservedValue::Text(text) => write!(f, "{text}"),
            ObservedValue::Tombstone => write!(f, "tombstone"),
            ObservedValue::None => write!(f, "none"),
        }
    }
}

impl fmt::Display for Observation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |f: &mut fmt::Formatter<'_>, broker: Option<BrokerId>| match broker {
            Some(b) => write!(f, " on {b}"),
            None => Ok(()),
        };
        match &self.subject {
            Observed::Acknowledged(p) => write!(f, "acked {p}")?,
            Observed::Lost(p) => write!(f, "lost {p}")?,
            Observed::Errors(p, None) => write!(f, "errors {p}")?,
            Observed::Errors(p, Some(code)) => write!(f, "errors {p} {}", code.name())?,
            Observed::LogStart(p, b) => {
                write!(f, "log-start {p}")?;
                on(f, *b)?
            }
            Observed::Records(p, b) => {
                write!(f, "records {p}")?;
                on(f, *b)?
            }
            Observed::Batches(p, b) => {
                write!(f, "batches {p}")?;
                on(f, *b)?
            }
            Observed::Bytes(p, b) => {
                write!(f, "bytes {p}")?;
                on(f, *b)?
            }
            Observed::Value(p, key, b) => {
                write!(f, "value {p} key={}", ValueText(&ObservedValue::Text(key.clone())))?;
                on(f, *b)?
            }
        }
        write!(f, " {} {}", self.comparison.symbol(), ValueText(&self.value))
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Check::State(expectation) => write!(f, "{expectation}"),
            Check::Run(observation) => write!(f, "{observation}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_and_bytes_read_a_partition_and_an_optional_broker_and_print_back() {
        for line in ["batches clicks/0 == 5", "bytes clicks/3 on 2 < 300"] {
            assert_eq!(Check::parse(line).unwrap().to_string(), line);
        }
        let expected = Observation {
            subject: Observed::Bytes(TopicPartition::new("clicks", 3), Some(BrokerId(2))),
            comparison: Comparison::Less,
            value: ObservedValue::Number(300),
        };
        assert_eq!(Check::parse("bytes clicks/3 on 2 < 300"), Ok(Check::Run(expected)));
    }
}
