//! The block producer: one thread, the only writer of the store (with
//! its pipeline's committer).
//!
//! It waits for work (transactions with `--block-time-ms 0`, the next
//! interval otherwise, or a `mine` call), takes what fits from the
//! mempool, executes it as the next block, and once the block is durably
//! committed acknowledges its transactions, evicts nonces it used, and
//! hands the block to subscribers.
//!
//! Blocks go through a [`Pipeline`]: while block N's state root and
//! commit run on the committer thread, the producer takes block N+1 from
//! the mempool (each sender from its nonce after block N) and executes it
//! over block N's changes; only then does it wait for block N, and
//! acknowledge it. When nothing more is ready, it waits for the block in
//! flight before it sleeps, so a transaction is never acknowledged later
//! than its block's commit plus one block's execution. Anything out of
//! the ordinary (a refusal, a fault, a dev node's preset state, a revert)
//! first lands the block in flight, then takes the one-block-at-a-time
//! path below.
//!
//! A transaction refused by the executor (a nonce out of turn) is evicted
//! with the refusal. A node fault (a timeout, storage) while executing a
//! block of several transactions retries each alone, so the one that
//! caused it is found and evicted with the error, never retried forever; a
//! storage fault also stops production (`/health` reports it).

use std::{
    collections::BTreeMap,
    sync::Arc,
    time::{Duration, Instant},
};

use ward_chain::tx::VerifiedTx;
use ward_executor::{Block, BlockTimings, ExecError, Pipeline};
use ward_primitives::Address;
use ward_state::{RedbStore, StateRead};
use ward_vm::FaultKind;

use crate::{
    failure::Failure,
    mempool::{Mempool, Refusal},
    metrics::Metrics,
    pool::{MineWaiter as Waiter, Work},
    state::Shared,
};

/// Milliseconds since the Unix epoch: the block time a producer proposes.
#[allow(
    clippy::disallowed_methods,
    reason = "the producer's clock: a block's time is its producer's choice, recorded in its header"
)]
pub(crate) fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// A block executed and handed to the pipeline's committer, not yet
/// acknowledged.
struct InFlight {
    txs: Vec<VerifiedTx>,
    mine: Vec<Waiter>,
    started: Instant,
    time: u64,
    /// Each of its senders' next nonce after it.
    nonces: BTreeMap<Address, u64>,
}

impl InFlight {
    fn new(txs: Vec<VerifiedTx>, mine: Vec<Waiter>, started: Instant, time: u64) -> Self {
        let nonces = next_nonces(&txs);
        InFlight {
            txs,
            mine,
            started,
            time,
            nonces,
        }
    }
}

