//! The module cache (memory and disk) and fresh-instance isolation, on both
//! backends.

use std::{
    path::PathBuf,
    sync::{Arc, Barrier, atomic::AtomicU32, atomic::Ordering},
};

use ward_testkit::{Rng, assert_agree, backend, env_or, wasm};
use ward_vm::{
    Backend, BackendKind, CacheOptions, CallContext, CodeHash, Config, Entry, ErrorKind, Execution,
    Gas, Module, ModuleCache, Reply, RunOptions, Status,
};

/// A fresh, empty directory under the system's temp dir.
fn temp_dir(name: &str) -> PathBuf {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("ward-test-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A module with gas-relevant work, output and a start function.
fn work_module() -> Vec<u8> {
    wasm(
        r#"(module
             (import "ward" "output_write" (func $out (param i32 i32)))
             (memory (export "memory") 1)
             (global $g (mut i32) (i32.const 0))
             (func $start (global.set $g (i32.const 5)))
             (start $start)
             (func (export "main") (local $i i32)
               (loop $l
                 (global.set $g (i32.add (global.get $g) (local.get $i)))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 100))))
               (i32.store (i32.const 0) (global.get $g))
               (call $out (i32.const 0) (i32.const 4))))"#,
    )
}

fn run_module(backend: &dyn Backend, module: &Module) -> Execution {
    let mut no_service = |_| Reply::Trap("no services".into());
    ward_vm::execute(
        backend,
        module,
        &Entry::Main("main".into()),
        RunOptions {
            gas_limit: Gas::new(100_000),
            ..RunOptions::default()
        },
        CallContext::default(),
        &mut no_service,
    )
    .expect("no node fault")
}

fn cache(kind: BackendKind, config: &Config, options: CacheOptions) -> ModuleCache {
    ModuleCache::new(backend(kind, config), config, options).unwrap()
}

fn disk_options(dir: &std::path::Path) -> CacheOptions {
    CacheOptions {
        disk_dir: Some(dir.to_path_buf()),
        ..CacheOptions::default()
    }
}

#[test]
fn hits_misses_and_disk_loads_give_identical_outcomes_and_gas() {
    let config = Config::default();
    let bytes = work_module();
    let mut per_backend = Vec::new();
    for kind in BackendKind::ALL {
        let dir = temp_dir("identical");
        let direct = {
            let b = backend(kind, &config);
            let module = ward_vm::compile(&*b, &config, &bytes).unwrap();
            run_module(&*b, &module)
        };
        assert_eq!(direct.outcome.status, Status::Ok, "{:?}", direct.outcome);
        let first = cache(kind, &config, disk_options(&dir));
        let miss = first.get_or_compile(&bytes).unwrap();
        let hit = first.get_or_compile(&bytes).unwrap();
        let stats = first.stats();
        assert_eq!((stats.compiles, stats.memory_hits), (1, 1));
        // A new process (a new cache over the same directory).
        let second = cache(kind, &config, disk_options(&dir));
        let loaded = second.get_or_compile(&bytes).unwrap();
        let stats = second.stats();
        match kind {
            // wasmtime's machine code comes back from disk...
            BackendKind::Wasmtime => assert_eq!((stats.disk_hits, stats.compiles), (1, 0)),
            // ...wasmi has no artifact to store and compiles again.
            BackendKind::Wasmi => assert_eq!((stats.disk_hits, stats.compiles), (0, 1)),
        }
        let runs = [
            run_module(&**first.backend(), &miss),
            run_module(&**first.backend(), &hit),
            run_module(&**second.backend(), &loaded),
        ];
        for run in &runs {
            assert_eq!(run.outcome, direct.outcome);
        }
        per_backend.push(direct);
    }
    assert_agree(&per_backend);
}

