//! A sandbox: one store, its instances, and calls that run until they
//! return or suspend (on a fiber when something can suspend).

use smallvec::SmallVec;
use std::{
    future::Future,
    pin::Pin,
    sync::{Arc, Mutex},
    task::{Context, Poll, Waker},
    time::Instant,
};

use ward_vm::{
    CallContext, ErrorKind, Extern, ExternKind, Failure, HostStop, InstanceId, Link, Module, Reply,
    Request, Sandbox, SandboxError, Step, Value,
    recycle::{self, Home},
};
use wasmtime::{Engine, Instance, Linker, Store, StoreLimits, Val};

use crate::convert::{from_val, to_val};
use crate::engine::{Compiled, Shared, WasmtimeBackend};
use crate::guest::CallerExports;
use crate::trap::{instantiation_failure, trap_failure};

impl WasmtimeBackend {
    pub(crate) fn new_sandbox(&self, context: CallContext) -> WasmtimeSandbox {
        let interruptible = self.shared.config.interruptible;
        if interruptible {
            self.start_ticker();
        }
        let data = StoreData {
            context,
            limits: self.shared.limits.clone(),
            slot: None,
            exports: CallerExports::default(),
            deadline: None,
            cancel: None,
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| data);
        if interruptible {
            // Each tick past the armed epoch checks the cancel flag and
            // the deadline, and goes on for another tick when neither
            // stops the call.
            store.epoch_deadline_callback(|store| {
                let data = store.data();
                match ward_vm::interrupted(data.cancel.as_ref(), data.deadline) {
                    Some(stop) => Err(wasmtime::Error::new(HostStop::Trap(stop))),
                    None => Ok(wasmtime::UpdateDeadline::Continue(1)),
                }
            });
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
            cancel: None,
            ticker: interruptible,
            home: None,
        }
    }
}

/// Epoch deadline meaning "never" (far beyond any run's ticks, without overflow).
pub(crate) const NO_DEADLINE: u64 = u64::MAX / 4;

/// A suspended request going out, and the embedder's reply coming in;
/// and while the guest waits, the embedder's reads and writes of its
/// memory, which only the suspended host function can reach (the fiber
/// owns the store).
#[derive(Default)]
pub(crate) struct Slot {
    pub(crate) request: Option<Request>,
    pub(crate) reply: Option<Reply>,
    pub(crate) memory_op: Option<MemoryOp>,
    pub(crate) memory_done: Option<Result<Vec<u8>, SandboxError>>,
}

/// An access to a suspended guest's memory, done on its fiber.
pub(crate) enum MemoryOp {
    /// Read `len` bytes at `offset`.
    Read {
        memory: wasmtime::Memory,
        offset: usize,
        len: usize,
    },
    /// Write `data` at `offset`.
    Write {
        memory: wasmtime::Memory,
        offset: usize,
        data: Vec<u8>,
    },
    /// Its size in bytes (as a `u64`, little-endian).
    Size { memory: wasmtime::Memory },
}

impl MemoryOp {
    /// Does it in `store` (the suspended host function's caller): what
    /// was read, or nothing for a write.
    pub(crate) fn apply(
        self,
        mut store: impl wasmtime::AsContextMut,
    ) -> Result<Vec<u8>, SandboxError> {
        match self {
            MemoryOp::Read {
                memory,
                offset,
                len,
            } => {
                let mut buf = vec![0u8; len];
                memory
                    .read(&store, offset, &mut buf)
                    .map_err(|_| SandboxError::OutOfBounds)?;
                Ok(buf)
            }
            MemoryOp::Write {
                memory,
                offset,
                data,
            } => memory
                .write(&mut store, offset, &data)
                .map(|()| Vec::new())
                .map_err(|_| SandboxError::OutOfBounds),
            MemoryOp::Size { memory } => {
                Ok((memory.data_size(&store) as u64).to_le_bytes().to_vec())
            }
        }
    }
}

pub(crate) struct StoreData {
    pub(crate) context: CallContext,
    pub(crate) limits: StoreLimits,
    /// Made when an instance imports something that can suspend.
    pub(crate) slot: Option<Arc<Mutex<Slot>>>,
    pub(crate) exports: CallerExports,
    /// What the epoch callback checks: the running call's deadline and
    /// cancel flag (copied in when a call is armed).
    pub(crate) deadline: Option<Instant>,
    pub(crate) cancel: Option<ward_vm::Cancel>,
}

