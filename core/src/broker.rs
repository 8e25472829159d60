//! A broker: the replicas it holds, leading some partitions and following others.
//!
//! As leader of a partition it appends produced records, answers followers' fetches (parking
//! them up to `replica.fetch.wait.max.ms` when there is nothing new), tracks how far each
//! follower has got, advances the high watermark to what every in-sync replica has, completes
//! `acks=all` writes once the high watermark covers them, and asks the controller to shrink the
//! ISR when a follower lags longer than `replica.lag.time.max.ms` or to expand it when one has
//! caught up. As follower it fetches from its leader, truncates a divergent tail (KIP-101,
//! KIP-320) and takes the leader's high watermark.
//!
//! Inputs: [`Broker::handle_message`] and [`Broker::handle_timer`]; outputs: [`Broker::take_outputs`].

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

use crate::config::ClusterConfig;
use crate::error_code::ErrorCode;
use crate::ids::{BrokerId, LeaderEpoch, Offset, TopicPartition};
use crate::log::PartitionLog;
use crate::message::{Acks, FetchData, Message, NodeId, Output, Timer};
use crate::metadata::{DynamicConfig, MetadataImage};
use crate::topology::PartitionState;
use crate::trace::TraceEvent;

/// The most records one fetch response carries.
const MAX_FETCH_RECORDS: usize = 500;

/// One partition as this broker holds it.
#[derive(Clone, Debug)]
pub struct Replica {
    pub log: PartitionLog,
    pub role: Role,
}

#[derive(Clone, Debug)]
pub enum Role {
    Leader(Leadership),
    Follower(Following),
}

/// A leader's bookkeeping for its partition.
#[derive(Clone, Debug)]
pub struct Leadership {
    pub leader_epoch: LeaderEpoch,
    pub partition_epoch: i32,
    pub replicas: Vec<BrokerId>,
    pub isr: Vec<BrokerId>,
    followers: BTreeMap<BrokerId, FollowerProgress>,
    parked_fetches: Vec<ParkedFetch>,
    pending_acks: Vec<PendingAck>,
    /// The ISR asked of the controller and not yet answered; Kafka sends one AlterPartition at
    /// a time per partition. Until the answer, the high watermark counts these members too
    /// (KIP-497's "maximal ISR"), so a member the controller may already have admitted is never
    /// left out of it.
    pending_isr: Option<Vec<BrokerId>>,
}

/// What a leader knows of one follower (Kafka's `Replica` state on the leader).
#[derive(Clone, Debug)]
struct FollowerProgress {
    /// The follower's log end offset, known once it has fetched under this leader.
    log_end: Option<Offset>,
    last_caught_up_ms: u64,
    last_fetch_ms: u64,
    last_fetch_leader_log_end: Offset,
}

/// A follower's fetch as the leader handles it.
#[derive(Clone, Debug)]
struct FetchRequest {
    follower: BrokerId,
    /// The follower's number for this fetch, echoed in the answer.
    fetch_id: u64,
    fetch_offset: Offset,
    last_fetched_epoch: Option<LeaderEpoch>,
}

/// A fetch waiting on the leader for new records or `replica.fetch.wait.max.ms`.
#[derive(Clone, Debug)]
struct ParkedFetch {
    request: FetchRequest,
}

#[derive(Clone, Debug)]
struct PendingAck {
    request_id: u64,
    from: NodeId,
    offset: Offset,
}

/// A follower's view of its leader.
#[derive(Clone, Debug)]
pub struct Following {
    pub leader: Option<BrokerId>,
    pub leader_epoch: LeaderEpoch,
    /// The id of the fetch awaiting an answer, if one is.
    fetch_in_flight: Option<u64>,
}

impl Following {
    /// Following no one: after a start, until the metadata names a leader.
    fn nobody() -> Self {
        Following { leader: None, leader_epoch: LeaderEpoch(-1), fetch_in_flight: None }
    }
}

impl Replica {
    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    pub fn leader_epoch(&self) -> LeaderEpoch {
        match &self.role {
            Role::Leader(leadership) => leadership.leader_epoch,
            Role::Follower(following) => following.leader_epoch,
        }
    }
}

