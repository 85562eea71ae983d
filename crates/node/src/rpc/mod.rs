//! JSON-RPC 2.0: requests, batches, errors and every method
//! (`docs/node.md` is the reference).
//!
//! A request body is checked for depth before it is parsed, then each
//! request is validated and dispatched. Methods run on a blocking thread
//! (they read the store and may run contracts); a `wait` then awaits the
//! transaction's block without holding one. The methods that send,
//! simulate and steer (dev) are here; those that only read the chain are
//! in `read.rs`.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value, json};
use ward_chain::tx::{TxBody, VerifiedTx};
use ward_primitives::Hash32;
use ward_rpc::{Method, params, results, wire::Amount};
use ward_state::StateRead;

mod debug;
mod dev;
mod hardhat;
mod payload;
mod read;
mod simulate;

pub use crate::config::ESTIMATE_MARGIN_PERCENT;
pub(crate) use crate::error::RpcError;
use crate::error::exec_error;
use crate::{
    mempool::Committed, metrics::Metrics, producer::query_time, state::Shared, sync::lock,
};
pub use dev::{MAX_BLOCK_TIME, MAX_MINE_BLOCKS};
pub use read::INLINE_INPUT_BYTES;
use read::{
    block_at, get_balance, get_block, get_contract, get_events, get_storage, get_storage_range,
    get_transaction, query, stored_receipt,
};
pub(crate) use simulate::flame_graph;
pub use ward_rpc::{DEV_METHODS, METHODS};

/// Ward's methods answered on `/ws` only (the WebSocket's module), beside
/// [`METHODS`].
pub(crate) const WS_METHODS: &[&str] = &["subscribe", "unsubscribe"];

/// One request's response (none for a notification).
pub(crate) async fn one(
    shared: &Arc<Shared>,
    value: Value,
    deadline: tokio::time::Instant,
) -> Option<Value> {
    let request = match request(value) {
        Ok(request) => request,
        Err(invalid) => {
            let (id, error) = *invalid;
            return Some(response(id, Err(error)));
        }
    };
    let id = request.id.clone();
    let result = call(shared.clone(), request, deadline).await;
    id.map(|id| response(id, result))
}

/// A response with `result` or `error`.
pub(crate) fn response(id: Value, result: Result<Value, RpcError>) -> Value {
    match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "id": id, "result": result }),
        Err(error) => json!({ "jsonrpc": "2.0", "id": id, "error": error.to_json() }),
    }
}

