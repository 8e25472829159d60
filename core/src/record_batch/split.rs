//! Splitting a buffer of concatenated batches, as a Produce request or a Fetch response carries
//! them and as a log segment stores them.
//!
//! A last batch that the buffer cuts short is not an error but a [`TornTail`]: a fetch stops at
//! its byte limit mid-batch, and a crash can leave a half-written batch at a segment's end, which
//! recovery truncates. A complete batch that fails validation is a [`SplitError`], with its
//! position in the buffer.

use alloc::vec::Vec;
use bytes::Bytes;
use core::fmt;

use super::batch::{read_i32, RecordBatch};
use super::error::BatchError;
use super::header::{BATCH_LENGTH_POSITION, LOG_OVERHEAD_BYTES, MIN_BATCH_LENGTH};

/// The complete batches of a buffer, in order, and what follows the last of them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitBatches {
    pub batches: Vec<RecordBatch>,
    /// An incomplete batch at the end, if any.
    pub torn_tail: Option<TornTail>,
}

/// An incomplete batch at the end of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TornTail {
    /// Where it starts in the buffer: the length to truncate to.
    pub position: usize,
    /// How many of its bytes the buffer holds.
    pub available_bytes: usize,
    /// Its size by its length field, or `None` when even that field is cut off.
    pub needed_bytes: Option<usize>,
}

/// A complete batch in the buffer failed validation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SplitError {
    /// Which batch, counting from 0.
    pub batch_index: usize,
    /// Where it starts in the buffer; positions in `error` count from there.
    pub position: usize,
    pub error: BatchError,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "batch {} at byte {} of the buffer: {}", self.batch_index, self.position, self.error)
    }
}

impl fmt::Display for TornTail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.needed_bytes {
            Some(needed) => {
                write!(f, "torn batch at byte {}: {} of {needed} bytes", self.position, self.available_bytes)
            }
            None => {
                write!(f, "torn batch at byte {}: {} bytes, its length cut off", self.position, self.available_bytes)
            }
        }
    }
}

/// Splits `buffer` into batches, validating each complete one with [`RecordBatch::parse`].
/// The batches share `buffer`'s memory.
pub fn split_batches(buffer: &Bytes) -> Result<SplitBatches, SplitError> {
    let mut batches = Vec::new();
    let mut position = 0;
    while position < buffer.len() {
        let available_bytes = buffer.len() - position;
        let fail = |error| SplitError { batch_index: batches.len(), position, error };
        if available_bytes < LOG_OVERHEAD_BYTES {
            let torn_tail = TornTail { position, available_bytes, needed_bytes: None };
            return Ok(SplitBatches { batches, torn_tail: Some(torn_tail) });
        }
        let batch_length = read_i32(buffer, position + BATCH_LENGTH_POSITION);
        // A length too small for a header is corruption, not a tear: nothing can follow it.
        if batch_length < MIN_BATCH_LENGTH {
            return Err(fail(BatchError::BatchLengthTooSmall { batch_length }));
        }
        let size = LOG_OVERHEAD_BYTES + batch_length as usize;
        if available_bytes < size {
            let torn_tail = TornTail { position, available_bytes, needed_bytes: Some(size) };
            return Ok(SplitBatches { batches, torn_tail: Some(torn_tail) });
        }
        let batch = RecordBatch::parse(buffer.slice(position..position + size)).map_err(fail)?;
        batches.push(batch);
        position += size;
    }
    Ok(SplitBatches { batches, torn_tail: None })
}
