//! The engine boundary: what every backend implements.
//!
//! A [`Backend`] compiles bytes to a [`Module`] and opens [`Sandbox`]es. A
//! sandbox owns one engine store: instances, their memories, tables and
//! globals, and the [`CallContext`] its host functions act on. A contract
//! call uses one sandbox with one instance and drops it; the spec runner
//! links many instances inside one sandbox.
//!
//! Execution is run-until-suspend: [`Sandbox::call`] and [`Sandbox::resume`]
//! return a [`Step`], which is either final (returned, exited, failed) or
//! [`Step::Suspended`] with a [`Request`] the embedder services before it
//! calls [`Sandbox::resume`]. While suspended, no frame of the embedder's
//! stack is held by the guest: the embedder's loop is flat however deep the
//! guest-to-guest call chain grows.

use std::{any::Any, fmt, sync::Arc, time::Instant};

use crate::{
    CallContext, Failure, Metering,
    value::{ExportType, FuncType, ImportType, Value},
};

/// Which engine runs the code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// wasmtime with the Cranelift compiler.
    Wasmtime,
    /// The wasmi interpreter.
    Wasmi,
}

impl BackendKind {
    /// Both backends, in a fixed order.
    pub const ALL: [BackendKind; 2] = [BackendKind::Wasmtime, BackendKind::Wasmi];

    /// The backend's name: `wasmtime` or `wasmi`.
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Wasmtime => "wasmtime",
            BackendKind::Wasmi => "wasmi",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for BackendKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "wasmtime" => Ok(BackendKind::Wasmtime),
            "wasmi" => Ok(BackendKind::Wasmi),
            other => Err(format!(
                "unknown backend `{other}` (expected wasmtime or wasmi)"
            )),
        }
    }
}

/// A compiled, validated module, usable with the backend that compiled it.
///
/// Cheap to clone: the compiled code is shared.
#[derive(Clone)]
pub struct Module {
    backend: BackendKind,
    metering: Metering,
    has_start: bool,
    recyclable: bool,
    /// What making an instance costs (`docs/gas.md`).
    instance_gas: u64,
    /// It imports a `vm_*` function (found once, not per call).
    runs_children: bool,
    imports: Arc<[ImportType]>,
    exports: Arc<[ExportType]>,
    footprint: usize,
    compiled: Arc<dyn Any + Send + Sync>,
}

/// What a backend compiled: the engine's module and Ward's description of
/// it. Only `ward-vm` turns one into a [`Module`], recording how its bytes
/// were prepared ([`crate::compile`], the module cache), so no embedder can
/// claim a module is metered, has no start function, or may be recycled:
///
/// ```compile_fail
/// # use ward_vm::{EngineModule, Metering, Module};
/// fn recyclable(engine: EngineModule) -> Module {
///     Module::prepared(engine, Metering::Instrumented, false, true, 0) // private
/// }
/// ```
pub struct EngineModule {
    /// The backend that compiled it.
    pub backend: BackendKind,
    /// Its imports.
    pub imports: Vec<ImportType>,
    /// Its exports, in any order.
    pub exports: Vec<ExportType>,
    /// Roughly how many bytes the compiled module occupies (code and
    /// metadata), which bounds the module cache.
    pub footprint: usize,
    /// The backend's own compiled module ([`Module::downcast`] gets it back).
    pub code: Arc<dyn Any + Send + Sync>,
}

impl Module {
    /// A module from what a backend compiled and how its bytes were
    /// prepared.
    pub(crate) fn prepared(
        engine: EngineModule,
        metering: Metering,
        has_start: bool,
        recyclable: bool,
        instance_gas: u64,
    ) -> Self {
        // Engines list exports in different orders (declaration order,
        // name order); Ward always lists them by name.
        let mut exports = engine.exports;
        exports.sort_by(|a, b| a.name.cmp(&b.name));
        let runs_children = engine.imports.iter().any(|i| {
            i.module == ward_abi::MODULE
                && ward_abi::HostFn::from_name(&i.name).is_some_and(ward_abi::HostFn::runs_children)
        });
        Module {
            backend: engine.backend,
            metering,
            has_start,
            recyclable,
            instance_gas,
            runs_children,
            imports: engine.imports.into(),
            exports: exports.into(),
            footprint: engine.footprint,
            compiled: engine.code,
        }
    }

