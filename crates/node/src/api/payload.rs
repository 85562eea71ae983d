//! The `deploy`, `call` and `admin` objects of `sendTransaction`,
//! `simulateTransaction` and `estimateGas` as the chain's [`Payload`],
//! JSON arguments encoded by the schemas (`docs/node.md`, "JSON
//! arguments"), and an upgrade or admin change (`docs/contracts.md`,
//! "Upgrades").

use serde_json::Value;
use ward_chain::{
    schema::Schema,
    tx::{AdminAction, Deploy, Payload},
};
use ward_primitives::{Address, CodeKind};
use ward_rpc::{params, wire::Bytes};
use ward_state::StateRead;

use crate::error::RpcError;
use crate::state::Shared;

/// The default gas limit of `sendTransaction` and `simulateTransaction`.
pub(crate) const DEFAULT_GAS: u64 = 10_000_000;

/// Exactly one of `deploy`, `call` and `admin`, as a payload.
pub(crate) fn of(
    shared: &Shared,
    deploy: Option<params::Deploy>,
    call: Option<params::Call>,
    admin: Option<params::Admin>,
) -> Result<Payload, RpcError> {
    match (deploy, call, admin) {
        (None, None, Some(admin)) => admin_payload(admin),
        (Some(deploy), None, None) => deploy_payload(deploy),
        (None, Some(call), None) => Ok(Payload::Call {
            to: call.to,
            input: input(shared, &call.to, call.input, call.method, call.args)?,
        }),
        _ => Err(RpcError::invalid_params(
            "exactly one of \"deploy\", \"call\" and \"admin\" is required",
        )),
    }
}

fn deploy_payload(d: params::Deploy) -> Result<Payload, RpcError> {
    let input = match (d.input, d.args) {
        (Some(_), Some(_)) => {
            return Err(RpcError::invalid_params(
                "\"deploy.input\" and \"deploy.args\" exclude each other",
            ));
        }
        (Some(input), None) => input.0,
        (None, Some(args)) => {
            let schema = Schema::from_module(&d.code.0)
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
    let kind = match d.kind.as_deref() {
        None => CodeKind::Ward,
        Some(name) => CodeKind::parse(name).ok_or_else(|| {
            RpcError::invalid_params(format!(
                "deploy.kind: {name:?} is not \"ward\", \"wasi\", \"wasi-reactor\" or a runtime's name"
            ))
        })?,
    };
    Ok(Payload::Deploy(
        Deploy::new(d.code.0, input)
            .with_salt(d.salt.map(Vec::from).unwrap_or_default())
            .with_kind(kind)
            .with_admin(d.admin),
    ))
}

/// `{"contract", "upgrade": {"code", "input"}}` or `{"contract",
/// "set_admin": ADDRESS | null}`.
fn admin_payload(a: params::Admin) -> Result<Payload, RpcError> {
    let action = match (a.upgrade, a.set_admin) {
        (Some(upgrade), None) => AdminAction::Upgrade {
            code: upgrade.code.0,
            input: upgrade.input.map(Vec::from).unwrap_or_default(),
        },
        (None, Some(admin)) => AdminAction::SetAdmin(admin),
        _ => {
            return Err(RpcError::invalid_params(
                "\"admin\" takes exactly one of \"upgrade\" and \"set_admin\"",
            ));
        }
    };
    Ok(Payload::Admin {
        contract: a.contract,
        action,
    })
}

/// A call's input: `input` as hex, or `method` and its JSON `args`
/// encoded with the schema of the contract at `to`.
pub(crate) fn input(
    shared: &Shared,
    to: &Address,
    input: Option<Bytes>,
    method: Option<String>,
    args: Option<Value>,
) -> Result<Vec<u8>, RpcError> {
    match (input, method) {
        (Some(_), Some(_)) => Err(RpcError::invalid_params(
            "\"input\" and \"method\" exclude each other",
        )),
        (input, None) => {
            if args.is_some() {
                return Err(RpcError::invalid_params("\"args\" needs \"method\""));
            }
            Ok(input.map(Vec::from).unwrap_or_default())
        }
        (None, Some(method)) => {
            let store = &**shared.store();
            let Some(schema) = shared.schemas().at(store, to).map_err(RpcError::state)? else {
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