/// A memory must fit the instance limit and then the transaction's memory
/// budget, which the call's context holds.
impl wasmtime::ResourceLimiter for StoreData {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if !self.limits.memory_growing(current, desired, maximum)? {
            return Ok(false);
        }
        Ok(self.context.memory_growing(current, desired))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.limits.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.limits.instances()
    }

    fn tables(&self) -> usize {
        self.limits.tables()
    }

    fn memories(&self) -> usize {
        self.limits.memories()
    }
}

pub(crate) type Running =
    Pin<Box<dyn Future<Output = (Store<StoreData>, wasmtime::Result<Vec<Val>>)> + Send>>;

pub(crate) struct WasmtimeSandbox {
    /// The store, while no call is suspended.
    pub(crate) store: Option<Store<StoreData>>,
    /// The suspended call, which owns the store until it finishes.
    pub(crate) running: Option<Running>,
    /// Shared with the store's data once something can suspend.
    pub(crate) slot: Option<Arc<Mutex<Slot>>>,
    pub(crate) shared: Arc<Shared>,
    /// Inline for the usual single instance, no allocation.
    pub(crate) instances: SmallVec<[(Instance, Arc<Compiled>); 1]>,
    /// Handles given out: inline for the usual meter and entry point.
    pub(crate) externs: SmallVec<[wasmtime::Extern; 4]>,
    /// Some instance imports a host function that may suspend: every call
    /// must go through the async (fiber) entry points.
    pub(crate) async_required: bool,
    pub(crate) deadline: Option<Instant>,
    /// Ends the running call at its next epoch tick ([`ward_vm::Cancel`]).
    pub(crate) cancel: Option<ward_vm::Cancel>,
    /// Epoch interruption is on (the engine was configured interruptible).
    pub(crate) ticker: bool,
    /// Set by [`ward_vm::Backend::sandbox_for`] for a recyclable module.
    pub(crate) home: Option<Home<Compiled, Instance>>,
}

impl WasmtimeSandbox {
    pub(crate) fn store(&mut self) -> Result<&mut Store<StoreData>, SandboxError> {
        self.store.as_mut().ok_or(SandboxError::Busy)
    }

