//! Every timed figure of `ward-bench` builds and runs: a figure that
//! panics (a limit it no longer meets, a contract not deployed) fails
//! here, not in the middle of someone's benchmark run. Counted figures
//! (gas, and the node and cluster loads, which take seconds) are left to
//! `ward-bench`.

#![allow(clippy::unwrap_used, reason = "test")]

use ward_vm::Config;

#[test]
fn every_timed_figure_builds_and_runs_once() {
    // The SDK contracts the token figures use.
    let built = ward_testkit::contracts::build().unwrap();
    let mut ran = 0;
    for plan in ward_benches::suite::plans(&Config::default()) {
        let name = format!("{} on {}", plan.name, plan.backend);
        let Some((mut ward, baselines)) = plan.into_works() else {
            continue;
        };
        ward();
        for (label, mut baseline) in baselines {
            baseline();
            assert!(!label.is_empty(), "{name}: a baseline without a label");
        }
        ran += 1;
    }
    assert!(built.exists());
    assert!(ran >= 20, "only {ran} timed figures");
}
