//! Blocks: running transactions in order over one journal, then the
//! header (parent, roots) and one commit.
//!
//! A block runs [`VerifiedTx`]s, the one form of a transaction that runs
//! (`ward_chain::tx`), whatever their kind: one signed (by a Ward or an
//! Ethereum key) or impersonated is stored under its hash and carries its
//! sender's next nonce, which the block advances whether it succeeds or
//! fails; an embedder's unsigned one ([`Executor::execute_block`]) has no
//! nonce and is stored under its [`tx_id`](crate::tx_id).
//!
//! The header commits to the transactions' ids, the receipts' consensus
//! hashes and the state tree's root after the block
//! ([`ward_chain::tree`]), whose new nodes are committed with the block.

use crate::Patch;

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use ward_chain::{
    block::{Header, merkle_root},
    tree::{self, TreeError},
    tx::{Payload, VerifiedTx},
};
use ward_primitives::{Address, Hash32};
use ward_state::{BlockRecord, ChangeSet, Journal, Receipt, StateCommit, StateError, StateTree};
use ward_vm::{ErrorKind, FaultKind, NodeFault, Status};

use crate::{
    ExecError, Executor, Inadmissible, Intrinsic, SharedJournal, View, lock, tx::id_at,
    view::Pending,
};

/// A committed block: its record (header and transaction ids) and its
/// receipts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    /// The header and the transactions' ids.
    pub record: BlockRecord,
    /// One receipt per transaction, in order.
    pub receipts: Vec<Receipt>,
}

/// A block executed and rooted but not committed
/// ([`Executor::prepare_signed_block`]).
#[derive(Debug)]
pub struct PreparedBlock {
    /// The block as it will be committed.
    pub block: Block,
    changes: ChangeSet,
    timings: BlockTimings,
    /// The tree's new nodes near the root, cached once committed.
    fresh: tree::FreshNodes,
}

/// A block executed over the state before it, neither rooted nor
/// committed ([`Executor::execute_items`]).
#[derive(Debug)]
pub(crate) struct Executed {
    pub(crate) height: u64,
    time: u64,
    ids: Vec<Hash32>,
    receipts: Vec<Receipt>,
    pub(crate) changes: ChangeSet,
    took: std::time::Duration,
}

/// What a transaction would do ([`Executor::simulate`]): nothing of it is
/// committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Simulation {
    /// Its receipt, as the next block would record it.
    pub receipt: Receipt,
    /// The state it would change (code, contracts, storage, nonces).
    pub changes: ChangeSet,
}

/// Where a block's time went ([`Executor::last_block_timings`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BlockTimings {
    /// Running the transactions.
    pub execute: std::time::Duration,
    /// Computing the state tree's update and root.
    pub state_root: std::time::Duration,
    /// Writing the block durably.
    pub commit: std::time::Duration,
}

/// A transaction as a block runs it: the transaction and what its
/// receipt and encoding are stored under.
#[derive(Clone, Copy)]
pub(crate) struct Item<'a> {
    pub(crate) tx: &'a VerifiedTx,
    pub(crate) id: Hash32,
}

