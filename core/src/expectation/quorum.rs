//! Expectations about the KRaft controller quorum and its metadata log, in Kafka's words:
//!
//! ```text
//! role c2 == leader                     a controller's Raft role: leader, follower, candidate,
//!                                       prospective, unattached or resigned
//! controller-epoch >= 2                 the active controller's epoch (Raft's term), or none
//!                                       while no controller is active
//! controller-epoch on c3 == 2           the epoch controller c3 knows
//! metadata RegisterBrokerRecord >= 3    how many records of this type the committed metadata
//!                                       log holds
//! metadata FenceBrokerRecord on c1 == 1 ... that controller c1's log holds, committed or not
//! ```
//!
//! Record types keep KRaft's names (`RegisterBrokerRecord`, `FenceBrokerRecord`,
//! `UnfenceBrokerRecord`, `TopicRecord`, `PartitionRecord`, `PartitionChangeRecord`,
//! `ConfigRecord`, `ProducerIdsRecord`, and the control record `LeaderChangeMessage` that opens
//! each epoch); the `Record` ending may be left out. The committed log is the longest committed
//! prefix any controller holds: committed entries never change, so it is the cluster's truth
//! even while no controller is active.

use serde::{Deserialize, Serialize};

use crate::ids::ControllerId;
use crate::raft::Role;
use crate::view::{ClusterView, ControllerView};

/// The types of record in the metadata log, by KRaft's names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum MetadataRecordType {
    RegisterBroker,
    FenceBroker,
    UnfenceBroker,
    Topic,
    Partition,
    PartitionChange,
    Config,
    ProducerIds,
    /// The control record a new leader appends to open its epoch.
    LeaderChange,
}

impl MetadataRecordType {
    pub const ALL: [MetadataRecordType; 9] = [
        MetadataRecordType::RegisterBroker,
        MetadataRecordType::FenceBroker,
        MetadataRecordType::UnfenceBroker,
        MetadataRecordType::Topic,
        MetadataRecordType::Partition,
        MetadataRecordType::PartitionChange,
        MetadataRecordType::Config,
        MetadataRecordType::ProducerIds,
        MetadataRecordType::LeaderChange,
    ];

    /// KRaft's name for it.
    pub fn name(self) -> &'static str {
        match self {
            MetadataRecordType::RegisterBroker => "RegisterBrokerRecord",
            MetadataRecordType::FenceBroker => "FenceBrokerRecord",
            MetadataRecordType::UnfenceBroker => "UnfenceBrokerRecord",
            MetadataRecordType::Topic => "TopicRecord",
            MetadataRecordType::Partition => "PartitionRecord",
            MetadataRecordType::PartitionChange => "PartitionChangeRecord",
            MetadataRecordType::Config => "ConfigRecord",
            MetadataRecordType::ProducerIds => "ProducerIdsRecord",
            MetadataRecordType::LeaderChange => "LeaderChangeMessage",
        }
    }

    /// The type named `text` (any case, with or without KRaft's `Record` or `Message` ending).
    pub fn from_name(text: &str) -> Option<MetadataRecordType> {
        MetadataRecordType::ALL.into_iter().find(|kind| {
            let full = kind.name();
            let short = full.strip_suffix("Record").or_else(|| full.strip_suffix("Message")).unwrap_or(full);
            full.eq_ignore_ascii_case(text) || short.eq_ignore_ascii_case(text)
        })
    }

    /// The type of a record as the view writes it (`RegisterBroker 1 epoch 7`, `TopicConfig
    /// users ...`, `LeaderChange leader 2`): its first word. A topic's settings are a
    /// `ConfigRecord` for a topic resource in KRaft.
    fn of_view_text(text: &str) -> Option<MetadataRecordType> {
        match text.split_whitespace().next()? {
            "TopicConfig" => Some(MetadataRecordType::Config),
            word => MetadataRecordType::from_name(word),
        }
    }
}

