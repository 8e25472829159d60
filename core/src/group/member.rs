//! One member of a group, as the coordinator knows it: who it is, what protocols it speaks, its
//! timeouts, its assignment, when it was last heard from, and the JoinGroup or SyncGroup request
//! it is waiting on, if any.

use alloc::sync::Arc;
use alloc::vec::Vec;
use bytes::Bytes;

use super::protocol::{InstanceId, MemberId, Protocol};
use crate::message::NodeId;

/// A request held until the group can answer it (a JoinGroup during the join phase, a
/// SyncGroup until the leader's assignment is stored).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Waiter {
    pub(crate) to: NodeId,
    pub(crate) request_id: u64,
}

/// A member of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Member {
    pub member_id: MemberId,
    /// Set for a static member (KIP-345).
    pub group_instance_id: Option<InstanceId>,
    pub client_id: Arc<str>,
    pub client_host: Arc<str>,
    pub protocol_type: Arc<str>,
    /// The protocols it speaks, most preferred first.
    pub protocols: Vec<Protocol>,
    pub rebalance_timeout_ms: u64,
    pub session_timeout_ms: u64,
    /// Its part of the current generation's assignment (empty until stored).
    pub assignment: Bytes,
    /// The last JoinGroup, SyncGroup, Heartbeat or OffsetCommit from it.
    pub last_heard_ms: u64,
    pub(crate) awaiting_join: Option<Waiter>,
    pub(crate) awaiting_sync: Option<Waiter>,
}

impl Member {
    /// Whether it has joined in the current join phase (its JoinGroup is held).
    pub fn is_awaiting_join(&self) -> bool {
        self.awaiting_join.is_some()
    }

    /// When its session runs out unless it is heard from.
    pub fn session_deadline_ms(&self) -> u64 {
        self.last_heard_ms.saturating_add(self.session_timeout_ms)
    }

    /// The metadata it sent for `protocol` (empty if it does not speak it).
    pub fn metadata_for(&self, protocol: &str) -> Bytes {
        self.protocols.iter().find(|p| p.name.as_ref() == protocol).map(|p| p.metadata.clone()).unwrap_or_default()
    }

    /// Whether it speaks `protocol`.
    pub fn supports(&self, protocol: &str) -> bool {
        self.protocols.iter().any(|p| p.name.as_ref() == protocol)
    }

    /// Whether a JoinGroup with these protocols changes nothing (same names, order and metadata).
    pub fn matches(&self, protocols: &[Protocol]) -> bool {
        self.protocols == protocols
    }

    /// Its vote among the protocols every member speaks: the first of its own it finds there.
    pub fn vote<'a>(&'a self, candidates: &[&str]) -> Option<&'a Arc<str>> {
        self.protocols.iter().map(|p| &p.name).find(|name| candidates.contains(&name.as_ref()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(protocols: &[&str]) -> Member {
        Member {
            member_id: "m".into(),
            group_instance_id: None,
            client_id: "".into(),
            client_host: "".into(),
            protocol_type: "consumer".into(),
            protocols: protocols.iter().map(|name| Protocol { name: (*name).into(), metadata: Bytes::new() }).collect(),
            rebalance_timeout_ms: 1,
            session_timeout_ms: 10,
            assignment: Bytes::new(),
            last_heard_ms: 5,
            awaiting_join: None,
            awaiting_sync: None,
        }
    }

    #[test]
    fn a_member_votes_for_its_most_preferred_common_protocol() {
        let member = member(&["sticky", "range", "roundrobin"]);
        assert_eq!(member.vote(&["roundrobin", "range"]).map(|n| n.as_ref()), Some("range"));
        assert_eq!(member.vote(&["cooperative"]), None);
        assert_eq!(member.session_deadline_ms(), 15);
        assert!(member.matches(&[
            Protocol { name: "sticky".into(), metadata: Bytes::new() },
            Protocol { name: "range".into(), metadata: Bytes::new() },
            Protocol { name: "roundrobin".into(), metadata: Bytes::new() },
        ]));
    }
}
