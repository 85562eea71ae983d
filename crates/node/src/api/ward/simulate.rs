//! Runs that commit nothing and show what happened: `simulateTransaction`
//! (with `"trace": true`, the frames too) and `traceTransaction`, a
//! committed transaction replayed on its block's parent state, each with
//! its gas profile on request (`"profile": true`), and the profile's flame
//! graph (`GET /trace/{tx}/flamegraph.svg`). `docs/debugging.md`.

use crate::config::ESTIMATE_MARGIN_PERCENT;
use crate::settings::ChainSettingsExt as _;

use std::sync::Arc;

use serde_json::Value;
use ward_chain::{
    schema::Schema,
    tx::{Payload, VerifiedTx},
};
use ward_executor::Tx;
use ward_primitives::Address;
use ward_rpc::{params, results};

use super::read::{self, receipt_shown, within_read_cap};
use crate::api::history;
use crate::api::payload::{self, DEFAULT_GAS};
use crate::error::{RpcError, exec_error};
use crate::{decode::Called, producer::query_time, state::Shared};
use ward_executor::Trace;
use ward_state::StatePrune;

pub(super) fn simulate(shared: &Shared, p: params::Simulate) -> Result<results::Receipt, RpcError> {
    let reader = shared.reader(None)?;
    let time = query_time(shared);
    let (traced, profiled) = (p.trace.unwrap_or(false), p.profile.unwrap_or(false));
    let (tx, payload) = match (p.tx, p.from) {
        (Some(raw), None) => {
            let unsigned = [
                p.deploy.is_some() || p.call.is_some() || p.admin.is_some(),
                p.gas.is_some() || p.value.is_some() || p.gas_price.is_some(),
                p.nonce.is_some() || p.wait.is_some(),
            ];
            if unsigned.contains(&true) {
                return Err(RpcError::invalid_params(
                    "\"tx\" is a whole signed transaction: no other transaction field goes with it",
                ));
            }
            let tx = VerifiedTx::from_bytes(&raw.0, &shared.settings().rules())
                .map_err(RpcError::from)?;
            within_read_cap(shared, tx.gas_limit())?;
            let payload = tx.payload().clone();
            (tx, payload)
        }
        (None, Some(from)) => {
            let payload = payload::of(shared, p.deploy, p.call, p.admin)?;
            let gas_limit = p.gas.unwrap_or(DEFAULT_GAS);
            // `nonce`, `wait` and `gas_price` are taken for the same
            // shape as sendTransaction; a simulation has no nonce to
            // check, pays no fee and waits for nothing.
            within_read_cap(shared, gas_limit)?;
            let tx = Tx {
                sender: from,
                gas_limit,
                value: p.value.map_or(0, |a| a.0),
                payload: payload.clone(),
            };
            (tx.vouched(), payload)
        }
        _ => {
            return Err(RpcError::invalid_params(
                "exactly one of \"tx\" (signed) and \"from\" (unsigned) is required",
            ));
        }
    };
    let mut trace = None;
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
        reader.simulate(&tx, time).map_err(|e| exec_error(&e))?
    };
    let receipt = &simulation.receipt;
    let own = match &payload {
        Payload::Deploy(deploy) => receipt.address.zip(
            Schema::from_module(&deploy.code)
                .ok()
                .flatten()
                .map(Arc::new),
        ),
        Payload::Call { .. } | Payload::Admin { .. } => None,
    };
    let mut out = match &payload {
        Payload::Call { to, input } => {
            receipt_shown(shared, receipt, Some(Called { to, input }), None)
        }
        Payload::Deploy(_) | Payload::Admin { .. } => {
            receipt_shown(shared, receipt, None, own.clone())
        }
    };
    out.storage = Some(
        simulation
            .changes
            .storage
            .iter()
            .map(|((address, key), value)| results::StorageWrite {
                address: *address,
                key: key.clone().into(),
                value: value.clone().map(ward_rpc::wire::Bytes),
            })
            .collect(),
    );
    if let Some(trace) = trace {
        let mut shown = trace_shown(shared, &trace, own.as_ref());
        if profiled {
            shown.profile = Some(crate::profile::profile_of(&trace, None));
        }
        out.trace = Some(Box::new(shown));
    }
    Ok(out)
}

