//! What the node's threads share: the store, the executor, the mempool,
//! the producer's controls, subscriptions and metrics.

use std::sync::{Arc, Mutex};

use ed25519_dalek::SigningKey;
use tokio::sync::broadcast;
use ward_devkeys as devkeys;
use ward_executor::Executor;
use ward_state::{RedbStore, Snapshot, StateRead};
use ward_vm::{CacheOptions, ModuleCache};

use crate::settings::ChainSettingsExt as _;
use crate::{
    config::NodeConfig, decode::Schemas, failure::Failure, mempool::Mempool, metrics::Metrics,
    pool::Pool, replica::Replica, settings::ChainSettings, startup::NodeError,
};

pub(crate) struct Shared {
    config: NodeConfig,
    settings: ChainSettings,
    store: Arc<RedbStore>,
    cache: Arc<ModuleCache>,
    /// The producer's executor, the only writer.
    executor: Arc<Executor<RedbStore>>,
    /// What waits for the next block, behind its one lock.
    pool: Pool,
    /// Every committed block, for subscribers.
    blocks: broadcast::Sender<Arc<crate::announce::Announced>>,
    /// Bytes queued for WebSocket connections, all of them together
    /// (`RpcLimits::ws_total_bytes` bounds it).
    ws_queued: Arc<std::sync::atomic::AtomicUsize>,
    metrics: Metrics,
    dev_keys: Vec<SigningKey>,
    /// A storage fault that stopped block production.
    fault: Mutex<Option<String>>,
    /// Contract schemas by code hash.
    schemas: Schemas,
    /// A replica's status (`ward serve --etcd`); `None` for a single node.
    replica: Option<Replica>,
    /// Why the node halted itself (a replica's divergence with
    /// `--halt-on-divergence`).
    halted: tokio::sync::watch::Sender<Option<String>>,
    /// The snapshots it takes and serves.
    snapshots: Arc<crate::snapshots::Snapshots>,
    /// Held while a backup is written.
    backing_up: Mutex<()>,
    /// Held while a dev node completes and admits a transaction it sends
    /// for a client (`sendTransaction`, `eth_sendTransaction`).
    sending: Mutex<()>,
    /// The addresses a dev node sends as without their keys
    /// (`impersonate`).
    impersonating: Mutex<std::collections::BTreeSet<ward_primitives::Address>>,
    /// Ethereum's polled filters (`eth_newFilter`).
    eth_filters: Mutex<crate::polled::Filters>,
}

/// Refuses what a fork cannot be: anything but a single dev node that
/// keeps its history (its state is read from elsewhere, so it can
/// neither prune it nor snapshot it for others).
fn check_fork(config: &NodeConfig) -> Result<(), NodeError> {
    let refused = |why: &str| Err(NodeError::Config(format!("--fork {why}")));
    if !config.dev {
        return refused("needs --dev: a fork is a development chain");
    }
    if config.genesis.is_some() {
        return refused("takes the source's chain: it cannot have a --genesis");
    }
    if config.max_block_gas.is_some() {
        return refused("takes the source's limits: it cannot have a --max-block-gas");
    }
    if config.cluster.is_some() {
        return refused("runs a single node, not a replica");
    }
    if config.prune_history.is_some() {
        return refused("keeps its history: it cannot have --prune-history");
    }
    if config.snapshot_every() != 0 {
        return refused(
            "holds only part of its state: it cannot serve snapshots (--snapshot-interval)",
        );
    }
    Ok(())
}

/// Writes the genesis state of a chain that has none yet (a new chain, or
/// one whose first start stopped between recording its settings and
/// writing it), and checks that it is the recorded one.
fn write_genesis(
    store: &RedbStore,
    executor: &Executor<RedbStore>,
    settings: &ChainSettings,
    genesis: Option<&crate::genesis::Genesis>,
) -> Result<(), NodeError> {
    if settings.genesis_root.is_empty() || store.height()? != 0 {
        return Ok(());
    }
    let tree = ward_state::StateTree(store);
    if ward_chain::tree::root(&tree, 0)
        .map_err(|e| NodeError::Settings(format!("{e:?}")))?
        .to_string()
        == settings.genesis_root
    {
        return Ok(());
    }
    let Some(genesis) = genesis else {
        return Err(NodeError::Settings(
            "the chain's genesis state was never written: start it again with its --genesis FILE"
                .into(),
        ));
    };
    let accounts = genesis.accounts().map_err(NodeError::Settings)?;
    let root = executor
        .genesis(&accounts)
        .map_err(|e| NodeError::Settings(format!("cannot write the genesis state: {e}")))?;
    if root.to_string() != settings.genesis_root {
        return Err(NodeError::Settings(format!(
            "the genesis state's root is {root}, the recorded one {}",
            settings.genesis_root
        )));
    }
    Ok(())
}

