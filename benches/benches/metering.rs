//! Metering overhead on compute kernels, all in one run:
//! instrumented vs unmetered wasmtime (counted loops paid on entry, and
//! checked every iteration), wasmtime's own fuel vs unmetered wasmtime,
//! and the same for wasmi.
//!
//! Run with `cargo bench -p ward-benches --bench metering`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ward_benches::{Metered, kernel_run, kernels};
use ward_vm::BackendKind;

fn metering(c: &mut Criterion) {
    let mut group = c.benchmark_group("metering");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for (name, wat) in kernels() {
        for (kind, metered) in [
            (BackendKind::Wasmtime, Metered::Unmetered),
            (BackendKind::Wasmtime, Metered::Instrumented),
            (BackendKind::Wasmtime, Metered::PerIteration),
            (BackendKind::Wasmtime, Metered::EngineFuel),
            (BackendKind::Wasmi, Metered::Unmetered),
            (BackendKind::Wasmi, Metered::Instrumented),
            (BackendKind::Wasmi, Metered::PerIteration),
        ] {
            let mut work = kernel_run(kind, metered, &wat);
            group.bench_function(format!("{name}/{kind}/{metered:?}"), |b| b.iter(&mut work));
        }
    }
    group.finish();
}

criterion_group!(benches, metering);
criterion_main!(benches);
