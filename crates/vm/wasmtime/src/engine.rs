//! The backend: wasmtime's engine configured for Ward's feature set, stack
//! and pooling, compilation, and the [`Backend`] implementation.

use std::{
    hash::{Hash, Hasher},
    sync::{Arc, OnceLock},
    time::Duration,
};

use ward_vm::{
    Backend, BackendKind, CallContext, Config, EngineModule, ErrorKind, ExportType, Failure,
    ImportType, Module, Sandbox,
    recycle::{self, RecycleBudget, RecyclePool, Recycled},
};
use wasmtime::{Engine, Instance, Linker, StoreLimits, StoreLimitsBuilder};

use crate::convert::extern_type;
use crate::linker::build_linker;
use crate::sandbox::StoreData;
use crate::sandbox::WasmtimeSandbox;

/// Native stack wasm may use: several times what Ward's default stack-unit
/// limit can need, so that Ward's deterministic limit fires first.
pub(crate) const WASM_STACK_BYTES: usize = 1 << 20;

/// How often the epoch ticker advances the engine's epoch.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Ward's wasmtime backend. Create one per [`Config`] and share it.
pub struct WasmtimeBackend {
    pub(crate) engine: Engine,
    pub(crate) fingerprint: String,
    pub(crate) pooled: bool,
    pub(crate) shared: Arc<Shared>,
    /// The epoch ticker, once asked for: started, or why it could not be
    /// (then deadlines never fire, which [`Backend::health`] reports).
    pub(crate) ticker: OnceLock<Result<(), String>>,
    /// The ticker thread's stack (a test asks for one no system gives, to
    /// see a failed start reported).
    ticker_stack: usize,
}

/// The epoch ticker's stack: it only sleeps and bumps a counter.
const TICKER_STACK_BYTES: usize = 64 << 10;

/// What every sandbox of a backend shares (one reference count per
/// sandbox).
pub(crate) struct Shared {
    pub(crate) linker: Linker<StoreData>,
    pub(crate) config: Config,
    pub(crate) limits: StoreLimits,
    /// What recycled instances may hold.
    pub(crate) budget: Arc<RecycleBudget>,
}

impl WasmtimeBackend {
    /// Creates a backend: an engine with exactly the configured features,
    /// and a linker holding the host ABI and the configured host imports.
    ///
    /// # Errors
    ///
    /// When wasmtime rejects the engine configuration.
    pub fn new(config: &Config) -> Result<Self, Failure> {
        let pooled = config
            .pooling
            .then(|| Engine::new(&pooled_engine_config(config)));
        let (engine, pooled) = match pooled {
            Some(Ok(engine)) => (engine, true),
            Some(Err(err)) => {
                tracing::warn!(
                    "wasmtime pooling allocator unavailable ({err:#}); allocating instances on demand"
                );
                (
                    Engine::new(&engine_config(config)).map_err(engine_failure)?,
                    false,
                )
            }
            None => (
                Engine::new(&engine_config(config)).map_err(engine_failure)?,
                false,
            ),
        };
        let linker = build_linker(&engine, config).map_err(engine_failure)?;
        let fingerprint = {
            let mut hasher = std::hash::DefaultHasher::new();
            engine.precompile_compatibility_hash().hash(&mut hasher);
            format!("wasmtime-{WASMTIME_VERSION};{:016x}", hasher.finish())
        };
        Ok(WasmtimeBackend {
            engine,
            fingerprint,
            pooled,
            shared: Arc::new(Shared {
                linker,
                config: config.clone(),
                limits: StoreLimitsBuilder::new()
                    .memory_size(config.policy.limits.max_memory_pages as usize * 65536)
                    .table_elements(config.policy.limits.max_table_elements as usize)
                    .build(),
                // A quarter of the pool's slots at most: recycled instances
                // never starve new ones.
                budget: Arc::new(RecycleBudget::new(
                    config.recycle_bytes,
                    u64::from(config.max_instances / 4),
                )),
            }),
            ticker: OnceLock::new(),
            ticker_stack: TICKER_STACK_BYTES,
        })
    }

    /// This backend with its timeout thread (the epoch ticker) asking for
    /// a stack of `bytes`: for tests of what happens when that thread
    /// cannot start (a stack no system can give makes its start fail).
    #[doc(hidden)]
    pub fn with_ticker_stack(mut self, bytes: usize) -> Self {
        self.ticker_stack = bytes;
        self
    }

    /// Whether instances come from the pooling allocator (false when it was
    /// turned off or could not reserve its address space).
    pub fn is_pooled(&self) -> bool {
        self.pooled
    }

