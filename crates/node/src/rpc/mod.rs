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

use serde_json::{Map, Value, json};
use ward_chain::{
    schema::Schema,
    tx::{Payload, SignedTx, TxBody, VerifiedTx},
};
use ward_executor::{ExecError, Tx};
use ward_primitives::{Address, CodeKind, Hash32};
use ward_state::StateRead;

mod admin;
mod dev;
mod read;
mod simulate;

pub(crate) use crate::error::RpcError;
use crate::{
    decode::Called,
    json::{hex, unhex, unhex32},
    mempool::Committed,
    metrics::Metrics,
    producer::unix_millis,
    state::Shared,
    sync::lock,
};
pub use dev::{DEV_METHODS, MAX_BLOCK_TIME, MAX_MINE_BLOCKS};
pub use read::INLINE_INPUT_BYTES;
use read::{
    block_at, get_balance, get_block, get_contract, get_events, get_storage, get_storage_range,
    get_transaction, query, receipt_json, stored_receipt,
};
pub use simulate::ESTIMATE_MARGIN_PERCENT;
pub(crate) use simulate::flame_graph;

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

/// What a method answers: a value, or a transaction to wait for.
pub(crate) enum Answer {
    Value(Value),
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
    pub(crate) params: Map<String, Value>,
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
    Ok(Request { id, method, params })
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

/// The JSON-RPC methods a node answers, and the names they are measured
/// under (bounded: unknown names are "unknown").
pub const METHODS: &[&str] = &[
    "sendTransaction",
    "sendRawTransaction",
    "simulateTransaction",
    "getTransaction",
    "traceTransaction",
    "estimateGas",
    "query",
    "getStorage",
    "getStorageRange",
    "getContract",
    "getBlock",
    "getLatestBlock",
    "getEvents",
    "getNonce",
    "getBalance",
    "getNetwork",
    "getStateValue",
    "getCode",
    "backup",
    // The dev methods (`DEV_METHODS`).
    "mine",
    "setNextBlockTime",
    "setBalance",
    "setStorage",
    "setCode",
    "impersonate",
    "stopImpersonating",
    "snapshot",
    "revert",
];

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
        tokio::task::spawn_blocking(move || {
            dispatch(&shared, &request.method, request.params, &gone)
        })
        .await
        .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))?
    };
    let result = match answer {
        Ok(Answer::Value(value)) => Ok(value),
        Ok(Answer::Wait(hash, receiver)) => {
            match tokio::time::timeout_at(deadline, receiver).await {
                Ok(Ok(Ok(committed))) => {
                    let reader = shared.clone();
                    let mut receipt = tokio::task::spawn_blocking(move || {
                        stored_receipt(&reader, &committed.receipt).map(|r| (r, committed.block))
                    })
                    .await
                    .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))?;
                    if let Ok((receipt, block)) = &mut receipt {
                        receipt["block"] = json!(block.to_string());
                    }
                    // Its block is applied by now.
                    applied = shared.store.height().ok();
                    receipt.map(|(r, _)| r)
                }
                Ok(Ok(Err(refusal))) => Err(refusal.into()),
                Ok(Err(_)) => Err(RpcError::unavailable("the node is shutting down")),
                Err(_) => Err(RpcError::timeout(hash)),
            }
        }
        Err(error) => Err(error),
    };
    let result = result.map(|mut value| {
        if let (Value::Object(object), Some(height)) = (&mut value, applied) {
            object.insert("applied_height".into(), json!(height));
        }
        value
    });
    let name = if METHODS.contains(&method.as_str()) {
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

/// Named parameters, taken one by one; any left over is an error.
struct Params(Map<String, Value>);

impl Params {
    fn take(&mut self, name: &str) -> Option<Value> {
        self.0.remove(name).filter(|v| !v.is_null())
    }

    fn string(&mut self, name: &str) -> Result<Option<String>, RpcError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(RpcError::invalid_params(format!(
                "{name:?} must be a string"
            ))),
        }
    }

    fn required_string(&mut self, name: &str) -> Result<String, RpcError> {
        self.string(name)?
            .ok_or_else(|| RpcError::invalid_params(format!("{name:?} is required")))
    }

    fn bytes(&mut self, name: &str) -> Result<Option<Vec<u8>>, RpcError> {
        self.string(name)?
            .map(|s| unhex(&s).map_err(|e| RpcError::invalid_params(format!("{name:?}: {e}"))))
            .transpose()
    }

    fn address(&mut self, name: &str) -> Result<Address, RpcError> {
        let text = self.required_string(name)?;
        unhex32(&text)
            .map(Address)
            .map_err(|e| RpcError::invalid_params(format!("{name:?}: {e}")))
    }

    fn hash(&mut self, name: &str) -> Result<Hash32, RpcError> {
        self.address(name).map(|a| Hash32(a.0))
    }

    fn u64(&mut self, name: &str) -> Result<Option<u64>, RpcError> {
        match self.take(name) {
            None => Ok(None),
            Some(value) => value.as_u64().map(Some).ok_or_else(|| {
                RpcError::invalid_params(format!("{name:?} must be a non-negative integer"))
            }),
        }
    }

    /// An amount of the native asset: a string of decimal digits, or a
    /// number up to 2^53.
    fn amount(&mut self, name: &str) -> Result<Option<u128>, RpcError> {
        match self.take(name) {
            None => Ok(None),
            Some(value) => serde_json::from_value::<crate::genesis::Amount>(value)
                .map(|a| Some(a.0))
                .map_err(|e| RpcError::invalid_params(format!("{name:?}: {e}"))),
        }
    }

    fn bool(&mut self, name: &str) -> Result<bool, RpcError> {
        match self.take(name) {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(b),
            Some(_) => Err(RpcError::invalid_params(format!(
                "{name:?} must be a boolean"
            ))),
        }
    }

    fn object(&mut self, name: &str) -> Result<Option<Params>, RpcError> {
        match self.take(name) {
            None => Ok(None),
            Some(Value::Object(map)) => Ok(Some(Params(map))),
            Some(_) => Err(RpcError::invalid_params(format!(
                "{name:?} must be an object"
            ))),
        }
    }

    /// Refuses fields no one asked for.
    fn done(self) -> Result<(), RpcError> {
        match self.0.keys().next() {
            None => Ok(()),
            Some(name) => Err(RpcError::invalid_params(format!("unknown field {name:?}"))),
        }
    }
}

