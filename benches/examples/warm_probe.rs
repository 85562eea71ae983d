//! Runs one side of one `ward bench` figure in a loop, for profilers:
//! `cargo run --release -p ward-benches --example warm_probe -- NAME BACKEND SIDE SECONDS`
//! where SIDE is `ward` or the index of a baseline.

#![allow(
    clippy::unwrap_used,
    reason = "a profiling harness: setup errors should stop it"
)]

use std::time::Duration;

use ward_benches::suite::plans;
use ward_vm::Config;

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
        "raw-on-ward-engine" => {
            let backend = ward_vm_wasmtime::WasmtimeBackend::new(&Config::default()).unwrap();
            let engine = backend.engine().clone();
            let module =
                wasmtime::Module::new(&engine, wat::parse_str(ward_benches::TRIVIAL_WAT).unwrap())
                    .unwrap();
            let linker = wasmtime::Linker::<()>::new(&engine);
            let pre = linker.instantiate_pre(&module).unwrap();
            Box::new(move || {
                let mut store = wasmtime::Store::new(&engine, ());
                store.set_epoch_deadline(u64::MAX / 4);
                let instance = pre.instantiate(&mut store).unwrap();
                let main = instance
                    .get_typed_func::<(), ()>(&mut store, "main")
                    .unwrap();
                main.call(&mut store, ()).unwrap();
            })
        }
        // Raw wasmtime on Ward's engine running the instrumented module and
        // arming its gas: Ward's floor, without Ward's own code.
        "raw-instrumented" => {
            let config = Config::default();
            let backend = ward_vm_wasmtime::WasmtimeBackend::new(&config).unwrap();
            let engine = backend.engine().clone();
            let wasm = ward_instrument::prepare(
                &wat::parse_str(ward_benches::TRIVIAL_WAT).unwrap(),
                &config.effective_policy(),
            )
            .unwrap()
            .wasm;
            let module = wasmtime::Module::new(&engine, wasm).unwrap();
            let linker = wasmtime::Linker::<()>::new(&engine);
            let pre = linker.instantiate_pre(&module).unwrap();
            let gas = module
                .get_export_index(ward_instrument::GAS_EXPORT)
                .unwrap();
            let main = module.get_export_index("main").unwrap();
            Box::new(move || {
                let mut store = wasmtime::Store::new(&engine, ());
                store.epoch_deadline_trap();
                store.set_epoch_deadline(u64::MAX / 4);
                let instance = pre.instantiate(&mut store).unwrap();
                let g = instance
                    .get_module_export(&mut store, &gas)
                    .unwrap()
                    .into_global()
                    .unwrap();
                g.set(&mut store, wasmtime::Val::I64(1 << 40)).unwrap();
                let f = instance
                    .get_module_export(&mut store, &main)
                    .unwrap()
                    .into_func()
                    .unwrap()
                    .typed::<(), ()>(&store)
                    .unwrap();
                f.call(&mut store, ()).unwrap();
                std::hint::black_box(g.get(&mut store));
            })
        }
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
