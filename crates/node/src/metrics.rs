//! The node's metrics, served at `GET /metrics` in Prometheus's text
//! format; every series is prefixed `ward_` (the list is in
//! `docs/node.md`).

use std::sync::Mutex;

use prometheus_client::{
    encoding::text::encode,
    metrics::{
        counter::Counter,
        family::Family,
        gauge::Gauge,
        histogram::{Histogram, exponential_buckets},
    },
    registry::Registry,
};
use ward_vm::CacheStats;

type Labels = Vec<(String, String)>;

fn seconds() -> Histogram {
    // 10 µs to about 40 s.
    Histogram::new(exponential_buckets(1e-5, 3.0, 15))
}

pub(crate) struct Metrics {
    registry: Registry,
    pub(crate) transactions: Family<Labels, Counter>,
    pub(crate) refused: Family<Labels, Counter>,
    pub(crate) blocks: Counter,
    pub(crate) pipelined: Counter,
    pub(crate) dropped: Counter,
    pub(crate) height: Gauge,
    pub(crate) gas_used: Counter,
    pub(crate) mempool: Gauge,
    pub(crate) tx_seconds: Histogram,
    pub(crate) block_seconds: Histogram,
    pub(crate) root_seconds: Histogram,
    pub(crate) rpc_seconds: Family<Labels, Histogram, fn() -> Histogram>,
    cache_hits: Counter,
    cache_misses: Counter,
    cache_disk_loads: Counter,
    /// The cache's counters at the last scrape.
    cache_seen: Mutex<CacheStats>,
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let mut registry = Registry::with_prefix("ward");
        let metrics = Metrics {
            transactions: Family::default(),
            refused: Family::default(),
            blocks: Counter::default(),
            pipelined: Counter::default(),
            dropped: Counter::default(),
            height: Gauge::default(),
            gas_used: Counter::default(),
            mempool: Gauge::default(),
            tx_seconds: seconds(),
            block_seconds: seconds(),
            root_seconds: seconds(),
            rpc_seconds: Family::new_with_constructor(seconds as fn() -> Histogram),
            cache_hits: Counter::default(),
            cache_misses: Counter::default(),
            cache_disk_loads: Counter::default(),
            cache_seen: Mutex::new(CacheStats::default()),
            registry: Registry::default(),
        };
        registry.register(
            "transactions",
            "Transactions in committed blocks, by receipt status",
            metrics.transactions.clone(),
        );
        registry.register(
            "refused",
            "Transactions refused before any block, by reason",
            metrics.refused.clone(),
        );
        registry.register("blocks", "Blocks committed", metrics.blocks.clone());
        registry.register(
            "blocks_pipelined",
            "Blocks committed while the next one executed",
            metrics.pipelined.clone(),
        );
        registry.register(
            "blocks_dropped",
            "Blocks executed over a block whose commit failed, dropped unacknowledged",
            metrics.dropped.clone(),
        );
        registry.register(
            "height",
            "The latest block's height",
            metrics.height.clone(),
        );
        registry.register(
            "gas_used",
            "Gas used by committed transactions",
            metrics.gas_used.clone(),
        );
        registry.register(
            "mempool_size",
            "Transactions waiting in the mempool",
            metrics.mempool.clone(),
        );
        registry.register(
            "tx_execution_seconds",
            "Execution time per transaction (its block's execution over its transactions)",
            metrics.tx_seconds.clone(),
        );
        registry.register(
            "block_execution_seconds",
            "Time to execute and commit a block, state root included",
            metrics.block_seconds.clone(),
        );
        registry.register(
            "state_root_seconds",
            "Time to compute a block's state tree update",
            metrics.root_seconds.clone(),
        );
        registry.register(
            "rpc_request_seconds",
            "JSON-RPC request latency, by method",
            metrics.rpc_seconds.clone(),
        );
        registry.register(
            "module_cache_hits",
            "Compiled modules found in memory",
            metrics.cache_hits.clone(),
        );
        registry.register(
            "module_cache_misses",
            "Modules compiled",
            metrics.cache_misses.clone(),
        );
        registry.register(
            "module_cache_disk_loads",
            "Compiled modules loaded from the disk cache",
            metrics.cache_disk_loads.clone(),
        );
        Metrics {
            registry,
            ..metrics
        }
    }

    /// The text exposition, with the module cache's counters as of now.
    pub(crate) fn render(&self, cache: CacheStats) -> String {
        {
            let mut seen = crate::sync::lock(&self.cache_seen);
            self.cache_hits
                .inc_by(cache.memory_hits.saturating_sub(seen.memory_hits));
            self.cache_misses
                .inc_by(cache.compiles.saturating_sub(seen.compiles));
            self.cache_disk_loads
                .inc_by(cache.disk_hits.saturating_sub(seen.disk_hits));
            *seen = cache;
        }
        let mut out = String::new();
        if encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    pub(crate) fn label(name: &str, value: &str) -> Labels {
        vec![(name.to_owned(), value.to_owned())]
    }
}