    /// The wasmtime engine (for benchmarks that compare against raw wasmtime).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Wraps a compiled module with what Ward knows about it.
    pub(crate) fn describe(&self, module: wasmtime::Module) -> EngineModule {
        let imports = module
            .imports()
            .map(|i| ImportType {
                module: i.module().to_string(),
                name: i.name().to_string(),
                ty: extern_type(&i.ty()),
            })
            .collect();
        let exports = module
            .exports()
            .map(|e| ExportType {
                name: e.name().to_string(),
                ty: extern_type(&e.ty()),
            })
            .collect();
        let image = module.image_range();
        let footprint = (image.end as usize).saturating_sub(image.start as usize);
        // Pre-link against the backend's linker once, when every import is
        // a host function it defines: instantiating then skips name lookups.
        let pre = self.shared.linker.instantiate_pre(&module).ok();
        let memory = module.get_export_index(ward_abi::MEMORY_EXPORT);
        let gas = module.get_export_index(ward_instrument::GAS_EXPORT);
        let mut by_name: Vec<(String, wasmtime::ModuleExport)> = module
            .exports()
            .filter_map(|e| Some((e.name().to_string(), module.get_export_index(e.name())?)))
            .collect();
        by_name.sort_by(|a, b| a.0.cmp(&b.0));
        let trap = module.get_export_index(ward_instrument::TRAP_EXPORT);
        let reset = module.get_export_index(ward_instrument::RESET_EXPORT);
        let dirty = module.get_export_index(ward_instrument::DIRTY_EXPORT);
        let compiled = Compiled {
            module,
            pre,
            memory,
            gas,
            trap,
            reset,
            dirty,
            by_name,
            recycled: RecyclePool::new(self.shared.budget.clone()),
        };
        EngineModule {
            backend: BackendKind::Wasmtime,
            imports,
            exports,
            footprint,
            code: Arc::new(compiled),
        }
    }

    /// Starts the epoch ticker that makes deadlines fire, once; a thread
    /// that cannot start is remembered (and logged) for
    /// [`Backend::health`]: calls still run, but past their deadline.
    pub(crate) fn start_ticker(&self) -> &Result<(), String> {
        self.ticker.get_or_init(|| {
            let weak = self.engine.weak();
            let started = std::thread::Builder::new()
                .name("ward-epoch".into())
                .stack_size(self.ticker_stack)
                .spawn(move || {
                    while let Some(engine) = weak.upgrade() {
                        engine.increment_epoch();
                        drop(engine);
                        std::thread::sleep(EPOCH_TICK);
                    }
                });
            started.map(drop).map_err(|e| {
                let why = format!(
                    "the timeout thread (wasmtime's epoch ticker) could not start: {e}; calls are not stopped at their deadline"
                );
                tracing::error!("{why}");
                why
            })
        })
    }
}

pub(crate) fn engine_config(config: &Config) -> wasmtime::Config {
    let mut c = wasmtime::Config::new();
    // Exactly Ward's feature set; everything newer is off.
    c.wasm_simd(config.policy.features.simd)
        .wasm_relaxed_simd(false)
        .wasm_multi_memory(false)
        .wasm_memory64(false)
        .wasm_tail_call(false)
        .wasm_function_references(false)
        .wasm_gc(false)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false)
        .wasm_reference_types(true)
        .wasm_bulk_memory(true)
        .wasm_multi_value(true)
        .epoch_interruption(config.interruptible)
        // Ward's own call-depth limit (instrumentation) must always fire
        // first: give wasm ample native stack beneath it. Async calls run on
        // fibers whose stacks must be larger still.
        .max_wasm_stack(WASM_STACK_BYTES)
        .async_stack_size(WASM_STACK_BYTES * 2)
        // Backtraces cost time on every trap and never enter results.
        .wasm_backtrace_max_frames(None)
        // Under tier-up every compile runs on the worker thread: on one
        // core, leaving the others to the calls running meanwhile. The
        // machine code (and the artifacts' compatibility) is the same.
        .parallel_compilation(!config.tier_up);
    // For profiling only (CONTRIBUTING.md): `WARD_PERFMAP=1` writes
    // /tmp/perf-PID.map so that `perf report` names compiled functions.
    // The machine code is the same.
    if std::env::var_os("WARD_PERFMAP").is_some() {
        c.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    c
}

