//! The executor on both backends: deploys, calls, failures that leave
//! nothing behind, read-only queries, persistence on redb.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ward_executor::{
    ChainLimits, Deploy, ExecError, Executor, Inadmissible, Payload, Tx, contract_address,
};
use ward_primitives::{Address, Hash32};
use ward_state::{MemoryStore, Receipt, RedbStore, StateCommit, StateRead};
use ward_vm::{BackendKind, Config};

use crate::ALICE;
use crate::calls::{PROXY, proxy_input};

/// A counter: `deploy` stores the initial count from its input (8 bytes LE,
/// or 0); `main` adds one, emits `inc`, outputs the new count. Input
/// "revert" writes then exits with 7; "trap" writes then traps; "spin"
/// loops forever.
pub(crate) const COUNTER: &str = r#"(module
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

fn backend(kind: BackendKind) -> Arc<dyn ward_vm::Backend> {
    ward_testkit::backend(kind, &Config::default())
}

pub(crate) fn executor<S: StateCommit + Send + Sync + 'static>(
    store: Arc<S>,
    kind: BackendKind,
) -> Executor<S> {
    Executor::new(store, backend(kind), &Config::default())
}

pub(crate) fn deploy_tx(code: &[u8], input: &[u8], salt: &[u8]) -> Tx {
    Tx {
        sender: ALICE,
        gas_limit: 10_000_000,
        value: 0,
        payload: Payload::Deploy(
            Deploy::new(code.to_vec(), input.to_vec()).with_salt(salt.to_vec()),
        ),
    }
}

pub(crate) fn call_tx(to: Address, input: &[u8], gas: u64) -> Tx {
    Tx {
        sender: ALICE,
        gas_limit: gas,
        value: 0,
        payload: Payload::Call {
            to,
            input: input.to_vec(),
        },
    }
}

/// Deploys each module of `wats` in block 1, with salts "a", "b", ..., and
/// returns their addresses.
pub(crate) fn deploy_all<S: StateCommit + Send + Sync + 'static>(
    exec: &Executor<S>,
    wats: &[&str],
) -> Vec<Address> {
    let txs: Vec<Tx> = wats
        .iter()
        .zip(b'a'..)
        .map(|(wat, salt)| deploy_tx(&wat::parse_str(wat).unwrap(), b"", &[salt]))
        .collect();
    exec.execute_block(&txs, 1)
        .unwrap()
        .iter()
        .map(|r| r.address.unwrap())
        .collect()
}

pub(crate) fn count(store: &dyn StateRead, at: &Address) -> Option<u64> {
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
    assert_eq!(
        blocks[0][0].status.as_str(),
        "ok",
        "{kind}: {:?}",
        blocks[0][0]
    );
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
        assert_eq!(r.events.len(), usize::from(r.status.is_ok()), "{r:?}");
        assert!(r.gas_used > 0);
    }
    assert_eq!(blocks[1][4].gas_used, 100_000);
    assert_eq!(store.height().unwrap(), 2);
    let receipt = store.receipt(&blocks[1][2].tx).unwrap().unwrap();
    assert_eq!(receipt, blocks[1][2]);
    // The transaction itself is stored under the same id, and the block
    // lists the ids in order.
    assert_eq!(
        store.transaction(&blocks[1][2].tx).unwrap(),
        Some(call_tx(address, b"", 1_000_000).to_bytes())
    );
    let ids: Vec<Hash32> = blocks[1].iter().map(|r| r.tx).collect();
    assert_eq!(store.block(2).unwrap().unwrap().txs, ids);
    (blocks, store.storage_entries(&address).unwrap())
}

