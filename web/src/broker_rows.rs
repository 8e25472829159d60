//! The brokers table: per broker, its state, how many partitions it leads and follows, how
//! many of its replicas are out of the ISR, how many of the partitions it leads are
//! under-replicated, and the command lines its buttons run (kill or restart, shut down).
//!
//! Everything is read from the core's [`ClusterView`]; the counts are of what the view says.

use kafkalab_core::view::{BrokerStatus, BrokerView, ClusterView};

use crate::panels::is_internal_topic;

/// What the page calls a broker's state: `alive`, `fenced`, `dead`, or `shutting down` while
/// a controlled shutdown moves its leaderships away.
pub fn broker_state(broker: &BrokerView) -> &'static str {
    match broker.status {
        BrokerStatus::Alive | BrokerStatus::Fenced if broker.shutting_down => "shutting down",
        BrokerStatus::Alive => "alive",
        BrokerStatus::Fenced => "fenced",
        BrokerStatus::Dead => "dead",
    }
}

/// One row of the brokers table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerRow {
    pub id: i32,
    pub state: &'static str,
    /// Partitions the metadata names it leader of.
    pub leaders: usize,
    /// Replicas it holds (leaders included).
    pub replicas: usize,
    /// Its replicas the ISR leaves out.
    pub out_of_isr: usize,
    /// Partitions it leads whose ISR is smaller than their replica set.
    pub under_replicated: usize,
    /// Its buttons: a label and the command line each runs.
    pub actions: Vec<(&'static str, String)>,
}

/// A row per broker, in id order. Internal topics count only when `show_internal`.
pub fn broker_rows(view: &ClusterView, show_internal: bool) -> Vec<BrokerRow> {
    view.brokers
        .iter()
        .map(|broker| {
            let id = broker.id;
            let shown = || {
                view.replicas_on(id)
                    .filter(|(partition, _)| show_internal || !is_internal_topic(&partition.partition.topic))
            };
            let led = || shown().filter(|(partition, _)| partition.leader == Some(id));
            let state = broker_state(broker);
            let mut actions = Vec::new();
            if broker.status == BrokerStatus::Dead {
                actions.push(("Restart", format!("restart {id}")));
            } else {
                actions.push(("Kill", format!("kill {id}")));
                if !broker.shutting_down {
                    actions.push(("Shut down", format!("shutdown {id}")));
                }
            }
            BrokerRow {
                id: id.0,
                state,
                leaders: led().count(),
                replicas: shown().count(),
                out_of_isr: shown().filter(|(_, replica)| !replica.in_isr).count(),
                under_replicated: led().filter(|(partition, _)| partition.is_under_replicated()).count(),
                actions,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lab::Lab;

    fn row(lab: &Lab, id: i32) -> BrokerRow {
        broker_rows(&lab.view(), false).into_iter().find(|r| r.id == id).expect("the broker has a row")
    }

    #[test]
    fn each_broker_of_the_page_cluster_leads_one_partition_and_holds_three_in_sync() {
        let mut lab = Lab::new(1);
        lab.advance(1_000);
        let rows = broker_rows(&lab.view(), false);
        assert_eq!(rows.len(), 3);
        for row in rows {
            assert_eq!(
                (row.state, row.leaders, row.replicas, row.out_of_isr, row.under_replicated),
                ("alive", 1, 3, 0, 0)
            );
            let lines: Vec<&str> = row.actions.iter().map(|(_, line)| line.as_str()).collect();
            assert_eq!(lines, [format!("kill {}", row.id), format!("shutdown {}", row.id)]);
        }
    }

    #[test]
    fn a_dead_broker_leaves_the_isr_and_the_new_leaders_count_their_partitions_under_replicated() {
        let mut lab = Lab::new(1);
        lab.advance(1_000);
        lab.run_line("kill 1").unwrap();
        lab.advance(12_000); // past broker.session.timeout.ms
        let dead = row(&lab, 1);
        assert_eq!((dead.state, dead.leaders, dead.out_of_isr), ("dead", 0, 3));
        assert_eq!(dead.actions, [("Restart", String::from("restart 1"))]);
        let survivors = [row(&lab, 2), row(&lab, 3)];
        assert_eq!(survivors.iter().map(|r| r.leaders).sum::<usize>(), 3, "every partition has a leader again");
        assert_eq!(survivors.iter().map(|r| r.under_replicated).sum::<usize>(), 3, "each lacks broker 1");
    }

    #[test]
    fn a_broker_in_controlled_shutdown_says_so_and_offers_no_second_shutdown() {
        let mut lab = Lab::new(1);
        lab.advance(1_000);
        lab.run_line("shutdown 2").unwrap();
        let shutting = row(&lab, 2);
        assert_eq!(shutting.state, "shutting down");
        assert_eq!(shutting.actions, [("Kill", String::from("kill 2"))]);
        lab.advance(5_000);
        assert_eq!(row(&lab, 2).state, "dead", "it stopped once its leaderships moved");
    }
}