/// A broker's state machine.
#[derive(Clone, Debug)]
pub struct Broker {
    id: BrokerId,
    config: ClusterConfig,
    replicas: BTreeMap<TopicPartition, Replica>,
    /// The partition metadata this broker has learned from the controller.
    metadata: BTreeMap<TopicPartition, PartitionState>,
    /// The version of the controller's metadata it has applied.
    metadata_version: u64,
    /// The cluster-wide settings, as the metadata last said.
    settings: DynamicConfig,
    /// It has asked the controller for a controlled shutdown.
    shutting_down: bool,
    /// Its current registration's epoch, once the controller has answered.
    broker_epoch: Option<u64>,
    /// How many times this broker has started: the controller tells a retried registration
    /// from a restart by it.
    incarnation: u64,
    /// Numbers this broker's fetches, so an answer is matched to its request.
    next_fetch_id: u64,
    outputs: Vec<Output>,
}

impl Broker {
    pub fn new(id: BrokerId, config: ClusterConfig) -> Self {
        let settings = MetadataImage::bootstrap(&config).config;
        Broker {
            id,
            config,
            replicas: BTreeMap::new(),
            metadata: BTreeMap::new(),
            metadata_version: 0,
            settings,
            shutting_down: false,
            broker_epoch: None,
            incarnation: 0,
            next_fetch_id: 0,
            outputs: Vec::new(),
        }
    }

    pub fn id(&self) -> BrokerId {
        self.id
    }

    pub fn replica(&self, partition: &TopicPartition) -> Option<&Replica> {
        self.replicas.get(partition)
    }

    pub fn replicas(&self) -> impl Iterator<Item = (&TopicPartition, &Replica)> {
        self.replicas.iter()
    }

    /// Everything the broker asked for since the last call, in order.
    pub fn take_outputs(&mut self) -> Vec<Output> {
        core::mem::take(&mut self.outputs)
    }

    /// Starts (or restarts after a crash): the logs survive, everything in memory is rebuilt
    /// from the controller's metadata after registering.
    pub fn start(&mut self) {
        self.metadata.clear();
        self.metadata_version = 0;
        self.broker_epoch = None;
        self.shutting_down = false;
        self.incarnation += 1;
        for replica in self.replicas.values_mut() {
            replica.role = Role::Follower(Following::nobody());
        }
        self.send(NodeId::Controller, Message::BrokerRegistration { broker: self.id, incarnation: self.incarnation });
        self.set_timer(self.config.broker_heartbeat_interval_ms, Timer::Heartbeat);
        self.set_timer(self.isr_expiration_interval_ms(), Timer::IsrExpiration);
    }

    /// Asks the controller to move this broker's leaderships away; once it has, the broker
    /// stops (the driver sees [`Output::Stop`]).
    pub fn begin_controlled_shutdown(&mut self) {
        self.shutting_down = true;
        self.trace(TraceEvent::ShutdownRequested { broker: self.id });
        self.request_controlled_shutdown();
    }

    fn request_controlled_shutdown(&mut self) {
        if let (true, Some(broker_epoch)) = (self.shutting_down, self.broker_epoch) {
            self.send(NodeId::Controller, Message::ControlledShutdown { broker: self.id, broker_epoch });
        }
    }

