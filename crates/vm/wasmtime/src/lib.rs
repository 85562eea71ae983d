//! Ward's backend on wasmtime (Cranelift).
//!
//! The one crate that names wasmtime. It adapts wasmtime to
//! [`ward_vm::Backend`]: modules compile with Cranelift, the `ward` host ABI
//! is one linker built once per backend, and [`ward_vm::CallContext`] lives
//! in each store's data.
//!
//! **Suspension** uses wasmtime's async support: a host import that suspends
//! is an async host function whose future returns `Pending` once; the call's
//! outer future, polled by this crate with a no-op waker, then returns
//! `Pending` too, with the guest parked on its own fiber stack. Nothing of
//! the embedder's stack is held. [`Sandbox::resume`] stores the reply and
//! polls again, and the guest continues exactly where it stopped. A store
//! whose modules import nothing that can suspend is never put on a fiber: it
//! runs through wasmtime's synchronous, faster entry points.
//!
//! **Timeouts** use epoch interruption: a ticker thread, started on first
//! use, advances the engine's epoch every millisecond, and each store traps
//! once its deadline epoch passes.

use smallvec::SmallVec;
use std::{
    future::Future,
    hash::{Hash, Hasher},
    pin::Pin,
    sync::{Arc, Mutex, OnceLock},
    task::{Context, Poll, Waker},
    time::{Duration, Instant},
};

use ward_abi::HostFn;
use ward_vm::{
    Backend, BackendKind, CallContext, Config, EngineModule, ErrorKind, ExportType, Extern,
    ExternKind, ExternType, Failure, FuncType, HostStop, ImportType, InstanceId, Link, Module,
    Reply, Request, Sandbox, SandboxError, Step, ValType, Value,
    recycle::{Home, RecycleBudget, RecyclePool},
};
use wasmtime::{
    Caller, Engine, Instance, Linker, Store, StoreLimits, StoreLimitsBuilder, Trap, Val,
};

/// Native stack wasm may use: several times what Ward's default stack-unit
/// limit can need, so that Ward's deterministic limit fires first.
const WASM_STACK_BYTES: usize = 1 << 20;

/// How often the epoch ticker advances the engine's epoch.
const EPOCH_TICK: Duration = Duration::from_millis(1);

/// Ward's wasmtime backend. Create one per [`Config`] and share it.
pub struct WasmtimeBackend {
    engine: Engine,
    fingerprint: String,
    pooled: bool,
    shared: Arc<Shared>,
    ticker: OnceLock<()>,
}

/// What every sandbox of a backend shares (one reference count per
/// sandbox).
struct Shared {
    linker: Linker<StoreData>,
    config: Config,
    limits: StoreLimits,
    /// What recycled instances may hold.
    budget: Arc<RecycleBudget>,
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
        })
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
    fn describe(&self, module: wasmtime::Module) -> EngineModule {
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
        let compiled = Compiled {
            module,
            pre,
            memory,
            gas,
            trap,
            reset,
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

    fn start_ticker(&self) {
        self.ticker.get_or_init(|| {
            let weak = self.engine.weak();
            std::thread::Builder::new()
                .name("ward-epoch".into())
                .spawn(move || {
                    while let Some(engine) = weak.upgrade() {
                        engine.increment_epoch();
                        drop(engine);
                        std::thread::sleep(EPOCH_TICK);
                    }
                })
                .map(drop)
                .unwrap_or_default();
        });
    }
}

fn engine_config(config: &Config) -> wasmtime::Config {
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
        .wasm_backtrace_max_frames(None);
    c
}

/// The engine configuration plus the pooling allocator, sized from the
/// limits: one slot per live instance, each memory slot as large as the
/// largest memory a module may have, small memories and tables kept
/// resident between uses so a fresh instance costs no page faults.
fn pooled_engine_config(config: &Config) -> wasmtime::Config {
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
const KEEP_RESIDENT_BYTES: usize = 64 << 10;

/// The wasmtime release the workspace pins (`=` in Cargo.toml).
const WASMTIME_VERSION: &str = "48.0.8";

fn engine_failure(err: wasmtime::Error) -> Failure {
    Failure::new(
        ErrorKind::HostError,
        format!("wasmtime engine setup failed: {err}"),
    )
}

impl Backend for WasmtimeBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Wasmtime
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
        let Some(compiled) = module
            .recyclable()
            .then(|| module.downcast_arc::<Compiled>())
            .flatten()
            .filter(|c| c.recycled.admits(&self.shared.budget))
        else {
            return self.sandbox(context);
        };
        let Some(recycled) = compiled.recycled.take() else {
            let mut sandbox = self.new_sandbox(context);
            sandbox.home = Some(Home::new(compiled, None));
            return Box::new(sandbox);
        };
        let Recycled {
            mut sandbox,
            instance,
        } = recycled;
        if let Some(store) = sandbox.store.as_mut() {
            store.data_mut().context = context;
        }
        sandbox.home = Some(Home::new(compiled, Some(instance)));
        sandbox
    }
}

