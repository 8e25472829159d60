//! Machines and the processes on them: in the combined layout node `n` runs broker `n` and,
//! for `n` up to the controller count, controller `n` (`process.roles=broker,controller`);
//! in the dedicated layout every broker and every controller is a machine of its own.
//!
//! Crashes, restarts, clean stops and network splits act on machines: `kill 1` in the
//! combined layout crashes broker 1 and controller 1 together, and a split naming `1` cuts
//! both off. A crash keeps what a process persists (partition logs, the metadata log with its
//! epoch and vote) and loses the rest.

use alloc::collections::BTreeSet;
use alloc::vec::Vec;

use crate::command::{NodeName, SplitMember};
use crate::config::ControllerLayout;
use crate::ids::{BrokerId, ClientId, ControllerId};
use crate::message::NodeId;
use crate::trace::TraceEvent;

use super::{CommandError, Simulation};

impl Simulation {
    /// The machine a process runs on, named by its broker in the combined layout.
    pub fn host(&self, node: NodeId) -> NodeId {
        match (node, self.config.controller_layout) {
            (NodeId::Controller(id), ControllerLayout::Combined) => NodeId::Broker(BrokerId(id.0)),
            _ => node,
        }
    }

    /// The processes on the machine `name` names.
    fn processes(&self, name: NodeName) -> Result<Vec<NodeId>, CommandError> {
        let machine = match name {
            NodeName::Broker(id) => {
                self.node_index(id).ok_or(CommandError::UnknownBroker(id))?;
                NodeId::Broker(id)
            }
            NodeName::Controller(id) => {
                self.controller_index(id).ok_or(CommandError::UnknownController(id))?;
                self.host(NodeId::Controller(id))
            }
        };
        let mut processes = Vec::new();
        if let NodeId::Broker(id) = machine {
            processes.push(machine);
            let controller = ControllerId(id.0);
            if self.config.controller_layout == ControllerLayout::Combined
                && self.controller_index(controller).is_some()
            {
                processes.push(NodeId::Controller(controller));
            }
        } else {
            processes.push(machine);
        }
        Ok(processes)
    }

    fn is_running(&self, process: NodeId) -> bool {
        match process {
            NodeId::Broker(id) => self.is_alive(id),
            NodeId::Controller(id) => self.is_controller_alive(id),
            NodeId::Client(_) => true,
        }
    }

    /// Crashes broker `broker`'s machine (in the combined layout, with its controller).
    pub fn kill(&mut self, broker: BrokerId) -> Result<(), CommandError> {
        self.kill_node(NodeName::Broker(broker))
    }

    pub fn restart(&mut self, broker: BrokerId) -> Result<(), CommandError> {
        self.restart_node(NodeName::Broker(broker))
    }

    /// Crashes every process on a machine.
    pub fn kill_node(&mut self, name: NodeName) -> Result<(), CommandError> {
        let processes = self.processes(name)?;
        if !processes.iter().any(|&p| self.is_running(p)) {
            return Err(CommandError::AlreadyDead(name));
        }
        let running: Vec<NodeId> = processes.into_iter().filter(|&p| self.is_running(p)).collect();
        for process in running {
            self.halt(process);
            self.record(TraceEvent::Killed { node: process });
            if let NodeId::Broker(broker) = process {
                // Its connections are reset: every client hears at once.
                let clients: Vec<ClientId> =
                    core::iter::once(ClientId::CONSOLE).chain(self.clients.iter().map(|c| c.id)).collect();
                for client in clients {
                    self.client_disconnected(client, broker);
                }
            }
        }
        Ok(())
    }

