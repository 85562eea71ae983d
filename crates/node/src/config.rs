//! How a node is configured and why it fails to start: what `ward serve`'s
//! flags fill in, kept apart from the crate's top (`lib.rs`, which only
//! starts and stops a node), so that the layers below import this and
//! never the top.

use std::{net::SocketAddr, path::PathBuf, time::Duration};

use ward_vm::BackendKind;

use crate::{access::Access, fork, genesis::Genesis, mempool, replica::ClusterConfig, runtimes};

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
    /// `setNextBlockTime`, and Ethereum's block times: every block's
    /// second (what contracts see) after its parent's
    /// ([`NodeConfig::strict_block_seconds`]).
    pub dev: bool,
    /// What a dev node answers to `web3_clientVersion`
    /// (`--client-version`): tools that drive only the dev nodes they
    /// know by this answer (Hardhat's network helpers accept one that
    /// starts with `HardhatNetwork`) drive this one too. `None` (the
    /// default): `ward/v<version>`. Only with `dev`.
    pub client_version: Option<String>,
    /// Whether a dev node answers a send whose transaction fails in its
    /// automined block with an error carrying the revert data and the
    /// transaction's hash (`--throw-on-tx-failures`), as Hardhat's
    /// network does by default (`throwOnTransactionFailures`); the
    /// transaction is mined all the same. Off: the hash, as geth and
    /// anvil answer. Only with `dev`.
    pub throw_on_tx_failures: bool,
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
    /// same on every start. Default: none, except on a dev node
    /// ([`NodeConfig::dev_runtimes`]).
    pub runtimes: Vec<runtimes::RuntimeSpec>,
    /// A dev node given no `runtimes` registers its chain's recorded
    /// ones, or for a new chain the EVM runtime when its module is found
    /// ([`runtimes::dev_defaults`]). Default: true.
    pub dev_runtimes: bool,
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
    /// The store on this disk in memory instead of the data directory's
    /// file: for tests that inject storage faults under a running node
    /// ([`ward_state::faults`]). Everything else (the chain file, the
    /// module cache) stays in the data directory. `None` (the default):
    /// the file.
    pub disk: Option<ward_state::faults::MemoryBackend>,
    /// Where compiled modules and system runtimes are kept for the next
    /// start (`--cache-dir`). `None` (the default): the data directory's
    /// `cache`. Nodes on one machine may share one directory: its files
    /// are written whole under a temporary name and checked when read
    /// (`docs/node.md`, `--cache-dir`).
    pub cache_dir: Option<PathBuf>,
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
            client_version: None,
            throw_on_tx_failures: false,
            limits: RpcLimits::default(),
            access: Access::default(),
            tx_timeout: Duration::from_secs(10),
            cluster: None,
            threads: std::thread::available_parallelism().map_or(1, std::num::NonZero::get),
            tier_up: true,
            runtimes: Vec::new(),
            dev_runtimes: true,
            genesis: None,
            min_gas_price: 0,
            snapshot_interval: None,
            snapshot_keep: 2,
            state_sync: false,
            backup_dir: None,
            prune_history: None,
            fork: None,
            disk: None,
            cache_dir: None,
        }
    }

    /// The module cache's directory: [`NodeConfig::cache_dir`], or the
    /// data directory's `cache`.
    pub fn module_cache_dir(&self) -> PathBuf {
        self.cache_dir
            .clone()
            .unwrap_or_else(|| self.data_dir.join("cache"))
    }

    /// Whether every block's time in seconds, what contracts see
    /// (`block.timestamp`), is greater than its parent's, as Ethereum's
    /// consensus rule and the nodes its tools test against (Hardhat,
    /// anvil, geth's dev mode) require, so that an estimate made in one
    /// second and a block mined in the next agree, and a time a test
    /// takes as past is past: a dev node's blocks, which then run ahead
    /// of the clock when they come faster than one a second, as
    /// Hardhat's do. Other nodes keep millisecond times and may make
    /// many blocks in one second (under load they do); their estimates
    /// cover every second the next block can take instead
    /// (`docs/ethereum.md`, "Block time").
    pub fn strict_block_seconds(&self) -> bool {
        self.dev
    }

    /// The earliest time (milliseconds) a block after one at `last` may
    /// take: the next millisecond, or with
    /// [`NodeConfig::strict_block_seconds`] the start of the next second.
    pub fn earliest_block_time(&self, last: u64) -> u64 {
        if self.strict_block_seconds() {
            (last / 1000).saturating_add(1).saturating_mul(1000)
        } else {
            last.saturating_add(1)
        }
    }

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

/// What `estimateGas` (and `eth_estimateGas`) adds to the least gas that
/// does the job, in percent: room for the state to change between the
/// estimate and the block.
pub const ESTIMATE_MARGIN_PERCENT: u64 = 10;