pub(crate) fn run(shared: &Arc<Shared>) {
    // Set by the pool before its first tick.
    let mut next_tick = ward_vm::clock::now();
    let mut pipeline = match Pipeline::new(shared.executor().clone()) {
        Ok(pipeline) => Some(pipeline),
        Err(error) => {
            tracing::warn!(%error, "no block pipeline: blocks are built one at a time");
            None
        }
    };
    let mut in_flight: Option<InFlight> = None;
    loop {
        let work = match next_work(shared, &mut next_tick, in_flight.as_ref()) {
            Some(work) => work,
            // Nothing more is ready: the block in flight lands first.
            None => {
                land(shared, &mut pipeline, in_flight.take());
                continue;
            }
        };
        let (txs, mine) = match work {
            Work::Block(txs, mine) => (txs, mine),
            Work::Revert(reverts) => {
                land(shared, &mut pipeline, in_flight.take());
                for (id, waiter) in reverts {
                    let _ = waiter.send(revert(shared, id));
                }
                continue;
            }
            Work::Stop => {
                land(shared, &mut pipeline, in_flight.take());
                break;
            }
        };
        // A dev node's preset state goes the one-block way (its block
        // time too, so that a chosen time is taken once).
        let preset = shared.pool().has_preset();
        let after = in_flight.as_ref().map(|flight| flight.time);
        let time = (pipeline.is_some() && !preset)
            .then(|| block_time(shared, after).ok())
            .flatten();
        let (Some(pipe), Some(time)) = (&mut pipeline, time) else {
            // One block at a time: a dev node's preset state, or a time
            // that could not be read.
            land(shared, &mut pipeline, in_flight.take());
            answer(mine, &produce(shared, txs));
            continue;
        };
        let started = ward_vm::clock::now();
        let pushed = pipe.push(&txs, time);
        let overlapped = pushed.committed.is_some();
        let previous_failed = acknowledge(
            shared,
            in_flight.take(),
            (pushed.committed, pipe.last_timings()),
        );
        match pushed.executed {
            Ok(_) => {
                if overlapped && !previous_failed {
                    shared.metrics().pipelined.inc();
                }
                in_flight = Some(InFlight::new(txs, mine, started, time));
            }
            // It ran over a block that never committed; production has
            // stopped on that fault, its transactions stay waiting.
            Err(_) if previous_failed => {
                shared.metrics().dropped.inc();
                answer(
                    mine,
                    &Err(Failure::Fault("the block before it failed".into())),
                );
            }
            // Nothing is in flight: the one-block path evicts what was
            // refused and finds a transaction that aborts its block.
            Err(_) => answer(mine, &produce(shared, txs)),
        }
    }
    // Whatever still waits will not be in a block from this node.
    shared.pool().shut_down();
    tracing::info!("block producer stopped");
}

fn answer(mine: Vec<Waiter>, block: &Result<Arc<Block>, Failure>) {
    for waiter in mine {
        let _ = waiter.send(block.clone());
    }
}

/// Waits for the block in flight, if any, and acknowledges it.
fn land(shared: &Shared, pipeline: &mut Option<Pipeline<RedbStore>>, flight: Option<InFlight>) {
    if flight.is_some() {
        let Some(pipeline) = pipeline else {
            return;
        };
        let outcome = pipeline.flush();
        acknowledge(shared, flight, (outcome, pipeline.last_timings()));
    }
}

/// Acknowledges the block that was in flight with its commit's outcome;
/// whether that commit failed.
fn acknowledge(
    shared: &Shared,
    flight: Option<InFlight>,
    (outcome, timings): (Option<Result<Block, ExecError>>, BlockTimings),
) -> bool {
    let Some(flight) = flight else {
        return false;
    };
    let outcome = outcome.unwrap_or_else(|| {
        Err(ExecError::Fault(ward_vm::NodeFault::new(
            FaultKind::Invariant,
            "the block in flight has no outcome",
        )))
    });
    match outcome {
        Ok(block) => {
            let block = Arc::new(block);
            let elapsed = ward_vm::clock::now() - flight.started;
            committed(shared, &block, &flight.txs, (elapsed, timings));
            answer(flight.mine, &Ok(block));
            false
        }
        Err(error) => {
            let failure = fault(shared, &error);
            tracing::error!(%error, txs = flight.txs.len(), "a block failed to commit: its transactions wait");
            answer(flight.mine, &Err(failure));
            true
        }
    }
}

/// What to do next: waits until there is a block to build or the node
/// stops, unless a block is in flight (`pending`): then `None` where it
/// would wait.
fn next_work(shared: &Shared, next_tick: &mut Instant, pending: Option<&InFlight>) -> Option<Work> {
    shared.pool().next_work(
        next_tick,
        pending.is_some(),
        || shared.is_faulted(),
        |mempool| take(shared, mempool, pending),
    )
}

/// The mempool's next block, after the block in flight (`pending`) if
/// any; a store failure reads as nothing ready.
fn take(shared: &Shared, mempool: &Mempool, pending: Option<&InFlight>) -> Vec<VerifiedTx> {
    let max_gas = shared.settings().max_block_gas;
    mempool
        .take(max_gas, |sender| {
            match pending.and_then(|flight| flight.nonces.get(sender)) {
                Some(next) => Ok(*next),
                None => shared.store().nonce(sender),
            }
        })
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "cannot read nonces for the next block");
            Vec::new()
        })
}

