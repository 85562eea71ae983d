//! Ward's benchmark workloads, each with its raw-engine twin.
//!
//! Every workload is built twice: once through Ward (compile with policy,
//! fresh sandbox, ABI host functions, typed outcome) and once on the raw
//! engine doing the same work with nothing around it. Both are measured in
//! the same run, so the ratio between them is what a report may claim.
//!
//! This crate names wasmtime and wasmi directly: only to build the floors.

use std::{hint::black_box, sync::Arc};

use ward_vm::{Backend, BackendKind, CallContext, Config, Entry, Reply, RunOptions, Status};

/// A trivial contract: exports memory and an empty `main`.
pub const TRIVIAL_WAT: &str = r#"(module (memory (export "memory") 1) (func (export "main")))"#;

/// How many host calls the host-call workload makes per run.
pub const HOST_CALLS: u32 = 1000;

/// A contract whose `main` calls `ward.input_size` [`HOST_CALLS`] times.
pub fn host_call_wat() -> String {
    format!(
        r#"(module
             (import "ward" "input_size" (func $f (result i32)))
             (memory (export "memory") 1)
             (func (export "main") (local $i i32) (local $acc i32)
               (loop $l
                 (local.set $acc (i32.add (local.get $acc) (call $f)))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const {HOST_CALLS}))))))"#
    )
}

/// One measurable unit of work.
pub type Work = Box<dyn FnMut()>;

/// Ward's side of a workload: compile once, then each call instantiates a
/// fresh sandbox, runs `main` and drops everything.
pub fn ward_run(backend: Arc<dyn Backend>, config: &Config, wat: &str, input: &[u8]) -> Work {
    let wasm = wat::parse_str(wat).expect("bench module parses");
    let module = ward_vm::compile(&*backend, config, &wasm).expect("bench module compiles");
    let input = input.to_vec();
    let entry = Entry::Main("main".into());
    Box::new(move || {
        let options = RunOptions {
            input: input.clone(),
            ..RunOptions::default()
        };
        let mut service = |_| Reply::Trap("no host services".into());
        let run = ward_vm::execute(
            &*backend,
            &module,
            &entry,
            options,
            CallContext::default(),
            &mut service,
        );
        assert_eq!(run.outcome.status, Status::Ok);
        black_box(run);
    })
}

/// A backend of `kind`.
///
/// # Panics
///
/// When the backend cannot be created.
pub fn ward_backend(kind: BackendKind, config: &Config) -> Arc<dyn Backend> {
    match kind {
        BackendKind::Wasmtime => {
            Arc::new(ward_vm_wasmtime::WasmtimeBackend::new(config).expect("wasmtime backend"))
        }
        BackendKind::Wasmi => {
            Arc::new(ward_vm_wasmi::WasmiBackend::new(config).expect("wasmi backend"))
        }
    }
}

/// The raw wasmtime floor: default engine, `Store::new`, linker
/// instantiation with an `input_size` import, typed call of `main`, drop.
pub fn raw_wasmtime_run(wat: &str, input_len: i32) -> Work {
    use wasmtime::{Engine, Linker, Module, Store};
    let engine = Engine::default();
    let module = Module::new(&engine, wat::parse_str(wat).expect("parses")).expect("compiles");
    let mut linker = Linker::<i32>::new(&engine);
    linker
        .func_wrap("ward", "input_size", |caller: wasmtime::Caller<'_, i32>| {
            *caller.data()
        })
        .expect("defines");
    let pre = linker.instantiate_pre(&module).expect("links");
    Box::new(move || {
        let mut store = Store::new(&engine, input_len);
        let instance = pre.instantiate(&mut store).expect("instantiates");
        let main = instance
            .get_typed_func::<(), ()>(&mut store, "main")
            .expect("main");
        main.call(&mut store, ()).expect("runs");
        black_box(store);
    })
}

/// The raw wasmi floor: `Store::new`, linker instantiation with an
/// `input_size` import, typed call of `main`, drop.
pub fn raw_wasmi_run(wat: &str, input_len: i32) -> Work {
    use wasmi::{Engine, Linker, Module, Store};
    let engine = Engine::default();
    let module = Module::new(&engine, wat::parse_str(wat).expect("parses")).expect("compiles");
    let mut linker = Linker::<i32>::new(&engine);
    linker
        .func_wrap("ward", "input_size", |caller: wasmi::Caller<'_, i32>| {
            *caller.data()
        })
        .expect("defines");
    Box::new(move || {
        let mut store = Store::new(&engine, input_len);
        let instance = linker
            .instantiate_and_start(&mut store, &module)
            .expect("instantiates");
        let main = instance
            .get_typed_func::<(), ()>(&store, "main")
            .expect("main");
        main.call(&mut store, ()).expect("runs");
        black_box(store);
    })
}

/// The raw floor of `kind` for `wat`.
pub fn raw_run(kind: BackendKind, wat: &str, input_len: i32) -> Work {
    match kind {
        BackendKind::Wasmtime => raw_wasmtime_run(wat, input_len),
        BackendKind::Wasmi => raw_wasmi_run(wat, input_len),
    }
}
