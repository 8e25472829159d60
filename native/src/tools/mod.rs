//! The command-line tools, after Kafka's own: `topics` (kafka-topics.sh), `produce`
//! (kafka-console-producer.sh), `consume` (kafka-console-consumer.sh), `groups`
//! (kafka-consumer-groups.sh), and `broker`, which kills, restarts or shuts down a broker of a
//! running `kafkalab serve` through its admin endpoint ([`crate::http_admin`]).
//!
//! All but `broker` are Kafka clients ([`crate::client`]), so they work against any Kafka
//! cluster. Each tool is one module: [`run`] starts a runtime and hands over to it.
//! Failures are one line ([`ToolError`]); `main` prints it and exits with status 1.

pub mod args;
pub mod broker;
pub mod console_consumer;
pub mod console_producer;
pub mod consumer_groups;
pub mod topics;

use std::fmt;

use crate::client::admin::NewTopic;
use crate::client::produce::Acks;
use crate::client::ClientError;
use crate::http_admin::BrokerAction;

/// One tool invocation, parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tool {
    Topics(TopicsOptions),
    Produce(ProduceOptions),
    Consume(ConsumeOptions),
    Groups(GroupsOptions),
    Broker(BrokerOptions),
}

/// `kafkalab topics`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicsOptions {
    pub bootstrap: String,
    pub action: TopicsAction,
}

/// What `topics` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TopicsAction {
    Create(NewTopic),
    List,
    /// One topic, or all of them.
    Describe {
        topic: Option<String>,
    },
    Alter {
        topic: String,
        partitions: i32,
    },
    Delete {
        topic: String,
    },
}

/// `kafkalab produce`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProduceOptions {
    pub bootstrap: String,
    pub topic: String,
    pub acks: Acks,
    /// `parse.key`: split each line into key and value at `key_separator`.
    pub parse_key: bool,
    pub key_separator: String,
}

/// `kafkalab consume`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumeOptions {
    pub bootstrap: String,
    pub topic: String,
    pub from_beginning: bool,
    pub group: Option<String>,
    pub print: console_consumer::Print,
    pub max_messages: Option<u64>,
    pub timeout_ms: Option<u64>,
}

/// `kafkalab groups`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupsOptions {
    pub bootstrap: String,
    pub action: GroupsAction,
}

/// What `groups` does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupsAction {
    List,
    Describe { group: String },
}

/// `kafkalab broker ACTION N`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerOptions {
    pub action: BrokerAction,
    pub broker: i32,
    /// The `host:port` of `serve`'s page, where the admin endpoint is.
    pub admin: String,
}

/// Why a tool failed, as one line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolError(pub String);

impl fmt::Display for ToolError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ToolError {}

impl From<ClientError> for ToolError {
    fn from(error: ClientError) -> Self {
        ToolError(error.to_string())
    }
}

impl From<std::io::Error> for ToolError {
    fn from(error: std::io::Error) -> Self {
        ToolError(format!("cannot write the output: {error}"))
    }
}

/// Runs one tool to the end.
pub fn run(tool: Tool) -> Result<(), ToolError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| ToolError(format!("cannot start the async runtime: {e}")))?;
    runtime.block_on(async {
        match tool {
            Tool::Topics(options) => topics::run(options).await,
            Tool::Produce(options) => console_producer::run(options).await,
            Tool::Consume(options) => console_consumer::run(options).await,
            Tool::Groups(options) => consumer_groups::run(options).await,
            Tool::Broker(options) => broker::run(options).await,
        }
    })
}
