//! Receipts and transactions shown with their contracts' schemas
//! (`docs/contracts.md`): a call's arguments and output as JSON, a revert's
//! message as text, each declared event with its name and fields. The node
//! and the CLI both decorate the receipt JSON of [`crate::json`] with this.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use serde_json::Value;
use ward_chain::{
    schema::{Schema, split_call},
    tx::{Deploy, Payload, Sender, StoredTx},
};
use ward_primitives::{Address, Hash32, Status};
use ward_state::{Receipt, StateError, StateRead};

use ward_rpc::{
    results,
    wire::{Amount, Bytes},
};

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
/// schemas say: `method` and `decoded` (a call's output as JSON, by the
/// method's return type; a revert's message as a string), and `name` and
/// `fields` on each event a schema declares. Where bytes do not fit the
/// schema, `decode_error` says why and the raw hex stands.
pub fn decorate(
    object: &mut results::Receipt,
    receipt: &Receipt,
    called: Option<Called<'_>>,
    schema_of: &mut dyn FnMut(&Address) -> Option<Arc<Schema>>,
) {
    if let Some(called) = called
        && let Some((method, _)) = split_call(called.input)
    {
        object.method = Some(method.to_owned());
        if receipt.status.is_ok()
            && let Some(schema) = schema_of(called.to)
        {
            match schema.decode_output(method, &receipt.output) {
                Ok(value) => object.decoded = Some(value),
                Err(e) => object.decode_error = Some(e.to_string()),
            }
        }
    }
    if receipt.status == Status::Reverted
        && let Ok(message) = std::str::from_utf8(&receipt.output)
    {
        object.decoded = Some(Value::String(message.to_owned()));
    }
    for (out, event) in object.events.iter_mut().zip(&receipt.events) {
        let Some(schema) = schema_of(&event.contract) else {
            continue;
        };
        match schema.decode_event(&event.topic, &event.data) {
            Some(Ok((declared, fields))) => {
                out.name = Some(declared.name.clone());
                out.fields = Some(fields);
            }
            Some(Err(e)) => out.decode_error = Some(e.to_string()),
            None => {}
        }
    }
}

/// A transaction's fields other than its payload, from its body.
fn with_body(who: results::Transaction, body: &ward_chain::tx::TxBody) -> results::Transaction {
    results::Transaction {
        nonce: Some(body.nonce),
        gas_limit: body.gas_limit,
        gas_price: Some(Amount(body.gas_price)),
        value: Amount(body.value),
        chain_id: Some(body.chain_id.clone()),
        ..who
    }
}

/// Who sent a stored transaction and how (the fields of [`transaction`]
/// other than its payload's), and its payload: a signed one, a dev
/// node's impersonated one, or an embedder's unsigned one.
fn sender_and_payload(bytes: &[u8]) -> Option<(results::Transaction, Payload)> {
    let stored = StoredTx::from_bytes(bytes).ok()?;
    let payload = stored.payload();
    let who = match (&stored, stored.sender()) {
        (StoredTx::Signed(signed), Sender::Signed(public_key)) => with_body(
            results::Transaction {
                signed: true,
                from: ward_chain::tx::account_address(&public_key),
                public_key: Some(public_key.to_vec().into()),
                ..results::Transaction::default()
            },
            &signed.body,
        ),
        (StoredTx::Impersonated(from, body, _), _) => with_body(
            results::Transaction {
                signed: false,
                impersonated: Some(true),
                from: *from,
                ..results::Transaction::default()
            },
            body,
        ),
        (StoredTx::Unsigned(tx, _), _) => results::Transaction {
            signed: false,
            from: tx.sender,
            gas_limit: tx.gas_limit,
            value: Amount(tx.value()),
            ..results::Transaction::default()
        },
        (StoredTx::Ethereum(tx), _) => results::Transaction {
            signed: true,
            from: tx.sender(),
            nonce: Some(tx.nonce),
            gas_limit: tx.gas_limit,
            value: Amount(tx.value),
            ethereum: Some(results::EthShown {
                ty: tx.ty.number(),
                chain_id: tx.chain_id,
                max_fee_per_gas: Amount(tx.max_fee_per_gas),
                max_priority_fee_per_gas: Amount(tx.max_priority_fee_per_gas),
            }),
            ..results::Transaction::default()
        },
        _ => return None,
    };
    let who = results::Transaction {
        evm_gas: stored.gas_unit().is_ethereum().then_some(true),
        ..who
    };
    Some((who, payload))
}