/// The time a query or an estimate runs at: the next block's as this
/// producer would choose it now (the clock, ahead by a dev node's
/// `evm_increaseTime`, or `setNextBlockTime`'s choice; after the last
/// block's), without using up that choice.
pub(crate) fn query_time(shared: &Shared) -> u64 {
    let last = shared
        .store()
        .height()
        .and_then(|height| shared.store().block(height))
        .ok()
        .flatten()
        .map_or(0, |b| b.header.time);
    let (chosen, offset) = shared.pool().clock();
    chosen
        .unwrap_or_else(|| unix_millis().saturating_add(offset))
        .max(shared.config().earliest_block_time(last))
}

/// The times an estimate runs at so that it is an upper bound for the
/// block the transaction lands in ([`query_time`] first): contracts see
/// seconds, so one run per second that block can take. With strict
/// seconds, or a time `setNextBlockTime` chose, that is the one second
/// [`query_time`] is in; otherwise a block on demand lands within about
/// a second of now, and an interval's within its interval, so the
/// seconds from [`query_time`]'s to the one a second or an interval
/// later (two runs, more only for intervals over a second).
pub(crate) fn estimate_times(shared: &Shared) -> Vec<u64> {
    let first = query_time(shared);
    if shared.config().strict_block_seconds() || shared.pool().clock().0.is_some() {
        return vec![first];
    }
    let reach = first.saturating_add(shared.config().block_time_ms.max(1000));
    let mut times = vec![first];
    let mut second = first / 1000;
    while second < reach / 1000 && times.len() < MAX_ESTIMATE_SECONDS {
        second += 1;
        times.push(second.saturating_mul(1000));
    }
    times
}

/// The most seconds [`estimate_times`] covers (an interval of minutes
/// is still estimated in at most this many runs).
const MAX_ESTIMATE_SECONDS: usize = 8;

/// `tx`'s gas estimate in `unit` on `reader` (capped at `cap`) as an upper bound
/// for the block it lands in: the largest of its estimates at
/// [`estimate_times`]. It fails (`Ok(Err(receipt))`) when it fails at
/// the first of them, the time a block made now would take; a time at
/// which it fails later adds nothing, since no gas limit helps it then.
pub(crate) fn estimate_gas<S>(
    shared: &Shared,
    reader: &ward_executor::Executor<S>,
    (tx, unit): (&ward_executor::Tx, ward_chain::tx::GasUnit),
    cap: u64,
) -> Result<Result<ward_executor::Estimate, ward_state::Receipt>, ExecError>
where
    S: ward_state::StateCommit + Send + Sync + 'static,
{
    let mut best: Option<ward_executor::Estimate> = None;
    for time in estimate_times(shared) {
        match reader.estimate_gas_in(tx, unit, time, cap)? {
            Ok(estimate) => {
                if best.as_ref().is_none_or(|b| estimate.gas > b.gas) {
                    best = Some(estimate);
                }
            }
            Err(receipt) if best.is_none() => return Ok(Err(receipt)),
            Err(_) => {}
        }
    }
    best.map(Ok).ok_or_else(|| {
        ExecError::Fault(ward_vm::NodeFault::new(
            FaultKind::Invariant,
            "an estimate ran at no time",
        ))
    })
}

/// The next block's time: as `setNextBlockTime` chose, else the clock
/// (ahead by a dev node's `evm_increaseTime`), and always after the last
/// block's (`NodeConfig::earliest_block_time`): the one in flight (at `after`), else the
/// store's latest.
fn block_time(shared: &Shared, after: Option<u64>) -> Result<u64, ExecError> {
    let last = match after {
        Some(time) => time,
        None => {
            let height = shared.store().height()?;
            shared.store().block(height)?.map_or(0, |b| b.header.time)
        }
    };
    // With strict seconds, a block pushed ahead of the clock (blocks
    // faster than one a second) carries the chain's clock with it, as
    // Hardhat's does: later blocks, an `evm_increaseTime` included, go on
    // from it.
    Ok(shared.pool().take_block_time(
        unix_millis(),
        shared.config().earliest_block_time(last),
        shared.config().strict_block_seconds(),
    ))
}

