//! Transient storage (`ward.transient_read`, `ward.transient_write`,
//! `docs/host-abi.md`) on both backends: the frames of a transaction share
//! it, a reverted frame's writes are undone, a read-only frame cannot
//! write, the next transaction (in the same block) starts empty, and a
//! transaction cannot hold more than `MAX_TX_TRANSIENT_BYTES`.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ward_state::{MemoryStore, Receipt};
use ward_vm::{BackendKind, Status};

use crate::executor::{call_tx, deploy_all, executor};

/// By its input's first byte: `w` writes key "k" with the rest, `W` does
/// and reverts, `r` outputs what "k" holds (its length as 4 bytes, -1 for
/// none, then the value), `f` writes 600 keys of 64 KiB; anything else
/// writes "outer" under "k", calls itself with flags byte 1 and input
/// the rest, and outputs the status, the callee's return data (its length
/// first) and what "k" holds then.
const TRANSIENT: &str = r#"(module
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (import "ward" "self_address" (func $self (param i32)))
  (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
  (import "ward" "return_data_size" (func $rd_size (result i32)))
  (import "ward" "return_data_read" (func $rd_read (param i32 i32 i32)))
  (import "ward" "transient_read" (func $tread (param i32 i32 i32 i32) (result i64)))
  (import "ward" "transient_write" (func $twrite (param i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "k")
  (data (i32.const 8) "outer")
  (func $read_k (param $dst i32) (result i32) (local $len i64)
    (local.set $len (call $tread (i32.const 0) (i32.const 1) (i32.add (local.get $dst) (i32.const 4)) (i32.const 64)))
    (i32.store (local.get $dst) (i32.wrap_i64 (local.get $len)))
    (if (result i32) (i64.lt_s (local.get $len) (i64.const 0))
      (then (i32.const 4))
      (else (i32.add (i32.const 4) (i32.wrap_i64 (local.get $len))))))
  (func (export "main") (local $n i32) (local $op i32) (local $status i32) (local $rd i32) (local $at i32) (local $i i32)
    (local.set $n (call $input_size))
    (call $input_read (i32.const 1024) (i32.const 0) (local.get $n))
    (local.set $op (i32.load8_u (i32.const 1024)))
    (if (i32.eq (local.get $op) (i32.const 119))
      (then (call $twrite (i32.const 0) (i32.const 1) (i32.const 1025) (i32.sub (local.get $n) (i32.const 1))) (return)))
    (if (i32.eq (local.get $op) (i32.const 87))
      (then (call $twrite (i32.const 0) (i32.const 1) (i32.const 1025) (i32.sub (local.get $n) (i32.const 1))) (call $exit (i32.const 1))))
    (if (i32.eq (local.get $op) (i32.const 114))
      (then (call $out (i32.const 4096) (call $read_k (i32.const 4096))) (return)))
    (if (i32.eq (local.get $op) (i32.const 102))
      (then
        (loop $l
          (i32.store (i32.const 16) (local.get $i))
          (call $twrite (i32.const 16) (i32.const 4) (i32.const 65536) (i32.const 65536))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $l (i32.lt_u (local.get $i) (i32.const 600))))
        (return)))
    (call $twrite (i32.const 0) (i32.const 1) (i32.const 8) (i32.const 5))
    (call $self (i32.const 2048))
    (local.set $status
      (call $call (i32.const 2048) (i32.const 1026) (i32.sub (local.get $n) (i32.const 2))
                  (i64.const 0x7fffffffffffffff) (i32.load8_u (i32.const 1025))))
    (i32.store (i32.const 4096) (local.get $status))
    (local.set $rd (call $rd_size))
    (i32.store (i32.const 4100) (local.get $rd))
    (call $rd_read (i32.const 4104) (i32.const 0) (local.get $rd))
    (local.set $at (i32.add (i32.const 4104) (local.get $rd)))
    (call $out (i32.const 4096)
      (i32.add (i32.sub (local.get $at) (i32.const 4096)) (call $read_k (local.get $at))))))"#;

/// What "k" holds, as the contract outputs it.
fn held(value: Option<&[u8]>) -> Vec<u8> {
    match value {
        None => (-1i32).to_le_bytes().to_vec(),
        Some(v) => [&(v.len() as i32).to_le_bytes()[..], v].concat(),
    }
}

/// A nested call's status, its return data, and what "k" holds after.
fn nested(status: i32, returned: &[u8], after: Option<&[u8]>) -> Vec<u8> {
    let mut out = status.to_le_bytes().to_vec();
    out.extend((returned.len() as i32).to_le_bytes());
    out.extend(returned);
    out.extend(held(after));
    out
}

fn run(kind: BackendKind) -> Vec<Receipt> {
    let exec = executor(Arc::new(MemoryStore::default()), kind);
    let contract = deploy_all(&exec, &[TRANSIENT])[0];
    // The fill needs about 34 M gas before it is refused.
    let gas = |input: &[u8]| if input == b"f" { 60_000_000 } else { 5_000_000 };
    let txs = [&b"c\x00r"[..], b"r", b"c\x00Wnew", b"c\x01wx", b"f", b"r"]
        .map(|input| call_tx(contract, input, gas(input)));
    exec.execute_block(&txs, 2).unwrap()
}

#[test]
fn transient_storage_lives_for_a_transaction_on_both_backends() {
    let runs: Vec<Vec<Receipt>> = BackendKind::ALL.into_iter().map(run).collect();
    for (kind, receipts) in BackendKind::ALL.into_iter().zip(&runs) {
        let outputs: Vec<(Status, Vec<u8>)> = receipts
            .iter()
            .map(|r| (r.status, r.output.clone()))
            .collect();
        let outer = Some(&b"outer"[..]);
        // A nested call of the contract reads what its caller wrote.
        assert_eq!(
            outputs[0],
            (Status::Ok, nested(0, &held(outer), outer)),
            "{kind}"
        );
        // The next transaction of the block starts with none.
        assert_eq!(outputs[1], (Status::Ok, held(None)), "{kind}");
        // A frame that reverts takes its write back.
        assert_eq!(outputs[2], (Status::Ok, nested(1, b"", outer)), "{kind}");
        // A read-only frame cannot write (its call fails, status 2).
        assert_eq!(outputs[3], (Status::Ok, nested(2, b"", outer)), "{kind}");
        // 600 keys of 64 KiB are more than a transaction may hold.
        let full = &receipts[4];
        assert_ne!(full.status, Status::Ok, "{kind}");
        let message = full.error_message.as_deref().unwrap_or_default();
        assert!(
            message.contains("MAX_TX_TRANSIENT_BYTES"),
            "{kind}: {message}"
        );
        assert_eq!(outputs[5], (Status::Ok, held(None)), "{kind}");
    }
    assert_eq!(runs[0], runs[1], "the backends agree");
}
