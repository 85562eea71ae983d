//! The engine core on both backends: outcomes, the host ABI, limits,
//! suspension and hostile input. Every case runs on wasmtime and wasmi and
//! the two must agree.

use std::time::Duration;

use ward_testkit::{Backends, assert_agree, run, run_both, wasm};
use ward_vm::{
    BackendKind, CallContext, Config, Entry, ErrorKind, FaultKind, FuncType, Gas, Host, HostAnswer,
    HostImport, Limits, NodeFault, Reply, Request, RunOptions, SandboxError, Status, Step, ValType,
    Value,
};

const ABI: &str = r#"
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
    for (import, kind) in [
        (
            r#"(import "ward" "no_such_fn" (func))"#,
            ErrorKind::UnknownImport,
        ),
        (r#"(import "env" "f" (func))"#, ErrorKind::UnknownImport),
        (
            r#"(import "ward" "input_size" (func (result i64)))"#,
            ErrorKind::ImportSignatureMismatch,
        ),
        (
            r#"(import "ward" "input_size" (global i32))"#,
            ErrorKind::ImportSignatureMismatch,
        ),
        (
            r#"(import "env" "memory" (memory 1))"#,
            ErrorKind::UnknownImport,
        ),
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
    let words: Vec<i32> = run
        .outcome
        .output
        .chunks(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
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

/// `test.ask(x: i32) -> i32`: answered at once (x * 2) for even x; for odd x
/// the guest suspends and the embedder answers.
struct AskHost;

impl Host for AskHost {
    fn call(&mut self, index: usize, args: &[Value], _memory: &mut [u8]) -> HostAnswer {
        assert_eq!(index, 0);
        match args {
            [Value::I32(x)] if x % 2 == 0 => HostAnswer::Return(vec![Value::I32(x * 2)]),
            [Value::I32(_)] => HostAnswer::Suspend,
            _ => HostAnswer::Trap("bad arguments".into()),
        }
    }
}

fn ask_config() -> Config {
    Config {
        host_imports: vec![HostImport {
            module: "test".into(),
            name: "ask".into(),
            ty: FuncType::new([ValType::I32], [ValType::I32]),
        }],
        ..Config::default()
    }
}

/// Sums `ask(i)` for i in 0..n (n from the input's first byte, times 100),
/// recursing `depth` frames deep around each call.
fn ask_module() -> Vec<u8> {
    wasm(&format!(
        r#"(module {ABI}
             (import "test" "ask" (func $ask (param i32) (result i32)))
             (memory (export "memory") 1)
             (func $deep (param $i i32) (param $depth i32) (result i32)
               (if (result i32) (i32.eqz (local.get $depth))
                 (then (call $ask (local.get $i)))
                 (else (call $deep (local.get $i) (i32.sub (local.get $depth) (i32.const 1))))))
             (func (export "main")
               (local $i i32) (local $n i32) (local $sum i64)
               (call $input_read (i32.const 0) (i32.const 0) (i32.const 2))
               (local.set $n (i32.mul (i32.load8_u (i32.const 0)) (i32.const 100)))
               (block $done (loop $next
                 (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
                 (local.set $sum (i64.add (local.get $sum)
                   (i64.extend_i32_u (call $deep (local.get $i) (i32.load8_u (i32.const 1))))))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br $next)))
               (i64.store (i32.const 8) (local.get $sum))
               (call $output_write (i32.const 8) (i32.const 8))))"#
    ))
}

fn run_ask(hundreds: u8, depth: u8) -> Vec<ward_vm::Execution> {
    let backends = Backends::new(ask_config());
    let m = ask_module();
    let runs = backends.each(|b| {
        let options = RunOptions {
            input: vec![hundreds, depth],
            ..RunOptions::default()
        };
        // The embedder answers odd x with x + 1000.
        let mut service = |request: Request| match request {
            Request::Host { index: 0, args } => match args.as_slice() {
                [Value::I32(x)] => Reply::Values(vec![Value::I32(x + 1000)]),
                _ => Reply::Trap("bad request".into()),
            },
            other => Reply::Trap(format!("unexpected {other:?}")),
        };
        let context = CallContext::default().with_host(Box::new(AskHost));
        run(
            b,
            &backends.config,
            &m,
            &Entry::Main("main".into()),
            options,
            context,
            &mut service,
        )
    });
    assert_agree(&runs);
    runs
}

fn expected_ask_sum(n: u64) -> u64 {
    (0..n)
        .map(|x| if x % 2 == 0 { x * 2 } else { x + 1000 })
        .sum()
}

#[test]
fn host_calls_answer_at_once_or_suspend_and_resume() {
    let runs = run_ask(1, 0);
    let outcome = &runs[0].outcome;
    assert_eq!(outcome.status, Status::Ok, "{outcome:?}");
    assert_eq!(outcome.output, expected_ask_sum(100).to_le_bytes());
    // Half the calls answered at once, half suspended.
    assert_eq!(runs[0].suspensions, 50);
}

#[test]
fn many_suspensions_in_one_run_from_deep_frames() {
    // 20 000 calls, 10 000 suspensions, each from 200 guest frames deep.
    let runs = run_ask(200, 200);
    assert_eq!(runs[0].outcome.status, Status::Ok, "{:?}", runs[0].outcome);
    assert_eq!(
        runs[0].outcome.output,
        expected_ask_sum(20_000).to_le_bytes()
    );
    assert_eq!(runs[0].suspensions, 10_000);
}

/// Runs the ask module (100 calls, half suspending) with `host` answering
/// at once and `reply` answering every suspension.
fn ask_with(
    host: impl Fn() -> Box<dyn Host>,
    reply: impl Fn() -> Reply,
) -> Vec<Result<ward_vm::Execution, NodeFault>> {
    let backends = Backends::new(ask_config());
    let m = ask_module();
    backends.each(|b| {
        let module = ward_vm::compile(b, &backends.config, &m).unwrap();
        let options = RunOptions {
            input: vec![1, 0],
            ..RunOptions::default()
        };
        let context = CallContext::default().with_host(host());
        ward_vm::execute(
            b,
            &module,
            &Entry::Main("main".into()),
            options,
            context,
            &mut |_| reply(),
        )
    })
}

#[test]
fn a_trap_reply_traps_the_guest_and_a_wrong_reply_aborts_as_misuse() {
    let runs: Vec<_> = ask_with(|| Box::new(AskHost), || Reply::Trap("refused".into()))
        .into_iter()
        .map(Result::unwrap)
        .collect();
    assert_agree(&runs);
    assert_eq!(runs[0].outcome.status, Status::Trapped);
    assert_eq!(
        runs[0].outcome.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::HostError)
    );
    // A reply the import cannot return is the embedder's fault, not the
    // guest's: no outcome at all.
    for wrong in [
        Reply::Values(vec![Value::I64(1)]),
        Reply::Values(vec![]),
        Reply::Call {
            status: 0,
            return_data: Vec::new(),
            gas_used: 0,
        },
    ] {
        for run in ask_with(|| Box::new(AskHost), || wrong.clone()) {
            let fault = run.unwrap_err();
            assert_eq!(fault.kind(), FaultKind::Misuse, "{fault}");
        }
    }
}

/// Answers `ask` with values of the wrong type, or with a node fault.
struct BrokenHost {
    fault: bool,
}

impl Host for BrokenHost {
    fn call(&mut self, _index: usize, _args: &[Value], _memory: &mut [u8]) -> HostAnswer {
        if self.fault {
            HostAnswer::Fault(NodeFault::new(FaultKind::Storage, "disk gone"))
        } else {
            HostAnswer::Return(vec![Value::I64(0)])
        }
    }
}

#[test]
fn a_host_fault_or_a_wrong_answer_aborts_the_call_with_no_outcome() {
    for (fault, kind) in [(true, FaultKind::Storage), (false, FaultKind::Misuse)] {
        let runs = ask_with(
            || Box::new(BrokenHost { fault }),
            || Reply::Values(vec![Value::I32(0)]),
        );
        for run in runs {
            let err = run.unwrap_err();
            assert_eq!(err.kind(), kind, "{err}");
        }
    }
}

#[test]
fn a_start_function_cannot_suspend() {
    let m = wasm(
        r#"(module (import "test" "ask" (func $ask (param i32) (result i32)))
             (func $s (drop (call $ask (i32.const 1)))) (start $s) (func (export "main")))"#,
    );
    let backends = Backends::new(ask_config());
    let runs = backends.each(|b| {
        let context = CallContext::default().with_host(Box::new(AskHost));
        let mut service = |_| Reply::Values(vec![Value::I32(0)]);
        run(
            b,
            &backends.config,
            &m,
            &Entry::Main("main".into()),
            RunOptions::default(),
            context,
            &mut service,
        )
    });
    assert_agree(&runs);
    assert_eq!(
        runs[0].outcome.error.as_ref().map(|e| e.kind),
        Some(ErrorKind::InstantiationTrap)
    );
}

