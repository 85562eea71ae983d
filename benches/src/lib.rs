//! Ward's benchmark workloads, each with its raw-engine twin.
//!
//! Every workload is built twice: once through Ward (compile with policy,
//! fresh sandbox, ABI host functions, typed outcome) and once on the raw
//! engine doing the same work with nothing around it. Both are measured in
//! the same run, so the ratio between them is what a report may claim.
//!
//! This crate names wasmtime and wasmi directly: only to build the floors.

pub mod calibration;
pub mod chain;
#[cfg(feature = "etcd")]
pub mod cluster;
pub mod cpu;
#[cfg(feature = "revm")]
pub mod erc20;
pub mod eth_node;
mod load;
pub mod node;
pub mod parallel;
pub mod probe;
pub mod scratch;
pub mod state;
pub mod suite;

use std::{hint::black_box, sync::Arc};

use ward_vm::{Backend, BackendKind, Config};

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

/// The module of example contract `name` built by `make contracts`, looked
/// for in `$WARD_CONTRACTS_DIR`, then under `target/contracts` of the
/// current directory, then of this repository; `None` when not built.
pub fn sdk_contract(name: &str) -> Option<Vec<u8>> {
    const OUT: &str = "target/contracts/wasm32-unknown-unknown/release";
    let file = format!("{name}.wasm");
    let mut dirs: Vec<std::path::PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("WARD_CONTRACTS_DIR") {
        dirs.push(dir.into());
    }
    dirs.push(OUT.into());
    dirs.push(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(OUT),
    );
    dirs.iter()
        .find_map(|dir| std::fs::read(dir.join(&file)).ok())
}

/// A backend of `kind`.
///
/// # Panics
///
/// When the backend cannot be created.
pub fn ward_backend(kind: BackendKind, config: &Config) -> Arc<dyn Backend> {
    ward_backends::new(kind, config).unwrap_or_else(|e| panic!("{kind} backend: {e}"))
}

/// How raw wasmtime allocates instances.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RawAlloc {
    /// The default on-demand allocator.
    OnDemand,
    /// The pooling allocator with copy-on-write memory images.
    Pooled,
    /// Pooled, with 64 KiB of memory and tables kept resident per slot.
    PooledResident,
    /// Pooled and kept resident, resetting only the pages a call dirtied
    /// (Linux's `PAGEMAP_SCAN`, where the kernel has it): Ward's own
    /// configuration.
    PooledResidentScan,
}

impl RawAlloc {
    /// Every configuration, for taking the fastest.
    pub const ALL: [RawAlloc; 4] = [
        RawAlloc::OnDemand,
        RawAlloc::Pooled,
        RawAlloc::PooledResident,
        RawAlloc::PooledResidentScan,
    ];
}

/// A raw wasmtime engine allocating as `alloc` says.
///
/// # Panics
///
/// When wasmtime refuses the configuration.
pub fn raw_wasmtime_engine(alloc: RawAlloc) -> wasmtime::Engine {
    let mut config = wasmtime::Config::new();
    if alloc != RawAlloc::OnDemand {
        let mut pool = wasmtime::PoolingAllocationConfig::new();
        if matches!(
            alloc,
            RawAlloc::PooledResident | RawAlloc::PooledResidentScan
        ) {
            pool.linear_memory_keep_resident(64 << 10)
                .table_keep_resident(64 << 10);
        }
        if alloc == RawAlloc::PooledResidentScan {
            pool.pagemap_scan(wasmtime::Enabled::Auto);
        }
        config.allocation_strategy(wasmtime::InstanceAllocationStrategy::Pooling(pool));
    }
    wasmtime::Engine::new(&config).expect("raw wasmtime engine")
}