impl<'a> Item<'a> {
    /// `tx` at `index` of block `height`: stored under its hash, or an
    /// embedder's unsigned one (which two identical copies may share)
    /// under its [`tx_id`] there.
    pub(crate) fn at(tx: &'a VerifiedTx, height: u64, index: usize) -> Item<'a> {
        let id = if tx.is_sequenced() {
            tx.hash()
        } else {
            id_at(tx.hash(), height, index as u32)
        };
        Item { tx, id }
    }

    /// `txs` as block `height`'s items.
    pub(crate) fn all(txs: &'a [VerifiedTx], height: u64) -> Vec<Item<'a>> {
        txs.iter()
            .enumerate()
            .map(|(index, tx)| Item::at(tx, height, index))
            .collect()
    }

    /// Its nonce, for a transaction that runs in nonce order.
    pub(crate) fn nonce(&self) -> Option<u64> {
        self.tx.is_sequenced().then(|| self.tx.nonce())
    }
}

/// The exit code of an EVM frame that halted (the EVM runtime's, as it
/// reverts: `docs/evm.md`).
const EVM_HALTED: i32 = 2;

/// The receipt of a signed transaction that could not run at all: a call
/// to no contract, a deploy to a taken address (for an Ethereum
/// transaction, a creation that halts at once).
fn unrunnable(tx: &VerifiedTx, height: u64, intrinsic: Intrinsic, message: String) -> Receipt {
    let kind = match tx.payload() {
        Payload::Call { .. } | Payload::Admin { .. } => ErrorKind::NoContract,
        Payload::Deploy(_) => ErrorKind::AddressTaken,
    };
    // Ethereum runs a creation at a taken address (EIP-684, EIP-7610) and
    // halts it at once, using all its gas: the EVM runtime's halt.
    let halts = kind == ErrorKind::AddressTaken && tx.gas_unit().is_ethereum();
    let (status, exit_code, gas_used, error_kind) = if halts {
        (Status::Reverted, EVM_HALTED, tx.gas_limit(), None)
    } else {
        let name = Some(kind.as_str().to_owned());
        (kind.status(), 0, intrinsic.gas_used(0), name)
    };
    Receipt {
        tx: Hash32::default(),
        height,
        index: 0,
        status,
        exit_code,
        output: Vec::new(),
        gas_used,
        events: Vec::new(),
        error_kind,
        error_message: Some(message),
        address: None,
        runtime_gas: None,
        fee: 0,
    }
}

/// The state a genesis of `accounts` writes: their balances (zeros left
/// out).
fn genesis_changes(accounts: &BTreeMap<Address, u128>) -> ChangeSet {
    ChangeSet {
        balances: accounts
            .iter()
            .filter(|(_, balance)| **balance != 0)
            .map(|(address, balance)| (*address, *balance))
            .collect(),
        ..ChangeSet::default()
    }
}

/// The state root [`Executor::genesis`] writes for `accounts`, computed
/// without a store: what a node records before it writes the state.
///
/// # Errors
///
/// When the tree cannot be computed (a fault).
pub fn genesis_root(accounts: &BTreeMap<Address, u128>) -> Result<Hash32, ExecError> {
    let empty = ward_state::MemoryStore::default();
    let changes = genesis_changes(accounts).tree_changes();
    tree::update(&StateTree(&empty), 0, &changes)
        .map(|update| update.root)
        .map_err(tree_error)
}

fn tree_error(error: TreeError<StateError>) -> ExecError {
    match error {
        TreeError::Store(e) => ExecError::State(e),
        TreeError::Tree(message) => {
            ExecError::Fault(NodeFault::new(FaultKind::Corruption, message))
        }
    }
}

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// Writes the state a chain starts with, before block 1: the
    /// balances of `accounts` (zero balances are left out), as version 0
    /// of the state tree, so that queries and proofs at height 0 show
    /// them. Returns the genesis state root.
    ///
    /// # Errors
    ///
    /// A state failure, or a store that has a block or a genesis state
    /// already (a fault: nothing is written).
    pub fn genesis(&self, accounts: &BTreeMap<Address, u128>) -> Result<Hash32, ExecError> {
        self.genesis_state(genesis_changes(accounts))
    }

    /// [`Executor::genesis`] for a whole state: balances, nonces,
    /// contracts with their code and storage (`changes`' block, receipts
    /// and transactions must be empty). What a test that starts from a
    /// given state writes: Ethereum's state tests' `pre`
    /// (`testing/statetests`).
    ///
    /// # Errors
    ///
    /// As [`Executor::genesis`]; a change set that closes a block or
    /// carries receipts is refused as a fault, and nothing is written.
    pub fn genesis_state(&self, mut changes: ChangeSet) -> Result<Hash32, ExecError> {
        if self.store.height()? != 0 {
            return Err(ExecError::Fault(NodeFault::new(
                FaultKind::Invariant,
                "a genesis state goes into a store without blocks",
            )));
        }
        if changes.block.is_some() || !changes.receipts.is_empty() || !changes.txs.is_empty() {
            return Err(ExecError::Fault(NodeFault::new(
                FaultKind::Invariant,
                "a genesis state holds no block, receipt or transaction",
            )));
        }
        changes.tree = tree::update(&StateTree(&*self.store), 0, &changes.tree_changes())
            .map_err(tree_error)?;
        let root = changes.tree.root;
        self.store.commit(changes)?;
        Ok(root)
    }

    /// [`Executor::execute_signed_block`] after applying `preset` at the
    /// start of the block: what a dev node's `setBalance`, `setStorage`
    /// and `setCode` do (never a real chain's: it makes value from
    /// nothing).
    ///
    /// # Errors
    ///
    /// As [`Executor::execute_signed_block`].
    pub fn execute_signed_block_presetting(
        &self,
        preset: &Patch,
        txs: &[VerifiedTx],
        time: u64,
    ) -> Result<Block, ExecError> {
        let height = self.store.height()? + 1;
        self.commit_block(&Item::all(txs, height), height, time, preset)
    }

    /// Executes signed transactions (chain and signature already checked:
    /// [`VerifiedTx`]) in order as block `store.height() + 1` at `time`,
    /// and commits it. Each must carry its sender's next nonce, counting
    /// the block's earlier transactions; the block advances it whatever
    /// the transaction's outcome.
    ///
    /// # Errors
    ///
    /// A state failure, or a refused transaction ([`ExecError::Refused`]
    /// with [`Inadmissible::Nonce`] for a nonce out of turn); nothing is
    /// committed.
    pub fn execute_signed_block(&self, txs: &[VerifiedTx], time: u64) -> Result<Block, ExecError> {
        let height = self.store.height()? + 1;
        self.commit_block(&Item::all(txs, height), height, time, &Patch::default())
    }

    /// What `tx` would do as the only transaction of the next block at
    /// `time`, without committing anything.
    ///
    /// # Errors
    ///
    /// As [`Executor::execute_signed_block`].
    pub fn simulate(&self, tx: &VerifiedTx, time: u64) -> Result<Simulation, ExecError> {
        let height = self.store.height()? + 1;
        self.simulate_in(tx, height, time)
    }

    /// What `tx` would do on the state this executor reads, in a block
    /// numbered `height` at `time`, without committing anything: the
    /// state after block N with block N's own number and time is how an
    /// Ethereum call at block N runs (geth's `eth_call`).
    ///
    /// # Errors
    ///
    /// As [`Executor::execute_signed_block`].
    pub fn simulate_in(
        &self,
        tx: &VerifiedTx,
        height: u64,
        time: u64,
    ) -> Result<Simulation, ExecError> {
        self.simulate_item(Item::at(tx, height, 0), height, time)
    }

    /// Runs `item` alone as block `height` without committing.
    fn simulate_item(
        &self,
        item: Item<'_>,
        height: u64,
        time: u64,
    ) -> Result<Simulation, ExecError> {
        let (mut receipts, changes) =
            self.run_items(&[item], (height, time), &Patch::default(), None)?;
        let receipt = receipts
            .pop()
            .ok_or_else(|| ExecError::Fault(NodeFault::new(FaultKind::Invariant, "no receipt")))?;
        Ok(Simulation { receipt, changes })
    }

    /// Runs `items` as block `height`, builds its header and commits it.
    pub(crate) fn commit_block(
        &self,
        items: &[Item<'_>],
        height: u64,
        time: u64,
        preset: &Patch,
    ) -> Result<Block, ExecError> {
        let prepared = self.prepare_items(items, height, time, preset)?;
        self.commit_prepared(prepared)
    }

    /// Executes signed transactions as block `store.height() + 1` at
    /// `time` and builds its header, committing nothing: what a replica
    /// checks against a proposed header before [`Executor::commit_prepared`]
    /// makes it durable.
    ///
    /// # Errors
    ///
    /// As [`Executor::execute_signed_block`].
    pub fn prepare_signed_block(
        &self,
        txs: &[VerifiedTx],
        time: u64,
    ) -> Result<PreparedBlock, ExecError> {
        let height = self.store.height()? + 1;
        self.prepare_items(&Item::all(txs, height), height, time, &Patch::default())
    }

    /// Commits a block [`Executor::prepare_signed_block`] built, if the
    /// store is still where it was then.
    ///
    /// # Errors
    ///
    /// A state failure, or a store that moved on since (a fault: nothing
    /// is committed).
    pub fn commit_prepared(&self, prepared: PreparedBlock) -> Result<Block, ExecError> {
        let PreparedBlock {
            block,
            mut changes,
            timings,
            fresh,
        } = prepared;
        let height = self.store.height()?;
        if height + 1 != block.record.header.height {
            return Err(ExecError::Fault(NodeFault::new(
                FaultKind::Invariant,
                format!(
                    "block {} was prepared on another state: the store is at {height}",
                    block.record.header.height
                ),
            )));
        }
        let started = ward_vm::clock::now();
        changes.block = Some(block.record.clone());
        changes.receipts = block.receipts.clone();
        self.store.commit(changes)?;
        self.tree_cache.keep(fresh);
        *lock(&self.timings) = BlockTimings {
            commit: ward_vm::clock::now() - started,
            ..timings
        };
        Ok(block)
    }

    /// Runs `items` as block `height` and builds its header and changes.
    fn prepare_items(
        &self,
        items: &[Item<'_>],
        height: u64,
        time: u64,
        preset: &Patch,
    ) -> Result<PreparedBlock, ExecError> {
        let executed = self.execute_items(items, (height, time), preset, None)?;
        self.seal(executed)
    }

    /// Runs `items` as block `height` at `time` over the store, with
    /// `pending` (the block before, not yet committed) above it: its
    /// receipts and changes, neither rooted nor committed.
    pub(crate) fn execute_items(
        &self,
        items: &[Item<'_>],
        (height, time): (u64, u64),
        preset: &Patch,
        pending: Option<&Arc<Pending>>,
    ) -> Result<Executed, ExecError> {
        let started = ward_vm::clock::now();
        let (receipts, mut changes) = self.run_items(items, (height, time), preset, pending)?;
        changes.txs = items
            .iter()
            .map(|item| (item.id, item.tx.bytes().to_vec()))
            .collect();
        Ok(Executed {
            height,
            time,
            ids: items.iter().map(|item| item.id).collect(),
            receipts,
            changes,
            took: ward_vm::clock::now() - started,
        })
    }

    /// Roots an executed block over the store, which holds the block
    /// before it: its state tree update and header.
    pub(crate) fn seal(&self, executed: Executed) -> Result<PreparedBlock, ExecError> {
        let Executed {
            height,
            time,
            ids,
            receipts,
            mut changes,
            took,
        } = executed;
        let started = ward_vm::clock::now();
        let parent = match height.checked_sub(1) {
            Some(0) | None => Hash32::default(),
            Some(previous) => self
                .store
                .block(previous)?
                .map(|b| b.hash())
                .ok_or_else(|| {
                    ExecError::Fault(NodeFault::new(
                        FaultKind::Corruption,
                        format!("block {previous} is missing"),
                    ))
                })?,
        };
        let (update, fresh) = tree::update_with(
            &StateTree(&*self.store),
            Some(&self.tree_cache),
            height,
            &changes.tree_changes(),
        )
        .map_err(tree_error)?;
        changes.tree = update;
        let rooted = ward_vm::clock::now();
        let receipt_hashes: Vec<Hash32> = receipts.iter().map(Receipt::consensus_hash).collect();
        let record = BlockRecord {
            header: Header {
                height,
                parent,
                time,
                tx_root: merkle_root(&ids),
                receipts_root: merkle_root(&receipt_hashes),
                state_root: changes.tree.root,
            },
            txs: ids,
        };
        Ok(PreparedBlock {
            block: Block { record, receipts },
            changes,
            timings: BlockTimings {
                execute: took,
                state_root: rooted - started,
                commit: std::time::Duration::ZERO,
            },
            fresh,
        })
    }

    /// Where the last committed block's time went.
    pub fn last_block_timings(&self) -> BlockTimings {
        *lock(&self.timings)
    }

    /// Runs `items` in order over one journal (on several threads when the
    /// executor has them, with the same result): their receipts and the
    /// block's state changes (no header, nothing committed).
    fn run_items(
        &self,
        items: &[Item<'_>],
        (height, time): (u64, u64),
        preset: &Patch,
        pending: Option<&Arc<Pending>>,
    ) -> Result<(Vec<Receipt>, ChangeSet), ExecError> {
        let intrinsic = self.admit_block(items)?;
        let journal: SharedJournal<S> = Arc::new(Mutex::new(Journal::new(View::over(
            self.store.clone(),
            pending.cloned(),
            false,
        ))));
        preset.apply(&journal, height)?;
        let receipts = if self.threads > 1 && items.len() > 1 {
            self.run_parallel(&journal, items, &intrinsic, (height, time), pending)?
        } else {
            let mut receipts = Vec::with_capacity(items.len());
            for (index, (item, intrinsic)) in items.iter().zip(intrinsic).enumerate() {
                receipts.push(self.run_item(
                    &journal,
                    item,
                    intrinsic,
                    index,
                    (height, time),
                    None,
                )?);
            }
            receipts
        };
        // The collector is credited once per block, so that transactions
        // never conflict over its balance (`crate::parallel`).
        if let Some(collector) = self.fees().collector {
            let fees = receipts
                .iter()
                .try_fold(0u128, |sum, receipt| sum.checked_add(receipt.fee));
            let mut j = lock(&journal);
            let credited = fees.and_then(|fees| j.balance(&collector).ok()?.checked_add(fees));
            match credited {
                Some(balance) if fees != Some(0) => j.set_balance(collector, balance),
                Some(_) => {}
                None => {
                    return Err(ExecError::Fault(NodeFault::new(
                        FaultKind::Invariant,
                        "the fee collector's balance would overflow",
                    )));
                }
            }
        }
        let journal = Arc::try_unwrap(journal)
            .map_err(|_| {
                ExecError::Fault(NodeFault::new(
                    FaultKind::Invariant,
                    "the block's journal is still shared after its last transaction",
                ))
            })?
            .into_inner()
            .unwrap_or_else(|e| e.into_inner());
        Ok((receipts, journal.into_changes()))
    }

    /// Runs the transaction at `index` of a block over `journal`: its
    /// nonce checked and advanced (whatever its outcome), its receipt.
    pub(crate) fn run_item(
        &self,
        journal: &SharedJournal<S>,
        item: &Item<'_>,
        intrinsic: Intrinsic,
        index: usize,
        (height, time): (u64, u64),
        trace: Option<&crate::trace::Tracer>,
    ) -> Result<Receipt, ExecError> {
        let time = self.contract_time(time);
        let sender = item.tx.sender();
        let next_nonce = match item.nonce() {
            None => None,
            Some(nonce) => {
                let expected = lock(journal).nonce(&sender)?;
                // The last nonce could never be followed: refused too.
                match nonce.checked_add(1) {
                    Some(next) if nonce == expected => Some(next),
                    _ => {
                        return Err(ExecError::Refused {
                            index,
                            refusal: Inadmissible::Nonce {
                                expected,
                                got: nonce,
                            },
                        });
                    }
                }
            }
        };
        if matches!(item.tx.origin(), ward_chain::tx::Sender::Ethereum(_)) {
            // EIP-3607: an address that holds code sends nothing signed.
            let code = lock(journal).contract(&sender)?.map(|c| c.code_hash);
            if code.is_some_and(|hash| hash.0 != ward_vm::CodeHash::of(&[]).0) {
                return Err(ExecError::Refused {
                    index,
                    refusal: Inadmissible::SenderNotEoa { sender },
                });
            }
        }
        collect_inbox(journal, &sender)?;
        let max_fee = self.reserve_fee(journal, item, index)?;
        if let Some(next) = next_nonce {
            // Before it runs, as Ethereum advances it (its code sees the
            // sender's nonce so: EIP-161's existence), and outside its
            // checkpoint: a failed transaction uses its nonce too.
            lock(journal).set_nonce(sender, next);
        }
        let mut receipt =
            match self.execute_tx(journal, (item.tx, item.id), intrinsic, height, time, trace) {
                Ok(receipt) => receipt,
                // A signed transaction that cannot run still pays its
                // intrinsic cost and uses its nonce: a receipt, not a
                // block the whole chain can be made to abort.
                Err(ExecError::InvalidTx(message)) if item.tx.is_sequenced() => {
                    unrunnable(item.tx, height, intrinsic, message)
                }
                Err(error) => return Err(error),
            };
        // The fee for the gas used, whatever the outcome; the rest of what
        // was reserved goes back.
        receipt.fee = u128::from(receipt.gas_used.min(item.tx.gas_limit())) * item.tx.gas_price();
        let refund = max_fee - receipt.fee;
        if refund > 0 {
            let mut j = lock(journal);
            let balance = j.balance(&sender)?.checked_add(refund).ok_or_else(|| {
                ExecError::Fault(NodeFault::new(
                    FaultKind::Invariant,
                    format!("{sender}'s balance would overflow with its refund"),
                ))
            })?;
            j.set_balance(sender, balance);
        }
        receipt.tx = item.id;
        receipt.index = index as u32;
        Ok(receipt)
    }

    /// Checks that `item`'s sender can pay `gas_limit × gas_price +
    /// value` (after giving it what it lacks, when senders are funded:
    /// [`Executor::with_funded_senders`]) and takes the gas part from its
    /// balance: the most the transaction can cost, of which
    /// [`Executor::run_item`] refunds what it did not use. Returns what
    /// was taken.
    fn reserve_fee(
        &self,
        journal: &SharedJournal<S>,
        item: &Item<'_>,
        index: usize,
    ) -> Result<u128, ExecError> {
        let refused = |refusal| ExecError::Refused { index, refusal };
        let cost = self.fees().cost(item.tx).map_err(refused)?;
        if cost.need == Some(0) {
            return Ok(0);
        }
        let sender = item.tx.sender();
        let mut j = lock(journal);
        let mut have = j.balance(&sender)?;
        if let Some(need) = cost.need.filter(|need| self.fund_senders && *need > have) {
            j.set_balance(sender, need);
            have = need;
        }
        cost.affordable(have).map_err(refused)?;
        if cost.max_fee > 0 {
            j.set_balance(sender, have - cost.max_fee);
        }
        Ok(cost.max_fee)
    }
}

/// Moves what waits in `sender`'s inbox (`Address::inbox`: value an EVM
/// contract sent to its 20-byte form) into its balance, before its
/// transaction reserves its fee.
fn collect_inbox<S: StateCommit>(
    journal: &SharedJournal<S>,
    sender: &Address,
) -> Result<(), ExecError> {
    let Some(inbox) = sender.inbox() else {
        return Ok(());
    };
    let mut j = lock(journal);
    let waiting = j.balance(&inbox)?;
    j.transfer(inbox, *sender, waiting)?;
    Ok(())
}