impl WasmtimeBackend {
    fn new_sandbox(&self, context: CallContext) -> WasmtimeSandbox {
        let interruptible = self.shared.config.interruptible;
        if interruptible {
            self.start_ticker();
        }
        let data = StoreData {
            context,
            limits: self.shared.limits.clone(),
            slot: None,
            exports: CallerExports::default(),
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| &mut data.limits);
        if interruptible {
            store.epoch_deadline_trap();
            store.set_epoch_deadline(NO_DEADLINE);
        }
        WasmtimeSandbox {
            store: Some(store),
            running: None,
            slot: None,
            shared: self.shared.clone(),
            instances: SmallVec::new(),
            externs: SmallVec::new(),
            async_required: false,
            deadline: None,
            ticker: interruptible,
            home: None,
        }
    }
}

/// A compiled module, pre-linked when it can be, with the export indices
/// the host functions need.
struct Compiled {
    module: wasmtime::Module,
    /// Pre-linked against the backend's linker (`None` when some import
    /// needs an explicit link).
    pre: Option<wasmtime::InstancePre<StoreData>>,
    memory: Option<wasmtime::ModuleExport>,
    gas: Option<wasmtime::ModuleExport>,
    /// `__ward_trap`, the meter of a self-metered module.
    trap: Option<wasmtime::ModuleExport>,
    /// `__ward_reset`, which a recycled instance's globals are reset with.
    reset: Option<wasmtime::ModuleExport>,
    /// Every export's index, by name, sorted: lookups without hashing.
    by_name: Vec<(String, wasmtime::ModuleExport)>,
    /// Recycled instances of this module.
    recycled: RecyclePool<Recycled>,
}

/// A finished instance restored to the state of a new one, alone in the
/// store of the sandbox that ran it (kept whole: nothing is allocated to
/// reuse it).
struct Recycled {
    sandbox: Box<WasmtimeSandbox>,
    instance: Instance,
}

/// Epoch deadline meaning "never" (far beyond any run's ticks, without overflow).
const NO_DEADLINE: u64 = u64::MAX / 4;

/// A suspended request going out, and the embedder's reply coming in.
#[derive(Default)]
struct Slot {
    request: Option<Request>,
    reply: Option<Reply>,
}

struct StoreData {
    context: CallContext,
    limits: StoreLimits,
    /// Made when an instance imports something that can suspend.
    slot: Option<Arc<Mutex<Slot>>>,
    exports: CallerExports,
}

/// The memory and gas global of the store's only instance, found once at
/// instantiation so that host calls need no lookup by name. With a second
/// instance in the store the caller is no longer known in advance, and host
/// calls look the caller's exports up instead.
#[derive(Default)]
struct CallerExports {
    instances: u32,
    memory: Option<wasmtime::Memory>,
    gas: Option<wasmtime::Global>,
}

fn caller_memory(caller: &mut Caller<'_, StoreData>) -> Option<wasmtime::Memory> {
    if caller.data().exports.instances == 1 {
        return caller.data().exports.memory;
    }
    caller
        .get_export(ward_abi::MEMORY_EXPORT)
        .and_then(wasmtime::Extern::into_memory)
}

fn caller_gas(caller: &mut Caller<'_, StoreData>) -> Option<wasmtime::Global> {
    if caller.data().exports.instances == 1 {
        return caller.data().exports.gas;
    }
    caller
        .get_export(ward_instrument::GAS_EXPORT)
        .and_then(wasmtime::Extern::into_global)
}

type Running = Pin<Box<dyn Future<Output = (Store<StoreData>, wasmtime::Result<Vec<Val>>)> + Send>>;

struct WasmtimeSandbox {
    /// The store, while no call is suspended.
    store: Option<Store<StoreData>>,
    /// The suspended call, which owns the store until it finishes.
    running: Option<Running>,
    /// Shared with the store's data once something can suspend.
    slot: Option<Arc<Mutex<Slot>>>,
    shared: Arc<Shared>,
    /// Inline for the usual single instance, no allocation.
    instances: SmallVec<[(Instance, Arc<Compiled>); 1]>,
    /// Handles given out: inline for the usual meter and entry point.
    externs: SmallVec<[wasmtime::Extern; 4]>,
    /// Some instance imports a host function that may suspend: every call
    /// must go through the async (fiber) entry points.
    async_required: bool,
    deadline: Option<Instant>,
    /// Epoch interruption is on (the engine was configured interruptible).
    ticker: bool,
    /// Set by [`Backend::sandbox_for`] for a recyclable module.
    home: Option<Home<Compiled, Instance>>,
}

impl WasmtimeSandbox {
    fn store(&mut self) -> Result<&mut Store<StoreData>, SandboxError> {
        self.store.as_mut().ok_or(SandboxError::Busy)
    }