/// The raw wasmtime floor: an engine allocating as `alloc` says, linker
/// pre-instantiation with an `input_size` import, then per run: a store,
/// an instance, a typed call of `main`, drop.
pub fn raw_wasmtime_run(wat: &str, input_len: i32, alloc: RawAlloc) -> Work {
    use wasmtime::{Linker, Module, Store};
    let engine = raw_wasmtime_engine(alloc);
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

/// Raw wasmi: instantiates `module` in `store` through `linker` and calls
/// its `main`; hands the store back.
pub fn wasmi_call_main<T>(
    linker: &wasmi::Linker<T>,
    mut store: wasmi::Store<T>,
    module: &wasmi::Module,
) -> wasmi::Store<T> {
    let instance = linker
        .instantiate_and_start(&mut store, module)
        .expect("instantiates");
    let main = instance
        .get_typed_func::<(), ()>(&store, "main")
        .expect("main");
    main.call(&mut store, ()).expect("runs");
    store
}

/// An executor over a new [`ward_state::MemoryStore`] on `kind`, with no
/// block gas maximum (the block figures run thousands of transactions).
pub fn unbounded_executor(kind: BackendKind) -> ward_executor::Executor<ward_state::MemoryStore> {
    let config = Config::default();
    let limits = ward_executor::ChainLimits {
        max_block_gas: u64::MAX,
        ..ward_executor::ChainLimits::default()
    };
    ward_executor::Executor::new(
        Arc::new(ward_state::MemoryStore::default()),
        ward_backend(kind, &config),
        &config,
    )
    .with_limits(limits)
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
        black_box(wasmi_call_main(
            &linker,
            Store::new(&engine, input_len),
            &module,
        ));
    })
}

/// The raw floors of `kind` for `wat`, one per configuration worth trying,
/// labelled; a report takes the fastest.
pub fn raw_runs(kind: BackendKind, wat: &str, input_len: i32) -> Vec<(String, Work)> {
    match kind {
        BackendKind::Wasmtime => RawAlloc::ALL
            .iter()
            .map(|&alloc| {
                (
                    format!("{alloc:?}"),
                    raw_wasmtime_run(wat, input_len, alloc),
                )
            })
            .collect(),
        BackendKind::Wasmi => vec![("default".into(), raw_wasmi_run(wat, input_len))],
    }
}

