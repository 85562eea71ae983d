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
mod announce;
#[cfg(feature = "etcd")]
pub mod cluster;
pub mod decode;
mod error;
mod etcd_limits;
mod expiry;
mod explorer;
#[cfg(feature = "etcd")]
mod follow;
pub mod fork;
pub mod genesis;
pub mod json;
pub mod mempool;
mod metrics;
mod producer;
pub mod profile;
pub mod replica;
mod rpc;
pub mod runtimes;
mod server;
pub mod settings;
mod snapshots;
mod state;
#[cfg(feature = "etcd")]
mod statesync;
mod sync;
mod ws;

use std::{net::SocketAddr, path::PathBuf, sync::Arc, thread::JoinHandle, time::Duration};

pub use access::Access;
pub use error::RpcError;
pub use genesis::Genesis;
pub use producer::PRUNE_EVERY;
pub use replica::ClusterConfig;
pub use rpc::{
    DEV_METHODS, ESTIMATE_MARGIN_PERCENT, INLINE_INPUT_BYTES, MAX_BLOCK_TIME, MAX_MINE_BLOCKS,
    METHODS,
};
pub use server::RESERVED_CONNECTIONS;
pub use settings::ChainSettings;
use ward_state::StateError;
use ward_vm::BackendKind;

/// The config a node compiles and runs contracts under (`ward compile`
/// compiles for it): Ward's defaults, with WASI commands admitted
/// (`docs/wasi.md`; a Ward contract importing WASI is refused at deploy),
/// and tier-up as `tier_up` says (which changes no compiled artifact).
pub fn contract_config(tier_up: bool) -> ward_vm::Config {
    let mut config = ward_vm::Config {
        tier_up,
        ..ward_vm::Config::default()
    };
    config.policy.imports = ward_vm::ImportPolicy::wasi();
    config
}

/// The default address: loopback only.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8645";

/// The default chain id.
pub const DEFAULT_CHAIN_ID: &str = "ward-dev";

/// Limits on what untrusted clients may ask of the node. Each is a
/// command-line flag of `ward serve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpcLimits {
    /// Largest request body, in bytes (over it: HTTP 413). Default:
    /// 12 MiB (a transaction at the 5 MiB limit is 10 MiB of hex).
    pub max_body_bytes: usize,
    /// Deepest JSON nesting of a request. Default: 32.
    pub max_json_depth: usize,
    /// Most requests in one batch. Default: 100.
    pub max_batch: usize,
    /// Most open connections; more are closed at once. Default: 256.
    pub max_connections: usize,
    /// How long one HTTP request may take, body included (then HTTP 408;
    /// a `wait` that runs out answers with the transaction's hash and a
    /// `timeout` error). Default: 30 s.
    pub request_timeout: Duration,
    /// The most gas a `query` or a `simulateTransaction` may use (reads
    /// are free: far less than a block's). Default: 20 000 000.
    pub query_gas_cap: u64,
    /// How long a `query` or a `simulateTransaction` may run before it is
    /// stopped (`timeout`): the wall-clock budget of a free read, far
    /// below a transaction's backstop. Default: 1 s.
    pub read_timeout: Duration,
    /// Most transactions waiting in the mempool. Default: 10 000.
    pub mempool_size: usize,
    /// Most bytes of signed transactions waiting in the mempool (in a
    /// cluster, also what this replica adds to the shared mempool).
    /// Default: 64 MiB.
    pub mempool_bytes: usize,
    /// How long a transaction behind a nonce gap may wait for the gap to
    /// be filled before it expires (checked once a second). Default:
    /// [`mempool::GAPPED_TTL`], 60 s.
    pub mempool_gapped_ttl: Duration,
    /// Most subscriptions on one WebSocket connection. Default: 16.
    pub max_subscriptions: usize,
    /// Blocks queued for one WebSocket connection before it is dropped as
    /// too slow. Default: 256.
    pub ws_queue: usize,
    /// How long one WebSocket send may take before the connection is
    /// dropped as too slow. Default: 5 s.
    pub ws_send_timeout: Duration,
    /// Bytes of notifications and replies one WebSocket connection may
    /// have waiting to be sent; past it the connection is dropped as too
    /// slow (one with nothing waiting may always take its next message).
    /// Default: 4 MiB.
    pub ws_queue_bytes: usize,
    /// Bytes all WebSocket connections together may have waiting; past
    /// it, a connection that would add to it with something waiting
    /// already is dropped as too slow. Default: 64 MiB.
    pub ws_total_bytes: usize,
    /// The most bytes of JSON one answer may hold, over HTTP (a batch's
    /// answers together) and WebSocket (past it: `response_too_large`
    /// errors). Default: 16 MiB.
    pub max_response_bytes: usize,
    /// How long a connection may take to send a request's headers, and
    /// stay idle between requests, before it is closed. Default: 10 s.
    pub header_timeout: Duration,
}

