//! Differential testing: random modules (wasm-smith, restricted to Ward's
//! feature set) run through Ward's metered path on both backends, which must
//! agree on every compile verdict, instantiation, export call (status, error
//! kind, results), gas left and the final memory contents.
//!
//! `make test` runs a bounded number of seeds; set `WARD_DIFF_CASES` (and
//! optionally `WARD_DIFF_SEED`) for a longer run.

use arbitrary::Unstructured;
use ward_testkit::{Backends, Rng, env_or};
use ward_vm::{
    Backend, CallContext, ErrorKind, ExternKind, ExternType, Gas, Module, Sandbox, Step, Value,
};

/// A wasm-smith configuration inside Ward's default policy.
fn smith_config() -> wasm_smith::Config {
    wasm_smith::Config {
        simd_enabled: false,
        relaxed_simd_enabled: false,
        threads_enabled: false,
        shared_everything_threads_enabled: false,
        memory64_enabled: false,
        exceptions_enabled: false,
        tail_call_enabled: false,
        gc_enabled: false,
        custom_page_sizes_enabled: false,
        wide_arithmetic_enabled: false,
        extended_const_enabled: false,
        custom_descriptors_enabled: false,
        bulk_memory_enabled: true,
        reference_types_enabled: true,
        multi_value_enabled: true,
        saturating_float_to_int_enabled: true,
        sign_extension_ops_enabled: true,
        max_memories: 1,
        max_tables: 2,
        max_imports: 0,
        max_memory32_bytes: 16 << 20,
        max_table_elements: 1_000,
        min_funcs: 2,
        max_funcs: 20,
        max_instructions: 500,
        export_everything: true,
        canonicalize_nans: false,
        ..wasm_smith::Config::default()
    }
}

/// Everything observable about one module on one backend.
#[derive(Debug, PartialEq, Eq)]
enum Observed {
    Rejected(ErrorKind),
    Ran(Vec<Call>),
}

#[derive(Debug, PartialEq, Eq)]
struct Call {
    export: String,
    outcome: Result<Vec<Value>, ErrorKind>,
    gas_left: Option<Gas>,
    memory: Option<u64>,
    /// Every exported global's value after the call.
    globals: Vec<Value>,
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

fn observe(backend: &dyn Backend, config: &ward_vm::Config, wasm: &[u8]) -> Observed {
    let module = match ward_vm::compile(backend, config, wasm) {
        Ok(module) => module,
        Err(failure) => return Observed::Rejected(failure.kind),
    };
    observe_in(&mut *backend.sandbox(context()), &module)
}

fn context() -> CallContext {
    CallContext::new(Vec::new(), Gas::new(10_000_000))
}

/// Instantiates `module` in `sandbox` and calls every exported function in
/// turn, observing each call.
fn observe_in(sandbox: &mut dyn Sandbox, module: &Module) -> Observed {
    let (instance, meter) = match ward_vm::instantiate_metered(&mut *sandbox, module, &[]) {
        Ok(instantiated) => instantiated,
        Err(failure) => return Observed::Rejected(failure.kind),
    };
    let Some(meter) = meter else {
        return Observed::Rejected(ErrorKind::HostError);
    };
    let memory = module
        .exports()
        .iter()
        .find(|e| e.ty == ExternType::Memory)
        .and_then(|e| sandbox.export(instance, &e.name));
    let globals: Vec<_> = module
        .exports()
        .iter()
        .filter(|e| e.ty == ExternType::Global && !e.name.starts_with("__ward"))
        .filter_map(|e| sandbox.export(instance, &e.name))
        .collect();
    let read_globals = |sandbox: &mut dyn Sandbox| -> Vec<Value> {
        globals
            .iter()
            .map(|&g| sandbox.global_get(g).unwrap())
            .collect()
    };
    // What the instance starts with.
    let mut calls = vec![Call {
        export: String::new(),
        outcome: Ok(Vec::new()),
        gas_left: None,
        memory: None,
        globals: read_globals(&mut *sandbox),
    }];
    for export in module.exports() {
        let ExternType::Func(ty) = &export.ty else {
            continue;
        };
        if export.name.starts_with("__ward") {
            continue;
        }
        let Some(func) = sandbox.export(instance, &export.name) else {
            continue;
        };
        assert_eq!(func.kind, ExternKind::Func);
        let args: Vec<Value> = ty.params.iter().map(|t| Value::default_for(*t)).collect();
        meter.arm(&mut *sandbox, Gas::new(1_000_000)).unwrap();
        let outcome = match sandbox.call(func, &args) {
            Step::Returned(values) => Ok(values),
            Step::Failed(failure) => Err(meter.classify(&mut *sandbox, failure).kind),
            other => panic!("unexpected step {other:?}"),
        };
        let gas_left = meter.gas_left(&mut *sandbox).unwrap();
        let memory = memory.map(|m| {
            let size = sandbox.memory_size(m).unwrap();
            let mut bytes = vec![0; size as usize];
            sandbox.read_memory(m, 0, &mut bytes).unwrap();
            fnv1a(&bytes)
        });
        calls.push(Call {
            export: export.name.clone(),
            outcome,
            gas_left,
            memory,
            globals: read_globals(&mut *sandbox),
        });
    }
    Observed::Ran(calls)
}

/// A small deterministic generator for the seed bytes.
fn seed_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = Rng::new(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    (0..len).map(|_| (rng.next() >> 24) as u8).collect()
}

#[test]
fn random_modules_behave_identically_on_both_backends() {
    let cases: u64 = env_or("WARD_DIFF_CASES", 120);
    let first: u64 = env_or("WARD_DIFF_SEED", 1);
    let backends = Backends::default();
    let (mut ran, mut calls) = (0, 0);
    for seed in first..first + cases {
        let bytes = seed_bytes(seed, 16 * 1024);
        let Ok(module) = wasm_smith::Module::new(smith_config(), &mut Unstructured::new(&bytes))
        else {
            continue;
        };
        let wasm = module.to_bytes();
        let observed = backends.each(|b| observe(b, &backends.config, &wasm));
        assert_eq!(observed[0], observed[1], "backends disagree on seed {seed}");
        if let Observed::Ran(c) = &observed[0] {
            ran += 1;
            calls += c.len();
        }
    }
    println!("differential: {cases} seeds, {ran} modules ran, {calls} export calls compared");
    assert!(
        ran * 2 > cases as usize,
        "most generated modules should run: {ran} of {cases}"
    );
}

/// Renames a module's memory export to `memory`, the name Ward's ABI (and
/// recycling) looks for; wasm-smith names exports otherwise.
struct MemoryNamedMemory;

impl wasm_encoder::reencode::Reencode for MemoryNamedMemory {
    type Error = std::convert::Infallible;

