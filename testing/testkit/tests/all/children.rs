//! Children (`ward_vm::Children`): modules a guest compiles and runs,
//! stopped at their syscalls, on both backends with the same results and
//! gas at every step.

use ward_testkit::{backend, wasm};
use ward_vm::{
    BackendKind, ChildError, ChildLimits, ChildStep, Children, Config, ErrorKind, child_config,
};

const CHILD: &str = r#"(module
  (import "env" "get" (func $get (param i64) (result i64)))
  (import "env" "put" (func $put (param i64 i64)))
  (memory (export "memory") 1)
  (global $calls (mut i64) (i64.const 0))
  ;; sums get(0) .. get(n-1), puts the sum under key 99, returns it
  (func (export "sum") (param $n i64) (result i64) (local $i i64) (local $s i64)
    (global.set $calls (i64.add (global.get $calls) (i64.const 1)))
    (block $done (loop $next
      (br_if $done (i64.ge_u (local.get $i) (local.get $n)))
      (local.set $s (i64.add (local.get $s) (call $get (local.get $i))))
      (local.set $i (i64.add (local.get $i) (i64.const 1)))
      (br $next)))
    (call $put (i64.const 99) (local.get $s))
    (local.get $s))
  (func (export "calls") (result i64) (global.get $calls))
  (func (export "peek") (param $at i64) (result i64) (i64.load (i32.wrap_i64 (local.get $at))))
  (func (export "spin") (loop $l (br $l)))
  (func (export "trap") unreachable)
  (func $deep (export "deep") (param i64) (result i64) (call $deep (local.get 0)))
  (func (export "grow") (result i64)
    (block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 16)) (i32.const -1)))
      (br $more)))
    (i64.extend_i32_u (memory.size)))
  (func (export "wide") (param i64 i64 i64 i64 i64)))"#;

fn children(kind: BackendKind) -> Children {
    let config = child_config(&Config::default());
    Children::new(backend(kind, &config), config, ChildLimits::default())
}

/// Everything a parent sees of one scenario, step by step.
fn scenario(kind: BackendKind) -> Vec<String> {
    let mut c = children(kind);
    let mut log = Vec::new();
    let module = c.compile(&wasm(CHILD)).unwrap();
    log.push(format!("lookup sum: {:?}", c.lookup(module, "sum")));
    log.push(format!("lookup wide: {:?}", c.lookup(module, "wide")));
    log.push(format!("lookup none: {:?}", c.lookup(module, "none")));
    let a = c.instantiate(module).unwrap();
    // sum(3): three gets answered with 10, 20, 30, then a put.
    let mut step = c.run(a, "sum", &[3], 1_000_000, 0);
    let mut answers = [10i64, 20, 30].into_iter();
    while let Ok(ChildStep::Syscall {
        index,
        args,
        gas_left,
    }) = &step
    {
        log.push(format!("syscall {index} {args:?} gas {gas_left}"));
        let value = if *index == 0 {
            answers.next().unwrap()
        } else {
            0
        };
        step = c.resume(a, value);
    }
    log.push(format!("{step:?}"));
    assert_eq!(
        step,
        Ok(ChildStep::Finished {
            result: Some(60),
            gas_left: match &step {
                Ok(ChildStep::Finished { gas_left, .. }) => *gas_left,
                _ => 0,
            },
        })
    );
    // Its memory, read and written by the parent; its globals kept.
    c.write_memory(a, 8, &77i64.to_le_bytes()).unwrap();
    log.push(format!("peek: {:?}", c.run(a, "peek", &[8], 1_000, 0)));
    log.push(format!("calls: {:?}", c.run(a, "calls", &[], 1_000, 0)));
    let mut eight = [0u8; 8];
    c.read_memory(a, 8, &mut eight).unwrap();
    assert_eq!(i64::from_le_bytes(eight), 77);
    log.push(format!(
        "read past the end: {:?}",
        c.read_memory(a, 65_530, &mut eight)
    ));
    // Misuse: resume an idle child, run with the wrong arity.
    log.push(format!("resume idle: {:?}", c.resume(a, 0)));
    log.push(format!("wrong arity: {:?}", c.run(a, "sum", &[], 1_000, 0)));
    // Failures end the child; the parent carries on with another.
    for (export, args) in [("spin", &[][..]), ("trap", &[]), ("deep", &[1])] {
        let child = c.instantiate(module).unwrap();
        let failed = c.run(child, export, args, 200_000, 0);
        log.push(format!("{export}: {failed:?}"));
        log.push(format!(
            "{export} after: {:?}",
            c.run(child, "calls", &[], 1_000, 0)
        ));
        c.destroy(child).unwrap();
    }
    let growing = c.instantiate(module).unwrap();
    log.push(format!(
        "grow: {:?}",
        c.run(growing, "grow", &[], 10_000_000, 0)
    ));
    c.destroy(growing).unwrap();
    c.destroy(a).unwrap();
    log.push(format!("destroyed: {:?}", c.destroy(a)));
    log
}

