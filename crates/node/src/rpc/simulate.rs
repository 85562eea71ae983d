//! Runs that commit nothing and show what happened: `simulateTransaction`
//! (with `"trace": true`, the frames too) and `traceTransaction`, a
//! committed transaction replayed on its block's parent state, each with
//! its gas profile on request (`"profile": true`), and the profile's flame
//! graph (`GET /trace/{tx}/flamegraph.svg`). `docs/debugging.md`.

use super::*;
use ward_executor::{BlockTx, Trace};
use ward_state::StatePrune;

pub(super) fn simulate(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let reader = shared.reader(None)?;
    let time = unix_millis();
    let (tx, payload) = if let Some(raw) = p.bytes("tx")? {
        let traced = p.bool("trace")?;
        let profiled = p.bool("profile")?;
        p.done()?;
        let tx = SignedTx::verify_bytes(&raw, &shared.settings.chain_id).map_err(RpcError::from)?;
        within_read_cap(shared, tx.body().gas_limit)?;
        let payload = tx.body().payload.clone();
        ((BlockTx::Signed(Box::new(tx)), (traced, profiled)), payload)
    } else {
        let from = p.address("from")?;
        let payload = payload(shared, &mut p)?;
        let gas_limit = p.u64("gas")?.unwrap_or(DEFAULT_GAS);
        let value = p.amount("value")?.unwrap_or(0);
        let traced = p.bool("trace")?;
        let profiled = p.bool("profile")?;
        // Accepted for the same shape as sendTransaction; a simulation
        // has no nonce to check, pays no fee and waits for nothing.
        let _ = (p.u64("nonce")?, p.bool("wait")?, p.amount("gas_price")?);
        p.done()?;
        within_read_cap(shared, gas_limit)?;
        let tx = Tx {
            sender: from,
            gas_limit,
            value,
            payload: payload.clone(),
        };
        ((BlockTx::Unsigned(tx), (traced, profiled)), payload)
    };
    let ((tx, (traced, profiled)), mut trace) = (tx, None);
    if profiled && !traced {
        return Err(RpcError::invalid_params(
            "a profile comes with a trace: add \"trace\": true",
        ));
    }
    let simulation = if traced {
        let (simulation, traced) = reader
            .simulate_traced(&tx, time)
            .map_err(|e| exec_error(&e))?;
        trace = Some(traced);
        simulation
    } else {
        match tx {
            BlockTx::Signed(tx) => reader.simulate(&tx, time),
            BlockTx::Unsigned(tx) => reader.simulate_unsigned(tx, time),
        }
        .map_err(|e| exec_error(&e))?
    };
    let receipt = &simulation.receipt;
    let own = match &payload {
        Payload::Deploy { code, .. } => receipt
            .address
            .zip(Schema::from_module(code).ok().flatten().map(Arc::new)),
        Payload::Call { .. } | Payload::Admin { .. } => None,
    };
    let mut out = match &payload {
        Payload::Call { to, input } => {
            receipt_json(shared, receipt, Some(Called { to, input }), None)
        }
        Payload::Deploy { .. } | Payload::Admin { .. } => {
            receipt_json(shared, receipt, None, own.clone())
        }
    };
    out["storage"] = simulation
        .changes
        .storage
        .iter()
        .map(|((address, key), value)| {
            json!({
                "address": address.to_string(),
                "key": hex(key),
                "value": value.as_deref().map(hex),
            })
        })
        .collect();
    if let Some(trace) = trace {
        out["trace"] = trace_json(shared, &trace, own.as_ref());
        if profiled {
            out["trace"]["profile"] = profile_json(&trace);
        }
    }
    Ok(out)
}

/// A trace's gas profile as JSON ([`crate::profile::profile_json`]).
fn profile_json(trace: &Trace) -> Value {
    let symbols = crate::profile::TraceSymbols::of(trace);
    crate::profile::profile_json(&crate::profile::flame(trace, &symbols))
}

/// `traceTransaction {tx, profile}`: the committed transaction replayed on
/// the state after its block's parent, with the transactions before it in
/// its block run first; with `profile`, its gas profile too.
pub(super) fn trace_transaction(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let hash = p.hash("tx")?;
    let profiled = p.bool("profile")?;
    p.done()?;
    let trace = replay(shared, hash)?;
    let mut out = trace_json(shared, &trace, None);
    if profiled {
        out["profile"] = profile_json(&trace);
    }
    Ok(out)
}

