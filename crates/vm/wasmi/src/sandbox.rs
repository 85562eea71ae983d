//! A sandbox: one store, its instances, and resumable calls that run until
//! they return or suspend, in fuel slices when a deadline is set.

use std::{sync::Arc, time::Instant};

use smallvec::SmallVec;

use ward_vm::{
    CallContext, ErrorKind, Extern, ExternKind, Failure, HostStop, InstanceId, Link, Module, Reply,
    Request, Sandbox, SandboxError, Step, Value, guest,
    recycle::{self, Home},
};
use wasmi::{
    Engine, Instance, Linker, ResumableCall, ResumableCallHostTrap, Store, StoreLimits, Val,
};

use crate::convert::{from_val, to_val};
use crate::engine::{Compiled, FUEL_SLICE, Shared, WasmiBackend};
use crate::guest::{CallerExports, Guest};
use crate::trap::{Stop, instantiation_failure, step_from_error};

impl WasmiBackend {
    pub(crate) fn new_sandbox(&self, context: CallContext) -> WasmiSandbox {
        let data = StoreData {
            context,
            limits: self.shared.limits.clone(),
            exports: CallerExports::default(),
        };
        let mut store = Store::new(&self.engine, data);
        store.limiter(|data| data);
        WasmiSandbox {
            store,
            shared: self.shared.clone(),
            may_suspend: false,
            instances: SmallVec::new(),
            externs: SmallVec::new(),
            suspended: None,
            deadline: None,
            cancel: None,
            home: None,
            reset: None,
            dirty: None,
        }
    }
}

pub(crate) struct StoreData {
    pub(crate) context: CallContext,
    pub(crate) limits: StoreLimits,
    pub(crate) exports: CallerExports,
}

