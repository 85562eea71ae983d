//! Call traces (`docs/debugging.md`): a transaction run again with a
//! recorder that notes every frame it enters (contract, kind, input, gas
//! given), what each frame read, wrote and emitted, and how it ended.
//! Tracing is off unless a [`Tracer`] is handed in, and then changes
//! nothing a run does: the same status, output, gas and state.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::{CallRequest, Current, Frames, lock};
use ward_primitives::{Address, CodeKind, Gas, Hash32};
use ward_state::{Receipt, StateCommit};
use ward_vm::{ErrorKind, Execution, Status};

/// How a frame was entered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// A transaction's call of a contract.
    Call,
    /// A transaction's deploy, running the new contract's `deploy`.
    Deploy,
    /// A `ward.call` from another frame.
    Inner,
    /// A read-only `ward.call` (or a query).
    ReadOnly,
    /// A delegate `ward.call`: the callee's code as the caller.
    Delegate,
    /// A code `ward.call`: the callee's code as a call from the caller to
    /// itself (the EVM's `CALLCODE`).
    Code,
    /// A `ward.create`, running the new contract's `deploy`.
    Create,
}

impl CallKind {
    /// Its name in traces.
    pub fn as_str(self) -> &'static str {
        match self {
            CallKind::Call => "call",
            CallKind::Deploy => "deploy",
            CallKind::Inner => "inner_call",
            CallKind::ReadOnly => "read_only_call",
            CallKind::Delegate => "delegate_call",
            CallKind::Code => "code_call",
            CallKind::Create => "create",
        }
    }
}

/// What a frame did to the chain, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// A storage read and what it found.
    Read {
        /// The key.
        key: Vec<u8>,
        /// The value (`None`: absent).
        value: Option<Vec<u8>>,
    },
    /// A storage write: the value before and after (`None`: absent).
    Write {
        /// The key.
        key: Vec<u8>,
        /// Before.
        old: Option<Vec<u8>>,
        /// After.
        new: Option<Vec<u8>>,
    },
    /// An event emitted (kept only if the frame and its callers succeed).
    Event {
        /// Its topic.
        topic: Vec<u8>,
        /// Its data.
        data: Vec<u8>,
    },
}

/// One frame of a call trace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceFrame {
    /// How it was entered.
    pub call: CallKind,
    /// The contract whose state it ran on (a delegate frame's caller's).
    pub address: Address,
    /// The contract whose code ran (differs from `address` in a delegate
    /// frame; a created contract's address in a create frame).
    pub code_address: Address,
    /// Who called it.
    pub caller: Address,
    /// What its code runs as.
    pub kind: CodeKind,
    /// Its input, as the contract received it.
    pub input: Vec<u8>,
    /// The native asset it received.
    pub value: u128,
    /// The gas it was given.
    pub gas_given: u64,
    /// The gas it used, its callees' included (a create's, with its
    /// deploy charge): what its caller was charged.
    pub gas_used: u64,
    /// A system runtime's own gas (an EVM frame's EVM gas).
    pub runtime_gas: Option<u64>,
    /// How it ended.
    pub status: Status,
    /// Its error's kind and message, when it failed.
    pub error: Option<(ErrorKind, String)>,
    /// Its output (return data, or revert data).
    pub output: Vec<u8>,
    /// Its storage reads and writes and its events, in order.
    pub accesses: Vec<Access>,
    /// The frames it called, in order.
    pub calls: Vec<TraceFrame>,
    /// The steps of the children it ran (`vm_*`), in order: each run or
    /// resume, and the return, syscall or failure it ended in. Their gas
    /// is in this frame's own.
    pub children: Vec<ward_vm::ChildEvent>,
    /// The hash of the Wasm code it ran ([`Trace::modules`] has its bytes;
    /// none for a system runtime's frame or a call refused before it ran).
    pub code_hash: Option<Hash32>,
    /// Where its gas went, function by function, and, when it ended
    /// without returning, its backtrace ([`ward_vm::Profiler::open_path`]):
    /// for a Wasm frame. Its total is the frame's gas less a create's
    /// deploy charge; a host function that suspended for a call
    /// ([`ward_vm::ProfileNode::callees`]) carries its callee's gas.
    pub profile: Option<ward_vm::Profiler>,
    /// Which of its caller's suspended host calls made it (counting from 0,
    /// [`ward_vm::ProfileNode::callees`]), when the caller is profiled.
    pub suspension: Option<u32>,
}

impl TraceFrame {
    /// The gas this frame used itself: its use less its callees'.
    pub fn self_gas(&self) -> u64 {
        let callees: u64 = self.calls.iter().map(|c| c.gas_used).sum();
        self.gas_used.saturating_sub(callees)
    }

    /// This frame and every frame below it, depth first.
    pub fn walk(&self) -> Vec<&TraceFrame> {
        let mut out = vec![self];
        for call in &self.calls {
            out.extend(call.walk());
        }
        out
    }
}