#[test]
fn a_suspended_sandbox_is_busy_until_resumed_but_its_memory_is_reachable() {
    let backends = Backends::new(ask_config());
    let m = ask_module();
    for backend in &backends.all {
        let module = ward_vm::compile(&**backend, &backends.config, &m).unwrap();
        let context = CallContext::new(vec![1, 0], ward_vm::Gas::MAX).with_host(Box::new(AskHost));
        let mut sandbox = backend.sandbox(context);
        let (instance, _) = ward_vm::instantiate_metered(&mut *sandbox, &module, &[]).unwrap();
        let main = sandbox.export(instance, "main").unwrap();
        let memory = sandbox.export(instance, "memory").unwrap();
        let mut step = sandbox.call(main, &[]);
        let mut suspended_once = false;
        while let Step::Suspended(Request::Host { args, .. }) = step {
            suspended_once = true;
            assert!(sandbox.is_suspended());
            assert_eq!(sandbox.context().err(), Some(SandboxError::Busy));
            // Its memory is reachable while it waits (how an embedder
            // services a request that names guest memory), within bounds.
            let mut word = [0u8; 4];
            assert_eq!(sandbox.read_memory(memory, 0, &mut word), Ok(()));
            assert_eq!(word, [1, 0, 0, 0], "the input it read");
            assert_eq!(sandbox.write_memory(memory, 60, &word), Ok(()));
            assert_eq!(
                sandbox.read_memory(memory, 1 << 20, &mut word),
                Err(SandboxError::OutOfBounds)
            );
            assert!(matches!(sandbox.call(main, &[]), Step::Failed(_)));
            let Value::I32(x) = args[0] else {
                panic!("bad args")
            };
            step = sandbox.resume(Reply::Values(vec![Value::I32(x + 1000)]));
        }
        assert!(suspended_once);
        assert_eq!(step, Step::Returned(vec![]));
        assert!(!sandbox.is_suspended());
        assert!(matches!(
            sandbox.resume(Reply::Values(vec![])),
            Step::Failed(_)
        ));
        let mut sum = [0u8; 8];
        sandbox.read_memory(memory, 8, &mut sum).unwrap();
        assert_eq!(u64::from_le_bytes(sum), expected_ask_sum(100));
        assert_eq!(sandbox.context().unwrap().output(), sum);
        sandbox.write_memory(memory, 0, b"ok").unwrap();
        assert_eq!(
            sandbox.read_memory(memory, 65535, &mut [0; 2]),
            Err(SandboxError::OutOfBounds)
        );
    }
}

