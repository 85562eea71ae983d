//! The commands that only read a data directory (or a node): `ward
//! query`, `ward receipt`, `ward methods`, `ward state`.

use std::process::ExitCode;

use anyhow::bail;
use clap::Args;
use serde_json::json;
use ward_node::decode::Called;
use ward_state::{Hash32, StateRead};
use ward_text::parse::{self, hex};

use super::{CallArgs, DEFAULT_CALL_GAS, call_input, local_schema};
use crate::common::{Access, Common, address, no_key, open, open_store, sender};
use crate::print::{Show, print_receipt, receipt_json};

/// `ward receipt TX`.
#[derive(Args, Debug)]
pub(crate) struct ReceiptArgs {
    /// The transaction identifier a receipt printed.
    tx: String,
    #[command(flatten)]
    common: Common,
}

/// `ward methods ADDR`.
#[derive(Args, Debug)]
pub(crate) struct MethodsArgs {
    /// The contract's address.
    address: String,
    #[command(flatten)]
    common: Common,
}

/// `ward state ADDR [KEY]`.
#[derive(Args, Debug)]
pub(crate) struct StateArgs {
    /// The contract's address.
    address: String,
    /// One key (as hex), or every entry when absent.
    key: Option<String>,
    /// With --node and KEY: print the node's `getStorage` answer, the value
    /// with its proof against the latest state root, as JSON (what `ward
    /// verify-proof` checks).
    #[arg(long, requires = "key")]
    proof: bool,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn query(args: CallArgs) -> anyhow::Result<ExitCode> {
    let gas = match args.gas {
        Some(parse::GasArg::Auto) => bail!("a query is not a transaction: give --gas a limit"),
        Some(parse::GasArg::Limit(gas)) => gas,
        None => crate::gas_or_default(None, DEFAULT_CALL_GAS),
    };
    if args.trace {
        bail!(
            "a query commits nothing to trace: simulate with the node's simulateTransaction and \"trace\": true"
        );
    }
    if args.payment.value.is_some() || args.payment.gas_price.is_some() {
        bail!(
            "a query moves no value and pays nothing: --value and --gas-price are for `ward call`"
        );
    }
    let (from, to) = (sender(args.from.sender.as_ref())?, address(&args.address)?);
    if let Some(url) = &args.common.node {
        let (input, abi) = call_input(&args, || crate::remote::schema(url, &to))?;
        return crate::remote::query(
            url,
            (from, to, &input),
            gas,
            &args.common,
            (args.decode.as_ref(), abi.as_ref()),
        );
    }
    no_key(args.from.key.as_ref())?;
    let exec = open(&args.common, Access::Read)?;
    let (input, abi) = call_input(&args, || local_schema(&**exec.store(), &to))?;
    let receipt = exec.query(from, to, input.clone(), gas)?;
    let object = receipt_json(
        &**exec.store(),
        &receipt,
        Some(Called {
            to: &to,
            input: &input,
        }),
        None,
    );
    Ok(print_receipt(
        &receipt,
        object,
        &Show {
            backend: Some(args.common.backend),
            json: args.common.json,
            committed: false,
            decode: args.decode.as_ref(),
            abi: abi.as_ref(),
        },
    ))
}

pub(crate) fn receipt(args: ReceiptArgs) -> anyhow::Result<ExitCode> {
    let tx = Hash32(parse::bytes32(&args.tx)?);
    if let Some(url) = &args.common.node {
        return crate::remote::receipt(url, tx, &args.common);
    }
    let store = open_store(&args.common.data_dir, Access::Read)?;
    let Some(receipt) = store.receipt(&tx)? else {
        bail!("no receipt for {tx}");
    };
    let stored = store.transaction(&tx)?;
    let call = stored.as_deref().and_then(ward_node::decode::stored_call);
    let called = call.as_ref().map(|(to, input)| Called { to, input });
    let object = receipt_json(&store, &receipt, called, None);
    Ok(print_receipt(
        &receipt,
        object,
        &Show {
            backend: None,
            json: args.common.json,
            committed: true,
            decode: None,
            abi: None,
        },
    ))
}

pub(crate) fn methods(args: MethodsArgs) -> anyhow::Result<ExitCode> {
    let at = address(&args.address)?;
    let schema = match &args.common.node {
        Some(url) => crate::remote::schema(url, &at)?,
        None => local_schema(&open_store(&args.common.data_dir, Access::Read)?, &at)?,
    };
    let Some(schema) = schema else {
        bail!("the contract at {at} has no schema (a module not built with ward_sdk::contract!)");
    };
    if args.common.json {
        println!(
            "{}",
            json!({ "address": at.to_string(), "schema": schema.to_json() })
        );
    } else {
        print!("{}", schema.describe());
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn state(args: StateArgs) -> anyhow::Result<ExitCode> {
    let at = address(&args.address)?;
    let key = args.key.as_deref().map(parse::hex_bytes).transpose()?;
    if args.proof {
        let (Some(url), Some(key)) = (&args.common.node, &key) else {
            bail!("--proof asks a node for a proof: pass --node URL (or set WARD_NODE)");
        };
        println!("{}", crate::remote::proof(url, &at, key)?);
        return Ok(ExitCode::SUCCESS);
    }
    let (info, entries) = match &args.common.node {
        Some(url) => crate::remote::state(url, &at, key)?,
        None => {
            let store = open_store(&args.common.data_dir, Access::Read)?;
            let Some(info) = store.contract(&at)? else {
                bail!("no contract at {at}");
            };
            let entries = match key {
                Some(key) => store
                    .storage(&at, &key)?
                    .map(|v| vec![(key, v)])
                    .unwrap_or_default(),
                None => store.storage_entries(&at)?,
            };
            (info, entries)
        }
    };
    if args.common.json {
        let object = json!({
            "address": at.to_string(),
            "code_hash": info.code_hash.to_string(),
            "deployer": info.deployer.to_string(),
            "created_at": info.created_at,
            "kind": info.kind.as_str(),
            "admin": info.admin.map(|a| a.to_string()),
            "code_history": info.code_history().iter().map(|(since, hash)| json!({"since": since, "code_hash": hash.to_string()})).collect::<Vec<_>>(),
            "storage": entries.iter().map(|(k, v)| json!({"key": hex(k), "value": hex(v)})).collect::<Vec<_>>(),
        });
        println!("{object}");
    } else {
        println!("address:   {at}");
        println!("code hash: {}", info.code_hash);
        println!("deployer:  {}", info.deployer);
        println!("created:   block {}", info.created_at);
        println!("kind:      {}", info.kind);
        match info.admin {
            Some(admin) => println!("admin:     {admin}"),
            None => println!("admin:     none (immutable)"),
        }
        let history = info.code_history();
        if history.len() > 1 {
            for (since, hash) in &history {
                println!("code:      {hash} from block {since}");
            }
        }
        for (k, v) in &entries {
            println!("{} = {}", hex(k), hex(v));
        }
    }
    Ok(ExitCode::SUCCESS)
}
