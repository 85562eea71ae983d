//! Running an entry point: compile, instantiate, call, service suspensions,
//! and turn whatever happened into an [`Outcome`].

use std::time::Duration;

use ward_instrument::PolicyError;
use ward_primitives::Gas;

use crate::{
    Backend, CallContext, Config, ErrorKind, Failure, InstanceId, Link, MAX_GAS, Meter, Metering,
    Module, NodeFault, Outcome, Reply, Request, Sandbox, SandboxError, Status, Step,
    value::{FuncType, ValType, Value},
};

/// Applies Ward's policy to `wasm`, then compiles it on `backend`.
///
/// # Errors
///
/// A `rejected` failure: `invalid_wasm`, `unsupported_feature` or
/// `limit_exceeded`.
pub fn compile(backend: &dyn Backend, config: &Config, wasm: &[u8]) -> Result<Module, Failure> {
    let mut policy = config.effective_policy();
    if !backend.marks_writes() {
        policy.to_mut().whole_restores = true;
    }
    let prepared = ward_instrument::prepare(wasm, &policy).map_err(policy_failure)?;
    Ok(Module::prepared(
        backend.compile(&prepared.wasm)?,
        prepared.metering,
        prepared.has_start,
        prepared.recyclable,
        prepared.instance_gas,
    ))
}

/// Instantiates `module` in `sandbox` and, for an instrumented module, arms
/// its meters with the context's gas and runs its start function (exported
/// as `__ward_start`), metered like any other code and unable to suspend.
/// The context's gas is brought up to date whatever happens.
///
/// # Errors
///
/// A failure of instantiation (`unknown_import`, `instantiation_trap`, ...),
/// or `out_of_gas` when the start function runs out.
pub fn instantiate_metered(
    sandbox: &mut dyn Sandbox,
    module: &Module,
    links: &[Link],
) -> Result<(InstanceId, Option<Meter>), Failure> {
    if let Ok(context) = sandbox.context() {
        context.take_memory_refusal();
    }
    let instance = sandbox.instantiate(module, links).map_err(|failure| {
        // The budget's refusal, in Ward's words rather than the engine's.
        sandbox
            .context()
            .ok()
            .and_then(CallContext::take_memory_refusal)
            .unwrap_or(failure)
    })?;
    if module.metering() == Metering::None {
        return Ok((instance, None));
    }
    let Some(meter) = Meter::find(sandbox, instance) else {
        return Err(Failure::new(
            ErrorKind::HostError,
            "instrumented module without meters",
        ));
    };
    let (left, base) = sandbox
        .context()
        .map(|c| (c.gas_left(), c.stack_base()))
        .unwrap_or((Gas::ZERO, 0));
    meter
        .arm(sandbox, left, base)
        .map_err(|e| Failure::new(ErrorKind::HostError, e.to_string()))?;
    if !module.runs_start_export() {
        return Ok((instance, Some(meter)));
    }
    let Some(start) = sandbox.export(instance, ward_instrument::START_EXPORT) else {
        return Err(Failure::new(
            ErrorKind::HostError,
            "instrumented start not exported",
        ));
    };
    set_suspend_allowed(sandbox, false);
    let step = sandbox.call(start, &[]);
    set_suspend_allowed(sandbox, true);
    sync_gas(sandbox, &meter);
    match step {
        Step::Returned(_) => Ok((instance, Some(meter))),
        Step::Failed(failure) => {
            let failure = meter.classify(sandbox, failure);
            Err(match failure.kind {
                ErrorKind::OutOfGas | ErrorKind::Timeout => failure,
                _ => Failure::new(
                    ErrorKind::InstantiationTrap,
                    format!("start function: {failure}"),
                ),
            })
        }
        Step::Exited(code) => Err(Failure::new(
            ErrorKind::InstantiationTrap,
            format!("start function called exit({code})"),
        )),
        Step::Suspended(_) => Err(Failure::new(
            ErrorKind::InstantiationTrap,
            "start function suspended",
        )),
    }
}

/// The call's whole gas limit (what a trap consumes).
fn options_gas_limit(sandbox: &mut dyn Sandbox) -> Gas {
    sandbox
        .context()
        .map(|c| c.gas_limit())
        .unwrap_or(Gas::ZERO)
}

