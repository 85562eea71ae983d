//! `debug_traceTransaction`, `debug_traceCall` and `debug_traceBlockBy*`
//! with geth's `callTracer` (`docs/ethereum.md`): Ward's call traces (the
//! frames `traceTransaction` shows) in the shape explorers such as
//! Blockscout and Otterscan read. Gas is EVM gas, as in Ethereum's
//! receipts: a frame's Ward gas over the EVM runtime's rate. With geth's
//! `prestateTracer` (and its `diffMode`), the accounts a transaction
//! touched, before and after it (`prestate.rs`). And
//! `debug_getRawTransaction`: an Ethereum transaction's signed bytes.

use alloy_primitives::{Address as EthAddress, B256, Bytes, U64, U256};
use alloy_rpc_types_eth::TransactionRequest;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use ward_executor::{Access, CallKind, EVM_GAS_RATE, Trace, TraceFrame};
use ward_primitives::Hash32;
use ward_vm::Status;

use super::{
    calls::{request_tx, revert_reason},
    chain::{block_param, call_block, state_at},
    params::{Params, eth20, invalid, state_error, to_json, ward},
    prestate, shape,
};
use crate::{
    api::history as replay,
    error::{RpcError, exec_error},
    state::Shared,
};

/// The tracer options this node takes: geth's `callTracer` with its
/// `onlyTopCall` and `withLog`, and its `prestateTracer` with
/// `diffMode`, `disableCode` and `disableStorage`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Options {
    tracer: Option<String>,
    #[serde(default)]
    tracer_config: Option<Value>,
    /// geth's `timeout`: taken and not used (a trace is bounded as any
    /// call is).
    #[serde(default)]
    #[allow(dead_code, reason = "accepted as geth accepts it")]
    timeout: Option<String>,
}

/// The tracer asked for, with its configuration.
enum Tracer {
    Call(Config),
    Prestate(prestate::Config),
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Config {
    #[serde(default)]
    only_top_call: bool,
    #[serde(default)]
    with_log: bool,
}

/// One frame as geth's `callTracer` shows it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct CallFrame {
    #[serde(rename = "type")]
    kind: &'static str,
    from: EthAddress,
    to: EthAddress,
    #[serde(skip_serializing_if = "Option::is_none")]
    value: Option<U256>,
    gas: U64,
    gas_used: U64,
    input: Bytes,
    #[serde(skip_serializing_if = "is_empty")]
    output: Bytes,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revert_reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    calls: Vec<CallFrame>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    logs: Vec<CallLog>,
}

/// An event a frame emitted (`withLog`).
#[derive(Debug, Serialize)]
struct CallLog {
    address: EthAddress,
    topics: Vec<B256>,
    data: Bytes,
}

/// One transaction's trace in a block's (`debug_traceBlockBy*`).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct BlockEntry {
    tx_hash: B256,
    result: Value,
}

/// What a transaction that ran no frame (a plain transfer) shows as its
/// top call: what it asked for.
struct Asked {
    from: EthAddress,
    /// Whom it called, `None` for a creation.
    recipient: Option<EthAddress>,
    value: U256,
    gas: u64,
    input: Bytes,
}

impl Asked {
    /// What committed transaction `hash` asked for.
    fn committed(shared: &Shared, hash: B256) -> Result<Asked, RpcError> {
        use alloy_consensus::Transaction as _;
        let tx = shape::transaction(shared, Hash32(hash.0))?
            .ok_or_else(|| RpcError::eth(-32000, format!("transaction {hash} not found"), None))?;
        Ok(Asked {
            from: tx.inner.signer(),
            recipient: tx.inner.to(),
            value: tx.inner.value(),
            gas: tx.inner.gas_limit(),
            input: tx.inner.input().clone(),
        })
    }
}

/// `debug_traceTransaction`: a committed transaction replayed.
pub(super) fn trace_transaction(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let hash: B256 = p.at(0)?;
    match options(p, 1)? {
        Tracer::Call(config) => {
            let trace = replay::transaction(shared, Hash32(hash.0)).map_err(RpcError::into_eth)?;
            let used = shape::evm_gas_used(shared, &trace.receipt)?;
            to_json(shown(&trace, used, &config, || {
                Asked::committed(shared, hash)
            })?)
        }
        Tracer::Prestate(config) => committed_prestate(shared, hash, &config),
    }
}

/// `prestateTracer` of committed transaction `hash`: replayed on its
/// block's parent state, after the block's transactions before it.
fn committed_prestate(
    shared: &Shared,
    hash: B256,
    config: &prestate::Config,
) -> Result<Value, RpcError> {
    let (traced, height) =
        replay::transaction_state(shared, Hash32(hash.0)).map_err(RpcError::into_eth)?;
    let asked = Asked::committed(shared, hash)?;
    let parent = state_at(shared, height - 1)?;
    prestate::shown(
        &traced.trace,
        &*parent,
        (&traced.before, &traced.after),
        (ward(asked.from), asked.recipient.map(ward)),
        config,
    )
    .map_err(state_error)
}

