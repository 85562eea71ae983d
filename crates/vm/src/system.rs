//! System runtimes: trusted modules whose instances are reused.
//!
//! A contract call gets a fresh instance every time. A *system runtime*
//! (Fluentbase's term) is different: a trusted module registered by the
//! embedder, never deployable by users (an interpreter for another
//! language, a precompile, a plugin host's built-ins), whose instantiation
//! is worth paying once. [`SystemRuntimes`] keeps one instance per thread
//! per registered code hash and reuses it across calls:
//!
//! - the call's [`CallContext`] is swapped into the instance's store before
//!   the call and out after it, and the meters are re-armed, so each call
//!   sees only its own input, output and gas;
//! - calls into one cached instance are strictly sequential (the instance
//!   belongs to one thread and is taken out of its pool for the call); a
//!   call that starts while another waits (a runtime's contract calling a
//!   contract of the same runtime) gets another instance, so a thread
//!   keeps up to [`MAX_POOLED`] per runtime;
//! - a call can suspend ([`SystemRuntimes::begin`] gives its
//!   [`Progress`]), so an executor serves a runtime's `ward.call` as it
//!   serves a contract's; the instance goes back to its pool when the call
//!   is over;
//! - [`SystemRuntimes::reset`] drops every cached instance, on every
//!   thread, before its next use;
//! - after any failure (trap, out of gas, stack overflow, timeout, memory
//!   fault, host error) the instance is dropped, and the next call builds a
//!   fresh one, so no call ever sees state a failure left half-written. So
//!   is an instance whose call ended with `ward.exit` rather than by
//!   returning: the frames `exit` unwound never ran their epilogues (Ward's
//!   call-depth counter, a compiled language's shadow stack pointer), so
//!   reusing it would hand the next call a smaller stack;
//! - either metering mode applies: engine-metered runtimes are
//!   instrumented, self-metered ones charge through `ward.charge_gas`.
//!
//! Building an instance (and running its start function) is never charged
//! to a call: which call happens to build it differs from node to node, and
//! gas must not. A runtime must be written so that what one call leaves in
//! its memory cannot change another call's result; Ward guarantees only
//! that failed calls leave nothing behind.

use std::{
    cell::RefCell,
    collections::BTreeMap,
    sync::{
        Arc, RwLock,
        atomic::{AtomicU64, Ordering},
    },
};

use crate::{
    Backend, CallContext, CodeHash, Config, Entry, ErrorKind, Execution, Extern, Failure,
    InstanceId, Meter, Metering, Module, NodeFault, Progress, Reply, Request, RunOptions, Sandbox,
    Status,
    run::{begin_in, exported_memory, instantiate_metered, resolve_entry},
};

/// How many idle instances of one runtime a thread keeps.
pub const MAX_POOLED: usize = 8;

/// Distinguishes registries in the per-thread instance pools.
static NEXT_REGISTRY: AtomicU64 = AtomicU64::new(1);

/// One thread's reusable instance of one runtime.
struct Cached {
    sandbox: Box<dyn Sandbox>,
    instance: InstanceId,
    meter: Option<Meter>,
    /// Entry exports looked up so far, by name.
    entries: Vec<(String, Extern)>,
    /// The registry's generation it was built in.
    generation: u64,
}