/// The flame graph of committed transaction `hash`'s gas profile, as SVG.
///
/// # Errors
///
/// As `traceTransaction`; `internal` when the graph cannot be drawn.
pub(crate) fn flame_graph(shared: &Shared, hash: Hash32) -> Result<Vec<u8>, RpcError> {
    let trace = replay(shared, hash)?;
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
fn replay(shared: &Shared, hash: Hash32) -> Result<Trace, RpcError> {
    let store = &*shared.store;
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
    let block = read::block_record(shared, height)?;
    let txs = block
        .txs
        .iter()
        .map(|id| stored_tx(shared, id))
        .collect::<Result<Vec<_>, _>>()?;
    let index = receipt.index as usize;
    shared
        .reader(None)?
        .trace_block_tx(height, &txs, index)
        .map_err(|e| exec_error(&e))
}

/// A stored transaction of a block, as the executor replays it.
fn stored_tx(shared: &Shared, id: &Hash32) -> Result<BlockTx, RpcError> {
    let missing = || RpcError::pruned(format!("transaction {id} is not kept here"));
    let bytes = shared
        .store
        .transaction(id)
        .map_err(RpcError::state)?
        .ok_or_else(missing)?;
    crate::decode::block_tx(&bytes, &shared.settings.chain_id)
        .ok_or_else(|| RpcError::new(-32002, "fault", format!("transaction {id} does not decode")))
}

/// A trace as JSON ([`crate::decode::trace`]), decoded by the schemas of
/// the contracts it ran (and `own`, a deploy's schema).
pub(crate) fn trace_json(
    shared: &Shared,
    trace: &Trace,
    own: Option<&(Address, Arc<Schema>)>,
) -> Value {
    crate::decode::trace(trace, &mut |address: &Address| match own {
        Some((at, schema)) if at == address => Some(schema.clone()),
        _ => shared.schemas.at(&*shared.store, address).ok().flatten(),
    })
}

/// What `estimateGas` adds to the least gas that does the job, in percent:
/// room for the state to change between the estimate and the block.
pub const ESTIMATE_MARGIN_PERCENT: u64 = 10;

/// `estimateGas`: `simulateTransaction`'s unsigned params, `gas` the most
/// to try (default and cap: `--query-gas-cap`).
pub(super) fn estimate_gas(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let from = p.address("from")?;
    let payload = payload(shared, &mut p)?;
    let cap = shared.config.limits.query_gas_cap;
    let gas = p.u64("gas")?.unwrap_or(cap);
    let value = p.amount("value")?.unwrap_or(0);
    let _ = (p.u64("nonce")?, p.amount("gas_price")?);
    p.done()?;
    within_read_cap(shared, gas)?;
    let tx = Tx {
        sender: from,
        gas_limit: gas,
        value,
        payload: payload.clone(),
    };
    let estimate = shared
        .reader(None)?
        .estimate_gas(&tx, unix_millis(), gas)
        .map_err(|e| exec_error(&e))?;
    let estimate = match estimate {
        Ok(estimate) => estimate,
        Err(receipt) => {
            let called = match &payload {
                Payload::Call { to, input } => Some(Called { to, input }),
                Payload::Deploy { .. } | Payload::Admin { .. } => None,
            };
            let answer = receipt_json(shared, &receipt, called, None);
            let why = answer["decoded"]
                .as_str()
                .map(str::to_owned)
                .or_else(|| answer["error"]["message"].as_str().map(str::to_owned))
                .unwrap_or_default();
            return Err(RpcError::refused(
                "execution_failed",
                format!(
                    "it does not succeed even with {gas} gas: {} {why}",
                    receipt.status
                ),
            ));
        }
    };
    let margin = estimate.gas / 100 * ESTIMATE_MARGIN_PERCENT
        + (estimate.gas % 100) * ESTIMATE_MARGIN_PERCENT / 100;
    Ok(json!({
        "gas": estimate.gas.saturating_add(margin).min(gas.max(estimate.gas)),
        "gas_needed": estimate.gas,
        "gas_used": estimate.receipt.gas_used,
        "margin_percent": ESTIMATE_MARGIN_PERCENT,
        "simulations": estimate.simulations,
    }))
}