/// A stored transaction's encoding (the `txs` table) as the RPC shows
/// it: a signed or impersonated one with its sender, nonce and payload,
/// or an embedder's unsigned one; a call's arguments decoded by
/// `schema`'s method (the called contract's), a deploy's by its own
/// module's `init`. `None` when the bytes are no transaction.
pub fn transaction(bytes: &[u8], schema: Option<&Schema>) -> Option<results::Transaction> {
    let (mut shown, payload) = sender_and_payload(bytes)?;
    match payload {
        Payload::Call { to, input } => {
            let mut call = results::CallShown {
                to,
                input: results::InputShown {
                    input: Some(input.clone().into()),
                    ..results::InputShown::default()
                },
                ..results::CallShown::default()
            };
            if let Some((method, args)) = split_call(&input) {
                call.method = Some(method.to_owned());
                if let Some(m) = schema.and_then(|s| s.method(method)) {
                    call.signature = Some(m.signature());
                    decoded(&mut call.input, &m.args, args);
                }
            }
            shown.call = Some(call);
        }
        Payload::Deploy(deploy) => shown.deploy = Some(deploy_shown(deploy)),
        Payload::Admin { contract, action } => {
            let mut admin = results::AdminShown {
                contract,
                ..results::AdminShown::default()
            };
            match action {
                ward_chain::tx::AdminAction::Upgrade { code, input } => {
                    admin.upgrade = Some(results::UpgradeShown {
                        code_hash: Hash32(ward_vm::CodeHash::of(&code).0),
                        code_size: code.len(),
                        migrate_input: input.into(),
                    });
                }
                ward_chain::tx::AdminAction::SetAdmin(to) => admin.set_admin = Some(to),
            }
            shown.admin = Some(admin);
        }
    }
    Some(shown)
}

/// A deploy as `getTransaction` shows it, `init`'s arguments decoded by
/// the module's own schema.
fn deploy_shown(deploy: Deploy) -> results::DeployShown {
    let mut shown = results::DeployShown {
        code_hash: Hash32(ward_vm::CodeHash::of(&deploy.code).0),
        code_size: deploy.code.len(),
        salt: deploy.salt.into(),
        kind: deploy.kind.as_str().to_owned(),
        admin: deploy.admin,
        input: results::InputShown {
            input: Some(deploy.input.clone().into()),
            ..results::InputShown::default()
        },
    };
    if let Ok(Some(own)) = Schema::from_module(&deploy.code)
        && let Some(params) = &own.init
    {
        decoded(&mut shown.input, params, &deploy.input);
    }
    shown
}

/// `shown`'s parameters and its arguments decoded from `bytes` (or why
/// they do not decode).
fn decoded(shown: &mut results::InputShown, params: &[ward_chain::schema::Param], bytes: &[u8]) {
    shown.params = Some(params_shown(params));
    match decode_args(params, bytes) {
        Ok(args) => shown.args = Some(args),
        Err(e) => shown.decode_error = Some(e),
    }
}

/// Parameters in declaration order, `[{"name", "type"}]` (`args` is an
/// object, whose keys a JSON reader may reorder).
fn params_shown(params: &[ward_chain::schema::Param]) -> Vec<results::Param> {
    params
        .iter()
        .map(|p| results::Param {
            name: p.name.clone(),
            ty: p.ty.to_string(),
        })
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
        Payload::Call { to, input } => Some((to, input)),
        Payload::Deploy(_) | Payload::Admin { .. } => None,
    }
}

/// A call trace as the RPC shows it (`docs/node.md`, `traceTransaction`):
/// the receipt, what was charged outside any frame, `gas_accounted`, and
/// the frame tree, each frame's method, arguments, output and events
/// decoded by the schema `schema_of` gives for the code it ran, and the
/// backtrace of a frame that ended without returning
/// ([`crate::profile::backtrace`]).
pub fn trace(
    trace: &ward_executor::Trace,
    schema_of: &mut dyn FnMut(&Address) -> Option<Arc<Schema>>,
) -> results::Trace {
    let symbols = crate::profile::TraceSymbols::of(trace);
    results::Trace {
        receipt: crate::json::receipt(&trace.receipt),
        charged: trace
            .charged
            .iter()
            .map(|(what, gas)| results::Charge {
                what: (*what).to_owned(),
                gas: *gas,
            })
            .collect(),
        gas_accounted: trace.gas_accounted(),
        root: trace
            .root
            .as_ref()
            .map(|root| frame_shown(root, schema_of, &symbols)),
        profile: None,
    }
}

