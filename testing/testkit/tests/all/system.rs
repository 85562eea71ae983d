//! System runtimes: reused instances, swapped contexts, rebuilt after
//! failures, in both metering modes, on both backends.

use ward_testkit::{assert_agree, backend, system_call, wasm};
use ward_vm::{
    BackendKind, CallContext, Config, Entry, ErrorKind, Execution, Gas, Metering, Reply,
    RunOptions, Status, SystemRuntimes,
};

/// System runtimes on `kind` with `text` registered as `metering` says.
fn registered(
    kind: BackendKind,
    config: &Config,
    text: &str,
    metering: Metering,
) -> (SystemRuntimes, ward_vm::CodeHash) {
    let runtimes = SystemRuntimes::new(backend(kind, config), config);
    let code = runtimes.register(&wasm(text), metering).unwrap();
    (runtimes, code)
}

/// Counts its calls in a global and in memory; echoes the input after the
/// count; traps on input "trap"; loops on input "spin". The start function
/// does work that no call may be charged for.
const COUNTER: &str = r#"(module
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (func $start (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 1000)))))
  (start $start)
  (func (export "main") (local $n i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (i32.store (i32.const 0) (global.get $calls))
    (local.set $n (call $input_size))
    (call $input_read (i32.const 4) (i32.const 0) (local.get $n))
    (if (i32.eq (i32.load (i32.const 4)) (i32.const 0x70617274)) (then unreachable))
    (if (i32.eq (i32.load (i32.const 4)) (i32.const 0x6e697073))
      (then (loop $forever (br $forever))))
    (call $out (i32.const 0) (i32.add (local.get $n) (i32.const 4)))))"#;

fn count(run: &Execution) -> u32 {
    u32::from_le_bytes(run.outcome.output[..4].try_into().unwrap())
}

#[test]
fn system_runtime_instances_are_reused_and_rebuilt_after_failures() {
    let config = Config::default();
    let mut transcripts: Vec<Vec<Execution>> = Vec::new();
    for kind in BackendKind::ALL {
        let (runtimes, code) = registered(kind, &config, COUNTER, Metering::Instrumented);
        let mut transcript = Vec::new();
        // Reused: the count goes up, each call sees only its own input, and
        // equal work costs equal gas (the build was charged to no call).
        for (i, input) in [&b"aa"[..], b"bbbb", b"cc"].iter().enumerate() {
            let run = system_call(&runtimes, &code, input, 1_000_000);
            assert_eq!(run.outcome.status, Status::Ok, "{kind}: {:?}", run.outcome);
            assert_eq!(count(&run), i as u32 + 1);
            assert_eq!(&run.outcome.output[4..], *input);
            transcript.push(run);
        }
        assert_eq!(
            transcript[0].outcome.gas_used,
            transcript[2].outcome.gas_used
        );
        assert_eq!(runtimes.instance_builds(), 1, "{kind}");

        // A trap drops the instance; the next call starts from a fresh one.
        let trapped = system_call(&runtimes, &code, b"trap", 1_000_000);
        assert_eq!(trapped.outcome.status, Status::Trapped);
        let after = system_call(&runtimes, &code, b"x", 1_000_000);
        assert_eq!(count(&after), 1, "{kind}: rebuilt");
        assert_eq!(runtimes.instance_builds(), 2);

        // So does running out of gas, and a timeout.
        let starved = system_call(&runtimes, &code, b"spin", 10_000);
        assert_eq!(starved.outcome.status, Status::OutOfGas);
        assert_eq!(count(&system_call(&runtimes, &code, b"y", 1_000_000)), 1);
        assert_eq!(runtimes.instance_builds(), 3);
        let mut no_service = |_| Reply::Trap("no services".into());
        let timed_out = runtimes
            .call(
                &code,
                &Entry::Main("main".into()),
                RunOptions {
                    input: b"spin".to_vec(),
                    gas_limit: Gas::new(u64::MAX),
                    timeout: Some(std::time::Duration::from_millis(50)),
                    ..RunOptions::default()
                },
                CallContext::default(),
                &mut no_service,
            )
            .expect("no node fault");
        assert_eq!(timed_out.outcome.status, Status::Timeout, "{kind}");
        assert_eq!(count(&system_call(&runtimes, &code, b"z", 1_000_000)), 1);
        assert_eq!(runtimes.instance_builds(), 4);

        transcript.extend([trapped, after, starved]);
        transcripts.push(transcript);
    }
    // Both backends tell the same story, call by call.
    for (a, b) in transcripts[0].iter().zip(&transcripts[1]) {
        assert_agree(&[a.clone(), b.clone()]);
    }
}

