//! JSON-RPC 2.0 on the node's endpoints: requests, batches, errors, and
//! the router that gives each request to its wing (`docs/node.md` is the
//! reference). Three wings stand side by side under it: `ward` (Ward's
//! methods, named params), `eth` (Ethereum's `eth_*`, `net_*`, `web3_*`
//! and `debug_*`, positional params) and `dev` (a dev node's controls,
//! under Ward's names and under Hardhat's and anvil's). A method's name
//! says its wing; each wing's methods are rows of a table.
//!
//! A request body is checked for depth before it is parsed, then each
//! request is validated and routed. Methods run on a blocking thread
//! (they read the store and may run contracts); a `wait` then awaits the
//! transaction's block without holding one.

use std::{sync::Arc, time::Duration};

use serde_json::{Map, Value, json};
use ward_rpc::results;
use ward_state::StateRead as _;

pub(crate) mod answer;
pub mod dev;
pub mod eth;
pub(crate) mod guard;
pub(crate) mod history;
pub(crate) mod payload;
pub(crate) mod sending;
pub(crate) mod ward;

pub use crate::config::ESTIMATE_MARGIN_PERCENT;
use crate::{error::RpcError, metrics::Metrics, state::Shared};
use answer::{Answer, Gone, Waiting};
pub(crate) use history::flame_graph;
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

/// One request, validated.
pub(crate) struct Request {
    /// `None` for a notification (no `id`): no response.
    pub(crate) id: Option<Value>,
    pub(crate) method: String,
    pub(crate) params: Params,
}

/// A request's params: one object of named fields for Ward's methods,
/// Ethereum's positional array for its methods and Hardhat's ([`eth`], [`dev`]).
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
    if eth::is_eth(&method) || dev::is_alias(&method) {
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
    let positional_params = matches!(request.params, Params::Positional(_));
    // Read before the answer: what it shows includes at least this block.
    let mut applied = shared.store().height().ok();
    // Set when this future is dropped: the client went away, or the
    // request ran out of time, and a long method (`mine`) stops.
    let gone = Gone::default();
    let _dropped = gone.clone();
    let inline = runs_inline(&shared, &request.method);
    let run = {
        let shared = shared.clone();
        move || match request.params {
            Params::Named(params) if DEV_METHODS.contains(&request.method.as_str()) => {
                dev::dispatch(&shared, &request.method, params, &gone)
            }
            Params::Named(params) => ward::dispatch(&shared, &request.method, params),
            Params::Positional(params) => {
                positional(&shared, &request.method, params).map(Answer::Value)
            }
        }
    };
    let answer = if inline {
        run()
    } else {
        tokio::task::spawn_blocking(run)
            .await
            .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))?
    };
    let result = match answer {
        Ok(Answer::Value(value)) => Ok(value),
        Ok(Answer::Wait(Waiting {
            hash,
            receiver,
            call,
        })) => {
            match tokio::time::timeout_at(deadline, receiver).await {
                Ok(Ok(Ok(committed))) => {
                    let receipt = results::Receipt {
                        block: Some(committed.block),
                        ..ward::called_receipt(&shared, &committed.receipt, call.as_ref())
                    };
                    // Its block is applied by now.
                    applied = shared.store().height().ok();
                    serde_json::to_value(results::Sent::Receipt(Box::new(receipt)))
                        .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))
                }
                Ok(Ok(Err(refusal))) => Err(refusal.into()),
                Ok(Err(_)) => Err(RpcError::unavailable("the node is shutting down")),
                Err(_) => Err(RpcError::timeout(hash)),
            }
        }
        Err(error) => Err(error),
    };
    // Ethereum's answers are Ethereum's shapes alone: no applied height.
    let result = result.map(|mut value| {
        if let (false, Value::Object(object), Some(height)) =
            (positional_params, &mut value, applied)
        {
            object.insert("applied_height".into(), Value::from(height));
        }
        value
    });
    let name = if METHODS.contains(&method.as_str())
        || eth::find(&method).is_some()
        || dev::find_alias(&method).is_some()
    {
        method.as_str()
    } else {
        "unknown"
    };
    shared
        .metrics()
        .rpc_seconds
        .get_or_create(&Metrics::label("method", name))
        .observe((ward_vm::clock::now() - started).as_secs_f64());
    result
}

/// Whether `method` runs on the runtime's own thread instead of the
/// blocking pool: Ward's `sendRawTransaction` on a node that is no
/// replica, whose work is bounded and short (decoding, one signature
/// check, the admission's reads of the sender's account under the pool's
/// lock). Handing it to the pool and back cost a third of the node's CPU
/// per transaction over the executor's (`node_cpu_per_tx`); a replica's
/// admission waits for etcd, so it stays on the pool.
fn runs_inline(shared: &Shared, method: &str) -> bool {
    use ward_rpc::{Method as _, methods::SendRawTransaction};
    method == SendRawTransaction::NAME && shared.replica().is_none()
}

/// Runs a request with positional params: a row of the Ethereum wing
/// ([`eth::ETH_METHODS`]) or of the dev wing's Hardhat and anvil names
/// ([`dev::DEV_ALIASES`]), its params checked against the row
/// ([`eth::check::check_params`]) and what it needs of the node first.
fn positional(shared: &Shared, method: &str, params: Value) -> Result<Value, RpcError> {
    let Some(row) = eth::find(method).or_else(|| dev::find_alias(method)) else {
        return Err(eth::methods::not_answered(method));
    };
    eth::check::check_params(row, &params)?;
    row.needs
        .check(shared, method)
        .map_err(RpcError::into_eth)?;
    (row.run)(shared, &eth::params::Params::new(params)?)
}

/// How long a `wait` may take within a request's time.
pub(crate) fn wait_budget(timeout: Duration) -> Duration {
    timeout.saturating_sub((timeout / 10).min(Duration::from_secs(1)))
}