/// Every Raft role, by the names KRaft's quorum state uses.
pub(super) const ROLES: [Role; 6] =
    [Role::Leader, Role::Follower, Role::Candidate, Role::Prospective, Role::Unattached, Role::Resigned];

/// The role `controller` holds (as it was when it died, if it is dead).
pub(super) fn role(view: &ClusterView, controller: ControllerId) -> Option<Role> {
    view.controller(controller).map(|c| c.role)
}

/// The epoch `on` knows, or the active controller's when no controller is named.
pub(super) fn epoch(view: &ClusterView, on: Option<ControllerId>) -> Option<i64> {
    let controller = on.or(view.active_controller)?;
    view.controller(controller).map(|c| i64::try_from(c.epoch.0).unwrap_or(i64::MAX))
}

/// How many records of `kind` the committed metadata log holds, or `on`'s log, committed or
/// not.
pub(super) fn records(view: &ClusterView, kind: MetadataRecordType, on: Option<ControllerId>) -> Option<i64> {
    let count = |controller: &ControllerView, committed_only: bool| {
        let n = controller
            .entries
            .iter()
            .filter(|entry| entry.committed || !committed_only)
            .flat_map(|entry| entry.records.iter())
            .filter(|record| MetadataRecordType::of_view_text(record) == Some(kind))
            .count();
        i64::try_from(n).unwrap_or(i64::MAX)
    };
    match on {
        Some(id) => view.controller(id).map(|controller| count(controller, false)),
        None => view.controllers.iter().max_by_key(|c| c.high_watermark).map(|controller| count(controller, true)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ControllerLayout;
    use crate::expectation::Expectation;
    use crate::ids::Offset;
    use crate::raft::Epoch;
    use crate::view::MetadataEntryView;
    use alloc::string::{String, ToString};
    use alloc::vec;
    use alloc::vec::Vec;

    fn entry(offset: i64, epoch: u64, records: &[&str], committed: bool) -> MetadataEntryView {
        MetadataEntryView {
            offset: Offset(offset),
            epoch: Epoch(epoch),
            records: records.iter().map(ToString::to_string).collect(),
            committed,
        }
    }

    fn controller(id: i32, role: Role, epoch: u64, entries: Vec<MetadataEntryView>) -> ControllerView {
        let committed = entries.iter().filter(|e| e.committed).count() as i64;
        ControllerView {
            id: ControllerId(id),
            alive: true,
            role,
            epoch: Epoch(epoch),
            leader: Some(ControllerId(1)),
            log_end_offset: Offset(entries.len() as i64),
            high_watermark: Offset(committed),
            entries,
        }
    }

    /// c1 leads epoch 2 and holds an uncommitted fence; c2 has the committed part; c3 lags.
    fn quorum() -> ClusterView {
        let log = |upto: usize, committed: usize| -> Vec<MetadataEntryView> {
            let all = [
                entry(0, 1, &["LeaderChange leader 1"], true),
                entry(1, 1, &["RegisterBroker 1 epoch 1", "RegisterBroker 2 epoch 2"], true),
                entry(2, 1, &["TopicConfig users cleanup.policy=compact", "Topic users partitions 1"], true),
                entry(3, 2, &["LeaderChange leader 1"], true),
                entry(4, 2, &["FenceBroker 2"], false),
            ];
            all.into_iter().take(upto).enumerate().map(|(i, mut e)| (e.committed = i < committed, e).1).collect()
        };
        ClusterView {
            now_ms: 0,
            brokers: Vec::new(),
            partitions: Vec::new(),
            controllers: vec![
                controller(1, Role::Leader, 2, log(5, 4)),
                controller(2, Role::Follower, 2, log(4, 4)),
                controller(3, Role::Follower, 1, log(2, 2)),
            ],
            active_controller: Some(ControllerId(1)),
            controller_layout: ControllerLayout::Dedicated,
            groups: Vec::new(),
            clients: Vec::new(),
        }
    }

    fn holds(view: &ClusterView, line: &str) -> bool {
        Expectation::parse(line).unwrap_or_else(|e| panic!("{line}: {e}")).check(view).is_ok()
    }

    fn found(view: &ClusterView, line: &str) -> String {
        Expectation::parse(line).unwrap().check(view).unwrap_err().actual
    }

    #[test]
    fn a_controllers_role_reads_by_krafts_names_in_any_case() {
        let view = quorum();
        assert!(holds(&view, "role c1 == leader"));
        assert!(holds(&view, "role c2 == Follower"));
        assert!(holds(&view, "role 3 != leader"), "a bare number names a controller too");
        assert_eq!(found(&view, "role c2 == candidate"), "follower");
        assert_eq!(found(&view, "role c9 == leader"), "none");
    }

    #[test]
    fn the_controller_epoch_is_the_active_controllers_unless_one_is_named() {
        let mut view = quorum();
        assert!(holds(&view, "controller-epoch == 2"));
        assert!(holds(&view, "controller-epoch on c3 == 1"), "a lagging voter may know an older epoch");
        view.active_controller = None;
        assert_eq!(found(&view, "controller-epoch >= 1"), "none");
        assert!(holds(&view, "controller-epoch on c2 == 2"));
    }

    #[test]
    fn metadata_counts_committed_records_by_type_and_ignores_the_uncommitted_tail() {
        let view = quorum();
        assert!(holds(&view, "metadata RegisterBrokerRecord == 2"));
        assert!(holds(&view, "metadata RegisterBroker == 2"), "the Record ending may be left out");
        assert!(holds(&view, "metadata TopicRecord == 1"));
        assert!(holds(&view, "metadata ConfigRecord == 1"), "a topic's settings are a ConfigRecord");
        assert!(holds(&view, "metadata LeaderChangeMessage == 2"));
        assert_eq!(found(&view, "metadata FenceBrokerRecord == 1"), "0", "c1's fence is not committed yet");
    }

    #[test]
    fn metadata_on_a_controller_counts_its_whole_log() {
        let view = quorum();
        assert!(holds(&view, "metadata FenceBrokerRecord on c1 == 1"));
        assert!(holds(&view, "metadata RegisterBrokerRecord on c3 == 2"));
        assert!(holds(&view, "metadata TopicRecord on c3 == 0"), "c3 has not fetched the topic yet");
    }

    #[test]
    fn the_committed_log_survives_the_loss_of_every_active_controller() {
        let mut view = quorum();
        view.active_controller = None;
        view.controllers[0].alive = false;
        view.controllers[1].alive = false;
        assert!(holds(&view, "metadata TopicRecord == 1"));
    }

    #[test]
    fn quorum_expectations_print_as_they_parse() {
        for line in [
            "role c2 == leader",
            "controller-epoch >= 2",
            "controller-epoch on c3 == 1",
            "metadata RegisterBrokerRecord >= 3",
            "metadata FenceBrokerRecord on c1 == 1",
            "metadata LeaderChangeMessage > 1",
        ] {
            assert_eq!(Expectation::parse(line).unwrap().to_string(), line);
        }
        assert_eq!(Expectation::parse("metadata topic == 1").unwrap().to_string(), "metadata TopicRecord == 1");
        assert_eq!(Expectation::parse("role 2 == Leader").unwrap().to_string(), "role c2 == leader");
    }

    #[test]
    fn bad_quorum_expectations_say_what_and_where() {
        let cases = [
            ("role c2 == boss", 12, "is not a controller role: leader, follower"),
            ("role c2 > leader", 9, "only == and !="),
            ("role == leader", 6, "a controller"),
            ("metadata Broker == 1", 10, "is not a metadata record type"),
            ("metadata TopicRecord on x2 == 1", 25, "is not a controller"),
            ("controller-epoch on == 2", 21, "a controller"),
            ("role c2 == leader please", 19, "unexpected"),
        ];
        for (line, column, message) in cases {
            let error = Expectation::parse(line).unwrap_err();
            assert_eq!((error.column, error.message.contains(message)), (column, true), "{line}: {error}");
        }
    }
}
