//! Clients' topic requests as a broker handles them.
//!
//! - CreateTopics, DeleteTopics and CreatePartitions go to the active controller (KRaft
//!   brokers forward them, KIP-590): the broker sends the request under an id of its own, relays
//!   the controller's answer to the client, and sends again when the controller it reached was
//!   not the active one (NOT_CONTROLLER), when its metadata log names a new active controller,
//!   or when a second passes unanswered (the request, its answer or the controller may have
//!   been lost). Once the client's `timeout_ms` (or, without one, `request.timeout.ms`) has
//!   passed, it answers REQUEST_TIMED_OUT for every topic. A retry of a creation whose answer
//!   was lost hears TOPIC_ALREADY_EXISTS, as a retrying Kafka client does.
//! - Auto-creation (Metadata naming unknown topics, `allow_auto_topic_creation`) is answered at
//!   once: with `auto.create.topics.enable` the broker asks the controller to create each
//!   unknown topic with `num.partitions` and `default.replication.factor` and reports
//!   LEADER_NOT_AVAILABLE while it is created (Kafka's `AutoTopicCreationManager`); without
//!   it, UNKNOWN_TOPIC_OR_PARTITION. The internal topics are created as FindCoordinator
//!   creates them, compacted with their own partition counts.

use alloc::boxed::Box;

use crate::config::is_legal_topic_name;
use crate::controller::protocol::{TopicRequest, TopicResponse};
use crate::message::{AdminError, AdminRequest, CoordinatorType};
use crate::placement::{CONSUMER_OFFSETS_TOPIC, TRANSACTION_STATE_TOPIC};

use super::*;

/// How long a forwarded request waits for an answer before it is sent again.
const FORWARD_RETRY_MS: u64 = 1_000;
/// The pause before asking again after NOT_CONTROLLER (the admin client's `retry.backoff.ms`).
const NOT_CONTROLLER_BACKOFF_MS: u64 = 100;

/// A client's request forwarded to the controller and not yet answered.
#[derive(Clone, Debug)]
pub(super) struct Forwarded {
    from: NodeId,
    request_id: u64,
    request: TopicRequest,
    deadline_ms: u64,
    /// Counts the sends; only the retry timer of the latest acts.
    attempt: u32,
}

impl Broker {
    pub(super) fn handle_topic_admin(&mut self, now_ms: u64, from: NodeId, request_id: u64, request: TopicRequest) {
        let timeout_ms = match request.timeout_ms() {
            None => {
                let TopicRequest::AutoCreate { topics } = request else { unreachable!("only auto-creation has none") };
                self.auto_create(from, request_id, topics);
                return;
            }
            Some(0) => self.config.request_timeout_ms,
            Some(timeout_ms) => timeout_ms,
        };
        let forward_id = self.next_forward_id;
        self.next_forward_id += 1;
        let forwarded = Forwarded { from, request_id, request, deadline_ms: now_ms + timeout_ms, attempt: 0 };
        self.forwarded.insert(forward_id, forwarded);
        self.forward(now_ms, forward_id, 0);
    }

    /// Sends a forwarded request to the controller, and sets the timer to send it again (or
    /// to give up) `after_ms` from now at the latest.
    fn forward(&mut self, now_ms: u64, forward_id: u64, after_ms: u64) {
        let Some(forwarded) = self.forwarded.get_mut(&forward_id) else { return };
        forwarded.attempt += 1;
        let attempt = forwarded.attempt;
        let wait_ms = if after_ms == 0 { FORWARD_RETRY_MS } else { after_ms };
        let retry_in_ms = (now_ms + wait_ms).min(forwarded.deadline_ms).saturating_sub(now_ms);
        let request = (after_ms == 0).then(|| Box::new(forwarded.request.clone()));
        if let Some(request) = request {
            let controller = self.controller();
            self.send(controller, Message::TopicAdmin { request_id: forward_id, request });
        }
        self.set_timer(retry_in_ms, Timer::TopicAdminRetry { forward_id, attempt });
    }

    /// The retry timer: give up once the deadline has passed, else send again.
    pub(super) fn handle_topic_admin_retry(&mut self, now_ms: u64, forward_id: u64, attempt: u32) {
        let Some(forwarded) = self.forwarded.get(&forward_id) else { return };
        if forwarded.attempt != attempt {
            return; // sent again since: that send's timer decides
        }
        if now_ms >= forwarded.deadline_ms {
            let forwarded = self.forwarded.remove(&forward_id).expect("found above");
            let message = alloc::string::String::from("Timed out waiting for the active controller to answer.");
            let response = forwarded.request.refuse_all(&AdminError { code: ErrorCode::RequestTimedOut, message });
            let request_id = forwarded.request_id;
            self.send(forwarded.from, Message::TopicAdminResponse { request_id, response: Box::new(response) });
            return;
        }
        self.forward(now_ms, forward_id, 0);
    }

