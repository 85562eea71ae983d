//! Modules a guest runs ("children"): compiled under the child policy
//! ([`ImportPolicy::Syscalls`]: only `env` functions of `i64`s), each
//! instance in a sandbox of its own, run with a gas budget, and stopped at
//! every syscall so that its parent services it and resumes it. This is
//! the host side of guest-driven virtualization; ids are numbered from 0
//! in creation order and never reused, so they are the same on every
//! node.
//!
//! A child never runs Ward's ABI, so it never nests further children, and
//! each of its steps runs to a syscall, a return or a failure before its
//! parent continues.
//!
//! A child runs under its parent's wall-clock deadline and cancel flag
//! ([`Children::set_interrupt`], which [`crate::begin`] calls with the
//! call's own): a child that spins stops when its parent would, and the
//! parent's call ends with the same `timeout` or `cancelled`
//! ([`ChildError::Interrupted`]), never with a code the guest could act
//! on.

use std::{collections::BTreeMap, sync::Arc, time::Instant};

use ward_instrument::ImportPolicy;
use ward_primitives::Gas;

use crate::{
    Backend, CacheOptions, CallContext, CodeHash, Config, ErrorKind, Extern, InstanceId, Module,
    ModuleCache, Reply, Request, Sandbox, Step, Value,
    budget::{InstanceBudget, InstanceSlot, MemoryBudget},
    meter::Meter,
    run,
};

/// The import module of a child's syscalls.
pub const SYSCALL_MODULE: &str = "env";

/// Most parameters a syscall, and an export a parent runs, takes.
pub const MAX_SYSCALL_PARAMS: u8 = 4;

/// The policy children are compiled under: `config`'s, with only
/// syscalls as imports.
pub fn child_config(config: &Config) -> Config {
    let mut child = config.clone();
    child.policy.imports = ImportPolicy::Syscalls {
        module: SYSCALL_MODULE.into(),
        max_params: MAX_SYSCALL_PARAMS,
    };
    child.host_imports.clear();
    // A child's steps are in its parent's trace, not a profile of its own.
    child.policy.profile = false;
    child
}

/// Why a child operation failed: each has a fixed negative code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChildError {
    /// The bytes were refused by the child policy (or do not compile).
    InvalidModule,
    /// No module, instance or export by that id or name.
    NotFound,
    /// The instance cannot do that now: running while suspended, resumed
    /// while not, or used after it failed.
    InvalidInstance,
    /// An argument out of range: too many, or an export of another shape.
    BadArgument,
    /// Its gas budget ran out. The instance cannot be used again.
    OutOfGas,
    /// It trapped with this kind. The instance cannot be used again.
    Trapped(ErrorKind),
    /// Too many live modules or instances, or the memory budget.
    LimitExceeded,
    /// The parent's deadline passed or its cancel flag was raised while
    /// the child ran (`ErrorKind::Timeout` or `ErrorKind::Cancelled`).
    /// Never a code the guest sees: how far a child gets in a given time
    /// differs between machines, so the parent's call ends with the same
    /// kind (a node's business, never a receipt). The instance cannot be
    /// used again.
    Interrupted(ErrorKind),
}

/// What a step of a child ended in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChildStep {
    /// The export returned (its `i64` result, if it has one).
    Finished {
        /// The result.
        result: Option<i64>,
        /// What is left of the budget.
        gas_left: u64,
    },
    /// The child called syscall `index` with `args`, and waits.
    Syscall {
        /// The import's number in the child module.
        index: u32,
        /// Its arguments.
        args: Vec<i64>,
        /// What is left of the budget.
        gas_left: u64,
    },
}

/// One step a parent asked of a child, and what it ended in: what a
/// trace shows of the children a frame ran (`Children::with_log`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChildEvent {
    /// The instance.
    pub instance: u64,
    /// What was asked.
    pub call: ChildCall,
    /// What it ended in: a return, a syscall, or a failure.
    pub result: Result<ChildStep, ChildError>,
    /// The gas the step took.
    pub gas_used: u64,
}