#[test]
fn a_refused_start_suspension_leaves_the_sandbox_clean() {
    let start_asks = wasm(
        r#"(module (import "test" "ask" (func $ask (param i32) (result i32)))
             (func $s (drop (call $ask (i32.const 1)))) (start $s))"#,
    );
    let asks_seven = wasm(
        r#"(module (import "test" "ask" (func $ask (param i32) (result i32)))
             (func (export "f") (result i32) (call $ask (i32.const 7))))"#,
    );
    let backends = Backends::new(ask_config());
    for backend in &backends.all {
        let bad = ward_vm::compile(&**backend, &backends.config, &start_asks).unwrap();
        let good = ward_vm::compile(&**backend, &backends.config, &asks_seven).unwrap();
        let context = CallContext::default().with_host(Box::new(AskHost));
        let mut sandbox = backend.sandbox(context);
        let err = ward_vm::instantiate_metered(&mut *sandbox, &bad, &[]).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InstantiationTrap);
        let (instance, _) = ward_vm::instantiate_metered(&mut *sandbox, &good, &[]).unwrap();
        let f = sandbox.export(instance, "f").unwrap();
        // The request is this call's own, not one left over from the start.
        let step = sandbox.call(f, &[]);
        assert_eq!(
            step,
            Step::Suspended(Request::Host {
                index: 0,
                args: vec![Value::I32(7)]
            })
        );
        let step = sandbox.resume(Reply::Values(vec![Value::I32(70)]));
        assert_eq!(step, Step::Returned(vec![Value::I32(70)]));
    }
}