    /// Roughly how many bytes the compiled module occupies.
    pub fn footprint(&self) -> usize {
        self.footprint
    }

    /// Whether the module had a start function.
    pub fn has_start(&self) -> bool {
        self.has_start
    }

    /// Whether a finished instance can be restored to a new one's state
    /// and reused (see `ward_instrument::Prepared::recyclable`).
    pub fn recyclable(&self) -> bool {
        self.recyclable
    }

    /// The gas charged before every instance of this module a metered
    /// call, child or runtime frame runs in (the schedule's
    /// `instance_*` costs, `docs/gas.md`): 0 when it is not metered.
    pub fn instance_gas(&self) -> u64 {
        if self.metering == Metering::None {
            0
        } else {
            self.instance_gas
        }
    }

    /// Whether the module imports a `vm_*` function: its calls need
    /// [`crate::Children`] (`CallContext::with_children`).
    pub fn runs_children(&self) -> bool {
        self.runs_children
    }

    /// How the module is metered.
    pub fn metering(&self) -> Metering {
        self.metering
    }

    /// Whether an instrumented module's start function must be run (as
    /// `__ward_start`) after instantiation.
    pub fn runs_start_export(&self) -> bool {
        self.has_start && self.metering != Metering::None
    }

    /// The backend that compiled this module.
    pub fn backend(&self) -> BackendKind {
        self.backend
    }

    /// The module's imports, in declaration order.
    pub fn imports(&self) -> &[ImportType] {
        &self.imports
    }

    /// The module's exports, in name order (the same on every backend).
    pub fn exports(&self) -> &[ExportType] {
        &self.exports
    }

    /// The signature of an exported function, if there is one by that name.
    pub fn export_func(&self, name: &str) -> Option<&FuncType> {
        self.exports
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| match &e.ty {
                crate::ExternType::Func(ty) => Some(ty),
                _ => None,
            })
    }

    /// The same module (the same preparation) with another engine's
    /// compilation of the same bytes: a tiered backend's tiers.
    pub(crate) fn with_code(
        &self,
        backend: BackendKind,
        code: Arc<dyn Any + Send + Sync>,
    ) -> Module {
        Module {
            backend,
            compiled: code,
            ..self.clone()
        }
    }

    /// The backend's own compiled module, for the backend that made it.
    pub fn downcast<T: Any>(&self) -> Option<&T> {
        self.compiled.downcast_ref::<T>()
    }

    /// The backend's own compiled module, shared.
    pub fn downcast_arc<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.compiled.clone().downcast::<T>().ok()
    }
}

impl fmt::Debug for Module {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Module")
            .field("backend", &self.backend)
            .field("imports", &self.imports.len())
            .field("exports", &self.exports.len())
            .finish_non_exhaustive()
    }
}

/// An engine Ward can run code on.
pub trait Backend: Send + Sync {
    /// Which engine this is.
    fn kind(&self) -> BackendKind;

    /// Whether it was made with [`crate::Config::chain_requests`]: only
    /// then may a call ask for them
    /// ([`crate::CallContext::with_chain_requests`]).
    fn chain_requests(&self) -> bool {
        false
    }

    /// Whether the backend's helper threads run: `Err` says what does not
    /// and what it costs (wasmtime's timeout thread: deadlines never fire;
    /// tier-up's compile thread: modules stay on the quick tier). Calls
    /// still run either way; an embedder reports this (a node's
    /// `/health`) rather than find out when a timeout is needed.
    ///
    /// # Errors
    ///
    /// What is wrong, for people.
    fn health(&self) -> Result<(), String> {
        Ok(())
    }