/// A step a parent asks of a child.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChildCall {
    /// `vm_call`: an export with arguments and a budget.
    Run {
        /// The export.
        export: String,
        /// Its arguments.
        args: Vec<i64>,
        /// The budget.
        gas: u64,
    },
    /// `vm_resume`: the value a syscall returns.
    Resume {
        /// The value.
        value: i64,
    },
}

/// Where a traced parent's children record their steps.
pub type ChildLog = Arc<std::sync::Mutex<Vec<ChildEvent>>>;

/// Bounds on a parent's children.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChildLimits {
    /// Modules compiled and not forgotten.
    pub max_modules: usize,
    /// Instances alive at once.
    pub max_instances: usize,
}

impl Default for ChildLimits {
    fn default() -> Self {
        ChildLimits {
            max_modules: 16,
            max_instances: 16,
        }
    }
}

struct Child {
    sandbox: Box<dyn Sandbox>,
    module: Module,
    instance: InstanceId,
    /// Its exported memory, found once (a suspended child's exports
    /// cannot be looked up on every backend).
    memory: Option<Extern>,
    meter: Option<Meter>,
    state: State,
    /// What is left of the budget of its current run.
    left: u64,
    /// Its place in the transaction's instance budget, if there is one.
    _slot: Option<InstanceSlot>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Idle,
    /// Waiting in a syscall that returns a value (or not).
    Suspended {
        returns: bool,
    },
    /// It failed: only `destroy` is left.
    Dead,
}

/// One parent's children.
pub struct Children {
    cache: Arc<ModuleCache>,
    limits: ChildLimits,
    memory: Option<Arc<MemoryBudget>>,
    instance_budget: Option<Arc<InstanceBudget>>,
    modules: BTreeMap<u64, Module>,
    instances: BTreeMap<u64, Child>,
    next_module: u64,
    next_instance: u64,
    /// Gas the children used since [`Children::take_used`].
    used: u64,
    /// Where each step is recorded, when the parent is traced.
    log: Option<ChildLog>,
    /// The parent call's wall-clock deadline and cancel flag, which every
    /// step of every child runs under.
    deadline: Option<Instant>,
    cancel: Option<crate::Cancel>,
}

impl Children {
    /// Children compiled and run on `backend`, which must have been made
    /// for `config` (see [`child_config`]), through a cache of their own.
    pub fn new(backend: Arc<dyn Backend>, config: Config, limits: ChildLimits) -> Children {
        match ModuleCache::new(backend.clone(), &config, CacheOptions::default()) {
            Ok(cache) => Children::with_cache(Arc::new(cache), limits),
            Err(_) => unreachable!("a cache without a disk directory cannot fail"),
        }
    }

    /// Children compiled through `cache` (for instance
    /// [`ModuleCache::children`], shared by every parent of a node): code
    /// compiled once is not compiled again, by any parent.
    pub fn with_cache(cache: Arc<ModuleCache>, limits: ChildLimits) -> Children {
        Children {
            cache,
            limits,
            memory: None,
            instance_budget: None,
            modules: BTreeMap::new(),
            instances: BTreeMap::new(),
            next_module: 0,
            next_instance: 0,
            used: 0,
            log: None,
            deadline: None,
            cancel: None,
        }
    }

    /// Runs every child from now on under `deadline` and `cancel` (the
    /// parent call's: [`crate::begin`] sets them). A child interrupted
    /// by either fails with [`ChildError::Interrupted`].
    pub fn set_interrupt(&mut self, deadline: Option<Instant>, cancel: Option<crate::Cancel>) {
        self.deadline = deadline;
        self.cancel = cancel;
    }

    /// Records every run and resume, with what it ended in, into `log`.
    pub fn with_log(mut self, log: ChildLog) -> Children {
        self.log = Some(log);
        self
    }

    /// Notes a step in the log, when there is one.
    fn note(
        &self,
        instance: u64,
        call: impl FnOnce() -> ChildCall,
        result: &Result<ChildStep, ChildError>,
        gas_used: u64,
    ) {
        if let Some(log) = &self.log {
            log.lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(ChildEvent {
                    instance,
                    call: call(),
                    result: result.clone(),
                    gas_used,
                });
        }
    }

    /// The gas children used since the last call (their parent pays it):
    /// what each step took of its budget, and all of it when it failed.
    pub fn take_used(&mut self) -> u64 {
        std::mem::take(&mut self.used)
    }

