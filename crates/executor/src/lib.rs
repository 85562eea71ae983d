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
//! - A deploy ([`Payload::Deploy`], a [`Deploy`]'s code, input, salt,
//!   kind and admin) validates and compiles the code (a rejection is a receipt), stores it once per hash,
//!   derives the address from `(sender, code hash, salt)` and runs the
//!   optional `deploy` export; a deploy that fails leaves no code, no
//!   address and no cache entry.
//! - `Call { sender, to, input, gas_limit }` runs `main`.
//! - [`Executor::query`] runs `main` read-only and commits nothing.
//!
//! Contracts reach state through [`ward_vm::Chain`], implemented here over
//! the journal for the running frame.
//!
//! ```
//! use std::sync::Arc;
//! use ward_executor::{Deploy, Executor, Payload, Tx};
//! use ward_primitives::{Address, CodeKind};
//! use ward_state::{MemoryStore, StateRead};
//! use ward_vm::{BackendKind, Config};
//!
//! let config = Config::default();
//! let backend = ward_backends::new(BackendKind::Wasmi, &config)?;
//! let executor = Executor::new(Arc::new(MemoryStore::default()), backend, &config);
//! // A contract whose `main` stores its input under "k".
//! let code = wat::parse_str(r#"(module
//!   (import "ward" "input_size" (func $size (result i32)))
//!   (import "ward" "input_read" (func $read (param i32 i32 i32)))
//!   (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
//!   (memory (export "memory") 1)
//!   (data (i32.const 0) "k")
//!   (func (export "main") (local $n i32)
//!     (local.set $n (call $size))
//!     (call $read (i32.const 8) (i32.const 0) (local.get $n))
//!     (call $write (i32.const 0) (i32.const 1) (i32.const 8) (local.get $n))))"#)?;
//! let (alice, salt, input) = (Address([0xa1; 32]), vec![], vec![]);
//! let deploy = Tx {
//!     sender: alice,
//!     gas_limit: 10_000_000,
//!     value: 0,
//!     payload: Payload::Deploy(Deploy::new(code, input).with_salt(salt)),
//! };
//! let contract = executor.execute_block(&[deploy], 1)?[0].address.unwrap();
//! let call = Tx {
//!     sender: alice,
//!     gas_limit: 1_000_000,
//!     value: 0,
//!     payload: Payload::Call { to: contract, input: b"hello".to_vec() },
//! };
//! assert!(executor.execute_block(&[call], 2)?[0].status.is_ok());
//! // Each block committed: the store holds the write.
//! assert_eq!(executor.store().storage(&contract, b"k")?, Some(b"hello".to_vec()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod access_list;
mod admin;
mod block;
mod calls;
mod create;
mod deploy;
mod error;
mod estimate;
mod fees;
mod frame;
mod intrinsic;
mod limits;
mod parallel;
mod patch;
mod pipeline;
mod query;
mod receipt;
mod replay;
mod runtime;
mod setup;
mod trace;
mod tx;
mod view;

use std::{
    sync::{Arc, Mutex, MutexGuard},
    time::{Duration, Instant},
};

pub use admin::{ADMIN_TOPIC, UPGRADED_TOPIC};
pub use block::{Block, BlockTimings, PreparedBlock, Simulation, genesis_root};
pub use error::{ExecError, Inadmissible};
pub use estimate::Estimate;
pub use fees::{Cost, Fees, price_per, ward_gas};
pub use frame::{ScratchJournal, ScratchTrace, scratch_chain, scratch_chain_traced};
pub use intrinsic::{EVM_GAS_RATE, Intrinsic, MAX_INITCODE_SIZE};
pub use limits::{CONTRACT_WASI_LIMITS, ChainLimits};
pub use patch::Patch;
pub use pipeline::{Pipeline, Pushed};
pub use replay::TracedTx;
pub use runtime::{
    ANALYZED, HEAD_CACHE_BYTES, Runtimes, envelope, head, open_envelope, runtime_address,
};
pub use trace::{Access, CallKind, Trace, TraceFrame};
pub use tx::{Tx, contract_address, tx_id};
pub use view::View;
pub use ward_chain::tx::{AdminAction, Deploy, Payload};

