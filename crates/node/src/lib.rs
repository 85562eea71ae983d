//! The Ward node: a long-running process over a data directory that takes
//! signed transactions over JSON-RPC, builds them into blocks with a
//! provable state root, and serves the chain to clients
//! (`docs/node.md`).
//!
//! - `cluster` (feature `etcd`): the replicated block log in etcd, fenced
//!   appends under a leader lease, the shared mempool, published roots.
//! - `follow` (feature `etcd`): a replica's loop in place of the producer:
//!   replay, leadership, proposals (`docs/replication.md`).
//! - [`replica`]: a replica's configuration, log entries, divergences.
//! - [`decode`]: receipts and transactions shown with their contracts'
//!   schemas (JSON arguments, outputs and events).
//! - [`mempool`]: verified transactions waiting for a block, by sender and
//!   nonce, bounded.
//! - `producer`: one thread that takes transactions from the mempool,
//!   executes them as the next block on the executor, commits it durably,
//!   then acknowledges them and notifies subscribers.
//! - `rpc`: JSON-RPC 2.0 over `POST /rpc` (batches included) and `/ws`.
//! - `server`: the HTTP server (axum on tokio) with its limits on
//!   untrusted clients, `/health` and `/metrics`.
//! - `ws`: subscriptions over WebSocket.
//! - `explorer`: the block explorer page at `/` (embedded HTML, CSS and
//!   JavaScript over the node's own JSON-RPC and WebSocket).
//! - [`settings`]: the chain id and consensus settings recorded in the data
//!   directory.
//! - `snapshots`: snapshots of the state every `--snapshot-interval`
//!   blocks, kept and served over HTTP.
//!
//! ```no_run
//! let mut config = ward_node::NodeConfig::new("./.ward".into());
//! config.dev = true;
//! let node = ward_node::Node::start(config)?;
//! println!("listening on {}", node.url());
//! node.shutdown()?;
//! # Ok::<(), ward_node::NodeError>(())
//! ```

pub mod access;
mod admission;
mod announce;
mod api;
#[cfg(feature = "etcd")]
pub mod cluster;
mod config;
pub mod decode;
mod error;
mod etcd_limits;
mod expiry;
mod explorer;
mod failure;
#[cfg(feature = "etcd")]
mod follow;
pub mod fork;
pub mod genesis;
pub mod json;
pub mod mempool;
mod metrics;
mod polled;
mod pool;
mod producer;
pub mod profile;
pub mod replica;
pub mod runtimes;
mod server;
pub mod settings;
mod snapshots;
mod startup;
mod state;
#[cfg(feature = "etcd")]
mod statesync;
mod sync;
mod ws;

use std::{net::SocketAddr, sync::Arc, thread::JoinHandle, time::Duration};
use ward_devkeys as devkeys;

pub use access::Access;
pub use api::{
    DEV_METHODS, ESTIMATE_MARGIN_PERCENT, METHODS, dev,
    dev::{MAX_BLOCK_TIME, MAX_MINE_BLOCKS},
    eth,
    ward::INLINE_INPUT_BYTES,
};
pub use config::{DEFAULT_CHAIN_ID, DEFAULT_LISTEN, NodeConfig, RpcLimits, contract_config};
pub use error::RpcError;
pub use genesis::Genesis;
pub use producer::PRUNE_EVERY;
pub use replica::ClusterConfig;
pub use server::RESERVED_CONNECTIONS;
pub use settings::{ChainSettings, ChainSettingsExt};
pub use startup::NodeError;

/// Connects a replica to its cluster (none for a single node).
#[cfg(feature = "etcd")]
fn join(
    handle: &tokio::runtime::Handle,
    cluster: Option<&ClusterConfig>,
    settings: &ChainSettings,
) -> Result<Option<replica::Replica>, NodeError> {
    let Some(cluster) = cluster else {
        return Ok(None);
    };
    let log = follow::connect(handle, cluster, settings)?;
    Ok(Some(replica::Replica::new(cluster.clone(), log)))
}

/// A build without etcd: a single node only.
#[cfg(not(feature = "etcd"))]
fn join(
    _handle: &tokio::runtime::Handle,
    cluster: Option<&ClusterConfig>,
    _settings: &ChainSettings,
) -> Result<Option<replica::Replica>, NodeError> {
    match cluster {
        None => Ok(None),
        Some(_) => Err(NodeError::Config(
            "this build has no etcd support: build with the `etcd` feature (needs protoc)".into(),
        )),
    }
}

