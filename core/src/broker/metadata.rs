//! How a broker follows the metadata: its observer of the metadata log hands it committed
//! batches, which it applies to its image and publishes (KRaft's metadata loader and
//! publishers); publishing takes up the leader or follower role the controller assigned, and
//! gives up what a deposed leader still owed its clients and followers.

use alloc::collections::BTreeSet;

use crate::metadata::LogOutput;
use crate::raft::{LogEntry, Payload};

use super::*;

impl Broker {
    /// Hands on what the metadata log produced; when it names a new active controller, sends
    /// that controller what is still unanswered (KRaft's controller channel does the same).
    pub(super) fn drain_metadata_log(&mut self, now_ms: u64) {
        for output in self.metadata_log.take_outputs(now_ms) {
            match output {
                LogOutput::Driver(output) => self.outputs.push(output),
                LogOutput::Committed(entries) => self.apply_committed(now_ms, entries),
                LogOutput::Event(_) => {} // an observer's comings and goings: the controllers' tell the story
            }
        }
        let leader = self.metadata_log.leader();
        if leader.is_some() && leader != self.known_controller {
            self.known_controller = leader;
            self.ask_new_controller();
            self.forward_to_new_controller(now_ms);
        }
    }

    fn ask_new_controller(&mut self) {
        if self.broker_epoch.is_none() {
            self.register();
        }
        self.request_controlled_shutdown();
        let pending: Vec<(TopicPartition, Vec<BrokerId>)> = self
            .replicas
            .iter()
            .filter_map(|(partition, replica)| match &replica.role {
                Role::Leader(leadership) => leadership.pending_isr.clone().map(|isr| (partition.clone(), isr)),
                Role::Follower(_) => None,
            })
            .collect();
        for (partition, isr) in pending {
            self.request_isr_change(&partition, self.id, isr);
        }
    }

    /// Applies committed batches to the image, then publishes what they changed. After a
    /// restart the first batches come once the log has learned the high watermark, all at once:
    /// only then does the broker take up roles again.
    fn apply_committed(&mut self, now_ms: u64, entries: Vec<LogEntry<MetadataBatch>>) {
        let mut touched = BTreeSet::new();
        let first_since_start = self.applied == Offset(0);
        for entry in entries {
            assert_eq!(entry.offset, self.applied, "committed entries come in offset order from 0");
            self.applied = entry.offset.next();
            let Payload::Data(batch) = entry.payload else { continue };
            touched.extend(batch.iter().filter_map(|record| record.partition().cloned()));
            self.image.apply_batch(&batch);
        }
        if first_since_start {
            // After a restart nothing is published yet: publish everything.
            touched.extend(self.image.partitions.keys().cloned());
        }
        self.settings = self.image.config.clone();
        self.apply_topic_configs(self.image.topic_configs.clone());
        self.topic_ids = self.image.topic_ids.clone();
        self.drop_stray_replicas(self.image.next_topic_id);
        for partition in touched {
            if let Some(state) = self.image.partition(&partition).cloned() {
                self.apply_partition_state(now_ms, state);
            }
        }
    }

    /// Publishes a whole image: takes up the settings and every role it assigns. (Tests use it
    /// to put a broker in a given state without a quorum.)
    pub fn apply_metadata(&mut self, now_ms: u64, image: &MetadataImage) {
        self.settings = image.config.clone();
        self.apply_topic_configs(image.topic_configs.clone());
        self.topic_ids = image.topic_ids.clone();
        self.drop_stray_replicas(image.next_topic_id);
        for state in image.partitions.values() {
            self.apply_partition_state(now_ms, state.clone());
        }
    }