#[test]
fn a_parent_runs_children_to_their_syscalls_on_both_backends_alike() {
    let runs: Vec<_> = BackendKind::ALL.iter().map(|&k| scenario(k)).collect();
    assert_eq!(runs[0], runs[1]);
    let log = &runs[0];
    let has = |needle: &str| log.iter().any(|l| l.contains(needle));
    assert!(has("lookup sum: Ok(1)"), "{log:#?}");
    assert!(has("lookup wide: Err(BadArgument)"), "{log:#?}");
    assert!(has("lookup none: Err(NotFound)"), "{log:#?}");
    assert!(has("syscall 0 [2]"), "{log:#?}");
    // Gas at each syscall goes down, and the budget covers it all.
    let gas: Vec<u64> = log
        .iter()
        .filter_map(|l| l.strip_prefix("syscall ")?.rsplit(' ').next()?.parse().ok())
        .collect();
    assert_eq!(gas.len(), 4, "{log:#?}");
    assert!(
        gas.windows(2).all(|w| w[0] > w[1]) && gas[0] < 1_000_000,
        "{gas:?}"
    );
    assert!(has("syscall 1 [99, 60]"), "{log:#?}");
    assert!(has("peek: Ok(Finished { result: Some(77)"), "{log:#?}");
    assert!(has("calls: Ok(Finished { result: Some(1)"), "{log:#?}");
    assert!(has("read past the end: Err(BadArgument)"), "{log:#?}");
    assert!(has("resume idle: Err(InvalidInstance)"), "{log:#?}");
    assert!(has("wrong arity: Err(BadArgument)"), "{log:#?}");
    assert!(has("spin: Err(OutOfGas)"), "{log:#?}");
    assert!(has("spin after: Err(InvalidInstance)"), "{log:#?}");
    assert!(
        has(&format!("trap: Err(Trapped({:?}))", ErrorKind::Unreachable)),
        "{log:#?}"
    );
    assert!(
        has(&format!(
            "deep: Err(Trapped({:?}))",
            ErrorKind::StackOverflow
        )),
        "{log:#?}"
    );
    assert!(has("grow: Ok(Finished { result: Some("), "{log:#?}");
    assert!(has("destroyed: Err(NotFound)"), "{log:#?}");
}

#[test]
fn a_thousand_create_run_destroy_cycles_leave_nothing_behind() {
    for kind in BackendKind::ALL {
        let mut c = children(kind);
        let module = c.compile(&wasm(CHILD)).unwrap();
        let result = |step: Result<ChildStep, ChildError>| match step {
            Ok(ChildStep::Finished { result, .. }) => result,
            other => panic!("{other:?}"),
        };
        for i in 1..=1_000i64 {
            // Every child starts new, whether or not the backend recycled
            // the last one's instance: memory and globals as built.
            let child = c.instantiate(module).unwrap();
            assert_eq!(result(c.run(child, "peek", &[8], 1_000, 0)), Some(0));
            c.write_memory(child, 8, &i.to_le_bytes()).unwrap();
            assert_eq!(result(c.run(child, "peek", &[8], 1_000, 0)), Some(i));
            assert_eq!(result(c.run(child, "calls", &[], 1_000, 0)), Some(0));
            // sum(0) puts its sum (a syscall), and counts itself in a global.
            let put = c.run(child, "sum", &[0], 10_000, 0);
            assert!(
                matches!(put, Ok(ChildStep::Syscall { index: 1, .. })),
                "{put:?}"
            );
            assert_eq!(result(c.resume(child, 0)), Some(0));
            assert_eq!(result(c.run(child, "calls", &[], 1_000, 0)), Some(1));
            c.destroy(child).unwrap();
        }
        assert_eq!(c.live(), 0);
        // Ids are never reused: the next is the 1,001st.
        assert_eq!(c.instantiate(module), Ok(1_000));
    }
}