    fn push_extern(&mut self, item: wasmtime::Extern) -> Extern {
        let kind = match item {
            wasmtime::Extern::Func(_) => ExternKind::Func,
            wasmtime::Extern::Memory(_) => ExternKind::Memory,
            wasmtime::Extern::Table(_) => ExternKind::Table,
            _ => ExternKind::Global,
        };
        self.externs.push(item);
        Extern {
            kind,
            index: (self.externs.len() - 1) as u32,
        }
    }

    fn item(&self, handle: Extern) -> Result<&wasmtime::Extern, SandboxError> {
        self.externs
            .get(handle.index as usize)
            .ok_or(SandboxError::BadHandle(handle.kind))
    }

    fn memory(&self, handle: Extern) -> Result<wasmtime::Memory, SandboxError> {
        match self.item(handle)? {
            wasmtime::Extern::Memory(m) => Ok(*m),
            _ => Err(SandboxError::BadHandle(ExternKind::Memory)),
        }
    }

    fn arm_deadline(&mut self) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        if !self.ticker {
            return;
        }
        let ticks = match self.deadline {
            None => NO_DEADLINE,
            Some(deadline) => {
                let left = ward_vm::clock::left(deadline);
                // At least one tick, rounded up, so that a deadline is never
                // "already passed" because of rounding.
                (left.as_micros() / EPOCH_TICK.as_micros()).saturating_add(1) as u64
            }
        };
        store.set_epoch_deadline(ticks);
    }

    /// Polls the running call once: it either finishes or suspends.
    fn poll(&mut self) -> Step {
        let Some(running) = self.running.as_mut() else {
            return Step::Failed(Failure::new(ErrorKind::HostError, "no call is running"));
        };
        let mut cx = Context::from_waker(Waker::noop());
        loop {
            match running.as_mut().poll(&mut cx) {
                Poll::Ready((store, result)) => {
                    self.running = None;
                    let step = finish(&store, result);
                    self.store = Some(store);
                    return step;
                }
                Poll::Pending => {
                    let request = self.slot.as_deref().and_then(|s| lock(s).request.take());
                    if let Some(request) = request {
                        return Step::Suspended(request);
                    }
                    // A pending poll without a request is not ours to
                    // report (wasmtime yielding internally): poll again.
                }
            }
        }
    }
}

