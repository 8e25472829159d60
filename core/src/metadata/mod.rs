//! The cluster metadata as KRaft keeps it: a log of [`MetadataRecord`]s, replicated by the
//! controller quorum's Raft ([`MetadataLog`]), and the [`MetadataImage`] that applying them in
//! order builds. The active controller decides which records to write; every controller and
//! every broker applies the committed ones to an image of its own; the page draws them.

mod image;
pub mod log;
mod record;

pub use image::{BrokerRegistration, ClientMetadata, DynamicConfig, MetadataImage};
pub use log::{LogOutput, MetadataBatch, MetadataLog};
pub use record::{ConfigName, ElectionKind, MetadataRecord};
