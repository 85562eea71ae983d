//! Calls between contracts on both backends: reverts and traps that
//! leave their caller running, read-only calls, depth, reentrancy, and
//! the memory of a transaction's frames.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ward_executor::ChainLimits;
use ward_primitives::Address;
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_vm::BackendKind;

use crate::executor::{COUNTER, call_tx, count, deploy_all, deploy_tx, executor};

/// Calls another contract: input = target address (32 bytes), flags (4),
/// gas (8), then the callee's input. Writes "before" before the call and
/// "after" after it, emits "outer", and outputs the status (4 bytes) and
/// the callee's return data.
pub(crate) const PROXY: &str = r#"(module
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "ward" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
  (import "ward" "return_data_size" (func $rd_size (result i32)))
  (import "ward" "return_data_read" (func $rd_read (param i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "before")
  (data (i32.const 8) "after")
  (data (i32.const 16) "outer")
  (func (export "main") (local $n i32) (local $status i32) (local $rd i32)
    (local.set $n (call $input_size))
    (call $input_read (i32.const 1024) (i32.const 0) (local.get $n))
    (call $write (i32.const 0) (i32.const 6) (i32.const 0) (i32.const 1))
    (local.set $status
      (call $call (i32.const 1024) (i32.const 1068) (i32.sub (local.get $n) (i32.const 44))
                  (i64.load (i32.const 1060)) (i32.load (i32.const 1056))))
    (call $write (i32.const 8) (i32.const 5) (i32.const 8) (i32.const 1))
    (call $emit (i32.const 16) (i32.const 5) (i32.const 16) (i32.const 0))
    (i32.store (i32.const 2048) (local.get $status))
    (local.set $rd (call $rd_size))
    (call $rd_read (i32.const 2052) (i32.const 0) (local.get $rd))
    (call $out (i32.const 2048) (i32.add (i32.const 4) (local.get $rd)))))"#;

/// Calls itself `n` levels deep (input: n as 4 bytes LE); outputs the
/// status of the first level that failed, or 0.
fn recurse() -> String {
    ward_testkit::module_importing(
        "input_read output_write self_address call return_data_read",
        r#"(memory (export "memory") 1)
  (func (export "main") (local $status i32)
    (call $input_read (i32.const 100) (i32.const 0) (i32.const 4))
    (if (i32.eqz (i32.load (i32.const 100)))
      (then (i32.store (i32.const 200) (i32.const 0)) (call $output_write (i32.const 200) (i32.const 4)) (return)))
    (call $self_address (i32.const 0))
    (i32.store (i32.const 104) (i32.sub (i32.load (i32.const 100)) (i32.const 1)))
    (local.set $status (call $call (i32.const 0) (i32.const 104) (i32.const 4) (i64.const 0x7fffffffffffffff) (i32.const 0)))
    (if (local.get $status)
      (then (i32.store (i32.const 200) (local.get $status)))
      (else (call $return_data_read (i32.const 200) (i32.const 0) (i32.const 4))))
    (call $output_write (i32.const 200) (i32.const 4)))"#,
    )
}

pub(crate) fn proxy_input(target: &Address, flags: u32, gas: u64, inner: &[u8]) -> Vec<u8> {
    let mut input = target.0.to_vec();
    input.extend(flags.to_le_bytes());
    input.extend(gas.to_le_bytes());
    input.extend(inner);
    input
}

fn status_of(receipt: &Receipt) -> i32 {
    i32::from_le_bytes(receipt.output[..4].try_into().unwrap())
}

/// Calls between contracts: success, a reverting and a trapping callee (the
/// caller carries on, the callee's writes are gone), read-only calls, a
/// missing callee; both backends agree on every receipt and on the state.
fn calls_scenario(kind: BackendKind) -> (Vec<Receipt>, ward_state::Entries, ward_state::Entries) {
    let store = Arc::new(MemoryStore::default());
    let exec = executor(store.clone(), kind);
    let [a, b] = deploy_all(&exec, &[PROXY, COUNTER])[..] else {
        unreachable!()
    };
    let receipts = exec
        .execute_block(
            &[
                call_tx(a, &proxy_input(&b, 0, 1_000_000, b""), 10_000_000),
                call_tx(a, &proxy_input(&b, 0, 1_000_000, b"revert"), 10_000_000),
                call_tx(a, &proxy_input(&b, 0, 50_000, b"trap"), 10_000_000),
                call_tx(a, &proxy_input(&b, 1, 1_000_000, b""), 10_000_000),
                call_tx(
                    a,
                    &proxy_input(&Address([9; 32]), 0, 1_000_000, b""),
                    10_000_000,
                ),
                // More gas asked than the caller has: capped, and the
                // callee that burns it all does not take the caller down.
                call_tx(a, &proxy_input(&b, 0, i64::MAX as u64, b"spin"), 2_000_000),
            ],
            2,
        )
        .unwrap();
    for r in &receipts {
        assert_eq!(r.status.as_str(), "ok", "{kind}: {r:?}");
    }
    let statuses: Vec<i32> = receipts.iter().map(status_of).collect();
    assert_eq!(statuses, [0, 1, 2, 2, 2, 2], "{kind}");
    // The successful call returned the count and both contracts' events.
    assert_eq!(receipts[0].output[4..], 1u64.to_le_bytes());
    let topics: Vec<&[u8]> = receipts[0]
        .events
        .iter()
        .map(|e| e.topic.as_slice())
        .collect();
    assert_eq!(topics, [&b"inc"[..], b"outer"]);
    // The reverted callee's output is still returned; its event is gone.
    assert_eq!(receipts[1].events.len(), 1);
    // A trapping callee burned exactly what it was given.
    // (plus the proxy's own two writes and an event, and both instances)
    assert!(
        receipts[2].gas_used > 50_000 && receipts[2].gas_used < 80_000,
        "{}",
        receipts[2].gas_used
    );
    // Only the first call counted.
    assert_eq!(count(&*store, &b), Some(1));
    (
        receipts,
        store.storage_entries(&a).unwrap(),
        store.storage_entries(&b).unwrap(),
    )
}

#[test]
fn calls_between_contracts_agree_on_both_backends() {
    crate::on_both_backends_alike(calls_scenario);
}

/// A 1024-deep chain of calls (reentrant: the contract calls itself) runs
/// on both backends without growing the native stack (this runs on a test
/// thread's 2 MiB stack); one level more fails, to its caller, as status 2.
#[test]
fn a_1024_deep_chain_runs_and_the_1025th_call_fails_to_its_caller() {
    let mut outputs = Vec::new();
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        // Far above the default gas maxima: see the comment below.
        let exec = executor(store.clone(), kind).with_limits(ChainLimits {
            max_tx_gas: 1 << 62,
            max_block_gas: u64::MAX,
            ..ChainLimits::default()
        });
        let code = wat::parse_str(recurse()).unwrap();
        let at = exec
            .execute_block(&[deploy_tx(&code, b"", b"")], 1)
            .unwrap()[0]
            .address
            .unwrap();
        let deep = exec
            .execute_block(
                &[
                    // Each level keeps a 64th of its gas (the 63/64 rule):
                    // 1024 levels need a large budget at the root.
                    call_tx(at, &1023u32.to_le_bytes(), 1 << 62),
                    call_tx(at, &1024u32.to_le_bytes(), 1 << 62),
                ],
                2,
            )
            .unwrap();
        assert_eq!(deep[0].status.as_str(), "ok", "{kind}: {:?}", deep[0]);
        assert_eq!(status_of(&deep[0]), 0, "{kind}: 1024 frames run");
        assert_eq!(deep[1].status.as_str(), "ok");
        assert_eq!(status_of(&deep[1]), 2, "{kind}: the 1025th frame fails");
        outputs.push(deep);
    }
    assert_eq!(outputs[0], outputs[1]);
}