/// The deepest nesting of arrays and objects in `body`, scanning no
/// further than `max + 1` levels; strings are skipped, escapes included.
pub(crate) fn json_depth_exceeds(body: &[u8], max: usize) -> bool {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in body {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// What a method answers: a value, an Ethereum method's value (which
/// gets no `applied_height`), or a transaction to wait for.
pub(crate) enum Answer {
    Value(Value),
    Eth(Value),
    Wait(
        Hash32,
        tokio::sync::oneshot::Receiver<Result<Committed, crate::mempool::Refusal>>,
    ),
}

/// One request, validated.
pub(crate) struct Request {
    /// `None` for a notification (no `id`): no response.
    pub(crate) id: Option<Value>,
    pub(crate) method: String,
    pub(crate) params: Params,
}

/// A request's params: one object of named fields for Ward's methods,
/// Ethereum's positional array for its methods ([`crate::eth`]).
pub(crate) enum Params {
    Named(Map<String, Value>),
    Positional(Value),
}

impl Params {
    /// The named params (none for positional ones).
    pub(crate) fn named(&self) -> Map<String, Value> {
        match self {
            Params::Named(params) => params.clone(),
            Params::Positional(_) => Map::new(),
        }
    }
}

/// A request that is not valid: the id to answer with and why.
pub(crate) type Invalid = Box<(Value, RpcError)>;

/// Checks a request's shape (`jsonrpc`, `method`, `id`, `params`).
pub(crate) fn request(value: Value) -> Result<Request, Invalid> {
    check_request(value).map_err(Box::new)
}

#[allow(clippy::result_large_err, reason = "boxed once, by `request`")]
fn check_request(value: Value) -> Result<Request, (Value, RpcError)> {
    let Value::Object(mut object) = value else {
        return Err((
            Value::Null,
            RpcError::invalid_request("invalid_request", "a request is a JSON object"),
        ));
    };
    let id = object.remove("id");
    let reply_id = id.clone().unwrap_or(Value::Null);
    let invalid = |message: &str| {
        (
            reply_id.clone(),
            RpcError::invalid_request("invalid_request", message),
        )
    };
    if !matches!(
        id,
        None | Some(Value::Null | Value::String(_) | Value::Number(_))
    ) {
        return Err((
            Value::Null,
            RpcError::invalid_request("invalid_request", "an id is a string, a number or null"),
        ));
    }
    if object.remove("jsonrpc") != Some(json!("2.0")) {
        return Err(invalid("\"jsonrpc\" must be \"2.0\""));
    }
    let Some(Value::String(method)) = object.remove("method") else {
        return Err(invalid("\"method\" must be a string"));
    };
    if crate::eth::is_eth(&method) {
        let params = object.remove("params").unwrap_or(Value::Null);
        if let Some(extra) = object.keys().next() {
            return Err(invalid(&format!("unknown member {extra:?}")));
        }
        return Ok(Request {
            id,
            method,
            params: Params::Positional(params),
        });
    }
    if !METHODS.contains(&method.as_str()) && !WS_METHODS.contains(&method.as_str()) {
        // Neither Ward's nor Ethereum's (`personal_sign`, a typo): no such
        // method, whatever its params look like.
        return Err((reply_id, RpcError::method_not_found(&method)));
    }
    let params = match object.remove("params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(params)) => params,
        Some(Value::Array(items)) if items.is_empty() => Map::new(),
        Some(Value::Array(mut items)) if items.len() == 1 && items[0].is_object() => {
            match items.pop() {
                Some(Value::Object(params)) => params,
                _ => Map::new(),
            }
        }
        Some(_) => {
            return Err((
                reply_id,
                RpcError::invalid_params("params are one object of named fields"),
            ));
        }
    };
    if let Some(extra) = object.keys().next() {
        return Err(invalid(&format!("unknown member {extra:?}")));
    }
    Ok(Request {
        id,
        method,
        params: Params::Named(params),
    })
}

/// `answer` as JSON text, or, when that is longer than `room` bytes
/// (`RpcLimits::max_response_bytes`, over HTTP and WebSocket alike), a
/// `response_too_large` error for its id.
pub(crate) fn bounded(answer: &Value, room: usize) -> String {
    let text = answer.to_string();
    if text.len() <= room {
        return text;
    }
    let error = RpcError::too_large(text.len(), room);
    response(answer["id"].clone(), Err(error)).to_string()
}

/// Runs one request to its result, waiting for a transaction's block at
/// most until `deadline`.
pub(crate) async fn call(
    shared: Arc<Shared>,
    request: Request,
    deadline: tokio::time::Instant,
) -> Result<Value, RpcError> {
    let started = ward_vm::clock::now();
    let method = request.method.clone();
    // Read before the answer: what it shows includes at least this block.
    let mut applied = shared.store.height().ok();
    // Set when this future is dropped: the client went away, or the
    // request ran out of time, and a long method (`mine`) stops.
    let gone = Gone::default();
    let _dropped = gone.clone();
    let answer = {
        let shared = shared.clone();
        tokio::task::spawn_blocking(move || match request.params {
            Params::Named(params) => dispatch(&shared, &request.method, params, &gone),
            Params::Positional(params) => positional(&shared, &request.method, params),
        })
        .await
        .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))?
    };
    // Ethereum's answers are Ethereum's shapes alone: no applied height.
    let eth = matches!(answer, Ok(Answer::Eth(_)));
    let result = match answer {
        Ok(Answer::Eth(value) | Answer::Value(value)) => Ok(value),
        Ok(Answer::Wait(hash, receiver)) => {
            match tokio::time::timeout_at(deadline, receiver).await {
                Ok(Ok(Ok(committed))) => {
                    let reader = shared.clone();
                    let receipt = tokio::task::spawn_blocking(move || {
                        stored_receipt(&reader, &committed.receipt).map(|receipt| {
                            results::Receipt {
                                block: Some(committed.block),
                                ..receipt
                            }
                        })
                    })
                    .await
                    .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))?;
                    // Its block is applied by now.
                    applied = shared.store.height().ok();
                    let sent = receipt.map(|r| results::Sent::Receipt(Box::new(r)));
                    sent.and_then(|sent| {
                        serde_json::to_value(sent)
                            .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))
                    })
                }
                Ok(Ok(Err(refusal))) => Err(refusal.into()),
                Ok(Err(_)) => Err(RpcError::unavailable("the node is shutting down")),
                Err(_) => Err(RpcError::timeout(hash)),
            }
        }
        Err(error) => Err(error),
    };
    let result = result.map(|mut value| {
        if let (false, Value::Object(object), Some(height)) = (eth, &mut value, applied) {
            object.insert("applied_height".into(), Value::from(height));
        }
        value
    });
    let name = if METHODS.contains(&method.as_str())
        || crate::eth::EthMethod::find(crate::eth::ETH_METHODS, &method).is_some()
        || crate::eth::EthMethod::find(crate::eth::DEV_ALIASES, &method).is_some()
    {
        method.as_str()
    } else {
        "unknown"
    };
    shared
        .metrics
        .rpc_seconds
        .get_or_create(&Metrics::label("method", name))
        .observe((ward_vm::clock::now() - started).as_secs_f64());
    result
}

