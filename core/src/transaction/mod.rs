//! Transactions on the broker side: the transaction coordinator, which hands out producer ids,
//! fences zombie producers and runs each transaction's two-phase commit through the
//! `__transaction_state` topic and the markers it has partition leaders write.
//!
//! The pieces, each one concept:
//! - [`protocol`]: the requests and responses (InitProducerId, AddPartitionsToTxn,
//!   AddOffsetsToTxn, EndTxn) and the markers;
//! - [`config`]: the coordinator's settings, with Kafka's names and defaults;
//! - [`records`]: the `__transaction_state` records, byte for byte as Kafka writes them;
//! - [`producer_ids`]: producer ids handed out from blocks the controller grants;
//! - [`metadata`]: one transactional id's state and its legal transitions;
//! - [`coordinator`]: the coordinator itself, a sans-IO state machine, with its request
//!   handlers in `requests.rs` and what happens when appends and markers complete in
//!   [`completion`];
//! - [`output`]: what it asks of the broker; [`event`]: its trace lines.

pub mod completion;
pub mod config;
pub mod coordinator;
pub mod event;
pub mod metadata;
pub mod output;

pub mod producer_ids;
pub mod protocol;
pub mod records;
mod requests;

pub use crate::placement::{partition_for, CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC};
pub use completion::coordinator_error_for_append;
pub use config::{TxnConfig, TxnConfigError};
pub use coordinator::TransactionCoordinator;
pub use event::TxnEvent;
pub use metadata::{TransactionMetadata, TxnSnapshot};
pub use output::{AppendToken, MarkerToken, TxnOutput, TxnTimer};
pub use producer_ids::ProducerIdManager;
pub use records::{TransactionLogKey, TransactionLogValue, TransactionPartitions, TxnRecordError};
