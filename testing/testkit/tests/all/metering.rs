//! Gas, call depth, NaNs and the module policy, on both backends.

use std::{fmt::Write as _, path::Path};

use ward_testkit::{Backends, assert_agree, wasm};
use ward_vm::{
    CallContext, Config, Entry, ErrorKind, Execution, FloatPolicy, Gas, Metering, Policy,
    RunOptions, Status, Step,
};

/// Runs `main` on both backends with `gas`, asserts they agree, returns one.
fn run_gas(backends: &Backends, wasm: &[u8], gas: u64) -> Execution {
    let options = RunOptions {
        gas_limit: Gas::new(gas),
        ..RunOptions::default()
    };
    let runs = backends.run(wasm, &Entry::Main("main".into()), &options);
    assert_agree(&runs);
    runs.into_iter().next().unwrap()
}

fn kind(run: &Execution) -> Option<ErrorKind> {
    run.outcome.error.as_ref().map(|e| e.kind)
}

/// Splits golden/gas.wat into (name, gas limit, module text).
fn golden_cases() -> Vec<(String, u64, String)> {
    let text = include_str!("../../golden/gas.wat");
    let mut cases: Vec<(String, u64, String)> = Vec::new();
    for line in text.lines() {
        if let Some(header) = line.strip_prefix(";; case ") {
            let mut words = header.split_whitespace();
            let name = words.next().unwrap().to_string();
            let gas = words.next().unwrap().parse().unwrap();
            cases.push((name, gas, String::new()));
        } else if let Some(case) = cases.last_mut() {
            case.2.push_str(line);
            case.2.push('\n');
        }
    }
    cases
}

#[test]
fn golden_gas_figures_hold_on_both_backends() {
    let backends = Backends::default();
    let mut actual = String::new();
    for (name, gas, text) in golden_cases() {
        let run = run_gas(&backends, &wasm(&text), gas);
        let kind = kind(&run).map_or("-".to_string(), |k| k.to_string());
        writeln!(
            actual,
            "{name} status={} kind={kind} gas_used={} output=0x{}",
            run.outcome.status,
            run.outcome.gas_used,
            run.outcome
                .output
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<String>()
        )
        .unwrap();
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("golden/gas.golden");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("golden/gas.golden (BLESS=1 to create)");
    assert_eq!(
        actual, expected,
        "gas figures changed: re-bless only with a schedule change"
    );
}

#[test]
fn running_out_of_gas_uses_exactly_the_limit() {
    let backends = Backends::default();
    let spin = wasm(r#"(module (func (export "main") (loop $l (br $l))))"#);
    for limit in [0, 1, 2, 3, 10, 999, 12_345] {
        let run = run_gas(&backends, &spin, limit);
        assert_eq!(run.outcome.status, Status::OutOfGas);
        assert_eq!(run.outcome.gas_used, Gas::new(limit));
    }
}

#[test]
fn gas_is_an_exact_linear_function_of_loop_iterations() {
    let backends = Backends::default();
    let looped = |n: u32| {
        wasm(&format!(
            r#"(module (memory 1) (func (export "main") (local $i i32)
                 (block $done (loop $l
                   (br_if $done (i32.ge_u (local.get $i) (i32.const {n})))
                   (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (local.get $i)))
                   (local.set $i (i32.add (local.get $i) (i32.const 1)))
                   (br $l)))))"#
        ))
    };
    let gas = |n| {
        run_gas(&backends, &looped(n), 1_000_000_000)
            .outcome
            .gas_used
            .get()
    };
    let (g0, g1) = (gas(0), gas(1));
    let per_iteration = g1 - g0;
    assert!(per_iteration > 0);
    for n in [2, 7, 100, 1_000, 10_000] {
        assert_eq!(gas(n), g0 + per_iteration * u64::from(n), "n = {n}");
    }
}

