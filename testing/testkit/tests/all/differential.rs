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

/// The shape of a random child: the syscalls it may import, and the
/// exports (one of each runnable arity) it must have.
const CHILD_SHAPE: &str = r#"(module
  (import "env" "s0" (func (result i64)))
  (import "env" "s1" (func (param i64) (result i64)))
  (import "env" "s2" (func (param i64 i64)))
  (import "env" "s4" (func (param i64 i64 i64 i64) (result i64)))
  (func (export "run0") (result i64) unreachable)
  (func (export "run1") (param i64) (result i64) unreachable)
  (func (export "run2") (param i64 i64) unreachable)
  (func (export "run4") (param i64 i64 i64 i64) (result i64) unreachable)
  (memory (export "memory") 1 4))"#;

/// Everything a parent sees of one random child, run export by export
/// through `ward_vm::Children` (the host side of `vm_*`), every syscall
/// answered from its arguments, for at most 64 steps each.
fn child_log(kind: ward_vm::BackendKind, wasm: &[u8], seed: u64) -> Vec<String> {
    use ward_vm::{ChildLimits, ChildStep, Children, Config, child_config};
    let config = child_config(&Config::default());
    let mut c = Children::new(
        ward_testkit::backend(kind, &config),
        config,
        ChildLimits::default(),
    );
    let module = match c.compile(wasm) {
        Ok(m) => m,
        Err(e) => return vec![format!("compile: {e:?}")],
    };
    let mut log = Vec::new();
    let mut rng = Rng::new(seed | 1);
    for (export, arity) in [("run0", 0), ("run1", 1), ("run2", 2), ("run4", 4)] {
        let child = match c.instantiate(module) {
            Ok(child) => child,
            Err(e) => {
                log.push(format!("instantiate: {e:?}"));
                continue;
            }
        };
        let args: Vec<i64> = (0..arity).map(|_| rng.next() as i64).collect();
        let mut step = c.run(child, export, &args, 200_000, 0);
        for _ in 0..64 {
            log.push(format!("{export}: {step:?}"));
            let Ok(ChildStep::Syscall { index, args, .. }) = &step else {
                break;
            };
            let answer = args.iter().fold(i64::from(*index), |h, a| {
                h.wrapping_mul(31).wrapping_add(*a)
            });
            step = c.resume(child, answer);
        }
        let mut page = vec![0u8; 1024];
        let read = c.read_memory(child, 0, &mut page);
        log.push(format!(
            "{export} memory: {:?}",
            read.map(|()| ward_testkit::differential::fnv1a(&page))
        ));
        c.destroy(child)
            .unwrap_or_else(|e| panic!("destroy: {e:?}"));
    }
    log
}

/// The `vm_*` path: random children (wasm-smith, importing syscalls of
/// every arity and exporting one function of each runnable shape) run by
/// a parent on both backends, which must agree on every step: compile
/// verdicts, syscalls (index, arguments, gas left), results, failures,
/// memory.
#[test]
fn random_children_behave_identically_on_both_backends() {
    let cases: u64 = env_or("WARD_DIFF_CASES", 120);
    let first: u64 = env_or("WARD_DIFF_SEED", 1);
    let mut config = smith_config();
    config.available_imports = Some(wat::parse_str(CHILD_SHAPE).expect("shape"));
    config.exports = config.available_imports.clone();
    config.max_imports = 4;
    // The exported memory is the one a child may have.
    config.max_memories = 0;
    let (mut ran, mut syscalls) = (0, 0);
    for seed in first..first + cases {
        let bytes = seed_bytes(seed, 16 * 1024);
        let Ok(module) = wasm_smith::Module::new(config.clone(), &mut Unstructured::new(&bytes))
        else {
            continue;
        };
        let wasm = module.to_bytes();
        let logs: Vec<_> = ward_vm::BackendKind::ALL
            .iter()
            .map(|&k| child_log(k, &wasm, seed))
            .collect();
        assert_eq!(logs[0], logs[1], "backends disagree on child seed {seed}");
        if !logs[0][0].starts_with("compile") {
            ran += 1;
            syscalls += logs[0].iter().filter(|l| l.contains("Syscall")).count();
        }
    }
    println!("children: {cases} seeds, {ran} children ran, {syscalls} syscalls compared");
    assert!(
        ran * 2 > cases as usize,
        "most children should run: {ran} of {cases}"
    );
    assert!(syscalls > 0, "no child made a syscall");
}