fn lock(slot: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
    // A poisoned slot only means a panic elsewhere; its data is still sound.
    slot.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Sandbox for WasmtimeSandbox {
    fn instantiate(&mut self, module: &Module, links: &[Link]) -> Result<InstanceId, Failure> {
        let Some(compiled) = module.downcast::<Compiled>().filter(|c| {
            self.store
                .as_ref()
                .is_some_and(|s| Engine::same(c.module.engine(), s.engine()))
        }) else {
            return Err(Failure::new(
                ErrorKind::HostError,
                SandboxError::ForeignModule.to_string(),
            ));
        };
        let alone = self.instances.is_empty() && links.is_empty();
        let home_call = self
            .home
            .as_mut()
            .is_some_and(|home| home.claim(compiled, alone));
        if home_call
            && let Some(home) = self.home.as_mut()
            && let Some(instance) = home.take_ready()
        {
            self.instances.push((instance, home.module().clone()));
            return Ok(InstanceId(0));
        }
        if !module.imports().is_empty() {
            let resolved = self.shared.config.resolve_imports(module, links)?;
            if resolved.iter().any(|r| r.may_suspend()) {
                self.async_required = true;
                if self.slot.is_none()
                    && let Some(store) = self.store.as_mut()
                {
                    let slot = Arc::new(Mutex::new(Slot::default()));
                    store.data_mut().slot = Some(slot.clone());
                    self.slot = Some(slot);
                }
            }
        }
        // Explicit links need a linker of their own; otherwise the
        // backend's serves.
        let mut linked: Option<Linker<StoreData>> = None;
        if !links.is_empty() {
            let mut linker = self.shared.linker.clone();
            linker.allow_shadowing(true);
            let store = self.store.as_ref().ok_or_else(busy_failure)?;
            for link in links {
                let item = self
                    .externs
                    .get(link.item.index as usize)
                    .cloned()
                    .ok_or_else(|| Failure::new(ErrorKind::UnknownImport, "bad link handle"))?;
                linker
                    .define(store, &link.module, &link.name, item)
                    .map_err(|e| Failure::new(ErrorKind::UnknownImport, format!("{e:#}")))?;
            }
            linked = Some(linker);
        }
        self.arm_deadline();
        if let Some(store) = self.store.as_mut() {
            store.data_mut().context.set_suspend_allowed(false);
        }
        let pre = compiled.pre.as_ref().filter(|_| links.is_empty());
        let store = self.store.as_mut().ok_or_else(busy_failure)?;
        let linker = linked.as_ref().unwrap_or(&self.shared.linker);
        let instance = match (pre, self.async_required) {
            (Some(pre), false) => pre.instantiate(&mut *store),
            (Some(pre), true) => block_on(pre.instantiate_async(&mut *store)),
            (None, false) => linker.instantiate(&mut *store, &compiled.module),
            (None, true) => block_on(linker.instantiate_async(&mut *store, &compiled.module)),
        };
        if let Some(store) = self.store.as_mut() {
            store.data_mut().context.set_suspend_allowed(true);
        }
        let instance = instance.map_err(instantiation_failure)?;
        if let Some(store) = self.store.as_mut() {
            let memory = compiled
                .memory
                .and_then(|i| instance.get_module_export(&mut *store, &i))
                .and_then(wasmtime::Extern::into_memory);
            let gas = compiled
                .gas
                .and_then(|i| instance.get_module_export(&mut *store, &i))
                .and_then(wasmtime::Extern::into_global);
            if home_call && let Some(memory) = memory {
                // A new instance, before any call: its memory is the image
                // every restore goes back to.
                compiled.recycled.record_image(memory.data(&*store));
            }
            let exports = &mut store.data_mut().exports;
            exports.instances += 1;
            exports.memory = memory;
            exports.gas = gas;
        }
        let compiled = module
            .downcast_arc::<Compiled>()
            .ok_or_else(|| Failure::new(ErrorKind::HostError, "foreign module"))?;
        self.instances.push((instance, compiled));
        Ok(InstanceId((self.instances.len() - 1) as u32))
    }

    fn export(&mut self, instance: InstanceId, name: &str) -> Option<Extern> {
        let (instance, compiled) = self.instances.get(instance.0 as usize)?;
        let instance = *instance;
        let index = compiled
            .by_name
            .binary_search_by(|(n, _)| n.as_str().cmp(name))
            .ok()
            .map(|i| compiled.by_name[i].1);
        let store = self.store.as_mut()?;
        let item = match index {
            Some(index) => instance.get_module_export(&mut *store, &index)?,
            None => instance.get_export(&mut *store, name)?,
        };
        Some(self.push_extern(item))
    }

    fn meter_export(&mut self, instance: InstanceId) -> Option<(Extern, bool)> {
        let (instance, compiled) = self.instances.get(instance.0 as usize)?;
        let (index, holds_gas) = match (compiled.gas, compiled.trap) {
            (Some(gas), _) => (gas, true),
            (None, Some(trap)) => (trap, false),
            (None, None) => return None,
        };
        let instance = *instance;
        let store = self.store.as_mut()?;
        let global = instance.get_module_export(&mut *store, &index)?;
        Some((self.push_extern(global), holds_gas))
    }

    fn call(&mut self, func: Extern, args: &[Value]) -> Step {
        if let Some(home) = &mut self.home {
            home.note_values(args);
        }
        let step = self.call_inner(func, args);
        if let Some(home) = &mut self.home {
            home.note_step(&step);
        }
        step
    }

    fn resume(&mut self, reply: Reply) -> Step {
        if let (Some(home), Reply::Values(values)) = (&mut self.home, &reply) {
            home.note_values(values);
        }
        let step = self.resume_inner(reply);
        if let Some(home) = &mut self.home {
            home.note_step(&step);
        }
        step
    }

    fn is_suspended(&self) -> bool {
        self.running.is_some()
    }

    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    fn context(&mut self) -> Result<&mut CallContext, SandboxError> {
        Ok(&mut self.store()?.data_mut().context)
    }

    fn read_memory(
        &mut self,
        memory: Extern,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), SandboxError> {
        let memory = self.memory(memory)?;
        memory
            .read(&*self.store()?, to_usize(offset)?, buf)
            .map_err(|_| SandboxError::OutOfBounds)
    }

    fn write_memory(
        &mut self,
        memory: Extern,
        offset: u64,
        data: &[u8],
    ) -> Result<(), SandboxError> {
        let memory = self.memory(memory)?;
        memory
            .write(&mut *self.store()?, to_usize(offset)?, data)
            .map_err(|_| SandboxError::OutOfBounds)
    }

    fn memory_size(&mut self, memory: Extern) -> Result<u64, SandboxError> {
        let memory = self.memory(memory)?;
        Ok(memory.data_size(&*self.store()?) as u64)
    }

    fn global_get(&mut self, global: Extern) -> Result<Value, SandboxError> {
        let global = match self.item(global)? {
            wasmtime::Extern::Global(g) => *g,
            _ => return Err(SandboxError::BadHandle(ExternKind::Global)),
        };
        let store = self.store()?;
        let val = global.get(&mut *store);
        from_val(&*store, &val).map_err(SandboxError::BadArguments)
    }

    fn global_set(&mut self, global: Extern, value: Value) -> Result<(), SandboxError> {
        if let Some(home) = &mut self.home {
            home.note_values(&[value]);
        }
        let global = match self.item(global)? {
            wasmtime::Extern::Global(g) => *g,
            _ => return Err(SandboxError::BadHandle(ExternKind::Global)),
        };
        let store = self.store()?;
        let val = to_val(&mut *store, value)?;
        global
            .set(&mut *store, val)
            .map_err(|e| SandboxError::BadArguments(e.to_string()))
    }

    fn finish(mut self: Box<Self>) {
        let Some(compiled) = self.home.take().and_then(Home::into_module) else {
            return;
        };
        let &[(instance, _)] = self.instances.as_slice() else {
            return;
        };
        if self.running.is_some() {
            return;
        }
        let Some(store) = self.store.as_ref() else {
            return;
        };
        let memory = store.data().exports.memory;
        let bytes = memory.map_or(0, |m| m.data_size(store) as u64);
        let entry = Recycled {
            sandbox: self,
            instance,
        };
        compiled.recycled.keep(entry, bytes, |entry| {
            let sandbox = &mut entry.sandbox;
            let (async_required, ticker) = (sandbox.async_required, sandbox.ticker);
            let Some(store) = sandbox.store.as_mut() else {
                return false;
            };
            if ticker {
                store.set_epoch_deadline(NO_DEADLINE);
            }
            if !restore(store, instance, memory, &compiled, async_required) {
                return false;
            }
            // The call's context (the embedder's chain and host) ends here,
            // as it would with the store; the sandbox keeps nothing of it.
            store.data_mut().context = CallContext::default();
            sandbox.instances.clear();
            sandbox.externs.clear();
            sandbox.deadline = None;
            true
        });
    }
}

impl WasmtimeSandbox {
    fn call_inner(&mut self, func: Extern, args: &[Value]) -> Step {
        let func = match self.item(func) {
            Ok(wasmtime::Extern::Func(f)) => *f,
            _ => return embedder_error(SandboxError::BadHandle(ExternKind::Func)),
        };
        self.arm_deadline();
        let Some(mut store) = self.store.take() else {
            return embedder_error(SandboxError::Busy);
        };
        let params = match args
            .iter()
            .map(|v| to_val(&mut store, *v))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(params) => params,
            Err(e) => {
                self.store = Some(store);
                return embedder_error(e);
            }
        };
        // Entry points take nothing and return nothing or an i32: call them
        // through wasmtime's typed path, which skips the untyped one's
        // signature lookup and value conversions.
        if !self.async_required && params.is_empty() {
            if let Ok(typed) = func.typed::<(), ()>(&store) {
                let result = typed.call(&mut store, ());
                let step = finish(&store, result.map(|()| Vec::new()));
                self.store = Some(store);
                return step;
            }
            if let Ok(typed) = func.typed::<(), i32>(&store) {
                let result = typed.call(&mut store, ());
                let step = finish(&store, result.map(|v| vec![Val::I32(v)]));
                self.store = Some(store);
                return step;
            }
        }
        let result_count = func.ty(&store).results().len();
        let mut results = vec![Val::I32(0); result_count];
        if !self.async_required {
            let result = func.call(&mut store, &params, &mut results);
            let step = finish(&store, result.map(|()| results));
            self.store = Some(store);
            return step;
        }
        self.running = Some(Box::pin(async move {
            let result = func.call_async(&mut store, &params, &mut results).await;
            (store, result.map(|()| results))
        }));
        self.poll()
    }

    fn resume_inner(&mut self, reply: Reply) -> Step {
        if self.running.is_none() {
            return embedder_error(SandboxError::NotSuspended);
        }
        let Some(slot) = self.slot.as_deref() else {
            return embedder_error(SandboxError::NotSuspended);
        };
        lock(slot).reply = Some(reply);
        self.poll()
    }
}

