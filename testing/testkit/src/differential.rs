//! Differential observation: a module run through Ward's metered path on
//! one backend, with everything a caller can see recorded (verdict, every
//! export's results or error kind, gas left, memory, globals), so two
//! backends can be compared. The differential test, the fuzz targets and
//! the recycling test share it.

use ward_vm::{
    Backend, CallContext, ErrorKind, ExternKind, ExternType, Gas, Module, Sandbox, Step, Value,
};

/// A wasm-smith configuration inside Ward's default policy.
pub fn smith_config() -> wasm_smith::Config {
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
pub enum Observed {
    /// Refused before any call, with why.
    Rejected(ErrorKind),
    /// Instantiated; every call observed, in export order.
    Ran(Vec<Call>),
}

/// One export call as observed.
#[derive(Debug, PartialEq, Eq)]
pub struct Call {
    /// The export (empty for the state right after instantiation).
    pub export: String,
    /// Its results, or the kind of failure.
    pub outcome: Result<Vec<Value>, ErrorKind>,
    /// Gas left after it.
    pub gas_left: Option<Gas>,
    /// A hash of the exported memory after it.
    pub memory: Option<u64>,
    /// Every exported global's value after the call.
    pub globals: Vec<Value>,
}

/// FNV-1a, to compare memories without keeping them.
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
    })
}

/// Compiles `wasm` through Ward's policy on `backend` and observes it in
/// a new sandbox.
pub fn observe(backend: &dyn Backend, config: &ward_vm::Config, wasm: &[u8]) -> Observed {
    observe_with_gas(backend, config, wasm, CALL_GAS)
}

/// Gas for each export call [`observe`] makes.
pub const CALL_GAS: u64 = 1_000_000;

/// [`observe`] with `gas` for each export call.
pub fn observe_with_gas(
    backend: &dyn Backend,
    config: &ward_vm::Config,
    wasm: &[u8],
    gas: u64,
) -> Observed {
    let module = match ward_vm::compile(backend, config, wasm) {
        Ok(module) => module,
        Err(failure) => return Observed::Rejected(failure.kind),
    };
    observe_in_with_gas(&mut *backend.sandbox(context()), &module, gas)
}

/// The context every observed call starts from.
pub fn context() -> CallContext {
    CallContext::new(Vec::new(), Gas::new(10_000_000))
}

/// Instantiates `module` in `sandbox` and calls every exported function in
/// turn, observing each call.
pub fn observe_in(sandbox: &mut dyn Sandbox, module: &Module) -> Observed {
    observe_in_with_gas(sandbox, module, CALL_GAS)
}

/// [`observe_in`] with `gas` for each export call.
pub fn observe_in_with_gas(sandbox: &mut dyn Sandbox, module: &Module, gas: u64) -> Observed {
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
            .filter_map(|&g| sandbox.global_get(g).ok())
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
        if func.kind != ExternKind::Func {
            continue;
        }
        let args: Vec<Value> = ty.params.iter().map(|t| Value::default_for(*t)).collect();
        if meter.arm(&mut *sandbox, Gas::new(gas), 0).is_err() {
            return Observed::Rejected(ErrorKind::HostError);
        }
        let outcome = match sandbox.call(func, &args) {
            Step::Returned(values) => Ok(values),
            Step::Failed(failure) => Err(meter.classify(&mut *sandbox, failure).kind),
            // Nothing here can suspend: a module with imports is refused.
            _ => Err(ErrorKind::HostError),
        };
        let gas_left = meter.gas_left(&mut *sandbox).ok().flatten();
        let memory = memory.and_then(|m| {
            let size = sandbox.memory_size(m).ok()?;
            let mut bytes = vec![0; usize::try_from(size).ok()?];
            sandbox.read_memory(m, 0, &mut bytes).ok()?;
            Some(fnv1a(&bytes))
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