fn set_suspend_allowed(sandbox: &mut dyn Sandbox, allowed: bool) {
    if let Ok(context) = sandbox.context() {
        context.set_suspend_allowed(allowed);
    }
}

/// Copies the instance's gas global into the call context.
fn sync_gas(sandbox: &mut dyn Sandbox, meter: &Meter) {
    if let Ok(Some(left)) = meter.gas_left(sandbox)
        && let Ok(context) = sandbox.context()
    {
        context.set_gas_left(left);
    }
}

/// Maps a policy verdict to a typed failure.
pub fn policy_failure(err: PolicyError) -> Failure {
    let kind = match &err {
        PolicyError::Invalid { .. } => ErrorKind::InvalidWasm,
        PolicyError::UnsupportedFeature { .. } => ErrorKind::UnsupportedFeature,
        PolicyError::LimitExceeded { .. } => ErrorKind::LimitExceeded,
        PolicyError::ReservedName { .. } => ErrorKind::InvalidWasm,
        PolicyError::UnknownImport { .. } => ErrorKind::UnknownImport,
        PolicyError::ImportSignatureMismatch { .. } => ErrorKind::ImportSignatureMismatch,
        _ => ErrorKind::InvalidWasm,
    };
    Failure::new(kind, err.to_string())
}

/// What to call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A contract entry point: `[] -> []`, `[] -> [i32]` (nonzero is a
    /// revert with that code) or `[i32 i32] -> [i32]` (`main(argc, argv)`,
    /// called with 0, 0).
    Main(String),
    /// Any exported function, with these arguments; its results are returned.
    Invoke {
        /// The export's name.
        name: String,
        /// The arguments.
        args: Vec<Value>,
    },
    /// A WASI reactor's method: export `initialize` (`[] -> []`, the
    /// reactor's `_initialize`) runs first, then `main` as [`Entry::Main`]
    /// runs, in the same instance and on the same gas. When `initialize`
    /// ends the call (a trap, `proc_exit`), `main` does not run.
    Initialized {
        /// The export run first.
        initialize: String,
        /// The entry point run after it.
        main: String,
    },
}

/// A WASI reactor's initialiser (`docs/wasi.md`), run before each of its
/// methods in the method's instance.
const WASI_INITIALIZE: &str = "_initialize";

impl Entry {
    /// Method `method` of `module`, a WASI reactor: [`Entry::Initialized`]
    /// after its `_initialize` when it exports one, else [`Entry::Main`].
    ///
    /// # Errors
    ///
    /// `entry_not_found` for an empty name or `_initialize`, which is no
    /// method (an export the module lacks is found missing when it runs).
    pub fn reactor_method(module: &Module, method: &str) -> Result<Entry, Failure> {
        if method.is_empty() || method == WASI_INITIALIZE {
            return Err(Failure::new(
                ErrorKind::EntryNotFound,
                format!("`{method}` is not a method: `_initialize` runs before each"),
            ));
        }
        Ok(match module.export_func(WASI_INITIALIZE) {
            Some(_) => Entry::Initialized {
                initialize: WASI_INITIALIZE.into(),
                main: method.into(),
            },
            None => Entry::Main(method.into()),
        })
    }
}

/// The shapes an entry point may have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryShape {
    /// `[] -> []`.
    Unit,
    /// `[] -> [i32]`.
    Code,
    /// `[i32 i32] -> [i32]`.
    ArgcArgv,
}

impl EntryShape {
    /// The shape of `ty`, if it is an accepted entry signature.
    pub fn of(ty: &FuncType) -> Option<EntryShape> {
        use ValType::I32;
        match (ty.params.as_slice(), ty.results.as_slice()) {
            ([], []) => Some(EntryShape::Unit),
            ([], [I32]) => Some(EntryShape::Code),
            ([I32, I32], [I32]) => Some(EntryShape::ArgcArgv),
            _ => None,
        }
    }

    fn args(self) -> Vec<Value> {
        match self {
            EntryShape::ArgcArgv => vec![Value::I32(0), Value::I32(0)],
            EntryShape::Unit | EntryShape::Code => Vec::new(),
        }
    }
}