/// Builds, commits and announces a block of `txs`; a block of none
/// when asked for one.
fn produce(shared: &Shared, mut txs: Vec<VerifiedTx>) -> Result<Arc<Block>, Failure> {
    // A dev node's `setBalance`, `setStorage`, `setCode`: set at the
    // start of this block, or of the next one if this one fails.
    let preset = shared.pool().take_preset();
    // What was set since this block began wins over what it carried.
    let keep = |preset: ward_executor::Patch| shared.pool().keep_preset(preset);
    loop {
        let time = match block_time(shared, None) {
            Ok(time) => time,
            Err(e) => {
                keep(preset);
                return Err(fault(shared, &e));
            }
        };
        let started = ward_vm::clock::now();
        let result = if preset.is_empty() {
            shared.executor().execute_signed_block(&txs, time)
        } else {
            shared
                .executor()
                .execute_signed_block_presetting(&preset, &txs, time)
        };
        if result.is_err() && !matches!(result, Err(ExecError::Refused { .. })) {
            keep(preset.clone());
        }
        match result {
            Ok(block) => {
                let block = Arc::new(block);
                let timings = shared.executor().last_block_timings();
                committed(
                    shared,
                    &block,
                    &txs,
                    (ward_vm::clock::now() - started, timings),
                );
                return Ok(block);
            }
            Err(ExecError::Refused { index, refusal }) => {
                let tx = txs.remove(index.min(txs.len().saturating_sub(1)));
                tracing::warn!(tx = %tx.hash(), %refusal, "transaction refused at block time");
                shared.pool().evict(&tx.hash(), &Refusal::Rules(refusal));
            }
            Err(error) if txs.len() > 1 => {
                tracing::warn!(%error, txs = txs.len(), "block aborted: retrying its transactions one by one");
                let mut last = Err(fault(shared, &error));
                for tx in txs {
                    if shared.is_faulted() {
                        break;
                    }
                    last = produce(shared, vec![tx]);
                }
                return last;
            }
            Err(error) => {
                let failure = fault(shared, &error);
                if let Some(tx) = txs.first() {
                    tracing::error!(tx = %tx.hash(), %error, "transaction aborted its block: evicted");
                    // One that timed out: never again, and not its sender
                    // for a while.
                    shared.pool().evict_aborted(
                        tx,
                        is_timeout(&error),
                        &Refusal::Aborted(failure.to_string()),
                    );
                }
                return Err(failure);
            }
        }
    }
}

/// The error a node fault becomes; a storage or corruption fault also
/// stops production.
pub(crate) fn fault(shared: &Shared, error: &ExecError) -> Failure {
    let kind = match error {
        // A fork's upstream that did not answer: the store is unharmed,
        // and the next block may find it back.
        ExecError::State(ward_state::StateError::Upstream(_)) => None,
        ExecError::State(_) => Some(FaultKind::Storage),
        ExecError::Fault(fault) => Some(fault.kind()),
        _ => None,
    };
    if matches!(kind, Some(FaultKind::Storage | FaultKind::Corruption)) {
        tracing::error!(%error, "storage fault: block production stopped");
        shared.set_fault(error.to_string());
    }
    Failure::Fault(error.to_string())
}

/// Whether `error` is the executor's wall-clock backstop (a transaction's,
/// or a free read's budget).
pub(crate) fn is_timeout(error: &ExecError) -> bool {
    matches!(error, ExecError::Fault(fault) if fault.kind() == FaultKind::Timeout)
}

/// Each sender's next nonce after `txs`, a block's transactions in order:
/// each of them uses its nonce, and a block changes no other account's.
fn next_nonces(txs: &[VerifiedTx]) -> BTreeMap<Address, u64> {
    let mut next = BTreeMap::new();
    for tx in txs.iter().filter(|tx| tx.is_sequenced()) {
        let nonce: &mut u64 = next.entry(tx.sender()).or_default();
        *nonce = (*nonce).max(tx.nonce().saturating_add(1));
    }
    next
}

