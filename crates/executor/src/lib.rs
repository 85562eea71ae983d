//! Ward's transaction executor.
//!
//! A block is an ordered list of [`Tx`]s executed in order over one
//! [`Journal`] and committed at once. Each transaction runs inside its own
//! checkpoint: if it fails (revert, trap, out of gas, timeout, rejection)
//! the checkpoint is reverted, so a failed transaction changes nothing but
//! its gas accounting. Every transaction yields a [`Receipt`]; only state
//! I/O failures and invalid transactions are errors ([`ExecError`]), and
//! then the block commits nothing.
//!
//! - `Deploy { sender, code, input, gas_limit, salt }` validates and
//!   compiles the code (a rejection is a receipt), stores it once per hash,
//!   derives the address from `(sender, code hash, salt)` and runs the
//!   optional `deploy` export; a deploy that fails leaves no code, no
//!   address and no cache entry.
//! - `Call { sender, to, input, gas_limit }` runs `main`.
//! - [`Executor::query`] runs `main` read-only and commits nothing.
//!
//! Contracts reach state through [`ward_vm::Chain`], implemented here over
//! the journal for the running frame.

mod block;
mod create;
mod parallel;
mod runtime;
mod view;

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

pub use block::{Block, BlockTimings, PreparedBlock, Simulation, tx_of};
pub use runtime::{Runtimes, envelope, runtime_address};
pub use view::View;

use runtime::Code;

use ward_abi::call::{FAILED as CALL_FAILED, OK as CALL_OK, REVERTED as CALL_REVERTED};
use ward_primitives::{Address, CodeKind, Gas, Hash32};
use ward_state::{
    CodecError, ContractInfo, Decode, Encode, Event, Journal, Receipt, StateCommit, StateError,
};
use ward_vm::{
    Backend, CacheOptions, CallContext, Chain, ChainError, CodeHash, Config, Entry, ErrorKind,
    Execution, Failure, FaultKind, InstanceBudget, InstanceSlot, MemoryBudget, ModuleCache,
    NodeFault, Outcome, Progress, Reply, Request, RunOptions, Status,
};

/// A transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tx {
    /// Deploys `code`, running its `deploy` export (if any) with `input`.
    Deploy {
        /// Who deploys.
        sender: Address,
        /// The module's bytes.
        code: Vec<u8>,
        /// Input to `deploy`.
        input: Vec<u8>,
        /// Gas for validation and `deploy`.
        gas_limit: u64,
        /// Distinguishes deployments of the same code by the same sender.
        salt: Vec<u8>,
        /// What the code runs as (`docs/wasi.md` for [`CodeKind::Wasi`]).
        kind: CodeKind,
    },
    /// Calls `main` of the contract at `to`.
    Call {
        /// Who calls.
        sender: Address,
        /// The contract.
        to: Address,
        /// Input to `main`.
        input: Vec<u8>,
        /// Gas for the call.
        gas_limit: u64,
    },
}

impl Tx {
    /// Its gas limit.
    pub fn gas_limit(&self) -> u64 {
        match self {
            Tx::Deploy { gas_limit, .. } | Tx::Call { gas_limit, .. } => *gas_limit,
        }
    }

    /// The length of [`Tx::to_bytes`], without encoding (a deploy's code
    /// may be megabytes): the tag, fixed-width fields, and a `u32` length
    /// before each byte string.
    pub fn encoded_len(&self) -> u64 {
        let bytes = |b: &[u8]| 4 + b.len() as u64;
        match self {
            Tx::Deploy {
                code,
                input,
                salt,
                kind,
                ..
            } => {
                let explicit = match kind {
                    CodeKind::Ward => 0,
                    kind => kind.explicit_len(),
                };
                1 + 32 + bytes(code) + bytes(input) + 8 + bytes(salt) + explicit
            }
            Tx::Call { input, .. } => 1 + 32 + 32 + bytes(input) + 8,
        }
    }

    /// The transaction's hash: BLAKE3 of its canonical encoding.
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.to_bytes()).as_bytes())
    }

    /// The canonical encoding (stored with the block): a tag byte (0
    /// deploy, 1 call, 2 deploy of another [`CodeKind`] than Ward's, whose
    /// tag follows the salt), then the fields in order, in the state's
    /// record encoding (`docs/storage-format.md`).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            Tx::Deploy {
                sender,
                code,
                input,
                gas_limit,
                salt,
                kind,
            } => {
                out.push(if *kind == CodeKind::Ward { 0u8 } else { 2u8 });
                sender.encode(&mut out);
                code.encode(&mut out);
                input.encode(&mut out);
                gas_limit.encode(&mut out);
                salt.encode(&mut out);
                if *kind != CodeKind::Ward {
                    kind.encode_explicit(&mut out);
                }
            }
            Tx::Call {
                sender,
                to,
                input,
                gas_limit,
            } => {
                out.push(1u8);
                sender.encode(&mut out);
                to.encode(&mut out);
                input.encode(&mut out);
                gas_limit.encode(&mut out);
            }
        }
        out
    }
}

impl Tx {
    /// Reads a transaction back from its canonical encoding
    /// ([`Tx::to_bytes`]); the bytes must be exactly one transaction.
    ///
    /// # Errors
    ///
    /// An unknown tag, a field cut short, or bytes left over.
    pub fn from_bytes(bytes: &[u8]) -> Result<Tx, CodecError> {
        let mut input = bytes;
        let input = &mut input;
        let tx = match u8::decode(input)? {
            tag @ (0 | 2) => Tx::Deploy {
                sender: Address::decode(input)?,
                code: Vec::decode(input)?,
                input: Vec::decode(input)?,
                gas_limit: u64::decode(input)?,
                salt: Vec::decode(input)?,
                kind: if tag == 0 {
                    CodeKind::Ward
                } else {
                    CodeKind::decode_explicit(input)?
                },
            },
            1 => Tx::Call {
                sender: Address::decode(input)?,
                to: Address::decode(input)?,
                input: Vec::decode(input)?,
                gas_limit: u64::decode(input)?,
            },
            tag => return Err(CodecError(format!("unknown transaction tag {tag}"))),
        };
        if !input.is_empty() {
            return Err(CodecError(format!("{} trailing bytes", input.len())));
        }
        Ok(tx)
    }
}