#[test]
fn blocks_of_deploys_and_calls_agree_on_both_backends() {
    crate::on_both_backends_alike(scenario);
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
        assert_eq!(receipts[0].status.as_str(), "reverted");
        assert_eq!(receipts[0].address, None);
        let hash = Hash32(ward_vm::CodeHash::of(&reverting).0);
        let address = contract_address(&ALICE, &hash, b"");
        assert_eq!(store.contract(&address).unwrap(), None);
        assert_eq!(store.code(&hash).unwrap(), None);
        assert!(store.storage_entries(&address).unwrap().is_empty());
        assert!(
            !exec.is_cached(&ward_vm::CodeHash(hash.0)),
            "{kind}: no cache entry"
        );
        // A module the policy rejects is a receipt too.
        let junk = deploy_tx(b"not wasm", b"", b"");
        let receipts = exec.execute_block(std::slice::from_ref(&junk), 2).unwrap();
        assert_eq!(receipts[0].status.as_str(), "rejected");
        assert_eq!(receipts[0].error_kind.as_deref(), Some("invalid_wasm"));
        assert_eq!(
            receipts[0].gas_used,
            intrinsic(&junk) + deploy_cost(b"not wasm".len()),
            "validation is paid for"
        );
        // Calling nothing is an invalid transaction: an error, no block.
        let err = exec
            .execute_block(&[call_tx(address, b"", 1_000_000)], 3)
            .unwrap_err();
        assert!(matches!(err, ExecError::InvalidTx(_)));
        assert_eq!(store.height().unwrap(), 2);
    }
}

fn deploy_cost(bytes: usize) -> u64 {
    ward_vm::CostSchedule::default().deploy_cost(bytes as u64)
}

/// What `tx` pays before anything runs.
fn intrinsic(tx: &Tx) -> u64 {
    ward_vm::CostSchedule::default().intrinsic_cost(tx.to_bytes().len() as u64)
}

#[test]
fn deploys_pay_for_their_bytes_before_anything_is_validated() {
    let schedule = ward_vm::CostSchedule::default();
    let code =
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "main")))"#).unwrap();
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let exec = executor(store.clone(), kind);
        // (The gas limit is a fixed-width field: the size, and so the
        // intrinsic cost, do not depend on its value.)
        let cost = intrinsic(&deploy_tx(&code, b"", b"a")) + deploy_cost(code.len());
        assert_eq!(
            cost,
            u64::from(schedule.tx_base)
                + u64::from(schedule.tx_per_byte)
                    * deploy_tx(&code, b"", b"a").to_bytes().len() as u64
                + u64::from(schedule.deploy_base)
                + u64::from(schedule.deploy_per_byte) * code.len() as u64
        );
        // One gas short: out of gas, nothing validated, stored or cached.
        let mut short = deploy_tx(&code, b"", b"a");
        short.gas_limit = cost - 1;
        let starved = exec.execute_block(&[short], 1).unwrap().remove(0);
        assert_eq!(starved.status.as_str(), "out_of_gas", "{kind}");
        assert_eq!(starved.gas_used, cost - 1);
        assert_eq!(starved.address, None);
        let hash = ward_vm::CodeHash::of(&code);
        assert_eq!(store.code(&Hash32(hash.0)).unwrap(), None);
        assert!(!exec.is_cached(&hash), "{kind}: not even compiled");
        // Exactly the charge: deployed (no `deploy` export runs).
        let mut exact = deploy_tx(&code, b"", b"b");
        exact.gas_limit = cost;
        let deployed = exec.execute_block(&[exact], 2).unwrap().remove(0);
        assert_eq!(deployed.status.as_str(), "ok", "{kind}");
        assert_eq!(deployed.gas_used, cost);
        runs.push((starved, deployed));
    }
    assert_eq!(runs[0], runs[1]);
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
        assert_eq!(query.status.as_str(), "trapped");
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
        let store = Arc::new(RedbStore::create(&dir).unwrap());
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
    let store = Arc::new(RedbStore::create(&dir).unwrap());
    assert_eq!(store.height().unwrap(), 2);
    assert_eq!(count(&*store, &address), Some(1));
    assert_eq!(
        store.receipt(&tx_hash).unwrap().unwrap().status.as_str(),
        "ok"
    );
    // And the reopened state runs on the other backend too.
    let exec = executor(store.clone(), BackendKind::Wasmi);
    exec.execute_block(&[call_tx(address, b"", 1_000_000)], 3)
        .unwrap();
    assert_eq!(count(&*store, &address), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Grows its memory, then calls itself, and reports how far it got.
/// Input: depth, pages to grow by, calls to make at each level (u32 LE
/// each). Output: (kind, level), u32 LE each: (0, 0) when everything ran,
/// (1, level) when a `memory.grow` was refused there, (2, level) when a
/// call from there failed.
fn hog_module() -> String {
    ward_testkit::module_importing(
        "input_read output_write self_address call return_data_read",
        r#"(memory (export "memory") 1)
  (func (export "main") (local $i i32)
    (call $input_read (i32.const 100) (i32.const 0) (i32.const 12))
    (i64.store (i32.const 200) (i64.const 0))
    (if (i32.eq (memory.grow (i32.load (i32.const 104))) (i32.const -1))
      (then (i32.store (i32.const 200) (i32.const 1))
            (i32.store (i32.const 204) (i32.load (i32.const 100)))
            (call $output_write (i32.const 200) (i32.const 8))
            (return)))
    (if (i32.eqz (i32.load (i32.const 100)))
      (then (call $output_write (i32.const 200) (i32.const 8)) (return)))
    (call $self_address (i32.const 0))
    (i32.store (i32.const 112) (i32.sub (i32.load (i32.const 100)) (i32.const 1)))
    (i64.store (i32.const 116) (i64.load (i32.const 104)))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 108))))
        (if (call $call (i32.const 0) (i32.const 112) (i32.const 12)
                        (i64.const 0x7fffffffffffffff) (i32.const 0))
          (then (i32.store (i32.const 200) (i32.const 2))
                (i32.store (i32.const 204) (i32.load (i32.const 100)))
                (br $done)))
        (call $return_data_read (i32.const 200) (i32.const 0) (i32.const 8))
        (br_if $done (i32.load (i32.const 200)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (call $output_write (i32.const 200) (i32.const 8)))"#,
    )
}

