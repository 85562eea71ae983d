//! Receipts and transactions shown with their contracts' schemas
//! (`docs/contracts.md`): a call's arguments and output as JSON, a revert's
//! message as text, each declared event with its name and fields. The node
//! and the CLI both decorate the receipt JSON of [`crate::json`] with this.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use serde_json::{Value, json};
use ward_chain::{
    schema::{Schema, split_call},
    tx::{Payload, Sender, StoredTx},
};
use ward_primitives::{Address, Hash32};
use ward_state::{Receipt, StateError, StateRead};

use crate::json::hex;

/// Schemas by code hash, read from the state once. A module's schema never
/// changes; a module without one (or with one that no longer reads) is
/// remembered as `None`.
#[derive(Debug, Default)]
pub struct Schemas {
    by_code: Mutex<BTreeMap<Hash32, Option<Arc<Schema>>>>,
}

/// Distinct codes remembered before the cache starts over: a bound on the
/// memory that many deployed modules could take.
const MAX_CACHED: usize = 1024;

impl Schemas {
    /// An empty cache.
    pub fn new() -> Schemas {
        Schemas::default()
    }

    /// The schema of the contract at `address` in `state`: `None` when
    /// there is no contract there or its module has no schema.
    ///
    /// # Errors
    ///
    /// The state's own faults.
    pub fn at<S: StateRead + ?Sized>(
        &self,
        state: &S,
        address: &Address,
    ) -> Result<Option<Arc<Schema>>, StateError> {
        let Some(info) = state.contract(address)? else {
            return Ok(None);
        };
        if let Some(known) = self.lock().get(&info.code_hash) {
            return Ok(known.clone());
        }
        let schema = state
            .code(&info.code_hash)?
            .and_then(|code| Schema::from_module(&code).ok().flatten())
            .map(Arc::new);
        let mut map = self.lock();
        if map.len() >= MAX_CACHED {
            map.clear();
        }
        map.insert(info.code_hash, schema.clone());
        Ok(schema)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<Hash32, Option<Arc<Schema>>>> {
        self.by_code
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What a receipt answers: the contract and input of a call (`None` for a
/// deploy, whose `init` returns nothing).
#[derive(Clone, Copy, Debug)]
pub struct Called<'a> {
    /// The contract called.
    pub to: &'a Address,
    /// The call's input.
    pub input: &'a [u8],
}

/// Adds to `object` (a receipt's JSON, [`crate::json::receipt`]) what the
/// schemas say: `"method"` and `"decoded"` (a call's output as JSON, by the
/// method's return type; a revert's message as a string), and `"name"` and
/// `"fields"` on each event a schema declares. Where bytes do not fit the
/// schema, `"decode_error"` says why and the raw hex stands.
pub fn decorate(
    object: &mut Value,
    receipt: &Receipt,
    called: Option<Called<'_>>,
    schema_of: &mut dyn FnMut(&Address) -> Option<Arc<Schema>>,
) {
    if let Some(called) = called
        && let Some((method, _)) = split_call(called.input)
    {
        object["method"] = json!(method);
        if receipt.status == "ok"
            && let Some(schema) = schema_of(called.to)
        {
            match schema.decode_output(method, &receipt.output) {
                Ok(value) => object["decoded"] = value,
                Err(e) => object["decode_error"] = json!(e.to_string()),
            }
        }
    }
    if receipt.status == "reverted"
        && let Ok(message) = std::str::from_utf8(&receipt.output)
    {
        object["decoded"] = json!(message);
    }
    let Some(events) = object.get_mut("events").and_then(Value::as_array_mut) else {
        return;
    };
    for (out, event) in events.iter_mut().zip(&receipt.events) {
        let Some(schema) = schema_of(&event.contract) else {
            continue;
        };
        match schema.decode_event(&event.topic, &event.data) {
            Some(Ok((declared, fields))) => {
                out["name"] = json!(declared.name);
                out["fields"] = fields;
            }
            Some(Err(e)) => out["decode_error"] = json!(e.to_string()),
            None => {}
        }
    }
}

/// `who` with the fields of a transaction body other than its payload.
fn with_body(mut who: Value, body: &ward_chain::tx::TxBody) -> Value {
    who["nonce"] = json!(body.nonce);
    who["gas_limit"] = json!(body.gas_limit);
    who["gas_price"] = json!(body.gas_price.to_string());
    who["value"] = json!(body.value.to_string());
    who["chain_id"] = json!(body.chain_id);
    who
}

/// Who sent a stored transaction and how (the JSON fields of
/// [`transaction`] before its payload's), and its payload: a signed one
/// (its hash is `id`), a dev node's impersonated one, or an embedder's
/// unsigned one.
fn sender_and_payload(bytes: &[u8]) -> Option<(Value, Payload)> {
    let stored = StoredTx::from_bytes(bytes).ok()?;
    let payload = stored.payload().clone();
    let who = match (&stored, stored.sender()) {
        (StoredTx::Signed(signed), Sender::Signed(public_key)) => with_body(
            json!({
                "signed": true,
                "from": ward_chain::tx::account_address(&public_key).to_string(),
                "public_key": hex(&public_key),
            }),
            &signed.body,
        ),
        (StoredTx::Impersonated(from, body), _) => with_body(
            json!({
                "signed": false,
                "impersonated": true,
                "from": from.to_string(),
            }),
            body,
        ),
        (StoredTx::Unsigned(tx), _) => json!({
            "signed": false,
            "from": tx.sender.to_string(),
            "gas_limit": tx.gas_limit,
            "value": tx.value().to_string(),
        }),
        _ => return None,
    };
    Some((who, payload))
}

/// A stored transaction's encoding (the `txs` table) as JSON: a signed
/// or impersonated one with its sender, nonce and payload, or an
/// embedder's unsigned one; a call's arguments decoded by `schema`'s
/// method (the called contract's), a deploy's by its own module's `init`.
/// `None` when the bytes are no transaction.
pub fn transaction(bytes: &[u8], schema: Option<&Schema>) -> Option<Value> {
    let (mut object, payload) = sender_and_payload(bytes)?;
    match payload {
        Payload::Call { to, input } => {
            let mut call = json!({ "to": to.to_string(), "input": hex(&input) });
            if let Some((method, args)) = split_call(&input) {
                call["method"] = json!(method);
                if let Some(m) = schema.and_then(|s| s.method(method)) {
                    call["signature"] = json!(m.signature());
                    call["params"] = params_json(&m.args);
                    match decode_args(&m.args, args) {
                        Ok(args) => call["args"] = args,
                        Err(e) => call["decode_error"] = json!(e),
                    }
                }
            }
            object["call"] = call;
        }
        Payload::Deploy {
            code,
            input,
            salt,
            kind,
            admin,
        } => {
            let hash = Hash32(ward_vm::CodeHash::of(&code).0);
            let mut deploy = json!({
                "code_hash": hash.to_string(),
                "code_size": code.len(),
                "input": hex(&input),
                "salt": hex(&salt),
                "kind": kind.as_str(),
                "admin": admin.map(|a| a.to_string()),
            });
            if let Ok(Some(own)) = Schema::from_module(&code)
                && let Some(params) = &own.init
            {
                deploy["params"] = params_json(params);
                match decode_args(params, &input) {
                    Ok(args) => deploy["args"] = args,
                    Err(e) => deploy["decode_error"] = json!(e),
                }
            }
            object["deploy"] = deploy;
        }
        Payload::Admin { contract, action } => {
            object["admin"] = match action {
                ward_chain::tx::AdminAction::Upgrade { code, input } => json!({
                    "contract": contract.to_string(),
                    "upgrade": {
                        "code_hash": Hash32(ward_vm::CodeHash::of(&code).0).to_string(),
                        "code_size": code.len(),
                        "migrate_input": hex(&input),
                    },
                }),
                ward_chain::tx::AdminAction::SetAdmin(admin) => json!({
                    "contract": contract.to_string(),
                    "set_admin": admin.map(|a| a.to_string()),
                }),
            };
        }
    }
    Some(object)
}

/// Parameters in declaration order, `[{"name", "type"}]` (`args` is an
/// object, whose keys a JSON reader may reorder).
fn params_json(params: &[ward_chain::schema::Param]) -> Value {
    params
        .iter()
        .map(|p| json!({ "name": p.name, "type": p.ty.to_string() }))
        .collect()
}

/// Argument bytes as a JSON object by name.
fn decode_args(params: &[ward_chain::schema::Param], bytes: &[u8]) -> Result<Value, String> {
    let ty = ward_chain::schema::Type::Tuple(params.iter().map(|p| p.ty.clone()).collect());
    let values = ward_chain::schema::value::decode(&ty, bytes).map_err(|e| e.to_string())?;
    let values = match values {
        Value::Array(values) => values,
        _ => Vec::new(),
    };
    Ok(Value::Object(
        params.iter().map(|p| p.name.clone()).zip(values).collect(),
    ))
}

/// The contract and input of a stored transaction (its encoding) when it
/// is a call.
pub fn stored_call(bytes: &[u8]) -> Option<(Address, Vec<u8>)> {
    match StoredTx::from_bytes(bytes).ok()?.payload() {
        Payload::Call { to, input } => Some((*to, input.clone())),
        Payload::Deploy { .. } | Payload::Admin { .. } => None,
    }
}

/// A stored transaction (its encoding) as the executor replays it:
/// signed for `chain_id`, a dev node's impersonated one, or an
/// embedder's own ([`StoredTx`] says which).
pub fn block_tx(bytes: &[u8], chain_id: &str) -> Option<ward_executor::BlockTx> {
    Some(match StoredTx::from_bytes(bytes).ok()? {
        StoredTx::Signed(signed) => {
            ward_executor::BlockTx::Signed(Box::new(signed.verify(chain_id).ok()?))
        }
        StoredTx::Impersonated(sender, body) => {
            ward_executor::BlockTx::Signed(Box::new(body.impersonated(sender)))
        }
        StoredTx::Unsigned(tx) => ward_executor::BlockTx::Unsigned(tx),
    })
}

/// A call trace as JSON (`docs/node.md`, `traceTransaction`): the
/// receipt, what was charged outside any frame, `gas_accounted`, and the
/// frame tree, each frame's method, arguments, output and events decoded
/// by the schema `schema_of` gives for the code it ran, and the backtrace
/// of a frame that ended without returning ([`crate::profile::backtrace`]).
pub fn trace(
    trace: &ward_executor::Trace,
    schema_of: &mut dyn FnMut(&Address) -> Option<Arc<Schema>>,
) -> Value {
    let symbols = crate::profile::TraceSymbols::of(trace);
    json!({
        "receipt": crate::json::receipt(&trace.receipt),
        "charged": trace
            .charged
            .iter()
            .map(|(what, gas)| json!({ "what": what, "gas": gas }))
            .collect::<Vec<_>>(),
        "gas_accounted": trace.gas_accounted(),
        "root": trace.root.as_ref().map(|root| frame_json(root, schema_of, &symbols)),
    })
}

fn frame_json(
    frame: &ward_executor::TraceFrame,
    schema_of: &mut dyn FnMut(&Address) -> Option<Arc<Schema>>,
    symbols: &crate::profile::TraceSymbols,
) -> Value {
    let schema = schema_of(&frame.code_address);
    let mut out = json!({
        "call": frame.call.as_str(),
        "address": frame.address.to_string(),
        "code_address": frame.code_address.to_string(),
        "caller": frame.caller.to_string(),
        "kind": frame.kind.as_str(),
        "input": hex(&frame.input),
        "value": frame.value.to_string(),
        "gas_given": frame.gas_given,
        "gas_used": frame.gas_used,
        "self_gas": frame.self_gas(),
        "runtime_gas": frame.runtime_gas,
        "status": frame.status.as_str(),
        "error": frame.error.as_ref().map(|(kind, message)| json!({ "kind": kind.as_str(), "message": message })),
        "output": hex(&frame.output),
    });
    let method = ward_chain::schema::split_call(&frame.input);
    if let Some((name, args)) = method {
        out["method"] = json!(name);
        if let Some(params) = schema
            .as_ref()
            .and_then(|s| s.method(name))
            .map(|m| &m.args)
        {
            let ty = ward_chain::schema::Type::Tuple(params.iter().map(|p| p.ty.clone()).collect());
            if let Ok(Value::Array(values)) = ward_chain::schema::value::decode(&ty, args) {
                out["args"] =
                    Value::Object(params.iter().map(|p| p.name.clone()).zip(values).collect());
            }
        }
        if frame.status == ward_vm::Status::Ok
            && let Some(Ok(decoded)) = schema
                .as_ref()
                .map(|s| s.decode_output(name, &frame.output))
        {
            out["decoded"] = decoded;
        }
    }
    if frame.status == ward_vm::Status::Reverted
        && let Ok(message) = std::str::from_utf8(&frame.output)
    {
        out["decoded"] = json!(message);
    }
    out["accesses"] = frame
        .accesses
        .iter()
        .map(|access| match access {
            ward_executor::Access::Read { key, value } => {
                json!({ "read": { "key": hex(key), "value": value.as_deref().map(hex) } })
            }
            ward_executor::Access::Write { key, old, new } => json!({ "write": {
                "key": hex(key),
                "old": old.as_deref().map(hex),
                "new": new.as_deref().map(hex),
            } }),
            ward_executor::Access::Event { topic, data } => {
                let mut event = json!({ "topic": hex(topic), "data": hex(data) });
                if let Some(Some(Ok((declared, fields)))) =
                    schema.as_ref().map(|s| s.decode_event(topic, data))
                {
                    event["name"] = json!(declared.name);
                    event["fields"] = fields;
                }
                json!({ "event": event })
            }
        })
        .collect();
    out["children"] = frame.children.iter().map(child_json).collect();
    if let Some(backtrace) = crate::profile::backtrace(frame, symbols) {
        out["backtrace"] = backtrace;
    }
    out["calls"] = frame
        .calls
        .iter()
        .map(|c| frame_json(c, schema_of, symbols))
        .collect();
    out
}

/// A step of a child (`vm_*`) as JSON.
fn child_json(step: &ward_vm::ChildEvent) -> Value {
    let call = match &step.call {
        ward_vm::ChildCall::Run { export, args, gas } => {
            json!({ "run": { "export": export, "args": args, "gas": gas } })
        }
        ward_vm::ChildCall::Resume { value } => json!({ "resume": { "value": value } }),
    };
    let result = match &step.result {
        Ok(ward_vm::ChildStep::Finished { result, gas_left }) => {
            json!({ "finished": { "result": result, "gas_left": gas_left } })
        }
        Ok(ward_vm::ChildStep::Syscall {
            index,
            args,
            gas_left,
        }) => json!({ "syscall": { "index": index, "args": args, "gas_left": gas_left } }),
        Err(error) => json!({ "failed": format!("{error:?}") }),
    };
    json!({
        "instance": step.instance,
        "call": call,
        "result": result,
        "gas_used": step.gas_used,
    })
}