/// The identifier of a transaction as executed: BLAKE3 of its hash, the
/// block height and its position in the block. Two identical transactions
/// (same sender, target, input and gas) are distinct executions; receipts
/// are stored and looked up (`ward receipt`) by this identifier.
pub fn tx_id(tx: &Tx, height: u64, index: u32) -> Hash32 {
    let mut out = b"ward-tx-id".to_vec();
    tx.hash().encode(&mut out);
    height.encode(&mut out);
    index.encode(&mut out);
    Hash32(*blake3::hash(&out).as_bytes())
}

/// The address a deploy creates: BLAKE3 of a domain tag, the sender, the
/// code hash and the salt (each length-prefixed where variable).
pub fn contract_address(sender: &Address, code_hash: &Hash32, salt: &[u8]) -> Address {
    let mut out = b"ward-contract-address".to_vec();
    sender.encode(&mut out);
    code_hash.encode(&mut out);
    salt.encode(&mut out);
    Address(*blake3::hash(&out).as_bytes())
}

/// Why a block (or query) could not be executed. Commits nothing, and is
/// never recorded in a receipt: receipts are what the guest did, these are
/// what happened to the node or what makes a transaction unexecutable.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ExecError {
    /// The state store failed (I/O, a corrupt record), before or during a
    /// call: a node fault.
    #[error(transparent)]
    State(#[from] StateError),
    /// Another node fault raised during a call (embedder misuse, a broken
    /// invariant).
    #[error(transparent)]
    Fault(NodeFault),
    /// A transaction cannot be executed at all.
    #[error("invalid transaction: {0}")]
    InvalidTx(String),
    /// A transaction (the `index`th of its block) was refused before
    /// anything ran: it is not in any block and pays nothing.
    #[error("transaction {index} refused: {refusal}")]
    Refused {
        /// Its position in the block.
        index: usize,
        /// Why.
        refusal: Refusal,
    },
}

/// Why a transaction or block was refused before execution
/// ([`Executor::admit`]).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refusal {
    /// The transaction's encoding is larger than [`ChainLimits::max_tx_bytes`].
    #[error("{bytes} bytes, more than the limit of {max}")]
    TooLarge {
        /// Its size.
        bytes: u64,
        /// The limit.
        max: u64,
    },
    /// Its gas limit is above [`ChainLimits::max_tx_gas`].
    #[error("gas limit {gas} is above the per-transaction maximum {max}")]
    GasAboveMaximum {
        /// Its gas limit.
        gas: u64,
        /// The maximum.
        max: u64,
    },
    /// Its gas limit does not cover its intrinsic cost.
    #[error("gas limit {gas} does not cover its intrinsic cost of {cost} gas ({bytes} bytes)")]
    IntrinsicCost {
        /// Its gas limit.
        gas: u64,
        /// What it must pay before anything runs.
        cost: u64,
        /// Its size.
        bytes: u64,
    },
    /// A signed transaction's nonce is not its sender's next.
    #[error("nonce {got}, but the sender's next nonce is {expected}")]
    Nonce {
        /// The sender's next nonce.
        expected: u64,
        /// The transaction's.
        got: u64,
    },
    /// The block's gas limits add up to more than
    /// [`ChainLimits::max_block_gas`].
    #[error("the block's gas limits add up to {gas}, above the per-block maximum {max}")]
    BlockGasAboveMaximum {
        /// The sum (saturating).
        gas: u64,
        /// The maximum.
        max: u64,
    },
}

/// Limits a chain puts on transactions and blocks. Consensus values: the
/// nodes of one chain must agree on them.
///
/// The gas maxima bound the time a block takes by gas alone. The defaults
/// keep a full block within a few seconds on this project's reference
/// machine on either backend, measured with the cheapest gas there is (an
/// empty loop: 1e10 gas in 6.4 s on wasmtime, 168 s on wasmi, so 200 M gas
/// in about 0.13 s and 3.4 s); the CLI's default gas limits fit under them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChainLimits {
    /// Largest transaction encoding, in bytes. Default: 5 MiB (a module at
    /// the policy's 4 MiB limit, with room for input).
    pub max_tx_bytes: u64,
    /// Largest gas limit of one transaction. Default: 200 000 000.
    pub max_tx_gas: u64,
    /// Largest sum of the gas limits of one block's transactions.
    /// Default: 200 000 000.
    pub max_block_gas: u64,
    /// Linear memory all live frames of one transaction may hold together
    /// ([`ward_vm::MemoryBudget`]). Default: 64 MiB.
    pub tx_memory_bytes: u64,
    /// Instances alive at once in one transaction: its frames (the root
    /// included) and the children they run, together
    /// ([`ward_vm::InstanceBudget`]). A `ward.call` beyond it fails to its
    /// caller with status 2; a `vm_instantiate`, with `limit_exceeded`.
    /// How deep calls and children go is the stack budget's to bound
    /// (`Limits::max_stack_units`, one for the whole transaction). Default:
    /// 1 024.
    pub max_instances: u64,
    /// Topic and data bytes all the events of one transaction may hold:
    /// an `emit_event` past it traps (`host_error`). Every event is kept in
    /// a receipt for good and sent to every reader of it. Default: 1 MiB.
    pub max_tx_event_bytes: u64,
}

impl Default for ChainLimits {
    fn default() -> Self {
        ChainLimits {
            max_tx_bytes: 5 << 20,
            max_tx_gas: 200_000_000,
            max_block_gas: 200_000_000,
            tx_memory_bytes: ward_vm::DEFAULT_TX_MEMORY_BYTES,
            max_instances: ward_vm::DEFAULT_TX_INSTANCES,
            max_tx_event_bytes: 1 << 20,
        }
    }
}