    pub fn handle_message(&mut self, now_ms: u64, from: NodeId, message: Message) {
        match message {
            Message::BrokerRegistrationResponse { incarnation, broker_epoch } => {
                if incarnation == self.incarnation {
                    self.broker_epoch = Some(broker_epoch);
                }
            }
            Message::BrokerHeartbeatResponse { broker_epoch, result } => {
                if result.is_err() && self.broker_epoch == Some(broker_epoch) {
                    self.broker_epoch = None; // register again at the next heartbeat
                }
            }
            Message::MetadataUpdate { image } => {
                if image.version <= self.metadata_version {
                    return; // an older image that arrived late
                }
                self.metadata_version = image.version;
                self.settings = image.config;
                for (_, state) in image.partitions {
                    self.apply_partition_state(now_ms, state);
                }
            }
            Message::ControlledShutdownResponse { result } => {
                if self.shutting_down && result.is_ok() {
                    self.outputs.push(Output::Stop);
                }
            }
            Message::AlterPartitionResponse { state, .. } => self.handle_alter_partition_response(now_ms, state),
            Message::Fetch { follower, fetch_id, partition, leader_epoch, fetch_offset, last_fetched_epoch } => {
                let request = FetchRequest { follower, fetch_id, fetch_offset, last_fetched_epoch };
                self.handle_fetch(now_ms, partition, leader_epoch, request)
            }
            Message::FetchResponse { fetch_id, partition, leader_epoch, result } => {
                self.handle_fetch_response(fetch_id, partition, leader_epoch, result)
            }
            Message::Produce { request_id, partition, key, value, acks } => {
                self.handle_produce(now_ms, from, request_id, partition, key, value, acks)
            }
            Message::BrokerRegistration { .. }
            | Message::BrokerHeartbeat { .. }
            | Message::AlterPartition { .. }
            | Message::ControlledShutdown { .. }
            | Message::Admin { .. }
            | Message::AdminResponse { .. }
            | Message::ProduceResponse { .. } => {
                debug_assert!(false, "broker {} got a message meant for another role", self.id)
            }
        }
    }

    pub fn handle_timer(&mut self, now_ms: u64, timer: Timer) {
        match timer {
            Timer::Heartbeat => {
                let message = match self.broker_epoch {
                    None => Message::BrokerRegistration { broker: self.id, incarnation: self.incarnation },
                    Some(broker_epoch) => Message::BrokerHeartbeat {
                        broker: self.id,
                        broker_epoch,
                        metadata_version: self.metadata_version,
                    },
                };
                self.send(NodeId::Controller, message);
                self.request_controlled_shutdown(); // again, if one is under way and unanswered
                self.set_timer(self.config.broker_heartbeat_interval_ms, Timer::Heartbeat);
            }
            Timer::IsrExpiration => {
                self.shrink_lagging_isrs(now_ms);
                self.set_timer(self.isr_expiration_interval_ms(), Timer::IsrExpiration);
            }
            Timer::FetchWaitExpired { partition, follower, fetch_id } => self
                .answer_parked_fetch(&partition, |parked| {
                    parked.request.fetch_id == fetch_id && parked.request.follower == follower
                }),
            Timer::FetchBackoffOver { partition, leader_epoch } => {
                let retry = matches!(
                    self.replicas.get(&partition).map(|r| &r.role),
                    Some(Role::Follower(f)) if f.leader_epoch == leader_epoch && f.fetch_in_flight.is_none()
                );
                if retry {
                    self.send_fetch(&partition);
                }
            }
            Timer::FetchTimeout { partition, leader_epoch, fetch_id } => {
                let unanswered = matches!(
                    self.replicas.get(&partition).map(|r| &r.role),
                    Some(Role::Follower(f)) if f.leader_epoch == leader_epoch && f.fetch_in_flight == Some(fetch_id)
                );
                if unanswered {
                    self.send_fetch(&partition);
                }
            }
            Timer::AlterPartitionTimeout { partition, partition_epoch } => {
                // No answer: ask again, keeping the maximal ISR until one comes.
                let retry = match self.replicas.get(&partition) {
                    Some(Replica { role: Role::Leader(l), .. }) if l.partition_epoch == partition_epoch => {
                        l.pending_isr.clone()
                    }
                    _ => None,
                };
                if let Some(isr) = retry {
                    self.request_isr_change(&partition, self.id, isr);
                }
            }
            Timer::SessionExpiration | Timer::RequestTimeout { .. } | Timer::LeaderImbalanceCheck => {
                debug_assert!(false, "a timer of another node sent to a broker")
            }
        }
    }

    /// Kafka runs its ISR expiration task every half `replica.lag.time.max.ms`.
    fn isr_expiration_interval_ms(&self) -> u64 {
        (self.config.replica_lag_time_max_ms / 2).max(1)
    }

    fn send(&mut self, to: NodeId, message: Message) {
        self.outputs.push(Output::Send { to, message });
    }

    fn set_timer(&mut self, after_ms: u64, timer: Timer) {
        self.outputs.push(Output::SetTimer { after_ms, timer });
    }