    /// A controller's answer: relayed to the client, or, from one that is not active, asked
    /// again after a pause.
    pub(super) fn handle_topic_admin_response(&mut self, now_ms: u64, forward_id: u64, response: TopicResponse) {
        if !self.forwarded.contains_key(&forward_id) {
            return; // answered already (a retry's answer), or timed out
        }
        if response.is_not_controller() {
            // Only a later timer sends again: after the back-off, or at the deadline.
            self.forward(now_ms, forward_id, NOT_CONTROLLER_BACKOFF_MS);
            return;
        }
        let forwarded = self.forwarded.remove(&forward_id).expect("checked above");
        let request_id = forwarded.request_id;
        self.send(forwarded.from, Message::TopicAdminResponse { request_id, response: Box::new(response) });
    }

    /// A new active controller: what it has not answered goes to it now.
    pub(super) fn forward_to_new_controller(&mut self, now_ms: u64) {
        let unanswered: Vec<u64> = self.forwarded.keys().copied().collect();
        for forward_id in unanswered {
            self.forward(now_ms, forward_id, 0);
        }
    }

    /// Metadata's auto-creation, answered at once (see the module's docs).
    fn auto_create(&mut self, from: NodeId, request_id: u64, topics: Vec<String>) {
        let results = topics
            .into_iter()
            .map(|name| {
                let result = if self.image.topics.contains_key(&name) {
                    Ok(())
                } else if !is_legal_topic_name(&name) {
                    Err(ErrorCode::InvalidTopicException)
                } else if !self.settings.auto_create_topics_enable {
                    Err(ErrorCode::UnknownTopicOrPartition)
                } else {
                    self.request_creation(&name);
                    Err(ErrorCode::LeaderNotAvailable)
                };
                (name, result)
            })
            .collect();
        let response = Box::new(TopicResponse::AutoCreate(results));
        self.send(from, Message::TopicAdminResponse { request_id, response });
    }