    fn parse_export(
        &mut self,
        exports: &mut wasm_encoder::ExportSection,
        export: wasmparser::Export<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        let name = if export.kind == wasmparser::ExternalKind::Memory {
            "memory"
        } else {
            export.name
        };
        let kind = self.export_kind(export.kind)?;
        exports.export(name, kind, export.index);
        Ok(())
    }
}

fn with_memory_named_memory(wasm: &[u8]) -> Option<Vec<u8>> {
    let mut module = wasm_encoder::Module::new();
    wasm_encoder::reencode::Reencode::parse_core_module(
        &mut MemoryNamedMemory,
        &mut module,
        wasmparser::Parser::new(0),
        wasm,
    )
    .ok()?;
    Some(module.finish())
}

/// A recycled instance behaves exactly as a new one: random modules are
/// run (every export called, which leaves memory and globals changed),
/// recycled, and run again in the recycled instance; every call must
/// observe what the same calls observe in a new instance (results, error
/// kinds, gas, memory contents).
#[test]
fn recycled_instances_behave_as_new_ones_on_random_modules() {
    let cases: u64 = env_or("WARD_DIFF_CASES", 120);
    let first: u64 = env_or("WARD_DIFF_SEED", 1);
    let backends = Backends::default();
    let mut recycled = [0u32; 2];
    for seed in first..first + cases {
        let bytes = seed_bytes(seed, 16 * 1024);
        let Ok(module) = wasm_smith::Module::new(smith_config(), &mut Unstructured::new(&bytes))
        else {
            continue;
        };
        let Some(wasm) = with_memory_named_memory(&module.to_bytes()) else {
            continue;
        };
        for (i, backend) in backends.all.iter().enumerate() {
            let Ok(module) = ward_vm::compile(&**backend, &backends.config, &wasm) else {
                continue;
            };
            if !module.recyclable() {
                continue;
            }
            // A module's first call never recycles (modules run once pay
            // nothing for it): the second is the one whose instance is kept.
            drop(backend.sandbox_for(&module, context()));
            let mut used = backend.sandbox_for(&module, context());
            observe_in(&mut *used, &module);
            used.finish();
            let before = backend.recycled_instances();
            let mut again = backend.sandbox_for(&module, context());
            if backend.recycled_instances() == before {
                // The first run failed somewhere: nothing was recycled.
                continue;
            }
            recycled[i] += 1;
            let in_recycled = observe_in(&mut *again, &module);
            let in_new = observe_in(&mut *backend.sandbox(context()), &module);
            assert_eq!(in_recycled, in_new, "{} seed {seed}", backend.kind());
        }
    }
    println!("recycling: {cases} seeds, instances recycled and compared: {recycled:?}");
    assert!(
        recycled.iter().all(|&n| u64::from(n) * 5 > cases),
        "too few modules were recycled to test much: {recycled:?} of {cases}"
    );
}