/// Reentrancy (A -> B -> A) is allowed, and every frame sees the journal's
/// current state: the inner A reads what the outer A wrote before calling.
/// Unused gas comes back: a transaction pays for what its callees used,
/// not for what it forwarded.
#[test]
fn reentrant_frames_see_current_state_and_unused_gas_returns() {
    // A: input "peek": output its "seen" value. Input = an address (B):
    // write "seen" = 1, call B with A's own address, output B's answer.
    let reentrant = r#"(module
      (import "ward" "input_size" (func $input_size (result i32)))
      (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
      (import "ward" "output_write" (func $out (param i32 i32)))
      (import "ward" "storage_read" (func $read (param i32 i32 i32 i32) (result i64)))
      (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
      (import "ward" "self_address" (func $self (param i32)))
      (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
      (import "ward" "return_data_size" (func $rd_size (result i32)))
      (import "ward" "return_data_read" (func $rd_read (param i32 i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 0) "seen")
      (data (i32.const 8) "peek")
      (func (export "main") (local $n i32)
        (local.set $n (call $input_size))
        (call $input_read (i32.const 100) (i32.const 0) (local.get $n))
        (if (i32.eq (local.get $n) (i32.const 4))
          (then
            (drop (call $read (i32.const 0) (i32.const 4) (i32.const 200) (i32.const 8)))
            (call $out (i32.const 200) (i32.const 8))
            (return)))
        (i64.store (i32.const 200) (i64.const 1))
        (call $write (i32.const 0) (i32.const 4) (i32.const 200) (i32.const 8))
        (call $self (i32.const 300))
        (if (i32.eqz (call $call (i32.const 100) (i32.const 300) (i32.const 32) (i64.const 5000000) (i32.const 0)))
          (then
            (call $rd_read (i32.const 400) (i32.const 0) (call $rd_size))
            (call $out (i32.const 400) (call $rd_size))))))"#;
    // B: calls back the address it was given with "peek", returns the answer.
    let b_wat = r#"(module
      (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
      (import "ward" "output_write" (func $out (param i32 i32)))
      (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
      (import "ward" "return_data_read" (func $rd_read (param i32 i32 i32)))
      (memory (export "memory") 1)
      (data (i32.const 64) "peek")
      (func (export "main")
        (call $input_read (i32.const 0) (i32.const 0) (i32.const 32))
        (drop (call $call (i32.const 0) (i32.const 64) (i32.const 4) (i64.const 1000000) (i32.const 0)))
        (call $rd_read (i32.const 100) (i32.const 0) (i32.const 8))
        (call $out (i32.const 100) (i32.const 8))))"#;
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let exec = executor(store.clone(), kind);
        let [a, b] = deploy_all(&exec, &[reentrant, b_wat])[..] else {
            unreachable!()
        };
        // A -> B -> A("peek"): the inner A sees the outer A's write.
        let receipts = exec
            .execute_block(&[call_tx(a, &b.0, 10_000_000)], 2)
            .unwrap();
        assert_eq!(
            receipts[0].status.as_str(),
            "ok",
            "{kind}: {:?}",
            receipts[0]
        );
        assert_eq!(receipts[0].output, 1u64.to_le_bytes(), "{kind}");
        runs.push(receipts[0].clone());
        // Unused gas returns: far less than the 5 000 000 forwarded was paid.
        assert!(receipts[0].gas_used < 100_000, "{}", receipts[0].gas_used);
    }
    assert_eq!(runs[0], runs[1]);
}

/// Reverting a frame discards its children's writes and events too, while
/// its caller carries on: A -> B -> C where C counts and B then reverts.
#[test]
fn a_reverted_frame_takes_its_childrens_writes_and_events_with_it() {
    // Calls the address in its input, then reverts with code 3.
    let reverter = r#"(module
      (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
      (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
      (import "ward" "exit" (func $exit (param i32)))
      (memory (export "memory") 1)
      (func (export "main")
        (call $input_read (i32.const 0) (i32.const 0) (i32.const 32))
        (drop (call $call (i32.const 0) (i32.const 64) (i32.const 0) (i64.const 1000000) (i32.const 0)))
        (call $exit (i32.const 3))))"#;
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let exec = executor(store.clone(), kind);
        let [a, b, c] = deploy_all(&exec, &[PROXY, reverter, COUNTER])[..] else {
            unreachable!()
        };
        let receipts = exec
            .execute_block(
                &[call_tx(a, &proxy_input(&b, 0, 5_000_000, &c.0), 10_000_000)],
                2,
            )
            .unwrap();
        let r = &receipts[0];
        assert_eq!(r.status.as_str(), "ok", "{kind}: {r:?}");
        assert_eq!(status_of(r), 1, "{kind}: B reverted");
        // C's count and C's event are gone with B; A's own writes stay.
        assert_eq!(count(&*store, &c), Some(0), "{kind}");
        let topics: Vec<&[u8]> = r.events.iter().map(|e| e.topic.as_slice()).collect();
        assert_eq!(topics, [&b"outer"[..]], "{kind}");
        assert_eq!(store.storage(&a, b"after").unwrap(), Some(vec![b'a']));
        runs.push(receipts);
    }
    assert_eq!(runs[0], runs[1]);
}
