//! The `ward-bench` binary as a user runs it: its JSON report's shape.

#![allow(clippy::unwrap_used, reason = "test")]

use std::process::{Command, Output};

use serde_json::Value;

fn bench(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward-bench"))
        .args(args)
        .output()
        .unwrap()
}

/// The JSON object on stdout's last line.
fn last_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {stdout}"))
}

/// `ward-bench --json`: one object on stdout's last line, each figure with
/// Ward's time, the raw engine's and their ratio. Speed itself is not
/// asserted (benchmarks report it); the shape and consistency are.
#[test]
fn bench_json_reports_ward_beside_the_raw_engine() {
    let out = bench(&["--filter", "warm_call", "--millis", "20", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let json = last_json(&out);
    let results = json["results"].as_array().unwrap();
    let figures: Vec<(&str, &str)> = results
        .iter()
        .map(|r| (r["name"].as_str().unwrap(), r["backend"].as_str().unwrap()))
        .collect();
    assert_eq!(
        figures,
        [
            ("warm_call", "wasmtime"),
            ("warm_call_new", "wasmtime"),
            ("warm_call", "wasmi"),
            ("warm_call_new", "wasmi"),
        ]
    );
    for r in results {
        assert_eq!(r["unit"], "us");
        let (ward, baseline, ratio) = (
            r["ward"].as_f64().unwrap(),
            r["baseline"].as_f64().unwrap(),
            r["ratio"].as_f64().unwrap(),
        );
        assert!(ward > 0.0 && baseline > 0.0, "{r}");
        assert!((ratio - ward / baseline).abs() < 0.01 + ratio * 0.01, "{r}");
    }
    // The progress bar went to stderr.
    assert!(String::from_utf8_lossy(&out.stderr).contains("done"));
}
