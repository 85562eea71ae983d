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
    hint::black_box,
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

use ward_benches::{TRIVIAL_WAT, Work, suite::measure_interleaved};
use ward_vm::{BackendKind, Config};

fn instrumented(config: &Config) -> Vec<u8> {
    let wasm = wat::parse_str(TRIVIAL_WAT).unwrap();
    ward_instrument::prepare(&wasm, &config.effective_policy())
        .unwrap()
        .wasm
}

fn wasmtime_on(engine: wasmtime::Engine, wasm: &[u8], arm: bool, interruptible: bool) -> Work {
    let module = wasmtime::Module::new(&engine, wasm).unwrap();
    let linker = wasmtime::Linker::<()>::new(&engine);
    let pre = linker.instantiate_pre(&module).unwrap();
    let gas = module.get_export_index(ward_instrument::GAS_EXPORT);
    let main = module.get_export_index("main").unwrap();
    Box::new(move || {
        let mut store = wasmtime::Store::new(&engine, ());
        if interruptible {
            store.epoch_deadline_trap();
            store.set_epoch_deadline(u64::MAX / 4);
        }
        let instance = pre.instantiate(&mut store).unwrap();
        if arm && let Some(gas) = &gas {
            let g = instance
                .get_module_export(&mut store, gas)
                .unwrap()
                .into_global()
                .unwrap();
            g.set(&mut store, wasmtime::Val::I64(1 << 40)).unwrap();
        }
        let f = instance
            .get_module_export(&mut store, &main)
            .unwrap()
            .into_func()
            .unwrap()
            .typed::<(), ()>(&store)
            .unwrap();
        f.call(&mut store, ()).unwrap();
        if arm && let Some(gas) = &gas {
            let g = instance
                .get_module_export(&mut store, gas)
                .unwrap()
                .into_global()
                .unwrap();
            black_box(g.get(&mut store));
        }
        black_box(store);
    })
}

fn wasmi_on(engine: wasmi::Engine, wasm: &[u8], arm: bool, fuel: bool) -> Work {
    let module = wasmi::Module::new(&engine, wasm).unwrap();
    let linker = wasmi::Linker::<()>::new(&engine);
    Box::new(move || {
        let mut store = wasmi::Store::new(&engine, ());
        if fuel {
            store.set_fuel(u64::MAX).unwrap();
        }
        let instance = linker.instantiate_and_start(&mut store, &module).unwrap();
        let g = arm
            .then(|| instance.get_global(&store, ward_instrument::GAS_EXPORT))
            .flatten();
        if let Some(g) = g {
            g.set(&mut store, wasmi::Val::I64(1 << 40)).unwrap();
        }
        let f = instance.get_typed_func::<(), ()>(&store, "main").unwrap();
        f.call(&mut store, ()).unwrap();
        if let Some(g) = g {
            black_box(g.get(&store));
        }
        black_box(store);
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let backend = args.get(1).map_or("wasmtime", String::as_str);
    let seconds: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    let config = Config::default();
    let trivial = wat::parse_str(TRIVIAL_WAT).unwrap();
    let inst = instrumented(&config);
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
            works.push(wasmtime_on(engine.clone(), &trivial, false, true));
            labels.push("raw instrumented on ward engine".into());
            works.push(wasmtime_on(engine.clone(), &inst, true, true));
        }
        BackendKind::Wasmi => {
            let engine = ward_vm_wasmi::WasmiBackend::new(&config)
                .unwrap()
                .engine()
                .clone();
            labels.push("raw on ward engine".into());
            works.push(wasmi_on(engine.clone(), &trivial, false, true));
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
                works.push(wasmi_on(
                    engine.clone(),
                    &wat::parse_str(wat).unwrap(),
                    false,
                    true,
                ));
            }
            labels.push("raw instrumented on ward engine".into());
            works.push(wasmi_on(engine.clone(), &inst, true, true));
        }
    }
    labels.push("ward".into());
    works.push(ward);
    let counts: Vec<(u64, u64)> = works
        .iter_mut()
        .map(|w| {
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