    /// Charges the children's memories to `budget` (the transaction's).
    pub fn with_memory_budget(mut self, budget: &Arc<MemoryBudget>) -> Children {
        self.memory = Some(budget.clone());
        self
    }

    /// Counts every live child in `budget` (the transaction's, which its
    /// frames count in too): an instantiation past it is
    /// [`ChildError::LimitExceeded`].
    pub fn with_instance_budget(mut self, budget: &Arc<InstanceBudget>) -> Children {
        self.instance_budget = Some(budget.clone());
        self
    }

    /// Compiles `wasm` under the child policy; returns its module id.
    ///
    /// # Errors
    ///
    /// [`ChildError::InvalidModule`], or [`ChildError::LimitExceeded`].
    pub fn compile(&mut self, wasm: &[u8]) -> Result<u64, ChildError> {
        self.add_module(|cache| cache.get_or_compile(wasm))
    }

    /// [`Children::compile`] for stored code whose hash is already known
    /// (the chain's code hash is the cache's): a module the cache holds is
    /// found without hashing `wasm` again.
    ///
    /// # Errors
    ///
    /// As [`Children::compile`].
    pub fn compile_stored(&mut self, hash: CodeHash, wasm: &[u8]) -> Result<u64, ChildError> {
        self.add_module(|cache| {
            cache
                .lookup(&hash)
                .unwrap_or_else(|| cache.get_or_compile(wasm))
        })
    }

    /// Records the module `compile` makes through the cache, within the
    /// module limit; returns its id.
    fn add_module(
        &mut self,
        compile: impl FnOnce(&ModuleCache) -> Result<Module, crate::Failure>,
    ) -> Result<u64, ChildError> {
        if self.modules.len() >= self.limits.max_modules {
            return Err(ChildError::LimitExceeded);
        }
        let module = compile(&self.cache).map_err(|_| ChildError::InvalidModule)?;
        let id = self.next_module;
        self.next_module += 1;
        self.modules.insert(id, module);
        Ok(id)
    }

    /// Whether module `module` exports a function `name` a parent may run
    /// (at most [`MAX_SYSCALL_PARAMS`] `i64`s in, nothing or one `i64`
    /// out); returns its arity.
    ///
    /// # Errors
    ///
    /// [`ChildError::NotFound`] or [`ChildError::BadArgument`].
    pub fn lookup(&self, module: u64, name: &str) -> Result<u64, ChildError> {
        let module = self.modules.get(&module).ok_or(ChildError::NotFound)?;
        let ty = module.export_func(name).ok_or(ChildError::NotFound)?;
        if !ty.is_syscall(MAX_SYSCALL_PARAMS) {
            return Err(ChildError::BadArgument);
        }
        Ok(ty.params.len() as u64)
    }

    /// What an instance of module `module` costs (`Module::instance_gas`);
    /// 0 for an id that names no module (instantiating it fails).
    pub fn instance_gas(&self, module: u64) -> u64 {
        self.modules.get(&module).map_or(0, Module::instance_gas)
    }

    /// A new instance of module `module` (its start function run on no
    /// budget of its own: a child's start may not use gas); returns its
    /// id.
    ///
    /// # Errors
    ///
    /// [`ChildError::NotFound`], [`ChildError::LimitExceeded`], or the
    /// failure of instantiation.
    pub fn instantiate(&mut self, module: u64) -> Result<u64, ChildError> {
        if self.instances.len() >= self.limits.max_instances {
            return Err(ChildError::LimitExceeded);
        }
        let slot = match &self.instance_budget {
            Some(budget) => Some(budget.take().ok_or(ChildError::LimitExceeded)?),
            None => None,
        };
        let module = self
            .modules
            .get(&module)
            .ok_or(ChildError::NotFound)?
            .clone();
        let mut context = CallContext::new(Vec::new(), Gas::ZERO);
        if let Some(budget) = &self.memory {
            context = context.with_memory_budget(budget);
        }
        // A recycled instance of the module when the backend keeps one
        // (given back by `destroy`), as for contracts.
        let mut sandbox = self.cache.backend().sandbox_for(&module, context);
        sandbox.set_deadline(self.deadline);
        sandbox.set_cancel(self.cancel.clone());
        let (instance, meter) =
            run::instantiate_metered(&mut *sandbox, &module, &[]).map_err(|f| match f.kind {
                ErrorKind::LimitExceeded => ChildError::LimitExceeded,
                ErrorKind::OutOfGas => ChildError::OutOfGas,
                kind => ChildError::Trapped(kind),
            })?;
        let id = self.next_instance;
        self.next_instance += 1;
        let memory = sandbox.export(instance, ward_abi::MEMORY_EXPORT);
        self.instances.insert(
            id,
            Child {
                sandbox,
                module,
                instance,
                memory,
                meter,
                state: State::Idle,
                left: 0,
                _slot: slot,
            },
        );
        Ok(id)
    }