impl From<NodeFault> for ExecError {
    /// A fault whose cause is a [`StateError`] (what the executor's chain
    /// raises) becomes [`ExecError::State`] again.
    fn from(fault: NodeFault) -> Self {
        if fault.cause().is::<StateError>() {
            let kind = fault.kind();
            match fault.into_cause().downcast::<StateError>() {
                Ok(state) => return ExecError::State(*state),
                Err(cause) => return ExecError::Fault(NodeFault::new(kind, cause)),
            }
        }
        ExecError::Fault(fault)
    }
}

/// The node fault for a state error met inside a call.
fn state_fault(err: StateError) -> ChainError {
    let kind = match err {
        StateError::Corrupt { .. }
        | StateError::Damaged { .. }
        | StateError::Empty { .. }
        | StateError::FormatVersion { .. } => FaultKind::Corruption,
        _ => FaultKind::Storage,
    };
    ChainError::Fault(NodeFault::new(kind, err))
}

/// The executor: a store, a backend and the compiled-module cache.
pub struct Executor<S: StateCommit + Send + Sync + 'static> {
    store: Arc<S>,
    backend: Arc<dyn Backend>,
    cache: Arc<ModuleCache>,
    schedule: ward_vm::CostSchedule,
    limits: ChainLimits,
    /// A wall-clock limit per transaction: a node fault when it runs out.
    timeout: Option<Duration>,
    /// Where the last block's time went.
    timings: Mutex<BlockTimings>,
    /// Threads a block runs on (1: in order on the caller's thread).
    threads: usize,
    /// The last parallel block's speculation: results kept, run again.
    speculation: Mutex<Speculation>,
    /// The system runtimes contracts may be deployed for.
    runtimes: Arc<Runtimes>,
}

/// What the last block run on several threads did with the workers'
/// results ([`Executor::last_speculation`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Speculation {
    /// Transactions whose optimistic result was kept.
    pub kept: usize,
    /// Transactions run again in order (a conflict, or a failed run).
    pub rerun: usize,
    /// Transactions the in-order walk reached before any worker.
    pub in_order: usize,
}

/// Where and by whom a deploy creates its contract.
struct Deployed {
    address: Address,
    code_hash: Hash32,
    deployer: Address,
    height: u64,
    time: u64,
    kind: CodeKind,
}

/// The running frame, as the frames it starts see it.
#[derive(Clone, Copy, Debug)]
struct Current {
    /// Its contract's address (a delegate frame's is its caller's).
    address: Address,
    /// Who called it.
    caller: Address,
    /// What its contract's code runs as.
    kind: CodeKind,
    /// Whether it may not write or emit.
    read_only: bool,
}

impl Deployed {
    /// The frame the deploy runs in: the new contract's, called by its
    /// deployer.
    fn frame<S: StateCommit + Send + Sync + 'static>(
        &self,
        journal: &SharedJournal<S>,
    ) -> Frame<S> {
        Frame {
            journal: journal.clone(),
            address: self.address,
            caller: self.deployer,
            height: self.height,
            time: self.time,
            read_only: false,
        }
    }
}

/// A caller waiting for its callee.
struct Waiting {
    running: ward_vm::Running,
    /// Where the callee's changes start.
    checkpoint: ward_state::Checkpoint,
    /// The caller, to run again.
    current: Current,
    /// What the callee deploys, when the caller's request was a
    /// `ward.create`.
    created: Option<create::Created>,
    /// The caller's place in the instance budget.
    slot: Option<InstanceSlot>,
}

/// The frames of one transaction: the running one and those waiting for
/// their callees, over the block's journal.
struct Frames<S: StateCommit + Send + Sync + 'static> {
    journal: SharedJournal<S>,
    height: u64,
    time: u64,
    /// The running frame.
    current: Current,
    /// Callers waiting for their callees, innermost last.
    waiting: Vec<Waiting>,
    /// The linear memory every live frame and child holds, together.
    memory: Arc<MemoryBudget>,
    /// The instances alive: frames and children.
    instances: Arc<InstanceBudget>,
    /// The running frame's place in `instances` (taken when it was
    /// entered).
    slot: Option<InstanceSlot>,
    /// When the transaction's wall-clock backstop runs out, if it has one.
    deadline: Option<Instant>,
    /// The transaction's id in its block (a signed one's hash, an unsigned
    /// one's [`tx_id`]): seeds a WASI frame's random bytes.
    tx: Hash32,
    /// Frames entered so far, the root included.
    entered: u64,
}

impl<S: StateCommit + Send + Sync + 'static> Frames<S> {
    /// What is left of the transaction's wall-clock backstop.
    fn time_left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(ward_vm::clock::now()))
    }
}

impl<S: StateCommit + Send + Sync + 'static> Frames<S> {
    /// Returns to `parent` from its callee, which finished with
    /// `execution`: a callee that did not return `ok` leaves no change
    /// behind (its callees' included), and the caller carries on with its
    /// status, return data and gas used.
    fn return_to(&mut self, parent: Waiting, execution: Execution) -> Progress {
        let outcome = execution.outcome;
        let status = match outcome.status {
            Status::Ok => CALL_OK,
            Status::Reverted => CALL_REVERTED,
            _ => CALL_FAILED,
        };
        if status != CALL_OK {
            lock(&self.journal).revert(parent.checkpoint);
        }
        // The callee's instance is gone (its children with it).
        self.slot = parent.slot;
        let mut gas_used = outcome.gas_used;
        let return_data = match (status, parent.created) {
            (CALL_FAILED, _) => Vec::new(),
            (CALL_OK, Some(created)) => {
                gas_used = gas_used.saturating_add(created.charge);
                created.finish(&self.journal, outcome.output)
            }
            _ => outcome.output,
        };
        self.current = parent.current;
        parent.running.resume(Reply::Call {
            status,
            return_data,
            gas_used: gas_used.get(),
        })
    }
}