/// Restores a finished instance to the state of a new one: its memory to
/// the module's initial image and its mutable globals through
/// `__ward_reset`. `false` when it cannot be: the memory grew, or the
/// reset failed.
fn restore(
    store: &mut Store<StoreData>,
    instance: Instance,
    memory: Option<wasmtime::Memory>,
    compiled: &Compiled,
    async_required: bool,
) -> bool {
    if let Some(memory) = memory
        && !compiled
            .recycled
            .restore_memory(memory.data_mut(&mut *store))
    {
        return false;
    }
    let Some(index) = compiled.reset else {
        return true;
    };
    let Some(reset) = instance
        .get_module_export(&mut *store, &index)
        .and_then(wasmtime::Extern::into_func)
        .and_then(|f| f.typed::<(), ()>(&*store).ok())
    else {
        return false;
    };
    let done = if async_required {
        block_on(reset.call_async(&mut *store, ()))
    } else {
        reset.call(&mut *store, ())
    };
    done.is_ok()
}

/// Polls a future that never suspends for a reply (instantiation: a start
/// function may not suspend) to completion.
fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

fn busy_failure() -> Failure {
    Failure::new(ErrorKind::HostError, SandboxError::Busy.to_string())
}

fn embedder_error(err: SandboxError) -> Step {
    Step::Failed(Failure::new(ErrorKind::HostError, err.to_string()))
}

