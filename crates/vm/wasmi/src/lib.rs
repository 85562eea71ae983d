//! Ward's backend on the wasmi interpreter.
//!
//! The one crate that names wasmi. It adapts wasmi to [`ward_vm::Backend`]:
//! the `ward` host ABI is one linker built once per backend, and
//! [`ward_vm::CallContext`] lives in each store's data.
//!
//! **Suspension** uses wasmi's resumable calls: a host import that suspends
//! returns a host error carrying the request; wasmi hands back a
//! `ResumableCallHostTrap` holding the guest's whole execution state (wasmi
//! keeps guest frames on its own heap stack, never on the native one), and
//! [`Sandbox::resume`] feeds the reply's values in as the import's results.
//!
//! **Recycling**: a compiled module keeps a few finished instances of
//! itself (each in its own store), restored to the state of a new instance:
//! memory rewritten from the initial image (zero runs filled, data runs
//! copied), mutable globals reset by the instrumentation's
//! `__ward_reset`. [`Backend::sandbox_for`] hands one out instead of
//! instantiating; [`Sandbox::finish`] takes it back. Only recyclable modules
//! (no start function, no table or segment changes, one exported memory or
//! none), and only after calls that returned or exited: a failed call's
//! instance is dropped.
//!
//! **Timeouts** use fuel slices: when the backend is interruptible, fuel
//! metering is on, a call runs with a slice of fuel, and each time the slice
//! runs out the deadline is checked and the call resumed with another slice.
//! Fuel here only measures time; Ward's gas never depends on it.

use std::{sync::Arc, time::Instant};

use smallvec::SmallVec;

use ward_abi::HostFn;
use ward_vm::{
    Backend, BackendKind, CallContext, Config, EngineModule, ErrorKind, ExportType, Extern,
    ExternKind, ExternType, Failure, FuncType, HostStop, ImportType, InstanceId, Link, Module,
    Reply, Request, Sandbox, SandboxError, Step, ValType, Value,
    recycle::{Home, RecycleBudget, RecyclePool},
};
use wasmi::{
    Caller, Engine, Instance, Linker, ResumableCall, ResumableCallHostTrap, Store, StoreLimits,
    StoreLimitsBuilder, TrapCode, Val,
};

/// wasmi's frame limit: twice the most frames Ward's default stack-unit limit
/// allows (every frame costs at least one unit).
const MAX_RECURSION_DEPTH: usize = 1 << 16;

/// wasmi's value-stack limit, in bytes: ample for Ward's default limit.
const MAX_STACK_HEIGHT: usize = 16 << 20;

/// Fuel per slice between deadline checks (roughly a millisecond of work).
const FUEL_SLICE: u64 = 1 << 20;

/// Ward's wasmi backend. Create one per [`Config`] and share it.
pub struct WasmiBackend {
    engine: Engine,
    shared: Arc<Shared>,
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

/// A compiled module and its recycled instances.
struct Compiled {
    module: wasmi::Module,
    recycled: RecyclePool<Recycled>,
}

/// A finished instance restored to the state of a new one, alone in the
/// store of the sandbox that ran it (kept whole: nothing is allocated or
/// moved to reuse it).
struct Recycled {
    sandbox: Box<WasmiSandbox>,
    instance: Instance,
}

impl WasmiBackend {
    /// Creates a backend: an engine with exactly the configured features,
    /// and a linker holding the host ABI and the configured host imports.
    ///
    /// # Errors
    ///
    /// When SIMD is enabled (this build of wasmi has no SIMD), or when a host
    /// import cannot be defined (a duplicate name).
    pub fn new(config: &Config) -> Result<Self, Failure> {
        if config.policy.features.simd {
            // Built without wasmi's `simd` feature: both backends must accept
            // the same modules, so SIMD is refused outright.
            return Err(Failure::new(
                ErrorKind::UnsupportedFeature,
                "the wasmi backend is built without SIMD",
            ));
        }
        let engine = Engine::new(&engine_config(config));
        let linker = build_linker(&engine, config).map_err(|e| {
            Failure::new(
                ErrorKind::HostError,
                format!("wasmi linker setup failed: {e}"),
            )
        })?;
        let limits = StoreLimitsBuilder::new()
            .memory_size(config.policy.limits.max_memory_pages as usize * 65536)
            .table_elements(config.policy.limits.max_table_elements as usize)
            .build();
        Ok(WasmiBackend {
            engine,
            shared: Arc::new(Shared {
                linker,
                config: config.clone(),
                limits,
                budget: Arc::new(RecycleBudget::new(
                    config.recycle_bytes,
                    u64::from(config.max_instances / 4),
                )),
            }),
        })
    }