/// A `ward.call` as the executor serves it.
struct CallRequest {
    to: Address,
    input: Vec<u8>,
    gas: Gas,
    read_only: bool,
    delegate: bool,
    /// Where the callee's stack starts.
    stack_base: u32,
}

/// The journal shared by the frames of a block.
type SharedJournal<S> = Arc<Mutex<Journal<View<S>>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere leaves the journal's maps consistent (every
    // operation is a few inserts): keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// An executor over `store`, running contracts on `backend` (created
    /// with `config`).
    pub fn new(store: Arc<S>, backend: Arc<dyn Backend>, config: &Config) -> Self {
        let cache = ModuleCache::new(backend, config, CacheOptions::default())
            .unwrap_or_else(|_| unreachable!("a cache without a disk directory cannot fail"));
        Executor::with_cache(store, Arc::new(cache))
    }

    /// An executor over `store` sharing `cache` (its backend and config)
    /// with other executors: what one compiled, the others do not compile
    /// again.
    pub fn with_cache(store: Arc<S>, cache: Arc<ModuleCache>) -> Self {
        let runtimes = Arc::new(Runtimes::new(cache.backend().clone(), cache.config()));
        Executor {
            store,
            backend: cache.backend().clone(),
            schedule: cache.config().policy.schedule,
            runtimes,
            cache,
            limits: ChainLimits::default(),
            timeout: None,
            timings: Mutex::new(BlockTimings::default()),
            threads: 1,
            speculation: Mutex::new(Speculation::default()),
        }
    }

    /// Runs blocks on `threads` threads (at least 1; default 1): every
    /// transaction optimistically against the block's starting state,
    /// then an in-order pass that keeps a result when nothing it read was
    /// written by an earlier transaction and runs it again otherwise.
    /// Receipts, events, gas and state are exactly those of running in
    /// order (`crate::parallel`).
    pub fn with_threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Runs contracts deployed for system runtimes on `runtimes` (default:
    /// none registered), which must be on this executor's backend. Which
    /// runtimes a chain has, under which names, is a consensus value.
    pub fn with_runtimes(mut self, runtimes: Arc<Runtimes>) -> Self {
        self.runtimes = runtimes;
        self
    }

    /// The system runtimes.
    pub fn runtimes(&self) -> &Arc<Runtimes> {
        &self.runtimes
    }

    /// The threads a block runs on.
    pub fn threads(&self) -> usize {
        self.threads
    }

    /// What the last block run on several threads did with its workers'
    /// results.
    pub fn last_speculation(&self) -> Speculation {
        *lock(&self.speculation)
    }

    /// Sets the chain's limits (defaults: [`ChainLimits::default`]).
    pub fn with_limits(mut self, limits: ChainLimits) -> Self {
        self.limits = limits;
        self
    }

    /// The chain's limits.
    pub fn limits(&self) -> &ChainLimits {
        &self.limits
    }

    /// Bounds the linear memory all frames of a transaction hold at once
    /// ([`ChainLimits::tx_memory_bytes`]).
    pub fn with_tx_memory_bytes(mut self, bytes: u64) -> Self {
        self.limits.tx_memory_bytes = bytes;
        self
    }

    /// A wall-clock backstop per transaction. Gas already bounds the time
    /// a transaction takes; this guards the node against a schedule that
    /// underprices something. When it runs out, the block is aborted with
    /// a [`FaultKind::Timeout`] node fault (how far code gets in a given
    /// time differs between machines, so it can never be a receipt).
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.timeout = timeout;
        self
    }

    /// Checks `tx` against the limits and returns its intrinsic cost
    /// (`tx_base + tx_per_byte * encoded size`), which it pays before
    /// anything runs.
    ///
    /// # Errors
    ///
    /// Why it is refused: too large, a gas limit above the maximum, or one
    /// that does not cover the intrinsic cost.
    pub fn admit(&self, tx: &Tx) -> Result<u64, Refusal> {
        self.admit_sized(tx.gas_limit(), tx.encoded_len())
    }

    /// [`Executor::admit`] for a transaction of `bytes` bytes with gas
    /// limit `gas` (a signed transaction's size is its signed encoding's).
    ///
    /// # Errors
    ///
    /// As [`Executor::admit`].
    pub fn admit_sized(&self, gas: u64, bytes: u64) -> Result<u64, Refusal> {
        if bytes > self.limits.max_tx_bytes {
            return Err(Refusal::TooLarge {
                bytes,
                max: self.limits.max_tx_bytes,
            });
        }
        self.gas_within_maximum(gas)?;
        let cost = self.schedule.intrinsic_cost(bytes);
        if gas < cost {
            return Err(Refusal::IntrinsicCost { gas, cost, bytes });
        }
        Ok(cost)
    }

    /// Limits the instances alive at once in a transaction
    /// ([`ChainLimits::max_instances`]; at least 1, the root frame).
    pub fn with_max_instances(mut self, instances: u64) -> Self {
        self.limits.max_instances = instances.max(1);
        self
    }

    /// Whether the compiled-module cache holds `code` (a failed deploy must
    /// leave no entry).
    pub fn is_cached(&self, code: &CodeHash) -> bool {
        self.cache.lookup(code).is_some()
    }

    /// The store.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// Executes `txs` in order as block `store.height() + 1` at `time`,
    /// commits it, and returns the receipts. These transactions are the
    /// embedder's own (unsigned, no nonces): each is stored under its
    /// [`tx_id`]. Signed transactions go through
    /// [`Executor::execute_signed_block`].
    ///
    /// # Errors
    ///
    /// A state failure or an invalid transaction; nothing is committed.
    pub fn execute_block(&self, txs: &[Tx], time: u64) -> Result<Vec<Receipt>, ExecError> {
        let height = self.store.height()? + 1;
        let items = txs
            .iter()
            .enumerate()
            .map(|(index, tx)| block::Item::unsigned(tx.clone(), height, index as u32))
            .collect::<Vec<_>>();
        Ok(self.commit_block(&items, height, time)?.receipts)
    }

    /// Refuses a gas limit above [`ChainLimits::max_tx_gas`].
    fn gas_within_maximum(&self, gas: u64) -> Result<(), Refusal> {
        if gas > self.limits.max_tx_gas {
            return Err(Refusal::GasAboveMaximum {
                gas,
                max: self.limits.max_tx_gas,
            });
        }
        Ok(())
    }

    /// Admits every transaction of a block and the block's total gas;
    /// returns each one's intrinsic cost.
    fn admit_block(&self, items: &[block::Item]) -> Result<Vec<u64>, ExecError> {
        let mut block_gas = 0u64;
        let mut costs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let refused = |refusal| ExecError::Refused { index, refusal };
            let gas = item.tx.gas_limit();
            costs.push(self.admit_sized(gas, item.size).map_err(refused)?);
            block_gas = block_gas.saturating_add(gas);
            if block_gas > self.limits.max_block_gas {
                return Err(refused(Refusal::BlockGasAboveMaximum {
                    gas: block_gas,
                    max: self.limits.max_block_gas,
                }));
            }
        }
        Ok(costs)
    }

    /// Runs `main` of `to` read-only on the committed state: storage writes
    /// and events trap; nothing is committed.
    ///
    /// # Errors
    ///
    /// A state failure, no contract at `to`, or a gas limit above
    /// [`ChainLimits::max_tx_gas`] (a query is not a transaction and pays
    /// no intrinsic cost, but it is bounded the same).
    pub fn query(
        &self,
        sender: Address,
        to: Address,
        input: Vec<u8>,
        gas_limit: u64,
    ) -> Result<Receipt, ExecError> {
        self.gas_within_maximum(gas_limit)
            .map_err(|refusal| ExecError::Refused { index: 0, refusal })?;
        let height = self.store.height()?;
        let time = self.store.block(height)?.map_or(0, |b| b.header.time);
        let journal: SharedJournal<S> =
            Arc::new(Mutex::new(Journal::new(View::plain(self.store.clone()))));
        lock(&journal).begin_tx(self.limits.max_tx_event_bytes);
        let tx = Tx::Call {
            sender,
            to,
            input,
            gas_limit,
        };
        let frame = Frame {
            journal: journal.clone(),
            address: to,
            caller: sender,
            height,
            time,
            read_only: true,
        };
        let (code, kind) = self.code_of(&journal, &to)?;
        let id = tx_id(&tx, height, 0);
        let entry = kind.call_entry();
        let execution = self.run(code, kind, entry, (&tx, id), Gas::new(gas_limit), frame)?;
        Ok(receipt_of(&tx, height, &execution, Vec::new(), None))
    }

    /// Runs one admitted transaction, whose id in the block is `id`, on
    /// the gas its limit leaves after its intrinsic cost, which its receipt
    /// includes.
    fn execute_tx(
        &self,
        journal: &SharedJournal<S>,
        (tx, id): (&Tx, Hash32),
        intrinsic: u64,
        height: u64,
        time: u64,
    ) -> Result<Receipt, ExecError> {
        let left = Gas::new(tx.gas_limit().saturating_sub(intrinsic));
        let (checkpoint, events_before) = {
            let mut j = lock(journal);
            j.begin_tx(self.limits.max_tx_event_bytes);
            (j.checkpoint(), j.events().len())
        };
        let (mut execution, address) = match tx {
            Tx::Call { sender, to, .. } => {
                let (code, kind) = self.code_of(journal, to)?;
                let frame = Frame {
                    journal: journal.clone(),
                    address: *to,
                    caller: *sender,
                    height,
                    time,
                    read_only: false,
                };
                let entry = kind.call_entry();
                (self.run(code, kind, entry, (tx, id), left, frame)?, None)
            }
            Tx::Deploy {
                sender,
                code,
                salt,
                kind,
                ..
            } => {
                let code_hash = Hash32(CodeHash::of(code).0);
                let mut address = contract_address(sender, &code_hash, salt);
                if runtime::is_runtime(*kind) {
                    address = runtime_address(address);
                }
                if lock(journal).contract(&address)?.is_some() {
                    return Err(ExecError::InvalidTx(format!(
                        "a contract already exists at {address}"
                    )));
                }
                let deployed = Deployed {
                    address,
                    code_hash,
                    deployer: *sender,
                    height,
                    time,
                    kind: *kind,
                };
                let execution = self.deploy(journal, (tx, id), code, left, deployed)?;
                (execution, Some(address))
            }
        };
        execution.outcome.gas_used = execution
            .outcome
            .gas_used
            .saturating_add(Gas::new(intrinsic));
        let mut j = lock(journal);
        let events = if execution.outcome.status == Status::Ok {
            j.events().get(events_before..).unwrap_or_default().to_vec()
        } else {
            j.revert(checkpoint);
            Vec::new()
        };
        let address = address.filter(|_| execution.outcome.status == Status::Ok);
        Ok(receipt_of(tx, height, &execution, events, address))
    }

    /// A deploy once its address is known to be free: the deploy charge,
    /// validation and compilation, the code and the contract record, and
    /// the `deploy` entry point on the gas that is left.
    fn deploy(
        &self,
        journal: &SharedJournal<S>,
        tx: (&Tx, Hash32),
        code: &[u8],
        limit: Gas,
        at: Deployed,
    ) -> Result<Execution, ExecError> {
        if let CodeKind::Runtime(name) = at.kind {
            return self.deploy_for_runtime(journal, tx, code, limit, (at, name));
        }
        let (charge, module) = match self.check_wasm_deploy(code, at.kind, limit) {
            Ok(checked) => checked,
            Err((failure, used)) => return Ok(Execution::of(Outcome::failed(failure, used))),
        };
        let info = ContractInfo {
            code_hash: at.code_hash,
            deployer: at.deployer,
            created_at: at.height,
            kind: at.kind,
        };
        put_contract(journal, at.address, info, code.to_vec());
        let mut execution = if runs_deploy(&module, at.kind) {
            let frame = at.frame(journal);
            let left = limit.saturating_sub(charge);
            self.run(Code::Wasm(module), at.kind, "deploy", tx, left, frame)?
        } else {
            Execution::of(Outcome::finished(0, Vec::new(), Gas::ZERO))
        };
        execution.outcome.gas_used = execution.outcome.gas_used.saturating_add(charge);
        if execution.outcome.status != Status::Ok {
            // No code, no address, no cache entry.
            self.cache.forget(&CodeHash(at.code_hash.0));
        }
        Ok(execution)
    }

    /// Ward's checks of Wasm code being deployed as a contract of `kind`
    /// (by a transaction or by `ward.create`), in order: the deploy charge,
    /// which `limit` must cover; the schema section; compiling; the kind's
    /// entry points. The charge and the module, or the failure and the gas
    /// it used (all of `limit` when the charge is not covered, the charge
    /// otherwise).
    fn check_wasm_deploy(
        &self,
        code: &[u8],
        kind: CodeKind,
        limit: Gas,
    ) -> Result<(Gas, ward_vm::Module), (Failure, Gas)> {
        let charge = self.deploy_charge(code, limit).map_err(|f| (f, limit))?;
        if let Err(e) = ward_chain::schema::Schema::from_module(code) {
            let failure = Failure::new(ErrorKind::InvalidSchema, e.to_string());
            return Err((failure, charge));
        }
        let module = self.cache.get_or_compile(code).map_err(|f| (f, charge))?;
        fits_kind(&module, kind).map_err(|f| (f, charge))?;
        Ok((charge, module))
    }

    /// Ward's deploy charge for `code` (`docs/gas.md`), or, when `limit`
    /// does not cover it, the deploy's `out_of_gas` failure (which uses all
    /// of `limit`).
    fn deploy_charge(&self, code: &[u8], limit: Gas) -> Result<Gas, Failure> {
        let charge = Gas::new(self.schedule.deploy_cost(code.len() as u64));
        if charge > limit {
            let failure = Failure::new(
                ErrorKind::OutOfGas,
                format!(
                    "deploying {} bytes costs {charge} gas, more than the limit {limit}",
                    code.len()
                ),
            );
            return Err(failure);
        }
        Ok(charge)
    }

    /// A deploy for the system runtime `name`. If the runtime exports
    /// `deploy`, it runs with the deploy's code and input in one envelope,
    /// and what it outputs is the contract's code (an EVM constructor's
    /// return); the runtime charges for it. Otherwise the deploy's code is
    /// the contract's, and pays Ward's deploy cost for its bytes. While
    /// `deploy` runs, the contract exists with empty code.
    fn deploy_for_runtime(
        &self,
        journal: &SharedJournal<S>,
        tx: (&Tx, Hash32),
        code: &[u8],
        limit: Gas,
        (at, name): (Deployed, ward_primitives::RuntimeName),
    ) -> Result<Execution, ExecError> {
        let Some((runtime, deploys)) = self.runtimes.get(&name) else {
            let failure = Failure::new(
                ErrorKind::EntryNotFound,
                format!("this chain has no system runtime named `{name}`"),
            );
            return Ok(Execution::rejected(failure));
        };
        let record = |journal: &SharedJournal<S>, code: Vec<u8>| {
            let info = ContractInfo {
                code_hash: Hash32(CodeHash::of(&code).0),
                deployer: at.deployer,
                created_at: at.height,
                kind: at.kind,
            };
            put_contract(journal, at.address, info, code);
        };
        if !deploys {
            let charge = match self.deploy_charge(code, limit) {
                Ok(charge) => charge,
                Err(failure) => return Ok(Execution::of(Outcome::failed(failure, limit))),
            };
            record(journal, code.to_vec());
            return Ok(Execution::of(Outcome::finished(0, Vec::new(), charge)));
        }
        record(journal, Vec::new());
        let frame = at.frame(journal);
        let input = match tx.0 {
            Tx::Deploy { input, .. } | Tx::Call { input, .. } => input,
        };
        let envelope = runtime::envelope(code, input);
        let code = Code::Runtime(runtime, Arc::new(Vec::new()));
        let execution = self.run_with(code, at.kind, "deploy", (envelope, tx.1), limit, frame)?;
        if execution.outcome.status == Status::Ok {
            record(journal, execution.outcome.output.clone());
        }
        Ok(execution)
    }

    /// What the contract at `address` runs (its compiled module, or its
    /// runtime and code), and its kind.
    fn code_of(
        &self,
        journal: &SharedJournal<S>,
        address: &Address,
    ) -> Result<(Code, CodeKind), ExecError> {
        let info = lock(journal).contract(address)?;
        let Some(info) = info else {
            return Err(ExecError::InvalidTx(format!("no contract at {address}")));
        };
        if let CodeKind::Runtime(name) = info.kind {
            // A runtime the chain's contracts use but this node lacks is
            // the node's misconfiguration, never a receipt.
            let Some((runtime, _)) = self.runtimes.get(&name) else {
                return Err(ExecError::Fault(NodeFault::new(
                    FaultKind::Invariant,
                    format!(
                        "contract {address} runs on system runtime `{name}`, which this node has not registered"
                    ),
                )));
            };
            let code = self.stored_code(journal, address, &info.code_hash)?;
            return Ok((Code::Runtime(runtime, Arc::new(code)), info.kind));
        }
        // Code is stored by its hash and never changes: a module the cache
        // holds under the hash is that code, so the code is read (a copy of
        // it, every call) only to compile it. The contract's record, read
        // above, is what a parallel block's conflict check needs.
        let hash = CodeHash(info.code_hash.0);
        if let Some(Ok(module)) = self.cache.lookup(&hash) {
            return Ok((Code::Wasm(module), info.kind));
        }
        let code = self.stored_code(journal, address, &info.code_hash)?;
        let module = self.cache.get_or_compile(&code).map_err(|f| {
            ExecError::State(StateError::Corrupt {
                table: "code",
                message: format!("stored code no longer compiles: {}", f.message),
            })
        })?;
        Ok((Code::Wasm(module), info.kind))
    }

    /// The code stored under `hash` for the contract at `address`; its
    /// absence is corruption.
    fn stored_code(
        &self,
        journal: &SharedJournal<S>,
        address: &Address,
        hash: &Hash32,
    ) -> Result<Vec<u8>, ExecError> {
        match lock(journal).code(hash)? {
            Some(code) => Ok(code),
            None => Err(StateError::Corrupt {
                table: "code",
                message: format!("contract {address} has no code {hash}"),
            }
            .into()),
        }
    }

    /// Starts `entry` of `code` with `options` and `context`: a fresh
    /// instance of a contract's module, or a pooled instance of a runtime.
    fn start(
        &self,
        code: &Code,
        entry: &str,
        options: RunOptions,
        context: CallContext,
    ) -> Progress {
        let entry = Entry::Main(entry.into());
        match code {
            Code::Wasm(module) => ward_vm::begin(&*self.backend, module, &entry, options, context),
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
    /// and instance budgets.
    fn context(
        &self,
        kind: CodeKind,
        code: &Code,
        frames: &mut Frames<S>,
        frame: Frame<S>,
        stack_base: u32,
    ) -> Result<CallContext, ExecError> {
        let address = frame.address;
        let mut context = CallContext::default()
            .with_chain(Box::new(frame))
            .with_memory_budget(&frames.memory)
            .with_stack_base(stack_base);
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
            let children = ward_vm::Children::with_cache(cache, ward_vm::ChildLimits::default())
                .with_memory_budget(&frames.memory)
                .with_instance_budget(&frames.instances);
            context = context.with_children(children);
        }
        if kind == CodeKind::Wasi {
            let mut seed = blake3::Hasher::new_derive_key("ward wasi random 2026-11");
            seed.update(&frames.tx.0);
            seed.update(&address.0);
            seed.update(&frames.entered.to_le_bytes());
            let config = ward_wasi::WasiConfig {
                args: vec![address.to_string().into_bytes()],
                now_nanos: frames.time.saturating_mul(1_000_000_000),
                seed: *seed.finalize().as_bytes(),
                limits: CONTRACT_WASI_LIMITS,
                ..ward_wasi::WasiConfig::default()
            };
            // No preopens: a configuration that cannot fail.
            if let Ok(wasi) = ward_wasi::Wasi::new(&config) {
                context = context.with_wasi(wasi);
            }
        }
        frames.entered += 1;
        Ok(context)
    }

    /// Runs `entry` of `module` as the root frame of a transaction, and
    /// every `ward.call` it makes as a frame of its own, in a flat loop: a
    /// suspended caller waits in [`Frames::waiting`] (on the heap) while its
    /// callee runs, so the native stack does not grow with the call depth.
    fn run(
        &self,
        code: Code,
        kind: CodeKind,
        entry: &str,
        (tx, id): (&Tx, Hash32),
        gas_limit: Gas,
        root: Frame<S>,
    ) -> Result<Execution, ExecError> {
        let input = match tx {
            Tx::Deploy { input, .. } | Tx::Call { input, .. } => code.input(input.clone()),
        };
        self.run_with(code, kind, entry, (input, id), gas_limit, root)
    }

    /// [`Executor::run`] with the root frame's `input` as it is.
    fn run_with(
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
            height: root.height,
            time: root.time,
            current: Current {
                address: root.address,
                caller: root.caller,
                kind,
                read_only: root.read_only,
            },
            waiting: Vec::new(),
            memory: MemoryBudget::new(self.limits.tx_memory_bytes),
            instances: InstanceBudget::new(self.limits.max_instances.max(1)),
            slot: None,
            deadline: self
                .timeout
                .and_then(|t| ward_vm::clock::now().checked_add(t)),
            tx: id,
            entered: 0,
        };
        let options = RunOptions {
            input,
            gas_limit,
            timeout: frames.time_left(),
            ..RunOptions::default()
        };
        frames.slot = frames.instances.take();
        let context = self.context(kind, &code, &mut frames, root, 0)?;
        let mut progress = self.start(&code, entry, options, context);
        loop {
            progress = match progress {
                Progress::Finished(execution) if is_timeout(&execution) => {
                    return Err(ExecError::Fault(NodeFault::new(
                        FaultKind::Timeout,
                        "the transaction ran past the executor's wall-clock limit",
                    )));
                }
                Progress::Finished(execution) => match frames.waiting.pop() {
                    None => return Ok(execution),
                    Some(parent) => frames.return_to(parent, execution),
                },
                Progress::Suspended(
                    running,
                    Request::Call {
                        address,
                        input,
                        gas,
                        read_only,
                        delegate,
                        stack_base,
                    },
                ) => {
                    let call = CallRequest {
                        to: Address(address),
                        input,
                        gas: Gas::new(gas),
                        read_only,
                        delegate,
                        stack_base,
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
                    },
                ) => {
                    let request = create::CreateRequest {
                        code,
                        input,
                        salt,
                        gas: Gas::new(gas),
                        stack_base,
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
    fn enter(
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
        let callee = callee.filter(|(_, kind)| !call.delegate || *kind == caller.kind);
        let Some((code, kind)) = callee else {
            return Ok(running.resume(Reply::Call {
                status: CALL_FAILED,
                return_data: Vec::new(),
                gas_used: 0,
            }));
        };
        let read_only = caller.read_only || call.read_only;
        let (address, from) = if call.delegate {
            (caller.address, caller.caller)
        } else {
            (call.to, caller.address)
        };
        frames.waiting.push(Waiting {
            running,
            checkpoint: lock(&frames.journal).checkpoint(),
            current: caller,
            created: None,
            slot: std::mem::replace(&mut frames.slot, slot),
        });
        let frame = Frame {
            journal: frames.journal.clone(),
            address,
            caller: from,
            height: frames.height,
            time: frames.time,
            read_only,
        };
        frames.current = Current {
            address,
            caller: from,
            kind,
            read_only,
        };
        let context = self.context(kind, &code, frames, frame, call.stack_base)?;
        let options = RunOptions {
            input: code.input(call.input),
            gas_limit: call.gas,
            timeout: frames.time_left(),
            ..RunOptions::default()
        };
        Ok(self.start(&code, kind.call_entry(), options, context))
    }
}

/// What a WASI contract's frame may hold (`docs/wasi.md`): tighter than
/// `ward run`'s, since every frame of a transaction may have one.
pub const CONTRACT_WASI_LIMITS: ward_wasi::Limits = ward_wasi::Limits {
    max_bytes: 1 << 20,
    max_nodes: 1_024,
    max_path_bytes: 1_024,
    max_fds: 64,
    max_stream_bytes: 1 << 20,
};

/// Whether `module` may be deployed as `kind`: a Ward contract imports
/// nothing from WASI; a WASI command exports `_start: [] -> []`.
fn fits_kind(module: &ward_vm::Module, kind: CodeKind) -> Result<(), Failure> {
    match kind {
        CodeKind::Ward => match module
            .imports()
            .iter()
            .find(|i| i.module == ward_abi::WASI_MODULE)
        {
            Some(import) => Err(Failure::new(
                ErrorKind::UnknownImport,
                format!(
                    "import {}.{}: WASI is refused unless the contract is deployed as a WASI command (`ward deploy --wasi`)",
                    import.module, import.name
                ),
            )),
            None => Ok(()),
        },
        // A runtime's contract is not Wasm: it is never compiled.
        CodeKind::Runtime(_) => Ok(()),
        CodeKind::Wasi => match module.export_func("_start") {
            None => Err(Failure::new(
                ErrorKind::EntryNotFound,
                "a WASI command exports `_start`",
            )),
            Some(ty) if !ty.params.is_empty() || !ty.results.is_empty() => Err(Failure::new(
                ErrorKind::BadEntrySignature,
                format!("`_start` has type {ty}; a WASI command's is [] -> []"),
            )),
            Some(_) => Ok(()),
        },
    }
}

/// Stores `code` under `info.code_hash` and the contract `info` at
/// `address`, in the journal.
fn put_contract<S: StateCommit + Send + Sync + 'static>(
    journal: &SharedJournal<S>,
    address: Address,
    info: ContractInfo,
    code: Vec<u8>,
) {
    let mut j = lock(journal);
    j.put_code(info.code_hash, code);
    j.create_contract(address, info);
}

/// Whether a Wasm contract of `kind` runs a `deploy` entry when deployed
/// (a WASI command has none: `_start` is its call).
fn runs_deploy(module: &ward_vm::Module, kind: CodeKind) -> bool {
    kind == CodeKind::Ward && module.export_func("deploy").is_some()
}

/// Whether a frame ended on the wall clock.
fn is_timeout(execution: &Execution) -> bool {
    let failure = execution.outcome.error.as_ref();
    failure.is_some_and(|f| f.kind == ErrorKind::Timeout)
}

fn receipt_of(
    tx: &Tx,
    height: u64,
    execution: &Execution,
    events: Vec<Event>,
    address: Option<Address>,
) -> Receipt {
    let outcome = &execution.outcome;
    Receipt {
        tx: tx.hash(),
        height,
        index: 0,
        status: outcome.status.as_str().to_string(),
        exit_code: outcome.exit_code,
        output: outcome.output.clone(),
        gas_used: outcome.gas_used.get(),
        events,
        error_kind: outcome.error.as_ref().map(|e| e.kind.as_str().to_string()),
        error_message: outcome.error.as_ref().map(consensus_message),
        address,
        runtime_gas: execution.runtime_gas,
    }
}

/// The journal of a [`scratch_chain`].
pub type ScratchJournal = Arc<Mutex<Journal<View<ward_state::MemoryStore>>>>;

/// A chain for a single call outside any block (`ward run`): an empty
/// in-memory state, the zero address as caller and contract, height 0.
/// The returned journal shows what the call wrote and emitted.
pub fn scratch_chain() -> (Box<dyn Chain>, ScratchJournal) {
    let journal = Arc::new(Mutex::new(Journal::new(View::plain(Arc::new(
        ward_state::MemoryStore::default(),
    )))));
    let frame = Frame {
        journal: journal.clone(),
        address: Address::default(),
        caller: Address::default(),
        height: 0,
        time: 0,
        read_only: false,
    };
    (Box::new(frame), journal)
}

/// A receipt is consensus data, and engines word their traps differently
/// (and may change the wording between releases): a trap the engine
/// detected is described by its kind alone. Messages Ward writes itself
/// (host errors, policy rejections, gas and stack) are the same on every
/// backend and are kept.
fn consensus_message(failure: &ward_vm::Failure) -> String {
    use ward_vm::ErrorKind as K;
    match failure.kind {
        K::HostError | K::OutOfGas | K::StackOverflow => failure.message.clone(),
        kind if kind.status() == Status::Rejected => failure.message.clone(),
        kind => kind.as_str().replace('_', " "),
    }
}

/// One call frame's view of the chain.
struct Frame<S: StateCommit + Send + Sync + 'static> {
    journal: SharedJournal<S>,
    address: Address,
    caller: Address,
    height: u64,
    time: u64,
    read_only: bool,
}

impl<S: StateCommit + Send + Sync + 'static> Chain for Frame<S> {
    fn storage_read(&mut self, key: &[u8]) -> Result<Option<Vec<u8>>, ChainError> {
        lock(&self.journal)
            .read(&self.address, key)
            .map_err(state_fault)
    }

    fn storage_write(&mut self, key: &[u8], value: Option<&[u8]>) -> Result<(), ChainError> {
        if self.read_only {
            return Err(ChainError::refused("storage write in a read-only call"));
        }
        lock(&self.journal)
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

    fn self_address(&self) -> [u8; 32] {
        self.address.0
    }

    fn block_height(&self) -> u64 {
        self.height
    }

    fn block_time(&self) -> u64 {
        self.time
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
