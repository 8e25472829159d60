//! The signal that tells every task to stop, in the style of mini-redis's `Shutdown`.
//!
//! [`crate::server::run`] holds the only sender of a watch channel; every task holds a
//! [`Shutdown`] made from a receiver. Sending `true` (or dropping the sender) wakes them all,
//! including receivers cloned afterwards, so a connection accepted during shutdown still
//! hears it. Each task also holds a clone of a "finished" sender that it drops on return, so
//! `run` knows when all are done.

use tokio::sync::watch;

/// Listens for the server's shutdown signal.
#[derive(Clone, Debug)]
pub struct Shutdown {
    notify: watch::Receiver<bool>,
}

impl Shutdown {
    pub fn new(notify: watch::Receiver<bool>) -> Shutdown {
        Shutdown { notify }
    }

    /// Waits until shutdown is signalled (returns at once if it already was).
    pub async fn recv(&mut self) {
        // An error means the sender is gone, which means the same: stop.
        let _ = self.notify.wait_for(|&stop| stop).await;
    }
}