    fn trace(&mut self, event: TraceEvent) {
        self.outputs.push(Output::Trace(event));
    }

    // ---- metadata -------------------------------------------------------------------------

    fn apply_partition_state(&mut self, now_ms: u64, state: PartitionState) {
        if !state.replicas.contains(&self.id) {
            return;
        }
        let partition = state.partition.clone();
        let known_epoch = self.metadata.get(&partition).map(|s| s.partition_epoch);
        if known_epoch.is_some_and(|known| state.partition_epoch <= known) {
            return; // nothing new for this partition
        }
        self.metadata.insert(partition.clone(), state.clone());
        self.replicas
            .entry(partition.clone())
            .or_insert_with(|| Replica { log: PartitionLog::new(), role: Role::Follower(Following::nobody()) });

        let current_epoch = self.replicas[&partition].leader_epoch();
        let was_leader = self.replicas[&partition].is_leader();
        if state.leader == Some(self.id) {
            if was_leader && current_epoch == state.leader_epoch {
                self.update_leader_isr(now_ms, &partition, state);
            } else {
                self.become_leader(now_ms, state);
            }
        } else {
            let same_leader = matches!(
                &self.replicas[&partition].role,
                Role::Follower(f) if f.leader == state.leader && f.leader_epoch == state.leader_epoch
            );
            if !same_leader {
                self.become_follower(state);
            }
        }
    }

    fn become_leader(&mut self, now_ms: u64, state: PartitionState) {
        let id = self.id;
        let replica = self.replicas.get_mut(&state.partition).expect("replica created before role change");
        let abandoned = Self::abandon_leadership(replica);
        replica.log.assign_epoch_start(state.leader_epoch);
        let log_end = replica.log.log_end_offset();
        let followers = state
            .replicas
            .iter()
            .filter(|&&b| b != id)
            .map(|&b| {
                (
                    b,
                    FollowerProgress {
                        log_end: None,
                        last_caught_up_ms: now_ms,
                        last_fetch_ms: now_ms,
                        last_fetch_leader_log_end: log_end,
                    },
                )
            })
            .collect();
        replica.role = Role::Leader(Leadership {
            leader_epoch: state.leader_epoch,
            partition_epoch: state.partition_epoch,
            replicas: state.replicas.clone(),
            isr: state.isr.clone(),
            followers,
            parked_fetches: Vec::new(),
            pending_acks: Vec::new(),
            pending_isr: None,
        });
        self.fail_abandoned(&state.partition, abandoned);
        self.trace(TraceEvent::BecameLeader {
            broker: id,
            partition: state.partition.clone(),
            leader_epoch: state.leader_epoch,
        });
        self.advance_high_watermark(&state.partition);
    }

    fn update_leader_isr(&mut self, now_ms: u64, partition: &TopicPartition, state: PartitionState) {
        let Some(Replica { role: Role::Leader(leadership), .. }) = self.replicas.get_mut(partition) else {
            unreachable!("caller checked the role")
        };
        for broker in &state.isr {
            // A follower just admitted to the ISR starts its lag clock now.
            if !leadership.isr.contains(broker) {
                if let Some(progress) = leadership.followers.get_mut(broker) {
                    progress.last_caught_up_ms = progress.last_caught_up_ms.max(now_ms);
                }
            }
        }
        leadership.isr = state.isr;
        leadership.partition_epoch = state.partition_epoch;
        leadership.pending_isr = None;
        self.advance_high_watermark(partition);
    }

    /// The controller's answer to an ISR change carries the partition's state as it stands:
    /// the leader takes it, accepted or not, and stops waiting.
    fn handle_alter_partition_response(&mut self, now_ms: u64, state: PartitionState) {
        let partition = state.partition.clone();
        let Some(Replica { role: Role::Leader(leadership), .. }) = self.replicas.get_mut(&partition) else {
            return;
        };
        if state.leader != Some(self.id) || state.leader_epoch != leadership.leader_epoch {
            return; // leadership has moved on; the metadata will say so
        }
        if state.partition_epoch <= leadership.partition_epoch {
            leadership.pending_isr = None;
            self.advance_high_watermark(&partition);
            return;
        }
        self.metadata.insert(partition.clone(), state.clone());
        self.update_leader_isr(now_ms, &partition, state);
    }