    /// Starts every process of a machine again: controllers first, from their metadata log.
    pub fn restart_node(&mut self, name: NodeName) -> Result<(), CommandError> {
        let mut processes = self.processes(name)?;
        if processes.iter().all(|&p| self.is_running(p)) {
            return Err(CommandError::AlreadyAlive(name));
        }
        processes.sort_by_key(|p| !matches!(p, NodeId::Controller(_)));
        let stopped: Vec<NodeId> = processes.into_iter().filter(|&p| !self.is_running(p)).collect();
        for process in stopped {
            self.record(TraceEvent::Restarted { node: process });
            match process {
                NodeId::Controller(id) => {
                    let index = self.controller_index(id).expect("a known controller");
                    self.controllers[index].alive = true;
                    self.controllers[index].controller.start(self.now_ms);
                    self.collect_controller_outputs(index);
                }
                NodeId::Broker(id) => {
                    let index = self.node_index(id).expect("a known broker");
                    self.brokers[index].alive = true;
                    self.brokers[index].broker.start(self.now_ms);
                    self.collect_broker_outputs(index);
                }
                NodeId::Client(_) => {}
            }
        }
        Ok(())
    }

    /// A process stops: it handles nothing more, and its timers never fire.
    fn halt(&mut self, process: NodeId) {
        match process {
            NodeId::Broker(id) => {
                let index = self.node_index(id).expect("a known broker");
                let node = &mut self.brokers[index];
                node.alive = false;
                node.incarnation += 1;
            }
            NodeId::Controller(id) => {
                let index = self.controller_index(id).expect("a known controller");
                let node = &mut self.controllers[index];
                node.alive = false;
                node.incarnation += 1;
            }
            NodeId::Client(_) => {}
        }
    }

    /// Starts a controlled shutdown: the broker asks the active controller to move its
    /// leaderships, then stops (with its controller, in the combined layout).
    pub fn shut_down(&mut self, broker: BrokerId) -> Result<(), CommandError> {
        let index = self.node_index(broker).ok_or(CommandError::UnknownBroker(broker))?;
        if !self.brokers[index].alive {
            return Err(CommandError::AlreadyDead(NodeName::Broker(broker)));
        }
        self.brokers[index].broker.begin_controlled_shutdown();
        self.collect_broker_outputs(index);
        Ok(())
    }

    /// A broker finished its controlled shutdown: its machine is down now, cleanly. A
    /// controller on it hands its leadership over first.
    pub(super) fn stop(&mut self, node: NodeId) {
        let NodeId::Broker(broker) = node else { return };
        let Ok(processes) = self.processes(NodeName::Broker(broker)) else { return };
        let running: Vec<NodeId> = processes.into_iter().filter(|&p| self.is_running(p)).collect();
        for process in running {
            if let NodeId::Controller(id) = process {
                let index = self.controller_index(id).expect("a known controller");
                self.controllers[index].controller.stop(self.now_ms);
                self.collect_controller_outputs(index);
            }
            self.halt(process);
            self.record(TraceEvent::Stopped { node: process });
        }
    }

    /// Splits the network into the groups' machines.
    pub(super) fn split(&mut self, groups: &[Vec<SplitMember>]) -> Result<(), CommandError> {
        let mut machines: Vec<BTreeSet<NodeId>> = Vec::new();
        for group in groups {
            let mut names = Vec::new();
            for member in group {
                match member {
                    SplitMember::Node(name) => names.push(*name),
                    SplitMember::AllControllers => names.extend(self.config.controller_ids().map(NodeName::Controller)),
                }
            }
            let mut set = BTreeSet::new();
            for name in names {
                let node = match name {
                    NodeName::Broker(id) => {
                        self.node_index(id).ok_or(CommandError::UnknownBroker(id))?;
                        NodeId::Broker(id)
                    }
                    NodeName::Controller(id) => {
                        self.controller_index(id).ok_or(CommandError::UnknownController(id))?;
                        NodeId::Controller(id)
                    }
                };
                let machine = self.host(node);
                if machines.iter().any(|other| other.contains(&machine)) {
                    return Err(CommandError::InTwoGroups(name));
                }
                set.insert(machine);
            }
            machines.push(set);
        }
        self.faults.split = machines;
        Ok(())
    }
}