fn dispatch(
    shared: &Shared,
    method: &str,
    params: Map<String, Value>,
    gone: &Gone,
) -> Result<Answer, RpcError> {
    let mut p = Params(params);
    let value = |v: Result<Value, RpcError>| v.map(Answer::Value);
    match method {
        "sendTransaction" => send_transaction(shared, p),
        "sendRawTransaction" => {
            let tx = p
                .bytes("tx")?
                .ok_or_else(|| RpcError::invalid_params("\"tx\" is required"))?;
            let wait = p.bool("wait")?;
            p.done()?;
            let verified = crate::admission::verify(shared, &tx)?;
            submit(shared, verified, wait)
        }
        "simulateTransaction" => value(simulate::simulate(shared, p)),
        "traceTransaction" => value(simulate::trace_transaction(shared, p)),
        "estimateGas" => value(simulate::estimate_gas(shared, p)),
        "getTransaction" => value(get_transaction(shared, p)),
        "query" => value(query(shared, p)),
        "getStorage" => value(get_storage(shared, p)),
        "getStorageRange" => value(get_storage_range(shared, p)),
        "getContract" => value(get_contract(shared, p)),
        "getBlock" => value(get_block(shared, p)),
        "getLatestBlock" => {
            p.done()?;
            let height = shared.store.height().map_err(RpcError::state)?;
            value(block_at(shared, height))
        }
        "getEvents" => value(get_events(shared, p)),
        "getNonce" => {
            let address = p.address("address")?;
            p.done()?;
            // Both read under the pool's lock, as for sendTransaction.
            let pool = lock(&shared.pool);
            let nonce = shared.store.nonce(&address).map_err(RpcError::state)?;
            let pending = pool.mempool.next_free_nonce(&address, nonce);
            drop(pool);
            value(Ok(json!({ "nonce": nonce, "pending": pending })))
        }
        "getBalance" => value(get_balance(shared, p)),
        "getStateValue" => value(read::get_state_value(shared, p)),
        "getCode" => value(read::get_code(shared, p)),
        "getNetwork" => {
            p.done()?;
            value(Ok(network(shared)))
        }
        "backup" => {
            let name = p
                .string("name")?
                .ok_or_else(|| RpcError::invalid_params("\"name\" is required"))?;
            p.done()?;
            value(backup(shared, &name))
        }
        method if DEV_METHODS.contains(&method) => dev::dispatch(shared, method, p, gone),
        other => Err(RpcError::method_not_found(other)),
    }
}