/// A read-only disk cache (a read-only command on a data directory) loads
/// what a writable one stored, and writes nothing: not a missing
/// directory, not what it compiles, not a deletion of a file that does
/// not check.
#[test]
fn a_read_only_disk_cache_loads_and_never_writes() {
    let config = Config::default();
    let kind = BackendKind::Wasmtime;
    let read_only = |dir: &std::path::Path| CacheOptions {
        disk_read_only: true,
        ..disk_options(dir)
    };
    let files = |dir: &std::path::Path| -> Vec<_> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|f| f.unwrap().file_name())
            .collect();
        names.sort();
        names
    };
    let bytes = work_module();
    let direct = {
        let b = backend(kind, &config);
        run_module(&*b, &ward_vm::compile(&*b, &config, &bytes).unwrap())
    };

    // A missing directory stays missing; the module is compiled in memory.
    let root = temp_dir("read-only");
    let missing = root.join("cache");
    let reader = cache(kind, &config, read_only(&missing));
    let module = reader.get_or_compile(&bytes).unwrap();
    assert_eq!(
        run_module(&**reader.backend(), &module).outcome,
        direct.outcome
    );
    assert_eq!(reader.stats().compiles, 1);
    assert!(!missing.exists());

    // What a writable cache stored, a read-only one loads, adding nothing.
    let writer = cache(kind, &config, disk_options(&missing));
    writer.get_or_compile(&bytes).unwrap();
    let stored = files(&missing);
    assert_eq!(stored.len(), 1, "{stored:?}");
    let reader = cache(kind, &config, read_only(&missing));
    let loaded = reader.get_or_compile(&bytes).unwrap();
    assert_eq!((reader.stats().disk_hits, reader.stats().compiles), (1, 0));
    assert_eq!(
        run_module(&**reader.backend(), &loaded).outcome,
        direct.outcome
    );
    let other = wasm(r#"(module (func (export "main")))"#);
    reader.get_or_compile(&other).unwrap();
    assert_eq!(files(&missing), stored, "a compile was written");

    // A damaged file is refused and compiled around, and left in place.
    let path = missing.join(&stored[0]);
    let mut damaged = std::fs::read(&path).unwrap();
    let last = damaged.len() - 1;
    damaged[last] ^= 1;
    std::fs::write(&path, &damaged).unwrap();
    let reader = cache(kind, &config, read_only(&missing));
    let module = reader.get_or_compile(&bytes).unwrap();
    assert_eq!(
        (reader.stats().disk_rejects, reader.stats().compiles),
        (1, 1)
    );
    assert_eq!(
        run_module(&**reader.backend(), &module).outcome,
        direct.outcome
    );
    assert_eq!(std::fs::read(&path).unwrap(), damaged);
    // Importing needs a directory it may write.
    let artifact = writer.artifact(&bytes).unwrap();
    assert!(reader.import(&artifact).is_err());
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn concurrent_compiles_of_one_module_compile_once() {
    let config = Config::default();
    for kind in BackendKind::ALL {
        let cache = Arc::new(cache(kind, &config, CacheOptions::default()));
        let bytes = Arc::new(work_module());
        let threads = 8;
        let barrier = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let (cache, bytes, barrier) = (cache.clone(), bytes.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    cache.get_or_compile(&bytes).map(|m| m.footprint())
                })
            })
            .collect();
        for h in handles {
            assert!(h.join().unwrap().is_ok());
        }
        let stats = cache.stats();
        assert_eq!(stats.compiles, 1, "{kind}");
        assert_eq!(stats.memory_hits, threads as u64 - 1, "{kind}");
    }
}

