//! Issue 3's wasmtime metering figures, measured across code layouts: each
//! kernel is compiled at `LAYOUTS` shifts (see `ward_benches::shifted`:
//! 0, 1, ... stores before its loops, which move them across more than a
//! 64-byte window), raw and instrumented alike, all measured interleaved in one
//! run. Per side, the geometric mean over the shifts; the ratios of those
//! means measure the metering, not where Cranelift happened to place each
//! side's loops. Also printed: how far the layout alone moves the raw
//! kernel (slowest / fastest shift).
//!
//! `cargo run --release -p ward-benches --example metering_layouts -- [SECONDS_PER_SIDE] [LAYOUTS] [KERNEL]`

use std::time::Duration;

use ward_benches::{Metered, kernel_run, kernels, shifted, suite::measure_interleaved};
use ward_vm::BackendKind;

/// The columns, in order; the last is what the others are divided by.
const SIDES: [Metered; 4] = [
    Metered::Instrumented,
    Metered::PerIteration,
    Metered::EngineFuel,
    Metered::Unmetered,
];

fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: f64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(1.0);
    let layouts: usize = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16)
        .max(1);
    let only = args.next();
    println!(
        "wasmtime, {layouts} layouts per side, geometric means (ms) and their ratios to unmetered"
    );
    println!(
        "kernel        prepaid  per-iter     fuel  unmetered    prepaid x  per-iter x   fuel x    raw slowest/fastest layout"
    );
    for (name, wat) in kernels() {
        if only.as_deref().is_some_and(|only| only != name) {
            continue;
        }
        let mut works = Vec::new();
        for metered in SIDES {
            for shift in 0..layouts {
                works.push(kernel_run(
                    BackendKind::Wasmtime,
                    metered,
                    &shifted(&wat, shift),
                ));
            }
        }
        let t = measure_interleaved(&mut works, Duration::from_secs_f64(seconds));
        let side = |i: usize| &t[i * layouts..(i + 1) * layouts];
        let geomean =
            |xs: &[f64]| (xs.iter().map(|x| x.ln()).sum::<f64>() / xs.len() as f64).exp() * 1e3;
        let means: Vec<f64> = (0..SIDES.len()).map(|i| geomean(side(i))).collect();
        let raw = side(3);
        let spread = raw.iter().copied().fold(f64::MIN, f64::max)
            / raw.iter().copied().fold(f64::MAX, f64::min);
        println!(
            "{name:<12} {:>8.3} {:>9.3} {:>8.3} {:>10.3}    {:>8.2}  {:>10.2}  {:>7.2}    {:>6.2}",
            means[0],
            means[1],
            means[2],
            means[3],
            means[0] / means[3],
            means[1] / means[3],
            means[2] / means[3],
            spread
        );
    }
}