/// `debug_traceBlockByNumber` and `debug_traceBlockByHash`: a committed
/// block's transactions replayed (with `prestateTracer`, each on its
/// own, after those before it).
pub(super) fn trace_block(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let height = block_param(shared, p, 0)?;
    let mut out = Vec::new();
    match options(p, 1)? {
        Tracer::Call(config) => {
            let traces = replay::block(shared, height).map_err(RpcError::into_eth)?;
            for trace in &traces {
                let hash = B256::from(trace.receipt.tx.0);
                let used = shape::evm_gas_used(shared, &trace.receipt)?;
                out.push(BlockEntry {
                    tx_hash: hash,
                    result: to_json(shown(trace, used, &config, || {
                        Asked::committed(shared, hash)
                    })?)?,
                });
            }
        }
        // Each transaction replayed on its own, after those before it.
        Tracer::Prestate(config) => {
            replay::replayable(shared, height).map_err(RpcError::into_eth)?;
            let block = replay::block_record(shared, height).map_err(RpcError::into_eth)?;
            for id in &block.txs {
                let hash = B256::from(id.0);
                out.push(BlockEntry {
                    tx_hash: hash,
                    result: committed_prestate(shared, hash, &config)?,
                });
            }
        }
    }
    to_json(out)
}

/// `debug_traceCall`: a call request run traced as `eth_call` runs it,
/// committing nothing.
pub(super) fn trace_call(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let request: TransactionRequest = p.at(0)?;
    let at = call_block(shared, p, 1)?;
    let tracer = options(p, 2)?;
    let ward_tx = request_tx(shared, &request)?;
    let recipient = request.to.and_then(|to| to.to().copied());
    let asked = Asked {
        from: eth20(&ward_tx.tx.sender),
        recipient,
        value: request.value.unwrap_or_default(),
        gas: ward_tx.tx.gas_limit,
        input: request.input.input().cloned().unwrap_or_default(),
    };
    let (simulation, trace) = shared
        .call_reader(Some(at.state))
        .map_err(|e| RpcError::from(e).into_eth())?
        .simulate_traced_in(&ward_tx.verified(), at.number, at.time)
        .map_err(|e| exec_error(&e).into_eth())?;
    match tracer {
        Tracer::Call(config) => to_json(shown(&trace, trace.receipt.gas_used, &config, || {
            Ok(asked)
        })?),
        Tracer::Prestate(config) => {
            let state = state_at(shared, at.state)?;
            prestate::shown(
                &trace,
                &*state,
                (&ward_state::ChangeSet::default(), &simulation.changes),
                (ward_tx.tx.sender, recipient.map(ward)),
                &config,
            )
            .map_err(state_error)
        }
    }
}

/// `debug_getRawTransaction`: an Ethereum transaction's envelope as its
/// sender signed it (`0x` when this node has no such transaction, as
/// geth answers and the execution APIs' schema, bytes, allows).
pub(super) fn raw_transaction(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    use ward_chain::tx::StoredTx;
    use ward_state::StateRead as _;
    let hash: B256 = p.at(0)?;
    let hash = Hash32(hash.0);
    let Some(bytes) = shared
        .store()
        .transaction(&hash)
        .map_err(|e| RpcError::state(e).into_eth())?
    else {
        return to_json(Bytes::new());
    };
    match StoredTx::from_bytes(&bytes) {
        Ok(StoredTx::Ethereum(tx)) => to_json(Bytes::copy_from_slice(tx.envelope())),
        Ok(_) => Err(RpcError::eth(
            -32000,
            format!(
                "transaction {hash} is Ward's own, not an Ethereum transaction: getTransaction gives it"
            ),
            None,
        )),
        Err(e) => Err(RpcError::eth(
            -32002,
            format!("stored transaction {hash}: {e}"),
            None,
        )),
    }
}

/// The tracer options at param `index`: `callTracer` or
/// `prestateTracer`, each with its own `tracerConfig`.
fn options(p: &Params, index: usize) -> Result<Tracer, RpcError> {
    let options: Options = p.opt(index)?.unwrap_or_default();
    let config = options
        .tracer_config
        .unwrap_or(Value::Object(Default::default()));
    let config_error = |e: serde_json::Error| invalid(&format!("tracerConfig: {e}"));
    match options.tracer.as_deref() {
        Some("callTracer") => Ok(Tracer::Call(
            serde_json::from_value(config).map_err(config_error)?,
        )),
        Some("prestateTracer") => Ok(Tracer::Prestate(
            serde_json::from_value(config).map_err(config_error)?,
        )),
        Some(other) => Err(invalid(&format!(
            "tracer {other:?} is not offered: this node traces calls (\"callTracer\") and the state they touch (\"prestateTracer\"), not EVM steps"
        ))),
        None => Err(invalid(
            "give {\"tracer\": \"callTracer\"} or {\"tracer\": \"prestateTracer\"}: this node traces calls and state, not EVM steps (geth's default struct logger)",
        )),
    }
}

