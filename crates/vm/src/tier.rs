//! Tier-up: a module's first calls run on a backend that is quick to
//! compile (wasmi translates a megabyte in milliseconds) while a worker
//! thread compiles it on the fast one (wasmtime); calls made after that
//! run the compiled code.
//!
//! Both tiers run the same instrumented bytes, so outcomes and gas are
//! identical by construction (the property every differential test
//! checks); which tier ran a call is never observable but in time. A
//! sandbox is on one tier for its life: a call in progress never moves.
//!
//! Nobody waits for the worker: a thread that needs the fast tier's code
//! before the worker has made it (a fast-tier sandbox instantiating the
//! module, a test's switch point) compiles it itself, and the first
//! compile to finish is the one kept.

use std::{
    any::Any,
    sync::{
        Arc, Mutex, OnceLock, Weak,
        atomic::{AtomicU64, Ordering},
        mpsc,
    },
    time::Instant,
};

use crate::{
    Backend, BackendKind, CallContext, EngineModule, Failure, InstanceId, Module, Reply, Sandbox,
    SandboxError, Step, Value,
    backend::{Extern, Link},
};

/// A backend that runs a module on `quick` until `fast` has compiled it
/// in the background (see the module docs). It reports `fast`'s kind and
/// fingerprint: its artifacts are `fast`'s own, and a module loaded from
/// the disk cache runs on `fast` at once.
pub struct TieredBackend {
    quick: Arc<dyn Backend>,
    fast: Arc<dyn Backend>,
    /// The compile worker's queue (started on the first compile).
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
    /// A sandbox goes to `fast` only once this many sandboxes have been
    /// handed out (0: as soon as the compile is done). For tests that
    /// switch at a chosen call.
    hold_until: u64,
    stats: Arc<Stats>,
    /// Why the compile worker could not start, if it could not.
    worker_failed: std::sync::OnceLock<String>,
}

#[derive(Default)]
struct Stats {
    handed_out: AtomicU64,
    quick: AtomicU64,
    fast: AtomicU64,
    compiled: AtomicU64,
}

/// Which tier sandboxes ran on, and how many background compiles finished.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TierStats {
    /// Sandboxes on the quick tier.
    pub quick: u64,
    /// Sandboxes on the fast tier.
    pub fast: u64,
    /// Background compiles finished (successfully or not).
    pub compiled: u64,
}

/// A background compile: where its result goes (skipped when every
/// module holding the slot is gone, or when another thread compiled it
/// first).
struct Job {
    slot: Weak<Slot>,
}

/// Work to do once a compile is done (the disk cache's write).
type Then = Box<dyn FnOnce() + Send>;

/// The fast tier's compile of one module, once it is done, and what it
/// takes to make it until then.
#[derive(Default)]
struct Slot {
    result: OnceLock<Option<Arc<dyn Any + Send + Sync>>>,
    state: Mutex<SlotState>,
}

#[derive(Default)]
struct SlotState {
    done: bool,
    then: Vec<Then>,
    /// What the compile is made from, until it is done.
    source: Option<Source>,
}

/// The fast backend, the bytes it compiles, and the counts a finished
/// compile goes into.
#[derive(Clone)]
struct Source {
    fast: Arc<dyn Backend>,
    wasm: Arc<[u8]>,
    stats: Arc<Stats>,
}

impl Source {
    /// The fast tier's code for the bytes. The quick tier accepted them:
    /// the fast one does too; if it does not, the module stays on the
    /// quick tier.
    fn compile(&self) -> Option<Arc<dyn Any + Send + Sync>> {
        self.fast.compile(&self.wasm).ok().map(|engine| engine.code)
    }
}

impl Slot {
    /// A slot whose compile is yet to be made from `wasm` on `fast`.
    fn pending(fast: Arc<dyn Backend>, wasm: &[u8], stats: Arc<Stats>) -> Slot {
        Slot {
            result: OnceLock::new(),
            state: Mutex::new(SlotState {
                source: Some(Source {
                    fast,
                    wasm: wasm.into(),
                    stats,
                }),
                ..SlotState::default()
            }),
        }
    }

    /// A slot whose compile is `code`.
    fn done(code: Arc<dyn Any + Send + Sync>) -> Slot {
        let slot = Slot::default();
        slot.set(Some(code));
        slot
    }

