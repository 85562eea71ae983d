//! Cancellation (`ward_vm::Cancel`) on both backends: a call cancelled
//! from another thread ends with `cancelled`, wherever it spins; a flag
//! that is never raised changes nothing (not the gas, not the outcome);
//! and a recycled instance forgets the flag of its last call.

use std::{sync::mpsc, thread, time::Duration};

use ward_testkit::{Backends, wasm};
use ward_vm::{Cancel, Entry, ErrorKind, Execution, RunOptions, Status};

/// A backstop far beyond any wait here, so that a cancel that never
/// lands shows as `timeout` instead of a hung test.
const BACKSTOP: Duration = Duration::from_secs(300);

fn spin() -> Vec<u8> {
    wasm(r#"(module (func (export "main") (loop (br 0))))"#)
}

fn options(cancel: Option<Cancel>) -> RunOptions {
    RunOptions {
        timeout: Some(BACKSTOP),
        cancel,
        ..RunOptions::default()
    }
}

fn assert_cancelled(run: &Execution) {
    let error = run.outcome.error.as_ref().map(|e| e.kind);
    assert_eq!(error, Some(ErrorKind::Cancelled), "{:?}", run.outcome);
    assert_eq!(run.outcome.status, Status::Timeout);
}

#[test]
fn a_spinning_call_cancelled_from_another_thread_ends_cancelled() {
    let backends = Backends::default();
    let spin = spin();
    let runs = backends.each(|backend| {
        let cancel = Cancel::new();
        let (started, wait) = mpsc::channel();
        let canceller = {
            let cancel = cancel.clone();
            thread::spawn(move || {
                // Cancelled once the call is under way (or, on a slow
                // machine, before it begins: the outcome is the same).
                wait.recv().unwrap();
                thread::sleep(Duration::from_millis(20));
                cancel.cancel();
            })
        };
        started.send(()).unwrap();
        let run = ward_testkit::run(
            backend,
            &backends.config,
            &spin,
            &Entry::Main("main".into()),
            options(Some(cancel)),
            ward_vm::CallContext::default(),
            &mut |r| ward_vm::Reply::Trap(format!("unexpected {r:?}")),
        );
        canceller.join().unwrap();
        run
    });
    runs.iter().for_each(assert_cancelled);
}

#[test]
fn a_call_cancelled_before_it_starts_never_runs_its_loop() {
    let cancel = Cancel::new();
    cancel.cancel();
    let backends = Backends::default();
    let entry = Entry::Main("main".into());
    let runs = backends.run(&spin(), &entry, &options(Some(cancel.clone())));
    runs.iter().for_each(assert_cancelled);
    // A call that would end long before the first epoch tick is cancelled
    // too: both backends look at the flag before the entry runs, not at a
    // first tick (which a starved ticker thread may deliver late).
    let empty = wasm(r#"(module (func (export "main")))"#);
    let runs = backends.run(&empty, &entry, &options(Some(cancel)));
    runs.iter().for_each(assert_cancelled);
    assert_eq!(runs[0], runs[1], "the backends agree");
}

#[test]
fn a_flag_never_raised_changes_nothing() {
    // Work that takes many fuel slices and epoch ticks' worth of
    // instructions, then returns: the same outcome, gas and output with
    // and without a flag, on both backends.
    let work = wasm(
        r#"(module
          (import "ward" "output_write" (func $out (param i32 i32)))
          (memory (export "memory") 1)
          (func (export "main") (local $i i32) (local $acc i32)
            (loop $l
              (local.set $acc (i32.add (local.get $acc) (i32.mul (local.get $i) (i32.const 7))))
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 3000000))))
            (i32.store (i32.const 0) (local.get $acc))
            (call $out (i32.const 0) (i32.const 4))))"#,
    );
    let backends = Backends::default();
    let entry = Entry::Main("main".into());
    let plain = backends.run(&work, &entry, &options(None));
    let flagged = backends.run(&work, &entry, &options(Some(Cancel::new())));
    assert_eq!(plain, flagged);
    assert_eq!(plain[0].outcome.status, Status::Ok);
    assert_eq!(plain[0], plain[1], "the backends agree");
}

#[test]
fn a_recycled_instance_forgets_the_last_calls_flag() {
    // One module compiled once, so its instance goes back to its pool
    // after each call; a flag raised after its call ended must not reach
    // the next call of the recycled instance.
    let backends = Backends::default();
    let work = wasm(
        r#"(module (memory (export "memory") 1)
          (func (export "main") (local $i i32)
            (loop $l
              (local.set $i (i32.add (local.get $i) (i32.const 1)))
              (br_if $l (i32.lt_u (local.get $i) (i32.const 2000000))))))"#,
    );
    let entry = Entry::Main("main".into());
    let runs = backends.each(|backend| {
        let module = ward_vm::compile(backend, &backends.config, &work).unwrap();
        let call = |cancel: Option<Cancel>| {
            ward_vm::execute(
                backend,
                &module,
                &entry,
                options(cancel),
                ward_vm::CallContext::default(),
                &mut |r| ward_vm::Reply::Trap(format!("unexpected {r:?}")),
            )
            .unwrap()
        };
        let mut outcomes = Vec::new();
        for _ in 0..3 {
            let old = Cancel::new();
            outcomes.push(call(Some(old.clone())));
            old.cancel();
            outcomes.push(call(None));
        }
        let raised = Cancel::new();
        raised.cancel();
        assert_cancelled(&call(Some(raised)));
        outcomes.push(call(None));
        outcomes
    });
    for run in runs.iter().flatten() {
        assert_eq!(run.outcome.status, Status::Ok, "{:?}", run.outcome);
    }
    assert_eq!(runs[0], runs[1], "the backends agree");
}

/// The tiered backend (wasmi until wasmtime has compiled the module)
/// passes the flag to whichever tier runs the call.
#[test]
fn the_tiered_backend_cancels_on_either_tier() {
    let config = ward_vm::Config::default();
    let tiered = ward_backends::tiered(&config).unwrap();
    let spin = spin();
    let module = ward_vm::compile(&tiered, &config, &spin).unwrap();
    for _ in 0..2 {
        let cancel = Cancel::new();
        let canceller = {
            let cancel = cancel.clone();
            thread::spawn(move || {
                thread::sleep(Duration::from_millis(20));
                cancel.cancel();
            })
        };
        let run = ward_vm::execute(
            &tiered,
            &module,
            &Entry::Main("main".into()),
            options(Some(cancel)),
            ward_vm::CallContext::default(),
            &mut |r| ward_vm::Reply::Trap(format!("unexpected {r:?}")),
        )
        .unwrap();
        canceller.join().unwrap();
        assert_cancelled(&run);
    }
}
