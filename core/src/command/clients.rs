//! The commands that start and drive named clients: producers with the Java client's settings,
//! consumers in groups with an application's behaviour, and transactions.
//!
//! ```text
//! producer p1 acks=1 enable.idempotence=false linger.ms=20     start a producer named p1
//! producer tx transactional.id=orders-tx                       ... a transactional one
//! produce orders key=a value=1 producer=p1                     send through it
//! begin tx | commit tx | abort tx                              its transactions
//! consumer alice group=billing topics=orders                   start a consumer in a group
//! consumer bob group=billing topics=orders group.instance.id=bob commit=after-processing
//!     processing.ms=100 crash=after-processing:5              ... static, committing by hand,
//!                                                             crashing after 5 records
//! consumer app group=etl topics=orders output=shipments transactional.id=etl-1
//!                                                              consume-transform-produce: each
//!                                                              result and the offsets in one
//!                                                              transaction (exactly once)
//! stop alice                                                   close it cleanly (leaves the group)
//! kill alice / restart alice                                   crash it / start it again
//! ```
//!
//! Settings use Kafka's names (`acks`, `linger.ms`, `group.instance.id`, `isolation.level`, ...)
//! plus a few for the application around a consumer: `processing.ms` (time per record),
//! `commit` (`auto`, `after-processing` for at-least-once, `before-processing` for
//! at-most-once) and `crash` (`after-processing:N` or `after-commit:N`). Each is checked here,
//! so a lesson with a wrong one fails on its line.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;
use serde::{Deserialize, Serialize};

use super::{error, ParseError, Token};

/// A client's name: a letter, then letters, digits, `-` or `_`; never one that reads as a
/// controller (`c2`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct ClientName(pub String);

impl ClientName {
    pub(crate) fn parse(token: &Token<'_>) -> Result<ClientName, ParseError> {
        let text = token.text.as_str();
        let mut chars = text.chars();
        let starts_with_letter = chars.next().is_some_and(|c| c.is_ascii_alphabetic());
        let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        let looks_like_controller = text.strip_prefix('c').is_some_and(|n| !n.is_empty() && n.parse::<i32>().is_ok());
        if !starts_with_letter || !rest_ok || looks_like_controller || text == "controller" {
            return Err(error(
                token.column,
                alloc::format!(
                    "{:?} is not a client name: start with a letter, then letters, digits, - or _ (and not c2, which is a controller)",
                    token.raw
                ),
            ));
        }
        Ok(ClientName(text.to_string()))
    }
}

impl fmt::Display for ClientName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One `name=value` setting of a client, as written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Setting {
    pub key: String,
    pub value: String,
}

/// What kind of value a setting takes.
#[derive(Clone, Copy)]
enum Kind {
    Number,
    Bool,
    Text,
    OneOf(&'static [&'static str]),
    /// `after-processing:N` or `after-commit:N`.
    CrashPoint,
}

/// The settings a `producer` line takes.
const PRODUCER_SETTINGS: &[(&str, Kind)] = &[
    ("acks", Kind::OneOf(&["0", "1", "all", "-1"])),
    ("enable.idempotence", Kind::Bool),
    ("linger.ms", Kind::Number),
    ("batch.size", Kind::Number),
    ("compression.type", Kind::OneOf(&["none", "gzip", "snappy", "lz4", "zstd"])),
    ("retries", Kind::Number),
    ("retry.backoff.ms", Kind::Number),
    ("delivery.timeout.ms", Kind::Number),
    ("request.timeout.ms", Kind::Number),
    ("max.in.flight.requests.per.connection", Kind::Number),
    ("transactional.id", Kind::Text),
    ("transaction.timeout.ms", Kind::Number),
    ("partitioner", Kind::OneOf(&["sticky", "round-robin"])),
];

/// The settings a `consumer` line takes.
const CONSUMER_SETTINGS: &[(&str, Kind)] = &[
    ("group", Kind::Text),
    ("topics", Kind::Text),
    ("group.instance.id", Kind::Text),
    ("assignor", Kind::OneOf(&["range", "roundrobin", "sticky", "cooperative-sticky"])),
    ("enable.auto.commit", Kind::Bool),
    ("auto.commit.interval.ms", Kind::Number),
    ("auto.offset.reset", Kind::OneOf(&["earliest", "latest"])),
    ("isolation.level", Kind::OneOf(&["read_uncommitted", "read_committed"])),
    ("session.timeout.ms", Kind::Number),
    ("heartbeat.interval.ms", Kind::Number),
    ("max.poll.interval.ms", Kind::Number),
    ("max.poll.records", Kind::Number),
    ("processing.ms", Kind::Number),
    ("commit", Kind::OneOf(&["auto", "after-processing", "before-processing"])),
    ("crash", Kind::CrashPoint),
    ("output", Kind::Text),
    ("transactional.id", Kind::Text),
];