/// A transaction's trace: its receipt, the gas charged outside any frame,
/// its top frame (none when nothing ran: a plain transfer, a deploy
/// refused before its code ran), and the Wasm code its frames ran.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Trace {
    /// The receipt, as the block recorded it.
    pub receipt: Receipt,
    /// Gas charged before any frame ran: the intrinsic cost, and a
    /// deploy's charge for its code.
    pub charged: Vec<(&'static str, u64)>,
    /// The top frame.
    pub root: Option<TraceFrame>,
    /// The code of every Wasm frame, by hash ([`TraceFrame::code_hash`]):
    /// where the names and source lines of its functions are
    /// (`docs/debugging.md`).
    pub modules: BTreeMap<Hash32, Arc<[u8]>>,
}

impl Trace {
    /// Everything the trace accounts for, in Ward gas: its charges and
    /// every frame's own gas. Equal to the receipt's gas for a
    /// transaction in Ward gas; one in EVM gas used its intrinsic gas and
    /// the rest of this over [`crate::EVM_GAS_RATE`], rounded up
    /// ([`crate::Intrinsic::gas_used`]).
    pub fn gas_accounted(&self) -> u64 {
        let charged: u64 = self.charged.iter().map(|(_, gas)| gas).sum();
        let frames: u64 = self
            .root
            .iter()
            .flat_map(TraceFrame::walk)
            .map(TraceFrame::self_gas)
            .sum();
        charged + frames
    }
}

/// The recorder a traced run carries: the frames entered and not yet
/// finished, innermost last, and what was charged outside them.
#[derive(Debug, Default)]
pub(crate) struct Recorder {
    open: Vec<TraceFrame>,
    /// Each open frame's children's log, once it has children.
    logs: Vec<Option<ward_vm::ChildLog>>,
    /// Each open frame's profile and the gas it started with, once it runs
    /// Wasm.
    profiles: Vec<Option<(ward_vm::ProfileLog, u64)>>,
    root: Option<TraceFrame>,
    charged: Vec<(&'static str, u64)>,
    modules: BTreeMap<Hash32, Arc<[u8]>>,
}

/// A traced run's recorder, shared by its frames.
pub(crate) type Tracer = Arc<Mutex<Recorder>>;

/// What a new frame is, before it runs.
pub(crate) struct Opening {
    pub(crate) call: CallKind,
    pub(crate) address: Address,
    pub(crate) code_address: Address,
    pub(crate) caller: Address,
    pub(crate) kind: CodeKind,
    pub(crate) input: Vec<u8>,
    pub(crate) value: u128,
    pub(crate) gas_given: u64,
}

impl Opening {
    /// A `ward.call`'s callee, of `kind`, called by `caller`.
    pub(crate) fn call(
        call: &CallRequest,
        caller: &Current,
        read_only: bool,
        kind: CodeKind,
    ) -> Opening {
        let call_kind = match call.mode {
            ward_vm::CallMode::Delegate => CallKind::Delegate,
            ward_vm::CallMode::Code => CallKind::Code,
            ward_vm::CallMode::Plain if read_only => CallKind::ReadOnly,
            ward_vm::CallMode::Plain => CallKind::Inner,
        };
        let (address, from) = call.runs_as(caller);
        Opening {
            call: call_kind,
            address,
            code_address: call.to,
            caller: from,
            kind,
            input: call.input.clone(),
            value: call.value,
            gas_given: call.gas.get(),
        }
    }
}

impl Opening {
    /// A `ward.create` by `creator` of the contract at `address`, running
    /// its `deploy` with `input`.
    pub(crate) fn create(
        address: Address,
        creator: &Current,
        input: &[u8],
        (value, gas): (u128, Gas),
    ) -> Opening {
        Opening {
            call: CallKind::Create,
            address,
            code_address: address,
            caller: creator.address,
            kind: creator.kind,
            input: input.to_vec(),
            value,
            gas_given: gas.get(),
        }
    }
}

impl<S: StateCommit + Send + Sync + 'static> Frames<S> {
    /// Notes, when traced, that a frame starts.
    pub(crate) fn trace_open(&self, opening: impl FnOnce() -> Opening) {
        if let Some(trace) = &self.trace {
            lock(trace).open(opening());
        }
    }

    /// Notes, when traced, a call that failed before its callee ran.
    pub(crate) fn trace_refused(&self, opening: impl FnOnce() -> Opening, why: &str) {
        if let Some(trace) = &self.trace {
            lock(trace).refused(opening(), why);
        }
    }