/// Recurses to the depth in the input's first word, and there returns, or
/// calls `exit(0)` when the second word is nonzero.
const DIVER: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (func $down (param $n i32) (param $exit i32)
    (if (i32.eqz (local.get $n))
      (then
        (if (local.get $exit) (then (call $exit (i32.const 0))))
        (return)))
    (call $down (i32.sub (local.get $n) (i32.const 1)) (local.get $exit)))
  (func (export "main")
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 8))
    (call $down (i32.load (i32.const 0)) (i32.load (i32.const 4)))))"#;

#[test]
fn an_exit_from_deep_frames_never_shrinks_the_next_calls_stack() {
    let config = Config::default();
    let mut deepest = Vec::new();
    for kind in BackendKind::ALL {
        let (runtimes, code) = registered(kind, &config, DIVER, Metering::Instrumented);
        // The outcome's status, with a stack overflow told apart.
        let dive = |depth: u32, exit: bool| {
            let mut input = depth.to_le_bytes().to_vec();
            input.extend(u32::from(exit).to_le_bytes());
            let outcome = system_call(&runtimes, &code, &input, 1 << 40).outcome;
            match outcome.error.map(|e| e.kind) {
                Some(ErrorKind::StackOverflow) => Err(()),
                _ => Ok(outcome.status),
            }
        };
        const OK: Result<Status, ()> = Ok(Status::Ok);
        const OVERFLOW: Result<Status, ()> = Err(());
        // The deepest dive that fits: `ok` fits, `over` overflows.
        let (mut ok, mut over) = (1u32, 1u32 << 20);
        assert_eq!(dive(ok, false), OK);
        assert_eq!(dive(over, false), OVERFLOW);
        while over - ok > 1 {
            let mid = ok + (over - ok) / 2;
            match dive(mid, false) {
                OK => ok = mid,
                OVERFLOW => over = mid,
                other => panic!("{kind}: depth {mid}: {other:?}"),
            }
        }
        // A dive that returns leaves the instance reusable at full depth.
        assert_eq!(dive(ok, false), OK);
        let builds = runtimes.instance_builds();
        assert_eq!(dive(ok, false), OK);
        assert_eq!(dive(ok, false), OK);
        assert_eq!(runtimes.instance_builds(), builds, "{kind}: reused");
        // Dives that `exit` at the bottom unwind frames that never leave:
        // the next call still gets the whole stack (a fresh instance).
        for _ in 0..3 {
            assert_eq!(dive(ok, true), OK, "{kind}");
        }
        assert_eq!(dive(ok, false), OK, "{kind}");
        assert_eq!(dive(ok + 1, false), OVERFLOW);
        assert!(runtimes.instance_builds() >= builds + 3, "{kind}: rebuilt");
        deepest.push(ok);
    }
    assert_eq!(deepest[0], deepest[1], "the same limit on both backends");
}

