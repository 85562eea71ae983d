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
//!   belongs to one thread and is taken out of its slot for the call);
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
    InstanceId, Meter, Metering, Module, NodeFault, Reply, Request, RunOptions, Sandbox, Status,
    run::{call_entry, instantiate_metered, resolve_entry},
};

/// Distinguishes registries in the per-thread instance slots.
static NEXT_REGISTRY: AtomicU64 = AtomicU64::new(1);

/// One thread's reusable instance of one runtime.
struct Cached {
    sandbox: Box<dyn Sandbox>,
    instance: InstanceId,
    meter: Option<Meter>,
    /// Entry exports looked up so far, by name.
    entries: Vec<(String, Extern)>,
}

thread_local! {
    /// (registry, code hash) -> this thread's instance. An instance is
    /// taken out for the duration of a call and put back after a success.
    static INSTANCES: RefCell<BTreeMap<(u64, CodeHash), Cached>> =
        const { RefCell::new(BTreeMap::new()) };
}

/// The trusted runtimes an embedder registered, on one backend.
pub struct SystemRuntimes {
    id: u64,
    backend: Arc<dyn Backend>,
    config: Config,
    modules: RwLock<BTreeMap<CodeHash, Module>>,
    builds: AtomicU64,
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

    /// How many instances have been built so far, on every thread.
    pub fn instance_builds(&self) -> u64 {
        self.builds.load(Ordering::Relaxed)
    }

    /// Calls `entry` of the runtime `code` on this thread's instance,
    /// building it first if there is none.
    pub fn call(
        &self,
        code: &CodeHash,
        entry: &Entry,
        options: RunOptions,
        context: CallContext,
        service: &mut dyn FnMut(Request) -> Reply,
    ) -> Result<Execution, NodeFault> {
        let module = {
            let modules = self.modules.read().unwrap_or_else(|e| e.into_inner());
            match modules.get(code) {
                Some(module) => module.clone(),
                None => {
                    return Ok(Execution::rejected(Failure::new(
                        ErrorKind::EntryNotFound,
                        format!("no system runtime with code hash {code}"),
                    )));
                }
            }
        };
        let (name, args, shape) = match resolve_entry(&module, entry) {
            Ok(resolved) => resolved,
            Err(failure) => return Ok(Execution::rejected(failure)),
        };
        let slot = (self.id, *code);
        let taken = INSTANCES.with(|m| m.borrow_mut().remove(&slot));
        let mut cached = match taken {
            Some(cached) => cached,
            None => match self.build(&module) {
                Ok(cached) => cached,
                Err(Built::Failed(failure)) => return Ok(Execution::rejected(failure)),
                Err(Built::Aborted(fault)) => return Err(fault),
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
                    return Ok(Execution::rejected(Failure::new(
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
        let armed = match cached.sandbox.context() {
            Ok(slot) => {
                *slot = context;
                cached.sandbox.set_deadline(deadline);
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
            return Ok(Execution::rejected(failure));
        }

        let (execution, returned) = call_entry(
            &mut *cached.sandbox,
            cached.meter.as_ref(),
            func,
            &args,
            shape,
            service,
        );
        // Swap the context out (dropping the call's input and leftovers).
        if let Ok(slot) = cached.sandbox.context() {
            *slot = CallContext::default();
        }
        cached.sandbox.set_deadline(None);
        // Only an entry that returned leaves the instance as it found it:
        // an `exit` unwinds frames whose epilogues never run (the call
        // depth, a compiled language's shadow stack pointer), so the
        // instance is rebuilt as after a failure.
        let healthy = matches!(&execution, Ok(e) if matches!(e.outcome.status, Status::Ok | Status::Reverted));
        if healthy && returned {
            INSTANCES.with(|m| m.borrow_mut().insert(slot, cached));
        }
        execution
    }

    /// A fresh instance, its start function run with gas that no call pays.
    fn build(&self, module: &Module) -> Result<Cached, Built> {
        self.builds.fetch_add(1, Ordering::Relaxed);
        let mut context = CallContext::default();
        context.reset(Vec::new(), crate::MAX_GAS);
        let mut sandbox = self.backend.sandbox(context);
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
