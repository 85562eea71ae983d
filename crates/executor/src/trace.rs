//! Call traces (`docs/debugging.md`): a transaction run again with a
//! recorder that notes every frame it enters (contract, kind, input, gas
//! given), what each frame read, wrote and emitted, and how it ended.
//! Tracing is off unless a [`Tracer`] is handed in, and then changes
//! nothing a run does: the same status, output, gas and state.

use std::collections::BTreeMap;

use crate::block::{Block, BlockTimings, Simulation};
use crate::error::ExecError;
use crate::frame::Frame;
use crate::receipt::receipt_of;
use crate::tx::Tx;
use crate::view::View;
use crate::{CallRequest, Current, Executor, Frames, SharedJournal, Speculation, block, lock};
use std::sync::{Arc, Mutex};
use ward_chain::tx::{Payload, VerifiedTx};
use ward_primitives::{Address, CodeKind, Gas, Hash32};
use ward_state::{Event, Journal, Receipt, StateCommit};
use ward_vm::{Chain, CodeHash, ErrorKind, Execution, FaultKind, ModuleCache, NodeFault, Status};

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
    /// Everything the trace accounts for: its charges and every frame's
    /// own gas. Equal to the receipt's gas.
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
    /// A transaction's top frame (or a query's), running `entry`.
    pub(crate) fn root<S: StateCommit + Send + Sync + 'static>(
        entry: &str,
        root: &Frame<S>,
        kind: CodeKind,
        input: &[u8],
        gas: Gas,
    ) -> Opening {
        let call = match (entry, root.read_only) {
            ("deploy", _) => CallKind::Deploy,
            (_, true) => CallKind::ReadOnly,
            _ => CallKind::Call,
        };
        Opening {
            call,
            address: root.address,
            code_address: root.address,
            caller: root.caller,
            kind,
            input: input.to_vec(),
            value: root.value,
            gas_given: gas.get(),
        }
    }

    /// A `ward.call`'s callee, of `kind`, called by `caller`.
    pub(crate) fn call(
        call: &CallRequest,
        caller: &Current,
        read_only: bool,
        kind: CodeKind,
    ) -> Opening {
        let call_kind = if call.delegate {
            CallKind::Delegate
        } else if read_only {
            CallKind::ReadOnly
        } else {
            CallKind::Inner
        };
        let (address, from) = if call.delegate {
            (caller.address, caller.caller)
        } else {
            (call.to, caller.address)
        };
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
            .map(|f| (f.kind, crate::frame::consensus_message(f)));
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

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// This executor (its engine, runtimes, limits and fees) on `store`,
    /// its modules prepared with the profiling hooks: a traced run's.
    fn traced_on<T: StateCommit + Send + Sync + 'static>(
        &self,
        store: Arc<T>,
    ) -> Result<Executor<T>, ExecError> {
        // A profiled engine that cannot be set up is this node's fault.
        let cache = self.cache.profiled().map_err(|failure| {
            ExecError::Fault(NodeFault::new(
                FaultKind::Invariant,
                format!("the engine for traced runs cannot be set up: {failure}"),
            ))
        })?;
        Ok(self.sibling_on(store, cache))
    }

    /// This executor (its runtimes, limits and fees) on `store` with the
    /// engine of `cache`, on one thread.
    fn sibling_on<T: StateCommit + Send + Sync + 'static>(
        &self,
        store: Arc<T>,
        cache: Arc<ModuleCache>,
    ) -> Executor<T> {
        Executor {
            store,
            backend: cache.backend().clone(),
            cache,
            schedule: self.schedule,
            limits: self.limits,
            timeout: self.timeout,
            cancel: Mutex::new(self.cancel_flag()),
            timings: Mutex::new(BlockTimings::default()),
            threads: 1,
            speculation: Mutex::new(Speculation::default()),
            runtimes: self.runtimes.clone(),
            fees: self.fees,
            tree_cache: ward_chain::tree::TreeCache::new(),
            time_per_second: self.time_per_second,
            eth_chain_id: self.eth_chain_id,
        }
    }

    /// Committed block `height`'s record and `txs`, its transactions, as
    /// the block's items: what a replay on its parent's state starts from.
    /// The genesis (no parent) and a missing block are errors.
    fn stored_block_items<'a>(
        &self,
        height: u64,
        txs: &'a [VerifiedTx],
    ) -> Result<(ward_state::BlockRecord, Vec<block::Item<'a>>), ExecError> {
        let Some(block) = self.store.block(height)? else {
            return Err(ExecError::InvalidTx(format!("no block {height}")));
        };
        if height == 0 {
            return Err(ExecError::InvalidTx(
                "the genesis block has no parent state to replay on".into(),
            ));
        }
        Ok((block, block::Item::all(txs, height)))
    }

    /// Committed block `height` (whose transactions are `txs`, in order)
    /// run again on its parent's state, as its producer ran it, and
    /// rooted: the block as replayed, header and receipts, which equals
    /// the stored one unless the store or the node that built it went
    /// wrong. A dev node's preset state (`setBalance`, `setStorage`,
    /// `setCode`) is not among the transactions, so a block that carried
    /// one replays otherwise.
    ///
    /// # Errors
    ///
    /// No such block, the genesis (no parent), a parent state no longer
    /// kept, or a fault.
    pub fn replay_block(&self, height: u64, txs: &[VerifiedTx]) -> Result<Block, ExecError> {
        let (block, items) = self.stored_block_items(height, txs)?;
        let parent = ward_state::Snapshot::new(self.store.clone(), height - 1)?;
        let replaying = self.sibling_on(Arc::new(parent), self.cache.clone());
        let executed = replaying.execute_items(
            &items,
            (height, block.header.time),
            &crate::Patch::default(),
            None,
        )?;
        Ok(replaying.seal(executed)?.block)
    }

    /// Replays the `index`th of `txs`, block `height`'s transactions as
    /// stored, on the state after block `height − 1` (read from the state
    /// tree through [`ward_state::Snapshot`]; the transactions
    /// before it first, untraced), and gives its trace. Nothing is
    /// committed; the receipt is the one the block recorded. The store
    /// must still hold that state: a pruning node's caller checks
    /// [`ward_state::StatePrune::pruned_below`].
    ///
    /// # Errors
    ///
    /// No block `height` or no transaction `index` in it
    /// ([`ExecError::InvalidTx`]), or the store's failure.
    pub fn trace_block_tx(
        &self,
        height: u64,
        txs: &[VerifiedTx],
        index: usize,
    ) -> Result<Trace, ExecError> {
        if index >= txs.len() {
            return Err(ExecError::InvalidTx(format!(
                "block {height} has no transaction {index}"
            )));
        }
        self.replay_traced(height, &txs[..=index], index)?
            .pop()
            .ok_or_else(|| {
                ExecError::Fault(NodeFault::new(
                    FaultKind::Invariant,
                    "a replay traced nothing",
                ))
            })
    }

    /// Every transaction of committed block `height` (its `txs`, in
    /// order) replayed on its parent's state, each one traced: one run
    /// of the block, not one per transaction.
    ///
    /// # Errors
    ///
    /// As [`Executor::trace_block_tx`].
    pub fn trace_block(&self, height: u64, txs: &[VerifiedTx]) -> Result<Vec<Trace>, ExecError> {
        self.replay_traced(height, txs, 0)
    }

    /// `txs`, the first of committed block `height`'s transactions,
    /// replayed on its parent's state, those from `traced_from` on
    /// traced: their traces.
    fn replay_traced(
        &self,
        height: u64,
        txs: &[VerifiedTx],
        traced_from: usize,
    ) -> Result<Vec<Trace>, ExecError> {
        let (block, items) = self.stored_block_items(height, txs)?;
        if items.is_empty() {
            return Ok(Vec::new());
        }
        let parent = ward_state::Snapshot::new(self.store.clone(), height - 1)?;
        let (traces, _) = self.traced_on(Arc::new(parent))?.trace_items(
            &items,
            traced_from,
            height,
            block.header.time,
        )?;
        Ok(traces)
    }

    /// What `tx` would do as the only transaction of the next block at
    /// `time`, with its trace; nothing is committed.
    ///
    /// # Errors
    ///
    /// As [`Executor::simulate`].
    pub fn simulate_traced(
        &self,
        tx: &VerifiedTx,
        time: u64,
    ) -> Result<(Simulation, Trace), ExecError> {
        let height = self.store.height()? + 1;
        let (mut traces, changes) = self.traced_on(self.store.clone())?.trace_items(
            &[block::Item::at(tx, height, 0)],
            0,
            height,
            time,
        )?;
        let trace = traces.pop().ok_or_else(|| {
            ExecError::Fault(NodeFault::new(
                FaultKind::Invariant,
                "a simulation traced nothing",
            ))
        })?;
        let simulation = Simulation {
            receipt: trace.receipt.clone(),
            changes,
        };
        Ok((simulation, trace))
    }

    /// Runs `items` in order as block `height` over one journal, those
    /// from `traced_from` on traced: their traces, and the changes of
    /// them all.
    fn trace_items(
        &self,
        items: &[block::Item<'_>],
        traced_from: usize,
        height: u64,
        time: u64,
    ) -> Result<(Vec<Trace>, ward_state::ChangeSet), ExecError> {
        let intrinsic = self.admit_block(items)?;
        let journal: SharedJournal<S> =
            Arc::new(Mutex::new(Journal::new(View::plain(self.store.clone()))));
        let mut traces = Vec::new();
        for (index, item) in items.iter().enumerate() {
            let tracer: Option<Tracer> = (index >= traced_from).then(Arc::default);
            let receipt = self.run_item(
                &journal,
                item,
                intrinsic[index],
                index,
                (height, time),
                tracer.as_ref(),
            )?;
            if let Some(tracer) = tracer {
                traces.push(lock(&tracer).finish(receipt));
            }
        }
        let journal = Arc::try_unwrap(journal).map_err(|_| {
            ExecError::Fault(NodeFault::new(
                FaultKind::Invariant,
                "a traced run's journal is still shared after it",
            ))
        })?;
        let changes = journal
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_changes();
        Ok((traces, changes))
    }
}

