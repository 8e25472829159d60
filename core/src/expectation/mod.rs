//! Expectations: statements about a run's state that can be checked, one per line, in the same
//! words as the command language. Lessons use them for tasks ("kill the leader of orders/0" is
//! done when `leader orders/0 != 1`), tests for their assertions. Each reads the
//! [`ClusterView`], so what a lesson checks is what the page shows.
//!
//! ```text
//! leader orders/0 != 1          the controller names another leader (or none)
//! leader orders/0 == none       no leader at all
//! epoch orders/0 >= 1           the partition's leader epoch
//! isr orders/0 == [1 3]         the in-sync replicas, in any order
//! hw orders/0 == 3              the leader's high watermark
//! leo orders/0 on 2 == 3        broker 2's log end offset (`hw ... on N` likewise)
//! lso orders/0 == 3             the leader's last stable offset (`on N` too): no open
//!                               transaction below it
//! broker 2 == dead              alive, fenced or dead
//! controller != 1               the active controller (the quorum's leader; also c1), or none
//! role c2 == leader             a controller's Raft role: leader, follower, candidate,
//!                               prospective, unattached or resigned
//! controller-epoch >= 2         the active controller's epoch, or none (`on c3`: c3's)
//! metadata TopicRecord == 2     records of this KRaft type in the committed metadata log
//!                               (`on c1`: in c1's log, committed or not); see quorum.rs
//!
//! group billing == Stable       the group's state: Empty, PreparingRebalance,
//!                               CompletingRebalance, Stable, Dead, or none when no live
//!                               coordinator holds it
//! generation billing == 3       the group's generation
//! members billing == 2          how many members it has
//! owner orders/0 billing == alice
//!                               the live named consumer whose own assignment holds the
//!                               partition at the group's generation, or none
//! committed billing orders/0 == 5
//!                               the group's committed offset, as its coordinator holds it
//! lag billing orders/0 == 0     the leader's log end offset minus the committed offset
//! processed alice == 6          records alice's application processed, over all its lives
//! duplicates billing == 2       processings beyond the first of the same partition and
//!                               offset, by the group's consumers
//! client alice == dead          a named client's process is alive or dead
//! transaction alice == Ongoing  a transactional producer's transaction at its coordinator:
//!                               Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit,
//!                               CompleteAbort, PrepareEpochFence, Dead, or none
//! ```
//!
//! A group nobody knows, or a client never started, reads as `none`. Group ids with spaces are
//! written in double quotes.

mod parse;
mod quorum;
mod read;
mod text;

use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::String;
use core::fmt;
use serde::{Deserialize, Serialize};

use crate::command::{error, ClientName, ParseError, Token};
use crate::group::protocol::GroupState;
use crate::ids::{BrokerId, ControllerId, TopicPartition};
use crate::raft::Role;
use crate::transaction::protocol::TransactionState;
use crate::view::{BrokerStatus, ClusterView};

pub(crate) use parse::parse_broker;
pub use quorum::MetadataRecordType;

/// The words that start an expectation.
pub const WORDS: [&str; 21] = [
    "leader",
    "epoch",
    "isr",
    "hw",
    "leo",
    "lso",
    "broker",
    "controller",
    "role",
    "controller-epoch",
    "metadata",
    "group",
    "generation",
    "members",
    "owner",
    "committed",
    "lag",
    "processed",
    "duplicates",
    "client",
    "transaction",
];

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
    /// The last stable offset on the leader, or on the named broker.
    LastStableOffset(TopicPartition, Option<BrokerId>),
    Broker(BrokerId),
    /// The active controller's id.
    ActiveController,
    /// A controller's Raft role.
    ControllerRole(ControllerId),
    /// The epoch the named controller knows, or the active controller's.
    ControllerEpoch(Option<ControllerId>),
    /// How many records of a type the committed metadata log holds, or the named controller's
    /// log, committed or not.
    MetadataRecords(MetadataRecordType, Option<ControllerId>),
    /// A consumer group's state.
    Group(String),
    /// A consumer group's generation.
    Generation(String),
    /// How many members a group has.
    Members(String),
    /// Which named consumer owns the partition in the group's current generation.
    Owner(TopicPartition, String),
    /// The group's committed offset for the partition.
    Committed(String, TopicPartition),
    /// The leader's log end offset minus the group's committed offset.
    Lag(String, TopicPartition),
    /// How many records a named client's application processed.
    Processed(ClientName),
    /// How many processings of the group's records repeated an earlier one.
    Duplicates(String),
    /// Whether a named client's process runs.
    Client(ClientName),
    /// A transactional producer's transaction, as its coordinator holds it.
    Transaction(ClientName),
}

/// How the actual value must stand to the expected one.
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
    GroupState(GroupState),
    /// A named client.
    Client(ClientName),
    /// A client's process: alive (`true`) or dead.
    Alive(bool),
    TransactionState(TransactionState),
    /// A controller's Raft role.
    Role(Role),
}

/// A subject, a comparison and a value: `hw orders/0 >= 3`.
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
    /// Checks the expectation against a view of the run.
    pub fn check(&self, view: &ClusterView) -> Result<(), Mismatch> {
        let actual = read::actual(&self.subject, view);
        let holds = match (&actual, &self.value, self.comparison) {
            (Value::Number(a), Value::Number(b), comparison) => comparison.orders(*a, *b),
            (a, b, comparison) => comparison.equates(a, b),
        };
        if holds {
            Ok(())
        } else {
            Err(Mismatch { expectation: self.clone(), actual: format!("{}", text::ValueText(&actual)) })
        }
    }
}