/// Compute kernels for the metering-overhead benchmark: `(name, wat)`, each
/// exporting `main: [] -> [i64]` and doing a few milliseconds of work.
pub fn kernels() -> Vec<(&'static str, String)> {
    vec![
        (
            "fib",
            r#"(module
                 (func $fib (param $n i32) (result i64)
                   (if (result i64) (i32.lt_u (local.get $n) (i32.const 2))
                     (then (i64.extend_i32_u (local.get $n)))
                     (else (i64.add (call $fib (i32.sub (local.get $n) (i32.const 1)))
                                    (call $fib (i32.sub (local.get $n) (i32.const 2)))))))
                 (func (export "main") (result i64) (call $fib (i32.const 25))))"#
                .to_string(),
        ),
        (
            "loop_arith",
            r#"(module
                 (func (export "main") (result i64) (local $i i64) (local $acc i64)
                   (loop $l
                     (local.set $acc (i64.add (i64.xor (local.get $acc) (i64.mul (local.get $i) (local.get $i)))
                                              (i64.shr_u (local.get $acc) (i64.const 3))))
                     (local.set $i (i64.add (local.get $i) (i64.const 1)))
                     (br_if $l (i64.lt_u (local.get $i) (i64.const 2000000))))
                   (local.get $acc)))"#
                .to_string(),
        ),
        (
            "sieve",
            r#"(module (memory 16)
                 (func (export "main") (result i64) (local $i i32) (local $j i32) (local $count i64)
                   (memory.fill (i32.const 0) (i32.const 1) (i32.const 1000000))
                   (local.set $i (i32.const 2))
                   (loop $outer
                     (if (i32.load8_u (local.get $i))
                       (then
                         (local.set $count (i64.add (local.get $count) (i64.const 1)))
                         (local.set $j (i32.mul (local.get $i) (i32.const 2)))
                         (block $done (loop $inner
                           (br_if $done (i32.ge_u (local.get $j) (i32.const 1000000)))
                           (i32.store8 (local.get $j) (i32.const 0))
                           (local.set $j (i32.add (local.get $j) (local.get $i)))
                           (br $inner)))))
                     (local.set $i (i32.add (local.get $i) (i32.const 1)))
                     (br_if $outer (i32.lt_u (local.get $i) (i32.const 1000000))))
                   (local.get $count)))"#
                .to_string(),
        ),
        (
            // Prepayment's worst case: a counted loop entered 500 000 times
            // for 4 iterations each.
            "short_loops",
            r#"(module (memory 1)
                 (func (export "main") (result i64) (local $i i32) (local $j i32) (local $acc i64)
                   (loop $outer
                     (local.set $j (i32.const 0))
                     (loop $inner
                       (local.set $acc (i64.add (local.get $acc)
                         (i64.extend_i32_u (i32.load (i32.shl (i32.and (i32.add (local.get $i) (local.get $j)) (i32.const 255)) (i32.const 2))))))
                       (i32.store (i32.shl (local.get $j) (i32.const 2)) (local.get $i))
                       (local.set $j (i32.add (local.get $j) (i32.const 1)))
                       (br_if $inner (i32.lt_u (local.get $j) (i32.const 4))))
                     (local.set $i (i32.add (local.get $i) (i32.const 1)))
                     (br_if $outer (i32.lt_u (local.get $i) (i32.const 500000))))
                   (local.get $acc)))"#
                .to_string(),
        ),
        (
            "matmul_f64",
            r#"(module (memory 4)
                 (func (export "main") (result i64) (local $i i32) (local $j i32) (local $k i32) (local $s f64)
                   (loop $fi (local.set $j (i32.const 0))
                     (loop $fj
                       (f64.store (i32.shl (i32.add (i32.mul (local.get $i) (i32.const 64)) (local.get $j)) (i32.const 3))
                         (f64.convert_i32_u (i32.add (local.get $i) (local.get $j))))
                       (f64.store (i32.add (i32.const 32768) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const 64)) (local.get $j)) (i32.const 3)))
                         (f64.div (f64.const 1) (f64.convert_i32_u (i32.add (i32.const 1) (local.get $j)))))
                       (local.set $j (i32.add (local.get $j) (i32.const 1)))
                       (br_if $fj (i32.lt_u (local.get $j) (i32.const 64))))
                     (local.set $i (i32.add (local.get $i) (i32.const 1)))
                     (br_if $fi (i32.lt_u (local.get $i) (i32.const 64))))
                   (local.set $i (i32.const 0))
                   (loop $li (local.set $j (i32.const 0))
                     (loop $lj (local.set $s (f64.const 0)) (local.set $k (i32.const 0))
                       (loop $lk
                         (local.set $s (f64.add (local.get $s)
                           (f64.mul (f64.load (i32.shl (i32.add (i32.mul (local.get $i) (i32.const 64)) (local.get $k)) (i32.const 3)))
                                    (f64.load (i32.add (i32.const 32768) (i32.shl (i32.add (i32.mul (local.get $k) (i32.const 64)) (local.get $j)) (i32.const 3)))))))
                         (local.set $k (i32.add (local.get $k) (i32.const 1)))
                         (br_if $lk (i32.lt_u (local.get $k) (i32.const 64))))
                       (f64.store (i32.add (i32.const 65536) (i32.shl (i32.add (i32.mul (local.get $i) (i32.const 64)) (local.get $j)) (i32.const 3))) (local.get $s))
                       (local.set $j (i32.add (local.get $j) (i32.const 1)))
                       (br_if $lj (i32.lt_u (local.get $j) (i32.const 64))))
                     (local.set $i (i32.add (local.get $i) (i32.const 1)))
                     (br_if $li (i32.lt_u (local.get $i) (i32.const 64))))
                   (i64.trunc_f64_s (f64.load (i32.const 65536)))))"#
                .to_string(),
        ),
    ]
}

/// `wat` (a kernel) with `stores` writes of a constant to globals of its
/// own at the start of `main`, each moving the code after it (the
/// kernel's hot loops) by the few bytes of one store in the compiled
/// function, at the cost of one store per call; and three times as many in
/// a function of their own, first in the module and never called, which
/// moves every other function (in the steps functions are aligned to).
/// Measuring a kernel at several such shifts, raw and instrumented alike,
/// averages out where the compiler happens to place its loops against the
/// CPU's fetch windows, which on this project's machine alone moves a
/// kernel's time by up to 1.7x.
pub fn shifted(wat: &str, stores: usize) -> String {
    let header = r#"(func (export "main") (result i64)"#;
    let Some(at) = wat.find(header) else {
        return wat.to_string();
    };
    // After the `(local ...)` declarations, before the first instruction.
    let mut body = at + header.len();
    loop {
        let rest = &wat[body..];
        let trimmed = rest.trim_start();
        body += rest.len() - trimmed.len();
        if !trimmed.starts_with("(local ") {
            break;
        }
        match trimmed.find(')') {
            Some(close) => body += close + 1,
            None => return wat.to_string(),
        }
    }
    let module = "(module";
    let Some(m) = wat.find(module) else {
        return wat.to_string();
    };
    let m = m + module.len();
    // One global per store: stores to one global would be merged.
    let globals: String = (0..3 * stores)
        .map(|k| format!(" (global $ward_shift{k} (mut i32) (i32.const 0))"))
        .collect();
    let sets = |n: usize| -> String {
        (0..n)
            .map(|k| format!("(global.set $ward_shift{k} (i32.const {k})) "))
            .collect()
    };
    format!(
        "{}{globals} (func $ward_shift {}){}{}{}",
        &wat[..m],
        sets(3 * stores),
        &wat[m..body],
        sets(stores),
        &wat[body..]
    )
}

