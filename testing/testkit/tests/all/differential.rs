//! Differential testing: random modules (wasm-smith, restricted to Ward's
//! feature set) run through Ward's metered path on both backends, which must
//! agree on every compile verdict, instantiation, export call (status, error
//! kind, results), gas left and the final memory contents.
//!
//! `make test` runs a bounded number of seeds; set `WARD_DIFF_CASES` (and
//! optionally `WARD_DIFF_SEED`) for a longer run.

use arbitrary::Unstructured;
use ward_testkit::{
    Backends, Rng,
    differential::{Observed, context, observe, observe_in, smith_config},
    env_or,
};

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