/// One random write of [`writing_module`]'s `run`: a store, a bulk
/// operation or a host function writing into memory, at addresses that
/// often straddle a granule (4 KiB, or more in a large memory).
fn random_write(rng: &mut Rng, size: u32) -> String {
    // Near a granule's end about half the time.
    let at = |rng: &mut Rng, room: u32| {
        let granule = 1u32 << ward_instrument::dirty_shift(u64::from(size));
        let a = if rng.next().is_multiple_of(2) {
            let boundary = (rng.next() as u32 % (size / granule).max(1)) * granule;
            boundary.saturating_sub(rng.next() as u32 % 20)
        } else {
            rng.next() as u32 % size
        };
        a.min(size - room)
    };
    let len = |rng: &mut Rng| rng.next() as u32 % 300;
    match rng.next() % 9 {
        0 => format!(
            "(i64.store offset=3 (i32.const {}) (i64.const -1))",
            at(rng, 11)
        ),
        1 => format!(
            "(i32.store16 (i32.const {}) (i32.const 0x5a5a))",
            at(rng, 2)
        ),
        2 => format!("(i32.store8 (i32.const {}) (i32.const 7))", at(rng, 1)),
        3 => format!("(f64.store (i32.const {}) (f64.const 1.5))", at(rng, 8)),
        4 => {
            let n = len(rng);
            format!(
                "(memory.fill (i32.const {}) (i32.const 9) (i32.const {n}))",
                at(rng, n)
            )
        }
        5 => {
            let n = len(rng);
            let (d, s) = (at(rng, n), at(rng, n));
            format!("(memory.copy (i32.const {d}) (i32.const {s}) (i32.const {n}))")
        }
        6 => format!(
            "(call $input_read (i32.const {}) (i32.const 0) (i32.const 64))",
            at(rng, 64)
        ),
        7 => format!("(call $caller (i32.const {}))", at(rng, 32)),
        _ => {
            let (src, dst) = (at(rng, 100), at(rng, 32));
            format!("(call $keccak (i32.const {src}) (i32.const 100) (i32.const {dst}))")
        }
    }
}

/// A module whose `run` makes `writes` random writes ([`random_write`])
/// into a memory of `pages` pages that starts with data, in three
/// frames: its own, a callee's that returns, and a last callee's that
/// ends the call with `exit` (so no frame above it returns).
fn writing_module(rng: &mut Rng, pages: u32, writes: usize) -> String {
    let size = pages * 65_536;
    let mut body = |n: usize| -> String {
        (0..n)
            .map(|_| random_write(rng, size))
            .collect::<Vec<_>>()
            .join(" ")
    };
    let (first, middle, callee, last) = (
        body(writes / 3),
        body(writes / 3),
        body(writes / 6 + 1),
        body(writes / 6 + 1),
    );
    format!(
        r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "caller" (func $caller (param i32)))
  (import "ward" "hash_keccak256" (func $keccak (param i32 i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (memory (export "memory") {pages})
  (data (i32.const {}) "data in the image")
  (func $returns {callee})
  (func $exits {last} (call $exit (i32.const 0)))
  (func (export "run") {first} (call $returns) {middle} (call $exits)))"#,
        rng.next() as u32 % (size - 32),
    )
}

/// A recycled instance is restored from the granules marked written
/// alone: random stores, bulk operations and host functions' writes into
/// memories of every granule size, on both backends, with every tracked
/// restore checked against the full one byte for byte
/// (`ward_vm::recycle::check_restores`), and the recycled instance
/// observed as a new one.
#[test]
fn recycled_instances_restore_every_granule_stores_and_host_functions_wrote() {
    let cases: u64 = env_or("WARD_DIFF_CASES", 120);
    let first: u64 = env_or("WARD_DIFF_SEED", 1);
    ward_vm::recycle::check_restores(true);
    let backends = Backends::default();
    let mut recycled = [0u32; 2];
    for seed in first..first + cases {
        let mut rng = Rng::new(seed | 1);
        let pages = [1, 2, 3, 8, 40][rng.next() as usize % 5];
        let writes = 1 + rng.next() as usize % 40;
        let wat = writing_module(&mut rng, pages, writes);
        let wasm = wat::parse_str(&wat).expect("a valid module");
        let input: Vec<u8> = (0..64).map(|i| (seed as u8).wrapping_add(i)).collect();
        let context = || ward_vm::CallContext::new(input.clone(), ward_vm::Gas::new(10_000_000));
        for (i, backend) in backends.all.iter().enumerate() {
            let module = ward_vm::compile(&**backend, &backends.config, &wasm)
                .unwrap_or_else(|e| panic!("seed {seed}: {e:?}"));
            assert!(module.recyclable(), "seed {seed}");
            drop(backend.sandbox_for(&module, context()));
            let mut used = backend.sandbox_for(&module, context());
            let first_run = observe_in(&mut *used, &module);
            used.finish();
            let before = backend.recycled_instances();
            let mut again = backend.sandbox_for(&module, context());
            assert!(
                backend.recycled_instances() > before,
                "{} seed {seed}: not recycled after {first_run:?}",
                backend.kind()
            );
            recycled[i] += 1;
            let in_recycled = observe_in(&mut *again, &module);
            again.finish();
            let in_new = observe_in(&mut *backend.sandbox(context()), &module);
            assert_eq!(in_recycled, in_new, "{} seed {seed}", backend.kind());
            assert_eq!(in_new, first_run, "{} seed {seed}", backend.kind());
        }
        assert_eq!(
            ward_vm::recycle::missed_restores(),
            0,
            "seed {seed}: a tracked restore missed a write\n{wat}"
        );
    }
    println!("tracked restores: {cases} seeds, instances recycled and compared: {recycled:?}");
}