    /// Validates and compiles `wasm`. The caller applies Ward's policy first
    /// (see [`crate::compile`]); this only asks the engine.
    ///
    /// # Errors
    ///
    /// A [`Failure`] of kind `invalid_wasm` (or `unsupported_feature`) when
    /// the engine refuses the bytes.
    fn compile(&self, wasm: &[u8]) -> Result<EngineModule, Failure>;

    /// Identifies everything a compiled artifact depends on: the engine's
    /// name and version and its code-generation settings. Part of every
    /// cache key, so that artifacts of another engine build or setting are
    /// never reused.
    fn fingerprint(&self) -> String;

    /// The bytes of a compiled module for the disk cache, when this backend
    /// has an artifact worth storing (wasmtime's machine code; wasmi
    /// compiles lazily and stores nothing).
    fn serialize(&self, module: &Module) -> Option<Vec<u8>> {
        let _ = module;
        None
    }

    /// For a module whose artifact [`Backend::serialize`] did not have
    /// yet (a tiered backend compiles it in the background): calls `store`
    /// with it once it is made, on whatever thread makes it. `false` when
    /// it never will (the default).
    fn serialize_when_ready(
        &self,
        module: &Module,
        store: Box<dyn FnOnce(Vec<u8>) + Send>,
    ) -> bool {
        let _ = (module, store);
        false
    }

    /// A sandbox whose first instantiation will be `module` alone (no
    /// links), for one call. A backend may hand back one that already holds
    /// a recycled instance of `module` (see [`Sandbox::finish`]), which that
    /// instantiation then returns without instantiating. The default is
    /// [`Backend::sandbox`].
    fn sandbox_for(&self, module: &Module, context: CallContext) -> Box<dyn Sandbox> {
        let _ = module;
        self.sandbox(context)
    }

    /// Whether modules compiled for it mark the memory they write, so that
    /// a recycled instance is restored by the granules written
    /// ([`ward_instrument::DIRTY_EXPORT`]) rather than whole. The default:
    /// yes; an interpreter, where the marks cost more than the restore
    /// they save, says no. Neither gas nor behaviour depends on it.
    fn marks_writes(&self) -> bool {
        true
    }

    /// How many sandboxes [`Backend::sandbox_for`] has handed out with a
    /// recycled instance (for tests and reports). The default: none.
    fn recycled_instances(&self) -> u64 {
        0
    }

    /// Rebuilds a module from bytes [`Backend::serialize`] produced.
    ///
    /// # Errors
    ///
    /// When the engine refuses the artifact (another engine version or
    /// configuration).
    ///
    /// # Safety
    ///
    /// The bytes must be exactly ones that `serialize` of a backend with the
    /// same [`Backend::fingerprint`] produced: an engine may trust its own
    /// artifacts (machine code) without being able to check them. The disk
    /// cache verifies a checksum and the full key before calling this.
    #[allow(unsafe_code)]
    unsafe fn deserialize(&self, artifact: &[u8]) -> Result<EngineModule, Failure> {
        let _ = artifact;
        Err(Failure::new(
            crate::ErrorKind::HostError,
            "this backend has no compiled artifacts",
        ))
    }

    /// Opens a sandbox whose host functions act on `context`.
    fn sandbox(&self, context: CallContext) -> Box<dyn Sandbox>;

    /// A backend of the same engine (and tiers) for `config`: what the
    /// children a guest runs need, whose imports another policy resolves
    /// ([`crate::child_config`]).
    ///
    /// # Errors
    ///
    /// When the engine cannot be set up for `config`.
    fn sibling(&self, config: &crate::Config) -> Result<Arc<dyn Backend>, Failure>;
}

/// The kind of an [`Extern`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ExternKind {
    /// A function.
    Func,
    /// A memory.
    Memory,
    /// A table.
    Table,
    /// A global.
    Global,
}