/// `backup`: a consistent copy of the store into `--backup-dir/NAME`,
/// while blocks go on.
fn backup(shared: &Shared, name: &str) -> Result<Value, RpcError> {
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
    Ok(json!({ "height": height, "path": target.display().to_string() }))
}

fn network(shared: &Shared) -> Value {
    let mut out = json!({
        "chain_id": shared.settings.chain_id,
        "backend": shared.config.backend.as_str(),
        "abi_version": shared.settings.abi_version,
        "schedule_version": shared.settings.schedule_version,
        "max_tx_bytes": shared.settings.max_tx_bytes,
        "max_tx_gas": shared.settings.max_tx_gas,
        "max_block_gas": shared.settings.max_block_gas,
        "block_time_ms": shared.config.block_time_ms,
        "height": shared.store.height().unwrap_or(0),
        "dev": shared.config.dev,
        "asset": { "name": shared.settings.asset.name, "decimals": shared.settings.asset.decimals },
        "min_gas_price": shared.min_gas_price().to_string(),
        "chain_min_gas_price": shared.settings.min_gas_price.0.to_string(),
        "fee_collector": shared.settings.fee_collector,
        "genesis_root": shared.settings.genesis_root,
        // The whole record every node of the chain agrees on: what a
        // fork of it takes (`ward serve --fork`).
        "settings": serde_json::to_value(&shared.settings).unwrap_or(Value::Null),
        "fork": crate::fork::recorded(&shared.store).ok().flatten(),
    });
    if shared.config.dev {
        out["dev_accounts"] = shared
            .dev_keys
            .iter()
            .map(|k| {
                json!(ward_chain::tx::account_address(&k.verifying_key().to_bytes()).to_string())
            })
            .collect();
    }
    out
}

/// `deploy` / `call` objects of `sendTransaction` and
/// `simulateTransaction`.
fn payload(shared: &Shared, p: &mut Params) -> Result<Payload, RpcError> {
    if let Some(admin) = p.object("admin")? {
        return admin::payload(admin);
    }
    match (p.object("deploy")?, p.object("call")?) {
        (Some(mut d), None) => {
            let code = d
                .bytes("code")?
                .ok_or_else(|| RpcError::invalid_params("\"deploy.code\" is required"))?;
            let input = match (d.bytes("input")?, d.take("args")) {
                (Some(_), Some(_)) => {
                    return Err(RpcError::invalid_params(
                        "\"deploy.input\" and \"deploy.args\" exclude each other",
                    ));
                }
                (Some(input), None) => input,
                (None, Some(args)) => {
                    let schema = Schema::from_module(&code)
                        .map_err(|e| RpcError::bad_arguments(e.to_string()))?
                        .ok_or_else(|| {
                            RpcError::bad_arguments(
                                "the module has no schema to encode \"args\" with: pass \"input\"",
                            )
                        })?;
                    schema
                        .encode_init(&args)
                        .map_err(|e| RpcError::bad_arguments(e.to_string()))?
                }
                (None, None) => Vec::new(),
            };
            let salt = d.bytes("salt")?.unwrap_or_default();
            let kind = match d.string("kind")?.as_deref() {
                None => CodeKind::Ward,
                Some(name) => CodeKind::parse(name).ok_or_else(|| {
                    RpcError::invalid_params(format!(
                        "deploy.kind: {name:?} is not \"ward\", \"wasi\" or a runtime's name"
                    ))
                })?,
            };
            let admin = d.string("admin")?.map(|text| unhex32(&text).map(Address));
            let admin = admin
                .transpose()
                .map_err(|e| RpcError::invalid_params(format!("\"deploy.admin\": {e}")))?;
            let payload = Payload::Deploy {
                code,
                input,
                salt,
                kind,
                admin,
            };
            d.done()?;
            Ok(payload)
        }
        (None, Some(mut c)) => {
            let to = c.address("to")?;
            let input = call_input(shared, &to, &mut c)?;
            c.done()?;
            Ok(Payload::Call { to, input })
        }
        _ => Err(RpcError::invalid_params(
            "exactly one of \"deploy\", \"call\" and \"admin\" is required",
        )),
    }
}