/// Per-run settings.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// The call's input bytes.
    pub input: Vec<u8>,
    /// The gas limit.
    pub gas_limit: Gas,
    /// Collect `debug_log` lines.
    pub debug_log: bool,
    /// Wall-clock backstop, from before instantiation to the end of the call.
    pub timeout: Option<Duration>,
    /// Ends the call from another thread ([`crate::Cancel`]).
    pub cancel: Option<crate::Cancel>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            input: Vec::new(),
            gas_limit: Gas::MAX,
            debug_log: false,
            timeout: None,
            cancel: None,
        }
    }
}

/// What a run produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Execution {
    /// The typed outcome.
    pub outcome: Outcome,
    /// For [`Entry::Invoke`]: the function's results, when it returned.
    pub results: Vec<Value>,
    /// `debug_log` lines, when enabled.
    pub debug_log: Vec<String>,
    /// How many times the guest suspended.
    pub suspensions: u64,
    /// The WASI state as the program left it (its files), when it had one.
    pub wasi: Option<Box<ward_wasi::Wasi>>,
    /// The gas a system runtime reported in its own units
    /// (`ward.report_gas`): an EVM frame's EVM gas.
    pub runtime_gas: Option<u64>,
}

impl Execution {
    /// An execution that is only its outcome: no results, no log, no
    /// suspensions.
    pub fn of(outcome: Outcome) -> Self {
        Execution {
            outcome,
            results: Vec::new(),
            debug_log: Vec::new(),
            suspensions: 0,
            wasi: None,
            runtime_gas: None,
        }
    }

    /// Refused before any guest code ran: `failure`, no gas used.
    pub fn rejected(failure: Failure) -> Self {
        Execution::of(Outcome::failed(failure, Gas::ZERO))
    }
}

/// Runs `entry` of `module` in a fresh sandbox on `backend`.
///
/// Suspensions are serviced by `service` in a flat loop: however many times
/// the guest suspends, the native stack does not grow.
///
/// # Errors
///
/// A [`NodeFault`] when the node failed during the call (the context's
/// [`crate::Chain`] or [`crate::Host`] reported one, or the embedder misused
/// the ABI): the call has no outcome.
pub fn execute(
    backend: &dyn Backend,
    module: &Module,
    entry: &Entry,
    options: RunOptions,
    context: CallContext,
    service: &mut dyn FnMut(Request) -> Reply,
) -> Result<Execution, NodeFault> {
    let mut progress = begin(backend, module, entry, options, context);
    loop {
        match progress {
            Progress::Finished(execution) => return Ok(execution),
            Progress::Aborted(fault) => return Err(fault),
            Progress::Suspended(running, request) => progress = running.resume(service(request)),
        }
    }
}

/// A call waiting for the embedder: resume it with the reply to its
/// [`Request`]. An embedder that runs other calls while one waits (the
/// executor, servicing `ward.call`) keeps the waiting ones in a list of its
/// own: the native stack never grows with the depth of such calls.
pub struct Running {
    sandbox: Box<dyn Sandbox>,
    /// The guest's exported memory (looked up before the call: a
    /// suspended sandbox answers no lookups).
    memory: Option<crate::Extern>,
    meter: Option<Meter>,
    shape: Option<EntryShape>,
    suspensions: u64,
    /// Where a system runtime's instance goes back when the call is over
    /// (`None`: a fresh sandbox, recycled by the backend).
    home: Option<crate::system::Home>,
    /// The entry point to call when the running function returns
    /// ([`Entry::Initialized`]: the method after `_initialize`).
    then: Option<(crate::Extern, Vec<Value>)>,
}

impl std::fmt::Debug for Running {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Running")
            .field("suspensions", &self.suspensions)
            .finish_non_exhaustive()
    }
}

/// Where a call stands: waiting for a reply, finished, or aborted.
#[derive(Debug)]
pub enum Progress {
    /// The guest asked for something; resume with the answer.
    Suspended(Running, Request),
    /// The call is over.
    Finished(Execution),
    /// The node failed during the call: there is no outcome, and nothing
    /// the call did may be kept.
    Aborted(NodeFault),
}