/// The memory of every live frame of a transaction counts against one
/// budget (64 MiB by default): a frame whose memory would not fit fails to
/// its caller, a grow that would not fit returns -1, and a frame that
/// returned gives its memory back; both backends agree on every receipt.
#[test]
fn a_transaction_s_frames_share_one_memory_budget() {
    let hog = |depth: u32, pages: u32, calls: u32| {
        let mut input = depth.to_le_bytes().to_vec();
        input.extend(pages.to_le_bytes());
        input.extend(calls.to_le_bytes());
        input
    };
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let exec = executor(store.clone(), kind);
        let [at] = deploy_all(&exec, &[&hog_module()])[..] else {
            unreachable!()
        };
        let receipts = exec
            .execute_block(
                &[
                    // 16 MiB a frame: four fit, the fifth cannot even start.
                    call_tx(at, &hog(10, 255, 1), 40_000_000),
                    // 201 pages a frame: five fit, the sixth starts (one
                    // page) but cannot grow.
                    call_tx(at, &hog(10, 200, 1), 40_000_000),
                    // Ten 16 MiB children one after the other: each gives
                    // its memory back.
                    call_tx(at, &hog(1, 255, 10), 40_000_000),
                    // Past the instance limit (256 pages) at once.
                    call_tx(at, &hog(0, 256, 0), 40_000_000),
                ],
                2,
            )
            .unwrap();
        let outputs: Vec<(u32, u32)> = receipts
            .iter()
            .map(|r| {
                assert_eq!(r.status.as_str(), "ok", "{kind}: {r:?}");
                let word = |i: usize| u32::from_le_bytes(r.output[i..i + 4].try_into().unwrap());
                (word(0), word(4))
            })
            .collect();
        assert_eq!(outputs, [(2, 7), (1, 5), (0, 0), (1, 0)], "{kind}");
        runs.push(receipts);
    }
    assert_eq!(runs[0], runs[1]);
}