/// State sync before the store is opened (`--state-sync`): the claim on
/// the log the replica holds until it has caught up, if it took one.
#[cfg(feature = "etcd")]
fn sync_state(
    handle: &tokio::runtime::Handle,
    config: &NodeConfig,
) -> Result<Option<cluster::Claim>, NodeError> {
    match (&config.cluster, config.state_sync) {
        (_, false) => Ok(None),
        (Some(cluster), true) => statesync::join(handle, cluster, &config.data_dir),
        (None, true) => Err(NodeError::Config(
            "--state-sync needs a cluster (--etcd)".into(),
        )),
    }
}

/// A build without etcd has no state sync, so no claim.
#[cfg(not(feature = "etcd"))]
fn sync_state(
    _handle: &tokio::runtime::Handle,
    config: &NodeConfig,
) -> Result<Option<std::convert::Infallible>, NodeError> {
    if config.state_sync {
        return Err(NodeError::Config(
            "--state-sync needs a cluster, and this build has no etcd support".into(),
        ));
    }
    Ok(None)
}

/// A replica advertises its snapshots in etcd, under its URL.
#[cfg(feature = "etcd")]
fn advertise(shared: &Arc<state::Shared>, runtime: &tokio::runtime::Runtime, addr: SocketAddr) {
    let Some(replica) = shared.replica() else {
        return;
    };
    if shared.config().snapshot_every() == 0 {
        tracing::warn!(
            "this replica takes no snapshots (--snapshot-interval 0): the cluster's log is compacted only below a snapshot two replicas hold, so without two others taking them it grows until etcd's quota stops the cluster"
        );
        return;
    }
    let (handle, log) = (runtime.handle().clone(), replica.log.clone());
    let id = replica.config.replica_id.clone();
    let url = format!("http://{addr}");
    shared.snapshots().advertise_with(Box::new(move |held| {
        let advert = statesync::Advert {
            url: url.clone(),
            snapshots: held.to_vec(),
        };
        let Ok(bytes) = serde_json::to_vec(&advert) else {
            return;
        };
        // Three tries: a request to an etcd member that is down fails
        // once, and the next goes to another.
        let mut log = log.clone();
        for attempt in 1..=3 {
            match handle.block_on(log.advertise_snapshots(&id, &bytes)) {
                Ok(()) => break,
                Err(e) if attempt == 3 => {
                    tracing::warn!(error = %e, "cannot advertise the snapshots");
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        }
    }));
}

#[cfg(not(feature = "etcd"))]
fn advertise(_shared: &Arc<state::Shared>, _runtime: &tokio::runtime::Runtime, _addr: SocketAddr) {}

/// Starts the store's one writer: the producer of a single node, or a
/// replica's loop and its watch.
fn spawn_writer(
    shared: &Arc<state::Shared>,
    runtime: &tokio::runtime::Runtime,
) -> Result<JoinHandle<()>, NodeError> {
    let shared = shared.clone();
    #[cfg(feature = "etcd")]
    if shared.replica().is_some() {
        runtime.spawn(follow::watch(shared.clone()));
        let handle = runtime.handle().clone();
        return Ok(std::thread::Builder::new()
            .name("ward-replica".into())
            .spawn(move || follow::run(&shared, &handle))?);
    }
    let _ = runtime;
    Ok(std::thread::Builder::new()
        .name("ward-producer".into())
        .spawn(move || producer::run(&shared))?)
}

/// A running node.
pub struct Node {
    shared: Arc<state::Shared>,
    addr: SocketAddr,
    runtime: tokio::runtime::Runtime,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    stop_server: tokio::sync::watch::Sender<bool>,
    producer: JoinHandle<()>,
}

impl Node {
    /// Opens (or creates) the data directory, checks or records the
    /// chain's settings, starts the block producer and listens. Returns
    /// once the node answers requests.
    ///
    /// # Errors
    ///
    /// A state directory that cannot be opened, another chain's, a listen
    /// address that is not loopback without `allow_remote`, or one that
    /// cannot be bound.
    pub fn start(config: NodeConfig) -> Result<Node, NodeError> {
        if !config.allow_remote && !config.listen.ip().is_loopback() {
            return Err(NodeError::Config(format!(
                "{} is not a loopback address: pass --allow-remote to listen there",
                config.listen
            )));
        }
        ward_chain::tx::check_chain_id(&config.chain_id)
            .map_err(|e| NodeError::Config(e.to_string()))?;
        if let Some(cluster) = &config.cluster {
            cluster.check().map_err(NodeError::Config)?;
        }
        if config.disk.is_some() && (config.cluster.is_some() || config.state_sync) {
            return Err(NodeError::Config(
                "a store on a disk in memory runs a single node without state sync".into(),
            ));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("ward-rpc")
            .enable_all()
            .build()?;
        let cluster = config.cluster.clone();
        let handle = runtime.handle().clone();
        let claim = sync_state(&handle, &config)?;
        let shared = Arc::new(state::Shared::open(config, |settings| {
            join(&handle, cluster.as_ref(), settings)
        })?);
        #[cfg(feature = "etcd")]
        if let Some(replica) = shared.replica() {
            *sync::lock(&replica.claim) = claim;
        }
        #[cfg(not(feature = "etcd"))]
        let _: Option<std::convert::Infallible> = claim;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(shared.config().listen))?;
        let addr = listener.local_addr()?;
        let (stop_server, stopped) = tokio::sync::watch::channel(false);
        runtime.spawn(expiry::run(shared.clone(), stopped.clone()));
        let server = runtime.spawn(server::serve(listener, shared.clone(), stopped));
        let producer = spawn_writer(&shared, &runtime)?;
        advertise(&shared, &runtime, addr);
        tracing::info!(%addr, chain = %shared.settings().chain_id, "node started");
        Ok(Node {
            shared,
            addr,
            runtime,
            server,
            stop_server,
            producer,
        })
    }

    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The chain's settings.
    pub fn settings(&self) -> &ChainSettings {
        self.shared.settings()
    }

    /// The dev Ethereum accounts' 20-byte addresses and secret keys: the
    /// test mnemonic's first ten (empty without dev mode).
    pub fn dev_eth_accounts(&self) -> Vec<([u8; 20], [u8; 32])> {
        if !self.shared.config().dev {
            return Vec::new();
        }
        (0..devkeys::ACCOUNTS)
            .map(|i| (devkeys::eth_address(i), devkeys::eth_key(i)))
            .collect()
    }

    /// The dev accounts' addresses and secret keys (empty without dev
    /// mode).
    pub fn dev_accounts(&self) -> Vec<(ward_primitives::Address, [u8; 32])> {
        self.shared
            .dev_keys()
            .iter()
            .map(|key| {
                (
                    ward_chain::tx::account_address(&key.verifying_key().to_bytes()),
                    key.to_bytes(),
                )
            })
            .collect()
    }

    /// Blocks until SIGINT or SIGTERM, or until the node halts itself.
    ///
    /// # Errors
    ///
    /// [`NodeError::Diverged`] when a replica halted on a divergence
    /// (`--halt-on-divergence`), or when the signal handlers cannot be
    /// installed.
    pub fn wait_for_signal(&self) -> Result<(), NodeError> {
        let mut halted = self.shared.halts();
        self.runtime.block_on(async {
            use tokio::signal::unix::{SignalKind, signal};
            let mut terminate = signal(SignalKind::terminate())?;
            let mut interrupt = signal(SignalKind::interrupt())?;
            tokio::select! {
                _ = terminate.recv() => tracing::info!("SIGTERM"),
                _ = interrupt.recv() => tracing::info!("SIGINT"),
                why = halted.wait_for(Option::is_some) => {
                    if let Ok(why) = why && let Some(why) = why.clone() {
                        return Err(NodeError::Diverged(why));
                    }
                }
            }
            Ok(())
        })
    }

    /// Waits until the node halts itself (a replica's divergence with
    /// `halt_on_divergence`), at most `limit`: why, if it did.
    pub fn wait_for_halt(&self, limit: Duration) -> Option<String> {
        let mut halted = self.shared.halts();
        self.runtime.block_on(async {
            tokio::time::timeout(limit, halted.wait_for(Option::is_some))
                .await
                .ok()
                .and_then(|why| why.ok().and_then(|w| w.clone()))
        })
    }

    /// Stops: no new connections, the block in progress finished and
    /// committed, pending transactions refused to their waiters, open
    /// requests answered (for at most a few seconds), the store closed.
    ///
    /// # Errors
    ///
    /// When the server failed.
    pub fn shutdown(self) -> Result<(), NodeError> {
        let _ = self.stop_server.send(true);
        self.shared.stop_producer();
        if self.producer.join().is_err() {
            tracing::error!("the block producer panicked");
        }
        self.shared.snapshots().finish();
        let served = self
            .runtime
            .block_on(async { tokio::time::timeout(Duration::from_secs(5), self.server).await });
        self.runtime.shutdown_timeout(Duration::from_secs(1));
        tracing::info!("node stopped");
        match served {
            Ok(Ok(result)) => Ok(result?),
            Ok(Err(join)) => Err(NodeError::Io(std::io::Error::other(join.to_string()))),
            // Connections still open after the grace period are dropped.
            Err(_) => Ok(()),
        }
    }
}
