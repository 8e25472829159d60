//! The cluster metadata as KRaft keeps it: a log of [`MetadataRecord`]s, and the
//! [`MetadataImage`] that applying them in order builds. The controller decides which records
//! to write; brokers (and the page) read the image.

mod image;
mod record;

pub use image::{BrokerRegistration, DynamicConfig, MetadataImage};
pub use record::{ConfigName, ElectionKind, MetadataRecord};