fn to_usize(offset: u64) -> Result<usize, SandboxError> {
    usize::try_from(offset).map_err(|_| SandboxError::OutOfBounds)
}

/// Turns a finished call into a step.
fn finish(store: &Store<StoreData>, result: wasmtime::Result<Vec<Val>>) -> Step {
    match result {
        Ok(values) => match values.iter().map(|v| from_val(store, v)).collect() {
            Ok(values) => Step::Returned(values),
            Err(message) => Step::Failed(Failure::new(ErrorKind::HostError, message)),
        },
        Err(err) => match err.downcast::<HostStop>() {
            Ok(HostStop::Exit(code)) => Step::Exited(code),
            Ok(HostStop::Trap(failure)) => Step::Failed(failure),
            Ok(HostStop::Suspend(_)) => Step::Failed(Failure::new(
                ErrorKind::HostError,
                "a host function suspended outside a suspendable call",
            )),
            Err(err) => Step::Failed(trap_failure(&err)),
        },
    }
}

/// Maps a wasmtime trap (or any other engine error) to Ward's kinds.
fn trap_failure(err: &wasmtime::Error) -> Failure {
    let kind = match err.downcast_ref::<Trap>() {
        Some(Trap::StackOverflow) => ErrorKind::StackOverflow,
        Some(Trap::MemoryOutOfBounds) => ErrorKind::MemoryOutOfBounds,
        Some(Trap::TableOutOfBounds) => ErrorKind::TableOutOfBounds,
        Some(Trap::IndirectCallToNull) => ErrorKind::IndirectCallToNull,
        Some(Trap::BadSignature) => ErrorKind::IndirectCallTypeMismatch,
        Some(Trap::IntegerOverflow) => ErrorKind::IntegerOverflow,
        Some(Trap::IntegerDivisionByZero) => ErrorKind::IntegerDivideByZero,
        Some(Trap::BadConversionToInteger) => ErrorKind::BadConversionToInteger,
        Some(Trap::UnreachableCodeReached) => ErrorKind::Unreachable,
        Some(Trap::Interrupt) => ErrorKind::Timeout,
        // Traps of proposals outside Ward's feature set, and engine errors
        // that are not traps (resource exhaustion): the host failed the guest.
        _ => ErrorKind::HostError,
    };
    // The trap's own description, without wasmtime's backtrace context.
    let message = match err.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => format!("{err:#}"),
    };
    Failure::new(kind, message)
}

/// Maps an instantiation error: link type errors, traps in a start function
/// or segment initialisation, or resource limits.
fn instantiation_failure(err: wasmtime::Error) -> Failure {
    if let Some(stop) = err.downcast_ref::<HostStop>() {
        return Failure::new(
            ErrorKind::InstantiationTrap,
            format!("start function: {stop}"),
        );
    }
    if err.downcast_ref::<Trap>().is_some() {
        let trap = trap_failure(&err);
        if trap.kind == ErrorKind::Timeout {
            return trap;
        }
        return Failure::new(ErrorKind::InstantiationTrap, trap.message);
    }
    let message = format!("{err:#}");
    if message.contains("incompatible import type") {
        Failure::new(ErrorKind::ImportSignatureMismatch, message)
    } else if err.downcast_ref::<wasmtime::UnknownImportError>().is_some() {
        Failure::new(ErrorKind::UnknownImport, message)
    } else {
        Failure::new(ErrorKind::LimitExceeded, message)
    }
}

/// Defines every host ABI function as a typed wasmtime function, generated
/// from the ABI table so that none can be missed.
macro_rules! define_abi {
    ($( $(#[doc = $doc:literal])* $name:ident $variant:ident
        ( $($param:ident : $pty:ident),* ) $(-> $ret:ident)? { $($rules:tt)* } )*) => {
        fn define_abi(linker: &mut Linker<StoreData>) -> wasmtime::Result<()> {
            $(
                linker.func_wrap(
                    ward_abi::MODULE,
                    stringify!($name),
                    |mut caller: Caller<'_, StoreData>, $($param: $pty),*| {
                        let result = abi_call(&mut caller, HostFn::$variant, &[$(Value::from($param)),*])?;
                        Ok(define_abi!(@ret result $($ret)?))
                    },
                )?;
            )*
            Ok(())
        }
    };
    (@ret $result:ident) => {{ let _ = $result; }};
    (@ret $result:ident i32) => { match $result { Some(Value::I32(v)) => v, _ => 0 } };
    (@ret $result:ident i64) => { match $result { Some(Value::I64(v)) => v, _ => 0 } };
}

ward_abi::for_each_host_function!(define_abi);

