//! Handing out producer ids from blocks the controller grants.
//!
//! In KRaft a broker asks the active controller for ids with `AllocateProducerIds` and gets a
//! block of 1000; it asks for the next block once 90% of the current one is used, so that ids
//! rarely run out (Kafka's `RPCProducerIdManager`). A block granted must lie wholly above every
//! id this manager has seen, so no id is ever handed out twice.

use core::fmt;

/// Kafka asks for the next block when this share of the current one is used (90%).
const PREFETCH_PERCENT: i64 = 90;

/// A run of ids: `next` is the first not yet handed out, `end` is one past the last.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Block {
    first: i64,
    next: i64,
    end: i64,
}

/// A block that would hand out ids again, or no ids at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlockRefused {
    Empty {
        len: i64,
    },
    /// The block starts at or below an id already granted.
    Overlaps {
        first: i64,
        granted_up_to: i64,
    },
}

impl fmt::Display for BlockRefused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BlockRefused::Empty { len } => write!(f, "a block of {len} ids holds none"),
            BlockRefused::Overlaps { first, granted_up_to } => {
                write!(f, "a block from {first} overlaps ids already granted (up to {granted_up_to})")
            }
        }
    }
}

/// The ids of one broker: the block in use, the one fetched ahead, and whether one is asked for.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ProducerIdManager {
    current: Option<Block>,
    prefetched: Option<Block>,
    requested: bool,
    /// One past the highest id of any block granted: the next block must start here or later.
    granted_end: i64,
}

impl ProducerIdManager {
    pub fn new() -> Self {
        ProducerIdManager::default()
    }

    /// Whether [`ProducerIdManager::next_id`] would give an id now.
    pub fn has_id(&self) -> bool {
        self.current.is_some_and(|block| block.next < block.end) || self.prefetched.is_some()
    }

    /// The next id, or `None` when every granted id is used (the caller waits for a block).
    pub fn next_id(&mut self) -> Option<i64> {
        if self.current.is_none_or(|block| block.next >= block.end) {
            self.current = self.prefetched.take();
        }
        let block = self.current.as_mut()?;
        let id = block.next;
        block.next += 1;
        Some(id)
    }

    /// Whether to ask the controller for a block now: none is asked for or waiting, and the
    /// current block is used up or 90% used.
    pub fn wants_block(&self) -> bool {
        if self.requested || self.prefetched.is_some() {
            return false;
        }
        match self.current {
            None => true,
            Some(block) => (block.next - block.first) * 100 >= (block.end - block.first) * PREFETCH_PERCENT,
        }
    }

    /// The caller has asked the controller for a block: do not ask again until it is granted.
    pub fn block_requested(&mut self) {
        self.requested = true;
    }

    /// Whether a block is asked for and not yet granted.
    pub fn is_block_requested(&self) -> bool {
        self.requested
    }

    /// The controller granted `len` ids from `first`.
    pub fn grant(&mut self, first: i64, len: i64) -> Result<(), BlockRefused> {
        if len <= 0 {
            return Err(BlockRefused::Empty { len });
        }
        if first < self.granted_end || first < 0 {
            return Err(BlockRefused::Overlaps { first, granted_up_to: self.granted_end - 1 });
        }
        let end = first.checked_add(len).ok_or(BlockRefused::Empty { len })?;
        let block = Block { first, next: first, end };
        self.granted_end = end;
        self.requested = false;
        if self.current.is_some_and(|current| current.next < current.end) {
            self.prefetched = Some(block);
        } else {
            self.current = Some(block);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeSet;

    #[test]
    fn without_a_block_there_is_no_id_and_a_block_is_wanted() {
        let mut ids = ProducerIdManager::new();
        assert!(!ids.has_id());
        assert_eq!(ids.next_id(), None);
        assert!(ids.wants_block());
        ids.block_requested();
        assert!(!ids.wants_block(), "one request at a time");
    }

    #[test]
    fn ids_come_in_order_from_the_block_and_the_next_is_asked_for_at_90_percent() {
        let mut ids = ProducerIdManager::new();
        ids.block_requested();
        ids.grant(0, 10).unwrap();
        for expected in 0..9 {
            assert!(!ids.wants_block(), "asked early, before id {expected}");
            assert_eq!(ids.next_id(), Some(expected));
        }
        assert!(ids.wants_block(), "9 of 10 used");
        ids.block_requested();
        ids.grant(10, 10).unwrap();
        assert_eq!(ids.next_id(), Some(9), "the current block is used up first");
        assert_eq!(ids.next_id(), Some(10));
    }

    #[test]
    fn no_id_is_handed_out_twice_across_blocks() {
        let mut ids = ProducerIdManager::new();
        let mut seen = BTreeSet::new();
        let mut first = 0;
        for _ in 0..50 {
            if ids.wants_block() {
                ids.block_requested();
                ids.grant(first, 7).unwrap();
                first += 7;
            }
            let id = ids.next_id().expect("prefetching keeps ids available");
            assert!(seen.insert(id), "id {id} handed out twice");
        }
    }

    #[test]
    fn a_block_overlapping_granted_ids_is_refused() {
        let mut ids = ProducerIdManager::new();
        ids.grant(1000, 1000).unwrap();
        assert_eq!(ids.grant(1500, 1000), Err(BlockRefused::Overlaps { first: 1500, granted_up_to: 1999 }));
        assert_eq!(ids.grant(0, 1000), Err(BlockRefused::Overlaps { first: 0, granted_up_to: 1999 }));
        assert_eq!(ids.grant(2000, 0), Err(BlockRefused::Empty { len: 0 }));
        assert_eq!(ids.grant(2000, 1000), Ok(()));
    }
}