impl Default for RpcLimits {
    fn default() -> Self {
        RpcLimits {
            max_body_bytes: 12 << 20,
            max_json_depth: 32,
            max_batch: 100,
            max_connections: 256,
            request_timeout: Duration::from_secs(30),
            query_gas_cap: 20_000_000,
            read_timeout: Duration::from_secs(1),
            mempool_size: 10_000,
            mempool_bytes: 64 << 20,
            mempool_gapped_ttl: mempool::GAPPED_TTL,
            max_subscriptions: 16,
            ws_queue: 256,
            ws_send_timeout: Duration::from_secs(5),
            ws_queue_bytes: 4 << 20,
            ws_total_bytes: 64 << 20,
            header_timeout: Duration::from_secs(10),
            max_response_bytes: 16 << 20,
        }
    }
}

/// How to run a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The data directory (created when missing).
    pub data_dir: PathBuf,
    /// Where to listen (port 0: any free port).
    pub listen: SocketAddr,
    /// Whether `listen` may be other than loopback.
    pub allow_remote: bool,
    /// The engine.
    pub backend: BackendKind,
    /// The chain id: recorded when the directory is created, checked after.
    pub chain_id: String,
    /// 0: a block as soon as transactions wait; N: a block every N ms.
    pub block_time_ms: u64,
    /// The per-block gas maximum, for a new chain (an existing chain's must
    /// match).
    pub max_block_gas: Option<u64>,
    /// Dev mode: dev accounts the node signs for, `mine`,
    /// `setNextBlockTime`.
    pub dev: bool,
    /// Limits on clients.
    pub limits: RpcLimits,
    /// Which pages' origins and which host names may reach the node.
    pub access: Access,
    /// The wall-clock backstop per transaction (a node fault past it).
    pub tx_timeout: Duration,
    /// A replica of a cluster (`--etcd`) rather than a single node.
    pub cluster: Option<ClusterConfig>,
    /// Threads a block runs on (`--threads`; 1: in order). Default: the
    /// machine's cores. Blocks are the same whatever it is.
    pub threads: usize,
    /// Tier-up on wasmtime (`--no-tier-up` turns it off): a contract no
    /// node compiled before runs on wasmi for its first calls while
    /// wasmtime compiles it in the background. Default: on.
    pub tier_up: bool,
    /// The system runtimes contracts may be deployed for (`--runtime`):
    /// recorded in the chain's settings when it is created, and then the
    /// same on every start. Default: none.
    pub runtimes: Vec<runtimes::RuntimeSpec>,
    /// The genesis of a new chain (`--genesis FILE`), checked against an
    /// existing one's. Without one, a `--dev` node's chain starts from
    /// [`Genesis::dev`]; any other new chain is refused.
    pub genesis: Option<Genesis>,
    /// The lowest gas price this node admits (`--min-gas-price`), above
    /// the chain's own minimum if higher. Default: 0.
    pub min_gas_price: u128,
    /// Take a snapshot of the state every this many blocks
    /// (`--snapshot-interval`; 0: never). `None`, the default: never on a
    /// single node, and every [`ClusterConfig::log_retention_blocks`]
    /// blocks on a replica, since the cluster's log is compacted only
    /// below snapshots that two replicas hold ([`NodeConfig::snapshot_every`]).
    pub snapshot_interval: Option<u64>,
    /// Snapshots kept, the newest (`--snapshot-keep`). Default: 2.
    pub snapshot_keep: usize,
    /// A replica with an empty data directory restores the newest
    /// snapshot other replicas advertise before it replays the log
    /// (`--state-sync`). Default: off.
    pub state_sync: bool,
    /// Where the `backup` method writes copies of the store
    /// (`--backup-dir`); without one, backups are off.
    pub backup_dir: Option<PathBuf>,
    /// Keep the state tree of the last this many blocks only
    /// (`--prune-history`): older heights' proofs answer `pruned`, and
    /// the nodes only they need are deleted. `None` (the default): an
    /// archive node, keeping everything.
    pub prune_history: Option<u64>,
    /// Fork another node's chain (`--fork URL`, dev nodes only): its
    /// settings and a block of its as this chain's base, its state read
    /// as needed and kept (`docs/node.md`, "Forking a chain"). `None`
    /// (the default): a chain of its own.
    pub fork: Option<fork::ForkConfig>,
}