    /// The wasmi engine (for benchmarks that compare against raw wasmi).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }
}

fn engine_config(config: &Config) -> wasmi::Config {
    let mut c = wasmi::Config::default();
    c.wasm_mutable_global(true)
        .wasm_sign_extension(true)
        .wasm_saturating_float_to_int(true)
        .wasm_multi_value(true)
        .wasm_bulk_memory(true)
        .wasm_reference_types(true)
        .wasm_multi_memory(false)
        .wasm_tail_call(false)
        .wasm_extended_const(false)
        .wasm_custom_page_sizes(false)
        .wasm_wide_arithmetic(false)
        .consume_fuel(config.interruptible)
        // Ward's own call-depth limit (instrumentation) must always fire
        // first: allow far more frames and stack than it can use.
        .set_max_recursion_depth(MAX_RECURSION_DEPTH)
        .set_max_stack_height(MAX_STACK_HEIGHT);
    c
}

/// The wasmi release the workspace pins.
const WASMI_VERSION: &str = "2.0.0";

impl Backend for WasmiBackend {
    fn kind(&self) -> BackendKind {
        BackendKind::Wasmi
    }

    fn compile(&self, wasm: &[u8]) -> Result<EngineModule, Failure> {
        let module = wasmi::Module::new(&self.engine, wasm)
            .map_err(|e| Failure::new(ErrorKind::InvalidWasm, e.to_string()))?;
        let imports = module
            .imports()
            .map(|i| ImportType {
                module: i.module().to_string(),
                name: i.name().to_string(),
                ty: extern_type(i.ty()),
            })
            .collect();
        let exports = module
            .exports()
            .map(|e| ExportType {
                name: e.name().to_string(),
                ty: extern_type(e.ty()),
            })
            .collect();
        // wasmi translates lazily; its footprint grows with the code, about
        // three times the bytes once translated.
        Ok(EngineModule {
            backend: BackendKind::Wasmi,
            imports,
            exports,
            footprint: wasm.len().saturating_mul(3),
            code: Arc::new(Compiled {
                module,
                recycled: RecyclePool::new(self.shared.budget.clone()),
            }),
        })
    }

    fn fingerprint(&self) -> String {
        format!("wasmi-{WASMI_VERSION};portable-dispatch")
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
        sandbox.store.data_mut().context = context;
        sandbox.home = Some(Home::new(compiled, Some(instance)));
        sandbox
    }
}

impl WasmiBackend {
    fn new_sandbox(&self, context: CallContext) -> WasmiSandbox {
        let data = StoreData {
            context,
            limits: self.shared.limits.clone(),
            exports: CallerExports::default(),
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| &mut data.limits);
        WasmiSandbox {
            store,
            shared: self.shared.clone(),
            may_suspend: false,
            instances: SmallVec::new(),
            externs: SmallVec::new(),
            suspended: None,
            deadline: None,
            home: None,
            reset: None,
        }
    }
}

struct StoreData {
    context: CallContext,
    limits: StoreLimits,
    exports: CallerExports,
}

/// The memory and gas global of the store's only instance, found once at
/// instantiation so that host calls need no lookup by name. With a second
/// instance in the store the caller is no longer known in advance, and host
/// calls look the caller's exports up instead.
#[derive(Default)]
struct CallerExports {
    instances: u32,
    memory: Option<wasmi::Memory>,
    gas: Option<wasmi::Global>,
}

fn caller_memory(caller: &Caller<'_, StoreData>) -> Option<wasmi::Memory> {
    if caller.data().exports.instances == 1 {
        return caller.data().exports.memory;
    }
    caller
        .get_export(ward_abi::MEMORY_EXPORT)
        .and_then(wasmi::Extern::into_memory)
}

fn caller_gas(caller: &Caller<'_, StoreData>) -> Option<wasmi::Global> {
    if caller.data().exports.instances == 1 {
        return caller.data().exports.gas;
    }
    caller
        .get_export(ward_instrument::GAS_EXPORT)
        .and_then(wasmi::Extern::into_global)
}

/// A [`HostStop`] travelling through wasmi as a host error.
#[derive(Debug)]
struct Stop(HostStop);

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl wasmi::errors::HostError for Stop {}

struct Suspended {
    invocation: ResumableCallHostTrap,
    outputs: Vec<Val>,
    /// The embedder import that suspended, or [`CALL_REQUEST`].
    host_index: usize,
}

/// `Suspended::host_index` of a suspended `ward.call`.
const CALL_REQUEST: usize = usize::MAX;

struct WasmiSandbox {
    store: Store<StoreData>,
    shared: Arc<Shared>,
    /// Inline for the usual single instance, no allocation.
    instances: SmallVec<[Instance; 1]>,
    /// Handles given out: inline for the usual meter and entry point.
    externs: SmallVec<[wasmi::Extern; 4]>,
    suspended: Option<Suspended>,
    deadline: Option<Instant>,
    /// Whether some instance imports a host function that may suspend.
    may_suspend: bool,
    /// Set by [`Backend::sandbox_for`] for a recyclable module.
    home: Option<Home<Compiled, Instance>>,
    /// The home module's `__ward_reset`, found when its instance was new
    /// (and kept with the sandbox when it is recycled).
    reset: Option<wasmi::Func>,
}

impl WasmiSandbox {
    fn idle(&self) -> Result<(), SandboxError> {
        if self.suspended.is_some() {
            Err(SandboxError::Busy)
        } else {
            Ok(())
        }
    }