#[test]
fn out_of_gas_stops_at_the_same_instruction_on_both_backends() {
    // Each iteration bumps a counter in memory; after running out, the
    // counter (read back from the sandbox) must be identical everywhere.
    let counting = wasm(
        r#"(module (memory (export "memory") 1) (func (export "main")
             (loop $l (i32.store (i32.const 0) (i32.add (i32.load (i32.const 0)) (i32.const 1)))
               (br $l))))"#,
    );
    let backends = Backends::default();
    for limit in [100u64, 1_001, 77_777] {
        let counters = backends.each(|b| {
            let module = ward_vm::compile(b, &backends.config, &counting).unwrap();
            let mut sandbox = b.sandbox(CallContext::new(Vec::new(), Gas::new(limit)));
            let (instance, meter) =
                ward_vm::instantiate_metered(&mut *sandbox, &module, &[]).unwrap();
            let meter = meter.unwrap();
            let main = sandbox.export(instance, "main").unwrap();
            let Step::Failed(failure) = sandbox.call(main, &[]) else {
                panic!("must fail")
            };
            assert_eq!(
                meter.classify(&mut *sandbox, failure).kind,
                ErrorKind::OutOfGas
            );
            assert_eq!(meter.gas_left(&mut *sandbox).unwrap(), Some(Gas::ZERO));
            let memory = sandbox.export(instance, "memory").unwrap();
            let mut counter = [0u8; 4];
            sandbox.read_memory(memory, 0, &mut counter).unwrap();
            u32::from_le_bytes(counter)
        });
        assert_eq!(counters[0], counters[1], "limit {limit}");
        assert!(counters[0] > 0);
    }
}

#[test]
fn nans_are_canonical_bits_on_both_backends() {
    let m = wasm(
        r#"(module (import "ward" "output_write" (func $out (param i32 i32)))
             (memory (export "memory") 1)
             (func (export "main")
               (f32.store (i32.const 0) (f32.div (f32.const 0) (f32.const 0)))
               (f32.store (i32.const 4) (f32.sqrt (f32.const -1)))
               (f32.store (i32.const 8) (f32.add (f32.const -nan:0x123) (f32.const 1)))
               (f64.store (i32.const 12) (f64.mul (f64.const inf) (f64.const 0)))
               (f64.store (i32.const 20) (f64.promote_f32 (f32.const -nan:0x7)))
               (f32.store (i32.const 28) (f32.demote_f64 (f64.const nan:0x4)))
               (call $out (i32.const 0) (i32.const 32))))"#,
    );
    let run = run_gas(&Backends::default(), &m, 1_000_000);
    let mut expected = Vec::new();
    for _ in 0..3 {
        expected.extend(0x7fc0_0000u32.to_le_bytes());
    }
    for _ in 0..2 {
        expected.extend(0x7ff8_0000_0000_0000u64.to_le_bytes());
    }
    expected.extend(0x7fc0_0000u32.to_le_bytes());
    assert_eq!(run.outcome.output, expected);
}

/// NaNs are canonicalised where their bits could be seen, not where they
/// are made: every path by which an arithmetic NaN can reach memory, an
/// integer, a sign, a global, another function or the host.
#[test]
fn nans_are_canonical_wherever_their_bits_are_observed() {
    let m = wasm(
        r#"(module (import "ward" "output_write" (func $out (param i32 i32)))
             (memory (export "memory") 1)
             (global $g (mut f32) (f32.const 0))
             (global $h (export "h") (mut f64) (f64.const 0))
             (func $nan (result f32) (f32.div (f32.const 0) (f32.const 0)))
             (func $store_at (param $v f32) (param $at i32)
               (f32.store (local.get $at) (local.get $v)))
             (func $pair (result f32 i32) (f32.sqrt (f32.const -1)) (i32.const 7))
             (func (export "nan64") (result f64) (f64.div (f64.const 0) (f64.const 0)))
             (func (export "main") (local $s f32) (local $i i32)
               ;; 0: accumulated in a local across a loop, stored after it
               (loop $l
                 (local.set $s (f32.add (local.get $s) (f32.div (f32.const 0) (f32.const 0))))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 3))))
               (f32.store (i32.const 0) (local.get $s))
               ;; 4: passed as a call argument below another one
               (call $store_at (f32.mul (f32.const inf) (f32.const 0)) (i32.const 4))
               ;; 8: returned by a call
               (f32.store (i32.const 8) (call $nan))
               ;; 12: through a global
               (global.set $g (f32.sqrt (f32.const -2)))
               (f32.store (i32.const 12) (global.get $g))
               ;; 16: a block's result
               (f32.store (i32.const 16) (block (result f32) (f32.div (f32.const 0) (f32.const 0))))
               ;; 20: negated: the sign flips the canonical NaN's
               (f32.store (i32.const 20) (f32.neg (f32.div (f32.const 0) (f32.const 0))))
               ;; 24: the sign copied from a NaN is the canonical NaN's
               (f32.store (i32.const 24) (f32.copysign (f32.const 1) (f32.div (f32.const 0) (f32.const 0))))
               ;; 28: reinterpreted as an integer
               (i32.store (i32.const 28) (i32.reinterpret_f32 (f32.div (f32.const 0) (f32.const 0))))
               ;; 32: chosen by a select
               (f32.store (i32.const 32) (select (f32.div (f32.const 0) (f32.const 0)) (f32.const 1) (i32.const 1)))
               ;; 36: the deeper of two results
               (i32.const 36) (call $pair) (local.set $i) (f32.store)
               (i32.store (i32.const 40) (local.get $i))
               ;; a global the host can read
               (global.set $h (f64.sqrt (f64.const -1)))
               (call $out (i32.const 0) (i32.const 44))))"#,
    );
    let run = run_gas(&Backends::default(), &m, 1_000_000);
    assert_eq!(run.outcome.status, Status::Ok, "{:?}", run.outcome);
    let nan = 0x7fc0_0000u32;
    let words: Vec<u32> = [
        nan,
        nan,
        nan,
        nan,
        nan,
        nan | 1 << 31,
        0x3f80_0000,
        nan,
        nan,
        nan,
        7,
    ]
    .to_vec();
    let expected: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    assert_eq!(run.outcome.output, expected);

    // A float result crosses into the host canonical too.
    let invoke = Entry::Invoke {
        name: "nan64".into(),
        args: vec![],
    };
    let runs = Backends::default().run(&m, &invoke, &RunOptions::default());
    assert_agree(&runs);
    assert_eq!(
        runs[0].results,
        vec![ward_vm::Value::F64(0x7ff8_0000_0000_0000)]
    );
}