impl Running {
    /// Calls `func` in `instance` and runs it to its first suspension or
    /// its end; `then` is called when it returns, and the instance goes
    /// back to `home` when the call is over.
    fn start(
        (mut sandbox, instance): (Box<dyn Sandbox>, InstanceId),
        (meter, shape): (Option<Meter>, Option<EntryShape>),
        (func, args): (crate::Extern, &[Value]),
        then: Option<(crate::Extern, Vec<Value>)>,
        home: Option<crate::system::Home>,
    ) -> Progress {
        let memory = exported_memory(&mut *sandbox, instance);
        let step = sandbox.call(func, args);
        Running {
            sandbox,
            memory,
            meter,
            shape,
            suspensions: 0,
            home,
            then,
        }
        .advance(step)
    }

    /// The suspended guest's exported memory, if it has one.
    fn memory(&self) -> Result<crate::Extern, SandboxError> {
        self.memory
            .ok_or(SandboxError::BadHandle(crate::ExternKind::Memory))
    }

    /// The size of the suspended guest's memory, in bytes: what a host
    /// serving its request checks a pointer against.
    ///
    /// # Errors
    ///
    /// [`SandboxError::BadHandle`] when the guest exports no memory.
    pub fn memory_size(&mut self) -> Result<u64, SandboxError> {
        let memory = self.memory()?;
        self.sandbox.memory_size(memory)
    }

    /// Reads `buf.len()` bytes of the suspended guest's memory at `offset`
    /// (a host import that took a pointer, answered by suspending).
    ///
    /// # Errors
    ///
    /// [`SandboxError::OutOfBounds`] past its end, or
    /// [`SandboxError::BadHandle`] when it exports no memory.
    pub fn read_memory(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), SandboxError> {
        let memory = self.memory()?;
        self.sandbox.read_memory(memory, offset, buf)
    }

    /// Writes `data` into the suspended guest's memory at `offset` (the
    /// answer to a request, where the guest asked for it), before it is
    /// resumed. What a host writes is its own doing: two nodes must write
    /// the same for the same call.
    ///
    /// # Errors
    ///
    /// As [`Running::read_memory`].
    pub fn write_memory(&mut self, offset: u64, data: &[u8]) -> Result<(), SandboxError> {
        let memory = self.memory()?;
        self.sandbox.write_memory(memory, offset, data)
    }

    /// Resumes the guest with `reply` and runs it to its next suspension
    /// or its end.
    pub fn resume(mut self, reply: Reply) -> Progress {
        let step = self.sandbox.resume(reply);
        self.advance(step)
    }

    fn advance(mut self, step: Step) -> Progress {
        let mut step = step;
        while matches!(step, Step::Returned(_))
            && let Some((func, args)) = self.then.take()
        {
            step = self.sandbox.call(func, &args);
        }
        match step {
            Step::Suspended(request) => {
                self.suspensions += 1;
                Progress::Suspended(self, request)
            }
            step => {
                let returned = matches!(step, Step::Returned(_));
                let settled = settle(
                    &mut *self.sandbox,
                    self.meter.as_ref(),
                    self.shape,
                    self.suspensions,
                    step,
                );
                match self.home {
                    Some(home) => home.put_back(self.sandbox, self.meter, &settled, returned),
                    None => self.sandbox.finish(),
                }
                match settled {
                    Ok(execution) => Progress::Finished(execution),
                    Err(fault) => Progress::Aborted(fault),
                }
            }
        }
    }
}

