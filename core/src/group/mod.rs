//! Consumer groups on the broker side: the group coordinator (Kafka's classic group protocol)
//! and the committed offsets it keeps in the compacted `__consumer_offsets` topic.
//!
//! [`protocol`] holds the requests and responses.

pub mod protocol;
