//! The admin endpoint on the page's HTTP port, for `kafkalab broker kill|restart|shutdown N`:
//! it applies the core's console commands (`kill N`, `restart N`, `shutdown N`) to the served
//! cluster, and describes the cluster in a few lines of text.
//!
//! ```text
//! POST /admin/brokers/N/kill       crash broker N (its logs survive)
//! POST /admin/brokers/N/restart    start it again
//! POST /admin/brokers/N/shutdown   stop it cleanly (controlled shutdown)
//! GET  /admin/cluster              brokers, controllers and partitions, one per line
//! ```
//!
//! Answers are plain text. Only clients on the loopback interface are served: the endpoint
//! breaks the cluster on purpose, and a lab bound to a public address must not let anyone
//! else do so.

use std::fmt::Write as _;
use std::net::IpAddr;

use kafkalab_core::command::{Command, NodeName};
use kafkalab_core::simulation::CommandError;
use kafkalab_core::view::{BrokerStatus, ClusterView};
use kafkalab_core::BrokerId;

use crate::cluster::Cluster;
use crate::http::Response;

/// Where the admin endpoint's paths start.
pub const PREFIX: &str = "/admin/";

/// What the endpoint does to a broker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerAction {
    Kill,
    Restart,
    Shutdown,
}

impl BrokerAction {
    /// The action named in a path or on the command line.
    pub fn parse(name: &str) -> Option<BrokerAction> {
        match name {
            "kill" => Some(BrokerAction::Kill),
            "restart" => Some(BrokerAction::Restart),
            "shutdown" => Some(BrokerAction::Shutdown),
            _ => None,
        }
    }

    /// The console command for broker `broker`.
    pub fn command(self, broker: BrokerId) -> Command {
        match self {
            BrokerAction::Kill => Command::Kill { node: NodeName::Broker(broker) },
            BrokerAction::Restart => Command::Restart { node: NodeName::Broker(broker) },
            BrokerAction::Shutdown => Command::Shutdown { broker },
        }
    }

    fn done(self) -> &'static str {
        match self {
            BrokerAction::Kill => "killed",
            BrokerAction::Restart => "restarted",
            BrokerAction::Shutdown => "shut down",
        }
    }
}

/// The answer to a request for an admin path (`None` for any other path).
pub fn respond(method: &str, target: &str, peer: IpAddr, cluster: &Cluster) -> Option<Response> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let route = path.strip_prefix(PREFIX)?;
    if !peer.is_loopback() {
        return Some(text(403, "the admin endpoint answers only clients on this machine"));
    }
    let segments: Vec<&str> = route.trim_end_matches('/').split('/').collect();
    Some(match (method, segments.as_slice()) {
        ("GET" | "HEAD", ["cluster"]) => text(200, &describe(&cluster.view())),
        ("POST", ["brokers", broker, action]) => {
            let (Ok(broker), Some(action)) = (broker.parse::<i32>(), BrokerAction::parse(action)) else {
                return Some(text(404, &format!("no such admin path {path}")));
            };
            match cluster.apply(&action.command(BrokerId(broker))) {
                Ok(()) => text(200, &format!("broker {broker} {}", action.done())),
                Err(error @ CommandError::UnknownBroker(_)) => text(404, &error.to_string()),
                Err(error) => text(409, &error.to_string()),
            }
        }
        (_, ["cluster"] | ["brokers", _, _]) => text(405, "method not allowed"),
        _ => text(404, &format!("no such admin path {path}")),
    })
}