/// Starts `entry` of `module` in a fresh sandbox and runs it to its first
/// suspension or its end. [`execute`] is this plus a loop.
pub fn begin(
    backend: &dyn Backend,
    module: &Module,
    entry: &Entry,
    options: RunOptions,
    context: CallContext,
) -> Progress {
    let deadline = options
        .timeout
        .and_then(|t| crate::clock::now().checked_add(t));
    let (name, args, shape) = match resolve_entry(module, entry) {
        Ok(resolved) => resolved,
        Err(failure) => return Progress::Finished(Execution::rejected(failure)),
    };
    let initialize = match initializer(module, entry) {
        Ok(initialize) => initialize,
        Err(failure) => return Progress::Finished(Execution::rejected(failure)),
    };
    let mut context = context;
    context.reset(options.input, options.gas_limit.min(MAX_GAS));
    context.support_chain_requests(backend.chain_requests());
    if let Err(failure) = charge_instance(&mut context, module) {
        // Nothing ran, and all the gas is used.
        let limit = context.gas_limit();
        return Progress::Finished(Execution::of(Outcome::failed(failure, limit)));
    }
    // The call's children (`vm_run`) stop when it would.
    context.interrupt_children(deadline, options.cancel.as_ref());
    let mut sandbox = backend.sandbox_for(module, context.with_debug_log(options.debug_log));
    sandbox.set_deadline(deadline);
    sandbox.set_cancel(options.cancel);
    let (instance, meter) = match instantiate_metered(&mut *sandbox, module, &[]) {
        Ok(instantiated) => instantiated,
        Err(_) if let Some(fault) = take_fault(&mut *sandbox) => {
            return Progress::Aborted(fault);
        }
        Err(failure) => {
            let gas_used = match failure.kind {
                // Code ran and trapped: a trap consumes all the gas.
                ErrorKind::InstantiationTrap => options_gas_limit(&mut *sandbox),
                _ => sandbox.context().map(|c| c.gas_used()).unwrap_or(Gas::ZERO),
            };
            return Progress::Finished(Execution::of(Outcome::failed(failure, gas_used)));
        }
    };
    let Some(func) = sandbox.export(instance, name) else {
        return Progress::Finished(Execution::rejected(Failure::new(
            ErrorKind::EntryNotFound,
            format!("no function export `{name}`"),
        )));
    };
    let (first, then) = match initialize.map(|name| sandbox.export(instance, name)) {
        None => ((func, args), None),
        Some(Some(init)) => ((init, Vec::new()), Some((func, args))),
        Some(None) => {
            return Progress::Finished(Execution::rejected(Failure::new(
                ErrorKind::EntryNotFound,
                format!("no function export `{}`", initialize.unwrap_or_default()),
            )));
        }
    };
    Running::start(
        (sandbox, instance),
        (meter, shape),
        (first.0, &first.1),
        then,
        None,
    )
}

/// [`Entry::Initialized`]'s export run first, checked: `[] -> []`.
fn initializer<'a>(module: &Module, entry: &'a Entry) -> Result<Option<&'a str>, Failure> {
    let Entry::Initialized { initialize, .. } = entry else {
        return Ok(None);
    };
    match module.export_func(initialize) {
        None => Err(Failure::new(
            ErrorKind::EntryNotFound,
            format!("no function export `{initialize}`"),
        )),
        Some(ty) if EntryShape::of(ty) == Some(EntryShape::Unit) => Ok(Some(initialize)),
        Some(ty) => Err(Failure::new(
            ErrorKind::BadEntrySignature,
            format!("`{initialize}` has type {ty}; expected [] -> []"),
        )),
    }
}

/// Charges `context` for an instance of `module` ([`Module::instance_gas`])
/// before it is made; when its gas does not cover it, the `out_of_gas`
/// failure that ends the call.
fn charge_instance(context: &mut CallContext, module: &Module) -> Result<(), Failure> {
    let cost = module.instance_gas();
    context.charge(cost).map_err(|_| {
        Failure::new(
            ErrorKind::OutOfGas,
            format!(
                "an instance of this module costs {cost} gas, more than the call's {}",
                context.gas_limit()
            ),
        )
    })
}

/// Calls `func` of an instance already armed in `sandbox` (a system
/// runtime's) and runs it to its first suspension or its end; when the
/// call is over, the instance goes back to `home`.
pub(crate) fn begin_in(
    (sandbox, instance): (Box<dyn Sandbox>, crate::InstanceId),
    meter: Option<Meter>,
    (func, args, shape): (crate::Extern, &[Value], Option<EntryShape>),
    home: crate::system::Home,
) -> Progress {
    Running::start(
        (sandbox, instance),
        (meter, shape),
        (func, args),
        None,
        Some(home),
    )
}

