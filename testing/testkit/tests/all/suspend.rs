//! Suspension on both backends: host calls answered at once or by the
//! embedder after the guest suspends, from deep frames and many times a
//! run; replies that trap or abort; a sandbox busy while suspended, its
//! memory still the host's to read and write.

use ward_testkit::{Backends, assert_agree, run, wasm};
use ward_vm::{
    BackendKind, CallContext, Config, Entry, ErrorKind, FaultKind, FuncType, Host, HostAnswer,
    HostImport, NodeFault, Reply, Request, RunOptions, SandboxError, Status, Step, ValType, Value,
};

use crate::engine::ABI;

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
