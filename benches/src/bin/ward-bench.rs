//! `ward-bench`: Ward's benchmark suite, each figure beside the raw
//! engine's for the same work, measured in the same run (README.md,
//! "Benchmarks"; `make bench-report` builds it with every baseline).
//!
//! `ward-bench [--backend B] [--filter NAME] [--millis N] [--json]` runs
//! the suite; `ward-bench gas_calibration` the gas schedule's calibration
//! (docs/gas.md). It is a binary of its own so that the `ward` CLI links
//! none of the raw engines, revm or the workloads.

use std::{
    io::{IsTerminal, Write},
    process::ExitCode,
    time::Duration,
};

use clap::Parser;
use ward_benches::suite::{BenchResult, Budget, plans};
use ward_vm::{BackendKind, Config};

/// The allocator `ward` runs with, so that the figures are the product's
/// (a pipelined block's allocations are freed on the committer thread,
/// which glibc's arenas serialise).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Ward's benchmark suite beside the raw engines.
#[derive(Parser, Debug)]
#[command(name = "ward-bench", version)]
struct BenchArgs {
    /// `gas_calibration`: instead of the suite, the wall time one gas buys
    /// on every metered path, beside the schedule's target
    /// (`docs/gas.md`), and the worst block those paths can build.
    #[arg(value_parser = ["gas_calibration"])]
    suite: Option<String>,
    /// Only this backend (default: both).
    #[arg(long)]
    backend: Option<BackendKind>,
    /// Only figures whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Milliseconds spent measuring each figure (each side).
    #[arg(long, default_value_t = 700)]
    millis: u64,
    /// Print one JSON object on stdout's last line.
    #[arg(long)]
    json: bool,
}

fn main() -> ExitCode {
    #[cfg(feature = "etcd")]
    if let Ok(spec) = std::env::var(ward_benches::cluster::REPLICA_ENV) {
        // Started by `cluster_transfer` as one of its replicas.
        return match ward_benches::cluster::serve_replica(&spec) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("error: a cluster_transfer replica: {error}");
                ExitCode::from(2)
            }
        };
    }
    let args = BenchArgs::parse();
    match bench(args) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
    if args.suite.is_some() {
        return calibrate(&args);
    }
    let config = Config::default();
    let budget = Budget {
        per_figure: Duration::from_millis(args.millis.max(10)),
    };
    let selected: Vec<_> = plans(&config)
        .into_iter()
        .filter(|p| args.backend.is_none_or(|b| b == p.backend))
        .filter(|p| {
            args.filter
                .as_ref()
                .is_none_or(|f| p.name.contains(f.as_str()))
        })
        .collect();
    let total = selected.len();
    let mut results = Vec::with_capacity(total);
    if !args.json {
        println!("{}", header());
    }
    for (i, plan) in selected.into_iter().enumerate() {
        progress(i, total, &format!("{} on {}", plan.name, plan.backend));
        let result = plan.run(budget);
        if !args.json {
            // Each figure's line as it finishes, above the progress bar.
            clear_progress();
            println!("{}", row(&result));
            let _ = std::io::stdout().flush();
        }
        results.push(result);
    }
    progress(total, total, "done");
    eprintln!();
    if args.json {
        println!("{}", to_json(&results));
    } else {
        print_summary(&results);
    }
    Ok(ExitCode::SUCCESS)
}

/// Erases the progress bar on a terminal, so a line can take its place.
fn clear_progress() {
    let mut err = std::io::stderr();
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[2K");
        let _ = err.flush();
    }
}

/// A one-line progress bar on stderr.
fn progress(done: usize, total: usize, what: &str) {
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    let mut err = std::io::stderr();
    let line = format!(
        "[{}{}] {done}/{total} {what}",
        "#".repeat(filled),
        ".".repeat(width - filled)
    );
    if err.is_terminal() {
        let _ = write!(err, "\r\x1b[2K{line}");
    } else {
        let _ = writeln!(err, "{line}");
    }
    let _ = err.flush();
}

/// The table's column names.
fn header() -> String {
    format!(
        "{:<24} {:<9} {:>13} {:>13} {:>7} {:>12}  baseline",
        "figure", "backend", "ward", "raw", "ratio", "ward/s"
    )
}

/// One figure's line of the table.
fn row(r: &BenchResult) -> String {
    let per_second = match r.unit {
        "us" => format!("{:.0}", 1e6 / r.ward),
        "ms" => format!("{:.0}", 1e3 / r.ward),
        _ => "-".to_string(),
    };
    format!(
        "{:<24} {:<9} {:>9.3} {} {:>9.3} {} {:>6.2}x {:>12}  {}",
        r.name,
        r.backend,
        r.ward,
        pad(r.unit),
        r.baseline,
        pad(r.unit),
        r.ratio(),
        per_second,
        r.baseline_label
    )
}

