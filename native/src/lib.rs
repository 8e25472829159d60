//! `kafkalab-native`: Kafka Lab's I/O shell. It runs the core's [`kafkalab_core::Simulation`]
//! on the wall clock and speaks for its brokers in the real Kafka wire protocol, so real
//! clients (`kcat`, librdkafka, the Java client) see the simulated cluster; it also serves the
//! page over HTTP.
//!
//! No cluster logic lives here: every answer is a translation of the core's view.
//!
//! The pieces, each one concept:
//! - [`cli`]: the command line (`kafkalab serve ...`), parsed by hand;
//! - [`client`]: a small Kafka client for the command-line tools;
//! - [`server`]: binds the listeners and runs everything until shutdown ([`server::run`]);
//! - [`shutdown`]: the signal that tells every task to stop;
//! - [`cluster`]: the shared simulation and the clock task that advances it;
//! - [`framing`]: Kafka's size-prefixed frames, as a pure check over a buffer;
//! - [`connection`]: one broker connection's read-answer loop;
//! - [`api`]: one module per Kafka API, dispatched from one place;
//! - [`exchange`]: a connection's requests waiting for the core, answered in order;
//! - [`http`]: the static file server for the page;
//! - [`http_admin`]: the page's port's admin endpoint (`POST /admin/brokers/N/kill`);
//! - [`tools`]: the command-line tools (`topics`, `produce`, `consume`, `groups`, `broker`);
//! - [`storage`]: the data directory: logs in segment files, recovered at start.
#![forbid(unsafe_code)]

pub mod api;
pub mod cli;
pub mod client;
pub mod cluster;
pub mod connection;
pub mod exchange;
pub mod framing;
pub mod http;
pub mod http_admin;
pub mod server;
pub mod shutdown;
pub mod storage;
pub mod tools;
