//! `kafkalab-core`: a model of an Apache Kafka cluster as pure state machines.
//!
//! Nothing in this crate touches a clock, a socket or the operating system's randomness:
//! time is a number of milliseconds passed in, randomness comes from a seeded [`rng::Rng`],
//! and messages between nodes are values handed back to the caller. The same seed and the
//! same commands therefore give the same run, event for event, whether it is driven by the
//! [`simulation::Simulation`] (in the page and in tests) or by the native server.
//!
//! The pieces, each one concept:
//! - [`ids`]: the newtypes (`BrokerId`, `ControllerId`, `Offset`, `LeaderEpoch`, ...);
//! - [`config`]: the cluster's settings, with Kafka's names and defaults;
//! - [`partition_log`]: the partition log of record batches: segments, retention, compaction;
//! - [`record_batch`]: Kafka's record batch format (magic 2): encode, validating parse, CRC-32C;
//! - [`broker`]: a broker: leader and follower replicas, follower fetch, ISR shrink and expand;
//! - [`controller`]: a KRaft controller, a voter of the metadata quorum; its leader is the
//!   active controller: heartbeats, fencing, leader election, committed through Raft;
//! - [`election`]: the rules for choosing a leader: clean, unclean, preferred;
//! - [`raft`]: the KRaft quorum's Raft: elections with pre-vote, replication by fetch, commit;
//! - [`metadata`]: the metadata log's records, its replicas (Raft voters on controllers,
//!   observers on brokers) and the image the committed records build;
//! - [`group`]: the group coordinator: membership, rebalances and committed offsets;
//! - [`placement`]: which internal partition (and so which coordinator) holds a group or
//!   transactional id: Kafka's hash of the key;
//! - [`consumer`]: the consumer client: a group member with its application's poll loop;
//! - [`assignor`]: the consumer protocol codec and Kafka's partition assignors, run by group leaders;
//! - [`transaction`]: the transaction coordinator: producer ids, two-phase commit, markers;
//! - [`producer`]: the producer client: partitioner, batching, retries, in-flight limits, idempotence;
//! - [`message`]: what nodes say to each other;
//! - [`network`]: the fault model: latency, loss and splits;
//! - [`oracle`]: which acknowledged writes the cluster has lost;
//! - [`simulation`]: the machines (combined or dedicated controllers), the network, the clock
//!   and the event queue that run them;
//! - [`storage`]: what each node keeps on disk, read out of a run and handed back to start one;
//! - [`command`]: the command language people and lessons use to act on a run;
//! - [`expectation`]: statements about a run's state, checked against it;
//! - [`lesson`]: lessons as Markdown with command-language blocks: parser and headless runner;
//! - [`trace`]: one line per event, for debugging and the page's event log;
//! - [`view`]: the whole state as plain data for drawing.
#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;
#[cfg(any(test, feature = "std"))]
extern crate std;

pub mod assignor;
pub mod broker;
pub mod command;
pub mod config;
pub mod consumer;
pub mod controller;
pub mod election;
pub mod error_code;
pub mod expectation;
pub mod group;
pub mod ids;
pub mod invariants;
pub mod lesson;
pub mod message;
pub mod metadata;
pub mod network;
pub mod oracle;
pub mod partition_log;
pub mod partitioner;
pub mod placement;
pub mod producer;
pub mod raft;
pub mod record_batch;
pub mod rng;
pub mod simulation;
pub mod storage;
pub mod topology;
pub mod trace;
pub mod transaction;
pub mod view;

pub use command::Command;
pub use config::ClusterConfig;
pub use ids::{BrokerId, ControllerId, LeaderEpoch, Offset, TopicPartition};
pub use simulation::Simulation;