#[test]
fn rejections_are_cached_and_identical() {
    let config = Config::default();
    let bad = wasm(r#"(module (import "env" "f" (func)) (func (export "main")))"#);
    for kind in BackendKind::ALL {
        let cache = cache(kind, &config, CacheOptions::default());
        let first = cache.get_or_compile(&bad).unwrap_err();
        let second = cache.get_or_compile(&bad).unwrap_err();
        assert_eq!(first, second);
        assert_eq!(first.kind, ErrorKind::UnknownImport);
        assert_eq!(cache.stats().compiles, 1);
        // Lookup answers the rejection too.
        match cache.lookup(&CodeHash::of(&bad)) {
            Some(Err(failure)) => assert_eq!(failure, first),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn lookup_answers_by_code_hash_without_the_bytes() {
    let config = Config::default();
    let bytes = work_module();
    let code = CodeHash::of(&bytes);
    let dir = temp_dir("lookup");
    let cache_a = cache(BackendKind::Wasmtime, &config, disk_options(&dir));
    assert!(cache_a.lookup(&code).is_none());
    let (id, _) = cache_a.compile_with_id(&bytes, Some(code)).unwrap();
    assert_eq!(id, code);
    assert!(matches!(cache_a.lookup(&code), Some(Ok(_))));
    // From disk, in a cache that never saw the bytes.
    let cache_b = cache(BackendKind::Wasmtime, &config, disk_options(&dir));
    let module = cache_b.lookup(&code).unwrap().unwrap();
    assert_eq!(
        run_module(&**cache_b.backend(), &module).outcome.status,
        Status::Ok
    );
    // An identifier that is not the code's hash is refused.
    let wrong = CodeHash([7; 32]);
    let err = cache_b.compile_with_id(&bytes, Some(wrong)).unwrap_err();
    assert_eq!(err.kind, ErrorKind::HostError);
    assert!(cache_b.lookup(&wrong).is_none());
}

#[test]
fn keys_separate_configs_and_schedules_sharing_a_directory() {
    let dir = temp_dir("keys");
    let bytes = work_module();
    let config_a = Config::default();
    let mut config_b = Config::default();
    config_b.policy.schedule.host_call += 1;
    let a = cache(BackendKind::Wasmtime, &config_a, disk_options(&dir));
    let b = cache(BackendKind::Wasmtime, &config_b, disk_options(&dir));
    assert_ne!(a.key(CodeHash::of(&bytes)), b.key(CodeHash::of(&bytes)));
    a.get_or_compile(&bytes).unwrap();
    b.get_or_compile(&bytes).unwrap();
    // b compiled its own rather than reusing a's artifact.
    assert_eq!((b.stats().disk_hits, b.stats().compiles), (0, 1));
    // Each finds its own again.
    let a2 = cache(BackendKind::Wasmtime, &config_a, disk_options(&dir));
    let b2 = cache(BackendKind::Wasmtime, &config_b, disk_options(&dir));
    a2.get_or_compile(&bytes).unwrap();
    b2.get_or_compile(&bytes).unwrap();
    assert_eq!((a2.stats().disk_hits, b2.stats().disk_hits), (1, 1));
}

#[test]
fn memory_is_bounded_least_recently_used_first_and_pins_stay() {
    let config = Config::default();
    let modules: Vec<Vec<u8>> = (0..6)
        .map(|i| {
            wasm(&format!(
                r#"(module (memory (export "memory") 1) (func (export "main") (drop (i32.const {i}))))"#
            ))
        })
        .collect();
    let probe = cache(BackendKind::Wasmtime, &config, CacheOptions::default());
    let one = probe.get_or_compile(&modules[0]).unwrap().footprint();
    // Room for about three modules.
    let options = CacheOptions {
        memory_bytes: one * 3 + one / 2,
        ..CacheOptions::default()
    };
    let cache = cache(BackendKind::Wasmtime, &config, options);
    cache.get_or_compile(&modules[0]).unwrap();
    assert!(cache.pin(&CodeHash::of(&modules[0])));
    for m in &modules[1..] {
        cache.get_or_compile(m).unwrap();
    }
    let stats = cache.stats();
    assert!(stats.evictions >= 2, "{stats:?}");
    assert!(stats.bytes <= one * 3 + one / 2, "{stats:?}");
    // The pinned one survived; the oldest unpinned one did not.
    assert!(cache.lookup(&CodeHash::of(&modules[0])).is_some());
    assert!(cache.lookup(&CodeHash::of(&modules[1])).is_none());
    assert!(cache.lookup(&CodeHash::of(&modules[5])).is_some());
}

fn only_artifact(dir: &std::path::Path) -> PathBuf {
    let files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "wmod"))
        .collect();
    assert_eq!(files.len(), 1, "{files:?}");
    files.into_iter().next().unwrap()
}

/// Every kind of damaged or foreign artifact is detected, deleted,
/// recompiled and rewritten; the outcome never changes.
#[test]
fn corrupted_and_foreign_disk_artifacts_are_recompiled() {
    let config = Config::default();
    let bytes = work_module();
    let dir = temp_dir("corrupt");
    let seed_cache = cache(BackendKind::Wasmtime, &config, disk_options(&dir));
    let module = seed_cache.get_or_compile(&bytes).unwrap();
    let expected = run_module(&**seed_cache.backend(), &module).outcome;
    let path = only_artifact(&dir);
    let good = std::fs::read(&path).unwrap();
    // An artifact of another module, for swaps.
    let other_dir = temp_dir("corrupt-other");
    let other = cache(BackendKind::Wasmtime, &config, disk_options(&other_dir));
    other
        .get_or_compile(&wasm(
            r#"(module (memory (export "memory") 1) (func (export "main")))"#,
        ))
        .unwrap();
    let foreign = std::fs::read(only_artifact(&other_dir)).unwrap();

    let seed: u64 = env_or("WARD_CORRUPT_SEED", 0x5eed_cafe);
    let mut rng = Rng::new(seed | 1);
    let cases = 60;
    for case in 0..cases {
        let mut damaged = good.clone();
        let how = case % 6;
        match how {
            // One flipped bit anywhere.
            0 => {
                let at = rng.below(damaged.len());
                damaged[at] ^= 1 << rng.below(8);
            }
            // Truncated anywhere.
            1 => damaged.truncate(rng.below(damaged.len())),
            // Garbage appended.
            2 => damaged.extend((0..1 + rng.below(64)).map(|_| rng.next() as u8)),
            // Another key's artifact under this name.
            3 => damaged = foreign.clone(),
            // Another format version.
            4 => damaged[8] = damaged[8].wrapping_add(1),
            // A run of random bytes over the artifact.
            _ => {
                let at = rng.below(damaged.len());
                let end = (at + 1 + rng.below(256)).min(damaged.len());
                for b in &mut damaged[at..end] {
                    *b = rng.next() as u8;
                }
                if damaged == good {
                    damaged[at] ^= 0xff;
                }
            }
        }
        std::fs::write(&path, &damaged).unwrap();
        let fresh = cache(BackendKind::Wasmtime, &config, disk_options(&dir));
        let module = fresh.get_or_compile(&bytes).unwrap();
        let stats = fresh.stats();
        assert_eq!(
            (stats.disk_rejects, stats.disk_hits, stats.compiles),
            (1, 0, 1),
            "case {case} (kind {how}, seed {seed})"
        );
        assert_eq!(run_module(&**fresh.backend(), &module).outcome, expected);
        // Rewritten whole: the next process loads it.
        let next = cache(BackendKind::Wasmtime, &config, disk_options(&dir));
        next.get_or_compile(&bytes).unwrap();
        assert_eq!(next.stats().disk_hits, 1, "case {case}");
    }
}

/// Every call runs in a fresh instance: memory, globals and tables written
/// by one call are never seen by the next, nor by another module that
/// reuses the pool slot.
#[test]
fn no_state_leaks_between_calls_or_modules_sharing_a_slot() {
    let writer = wasm(
        r#"(module
             (import "ward" "output_write" (func $out (param i32 i32)))
             (memory (export "memory") 2)
             (data (i32.const 0) "initial image...")
             (global $g (mut i64) (i64.const 11))
             (table 2 funcref)
             (func $f)
             (elem (i32.const 0) $f)
             (func (export "main")
               ;; report what this instance starts with
               (i64.store (i32.const 100) (i64.load (i32.const 0)))
               (i64.store (i32.const 108) (i64.load (i32.const 8)))
               (i64.store (i32.const 116) (global.get $g))
               (i32.store (i32.const 124) (ref.is_null (table.get (i32.const 0))))
               (i32.store (i32.const 128) (ref.is_null (table.get (i32.const 1))))
               (i64.store (i32.const 132) (i64.load (i32.const 70000)))
               (call $out (i32.const 100) (i32.const 40))
               ;; then leave secrets everywhere
               (i64.store (i32.const 0) (i64.const 0x5ec7e75ec7e75ec7))
               (i64.store (i32.const 70000) (i64.const 0x5ec7e75ec7e75ec7))
               (drop (memory.grow (i32.const 1)))
               (i64.store (i32.const 140000) (i64.const 0x5ec7e75ec7e75ec7))
               (global.set $g (i64.const 0x5ec7e7))
               (table.set (i32.const 0) (ref.null func))
               (table.set (i32.const 1) (ref.func $f))))"#,
    );
    let reader = wasm(
        r#"(module
             (import "ward" "output_write" (func $out (param i32 i32)))
             (memory (export "memory") 3)
             (table 2 funcref)
             (func (export "main")
               (i64.store (i32.const 200) (i64.load (i32.const 0)))
               (i64.store (i32.const 208) (i64.load (i32.const 70000)))
               (i64.store (i32.const 216) (i64.load (i32.const 140000)))
               (i32.store (i32.const 224) (ref.is_null (table.get (i32.const 1))))
               (call $out (i32.const 200) (i32.const 28))))"#,
    );
    let mut expected_writer = b"initial image...".to_vec();
    expected_writer.extend(11i64.to_le_bytes());
    expected_writer.extend(0i32.to_le_bytes());
    expected_writer.extend(1i32.to_le_bytes());
    expected_writer.extend(0i64.to_le_bytes());
    let mut expected_reader = vec![0u8; 24];
    expected_reader.extend(1i32.to_le_bytes());

    let config = Config::default();
    let mut outputs = Vec::new();
    for kind in BackendKind::ALL {
        let cache = cache(kind, &config, CacheOptions::default());
        let w = cache.get_or_compile(&writer).unwrap();
        let r = cache.get_or_compile(&reader).unwrap();
        let b = cache.backend().clone();
        for round in 0..20 {
            let run = run_module(&*b, &w);
            assert_eq!(run.outcome.status, Status::Ok, "{kind} {:?}", run.outcome);
            assert_eq!(run.outcome.output, expected_writer, "{kind} round {round}");
            let run = run_module(&*b, &r);
            assert_eq!(run.outcome.output, expected_reader, "{kind} round {round}");
            outputs.push(run);
        }
    }
    assert_agree(&outputs);
}