    fn push_extern(&mut self, item: wasmi::Extern) -> Extern {
        let kind = match item {
            wasmi::Extern::Func(_) => ExternKind::Func,
            wasmi::Extern::Memory(_) => ExternKind::Memory,
            wasmi::Extern::Table(_) => ExternKind::Table,
            wasmi::Extern::Global(_) => ExternKind::Global,
        };
        self.externs.push(item);
        Extern {
            kind,
            index: (self.externs.len() - 1) as u32,
        }
    }

    fn memory(&self, handle: Extern) -> Result<wasmi::Memory, SandboxError> {
        self.idle()?;
        match self.externs.get(handle.index as usize) {
            Some(wasmi::Extern::Memory(m)) => Ok(*m),
            _ => Err(SandboxError::BadHandle(ExternKind::Memory)),
        }
    }

    /// Refills the fuel slice; `false` once the deadline has passed.
    fn refuel(&mut self) -> bool {
        if !self.shared.config.interruptible {
            return true;
        }
        let fuel = match self.deadline {
            None => u64::MAX,
            Some(deadline) if ward_vm::clock::passed(deadline) => return false,
            Some(_) => FUEL_SLICE,
        };
        // Fuel metering is on whenever the backend is interruptible.
        self.store.set_fuel(fuel).is_ok()
    }

