//! A running frame's view of the chain ([`ward_vm::Chain`] over the
//! transaction's journal), and the scratch chain of a call outside any
//! block (`ward run`).

use crate::error::state_fault;
use crate::receipt::receipt_of;
use crate::trace::{CallKind, Opening, Trace, Tracer};
use crate::tx::Tx;
use crate::view::View;
use crate::{SharedJournal, lock};
use std::sync::{Arc, Mutex};
use ward_primitives::{Address, CodeKind, Gas, Hash32};
use ward_state::{Event, Journal, StateCommit, StateError};
use ward_vm::{Chain, ChainError, CodeHash, Execution};

/// The journal of a [`scratch_chain`].
pub type ScratchJournal = Arc<Mutex<Journal<View<ward_state::MemoryStore>>>>;

/// A chain for a single call outside any block (`ward run`): an empty
/// in-memory state, the zero address as caller and contract, height 0.
/// The returned journal shows what the call wrote and emitted.
pub fn scratch_chain() -> (Box<dyn Chain>, ScratchJournal) {
    let (journal, frame) = scratch_frame();
    (Box::new(frame), journal)
}

/// [`scratch_chain`]'s journal and frame.
pub(crate) fn scratch_frame() -> (ScratchJournal, Frame<ward_state::MemoryStore>) {
    let journal = Arc::new(Mutex::new(Journal::new(View::plain(Arc::new(
        ward_state::MemoryStore::default(),
    )))));
    let frame = Frame {
        value: 0,
        journal: journal.clone(),
        address: Address::default(),
        caller: Address::default(),
        origin: Address::default(),
        height: 0,
        time: 0,
        chain_id: 0,
        read_only: false,
        trace: None,
        runtime_space: None,
    };
    (journal, frame)
}

/// One call frame's view of the chain.
pub(crate) struct Frame<S: StateCommit + Send + Sync + 'static> {
    pub(crate) journal: SharedJournal<S>,
    pub(crate) address: Address,
    pub(crate) caller: Address,
    /// The account that sent the transaction (`ward.origin`): a query's
    /// caller.
    pub(crate) origin: Address,
    pub(crate) height: u64,
    pub(crate) time: u64,
    /// The chain's Ethereum chain id, 0 for none (`ward.chain_id`).
    pub(crate) chain_id: u64,
    pub(crate) read_only: bool,
    /// The native asset this frame received (`ward.call_value`).
    pub(crate) value: u128,
    /// The recorder, when the run is traced.
    pub(crate) trace: Option<Tracer>,
    /// For a system runtime's frame, the transient space its frames share
    /// in the transaction ([`crate::runtime::shared_space`]); `None` for a
    /// contract's frame.
    pub(crate) runtime_space: Option<Address>,
}

impl<S: StateCommit + Send + Sync + 'static> Frame<S> {
    /// Where transient `key` lives, and whether it is a system runtime's
    /// own bookkeeping (`docs/runtimes.md`, "Bookkeeping"): in a runtime's
    /// frame, a key longer than [`ward_abi::TRANSIENT_WORD_BYTES`] is
    /// bookkeeping, and one that also starts with
    /// [`ward_abi::RUNTIME_SHARED_PREFIX`] lives in the space the
    /// runtime's frames share; every other key is the contract's own.
    fn transient_place(&self, key: &[u8]) -> (Address, bool) {
        match self.runtime_space {
            Some(shared) if key.len() > ward_abi::TRANSIENT_WORD_BYTES => {
                match key.first() == Some(&ward_abi::RUNTIME_SHARED_PREFIX) {
                    true => (shared, true),
                    false => (self.address, true),
                }
            }
            _ => (self.address, false),
        }
    }
}

