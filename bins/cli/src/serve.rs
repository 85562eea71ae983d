//! `ward serve`: run a node over a data directory (`docs/node.md`).

use std::{io::Write, net::SocketAddr, path::PathBuf, process::ExitCode, time::Duration};

use clap::Args;
use ward_devkeys as devkeys;
use ward_node::{ClusterConfig, Node, NodeConfig, NodeError, RpcLimits};
use ward_text::parse;
use ward_vm::BackendKind;

/// `ward serve`.
#[derive(Args, Debug)]
pub(crate) struct ServeArgs {
    /// The data directory (created when missing).
    #[arg(long, default_value = "./.ward")]
    data_dir: PathBuf,
    /// Where to listen for HTTP (JSON-RPC at /rpc, WebSocket at /ws).
    #[arg(long, default_value = ward_node::DEFAULT_LISTEN)]
    listen: SocketAddr,
    /// Allow a --listen address other than loopback.
    #[arg(long)]
    allow_remote: bool,
    /// The engine.
    #[arg(long, default_value = "wasmtime")]
    backend: BackendKind,
    /// The chain id, recorded when the data directory is created; a node
    /// refuses a directory of another chain. Default: the genesis's, or
    /// `ward-dev`.
    #[arg(long)]
    chain_id: Option<String>,
    /// The chain's genesis (JSON: its id, native asset, starting balances,
    /// minimum gas price, fee collector and limits; `ward genesis FILE`
    /// writes a template): needed to create a chain without --dev, and
    /// checked against an existing one's.
    #[arg(long, value_name = "FILE")]
    genesis: Option<PathBuf>,
    /// The lowest gas price this node admits, in the asset's smallest
    /// unit (the chain's own minimum if higher).
    #[arg(long, default_value = "0", value_parser = parse::amount_arg)]
    min_gas_price: u128,
    /// 0: a block as soon as transactions wait; N: a block every N ms.
    #[arg(long, default_value_t = 0, value_parser = parse::u64_arg)]
    block_time_ms: u64,
    /// Take a snapshot of the state every N blocks into
    /// DATA_DIR/snapshots and serve it over HTTP (0: never). Default:
    /// never on a single node; every --log-retention-blocks blocks on a
    /// replica, whose cluster compacts its log only below snapshots two
    /// replicas hold.
    #[arg(long, value_parser = parse::u64_arg, value_name = "N")]
    snapshot_interval: Option<u64>,
    /// Where the `backup` method (`ward backup NAME --node URL`) writes
    /// consistent copies of the store; without it, backups are off.
    #[arg(long, value_name = "DIR")]
    backup_dir: Option<PathBuf>,
    /// Keep the state tree of the last N blocks only (older heights'
    /// proofs answer `pruned`); without it, an archive node.
    #[arg(long, value_parser = parse::u64_arg, value_name = "N")]
    prune_history: Option<u64>,
    /// How many snapshots to keep, the newest.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(1..=1000), value_name = "N")]
    snapshot_keep: u64,
    /// The most gas (sum of limits) one block may hold, for a new chain.
    #[arg(long, value_parser = parse::gas_arg)]
    max_block_gas: Option<u64>,
    /// Dev mode: dev accounts the node signs for, `mine`, `snapshot` /
    /// `revert`, `impersonate`, `setBalance`, `setStorage`, `setCode`.
    #[arg(long)]
    dev: bool,
    /// What this dev node answers to `web3_clientVersion` (default:
    /// `ward/v<version>`). Hardhat's network helpers (`loadFixture`,
    /// `time`, `mine`) drive only a node whose answer starts with
    /// `HardhatNetwork`: `--client-version HardhatNetwork/2.22.0/ward`.
    #[arg(long, value_name = "TEXT", requires = "dev")]
    client_version: Option<String>,
    /// Answer a send whose transaction fails in its automined block with
    /// an error that carries the revert data and the transaction's hash
    /// (the transaction is mined all the same), as Hardhat's network does
    /// (`throwOnTransactionFailures`); without it, the hash, as geth and
    /// anvil answer.
    #[arg(long, requires = "dev")]
    throw_on_tx_failures: bool,
    /// Fork the chain of the node at URL (needs --dev and a new data
    /// directory, or one forked before): its settings and a block of its
    /// as this chain's base, its state read as needed and kept here;
    /// nothing is sent to it.
    #[arg(long, value_name = "URL", requires = "dev")]
    fork: Option<String>,
    /// The source's block to fork after (default: its latest).
    #[arg(long, value_name = "H", requires = "fork", value_parser = parse::u64_arg)]
    fork_height: Option<u64>,
    /// Largest request body in bytes (over it: HTTP 413).
    #[arg(long, default_value_t = RpcLimits::default().max_body_bytes as u64, value_parser = parse::u64_arg)]
    max_body_bytes: u64,
    /// Deepest JSON nesting of a request.
    #[arg(long, default_value_t = RpcLimits::default().max_json_depth as u64, value_parser = parse::u64_arg)]
    max_json_depth: u64,
    /// Most requests in one batch.
    #[arg(long, default_value_t = RpcLimits::default().max_batch as u64, value_parser = parse::u64_arg)]
    max_batch: u64,
    /// Most open connections.
    #[arg(long, default_value_t = RpcLimits::default().max_connections as u64, value_parser = parse::u64_arg)]
    max_connections: u64,
    /// How long one HTTP request may take, in milliseconds.
    #[arg(long, default_value_t = RpcLimits::default().request_timeout.as_millis() as u64, value_parser = parse::u64_arg)]
    request_timeout_ms: u64,
    /// How long a query or a simulation may run, in milliseconds (then
    /// it answers `timeout`).
    #[arg(long, default_value_t = RpcLimits::default().read_timeout.as_millis() as u64, value_parser = parse::u64_arg)]
    read_timeout_ms: u64,
    /// The most gas a query or a simulation may use.
    #[arg(long, default_value_t = RpcLimits::default().query_gas_cap, value_parser = parse::gas_arg)]
    query_gas_cap: u64,
    /// Most transactions waiting in the mempool.
    #[arg(long, default_value_t = RpcLimits::default().mempool_size as u64, value_parser = parse::u64_arg)]
    mempool_size: u64,
    /// Most bytes of signed transactions waiting in the mempool (in a
    /// cluster, also what this replica adds to the shared mempool).
    #[arg(long, default_value_t = RpcLimits::default().mempool_bytes as u64, value_parser = parse::u64_arg)]
    mempool_bytes: u64,
    /// How long a transaction behind a nonce gap may wait for the gap to
    /// be filled, in milliseconds (then it expires).
    #[arg(long, default_value_t = RpcLimits::default().mempool_gapped_ttl.as_millis() as u64, value_parser = parse::u64_arg)]
    mempool_gapped_ttl_ms: u64,
    /// The most bytes of JSON one answer may hold, over HTTP (a batch's
    /// answers together) and WebSocket.
    #[arg(long, default_value_t = RpcLimits::default().max_response_bytes as u64, value_parser = parse::u64_arg)]
    max_response_bytes: u64,
    /// How long a connection may take to send a request's headers, and
    /// stay idle between requests, in milliseconds (then it is closed).
    #[arg(long, default_value_t = RpcLimits::default().header_timeout.as_millis() as u64, value_parser = parse::u64_arg)]
    header_timeout_ms: u64,
    /// An origin (`scheme://host[:port]`) whose web pages may call /rpc
    /// and /ws (repeatable; `*` for any). Pages served from loopback
    /// addresses and localhost always may; others are refused with 403.
    #[arg(long = "allow-origin", value_name = "ORIGIN")]
    allow_origins: Vec<String>,
    /// A host name requests may name in their Host header (repeatable;
    /// `*` for any). IP addresses and localhost always may: a name that is
    /// not listed is refused with 403 (DNS rebinding).
    #[arg(long = "allow-host", value_name = "NAME")]
    allow_hosts: Vec<String>,
    /// Most subscriptions per WebSocket connection.
    #[arg(long, default_value_t = RpcLimits::default().max_subscriptions as u64, value_parser = parse::u64_arg)]
    max_subscriptions: u64,
    /// Threads a block runs on (default: the machine's cores; 1: in
    /// order). Blocks are the same whatever it is.
    #[arg(long, value_parser = parse::u64_arg)]
    threads: Option<u64>,
    /// Compile every contract with wasmtime before its first call, rather
    /// than running its first calls on wasmi while wasmtime compiles it in
    /// the background (tier-up; same outcomes and gas either way).
    #[arg(long)]
    no_tier_up: bool,
    /// Where compiled contracts and system runtimes are kept for the next
    /// start (default: DATA_DIR/cache). Nodes on one machine may share
    /// one: a module one compiled, the others load without compiling.
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// A system runtime contracts may be deployed for (repeatable):
    /// NAME=PATH, or NAME alone for `NAME.wasm` from WARD_RUNTIMES or this
    /// checkout's `make contracts` (`docs/runtimes.md`); `,metered` after
    /// either makes it engine-metered (it also pays for every Wasm
    /// instruction it runs). The chain records them when it is created;
    /// every later start must name the same, metered the same.
    #[arg(long = "runtime", value_name = "NAME[=PATH][,metered]")]
    runtimes: Vec<String>,
    /// Run as a replica of a cluster whose block log is in etcd at these
    /// client endpoints (`host:port`, comma-separated; plain HTTP, no TLS).
    #[arg(long, value_delimiter = ',', value_name = "HOST:PORT")]
    etcd: Vec<String>,
    /// This replica's name in the cluster (with --etcd).
    #[arg(long, requires = "etcd")]
    replica_id: Option<String>,
    /// The prefix of the cluster's keys in etcd.
    #[arg(long, default_value = ward_node::replica::DEFAULT_PREFIX, requires = "etcd")]
    etcd_prefix: String,
    /// Exit with status 3 when this replica's state disagrees with the log.
    #[arg(long, requires = "etcd")]
    halt_on_divergence: bool,
    /// Never propose blocks: a read replica.
    #[arg(long, requires = "etcd")]
    no_propose: bool,
    /// Blocks of the etcd log kept below the newest snapshot two replicas
    /// advertise (and how far behind the head a replica may fall and still
    /// hold the log back).
    #[arg(long, default_value_t = ward_node::replica::DEFAULT_LOG_RETENTION, value_parser = parse::u64_arg, requires = "etcd", value_name = "N")]
    log_retention_blocks: u64,
    /// On an empty data directory, restore the newest snapshot other
    /// replicas advertise (checked against the log) before replaying.
    #[arg(long, requires = "etcd")]
    state_sync: bool,
    /// The proposer's lease in seconds: how long the cluster waits for a
    /// proposer that stopped answering (at least 2).
    #[arg(long, default_value_t = 2, value_parser = parse::u64_arg, requires = "etcd")]
    lease_secs: u64,
}