/// How a call of [`recyclable_module`] ends, by its input byte.
const RETURN: u8 = 0;
const EXIT: u8 = 1;
const TRAP: u8 = 2;
const GROW: u8 = 3;

/// Reports the state it starts with (memory with data and without, a
/// mutable global of every kind, exported or not, the memory's size), then
/// overwrites all of it and ends as its input says.
fn recyclable_module() -> Vec<u8> {
    wasm(
        r#"(module
             (import "ward" "input_read" (func $in (param i32 i32 i32)))
             (import "ward" "output_write" (func $out (param i32 i32)))
             (import "ward" "exit" (func $exit (param i32)))
             (memory (export "memory") 2 4)
             (data (i32.const 0) "initial image...")
             (global $hidden (mut i32) (i32.const 7))
             (global $shown (export "shown") (mut i64) (i64.const 11))
             (global $float (mut f64) (f64.const 1.5))
             (global $ref (mut funcref) (ref.func $f))
             (func $f)
             (func (export "main")
               (i64.store (i32.const 100) (i64.load (i32.const 0)))
               (i64.store (i32.const 108) (i64.load (i32.const 8)))
               (i32.store (i32.const 116) (global.get $hidden))
               (i64.store (i32.const 120) (global.get $shown))
               (f64.store (i32.const 128) (global.get $float))
               (i32.store (i32.const 136) (ref.is_null (global.get $ref)))
               (i64.store (i32.const 140) (i64.load (i32.const 70000)))
               (i32.store (i32.const 148) (memory.size))
               (call $out (i32.const 100) (i32.const 52))
               (i64.store (i32.const 0) (i64.const 0x5ec7e75ec7e75ec7))
               (i64.store (i32.const 70000) (i64.const 0x5ec7e75ec7e75ec7))
               (global.set $hidden (i32.const 0x5ec7))
               (global.set $shown (i64.const 0x5ec7e7))
               (global.set $float (f64.const -2.5))
               (global.set $ref (ref.null func))
               (call $in (i32.const 300) (i32.const 0) (i32.const 1))
               (if (i32.eq (i32.load8_u (i32.const 300)) (i32.const 1))
                 (then (call $exit (i32.const 3))))
               (if (i32.eq (i32.load8_u (i32.const 300)) (i32.const 2))
                 (then unreachable))
               (if (i32.eq (i32.load8_u (i32.const 300)) (i32.const 3))
                 (then (drop (memory.grow (i32.const 1)))))))"#,
    )
}

