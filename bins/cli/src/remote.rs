//! The chain commands against a node (`--node URL`): the same output as
//! on a data directory.

use std::process::ExitCode;

use anyhow::{Context, bail};
use serde_json::Value;
use ward_chain::schema::{Schema, Type};
use ward_chain::tx::{Payload, TxBody, account_address};
use ward_rpc::{
    Applied,
    client::Client,
    methods, params,
    results::{self, Found, Network, Sent},
    wire::{Amount, Bytes},
};
use ward_state::{Address, ContractInfo, Entries, Hash32};
use ward_vm::BackendKind;

use crate::{
    common::{Common, Payment, Signer},
    evm::AbiCall,
    print::{Show, print_receipt},
};

fn backend_of(network: &Network) -> Option<BackendKind> {
    network.backend.parse().ok()
}

/// A receipt the node sent, as the CLI prints it: the chain's receipt
/// and the node's JSON of it.
fn printable(receipt: Applied<results::Receipt>) -> anyhow::Result<(ward_state::Receipt, Value)> {
    let chain = ward_node::json::receipt_from(&receipt.value);
    let json = serde_json::to_value(&receipt).context("the node's receipt does not write")?;
    Ok((chain, json))
}

/// The account the node signs for by default: its first dev account.
fn first_dev_account(network: &Network) -> anyhow::Result<Address> {
    network
        .dev_accounts
        .as_ref()
        .and_then(|accounts| accounts.first().copied())
        .context("the node is not in dev mode, so it signs for no one: pass --key FILE")
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
    let network = client.call::<methods::GetNetwork>(&params::Empty {})?.value;
    let decimals = network.asset.decimals;
    let value = payment
        .value
        .as_ref()
        .map(|v| v.in_smallest(decimals))
        .transpose()?
        .unwrap_or(0);
    let gas_price = payment.gas_price.unwrap_or(network.min_gas_price.0);
    let gas = match gas {
        Some(gas) => gas,
        None => estimate(&client, &network, &signer, (&payload, value))?,
    };
    let receipt = match signer {
        Signer::Key(key) => {
            let public_key = key.verifying_key().to_bytes();
            let from = account_address(&public_key);
            let address = params::AddressOnly { address: from };
            let nonce = client.call::<methods::GetNonce>(&address)?.value.pending;
            let chain_id = network.chain_id.clone();
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
            let raw = params::Raw {
                tx: Bytes(tx.to_bytes()),
                wait: Some(true),
            };
            client.call::<methods::SendRawTransaction>(&raw)?
        }
        Signer::Dev(from) => {
            let from = match from {
                Some(address) => address,
                None => first_dev_account(&network)?,
            };
            let (deploy, call, admin) = payload_params(&payload);
            let params = params::Transaction {
                from,
                deploy,
                call,
                admin,
                gas: Some(gas),
                value: Some(Amount(value)),
                gas_price: Some(Amount(gas_price)),
                nonce: None,
                wait: Some(true),
            };
            client.call::<methods::SendTransaction>(&params)?
        }
    };
    let receipt = match receipt.value {
        Sent::Receipt(r) => Applied {
            value: *r,
            applied_height: receipt.applied_height,
        },
        Sent::Pending { tx } => bail!("the node answered {tx} without its receipt"),
    };
    let tx = receipt.value.tx;
    let (chain, json) = printable(receipt)?;
    let code = print_receipt(
        &chain,
        json,
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
    let network = client.call::<methods::GetNetwork>(&params::Empty {})?.value;
    let query = params::Query {
        to,
        input: Some(Bytes(input.to_vec())),
        gas: Some(gas),
        from: Some(from),
        ..params::Query::default()
    };
    let (chain, json) = printable(client.call::<methods::Query>(&query)?)?;
    Ok(print_receipt(
        &chain,
        json,
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
    let asked = params::GetTransaction {
        tx,
        full_input: None,
    };
    let found = client.call::<methods::GetTransaction>(&asked)?;
    let receipt = match found.value {
        Found::Receipt(receipt) => Applied {
            value: *receipt,
            applied_height: found.applied_height,
        },
        Found::Pending { .. } => bail!("transaction {tx} is pending: it is in no block yet"),
    };
    let (chain, json) = printable(receipt)?;
    Ok(print_receipt(
        &chain,
        json,
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
    network: &Network,
    signer: &Signer,
    (payload, value): (&Payload, u128),
) -> anyhow::Result<u64> {
    let from = match signer {
        Signer::Key(key) => account_address(&key.verifying_key().to_bytes()),
        Signer::Dev(Some(address)) => *address,
        Signer::Dev(None) => first_dev_account(network)?,
    };
    let (deploy, call, admin) = payload_params(payload);
    let params = params::Estimate {
        from,
        deploy,
        call,
        admin,
        value: Some(Amount(value)),
        ..params::Estimate::default()
    };
    let estimate = client.call::<methods::EstimateGas>(&params)?.value;
    eprintln!(
        "gas: auto, {} ({} needed, plus {} %)",
        estimate.gas, estimate.gas_needed, estimate.margin_percent
    );
    Ok(estimate.gas)
}

/// A payload as the `deploy`, `call` and `admin` params of
/// `sendTransaction` and `estimateGas` (one of them set).
fn payload_params(
    payload: &Payload,
) -> (
    Option<params::Deploy>,
    Option<params::Call>,
    Option<params::Admin>,
) {
    match payload.clone() {
        Payload::Deploy(deploy) => {
            let deploy = params::Deploy {
                code: Bytes(deploy.code),
                input: Some(Bytes(deploy.input)),
                args: None,
                salt: Some(Bytes(deploy.salt)),
                kind: Some(deploy.kind.as_str().to_owned()),
                admin: deploy.admin,
            };
            (Some(deploy), None, None)
        }
        Payload::Call { to, input } => {
            let call = params::Call {
                to,
                input: Some(Bytes(input)),
                ..params::Call::default()
            };
            (None, Some(call), None)
        }
        Payload::Admin { contract, action } => {
            let (upgrade, set_admin) = match action {
                ward_chain::tx::AdminAction::Upgrade { code, input } => (
                    Some(params::Upgrade {
                        code: Bytes(code),
                        input: Some(Bytes(input)),
                    }),
                    None,
                ),
                ward_chain::tx::AdminAction::SetAdmin(admin) => (None, Some(admin)),
            };
            let admin = params::Admin {
                contract,
                upgrade,
                set_admin,
            };
            (None, None, Some(admin))
        }
    }
}

/// The schema of the contract at `at`, from the node's `getContract`.
pub(crate) fn schema(url: &str, at: &Address) -> anyhow::Result<Option<Schema>> {
    let address = params::AddressOnly { address: *at };
    let contract = Client::new(url)?.call::<methods::GetContract>(&address)?;
    contract
        .value
        .schema
        .map(|schema| Schema::from_json(&schema).context("the node's schema does not read"))
        .transpose()
}

/// One storage entry with its proof, as the node's JSON.
pub(crate) fn proof(url: &str, at: &Address, key: &[u8]) -> anyhow::Result<Value> {
    let asked = params::GetStorage {
        address: *at,
        key: Bytes(key.to_vec()),
        height: None,
    };
    let proven = Client::new(url)?.call::<methods::GetStorage>(&asked)?;
    serde_json::to_value(proven).context("the node's proof does not write")
}

/// A contract and its storage (or one key), read page by page.
pub(crate) fn state(
    url: &str,
    at: &Address,
    key: Option<Vec<u8>>,
) -> anyhow::Result<(ContractInfo, Entries)> {
    let client = Client::new(url)?;
    let address = params::AddressOnly { address: *at };
    let contract = client.call::<methods::GetContract>(&address)?.value;
    let mut info = ContractInfo {
        code_hash: contract.code_hash,
        deployer: contract.deployer,
        created_at: contract.created_at,
        kind: ward_primitives::CodeKind::parse(&contract.kind)
            .with_context(|| format!("the node's contract kind {:?} is unknown", contract.kind))?,
        admin: contract.admin,
        history: Vec::new(),
    };
    // One code since creation is what an empty history means.
    if contract.code_history.len() > 1 {
        info.history = contract
            .code_history
            .iter()
            .map(|entry| (entry.since, entry.code_hash))
            .collect();
    }
    let mut entries = Vec::new();
    match key {
        Some(key) => {
            let asked = params::GetStorage {
                address: *at,
                key: Bytes(key.clone()),
                height: None,
            };
            let proven = client.call::<methods::GetStorage>(&asked)?.value;
            if let Some(value) = proven.proven.value {
                entries.push((key, value.0));
            }
        }
        None => {
            let mut cursor = None;
            loop {
                let asked = params::GetStorageRange {
                    address: *at,
                    cursor,
                    limit: Some(1000),
                };
                let page = client.call::<methods::GetStorageRange>(&asked)?.value;
                entries.extend(page.entries.into_iter().map(|e| (e.key.0, e.value.0)));
                cursor = page.cursor;
                if cursor.is_none() {
                    break;
                }
            }
        }
    }
    Ok((info, entries))
}