/// The host ABI and configured host imports, defined once per backend.
fn build_linker(engine: &Engine, config: &Config) -> wasmtime::Result<Linker<StoreData>> {
    let mut linker = Linker::new(engine);
    define_abi(&mut linker)?;
    // `ward.call` suspends the caller until the embedder has run the
    // callee: an async host function, on the guest's fiber.
    linker.allow_shadowing(true);
    linker.func_wrap_async(
        ward_abi::MODULE,
        HostFn::Call.name(),
        |caller: Caller<'_, StoreData>,
         (addr, input, len, gas, flags): (i32, i32, i32, i64, i32)| {
            let args = [
                Value::I32(addr),
                Value::I32(input),
                Value::I32(len),
                Value::I64(gas),
                Value::I32(flags),
            ];
            Box::new(abi_call_suspending(caller, args))
        },
    )?;
    linker.allow_shadowing(false);
    for (index, import) in config.host_imports.iter().enumerate() {
        let ty = func_type(engine, &import.ty);
        let expected: Arc<[ValType]> = import.ty.results.clone().into();
        linker.func_new_async(
            &import.module,
            &import.name,
            ty,
            move |caller, params, results| {
                Box::new(host_call(caller, index, expected.clone(), params, results))
            },
        )?;
    }
    Ok(linker)
}

/// One call of a host ABI function: the fast path, never suspends.
fn abi_call(
    caller: &mut Caller<'_, StoreData>,
    f: HostFn,
    args: &[Value],
) -> wasmtime::Result<Option<Value>> {
    let gas_global = caller_gas(caller);
    caller
        .data_mut()
        .context
        .set_base_prepaid(gas_global.is_some());
    // Only calls that charge per byte or read the gas need the counter.
    let gas = gas_global.filter(|_| f.uses().gas);
    if let Some(global) = gas {
        gas_in(caller, global);
    }
    let result = if f.uses().memory {
        match caller_memory(caller) {
            Some(memory) => {
                let (bytes, data) = memory.data_and_store_mut(&mut *caller);
                data.context.call_abi(f, args, bytes)
            }
            None => caller.data_mut().context.call_abi(f, args, &mut []),
        }
    } else {
        caller.data_mut().context.call_abi(f, args, &mut [])
    };
    gas_out(caller, gas);
    result.map_err(wasmtime::Error::new)
}

/// `ward.call`: charges and checks like any ABI call, then parks the
/// guest's fiber until the embedder replies with the callee's result.
async fn abi_call_suspending(
    mut caller: Caller<'_, StoreData>,
    args: [Value; 5],
) -> wasmtime::Result<i32> {
    let gas_global = caller_gas(&mut caller);
    caller
        .data_mut()
        .context
        .set_base_prepaid(gas_global.is_some());
    if let Some(global) = gas_global {
        gas_in(&mut caller, global);
    }
    let result = match caller_memory(&mut caller) {
        Some(memory) => {
            let (bytes, data) = memory.data_and_store_mut(&mut caller);
            data.context.call_abi(HostFn::Call, &args, bytes)
        }
        None => caller
            .data_mut()
            .context
            .call_abi(HostFn::Call, &args, &mut []),
    };
    let status = match result {
        Err(HostStop::Suspend(request)) => {
            gas_out(&mut caller, gas_global);
            let reply = suspend(&mut caller, request).await;
            let completed = caller.data_mut().context.complete_call(reply);
            gas_out(&mut caller, gas_global);
            completed.map_err(wasmtime::Error::new)?
        }
        Err(stop) => {
            gas_out(&mut caller, gas_global);
            return Err(wasmtime::Error::new(stop));
        }
        Ok(value) => {
            gas_out(&mut caller, gas_global);
            value.unwrap_or(Value::I32(ward_abi::call::FAILED))
        }
    };
    Ok(match status {
        Value::I32(v) => v,
        _ => ward_abi::call::FAILED,
    })
}

/// Hands `request` to the embedder and waits, on the guest's fiber, for its
/// reply; `None` if none came (or the store was never made able to
/// suspend, which [`Sandbox::instantiate`] does for every module importing
/// something that can).
async fn suspend(caller: &mut Caller<'_, StoreData>, request: Request) -> Option<Reply> {
    let slot = caller.data().slot.clone()?;
    lock(&slot).request = Some(request);
    YieldOnce(false).await;
    lock(&slot).reply.take()
}

/// Loads an engine-metered caller's gas global into the call context.
fn gas_in(caller: &mut Caller<'_, StoreData>, global: wasmtime::Global) {
    let left = global.get(&mut *caller).i64().unwrap_or(0).max(0) as u64;
    caller
        .data_mut()
        .context
        .set_gas_left(ward_vm::Gas::new(left));
}

/// Stores the call context's gas back into the caller's gas global.
fn gas_out(caller: &mut Caller<'_, StoreData>, global: Option<wasmtime::Global>) {
    if let Some(global) = global {
        let left = ward_vm::gas_global_value(caller.data().context.gas_left());
        // The global is a mutable i64 made by the instrumentation: setting
        // it cannot fail.
        let _ = global.set(&mut *caller, Val::I64(left));
    }
}