    /// Runs export `name` of instance `instance` with `args` and at most
    /// `gas`, its stack starting `stack_base` units deep (its parent's
    /// depth and what lies between: one stack budget for both), until it
    /// returns, fails or makes a syscall.
    ///
    /// # Errors
    ///
    /// A [`ChildError`]; a failure of the child leaves it dead.
    pub fn run(
        &mut self,
        instance: u64,
        name: &str,
        args: &[i64],
        gas: u64,
        stack_base: u32,
    ) -> Result<ChildStep, ChildError> {
        let child = self
            .instances
            .get_mut(&instance)
            .ok_or(ChildError::NotFound)?;
        if child.state != State::Idle {
            return Err(ChildError::InvalidInstance);
        }
        let ty = child.module.export_func(name).ok_or(ChildError::NotFound)?;
        if !ty.is_syscall(MAX_SYSCALL_PARAMS) || ty.params.len() != args.len() {
            return Err(ChildError::BadArgument);
        }
        let func = child
            .sandbox
            .export(child.instance, name)
            .ok_or(ChildError::NotFound)?;
        if let Ok(context) = child.sandbox.context() {
            context.reset(Vec::new(), Gas::new(gas));
            context.set_stack_base(stack_base);
        }
        if let Some(meter) = &child.meter {
            meter
                .arm(&mut *child.sandbox, Gas::new(gas), stack_base)
                .map_err(|_| ChildError::InvalidInstance)?;
        }
        let values: Vec<Value> = args.iter().map(|&a| Value::I64(a)).collect();
        child.left = gas;
        child.sandbox.set_deadline(self.deadline);
        child.sandbox.set_cancel(self.cancel.clone());
        let step = child.sandbox.call(func, &values);
        let settled = child.settle(step);
        let used = child.take_used(&settled);
        self.used = self.used.saturating_add(used);
        let call = || ChildCall::Run {
            export: name.to_owned(),
            args: args.to_vec(),
            gas,
        };
        self.note(instance, call, &settled, used);
        settled
    }

    /// Resumes instance `instance`, waiting in a syscall, with `value` as
    /// the syscall's result (ignored when it returns nothing).
    ///
    /// # Errors
    ///
    /// A [`ChildError`]; a failure of the child leaves it dead.
    pub fn resume(&mut self, instance: u64, value: i64) -> Result<ChildStep, ChildError> {
        let child = self
            .instances
            .get_mut(&instance)
            .ok_or(ChildError::NotFound)?;
        let State::Suspended { returns } = child.state else {
            return Err(ChildError::InvalidInstance);
        };
        let reply = Reply::Values(if returns {
            vec![Value::I64(value)]
        } else {
            Vec::new()
        });
        child.sandbox.set_deadline(self.deadline);
        child.sandbox.set_cancel(self.cancel.clone());
        let step = child.sandbox.resume(reply);
        let settled = child.settle(step);
        let used = child.take_used(&settled);
        self.used = self.used.saturating_add(used);
        self.note(instance, || ChildCall::Resume { value }, &settled, used);
        settled
    }

    /// Copies `out.len()` bytes of instance `instance`'s memory from
    /// `offset`.
    ///
    /// # Errors
    ///
    /// [`ChildError::NotFound`], or [`ChildError::BadArgument`] for a range
    /// outside its memory.
    pub fn read_memory(
        &mut self,
        instance: u64,
        offset: u64,
        out: &mut [u8],
    ) -> Result<(), ChildError> {
        let (child, memory) = self.memory_of(instance)?;
        child
            .sandbox
            .read_memory(memory, offset, out)
            .map_err(|_| ChildError::BadArgument)
    }