/// Runs an Ethereum request (`eth_*`, `debug_*`, Hardhat's and anvil's
/// names) with its positional `params`, checked against its method's row
/// first ([`crate::eth::check_params`]).
fn positional(shared: &Shared, method: &str, params: Value) -> Result<Answer, RpcError> {
    crate::eth::check_params(method, &params)?;
    let value = if method.starts_with("debug_") {
        debug::dispatch(shared, method, params)
    } else if crate::eth::is_alias(method) {
        hardhat::dispatch(shared, method, params)
    } else {
        crate::eth::dispatch(shared, method, params)
    };
    value.map(Answer::Eth)
}

/// Whether the request a method runs for was abandoned: its clones share
/// one flag, set when any of them is dropped (`call` holds one for as
/// long as it waits, the method another).
#[derive(Clone, Default)]
pub(crate) struct Gone(Arc<AtomicBool>);

impl Gone {
    /// Whether the caller stopped waiting.
    pub(crate) fn is_gone(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A method's params as its type in `ward_rpc::params`: unknown fields,
/// missing ones and mistyped ones are `invalid_params`.
fn params<T: DeserializeOwned>(params: Map<String, Value>) -> Result<T, RpcError> {
    serde_json::from_value(Value::Object(params))
        .map_err(|e| RpcError::invalid_params(e.to_string()))
}

/// A method's result on the wire.
fn answer<T: Serialize>(result: Result<T, RpcError>) -> Result<Answer, RpcError> {
    result.and_then(|value| {
        serde_json::to_value(value)
            .map(Answer::Value)
            .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))
    })
}

/// Runs method `M` with its typed params through `run`.
fn run<M: Method>(
    p: Map<String, Value>,
    run: impl FnOnce(M::Params) -> Result<M::Output, RpcError>,
) -> Result<Answer, RpcError> {
    answer(params::<M::Params>(p).and_then(run))
}