    /// Runs a call until it finishes or suspends.
    fn drive(
        &mut self,
        mut result: Result<ResumableCall, wasmi::Error>,
        mut outputs: Vec<Val>,
    ) -> Step {
        loop {
            match result {
                Ok(ResumableCall::Finished) => {
                    return match outputs.iter().map(|v| from_val(&self.store, v)).collect() {
                        Ok(values) => Step::Returned(values),
                        Err(message) => Step::Failed(Failure::new(ErrorKind::HostError, message)),
                    };
                }
                Ok(ResumableCall::OutOfFuel(invocation)) => {
                    if !self.refuel() {
                        return Step::Failed(Failure::new(ErrorKind::Timeout, "deadline passed"));
                    }
                    result = invocation.resume(&mut self.store, &mut outputs);
                }
                Ok(ResumableCall::HostTrap(invocation)) => {
                    let request = match invocation.host_error().downcast_ref::<Stop>() {
                        Some(Stop(HostStop::Suspend(request))) => request.clone(),
                        _ => return step_from_error(invocation.into_host_error()),
                    };
                    let host_index = match &request {
                        Request::Host { index, .. } => *index,
                        Request::Call { .. } => CALL_REQUEST,
                        _ => {
                            return Step::Failed(Failure::new(
                                ErrorKind::HostError,
                                "unknown request",
                            ));
                        }
                    };
                    self.suspended = Some(Suspended {
                        invocation,
                        outputs,
                        host_index,
                    });
                    return Step::Suspended(request);
                }
                Err(err) => return step_from_error(err),
            }
        }
    }
}

impl Sandbox for WasmiSandbox {
    fn instantiate(&mut self, module: &Module, links: &[Link]) -> Result<InstanceId, Failure> {
        // A module of another backend's engine is refused here: wasmi
        // itself would panic on it.
        let Some(compiled) = module
            .downcast::<Compiled>()
            .filter(|c| Engine::same(c.module.engine(), self.store.engine()))
        else {
            return Err(Failure::new(
                ErrorKind::HostError,
                SandboxError::ForeignModule.to_string(),
            ));
        };
        self.idle()
            .map_err(|e| Failure::new(ErrorKind::HostError, e.to_string()))?;
        let alone = self.instances.is_empty() && links.is_empty();
        let home_call = self
            .home
            .as_mut()
            .is_some_and(|home| home.claim(compiled, alone));
        if home_call && let Some(instance) = self.home.as_mut().and_then(Home::take_ready) {
            self.instances.push(instance);
            return Ok(InstanceId(0));
        }
        if !module.imports().is_empty() {
            let resolved = self.shared.config.resolve_imports(module, links)?;
            self.may_suspend |= resolved.iter().any(|r| r.may_suspend());
        }
        let mut linker_owned;
        let linker: &Linker<StoreData> = if links.is_empty() {
            &self.shared.linker
        } else {
            linker_owned = self.shared.linker.clone();
            linker_owned.allow_shadowing(true);
            for link in links {
                let item = self
                    .externs
                    .get(link.item.index as usize)
                    .copied()
                    .ok_or_else(|| Failure::new(ErrorKind::UnknownImport, "bad link handle"))?;
                linker_owned
                    .define(&link.module, &link.name, item)
                    .map_err(|e| Failure::new(ErrorKind::UnknownImport, e.to_string()))?;
            }
            &linker_owned
        };
        // A start function gets the remaining time as one budget: it cannot
        // be resumed, so it is not sliced.
        if self.shared.config.interruptible {
            let fuel = match self.deadline {
                None => u64::MAX,
                Some(deadline) => {
                    let left = ward_vm::clock::left(deadline);
                    (left.as_millis() as u64)
                        .saturating_add(1)
                        .saturating_mul(FUEL_SLICE)
                }
            };
            let _ = self.store.set_fuel(fuel);
        }
        self.store.data_mut().context.set_suspend_allowed(false);
        let instance = linker.instantiate_and_start(&mut self.store, &compiled.module);
        self.store.data_mut().context.set_suspend_allowed(true);
        let instance = instance.map_err(instantiation_failure)?;
        let memory = instance.get_memory(&self.store, ward_abi::MEMORY_EXPORT);
        let gas = instance.get_global(&self.store, ward_instrument::GAS_EXPORT);
        if home_call {
            // A new instance, before any call: its memory is the image
            // every restore goes back to.
            if let Some(memory) = memory {
                compiled.recycled.record_image(memory.data(&self.store));
            }
            self.reset = instance.get_func(&self.store, ward_instrument::RESET_EXPORT);
        }
        let exports = &mut self.store.data_mut().exports;
        exports.instances += 1;
        exports.memory = memory;
        exports.gas = gas;
        self.instances.push(instance);
        Ok(InstanceId((self.instances.len() - 1) as u32))
    }

    fn meter_export(&mut self, instance: InstanceId) -> Option<(Extern, bool)> {
        // The only instance's gas global was found when it was made.
        if self.instances.len() == 1
            && instance.0 == 0
            && let Some(gas) = self.store.data().exports.gas
        {
            return Some((self.push_extern(wasmi::Extern::Global(gas)), true));
        }
        ward_vm::meter_export_by_name(self, instance)
    }

    fn export(&mut self, instance: InstanceId, name: &str) -> Option<Extern> {
        let instance = *self.instances.get(instance.0 as usize)?;
        let item = instance.get_export(&self.store, name)?;
        Some(self.push_extern(item))
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
        self.suspended.is_some()
    }

    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    fn context(&mut self) -> Result<&mut CallContext, SandboxError> {
        self.idle()?;
        Ok(&mut self.store.data_mut().context)
    }

    fn read_memory(
        &mut self,
        memory: Extern,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), SandboxError> {
        let memory = self.memory(memory)?;
        let offset = usize::try_from(offset).map_err(|_| SandboxError::OutOfBounds)?;
        memory
            .read(&self.store, offset, buf)
            .map_err(|_| SandboxError::OutOfBounds)
    }

    fn write_memory(
        &mut self,
        memory: Extern,
        offset: u64,
        data: &[u8],
    ) -> Result<(), SandboxError> {
        let memory = self.memory(memory)?;
        let offset = usize::try_from(offset).map_err(|_| SandboxError::OutOfBounds)?;
        memory
            .write(&mut self.store, offset, data)
            .map_err(|_| SandboxError::OutOfBounds)
    }