/// The recorder of a single call outside any block (`ward run --trace`),
/// made with [`scratch_chain_traced`].
pub struct ScratchTrace(Tracer);

/// [`crate::scratch_chain`] whose frame is recorded: the call of `main`
/// (or an export) with `input` and `gas` at the zero address, as one
/// frame of kind `kind`.
pub fn scratch_chain_traced(
    kind: CodeKind,
    input: &[u8],
    gas: u64,
) -> (Box<dyn Chain>, crate::ScratchJournal, ScratchTrace) {
    let (journal, mut frame) = crate::frame::scratch_frame();
    let tracer: Tracer = Arc::default();
    lock(&tracer).open(Opening {
        call: CallKind::Call,
        address: frame.address,
        code_address: frame.address,
        caller: frame.caller,
        kind,
        input: input.to_vec(),
        value: 0,
        gas_given: gas,
    });
    frame.trace = Some(tracer.clone());
    (Box::new(frame), journal, ScratchTrace(tracer))
}

impl ScratchTrace {
    /// Records where the call's gas goes, given `gas`, for `code`, the
    /// module that runs (prepared with the profiling hooks, `ward_vm`'s
    /// `Policy::profile`): the call's context takes the returned log
    /// (`CallContext::with_profile`).
    pub fn profile(&self, code: &[u8], gas: u64) -> ward_vm::ProfileLog {
        let log = ward_vm::Profiler::log(gas);
        let hash = Hash32(CodeHash::of(code).0);
        lock(&self.0).profile(log.clone(), hash, Some(code.to_vec()));
        log
    }

    /// The trace of the call that ended in `execution`, which emitted
    /// `events` (kept only if it succeeded).
    pub fn finish(self, execution: &Execution, events: Vec<Event>) -> Trace {
        let mut recorder = lock(&self.0);
        recorder.close(execution, execution.outcome.gas_used);
        let tx = Tx {
            sender: Address::default(),
            gas_limit: 0,
            value: 0,
            payload: Payload::Call {
                to: Address::default(),
                input: Vec::new(),
            },
        };
        recorder.finish(receipt_of(&tx.vouched(), 0, execution, events, None))
    }
}