    /// Notes, when traced, that the running frame ended with `execution`:
    /// its caller is charged its gas, and a create's deploy charge too
    /// when it succeeded.
    pub(crate) fn trace_close(&self, execution: &Execution) {
        let Some(trace) = &self.trace else {
            return;
        };
        let charge = self
            .waiting
            .last()
            .and_then(|w| w.created.as_ref())
            .filter(|_| execution.outcome.status == Status::Ok)
            .map_or(Gas::ZERO, |created| created.charge);
        let used = execution.outcome.gas_used.saturating_add(charge);
        lock(trace).close(execution, used);
    }
}

impl Recorder {
    /// A frame starts.
    pub(crate) fn open(&mut self, frame: Opening) {
        self.open.push(TraceFrame {
            call: frame.call,
            address: frame.address,
            code_address: frame.code_address,
            caller: frame.caller,
            kind: frame.kind,
            input: frame.input,
            value: frame.value,
            gas_given: frame.gas_given,
            gas_used: 0,
            runtime_gas: None,
            status: Status::Ok,
            error: None,
            output: Vec::new(),
            accesses: Vec::new(),
            calls: Vec::new(),
            children: Vec::new(),
            code_hash: None,
            profile: None,
            suspension: None,
        });
        self.logs.push(None);
        self.profiles.push(None);
    }

    /// Whether the trace holds the code with this hash.
    pub(crate) fn has_module(&self, hash: &Hash32) -> bool {
        self.modules.contains_key(hash)
    }

    /// The running frame runs the Wasm code with `hash` (whose bytes are
    /// `code`, unless the trace holds them already) and records where its
    /// gas goes in `log`.
    pub(crate) fn profile(
        &mut self,
        log: ward_vm::ProfileLog,
        hash: Hash32,
        code: Option<Vec<u8>>,
    ) {
        if let Some(code) = code {
            self.modules.insert(hash, code.into());
        }
        let start = ward_vm::lock_profile(&log).gas_left();
        if let (Some(frame), Some(slot)) = (self.open.last_mut(), self.profiles.last_mut()) {
            frame.code_hash = Some(hash);
            *slot = Some((log, start));
        }
    }

    /// The running frame's children record their steps into the log this
    /// returns.
    pub(crate) fn children_log(&mut self) -> ward_vm::ChildLog {
        let log = ward_vm::ChildLog::default();
        if let Some(slot) = self.logs.last_mut() {
            *slot = Some(log.clone());
        }
        log
    }

    /// The running frame ended with `execution`; its caller was charged
    /// `gas_used`.
    pub(crate) fn close(&mut self, execution: &Execution, gas_used: Gas) {
        let Some(mut frame) = self.open.pop() else {
            return;
        };
        if let Some(log) = self.logs.pop().flatten() {
            frame.children = std::mem::take(&mut *log.lock().unwrap_or_else(|e| e.into_inner()));
        }
        let outcome = &execution.outcome;
        if let Some((log, start)) = self.profiles.pop().flatten() {
            let mut profile = ward_vm::lock_profile(&log).clone();
            profile.finish(start.saturating_sub(outcome.gas_used.get()));
            frame.profile = Some(profile);
        }
        frame.gas_used = gas_used.get();
        frame.runtime_gas = execution.runtime_gas;
        frame.status = outcome.status;
        // What the trace shows is the same on every backend: a trap the
        // engine found is worded by its kind, as in a receipt.
        frame.error = outcome
            .error
            .as_ref()
            .map(|f| (f.kind, crate::receipt::consensus_message(f)));
        frame.output = outcome.output.clone();
        self.attach(frame);
    }

    /// A call that failed before its callee ran: a frame that used
    /// nothing.
    pub(crate) fn refused(&mut self, frame: Opening, why: &str) {
        self.open(frame);
        self.logs.pop();
        self.profiles.pop();
        if let Some(mut frame) = self.open.pop() {
            frame.status = Status::Trapped;
            frame.error = Some((ErrorKind::HostError, why.to_owned()));
            self.attach(frame);
        }
    }

    fn attach(&mut self, mut frame: TraceFrame) {
        // The caller suspended for this call just before it was entered.
        if let Some(Some((log, _))) = self.profiles.last() {
            frame.suspension = ward_vm::lock_profile(log).suspended().checked_sub(1);
        }
        match self.open.last_mut() {
            Some(parent) => parent.calls.push(frame),
            None => self.root = Some(frame),
        }
    }

    /// The running frame read, wrote or emitted.
    pub(crate) fn access(&mut self, access: Access) {
        if let Some(frame) = self.open.last_mut() {
            frame.accesses.push(access);
        }
    }

    /// Gas charged outside any frame.
    pub(crate) fn charge(&mut self, what: &'static str, gas: u64) {
        if gas > 0 {
            self.charged.push((what, gas));
        }
    }

    /// The finished trace, with its receipt.
    pub(crate) fn finish(&mut self, receipt: Receipt) -> Trace {
        Trace {
            receipt,
            charged: std::mem::take(&mut self.charged),
            root: self.root.take(),
            modules: std::mem::take(&mut self.modules),
        }
    }
}