/// A handle to an item (function, memory, table, global) inside one sandbox.
///
/// Only meaningful to the sandbox that returned it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Extern {
    /// What the item is.
    pub kind: ExternKind,
    /// The sandbox's own index for it.
    pub index: u32,
}

/// A handle to an instance inside one sandbox.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InstanceId(pub u32);

/// An explicit import given to [`Sandbox::instantiate`]: `module.name`
/// resolves to `item` (an export of an earlier instance).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Link {
    /// Import module name.
    pub module: String,
    /// Import field name.
    pub name: String,
    /// The item it resolves to.
    pub item: Extern,
}

/// Whose context a callee's code runs in (`ward_abi::call`'s flags).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum CallMode {
    /// The callee's own: its address, storage and events, the caller as
    /// its caller.
    #[default]
    Plain,
    /// The caller's, as the caller (`DELEGATE`, the EVM's
    /// `DELEGATECALL`): the caller's address, caller and value.
    Delegate,
    /// The caller's, as a call from the caller to itself (`CALL_CODE`,
    /// the EVM's `CALLCODE`): the caller's address, the caller as the
    /// caller, the call's value.
    Code,
}

impl CallMode {
    /// Whether the callee's code runs in the caller's context.
    pub fn in_caller(self) -> bool {
        self != CallMode::Plain
    }
}

/// What the guest asks of the embedder when it suspends.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Request {
    /// An embedder-defined import (see [`crate::Config::host_imports`])
    /// whose [`crate::Host`] chose to suspend. Resume with
    /// [`Reply::Values`] of the import's result types.
    Host {
        /// Index of the import in [`crate::Config::host_imports`].
        index: usize,
        /// The arguments the guest passed.
        args: Vec<Value>,
    },
    /// A syscall ([`crate::ImportPolicy::Syscalls`]): resume with
    /// [`Reply::Values`]: one `i64` when `returns`, else none.
    Syscall {
        /// The import's number in the module.
        index: usize,
        /// The arguments the guest passed (`i64`s).
        args: Vec<Value>,
        /// Whether the import returns an `i64`.
        returns: bool,
        /// The guest's gas left when it made the call (its meter is not
        /// readable while it is suspended).
        gas_left: u64,
    },
    /// `ward.call`: run `main` of the contract at `address` with `input`
    /// and at most `gas`, then resume with [`Reply::Call`].
    Call {
        /// The callee's address.
        address: [u8; 32],
        /// Its input.
        input: Vec<u8>,
        /// The gas it may use (already capped at what the caller has).
        gas: u64,
        /// Whether the callee (and its callees) may not write or emit.
        read_only: bool,
        /// Whose context the callee's code runs in.
        mode: CallMode,
        /// Where the callee's stack starts in the transaction's one stack
        /// budget ([`crate::CallContext::with_stack_base`]): the caller's
        /// depth at the call plus `ward_abi::call::STACK_UNITS`.
        stack_base: u32,
        /// The native asset moved to the callee (`ward.call_with_value`;
        /// 0 for `ward.call`).
        value: u128,
    },
    /// `ward.storage_read` of a call whose context asks for chain requests
    /// ([`crate::CallContext::with_chain_requests`]): the value under `key`
    /// in the running contract's storage. Resume with [`Reply::Storage`].
    StorageRead {
        /// The key.
        key: Vec<u8>,
    },
    /// `ward.storage_write` (`Some`) or `ward.storage_remove` (`None`) of
    /// such a call: store or remove `key`'s value. Resume with
    /// [`Reply::Done`].
    StorageWrite {
        /// The key.
        key: Vec<u8>,
        /// The new value; `None` removes the key.
        value: Option<Vec<u8>>,
    },
    /// `ward.emit_event` of such a call. Resume with [`Reply::Done`].
    Event {
        /// Its topic.
        topic: Vec<u8>,
        /// Its data.
        data: Vec<u8>,
    },
    /// `ward.create`: deploy `code` as a contract of the caller's kind,
    /// running its deploy with `input` and at most `gas`, then resume with
    /// [`Reply::Call`] (on success, the new address as the return data).
    Create {
        /// The new contract's code.
        code: Vec<u8>,
        /// Its deploy's input.
        input: Vec<u8>,
        /// What its address comes from.
        salt: [u8; 32],
        /// The gas it may use (already capped at what the caller has).
        gas: u64,
        /// Where the deploy's stack starts, as for [`Request::Call`].
        stack_base: u32,
        /// The native asset moved to the new contract
        /// (`ward.create_with_value`; 0 for `ward.create`).
        value: u128,
    },
}

