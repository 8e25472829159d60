//! The follower's side of replication: fetching from the leader, truncating a divergent tail
//! (KIP-101, KIP-320), appending what comes back and taking the leader's high watermark.

use super::*;

impl Broker {
    pub(super) fn send_fetch(&mut self, partition: &TopicPartition) {
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

    pub(super) fn handle_fetch_response(
        &mut self,
        now_ms: u64,
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
        if replica.log.append_as_follower(now_ms, &data.batches).is_err() {
            // Not where this log ends (an answer overtaken by a truncation): fetch again.
            self.send_fetch(&partition);
            return;
        }
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
