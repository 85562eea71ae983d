//! Call traces (`Executor::trace_block_tx`): a transaction replayed on its
//! block's parent state gives the receipt the block recorded and the tree
//! of its frames, the same on both backends, and the frames' own gas with
//! what was charged outside them adds up to the receipt's gas.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use crate::{ALICE, BOB};
use ward_chain::tx::VerifiedTx;
use ward_executor::{Access, CallKind, Deploy, Executor, Payload, Trace, Tx};
use ward_primitives::Address;
use ward_sdk::codec::{call_input, encode};
use ward_state::{MemoryStore, StateRead};
use ward_vm::{BackendKind, Config, ErrorKind, Status};

/// One hop of a chain of calls: input = its revert flag (1 byte), then for
/// each callee below it its address (32 bytes) and flag. Writes "seen",
/// emits "hop", calls the next address with the rest, then reverts (exit
/// 7) when its flag is set.
const RELAY: &str = r#"(module
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "ward" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "seen")
  (data (i32.const 8) "hop")
  (func (export "main") (local $n i32)
    (local.set $n (call $input_size))
    (call $input_read (i32.const 1024) (i32.const 0) (local.get $n))
    (call $write (i32.const 0) (i32.const 4) (i32.const 1024) (i32.const 1))
    (call $emit (i32.const 8) (i32.const 3) (i32.const 1024) (i32.const 1))
    (if (i32.gt_u (local.get $n) (i32.const 1))
      (then (drop (call $call (i32.const 1025) (i32.const 1057)
                              (i32.sub (local.get $n) (i32.const 33))
                              (i64.const 1000000) (i32.const 0)))))
    (if (i32.load8_u (i32.const 1024)) (then (call $exit (i32.const 7))))))"#;

fn executor(kind: BackendKind) -> Executor<MemoryStore> {
    let config = Config::default();
    Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(kind, &config),
        &config,
    )
}

fn deploy(exec: &Executor<MemoryStore>, code: Vec<u8>, input: Vec<u8>, salt: u8) -> Address {
    let tx = Tx {
        sender: ALICE,
        gas_limit: 100_000_000,
        value: 0,
        payload: Payload::Deploy(Deploy::new(code, input).with_salt(vec![salt])),
    };
    let receipt = exec
        .execute_block(&[tx], u64::from(salt))
        .unwrap()
        .remove(0);
    assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
    receipt.address.unwrap()
}

fn call(to: Address, input: Vec<u8>, gas_limit: u64) -> Tx {
    crate::runtimes::call(to, input, gas_limit)
}

/// Runs `tx` as the second of a block after `before`, then replays it:
/// its trace, checked against the stored receipt and for its gas.
fn traced(exec: &Executor<MemoryStore>, before: Tx, tx: Tx) -> Trace {
    let txs = [before, tx];
    let receipts = exec.execute_block(&txs, 1_000).unwrap();
    let height = exec.store().height().unwrap();
    let block: Vec<VerifiedTx> = txs.clone().map(Tx::vouched).to_vec();
    let trace = exec.trace_block_tx(height, &block, 1).unwrap();
    assert_eq!(trace.receipt, receipts[1]);
    assert_eq!(trace.gas_accounted(), trace.receipt.gas_used, "{trace:#?}");
    // A later block changes the state; the replay reads the old one.
    exec.execute_block(&txs[..1], 2_000).unwrap();
    assert_eq!(exec.trace_block_tx(height, &block, 1).unwrap(), trace);
    // The whole block in one replay: each transaction's trace as alone.
    let all = exec.trace_block(height, &block).unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0], exec.trace_block_tx(height, &block, 0).unwrap());
    assert_eq!(all[0].receipt, receipts[0]);
    assert_eq!(all[1], trace);
    assert!(
        exec.trace_block(0, &[]).is_err(),
        "genesis has no parent state"
    );
    trace
}