    fn memory_size(&mut self, memory: Extern) -> Result<u64, SandboxError> {
        let memory = self.memory(memory)?;
        Ok(memory.data(&self.store).len() as u64)
    }

    fn global_get(&mut self, global: Extern) -> Result<Value, SandboxError> {
        self.idle()?;
        match self.externs.get(global.index as usize) {
            Some(wasmi::Extern::Global(g)) => {
                from_val(&self.store, &g.get(&self.store)).map_err(SandboxError::BadArguments)
            }
            _ => Err(SandboxError::BadHandle(ExternKind::Global)),
        }
    }

    fn global_set(&mut self, global: Extern, value: Value) -> Result<(), SandboxError> {
        self.idle()?;
        if let Some(home) = &mut self.home {
            home.note_values(&[value]);
        }
        let Some(wasmi::Extern::Global(g)) = self.externs.get(global.index as usize).copied()
        else {
            return Err(SandboxError::BadHandle(ExternKind::Global));
        };
        let val = to_val(&mut self.store, value)?;
        g.set(&mut self.store, val)
            .map_err(|e| SandboxError::BadArguments(e.to_string()))
    }

    fn finish(mut self: Box<Self>) {
        let Some(compiled) = self.home.take().and_then(Home::into_module) else {
            return;
        };
        let &[instance] = self.instances.as_slice() else {
            return;
        };
        if self.suspended.is_some() {
            return;
        }
        let memory = self.store.data().exports.memory;
        let bytes = memory.map_or(0, |m| m.data(&self.store).len() as u64);
        let pool = &compiled.recycled;
        let entry = Recycled {
            sandbox: self,
            instance,
        };
        pool.keep(entry, bytes, |entry| {
            let sandbox = &mut entry.sandbox;
            let interruptible = sandbox.shared.config.interruptible;
            if !restore(
                &mut sandbox.store,
                memory,
                sandbox.reset,
                pool,
                interruptible,
            ) {
                return false;
            }
            // The call's context (the embedder's chain and host) ends here,
            // as it would with the store; the sandbox keeps nothing of it.
            sandbox.store.data_mut().context = CallContext::default();
            sandbox.instances.clear();
            sandbox.externs.clear();
            sandbox.deadline = None;
            true
        });
    }
}

impl WasmiSandbox {
    fn call_inner(&mut self, func: Extern, args: &[Value]) -> Step {
        if let Err(e) = self.idle() {
            return embedder_error(e);
        }
        let func = match self.externs.get(func.index as usize) {
            Some(wasmi::Extern::Func(f)) => *f,
            _ => return embedder_error(SandboxError::BadHandle(ExternKind::Func)),
        };
        let params = match args
            .iter()
            .map(|v| to_val(&mut self.store, *v))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(params) => params,
            Err(e) => return embedder_error(e),
        };
        // Nothing can suspend and no deadline needs fuel slices: an entry
        // point (no parameters, nothing or an i32 back) takes wasmi's typed,
        // non-resumable path.
        if params.is_empty() && !self.may_suspend && self.deadline.is_none() && self.refuel() {
            if let Ok(typed) = func.typed::<(), ()>(&self.store) {
                return match typed.call(&mut self.store, ()) {
                    Ok(()) => Step::Returned(Vec::new()),
                    Err(e) => step_from_error(e),
                };
            }
            if let Ok(typed) = func.typed::<(), i32>(&self.store) {
                return match typed.call(&mut self.store, ()) {
                    Ok(v) => Step::Returned(vec![Value::I32(v)]),
                    Err(e) => step_from_error(e),
                };
            }
        }
        let result_count = func.ty(&self.store).results().len();
        let mut outputs = vec![Val::I32(0); result_count];
        if !self.refuel() {
            return Step::Failed(Failure::new(ErrorKind::Timeout, "deadline passed"));
        }
        let result = func.call_resumable(&mut self.store, &params, &mut outputs);
        self.drive(result, outputs)
    }

