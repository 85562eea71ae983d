//! `ward bench`: Ward's benchmark suite, each figure beside the raw
//! engine's for the same work, measured in the same run.

use std::{
    io::{IsTerminal, Write},
    process::ExitCode,
    time::Duration,
};

use clap::Args;
use ward_benches::suite::{BenchResult, Budget, plans};
use ward_vm::{BackendKind, Config};

/// Arguments of `ward bench`.
#[derive(Args, Debug)]
pub(crate) struct BenchArgs {
    /// Only this backend (default: both).
    #[arg(long)]
    backend: Option<BackendKind>,
    /// Only figures whose name contains this.
    #[arg(long)]
    filter: Option<String>,
    /// Milliseconds spent measuring each figure (each side).
    #[arg(long, default_value_t = 700, value_parser = ward_cli::parse::u64_arg)]
    millis: u64,
    /// Print one JSON object on stdout's last line.
    #[arg(long)]
    json: bool,
}

pub(crate) fn bench(args: BenchArgs) -> anyhow::Result<ExitCode> {
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