use deploy::{put_contract, runs_deploy};
use frame::Frame;
use receipt::{receipt_of, transferred};

use runtime::Code;

use ward_abi::call::{FAILED as CALL_FAILED, OK as CALL_OK, REVERTED as CALL_REVERTED};
use ward_chain::tx::VerifiedTx;
use ward_primitives::{Address, CodeKind, Gas, Hash32, RuntimeName};
use ward_state::{Journal, Receipt, StateCommit, StateError};
use ward_vm::{
    Backend, CodeHash, ErrorKind, Execution, FaultKind, InstanceBudget, InstanceSlot, MemoryBudget,
    ModuleCache, NodeFault, Progress, Reply, RunOptions, Status,
};

/// The last EVM precompile's address at the EVM runtime's revision
/// (Prague: `0x01` to `0x11`, BLS12-381's the last seven): a call of one
/// of them that holds no contract runs the precompile.
pub const LAST_PRECOMPILE: u8 = 0x11;

/// The executor: a store, a backend and the compiled-module cache.
pub struct Executor<S: StateCommit + Send + Sync + 'static> {
    store: Arc<S>,
    backend: Arc<dyn Backend>,
    cache: Arc<ModuleCache>,
    schedule: ward_vm::CostSchedule,
    limits: ChainLimits,
    /// A wall-clock limit per transaction: a node fault when it runs out.
    timeout: Option<Duration>,
    /// The flag that ends the calls run from now on when raised
    /// ([`Executor::set_cancel`]): a node fault, never a receipt.
    cancel: Mutex<Option<ward_vm::Cancel>>,
    /// Where the last block's time went.
    timings: Mutex<BlockTimings>,
    /// Threads a block runs on (1: in order on the caller's thread).
    threads: usize,
    /// The last parallel block's speculation: results kept, run again.
    speculation: Mutex<Speculation>,
    /// The system runtimes contracts may be deployed for.
    runtimes: Arc<Runtimes>,
    /// How gas is paid for.
    fees: Fees,
    /// The state tree's nodes near the root, kept between blocks.
    tree_cache: ward_chain::tree::TreeCache,
    /// The chain's Ethereum chain id, 0 for none (`ward.chain_id`).
    eth_chain_id: u64,
    /// Block times per second: 1, or 1000 for a chain whose blocks are
    /// timed in milliseconds (a node's); contracts see seconds.
    time_per_second: u64,
    /// Whether a sender that cannot pay for its transaction is first
    /// given what it lacks ([`Executor::with_funded_senders`]).
    fund_senders: bool,
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
    /// The chain's Ethereum chain id (`ward.chain_id`).
    chain_id: u64,
    kind: CodeKind,
    /// The native asset the deploy moved to it.
    value: u128,
    /// Who may upgrade it.
    admin: Option<Address>,
    /// The recorder, when the deploy is traced.
    trace: Option<trace::Tracer>,
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
    /// The native asset it received (a delegate frame's is its caller's,
    /// as the EVM's `DELEGATECALL` keeps `msg.value`).
    value: u128,
}

impl Deployed {
    /// Records, when traced, what the deploy charged for its code.
    fn charged(&self, gas: Gas) {
        if let Some(trace) = &self.trace {
            lock(trace).charge("deploy", gas.get());
        }
    }