#[test]
fn floats_can_be_refused_by_policy() {
    let mut config = Config::default();
    config.policy.floats = FloatPolicy::Reject;
    let backends = Backends::new(config);
    let cases = [
        r#"(module (func (export "main") (drop (f32.add (f32.const 1) (f32.const 2)))))"#,
        r#"(module (func (export "main") (local f64)))"#,
        r#"(module (func (export "main") (param f32)))"#,
        r#"(module (global f64 (f64.const 0)) (func (export "main")))"#,
        r#"(module (memory 1) (func (export "main") (drop (i32.reinterpret_f32 (f32.load (i32.const 0))))))"#,
    ];
    for text in cases {
        let run = run_gas(&backends, &wasm(text), 1_000);
        assert_eq!(kind(&run), Some(ErrorKind::UnsupportedFeature), "{text}");
    }
    let integers =
        wasm(r#"(module (func (export "main") (drop (i32.add (i32.const 1) (i32.const 2)))))"#);
    assert_eq!(
        run_gas(&backends, &integers, 10_000).outcome.status,
        Status::Ok
    );
}

/// With SIMD enabled (wasmtime only: wasmi is built without it), vector
/// work is classified like scalar work, floats in lanes obey the float
/// policy, and a scalar NaN entering a lane is canonical.
#[test]
fn simd_is_classified_like_scalar_code_and_obeys_the_float_policy() {
    let run = |floats: FloatPolicy, text: &str| {
        let mut config = Config::default();
        config.policy.features.simd = true;
        config.policy.floats = floats;
        let wasmtime = ward_testkit::backend(ward_vm::BackendKind::Wasmtime, &config);
        let options = RunOptions {
            gas_limit: Gas::new(1_000_000),
            ..RunOptions::default()
        };
        let mut no_service = |r: ward_vm::Request| ward_vm::Reply::Trap(format!("{r:?}"));
        ward_testkit::run(
            &*wasmtime,
            &config,
            &wasm(text),
            &Entry::Main("main".into()),
            options,
            CallContext::default(),
            &mut no_service,
        )
    };
    // A vector load costs what a scalar load does.
    let load = |ty: &str| {
        format!(r#"(module (memory 1) (func (export "main") (drop ({ty}.load (i32.const 0)))))"#)
    };
    let scalar = run(FloatPolicy::Canonicalize, &load("i32"));
    let vector = run(FloatPolicy::Canonicalize, &load("v128"));
    assert_eq!(scalar.outcome.status, Status::Ok, "{:?}", scalar.outcome);
    assert_eq!(vector.outcome.gas_used, scalar.outcome.gas_used);

    // Lane float arithmetic could make NaNs the rewrite does not
    // canonicalise: refused while NaNs are canonical, and with floats.
    let lanes = r#"(module (func (export "main") (drop (f32x4.add (v128.const i32x4 0 0 0 0) (v128.const i32x4 0 0 0 0)))))"#;
    for floats in [FloatPolicy::Canonicalize, FloatPolicy::Reject] {
        assert_eq!(
            kind(&run(floats, lanes)),
            Some(ErrorKind::UnsupportedFeature),
            "{floats:?}"
        );
    }
    let splat = r#"(module (func (export "main") (drop (f32x4.splat (f32.const 1)))))"#;
    assert_eq!(
        kind(&run(FloatPolicy::Reject, splat)),
        Some(ErrorKind::UnsupportedFeature)
    );
    let integers = r#"(module (func (export "main") (drop (i32x4.add (v128.const i32x4 1 2 3 4) (v128.const i32x4 0 0 0 0)))))"#;
    assert_eq!(
        run(FloatPolicy::Reject, integers).outcome.status,
        Status::Ok
    );

    // An arithmetic NaN splatted or put in a lane is the canonical NaN.
    let lane_nan = r#"(module (import "ward" "output_write" (func $out (param i32 i32)))
         (memory (export "memory") 1)
         (func (export "main")
           (v128.store (i32.const 0) (f32x4.splat (f32.div (f32.const 0) (f32.const 0))))
           (v128.store (i32.const 16)
             (f32x4.replace_lane 1 (v128.const i32x4 0 0 0 0) (f32.sqrt (f32.const -1))))
           (call $out (i32.const 0) (i32.const 32))))"#;
    let out = run(FloatPolicy::Canonicalize, lane_nan);
    assert_eq!(out.outcome.status, Status::Ok, "{:?}", out.outcome);
    let words = crate::numbers(&out.outcome.output, u32::from_le_bytes);
    assert_eq!(
        words,
        [
            0x7fc0_0000,
            0x7fc0_0000,
            0x7fc0_0000,
            0x7fc0_0000,
            0,
            0x7fc0_0000,
            0,
            0
        ]
    );
}

#[test]
fn self_metered_modules_pay_only_what_they_charge() {
    let mut config = Config::default();
    config.policy.metering = Metering::SelfMetered;
    let policy = config.policy.clone();
    let backends = Backends::new(config);
    let m = wasm(
        r#"(module (import "ward" "charge_gas" (func $charge (param i64)))
             (func (export "main") (local $i i32)
               (loop $l (call $charge (i64.const 1000))
                 (local.set $i (i32.add (local.get $i) (i32.const 1)))
                 (br_if $l (i32.lt_u (local.get $i) (i32.const 10))))))"#,
    );
    let run = run_gas(&backends, &m, 1_000_000);
    assert_eq!(run.outcome.status, Status::Ok);
    // The instance, then ten calls, each the host-call base (50) plus the
    // amount.
    let instance = ward_vm::inspect(&m, &policy).unwrap().instance.0;
    assert_eq!(run.outcome.gas_used, Gas::new(instance + 10 * (50 + 1000)));
    let short = run_gas(&backends, &m, 5_000);
    assert_eq!(kind(&short), Some(ErrorKind::OutOfGas));
    assert_eq!(short.outcome.gas_used, Gas::new(5_000));
    // Still stack-limited: the instrumentation's depth accounting stays.
    let recurse = wasm(r#"(module (func $f (call $f)) (func (export "main") (call $f)))"#);
    assert_eq!(
        kind(&run_gas(&backends, &recurse, 100_000)),
        Some(ErrorKind::StackOverflow)
    );
}

#[test]
fn the_pass_is_a_pure_function_of_bytes_and_policy() {
    let m = wasm(
        r#"(module (memory 1) (table 2 funcref) (elem (i32.const 0) $f)
             (func $f (param i32) (result i32) (i32.mul (local.get 0) (local.get 0)))
             (func (export "main") (result i32) (call $f (i32.const 3))))"#,
    );
    let policy = Policy::default();
    let a = ward_instrument::prepare(&m, &policy).unwrap();
    let b = ward_instrument::prepare(&m, &policy).unwrap();
    assert_eq!(a, b);
    let mut repriced = Policy::default();
    repriced.schedule.int_mul += 1;
    assert_ne!(
        ward_instrument::prepare(&m, &repriced).unwrap().wasm,
        a.wasm
    );
    // The output is itself valid under Ward's features.
    wasmparser_validates(&a.wasm);
}

