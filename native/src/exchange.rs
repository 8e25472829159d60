//! One connection's requests in flight, answered in the order they came, as Kafka requires.
//!
//! A request the core answers is a [`Pending`]: the request ids of the core messages sent for
//! it, the answers gathered so far, and how to turn them into Kafka's response once all are
//! in. [`Exchanges`] keeps the connection's requests in arrival order, routes each core answer
//! to its request by id, and releases responses from the front only.

use std::collections::{BTreeMap, VecDeque};
use std::fmt;

use bytes::Bytes;
use kafkalab_core::message::Message;

use crate::api::{Answer, Rejection};

/// Writes the response from the core's answers, in the order the ids were given.
type Finish = Box<dyn FnOnce(Vec<Message>) -> Result<Bytes, Rejection> + Send>;

/// A request waiting for the core.
pub struct Pending {
    /// The request ids sent for it, in the order the response lists them.
    ids: Vec<u64>,
    answers: BTreeMap<u64, Message>,
    finish: Finish,
}

impl fmt::Debug for Pending {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pending").field("ids", &self.ids).field("answered", &self.answers.len()).finish()
    }
}

impl Pending {
    /// Waits for the answers to `ids`, then writes the response with `finish`, which gets the
    /// answers in the order of `ids`.
    pub fn new(
        ids: Vec<u64>,
        finish: impl FnOnce(Vec<Message>) -> Result<Bytes, Rejection> + Send + 'static,
    ) -> Pending {
        Pending { ids, answers: BTreeMap::new(), finish: Box::new(finish) }
    }

    fn is_complete(&self) -> bool {
        self.answers.len() == self.ids.len()
    }

    fn finish(self) -> Result<Bytes, Rejection> {
        let Pending { ids, mut answers, finish } = self;
        let ordered = ids.iter().map(|id| answers.remove(id).expect("complete")).collect();
        finish(ordered)
    }
}

enum Slot {
    Ready(Bytes),
    Waiting(Pending),
}

/// A connection's requests in arrival order.
#[derive(Default)]
pub struct Exchanges {
    slots: VecDeque<Slot>,
}

impl Exchanges {
    /// A new request's answer, behind every earlier one.
    pub fn push(&mut self, answer: Answer) {
        match answer {
            Answer::Now(bytes) => self.slots.push_back(Slot::Ready(bytes)),
            Answer::Later(pending) => self.slots.push_back(Slot::Waiting(pending)),
            Answer::Nothing => {}
        }
    }

    /// A core answer: given to the request that sent it. Answers to nothing in flight (a
    /// request already answered, a connection since closed) are dropped.
    pub fn deliver(&mut self, message: Message) {
        let Some(id) = request_id_of(&message) else { return };
        for slot in &mut self.slots {
            if let Slot::Waiting(pending) = slot {
                if pending.ids.contains(&id) {
                    pending.answers.insert(id, message);
                    return;
                }
            }
        }
    }

    /// The responses ready to write, from the front: stops at the first request still waiting.
    pub fn take_ready(&mut self) -> Result<Vec<Bytes>, Rejection> {
        let mut ready = Vec::new();
        while let Some(front) = self.slots.front() {
            let done = match front {
                Slot::Ready(_) => true,
                Slot::Waiting(pending) => pending.is_complete(),
            };
            if !done {
                break;
            }
            match self.slots.pop_front().expect("front exists") {
                Slot::Ready(bytes) => ready.push(bytes),
                Slot::Waiting(pending) => ready.push(pending.finish()?),
            }
        }
        Ok(ready)
    }

    /// Whether any request waits for the core.
    pub fn is_waiting(&self) -> bool {
        !self.slots.is_empty()
    }
}

/// The request id a core answer carries back.
pub fn request_id_of(message: &Message) -> Option<u64> {
    match message {
        Message::ProduceResponse { request_id, .. }
        | Message::FindCoordinatorResponse { request_id, .. }
        | Message::GroupResponse { request_id, .. }
        | Message::TxnResponse { request_id, .. }
        | Message::TopicAdminResponse { request_id, .. } => Some(*request_id),
        Message::ConsumerFetchResponse { fetch_id, .. } | Message::ClientFetchResponse { fetch_id, .. } => {
            Some(*fetch_id)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kafkalab_core::error_code::ErrorCode;

    fn answer(request_id: u64) -> Message {
        Message::FindCoordinatorResponse { request_id, result: Err(ErrorCode::CoordinatorNotAvailable) }
    }

    fn gather(ids: Vec<u64>, tag: &'static str) -> Answer {
        Answer::Later(Pending::new(ids, move |answers| {
            let ids: Vec<String> = answers.iter().map(|m| request_id_of(m).unwrap().to_string()).collect();
            Ok(Bytes::from(format!("{tag}:{}", ids.join(","))))
        }))
    }

    #[test]
    fn a_later_request_answered_first_waits_for_the_earlier_one() {
        let mut exchanges = Exchanges::default();
        exchanges.push(gather(vec![1, 2], "a"));
        exchanges.push(Answer::Now(Bytes::from_static(b"b")));
        exchanges.push(gather(vec![3], "c"));
        exchanges.deliver(answer(3));
        exchanges.deliver(answer(2));
        assert!(exchanges.take_ready().unwrap().is_empty(), "the first request still waits for 1");
        exchanges.deliver(answer(1));
        let ready = exchanges.take_ready().unwrap();
        assert_eq!(ready, [Bytes::from_static(b"a:1,2"), Bytes::from_static(b"b"), Bytes::from_static(b"c:3")]);
        assert!(!exchanges.is_waiting());
    }

    #[test]
    fn answers_to_nothing_in_flight_are_dropped() {
        let mut exchanges = Exchanges::default();
        exchanges.push(gather(vec![7], "a"));
        exchanges.deliver(answer(8));
        exchanges.deliver(Message::ControlledShutdownResponse { result: Ok(()) });
        assert!(exchanges.take_ready().unwrap().is_empty());
        exchanges.deliver(answer(7));
        assert_eq!(exchanges.take_ready().unwrap(), [Bytes::from_static(b"a:7")]);
    }
}
