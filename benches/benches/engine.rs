//! Engine benchmarks: Ward beside the raw engine, same run. The figures are
//! the ones `ward-bench` reports (warm call, host calls, cold call, compile
//! and disk-cache load of a ~1 MB module, system-runtime call), each with
//! every raw configuration it is compared against.
//!
//! Run with `cargo bench -p ward-benches --bench engine`.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use ward_benches::suite::plans;
use ward_vm::Config;

fn engine(c: &mut Criterion) {
    // The timeout backstop stays on, as in production.
    let config = Config::default();
    let mut group = c.benchmark_group("engine");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for plan in plans(&config) {
        let id = format!("{}/{}", plan.name, plan.backend);
        let Some((mut ward, baselines)) = plan.into_works() else {
            continue; // counted (gas), nothing to time
        };
        group.bench_function(format!("{id}/ward"), |b| b.iter(&mut ward));
        for (label, mut work) in baselines {
            group.bench_function(format!("{id}/raw-{label}"), |b| b.iter(&mut work));
        }
    }
    group.finish();
}

criterion_group!(benches, engine);
criterion_main!(benches);