/// A smaller budget is the executor's to set.
#[test]
fn the_memory_budget_is_configurable() {
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let exec = executor(store, kind).with_tx_memory_bytes(3 << 16);
        let [at] = deploy_all(&exec, &[&hog_module()])[..] else {
            unreachable!()
        };
        let mut input = 5u32.to_le_bytes().to_vec();
        input.extend(0u32.to_le_bytes());
        input.extend(1u32.to_le_bytes());
        let r = &exec
            .execute_block(&[call_tx(at, &input, 40_000_000)], 2)
            .unwrap()[0];
        // Three one-page frames fit; the fourth (level 2) cannot start.
        assert_eq!(r.output, [2, 0, 0, 0, 3, 0, 0, 0], "{kind}: {r:?}");
    }
}

/// A transaction that cannot pay its intrinsic cost, asks for more gas
/// than the maximum, or is too large is refused before any block: no
/// receipt, nothing stored. So is a block whose gas limits add up past the
/// per-block maximum.
#[test]
fn unpayable_oversized_and_over_cap_transactions_are_refused_before_any_block() {
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let exec = executor(store.clone(), kind);
        let [at] = deploy_all(&exec, &[COUNTER])[..] else {
            unreachable!()
        };
        let refusal = |txs: &[Tx]| match exec.execute_block(txs, 9) {
            Err(ExecError::Refused { index, refusal }) => (index, refusal),
            other => panic!("{kind}: not refused: {other:?}"),
        };
        let cheap = call_tx(at, b"", 1_000);
        let cost = intrinsic(&cheap);
        assert_eq!(
            refusal(&[call_tx(at, b"", 10_000_000), cheap.clone()]),
            (
                1,
                Inadmissible::IntrinsicCost {
                    gas: 1_000,
                    cost,
                    bytes: cheap.to_bytes().len() as u64
                }
            )
        );
        // Exactly the intrinsic cost is admitted (and then runs out of gas).
        let exact = call_tx(at, b"", cost);
        let receipt = &exec.execute_block(&[exact], 2).unwrap()[0];
        assert_eq!(
            (receipt.status.as_str(), receipt.gas_used),
            ("out_of_gas", cost)
        );
        let max = exec.limits().max_tx_gas;
        assert_eq!(
            refusal(&[call_tx(at, b"", max + 1)]),
            (0, Inadmissible::GasAboveMaximum { gas: max + 1, max })
        );
        // On a chain whose blocks hold less than max_tx_gas, a transaction
        // no block can hold is refused as above the maximum: admitted, it
        // would wait in a mempool for ever.
        let block_gas = max / 2;
        let small = executor(Arc::new(MemoryStore::default()), kind).with_limits(ChainLimits {
            max_block_gas: block_gas,
            ..*exec.limits()
        });
        match small.execute_block(&[call_tx(at, b"", block_gas + 1)], 1) {
            Err(ExecError::Refused { index, refusal }) => assert_eq!(
                (index, refusal),
                (
                    0,
                    Inadmissible::GasAboveMaximum {
                        gas: block_gas + 1,
                        max: block_gas
                    }
                )
            ),
            other => panic!("{kind}: not refused: {other:?}"),
        }
        // A deploy larger than the limit (the issue's 50 MB deploy with no
        // gas was stored whole): refused for its size before anything.
        let big = deploy_tx(&vec![0; 6 << 20], b"", b"big");
        assert!(matches!(
            refusal(&[big]),
            (0, Inadmissible::TooLarge { .. })
        ));
        // Twenty-one calls at 10 M gas: the last is past 200 M.
        let many = vec![call_tx(at, b"", 10_000_000); 21];
        assert!(matches!(
            refusal(&many),
            (20, Inadmissible::BlockGasAboveMaximum { .. })
        ));
        // None of that reached the store.
        assert_eq!(store.height().unwrap(), 2, "{kind}");
        // Queries are bounded by the same maximum.
        assert!(matches!(
            exec.query(ALICE, at, Vec::new(), max + 1),
            Err(ExecError::Refused { .. })
        ));
    }
}