/// Instances a backend recycles start exactly as new ones: a call never
/// sees what the previous call of the module left in memory or in any
/// mutable global, however it ended (returned, exited, trapped, grew its
/// memory). Recycling happens only after calls that returned or exited
/// without growing memory, and then every time.
#[test]
fn recycled_instances_start_as_new_ones() {
    let bytes = recyclable_module();
    let mut initial = b"initial image...".to_vec();
    initial.extend(7i32.to_le_bytes());
    initial.extend(11i64.to_le_bytes());
    initial.extend(1.5f64.to_le_bytes());
    initial.extend(0i32.to_le_bytes());
    initial.extend(0i64.to_le_bytes());
    initial.extend(2i32.to_le_bytes());
    let endings = [
        RETURN, RETURN, EXIT, RETURN, TRAP, RETURN, GROW, RETURN, EXIT, EXIT, TRAP, TRAP, RETURN,
        GROW, GROW, RETURN,
    ];
    let config = Config::default();
    let mut runs: Vec<Vec<Execution>> = Vec::new();
    for kind in BackendKind::ALL {
        let mut these = Vec::new();
        let cache = cache(kind, &config, CacheOptions::default());
        let module = cache.get_or_compile(&bytes).unwrap();
        assert!(module.recyclable(), "{kind}");
        let b = cache.backend().clone();
        let before = b.recycled_instances();
        let mut expected_recycled = 0;
        for (i, &ending) in endings.iter().enumerate() {
            let run = ward_vm::execute(
                &*b,
                &module,
                &Entry::Main("main".into()),
                RunOptions {
                    input: vec![ending],
                    gas_limit: Gas::new(100_000),
                    ..RunOptions::default()
                },
                CallContext::default(),
                &mut |_| Reply::Trap("no services".into()),
            )
            .expect("no node fault");
            let status = match ending {
                TRAP => Status::Trapped,
                EXIT => Status::Reverted,
                _ => Status::Ok,
            };
            assert_eq!(
                run.outcome.status, status,
                "{kind} call {i}: {:?}",
                run.outcome
            );
            if ending != TRAP {
                assert_eq!(run.outcome.output, initial, "{kind} call {i}");
            }
            // The first call recycles nothing (a module run once pays
            // nothing for recycling); from the second on, every call after
            // one that returned or exited runs in a recycled instance.
            if i > 1 && matches!(endings[i - 1], RETURN | EXIT) {
                expected_recycled += 1;
            }
            these.push(run);
        }
        runs.push(these);
        let recycled = b.recycled_instances() - before;
        assert_eq!(recycled, expected_recycled, "{kind}");
    }
    for (wasmtime, wasmi) in runs[0].iter().zip(&runs[1]) {
        assert_agree(&[wasmtime.clone(), wasmi.clone()]);
    }
}

