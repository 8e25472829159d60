//! The event queue: events in time order, ties broken by the order they were scheduled, so a
//! run is a function of its seed and commands.
//!
//! The heap orders small keys (time, sequence, slot); the events themselves wait in slots that
//! are reused, so the heap moves 24 bytes per swap instead of a whole message, and scheduling
//! allocates nothing once the slots have grown to the run's peak.

use alloc::collections::BinaryHeap;
use alloc::vec::Vec;
use core::cmp::Reverse;

pub(super) struct EventQueue<E> {
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    slots: Vec<Option<E>>,
    free: Vec<u32>,
    next_sequence: u64,
}

impl<E> EventQueue<E> {
    pub(super) fn new() -> Self {
        EventQueue { heap: BinaryHeap::new(), slots: Vec::new(), free: Vec::new(), next_sequence: 0 }
    }

    pub(super) fn push(&mut self, at_ms: u64, event: E) {
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(event);
                slot
            }
            None => {
                self.slots.push(Some(event));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 events pending")
            }
        };
        self.heap.push(Reverse((at_ms, self.next_sequence, slot)));
        self.next_sequence += 1;
    }

    /// The earliest event and its time.
    pub(super) fn pop(&mut self) -> Option<(u64, E)> {
        let Reverse((at_ms, _, slot)) = self.heap.pop()?;
        let event = self.slots[slot as usize].take().expect("a scheduled slot holds its event");
        self.free.push(slot);
        Some((at_ms, event))
    }

    /// When the earliest event is due.
    pub(super) fn next_at_ms(&self) -> Option<u64> {
        self.heap.peek().map(|Reverse((at_ms, _, _))| *at_ms)
    }
}

impl<E: Clone> Clone for EventQueue<E> {
    fn clone(&self) -> Self {
        EventQueue {
            heap: self.heap.clone(),
            slots: self.slots.clone(),
            free: self.free.clone(),
            next_sequence: self.next_sequence,
        }
    }
}

impl<E> core::fmt::Debug for EventQueue<E> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "EventQueue({} pending)", self.heap.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_come_out_by_time_then_by_the_order_they_went_in() {
        let mut queue = EventQueue::new();
        queue.push(5, "late");
        queue.push(1, "first");
        queue.push(1, "second");
        assert_eq!(queue.next_at_ms(), Some(1));
        assert_eq!(queue.pop(), Some((1, "first")));
        queue.push(1, "third"); // reuses the freed slot, still after "second"
        assert_eq!(queue.pop(), Some((1, "second")));
        assert_eq!(queue.pop(), Some((1, "third")));
        assert_eq!(queue.pop(), Some((5, "late")));
        assert_eq!(queue.pop(), None);
    }
}