    pub(super) fn apply_partition_state(&mut self, now_ms: u64, state: PartitionState) {
        if !state.replicas.contains(&self.id) {
            return;
        }
        let partition = state.partition.clone();
        let known_epoch = self.metadata.get(&partition).map(|s| s.partition_epoch);
        if known_epoch.is_some_and(|known| state.partition_epoch <= known) {
            return; // nothing new for this partition
        }
        self.metadata.insert(partition.clone(), state.clone());
        let config = self.topic_configs.get(&*partition.topic).cloned().unwrap_or_default();
        let topic_id = self.topic_ids.get(&*partition.topic).copied().unwrap_or(0);
        self.replicas.entry(partition.clone()).or_insert_with(|| Replica {
            log: PartitionLog::new(config),
            role: Role::Follower(Following::nobody()),
            topic_id,
        });

        let current_epoch = self.replicas[&partition].leader_epoch();
        let was_leader = self.replicas[&partition].is_leader();
        if state.leader == Some(self.id) {
            if was_leader && current_epoch == state.leader_epoch {
                self.update_leader_isr(now_ms, &partition, state);
            } else {
                self.become_leader(now_ms, state);
                self.coordinator_partition_led(now_ms, &partition, true);
            }
        } else {
            let same_leader = matches!(
                &self.replicas[&partition].role,
                Role::Follower(f) if f.leader == state.leader && f.leader_epoch == state.leader_epoch
            );
            if !same_leader {
                self.become_follower(state);
                if was_leader {
                    self.coordinator_partition_led(now_ms, &partition, false);
                }
            }
        }
    }

    /// Drops the replicas of deleted topics, log and all (KRaft brokers delete a removed
    /// topic's logs; a restarted one deletes the stray logs its metadata no longer names). A
    /// replica is stray once the log has passed its topic's creation (`next_topic_id` is above
    /// its id) and the topic under its name is gone or is a newer one. What a leader still owed
    /// its clients and followers is failed as when it loses leadership.
    fn drop_stray_replicas(&mut self, next_topic_id: u64) {
        for (partition, replica) in self.replicas.iter_mut() {
            if replica.topic_id == UNKNOWN_TOPIC_ID {
                if let Some(id) = self.topic_ids.get(&*partition.topic) {
                    replica.topic_id = *id;
                }
            }
        }
        let stray: Vec<TopicPartition> = self
            .replicas
            .iter()
            .filter(|(partition, replica)| {
                replica.topic_id < next_topic_id && self.topic_ids.get(&*partition.topic) != Some(&replica.topic_id)
            })
            .map(|(partition, _)| partition.clone())
            .collect();
        for partition in stray {
            let mut replica = self.replicas.remove(&partition).expect("listed above");
            self.metadata.remove(&partition);
            let abandoned = Self::abandon_leadership(&mut replica);
            self.fail_abandoned(&partition, abandoned);
            self.trace(TraceEvent::ReplicaDeleted { broker: self.id, partition });
        }
    }

    pub(super) fn become_leader(&mut self, now_ms: u64, state: PartitionState) {
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
            parked_consumer_fetches: Vec::new(),
            pending_acks: Vec::new(),
            coordinator_appends: Vec::new(),
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

    pub(super) fn update_leader_isr(&mut self, now_ms: u64, partition: &TopicPartition, state: PartitionState) {
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
    pub(super) fn handle_alter_partition_response(&mut self, now_ms: u64, state: PartitionState) {
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

    pub(super) fn become_follower(&mut self, state: PartitionState) {
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
    pub(super) fn abandon_leadership(replica: &mut Replica) -> Option<(LeaderEpoch, Leadership)> {
        match &mut replica.role {
            Role::Leader(leadership) => Some((leadership.leader_epoch, leadership.clone())),
            Role::Follower(_) => None,
        }
    }

    pub(super) fn fail_abandoned(&mut self, partition: &TopicPartition, abandoned: Option<(LeaderEpoch, Leadership)>) {
        // A held client fetch of a partition no longer led here is answered with that error.
        self.try_complete_delayed_fetches(partition);
        let Some((leader_epoch, leadership)) = abandoned else {
            return;
        };
        for append in leadership.coordinator_appends {
            let result = Err(ErrorCode::NotLeaderOrFollower);
            self.finished_appends.push((append.owner, append.token, result));
        }
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
        for parked in leadership.parked_consumer_fetches {
            let message = Message::ConsumerFetchResponse {
                fetch_id: parked.fetch_id,
                partition: partition.clone(),
                log_start_offset: Offset(0),
                result: Err(ErrorCode::NotLeaderOrFollower),
            };
            self.send(parked.from, message);
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
}