/// The wall-clock backstop is the node's failure, not the transaction's:
/// the block is aborted with a timeout fault and commits nothing, whether
/// the root frame or a callee ran out of time.
#[test]
fn a_wall_clock_timeout_aborts_the_block_as_a_node_fault() {
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let exec =
            executor(store.clone(), kind).with_timeout(Some(std::time::Duration::from_millis(5)));
        let [proxy, counter] = deploy_all(&exec, &[PROXY, COUNTER])[..] else {
            unreachable!()
        };
        for tx in [
            call_tx(counter, b"spin", 190_000_000),
            call_tx(
                proxy,
                &proxy_input(&counter, 0, 1 << 40, b"spin"),
                190_000_000,
            ),
        ] {
            match exec.execute_block(&[call_tx(counter, b"", 1_000_000), tx], 2) {
                Err(ExecError::Fault(fault)) => {
                    assert_eq!(fault.kind(), ward_vm::FaultKind::Timeout, "{kind}");
                }
                other => panic!("{kind}: {other:?}"),
            }
            assert_eq!(store.height().unwrap(), 1, "{kind}: nothing committed");
            assert_eq!(count(&*store, &counter), Some(0));
        }
    }
}

/// docs/gas.md states the chain limits' defaults as the code defines them.
#[test]
fn gas_doc_states_the_default_chain_limits() {
    let doc = include_str!("../../../../docs/gas.md");
    let limits = ChainLimits::default();
    let spaced = |n: u64| {
        let digits = n.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                out.push(' ');
            }
            out.push(c);
        }
        out
    };
    for row in [
        format!("| `max_tx_bytes` | {} MiB |", limits.max_tx_bytes >> 20),
        format!("| `max_tx_gas` | {} |", spaced(limits.max_tx_gas)),
        format!("| `max_block_gas` | {} |", spaced(limits.max_block_gas)),
    ] {
        assert!(doc.contains(&row), "docs/gas.md lacks {row}");
    }
    assert!(limits.max_tx_bytes.is_multiple_of(1 << 20));
    let memory = format!("{} MiB by default", limits.tx_memory_bytes >> 20);
    assert!(doc.contains(&memory), "docs/gas.md lacks {memory:?}");
}

/// A transaction decodes from exactly its encoding; anything else is an
/// error, never a panic.
#[test]
fn transactions_decode_from_exactly_their_encoding() {
    let upgradable = |value: u128| {
        let mut tx = deploy_tx(b"\0asm\x01\0\0\0", b"in", b"salt");
        tx.value = value;
        if let Payload::Deploy(Deploy { admin, .. }) = &mut tx.payload {
            *admin = Some(Address([4; 32]));
        }
        tx
    };
    let admin = |action| Tx {
        sender: Address([1; 32]),
        gas_limit: 5,
        value: 0,
        payload: Payload::Admin {
            contract: Address([2; 32]),
            action,
        },
    };
    let txs = [
        deploy_tx(b"\0asm\x01\0\0\0", b"in", b"salt"),
        call_tx(Address([9; 32]), b"input", 77),
        upgradable(0),
        upgradable(9),
        admin(ward_executor::AdminAction::Upgrade {
            code: b"\0asm".to_vec(),
            input: b"m".to_vec(),
        }),
        admin(ward_executor::AdminAction::SetAdmin(Some(Address([3; 32])))),
        admin(ward_executor::AdminAction::SetAdmin(None)),
    ];
    for tx in &txs {
        let bytes = tx.to_bytes();
        assert_eq!(tx.encoded_len(), bytes.len() as u64);
        assert_eq!(Tx::from_bytes(&bytes).as_ref(), Ok(tx));
        for cut in 0..bytes.len() {
            assert!(Tx::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Tx::from_bytes(&longer).is_err());
    }
    assert!(Tx::from_bytes(&[2]).is_err(), "unknown tag");
    // The chain's one decoder reads each as an unsigned transaction, and
    // a signed one's first byte is never an unsigned one's.
    for tx in &txs {
        let stored = ward_chain::tx::StoredTx::from_bytes(&tx.to_bytes()).unwrap();
        assert_eq!(
            stored,
            ward_chain::tx::StoredTx::Unsigned(tx.clone(), ward_chain::tx::GasUnit::Ward)
        );
    }
}
