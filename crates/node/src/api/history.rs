//! What this node keeps of the chain's history, as both wings read it:
//! a kept block (or why there is none), its transactions as the
//! executor replays them, and committed transactions and blocks replayed
//! on their parent states, traced (`traceTransaction`,
//! `debug_traceTransaction`, the flame graph of `GET
//! /trace/{tx}/flamegraph.svg`).

use ward_chain::tx::{ChainRules, VerifiedTx};
use ward_executor::{Trace, TracedTx};
use ward_primitives::Hash32;
use ward_state::{StatePrune, StateRead};

use crate::{
    error::{RpcError, exec_error},
    settings::ChainSettingsExt as _,
    state::Shared,
};

/// The block at `height`, or why this node has none: before a fork's
/// base, pruned, not kept, or not made yet.
pub(crate) fn block_record(
    shared: &Shared,
    height: u64,
) -> Result<ward_state::BlockRecord, RpcError> {
    if let Some(block) = shared.store().block(height).map_err(RpcError::state)? {
        return Ok(block);
    }
    let latest = shared.store().height().map_err(RpcError::state)?;
    if let Some(base) = shared.store().forked_at()
        && height < base
    {
        return Err(RpcError::not_found(format!(
            "block {height} is the source chain's, before this fork's base block {base}: ask the source"
        )));
    }
    if height <= latest && height > 0 {
        // Every height up to the latest was a block: this node does not
        // keep it (pruned, or its chain was restored from a snapshot
        // above it).
        use ward_state::StatePrune;
        let kept_from = shared.store().pruned_below().map_err(RpcError::state)?;
        return Err(RpcError::pruned(if height < kept_from {
            format!(
                "block {height} is pruned: this node keeps blocks from {kept_from} (--prune-history)"
            )
        } else {
            format!("block {height} is not kept here: this node's history starts later")
        }));
    }
    Err(RpcError::not_found(format!("no block {height}")))
}

/// The flame graph of committed transaction `hash`'s gas profile, as SVG.
///
/// # Errors
///
/// As `traceTransaction`; `internal` when the graph cannot be drawn.
pub(crate) fn flame_graph(shared: &Shared, hash: Hash32) -> Result<Vec<u8>, RpcError> {
    let trace = transaction(shared, hash)?;
    let symbols = crate::profile::TraceSymbols::of(&trace);
    let flame = crate::profile::flame(&trace, &symbols);
    let title = format!(
        "Gas of {hash}: {} ({} gas)",
        trace.receipt.status,
        flame.total()
    );
    flame
        .svg(&title)
        .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))
}

/// The trace of committed transaction `hash`, replayed.
pub(crate) fn transaction(shared: &Shared, hash: Hash32) -> Result<Trace, RpcError> {
    Ok(transaction_state(shared, hash)?.0.trace)
}

/// Committed transaction `hash` replayed traced, with the state around
/// it ([`ward_executor::TracedTx`]) and the height of its block.
pub(crate) fn transaction_state(
    shared: &Shared,
    hash: Hash32,
) -> Result<(TracedTx, u64), RpcError> {
    let store = &**shared.store();
    let Some(receipt) = store.receipt(&hash).map_err(RpcError::state)? else {
        let kept_from = store.pruned_below().map_err(RpcError::state)?;
        return Err(RpcError::not_found(if kept_from > 0 {
            format!(
                "no transaction {hash} in blocks from {kept_from} on (older ones are pruned here)"
            )
        } else {
            format!("no transaction {hash} in a block")
        }));
    };
    let height = receipt.height;
    let kept_from = store.pruned_below().map_err(RpcError::state)?;
    if height <= kept_from {
        return Err(RpcError::pruned(format!(
            "block {height}'s parent state is pruned: this node keeps it from block {kept_from} (--prune-history)"
        )));
    }
    let txs = stored_txs(shared, height)?;
    let index = receipt.index as usize;
    let traced = shared
        .reader(None)?
        .trace_block_tx_state(height, &txs, index)
        .map_err(|e| exec_error(&e))?;
    Ok((traced, height))
}

/// The traces of every transaction of committed block `height`,
/// replayed in one run of the block.
pub(crate) fn block(shared: &Shared, height: u64) -> Result<Vec<Trace>, RpcError> {
    replayable(shared, height)?;
    let txs = stored_txs(shared, height)?;
    shared
        .reader(None)?
        .trace_block(height, &txs)
        .map_err(|e| exec_error(&e))
}

/// Refuses block `height` when its parent state is not here to replay
/// it on (the genesis has none; a pruning node keeps a window).
pub(crate) fn replayable(shared: &Shared, height: u64) -> Result<(), RpcError> {
    let kept_from = shared.store().pruned_below().map_err(RpcError::state)?;
    if height == 0 || height <= kept_from {
        return Err(RpcError::pruned(format!(
            "block {height} has no parent state here to replay on (genesis has none; this node keeps state from block {kept_from})"
        )));
    }
    Ok(())
}

/// Committed block `height`'s transactions, as the executor replays them:
/// verified under this chain's rules, which vouch for what no one signed
/// (this node's own blocks hold a dev node's impersonated transactions).
pub(crate) fn stored_txs(shared: &Shared, height: u64) -> Result<Vec<VerifiedTx>, RpcError> {
    let rules = shared.settings().rules().vouching();
    block_record(shared, height)?
        .txs
        .iter()
        .map(|id| stored_tx(shared, &rules, id))
        .collect()
}

/// A stored transaction of a block, verified under `rules`.
fn stored_tx(shared: &Shared, rules: &ChainRules, id: &Hash32) -> Result<VerifiedTx, RpcError> {
    let missing = || RpcError::pruned(format!("transaction {id} is not kept here"));
    let bytes = shared
        .store()
        .transaction(id)
        .map_err(RpcError::state)?
        .ok_or_else(missing)?;
    VerifiedTx::from_bytes(&bytes, rules)
        .ok()
        .ok_or_else(|| RpcError::new(-32002, "fault", format!("transaction {id} does not decode")))
}