fn wasmparser_validates(bytes: &[u8]) {
    let features = ward_instrument::Features::default().wasm_features();
    wasmparser::Validator::new_with_features(features)
        .validate_all(bytes)
        .unwrap();
}

#[test]
fn deep_recursion_ends_in_wards_stack_overflow_for_thin_and_fat_frames() {
    let thin = wasm(r#"(module (func $f (call $f)) (func (export "main") (call $f)))"#);
    let fat = wasm(&format!(
        r#"(module (func $f (local {}) (call $f)) (func (export "main") (call $f)))"#,
        "i64 ".repeat(200)
    ));
    let indirect = wasm(
        r#"(module (type $t (func)) (table funcref (elem $f))
             (func $f (call_indirect (type $t) (i32.const 0))) (func (export "main") (call $f)))"#,
    );
    let backends = Backends::default();
    for (name, m) in [("thin", &thin), ("fat", &fat), ("indirect", &indirect)] {
        let run = run_gas(&backends, m, 10_000_000_000);
        assert_eq!(kind(&run), Some(ErrorKind::StackOverflow), "{name}");
        // Ward's limit fired (the engines' own traps say "call stack exhausted").
        assert_eq!(
            run.outcome.error.unwrap().message,
            "call depth limit exceeded",
            "{name}"
        );
    }
}