/// The cluster in a few lines: the time, each controller and broker, each partition's leader
/// and in-sync replicas.
pub fn describe(view: &ClusterView) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "time {} ms", view.now_ms);
    for controller in &view.controllers {
        let active = if view.active_controller == Some(controller.id) { " (active)" } else { "" };
        let state = if controller.alive { "alive" } else { "dead" };
        let _ = writeln!(text, "controller c{} {state}{active}", controller.id);
    }
    for broker in &view.brokers {
        let status = match broker.status {
            BrokerStatus::Alive => "alive",
            BrokerStatus::Fenced => "fenced",
            BrokerStatus::Dead if broker.fenced => "dead (fenced)",
            BrokerStatus::Dead => "dead (not yet fenced)",
        };
        let _ = writeln!(text, "broker {} {status}", broker.id);
    }
    for partition in &view.partitions {
        let leader = partition.leader.map_or_else(|| "none".to_string(), |l| l.to_string());
        let isr = join(partition.isr.iter());
        let replicas = join(partition.replicas.iter().map(|r| &r.broker));
        let _ = writeln!(
            text,
            "partition {} leader {leader} epoch {} replicas {replicas} isr {isr}",
            partition.partition, partition.leader_epoch
        );
    }
    text
}

fn join<T: std::fmt::Display>(items: impl Iterator<Item = T>) -> String {
    items.map(|item| item.to_string()).collect::<Vec<_>>().join(",")
}

fn text(status: u16, message: &str) -> Response {
    let mut body = message.trim_end().to_string();
    body.push('\n');
    Response { status, content_type: "text/plain; charset=utf-8", body: body.into_bytes(), head_only: false }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::test_endpoints;
    use std::net::Ipv4Addr;

    const LOCAL: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);

    fn body(response: &Response) -> String {
        String::from_utf8_lossy(&response.body).to_string()
    }

    #[test]
    fn kill_and_restart_apply_the_console_commands() {
        let cluster = Cluster::new(test_endpoints(3)).expect("valid");
        cluster.advance_to(1_000);
        let killed = respond("POST", "/admin/brokers/2/kill", LOCAL, &cluster).expect("an admin path");
        assert_eq!((killed.status, body(&killed)), (200, "broker 2 killed\n".to_string()));
        let status = |cluster: &Cluster| cluster.view().brokers.iter().find(|b| b.id == BrokerId(2)).map(|b| b.status);
        assert_eq!(status(&cluster), Some(BrokerStatus::Dead));
        let again = respond("POST", "/admin/brokers/2/kill", LOCAL, &cluster).expect("an admin path");
        assert_eq!(again.status, 409, "{}", body(&again));
        assert!(body(&again).contains("already down"));
        let restarted = respond("POST", "/admin/brokers/2/restart", LOCAL, &cluster).expect("an admin path");
        assert_eq!(restarted.status, 200);
        assert_ne!(status(&cluster), Some(BrokerStatus::Dead));
    }

    #[test]
    fn unknown_brokers_paths_and_methods_are_refused() {
        let cluster = Cluster::new(test_endpoints(3)).expect("valid");
        assert_eq!(respond("POST", "/admin/brokers/9/kill", LOCAL, &cluster).map(|r| r.status), Some(404));
        assert_eq!(respond("POST", "/admin/brokers/1/explode", LOCAL, &cluster).map(|r| r.status), Some(404));
        assert_eq!(respond("GET", "/admin/brokers/1/kill", LOCAL, &cluster).map(|r| r.status), Some(405));
        assert!(respond("GET", "/index.html", LOCAL, &cluster).is_none(), "not an admin path");
    }

    #[test]
    fn only_loopback_clients_are_served() {
        let cluster = Cluster::new(test_endpoints(3)).expect("valid");
        let remote = IpAddr::V4(Ipv4Addr::new(192, 168, 1, 20));
        let refused = respond("POST", "/admin/brokers/1/kill", remote, &cluster).expect("an admin path");
        assert_eq!(refused.status, 403);
        assert!(cluster.view().brokers.iter().all(|b| b.status != BrokerStatus::Dead), "nothing was killed");
    }

    #[test]
    fn the_cluster_text_names_brokers_and_partitions() {
        let cluster = Cluster::new(test_endpoints(3)).expect("valid");
        cluster.advance_to(2_000);
        let response = respond("GET", "/admin/cluster", LOCAL, &cluster).expect("an admin path");
        let text = body(&response);
        assert!(text.contains("broker 1 alive"), "{text}");
        assert!(text.contains("partition orders/0 leader 1"), "{text}");
    }
}
