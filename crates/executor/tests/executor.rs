//! The executor on both backends: deploys, calls, failures that leave
//! nothing behind, read-only queries, persistence on redb.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ward_executor::{ExecError, Executor, Tx, contract_address};
use ward_primitives::{Address, Hash32};
use ward_state::{MemoryStore, Receipt, RedbStore, StateCommit, StateRead};
use ward_vm::{BackendKind, Config};

/// A counter: `deploy` stores the initial count from its input (8 bytes LE,
/// or 0); `main` adds one, emits `inc`, outputs the new count. Input
/// "revert" writes then exits with 7; "trap" writes then traps; "spin"
/// loops forever.
const COUNTER: &str = r#"(module
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (import "ward" "storage_read" (func $read (param i32 i32 i32 i32) (result i64)))
  (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "ward" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "count")
  (data (i32.const 16) "inc")
  (func (export "deploy")
    (if (i32.eq (call $input_size) (i32.const 8))
      (then (call $input_read (i32.const 32) (i32.const 0) (i32.const 8))))
    (call $write (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
  (func (export "main") (local $n i32)
    (drop (call $read (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8)))
    (i64.store (i32.const 32) (i64.add (i64.load (i32.const 32)) (i64.const 1)))
    (call $write (i32.const 0) (i32.const 5) (i32.const 32) (i32.const 8))
    (call $emit (i32.const 16) (i32.const 3) (i32.const 32) (i32.const 8))
    (local.set $n (call $input_size))
    (call $input_read (i32.const 64) (i32.const 0) (local.get $n))
    (if (i32.eq (i32.load (i32.const 64)) (i32.const 0x65766572)) ;; "reve"
      (then (call $exit (i32.const 7))))
    (if (i32.eq (i32.load (i32.const 64)) (i32.const 0x70617274)) ;; "trap"
      (then unreachable))
    (if (i32.eq (i32.load (i32.const 64)) (i32.const 0x6e697073)) ;; "spin"
      (then (loop $l (br $l))))
    (call $out (i32.const 32) (i32.const 8))))"#;

const ALICE: Address = Address([0xa1; 32]);

fn backend(kind: BackendKind) -> Arc<dyn ward_vm::Backend> {
    ward_testkit::backend(kind, &Config::default())
}

fn executor<S: StateCommit + Send + Sync + 'static>(
    store: Arc<S>,
    kind: BackendKind,
) -> Executor<S> {
    Executor::new(store, backend(kind), &Config::default())
}

fn deploy_tx(code: &[u8], input: &[u8], salt: &[u8]) -> Tx {
    Tx::Deploy {
        sender: ALICE,
        code: code.to_vec(),
        input: input.to_vec(),
        gas_limit: 10_000_000,
        salt: salt.to_vec(),
    }
}

fn call_tx(to: Address, input: &[u8], gas: u64) -> Tx {
    Tx::Call {
        sender: ALICE,
        to,
        input: input.to_vec(),
        gas_limit: gas,
    }
}

fn count(store: &dyn StateRead, at: &Address) -> Option<u64> {
    store
        .storage(at, b"count")
        .unwrap()
        .map(|v| u64::from_le_bytes(v.try_into().unwrap()))
}

/// Everything both backends must agree on, per block.
fn scenario(kind: BackendKind) -> (Vec<Vec<Receipt>>, ward_state::Entries) {
    let store = Arc::new(MemoryStore::default());
    let exec = executor(store.clone(), kind);
    let code = wat::parse_str(COUNTER).unwrap();
    let address = contract_address(&ALICE, &Hash32(ward_vm::CodeHash::of(&code).0), b"s");
    let mut blocks = Vec::new();
    blocks.push(
        exec.execute_block(&[deploy_tx(&code, &5u64.to_le_bytes(), b"s")], 100)
            .unwrap(),
    );
    assert_eq!(blocks[0][0].status, "ok", "{kind}: {:?}", blocks[0][0]);
    assert_eq!(blocks[0][0].address, Some(address));
    assert_eq!(count(&*store, &address), Some(5));
    blocks.push(
        exec.execute_block(
            &[
                call_tx(address, b"", 1_000_000),
                call_tx(address, b"revert", 1_000_000),
                call_tx(address, b"", 1_000_000),
                call_tx(address, b"trap", 1_000_000),
                call_tx(address, b"spin", 100_000),
                call_tx(address, b"", 1_000_000),
            ],
            200,
        )
        .unwrap(),
    );
    let statuses: Vec<&str> = blocks[1].iter().map(|r| r.status.as_str()).collect();
    assert_eq!(
        statuses,
        ["ok", "reverted", "ok", "trapped", "out_of_gas", "ok"],
        "{kind}"
    );
    // Only the successful calls counted; failed ones left no writes and no
    // events, but were charged.
    assert_eq!(count(&*store, &address), Some(8));
    assert_eq!(blocks[1][0].output, 6u64.to_le_bytes());
    assert_eq!(blocks[1][5].output, 8u64.to_le_bytes());
    assert_eq!(blocks[1][1].exit_code, 7);
    for r in &blocks[1] {
        assert_eq!(r.events.len(), usize::from(r.status == "ok"), "{r:?}");
        assert!(r.gas_used > 0);
    }
    assert_eq!(blocks[1][4].gas_used, 100_000);
    assert_eq!(store.height().unwrap(), 2);
    let receipt = store.receipt(&blocks[1][2].tx).unwrap().unwrap();
    assert_eq!(receipt, blocks[1][2]);
    (blocks, store.storage_entries(&address).unwrap())
}

#[test]
fn blocks_of_deploys_and_calls_agree_on_both_backends() {
    let a = scenario(BackendKind::Wasmtime);
    let b = scenario(BackendKind::Wasmi);
    assert_eq!(a, b);
}

#[test]
fn a_failed_deploy_leaves_no_code_no_address() {
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let exec = executor(store.clone(), kind);
        let reverting = wat::parse_str(
            r#"(module (import "ward" "exit" (func $exit (param i32)))
                 (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
                 (memory (export "memory") 1)
                 (func (export "deploy")
                   (call $write (i32.const 0) (i32.const 1) (i32.const 0) (i32.const 1))
                   (call $exit (i32.const 3)))
                 (func (export "main")))"#,
        )
        .unwrap();
        let receipts = exec
            .execute_block(&[deploy_tx(&reverting, b"", b"")], 1)
            .unwrap();
        assert_eq!(receipts[0].status, "reverted");
        assert_eq!(receipts[0].address, None);
        let hash = Hash32(ward_vm::CodeHash::of(&reverting).0);
        let address = contract_address(&ALICE, &hash, b"");
        assert_eq!(store.contract(&address).unwrap(), None);
        assert_eq!(store.code(&hash).unwrap(), None);
        assert!(store.storage_entries(&address).unwrap().is_empty());
        // A module the policy rejects is a receipt too.
        let receipts = exec
            .execute_block(&[deploy_tx(b"not wasm", b"", b"")], 2)
            .unwrap();
        assert_eq!(receipts[0].status, "rejected");
        assert_eq!(receipts[0].error_kind.as_deref(), Some("invalid_wasm"));
        // Calling nothing is an invalid transaction: an error, no block.
        let err = exec
            .execute_block(&[call_tx(address, b"", 1000)], 3)
            .unwrap_err();
        assert!(matches!(err, ExecError::InvalidTx(_)));
        assert_eq!(store.height().unwrap(), 2);
    }
}

