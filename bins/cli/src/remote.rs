//! The chain commands against a node (`--node URL`): the same output as
//! on a data directory.

use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use ward_chain::schema::{Schema, Type};
use ward_chain::tx::{Payload, TxBody, account_address};
use ward_cli::parse::hex;
use ward_state::{Address, ContractInfo, Entries, Hash32};
use ward_vm::BackendKind;

use crate::{
    chain::{Common, Payment, Show, Signer, print_receipt},
    client::Client,
    evm::AbiCall,
};

fn backend_of(network: &Value) -> Option<BackendKind> {
    network["backend"].as_str().and_then(|s| s.parse().ok())
}

fn receipt_of(value: &Value) -> anyhow::Result<ward_state::Receipt> {
    ward_node::json::receipt_from(value)
        .map_err(|e| anyhow::anyhow!("the node's receipt does not read: {e}"))
}

fn hash32(value: &Value, what: &str) -> anyhow::Result<Hash32> {
    value
        .as_str()
        .and_then(Hash32::from_hex)
        .with_context(|| format!("the node's {what} is not a 32-byte hex value"))
}

/// Sends a deploy or call, signed here (`--key`) or by the node for a dev
/// account, waits for its block and prints the receipt.
pub(crate) fn submit(
    url: &str,
    (payload, gas, payment): (Payload, Option<u64>, &Payment),
    signer: Signer,
    common: &Common,
    (decode, abi): (Option<&Type>, Option<&AbiCall>),
) -> anyhow::Result<(ExitCode, Hash32)> {
    let client = Client::new(url)?;
    let network = client.call("getNetwork", json!({}))?;
    let decimals = network["asset"]["decimals"]
        .as_u64()
        .and_then(|d| u8::try_from(d).ok())
        .context("the node names no asset decimals")?;
    let value = payment
        .value
        .as_ref()
        .map(|v| v.in_smallest(decimals))
        .transpose()?
        .unwrap_or(0);
    let gas_price = match payment.gas_price {
        Some(price) => price,
        None => network["min_gas_price"]
            .as_str()
            .and_then(|p| p.parse().ok())
            .context("the node names no minimum gas price")?,
    };
    let gas = match gas {
        Some(gas) => gas,
        None => estimate(&client, &network, &signer, (&payload, value))?,
    };
    let receipt = match signer {
        Signer::Key(key) => {
            let public_key = key.verifying_key().to_bytes();
            let from = account_address(&public_key);
            let nonce = client.call("getNonce", json!({ "address": from.to_string() }))?["pending"]
                .as_u64()
                .context("the node's nonce is not a number")?;
            let chain_id = network["chain_id"]
                .as_str()
                .context("the node names no chain id")?
                .to_owned();
            let tx = TxBody {
                gas_price,
                value,
                chain_id,
                public_key,
                nonce,
                gas_limit: gas,
                payload,
            }
            .sign(&key);
            client.call(
                "sendRawTransaction",
                json!({ "tx": hex(&tx.to_bytes()), "wait": true }),
            )?
        }
        Signer::Dev(from) => {
            let from = match from {
                Some(address) => address.to_string(),
                None => network["dev_accounts"][0]
                    .as_str()
                    .context(
                        "the node is not in dev mode, so it signs for no one: pass --key FILE",
                    )?
                    .to_owned(),
            };
            let mut params = json!({
                "from": from,
                "gas": gas,
                "wait": true,
                "value": value.to_string(),
                "gas_price": gas_price.to_string(),
            });
            payload_json(&payload, &mut params);
            client.call("sendTransaction", params)?
        }
    };
    let tx = hash32(&receipt["tx"], "transaction id")?;
    let code = print_receipt(
        &receipt_of(&receipt)?,
        receipt,
        &Show {
            backend: backend_of(&network),
            json: common.json,
            committed: true,
            decode,
            abi,
        },
    );
    Ok((code, tx))
}

/// A read-only call on the node's latest state.
pub(crate) fn query(
    url: &str,
    (from, to, input): (Address, Address, &[u8]),
    gas: u64,
    common: &Common,
    (decode, abi): (Option<&Type>, Option<&AbiCall>),
) -> anyhow::Result<ExitCode> {
    let client = Client::new(url)?;
    let network = client.call("getNetwork", json!({}))?;
    let receipt = client.call(
        "query",
        json!({ "to": to.to_string(), "from": from.to_string(), "input": hex(input), "gas": gas }),
    )?;
    Ok(print_receipt(
        &receipt_of(&receipt)?,
        receipt,
        &Show {
            backend: backend_of(&network),
            json: common.json,
            committed: false,
            decode,
            abi,
        },
    ))
}

/// A receipt by transaction hash.
pub(crate) fn receipt(url: &str, tx: Hash32, common: &Common) -> anyhow::Result<ExitCode> {
    let client = Client::new(url)?;
    let receipt = client.call("getTransaction", json!({ "tx": tx.to_string() }))?;
    if receipt["status"] == "pending" {
        bail!("transaction {tx} is pending: it is in no block yet");
    }
    Ok(print_receipt(
        &receipt_of(&receipt)?,
        receipt,
        &Show {
            backend: None,
            json: common.json,
            committed: true,
            decode: None,
            abi: None,
        },
    ))
}