    fn become_follower(&mut self, state: PartitionState) {
        let replica = self.replicas.get_mut(&state.partition).expect("replica created before role change");
        let abandoned = Self::abandon_leadership(replica);
        replica.role =
            Role::Follower(Following { leader: state.leader, leader_epoch: state.leader_epoch, fetch_in_flight: None });
        self.fail_abandoned(&state.partition, abandoned);
        self.trace(TraceEvent::BecameFollower {
            broker: self.id,
            partition: state.partition.clone(),
            leader: state.leader,
            leader_epoch: state.leader_epoch,
        });
        if state.leader.is_some() {
            self.send_fetch(&state.partition);
        }
    }

    /// Takes what a leader still owed its clients and followers when it stops leading.
    fn abandon_leadership(replica: &mut Replica) -> Option<(LeaderEpoch, Leadership)> {
        match &mut replica.role {
            Role::Leader(leadership) => Some((leadership.leader_epoch, leadership.clone())),
            Role::Follower(_) => None,
        }
    }

    fn fail_abandoned(&mut self, partition: &TopicPartition, abandoned: Option<(LeaderEpoch, Leadership)>) {
        let Some((leader_epoch, leadership)) = abandoned else {
            return;
        };
        for ack in leadership.pending_acks {
            self.send(
                ack.from,
                Message::ProduceResponse {
                    request_id: ack.request_id,
                    partition: partition.clone(),
                    result: Err(ErrorCode::NotLeaderOrFollower),
                },
            );
        }
        for parked in leadership.parked_fetches {
            self.send(
                NodeId::Broker(parked.request.follower),
                Message::FetchResponse {
                    fetch_id: parked.request.fetch_id,
                    partition: partition.clone(),
                    leader_epoch,
                    result: Err(ErrorCode::NotLeaderOrFollower),
                },
            );
        }
    }

    // ---- leader side ----------------------------------------------------------------------

    fn handle_fetch(
        &mut self,
        now_ms: u64,
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
        request: FetchRequest,
    ) {
        let check = match self.replicas.get(&partition) {
            None => Err(ErrorCode::UnknownTopicOrPartition),
            Some(Replica { role: Role::Follower(_), .. }) => Err(ErrorCode::NotLeaderOrFollower),
            Some(Replica { role: Role::Leader(l), .. }) if leader_epoch < l.leader_epoch => {
                Err(ErrorCode::FencedLeaderEpoch)
            }
            Some(Replica { role: Role::Leader(l), .. }) if leader_epoch > l.leader_epoch => {
                Err(ErrorCode::UnknownLeaderEpoch)
            }
            Some(_) => Ok(()),
        };
        let (follower, fetch_id) = (request.follower, request.fetch_id);
        if let Err(error) = check {
            let message = Message::FetchResponse { fetch_id, partition, leader_epoch, result: Err(error) };
            self.send(NodeId::Broker(follower), message);
            return;
        }

        if let Some(diverging) = self.find_divergence(&partition, request.fetch_offset, request.last_fetched_epoch) {
            let log = &self.replicas[&partition].log;
            let data = FetchData {
                records: Vec::new(),
                high_watermark: log.high_watermark(),
                diverging_epoch: Some(diverging),
            };
            let message = Message::FetchResponse { fetch_id, partition, leader_epoch, result: Ok(data) };
            self.send(NodeId::Broker(follower), message);
            return;
        }

        self.record_follower_fetch(now_ms, &partition, follower, request.fetch_offset);
        self.maybe_expand_isr(&partition, follower, request.fetch_offset);
        self.advance_high_watermark(&partition);

        if request.fetch_offset < self.replicas[&partition].log.log_end_offset() {
            self.respond_fetch(&partition, &request);
            return;
        }
        let replica = self.replicas.get_mut(&partition).expect("checked above");
        let Role::Leader(leadership) = &mut replica.role else { unreachable!("checked above") };
        leadership.parked_fetches.retain(|p| p.request.follower != follower);
        leadership.parked_fetches.push(ParkedFetch { request });
        let wait = self.config.replica_fetch_wait_max_ms;
        self.set_timer(wait, Timer::FetchWaitExpired { partition, follower, fetch_id });
    }