/// What the table's lines say together.
fn print_summary(results: &[BenchResult]) {
    let compile = results
        .iter()
        .find(|r| r.name == "compile_1mb" && r.backend == BackendKind::Wasmtime);
    let load = results.iter().find(|r| r.name == "disk_load_1mb");
    if let (Some(compile), Some(load)) = (compile, load) {
        println!(
            "disk-cache load of the 1 MB module is {:.0}x faster than compiling it through Ward",
            compile.ward / load.ward
        );
    }
}

fn pad(unit: &str) -> String {
    format!("{unit:<3}")
}

fn to_json(results: &[BenchResult]) -> String {
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let rows: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            serde_json::json!({
                "name": r.name,
                "backend": r.backend.as_str(),
                "unit": r.unit,
                "ward": round(r.ward),
                "baseline": round(r.baseline),
                "ratio": round(r.ratio()),
                "baseline_config": r.baseline_label,
            })
        })
        .collect();
    serde_json::json!({ "results": rows }).to_string()
}

/// `ward-bench gas_calibration`: every path's nanoseconds per gas, the
/// worst on each backend, and the worst block built from it.
fn calibrate(args: &BenchArgs) -> anyhow::Result<ExitCode> {
    use ward_benches::calibration::{Row, TARGET_NS_PER_GAS, measure, paths, worst_block};
    let budget = Duration::from_millis(args.millis.max(10));
    let backends: Vec<BackendKind> = BackendKind::ALL
        .into_iter()
        .filter(|b| args.backend.is_none_or(|a| a == *b))
        .collect();
    let selected: Vec<_> = paths()
        .into_iter()
        .filter(|p| {
            args.filter
                .as_ref()
                .is_none_or(|f| p.name.contains(f.as_str()))
        })
        .collect();
    if !args.json {
        println!(
            "{:<9} {:<24} {:<9} {:>9} {:>12} {:>9} {:>7}",
            "group", "path", "backend", "repeats", "gas/tx", "ns/gas", "ratio"
        );
    }
    let total = selected.len() * backends.len();
    let mut rows: Vec<Row> = Vec::with_capacity(total);
    for path in &selected {
        for &kind in &backends {
            progress(rows.len(), total, &format!("{} on {kind}", path.name));
            let row = measure(path, kind, budget);
            if !args.json {
                clear_progress();
                println!("{}", calibration_row(&row));
                let _ = std::io::stdout().flush();
            }
            rows.push(row);
        }
    }
    progress(total, total, "done");
    eprintln!();
    let mut worst = Vec::new();
    for &kind in &backends {
        let Some(row) = rows
            .iter()
            .filter(|r| r.backend == kind && r.error.is_none())
            .max_by(|a, b| a.ratio().total_cmp(&b.ratio()))
        else {
            continue;
        };
        let path = selected
            .iter()
            .find(|p| p.name == row.name)
            .expect("measured paths are selected");
        let block = worst_block(path, kind, row.ns_per_gas);
        if !args.json {
            match &block {
                Ok((gas, time)) => println!(
                    "worst on {kind}: {} at {:.2}x the target ({TARGET_NS_PER_GAS} ns/gas); a block of it ({gas} gas) took {:.3} s",
                    row.name,
                    row.ratio(),
                    time.as_secs_f64()
                ),
                Err(e) => println!(
                    "worst on {kind}: {} at {:.2}x the target; its block failed: {e}",
                    row.name,
                    row.ratio()
                ),
            }
        }
        worst.push((kind, row.name.clone(), row.ratio(), block));
    }
    if args.json {
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|r| {
                serde_json::json!({
                    "group": r.group,
                    "path": r.name,
                    "backend": r.backend.as_str(),
                    "repeats": r.repeats,
                    "gas": r.gas,
                    "ns_per_gas": round(r.ns_per_gas),
                    "ratio": round(r.ratio()),
                    "error": r.error,
                })
            })
            .collect();
        let worst: Vec<serde_json::Value> = worst
            .iter()
            .map(|(kind, name, ratio, block)| {
                let (gas, seconds, error) = match block {
                    Ok((gas, time)) => (Some(*gas), Some(round(time.as_secs_f64())), None),
                    Err(e) => (None, None, Some(e.clone())),
                };
                serde_json::json!({
                    "backend": kind.as_str(),
                    "path": name,
                    "ratio": round(*ratio),
                    "block_gas": gas,
                    "block_seconds": seconds,
                    "error": error,
                })
            })
            .collect();
        println!(
            "{}",
            serde_json::json!({ "target_ns_per_gas": TARGET_NS_PER_GAS, "rows": rows, "worst": worst })
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// One path's line of the calibration table.
fn calibration_row(r: &ward_benches::calibration::Row) -> String {
    match &r.error {
        Some(e) => format!("{:<9} {:<24} {:<9} error: {e}", r.group, r.name, r.backend),
        None => format!(
            "{:<9} {:<24} {:<9} {:>9} {:>12} {:>9.3} {:>6.2}x",
            r.group,
            r.name,
            r.backend,
            r.repeats,
            r.gas,
            r.ns_per_gas,
            r.ratio()
        ),
    }
}
