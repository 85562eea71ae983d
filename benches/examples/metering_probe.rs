//! Issue 3's metering table in one interleaved run: for each compute
//! kernel, instrumented / unmetered wasmtime (counted loops paid on entry,
//! and checked every iteration), wasmtime's own fuel / unmetered wasmtime,
//! and the same for wasmi.
//! `cargo run --release -p ward-benches --example metering_probe -- [SECONDS]`

use std::time::Duration;

use ward_benches::{Metered, kernel_run, kernels, suite::measure_interleaved};
use ward_vm::BackendKind;

fn main() {
    let seconds: u64 = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    println!(
        "kernel        wasmtime ms (instr / per-iter / fuel / none)   instr x  per-iter x  fuel x    wasmi ms (instr / per-iter / none)   instr x  per-iter x"
    );
    for (name, wat) in kernels() {
        let mut works = vec![
            kernel_run(BackendKind::Wasmtime, Metered::Instrumented, &wat),
            kernel_run(BackendKind::Wasmtime, Metered::PerIteration, &wat),
            kernel_run(BackendKind::Wasmtime, Metered::EngineFuel, &wat),
            kernel_run(BackendKind::Wasmtime, Metered::Unmetered, &wat),
            kernel_run(BackendKind::Wasmi, Metered::Instrumented, &wat),
            kernel_run(BackendKind::Wasmi, Metered::PerIteration, &wat),
            kernel_run(BackendKind::Wasmi, Metered::Unmetered, &wat),
        ];
        let t: Vec<f64> = measure_interleaved(&mut works, Duration::from_secs(seconds))
            .into_iter()
            .map(|s| s * 1e3)
            .collect();
        println!(
            "{name:<12} {:>7.3} / {:>7.3} / {:>7.3} / {:>7.3}          {:>5.2}   {:>5.2}       {:>5.2}    {:>7.2} / {:>7.2} / {:>7.2}          {:>5.2}   {:>5.2}",
            t[0],
            t[1],
            t[2],
            t[3],
            t[0] / t[3],
            t[1] / t[3],
            t[2] / t[3],
            t[4],
            t[5],
            t[6],
            t[4] / t[6],
            t[5] / t[6]
        );
    }
}