    pub(crate) fn push_extern(&mut self, item: wasmtime::Extern) -> Extern {
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

    pub(crate) fn item(&self, handle: Extern) -> Result<&wasmtime::Extern, SandboxError> {
        self.externs
            .get(handle.index as usize)
            .ok_or(SandboxError::BadHandle(handle.kind))
    }

    /// Does `op` on the memory of the guest that waits in a suspended host
    /// function: the function does it on its fiber and waits again.
    pub(crate) fn memory_op_suspended(&mut self, op: MemoryOp) -> Result<Vec<u8>, SandboxError> {
        let (Some(running), Some(slot)) = (self.running.as_mut(), self.slot.as_deref()) else {
            return Err(SandboxError::Busy);
        };
        lock(slot).memory_op = Some(op);
        let mut cx = Context::from_waker(Waker::noop());
        // The host function takes the op, does it and parks again: the
        // call cannot finish here.
        if running.as_mut().poll(&mut cx).is_ready() {
            return Err(SandboxError::Busy);
        }
        let mut slot = lock(slot);
        slot.memory_op = None;
        slot.memory_done.take().unwrap_or(Err(SandboxError::Busy))
    }

    pub(crate) fn memory(&self, handle: Extern) -> Result<wasmtime::Memory, SandboxError> {
        match self.item(handle)? {
            wasmtime::Extern::Memory(m) => Ok(*m),
            _ => Err(SandboxError::BadHandle(ExternKind::Memory)),
        }
    }

    pub(crate) fn arm_deadline(&mut self) {
        let Some(store) = self.store.as_mut() else {
            return;
        };
        if !self.ticker {
            return;
        }
        let data = store.data_mut();
        data.deadline = self.deadline;
        data.cancel = self.cancel.clone();
        // Checked at every tick (about a millisecond) when something may
        // interrupt the call: the epoch callback decides.
        let ticks = if self.deadline.is_none() && self.cancel.is_none() {
            NO_DEADLINE
        } else {
            1
        };
        store.set_epoch_deadline(ticks);
    }

    /// Polls the running call once: it either finishes or suspends.
    pub(crate) fn poll(&mut self) -> Step {
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

pub(crate) fn lock(slot: &Mutex<Slot>) -> std::sync::MutexGuard<'_, Slot> {
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
        let mut syscalls = Vec::new();
        if !module.imports().is_empty() {
            let resolved = self.shared.config.resolve_imports(module, links)?;
            syscalls = resolved.iter().filter_map(|r| r.syscall()).collect();
            if resolved
                .iter()
                .any(|r| r.may_suspend(self.shared.config.chain_requests))
            {
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
        // Explicit links and syscalls need a linker of their own;
        // otherwise the backend's serves.
        let mut linked: Option<Linker<StoreData>> = None;
        if !links.is_empty() || !syscalls.is_empty() {
            let mut linker = self.shared.linker.clone();
            linker.allow_shadowing(true);
            for &index in &syscalls {
                if let Some(import) = module.imports().get(index)
                    && let ward_vm::ExternType::Func(ty) = &import.ty
                {
                    crate::linker::define_host(
                        &mut linker,
                        &import.module,
                        &import.name,
                        ty,
                        index,
                        true,
                    )
                    .map_err(|e| Failure::new(ErrorKind::UnknownImport, format!("{e:#}")))?;
                }
            }
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
        let pre = compiled
            .pre
            .as_ref()
            .filter(|_| links.is_empty() && syscalls.is_empty());
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
            store.data_mut().exports.add(memory, gas);
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
        recycle::watched(self, args, |s| s.call_inner(func, args))
    }

    fn resume(&mut self, reply: Reply) -> Step {
        let values = recycle::reply_values(&reply).to_vec();
        recycle::watched(self, &values, |s| s.resume_inner(reply))
    }

    fn is_suspended(&self) -> bool {
        self.running.is_some()
    }

    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    fn set_cancel(&mut self, cancel: Option<ward_vm::Cancel>) {
        self.cancel = cancel;
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
        let offset = to_usize(offset)?;
        if self.store.is_none() {
            let op = MemoryOp::Read {
                memory,
                offset,
                len: buf.len(),
            };
            buf.copy_from_slice(&self.memory_op_suspended(op)?);
            return Ok(());
        }
        memory
            .read(&*self.store()?, offset, buf)
            .map_err(|_| SandboxError::OutOfBounds)
    }

    fn write_memory(
        &mut self,
        memory: Extern,
        offset: u64,
        data: &[u8],
    ) -> Result<(), SandboxError> {
        let memory = self.memory(memory)?;
        let offset = to_usize(offset)?;
        // Not marked in the instance's bitmap: a recycled instance is
        // restored whole.
        if let Some(home) = &mut self.home {
            home.note_embedder_write();
        }
        if self.store.is_none() {
            let data = data.to_vec();
            let op = MemoryOp::Write {
                memory,
                offset,
                data,
            };
            return self.memory_op_suspended(op).map(drop);
        }
        memory
            .write(&mut *self.store()?, offset, data)
            .map_err(|_| SandboxError::OutOfBounds)
    }

    fn memory_size(&mut self, memory: Extern) -> Result<u64, SandboxError> {
        let memory = self.memory(memory)?;
        if self.store.is_none() {
            // The store is on the suspended guest's fiber.
            let bytes = self.memory_op_suspended(MemoryOp::Size { memory })?;
            let bytes =
                <[u8; 8]>::try_from(bytes.as_slice()).map_err(|_| SandboxError::OutOfBounds)?;
            return Ok(u64::from_le_bytes(bytes));
        }
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

    fn finish(self: Box<Self>) {
        recycle::finish(self);
    }
}

impl WasmtimeSandbox {
    pub(crate) fn call_inner(&mut self, func: Extern, args: &[Value]) -> Step {
        let func = match self.item(func) {
            Ok(wasmtime::Extern::Func(f)) => *f,
            _ => return embedder_error(SandboxError::BadHandle(ExternKind::Func)),
        };
        self.arm_deadline();
        // A flag raised (or a deadline passed) before the call starts ends
        // it before any code runs, as wasmi's first fuel slice does: the
        // first epoch tick may come only after a short call has finished.
        if self.ticker
            && let Some(stop) = ward_vm::interrupted(self.cancel.as_ref(), self.deadline)
        {
            return Step::Failed(stop);
        }
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

    pub(crate) fn resume_inner(&mut self, reply: Reply) -> Step {
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

/// Polls a future that never suspends for a reply (instantiation: a start
/// function may not suspend) to completion.
pub(crate) fn block_on<F: Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

pub(crate) fn busy_failure() -> Failure {
    Failure::new(ErrorKind::HostError, SandboxError::Busy.to_string())
}

pub(crate) fn embedder_error(err: SandboxError) -> Step {
    Step::Failed(Failure::new(ErrorKind::HostError, err.to_string()))
}

pub(crate) fn to_usize(offset: u64) -> Result<usize, SandboxError> {
    usize::try_from(offset).map_err(|_| SandboxError::OutOfBounds)
}

/// Turns a finished call into a step.
pub(crate) fn finish(store: &Store<StoreData>, result: wasmtime::Result<Vec<Val>>) -> Step {
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
