//! `ward trace TX`: a committed transaction replayed on its block's parent
//! state, printed as a tree of frames (or `--json`, the node's
//! `traceTransaction` answer). `docs/debugging.md`.

use std::{io::IsTerminal, process::ExitCode};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::{Value, json};
use ward_node::decode::Schemas;
use ward_state::{Hash32, StatePrune, StateRead};

use crate::chain::{Access, Common, open};

/// `ward trace TX`.
#[derive(Args, Debug)]
pub(crate) struct TraceArgs {
    /// The transaction identifier a receipt printed.
    tx: String,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn trace(args: TraceArgs) -> anyhow::Result<ExitCode> {
    let tx = Hash32(ward_cli::parse::bytes32(&args.tx)?);
    show(&args.common, tx)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `tx`'s trace from the node or the data directory.
pub(crate) fn show(common: &Common, tx: Hash32) -> anyhow::Result<()> {
    let trace = match &common.node {
        Some(url) => crate::client::Client::new(url)?
            .call("traceTransaction", json!({ "tx": tx.to_string() }))?,
        None => local(common, tx)?,
    };
    if common.json {
        println!("{trace}");
    } else {
        print!("{}", render(&trace, std::io::stdout().is_terminal()));
    }
    Ok(())
}

/// The trace of `tx` from the data directory's own store.
fn local(common: &Common, tx: Hash32) -> anyhow::Result<Value> {
    let exec = open(common, Access::Read)?;
    let store = exec.store().clone();
    let Some(receipt) = store.receipt(&tx)? else {
        bail!("no transaction {tx} in a block here");
    };
    let kept_from = store.pruned_below()?;
    if receipt.height <= kept_from {
        bail!(
            "block {}'s parent state is pruned: this directory keeps it from block {kept_from}",
            receipt.height
        );
    }
    let settings = ward_node::settings::ChainSettings::recorded(&store)?;
    let chain_id = settings.as_ref().map_or("", |s| s.chain_id.as_str());
    let block = store
        .block(receipt.height)?
        .with_context(|| format!("block {} is not kept here", receipt.height))?;
    let txs = block
        .txs
        .iter()
        .map(|id| {
            let bytes = store
                .transaction(id)?
                .with_context(|| format!("transaction {id} is not kept here"))?;
            ward_node::decode::block_tx(id, &bytes, chain_id)
                .with_context(|| format!("transaction {id} does not decode"))
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    // The chain's own limits and fees, when a node recorded them: the
    // replay must charge as the block did.
    let mut exec = exec;
    if let Some(settings) = &settings {
        exec = exec
            .with_limits(settings.limits())
            .with_fees(settings.fees()?);
    }
    let trace = exec.trace_block_tx(receipt.height, &txs, receipt.index as usize)?;
    let schemas = Schemas::new();
    Ok(ward_node::decode::trace(&trace, &mut |address| {
        schemas.at(&*store, address).ok().flatten()
    }))
}

/// A trace's JSON as an indented tree, in colour on a terminal.
pub(crate) fn render(trace: &Value, colour: bool) -> String {
    let paint = |code: &str, text: &str| {
        if colour {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    };
    let receipt = &trace["receipt"];
    let mut out = format!(
        "tx {}: {}, gas {}",
        receipt["tx"].as_str().unwrap_or("?"),
        receipt["status"].as_str().unwrap_or("?"),
        receipt["gas_used"]
    );
    for charge in trace["charged"].as_array().into_iter().flatten() {
        out += &format!(
            " ({} {})",
            charge["what"].as_str().unwrap_or("?"),
            charge["gas"]
        );
    }
    out.push('\n');
    if let Some(root) = trace.get("root").filter(|r| !r.is_null()) {
        frame(root, 1, &paint, &mut out);
    }
    out
}

fn frame(f: &Value, depth: usize, paint: &dyn Fn(&str, &str) -> String, out: &mut String) {
    let pad = "  ".repeat(depth);
    let status = f["status"].as_str().unwrap_or("?");
    let status = paint(if status == "ok" { "32" } else { "31" }, status);
    let what = match f["method"].as_str() {
        Some(method) => match f.get("args").filter(|a| !a.is_null()) {
            Some(args) => format!("{method}({args})"),
            None => format!("{method}(…)"),
        },
        None => format!("input {}", short(f["input"].as_str().unwrap_or(""))),
    };
    out.push_str(&format!(
        "{pad}{} {} [{}] {what} → {status}, gas {} (own {}) of {}",
        paint("1", f["call"].as_str().unwrap_or("?")),
        short(f["code_address"].as_str().unwrap_or("?")),
        f["kind"].as_str().unwrap_or("?"),
        f["gas_used"],
        f["self_gas"],
        f["gas_given"],
    ));
    if let Some(gas) = f["runtime_gas"].as_u64() {
        out.push_str(&format!(", runtime gas {gas}"));
    }
    out.push('\n');
    if let Some(error) = f.get("error").filter(|e| !e.is_null()) {
        let message = format!(
            "{}: {}",
            error["kind"].as_str().unwrap_or("?"),
            error["message"].as_str().unwrap_or("")
        );
        out.push_str(&format!("{pad}  {}\n", paint("31", &message)));
    }
    match f.get("decoded").filter(|d| !d.is_null()) {
        Some(decoded) => out.push_str(&format!("{pad}  output {decoded}\n")),
        None if f["output"] != "0x" => {
            out.push_str(&format!(
                "{pad}  output {}\n",
                short(f["output"].as_str().unwrap_or(""))
            ));
        }
        None => {}
    }
    for access in f["accesses"].as_array().into_iter().flatten() {
        let line = if let Some(read) = access.get("read") {
            format!(
                "read  {} = {}",
                key(&read["key"]),
                short_value(&read["value"])
            )
        } else if let Some(write) = access.get("write") {
            format!(
                "write {}: {} → {}",
                key(&write["key"]),
                short_value(&write["old"]),
                short_value(&write["new"])
            )
        } else if let Some(event) = access.get("event") {
            match event["name"].as_str() {
                Some(name) => format!("event {name} {}", event["fields"]),
                None => format!(
                    "event {} {}",
                    key(&event["topic"]),
                    short_value(&event["data"])
                ),
            }
        } else {
            continue;
        };
        out.push_str(&format!("{pad}  {}\n", paint("2", &line)));
    }
    for step in f["children"].as_array().into_iter().flatten() {
        let line = format!(
            "child {}: {} → {} (gas {})",
            step["instance"], step["call"], step["result"], step["gas_used"]
        );
        out.push_str(&format!("{pad}  {}\n", paint("36", &line)));
    }
    for call in f["calls"].as_array().into_iter().flatten() {
        frame(call, depth + 1, paint, out);
    }
}

/// Hex shortened to its first and last bytes when long.
fn short(hex: &str) -> String {
    if hex.len() > 26 {
        format!("{}…{}", &hex[..14], &hex[hex.len() - 8..])
    } else {
        hex.to_owned()
    }
}

fn short_value(value: &Value) -> String {
    value.as_str().map_or_else(|| "(none)".to_owned(), short)
}

/// A key as text when it is printable, else hex.
fn key(value: &Value) -> String {
    let hex = value.as_str().unwrap_or("");
    match ward_cli::parse::hex_bytes(hex)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    {
        Some(text) if !text.is_empty() && text.chars().all(|c| c.is_ascii_graphic()) => {
            format!("{text:?}")
        }
        _ => short(hex),
    }
}