/// Modules whose state a restore could not undo are never recycled: a
/// start function, a table write, a segment drop, a memory not exported
/// as `memory`.
#[test]
fn modules_that_cannot_be_restored_are_not_recyclable() {
    let cases = [
        r#"(module (memory (export "memory") 1) (func $s) (start $s) (func (export "main")))"#,
        r#"(module (memory (export "memory") 1) (table 1 funcref)
             (func (export "main") (table.set (i32.const 0) (ref.null func))))"#,
        r#"(module (memory (export "memory") 1) (data "x")
             (func (export "main") (data.drop 0)))"#,
        r#"(module (memory 1) (func (export "main")))"#,
        r#"(module (memory (export "mem") 1) (func (export "main")))"#,
    ];
    let config = Config::default();
    for kind in BackendKind::ALL {
        let b = backend(kind, &config);
        for case in cases {
            let module = ward_vm::compile(&*b, &config, &wasm(case)).unwrap();
            assert!(!module.recyclable(), "{kind}: {case}");
        }
        let plain = r#"(module (memory (export "memory") 1) (func (export "main")))"#;
        let module = ward_vm::compile(&*b, &config, &wasm(plain)).unwrap();
        assert!(module.recyclable(), "{kind}");
    }
}

/// A module compiled by one backend, run through another (another engine,
/// maybe another configuration), is refused as a typed failure and never
/// gets a recycled instance from the first backend's pool.
#[test]
fn recycled_instances_stay_with_their_backend() {
    let config = Config::default();
    let bytes = wasm(r#"(module (memory (export "memory") 1) (func (export "main")))"#);
    for kind in BackendKind::ALL {
        let (one, other) = (backend(kind, &config), backend(kind, &config));
        let module = ward_vm::compile(&*one, &config, &bytes).unwrap();
        // The first call recycles nothing; the second's instance is kept
        // and the third and fourth run in it.
        for _ in 0..4 {
            assert_eq!(run_module(&*one, &module).outcome.status, Status::Ok);
        }
        assert_eq!(one.recycled_instances(), 2, "{kind}");
        // Refused as the other engine's module (wasmi used to panic).
        let run = run_module(&*other, &module);
        let kind_of = run.outcome.error.as_ref().map(|e| e.kind);
        assert_eq!(
            kind_of,
            Some(ErrorKind::HostError),
            "{kind}: {:?}",
            run.outcome
        );
        assert_eq!(other.recycled_instances(), 0, "{kind}");
        assert_eq!(one.recycled_instances(), 2, "{kind}");
    }
}

/// `ward compile`'s file: an artifact made by one cache, imported by
/// another of the same config and engine (explicitly, or dropped into its
/// directory as `*.cwasm`), loads with no compile and runs as the module
/// does; one made for another config, or damaged, is refused; wasmi has
/// nothing to write.
#[test]
fn an_artifact_imported_loads_without_a_compile() {
    let config = Config::default();
    let bytes = work_module();
    let maker = cache(BackendKind::Wasmtime, &config, CacheOptions::default());
    let file = maker.artifact(&bytes).unwrap();
    let expected = {
        let module = maker.get_or_compile(&bytes).unwrap();
        run_module(&**maker.backend(), &module)
    };

    let dir = temp_dir("import");
    let importer = cache(BackendKind::Wasmtime, &config, disk_options(&dir));
    assert_eq!(importer.import(&file), Ok(CodeHash::of(&bytes)));
    let module = importer.get_or_compile(&bytes).unwrap();
    let stats = importer.stats();
    assert_eq!((stats.compiles, stats.disk_hits), (0, 1));
    assert_eq!(
        run_module(&**importer.backend(), &module).outcome,
        expected.outcome
    );

    // Dropped into a directory: imported when a cache opens on it, and
    // the dropped file is gone.
    let dropped = temp_dir("dropped");
    std::fs::write(dropped.join("work.cwasm"), &file).unwrap();
    let opened = cache(BackendKind::Wasmtime, &config, disk_options(&dropped));
    assert!(!dropped.join("work.cwasm").exists());
    opened.get_or_compile(&bytes).unwrap();
    assert_eq!(opened.stats().compiles, 0);

    // Another config's cache refuses it; so does any damage.
    let mut other = Config::default();
    other.policy.limits.max_memory_pages = 2;
    let elsewhere = cache(
        BackendKind::Wasmtime,
        &other,
        disk_options(&temp_dir("other")),
    );
    let refused = elsewhere.import(&file).unwrap_err();
    assert!(refused.contains("another config"), "{refused}");
    for at in [0, 20, file.len() / 2, file.len() - 1] {
        let mut damaged = file.clone();
        damaged[at] ^= 1;
        assert!(importer.import(&damaged).is_err(), "a flip at {at}");
    }
    assert!(
        importer.import(&file[..file.len() - 1]).is_err(),
        "truncated"
    );
    // A cache without a directory has nowhere to put it.
    assert!(maker.import(&file).is_err());
    // wasmi translates at load: it has no artifact to write.
    let wasmi = cache(BackendKind::Wasmi, &config, CacheOptions::default());
    let failure = wasmi.artifact(&bytes).unwrap_err();
    assert_eq!(failure.kind, ErrorKind::HostError, "{failure}");
}