    /// Where a follower's log stops agreeing with this leader's, if it does: the leader's
    /// largest epoch at or below the follower's last one, and where that epoch ends here.
    fn find_divergence(
        &self,
        partition: &TopicPartition,
        fetch_offset: Offset,
        last_fetched_epoch: Option<LeaderEpoch>,
    ) -> Option<(LeaderEpoch, Offset)> {
        let log = &self.replicas[partition].log;
        let last_epoch = last_fetched_epoch?;
        match log.end_offset_for_epoch(last_epoch) {
            Some((epoch, end)) if epoch == last_epoch && fetch_offset <= end => None,
            Some((epoch, end)) => Some((epoch, end)),
            None => Some((LeaderEpoch(-1), log.log_start_offset())),
        }
    }

    /// Kafka's `Replica.updateFetchStateOrThrow`: a follower is caught up at the time of a fetch
    /// that reached the leader's log end, or at the previous fetch's time if this one reached
    /// what the log end was then.
    fn record_follower_fetch(
        &mut self,
        now_ms: u64,
        partition: &TopicPartition,
        follower: BrokerId,
        fetch_offset: Offset,
    ) {
        let replica = self.replicas.get_mut(partition).expect("leader holds the partition");
        let leader_log_end = replica.log.log_end_offset();
        let Role::Leader(leadership) = &mut replica.role else {
            return;
        };
        let Some(progress) = leadership.followers.get_mut(&follower) else {
            return;
        };
        progress.log_end = Some(fetch_offset);
        if fetch_offset >= leader_log_end {
            progress.last_caught_up_ms = now_ms;
        } else if fetch_offset >= progress.last_fetch_leader_log_end {
            progress.last_caught_up_ms = progress.last_fetch_ms;
        }
        progress.last_fetch_leader_log_end = leader_log_end;
        progress.last_fetch_ms = now_ms;
    }

    /// Kafka adds a follower back to the ISR once its log end reaches the high watermark and the
    /// start of the current leader epoch (`Partition.isFollowerInSync`).
    fn maybe_expand_isr(&mut self, partition: &TopicPartition, follower: BrokerId, fetch_offset: Offset) {
        let id = self.id;
        let replica = &self.replicas[partition];
        let Role::Leader(leadership) = &replica.role else {
            return;
        };
        if leadership.isr.contains(&follower) || leadership.pending_isr.is_some() {
            return;
        }
        let epoch_start = replica
            .log
            .end_offset_for_epoch(LeaderEpoch(leadership.leader_epoch.0 - 1))
            .map_or(replica.log.log_start_offset(), |(_, end)| end);
        if fetch_offset < replica.log.high_watermark() || fetch_offset < epoch_start {
            return;
        }
        let isr: Vec<BrokerId> =
            leadership.replicas.iter().copied().filter(|b| leadership.isr.contains(b) || *b == follower).collect();
        self.request_isr_change(partition, id, isr);
    }

    fn shrink_lagging_isrs(&mut self, now_ms: u64) {
        let lag_max = self.config.replica_lag_time_max_ms;
        let mut changes = Vec::new();
        for (partition, replica) in &self.replicas {
            let Role::Leader(leadership) = &replica.role else {
                continue;
            };
            if leadership.pending_isr.is_some() {
                continue;
            }
            let lagging = |b: &BrokerId| {
                leadership.followers.get(b).is_some_and(|p| now_ms.saturating_sub(p.last_caught_up_ms) > lag_max)
            };
            if leadership.isr.iter().any(lagging) {
                let isr = leadership.isr.iter().copied().filter(|b| !lagging(b)).collect();
                changes.push((partition.clone(), isr));
            }
        }
        for (partition, isr) in changes {
            self.request_isr_change(&partition, self.id, isr);
        }
    }

