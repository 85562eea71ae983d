//! Making an executor: its constructors, the `with_*` settings and
//! what they read back, and the cancel flag of the runs to come.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use ward_state::StateCommit;
use ward_vm::{Backend, CacheOptions, Config, ModuleCache};

use crate::{BlockTimings, ChainLimits, Executor, Fees, Runtimes, Speculation, lock};

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// An executor over `store`, running contracts on `backend` (created
    /// with `config`).
    pub fn new(store: Arc<S>, backend: Arc<dyn Backend>, config: &Config) -> Self {
        let cache = ModuleCache::new(backend, config, CacheOptions::default())
            .unwrap_or_else(|_| unreachable!("a cache without a disk directory cannot fail"));
        Executor::with_cache(store, Arc::new(cache))
    }

    /// An executor over `store` sharing `cache` (its backend and config)
    /// with other executors: what one compiled, the others do not compile
    /// again.
    pub fn with_cache(store: Arc<S>, cache: Arc<ModuleCache>) -> Self {
        let runtimes = Arc::new(Runtimes::new(cache.backend().clone(), cache.config()));
        Executor {
            store,
            backend: cache.backend().clone(),
            schedule: cache.config().policy.schedule,
            runtimes,
            cache,
            limits: ChainLimits::default(),
            timeout: None,
            cancel: Mutex::new(None),
            timings: Mutex::new(BlockTimings::default()),
            threads: 1,
            speculation: Mutex::new(Speculation::default()),
            tree_cache: ward_chain::tree::TreeCache::new(),
            fees: Fees::default(),
            time_per_second: 1,
            eth_chain_id: 0,
            fund_senders: false,
        }
    }

    /// Runs every transaction as if its sender held what it needs: one
    /// holding less than `gas_limit × gas_price + value` is given the
    /// rest before it pays, as Hardhat's network and anvil run calls and
    /// estimates (a dev node's `eth_call`, `eth_estimateGas` and
    /// `debug_traceCall`). Only for an executor that commits nothing (a
    /// node's reader over a snapshot): the state it makes is not a
    /// chain's.
    pub fn with_funded_senders(mut self) -> Self {
        self.fund_senders = true;
        self
    }

    /// Contracts see `chain_id` as the chain's Ethereum chain id
    /// (`ward.chain_id`, the EVM's `CHAINID`; default: none, 0). It is a
    /// chain setting (`eth_chain_id`): every node of a chain sets the same.
    pub fn with_eth_chain_id(mut self, chain_id: Option<u64>) -> Self {
        self.eth_chain_id = chain_id.unwrap_or(0);
        self
    }

    /// Block times are milliseconds (a node's are): contracts still see
    /// seconds (`ward.block_time`, the EVM's `TIMESTAMP`, WASI's clocks),
    /// the block's time divided by 1000. By default block times are
    /// seconds, as contracts see them.
    pub fn with_millisecond_blocks(mut self) -> Self {
        self.time_per_second = 1000;
        self
    }

    /// Whether block times are milliseconds ([`Executor::with_millisecond_blocks`]).
    pub fn millisecond_blocks(&self) -> bool {
        self.time_per_second == 1000
    }

    /// What contracts see of block time `time`: seconds.
    pub(crate) fn contract_time(&self, time: u64) -> u64 {
        time / self.time_per_second
    }

    /// Sets how gas is paid for (default: [`Fees::default`], free gas
    /// for transactions that name no price).
    pub fn with_fees(mut self, fees: Fees) -> Self {
        self.fees = fees;
        self
    }

    /// How gas is paid for.
    pub fn fees(&self) -> &Fees {
        &self.fees
    }

    /// Runs blocks on `threads` threads (at least 1; default 1): every
    /// transaction optimistically against the block's starting state,
    /// then an in-order pass that keeps a result when nothing it read was
    /// written by an earlier transaction and runs it again otherwise.
    /// Receipts, events, gas and state are exactly those of running in
    /// order (`crate::parallel`).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Runs contracts deployed for system runtimes on `runtimes` (default:
    /// none registered), which must be on this executor's backend. Which
    /// runtimes a chain has, under which names, is a consensus value.
    pub fn with_runtimes(mut self, runtimes: Arc<Runtimes>) -> Self {
        self.runtimes = runtimes;
        self
    }

    /// The system runtimes.
    pub fn runtimes(&self) -> &Arc<Runtimes> {
        &self.runtimes
    }

    /// The threads a block runs on.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// What the last block run on several threads did with its workers'
    /// results.
    pub fn last_speculation(&self) -> Speculation {
        *lock(&self.speculation)
    }

    /// Sets the chain's limits (defaults: [`ChainLimits::default`]).
    pub fn with_limits(mut self, limits: ChainLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The chain's limits.
    pub fn limits(&self) -> &ChainLimits {
        &self.limits
    }

    /// Bounds the linear memory all frames of a transaction hold at once
    /// ([`ChainLimits::tx_memory_bytes`]).
    pub fn with_tx_memory_bytes(mut self, bytes: u64) -> Self {
        self.limits.tx_memory_bytes = bytes;
        self
    }

    /// A wall-clock backstop per transaction. Gas already bounds the time
    /// a transaction takes; this guards the node against a schedule that
    /// underprices something. When it runs out, the block is aborted with
    /// a [`ward_vm::FaultKind::Timeout`] node fault (how far code gets in a given
    /// time differs between machines, so it can never be a receipt).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Makes `cancel` (or nothing) the flag of every transaction run from
    /// now on: raised from any thread, it ends the running call at its
    /// next check (about a millisecond) and the block with a
    /// [`ward_vm::FaultKind::Cancelled`] node fault that commits nothing, as an
    /// embedder that gives up on a block needs. A raised flag stays
    /// raised: give each block its own.
    pub fn set_cancel(&self, cancel: Option<ward_vm::Cancel>) {
        *lock(&self.cancel) = cancel;
    }

    /// The flag [`Executor::set_cancel`] gave, for a transaction starting.
    pub(crate) fn cancel_flag(&self) -> Option<ward_vm::Cancel> {
        lock(&self.cancel).clone()
    }
}
