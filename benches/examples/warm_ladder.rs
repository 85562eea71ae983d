//! Splits Ward's warm call into steps, each measured interleaved with the
//! others in one run: the raw engine on its own configuration, the raw
//! engine on Ward's engine configuration, the raw engine running the
//! instrumented module (arming its gas global), and Ward. On wasmi it also
//! times what the instrumentation adds, piece by piece (globals, exported
//! globals, a thunk). Each line shows the allocations one run makes.
//! `cargo run --release -p ward-benches --example warm_ladder -- BACKEND SECONDS`

#![allow(
    clippy::unwrap_used,
    reason = "a profiling harness: setup errors should stop it"
)]

use std::{
    alloc::{GlobalAlloc, Layout, System},
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

/// Counts allocations, to see what each step allocates.
#[allow(unsafe_code, reason = "a counting allocator wraps the system one")]
struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: forwards to the system allocator unchanged.
#[allow(unsafe_code, reason = "a counting allocator wraps the system one")]
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        BYTES.fetch_add(new as u64, Relaxed);
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

use ward_benches::{
    TRIVIAL_WAT, Work,
    probe::{instrumented_trivial, raw_wasmi_on, raw_wasmtime_on},
    suite::measure_interleaved,
};
use ward_vm::{BackendKind, Config};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = args.get(1).map_or("wasmtime", String::as_str);
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let config = Config::default();
    let trivial = wat::parse_str(TRIVIAL_WAT).unwrap();
    let inst = instrumented_trivial(&config);
    let kind = if backend == "wasmi" {
        BackendKind::Wasmi
    } else {
        BackendKind::Wasmtime
    };
    let plan = ward_benches::suite::plans(&config)
        .into_iter()
        .find(|p| p.name == "warm_call" && p.backend == kind)
        .unwrap();
    let (ward, baselines) = plan.into_works().unwrap();
    let mut labels: Vec<String> = Vec::new();
    let mut works: Vec<Work> = Vec::new();
    for (label, work) in baselines {
        labels.push(format!("raw {label}"));
        works.push(work);
    }
    match kind {
        BackendKind::Wasmtime => {
            let engine = ward_vm_wasmtime::WasmtimeBackend::new(&config)
                .unwrap()
                .engine()
                .clone();
            labels.push("raw on ward engine".into());
            works.push(raw_wasmtime_on(engine.clone(), &trivial, false));
            labels.push("raw instrumented on ward engine".into());
            works.push(raw_wasmtime_on(engine.clone(), &inst, true));
        }
        BackendKind::Wasmi => {
            let engine = ward_vm_wasmi::WasmiBackend::new(&config)
                .unwrap()
                .engine()
                .clone();
            labels.push("raw on ward engine".into());
            works.push(raw_wasmi_on(engine.clone(), &trivial, false));
            for (label, wat) in [
                (
                    "3 globals",
                    r#"(module (memory (export "memory") 1) (global (mut i64) (i64.const 0)) (global (mut i32) (i32.const 0)) (global (mut i32) (i32.const 0)) (func (export "main")))"#,
                ),
                (
                    "3 globals 3 exports",
                    r#"(module (memory (export "memory") 1) (global (export "a") (mut i64) (i64.const 0)) (global (export "b") (mut i32) (i32.const 0)) (global (export "c") (mut i32) (i32.const 0)) (func (export "main")))"#,
                ),
                (
                    "1 global exported",
                    r#"(module (memory (export "memory") 1) (global (export "__ward_gas") (mut i64) (i64.const 0)) (func (export "main")))"#,
                ),
                (
                    "thunk",
                    r#"(module (memory (export "memory") 1) (func $f) (func (export "main") (call $f)))"#,
                ),
            ] {
                labels.push(label.into());
                works.push(raw_wasmi_on(
                    engine.clone(),
                    &wat::parse_str(wat).unwrap(),
                    false,
                ));
            }
            labels.push("raw instrumented on ward engine".into());
            works.push(raw_wasmi_on(engine.clone(), &inst, true));
        }
    }
    labels.push("ward".into());
    works.push(ward);
    let counts: Vec<(u64, u64)> = works
        .iter_mut()
        .map(|w| {
            // The steady state: Ward's first two calls of a module set up
            // recycling (the first recycles nothing, the second keeps its
            // instance).
            w();
            w();
            let (a, b) = (ALLOCS.load(Relaxed), BYTES.load(Relaxed));
            w();
            (ALLOCS.load(Relaxed) - a, BYTES.load(Relaxed) - b)
        })
        .collect();
    let times = measure_interleaved(&mut works, Duration::from_secs(seconds));
    for ((label, t), (n, b)) in labels.iter().zip(times).zip(counts) {
        println!("{:>8.3} us  {n:>4} allocs {b:>7} B  {label}", t * 1e6);
    }
}