/// The instance limits, then the transaction's memory budget (kept in the
/// call's context).
impl wasmi::ResourceLimiter for StoreData {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
        let within_instance = self.limits.memory_growing(current, desired, maximum)?;
        Ok(within_instance && self.context.memory_growing(current, desired))
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> Result<bool, wasmi_core::LimiterError> {
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

pub(crate) struct Suspended {
    pub(crate) invocation: ResumableCallHostTrap,
    pub(crate) outputs: Vec<Val>,
    /// The embedder import or syscall that suspended, or [`CALL_REQUEST`].
    pub(crate) host_index: usize,
    /// The result types of that import (none for `ward.call`).
    pub(crate) expected: Vec<ward_vm::ValType>,
}

/// `Suspended::host_index` of a suspended `ward.call`.
pub(crate) const CALL_REQUEST: usize = usize::MAX;

/// `Suspended::host_index` of a suspended storage call or event (chain
/// requests): the ABI function is `usize::MAX - 1 - index` below it, its
/// position in [`CHAIN_FUNCTIONS`].
const CHAIN_REQUEST: usize = usize::MAX - 1;

/// The functions that suspend with chain requests, in the order their
/// `host_index` counts down from [`CHAIN_REQUEST`].
const CHAIN_FUNCTIONS: [ward_abi::HostFn; 4] = [
    ward_abi::HostFn::StorageRead,
    ward_abi::HostFn::StorageWrite,
    ward_abi::HostFn::StorageRemove,
    ward_abi::HostFn::EmitEvent,
];

/// The `host_index` of a chain request, from the request.
fn chain_index(request: &Request) -> Option<usize> {
    let f = match request {
        Request::StorageRead { .. } => ward_abi::HostFn::StorageRead,
        Request::StorageWrite { value: Some(_), .. } => ward_abi::HostFn::StorageWrite,
        Request::StorageWrite { value: None, .. } => ward_abi::HostFn::StorageRemove,
        Request::Event { .. } => ward_abi::HostFn::EmitEvent,
        _ => return None,
    };
    let position = CHAIN_FUNCTIONS.iter().position(|g| *g == f)?;
    Some(CHAIN_REQUEST - position)
}

/// The chain function a `host_index` stands for, if it is one.
fn chain_function(host_index: usize) -> Option<ward_abi::HostFn> {
    CHAIN_REQUEST
        .checked_sub(host_index)
        .and_then(|position| CHAIN_FUNCTIONS.get(position).copied())
}

pub(crate) struct WasmiSandbox {
    pub(crate) store: Store<StoreData>,
    pub(crate) shared: Arc<Shared>,
    /// Inline for the usual single instance, no allocation.
    pub(crate) instances: SmallVec<[Instance; 1]>,
    /// Handles given out: inline for the usual meter and entry point.
    pub(crate) externs: SmallVec<[wasmi::Extern; 4]>,
    pub(crate) suspended: Option<Suspended>,
    pub(crate) deadline: Option<Instant>,
    /// Ends the running call at its next fuel slice ([`ward_vm::Cancel`]).
    pub(crate) cancel: Option<ward_vm::Cancel>,
    /// Whether some instance imports a host function that may suspend.
    pub(crate) may_suspend: bool,
    /// Set by [`ward_vm::Backend::sandbox_for`] for a recyclable module.
    pub(crate) home: Option<Home<Compiled, Instance>>,
    /// The home module's `__ward_reset`, found when its instance was new
    /// (and kept with the sandbox when it is recycled).
    pub(crate) reset: Option<wasmi::Func>,
    /// The home module's `__ward_dirty`, found with `reset`.
    pub(crate) dirty: Option<wasmi::Global>,
}

impl WasmiSandbox {
    pub(crate) fn idle(&self) -> Result<(), SandboxError> {
        if self.suspended.is_some() {
            Err(SandboxError::Busy)
        } else {
            Ok(())
        }
    }

    pub(crate) fn push_extern(&mut self, item: wasmi::Extern) -> Extern {
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

    /// A memory to read or write, also while a call waits: the store is
    /// not the suspended call's (a parent services its child's syscalls
    /// through the child's memory). Nothing else may touch it then.
    pub(crate) fn memory_handle(&self, handle: Extern) -> Result<wasmi::Memory, SandboxError> {
        match self.externs.get(handle.index as usize) {
            Some(wasmi::Extern::Memory(m)) => Ok(*m),
            _ => Err(SandboxError::BadHandle(ExternKind::Memory)),
        }
    }

    /// Refills the fuel slice: the failure that ends the call instead
    /// once it is cancelled or its deadline has passed.
    pub(crate) fn refuel(&mut self) -> Result<(), Failure> {
        if !self.shared.config.interruptible {
            return Ok(());
        }
        if let Some(stop) = ward_vm::interrupted(self.cancel.as_ref(), self.deadline) {
            return Err(stop);
        }
        // Sliced when something may interrupt the call, else one budget.
        let fuel = if self.deadline.is_none() && self.cancel.is_none() {
            u64::MAX
        } else {
            FUEL_SLICE
        };
        // Fuel metering is on whenever the backend is interruptible.
        self.store
            .set_fuel(fuel)
            .map_err(|e| Failure::new(ErrorKind::HostError, e.to_string()))
    }

    /// Runs a call until it finishes or suspends.
    pub(crate) fn drive(
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
                    if let Err(stop) = self.refuel() {
                        return Step::Failed(stop);
                    }
                    result = invocation.resume(&mut self.store, &mut outputs);
                }
                Ok(ResumableCall::HostTrap(invocation)) => {
                    let request = match invocation.host_error().downcast_ref::<Stop>() {
                        Some(Stop(HostStop::Suspend(request))) => Request::clone(request),
                        _ => return step_from_error(invocation.into_host_error()),
                    };
                    let (host_index, expected) = match &request {
                        Request::Host { index, .. } => (
                            *index,
                            self.shared
                                .config
                                .host_imports
                                .get(*index)
                                .map(|h| h.ty.results.clone())
                                .unwrap_or_default(),
                        ),
                        Request::Syscall { index, returns, .. } => (
                            *index,
                            if *returns {
                                vec![ward_vm::ValType::I64]
                            } else {
                                Vec::new()
                            },
                        ),
                        Request::Call { .. } | Request::Create { .. } => (CALL_REQUEST, Vec::new()),
                        other if let Some(index) = chain_index(other) => (index, Vec::new()),
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
                        expected,
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
        let mut syscalls = Vec::new();
        if !module.imports().is_empty() {
            let resolved = self.shared.config.resolve_imports(module, links)?;
            self.may_suspend |= resolved
                .iter()
                .any(|r| r.may_suspend(self.shared.config.chain_requests));
            syscalls = resolved.iter().filter_map(|r| r.syscall()).collect();
        }
        // Explicit links and syscalls need a linker of their own.
        let mut linker_owned;
        let linker: &Linker<StoreData> = if links.is_empty() && syscalls.is_empty() {
            &self.shared.linker
        } else {
            linker_owned = self.shared.linker.clone();
            linker_owned.allow_shadowing(true);
            for &index in &syscalls {
                if let Some(import) = module.imports().get(index)
                    && let ward_vm::ExternType::Func(ty) = &import.ty
                {
                    crate::linker::define_host(
                        &mut linker_owned,
                        &import.module,
                        &import.name,
                        ty,
                        index,
                        true,
                    )
                    .map_err(|e| Failure::new(ErrorKind::UnknownImport, e.to_string()))?;
                }
            }
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
            self.dirty = instance.get_global(&self.store, ward_instrument::DIRTY_EXPORT);
        }
        self.store.data_mut().exports.add(memory, gas);
        self.instances.push(instance);
        Ok(InstanceId((self.instances.len() - 1) as u32))
    }

    fn meter_export(&mut self, instance: InstanceId) -> Option<(Extern, bool)> {
        // The only instance's gas global was found when it was made.
        if self.instances.len() == 1
            && instance.0 == 0
            && let Some(gas) = self.store.data().exports.newest().1
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
        recycle::watched(self, args, |s| s.call_inner(func, args))
    }

    fn resume(&mut self, reply: Reply) -> Step {
        let values = recycle::reply_values(&reply).to_vec();
        recycle::watched(self, &values, |s| s.resume_inner(reply))
    }

    fn is_suspended(&self) -> bool {
        self.suspended.is_some()
    }

    fn set_deadline(&mut self, deadline: Option<Instant>) {
        self.deadline = deadline;
    }

    fn set_cancel(&mut self, cancel: Option<ward_vm::Cancel>) {
        self.cancel = cancel;
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
        let memory = self.memory_handle(memory)?;
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
        let memory = self.memory_handle(memory)?;
        let offset = usize::try_from(offset).map_err(|_| SandboxError::OutOfBounds)?;
        // Not marked in the instance's bitmap: a recycled instance is
        // restored whole.
        if let Some(home) = &mut self.home {
            home.note_embedder_write();
        }
        memory
            .write(&mut self.store, offset, data)
            .map_err(|_| SandboxError::OutOfBounds)
    }

    fn memory_size(&mut self, memory: Extern) -> Result<u64, SandboxError> {
        // Also while a call waits, as reads and writes are.
        let memory = self.memory_handle(memory)?;
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

    fn finish(self: Box<Self>) {
        recycle::finish(self);
    }
}

impl WasmiSandbox {
    pub(crate) fn call_inner(&mut self, func: Extern, args: &[Value]) -> Step {
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
        // Nothing can suspend and no deadline or cancel flag needs fuel
        // slices: an entry point (no parameters, nothing or an i32 back)
        // takes wasmi's typed, non-resumable path.
        if params.is_empty()
            && !self.may_suspend
            && self.deadline.is_none()
            && self.cancel.is_none()
            && self.refuel().is_ok()
        {
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
        if let Err(stop) = self.refuel() {
            return Step::Failed(stop);
        }
        let result = func.call_resumable(&mut self.store, &params, &mut outputs);
        self.drive(result, outputs)
    }

    pub(crate) fn resume_inner(&mut self, reply: Reply) -> Step {
        let Some(Suspended {
            invocation,
            mut outputs,
            host_index,
            expected,
        }) = self.suspended.take()
        else {
            return embedder_error(SandboxError::NotSuspended);
        };
        let mut calling = Guest::store(&mut self.store);
        if let Some(f) = chain_function(host_index) {
            // A storage call or an event the embedder answered: a read's
            // value into memory, its length to the guest.
            let value = match guest::complete_abi(&mut calling, f, Some(reply)) {
                Ok(value) => value,
                Err(stop) => return step_from_error(wasmi::Error::host(Stop(stop))),
            };
            let inputs: Vec<Val> = match value.map(|v| to_val(&mut self.store, v)).transpose() {
                Ok(input) => input.into_iter().collect(),
                Err(e) => return embedder_error(e),
            };
            let result = invocation.resume(&mut self.store, &inputs, &mut outputs);
            return self.drive(result, outputs);
        }
        if host_index == CALL_REQUEST {
            // Charge the callee's gas, keep its return data, and hand the
            // status to the guest; the gas global follows the context.
            let status = match guest::complete_abi_call(&mut calling, Some(reply)) {
                Ok(status) => status,
                Err(stop) => return step_from_error(wasmi::Error::host(Stop(stop))),
            };
            let result = invocation.resume(&mut self.store, &[Val::I32(status)], &mut outputs);
            return self.drive(result, outputs);
        }
        let values =
            match guest::complete_host_call(&mut calling, host_index, &expected, Some(reply)) {
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

pub(crate) fn embedder_error(err: SandboxError) -> Step {
    Step::Failed(Failure::new(ErrorKind::HostError, err.to_string()))
}