    fn resume_inner(&mut self, reply: Reply) -> Step {
        let Some(Suspended {
            invocation,
            mut outputs,
            host_index,
        }) = self.suspended.take()
        else {
            return embedder_error(SandboxError::NotSuspended);
        };
        if host_index == CALL_REQUEST {
            // Charge the callee's gas, keep its return data, and hand the
            // status to the guest; the gas global follows the context.
            let status = match self.store.data_mut().context.complete_call(Some(reply)) {
                Ok(Value::I32(status)) => status,
                Ok(_) => ward_abi::call::FAILED,
                Err(stop) => return step_from_error(wasmi::Error::host(Stop(stop))),
            };
            if let Some(global) = self.store.data().exports.gas {
                let left = ward_vm::gas_global_value(self.store.data().context.gas_left());
                let _ = global.set(&mut self.store, Val::I64(left));
            }
            let result = invocation.resume(&mut self.store, &[Val::I32(status)], &mut outputs);
            return self.drive(result, outputs);
        }
        let expected = &self.shared.config.host_imports[host_index].ty.results;
        let values =
            match self
                .store
                .data_mut()
                .context
                .complete_host(host_index, expected, Some(reply))
            {
                Ok(values) => values,
                Err(stop) => return step_from_error(wasmi::Error::host(Stop(stop))),
            };
        let inputs = match values
            .iter()
            .map(|v| to_val(&mut self.store, *v))
            .collect::<Result<Vec<_>, _>>()
        {
            Ok(inputs) => inputs,
            Err(e) => return embedder_error(e),
        };
        let result = invocation.resume(&mut self.store, &inputs, &mut outputs);
        self.drive(result, outputs)
    }
}

/// Restores a finished instance to the state of a new one: its memory to
/// the module's initial image and its mutable globals through
/// `__ward_reset`. `false` when it cannot be: the memory grew, or the reset
/// failed.
fn restore(
    store: &mut Store<StoreData>,
    memory: Option<wasmi::Memory>,
    reset: Option<wasmi::Func>,
    pool: &RecyclePool<Recycled>,
    metered_by_fuel: bool,
) -> bool {
    if let Some(memory) = memory
        && !pool.restore_memory(memory.data_mut(&mut *store))
    {
        return false;
    }
    if let Some(reset) = reset {
        // Fuel only measures time here; the reset is a few global sets.
        if metered_by_fuel && store.set_fuel(u64::MAX).is_err() {
            return false;
        }
        let Ok(reset) = reset.typed::<(), ()>(&*store) else {
            return false;
        };
        if reset.call(&mut *store, ()).is_err() {
            return false;
        }
    }
    true
}

fn embedder_error(err: SandboxError) -> Step {
    Step::Failed(Failure::new(ErrorKind::HostError, err.to_string()))
}

/// Turns an error that ended a call into a step.
fn step_from_error(err: wasmi::Error) -> Step {
    if let Some(Stop(stop)) = err.downcast_ref::<Stop>() {
        return match stop {
            HostStop::Exit(code) => Step::Exited(*code),
            HostStop::Trap(failure) => Step::Failed(failure.clone()),
            HostStop::Suspend(_) => Step::Failed(Failure::new(
                ErrorKind::HostError,
                "a host function suspended outside a suspendable call",
            )),
        };
    }
    Step::Failed(trap_failure(&err))
}

fn trap_failure(err: &wasmi::Error) -> Failure {
    let kind = match err.as_trap_code() {
        Some(TrapCode::UnreachableCodeReached) => ErrorKind::Unreachable,
        Some(TrapCode::MemoryOutOfBounds) => ErrorKind::MemoryOutOfBounds,
        Some(TrapCode::TableOutOfBounds) => ErrorKind::TableOutOfBounds,
        Some(TrapCode::IndirectCallToNull) => ErrorKind::IndirectCallToNull,
        Some(TrapCode::IntegerDivisionByZero) => ErrorKind::IntegerDivideByZero,
        Some(TrapCode::IntegerOverflow) => ErrorKind::IntegerOverflow,
        Some(TrapCode::BadConversionToInteger) => ErrorKind::BadConversionToInteger,
        Some(TrapCode::StackOverflow) => ErrorKind::StackOverflow,
        Some(TrapCode::BadSignature) => ErrorKind::IndirectCallTypeMismatch,
        // Fuel only runs out here when a slice ends a non-resumable start
        // function: its time budget is spent.
        Some(TrapCode::OutOfFuel) => ErrorKind::Timeout,
        _ => ErrorKind::HostError,
    };
    Failure::new(kind, err.to_string())
}