    /// Keeps `code` as the compile, unless another thread's finished
    /// first (a thread that needed it, or the worker); runs what waited
    /// for it. The first is counted before it is published: whoever sees
    /// the fast tier in use also sees the compile counted.
    fn set(&self, code: Option<Arc<dyn Any + Send + Sync>>) {
        let then = {
            let mut state = self.lock();
            if state.done {
                return;
            }
            if let Some(source) = state.source.take() {
                source.stats.compiled.fetch_add(1, Ordering::Release);
            }
            let _ = self.result.set(code);
            state.done = true;
            std::mem::take(&mut state.then)
        };
        for f in then {
            f();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The fast tier's code if its compile is done (and succeeded).
    fn ready(&self) -> Option<&Arc<dyn Any + Send + Sync>> {
        self.result.get().and_then(Option::as_ref)
    }

    /// The compile, made on this thread when it is not done yet (even
    /// while the worker makes it too): nobody waits for the worker, whose
    /// queue may hold other modules first.
    fn compile_now(&self) -> Option<&Arc<dyn Any + Send + Sync>> {
        let source = self.lock().source.clone();
        if let Some(source) = source {
            self.set(source.compile());
        }
        self.ready()
    }

    /// Runs `f` once the compile is done (now, if it is).
    fn then(&self, f: Then) {
        let mut state = self.lock();
        if state.done {
            drop(state);
            f();
        } else {
            state.then.push(f);
        }
    }
}

/// What [`TieredBackend::compile`] hands back as the module's code: the
/// quick tier's module (none when loaded from the disk cache) and the
/// fast tier's slot, with each tier's [`Module`] built once on first use.
struct TierCode {
    quick: Option<Arc<dyn Any + Send + Sync>>,
    slot: Arc<Slot>,
    quick_module: OnceLock<Module>,
    fast_module: OnceLock<Module>,
}

impl TierCode {
    /// `outer` as the tier `kind`'s module: the same preparation, that
    /// tier's code.
    fn module(&self, outer: &Module, kind: BackendKind, fast: bool) -> Option<&Module> {
        let (cell, code) = if fast {
            (&self.fast_module, self.slot.ready()?)
        } else {
            (&self.quick_module, self.quick.as_ref()?)
        };
        Some(cell.get_or_init(|| outer.with_code(kind, code.clone())))
    }
}

/// `engine`'s description with a tiered module's code: `engine`'s own as
/// the quick tier's when `quick`, and the fast tier's `slot`.
fn tiered(engine: EngineModule, kind: BackendKind, quick: bool, slot: Arc<Slot>) -> EngineModule {
    let EngineModule {
        imports,
        exports,
        footprint,
        code,
        ..
    } = engine;
    EngineModule {
        backend: kind,
        imports,
        exports,
        footprint,
        code: Arc::new(TierCode {
            quick: quick.then_some(code),
            slot,
            quick_module: OnceLock::new(),
            fast_module: OnceLock::new(),
        }),
    }
}

impl TieredBackend {
    /// Runs modules on `quick` until `fast` has compiled them.
    pub fn new(quick: Arc<dyn Backend>, fast: Arc<dyn Backend>) -> Self {
        TieredBackend {
            quick,
            fast,
            jobs: Mutex::new(None),
            hold_until: 0,
            stats: Arc::default(),
            worker_failed: std::sync::OnceLock::new(),
        }
    }

    /// Keeps every sandbox on the quick tier until `count` sandboxes have
    /// been handed out, then has the fast tier's code (compiling it on
    /// the calling thread if the worker has not): a deterministic switch
    /// point for tests.
    pub fn hold_until(mut self, count: u64) -> Self {
        self.hold_until = count;
        self
    }

    /// Which tier sandboxes ran on so far.
    pub fn stats(&self) -> TierStats {
        TierStats {
            quick: self.stats.quick.load(Ordering::Relaxed),
            fast: self.stats.fast.load(Ordering::Relaxed),
            compiled: self.stats.compiled.load(Ordering::Acquire),
        }
    }

    /// Queues `slot`'s compile for the worker, starting it if needed.
    fn queue(&self, slot: &Arc<Slot>) {
        let job = Job {
            slot: Arc::downgrade(slot),
        };
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let sender = jobs.get_or_insert_with(|| {
            let (sender, receiver) = mpsc::channel::<Job>();
            let spawned = std::thread::Builder::new()
                .name("ward-tier-up".into())
                .spawn(move || compile_jobs(&receiver));
            if let Err(e) = spawned {
                // No thread: jobs are never taken, and modules stay quick.
                let why = format!(
                    "tier-up's compile thread could not start: {e}; modules stay on the quick tier"
                );
                tracing::warn!("{why}");
                let _ = self.worker_failed.set(why);
            }
            sender
        });
        if let Err(mpsc::SendError(job)) = sender.send(job) {
            // The worker is gone: the module stays on the quick tier.
            if let Some(slot) = job.slot.upgrade() {
                slot.set(None);
            }
        }
    }
}

/// The worker: compiles each queued module on the fast tier, unless a
/// thread that needed it compiled it first.
fn compile_jobs(jobs: &mpsc::Receiver<Job>) {
    for job in jobs {
        let Some(slot) = job.slot.upgrade() else {
            continue;
        };
        drop(job.slot);
        let source = slot.lock().source.clone();
        if let Some(source) = source {
            slot.set(source.compile());
        }
    }
}

impl Backend for TieredBackend {
    fn chain_requests(&self) -> bool {
        // Both tiers were made with one config.
        self.fast.chain_requests()
    }

    fn health(&self) -> Result<(), String> {
        self.fast.health()?;
        self.quick.health()?;
        match self.worker_failed.get() {
            Some(why) => Err(why.clone()),
            None => Ok(()),
        }
    }

    fn kind(&self) -> BackendKind {
        self.fast.kind()
    }

    fn sibling(&self, config: &crate::Config) -> Result<Arc<dyn Backend>, Failure> {
        Ok(Arc::new(TieredBackend::new(
            self.quick.sibling(config)?,
            self.fast.sibling(config)?,
        )))
    }

    fn compile(&self, wasm: &[u8]) -> Result<EngineModule, Failure> {
        let quick = self.quick.compile(wasm)?;
        let slot = Arc::new(Slot::pending(self.fast.clone(), wasm, self.stats.clone()));
        self.queue(&slot);
        Ok(tiered(quick, self.fast.kind(), true, slot))
    }

    fn fingerprint(&self) -> String {
        self.fast.fingerprint()
    }

    fn serialize(&self, module: &Module) -> Option<Vec<u8>> {
        // Only once the fast tier has compiled: waiting here would make
        // the first call wait for it (see `serialize_when_ready`).
        let code = module.downcast::<TierCode>()?;
        let fast = code.module(module, self.fast.kind(), true)?;
        self.fast.serialize(fast)
    }

    fn serialize_when_ready(
        &self,
        module: &Module,
        store: Box<dyn FnOnce(Vec<u8>) + Send>,
    ) -> bool {
        let Some(code) = module.downcast::<TierCode>() else {
            return false;
        };
        let (fast, module) = (self.fast.clone(), module.clone());
        code.slot.then(Box::new(move || {
            let artifact = module
                .downcast::<TierCode>()
                .and_then(|code| code.module(&module, fast.kind(), true))
                .and_then(|fast_module| fast.serialize(fast_module));
            if let Some(artifact) = artifact {
                store(artifact);
            }
        }));
        true
    }

    #[allow(unsafe_code)]
    unsafe fn deserialize(&self, artifact: &[u8]) -> Result<EngineModule, Failure> {
        // SAFETY: the caller's contract is `fast`'s: these bytes are what
        // `serialize` above produced, which is `fast.serialize`, and the
        // fingerprints are the same.
        let engine = unsafe { self.fast.deserialize(artifact)? };
        let slot = Arc::new(Slot::done(engine.code.clone()));
        Ok(tiered(engine, self.fast.kind(), false, slot))
    }

    fn sandbox_for(&self, module: &Module, context: CallContext) -> Box<dyn Sandbox> {
        let handed_out = self.stats.handed_out.fetch_add(1, Ordering::Relaxed) + 1;
        let Some(code) = module.downcast::<TierCode>() else {
            return self.sandbox(context);
        };
        let held = handed_out <= self.hold_until;
        if !held && self.hold_until > 0 {
            code.slot.compile_now();
        }
        let fast = if held {
            None
        } else {
            code.module(module, self.fast.kind(), true)
        };
        let (inner, tier) = match fast {
            Some(fast) => (self.fast.sandbox_for(fast, context), Tier::Fast),
            None => match code.module(module, self.quick.kind(), false) {
                Some(quick) => (self.quick.sandbox_for(quick, context), Tier::Quick),
                // Loaded from the disk cache: always fast.
                None => (self.fast.sandbox(context), Tier::Fast),
            },
        };
        self.tiered_sandbox(inner, tier)
    }

    fn recycled_instances(&self) -> u64 {
        self.quick.recycled_instances() + self.fast.recycled_instances()
    }

    fn sandbox(&self, context: CallContext) -> Box<dyn Sandbox> {
        // A sandbox for any module: the fast tier, which every module has
        // (waiting for its compile where needed).
        self.tiered_sandbox(self.fast.sandbox(context), Tier::Fast)
    }
}

impl TieredBackend {
    fn tiered_sandbox(&self, inner: Box<dyn Sandbox>, tier: Tier) -> Box<dyn Sandbox> {
        let counter = match tier {
            Tier::Quick => &self.stats.quick,
            Tier::Fast => &self.stats.fast,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        Box::new(TieredSandbox {
            inner,
            tier,
            quick: self.quick.kind(),
            fast: self.fast.kind(),
            pending: None,
        })
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tier {
    Quick,
    Fast,
}

/// A sandbox of one tier: hands that tier's module to the engine.
struct TieredSandbox {
    inner: Box<dyn Sandbox>,
    tier: Tier,
    quick: BackendKind,
    fast: BackendKind,
    /// The fast tier's compile of what a quick-tier sandbox instantiated:
    /// once it is done, the sandbox is [`Sandbox::superseded`].
    pending: Option<Arc<Slot>>,
}

impl Sandbox for TieredSandbox {
    fn instantiate(&mut self, module: &Module, links: &[Link]) -> Result<InstanceId, Failure> {
        let Some(code) = module.downcast::<TierCode>() else {
            // Not a tiered module: the engine refuses it as foreign.
            return self.inner.instantiate(module, links);
        };
        let inner = match self.tier {
            Tier::Quick => {
                self.pending = Some(code.slot.clone());
                code.module(module, self.quick, false)
            }
            Tier::Fast => {
                code.slot.compile_now();
                code.module(module, self.fast, true)
            }
        };
        match inner {
            Some(inner) => self.inner.instantiate(inner, links),
            None => Err(Failure::new(
                crate::ErrorKind::HostError,
                "the module has no code for this tier",
            )),
        }
    }

    fn meter_export(&mut self, instance: InstanceId) -> Option<(Extern, bool)> {
        self.inner.meter_export(instance)
    }

    fn export(&mut self, instance: InstanceId, name: &str) -> Option<Extern> {
        self.inner.export(instance, name)
    }

    fn call(&mut self, func: Extern, args: &[Value]) -> Step {
        self.inner.call(func, args)
    }

    fn resume(&mut self, reply: Reply) -> Step {
        self.inner.resume(reply)
    }

    fn is_suspended(&self) -> bool {
        self.inner.is_suspended()
    }

    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.inner.set_deadline(deadline);
    }

    fn set_cancel(&mut self, cancel: Option<crate::Cancel>) {
        self.inner.set_cancel(cancel);
    }

    fn context(&mut self) -> Result<&mut CallContext, SandboxError> {
        self.inner.context()
    }

    fn read_memory(
        &mut self,
        memory: Extern,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), SandboxError> {
        self.inner.read_memory(memory, offset, buf)
    }

    fn write_memory(
        &mut self,
        memory: Extern,
        offset: u64,
        data: &[u8],
    ) -> Result<(), SandboxError> {
        self.inner.write_memory(memory, offset, data)
    }

    fn memory_size(&mut self, memory: Extern) -> Result<u64, SandboxError> {
        self.inner.memory_size(memory)
    }

    fn global_get(&mut self, global: Extern) -> Result<Value, SandboxError> {
        self.inner.global_get(global)
    }

    fn global_set(&mut self, global: Extern, value: Value) -> Result<(), SandboxError> {
        self.inner.global_set(global, value)
    }

    fn finish(self: Box<Self>) {
        self.inner.finish();
    }

    fn superseded(&self) -> bool {
        self.pending
            .as_ref()
            .is_some_and(|slot| slot.ready().is_some())
    }
}