#[test]
fn a_chain_of_three_calls_with_a_revert_in_the_middle() {
    let trace = crate::on_both_backends_alike(|kind| {
        let exec = executor(kind);
        let relay = wat::parse_str(RELAY).unwrap();
        let [a, b, c] = [1, 2, 3].map(|salt| deploy(&exec, relay.clone(), Vec::new(), salt));
        let mut input = vec![0];
        input.extend(b.0);
        input.push(1);
        input.extend(c.0);
        input.push(0);
        traced(
            &exec,
            call(a, vec![0], 1_000_000),
            call(a, input, 10_000_000),
        )
    });
    assert_eq!(trace.receipt.status.as_str(), "ok");
    assert_eq!(trace.charged[0].0, "intrinsic");
    let root = trace.root.as_ref().unwrap();
    assert_eq!((root.call, root.status), (CallKind::Call, Status::Ok));
    assert_eq!(root.caller, ALICE);
    assert_eq!(root.calls.len(), 1);
    let middle = &root.calls[0];
    assert_eq!(
        (middle.call, middle.status),
        (CallKind::Inner, Status::Reverted)
    );
    assert_eq!(middle.caller, root.address);
    assert_eq!(middle.gas_given, 1_000_000);
    let bottom = &middle.calls[0];
    assert_eq!(bottom.status, Status::Ok);
    // The root's write finds the block's first transaction's value.
    assert_eq!(
        root.accesses[0],
        Access::Write {
            key: b"seen".to_vec(),
            old: Some(vec![0]),
            new: Some(vec![0])
        }
    );
    assert!(bottom.calls.is_empty());
    // The bottom frame's write and event are in its trace, though its
    // caller's revert undid them.
    assert_eq!(
        bottom.accesses,
        vec![
            Access::Write {
                key: b"seen".to_vec(),
                old: None,
                new: Some(vec![0])
            },
            Access::Event {
                topic: b"hop".to_vec(),
                data: vec![0]
            },
        ]
    );
    assert!(root.gas_used > middle.gas_used && middle.gas_used > bottom.gas_used);
    assert_eq!(root.walk().len(), 3);
}

#[test]
fn a_token_transfer() {
    let trace = crate::on_both_backends_alike(|kind| {
        let exec = executor(kind);
        let token = deploy(
            &exec,
            ward_testkit::contracts::wasm("token"),
            encode(&1_000u128),
            1,
        );
        let transfer = |to: Address, amount: u128| {
            call(token, call_input("transfer", &(to, amount)), 10_000_000)
        };
        traced(&exec, transfer(Address([0xca; 32]), 1), transfer(BOB, 100))
    });
    assert_eq!(trace.receipt.status.as_str(), "ok");
    let root = trace.root.unwrap();
    assert_eq!(root.status, Status::Ok);
    let writes: Vec<_> = root
        .accesses
        .iter()
        .filter_map(|a| match a {
            Access::Write { old, new, .. } => Some((old.clone(), new.clone())),
            _ => None,
        })
        .collect();
    // Alice's balance from 999 (after the block's first transfer) to 899,
    // Bob's from none to 100.
    assert!(
        writes.contains(&(Some(encode(&999u128)), Some(encode(&899u128)))),
        "{writes:?}"
    );
    assert!(
        writes.contains(&(None, Some(encode(&100u128)))),
        "{writes:?}"
    );
    let events = root
        .accesses
        .iter()
        .filter(|a| matches!(a, Access::Event { .. }));
    assert_eq!(events.count(), trace.receipt.events.len());
}

#[test]
fn an_out_of_gas_call() {
    let trace = crate::on_both_backends_alike(|kind| {
        let exec = executor(kind);
        let relay = wat::parse_str(RELAY).unwrap();
        let a = deploy(&exec, relay, Vec::new(), 1);
        // Enough for the intrinsic cost and a little: not for the write.
        let size = call(a, vec![0], 0).encoded_len();
        let gas = exec.admit_sized(1_000_000, size).unwrap() + 2_000;
        traced(&exec, call(a, vec![0], 1_000_000), call(a, vec![0], gas))
    });
    assert_eq!(trace.receipt.status.as_str(), "out_of_gas");
    let root = trace.root.unwrap();
    assert_eq!(root.status, Status::OutOfGas);
    assert_eq!(root.error.as_ref().unwrap().0, ErrorKind::OutOfGas);
}

/// A call that traps in the engine (`unreachable`, then a division by
/// zero below a call): the traces agree on both backends to the letter,
/// each failure worded by its kind as a receipt is, not by the engine.
#[test]
fn a_trapping_call_is_traced_the_same_on_both_backends() {
    const TRAPS: &str = r#"(module
      (import "ward" "input_size" (func $input_size (result i32)))
      (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
      (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "main") (local $n i32)
        (local.set $n (call $input_size))
        (call $input_read (i32.const 0) (i32.const 0) (local.get $n))
        (if (i32.eq (local.get $n) (i32.const 32))
          (then (drop (call $call (i32.const 0) (i32.const 64) (i32.const 0)
                                  (i64.const 1000000) (i32.const 0)))
                (drop (i32.div_u (i32.const 1) (i32.load (i32.const 100))))))
        (unreachable)))"#;
    let trace = crate::on_both_backends_alike(|kind| {
        let exec = executor(kind);
        let traps = deploy(&exec, wat::parse_str(TRAPS).unwrap(), Vec::new(), 1);
        traced(
            &exec,
            call(traps, Vec::new(), 1_000_000),
            call(traps, traps.0.to_vec(), 10_000_000),
        )
    });
    assert_eq!(trace.receipt.status.as_str(), "trapped");
    let root = trace.root.unwrap();
    let (kind, message) = root.error.clone().unwrap();
    assert_eq!(kind, ErrorKind::IntegerDivideByZero);
    assert_eq!(message, "integer divide by zero");
    let (kind, message) = root.calls[0].error.clone().unwrap();
    assert_eq!(kind, ErrorKind::Unreachable);
    assert_eq!(message, "unreachable");
}