/// `traceTransaction {tx, profile}`: the committed transaction replayed on
/// the state after its block's parent, with the transactions before it in
/// its block run first; with `profile`, its gas profile too.
pub(super) fn trace_transaction(
    shared: &Shared,
    p: params::TraceTransaction,
) -> Result<results::Trace, RpcError> {
    let trace = history::transaction(shared, p.tx)?;
    let mut out = trace_shown(shared, &trace, None);
    if p.profile.unwrap_or(false) {
        out.profile = Some(crate::profile::profile_of(&trace, None));
    }
    Ok(out)
}

/// `replayBlock`: the block `p` names, as stored and as its transactions
/// build it again on its parent's state (a block of a dev node's preset
/// state replays otherwise: the preset is not among its transactions).
pub(super) fn replay_stored_block(
    shared: &Shared,
    p: params::GetBlock,
) -> Result<results::Replay, RpcError> {
    let stored = read::get_block(shared, p)?;
    let height = stored.height;
    let kept_from = shared.store().pruned_below().map_err(RpcError::state)?;
    if height == 0 || height <= kept_from {
        return Err(RpcError::pruned(format!(
            "block {height} has no parent state here to replay on (genesis has none; this node keeps state from block {kept_from})"
        )));
    }
    let txs = history::stored_txs(shared, height)?;
    let replayed = shared
        .executor()
        .replay_block(height, &txs)
        .map_err(|e| exec_error(&e))?;
    let replayed = crate::json::block(&replayed.record);
    Ok(results::Replay {
        equal: replayed == stored,
        stored,
        replayed,
    })
}

/// A trace as the RPC shows it ([`crate::decode::trace`]), decoded by
/// the schemas of the contracts it ran (and `own`, a deploy's schema).
pub(crate) fn trace_shown(
    shared: &Shared,
    trace: &Trace,
    own: Option<&(Address, Arc<Schema>)>,
) -> results::Trace {
    crate::decode::trace(trace, &mut |address: &Address| match own {
        Some((at, schema)) if at == address => Some(schema.clone()),
        _ => shared
            .schemas()
            .at(&**shared.store(), address)
            .ok()
            .flatten(),
    })
}

/// `estimateGas`: `simulateTransaction`'s unsigned params, `gas` the most
/// to try (default and cap: `--query-gas-cap`).
pub(super) fn estimate_gas(
    shared: &Shared,
    p: params::Estimate,
) -> Result<results::Estimate, RpcError> {
    let from = p.from;
    let payload = payload::of(shared, p.deploy, p.call, p.admin)?;
    let cap = shared.config().limits.query_gas_cap;
    let gas = p.gas.unwrap_or(cap);
    let value = p.value.map_or(0, |a| a.0);
    within_read_cap(shared, gas)?;
    let tx = Tx {
        sender: from,
        gas_limit: gas,
        value,
        payload: payload.clone(),
    };
    let estimate = crate::producer::estimate_gas(
        shared,
        &shared.reader(None)?,
        (&tx, ward_chain::tx::GasUnit::Ward),
        gas,
    )
    .map_err(|e| exec_error(&e))?;
    let estimate = match estimate {
        Ok(estimate) => estimate,
        Err(receipt) => {
            let called = match &payload {
                Payload::Call { to, input } => Some(Called { to, input }),
                Payload::Deploy(_) | Payload::Admin { .. } => None,
            };
            let answer = receipt_shown(shared, &receipt, called, None);
            let why = match (answer.decoded, answer.error) {
                (Some(Value::String(message)), _) => message,
                (_, Some(error)) => error.message,
                _ => String::new(),
            };
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
    Ok(results::Estimate {
        gas: estimate
            .gas
            .saturating_add(margin)
            .min(gas.max(estimate.gas)),
        gas_needed: estimate.gas,
        gas_used: estimate.receipt.gas_used,
        margin_percent: ESTIMATE_MARGIN_PERCENT,
        simulations: u64::from(estimate.simulations),
    })
}