fn dispatch(
    shared: &Shared,
    method: &str,
    p: Map<String, Value>,
    gone: &Gone,
) -> Result<Answer, RpcError> {
    use ward_rpc::methods::*;
    match method {
        SendTransaction::NAME => {
            // Before the params: a node without --dev says so first.
            dev::dev(shared, method)?;
            send_transaction(shared, params::<<SendTransaction as Method>::Params>(p)?)
        }
        SendRawTransaction::NAME => {
            let raw: <SendRawTransaction as Method>::Params = params(p)?;
            let verified = crate::admission::verify(shared, &raw.tx.0)?;
            submit(shared, verified, raw.wait.unwrap_or(false))
        }
        SimulateTransaction::NAME => {
            run::<SimulateTransaction>(p, |p| simulate::simulate(shared, p))
        }
        TraceTransaction::NAME => {
            run::<TraceTransaction>(p, |p| simulate::trace_transaction(shared, p))
        }
        EstimateGas::NAME => run::<EstimateGas>(p, |p| simulate::estimate_gas(shared, p)),
        GetTransaction::NAME => run::<GetTransaction>(p, |p| get_transaction(shared, p)),
        Query::NAME => run::<Query>(p, |p| query(shared, p)),
        GetStorage::NAME => run::<GetStorage>(p, |p| get_storage(shared, p)),
        GetStorageRange::NAME => run::<GetStorageRange>(p, |p| get_storage_range(shared, p)),
        GetContract::NAME => run::<GetContract>(p, |p| get_contract(shared, p.address)),
        GetBlock::NAME => run::<GetBlock>(p, |p| get_block(shared, p)),
        ReplayBlock::NAME => run::<ReplayBlock>(p, |p| simulate::replay_stored_block(shared, p)),
        GetLatestBlock::NAME => run::<GetLatestBlock>(p, |_| {
            let height = shared.store.height().map_err(RpcError::state)?;
            block_at(shared, height)
        }),
        GetEvents::NAME => run::<GetEvents>(p, |p| get_events(shared, p)),
        GetNonce::NAME => run::<GetNonce>(p, |p| {
            // Both read under the pool's lock, as for sendTransaction.
            let (nonce, pending) = shared
                .pool
                .pending_nonce(&p.address, |address| shared.store.nonce(address))
                .map_err(RpcError::state)?;
            Ok(results::Nonce { nonce, pending })
        }),
        GetBalance::NAME => run::<GetBalance>(p, |p| get_balance(shared, p)),
        GetStateValue::NAME => run::<GetStateValue>(p, |p| read::get_state_value(shared, p)),
        GetCode::NAME => run::<GetCode>(p, |p| read::get_code(shared, p.code_hash)),
        GetNetwork::NAME => run::<GetNetwork>(p, |_| Ok(network(shared))),
        Backup::NAME => run::<Backup>(p, |p| backup(shared, &p.name)),
        method if DEV_METHODS.contains(&method) => dev::dispatch(shared, method, p, gone),
        other => Err(RpcError::method_not_found(other)),
    }
}

/// `backup`: a consistent copy of the store into `--backup-dir/NAME`,
/// while blocks go on.
fn backup(shared: &Shared, name: &str) -> Result<results::Backup, RpcError> {
    let Some(dir) = &shared.config.backup_dir else {
        return Err(RpcError::unavailable(
            "backups are off: start the node with --backup-dir DIR",
        ));
    };
    let plain = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !plain {
        return Err(RpcError::invalid_params(
            "\"name\" is 1 to 64 of A-Z a-z 0-9 . _ - and does not start with a dot",
        ));
    }
    let target = dir.join(name);
    // One backup at a time: each reads the whole store.
    let _one = lock(&shared.backing_up);
    let height = tokio::task::block_in_place(|| shared.store.backup_into(&target))
        .map_err(|e| RpcError::refused("backup", e.to_string()))?;
    Ok(results::Backup {
        height,
        path: target.display().to_string(),
    })
}