/// `instance`'s exported memory, if it has one.
pub(crate) fn exported_memory(
    sandbox: &mut dyn Sandbox,
    instance: InstanceId,
) -> Option<crate::Extern> {
    sandbox
        .export(instance, ward_abi::MEMORY_EXPORT)
        .filter(|e| e.kind == crate::ExternKind::Memory)
}

/// The node fault that aborted the sandbox's call, if one did.
fn take_fault(sandbox: &mut dyn Sandbox) -> Option<NodeFault> {
    sandbox.context().ok()?.take_fault()
}

/// Turns a final step into an execution. The context's gas is settled: a
/// trap or timeout consumes all of it.
///
/// # Errors
///
/// The node fault that aborted the call, whatever the step says (the trap
/// that unwound the guest is not its outcome).
fn settle(
    sandbox: &mut dyn Sandbox,
    meter: Option<&Meter>,
    shape: Option<EntryShape>,
    suspensions: u64,
    step: Step,
) -> Result<Execution, NodeFault> {
    if let Some(fault) = take_fault(sandbox) {
        return Err(fault);
    }
    let mut step = step;
    if let Some(meter) = meter {
        sync_gas(&mut *sandbox, meter);
        if let Step::Failed(failure) = step {
            step = Step::Failed(meter.classify(&mut *sandbox, failure));
        }
    }
    let Ok(context) = sandbox.context() else {
        return Err(still_suspended());
    };
    // A trap consumes all the gas of the call (as the EVM's exceptional
    // halts do): between the instrumentation's flushes the gas global may
    // lag the guest's own counter, and a trap must never be the cheap way
    // out. Reverts (`exit` with a nonzero code) keep their refund.
    // So does a timeout: it ends the call wherever it is, between flushes.
    if matches!(&step, Step::Failed(f) if matches!(f.kind.status(), Status::Trapped | Status::Timeout))
    {
        context.set_gas_left(Gas::ZERO);
    }
    let gas_used = context.gas_used();
    let debug_log = context.take_debug_log();
    let wasi = context.take_wasi();
    let runtime_gas = context.runtime_gas();
    let (outcome, results) = match step {
        Step::Returned(values) => {
            let exit_code = match (shape, values.first()) {
                (Some(EntryShape::Code | EntryShape::ArgcArgv), Some(Value::I32(code))) => *code,
                _ => 0,
            };
            let results = if shape.is_none() { values } else { Vec::new() };
            (
                Outcome::finished(exit_code, context.take_output(), gas_used),
                results,
            )
        }
        Step::Exited(code) => (
            Outcome::finished(code, context.take_output(), gas_used),
            Vec::new(),
        ),
        Step::Failed(failure) => (Outcome::failed(failure, gas_used), Vec::new()),
        Step::Suspended(_) => return Err(still_suspended()),
    };
    Ok(Execution {
        outcome,
        results,
        debug_log,
        suspensions,
        wasi,
        runtime_gas,
    })
}

/// Only final steps are settled: a suspended one here is Ward's own bug.
fn still_suspended() -> NodeFault {
    NodeFault::new(
        crate::FaultKind::Invariant,
        "a suspended call was settled as finished",
    )
}

/// The export to call, its arguments, and its entry shape (`None` for
/// [`Entry::Invoke`]).
pub(crate) fn resolve_entry<'a>(
    module: &Module,
    entry: &'a Entry,
) -> Result<(&'a str, Vec<Value>, Option<EntryShape>), Failure> {
    let name = match entry {
        Entry::Main(name) | Entry::Invoke { name, .. } => name.as_str(),
        Entry::Initialized { main, .. } => main.as_str(),
    };
    let Some(ty) = module.export_func(name) else {
        return Err(Failure::new(
            ErrorKind::EntryNotFound,
            format!("no function export `{name}`"),
        ));
    };
    match entry {
        Entry::Main(_) | Entry::Initialized { .. } => match EntryShape::of(ty) {
            Some(shape) => Ok((name, shape.args(), Some(shape))),
            None => Err(Failure::new(
                ErrorKind::BadEntrySignature,
                format!(
                    "entry `{name}` has type {ty}; expected [] -> [], [] -> [i32] or [i32 i32] -> [i32]"
                ),
            )),
        },
        Entry::Invoke { args, .. } => Ok((name, args.clone(), None)),
    }
}