#[test]
fn queries_are_read_only_and_commit_nothing() {
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let exec = executor(store.clone(), kind);
        let code = wat::parse_str(COUNTER).unwrap();
        let receipts = exec
            .execute_block(&[deploy_tx(&code, b"", b"")], 1)
            .unwrap();
        let address = receipts[0].address.unwrap();
        // `main` writes: in a query that is a host_error trap.
        let query = exec.query(ALICE, address, Vec::new(), 1_000_000).unwrap();
        assert_eq!(query.status, "trapped");
        assert_eq!(query.error_kind.as_deref(), Some("host_error"));
        assert_eq!(count(&*store, &address), Some(0));
        assert_eq!(store.height().unwrap(), 1);
    }
}

#[test]
fn state_persists_on_redb_across_reopening() {
    let dir = std::env::temp_dir().join(format!("ward-exec-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let code = wat::parse_str(COUNTER).unwrap();
    let address;
    let tx_hash;
    {
        let store = Arc::new(RedbStore::open(&dir).unwrap());
        let exec = executor(store.clone(), BackendKind::Wasmtime);
        address = exec
            .execute_block(&[deploy_tx(&code, b"", b"")], 1)
            .unwrap()[0]
            .address
            .unwrap();
        let receipts = exec
            .execute_block(&[call_tx(address, b"", 1_000_000)], 2)
            .unwrap();
        tx_hash = receipts[0].tx;
    }
    let store = Arc::new(RedbStore::open(&dir).unwrap());
    assert_eq!(store.height().unwrap(), 2);
    assert_eq!(count(&*store, &address), Some(1));
    assert_eq!(store.receipt(&tx_hash).unwrap().unwrap().status, "ok");
    // And the reopened state runs on the other backend too.
    let exec = executor(store.clone(), BackendKind::Wasmi);
    exec.execute_block(&[call_tx(address, b"", 1_000_000)], 3)
        .unwrap();
    assert_eq!(count(&*store, &address), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}