#[test]
fn hostile_modules_end_in_the_right_typed_outcome() {
    let backends = Backends::default();
    let limit_exceeded = [
        (
            "locals bomb",
            format!(
                "(module (func (export \"main\") (local {})))",
                "i32 ".repeat(5_000)
            ),
        ),
        (
            "deep nesting",
            format!(
                "(module (func (export \"main\") {}{}))",
                "(block ".repeat(300),
                ")".repeat(300)
            ),
        ),
        (
            "huge br_table",
            format!(
                "(module (func (export \"main\") (block (br_table {} 0 (i32.const 0)))))",
                "0 ".repeat(5_000)
            ),
        ),
        (
            "giant body",
            format!(
                "(module (func (export \"main\") {}))",
                "(nop)".repeat(300_000)
            ),
        ),
        (
            "too many functions",
            format!(
                "(module {} (func (export \"main\")))",
                "(func)".repeat(10_001)
            ),
        ),
        (
            "huge memory",
            "(module (memory 300) (func (export \"main\")))".to_string(),
        ),
        (
            "huge table",
            "(module (table 20000 funcref) (func (export \"main\")))".to_string(),
        ),
        (
            "too many params",
            format!(
                "(module (func (export \"main\")) (func (param {})))",
                "i32 ".repeat(33)
            ),
        ),
    ];
    for (name, text) in &limit_exceeded {
        let run = run_gas(&backends, &wasm(text), 1_000_000);
        assert_eq!(kind(&run), Some(ErrorKind::LimitExceeded), "{name}");
        assert!(
            run.outcome.error.unwrap().message.contains("limit "),
            "{name} names its limit"
        );
    }
    let out_of_gas = [
        (
            "infinite loop",
            "(module (func (export \"main\") (loop (br 0))))",
        ),
        (
            "infinite loop in start",
            "(module (func $s (loop (br 0))) (start $s) (func (export \"main\")))",
        ),
        (
            "memory grow bomb",
            "(module (memory 1) (func (export \"main\") (loop (drop (memory.grow (i32.const 1))) (br 0))))",
        ),
        (
            "table grow bomb",
            "(module (table 1 funcref) (func (export \"main\") (loop (drop (table.grow (ref.null func) (i32.const 1000))) (br 0))))",
        ),
        (
            "bulk memory bomb",
            "(module (memory 256) (func (export \"main\") (loop (memory.fill (i32.const 0) (i32.const 1) (i32.const 16777216)) (br 0))))",
        ),
        (
            "bulk copy bomb",
            "(module (memory 256) (func (export \"main\") (loop (memory.copy (i32.const 0) (i32.const 8) (i32.const 16777000)) (br 0))))",
        ),
    ];
    for (name, text) in out_of_gas {
        let run = run_gas(&backends, &wasm(text), 10_000_000);
        assert_eq!(kind(&run), Some(ErrorKind::OutOfGas), "{name}");
        assert_eq!(run.outcome.gas_used, Gas::new(10_000_000), "{name}");
    }
    // A 4 GiB fill is charged in full before it runs, and fails for gas.
    let huge_fill = "(module (memory 1) (func (export \"main\") (memory.fill (i32.const 0) (i32.const 0) (i32.const -1))))";
    assert_eq!(
        kind(&run_gas(&backends, &wasm(huge_fill), 1_000_000)),
        Some(ErrorKind::OutOfGas)
    );
    let unsupported = [
        (
            "simd",
            "(module (func (export \"main\") (drop (v128.const i32x4 0 0 0 0))))",
        ),
        (
            "threads",
            "(module (memory 1 1 shared) (func (export \"main\")))",
        ),
        (
            "atomics",
            "(module (memory 1) (func (export \"main\") (drop (i32.atomic.load (i32.const 0)))))",
        ),
        (
            "multi-memory",
            "(module (memory 1) (memory 1) (func (export \"main\")))",
        ),
        (
            "memory64",
            "(module (memory i64 1) (func (export \"main\")))",
        ),
        (
            "tail calls",
            "(module (func $f (return_call $f)) (func (export \"main\")))",
        ),
        ("exceptions", "(module (tag) (func (export \"main\")))"),
        ("gc", "(module (type (struct)) (func (export \"main\")))"),
        (
            "extended const",
            "(module (global i32 (i32.add (i32.const 1) (i32.const 2))) (func (export \"main\")))",
        ),
        (
            "function references",
            "(module (func (export \"main\") (param (ref func))))",
        ),
        (
            "simd in dead code",
            "(module (func (export \"main\") (return) (drop (v128.const i32x4 0 0 0 0))))",
        ),
    ];
    for (name, text) in unsupported {
        let run = run_gas(&backends, &wasm(text), 1_000_000);
        assert_eq!(kind(&run), Some(ErrorKind::UnsupportedFeature), "{name}");
    }
    let reserved = wasm(
        "(module (global (export \"__ward_gas\") i32 (i32.const 0)) (func (export \"main\")))",
    );
    assert_eq!(
        run_gas(&backends, &reserved, 1_000).outcome.status,
        Status::Rejected
    );
}