/// Reads `name=value` settings, checking each against `allowed`.
fn parse_settings(tokens: &[Token<'_>], allowed: &[(&str, Kind)], what: &str) -> Result<Vec<Setting>, ParseError> {
    let mut settings: Vec<Setting> = Vec::new();
    for token in tokens {
        let (key, value) = token
            .text
            .split_once('=')
            .ok_or_else(|| error(token.column, alloc::format!("expected name=value, found {:?}", token.raw)))?;
        let Some((_, kind)) = allowed.iter().find(|(name, _)| *name == key) else {
            let names: Vec<&str> = allowed.iter().map(|(name, _)| *name).collect();
            return Err(error(
                token.column,
                alloc::format!("unknown {what} setting {key:?}; expected one of {}", names.join(", ")),
            ));
        };
        let fits = match kind {
            Kind::Number => value.parse::<u64>().is_ok(),
            Kind::Bool => value == "true" || value == "false",
            Kind::Text => !value.is_empty(),
            Kind::OneOf(options) => options.contains(&value),
            Kind::CrashPoint => parse_crash_point(value).is_some(),
        };
        if !fits {
            let expected = match kind {
                Kind::Number => String::from("a whole number"),
                Kind::Bool => String::from("true or false"),
                Kind::Text => String::from("a value"),
                Kind::OneOf(options) => options.join(" or "),
                Kind::CrashPoint => String::from("after-processing:N or after-commit:N"),
            };
            return Err(error(token.column, alloc::format!("{key}={value:?}: expected {expected}")));
        }
        if settings.iter().any(|s| s.key == key) {
            return Err(error(token.column, alloc::format!("{key} is set twice")));
        }
        settings.push(Setting { key: key.to_string(), value: value.to_string() });
    }
    Ok(settings)
}

/// Where a consumer's application crashes, and after how many records processed in all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CrashSetting {
    /// It processed the records but had not committed their offsets: a successor reads them
    /// again (at-least-once's duplicates).
    AfterProcessing(u64),
    /// It committed offsets for records it had not processed yet: nobody processes them
    /// (at-most-once's loss).
    AfterCommit(u64),
}

pub fn parse_crash_point(value: &str) -> Option<CrashSetting> {
    let (point, count) = value.split_once(':')?;
    let count = count.parse::<u64>().ok()?;
    match point {
        "after-processing" => Some(CrashSetting::AfterProcessing(count)),
        "after-commit" => Some(CrashSetting::AfterCommit(count)),
        _ => None,
    }
}

pub(super) fn parse_producer(tokens: &[Token<'_>], end: usize) -> Result<super::Command, ParseError> {
    let name = ClientName::parse(tokens.get(1).ok_or_else(|| error(end, "expected the producer's name"))?)?;
    let settings = parse_settings(&tokens[2..], PRODUCER_SETTINGS, "producer")?;
    Ok(super::Command::Producer { name, settings })
}

pub(super) fn parse_consumer(tokens: &[Token<'_>], end: usize) -> Result<super::Command, ParseError> {
    let name = ClientName::parse(tokens.get(1).ok_or_else(|| error(end, "expected the consumer's name"))?)?;
    let settings = parse_settings(&tokens[2..], CONSUMER_SETTINGS, "consumer")?;
    if setting(&settings, "output").is_some() != setting(&settings, "transactional.id").is_some() {
        return Err(error(
            end,
            "consume-transform-produce needs both output=TOPIC and transactional.id=ID (the results and the offsets commit in one transaction)",
        ));
    }
    for required in ["group", "topics"] {
        if !settings.iter().any(|s| s.key == required) {
            return Err(error(
                end,
                alloc::format!("a consumer needs {required}=..., as in: consumer alice group=billing topics=orders"),
            ));
        }
    }
    Ok(super::Command::Consumer { name, settings })
}

/// `stop NAME`, `begin NAME`, `commit NAME`, `abort NAME`: a verb and a client's name.
pub(super) fn parse_client(tokens: &[Token<'_>], end: usize) -> Result<ClientName, ParseError> {
    let token = tokens.get(1).ok_or_else(|| error(end, "expected a client's name"))?;
    let name = ClientName::parse(token)?;
    if let Some(extra) = tokens.get(2) {
        return Err(error(extra.column, alloc::format!("unexpected {:?}", extra.raw)));
    }
    Ok(name)
}

/// Writes the settings back as they were given.
pub(super) struct Settings<'a>(pub &'a [Setting]);

impl fmt::Display for Settings<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|s| write!(f, " {}={}", s.key, super::Word(&s.value)))
    }
}

/// The value of `key` among `settings`, if set.
pub fn setting<'a>(settings: &'a [Setting], key: &str) -> Option<&'a str> {
    settings.iter().find(|s| s.key == key).map(|s| s.value.as_str())
}
