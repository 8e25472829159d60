//! Expectations: statements about a run's state that can be checked, one per line, in the same
//! words as the command language. Lessons use them for tasks ("kill the leader of orders/0" is
//! done when `leader orders/0 != 1`), tests for their assertions.
//!
//! ```text
//! leader orders/0 != 1          the controller names another leader (or none)
//! leader orders/0 == none       no leader at all
//! epoch orders/0 >= 1           the partition's leader epoch
//! isr orders/0 == [1 3]         the in-sync replicas, in any order
//! hw orders/0 == 3              the leader's high watermark
//! leo orders/0 on 2 == 3        broker 2's log end offset (`hw ... on N` likewise)
//! broker 2 == dead              alive, fenced or dead
//! controller != 1               the active controller (the quorum's leader; also c1), or none
//! ```

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::command::{error, parse_partition, tokenize, ParseError, Token};
use crate::ids::{BrokerId, TopicPartition};
use crate::view::{BrokerStatus, ClusterView};

/// What an expectation looks at.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Subject {
    Leader(TopicPartition),
    Epoch(TopicPartition),
    Isr(TopicPartition),
    /// The high watermark on the leader, or on the named broker.
    HighWatermark(TopicPartition, Option<BrokerId>),
    /// The log end offset on the leader, or on the named broker.
    LogEndOffset(TopicPartition, Option<BrokerId>),
    Broker(BrokerId),
    /// The active controller's id.
    ActiveController,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Comparison {
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    /// How the comparison is written.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Equal => "==",
            Comparison::NotEqual => "!=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
        }
    }

    pub(crate) fn parse(token: &Token<'_>) -> Result<Comparison, ParseError> {
        let all = [
            Comparison::Equal,
            Comparison::NotEqual,
            Comparison::Less,
            Comparison::LessOrEqual,
            Comparison::Greater,
            Comparison::GreaterOrEqual,
        ];
        all.into_iter()
            .find(|c| c.symbol() == token.text)
            .ok_or_else(|| error(token.column, format!("{:?} is not a comparison: use == != < <= > >=", token.text)))
    }

    /// Whether two numbers stand in this relation.
    pub fn orders(self, actual: i64, expected: i64) -> bool {
        match self {
            Comparison::Equal => actual == expected,
            Comparison::NotEqual => actual != expected,
            Comparison::Less => actual < expected,
            Comparison::LessOrEqual => actual <= expected,
            Comparison::Greater => actual > expected,
            Comparison::GreaterOrEqual => actual >= expected,
        }
    }

    /// Whether two values that have no order are equal (`==`) or not (`!=`); the other
    /// comparisons never hold for them.
    pub fn equates<T: PartialEq>(self, actual: &T, expected: &T) -> bool {
        match self {
            Comparison::Equal => actual == expected,
            Comparison::NotEqual => actual != expected,
            _ => false,
        }
    }
}

/// A value an expectation compares with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Value {
    Number(i64),
    None,
    Brokers(BTreeSet<BrokerId>),
    Status(BrokerStatus),
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectation {
    pub subject: Subject,
    pub comparison: Comparison,
    pub value: Value,
}

/// An expectation that does not hold, saying what was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    pub expectation: Expectation,
    /// What the state holds instead, as it would be written in an expectation.
    pub actual: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "expected {}, but it is {}", self.expectation, self.actual)
    }
}

