//! The leader's side of replication: answering follower fetches (parking them while there is
//! nothing new), tracking each follower's progress, moving the high watermark, growing and
//! shrinking the ISR through the controller, and taking produced records.

use super::*;

impl Broker {
    /// How many in-sync replicas an `acks=all` write to `partition` needs: the topic's
    /// `min.insync.replicas` if it sets one, else the cluster's.
    pub(super) fn min_insync_replicas(&self, partition: &TopicPartition) -> usize {
        let topic = self.replicas.get(partition).and_then(|replica| replica.log.config().min_insync_replicas);
        topic.unwrap_or(self.settings.min_insync_replicas).max(1) as usize
    }

    pub(super) fn handle_fetch(
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
                batches: Vec::new(),
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
    pub(super) fn find_divergence(
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
    pub(super) fn record_follower_fetch(
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
    pub(super) fn maybe_expand_isr(&mut self, partition: &TopicPartition, follower: BrokerId, fetch_offset: Offset) {
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

    pub(super) fn shrink_lagging_isrs(&mut self, now_ms: u64) {
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

    pub(super) fn request_isr_change(&mut self, partition: &TopicPartition, leader: BrokerId, isr: Vec<BrokerId>) {
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
        let controller = self.controller();
        self.send(controller, message);
        let timeout = self.config.request_timeout_ms;
        self.set_timer(timeout, Timer::AlterPartitionTimeout { partition: partition.clone(), partition_epoch });
    }

    /// HW = the smallest log end offset among the in-sync replicas; it never moves back on a
    /// leader. Completes the `acks=all` writes it now covers.
    pub(super) fn advance_high_watermark(&mut self, partition: &TopicPartition) {
        let id = self.id;
        let min_insync = self.min_insync_replicas(partition);
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
        let (done, waiting): (Vec<_>, Vec<_>) =
            leadership.pending_acks.drain(..).partition(|a| a.last_offset < candidate);
        leadership.pending_acks = waiting;
        let (appended, waiting): (Vec<_>, Vec<_>) =
            leadership.coordinator_appends.drain(..).partition(|a| a.last_offset < candidate);
        leadership.coordinator_appends = waiting;
        self.trace(TraceEvent::HighWatermark { broker: id, partition: partition.clone(), high_watermark: candidate });
        self.note_coordinator_high_watermark(partition, candidate);
        for ack in done {
            let result =
                if isr_size < min_insync { Err(ErrorCode::NotEnoughReplicasAfterAppend) } else { Ok(ack.offset) };
            self.send(
                ack.from,
                Message::ProduceResponse { request_id: ack.request_id, partition: partition.clone(), result },
            );
        }
        for append in appended {
            self.finished_appends.push((append.owner, append.token, Ok(())));
        }
        // Consumers waiting below the new high watermark have records to read now.
        self.answer_readable_consumer_fetches(partition);
    }

    pub(super) fn respond_fetch(&mut self, partition: &TopicPartition, request: &FetchRequest) {
        let replica = &self.replicas[partition];
        let data = FetchData {
            batches: replica.log.read(request.fetch_offset, REPLICA_FETCH_MAX_BYTES),
            high_watermark: replica.log.high_watermark(),
            diverging_epoch: None,
        };
        let leader_epoch = replica.leader_epoch();
        let fetch_id = request.fetch_id;
        let message = Message::FetchResponse { fetch_id, partition: partition.clone(), leader_epoch, result: Ok(data) };
        self.send(NodeId::Broker(request.follower), message);
    }

    pub(super) fn answer_parked_fetch(&mut self, partition: &TopicPartition, which: impl Fn(&ParkedFetch) -> bool) {
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
    pub(super) fn handle_produce(
        &mut self,
        now_ms: u64,
        from: NodeId,
        request_id: u64,
        partition: TopicPartition,
        batch: RecordBatch,
        acks: Acks,
    ) {
        let min_insync = self.min_insync_replicas(&partition);
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
        let appended = match replica.log.append_from_producer(leadership.leader_epoch, now_ms, batch) {
            Ok(appended) => appended,
            Err(error) => {
                // The batch broke a rule of the log (Kafka's LogValidator): refuse, store nothing.
                if acks != Acks::None {
                    let result = Err(error.error_code());
                    self.send(from, Message::ProduceResponse { request_id, partition, result });
                }
                return;
            }
        };
        let (offset, last_offset) = (appended.first_offset, appended.last_offset);
        if appended.duplicate {
            // A producer's retry of a batch already written: Kafka answers with the original's
            // offsets and writes nothing, so nothing is traced and no fetch has news.
            let committed = last_offset < replica.log.high_watermark();
            let result = match leadership.isr.len() < min_insync {
                true => Err(ErrorCode::NotEnoughReplicasAfterAppend),
                false => Ok(offset),
            };
            match acks {
                Acks::None => {}
                Acks::Leader => self.send(from, Message::ProduceResponse { request_id, partition, result: Ok(offset) }),
                Acks::All if committed => self.send(from, Message::ProduceResponse { request_id, partition, result }),
                Acks::All => leadership.pending_acks.push(PendingAck { request_id, from, offset, last_offset }),
            }
            return;
        }
        match acks {
            Acks::None => {}
            Acks::Leader => self
                .send(from, Message::ProduceResponse { request_id, partition: partition.clone(), result: Ok(offset) }),
            Acks::All => leadership.pending_acks.push(PendingAck { request_id, from, offset, last_offset }),
        }
        self.trace(TraceEvent::Appended { broker: self.id, partition: partition.clone(), offset });
        self.answer_parked_fetch(&partition, |_| true);
        self.advance_high_watermark(&partition);
    }
}