impl NodeConfig {
    /// Defaults over `data_dir`.
    pub fn new(data_dir: PathBuf) -> Self {
        NodeConfig {
            data_dir,
            listen: SocketAddr::from(([127, 0, 0, 1], 8645)),
            allow_remote: false,
            backend: BackendKind::Wasmtime,
            chain_id: DEFAULT_CHAIN_ID.to_owned(),
            block_time_ms: 0,
            max_block_gas: None,
            dev: false,
            limits: RpcLimits::default(),
            access: Access::default(),
            tx_timeout: Duration::from_secs(10),
            cluster: None,
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            tier_up: true,
            runtimes: Vec::new(),
            genesis: None,
            min_gas_price: 0,
            snapshot_interval: None,
            snapshot_keep: 2,
            state_sync: false,
            backup_dir: None,
            prune_history: None,
            fork: None,
        }
    }
}

impl NodeConfig {
    /// How many blocks apart snapshots are taken (0: never): the
    /// configured interval, else every `--log-retention-blocks` blocks on
    /// a replica (256 by default: a snapshot costs a scan of the whole
    /// state and its size on disk, twice with `--snapshot-keep 2`, on a
    /// thread of its own) and never on a single node.
    pub fn snapshot_every(&self) -> u64 {
        match (self.snapshot_interval, &self.cluster) {
            (Some(interval), _) => interval,
            (None, Some(cluster)) => cluster.log_retention_blocks.max(1),
            (None, None) => 0,
        }
    }
}

/// Why a node could not start or stopped badly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum NodeError {
    /// The data directory's state.
    #[error(transparent)]
    State(#[from] StateError),
    /// The chain's recorded settings disagree with this node.
    #[error("{0}")]
    Settings(String),
    /// The configuration is not usable.
    #[error("{0}")]
    Config(String),
    /// Listening or serving failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// A replica halted on a divergence (`--halt-on-divergence`).
    #[error("halted: {0}")]
    Diverged(String),
}

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
    let Some(replica) = shared.replica.as_ref() else {
        return;
    };
    if shared.config.snapshot_every() == 0 {
        tracing::warn!(
            "this replica takes no snapshots (--snapshot-interval 0): the cluster's log is compacted only below a snapshot two replicas hold, so without two others taking them it grows until etcd's quota stops the cluster"
        );
        return;
    }
    let (handle, log) = (runtime.handle().clone(), replica.log.clone());
    let id = replica.config.replica_id.clone();
    let url = format!("http://{addr}");
    shared.snapshots.advertise_with(Box::new(move |held| {
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
    if shared.replica.is_some() {
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
        if let Some(replica) = &shared.replica {
            *sync::lock(&replica.claim) = claim;
        }
        #[cfg(not(feature = "etcd"))]
        let _: Option<std::convert::Infallible> = claim;
        let listener = runtime.block_on(tokio::net::TcpListener::bind(shared.config.listen))?;
        let addr = listener.local_addr()?;
        let (stop_server, stopped) = tokio::sync::watch::channel(false);
        runtime.spawn(expiry::run(shared.clone(), stopped.clone()));
        let server = runtime.spawn(server::serve(listener, shared.clone(), stopped));
        let producer = spawn_writer(&shared, &runtime)?;
        advertise(&shared, &runtime, addr);
        tracing::info!(%addr, chain = %shared.settings.chain_id, "node started");
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
        &self.shared.settings
    }

    /// The dev accounts' addresses and secret keys (empty without dev
    /// mode).
    pub fn dev_accounts(&self) -> Vec<(ward_primitives::Address, [u8; 32])> {
        self.shared
            .dev_keys
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
        let mut halted = self.shared.halted.subscribe();
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
        let mut halted = self.shared.halted.subscribe();
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
        self.shared.snapshots.finish();
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