    /// The frame the deploy runs in: the new contract's, called by its
    /// deployer.
    fn frame<S: StateCommit + Send + Sync + 'static>(
        &self,
        journal: &SharedJournal<S>,
    ) -> Frame<S> {
        Frame {
            value: self.value,
            journal: journal.clone(),
            address: self.address,
            caller: self.deployer,
            origin: self.deployer,
            height: self.height,
            time: self.time,
            chain_id: self.chain_id,
            read_only: false,
            trace: self.trace.clone(),
            runtime_space: None,
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
    /// The transaction's sender, every frame's `ward.origin`.
    origin: Address,
    height: u64,
    time: u64,
    /// The chain's Ethereum chain id (`ward.chain_id`).
    chain_id: u64,
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
    /// The flag that cancels the transaction ([`Executor::set_cancel`]).
    cancel: Option<ward_vm::Cancel>,
    /// The transaction's id in its block (a signed one's hash, an unsigned
    /// one's [`tx_id`]): seeds a WASI frame's random bytes.
    tx: Hash32,
    /// Frames entered so far, the root included.
    entered: u64,
    /// The recorder, when the run is traced.
    trace: Option<trace::Tracer>,
}

impl<S: StateCommit + Send + Sync + 'static> Frames<S> {
    /// What is left of the transaction's wall-clock backstop.
    fn time_left(&self) -> Option<Duration> {
        self.deadline
            .map(|d| d.saturating_duration_since(ward_vm::clock::now()))
    }

    /// A frame's run options: its input and gas, under the transaction's
    /// backstop and cancel flag.
    fn run_options(&self, input: Vec<u8>, gas_limit: Gas) -> RunOptions {
        RunOptions {
            input,
            gas_limit,
            timeout: self.time_left(),
            cancel: self.cancel.clone(),
            ..RunOptions::default()
        }
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
    mode: ward_vm::CallMode,
    /// Where the callee's stack starts.
    stack_base: u32,
    /// The native asset moved to the callee.
    value: u128,
}

impl CallRequest {
    /// The address the callee's frame runs as and its caller, when
    /// `caller` makes the call: the callee's own address and the caller,
    /// or in the caller's context the caller's address and (for a
    /// delegate call) its caller or (for a code call) the caller itself.
    fn runs_as(&self, caller: &Current) -> (Address, Address) {
        match self.mode {
            ward_vm::CallMode::Plain => (self.to, caller.address),
            ward_vm::CallMode::Delegate => (caller.address, caller.caller),
            ward_vm::CallMode::Code => (caller.address, caller.address),
        }
    }
}

/// The journal shared by the frames of a block.
type SharedJournal<S> = Arc<Mutex<Journal<View<S>>>>;

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere leaves the journal's maps consistent (every
    // operation is a few inserts): keep going.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// Checks `tx` against the limits and returns its intrinsic cost
    /// (`tx_base + tx_per_byte * encoded size`), which it pays before
    /// anything runs.
    ///
    /// # Errors
    ///
    /// Why it is refused: too large, a gas limit above the maximum, or one
    /// that does not cover the intrinsic cost.
    pub fn admit(&self, tx: &Tx) -> Result<u64, Inadmissible> {
        self.admit_sized(tx.gas_limit(), tx.encoded_len())
    }

    /// [`Executor::admit`] for a transaction of `bytes` bytes with gas
    /// limit `gas` (a signed transaction's size is its signed encoding's).
    ///
    /// # Errors
    ///
    /// As [`Executor::admit`].
    pub fn admit_sized(&self, gas: u64, bytes: u64) -> Result<u64, Inadmissible> {
        if bytes > self.limits.max_tx_bytes {
            return Err(Inadmissible::TooLarge {
                bytes,
                max: self.limits.max_tx_bytes,
            });
        }
        self.gas_within_maximum(gas)?;
        let cost = self.schedule.intrinsic_cost(bytes);
        if gas < cost {
            return Err(Inadmissible::IntrinsicCost { gas, cost, bytes });
        }
        Ok(cost)
    }

    /// Checks a transaction of any kind against the limits and returns
    /// what it pays before anything runs, in its own gas unit: Ward's
    /// intrinsic cost ([`Executor::admit_sized`]) for one in Ward gas,
    /// Ethereum's intrinsic gas for one in EVM gas, whose limit counts
    /// [`EVM_GAS_RATE`] Ward gas per unit against the chain's maximum.
    ///
    /// # Errors
    ///
    /// As [`Executor::admit`], each figure in the transaction's unit.
    pub fn admit_verified(&self, tx: &VerifiedTx) -> Result<Intrinsic, Inadmissible> {
        let (gas, bytes) = (tx.gas_limit(), tx.bytes().len() as u64);
        if !tx.gas_unit().is_ethereum() {
            return self.admit_sized(gas, bytes).map(Intrinsic::ward);
        }
        if bytes > self.limits.max_tx_bytes {
            return Err(Inadmissible::TooLarge {
                bytes,
                max: self.limits.max_tx_bytes,
            });
        }
        if let Some(initcode) = intrinsic::evm_initcode(tx.payload())
            && initcode.len() > MAX_INITCODE_SIZE
        {
            return Err(Inadmissible::InitcodeTooLarge {
                bytes: initcode.len() as u64,
                max: MAX_INITCODE_SIZE as u64,
            });
        }
        let intrinsic = Intrinsic::of(tx, 0);
        if intrinsic.to_ward(gas) > self.most_tx_gas() {
            return Err(Inadmissible::GasAboveMaximum {
                gas,
                max: self.most_tx_gas() / EVM_GAS_RATE,
            });
        }
        if gas < intrinsic.least_limit() {
            return Err(Inadmissible::IntrinsicCost {
                gas,
                cost: intrinsic.least_limit(),
                bytes,
            });
        }
        Ok(intrinsic)
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

    /// Forgets what the executor keeps between blocks about the store's
    /// state (the state tree's nodes near the root): call it after the
    /// store went back to an earlier state outside the executor (a dev
    /// chain's `revert`). Compiled modules are kept: they are named by
    /// their code's hash.
    pub fn forget_state_caches(&self) {
        self.tree_cache.clear();
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
        let txs: Vec<VerifiedTx> = txs.iter().cloned().map(Tx::vouched).collect();
        Ok(self
            .commit_block(
                &block::Item::all(&txs, height),
                height,
                time,
                &Patch::default(),
            )?
            .receipts)
    }

    /// Refuses a gas limit above [`ChainLimits::max_tx_gas`].
    fn gas_within_maximum(&self, gas: u64) -> Result<(), Inadmissible> {
        let max = self.most_tx_gas();
        if gas > max {
            return Err(Inadmissible::GasAboveMaximum { gas, max });
        }
        Ok(())
    }

    /// The most Ward gas one transaction may name: the chain's
    /// `max_tx_gas`, and no more than a block holds (one that no block
    /// can hold would wait in a mempool for ever).
    fn most_tx_gas(&self) -> u64 {
        self.limits.max_tx_gas.min(self.limits.max_block_gas)
    }

    /// Admits every transaction of a block and the block's total gas (in
    /// Ward gas); returns each one's intrinsic cost.
    fn admit_block(&self, items: &[block::Item<'_>]) -> Result<Vec<Intrinsic>, ExecError> {
        let mut block_gas = 0u64;
        let mut costs = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            let refused = |refusal| ExecError::Refused { index, refusal };
            let intrinsic = self.admit_verified(item.tx).map_err(refused)?;
            costs.push(intrinsic);
            block_gas = block_gas.saturating_add(intrinsic.to_ward(item.tx.gas_limit()));
            if block_gas > self.limits.max_block_gas {
                return Err(refused(Inadmissible::BlockGasAboveMaximum {
                    gas: block_gas,
                    max: self.limits.max_block_gas,
                }));
            }
        }
        Ok(costs)
    }

    /// Runs one admitted transaction, whose id in the block is `id` (and
    /// whose nonce is `nonce`, for a signed one), on the gas its limit
    /// leaves after its intrinsic cost, which its receipt includes (in
    /// the transaction's unit: [`Intrinsic`]).
    ///
    /// An Ethereum account (an address of [`Address::from_eth`]'s form)
    /// is served as Ethereum serves it: a call of an address with no
    /// contract moves the value and succeeds, whatever the input, and a
    /// signed deploy lands at the `CREATE` address of its 20 bytes and
    /// nonce ([`ward_chain::tx::eth::create_address`]).
    fn execute_tx(
        &self,
        journal: &SharedJournal<S>,
        (tx, id): (&VerifiedTx, Hash32),
        intrinsic: Intrinsic,
        height: u64,
        time: u64,
        trace: Option<&trace::Tracer>,
    ) -> Result<Receipt, ExecError> {
        let left = Gas::new(intrinsic.frames_gas(tx.gas_limit()));
        if let Some(trace) = trace {
            lock(trace).charge("intrinsic", intrinsic.ward_cost());
        }
        let (checkpoint, events_before) = {
            let mut j = lock(journal);
            j.begin_tx(self.limits.max_tx_event_bytes);
            access_list::seed(&mut j, tx)?;
            (j.checkpoint(), j.events().len())
        };
        let value = tx.value();
        let sender = &tx.sender();
        let (mut execution, address) = match tx.payload() {
            Payload::Call { to, input } => {
                let plain = (value > 0 && input.is_empty()) || sender.eth().is_some();
                if plain
                    && lock(journal).contract(to)?.is_none()
                    && self.precompile_at(to).is_none()
                {
                    // Value, no input and no contract: a plain transfer
                    // (without value, a call to no contract is a mistake,
                    // but for an Ethereum account, which Ethereum lets
                    // call any address).
                    move_value(journal, *sender, *to, value)?;
                    return Ok(transferred(tx.hash(), height, intrinsic.gas_used(0)));
                }
                let (code, kind) = self.code_of(journal, to)?;
                move_value(journal, *sender, *to, value)?;
                let frame = Frame {
                    value,
                    journal: journal.clone(),
                    address: *to,
                    caller: *sender,
                    origin: *sender,
                    height,
                    time,
                    chain_id: self.eth_chain_id,
                    read_only: false,
                    trace: trace.cloned(),
                    runtime_space: None,
                };
                let entry = kind.call_entry();
                (self.run(code, kind, entry, (input, id), left, frame)?, None)
            }
            Payload::Admin { contract, action } => {
                let at = admin::AdminAt {
                    height,
                    time,
                    trace,
                };
                let execution = self.administer(
                    journal,
                    (tx.input(), id),
                    (*sender, *contract, action),
                    left,
                    at,
                )?;
                (execution, None)
            }
            Payload::Deploy(Deploy {
                code,
                salt,
                kind,
                admin,
                ..
            }) => {
                let code_hash = Hash32(CodeHash::of(code).0);
                let address = match sender.eth() {
                    Some(from) if tx.is_sequenced() => {
                        Address::from_eth(ward_chain::tx::eth::create_address(from, tx.nonce()))
                    }
                    _ if runtime::is_runtime(*kind) => {
                        runtime_address(contract_address(sender, &code_hash, salt))
                    }
                    _ => contract_address(sender, &code_hash, salt),
                };
                if create::address_taken(&lock(journal), &address)? {
                    return Err(ExecError::InvalidTx(format!(
                        "a contract already exists at {address}, or an account that has sent transactions"
                    )));
                }
                let deployed = Deployed {
                    address,
                    code_hash,
                    deployer: *sender,
                    height,
                    time,
                    chain_id: self.eth_chain_id,
                    kind: *kind,
                    value,
                    admin: *admin,
                    trace: trace.cloned(),
                };
                move_value(journal, *sender, address, value)?;
                let execution = self.deploy(journal, (tx.input(), id), code, left, deployed)?;
                (execution, Some(address))
            }
        };
        execution.outcome.gas_used = Gas::new(intrinsic.gas_used(execution.outcome.gas_used.get()));
        let mut j = lock(journal);
        let events = if execution.outcome.status == Status::Ok {
            j.events().get(events_before..).unwrap_or_default().to_vec()
        } else {
            j.revert(checkpoint);
            Vec::new()
        };
        let address = address.filter(|_| execution.outcome.status == Status::Ok);
        Ok(receipt_of(tx.hash(), height, &execution, events, address))
    }

    /// The EVM runtime with no code, where `address` is an EVM
    /// precompile's (`0x01` to [`LAST_PRECOMPILE`]) without a contract and
    /// the chain has the runtime: a call there runs the precompile, as on
    /// Ethereum (`docs/evm.md`).
    fn precompile_at(&self, address: &Address) -> Option<(Code, CodeKind)> {
        let eth = address.eth()?;
        let (zeros, index) = eth.split_at(19);
        if zeros.iter().any(|b| *b != 0) || !(1..=LAST_PRECOMPILE).contains(&index[0]) {
            return None;
        }
        let name = RuntimeName::new(ward_chain::tx::eth::EVM_RUNTIME)?;
        let (runtime, _) = self.runtimes.get(&name)?;
        Some((
            Code::Runtime(runtime, Arc::new(runtime::head(&[], None))),
            CodeKind::Runtime(name),
        ))
    }

    /// What the contract at `address` runs (its compiled module, or its
    /// runtime and code), and its kind; at a precompile's address without
    /// a contract, the EVM runtime ([`Executor::precompile_at`]).
    fn code_of(
        &self,
        journal: &SharedJournal<S>,
        address: &Address,
    ) -> Result<(Code, CodeKind), ExecError> {
        let info = lock(journal).contract(address)?;
        let Some(info) = info else {
            return self
                .precompile_at(address)
                .ok_or_else(|| ExecError::InvalidTx(format!("no contract at {address}")));
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
            // Like a module, a contract's envelope head (its code, and
            // the runtime's analysis of it) is kept by its code hash.
            let head = self.runtimes.head(&name, &info.code_hash, || {
                self.stored_code(journal, address, &info.code_hash)
            })?;
            return Ok((Code::Runtime(runtime, head), info.kind));
        }
        // Code is stored by its hash and never changes: a module the cache
        // holds under the hash is that code, so the code is read (a copy of
        // it, every call) only to compile it. The contract's record, read
        // above, is what a parallel block's conflict check needs.
        let hash = CodeHash(info.code_hash.0);
        if let Some(Ok(module)) = self.cache.lookup(&hash) {
            return Ok((Code::Wasm(module, info.code_hash), info.kind));
        }
        let code = self.stored_code(journal, address, &info.code_hash)?;
        let module = self.cache.get_or_compile(&code).map_err(|f| {
            ExecError::State(StateError::Corrupt {
                table: "code",
                message: format!("stored code no longer compiles: {}", f.message),
            })
        })?;
        Ok((Code::Wasm(module, info.code_hash), info.kind))
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
}

/// The node fault of a frame that ended on the wall clock or was
/// cancelled: never a receipt.
fn interrupted(execution: &Execution) -> Option<NodeFault> {
    match execution.outcome.error.as_ref().map(|f| f.kind) {
        Some(ErrorKind::Timeout) => Some(NodeFault::new(
            FaultKind::Timeout,
            "the transaction ran past the executor's wall-clock limit",
        )),
        Some(ErrorKind::Cancelled) => Some(NodeFault::new(
            FaultKind::Cancelled,
            "the embedder cancelled the block's run",
        )),
        _ => None,
    }
}

/// Moves a transaction's `value` from `from` to `to` over the journal. The
/// block checked that the sender can pay, so a shortfall is the node's
/// fault, never a receipt.
fn move_value<S: StateCommit + Send + Sync + 'static>(
    journal: &SharedJournal<S>,
    from: Address,
    to: Address,
    value: u128,
) -> Result<(), ExecError> {
    if lock(journal).transfer(from, to, value)? {
        return Ok(());
    }
    Err(ExecError::Fault(NodeFault::new(
        FaultKind::Invariant,
        format!("{from} cannot send the {value} it was checked for"),
    )))
}