/// Gas estimation: the smallest limit with the outcome of the most gas,
/// the same on both backends; 1 % less fails or changes the outcome.
#[test]
fn estimates_are_the_least_gas_that_does_the_same() {
    let estimates = [BackendKind::Wasmtime, BackendKind::Wasmi].map(|kind| {
        let exec = executor(kind);
        let token = deploy(
            &exec,
            ward_testkit::contracts::wasm("token"),
            encode(&1_000u128),
            1,
        );
        let relay = wat::parse_str(RELAY).unwrap();
        let [a, b] = [2, 3].map(|salt| deploy(&exec, relay.clone(), Vec::new(), salt));
        let mut chain = vec![0];
        chain.extend(b.0);
        chain.push(0);
        let txs = [
            call(token, call_input("transfer", &(BOB, 100u128)), 0),
            call(a, chain, 0),
        ];
        txs.map(|tx| {
            let estimate = exec.estimate_gas(&tx, 10_000, u64::MAX).unwrap().unwrap();
            let with = |gas: u64| {
                let mut tx = tx.clone();
                tx.gas_limit = gas;
                exec.simulate(&tx.vouched(), 10_000).map(|s| s.receipt)
            };
            let at = with(estimate.gas).unwrap();
            assert_eq!(at, estimate.receipt);
            assert_eq!(at.status.as_str(), "ok");
            let less = with(estimate.gas * 99 / 100);
            assert!(
                less.as_ref().map_or(true, |r| {
                    !r.status.is_ok() || r.output != at.output || r.events != at.events
                }),
                "{less:?}"
            );
            (estimate.gas, estimate.receipt.gas_used)
        })
    });
    assert_eq!(estimates[0], estimates[1]);
    // A call that fails with all the gas there is: nothing to estimate.
    let exec = executor(BackendKind::Wasmi);
    let relay = wat::parse_str(RELAY).unwrap();
    let a = deploy(&exec, relay, Vec::new(), 1);
    let failed = exec
        .estimate_gas(&call(a, vec![1], 0), 10_000, 10_000_000)
        .unwrap();
    assert_eq!(failed.unwrap_err().status.as_str(), "reverted");
}

/// A contract running a child that makes syscalls (`contracts/plugins`):
/// the frame lists each step of the child, its syscalls and how it
/// finished, the same on both backends.
#[test]
fn a_contract_running_a_child_shows_its_syscalls() {
    use ward_vm::{ChildCall, ChildStep};
    let trace = crate::on_both_backends_alike(|kind| {
        let exec = executor(kind);
        let plugins = deploy(
            &exec,
            ward_testkit::contracts::wasm("plugins"),
            encode(&()),
            1,
        );
        let plugin = wat::parse_str(crate::contracts::VISITS_PLUGIN).unwrap();
        let upload = call(plugins, call_input("upload", &plugin), 50_000_000);
        let run = call(
            plugins,
            call_input("run", &(0u64, b"world".to_vec(), 1_000_000u64)),
            50_000_000,
        );
        traced(&exec, upload, run)
    });
    assert_eq!(trace.receipt.status.as_str(), "ok", "{:?}", trace.receipt);
    let steps = &trace.root.as_ref().unwrap().children;
    assert!(matches!(&steps[0].call, ChildCall::Run { export, .. } if export == "run"));
    // input_read, storage_read, storage_write, emit, output; then it
    // returns its count.
    let syscalls: Vec<i64> = steps
        .iter()
        .filter_map(|s| match &s.result {
            Ok(ChildStep::Syscall { args, .. }) => Some(args[0]),
            _ => None,
        })
        .collect();
    assert_eq!(syscalls, [1, 2, 3, 4, 5]);
    assert!(matches!(
        steps.last().unwrap().result,
        Ok(ChildStep::Finished {
            result: Some(1),
            ..
        })
    ));
    assert!(steps.iter().map(|s| s.gas_used).sum::<u64>() > 0);
}
