//! Named clients: the producers and consumers a run starts with `producer` and `consumer`
//! commands, each a node of its own on the simulated network, which can be stopped, crashed
//! and restarted.

use crate::command::Command;

use super::{CommandError, Simulation};

impl Simulation {
    pub(super) fn apply_client_command(&mut self, command: &Command) -> Result<(), CommandError> {
        let _ = command;
        Err(CommandError::ClientsUnavailable)
    }
}