/// A host import that takes a pointer, answered by suspending: the
/// embedder reads what the guest asked through `Running::read_memory` and
/// writes its answer where the guest wants it with `write_memory`, before
/// it resumes; both backends alike.
#[test]
fn a_suspended_guest_s_memory_is_read_and_written_by_its_host() {
    let config = Config {
        host_imports: vec![HostImport {
            module: "host".into(),
            name: "upper".into(),
            ty: FuncType::new([ValType::I32, ValType::I32], []),
        }],
        ..Config::default()
    };
    let module = wasm(&format!(
        r#"(module {ABI}
             (import "host" "upper" (func $upper (param i32 i32)))
             (memory (export "memory") 1)
             (data (i32.const 64) "hello")
             (func (export "main")
               (call $upper (i32.const 64) (i32.const 5))
               (call $output_write (i32.const 64) (i32.const 5))))"#
    ));
    struct Suspends;
    impl Host for Suspends {
        fn call(&mut self, _: usize, _: &[Value], _: &mut [u8]) -> HostAnswer {
            HostAnswer::Suspend
        }
    }
    let mut outputs = Vec::new();
    for kind in BackendKind::ALL {
        let backend = ward_testkit::backend(kind, &config);
        let compiled = ward_vm::compile(&*backend, &config, &module).unwrap();
        let mut progress = ward_vm::begin(
            &*backend,
            &compiled,
            &Entry::Main("main".into()),
            RunOptions::default(),
            CallContext::default().with_host(Box::new(Suspends)),
        );
        loop {
            progress = match progress {
                ward_vm::Progress::Suspended(mut running, Request::Host { args, .. }) => {
                    let (Value::I32(at), Value::I32(len)) = (args[0], args[1]) else {
                        panic!("{args:?}");
                    };
                    assert!(running.memory_size().unwrap() >= 65_536);
                    let mut text = vec![0u8; len as usize];
                    running.read_memory(at as u64, &mut text).unwrap();
                    assert_eq!(text, b"hello", "{kind:?}");
                    running
                        .write_memory(at as u64, &text.to_ascii_uppercase())
                        .unwrap();
                    let past = running.read_memory(1 << 20, &mut text).unwrap_err();
                    assert_eq!(past, SandboxError::OutOfBounds);
                    running.resume(Reply::Values(Vec::new()))
                }
                ward_vm::Progress::Finished(execution) => break outputs.push(execution),
                other => panic!("{kind:?}: {other:?}"),
            };
        }
    }
    assert_eq!(outputs[0].outcome.output, b"HELLO");
    assert_agree(&outputs);
}