/// How many call-depth checks (`depth > limit - frame`, the only `i32.gt_u`
/// in these modules) the instrumented `run` body holds (the third body:
/// its entry thunk, after the originals, holds one more).
fn depth_checks(body: &str) -> usize {
    let text = format!(
        r#"(module
             (func $thin)
             (func $fat (local i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64 i64))
             (func (export "run") (param $x i32) {body}))"#
    );
    let prepared =
        ward_instrument::prepare(&wasm(&text), &ward_vm::Policy::default()).expect("prepares");
    let mut checks = 0;
    let mut bodies = wasmparser::Parser::new(0)
        .parse_all(&prepared.wasm)
        .filter_map(|payload| match payload.expect("parses") {
            wasmparser::Payload::CodeSectionEntry(body) => Some(body),
            _ => None,
        });
    let run = bodies.nth(2).expect("the run body");
    let mut ops = run.get_operators_reader().expect("operators");
    while !ops.eof() {
        if matches!(ops.read().expect("operator"), wasmparser::Operator::I32GtU) {
            checks += 1;
        }
    }
    checks
}

#[test]
fn a_call_depth_check_is_left_out_only_where_one_as_large_already_passed() {
    let cases: &[(&str, &str, usize)] = &[
        ("one call", "(call $thin)", 1),
        (
            "the same frame again",
            "(call $thin) (call $thin) (call $thin)",
            1,
        ),
        (
            "a smaller frame after a larger",
            "(call $fat) (call $thin)",
            1,
        ),
        (
            "a larger frame after a smaller",
            "(call $thin) (call $fat)",
            2,
        ),
        (
            "inside a block after a check outside it",
            "(call $thin) (block (call $thin)) (if (local.get $x) (then (call $thin)))",
            1,
        ),
        (
            "then and else each need their own",
            "(if (local.get $x) (then (call $thin)) (else (call $thin)))",
            2,
        ),
        (
            "not after a block whose check a branch may skip",
            "(block (br_if 0 (local.get $x)) (call $thin)) (call $thin)",
            2,
        ),
        (
            "not after a loop",
            "(loop (call $thin) (br_if 0 (local.get $x))) (call $thin)",
            2,
        ),
    ];
    for (name, body, expected) in cases {
        assert_eq!(depth_checks(body), *expected, "{name}");
    }
}
