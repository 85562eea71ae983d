//! The profiling hooks (`Policy::profile`): a profiled module charges
//! exactly what the same module charges without them, on both backends,
//! and its recorder attributes the gas to the functions that spent it.

use arbitrary::Unstructured;
use ward_testkit::{
    Backends, Rng,
    differential::{context, observe, observe_in},
    env_or, wasm,
};
use ward_vm::{
    CallContext, Config, Entry, Execution, Gas, ProfileLabel, ProfileLog, Profiler, Reply,
    RunOptions, Status, lock_profile,
};

fn profiled(config: &Config) -> Config {
    let mut config = config.clone();
    config.policy.profile = true;
    config
}

/// Runs `main` of `wasm` with `gas` on every backend of `backends`, with a
/// recorder when `profile`.
fn run(backends: &Backends, wasm: &[u8], gas: u64, profile: bool) -> Vec<(Execution, ProfileLog)> {
    let config = if profile {
        profiled(&backends.config)
    } else {
        backends.config.clone()
    };
    backends.each(|b| {
        let log = Profiler::log(gas);
        let context = CallContext::default().with_profile(log.clone());
        let options = RunOptions {
            gas_limit: Gas::new(gas),
            ..RunOptions::default()
        };
        let mut no_service = |r| Reply::Trap(format!("unexpected {r:?}"));
        let run = ward_testkit::run(
            b,
            &config,
            wasm,
            &Entry::Main("main".into()),
            options,
            context,
            &mut no_service,
        );
        (run, log)
    })
}

fn same(a: &Execution, b: &Execution) -> bool {
    a.outcome.status == b.outcome.status
        && a.outcome.gas_used == b.outcome.gas_used
        && a.outcome.output == b.outcome.output
        && a.outcome.error.as_ref().map(|e| e.kind) == b.outcome.error.as_ref().map(|e| e.kind)
        && a.results == b.results
}

const CHAIN: &str = r#"(module
  (import "ward" "output_write" (func $write (param i32 i32)))
  (memory (export "memory") 1)
  (func $leaf (param i32) (result i32)
    (local.get 0) (i32.const 3) (i32.mul))
  (func $middle (param i32) (result i32)
    (call $leaf (local.get 0))
    (call $leaf (i32.const 5))
    (i32.add)
    (call $write (i32.const 0) (i32.const 4)))
  (func $fails (unreachable))
  (func (export "main")
    (drop (call $middle (i32.const 7)))
    (if (i32.eqz (i32.load (i32.const 100))) (then (call $fails)))))"#;

#[test]
fn a_profiled_module_charges_what_it_charges_without_hooks() {
    let backends = Backends::default();
    let wasm = wasm(CHAIN);
    for gas in [10_000_000, 40, 0] {
        let plain = run(&backends, &wasm, gas, false);
        let hooked = run(&backends, &wasm, gas, true);
        for ((p, _), (h, log)) in plain.iter().zip(&hooked) {
            assert!(same(p, h), "gas {gas}: {:?} vs {:?}", p.outcome, h.outcome);
            let mut profiler = lock_profile(log);
            let recorded = profiler.total();
            assert!(recorded <= h.outcome.gas_used.get());
            profiler.finish(gas - h.outcome.gas_used.get());
            assert_eq!(profiler.total(), h.outcome.gas_used.get());
        }
        // Both backends record the same tree.
        assert_eq!(*lock_profile(&hooked[0].1), *lock_profile(&hooked[1].1));
    }
}

#[test]
fn the_recorder_attributes_gas_and_keeps_the_backtrace() {
    let backends = Backends::default();
    let wasm = wasm(CHAIN);
    let runs = run(&backends, &wasm, 10_000_000, true);
    let (execution, log) = &runs[0];
    assert_eq!(execution.outcome.status, Status::Trapped);
    let profiler = lock_profile(log);
    let nodes = profiler.nodes();
    let gas_of = |label: ProfileLabel| -> u64 {
        nodes
            .iter()
            .filter(|n| n.label == label)
            .map(|n| n.self_gas)
            .sum()
    };
    // main is function 4 (one import), middle 2, leaf 1, fails 3.
    assert!(gas_of(ProfileLabel::Func(1)) > 0, "leaf spent gas");
    assert!(gas_of(ProfileLabel::Func(2)) > 0, "middle spent gas");
    let write = gas_of(ProfileLabel::Host("ward", "output_write"));
    let schedule = &backends.config.policy.schedule;
    assert!(
        write > u64::from(schedule.host_call),
        "the host function carries its fixed and its own cost: {write}"
    );
    // `leaf` ran twice under `middle`, one node.
    let leaves = nodes
        .iter()
        .filter(|n| n.label == ProfileLabel::Func(1))
        .count();
    assert_eq!(leaves, 1);
    // The trap happened in `fails`, called from `main`.
    let path: Vec<ProfileLabel> = profiler
        .open_path()
        .iter()
        .map(|&n| nodes[n].label)
        .collect();
    assert_eq!(path, [ProfileLabel::Func(3), ProfileLabel::Func(4)]);
    // main's site is its call of `fails`: the offset of that `call`.
    let main = profiler.open_path()[1];
    let site = nodes[main].site.expect("main made a call") as usize;
    assert_eq!(wasm[site], 0x10, "a call opcode at the site");
    assert_eq!(wasm[site + 1], 3, "calling function 3");
    // `fails` stopped at its `unreachable`, whose offset is its site.
    let fails = profiler.open_path()[0];
    let site = nodes[fails].site.expect("fails trapped at its unreachable") as usize;
    assert_eq!(wasm[site], 0x00, "an unreachable opcode at the site");
}

#[test]
fn random_modules_charge_the_same_with_hooks() {
    let cases: u64 = env_or("WARD_DIFF_CASES", 40);
    let backends = Backends::default();
    let hooked = profiled(&backends.config);
    let mut compared = 0;
    for seed in 1..=cases {
        let mut rng = Rng::new(seed.wrapping_mul(0x2545_f491_4f6c_dd1d) | 1);
        let bytes: Vec<u8> = (0..16 * 1024).map(|_| (rng.next() >> 24) as u8).collect();
        let config = ward_testkit::differential::smith_config();
        let Ok(module) = wasm_smith::Module::new(config, &mut Unstructured::new(&bytes)) else {
            continue;
        };
        let wasm = module.to_bytes();
        for backend in &backends.all {
            let plain = observe(&**backend, &backends.config, &wasm);
            let with_hooks = match ward_vm::compile(&**backend, &hooked, &wasm) {
                Ok(module) => {
                    let log = Profiler::log(u64::MAX);
                    let mut sandbox = backend.sandbox(context().with_profile(log));
                    observe_in(&mut *sandbox, &module)
                }
                Err(failure) => ward_testkit::differential::Observed::Rejected(failure.kind),
            };
            assert_eq!(plain, with_hooks, "seed {seed} on {}", backend.kind());
            compared += 1;
        }
    }
    println!("profile: {compared} module runs compared with and without hooks");
    assert!(compared > cases as usize, "most seeds make a module");
}