/// The embedder's answer to a [`Request`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Reply {
    /// The suspended import returns these values.
    Values(Vec<Value>),
    /// The suspended import fails: the guest traps with `host_error`.
    Trap(String),
    /// The answer to a [`Request::StorageRead`]: the value, or `None` when
    /// the key holds none.
    Storage(Option<Vec<u8>>),
    /// A [`Request::StorageWrite`] or [`Request::Event`] was done.
    Done,
    /// How a [`Request::Call`] ended: `status` 0 ok, 1 reverted, 2 failed;
    /// the callee's output; the gas it used (charged to the caller).
    Call {
        /// 0 ok, 1 reverted, 2 failed.
        status: i32,
        /// The callee's output (empty when it failed).
        return_data: Vec<u8>,
        /// Gas the callee used.
        gas_used: u64,
    },
}

/// Where a call stands after [`Sandbox::call`] or [`Sandbox::resume`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    /// The function returned these values.
    Returned(Vec<Value>),
    /// The guest called `exit(code)`.
    Exited(i32),
    /// The guest waits for the embedder: service the request, then
    /// [`Sandbox::resume`].
    Suspended(Request),
    /// The call failed; the sandbox is idle again.
    Failed(Failure),
}

/// Misuse of a sandbox by the embedder (never caused by the guest).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// The operation needs an idle sandbox, but a call is suspended.
    #[error("a call is suspended in this sandbox")]
    Busy,
    /// `resume` was called with no call suspended.
    #[error("no call is suspended in this sandbox")]
    NotSuspended,
    /// The handle does not name an item of the expected kind in this sandbox.
    #[error("no such {0:?} in this sandbox")]
    BadHandle(ExternKind),
    /// A memory access out of the memory's bounds.
    #[error("memory access out of bounds")]
    OutOfBounds,
    /// The arguments do not match the function's parameters.
    #[error("argument mismatch: {0}")]
    BadArguments(String),
    /// A module compiled by another backend was given to this one.
    #[error("module was compiled by another backend")]
    ForeignModule,
}

/// [`Sandbox::meter_export`] by name: `__ward_gas`, else `__ward_trap`.
/// The trait's default, and what a backend's own answer falls back to.
pub fn meter_export_by_name<S: Sandbox + ?Sized>(
    sandbox: &mut S,
    instance: InstanceId,
) -> Option<(Extern, bool)> {
    if let Some(gas) = sandbox.export(instance, ward_instrument::GAS_EXPORT) {
        return Some((gas, true));
    }
    Some((
        sandbox.export(instance, ward_instrument::TRAP_EXPORT)?,
        false,
    ))
}

/// One engine store: instances and the call context their host functions see.
pub trait Sandbox: Send {
    /// Instantiates `module`, resolving `ward` imports to the host ABI,
    /// configured host imports to the embedder's [`crate::Host`], and
    /// anything else through `links`. Runs the start function.
    ///
    /// # Errors
    ///
    /// `unknown_import`, `import_signature_mismatch`, `limit_exceeded` or
    /// `instantiation_trap`.
    fn instantiate(&mut self, module: &Module, links: &[Link]) -> Result<InstanceId, Failure>;

