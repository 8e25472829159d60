//! Transactions on the broker side: the transaction coordinator, which hands out producer ids,
//! fences zombie producers and runs each transaction's two-phase commit through the
//! `__transaction_state` topic and the markers it has partition leaders write.
//!
//! [`protocol`] holds the requests and responses.

pub mod protocol;