#[test]
fn self_metered_system_runtimes_pay_what_they_charge() {
    // Charges 7 gas per input byte, itself.
    let runtime = r#"(module
      (import "ward" "input_size" (func $input_size (result i32)))
      (import "ward" "charge_gas" (func $charge (param i64)))
      (memory (export "memory") 1)
      (func (export "main")
        (call $charge (i64.mul (i64.extend_i32_u (call $input_size)) (i64.const 7)))))"#;
    let config = Config::default();
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let (runtimes, code) = registered(kind, &config, runtime, Metering::SelfMetered);
        let small = system_call(&runtimes, &code, &[0; 10], 1_000_000);
        let large = system_call(&runtimes, &code, &[0; 110], 1_000_000);
        assert_eq!(small.outcome.status, Status::Ok, "{:?}", small.outcome);
        assert_eq!(
            large.outcome.gas_used.get() - small.outcome.gas_used.get(),
            700,
            "{kind}"
        );
        let broke = system_call(&runtimes, &code, &[0; 100], 500);
        assert_eq!(broke.outcome.status, Status::OutOfGas);
        assert_eq!(runtimes.instance_builds(), 1);
        system_call(&runtimes, &code, &[0; 1], 1_000_000);
        assert_eq!(
            runtimes.instance_builds(),
            2,
            "{kind}: rebuilt after running out"
        );
        runs.push((small, large, broke));
    }
    assert_agree(&[runs[0].0.clone(), runs[1].0.clone()]);
    assert_agree(&[runs[0].1.clone(), runs[1].1.clone()]);
    assert_agree(&[runs[0].2.clone(), runs[1].2.clone()]);
}

#[test]
fn unknown_system_runtimes_and_entries_are_typed_errors() {
    let config = Config::default();
    let runtimes = SystemRuntimes::new(backend(BackendKind::Wasmtime, &config), &config);
    let missing = system_call(&runtimes, &ward_vm::CodeHash([1; 32]), b"", 1000);
    assert_eq!(missing.outcome.status, Status::Rejected);
    let code = runtimes
        .register(&wasm(COUNTER), Metering::Instrumented)
        .unwrap();
    let mut no_service = |_| Reply::Trap("no services".into());
    let run = runtimes
        .call(
            &code,
            &Entry::Main("nope".into()),
            RunOptions::default(),
            CallContext::default(),
            &mut no_service,
        )
        .expect("no node fault");
    assert_eq!(
        run.outcome.error.map(|e| e.kind),
        Some(ErrorKind::EntryNotFound)
    );
}

/// A runtime's pooled instance is read and written through the registry
/// between calls: the counter's count is in its memory at 0, and what is
/// written there is what the next call on this thread counts from.
#[test]
fn a_runtime_s_pooled_instance_memory_is_read_and_written_between_calls() {
    let config = Config::default();
    for kind in BackendKind::ALL {
        let (runtimes, code) = registered(kind, &config, COUNTER, Metering::Instrumented);
        system_call(&runtimes, &code, b"a", 1_000_000);
        system_call(&runtimes, &code, b"b", 1_000_000);
        let mut word = [0u8; 4];
        runtimes.read_memory(&code, 0, &mut word).unwrap();
        assert_eq!(u32::from_le_bytes(word), 2, "{kind}");
        // The count lives in a global too; memory is what the next call
        // stores over, so write something else and see it read back.
        runtimes.write_memory(&code, 8, b"from the host").unwrap();
        let mut text = [0u8; 13];
        runtimes.read_memory(&code, 8, &mut text).unwrap();
        assert_eq!(&text, b"from the host");
        // The instance stays pooled: the next call is its third.
        assert_eq!(count(&system_call(&runtimes, &code, b"c", 1_000_000)), 3);
        // Past the memory's end, and an unknown runtime: typed failures.
        let end = 65_536;
        assert_eq!(
            runtimes
                .read_memory(&code, end, &mut word)
                .unwrap_err()
                .kind,
            ErrorKind::HostError
        );
        let unknown = ward_vm::CodeHash([7; 32]);
        assert!(runtimes.write_memory(&unknown, 0, b"x").is_err());
    }
}