    /// Asks the controller to create `name` with the cluster's defaults, once at a time (the
    /// heartbeat clears what is asked, so a lost request is asked again by the next Metadata).
    fn request_creation(&mut self, name: &str) {
        match name {
            CONSUMER_OFFSETS_TOPIC => return self.create_internal_topic(CoordinatorType::Group),
            TRANSACTION_STATE_TOPIC => return self.create_internal_topic(CoordinatorType::Transaction),
            _ => {}
        }
        if !self.creating_topics.insert(name.into()) {
            return;
        }
        let request = AdminRequest::CreateTopic {
            name: name.into(),
            partitions: self.settings.num_partitions,
            replication_factor: self.settings.default_replication_factor,
            config: LogConfig::default(),
        };
        let request_id = self.next_fetch_id;
        self.next_fetch_id += 1;
        let controller = self.controller();
        self.send(controller, Message::Admin { request_id, request });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controller::protocol::NewTopic;
    use crate::ids::ClientId;
    use alloc::string::ToString;
    use alloc::vec;

    const CLIENT: NodeId = NodeId::Client(ClientId(7));

    fn started() -> Broker {
        let mut broker = Broker::new(BrokerId(1), ClusterConfig::default());
        broker.start(0);
        broker.take_outputs();
        broker
    }

    fn create(timeout_ms: u64) -> TopicRequest {
        let topic = NewTopic { name: "t".to_string(), partitions: 1, replication_factor: 1, configs: Vec::new() };
        TopicRequest::CreateTopics { topics: vec![topic], validate_only: false, timeout_ms }
    }

    /// The forwarded request's id, and the retry timer set with it.
    fn forwarded(outputs: &[Output]) -> (u64, Option<(u64, u32)>) {
        let sent = outputs.iter().find_map(|o| match o {
            Output::Send { to: NodeId::Controller(_), message: Message::TopicAdmin { request_id, .. } } => {
                Some(*request_id)
            }
            _ => None,
        });
        let timer = outputs.iter().find_map(|o| match o {
            Output::SetTimer { after_ms, timer: Timer::TopicAdminRetry { attempt, .. } } => Some((*after_ms, *attempt)),
            _ => None,
        });
        (sent.expect("forwarded to a controller"), timer)
    }

    fn relayed(outputs: &[Output]) -> Option<(u64, TopicResponse)> {
        outputs.iter().find_map(|o| match o {
            Output::Send { to, message: Message::TopicAdminResponse { request_id, response } } if *to == CLIENT => {
                Some((*request_id, (**response).clone()))
            }
            _ => None,
        })
    }

    fn refused(code: ErrorCode) -> TopicResponse {
        create(1).refuse_all(&AdminError { code, message: "no".to_string() })
    }

    #[test]
    fn a_forwarded_request_is_relayed_under_the_clients_id_and_not_controller_is_asked_again() {
        let mut broker = started();
        broker.handle_message(10, CLIENT, Message::TopicAdmin { request_id: 42, request: Box::new(create(5_000)) });
        let (forward_id, timer) = forwarded(&broker.take_outputs());
        assert_eq!(timer, Some((FORWARD_RETRY_MS, 1)));

        let response = Box::new(refused(ErrorCode::NotController));
        broker.handle_message(
            20,
            NodeId::Controller(ControllerId(2)),
            Message::TopicAdminResponse { request_id: forward_id, response },
        );
        let outputs = broker.take_outputs();
        assert!(relayed(&outputs).is_none(), "NOT_CONTROLLER is not the client's answer");
        assert!(outputs.iter().any(|o| matches!(o, Output::SetTimer { after_ms: NOT_CONTROLLER_BACKOFF_MS, .. })));
        broker.handle_timer(20 + FORWARD_RETRY_MS, Timer::TopicAdminRetry { forward_id, attempt: 1 });
        assert!(broker.take_outputs().is_empty(), "the first send's timer is stale");
        broker.handle_timer(120, Timer::TopicAdminRetry { forward_id, attempt: 2 });
        assert_eq!(forwarded(&broker.take_outputs()).0, forward_id, "sent again under the same id");

        let answer = TopicResponse::CreateTopics(vec![(
            "t".to_string(),
            Err(AdminError { code: ErrorCode::TopicAlreadyExists, message: "exists".to_string() }),
        )]);
        let response = Box::new(answer.clone());
        broker.handle_message(
            130,
            NodeId::Controller(ControllerId(3)),
            Message::TopicAdminResponse { request_id: forward_id, response },
        );
        assert_eq!(relayed(&broker.take_outputs()), Some((42, answer)));
    }

    #[test]
    fn an_unanswered_request_times_out_at_the_clients_deadline() {
        let mut broker = started();
        broker.handle_message(0, CLIENT, Message::TopicAdmin { request_id: 1, request: Box::new(create(1_500)) });
        let (forward_id, _) = forwarded(&broker.take_outputs());
        broker.handle_timer(1_000, Timer::TopicAdminRetry { forward_id, attempt: 1 });
        let (_, timer) = forwarded(&broker.take_outputs());
        assert_eq!(timer, Some((500, 2)), "the next try is due at the deadline");
        broker.handle_timer(1_500, Timer::TopicAdminRetry { forward_id, attempt: 2 });
        let (request_id, response) = relayed(&broker.take_outputs()).expect("answered");
        assert_eq!(request_id, 1);
        let TopicResponse::CreateTopics(results) = response else { panic!("a CreateTopics answer") };
        assert_eq!(results[0].1.as_ref().unwrap_err().code, ErrorCode::RequestTimedOut);
    }

    #[test]
    fn auto_creation_is_answered_at_once_and_asks_the_controller_once() {
        let mut broker = started();
        let request = || Box::new(TopicRequest::AutoCreate { topics: vec!["fresh".to_string(), "orders".to_string()] });
        broker.handle_message(0, CLIENT, Message::TopicAdmin { request_id: 5, request: request() });
        let outputs = broker.take_outputs();
        let expected = TopicResponse::AutoCreate(vec![
            ("fresh".to_string(), Err(ErrorCode::LeaderNotAvailable)),
            ("orders".to_string(), Ok(())),
        ]);
        assert_eq!(relayed(&outputs), Some((5, expected)));
        let asks = |outputs: &[Output]| {
            outputs.iter().filter(|o| matches!(o, Output::Send { message: Message::Admin { .. }, .. })).count()
        };
        assert_eq!(asks(&outputs), 1);
        broker.handle_message(1, CLIENT, Message::TopicAdmin { request_id: 6, request: request() });
        assert_eq!(asks(&broker.take_outputs()), 0, "asked already");
    }
}
