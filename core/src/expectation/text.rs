//! Writing expectations and values back in the words they are read from, so an expectation
//! prints as it parses and a mismatch says what was found in the same words.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use super::{Expectation, Subject, Value};
use crate::ids::{BrokerId, ControllerId};
use crate::view::BrokerStatus;

/// A value as an expectation writes it.
pub(super) struct ValueText<'a>(pub(super) &'a Value);

impl fmt::Display for ValueText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Value::Number(n) => write!(f, "{n}"),
            Value::None => write!(f, "none"),
            Value::Status(BrokerStatus::Alive) | Value::Alive(true) => write!(f, "alive"),
            Value::Status(BrokerStatus::Fenced) => write!(f, "fenced"),
            Value::Status(BrokerStatus::Dead) | Value::Alive(false) => write!(f, "dead"),
            Value::Brokers(brokers) => {
                let ids: Vec<String> = brokers.iter().map(|b| format!("{b}")).collect();
                write!(f, "[{}]", ids.join(" "))
            }
            Value::GroupState(state) => f.write_str(state.name()),
            Value::TransactionState(state) => f.write_str(state.name()),
            Value::Client(name) => write!(f, "{name}"),
            Value::Role(role) => write!(f, "{role}"),
        }
    }
}

/// A group id as a line writes it: in double quotes when it would not read back as one word.
struct GroupText<'a>(&'a str);

impl fmt::Display for GroupText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() || self.0.contains([' ', '\t', '|']) {
            write!(f, "\"{}\"", self.0)
        } else {
            f.write_str(self.0)
        }
    }
}

/// ` on 2`, or nothing.
struct OnText(Option<BrokerId>);

impl fmt::Display for OnText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(broker) => write!(f, " on {broker}"),
            None => Ok(()),
        }
    }
}

/// ` on c2`, or nothing.
struct OnController(Option<ControllerId>);

impl fmt::Display for OnController {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(controller) => write!(f, " on c{controller}"),
            None => Ok(()),
        }
    }
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Leader(p) => write!(f, "leader {p}"),
            Subject::Epoch(p) => write!(f, "epoch {p}"),
            Subject::Isr(p) => write!(f, "isr {p}"),
            Subject::HighWatermark(p, on) => write!(f, "hw {p}{}", OnText(*on)),
            Subject::LogEndOffset(p, on) => write!(f, "leo {p}{}", OnText(*on)),
            Subject::LastStableOffset(p, on) => write!(f, "lso {p}{}", OnText(*on)),
            Subject::Broker(b) => write!(f, "broker {b}"),
            Subject::ActiveController => write!(f, "controller"),
            Subject::ControllerRole(c) => write!(f, "role c{c}"),
            Subject::ControllerEpoch(on) => write!(f, "controller-epoch{}", OnController(*on)),
            Subject::MetadataRecords(kind, on) => write!(f, "metadata {}{}", kind.name(), OnController(*on)),
            Subject::Group(g) => write!(f, "group {}", GroupText(g)),
            Subject::Generation(g) => write!(f, "generation {}", GroupText(g)),
            Subject::Members(g) => write!(f, "members {}", GroupText(g)),
            Subject::Owner(p, g) => write!(f, "owner {p} {}", GroupText(g)),
            Subject::Committed(g, p) => write!(f, "committed {} {p}", GroupText(g)),
            Subject::Lag(g, p) => write!(f, "lag {} {p}", GroupText(g)),
            Subject::Processed(c) => write!(f, "processed {c}"),
            Subject::Duplicates(g) => write!(f, "duplicates {}", GroupText(g)),
            Subject::Client(c) => write!(f, "client {c}"),
            Subject::Transaction(c) => write!(f, "transaction {c}"),
        }
    }
}

impl fmt::Display for Expectation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.subject, self.comparison.symbol(), ValueText(&self.value))
    }
}