fn network(shared: &Shared) -> results::Network {
    let settings = &shared.settings;
    results::Network {
        chain_id: settings.chain_id.clone(),
        backend: shared.config.backend.as_str().to_owned(),
        abi_version: settings.abi_version,
        schedule_version: settings.schedule_version,
        max_tx_bytes: settings.max_tx_bytes,
        max_tx_gas: settings.max_tx_gas,
        max_block_gas: settings.max_block_gas,
        block_time_ms: shared.config.block_time_ms,
        height: shared.store.height().unwrap_or(0),
        dev: shared.config.dev,
        asset: results::Asset {
            name: settings.asset.name.clone(),
            decimals: settings.asset.decimals,
        },
        min_gas_price: Amount(shared.min_gas_price()),
        chain_min_gas_price: settings.min_gas_price,
        fee_collector: settings.fee_collector.clone(),
        genesis_root: settings.genesis_root.clone(),
        // The whole record every node of the chain agrees on: what a
        // fork of it takes (`ward serve --fork`).
        settings: settings.clone(),
        fork: crate::fork::recorded(&shared.store).ok().flatten(),
        dev_accounts: shared.config.dev.then(|| {
            shared
                .dev_keys
                .iter()
                .map(|k| ward_chain::tx::account_address(&k.verifying_key().to_bytes()))
                .collect()
        }),
    }
}

/// The default gas limit of `sendTransaction` and `simulateTransaction`.
const DEFAULT_GAS: u64 = 10_000_000;

fn send_transaction(shared: &Shared, p: params::Transaction) -> Result<Answer, RpcError> {
    let from = p.from;
    let payload = payload::of(shared, p.deploy, p.call, p.admin)?;
    let gas = p.gas.unwrap_or(DEFAULT_GAS);
    let value = p.value.map_or(0, |a| a.0);
    // The node's minimum unless the client names a price.
    let gas_price = p.gas_price.map_or_else(|| shared.min_gas_price(), |a| a.0);
    let wait = p.wait.unwrap_or(false);
    let key = shared
        .dev_keys
        .iter()
        .find(|k| ward_chain::tx::account_address(&k.verifying_key().to_bytes()) == from);
    let impersonated = key.is_none() && lock(&shared.impersonating).contains(&from);
    if key.is_none() && !impersonated {
        return Err(RpcError::invalid_params(format!(
            "{from} is neither one of this node's dev accounts nor impersonated (`impersonate`)"
        )));
    }
    let nonce = match p.nonce {
        Some(n) => n,
        None => {
            // The store's nonce read under the pool's lock: a block is
            // committed, then its transactions leave the mempool under
            // this lock, so the two agree here. Read before the lock, a
            // commit and eviction in between freed a used nonce, and the
            // same transaction was built again (`known`).
            let (_, pending) = shared
                .pool
                .pending_nonce(&from, |address| shared.store.nonce(address))
                .map_err(RpcError::state)?;
            pending
        }
    };
    let body = TxBody {
        gas_price,
        value,
        chain_id: shared.settings.chain_id.clone(),
        // An impersonated transaction's says nothing: its sender is
        // written beside it (`TxBody::impersonated`).
        public_key: key.map_or([0; 32], |k| k.verifying_key().to_bytes()),
        nonce,
        gas_limit: gas,
        payload,
    };
    let tx = match key {
        Some(key) => body
            .sign(key)
            .verify(&shared.settings.chain_id)
            .map_err(RpcError::from)?,
        None => body.impersonated(from),
    };
    submit(shared, tx, wait)
}

/// Admits a verified transaction (`admission`), waiting for its block
/// when asked.
fn submit(shared: &Shared, tx: VerifiedTx, wait: bool) -> Result<Answer, RpcError> {
    let hash = tx.hash();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    crate::admission::admit(shared, tx, wait.then_some(sender))?;
    if wait {
        Ok(Answer::Wait(hash, receiver))
    } else {
        answer(Ok(results::Sent::Pending { tx: hash }))
    }
}

/// Refuses a free read (`query`, `simulateTransaction`) of more gas than
/// the node's read cap (`--query-gas-cap`).
fn within_read_cap(shared: &Shared, gas: u64) -> Result<(), RpcError> {
    let cap = shared.config.limits.query_gas_cap;
    if gas > cap {
        return Err(RpcError::invalid_params(format!(
            "gas {gas} is above this node's cap for reads of {cap} (--query-gas-cap)"
        )));
    }
    Ok(())
}

/// How long a `wait` may take within a request's time.
pub(crate) fn wait_budget(timeout: Duration) -> Duration {
    timeout.saturating_sub((timeout / 10).min(Duration::from_secs(1)))
}