/// The exit status of a replica halted on a divergence.
const DIVERGED: u8 = 3;

fn size(value: u64) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

pub(crate) fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logs();
    let mut config = NodeConfig::new(args.data_dir);
    config.listen = args.listen;
    config.allow_remote = args.allow_remote;
    config.backend = args.backend;
    let genesis = match &args.genesis {
        None => None,
        Some(path) => {
            let bytes = crate::read_file(path)?;
            let genesis = ward_node::Genesis::from_json(&bytes).map_err(|e| {
                anyhow::anyhow!("the genesis {} does not read: {e}", crate::path_hint(path))
            })?;
            Some(genesis)
        }
    };
    config.chain_id = match (args.chain_id, &genesis) {
        (Some(id), _) => id,
        (None, Some(genesis)) => genesis.chain_id.clone(),
        (None, None) => ward_node::DEFAULT_CHAIN_ID.to_owned(),
    };
    config.genesis = genesis;
    config.min_gas_price = args.min_gas_price;
    config.block_time_ms = args.block_time_ms;
    config.snapshot_interval = args.snapshot_interval;
    config.backup_dir = args.backup_dir;
    config.prune_history = args.prune_history;
    config.snapshot_keep = usize::try_from(args.snapshot_keep).unwrap_or(usize::MAX);
    config.max_block_gas = args.max_block_gas;
    config.dev = args.dev;
    config.client_version = args.client_version;
    config.throw_on_tx_failures = args.throw_on_tx_failures;
    config.fork = args.fork.map(|url| ward_node::fork::ForkConfig {
        url,
        height: args.fork_height,
    });
    config.tier_up = !args.no_tier_up;
    config.cache_dir = args.cache_dir;
    config.runtimes = args
        .runtimes
        .iter()
        .map(|r| ward_node::runtimes::RuntimeSpec::parse(r))
        .collect::<Result<_, _>>()?;
    if let Some(threads) = args.threads {
        config.threads = size(threads).max(1);
    }
    config.limits = RpcLimits {
        max_body_bytes: size(args.max_body_bytes),
        max_json_depth: size(args.max_json_depth),
        max_batch: size(args.max_batch),
        max_connections: size(args.max_connections),
        request_timeout: Duration::from_millis(args.request_timeout_ms),
        query_gas_cap: args.query_gas_cap,
        mempool_size: size(args.mempool_size),
        mempool_bytes: size(args.mempool_bytes),
        mempool_gapped_ttl: Duration::from_millis(args.mempool_gapped_ttl_ms),
        max_subscriptions: size(args.max_subscriptions),
        header_timeout: Duration::from_millis(args.header_timeout_ms.max(1)),
        read_timeout: Duration::from_millis(args.read_timeout_ms.max(1)),
        max_response_bytes: size(args.max_response_bytes),
        ..RpcLimits::default()
    };
    config.access = ward_node::Access {
        origins: args.allow_origins,
        hosts: args.allow_hosts,
    };
    if !args.etcd.is_empty() {
        let id = args
            .replica_id
            .ok_or_else(|| anyhow::anyhow!("--etcd needs --replica-id"))?;
        let mut cluster = ClusterConfig::new(args.etcd, id);
        cluster.prefix = args.etcd_prefix;
        cluster.halt_on_divergence = args.halt_on_divergence;
        cluster.propose = !args.no_propose;
        config.state_sync = args.state_sync;
        cluster.log_retention_blocks = args.log_retention_blocks;
        cluster.lease_ttl = Duration::from_secs(args.lease_secs);
        config.cluster = Some(cluster);
    }
    let node = Node::start(config)?;
    let mut out = std::io::stdout().lock();
    let accounts = node.dev_accounts();
    if !accounts.is_empty() {
        writeln!(
            out,
            "dev accounts (keys derived from the published seed {:?}: never use them elsewhere)",
            devkeys::SEED
        )?;
        for (i, (address, key)) in accounts.iter().enumerate() {
            writeln!(out, "({i}) {address} key 0x{}", hex(key))?;
        }
    }
    let eth_accounts = node.dev_eth_accounts();
    if !eth_accounts.is_empty() {
        writeln!(
            out,
            "Ethereum dev accounts, chain id {} (the test mnemonic {:?}, m/44'/60'/0'/0/i: never use them elsewhere)",
            node.settings().eth_chain_id.unwrap_or_default(),
            devkeys::MNEMONIC
        )?;
        for (i, (address, key)) in eth_accounts.iter().enumerate() {
            writeln!(out, "({i}) 0x{} key 0x{}", hex(address), hex(key))?;
        }
    }
    writeln!(out, "listening on {}", node.url())?;
    out.flush()?;
    drop(out);
    let waited = node.wait_for_signal();
    node.shutdown()?;
    match waited {
        Ok(()) => Ok(ExitCode::SUCCESS),
        Err(NodeError::Diverged(why)) => {
            eprintln!("ward serve: halted: {why}");
            Ok(ExitCode::from(DIVERGED))
        }
        Err(error) => Err(error.into()),
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Structured logs on stderr; `RUST_LOG` sets the level (`error`, `warn`,
/// `info`, `debug`, `trace`; default `info`).
fn init_logs() {
    let level = std::env::var("RUST_LOG")
        .ok()
        .and_then(|v| v.parse::<tracing_subscriber::filter::LevelFilter>().ok())
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