impl Expectation {
    pub fn parse(line: &str) -> Result<Expectation, ParseError> {
        let tokens = tokenize(line)?;
        let end = line.len() + 1;
        let word = |index: usize, what: &str| tokens.get(index).ok_or_else(|| error(end, format!("expected {what}")));
        let verb = word(0, "leader, epoch, isr, hw, leo, broker or controller")?;
        let (subject, mut next) = match verb.text.as_str() {
            "controller" => (Subject::ActiveController, 1),
            "broker" => (Subject::Broker(parse_broker(word(1, "a broker id")?)?), 2),
            "leader" | "epoch" | "isr" | "hw" | "leo" => {
                let partition = parse_partition(word(1, "a partition, such as orders/0")?)?;
                let mut on = None;
                if tokens.get(2).is_some_and(|t| t.text == "on") {
                    on = Some(parse_broker(word(3, "a broker id after \"on\"")?)?);
                }
                let next = if on.is_some() { 4 } else { 2 };
                let subject = match verb.text.as_str() {
                    "hw" => Subject::HighWatermark(partition, on),
                    "leo" => Subject::LogEndOffset(partition, on),
                    _ if on.is_some() => return Err(error(tokens[2].column, "\"on\" only goes with hw or leo")),
                    "leader" => Subject::Leader(partition),
                    "epoch" => Subject::Epoch(partition),
                    _ => Subject::Isr(partition),
                };
                (subject, next)
            }
            other => {
                return Err(error(
                    verb.column,
                    format!(
                        "unknown expectation {other:?}; expected leader, epoch, isr, hw, leo, broker or controller"
                    ),
                ))
            }
        };
        let comparison_token = word(next, "a comparison: == != < <= > >=")?;
        let comparison = Comparison::parse(comparison_token)?;
        next += 1;
        let value = parse_value(&subject, &tokens[next.min(tokens.len())..], end)?;
        if !matches!(value, Value::Number(_)) && !matches!(comparison, Comparison::Equal | Comparison::NotEqual) {
            return Err(error(comparison_token.column, "only == and != compare a value that is not a number"));
        }
        Ok(Expectation { subject, comparison, value })
    }

    /// Checks the expectation against a view of the run.
    pub fn check(&self, view: &ClusterView) -> Result<(), Mismatch> {
        let actual = self.actual(view);
        let holds = match (&actual, &self.value, self.comparison) {
            (Value::Number(a), Value::Number(b), comparison) => comparison.orders(*a, *b),
            (a, b, comparison) => comparison.equates(a, b),
        };
        if holds {
            Ok(())
        } else {
            Err(Mismatch { expectation: self.clone(), actual: format!("{}", ValueText(&actual)) })
        }
    }

    fn actual(&self, view: &ClusterView) -> Value {
        let partition_view = |partition: &TopicPartition| view.partition(partition);
        match &self.subject {
            Subject::Broker(id) => view.broker(*id).map_or(Value::None, |b| Value::Status(b.status)),
            Subject::ActiveController => view.active_controller.map_or(Value::None, |c| Value::Number(i64::from(c.0))),
            Subject::Leader(p) => match partition_view(p).and_then(|p| p.leader) {
                Some(leader) => Value::Number(i64::from(leader.0)),
                None => Value::None,
            },
            Subject::Epoch(p) => partition_view(p).map_or(Value::None, |p| Value::Number(i64::from(p.leader_epoch.0))),
            Subject::Isr(p) => {
                partition_view(p).map_or(Value::None, |p| Value::Brokers(p.isr.iter().copied().collect()))
            }
            Subject::HighWatermark(p, on) | Subject::LogEndOffset(p, on) => {
                let replica = partition_view(p).and_then(|p| {
                    let broker = on.or(p.leader)?;
                    p.replicas.iter().find(|r| r.broker == broker)
                });
                match (replica, &self.subject) {
                    (Some(r), Subject::HighWatermark(..)) => Value::Number(r.high_watermark.0),
                    (Some(r), _) => Value::Number(r.log_end_offset.0),
                    (None, _) => Value::None,
                }
            }
        }
    }
}

pub(crate) fn parse_broker(token: &Token<'_>) -> Result<BrokerId, ParseError> {
    token.text.parse().map(BrokerId).map_err(|_| error(token.column, format!("{:?} is not a broker id", token.raw)))
}

