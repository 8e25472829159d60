//! The server: [`serve`] binds the ports the command line names and calls [`run`], which
//! accepts broker and HTTP connections, drives the simulation's clock, and stops cleanly
//! when its shutdown future completes (mini-redis `server.rs`).
//!
//! [`run`] takes listeners already bound, so tests bind port 0 and pass them in.

use std::fmt;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use kafkalab_core::config::ConfigError;
use kafkalab_core::BrokerId;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, watch, Semaphore};

use crate::cli::ServeOptions;
use crate::cluster::{drive_clock, Cluster, Endpoint};
use crate::connection::{self, Peer};
use crate::http::{self, WebRoot};
use crate::shutdown::Shutdown;
use crate::storage;

/// The most connections (broker and HTTP together) served at once; more wait to be accepted.
pub const MAX_CONNECTIONS: usize = 1024;

/// The sockets [`run`] serves: broker `i + 1` on `brokers[i]`, the page on `http`.
#[derive(Debug)]
pub struct Listeners {
    pub brokers: Vec<TcpListener>,
    pub http: TcpListener,
}

/// Why the server could not start or had to stop.
#[derive(Debug)]
pub enum ServerError {
    /// A port could not be bound (in use, not permitted, no such address).
    Bind { address: String, source: io::Error },
    /// A listener's own address could not be read.
    Address(io::Error),
    /// The tokio runtime could not start.
    Runtime(io::Error),
    /// The Ctrl-C handler could not be installed.
    Signal(io::Error),
    /// The cluster the listeners describe is not one the core can run.
    Config(ConfigError),
    /// The simulation's clock task ended: a panic, such as a violated invariant.
    SimulationStopped(String),
    /// The data directory could not be read or recovered.
    Storage(storage::StorageError),
}

impl fmt::Display for ServerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ServerError::Bind { address, source } => {
                write!(f, "cannot listen on {address}: {}", describe(source))
            }
            ServerError::Address(e) => write!(f, "cannot read a listener's address: {e}"),
            ServerError::Runtime(e) => write!(f, "cannot start the async runtime: {e}"),
            ServerError::Signal(e) => write!(f, "cannot listen for Ctrl-C: {e}"),
            ServerError::Config(e) => write!(f, "cannot build the cluster: {e}"),
            ServerError::SimulationStopped(why) => write!(f, "the simulation stopped: {why}"),
            ServerError::Storage(e) => write!(f, "cannot use the data directory: {e}"),
        }
    }
}

impl std::error::Error for ServerError {}

/// `kafkalab serve`: binds every port, reports where things are, runs until Ctrl-C.
pub fn serve(options: ServeOptions) -> Result<(), ServerError> {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().map_err(ServerError::Runtime)?;
    runtime.block_on(async {
        let listeners = bind(&options).await?;
        let web_root = web_root(&options);
        let shutdown = shutdown_signal()?;
        announce(&listeners)?;
        run_with_storage(listeners, web_root, options.data_dir_path(), shutdown).await?;
        println!("kafkalab: stopped");
        Ok(())
    })
}

/// Serves until `shutdown` completes, then waits for every connection to finish. The cluster
/// lives in memory only.
pub async fn run(listeners: Listeners, web_root: WebRoot, shutdown: impl Future) -> Result<(), ServerError> {
    run_with_storage(listeners, web_root, None, shutdown).await
}

/// [`run`], with the cluster kept in `data_dir` when one is given: recovered from it first,
/// persisted while serving and once more after the clock has stopped.
pub async fn run_with_storage(
    listeners: Listeners,
    web_root: WebRoot,
    data_dir: Option<PathBuf>,
    shutdown: impl Future,
) -> Result<(), ServerError> {
    let endpoints = endpoints(&listeners.brokers)?;
    // The data directory's lock is held until the last persist below is written.
    let (cluster, persister, _lock) = match data_dir {
        None => (Arc::new(Cluster::new(endpoints).map_err(ServerError::Config)?), None, None),
        Some(dir) => {
            let broker_count = i32::try_from(endpoints.len()).unwrap_or(i32::MAX);
            let opened = storage::open(&dir, broker_count).map_err(ServerError::Storage)?;
            storage::announce(&dir, &opened);
            let cluster = Cluster::recovered(endpoints, &opened.disks)
                .map_err(|e| ServerError::Storage(storage::StorageError::Recovery(e)))?;
            (Arc::new(cluster), Some(Arc::new(Mutex::new(opened.persister))), Some(opened.lock))
        }
    };
    let mut clock = tokio::spawn(drive_clock(Arc::clone(&cluster)));
    let persisting =
        persister.as_ref().map(|p| tokio::spawn(storage::drive_persister(Arc::clone(&cluster), Arc::clone(p))));

    let (notify_shutdown, shutdown_receiver) = watch::channel(false);
    let (finished_sender, mut all_finished) = mpsc::channel::<()>(1);
    let accepting = Accepting {
        limit: Arc::new(Semaphore::new(MAX_CONNECTIONS)),
        shutdown: Shutdown::new(shutdown_receiver),
        finished_sender,
    };
    for (index, listener) in listeners.brokers.into_iter().enumerate() {
        let broker = BrokerId(i32::try_from(index + 1).unwrap_or(i32::MAX));
        tokio::spawn(accept_brokers(listener, broker, Arc::clone(&cluster), accepting.clone()));
    }
    tokio::spawn(accept_http(listeners.http, Arc::new(web_root), Arc::clone(&cluster), accepting.clone()));
    drop(accepting);

    let outcome = tokio::select! {
        _ = shutdown => Ok(()),
        ended = &mut clock => Err(ServerError::SimulationStopped(match ended {
            Err(e) if e.is_panic() => "the clock task panicked (see above)".to_string(),
            _ => "the clock task ended".to_string(),
        })),
    };
    clock.abort();
    // Every `Shutdown` wakes; each task drops its `finished_sender` clone as it returns, and
    // `recv` sees `None` when all have.
    let _ = notify_shutdown.send(true);
    let _ = all_finished.recv().await;
    if let (Some(task), Some(persister)) = (persisting, persister) {
        task.abort();
        let _ = tokio::task::spawn_blocking(move || storage::persist_now(&cluster, &persister)).await;
    }
    outcome
}