/// The engine configuration plus the pooling allocator, sized from the
/// limits: one slot per live instance, each memory slot as large as the
/// largest memory a module may have, small memories and tables kept
/// resident between uses so a fresh instance costs no page faults.
pub(crate) fn pooled_engine_config(config: &Config) -> wasmtime::Config {
    let limits = &config.policy.limits;
    let slots = config.max_instances.max(1);
    let mut pool = wasmtime::PoolingAllocationConfig::new();
    pool.total_core_instances(slots)
        .total_memories(slots)
        .total_tables(slots.saturating_mul(limits.max_tables.max(1)))
        .total_stacks(slots)
        .max_memories_per_module(1)
        .max_tables_per_module(limits.max_tables.max(1))
        .table_elements(limits.max_table_elements as usize)
        .max_memory_size((limits.max_memory_pages as usize).saturating_mul(65536))
        .linear_memory_keep_resident(KEEP_RESIDENT_BYTES)
        .table_keep_resident(KEEP_RESIDENT_BYTES)
        // Reset only the pages a call dirtied, where the kernel can say
        // which (Linux 6.7+): a contract touching a few pages of a large
        // memory is not charged a memset of the whole resident prefix.
        .pagemap_scan(wasmtime::Enabled::Auto);
    let mut c = engine_config(config);
    c.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    c
}

/// Memory and table bytes the pool keeps resident (zeroed in place rather
/// than unmapped) between one instance and the next in a slot.
pub(crate) const KEEP_RESIDENT_BYTES: usize = 64 << 10;

/// The wasmtime release the workspace pins (`=` in Cargo.toml).
pub(crate) const WASMTIME_VERSION: &str = "48.0.8";

pub(crate) fn engine_failure(err: wasmtime::Error) -> Failure {
    Failure::new(
        ErrorKind::HostError,
        format!("wasmtime engine setup failed: {err}"),
    )
}

impl Backend for WasmtimeBackend {
    fn chain_requests(&self) -> bool {
        self.shared.config.chain_requests
    }

    fn health(&self) -> Result<(), String> {
        if !self.shared.config.interruptible {
            return Ok(());
        }
        self.start_ticker().clone()
    }

    fn kind(&self) -> BackendKind {
        BackendKind::Wasmtime
    }

    fn sibling(&self, config: &Config) -> Result<Arc<dyn Backend>, Failure> {
        Ok(Arc::new(WasmtimeBackend::new(config)?))
    }

    fn compile(&self, wasm: &[u8]) -> Result<EngineModule, Failure> {
        let module = wasmtime::Module::new(&self.engine, wasm)
            .map_err(|e| Failure::new(ErrorKind::InvalidWasm, format!("{e:#}")))?;
        Ok(self.describe(module))
    }

    fn fingerprint(&self) -> String {
        self.fingerprint.clone()
    }

    fn serialize(&self, module: &Module) -> Option<Vec<u8>> {
        module.downcast::<Compiled>()?.module.serialize().ok()
    }

    #[allow(unsafe_code)]
    unsafe fn deserialize(&self, artifact: &[u8]) -> Result<EngineModule, Failure> {
        // SAFETY: the caller guarantees (the trait's contract) that these
        // bytes are exactly an artifact `serialize` produced on an engine
        // with this fingerprint; the disk cache checks a checksum over them
        // and the full cache key before calling. wasmtime itself still
        // refuses artifacts of another version or configuration.
        let module = unsafe { wasmtime::Module::deserialize(&self.engine, artifact) }
            .map_err(|e| Failure::new(ErrorKind::HostError, format!("{e:#}")))?;
        Ok(self.describe(module))
    }

    fn sandbox(&self, context: CallContext) -> Box<dyn Sandbox> {
        Box::new(self.new_sandbox(context))
    }

    fn recycled_instances(&self) -> u64 {
        self.shared.budget.handed_out()
    }

    fn sandbox_for(&self, module: &Module, context: CallContext) -> Box<dyn Sandbox> {
        recycle::sandbox_for(module, &self.shared.budget, context, |context| {
            self.new_sandbox(context)
        })
    }
}

/// A compiled module, pre-linked when it can be, with the export indices
/// the host functions need.
pub(crate) struct Compiled {
    pub(crate) module: wasmtime::Module,
    /// Pre-linked against the backend's linker (`None` when some import
    /// needs an explicit link).
    pub(crate) pre: Option<wasmtime::InstancePre<StoreData>>,
    pub(crate) memory: Option<wasmtime::ModuleExport>,
    pub(crate) gas: Option<wasmtime::ModuleExport>,
    /// `__ward_trap`, the meter of a self-metered module.
    pub(crate) trap: Option<wasmtime::ModuleExport>,
    /// `__ward_reset`, which a recycled instance's globals are reset with.
    pub(crate) reset: Option<wasmtime::ModuleExport>,
    /// `__ward_dirty`, the memory granules a recycled instance's calls
    /// wrote.
    pub(crate) dirty: Option<wasmtime::ModuleExport>,
    /// Every export's index, by name, sorted: lookups without hashing.
    pub(crate) by_name: Vec<(String, wasmtime::ModuleExport)>,
    /// Recycled instances of this module.
    pub(crate) recycled: RecyclePool<Recycled<WasmtimeSandbox, Instance>>,
}