/// `--gas auto` against a node: its `estimateGas` (with its margin) for
/// the transaction the signer would send.
fn estimate(
    client: &Client,
    network: &Value,
    signer: &Signer,
    (payload, value): (&Payload, u128),
) -> anyhow::Result<u64> {
    let from = match signer {
        Signer::Key(key) => account_address(&key.verifying_key().to_bytes()).to_string(),
        Signer::Dev(Some(address)) => address.to_string(),
        Signer::Dev(None) => network["dev_accounts"][0]
            .as_str()
            .context("the node is not in dev mode, so it signs for no one: pass --key FILE")?
            .to_owned(),
    };
    let mut params = json!({ "from": from, "value": value.to_string() });
    payload_json(payload, &mut params);
    let estimate = client.call("estimateGas", params)?;
    let (gas, needed) = (estimate["gas"].as_u64(), estimate["gas_needed"].as_u64());
    let (Some(gas), Some(needed)) = (gas, needed) else {
        bail!("the node's estimate does not read: {estimate}");
    };
    eprintln!(
        "gas: auto, {gas} ({needed} needed, plus {} %)",
        estimate["margin_percent"]
    );
    Ok(gas)
}

/// A payload as `sendTransaction`'s `deploy` or `call` field of `params`.
fn payload_json(payload: &Payload, params: &mut Value) {
    match payload {
        Payload::Deploy {
            code,
            input,
            salt,
            kind,
            admin,
        } => {
            params["deploy"] = json!({
                "code": hex(code),
                "input": hex(input),
                "salt": hex(salt),
                "kind": kind.as_str(),
                "admin": admin.map(|a| a.to_string()),
            });
        }
        Payload::Call { to, input } => {
            params["call"] = json!({ "to": to.to_string(), "input": hex(input) });
        }
        Payload::Admin { contract, action } => {
            params["admin"] = match action {
                ward_chain::tx::AdminAction::Upgrade { code, input } => json!({
                    "contract": contract.to_string(),
                    "upgrade": { "code": hex(code), "input": hex(input) },
                }),
                ward_chain::tx::AdminAction::SetAdmin(admin) => json!({
                    "contract": contract.to_string(),
                    "set_admin": admin.map(|a| a.to_string()),
                }),
            };
        }
    }
}

/// The schema of the contract at `at`, from the node's `getContract`.
pub(crate) fn schema(url: &str, at: &Address) -> anyhow::Result<Option<Schema>> {
    let contract = Client::new(url)?.call("getContract", json!({ "address": at.to_string() }))?;
    match &contract["schema"] {
        Value::Null => Ok(None),
        schema => Ok(Some(
            Schema::from_json(schema).context("the node's schema does not read")?,
        )),
    }
}

/// One storage entry with its proof, as the node's JSON.
pub(crate) fn proof(url: &str, at: &Address, key: &[u8]) -> anyhow::Result<Value> {
    Client::new(url)?.call(
        "getStorage",
        json!({ "address": at.to_string(), "key": hex(key) }),
    )
}

/// A contract and its storage (or one key), read page by page.
pub(crate) fn state(
    url: &str,
    at: &Address,
    key: Option<Vec<u8>>,
) -> anyhow::Result<(ContractInfo, Entries)> {
    let client = Client::new(url)?;
    let contract = client.call("getContract", json!({ "address": at.to_string() }))?;
    let info = ContractInfo {
        code_hash: hash32(&contract["code_hash"], "code hash")?,
        deployer: Address(hash32(&contract["deployer"], "deployer")?.0),
        created_at: contract["created_at"]
            .as_u64()
            .context("the node's created_at is not a number")?,
        kind: match contract["kind"].as_str() {
            None => ward_primitives::CodeKind::Ward,
            Some(name) => ward_primitives::CodeKind::parse(name)
                .with_context(|| format!("the node's contract kind {name:?} is unknown"))?,
        },
        admin: match &contract["admin"] {
            Value::Null => None,
            admin => Some(Address(hash32(admin, "admin")?.0)),
        },
        history: Vec::new(),
    };
    let mut info = info;
    // One code since creation is what an empty history means.
    let history = contract["code_history"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    if history.len() > 1 {
        for entry in history {
            let since = entry["since"]
                .as_u64()
                .context("the node's code_history.since is not a number")?;
            info.history.push((
                since,
                hash32(&entry["code_hash"], "code_history.code_hash")?,
            ));
        }
    }
    let bytes = |value: &Value| -> anyhow::Result<Vec<u8>> {
        let text = value.as_str().context("the node's value is not hex")?;
        Ok(ward_cli::parse::hex_bytes(text)?)
    };
    let mut entries = Vec::new();
    match key {
        Some(key) => {
            let proven = client.call(
                "getStorage",
                json!({ "address": at.to_string(), "key": hex(&key) }),
            )?;
            if !proven["value"].is_null() {
                entries.push((key, bytes(&proven["value"])?));
            }
        }
        None => {
            let mut cursor = Value::Null;
            loop {
                let page = client.call(
                    "getStorageRange",
                    json!({ "address": at.to_string(), "cursor": cursor, "limit": 1000 }),
                )?;
                for entry in page["entries"].as_array().context("no entries")? {
                    entries.push((bytes(&entry["key"])?, bytes(&entry["value"])?));
                }
                cursor = page["cursor"].clone();
                if cursor.is_null() {
                    break;
                }
            }
        }
    }
    Ok((info, entries))
}