thread_local! {
    /// (registry, code hash) -> this thread's idle instances. An instance
    /// is taken out for the duration of a call and put back after a
    /// success.
    static INSTANCES: RefCell<BTreeMap<(u64, CodeHash), Vec<Cached>>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// Where a runtime's instance goes back when its call is over.
pub(crate) struct Home {
    slot: (u64, CodeHash),
    instance: InstanceId,
    entries: Vec<(String, Extern)>,
    generation: u64,
    current: Arc<AtomicU64>,
}

impl Home {
    /// Puts the instance back in this thread's pool after a call that
    /// `settled` as it did, unless the call failed or did not return
    /// (then the instance is dropped and the next call builds a fresh
    /// one), the registry was reset since it was built, or the pool is
    /// full.
    pub(crate) fn put_back(
        self,
        sandbox: Box<dyn Sandbox>,
        meter: Option<Meter>,
        settled: &Result<Execution, NodeFault>,
        returned: bool,
    ) {
        let mut sandbox = sandbox;
        // Swap the context out (dropping the call's input and leftovers).
        if let Ok(slot) = sandbox.context() {
            *slot = CallContext::default();
        }
        sandbox.set_deadline(None);
        sandbox.set_cancel(None);
        // Only an entry that returned leaves the instance as it found it:
        // an `exit` unwinds frames whose epilogues never run (the call
        // depth, a compiled language's shadow stack pointer), so the
        // instance is rebuilt as after a failure.
        let healthy =
            matches!(settled, Ok(e) if matches!(e.outcome.status, Status::Ok | Status::Reverted));
        if !healthy || !returned || self.generation != self.current.load(Ordering::Acquire) {
            return;
        }
        let cached = Cached {
            sandbox,
            instance: self.instance,
            meter,
            entries: self.entries,
            generation: self.generation,
        };
        keep(self.slot, cached);
    }
}

/// Keeps `cached` in this thread's pool for `slot` (registry, code hash),
/// unless the pool is full.
fn keep(slot: (u64, CodeHash), cached: Cached) {
    INSTANCES.with(|m| {
        let mut pools = m.borrow_mut();
        let pool = pools.entry(slot).or_default();
        if pool.len() < MAX_POOLED {
            pool.push(cached);
        }
    });
}

/// The trusted runtimes an embedder registered, on one backend.
pub struct SystemRuntimes {
    id: u64,
    backend: Arc<dyn Backend>,
    config: Config,
    modules: RwLock<BTreeMap<CodeHash, Module>>,
    builds: AtomicU64,
    /// Bumped by [`SystemRuntimes::reset`]: instances of an older
    /// generation are dropped instead of used.
    generation: Arc<AtomicU64>,
}

impl SystemRuntimes {
    /// An empty registry for `backend`, which must have been created with
    /// `config`.
    pub fn new(backend: Arc<dyn Backend>, config: &Config) -> Self {
        SystemRuntimes {
            id: NEXT_REGISTRY.fetch_add(1, Ordering::Relaxed),
            backend,
            config: config.clone(),
            modules: RwLock::new(BTreeMap::new()),
            builds: AtomicU64::new(0),
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Registers a runtime, metered as `metering` says (`Instrumented` or
    /// `SelfMetered`), and returns its code hash.
    ///
    /// # Errors
    ///
    /// The module's rejection by the policy or the engine.
    pub fn register(&self, wasm: &[u8], metering: Metering) -> Result<CodeHash, Failure> {
        let mut config = self.config.clone();
        config.policy.metering = metering;
        let module = crate::compile(&*self.backend, &config, wasm)?;
        let code = CodeHash::of(wasm);
        self.modules
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(code, module);
        Ok(code)
    }

    /// Registers a runtime already compiled (through a [`crate::ModuleCache`]
    /// whose config meters as the runtime must be metered, so that its disk
    /// cache spares the next process the compile), under its code hash.
    pub fn register_compiled(&self, code: CodeHash, module: Module) {
        self.modules
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(code, module);
    }

    /// The registered runtime `code`'s module.
    pub fn module(&self, code: &CodeHash) -> Option<Module> {
        let modules = self.modules.read().unwrap_or_else(|e| e.into_inner());
        modules.get(code).cloned()
    }

    /// How many instances have been built so far, on every thread.
    pub fn instance_builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }

    /// Drops every cached instance of every runtime: this thread's now,
    /// other threads' when they next take one. Calls in progress finish on
    /// their instances, which are then dropped too.
    pub fn reset(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        INSTANCES.with(|m| {
            m.borrow_mut()
                .retain(|(registry, _), _| *registry != self.id)
        });
    }

    /// Calls `entry` of the runtime `code` on one of this thread's
    /// instances, building one first if there is none, and services its
    /// suspensions with `service`.
    ///
    /// # Errors
    ///
    /// A [`NodeFault`] when the node failed during the call.
    pub fn call(
        &self,
        code: &CodeHash,
        entry: &Entry,
        options: RunOptions,
        context: CallContext,
        service: &mut dyn FnMut(Request) -> Reply,
    ) -> Result<Execution, NodeFault> {
        let mut progress = self.begin(code, entry, options, context);
        loop {
            match progress {
                Progress::Finished(execution) => return Ok(execution),
                Progress::Aborted(fault) => return Err(fault),
                Progress::Suspended(running, request) => {
                    progress = running.resume(service(request))
                }
            }
        }
    }

    /// Starts `entry` of the runtime `code` on one of this thread's
    /// instances (building one first if there is none) with `context`
    /// swapped in, and runs it to its first suspension or its end, as
    /// [`crate::begin`] does for a fresh instance.
    pub fn begin(
        &self,
        code: &CodeHash,
        entry: &Entry,
        options: RunOptions,
        context: CallContext,
    ) -> Progress {
        let Some(module) = self.module(code) else {
            return Progress::Finished(Execution::rejected(Failure::new(
                ErrorKind::EntryNotFound,
                format!("no system runtime with code hash {code}"),
            )));
        };
        if let Entry::Initialized { initialize, .. } = entry {
            // A runtime's pooled instance is initialised once, when built.
            return Progress::Finished(Execution::rejected(Failure::new(
                ErrorKind::EntryNotFound,
                format!("a system runtime runs no `{initialize}` before its entry"),
            )));
        }
        let (name, args, shape) = match resolve_entry(&module, entry) {
            Ok(resolved) => resolved,
            Err(failure) => return Progress::Finished(Execution::rejected(failure)),
        };
        let mut cached = match self.take(code) {
            Some(cached) => cached,
            None => match self.build(&module) {
                Ok(cached) => cached,
                Err(Built::Failed(failure)) => {
                    return Progress::Finished(Execution::rejected(failure));
                }
                Err(Built::Aborted(fault)) => return Progress::Aborted(fault),
            },
        };
        let func = match cached.entries.iter().find(|(n, _)| n == name) {
            Some((_, func)) => *func,
            None => match cached.sandbox.export(cached.instance, name) {
                Some(func) => {
                    cached.entries.push((name.to_string(), func));
                    func
                }
                None => {
                    return Progress::Finished(Execution::rejected(Failure::new(
                        ErrorKind::EntryNotFound,
                        format!("no function export `{name}`"),
                    )));
                }
            },
        };

        // Swap the call's context in, arm the meters.
        let mut context = context;
        context.reset(options.input, options.gas_limit.min(crate::MAX_GAS));
        let context = context.with_debug_log(options.debug_log);
        let (gas, base) = (context.gas_left(), context.stack_base());
        let deadline = options
            .timeout
            .and_then(|t| crate::clock::now().checked_add(t));
        let mut context = context;
        context.interrupt_children(deadline, options.cancel.as_ref());
        let armed = match cached.sandbox.context() {
            Ok(slot) => {
                *slot = context;
                cached.sandbox.set_deadline(deadline);
                cached.sandbox.set_cancel(options.cancel.clone());
                match &cached.meter {
                    Some(meter) => meter
                        .arm(&mut *cached.sandbox, gas, base)
                        .map_err(|e| Failure::new(ErrorKind::HostError, e.to_string())),
                    None => Ok(()),
                }
            }
            Err(e) => Err(Failure::new(ErrorKind::HostError, e.to_string())),
        };
        if let Err(failure) = armed {
            return Progress::Finished(Execution::rejected(failure));
        }
        let instance = cached.instance;
        let home = Home {
            slot: (self.id, *code),
            instance,
            entries: cached.entries,
            generation: cached.generation,
            current: self.generation.clone(),
        };
        begin_in(
            (cached.sandbox, instance),
            cached.meter,
            (func, &args, shape),
            home,
        )
    }

    /// An idle instance of `code` from this thread's pool, of the current
    /// generation and on the fastest code there is for it (one built on a
    /// tiered backend's quick tier is dropped once the fast tier has
    /// compiled the runtime).
    fn take(&self, code: &CodeHash) -> Option<Cached> {
        let current = self.generation.load(Ordering::Acquire);
        INSTANCES.with(|m| {
            let mut pools = m.borrow_mut();
            let pool = pools.get_mut(&(self.id, *code))?;
            while let Some(cached) = pool.pop() {
                if cached.generation == current && !cached.sandbox.superseded() {
                    return Some(cached);
                }
            }
            None
        })
    }

    /// Reads `buf.len()` bytes at `offset` of the memory of this thread's
    /// idle instance of runtime `code` (built first when the thread has
    /// none): what the runtime keeps between calls, such as an
    /// interpreter's tables.
    ///
    /// # Errors
    ///
    /// No runtime `code`, an instance that cannot be built, no exported
    /// memory, or a range past its end (`host_error`, saying which).
    pub fn read_memory(&self, code: &CodeHash, offset: u64, buf: &mut [u8]) -> Result<(), Failure> {
        self.with_memory(code, |sandbox, memory| {
            sandbox.read_memory(memory, offset, buf)
        })
    }

    /// Writes `data` at `offset` of the memory of this thread's idle
    /// instance of runtime `code` (built first when there is none); later
    /// calls of the runtime on this thread see it until the instance is
    /// rebuilt (after a failed call, a [`SystemRuntimes::reset`]). Instances
    /// are per thread: a chain writes only what it writes alike on every
    /// node and thread, or what no call's outcome depends on.
    ///
    /// # Errors
    ///
    /// As [`SystemRuntimes::read_memory`].
    pub fn write_memory(&self, code: &CodeHash, offset: u64, data: &[u8]) -> Result<(), Failure> {
        self.with_memory(code, |sandbox, memory| {
            sandbox.write_memory(memory, offset, data)
        })
    }

    /// Runs `f` on the memory of this thread's idle instance of `code`,
    /// then puts the instance back in the pool.
    fn with_memory(
        &self,
        code: &CodeHash,
        f: impl FnOnce(&mut dyn Sandbox, crate::Extern) -> Result<(), crate::SandboxError>,
    ) -> Result<(), Failure> {
        let failed = |message: String| Failure::new(ErrorKind::HostError, message);
        let module = self
            .module(code)
            .ok_or_else(|| failed(format!("no system runtime with code hash {code}")))?;
        let mut cached = match self.take(code) {
            Some(cached) => cached,
            None => self.build(&module).map_err(|built| match built {
                Built::Failed(failure) => failure,
                Built::Aborted(fault) => failed(fault.to_string()),
            })?,
        };
        let memory = exported_memory(&mut *cached.sandbox, cached.instance)
            .ok_or_else(|| failed("the runtime exports no memory".into()))?;
        let done = f(&mut *cached.sandbox, memory).map_err(|e| failed(e.to_string()));
        keep((self.id, *code), cached);
        done
    }

    /// A fresh instance, its start function run with gas that no call pays.
    /// On a tiered backend it is on the quick tier until the fast one has
    /// compiled the runtime, so a fresh node's first call of a large
    /// runtime (the EVM's) does not wait for that compile.
    fn build(&self, module: &Module) -> Result<Cached, Built> {
        self.builds.fetch_add(1, Ordering::Relaxed);
        let generation = self.generation.load(Ordering::Acquire);
        let mut context = CallContext::default();
        context.reset(Vec::new(), crate::MAX_GAS);
        let mut sandbox = self.backend.sandbox_for(module, context);
        let (instance, meter) =
            instantiate_metered(&mut *sandbox, module, &[]).map_err(|failure| {
                match sandbox.context().ok().and_then(CallContext::take_fault) {
                    Some(fault) => Built::Aborted(fault),
                    None => Built::Failed(failure),
                }
            })?;
        Ok(Cached {
            sandbox,
            instance,
            meter,
            entries: Vec::new(),
            generation,
        })
    }
}

/// Why a runtime's instance could not be built.
enum Built {
    /// Instantiation or its start function failed: the call is rejected.
    Failed(Failure),
    /// The node failed while the start function ran.
    Aborted(NodeFault),
}
