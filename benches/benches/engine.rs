//! Engine-core benchmarks: Ward beside the raw engine, same run.
//!
//! - `warm_call`: a cached module, a fresh instance, a trivial `main`, drop.
//! - `host_call`: the same, with `main` making 1000 calls of `input_size`.
//!
//! Run with `cargo bench -p ward-benches --bench engine`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ward_benches::{TRIVIAL_WAT, host_call_wat, raw_run, ward_backend, ward_run};
use ward_vm::{BackendKind, Config};

fn engine(c: &mut Criterion) {
    // Benchmarks measure speed; the timeout backstop stays on as in production.
    let config = Config::default();
    let host_wat = host_call_wat();
    let mut group = c.benchmark_group("engine");
    group
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    for kind in BackendKind::ALL {
        let backend = ward_backend(kind, &config);
        for (name, wat) in [
            ("warm_call", TRIVIAL_WAT),
            ("host_call_x1000", host_wat.as_str()),
        ] {
            let mut ward = ward_run(backend.clone(), &config, wat, b"abc");
            group.bench_function(format!("{name}/{kind}/ward"), |b| b.iter(&mut ward));
            let mut raw = raw_run(kind, wat, 3);
            group.bench_function(format!("{name}/{kind}/raw"), |b| b.iter(&mut raw));
        }
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