/// Acknowledges a committed block's transactions (`txs`, in order) and
/// evicts what their nonces made stale. The nonces come from the block
/// itself, not the store: while a block is acknowledged the pipeline may
/// already have committed the next one, whose transactions are not
/// stale.
pub(crate) fn committed(
    shared: &Shared,
    block: &Arc<Block>,
    txs: &[VerifiedTx],
    (elapsed, timings): (Duration, BlockTimings),
) {
    let metrics: &Metrics = shared.metrics();
    let header = &block.record.header;
    let hash = block.record.hash();
    let nonces = next_nonces(txs);
    shared
        .pool()
        .committed(hash, block, nonces.keys().copied(), |sender| {
            nonces.get(sender).copied()
        });
    metrics.blocks.inc();
    metrics
        .height
        .set(i64::try_from(header.height).unwrap_or(i64::MAX));
    metrics.block_seconds.observe(elapsed.as_secs_f64());
    metrics
        .root_seconds
        .observe(timings.state_root.as_secs_f64());
    let n = block.receipts.len();
    for receipt in &block.receipts {
        metrics
            .transactions
            .get_or_create(&Metrics::label("status", receipt.status.as_str()))
            .inc();
        metrics.gas_used.inc_by(receipt.gas_used);
        metrics
            .tx_seconds
            .observe(timings.execute.as_secs_f64() / n as f64);
    }
    tracing::info!(
        height = header.height,
        txs = n,
        hash = %hash,
        state_root = %header.state_root,
        ms = elapsed.as_millis() as u64,
        "block committed"
    );
    let _ = shared
        .blocks()
        .send(Arc::new(crate::announce::Announced::new(block.clone())));
    shared
        .snapshots()
        .after_commit(shared.store(), header.height);
    prune(shared, header.height);
}

/// How often (in blocks) a pruning node deletes what it no longer keeps.
pub const PRUNE_EVERY: u64 = 16;

/// With `--prune-history N`, every [`PRUNE_EVERY`] blocks: what only
/// heights before the last N need is deleted (tree nodes and values,
/// blocks, transactions, receipts), and the file compacted when that left
/// most of it free.
fn prune(shared: &Shared, height: u64) {
    use ward_state::StatePrune;
    let Some(keep) = shared.config().prune_history else {
        return;
    };
    if !height.is_multiple_of(PRUNE_EVERY) || height <= keep {
        return;
    }
    let keep_from = height - keep;
    match shared.store().prune(keep_from) {
        Ok(pruned) => tracing::debug!(
            keep_from,
            nodes = pruned.nodes,
            values = pruned.values,
            blocks = pruned.blocks,
            txs = pruned.txs,
            "pruned"
        ),
        // The block stands; the next round tries again.
        Err(error) => {
            tracing::warn!(%error, keep_from, "pruning failed");
            return;
        }
    }
    match shared
        .store()
        .compact_if_sparse(ward_state::COMPACT_FROM_BYTES)
    {
        Ok(Some((before, after))) => tracing::info!(before, after, "state file compacted"),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "compacting the state file failed"),
    }
}

/// Puts the store back to snapshot `id` and forgets what the chain went
/// on to do: transactions waiting (their waiters hear `reverted`), state
/// set for the next block, its chosen time. Runs on the producer's
/// thread, which is then between blocks. Returns the height it went back
/// to.
fn revert(shared: &Shared, id: u64) -> Result<u64, Failure> {
    if !shared.store().restore_savepoint(id)? {
        return Err(Failure::NotFound(format!(
            "no snapshot {id} (a revert uses up its snapshot and every later one)"
        )));
    }
    shared.executor().forget_state_caches();
    let height = shared.store().height()?;
    shared.pool().reverted(id, height);
    shared
        .metrics()
        .height
        .set(i64::try_from(height).unwrap_or(i64::MAX));
    tracing::info!(id, height, "reverted to a dev snapshot");
    Ok(height)
}
