//! `ward trace TX`: a committed transaction replayed on its block's parent
//! state, printed as a tree of frames with the backtrace of each frame that
//! did not return (or `--json`, the node's `traceTransaction` answer); with
//! `--profile`, its gas profile too: the functions that used the most gas,
//! and its folded stacks and flame graph written to files.
//! `docs/debugging.md`.

use std::{
    io::IsTerminal,
    path::{Path, PathBuf},
    process::ExitCode,
};

use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value;
use ward_node::decode::Schemas;
use ward_node::{ChainSettings, ChainSettingsExt};
use ward_rpc::results::{BacktraceEntry, Profile};
use ward_state::{Hash32, StatePrune, StateRead};

use crate::common::{Access, Common, open};

/// `ward trace TX`.
#[derive(Args, Debug)]
pub(crate) struct TraceArgs {
    /// The transaction identifier a receipt printed.
    tx: String,
    #[command(flatten)]
    profile: ProfileArgs,
    #[command(flatten)]
    common: Common,
}

/// How a gas profile is asked for (`ward trace`, `ward run`).
#[derive(Args, Debug, Default)]
pub(crate) struct ProfileArgs {
    /// Also profile the gas: print the functions that used the most and
    /// write the folded stacks (`PREFIX.folded`) and the flame graph
    /// (`PREFIX.svg`).
    #[arg(long)]
    pub(crate) profile: bool,
    /// Where the profile's files go: `PREFIX.folded` and `PREFIX.svg`
    /// (default: `ward-profile` in the current directory).
    #[arg(long, value_name = "PREFIX", requires = "profile")]
    pub(crate) profile_out: Option<PathBuf>,
}

pub(crate) fn trace(args: TraceArgs) -> anyhow::Result<ExitCode> {
    let tx = Hash32(ward_text::parse::bytes32(&args.tx)?);
    show(&args.common, tx, &args.profile)?;
    Ok(ExitCode::SUCCESS)
}

/// Prints `tx`'s trace from the node or the data directory, and its gas
/// profile when `profile` asks.
pub(crate) fn show(common: &Common, tx: Hash32, profile: &ProfileArgs) -> anyhow::Result<()> {
    let trace = match &common.node {
        Some(url) => {
            let asked = ward_rpc::params::TraceTransaction {
                tx,
                profile: Some(profile.profile),
            };
            ward_rpc::client::Client::new(url)?
                .call::<ward_rpc::methods::TraceTransaction>(&asked)?
        }
        None => ward_rpc::Applied {
            value: local(common, tx, profile.profile)?,
            applied_height: None,
        },
    };
    let title = format!("Gas of {tx}");
    let written = match &trace.value.profile {
        Some(p) if profile.profile => Some(write_profile(p, profile, &title)?),
        _ => None,
    };
    let shown = serde_json::to_value(&trace)?;
    if common.json {
        println!("{shown}");
        return Ok(());
    }
    print!("{}", render(&shown, std::io::stdout().is_terminal()));
    if let (Some(p), Some(files)) = (&trace.value.profile, written) {
        print!("{}", render_profile(p, &files));
    }
    Ok(())
}

/// The trace of `tx` from the data directory's own store.
fn local(common: &Common, tx: Hash32, profiled: bool) -> anyhow::Result<ward_rpc::results::Trace> {
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
    let settings = <ChainSettings as ChainSettingsExt>::recorded(&store)?;
    // This directory's own blocks: what no one signed (an embedder's
    // transactions, a dev node's impersonated ones) is vouched for.
    let rules = settings
        .as_ref()
        .map_or_else(
            || ward_chain::tx::ChainRules::new(""),
            ChainSettingsExt::rules,
        )
        .vouching();
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
            ward_chain::tx::VerifiedTx::from_bytes(&bytes, &rules)
                .ok()
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
    let mut out = ward_node::decode::trace(&trace, &mut |address| {
        schemas.at(&*store, address).ok().flatten()
    });
    if profiled {
        out.profile = Some(ward_node::profile::profile_of(&trace, None));
    }
    Ok(out)
}

/// Writes a profile's folded stacks and flame graph (titled `title`) where
/// `args` says: the two paths.
pub(crate) fn write_profile(
    profile: &Profile,
    args: &ProfileArgs,
    title: &str,
) -> anyhow::Result<[PathBuf; 2]> {
    let prefix = args
        .profile_out
        .clone()
        .unwrap_or_else(|| PathBuf::from("ward-profile"));
    let folded = &profile.folded;
    let title = format!("{title}: {} gas", profile.total);
    let svg = ward_debug::svg(folded, &title).context("drawing the flame graph")?;
    let paths = [with_suffix(&prefix, "folded"), with_suffix(&prefix, "svg")];
    std::fs::write(&paths[0], folded).with_context(|| format!("writing {}", paths[0].display()))?;
    std::fs::write(&paths[1], svg).with_context(|| format!("writing {}", paths[1].display()))?;
    Ok(paths)
}

/// `prefix.suffix` (a prefix's own dots kept).
fn with_suffix(prefix: &Path, suffix: &str) -> PathBuf {
    let mut name = prefix.as_os_str().to_owned();
    name.push(".");
    name.push(suffix);
    PathBuf::from(name)
}

/// How many functions a profile's table shows.
const PROFILE_ROWS: usize = 15;

/// A profile's top functions as a table, and where its files are.
pub(crate) fn render_profile(profile: &Profile, files: &[PathBuf; 2]) -> String {
    let mut out = format!("gas profile: {} gas\n", profile.total);
    out += &format!("{:>10} {:>10}  function\n", "self", "total");
    for f in profile.top.iter().take(PROFILE_ROWS) {
        out += &format!("{:>10} {:>10}  {}\n", f.self_gas, f.total_gas, f.name);
    }
    out += &format!(
        "folded stacks: {}\nflame graph:   {}\n",
        files[0].display(),
        files[1].display()
    );
    out
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
    if let Some(backtrace) = f.get("backtrace") {
        out.push_str(&format!("{pad}  backtrace:\n"));
        let entries: Vec<BacktraceEntry> =
            serde_json::from_value(backtrace.clone()).unwrap_or_default();
        for entry in entries {
            out.push_str(&format!("{pad}    {}\n", paint("33", &entry.line())));
        }
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
    match ward_text::parse::hex_bytes(hex)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    {
        Some(text) if !text.is_empty() && text.chars().all(|c| c.is_ascii_graphic()) => {
            format!("{text:?}")
        }
        _ => short(hex),
    }
}
