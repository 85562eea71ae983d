//! The engine core on both backends: outcomes, the host ABI, limits and
//! hostile input (suspension is `suspend.rs`'s). Every case runs on
//! wasmtime and wasmi and the two must agree.

use std::time::Duration;

use ward_testkit::{Backends, assert_agree, run, run_both, wasm};
use ward_vm::{
    BackendKind, CallContext, Config, Entry, ErrorKind, Gas, Limits, Reply, RunOptions, Status,
    Value,
};

/// The host functions every module of these tests imports.
pub(crate) const ABI: &str = r#"
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $output_write (param i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (import "ward" "gas_left" (func $gas_left (result i64)))
  (import "ward" "debug_log" (func $debug_log (param i32 i32)))
"#;

fn module(body: &str) -> Vec<u8> {
    wasm(&format!(
        "(module {ABI} (memory (export \"memory\") 1) {body})"
    ))
}

/// Expected status, exit code, output and error kind.
fn expect(
    wasm: &[u8],
    input: &[u8],
    status: Status,
    exit_code: i32,
    output: &[u8],
    kind: Option<ErrorKind>,
) {
    let run = run_both(&Backends::default(), wasm, input);
    let outcome = &run.outcome;
    assert_eq!(
        (
            outcome.status,
            outcome.exit_code,
            outcome.output.as_slice(),
            outcome.error.as_ref().map(|e| e.kind)
        ),
        (status, exit_code, output, kind),
        "{outcome:#?}"
    );
}

fn trapped(wasm: &[u8], kind: ErrorKind) {
    expect(wasm, b"", Status::Trapped, 0, b"", Some(kind));
}

fn rejected(wasm: &[u8], kind: ErrorKind) {
    expect(wasm, b"", Status::Rejected, 0, b"", Some(kind));
}

#[test]
fn echo_copies_input_to_output() {
    let echo = module(
        r#"(func (export "main")
             (call $input_read (i32.const 0) (i32.const 0) (call $input_size))
             (call $output_write (i32.const 0) (call $input_size)))"#,
    );
    expect(&echo, b"ward", Status::Ok, 0, b"ward", None);
    expect(&echo, b"", Status::Ok, 0, b"", None);
}