/// How a kernel is metered in the overhead benchmark.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metered {
    /// The module as written, on the raw engine with no metering at all.
    Unmetered,
    /// Ward's instrumented module, on the same raw engine.
    Instrumented,
    /// Ward's instrumented module with counted loops checked on every
    /// iteration instead of paid on entry (`LoopCharging::PerIteration`).
    PerIteration,
    /// The module as written, on the raw engine with its own fuel on
    /// (wasmtime only).
    EngineFuel,
}

/// Gas (or fuel) given to each kernel run: far more than any kernel needs.
const KERNEL_BUDGET: u64 = 1 << 60;

/// One kernel run on a raw engine: instantiate, set the budget, call `main`.
///
/// # Panics
///
/// If the kernel does not compile or traps (a benchmark setup error).
pub fn kernel_run(kind: BackendKind, metered: Metered, wat: &str) -> Work {
    let original = wat::parse_str(wat).expect("kernel parses");
    let loops = match metered {
        Metered::PerIteration => ward_instrument::LoopCharging::PerIteration,
        _ => ward_instrument::LoopCharging::Prepaid,
    };
    let policy = ward_instrument::Policy {
        loops,
        ..ward_instrument::Policy::default()
    };
    let bytes = match metered {
        Metered::Instrumented | Metered::PerIteration => {
            ward_instrument::prepare(&original, &policy)
                .expect("kernel instruments")
                .wasm
        }
        Metered::Unmetered | Metered::EngineFuel => original,
    };
    let gas_global = matches!(metered, Metered::Instrumented | Metered::PerIteration);
    match kind {
        BackendKind::Wasmtime => {
            use wasmtime::{Config, Engine, Instance, Module, Store, Val};
            let mut config = Config::new();
            config.consume_fuel(metered == Metered::EngineFuel);
            let engine = Engine::new(&config).expect("engine");
            let module = Module::new(&engine, &bytes).expect("compiles");
            Box::new(move || {
                let mut store = Store::new(&engine, ());
                if metered == Metered::EngineFuel {
                    store.set_fuel(KERNEL_BUDGET).expect("fuel");
                }
                let instance = Instance::new(&mut store, &module, &[]).expect("instantiates");
                if gas_global {
                    let gas = instance
                        .get_global(&mut store, ward_instrument::GAS_EXPORT)
                        .expect("gas");
                    gas.set(&mut store, Val::I64(KERNEL_BUDGET as i64))
                        .expect("sets gas");
                }
                let main = instance
                    .get_typed_func::<(), i64>(&mut store, "main")
                    .expect("main");
                black_box(main.call(&mut store, ()).expect("runs"));
            })
        }
        BackendKind::Wasmi => {
            use wasmi::{Engine, Linker, Module, Store, Val};
            let engine = Engine::default();
            let module = Module::new(&engine, &bytes).expect("compiles");
            let linker = Linker::<()>::new(&engine);
            Box::new(move || {
                let mut store = Store::new(&engine, ());
                let instance = linker
                    .instantiate_and_start(&mut store, &module)
                    .expect("instantiates");
                if gas_global {
                    let gas = instance
                        .get_global(&store, ward_instrument::GAS_EXPORT)
                        .expect("gas");
                    gas.set(&mut store, Val::I64(KERNEL_BUDGET as i64))
                        .expect("sets gas");
                }
                let main = instance
                    .get_typed_func::<(), i64>(&store, "main")
                    .expect("main");
                black_box(main.call(&mut store, ()).expect("runs"));
            })
        }
    }
}

/// A whole number from the environment variable `name`, or `default`.
pub fn env_secs(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}