fn frame_shown(
    frame: &ward_executor::TraceFrame,
    schema_of: &mut dyn FnMut(&Address) -> Option<Arc<Schema>>,
    symbols: &crate::profile::TraceSymbols,
) -> results::Frame {
    let schema = schema_of(&frame.code_address);
    let mut out = results::Frame {
        call: frame.call.as_str().to_owned(),
        address: frame.address,
        code_address: frame.code_address,
        caller: frame.caller,
        kind: frame.kind.as_str().to_owned(),
        input: frame.input.clone().into(),
        value: Amount(frame.value),
        gas_given: frame.gas_given,
        gas_used: frame.gas_used,
        self_gas: frame.self_gas(),
        runtime_gas: frame.runtime_gas,
        status: frame.status,
        error: frame
            .error
            .as_ref()
            .map(|(kind, message)| results::Failure {
                kind: kind.as_str().to_owned(),
                message: message.clone(),
            }),
        output: frame.output.clone().into(),
        accesses: frame
            .accesses
            .iter()
            .map(|access| access_shown(access, schema.as_deref()))
            .collect(),
        children: frame.children.iter().map(child_shown).collect(),
        backtrace: crate::profile::backtrace(frame, symbols),
        ..results::Frame::default()
    };
    if let Some((name, args)) = ward_chain::schema::split_call(&frame.input) {
        out.method = Some(name.to_owned());
        if let Some(params) = schema
            .as_ref()
            .and_then(|s| s.method(name))
            .map(|m| &m.args)
        {
            out.args = decode_args(params, args).ok();
        }
        if frame.status == ward_vm::Status::Ok
            && let Some(Ok(decoded)) = schema
                .as_ref()
                .map(|s| s.decode_output(name, &frame.output))
        {
            out.decoded = Some(decoded);
        }
    }
    if frame.status == ward_vm::Status::Reverted
        && let Ok(message) = std::str::from_utf8(&frame.output)
    {
        out.decoded = Some(Value::String(message.to_owned()));
    }
    out.calls = frame
        .calls
        .iter()
        .map(|c| frame_shown(c, schema_of, symbols))
        .collect();
    out
}

/// A frame's read, write or event, an event decoded by `schema`.
fn access_shown(access: &ward_executor::Access, schema: Option<&Schema>) -> results::Access {
    let bytes = |b: &Option<Vec<u8>>| b.clone().map(Bytes::from);
    match access {
        ward_executor::Access::Read { key, value } => results::Access::Read {
            key: key.clone().into(),
            value: bytes(value),
        },
        ward_executor::Access::Write { key, old, new } => results::Access::Write {
            key: key.clone().into(),
            old: bytes(old),
            new: bytes(new),
        },
        ward_executor::Access::Event { topic, data } => {
            let mut event = results::TracedEvent {
                topic: topic.clone().into(),
                data: data.clone().into(),
                ..results::TracedEvent::default()
            };
            if let Some(Some(Ok((declared, fields)))) = schema.map(|s| s.decode_event(topic, data))
            {
                event.name = Some(declared.name.clone());
                event.fields = Some(fields);
            }
            results::Access::Event(event)
        }
    }
}

/// A step of a child (`vm_*`).
fn child_shown(step: &ward_vm::ChildEvent) -> results::ChildStep {
    let call = match &step.call {
        ward_vm::ChildCall::Run { export, args, gas } => results::ChildCall::Run {
            export: export.clone(),
            args: args.clone(),
            gas: *gas,
        },
        ward_vm::ChildCall::Resume { value } => results::ChildCall::Resume { value: *value },
    };
    let result = match &step.result {
        Ok(ward_vm::ChildStep::Finished { result, gas_left }) => results::ChildResult::Finished {
            result: *result,
            gas_left: *gas_left,
        },
        Ok(ward_vm::ChildStep::Syscall {
            index,
            args,
            gas_left,
        }) => results::ChildResult::Syscall {
            index: *index,
            args: args.clone(),
            gas_left: *gas_left,
        },
        Err(error) => results::ChildResult::Failed(format!("{error:?}")),
    };
    results::ChildStep {
        instance: step.instance,
        call,
        result,
        gas_used: step.gas_used,
    }
}
