//! How deep a chain of contract calls goes, pinned: a platform's depth
//! limits are part of its contract with deployed code, so a change to
//! them must be a decision (re-blessed with `BLESS=1` and said in
//! docs/gas.md, "Call depth"), never an accident of some other work.
//!
//! Each shape is a contract that calls itself with its input less one
//! until it reaches zero, forwarding all its gas; the deepest chain that
//! succeeds under the chain's default limits, with a transaction at the
//! default `max_tx_gas`, and what stops the next level, are the same on
//! both backends and as `golden/depth.golden` says.

#![allow(clippy::unwrap_used, reason = "test")]

use std::{path::Path, sync::Arc};

use crate::ALICE;
use ward_executor::{ChainLimits, Deploy, Executor, Payload, Tx};
use ward_primitives::Address;
use ward_state::{MemoryStore, StateRead};
use ward_vm::{BackendKind, Config};

/// A self-calling contract with `locals` more `i64` locals than it needs
/// and, when `write`, a storage write per level (the issue's probe: an
/// input read, a storage write, one `ward.call` of itself). The input is
/// the levels still to go (a `u32`); a level whose call fails exits with
/// the call's status, so the whole chain reverts.
fn shape(locals: usize, write: bool) -> String {
    let write = if write {
        "(call $write (i32.const 300) (i32.const 1) (i32.const 100) (i32.const 4))"
    } else {
        ""
    };
    format!(
        r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "ward" "self_address" (func $self (param i32)))
  (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 300) "d")
  (func (export "main") (local $status i32) {extra}
    (call $input_read (i32.const 100) (i32.const 0) (i32.const 4))
    {write}
    (if (i32.eqz (i32.load (i32.const 100))) (then (return)))
    (call $self (i32.const 0))
    (i32.store (i32.const 104) (i32.sub (i32.load (i32.const 100)) (i32.const 1)))
    (local.set $status (call $call (i32.const 0) (i32.const 104) (i32.const 4) (i64.const 0x7fffffffffffffff) (i32.const 0)))
    (if (local.get $status) (then (call $exit (local.get $status))))))"#,
        extra = if locals == 0 {
            String::new()
        } else {
            format!("(local {})", "i64 ".repeat(locals))
        },
    )
}

/// The shapes pinned, by name.
fn shapes() -> Vec<(&'static str, String)> {
    vec![
        ("call_only", shape(0, false)),
        ("input_write_call", shape(0, true)),
        ("input_write_call_32_locals", shape(32, true)),
        ("input_write_call_256_locals", shape(256, true)),
    ]
}

struct Chain {
    exec: Executor<MemoryStore>,
    at: Address,
    time: u64,
}

impl Chain {
    fn new(kind: BackendKind, code: &str) -> Chain {
        let config = Config::default();
        let exec = Executor::new(
            Arc::new(MemoryStore::default()),
            ward_testkit::backend(kind, &config),
            &config,
        );
        let deploy = Tx {
            sender: ALICE,
            gas_limit: 10_000_000,
            value: 0,
            payload: Payload::Deploy(Deploy::new(wat::parse_str(code).unwrap(), Vec::new())),
        };
        let at = exec.execute_block(&[deploy], 1).unwrap()[0]
            .address
            .unwrap();
        Chain { exec, at, time: 1 }
    }

    fn call(&self, levels: u32) -> Tx {
        Tx::call(
            ALICE,
            self.at,
            levels.to_le_bytes().to_vec(),
            ChainLimits::default().max_tx_gas,
        )
    }

    /// Whether a chain of `levels` calls below the first succeeds.
    fn reaches(&mut self, levels: u32) -> bool {
        self.time += 1;
        let receipt = self
            .exec
            .execute_block(&[self.call(levels)], self.time)
            .unwrap()
            .remove(0);
        receipt.status.is_ok()
    }

    /// What stopped the level below the deepest that runs: the deepest
    /// failed frame's error kind, from the replayed trace.
    fn stopped_by(&mut self, levels: u32) -> String {
        self.time += 1;
        let tx = self.call(levels);
        self.exec
            .execute_block(std::slice::from_ref(&tx), self.time)
            .unwrap();
        let height = self.exec.store().height().unwrap();
        let trace = self
            .exec
            .trace_block_tx(height, &[tx.vouched()], 0)
            .unwrap();
        let mut frame = trace.root.as_ref().unwrap();
        while let Some(next) = frame.calls.last() {
            frame = next;
        }
        frame
            .error
            .as_ref()
            .map_or_else(|| "none".to_owned(), |(kind, _)| kind.as_str().to_owned())
    }
}

/// The deepest chain of `code` that runs on `kind` (binary search), and
/// what stops one level more.
fn deepest(kind: BackendKind, code: &str) -> (u32, String) {
    let mut chain = Chain::new(kind, code);
    let (mut ok, mut fails) = (0u32, 4096u32);
    assert!(!chain.reaches(fails), "deeper than {fails}");
    while fails - ok > 1 {
        let mid = ok + (fails - ok) / 2;
        if chain.reaches(mid) {
            ok = mid;
        } else {
            fails = mid;
        }
    }
    (ok, chain.stopped_by(fails))
}

#[test]
fn the_depth_of_each_frame_shape_is_pinned() {
    let mut actual = String::new();
    for (name, code) in shapes() {
        let [a, b] = [BackendKind::Wasmtime, BackendKind::Wasmi].map(|kind| deepest(kind, &code));
        assert_eq!(a, b, "{name}: the backends differ");
        actual.push_str(&format!("{name} levels={} then={}\n", a.0, a.1));
    }
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/depth.golden");
    if std::env::var_os("BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
    }
    let expected =
        std::fs::read_to_string(&path).expect("tests/golden/depth.golden (BLESS=1 to create)");
    assert_eq!(
        actual, expected,
        "call depths changed: decide, say so in docs/gas.md (\"Call depth\"), then re-bless"
    );
    // docs/gas.md's table states each depth and what stops the next.
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/gas.md"))
            .unwrap();
    for line in actual.lines() {
        let levels = line
            .split("levels=")
            .nth(1)
            .unwrap()
            .split(' ')
            .next()
            .unwrap();
        let then = line.split("then=").nth(1).unwrap();
        let row = format!("| {levels} | `{then}` |");
        assert!(doc.contains(&row), "docs/gas.md lacks {row:?}");
    }
}
