//! Running frames: the flat loop in which a transaction's top frame and
//! every `ward.call` it makes run as frames of their own, each with its
//! call context.

use crate::error::ExecError;
use crate::frame::Frame;
use crate::runtime::Code;
use crate::{CallRequest, Current, Executor, Frames, Waiting, create, interrupted, lock, runtime};
use ward_abi::call::FAILED as CALL_FAILED;
use ward_primitives::{Address, CodeKind, Gas, Hash32};
use ward_state::StateCommit;
use ward_vm::{
    CallContext, CallMode, Entry, ErrorKind, Execution, Failure, FaultKind, InstanceBudget,
    MemoryBudget, NodeFault, Progress, Reply, Request, RunOptions,
};

/// Why a traced call failed before its callee ran (the executor does not
/// tell the reasons apart there).
const REFUSED: &str = "the call failed before its callee ran: no contract there, the stack or instance budget spent, a delegate call to code of another kind, or value where none may move";

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// Starts `entry` of `code`, of `kind`, with `options` and `context`:
    /// a fresh instance of a contract's module, or a pooled instance of a
    /// runtime. A WASI reactor's call (entry `""`) runs the method its
    /// input names ([`reactor_entry`]).
    pub(crate) fn start(
        &self,
        (code, kind): (&Code, CodeKind),
        entry: &str,
        options: RunOptions,
        context: CallContext,
    ) -> Progress {
        let mut options = options;
        let entry = match (code, kind) {
            (Code::Wasm(module, _), CodeKind::WasiReactor) if entry.is_empty() => {
                match reactor_entry(module, &options.input) {
                    Ok((entry, args)) => {
                        options.input = args;
                        entry
                    }
                    Err(failure) => return Progress::Finished(Execution::rejected(failure)),
                }
            }
            _ => Entry::Main(entry.into()),
        };
        match code {
            Code::Wasm(module, _) => {
                ward_vm::begin(&*self.backend, module, &entry, options, context)
            }
            Code::Runtime(runtime, _) => self
                .runtimes
                .system()
                .begin(runtime, &entry, options, context),
        }
    }

    /// The call context of a frame running `module`, a contract of `kind`
    /// at `address`, its stack starting `stack_base` units deep. A WASI
    /// command gets a fresh WASI state (`docs/wasi.md`: its address as
    /// `argv[0]`, no environment or files, the block's time, random bytes
    /// seeded by the transaction's id in its block, the frame's address and
    /// its index in the transaction). A contract importing `vm_*` gets
    /// children (`docs/host-abi.md`), counted in the transaction's memory
    /// and instance budgets. A traced Wasm frame given `gas` records where
    /// its gas goes ([`ward_vm::Profiler`]).
    pub(crate) fn context(
        &self,
        (kind, code): (CodeKind, &Code),
        frames: &mut Frames<S>,
        mut frame: Frame<S>,
        (stack_base, gas): (u32, Gas),
    ) -> Result<CallContext, ExecError> {
        let address = frame.address;
        if let CodeKind::Runtime(name) = &kind {
            frame.runtime_space = Some(runtime::shared_space(name));
        }
        let mut context = CallContext::default()
            .with_chain(Box::new(frame))
            .with_memory_budget(&frames.memory)
            .with_stack_base(stack_base);
        if let (Some(trace), Code::Wasm(_, hash)) = (&frames.trace, code) {
            let known = lock(trace).has_module(hash);
            let bytes = match known {
                true => None,
                false => lock(&frames.journal).code(hash)?,
            };
            let log = ward_vm::Profiler::log(gas.get());
            lock(trace).profile(log.clone(), *hash, bytes);
            context = context.with_profile(log);
        }
        if runtime::is_runtime(kind) {
            // A trusted runtime charges for what it does itself.
            context = context.with_host_costs_waived();
        }
        if code.runs_children() {
            // An engine for children that cannot be set up is this node's
            // fault, never a receipt.
            let cache = self.cache.children().map_err(|failure| {
                ExecError::Fault(NodeFault::new(
                    FaultKind::Invariant,
                    format!("the engine for children cannot be set up: {failure}"),
                ))
            })?;
            let mut children =
                ward_vm::Children::with_cache(cache, ward_vm::ChildLimits::default())
                    .with_memory_budget(&frames.memory)
                    .with_instance_budget(&frames.instances);
            if let Some(trace) = &frames.trace {
                children = children.with_log(lock(trace).children_log());
            }
            context = context.with_children(children);
        }
        if kind.is_wasi() {
            let mut seed = blake3::Hasher::new_derive_key("ward wasi random 2026-11");
            seed.update(&frames.tx.0);
            seed.update(&address.0);
            seed.update(&frames.entered.to_le_bytes());
            let config = ward_wasi::WasiConfig::contract(
                address.to_string(),
                frames.time,
                *seed.finalize().as_bytes(),
            );
            // No preopens: a configuration that cannot fail.
            if let Ok(wasi) = ward_wasi::Wasi::new(&config) {
                context = context.with_wasi(wasi);
            }
            if kind == CodeKind::WasiReactor {
                // A method's output is what it writes through `ward`.
                context = context.with_wasi_stdout_logged();
            }
        }
        frames.entered += 1;
        Ok(context)
    }

    /// Runs `entry` of `module` as the root frame of a transaction, and
    /// every `ward.call` it makes as a frame of its own, in a flat loop: a
    /// suspended caller waits in [`Frames::waiting`] (on the heap) while its
    /// callee runs, so the native stack does not grow with the call depth.
    pub(crate) fn run(
        &self,
        code: Code,
        kind: CodeKind,
        entry: &str,
        (input, id): (&[u8], Hash32),
        gas_limit: Gas,
        root: Frame<S>,
    ) -> Result<Execution, ExecError> {
        let input = code.input(input.to_vec());
        self.run_with(code, kind, entry, (input, id), gas_limit, root)
    }

    /// [`Executor::run`] with the root frame's `input` as it is.
    pub(crate) fn run_with(
        &self,
        code: Code,
        kind: CodeKind,
        entry: &str,
        (input, id): (Vec<u8>, Hash32),
        gas_limit: Gas,
        root: Frame<S>,
    ) -> Result<Execution, ExecError> {
        let mut frames = Frames {
            journal: root.journal.clone(),
            origin: root.origin,
            height: root.height,
            time: root.time,
            chain_id: root.chain_id,
            current: Current {
                address: root.address,
                caller: root.caller,
                kind,
                read_only: root.read_only,
                value: root.value,
            },
            waiting: Vec::new(),
            memory: MemoryBudget::new(self.limits.tx_memory_bytes),
            instances: InstanceBudget::new(self.limits.max_instances.max(1)),
            slot: None,
            deadline: self
                .timeout
                .and_then(|t| ward_vm::clock::now().checked_add(t)),
            cancel: self.cancel_flag(),
            tx: id,
            entered: 0,
            trace: root.trace.clone(),
        };
        frames.trace_open(|| root.opening(entry, kind, &input, gas_limit));
        let options = frames.run_options(input, gas_limit);
        frames.slot = frames.instances.take();
        let context = self.context((kind, &code), &mut frames, root, (0, gas_limit))?;
        let mut progress = self.start((&code, kind), entry, options, context);
        loop {
            progress = match progress {
                Progress::Finished(execution) if let Some(fault) = interrupted(&execution) => {
                    return Err(ExecError::Fault(fault));
                }
                Progress::Finished(execution) => {
                    frames.trace_close(&execution);
                    match frames.waiting.pop() {
                        None => return Ok(execution),
                        Some(parent) => frames.return_to(parent, execution),
                    }
                }
                Progress::Suspended(
                    running,
                    Request::Call {
                        address,
                        input,
                        gas,
                        read_only,
                        mode,
                        stack_base,
                        value,
                    },
                ) => {
                    let call = CallRequest {
                        to: Address(address),
                        input,
                        gas: Gas::new(gas),
                        read_only,
                        mode,
                        stack_base,
                        value,
                    };
                    self.enter(&mut frames, running, call)?
                }
                Progress::Suspended(
                    running,
                    Request::Create {
                        code,
                        input,
                        salt,
                        gas,
                        stack_base,
                        value,
                    },
                ) => {
                    let request = create::CreateRequest {
                        code,
                        input,
                        salt,
                        gas: Gas::new(gas),
                        stack_base,
                        value,
                    };
                    self.create(&mut frames, running, request)?
                }
                Progress::Aborted(fault) => return Err(fault.into()),
                Progress::Suspended(_, request) => {
                    // Contracts have no embedder host imports, so the
                    // policy refused any module that could ask this.
                    return Err(ExecError::Fault(NodeFault::new(
                        FaultKind::Invariant,
                        format!(
                            "a contract made a request the executor has no service for: {request:?}"
                        ),
                    )));
                }
            };
        }
    }

    /// A `ward.call` from the running frame: the callee starts as a frame
    /// of its own while the caller waits, or the caller resumes at once
    /// with `failed` (the stack budget spent, no instance left, no
    /// contract at the address, or a delegate call to code of another
    /// kind). A delegate frame runs the callee's code as the caller: its
    /// address, caller and read-only flag.
    pub(crate) fn enter(
        &self,
        frames: &mut Frames<S>,
        running: ward_vm::Running,
        call: CallRequest,
    ) -> Result<Progress, ExecError> {
        // A callee starting at the stack budget's end could not enter even
        // its first frame (which costs at least one unit).
        let max_stack = self.cache.config().policy.limits.max_stack_units;
        let slot = (call.stack_base < max_stack)
            .then(|| frames.instances.take())
            .flatten();
        let callee = match slot {
            None => None,
            Some(_) => match self.code_of(&frames.journal, &call.to) {
                Ok(contract) => Some(contract),
                Err(ExecError::InvalidTx(_)) => None,
                Err(err) => return Err(err),
            },
        };
        let caller = frames.current;
        let read_only = caller.read_only || call.read_only;
        // Value moves in a plain call, which may not be read-only, and in
        // a code call, from the caller to itself (nothing changes); a
        // delegate call runs as the caller, who keeps its own.
        let value_ok = call.value == 0
            || match call.mode {
                CallMode::Plain => !read_only,
                CallMode::Delegate => false,
                CallMode::Code => true,
            };
        let callee = callee
            .filter(|(_, kind)| !call.mode.in_caller() || *kind == caller.kind)
            .filter(|_| value_ok);
        let failed = |running: ward_vm::Running| {
            running.resume(Reply::Call {
                status: CALL_FAILED,
                return_data: Vec::new(),
                gas_used: 0,
            })
        };
        let opening = |kind| crate::trace::Opening::call(&call, &caller, read_only, kind);
        let Some((code, kind)) = callee else {
            frames.trace_refused(|| opening(caller.kind), REFUSED);
            return Ok(failed(running));
        };
        let (address, from) = call.runs_as(&caller);
        let checkpoint = lock(&frames.journal).checkpoint();
        // Inside the callee's checkpoint: its revert gives the value back.
        if !lock(&frames.journal).transfer(caller.address, address, call.value)? {
            frames.trace_refused(|| opening(kind), "the caller cannot pay the value");
            return Ok(failed(running));
        }
        frames.trace_open(|| opening(kind));
        frames.waiting.push(Waiting {
            running,
            checkpoint,
            current: caller,
            created: None,
            slot: std::mem::replace(&mut frames.slot, slot),
        });
        // A delegate frame runs as its caller, with the value the caller
        // received (nothing moved: `value_ok` refused a nonzero one).
        let value = match call.mode {
            CallMode::Delegate => caller.value,
            CallMode::Plain | CallMode::Code => call.value,
        };
        let frame = Frame {
            value,
            journal: frames.journal.clone(),
            address,
            caller: from,
            origin: frames.origin,
            height: frames.height,
            time: frames.time,
            chain_id: frames.chain_id,
            read_only,
            trace: frames.trace.clone(),
            runtime_space: None,
        };
        frames.current = Current {
            address,
            caller: from,
            kind,
            read_only,
            value,
        };
        let context = self.context((kind, &code), frames, frame, (call.stack_base, call.gas))?;
        let options = frames.run_options(code.input(call.input), call.gas);
        Ok(self.start((&code, kind), kind.call_entry(), options, context))
    }
}

/// What a call of a WASI reactor runs (`docs/wasi.md`): its input is the
/// method's name, a NUL byte, then the method's own input (what it reads
/// with `ward.input_read`, or from stdin); the method is as
/// [`Entry::reactor_method`] says.
pub(crate) fn reactor_entry(
    module: &ward_vm::Module,
    input: &[u8],
) -> Result<(Entry, Vec<u8>), Failure> {
    let refused = |message: &str| Failure::new(ErrorKind::EntryNotFound, message);
    let Some(split) = input.iter().position(|&b| b == 0) else {
        return Err(refused(
            "a WASI reactor's call names its method: the method's name, a NUL byte, then its input",
        ));
    };
    let name = std::str::from_utf8(&input[..split])
        .map_err(|_| refused("the method's name is not UTF-8"))?;
    let entry = Entry::reactor_method(module, name)?;
    Ok((entry, input[split + 1..].to_vec()))
}