#[test]
fn limits_and_refusals_are_typed() {
    for kind in BackendKind::ALL {
        let config = child_config(&Config::default());
        let limits = ChildLimits {
            max_modules: 1,
            max_instances: 2,
        };
        let mut c = Children::new(backend(kind, &config), config, limits);
        // The child policy: no ward ABI, no WASI.
        let ward = wasm(r#"(module (import "ward" "gas_left" (func (result i64))))"#);
        assert_eq!(c.compile(&ward), Err(ChildError::InvalidModule));
        assert_eq!(c.compile(b"not wasm"), Err(ChildError::InvalidModule));
        let module = c.compile(&wasm(CHILD)).unwrap();
        assert_eq!(c.compile(&wasm(CHILD)), Err(ChildError::LimitExceeded));
        assert_eq!(c.instantiate(7), Err(ChildError::NotFound));
        c.instantiate(module).unwrap();
        c.instantiate(module).unwrap();
        assert_eq!(c.instantiate(module), Err(ChildError::LimitExceeded));
    }
}

/// A parent that runs CHILD's `sum(3)` through `vm_*`, answering `get(i)`
/// with `i * 100` and recording `put`; it outputs the step codes, the
/// final result, what it read back from the child's memory, and the
/// error codes of some misuse.
fn parent(child: &[u8]) -> String {
    let bytes: String = child.iter().map(|b| format!("\\{b:02x}")).collect();
    format!(
        r#"(module
  (import "ward" "vm_compile" (func $compile (param i32 i32) (result i64)))
  (import "ward" "vm_lookup" (func $lookup (param i64 i32 i32) (result i64)))
  (import "ward" "vm_instantiate" (func $inst (param i64) (result i64)))
  (import "ward" "vm_run" (func $run (param i64 i32 i32 i32 i32 i64 i32) (result i64)))
  (import "ward" "vm_resume" (func $resume (param i64 i64 i32) (result i64)))
  (import "ward" "vm_read_memory" (func $read (param i64 i64 i32 i32) (result i64)))
  (import "ward" "vm_write_memory" (func $write (param i64 i64 i32 i32) (result i64)))
  (import "ward" "vm_destroy" (func $destroy (param i64) (result i64)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "sum")
  (data (i32.const 8) "\03\00\00\00\00\00\00\00")
  (data (i32.const 4096) "{bytes}")
  (func (export "main") (local $m i64) (local $c i64) (local $r i64) (local $o i32)
    (local.set $o (i32.const 1024))
    (local.set $m (call $compile (i32.const 4096) (i32.const {len})))
    (i64.store (local.get $o) (local.get $m))
    (i64.store offset=8 (local.get $o) (call $lookup (local.get $m) (i32.const 0) (i32.const 3)))
    (local.set $c (call $inst (local.get $m)))
    (local.set $r (call $run (local.get $c) (i32.const 0) (i32.const 3) (i32.const 8) (i32.const 1)
      (i64.const 1000000) (i32.const 512)))
    (block $done (loop $serve
      (br_if $done (i64.ne (local.get $r) (i64.const 1)))
      (local.set $o (i32.add (local.get $o) (i32.const 8)))
      (i64.store offset=16 (local.get $o) (i64.load offset=8 (i32.const 512)))
      (local.set $r (call $resume (local.get $c)
        (i64.mul (i64.load offset=24 (i32.const 512)) (i64.const 100)) (i32.const 512)))
      (br $serve)))
    ;; the result, then the child's memory round trip, then misuse
    (i64.store offset=24 (local.get $o) (i64.load offset=8 (i32.const 512)))
    (drop (call $write (local.get $c) (i64.const 64) (i32.const 8) (i32.const 8)))
    (drop (call $read (local.get $c) (i64.const 64) (i32.add (local.get $o) (i32.const 32)) (i32.const 8)))
    (i64.store offset=40 (local.get $o) (call $resume (local.get $c) (i64.const 0) (i32.const 512)))
    (i64.store offset=48 (local.get $o) (call $read (local.get $c) (i64.const 70000) (i32.const 600) (i32.const 8)))
    (i64.store offset=56 (local.get $o) (call $destroy (local.get $c)))
    (i64.store offset=64 (local.get $o) (call $destroy (local.get $c)))
    (i64.store offset=72 (local.get $o) (call $compile (i32.const 0) (i32.const 3)))
    (call $out (i32.const 1024) (i32.sub (i32.add (local.get $o) (i32.const 80)) (i32.const 1024)))))"#,
        len = child.len()
    )
}

#[test]
fn a_guest_runs_a_child_through_the_vm_functions_on_both_backends() {
    let code = wasm(&parent(&wasm(CHILD)));
    let config = Config::default();
    let runs: Vec<_> = BackendKind::ALL
        .iter()
        .map(|&kind| {
            let child = child_config(&config);
            let kids = Children::new(backend(kind, &child), child, ChildLimits::default());
            let b = backend(kind, &config);
            let module = ward_vm::compile(&*b, &config, &code).unwrap();
            let mut no_service = |_| ward_vm::Reply::Trap("none".into());
            ward_vm::execute(
                &*b,
                &module,
                &ward_vm::Entry::Main("main".into()),
                ward_vm::RunOptions {
                    gas_limit: ward_vm::Gas::new(50_000_000),
                    ..ward_vm::RunOptions::default()
                },
                ward_vm::CallContext::default().with_children(kids),
                &mut no_service,
            )
            .unwrap()
        })
        .collect();
    ward_testkit::assert_agree(&runs);
    let run = &runs[0];
    assert_eq!(run.outcome.status, ward_vm::Status::Ok, "{run:?}");
    let words = crate::numbers(&run.outcome.output, i64::from_le_bytes);
    use ward_abi::vm;
    assert_eq!(
        words,
        vec![
            0,                    // module id
            1,                    // sum takes one argument
            0,                    // (not written: the syscall log starts one word further)
            0,                    // syscall get(0)
            0,                    // get(1)
            0,                    // get(2)
            1,                    // put(99, ..)
            300,                  // sum = 0 + 100 + 200
            3,                    // what the parent wrote at 8 (its argument list) read back
            vm::INVALID_INSTANCE, // resume an idle child
            vm::BAD_ARGUMENT,     // read past its memory
            0,                    // destroy
            vm::NOT_FOUND,        // destroy again
            vm::INVALID_MODULE,   // "sum" is not a module
        ],
        "{words:?}"
    );
    // The parent paid for what the child ran: more than its own work.
    assert!(
        run.outcome.gas_used.get() > 10_000,
        "{}",
        run.outcome.gas_used
    );
}

#[test]
fn without_children_every_vm_function_is_unavailable() {
    let code = wasm(
        r#"(module
      (import "ward" "vm_instantiate" (func $inst (param i64) (result i64)))
      (import "ward" "exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "main")
        (call $exit (i32.wrap_i64 (i64.sub (i64.const 0) (call $inst (i64.const 0)))))))"#,
    );
    let runs = ward_testkit::Backends::default().run(
        &code,
        &ward_vm::Entry::Main("main".into()),
        &ward_vm::RunOptions::default(),
    );
    ward_testkit::assert_agree(&runs);
    assert_eq!(runs[0].outcome.exit_code, -ward_abi::vm::UNAVAILABLE as i32);
}