    /// The handle to an instrumented instance's meter global, and whether
    /// it holds gas: `__ward_gas` (engine-metered, `true`) or `__ward_trap`
    /// (self-metered, `false`); `None` when the instance has no meter.
    /// Backends may answer from indices they computed when compiling; the
    /// default looks the names up.
    fn meter_export(&mut self, instance: InstanceId) -> Option<(Extern, bool)> {
        meter_export_by_name(self, instance)
    }

    /// Looks up an export of an instance.
    fn export(&mut self, instance: InstanceId, name: &str) -> Option<Extern>;

    /// Calls a function. Arguments are checked against its signature (a
    /// mismatch is [`Step::Failed`] with `host_error`: it is the embedder's
    /// mistake, but it must not panic).
    fn call(&mut self, func: Extern, args: &[Value]) -> Step;

    /// Continues the suspended call with the embedder's reply.
    fn resume(&mut self, reply: Reply) -> Step;

    /// Whether a call is suspended.
    fn is_suspended(&self) -> bool;

    /// Sets the wall-clock deadline for calls (`None`: no deadline). A call
    /// still running at the deadline fails with `timeout`.
    fn set_deadline(&mut self, deadline: Option<Instant>);

    /// Sets the flag that cancels calls (`None`: none). A call running
    /// when it is cancelled fails with `cancelled` at its next
    /// interruption check ([`crate::Cancel`]).
    fn set_cancel(&mut self, cancel: Option<crate::Cancel>);

    /// The call context. Unavailable while a call is suspended.
    ///
    /// # Errors
    ///
    /// [`SandboxError::Busy`] while a call is suspended.
    fn context(&mut self) -> Result<&mut CallContext, SandboxError>;

    /// Reads `buf.len()` bytes of a memory at `offset`, also while a call
    /// is suspended (how an embedder services a request that names guest
    /// memory, such as a child's syscall).
    ///
    /// # Errors
    ///
    /// [`SandboxError::OutOfBounds`] or [`SandboxError::BadHandle`].
    fn read_memory(
        &mut self,
        memory: Extern,
        offset: u64,
        buf: &mut [u8],
    ) -> Result<(), SandboxError>;

    /// Writes `data` into a memory at `offset`.
    ///
    /// # Errors
    ///
    /// As [`Sandbox::read_memory`].
    fn write_memory(
        &mut self,
        memory: Extern,
        offset: u64,
        data: &[u8],
    ) -> Result<(), SandboxError>;

    /// The current size of a memory in bytes.
    ///
    /// # Errors
    ///
    /// As [`Sandbox::read_memory`].
    fn memory_size(&mut self, memory: Extern) -> Result<u64, SandboxError>;

    /// The current value of a global.
    ///
    /// # Errors
    ///
    /// [`SandboxError::BadHandle`], or [`SandboxError::Busy`] while suspended.
    fn global_get(&mut self, global: Extern) -> Result<Value, SandboxError>;

    /// Sets a mutable global.
    ///
    /// # Errors
    ///
    /// [`SandboxError::BadHandle`], [`SandboxError::BadArguments`] (wrong
    /// type or an immutable global), or [`SandboxError::Busy`] while suspended.
    fn global_set(&mut self, global: Extern, value: Value) -> Result<(), SandboxError>;

    /// Ends the sandbox once its call is over and its context read. A
    /// backend may keep the instance of a sandbox made by
    /// [`Backend::sandbox_for`] for a later call of the same module, when
    /// the module is recyclable, the sandbox held that one instance, and
    /// its calls returned or exited: it first restores the instance to the
    /// state of a new one (memory, mutable globals) and drops the context.
    /// Dropping a sandbox never recycles anything. The default drops it.
    fn finish(self: Box<Self>) {}

    /// Whether faster code for what this sandbox instantiated is ready
    /// since (a tiered backend's quick tier, once the fast tier has
    /// compiled the module): an embedder that keeps instances for later
    /// calls builds a new one instead. Outcomes and gas are the same on
    /// either: only time differs. The default: never.
    fn superseded(&self) -> bool {
        false
    }
}