impl<S: StateCommit + Send + Sync + 'static> Chain for Frame<S> {
    fn storage_read(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        let value = lock(&self.journal)
            .read(&self.address, key)
            .map_err(state_fault)?;
        if let Some(trace) = &self.trace {
            lock(trace).access(crate::Access::Read {
                key: key.to_vec(),
                value: value.clone(),
            });
        }
        Ok(value)
    }

    fn storage_write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError> {
        if self.read_only {
            return Err(ChainError::refused("storage write in a read-only call"));
        }
        let mut journal = lock(&self.journal);
        if let Some(trace) = &self.trace {
            let old = journal.read(&self.address, key).map_err(state_fault)?;
            lock(trace).access(crate::Access::Write {
                key: key.to_vec(),
                old,
                new: value.map(<[u8]>::to_vec),
            });
        }
        journal
            .write(self.address, key, value.map(<[u8]>::to_vec))
            .map_err(state_fault)
    }

    fn transient_read(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        let (space, _) = self.transient_place(key);
        Ok(lock(&self.journal).transient().read(&space, key))
    }

    fn transient_write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError> {
        let (space, bookkeeping) = self.transient_place(key);
        // A runtime's bookkeeping is not the contract's state: a read-only
        // frame keeps it too (the EVM warms what a `STATICCALL` touches).
        if self.read_only && !bookkeeping {
            return Err(ChainError::refused(
                "transient storage write in a read-only call",
            ));
        }
        let max = ward_abi::MAX_TX_TRANSIENT_BYTES;
        lock(&self.journal)
            .transient()
            .write(space, key, value.map(<[u8]>::to_vec), max)
            .map_err(|full| {
                ChainError::refused(format!(
                    "the transaction's transient storage would hold more than {} bytes of keys and values (MAX_TX_TRANSIENT_BYTES)",
                    full.max_bytes
                ))
            })
    }

    fn emit_event(&mut self, topic: &[u8], data: &[u8]) -> Result<(), ChainError> {
        if self.read_only {
            return Err(ChainError::refused("event in a read-only call"));
        }
        let event = Event {
            contract: self.address,
            topic: topic.to_vec(),
            data: data.to_vec(),
        };
        if let Some(trace) = &self.trace {
            lock(trace).access(crate::Access::Event {
                topic: topic.to_vec(),
                data: data.to_vec(),
            });
        }
        lock(&self.journal).try_emit(event).map_err(|full| {
            ChainError::refused(format!(
                "the transaction's events would hold more than {} bytes of topics and data (ChainLimits::max_tx_event_bytes)",
                full.max_bytes
            ))
        })
    }

    fn caller(&self) -> [u8; 32] {
        self.caller.0
    }

    fn origin(&self) -> [u8; 32] {
        self.origin.0
    }

    fn self_address(&self) -> [u8; 32] {
        self.address.0
    }

    fn block_height(&self) -> u64 {
        self.height
    }

    fn block_time(&self) -> u64 {
        self.time
    }

    fn chain_id(&self) -> u64 {
        self.chain_id
    }

    fn call_value(&self) -> u128 {
        self.value
    }

    fn balance(&mut self, address: &[u8; 32]) -> Result<u128, ChainError> {
        lock(&self.journal)
            .balance(&Address(*address))
            .map_err(state_fault)
    }

    fn transfer(&mut self, to: &[u8; 32], amount: u128) -> Result<bool, ChainError> {
        if self.read_only {
            return Err(ChainError::refused("a transfer in a read-only call"));
        }
        lock(&self.journal)
            .transfer(self.address, Address(*to), amount)
            .map_err(state_fault)
    }

    fn code(&mut self, hash: &[u8; 32]) -> Result<Option<Vec<u8>>, ChainError> {
        lock(&self.journal)
            .code(&Hash32(*hash))
            .map_err(state_fault)
    }

    fn account_nonce(&mut self, address: &[u8; 32]) -> Result<u64, ChainError> {
        lock(&self.journal)
            .nonce(&Address(*address))
            .map_err(state_fault)
    }

    fn code_at(&mut self, address: &[u8; 32]) -> Result<Option<Vec<u8>>, ChainError> {
        let j = lock(&self.journal);
        let Some(info) = j.contract(&Address(*address)).map_err(state_fault)? else {
            return Ok(None);
        };
        match j.code(&info.code_hash).map_err(state_fault)? {
            Some(code) => Ok(Some(code)),
            None => Err(state_fault(StateError::Corrupt {
                table: "code",
                message: format!(
                    "contract {} has no code {}",
                    Address(*address),
                    info.code_hash
                ),
            })),
        }
    }
}

impl<S: StateCommit + Send + Sync + 'static> Frame<S> {
    /// How a trace opens this frame as a transaction's top frame (or a
    /// query's), running `entry` of code of `kind` with `input`.
    pub(crate) fn opening(&self, entry: &str, kind: CodeKind, input: &[u8], gas: Gas) -> Opening {
        let call = match (entry, self.read_only) {
            ("deploy", _) => CallKind::Deploy,
            (_, true) => CallKind::ReadOnly,
            _ => CallKind::Call,
        };
        Opening {
            call,
            address: self.address,
            code_address: self.address,
            caller: self.caller,
            kind,
            input: input.to_vec(),
            value: self.value,
            gas_given: gas.get(),
        }
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
    let (journal, mut frame) = scratch_frame();
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
        let tx = Tx::call(Address::default(), Address::default(), Vec::new(), 0);
        recorder.finish(receipt_of(tx.hash(), 0, execution, events, None))
    }
}