    fn request_isr_change(&mut self, partition: &TopicPartition, leader: BrokerId, isr: Vec<BrokerId>) {
        let Some(Replica { role: Role::Leader(leadership), .. }) = self.replicas.get_mut(partition) else {
            return;
        };
        leadership.pending_isr = Some(isr.clone());
        let message = Message::AlterPartition {
            leader,
            partition: partition.clone(),
            leader_epoch: leadership.leader_epoch,
            partition_epoch: leadership.partition_epoch,
            isr,
        };
        let partition_epoch = leadership.partition_epoch;
        self.send(NodeId::Controller, message);
        let timeout = self.config.request_timeout_ms;
        self.set_timer(timeout, Timer::AlterPartitionTimeout { partition: partition.clone(), partition_epoch });
    }

    /// HW = the smallest log end offset among the in-sync replicas; it never moves back on a
    /// leader. Completes the `acks=all` writes it now covers.
    fn advance_high_watermark(&mut self, partition: &TopicPartition) {
        let id = self.id;
        let min_insync = self.settings.min_insync_replicas as usize;
        let replica = self.replicas.get_mut(partition).expect("leader holds the partition");
        let Role::Leader(leadership) = &mut replica.role else {
            return;
        };
        let mut candidate = replica.log.log_end_offset();
        let pending = leadership.pending_isr.iter().flatten();
        let maximal_isr: alloc::collections::BTreeSet<BrokerId> =
            leadership.isr.iter().chain(pending).copied().collect();
        for broker in maximal_isr.iter().filter(|&&b| b != id) {
            match leadership.followers.get(broker).and_then(|p| p.log_end) {
                Some(log_end) => candidate = candidate.min(log_end),
                None => return, // an in-sync follower we have not heard from yet
            }
        }
        let old = replica.log.high_watermark();
        if candidate <= old {
            return;
        }
        replica.log.set_high_watermark(candidate);
        let isr_size = leadership.isr.len();
        let (done, waiting): (Vec<_>, Vec<_>) = leadership.pending_acks.drain(..).partition(|a| a.offset < candidate);
        leadership.pending_acks = waiting;
        self.trace(TraceEvent::HighWatermark { broker: id, partition: partition.clone(), high_watermark: candidate });
        for ack in done {
            let result =
                if isr_size < min_insync { Err(ErrorCode::NotEnoughReplicasAfterAppend) } else { Ok(ack.offset) };
            self.send(
                ack.from,
                Message::ProduceResponse { request_id: ack.request_id, partition: partition.clone(), result },
            );
        }
    }

    fn respond_fetch(&mut self, partition: &TopicPartition, request: &FetchRequest) {
        let replica = &self.replicas[partition];
        let data = FetchData {
            records: replica.log.read_from(request.fetch_offset, MAX_FETCH_RECORDS),
            high_watermark: replica.log.high_watermark(),
            diverging_epoch: None,
        };
        let leader_epoch = replica.leader_epoch();
        let fetch_id = request.fetch_id;
        let message = Message::FetchResponse { fetch_id, partition: partition.clone(), leader_epoch, result: Ok(data) };
        self.send(NodeId::Broker(request.follower), message);
    }