#[test]
fn a_child_waiting_in_a_syscall_has_its_memory_read_and_written() {
    let runs: Vec<_> = BackendKind::ALL
        .iter()
        .map(|&kind| {
            let mut c = children(kind);
            let module = c.compile(&wasm(CHILD)).unwrap();
            let a = c.instantiate(module).unwrap();
            let step = c.run(a, "sum", &[1], 1_000_000, 0);
            assert!(
                matches!(step, Ok(ChildStep::Syscall { .. })),
                "{kind}: {step:?}"
            );
            // While it waits: write 41 at 8, read it back.
            c.write_memory(a, 8, &41i64.to_le_bytes()).unwrap();
            let mut eight = [0u8; 8];
            c.read_memory(a, 8, &mut eight).unwrap();
            let outside = c.read_memory(a, 65_536, &mut eight);
            (
                i64::from_le_bytes(eight),
                outside,
                c.resume(a, 1)
                    .map(|s| matches!(s, ChildStep::Syscall { .. })),
                c.resume(a, 0)
                    .map(|s| matches!(s, ChildStep::Finished { .. })),
                c.run(a, "peek", &[8], 1_000, 0).map(|s| match s {
                    ChildStep::Finished { result, .. } => result,
                    ChildStep::Syscall { .. } => None,
                }),
            )
        })
        .collect();
    assert_eq!(runs[0], runs[1]);
    assert_eq!(
        runs[0],
        (
            41,
            Err(ChildError::BadArgument),
            Ok(true),
            Ok(true),
            Ok(Some(41))
        )
    );
}
