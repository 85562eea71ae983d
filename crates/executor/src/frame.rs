//! A running frame's view of the chain ([`ward_vm::Chain`] over the
//! transaction's journal), and the scratch chain of a call outside any
//! block (`ward run`).

use crate::error::state_fault;
use crate::view::View;
use crate::{SharedJournal, lock};
use std::sync::{Arc, Mutex};
use ward_primitives::{Address, Hash32};
use ward_state::{Event, Journal, StateCommit, StateError};
use ward_vm::{Chain, ChainError, Status};

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
    };
    (journal, frame)
}

/// A receipt is consensus data, and engines word their traps differently
/// (and may change the wording between releases): a trap the engine
/// detected is described by its kind alone. Messages Ward writes itself
/// (host errors, policy rejections, gas and stack) are the same on every
/// backend and are kept.
pub(crate) fn consensus_message(failure: &ward_vm::Failure) -> String {
    use ward_vm::ErrorKind as K;
    match failure.kind {
        K::HostError | K::OutOfGas | K::StackOverflow => failure.message.clone(),
        kind if kind.status() == Status::Rejected => failure.message.clone(),
        kind => kind.as_str().replace('_', " "),
    }
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
    pub(crate) trace: Option<crate::trace::Tracer>,
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
