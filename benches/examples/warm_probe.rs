//! Runs one side of one `ward-bench` figure in a loop, for profilers:
//! `cargo run --release -p ward-benches --example warm_probe -- NAME BACKEND SIDE SECONDS`
//! where SIDE is `ward` or the index of a baseline.

#![allow(
    clippy::unwrap_used,
    reason = "a profiling harness: setup errors should stop it"
)]

use std::time::Duration;

use ward_benches::{
    probe::{instrumented_trivial, raw_wasmtime_on},
    suite::plans,
};
use ward_vm::Config;

/// The engine of a wasmtime backend on the default configuration.
fn ward_wasmtime_engine() -> wasmtime::Engine {
    ward_vm_wasmtime::WasmtimeBackend::new(&Config::default())
        .unwrap()
        .engine()
        .clone()
}

#[allow(
    clippy::disallowed_methods,
    reason = "a profiling loop measures wall time"
)]
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let name = args.get(1).map_or("warm_call", String::as_str);
    let backend = args.get(2).map_or("wasmtime", String::as_str);
    let side = args.get(3).map_or("ward", String::as_str);
    // `nCOUNT` runs COUNT times instead (for instruction-counting tools).
    let runs_arg = args.get(4).and_then(|s| s.strip_prefix('n'));
    let count: Option<u64> = runs_arg.and_then(|s| s.parse().ok());
    let seconds: u64 = args.get(4).and_then(|s| s.parse().ok()).unwrap_or(5);
    let plan = plans(&Config::default())
        .into_iter()
        .find(|p| p.name == name && p.backend.as_str() == backend)
        .expect("no such figure");
    let (ward, baselines) = plan.into_works().expect("a timed figure");
    let mut work = match side {
        "ward" => ward,
        // Raw wasmtime on Ward's engine configuration: separates what the
        // engine settings cost from what Ward's own code costs.
        "raw-on-ward-engine" => raw_wasmtime_on(
            ward_wasmtime_engine(),
            &wat::parse_str(ward_benches::TRIVIAL_WAT).unwrap(),
            false,
        ),
        // Raw wasmtime on Ward's engine running the instrumented module and
        // arming its gas: Ward's floor, without Ward's own code.
        "raw-instrumented" => raw_wasmtime_on(
            ward_wasmtime_engine(),
            &instrumented_trivial(&Config::default()),
            true,
        ),
        index => {
            baselines
                .into_iter()
                .nth(index.parse().expect("side"))
                .expect("no such baseline")
                .1
        }
    };
    if let Some(count) = count {
        for _ in 0..count {
            work();
        }
        println!("{count} runs");
        return;
    }
    let end = std::time::Instant::now() + Duration::from_secs(seconds);
    let mut runs = 0u64;
    while std::time::Instant::now() < end {
        for _ in 0..100 {
            work();
        }
        runs += 100;
    }
    println!(
        "{runs} runs, {:.3} us each",
        seconds as f64 * 1e6 / runs as f64
    );
}