/// What every accept loop shares: the connection limit and the shutdown plumbing.
#[derive(Clone)]
struct Accepting {
    limit: Arc<Semaphore>,
    shutdown: Shutdown,
    finished_sender: mpsc::Sender<()>,
}

impl Accepting {
    /// Waits for a free connection slot and the next connection; `None` at shutdown.
    async fn next(
        &self,
        listener: &TcpListener,
        shutdown: &mut Shutdown,
    ) -> Option<(TcpStream, SocketAddr, tokio::sync::OwnedSemaphorePermit)> {
        loop {
            let permit = tokio::select! {
                permit = Arc::clone(&self.limit).acquire_owned() => permit.ok()?,
                () = shutdown.recv() => return None,
            };
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                () = shutdown.recv() => return None,
            };
            match accepted {
                Ok((stream, address)) => return Some((stream, address, permit)),
                Err(e) => {
                    // Out of file descriptors and the like: wait a little rather than spin.
                    eprintln!("kafkalab: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    }

    fn shutdown(&self) -> Shutdown {
        self.shutdown.clone()
    }
}

async fn accept_brokers(listener: TcpListener, broker: BrokerId, cluster: Arc<Cluster>, accepting: Accepting) {
    let mut shutdown = accepting.shutdown();
    while let Some((stream, address, permit)) = accepting.next(&listener, &mut shutdown).await {
        let _ = stream.set_nodelay(true);
        let peer = Peer { broker, address };
        let (cluster, connection_shutdown) = (Arc::clone(&cluster), accepting.shutdown());
        let finished = accepting.finished_sender.clone();
        tokio::spawn(async move {
            connection::serve(stream, peer, cluster, connection_shutdown).await;
            drop((permit, finished));
        });
    }
}

async fn accept_http(listener: TcpListener, web_root: Arc<WebRoot>, cluster: Arc<Cluster>, accepting: Accepting) {
    let mut shutdown = accepting.shutdown();
    while let Some((stream, _, permit)) = accepting.next(&listener, &mut shutdown).await {
        let (web_root, cluster) = (Arc::clone(&web_root), Arc::clone(&cluster));
        let mut connection_shutdown = accepting.shutdown();
        let finished = accepting.finished_sender.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = http::serve(stream, web_root, cluster) => {}
                () = connection_shutdown.recv() => {}
            }
            drop((permit, finished));
        });
    }
}

/// What Metadata advertises for each broker: the address its listener is bound to (a
/// wildcard address advertises `localhost`, as there is no one right answer).
fn endpoints(listeners: &[TcpListener]) -> Result<Vec<Endpoint>, ServerError> {
    listeners
        .iter()
        .enumerate()
        .map(|(index, listener)| {
            let address = listener.local_addr().map_err(ServerError::Address)?;
            let host = if address.ip().is_unspecified() { "localhost".to_string() } else { address.ip().to_string() };
            Ok(Endpoint { broker: BrokerId(i32::try_from(index + 1).unwrap_or(i32::MAX)), host, port: address.port() })
        })
        .collect()
}

async fn bind(options: &ServeOptions) -> Result<Listeners, ServerError> {
    let mut brokers = Vec::new();
    for index in 0..options.broker_count {
        brokers.push(bind_one(&options.host, options.broker_port(index)).await?);
    }
    let http = bind_one(&options.host, options.http_port).await?;
    Ok(Listeners { brokers, http })
}

async fn bind_one(host: &str, port: u16) -> Result<TcpListener, ServerError> {
    TcpListener::bind((host, port))
        .await
        .map_err(|source| ServerError::Bind { address: format!("{host}:{port}"), source })
}

fn web_root(options: &ServeOptions) -> WebRoot {
    if options.web_dir.is_dir() {
        WebRoot::Dir(options.web_dir.clone())
    } else {
        eprintln!(
            "kafkalab: warning: no built page at {} (see --web-dir); serving a placeholder",
            options.web_dir.display()
        );
        WebRoot::NotBuilt
    }
}

fn announce(listeners: &Listeners) -> Result<(), ServerError> {
    let brokers = listeners
        .brokers
        .iter()
        .map(|l| l.local_addr().map(|a| a.to_string()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(ServerError::Address)?;
    let http = listeners.http.local_addr().map_err(ServerError::Address)?;
    let noun = if brokers.len() == 1 { "broker" } else { "brokers" };
    println!("kafkalab: {} {noun} on {}", brokers.len(), brokers.join(", "));
    println!("kafkalab: the page is on http://{http}/ (Ctrl-C stops)");
    Ok(())
}

/// A future that completes on Ctrl-C (and, on Unix, SIGTERM). The handlers are installed
/// here, before the listeners are announced, so a signal sent as soon as the server says it
/// is up is not lost.
fn shutdown_signal() -> Result<impl Future<Output = ()>, ServerError> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt()).map_err(ServerError::Signal)?;
        let mut terminate = signal(SignalKind::terminate()).map_err(ServerError::Signal)?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// The usual bind failures in plain words, without the OS error number.
fn describe(error: &io::Error) -> String {
    match error.kind() {
        io::ErrorKind::AddrInUse => "address already in use".to_string(),
        io::ErrorKind::AddrNotAvailable => "address not available".to_string(),
        io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => error.to_string(),
    }
}