    fn answer_parked_fetch(&mut self, partition: &TopicPartition, which: impl Fn(&ParkedFetch) -> bool) {
        let Some(Replica { role: Role::Leader(leadership), .. }) = self.replicas.get_mut(partition) else {
            return;
        };
        let (answer, keep): (Vec<_>, Vec<_>) = leadership.parked_fetches.drain(..).partition(|p| which(p));
        leadership.parked_fetches = keep;
        for parked in answer {
            self.respond_fetch(partition, &parked.request);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn handle_produce(
        &mut self,
        now_ms: u64,
        from: NodeId,
        request_id: u64,
        partition: TopicPartition,
        key: Option<Vec<u8>>,
        value: Option<Vec<u8>>,
        acks: Acks,
    ) {
        let min_insync = self.settings.min_insync_replicas as usize;
        let check = match self.replicas.get(&partition) {
            None => Err(ErrorCode::UnknownTopicOrPartition),
            Some(Replica { role: Role::Follower(_), .. }) => Err(ErrorCode::NotLeaderOrFollower),
            Some(Replica { role: Role::Leader(l), .. }) if acks == Acks::All && l.isr.len() < min_insync => {
                Err(ErrorCode::NotEnoughReplicas)
            }
            Some(_) => Ok(()),
        };
        if let Err(error) = check {
            if acks != Acks::None {
                self.send(from, Message::ProduceResponse { request_id, partition, result: Err(error) });
            }
            return;
        }
        let replica = self.replicas.get_mut(&partition).expect("checked above");
        let Role::Leader(leadership) = &mut replica.role else { unreachable!("checked above") };
        let offset = replica.log.append_as_leader(leadership.leader_epoch, now_ms, key, value);
        match acks {
            Acks::None => {}
            Acks::Leader => self
                .send(from, Message::ProduceResponse { request_id, partition: partition.clone(), result: Ok(offset) }),
            Acks::All => leadership.pending_acks.push(PendingAck { request_id, from, offset }),
        }
        self.trace(TraceEvent::Appended { broker: self.id, partition: partition.clone(), offset });
        self.answer_parked_fetch(&partition, |_| true);
        self.advance_high_watermark(&partition);
    }

    // ---- follower side --------------------------------------------------------------------

    fn send_fetch(&mut self, partition: &TopicPartition) {
        let id = self.id;
        let replica = self.replicas.get_mut(partition).expect("follower holds the partition");
        let Role::Follower(following) = &mut replica.role else {
            return;
        };
        let Some(leader) = following.leader else {
            return;
        };
        let fetch_id = self.next_fetch_id;
        self.next_fetch_id += 1;
        following.fetch_in_flight = Some(fetch_id);
        let leader_epoch = following.leader_epoch;
        let message = Message::Fetch {
            follower: id,
            fetch_id,
            partition: partition.clone(),
            leader_epoch: following.leader_epoch,
            fetch_offset: replica.log.log_end_offset(),
            last_fetched_epoch: replica.log.last_epoch(),
        };
        self.send(NodeId::Broker(leader), message);
        let timeout = self.config.replica_socket_timeout_ms;
        self.set_timer(timeout, Timer::FetchTimeout { partition: partition.clone(), leader_epoch, fetch_id });
    }

    fn handle_fetch_response(
        &mut self,
        fetch_id: u64,
        partition: TopicPartition,
        leader_epoch: LeaderEpoch,
        result: Result<FetchData, ErrorCode>,
    ) {
        let id = self.id;
        let Some(replica) = self.replicas.get_mut(&partition) else {
            return;
        };
        let Role::Follower(following) = &mut replica.role else {
            return;
        };
        if following.leader_epoch != leader_epoch || following.fetch_in_flight != Some(fetch_id) {
            return; // an answer to an earlier fetch, or to a fetch from an earlier leader
        }
        following.fetch_in_flight = None;
        let data = match result {
            Ok(data) => data,
            Err(_) => {
                let backoff = self.config.replica_fetch_backoff_ms;
                self.set_timer(backoff, Timer::FetchBackoffOver { partition, leader_epoch });
                return;
            }
        };
        if let Some((epoch, leader_end)) = data.diverging_epoch {
            let own_end =
                replica.log.end_offset_for_epoch(epoch).map_or(replica.log.log_start_offset(), |(_, end)| end);
            let to = leader_end.min(own_end).min(replica.log.log_end_offset());
            replica.log.truncate_to(to);
            self.trace(TraceEvent::Truncated { broker: id, partition: partition.clone(), to });
            self.send_fetch(&partition);
            return;
        }
        let from = replica.log.log_end_offset();
        if data.records.first().is_some_and(|r| r.offset != from) {
            self.send_fetch(&partition);
            return;
        }
        replica.log.append_as_follower(&data.records);
        let to = replica.log.log_end_offset();
        let high_watermark = data.high_watermark.min(to);
        let hw_moved = high_watermark != replica.log.high_watermark();
        replica.log.set_high_watermark(high_watermark);
        if to > from {
            self.trace(TraceEvent::Replicated { broker: id, partition: partition.clone(), from, to });
        }
        if hw_moved {
            self.trace(TraceEvent::HighWatermark { broker: id, partition: partition.clone(), high_watermark });
        }
        self.send_fetch(&partition);
    }
}