/// One call of an embedder-defined host import: answers at once, or
/// suspends the guest's fiber until the embedder replies.
async fn host_call(
    mut caller: Caller<'_, StoreData>,
    index: usize,
    expected: Arc<[ValType]>,
    params: &[Val],
    results: &mut [Val],
) -> wasmtime::Result<()> {
    let args = params
        .iter()
        .map(|v| from_val(&caller, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| wasmtime::Error::new(HostStop::Trap(Failure::new(ErrorKind::HostError, m))))?;
    // The fixed cost was prepaid by an engine-metered caller; embedder
    // host imports charge nothing more, so the gas counter stays in wasm.
    let prepaid = caller_gas(&mut caller).is_some();
    caller.data_mut().context.set_base_prepaid(prepaid);
    let answer = match caller_memory(&mut caller) {
        Some(memory) => {
            let (bytes, data) = memory.data_and_store_mut(&mut caller);
            data.context.call_host(index, &args, bytes)
        }
        None => caller.data_mut().context.call_host(index, &args, &mut []),
    };
    let reply = match answer {
        Ok(values) => Some(Reply::Values(values)),
        Err(HostStop::Suspend(request)) => suspend(&mut caller, request).await,
        Err(stop) => return Err(wasmtime::Error::new(stop)),
    };
    let values = caller
        .data_mut()
        .context
        .complete_host(index, &expected, reply)
        .map_err(wasmtime::Error::new)?;
    for (slot, value) in results.iter_mut().zip(values) {
        *slot = to_val(&mut caller, value).map_err(|e| {
            wasmtime::Error::new(HostStop::Trap(Failure::new(
                ErrorKind::HostError,
                e.to_string(),
            )))
        })?;
    }
    Ok(())
}

/// A future that is pending once, then ready: parks the guest's fiber.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            Poll::Pending
        }
    }
}

fn func_type(engine: &Engine, ty: &FuncType) -> wasmtime::FuncType {
    wasmtime::FuncType::new(
        engine,
        ty.params.iter().map(|t| wasm_type(*t)),
        ty.results.iter().map(|t| wasm_type(*t)),
    )
}

fn wasm_type(ty: ValType) -> wasmtime::ValType {
    match ty {
        ValType::I32 => wasmtime::ValType::I32,
        ValType::I64 => wasmtime::ValType::I64,
        ValType::F32 => wasmtime::ValType::F32,
        ValType::F64 => wasmtime::ValType::F64,
        ValType::FuncRef => wasmtime::ValType::FUNCREF,
        ValType::ExternRef => wasmtime::ValType::EXTERNREF,
    }
}

fn ward_type(ty: &wasmtime::ValType) -> ValType {
    match ty {
        wasmtime::ValType::I32 => ValType::I32,
        wasmtime::ValType::I64 => ValType::I64,
        wasmtime::ValType::F32 => ValType::F32,
        wasmtime::ValType::F64 => ValType::F64,
        wasmtime::ValType::Ref(r) if r.heap_type().is_extern() => ValType::ExternRef,
        // v128 and other references are outside Ward's feature set and never
        // pass validation; funcref is the remaining Wasm 2.0 reference type.
        _ => ValType::FuncRef,
    }
}

fn extern_type(ty: &wasmtime::ExternType) -> ExternType {
    match ty {
        wasmtime::ExternType::Func(f) => ExternType::Func(FuncType::new(
            f.params().map(|t| ward_type(&t)),
            f.results().map(|t| ward_type(&t)),
        )),
        wasmtime::ExternType::Memory(_) => ExternType::Memory,
        wasmtime::ExternType::Table(_) => ExternType::Table,
        _ => ExternType::Global,
    }
}

fn to_val(store: impl wasmtime::AsContextMut, value: Value) -> Result<Val, SandboxError> {
    Ok(match value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(bits),
        Value::F64(bits) => Val::F64(bits),
        Value::FuncRef { null: true } => Val::FuncRef(None),
        Value::FuncRef { null: false } => {
            return Err(SandboxError::BadArguments(
                "a non-null funcref cannot be passed in".into(),
            ));
        }
        Value::ExternRef(None) => Val::ExternRef(None),
        Value::ExternRef(Some(n)) => Val::ExternRef(Some(
            wasmtime::ExternRef::new(store, n)
                .map_err(|e| SandboxError::BadArguments(e.to_string()))?,
        )),
    })
}

fn from_val(store: impl wasmtime::AsContext, val: &Val) -> Result<Value, String> {
    Ok(match val {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(bits) => Value::F32(*bits),
        Val::F64(bits) => Value::F64(*bits),
        Val::FuncRef(f) => Value::FuncRef { null: f.is_none() },
        Val::ExternRef(None) => Value::ExternRef(None),
        Val::ExternRef(Some(r)) => {
            let data = r.data(&store).map_err(|e| e.to_string())?;
            let n = data.and_then(|d| d.downcast_ref::<u32>()).copied();
            Value::ExternRef(Some(n.ok_or("externref holds no Ward host value")?))
        }
        other => return Err(format!("value {other:?} is outside Ward's feature set")),
    })
}