fn parse_value(subject: &Subject, tokens: &[Token<'_>], end: usize) -> Result<Value, ParseError> {
    let first = tokens.first().ok_or_else(|| error(end, "expected a value to compare with"))?;
    let value = match (subject, first.text.as_str()) {
        (_, "none") => Value::None,
        (Subject::Broker(_), "alive") => Value::Status(BrokerStatus::Alive),
        (Subject::Broker(_), "fenced") => Value::Status(BrokerStatus::Fenced),
        (Subject::Broker(_), "dead") => Value::Status(BrokerStatus::Dead),
        (Subject::Broker(_), other) => {
            return Err(error(first.column, format!("{other:?} is not a broker state: alive, fenced or dead")))
        }
        (Subject::ActiveController, text) if text.starts_with('c') => Value::Number(
            text[1..].parse().map_err(|_| error(first.column, format!("{:?} is not a controller", first.raw)))?,
        ),
        (Subject::Isr(_), text) if text.starts_with('[') => return parse_brokers(tokens, end),
        (Subject::Isr(_), _) => return Err(error(first.column, "an ISR is written as a list, such as [1 3]")),
        (_, text) => Value::Number(
            text.parse().map_err(|_| error(first.column, format!("{:?} is not a number or none", first.raw)))?,
        ),
    };
    match tokens.get(1) {
        Some(extra) => Err(error(extra.column, format!("unexpected {:?}", extra.raw))),
        None => Ok(value),
    }
}

/// `[1 3]`, `[1, 3]` or `[]`, possibly split over several tokens.
fn parse_brokers(tokens: &[Token<'_>], end: usize) -> Result<Value, ParseError> {
    let mut text = String::new();
    let mut last = 0;
    for (index, token) in tokens.iter().enumerate() {
        text.push_str(&token.text);
        text.push(' ');
        last = index;
        if token.text.ends_with(']') {
            break;
        }
    }
    if let Some(extra) = tokens.get(last + 1) {
        return Err(error(extra.column, format!("unexpected {:?} after the list", extra.raw)));
    }
    let inner = text
        .trim()
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| error(end, "a list of brokers needs its closing ]"))?;
    let brokers = inner
        .split([' ', ','])
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse().map(BrokerId).map_err(|_| error(tokens[0].column, format!("{part:?} is not a broker id")))
        })
        .collect::<Result<BTreeSet<_>, _>>()?;
    Ok(Value::Brokers(brokers))
}

struct ValueText<'a>(&'a Value);

impl fmt::Display for ValueText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Number(n) => write!(f, "{n}"),
            Value::None => write!(f, "none"),
            Value::Status(BrokerStatus::Alive) => write!(f, "alive"),
            Value::Status(BrokerStatus::Fenced) => write!(f, "fenced"),
            Value::Status(BrokerStatus::Dead) => write!(f, "dead"),
            Value::Brokers(brokers) => {
                let ids: Vec<String> = brokers.iter().map(|b| format!("{b}")).collect();
                write!(f, "[{}]", ids.join(" "))
            }
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on = |f: &mut fmt::Formatter<'_>, broker: &Option<BrokerId>| match broker {
            Some(b) => write!(f, " on {b}"),
            None => Ok(()),
        };
        match &self.subject {
            Subject::Leader(p) => write!(f, "leader {p}")?,
            Subject::Epoch(p) => write!(f, "epoch {p}")?,
            Subject::Isr(p) => write!(f, "isr {p}")?,
            Subject::HighWatermark(p, b) => {
                write!(f, "hw {p}")?;
                on(f, b)?
            }
            Subject::LogEndOffset(p, b) => {
                write!(f, "leo {p}")?;
                on(f, b)?
            }
            Subject::Broker(b) => write!(f, "broker {b}")?,
            Subject::ActiveController => write!(f, "controller")?,
        }
        write!(f, " {} {}", self.comparison.symbol(), ValueText(&self.value))
    }
}