fn instantiation_failure(err: wasmi::Error) -> Failure {
    use wasmi::errors::{ErrorKind as Kind, InstantiationError as Inst};
    if let Some(Stop(stop)) = err.downcast_ref::<Stop>() {
        return Failure::new(
            ErrorKind::InstantiationTrap,
            format!("start function: {stop}"),
        );
    }
    let message = err.to_string();
    let kind = match err.kind() {
        Kind::TrapCode(TrapCode::OutOfFuel) => ErrorKind::Timeout,
        // A data or element segment out of bounds.
        Kind::TrapCode(_) | Kind::Memory(_) | Kind::Table(_) => ErrorKind::InstantiationTrap,
        Kind::Linker(_) => ErrorKind::UnknownImport,
        Kind::Instantiation(
            Inst::ImportTypeMismatch { .. }
            | Inst::GlobalTypeMismatch { .. }
            | Inst::FuncTypeMismatch { .. }
            | Inst::TableTypeMismatch { .. }
            | Inst::MemoryTypeMismatch { .. },
        ) => ErrorKind::ImportSignatureMismatch,
        Kind::Instantiation(Inst::ElementSegmentDoesNotFit { .. }) => ErrorKind::InstantiationTrap,
        _ => ErrorKind::LimitExceeded,
    };
    Failure::new(kind, message)
}

