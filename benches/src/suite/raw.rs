//! The suite's floors: the same work on the raw engines (wasmtime and
//! wasmi with no Ward around them), which Ward's figures are divided by.

use std::hint::black_box;

use ward_vm::{Backend, BackendKind, Config};

use super::{Lazy, large_bytes, unique_module};
use crate::{TRIVIAL_WAT, Work, raw_runs};

/// Raw wasmtime floors of a contract workload, pooled with and without
/// memory kept resident (the report takes the faster).
pub(super) fn raw_chain_floors(
    make: fn(crate::RawAlloc) -> Work,
) -> Vec<(String, Box<dyn FnOnce() -> Work>)> {
    [crate::RawAlloc::Pooled, crate::RawAlloc::PooledResident]
        .into_iter()
        .map(|alloc| {
            let build: Box<dyn FnOnce() -> Work> = Box::new(move || make(alloc));
            (format!("raw wasmtime {alloc:?}"), build)
        })
        .collect()
}

pub(super) fn raw_plans(kind: BackendKind, wat: &str) -> Vec<(String, Box<dyn FnOnce() -> Work>)> {
    let labels: Vec<String> = match kind {
        BackendKind::Wasmtime => crate::RawAlloc::ALL
            .iter()
            .map(|a| format!("{a:?}"))
            .collect(),
        BackendKind::Wasmi => vec!["default".into()],
    };
    labels
        .into_iter()
        .enumerate()
        .map(|(i, label)| {
            let wat = wat.to_string();
            let make: Box<dyn FnOnce() -> Work> = Box::new(move || {
                raw_runs(kind, &wat, 3)
                    .into_iter()
                    .nth(i)
                    .map(|(_, w)| w)
                    .expect("raw configuration")
            });
            (label, make)
        })
        .collect()
}

pub(super) fn raw_cold(kind: BackendKind) -> Box<dyn FnOnce() -> Work> {
    Box::new(move || {
        let mut n = 0u32;
        match kind {
            BackendKind::Wasmtime => {
                let engine = crate::raw_wasmtime_engine(crate::RawAlloc::PooledResident);
                Box::new(move || {
                    n += 1;
                    let module =
                        wasmtime::Module::new(&engine, unique_module(n)).expect("compiles");
                    let (mut store, main) = wasmtime_main(&engine, &module);
                    main.call(&mut store, ()).expect("runs");
                })
            }
            BackendKind::Wasmi => {
                let engine = wasmi::Engine::default();
                let linker = wasmi::Linker::<()>::new(&engine);
                Box::new(move || {
                    n += 1;
                    let module = wasmi::Module::new(&engine, unique_module(n)).expect("compiles");
                    crate::wasmi_call_main(&linker, wasmi::Store::new(&engine, ()), &module);
                })
            }
        }
    })
}

/// Raw wasmi translating the ~1 MB module eagerly, then calling `main`.
pub(super) fn raw_cold_eager(bytes: Lazy) -> Box<dyn FnOnce() -> Work> {
    Box::new(move || {
        let mut engine_config = wasmi::Config::default();
        engine_config.compilation_mode(wasmi::CompilationMode::Eager);
        let engine = wasmi::Engine::new(&engine_config);
        let linker = wasmi::Linker::<()>::new(&engine);
        Box::new(move || {
            let module = wasmi::Module::new(&engine, large_bytes(&bytes)).expect("compiles");
            crate::wasmi_call_main(&linker, wasmi::Store::new(&engine, ()), &module);
        })
    })
}

pub(super) fn raw_compile(kind: BackendKind, bytes: Lazy) -> Box<dyn FnOnce() -> Work> {
    Box::new(move || match kind {
        BackendKind::Wasmtime => {
            let engine = wasmtime::Engine::default();
            Box::new(move || {
                black_box(wasmtime::Module::new(&engine, large_bytes(&bytes)).expect("compiles"));
            })
        }
        BackendKind::Wasmi => {
            let engine = wasmi::Engine::default();
            Box::new(move || {
                black_box(wasmi::Module::new(&engine, large_bytes(&bytes)).expect("compiles"));
            })
        }
    })
}

/// The same work as Ward's disk load, minus Ward: deserializing the very
/// artifact Ward stores (instrumented, Ward's engine settings), already in
/// memory, with no file, checksum or key check.
pub(super) fn raw_deserialize(config: Config, bytes: Lazy) -> Box<dyn FnOnce() -> Work> {
    Box::new(move || {
        let backend = ward_vm_wasmtime::WasmtimeBackend::new(&config).expect("backend");
        let module = ward_vm::compile(&backend, &config, large_bytes(&bytes)).expect("compiles");
        let artifact = backend.serialize(&module).expect("serializes");
        let engine = backend.engine().clone();
        Box::new(move || {
            // SAFETY: `artifact` was produced just above by `serialize` on
            // this same engine.
            #[allow(unsafe_code)]
            let module = unsafe { wasmtime::Module::deserialize(&engine, &artifact) };
            black_box(module.expect("deserializes"));
        })
    })
}

pub(super) fn raw_reused_call(kind: BackendKind) -> Box<dyn FnOnce() -> Work> {
    Box::new(move || {
        let wasm = wat::parse_str(TRIVIAL_WAT).expect("parses");
        match kind {
            BackendKind::Wasmtime => {
                let engine = wasmtime::Engine::default();
                let module = wasmtime::Module::new(&engine, &wasm).expect("compiles");
                let (mut store, main) = wasmtime_main(&engine, &module);
                Box::new(move || main.call(&mut store, ()).expect("runs"))
            }
            BackendKind::Wasmi => {
                let engine = wasmi::Engine::default();
                let module = wasmi::Module::new(&engine, &wasm).expect("compiles");
                let mut store = wasmi::Store::new(&engine, ());
                let instance = wasmi::Linker::<()>::new(&engine)
                    .instantiate_and_start(&mut store, &module)
                    .expect("instantiates");
                let main = instance
                    .get_typed_func::<(), ()>(&store, "main")
                    .expect("main");
                Box::new(move || main.call(&mut store, ()).expect("runs"))
            }
        }
    })
}

/// `module` instantiated with no imports in a store of its own on
/// `engine`, and its `main`.
fn wasmtime_main(
    engine: &wasmtime::Engine,
    module: &wasmtime::Module,
) -> (wasmtime::Store<()>, wasmtime::TypedFunc<(), ()>) {
    let mut store = wasmtime::Store::new(engine, ());
    let instance = wasmtime::Instance::new(&mut store, module, &[]).expect("instantiates");
    let main = instance
        .get_typed_func::<(), ()>(&mut store, "main")
        .expect("main");
    (store, main)
}
