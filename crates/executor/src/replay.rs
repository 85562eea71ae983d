//! Replays and traced runs: a committed block run again on its parent's
//! state (to check it, or to trace its transactions), and a traced
//! simulation of the next block's transaction. Nothing is committed.

use std::sync::{Arc, Mutex};

use crate::block::{self, Block, BlockTimings, Simulation};
use crate::error::ExecError;
use crate::trace::{Trace, Tracer};
use crate::view::View;
use crate::{Executor, SharedJournal, Speculation, lock};
use ward_chain::tx::VerifiedTx;
use ward_state::{ChangeSet, Journal, StateCommit};
use ward_vm::{FaultKind, ModuleCache, NodeFault};

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
            fund_senders: self.fund_senders,
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
        Ok(self.trace_block_tx_state(height, txs, index)?.trace)
    }

    /// [`Executor::trace_block_tx`] with the state around the
    /// transaction: what the block's transactions before it changed, and
    /// what they and it changed, over the state after block `height − 1`
    /// (a prestate tracer's two sides).
    ///
    /// # Errors
    ///
    /// As [`Executor::trace_block_tx`].
    pub fn trace_block_tx_state(
        &self,
        height: u64,
        txs: &[VerifiedTx],
        index: usize,
    ) -> Result<TracedTx, ExecError> {
        if index >= txs.len() {
            return Err(ExecError::InvalidTx(format!(
                "block {height} has no transaction {index}"
            )));
        }
        let TracedRun {
            mut traces,
            before,
            after,
        } = self.replay_traced(height, &txs[..=index], index)?;
        let trace = traces.pop().ok_or_else(|| {
            ExecError::Fault(NodeFault::new(
                FaultKind::Invariant,
                "a replay traced nothing",
            ))
        })?;
        Ok(TracedTx {
            trace,
            before,
            after,
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
        Ok(self.replay_traced(height, txs, 0)?.traces)
    }

    /// `txs`, the first of committed block `height`'s transactions,
    /// replayed on its parent's state, those from `traced_from` on
    /// traced: their traces.
    fn replay_traced(
        &self,
        height: u64,
        txs: &[VerifiedTx],
        traced_from: usize,
    ) -> Result<TracedRun, ExecError> {
        let (block, items) = self.stored_block_items(height, txs)?;
        if items.is_empty() {
            return Ok(TracedRun {
                traces: Vec::new(),
                before: ChangeSet::default(),
                after: ChangeSet::default(),
            });
        }
        let parent = ward_state::Snapshot::new(self.store.clone(), height - 1)?;
        self.traced_on(Arc::new(parent))?.trace_items(
            &items,
            traced_from,
            height,
            block.header.time,
        )
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
        self.simulate_traced_in(tx, height, time)
    }

    /// [`Executor::simulate_in`] with its trace.
    ///
    /// # Errors
    ///
    /// As [`Executor::simulate`].
    pub fn simulate_traced_in(
        &self,
        tx: &VerifiedTx,
        height: u64,
        time: u64,
    ) -> Result<(Simulation, Trace), ExecError> {
        let TracedRun {
            mut traces, after, ..
        } = self.traced_on(self.store.clone())?.trace_items(
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
            changes: after,
        };
        Ok((simulation, trace))
    }

    /// Runs `items` in order as block `height` over one journal, those
    /// from `traced_from` on traced: their traces, the changes of the
    /// items before `traced_from`, and the changes of them all.
    fn trace_items(
        &self,
        items: &[block::Item<'_>],
        traced_from: usize,
        height: u64,
        time: u64,
    ) -> Result<TracedRun, ExecError> {
        let intrinsic = self.admit_block(items)?;
        let journal: SharedJournal<S> =
            Arc::new(Mutex::new(Journal::new(View::plain(self.store.clone()))));
        let mut traces = Vec::new();
        let mut before = ChangeSet::default();
        for (index, item) in items.iter().enumerate() {
            if index == traced_from {
                before = lock(&journal).changes();
            }
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
        let after = journal
            .into_inner()
            .unwrap_or_else(|e| e.into_inner())
            .into_changes();
        Ok(TracedRun {
            traces,
            before,
            after,
        })
    }
}

/// What [`Executor::trace_items`] gives.
struct TracedRun {
    traces: Vec<Trace>,
    /// The changes of the items before the first traced one.
    before: ChangeSet,
    /// The changes of them all.
    after: ChangeSet,
}

/// A transaction of a committed block, replayed traced, with the state
/// around it ([`Executor::trace_block_tx_state`]): the state it started
/// on is its block's parent state with `before` over it, the state it
/// left is the same with `after` over it.
#[derive(Debug)]
pub struct TracedTx {
    /// Its trace.
    pub trace: Trace,
    /// What the block's transactions before it changed.
    pub before: ChangeSet,
    /// What they and it changed.
    pub after: ChangeSet,
}