/// The node's store: the data directory's file (refused when the chain
/// file says a store should be there and it is missing), or the test
/// disk in memory of [`NodeConfig::disk`].
fn open_store(config: &NodeConfig) -> Result<RedbStore, NodeError> {
    match &config.disk {
        Some(disk) => Ok(RedbStore::open_on(disk.clone())?),
        None => {
            crate::settings::check_store_present(&config.data_dir)?;
            Ok(RedbStore::create(&config.data_dir)?)
        }
    }
}

impl Shared {
    /// The node's configuration.
    pub(crate) fn config(&self) -> &NodeConfig {
        &self.config
    }

    /// The chain's settings, as recorded at its genesis.
    pub(crate) fn settings(&self) -> &ChainSettings {
        &self.settings
    }

    /// The store: blocks, receipts and the state at the head.
    pub(crate) fn store(&self) -> &Arc<RedbStore> {
        &self.store
    }

    /// The module cache the producer and every reader share.
    pub(crate) fn cache(&self) -> &Arc<ModuleCache> {
        &self.cache
    }

    /// The producer's executor, the only writer.
    pub(crate) fn executor(&self) -> &Arc<Executor<RedbStore>> {
        &self.executor
    }

    /// What waits for the next block, behind its one lock.
    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }

    /// Every committed block, for subscribers.
    pub(crate) fn blocks(&self) -> &broadcast::Sender<Arc<crate::announce::Announced>> {
        &self.blocks
    }

    /// Bytes queued for WebSocket connections, all of them together.
    pub(crate) fn ws_queued(&self) -> &Arc<std::sync::atomic::AtomicUsize> {
        &self.ws_queued
    }

    /// The node's metrics.
    pub(crate) fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// A dev node's Ward accounts' keys (none elsewhere).
    pub(crate) fn dev_keys(&self) -> &[SigningKey] {
        &self.dev_keys
    }

    /// Contract schemas by code hash.
    pub(crate) fn schemas(&self) -> &Schemas {
        &self.schemas
    }

    /// A replica's status; `None` for a single node.
    pub(crate) fn replica(&self) -> Option<&Replica> {
        self.replica.as_ref()
    }

    /// The snapshots the node takes and serves.
    pub(crate) fn snapshots(&self) -> &Arc<crate::snapshots::Snapshots> {
        &self.snapshots
    }

    /// The storage fault that stopped block production, if one did.
    pub(crate) fn fault(&self) -> Option<String> {
        crate::sync::lock(&self.fault).clone()
    }

    /// Whether a storage fault stopped block production.
    pub(crate) fn is_faulted(&self) -> bool {
        crate::sync::lock(&self.fault).is_some()
    }

    /// Records the storage fault that stops block production.
    pub(crate) fn set_fault(&self, fault: String) {
        *crate::sync::lock(&self.fault) = Some(fault);
    }

    /// Halts the node for `why` (a replica's divergence with
    /// `--halt-on-divergence`).
    #[cfg(feature = "etcd")]
    pub(crate) fn halt(&self, why: String) {
        self.halted.send_replace(Some(why));
    }

    /// Why the node halts itself, as it changes.
    pub(crate) fn halts(&self) -> tokio::sync::watch::Receiver<Option<String>> {
        self.halted.subscribe()
    }

    /// Held while a backup is written: one at a time, each reads the
    /// whole store.
    pub(crate) fn one_backup(&self) -> std::sync::MutexGuard<'_, ()> {
        crate::sync::lock(&self.backing_up)
    }

    /// Held while a dev node takes the next free nonce of a sender for a
    /// transaction it completes, and admits it: requests sent at once
    /// (OpenZeppelin's `batchInBlock`, with automine off) each take
    /// their own nonce, as Hardhat's serial node gives them, where read
    /// side by side two took the same one (`already known`).
    pub(crate) fn one_send(&self) -> std::sync::MutexGuard<'_, ()> {
        crate::sync::lock(&self.sending)
    }

    /// `f` of Ethereum's polled filters, under their lock.
    pub(crate) fn with_eth_filters<T>(
        &self,
        f: impl FnOnce(&mut crate::polled::Filters) -> T,
    ) -> T {
        f(&mut crate::sync::lock(&self.eth_filters))
    }

    /// `address`'s committed nonce and the next one free past its
    /// transactions in the mempool, read together under the pool's lock
    /// (a block is committed, then its transactions leave the mempool
    /// under it, so the two agree).
    pub(crate) fn nonces(
        &self,
        address: &ward_primitives::Address,
    ) -> Result<(u64, u64), ward_state::StateError> {
        self.pool
            .pending_nonce(address, |address| self.store.nonce(address))
    }

    /// Whether a dev node sends as `address` without its key.
    pub(crate) fn impersonates(&self, address: &ward_primitives::Address) -> bool {
        crate::sync::lock(&self.impersonating).contains(address)
    }

    /// Starts (`on`) or stops sending as `address` without its key;
    /// whether it is impersonated now.
    pub(crate) fn impersonate(&self, address: ward_primitives::Address, on: bool) -> bool {
        let mut set = crate::sync::lock(&self.impersonating);
        if on {
            set.insert(address);
        } else {
            set.remove(&address);
        }
        set.contains(&address)
    }

    /// Opens the data directory and the engine; `join` connects a replica
    /// to its cluster once the chain's settings are known.
    pub(crate) fn open(
        config: NodeConfig,
        join: impl FnOnce(&ChainSettings) -> Result<Option<Replica>, NodeError>,
    ) -> Result<Shared, NodeError> {
        if config.client_version.is_some() && !config.dev {
            return Err(NodeError::Config(
                "--client-version needs --dev: only a dev node answers as another client".into(),
            ));
        }
        if config.throw_on_tx_failures && !config.dev {
            return Err(NodeError::Config(
                "--throw-on-tx-failures needs --dev: only a dev node mines a send before answering it"
                    .into(),
            ));
        }
        let store = Arc::new(open_store(&config)?);
        let vm_config = crate::config::contract_config(config.tier_up);
        let backend = ward_backends::new(config.backend, &vm_config)
            .map_err(|f| NodeError::Config(f.message))?;
        let options = CacheOptions {
            disk_dir: Some(config.module_cache_dir()),
            ..CacheOptions::default()
        };
        // A dev node without --runtime takes its chain's runtimes (a
        // fork's source's), or the EVM runtime for a new chain.
        let defaults = config.dev && config.dev_runtimes && config.runtimes.is_empty();
        let recorded = match (&config.fork, defaults) {
            (_, false) => None,
            (Some(fork), true) => Some(crate::fork::chain_runtimes(&store, fork)?),
            (None, true) => ChainSettings::recorded(&store)?.map(|s| s.runtimes),
        };
        let specs = crate::runtimes::dev_defaults(&config.runtimes, defaults, recorded.as_ref())?;
        let (runtimes, registered) =
            crate::runtimes::register(&specs, &backend, &vm_config, &options)?;
        let runtimes = Arc::new(runtimes);
        let dev_genesis = (config.dev && config.genesis.is_none())
            .then(|| crate::genesis::Genesis::dev(&config.chain_id));
        let genesis = config.genesis.as_ref().or(dev_genesis.as_ref());
        let settings = match &config.fork {
            Some(fork) => {
                check_fork(&config)?;
                let dev_accounts = crate::genesis::dev_addresses();
                crate::fork::open(&store, fork, &registered, &dev_accounts)?
            }
            None => {
                if crate::fork::recorded(&store)?.is_some() {
                    return Err(NodeError::Settings(
                        "this data directory is a fork of another chain: start it with --dev --fork URL (a node of that chain)".into(),
                    ));
                }
                ChainSettings::open(
                    &store,
                    &config.chain_id,
                    config.max_block_gas,
                    &registered,
                    genesis,
                )?
            }
        };
        crate::settings::record_chain_file(&config.data_dir, &settings)?;
        let replica = join(&settings)?;
        let cache = Arc::new(
            ModuleCache::new(backend, &vm_config, options)
                .map_err(|e| NodeError::Config(format!("module cache: {e}")))?,
        );
        let executor = Executor::with_cache(store.clone(), cache.clone())
            .with_millisecond_blocks()
            .with_runtimes(runtimes.clone())
            .with_limits(settings.limits())
            .with_timeout(Some(config.tx_timeout))
            .with_threads(config.threads)
            .with_fees(settings.fees()?)
            .with_eth_chain_id(settings.eth_chain_id);
        write_genesis(&store, &executor, &settings, genesis)?;
        let dev_keys = if config.dev {
            (0..devkeys::ACCOUNTS).map(devkeys::key).collect()
        } else {
            Vec::new()
        };
        let snapshots = Arc::new(crate::snapshots::Snapshots::open(
            &config.data_dir,
            config.snapshot_every(),
            config.snapshot_keep,
        )?);
        let metrics = Metrics::new();
        metrics
            .height
            .set(i64::try_from(store.height()?).unwrap_or(i64::MAX));
        Ok(Shared {
            pool: Pool::new(
                Mempool::new(config.limits.mempool_size, config.limits.mempool_bytes)
                    .with_gapped_ttl(config.limits.mempool_gapped_ttl),
                metrics.mempool.clone(),
                crate::pool::Mining::of(config.block_time_ms),
            ),
            blocks: broadcast::channel(config.limits.ws_queue.max(1)).0,
            ws_queued: Arc::default(),
            metrics,
            dev_keys,
            fault: Mutex::new(None),
            schemas: Schemas::new(),
            replica,
            halted: tokio::sync::watch::channel(None).0,
            snapshots,
            backing_up: Mutex::new(()),
            sending: Mutex::new(()),
            impersonating: Mutex::default(),
            eth_filters: Mutex::default(),
            config,
            settings,
            store,
            cache,
            executor: Arc::new(executor),
        })
    }

    /// An executor reading the chain as of `height` (latest: `None`),
    /// sharing the compiled-module cache: for queries and simulations,
    /// which never see a block half-committed.
    pub(crate) fn reader(
        &self,
        height: Option<u64>,
    ) -> Result<Executor<Snapshot<Arc<RedbStore>>>, Failure> {
        let snapshot = match height {
            None => Snapshot::latest(self.store.clone()),
            Some(h) => {
                let top = self.store.height()?;
                if h > top {
                    return Err(Failure::NotFound(format!(
                        "no block {h}: the chain is at {top}"
                    )));
                }
                Snapshot::new(self.store.clone(), h)
            }
        }?;
        Ok(Executor::with_cache(Arc::new(snapshot), self.cache.clone())
            .with_millisecond_blocks()
            .with_runtimes(self.executor.runtimes().clone())
            .with_limits(self.settings.limits())
            .with_fees(*self.executor.fees())
            .with_eth_chain_id(self.settings.eth_chain_id)
            .with_timeout(Some(self.config.limits.read_timeout)))
    }

    /// [`Shared::reader`] for Ethereum's calls and estimates (`eth_call`,
    /// `eth_estimateGas`, `debug_traceCall`): on a dev node a sender that
    /// cannot pay for the call is given what it lacks first, as Hardhat's
    /// network and anvil run them
    /// ([`Executor::with_funded_senders`]); elsewhere, as geth, it is
    /// refused.
    pub(crate) fn call_reader(
        &self,
        height: Option<u64>,
    ) -> Result<Executor<Snapshot<Arc<RedbStore>>>, Failure> {
        let reader = self.reader(height)?;
        Ok(if self.config.dev {
            reader.with_funded_senders()
        } else {
            reader
        })
    }

    /// The lowest gas price this node admits: its own floor or the
    /// chain's minimum, whichever is higher.
    pub(crate) fn min_gas_price(&self) -> u128 {
        self.config.min_gas_price.max(self.settings.min_gas_price.0)
    }

    /// Asks the producer to finish its block and stop.
    pub(crate) fn stop_producer(&self) {
        self.pool.stop();
    }
}