/// A call's input: `input` as hex, or `method` and its JSON `args`
/// encoded with the schema of the contract at `to`.
fn call_input(shared: &Shared, to: &Address, p: &mut Params) -> Result<Vec<u8>, RpcError> {
    let input = p.bytes("input")?;
    let method = p.string("method")?;
    let args = p.take("args");
    match (input, method) {
        (Some(_), Some(_)) => Err(RpcError::invalid_params(
            "\"input\" and \"method\" exclude each other",
        )),
        (input, None) => {
            if args.is_some() {
                return Err(RpcError::invalid_params("\"args\" needs \"method\""));
            }
            Ok(input.unwrap_or_default())
        }
        (None, Some(method)) => {
            let store = &*shared.store;
            let Some(schema) = shared.schemas.at(store, to).map_err(RpcError::state)? else {
                if store.contract(to).map_err(RpcError::state)?.is_none() {
                    return Err(RpcError::not_found(format!("no contract at {to}")));
                }
                return Err(RpcError::bad_arguments(format!(
                    "the contract at {to} has no schema: pass \"input\" as hex"
                )));
            };
            schema
                .encode_call(&method, &args.unwrap_or(Value::Null))
                .map_err(|e| RpcError::bad_arguments(e.to_string()))
        }
    }
}

/// The default gas limit of `sendTransaction` and `simulateTransaction`.
const DEFAULT_GAS: u64 = 10_000_000;

fn send_transaction(shared: &Shared, mut p: Params) -> Result<Answer, RpcError> {
    dev::dev(shared, "sendTransaction")?;
    let from = p.address("from")?;
    let payload = payload(shared, &mut p)?;
    let gas = p.u64("gas")?.unwrap_or(DEFAULT_GAS);
    let value = p.amount("value")?.unwrap_or(0);
    // The node's minimum unless the client names a price.
    let gas_price = p
        .amount("gas_price")?
        .unwrap_or_else(|| shared.min_gas_price());
    let wait = p.bool("wait")?;
    let nonce = p.u64("nonce")?;
    p.done()?;
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
    let nonce = match nonce {
        Some(n) => n,
        None => {
            // The store's nonce read under the pool's lock: a block is
            // committed, then its transactions leave the mempool under
            // this lock, so the two agree here. Read before the lock, a
            // commit and eviction in between freed a used nonce, and the
            // same transaction was built again (`known`).
            let pool = lock(&shared.pool);
            let next = shared.store.nonce(&from).map_err(RpcError::state)?;
            pool.mempool.next_free_nonce(&from, next)
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
        Ok(Answer::Value(json!({ "tx": hash.to_string() })))
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

/// An executor error as an RPC error: a refusal is the caller's, a read
/// past its wall-clock budget a `timeout`, anything else the node's.
fn exec_error(error: &ExecError) -> RpcError {
    match error {
        error if crate::producer::is_timeout(error) => RpcError::refused(
            "timeout",
            "the read ran past this node's wall-clock budget for reads (--read-timeout-ms)",
        ),
        ExecError::Refused { refusal, .. } => RpcError::refused("limit", refusal.to_string()),
        ExecError::InvalidTx(message) => RpcError::refused("invalid", message.clone()),
        other => RpcError::fault(other),
    }
}

/// How long a `wait` may take within a request's time.
pub(crate) fn wait_budget(timeout: Duration) -> Duration {
    timeout.saturating_sub((timeout / 10).min(Duration::from_secs(1)))
}