    /// Writes `data` into instance `instance`'s memory at `offset`.
    ///
    /// # Errors
    ///
    /// As [`Children::read_memory`].
    pub fn write_memory(
        &mut self,
        instance: u64,
        offset: u64,
        data: &[u8],
    ) -> Result<(), ChildError> {
        let (child, memory) = self.memory_of(instance)?;
        child
            .sandbox
            .write_memory(memory, offset, data)
            .map_err(|_| ChildError::BadArgument)
    }

    /// A live instance and its memory.
    fn memory_of(&mut self, instance: u64) -> Result<(&mut Child, Extern), ChildError> {
        let child = self
            .instances
            .get_mut(&instance)
            .ok_or(ChildError::NotFound)?;
        let memory = child.memory()?;
        Ok((child, memory))
    }

    /// Destroys instance `instance`, whatever its state.
    ///
    /// # Errors
    ///
    /// [`ChildError::NotFound`].
    pub fn destroy(&mut self, instance: u64) -> Result<(), ChildError> {
        let child = self
            .instances
            .remove(&instance)
            .ok_or(ChildError::NotFound)?;
        // The backend may keep an instance whose calls all returned, restored
        // to new, for the next child of the module.
        child.sandbox.finish();
        Ok(())
    }

    /// Instances alive.
    pub fn live(&self) -> usize {
        self.instances.len()
    }
}

impl Child {
    /// The gas a step just took: down to what is left, or all of it when
    /// the child failed.
    fn take_used(&mut self, settled: &Result<ChildStep, ChildError>) -> u64 {
        let left = match settled {
            Ok(ChildStep::Finished { gas_left, .. } | ChildStep::Syscall { gas_left, .. }) => {
                (*gas_left).min(self.left)
            }
            Err(_) => 0,
        };
        let used = self.left - left;
        self.left = left;
        used
    }

    fn memory(&mut self) -> Result<Extern, ChildError> {
        if self.state == State::Dead {
            return Err(ChildError::InvalidInstance);
        }
        self.memory.ok_or(ChildError::NotFound)
    }

    /// What the child's step ended in, with its gas settled.
    fn settle(&mut self, step: Step) -> Result<ChildStep, ChildError> {
        // A suspended child's meter cannot be read: its request says.
        let gas_left = match (&step, &self.meter) {
            (Step::Suspended(Request::Syscall { gas_left, .. }), _) => *gas_left,
            (_, Some(meter)) => meter
                .gas_left(&mut *self.sandbox)
                .ok()
                .flatten()
                .map_or(0, Gas::get),
            (_, None) => 0,
        };
        self.state = State::Dead;
        match step {
            Step::Returned(values) => {
                self.state = State::Idle;
                let result = match values.first() {
                    Some(Value::I64(v)) => Some(*v),
                    _ => None,
                };
                Ok(ChildStep::Finished { result, gas_left })
            }
            Step::Suspended(Request::Syscall {
                index,
                args,
                returns,
                ..
            }) => {
                self.state = State::Suspended { returns };
                let args = args
                    .iter()
                    .map(|v| match v {
                        Value::I64(v) => *v,
                        _ => 0,
                    })
                    .collect();
                Ok(ChildStep::Syscall {
                    index: index as u32,
                    args,
                    gas_left,
                })
            }
            Step::Failed(failure) => {
                let failure = match &self.meter {
                    Some(meter) => meter.classify(&mut *self.sandbox, failure),
                    None => failure,
                };
                Err(match failure.kind {
                    ErrorKind::OutOfGas => ChildError::OutOfGas,
                    kind @ (ErrorKind::Timeout | ErrorKind::Cancelled) => {
                        ChildError::Interrupted(kind)
                    }
                    kind => ChildError::Trapped(kind),
                })
            }
            // A child imports nothing else: no exit, no other request.
            Step::Exited(_) | Step::Suspended(_) => Err(ChildError::Trapped(ErrorKind::HostError)),
        }
    }
}