/// A trace's top frame as `callTracer` shows it, its transaction having
/// used `used` EVM gas; for a transaction that ran none (a plain
/// transfer), a call frame of what it `asked`, as geth shows a transfer.
fn shown(
    trace: &Trace,
    used: u64,
    config: &Config,
    asked: impl FnOnce() -> Result<Asked, RpcError>,
) -> Result<CallFrame, RpcError> {
    let Some(root) = trace.root.as_ref() else {
        let asked = asked()?;
        let failed = !trace.receipt.status.is_ok();
        return Ok(CallFrame {
            kind: "CALL",
            from: asked.from,
            to: asked.recipient.unwrap_or_default(),
            value: Some(asked.value),
            gas: U64::from(asked.gas),
            gas_used: U64::from(used),
            input: asked.input,
            output: Bytes::new(),
            error: failed.then(|| trace.receipt.status.to_string()),
            revert_reason: None,
            calls: Vec::new(),
            logs: Vec::new(),
        });
    };
    let mut top = frame(root, config, true);
    // As geth's top frame: the transaction's gas limit and what its
    // receipt says it used, intrinsic gas included (the frame itself got
    // less than the limit: never a gasUsed above its gas).
    top.gas_used = U64::from(used);
    let limit = asked().map_or(0, |asked| asked.gas);
    top.gas = U64::from(limit.max(used));
    Ok(top)
}

fn frame(frame: &TraceFrame, config: &Config, top: bool) -> CallFrame {
    let kind = match frame.call {
        CallKind::Call | CallKind::Inner => "CALL",
        CallKind::ReadOnly => "STATICCALL",
        CallKind::Delegate => "DELEGATECALL",
        CallKind::Code => "CALLCODE",
        CallKind::Deploy | CallKind::Create => "CREATE",
    };
    let to = match frame.call {
        CallKind::Delegate | CallKind::Code => frame.code_address,
        _ => frame.address,
    };
    let value = match frame.call {
        CallKind::ReadOnly | CallKind::Delegate => None,
        _ => Some(U256::from(frame.value)),
    };
    let (error, revert_reason) = match frame.status {
        Status::Ok => (None, None),
        Status::Reverted => (
            Some("execution reverted".to_owned()),
            revert_reason(&frame.output),
        ),
        Status::OutOfGas => (Some("out of gas".to_owned()), None),
        _ => (
            Some(
                frame
                    .error
                    .as_ref()
                    .map_or_else(|| format!("{:?}", frame.status), |(_, m)| m.clone()),
            ),
            None,
        ),
    };
    let calls = if config.only_top_call && top {
        Vec::new()
    } else {
        frame
            .calls
            .iter()
            .map(|callee| self::frame(callee, config, false))
            .collect()
    };
    let logs = if config.with_log {
        frame
            .accesses
            .iter()
            .filter_map(|access| match access {
                Access::Event { topic, data } => {
                    let event = ward_state::Event {
                        contract: frame.address,
                        topic: topic.clone(),
                        data: data.clone(),
                    };
                    let (address, log) = shape::log_data_of(&event);
                    Some(CallLog {
                        address,
                        topics: log.topics().to_vec(),
                        data: log.data,
                    })
                }
                _ => None,
            })
            .collect()
    } else {
        Vec::new()
    };
    CallFrame {
        kind,
        from: eth20(&frame.caller),
        to: eth20(&to),
        value,
        gas: U64::from(frame.gas_given / EVM_GAS_RATE),
        gas_used: U64::from(frame.gas_used.div_ceil(EVM_GAS_RATE)),
        input: Bytes::from(input(frame, top)),
        output: Bytes::from(frame.output.clone()),
        error,
        revert_reason,
        calls,
        logs,
    }
}

fn is_empty(bytes: &Bytes) -> bool {
    bytes.is_empty()
}

/// A frame's input as Ethereum shows it. A system runtime's top frame
/// received the runtime's envelope (`docs/runtimes.md`: the code's
/// length, the code, its analysis for a call, the input): a call shows
/// the input, a deploy the
/// code and its input (an EVM deploy's init code and arguments). Inner
/// frames record the input their caller passed.
fn input(frame: &TraceFrame, top: bool) -> Vec<u8> {
    let input = &frame.input;
    if !top || !matches!(frame.kind, ward_primitives::CodeKind::Runtime(_)) || input.len() < 4 {
        return input.clone();
    }
    match frame.call {
        CallKind::Deploy | CallKind::Create => input[4..].to_vec(),
        _ => ward_executor::open_envelope(input)
            .map_or_else(|| input.clone(), |(_, input)| input.to_vec()),
    }
}