/// Defines every host ABI function as a typed wasmi function, generated
/// from the ABI table so that none can be missed.
macro_rules! define_abi {
    ($( $(#[doc = $doc:literal])* $name:ident $variant:ident
        ( $($param:ident : $pty:ident),* ) $(-> $ret:ident)? { $($rules:tt)* } )*) => {
        fn define_abi(linker: &mut Linker<StoreData>) -> Result<(), wasmi::errors::LinkerError> {
            $(
                linker.func_wrap(
                    ward_abi::MODULE,
                    stringify!($name),
                    |mut caller: Caller<'_, StoreData>, $($param: $pty),*| {
                        let result = abi_call(&mut caller, HostFn::$variant, &[$(Value::from($param)),*])?;
                        Ok::<_, wasmi::Error>(define_abi!(@ret result $($ret)?))
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
fn build_linker(
    engine: &Engine,
    config: &Config,
) -> Result<Linker<StoreData>, wasmi::errors::LinkerError> {
    let mut linker = Linker::new(engine);
    define_abi(&mut linker)?;
    for (index, import) in config.host_imports.iter().enumerate() {
        let expected: Arc<[ValType]> = import.ty.results.clone().into();
        linker.func_new(
            &import.module,
            &import.name,
            func_type(&import.ty),
            move |caller, params, results| host_call(caller, index, &expected, params, results),
        )?;
    }
    Ok(linker)
}

/// One call of a host ABI function: the fast path, never suspends.
fn abi_call(
    caller: &mut Caller<'_, StoreData>,
    f: HostFn,
    args: &[Value],
) -> Result<Option<Value>, wasmi::Error> {
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
    result.map_err(|stop| wasmi::Error::host(Stop(stop)))
}

/// Loads an engine-metered caller's gas global into the call context.
fn gas_in(caller: &mut Caller<'_, StoreData>, global: wasmi::Global) {
    let left = match global.get(&*caller) {
        Val::I64(v) => v.max(0) as u64,
        _ => 0,
    };
    caller
        .data_mut()
        .context
        .set_gas_left(ward_vm::Gas::new(left));
}

/// Stores the call context's gas back into the caller's gas global.
fn gas_out(caller: &mut Caller<'_, StoreData>, global: Option<wasmi::Global>) {
    if let Some(global) = global {
        let left = ward_vm::gas_global_value(caller.data().context.gas_left());
        // The global is a mutable i64 made by the instrumentation: setting
        // it cannot fail.
        let _ = global.set(&mut *caller, Val::I64(left));
    }
}

/// One call of embedder host import `index`, whose results must have the
/// types `expected`.
fn host_call(
    mut caller: Caller<'_, StoreData>,
    index: usize,
    expected: &[ValType],
    params: &[Val],
    results: &mut [Val],
) -> Result<(), wasmi::Error> {
    let host_trap = |message: String| {
        wasmi::Error::host(Stop(HostStop::Trap(Failure::new(
            ErrorKind::HostError,
            message,
        ))))
    };
    let args = params
        .iter()
        .map(|v| from_val(&caller, v))
        .collect::<Result<Vec<_>, _>>()
        .map_err(host_trap)?;
    // The fixed cost was prepaid by an engine-metered caller; embedder
    // host imports charge nothing more, so the gas counter stays in wasm.
    let prepaid = caller_gas(&caller).is_some();
    caller.data_mut().context.set_base_prepaid(prepaid);
    let answer = match caller_memory(&caller) {
        Some(memory) => {
            let (bytes, data) = memory.data_and_store_mut(&mut caller);
            data.context.call_host(index, &args, bytes)
        }
        None => caller.data_mut().context.call_host(index, &args, &mut []),
    };
    match answer {
        Ok(values) => {
            let values = caller
                .data_mut()
                .context
                .complete_host(index, expected, Some(Reply::Values(values)))
                .map_err(|stop| wasmi::Error::host(Stop(stop)))?;
            for (slot, value) in results.iter_mut().zip(values) {
                *slot = to_val(&mut caller, value).map_err(|e| host_trap(e.to_string()))?;
            }
            Ok(())
        }
        Err(stop) => Err(wasmi::Error::host(Stop(stop))),
    }
}

fn func_type(ty: &FuncType) -> wasmi::FuncType {
    wasmi::FuncType::new(
        ty.params.iter().map(|t| wasm_type(*t)),
        ty.results.iter().map(|t| wasm_type(*t)),
    )
}

fn wasm_type(ty: ValType) -> wasmi::ValType {
    match ty {
        ValType::I32 => wasmi::ValType::I32,
        ValType::I64 => wasmi::ValType::I64,
        ValType::F32 => wasmi::ValType::F32,
        ValType::F64 => wasmi::ValType::F64,
        ValType::FuncRef => wasmi::ValType::FuncRef,
        ValType::ExternRef => wasmi::ValType::ExternRef,
    }
}

fn ward_type(ty: wasmi::ValType) -> ValType {
    match ty {
        wasmi::ValType::I32 => ValType::I32,
        wasmi::ValType::I64 => ValType::I64,
        wasmi::ValType::F32 => ValType::F32,
        wasmi::ValType::F64 => ValType::F64,
        wasmi::ValType::ExternRef => ValType::ExternRef,
        // v128 is outside Ward's feature set and never passes validation.
        _ => ValType::FuncRef,
    }
}

fn extern_type(ty: &wasmi::ExternType) -> ExternType {
    match ty {
        wasmi::ExternType::Func(f) => ExternType::Func(FuncType::new(
            f.params().iter().map(|t| ward_type(*t)),
            f.results().iter().map(|t| ward_type(*t)),
        )),
        wasmi::ExternType::Memory(_) => ExternType::Memory,
        wasmi::ExternType::Table(_) => ExternType::Table,
        wasmi::ExternType::Global(_) => ExternType::Global,
    }
}

fn to_val(store: impl wasmi::AsContextMut, value: Value) -> Result<Val, SandboxError> {
    Ok(match value {
        Value::I32(v) => Val::I32(v),
        Value::I64(v) => Val::I64(v),
        Value::F32(bits) => Val::F32(wasmi::F32::from_bits(bits)),
        Value::F64(bits) => Val::F64(wasmi::F64::from_bits(bits)),
        Value::FuncRef { null: true } => Val::FuncRef(wasmi::Nullable::Null),
        Value::FuncRef { null: false } => {
            return Err(SandboxError::BadArguments(
                "a non-null funcref cannot be passed in".into(),
            ));
        }
        Value::ExternRef(None) => Val::ExternRef(wasmi::Nullable::Null),
        Value::ExternRef(Some(n)) => {
            Val::ExternRef(wasmi::Nullable::Val(wasmi::ExternRef::new(store, n)))
        }
    })
}

fn from_val(store: impl wasmi::AsContext, val: &Val) -> Result<Value, String> {
    Ok(match val {
        Val::I32(v) => Value::I32(*v),
        Val::I64(v) => Value::I64(*v),
        Val::F32(f) => Value::F32(f.to_bits()),
        Val::F64(f) => Value::F64(f.to_bits()),
        Val::FuncRef(f) => Value::FuncRef { null: f.is_null() },
        Val::ExternRef(wasmi::Nullable::Null) => Value::ExternRef(None),
        Val::ExternRef(wasmi::Nullable::Val(r)) => {
            let n = r.data(store.as_context()).downcast_ref::<u32>().copied();
            Value::ExternRef(Some(n.ok_or("externref holds no Ward host value")?))
        }
        other => return Err(format!("value {other:?} is outside Ward's feature set")),
    })
}
