//! Why a command could not be carried out in a run's current state (an unknown broker, a node
//! already down, a client that refused), each with a message for the person who typed it.

use alloc::string::String;
use core::fmt;

use crate::command::{ClientName, NodeName};
use crate::ids::{BrokerId, ControllerId, TopicPartition};

/// A command that cannot be carried out in the run's current state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CommandError {
    UnknownBroker(BrokerId),
    UnknownController(ControllerId),
    AlreadyDead(NodeName),
    AlreadyAlive(NodeName),
    UnknownTopic(String),
    UnknownPartition(TopicPartition),
    /// A split names one node in two groups (in the combined layout broker `n` and controller
    /// `n` are one node).
    InTwoGroups(NodeName),
    UnknownClient(ClientName),
    ClientExists(ClientName),
    NotAProducer(ClientName),
    ClientDown(ClientName),
    /// The client refused: its own reason, as Kafka's client would give it.
    Client(ClientName, String),
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CommandError::UnknownBroker(b) => write!(f, "there is no broker {b}"),
            CommandError::UnknownController(c) => write!(f, "there is no controller c{c}"),
            CommandError::AlreadyDead(NodeName::Broker(b)) => write!(f, "broker {b} is already down"),
            CommandError::AlreadyDead(NodeName::Controller(c)) => write!(f, "controller c{c} is already down"),
            CommandError::AlreadyAlive(NodeName::Broker(b)) => write!(f, "broker {b} is already running"),
            CommandError::AlreadyAlive(NodeName::Controller(c)) => write!(f, "controller c{c} is already running"),
            CommandError::UnknownTopic(t) => write!(f, "there is no topic {t:?}"),
            CommandError::UnknownPartition(p) => write!(f, "there is no partition {p}"),
            CommandError::UnknownClient(name) => write!(f, "there is no client {name}"),
            CommandError::ClientExists(name) => write!(f, "there is already a client named {name}"),
            CommandError::NotAProducer(name) => write!(f, "{name} is a consumer, not a producer"),
            CommandError::ClientDown(name) => write!(f, "{name} is not running; restart {name} first"),
            CommandError::Client(name, reason) => write!(f, "{name}: {reason}"),
            CommandError::InTwoGroups(node) => write!(
                f,
                "{node} would be in two groups (in the combined layout, broker n and controller cn are one node)"
            ),
        }
    }
}