#[test]
fn entry_shapes_give_exit_codes() {
    let unit = module(r#"(func (export "main"))"#);
    expect(&unit, b"", Status::Ok, 0, b"", None);
    let code = module(r#"(func (export "main") (result i32) (i32.const 7))"#);
    expect(&code, b"", Status::Reverted, 7, b"", None);
    let zero = module(r#"(func (export "main") (result i32) (i32.const 0))"#);
    expect(&zero, b"", Status::Ok, 0, b"", None);
    let argc = module(
        r#"(func (export "main") (param i32 i32) (result i32)
             (i32.add (local.get 0) (local.get 1)))"#,
    );
    // Called with (0, 0).
    expect(&argc, b"", Status::Ok, 0, b"", None);
    let bad = module(r#"(func (export "main") (param i64))"#);
    rejected(&bad, ErrorKind::BadEntrySignature);
    let missing = module(r#"(func (export "start"))"#);
    rejected(&missing, ErrorKind::EntryNotFound);
    let not_a_func = wasm(r#"(module (memory (export "main") 1))"#);
    rejected(&not_a_func, ErrorKind::EntryNotFound);
}

#[test]
fn exit_keeps_output_and_revert_keeps_output() {
    let exit_ok = module(
        r#"(data (i32.const 0) "done")
           (func (export "main") (call $output_write (i32.const 0) (i32.const 4))
             (call $exit (i32.const 0)) unreachable)"#,
    );
    expect(&exit_ok, b"", Status::Ok, 0, b"done", None);
    let exit_revert = module(
        r#"(data (i32.const 0) "why")
           (func (export "main") (call $output_write (i32.const 0) (i32.const 3))
             (call $exit (i32.const 42)) unreachable)"#,
    );
    expect(&exit_revert, b"", Status::Reverted, 42, b"why", None);
    let return_revert = module(
        r#"(data (i32.const 0) "no")
           (func (export "main") (result i32) (call $output_write (i32.const 0) (i32.const 2))
             (i32.const -1))"#,
    );
    expect(&return_revert, b"", Status::Reverted, -1, b"no", None);
}

#[test]
fn output_before_a_trap_is_discarded() {
    let m = module(
        r#"(data (i32.const 0) "secret")
           (func (export "main") (call $output_write (i32.const 0) (i32.const 6)) unreachable)"#,
    );
    trapped(&m, ErrorKind::Unreachable);
}

#[test]
fn every_guest_trap_has_its_kind() {
    let cases: &[(&str, ErrorKind)] = &[
        ("(func (export \"main\") unreachable)", ErrorKind::Unreachable),
        (
            "(func (export \"main\") (drop (i32.load (i32.const 65535))))",
            ErrorKind::MemoryOutOfBounds,
        ),
        (
            "(func (export \"main\") (drop (i32.div_s (i32.const 1) (i32.const 0))))",
            ErrorKind::IntegerDivideByZero,
        ),
        (
            "(func (export \"main\") (drop (i32.div_s (i32.const 0x80000000) (i32.const -1))))",
            ErrorKind::IntegerOverflow,
        ),
        (
            "(func (export \"main\") (drop (i32.trunc_f32_s (f32.const nan))))",
            ErrorKind::BadConversionToInteger,
        ),
        (
            "(type $t (func (param i32))) (table 1 funcref) (elem (i32.const 0) $f)
             (func $f) (func (export \"main\") (call_indirect (type $t) (i32.const 1) (i32.const 0)))",
            ErrorKind::IndirectCallTypeMismatch,
        ),
        (
            "(table 1 funcref) (func (export \"main\") (call_indirect (i32.const 0)))",
            ErrorKind::IndirectCallToNull,
        ),
        (
            "(table 1 funcref) (func (export \"main\") (call_indirect (i32.const 5)))",
            ErrorKind::TableOutOfBounds,
        ),
        (
            "(func $f (call $f)) (func (export \"main\") (call $f))",
            ErrorKind::StackOverflow,
        ),
    ];
    for (body, kind) in cases {
        trapped(&module(body), *kind);
    }
}

#[test]
fn host_functions_check_every_pointer() {
    let cases = [
        // Source past the end of memory.
        "(func (export \"main\") (call $output_write (i32.const 65530) (i32.const 7)))",
        // ptr + len wraps around 2^32.
        "(func (export \"main\") (call $output_write (i32.const -1) (i32.const 2)))",
        // Negative length, read as 4 GiB - 1.
        "(func (export \"main\") (call $output_write (i32.const 0) (i32.const -1)))",
        // Input range past the input.
        "(func (export \"main\") (call $input_read (i32.const 0) (i32.const 1) (i32.const 4)))",
        // Destination past the end of memory.
        "(func (export \"main\") (call $input_read (i32.const 65535) (i32.const 0) (i32.const 4)))",
        // Log source out of bounds.
        "(func (export \"main\") (call $debug_log (i32.const 70000) (i32.const 1)))",
    ];
    for body in cases {
        let run = run_both(&Backends::default(), &module(body), b"abcd");
        assert_eq!(run.outcome.status, Status::Trapped, "{body}");
        assert_eq!(
            run.outcome.error.map(|e| e.kind),
            Some(ErrorKind::MemoryOutOfBounds),
            "{body}"
        );
    }
}

#[test]
fn host_functions_without_an_exported_memory_trap_on_any_access() {
    let m = wasm(&format!(
        "(module {ABI} (func (export \"main\") (call $output_write (i32.const 0) (i32.const 1))))"
    ));
    trapped(&m, ErrorKind::MemoryOutOfBounds);
    let empty = wasm(&format!(
        "(module {ABI} (func (export \"main\") (call $output_write (i32.const 0) (i32.const 0))))"
    ));
    expect(&empty, b"", Status::Ok, 0, b"", None);
}

#[test]
fn gas_left_reports_the_limit() {
    let m = module(
        r#"(func (export "main")
             (i64.store (i32.const 0) (call $gas_left))
             (call $output_write (i32.const 0) (i32.const 8)))"#,
    );
    let backends = Backends::default();
    let runs = backends.run(
        &m,
        &Entry::Main("main".into()),
        &RunOptions {
            gas_limit: ward_vm::Gas::new(123_456),
            ..RunOptions::default()
        },
    );
    assert_agree(&runs);
    // Golden: the instance is paid first (schedule v6); then the body is
    // one segment, paid on entry (schedule v1): 13 gas for its
    // instructions plus the fixed cost (50) of each of its two host calls,
    // prepaid: 123 456 - instance - 113. (`output_write` adds its bytes
    // later.)
    let instance = ward_vm::inspect(&m, &ward_vm::Policy::default())
        .unwrap()
        .instance
        .0;
    assert_eq!(runs[0].outcome.output, (123_343 - instance).to_le_bytes());
}

#[test]
fn debug_log_is_collected_when_enabled_and_changes_nothing_else() {
    let m = module(
        r#"(data (i32.const 0) "hello")
           (func (export "main") (call $debug_log (i32.const 0) (i32.const 5))
             (call $output_write (i32.const 0) (i32.const 5)))"#,
    );
    let backends = Backends::default();
    for debug_log in [false, true] {
        let runs = backends.run(
            &m,
            &Entry::Main("main".into()),
            &RunOptions {
                debug_log,
                ..RunOptions::default()
            },
        );
        assert_agree(&runs);
        assert_eq!(runs[0].outcome.output, b"hello");
        let expected: Vec<String> = if debug_log {
            vec!["hello".into()]
        } else {
            Vec::new()
        };
        for r in &runs {
            assert_eq!(r.debug_log, expected);
        }
    }
}

#[test]
fn import_resolution_is_typed() {
    let mismatch = ErrorKind::ImportSignatureMismatch;
    let unknown = ErrorKind::UnknownImport;
    for (kind, import) in [
        (unknown, r#"(import "ward" "no_such_fn" (func))"#),
        (unknown, r#"(import "env" "f" (func))"#),
        (
            mismatch,
            r#"(import "ward" "input_size" (func (result i64)))"#,
        ),
        (mismatch, r#"(import "ward" "input_size" (global i32))"#),
        (unknown, r#"(import "env" "memory" (memory 1))"#),
    ] {
        rejected(
            &wasm(&format!(r#"(module {import} (func (export "main")))"#)),
            kind,
        );
    }
}

#[test]
fn invalid_and_unsupported_modules_are_rejected() {
    rejected(b"", ErrorKind::InvalidWasm);
    rejected(b"\0asm", ErrorKind::InvalidWasm);
    rejected(b"not wasm at all", ErrorKind::InvalidWasm);
    rejected(
        &wasm(r#"(module (func (export "main") (drop (i32.add (i32.const 0) (i64.const 0)))))"#),
        ErrorKind::InvalidWasm,
    );
    let simd = wasm(r#"(module (func (export "main") (drop (v128.const i64x2 0 0))))"#);
    rejected(&simd, ErrorKind::UnsupportedFeature);
    let two_memories = wasm("(module (memory 1) (memory 1) (func (export \"main\")))");
    rejected(&two_memories, ErrorKind::UnsupportedFeature);
}

#[test]
fn instantiation_traps_are_rejections() {
    rejected(
        &wasm(r#"(module (func $s unreachable) (start $s) (func (export "main")))"#),
        ErrorKind::InstantiationTrap,
    );
    rejected(
        &wasm(r#"(module (memory 1) (data (i32.const 65535) "ab") (func (export "main")))"#),
        ErrorKind::InstantiationTrap,
    );
    rejected(
        &wasm(
            r#"(module (table 1 funcref) (elem (i32.const 1) $f) (func $f) (func (export "main")))"#,
        ),
        ErrorKind::InstantiationTrap,
    );
}

#[test]
fn memory_and_table_limits_hold() {
    let mut config = Config::default();
    config.policy.limits = Limits {
        max_memory_pages: 4,
        max_table_elements: 8,
        ..Limits::default()
    };
    let backends = Backends::new(config);
    let too_big = wasm(r#"(module (memory 5) (func (export "main")))"#);
    let run = run_both(&backends, &too_big, b"");
    assert_eq!(
        run.outcome.error.map(|e| e.kind),
        Some(ErrorKind::LimitExceeded)
    );
    let table_too_big = wasm(r#"(module (table 9 funcref) (func (export "main")))"#);
    let run = run_both(&backends, &table_too_big, b"");
    assert_eq!(
        run.outcome.error.map(|e| e.kind),
        Some(ErrorKind::LimitExceeded)
    );
    // Growing up to the limit works; past it returns -1, as the spec says.
    let grow = module(
        r#"(table 2 funcref)
           (func (export "main")
             (i32.store (i32.const 0) (memory.grow (i32.const 3)))
             (i32.store (i32.const 4) (memory.grow (i32.const 1)))
             (i32.store (i32.const 8) (memory.grow (i32.const 0x10000)))
             (i32.store (i32.const 12) (table.grow (ref.null func) (i32.const 6)))
             (i32.store (i32.const 16) (table.grow (ref.null func) (i32.const 1)))
             (call $output_write (i32.const 0) (i32.const 20)))"#,
    );
    let run = run_both(&backends, &grow, b"");
    assert_eq!(run.outcome.status, Status::Ok, "{:?}", run.outcome);
    let words = crate::numbers(&run.outcome.output, i32::from_le_bytes);
    assert_eq!(words, [1, -1, -1, 2, -1]);
    let oversized = vec![0u8; (Limits::default().max_module_bytes + 1) as usize];
    rejected(&oversized, ErrorKind::LimitExceeded);
}

#[test]
fn infinite_loops_end_in_timeout() {
    let spin = wasm(r#"(module (func (export "main") (loop (br 0))))"#);
    let spin_start = wasm(r#"(module (func $s (loop (br 0))) (start $s) (func (export "main")))"#);
    let backends = Backends::default();
    for m in [&spin, &spin_start] {
        let runs = backends.run(
            m,
            &Entry::Main("main".into()),
            &RunOptions {
                timeout: Some(Duration::from_millis(50)),
                ..RunOptions::default()
            },
        );
        // A timeout is a node-local backstop: the gas burnt before it fires
        // depends on speed, so only the status is compared.
        for run in &runs {
            assert_eq!(run.outcome.status, Status::Timeout);
        }
    }
}

/// wasmtime's timeout thread (its epoch ticker) failing to start is
/// reported by the backend's health check, and matters: a deadline then
/// never fires, and a spin runs until its gas is gone.
#[test]
fn a_timeout_thread_that_cannot_start_is_reported() {
    use ward_vm::Backend;
    let config = Config::default();
    let healthy = ward_vm_wasmtime::WasmtimeBackend::new(&config).unwrap();
    assert_eq!(healthy.health(), Ok(()));
    // A stack no system gives: the thread's start fails.
    let broken = ward_vm_wasmtime::WasmtimeBackend::new(&config)
        .unwrap()
        .with_ticker_stack(usize::MAX / 2);
    let why = broken.health().unwrap_err();
    assert!(why.contains("timeout thread"), "{why}");
    assert_eq!(broken.health(), Err(why), "the same answer every time");

    let spin = wasm(r#"(module (func (export "main") (loop (br 0))))"#);
    let options = RunOptions {
        gas_limit: Gas::new(300_000_000),
        timeout: Some(Duration::from_millis(10)),
        ..RunOptions::default()
    };
    let status = |backend: &dyn Backend| {
        let mut none = |_| Reply::Trap("none".into());
        run(
            backend,
            &config,
            &spin,
            &Entry::Main("main".into()),
            options.clone(),
            CallContext::default(),
            &mut none,
        )
        .outcome
        .status
    };
    assert_eq!(status(&healthy), Status::Timeout);
    assert_eq!(
        status(&broken),
        Status::OutOfGas,
        "no deadline without the thread"
    );
    // The tiered backend answers for its wasmtime tier.
    let tiered = ward_vm::TieredBackend::new(
        ward_testkit::backend(BackendKind::Wasmi, &config),
        std::sync::Arc::new(
            ward_vm_wasmtime::WasmtimeBackend::new(&config)
                .unwrap()
                .with_ticker_stack(usize::MAX / 2),
        ),
    );
    assert!(tiered.health().is_err());
}

/// A timeout too far away to be a deadline is no deadline (it used to
/// overflow `Instant + Duration`, a panic).
#[test]
fn a_timeout_beyond_any_clock_is_no_deadline() {
    let hello = wasm(r#"(module (func (export "main")))"#);
    let runs = Backends::default().run(
        &hello,
        &Entry::Main("main".into()),
        &RunOptions {
            timeout: Some(Duration::MAX),
            ..RunOptions::default()
        },
    );
    for run in &runs {
        assert_eq!(run.outcome.status, Status::Ok);
    }
}

#[test]
fn invoke_calls_any_export_with_typed_arguments() {
    let m = wasm(
        r#"(module (func (export "mix") (param i32 i64 f32 f64) (result f64 i32)
             (f64.add (local.get 3) (f64.promote_f32 (local.get 2)))
             (i32.add (local.get 0) (i32.wrap_i64 (local.get 1)))))"#,
    );
    let backends = Backends::default();
    let entry = Entry::Invoke {
        name: "mix".into(),
        args: vec![
            Value::I32(2),
            Value::I64(40),
            Value::F32(1.5f32.to_bits()),
            Value::F64(0.25f64.to_bits()),
        ],
    };
    let runs = backends.run(&m, &entry, &RunOptions::default());
    assert_agree(&runs);
    assert_eq!(
        runs[0].results,
        vec![Value::F64(1.75f64.to_bits()), Value::I32(42)]
    );
}

#[test]
fn truncated_modules_are_rejected_at_every_length() {
    // No names (so no trailing custom section) and the code section last:
    // every proper prefix is cut short somewhere.
    let full = wasm(
        r#"(module (import "ward" "output_write" (func (param i32 i32)))
             (memory (export "memory") 1)
             (func (export "main") (i32.store8 (i32.const 0) (i32.const 120))
               (call 0 (i32.const 0) (i32.const 1))))"#,
    );
    let backends = Backends::default();
    for len in 0..full.len() {
        let run = run_both(&backends, &full[..len], b"");
        assert_eq!(
            run.outcome.status,
            Status::Rejected,
            "prefix of {len} bytes"
        );
    }
    assert_eq!(run_both(&backends, &full, b"").outcome.output, b"x");
}

#[test]
fn bit_flipped_modules_never_panic_and_backends_agree() {
    let full = module(
        r#"(global $g (mut i32) (i32.const 3))
           (func (export "main") (result i32)
             (global.set $g (i32.mul (global.get $g) (i32.const 7)))
             (call $output_write (i32.const 0) (i32.const 4))
             (global.get $g))"#,
    );
    let backends = Backends::default();
    // A deterministic walk over single-bit flips of every byte.
    for i in 0..full.len() {
        for bit in [0u8, 3, 7] {
            let mut flipped = full.clone();
            flipped[i] ^= 1 << bit;
            run_both(&backends, &flipped, b"");
        }
    }
}

// ---- suspension ------------------------------------------------------------
