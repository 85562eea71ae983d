//! A receipt as the chain commands print it: text, or the node's JSON
//! decorated with the contracts' schemas.

use std::{process::ExitCode, sync::Arc};

use serde_json::{Value, json};
use ward_chain::schema::{Schema, Type};
use ward_node::decode::{Called, Schemas};
use ward_state::{Address, Receipt, StateRead, Status};
use ward_text::parse::hex;
use ward_vm::BackendKind;

use crate::evm::AbiCall;

/// An event topic as text when it is printable, else as hex.
pub(super) fn topic(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) if !text.is_empty() && text.chars().all(|c| c.is_ascii_graphic()) => {
            text.to_string()
        }
        _ => hex(bytes),
    }
}

/// How a receipt is printed.
pub(crate) struct Show<'a> {
    pub(crate) backend: Option<BackendKind>,
    pub(crate) json: bool,
    pub(crate) committed: bool,
    pub(crate) decode: Option<&'a Type>,
    /// An EVM contract's ABI, to decode by.
    pub(crate) abi: Option<&'a AbiCall>,
}

/// A receipt's JSON (the node's shape, `docs/node.md`) decorated with the
/// schemas of the contracts in `state`; `own` is a contract not in the
/// state (a deploy that was not committed).
pub(crate) fn receipt_json<S: StateRead + ?Sized>(
    state: &S,
    receipt: &Receipt,
    called: Option<Called<'_>>,
    own: Option<(Address, Arc<Schema>)>,
) -> Value {
    let schemas = Schemas::new();
    let mut object = ward_node::json::receipt(receipt);
    ward_node::decode::decorate(&mut object, receipt, called, &mut |address| match &own {
        Some((at, schema)) if at == address => Some(schema.clone()),
        _ => schemas.at(state, address).ok().flatten(),
    });
    serde_json::to_value(object).unwrap_or(Value::Null)
}

/// Prints a receipt: `object` is its JSON as [`receipt_json`] (or a node)
/// made it; `--decode` and the backend are added here.
pub(crate) fn print_receipt(receipt: &Receipt, mut object: Value, show: &Show<'_>) -> ExitCode {
    if let Some(backend) = show.backend {
        object["backend"] = json!(backend.as_str());
    }
    if let Some(abi) = show.abi {
        abi.decorate(&mut object, receipt);
    }
    if let (Some(ty), "ok") = (show.decode, receipt.status.as_str()) {
        match ward_chain::schema::value::decode(ty, &receipt.output) {
            Ok(value) => {
                object["decoded"] = value;
                if let Some(map) = object.as_object_mut() {
                    map.remove("decode_error");
                }
            }
            Err(e) => {
                object["decoded"] = Value::Null;
                object["decode_error"] = json!(format!("the output is not a `{ty}`: {e}"));
            }
        }
    }
    if show.json {
        println!("{object}");
    } else {
        print_text(receipt, &object, show);
    }
    if receipt.status == Status::OutOfGas {
        crate::note_default_gas();
    }
    if receipt.status.is_ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

pub(super) fn print_text(receipt: &Receipt, object: &Value, show: &Show<'_>) {
    if let Some(address) = receipt.address {
        println!("address:   {address}");
    }
    if let Some(method) = object["method"].as_str() {
        println!("method:    {method}");
    }
    println!("status:    {}", receipt.status);
    if let Some(kind) = &receipt.error_kind {
        println!(
            "error:     {kind} ({})",
            receipt.error_message.clone().unwrap_or_default()
        );
    }
    println!("exit code: {}", receipt.exit_code);
    println!("output:    {}", hex(&receipt.output));
    if let Some(error) = object["decode_error"].as_str() {
        println!("decoded:   ({error})");
    } else if receipt.status == Status::Reverted {
        if let Some(message) = object["decoded"].as_str() {
            println!("message:   {message}");
        }
    } else if let Some(decoded) = object.get("decoded").filter(|d| !d.is_null()) {
        println!("decoded:   {decoded}");
    }
    println!("gas used:  {}", receipt.gas_used);
    if let Some(units) = receipt.runtime_gas {
        println!("gas (vm):  {units} (the system runtime's own units: EVM gas for EVM code)");
    }
    let shown = object["events"].as_array().cloned().unwrap_or_default();
    for (i, e) in receipt.events.iter().enumerate() {
        let decoded = shown.get(i);
        match decoded.and_then(|d| d["name"].as_str()) {
            Some(name) => println!(
                "event:     {} {name} {}",
                e.contract,
                decoded.map_or(Value::Null, |d| d["fields"].clone())
            ),
            None => println!(
                "event:     {} {} {}",
                e.contract,
                topic(&e.topic),
                hex(&e.data)
            ),
        }
    }
    if show.committed {
        println!("tx:        {} (block {})", receipt.tx, receipt.height);
    } else {
        println!("state at:  block {} (nothing committed)", receipt.height);
    }
}
