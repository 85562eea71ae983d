//! Children on the chain: contracts that run Wasm through `vm_*`, with the
//! transaction's budgets (stack, memory, instances) shared between the
//! frames of a chain of calls and the children they run, on both backends.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use crate::ALICE;
use ward_executor::{ChainLimits, Deploy, Executor, Payload, Tx};
use ward_primitives::Address;
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_vm::{BackendKind, Config};

/// A child with no imports (so it can be deployed as code, and compiled by
/// hash): `rec(n)` recurses `n` deep, `grow()` grows its memory a page at
/// a time until refused and returns its size in pages.
const CHILD: &str = r#"(module
  (memory (export "memory") 0)
  (func $rec (export "rec") (param $n i64) (result i64)
    (if (result i64) (i64.eqz (local.get $n))
      (then (i64.const 0))
      (else (i64.add (i64.const 1) (call $rec (i64.sub (local.get $n) (i64.const 1)))))))
  (func (export "grow") (result i64)
    (block $full (loop $more
      (br_if $full (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
      (br $more)))
    (i64.extend_i32_u (memory.size))))"#;

/// Input: levels (u32), n (u32), mode (u32: 0 runs `rec(n)`, 1 runs
/// `grow()`), the child's code hash (32 bytes). With levels > 0 it calls
/// itself with levels - 1 and outputs the callee's output, or
/// `-1000 - status` (8 bytes) when the call did not succeed. At the
/// bottom it compiles the stored child, instantiates it and runs it with
/// 100,000,000 gas (a child that fails uses all it was given), and outputs (as 8-byte words) the step code or error, and
/// the step record's result.
const NEST: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "self_address" (func $self (param i32)))
  (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
  (import "ward" "return_data_size" (func $rd_size (result i32)))
  (import "ward" "return_data_read" (func $rd_read (param i32 i32 i32)))
  (import "ward" "vm_compile_stored" (func $compile (param i32) (result i64)))
  (import "ward" "vm_instantiate" (func $inst (param i64) (result i64)))
  (import "ward" "vm_run" (func $run (param i64 i32 i32 i32 i32 i64 i32) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 0) "rec")
  (data (i32.const 8) "grow")
  (func (export "main") (local $status i32) (local $m i64) (local $c i64) (local $n i32)
    (call $input_read (i32.const 100) (i32.const 0) (i32.const 44))
    (if (i32.load (i32.const 100))
      (then
        (call $self (i32.const 200))
        (i32.store (i32.const 100) (i32.sub (i32.load (i32.const 100)) (i32.const 1)))
        (local.set $status
          (call $call (i32.const 200) (i32.const 100) (i32.const 44) (i64.const 0x7fffffffffffffff) (i32.const 0)))
        (if (local.get $status)
          (then
            (i64.store (i32.const 300) (i64.sub (i64.const -1000) (i64.extend_i32_u (local.get $status))))
            (call $out (i32.const 300) (i32.const 8)))
          (else
            (local.set $n (call $rd_size))
            (call $rd_read (i32.const 300) (i32.const 0) (local.get $n))
            (call $out (i32.const 300) (local.get $n))))
        (return)))
    (local.set $m (call $compile (i32.const 112)))
    (local.set $c (local.get $m))
    (if (i64.ge_s (local.get $m) (i64.const 0))
      (then (local.set $c (call $inst (local.get $m)))))
    (if (i64.lt_s (local.get $c) (i64.const 0))
      (then
        (i64.store (i32.const 300) (local.get $c))
        (call $out (i32.const 300) (i32.const 16))
        (return)))
    (i64.store (i32.const 400) (i64.extend_i32_u (i32.load (i32.const 104))))
    (if (i32.load (i32.const 108))
      (then (i64.store (i32.const 300)
        (call $run (local.get $c) (i32.const 8) (i32.const 4) (i32.const 400) (i32.const 0)
          (i64.const 100000000) (i32.const 500))))
      (else (i64.store (i32.const 300)
        (call $run (local.get $c) (i32.const 0) (i32.const 3) (i32.const 400) (i32.const 1)
          (i64.const 100000000) (i32.const 500)))))
    (i64.store (i32.const 308) (i64.load (i32.const 508)))
    (call $out (i32.const 300) (i32.const 16))))"#;

/// A chain on one backend: the child deployed as code, NEST deployed.
struct Chain {
    exec: Executor<MemoryStore>,
    nest: Address,
    child: [u8; 32],
    height: u64,
}

impl Chain {
    fn new(kind: BackendKind, limits: ChainLimits) -> Chain {
        let store = Arc::new(MemoryStore::default());
        let config = Config::default();
        let exec = Executor::new(store.clone(), ward_testkit::backend(kind, &config), &config)
            .with_limits(limits);
        let deploy = |code: &str, salt: &[u8]| Tx {
            sender: ALICE,
            gas_limit: 10_000_000,
            value: 0,
            payload: Payload::Deploy(
                Deploy::new(wat::parse_str(code).unwrap(), Vec::new()).with_salt(salt.to_vec()),
            ),
        };
        let receipts = exec
            .execute_block(&[deploy(CHILD, b"c"), deploy(NEST, b"n")], 1)
            .unwrap();
        let child_at = receipts[0].address.unwrap();
        let child = store.contract(&child_at).unwrap().unwrap().code_hash.0;
        Chain {
            exec,
            nest: receipts[1].address.unwrap(),
            child,
            height: 1,
        }
    }

    /// Runs NEST with `levels`, `n`, `mode` (and `hash`, the child's by
    /// default): its receipt, and the words of its output.
    fn run(
        &mut self,
        levels: u32,
        n: u32,
        mode: u32,
        hash: Option<[u8; 32]>,
    ) -> (Receipt, Vec<i64>) {
        let mut input = Vec::new();
        for v in [levels, n, mode] {
            input.extend(v.to_le_bytes());
        }
        input.extend(hash.unwrap_or(self.child));
        self.height += 1;
        let tx = Tx::call(ALICE, self.nest, input, 1 << 40);
        let receipt = self
            .exec
            .execute_block(&[tx], self.height)
            .unwrap()
            .remove(0);
        let words = receipt
            .output
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
            .collect();
        (receipt, words)
    }
}

fn limits() -> ChainLimits {
    ChainLimits {
        max_tx_gas: 1 << 40,
        max_block_gas: u64::MAX,
        ..ChainLimits::default()
    }
}

/// The deepest `rec(n)` a child at the bottom of a `levels`-deep chain
/// finishes, found by bisection on `chain`; `rec(n + 1)` overflows.
fn deepest(chain: &mut Chain, levels: u32) -> u32 {
    let finishes = |chain: &mut Chain, n| {
        let (receipt, words) = chain.run(levels, n, 0, None);
        assert_eq!(
            receipt.status.as_str(),
            "ok",
            "levels {levels}, rec({n}): {receipt:?}"
        );
        words[0] == ward_abi::vm::FINISHED
    };
    let (mut lo, mut hi) = (0u32, 1u32 << 15);
    assert!(finishes(chain, lo), "rec(0) under {levels} levels");
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if finishes(chain, mid) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    lo
}

#[test]
fn contracts_and_children_share_one_stack_budget_on_both_backends() {
    let mut wasmtime = Chain::new(BackendKind::Wasmtime, limits());
    let mut wasmi = Chain::new(BackendKind::Wasmi, limits());
    let levels = [0u32, 40, 80, 400];
    let mut deepest_at = Vec::new();
    for &l in &levels {
        let n = deepest(&mut wasmtime, l);
        // The same point on the other backend, with the same receipts: the
        // parents carry on whether the child finished or overflowed.
        for n in [n, n + 1] {
            let (mut a, _) = wasmtime.run(l, n, 0, None);
            let (b, _) = wasmi.run(l, n, 0, None);
            // The bisection ran on one chain only: same receipt, but for
            // the block it landed in.
            (a.tx, a.height) = (b.tx, b.height);
            assert_eq!(a, b, "levels {l}, rec({n})");
            assert_eq!(a.status.as_str(), "ok", "{a:?}");
        }
        let (_, over) = wasmi.run(l, n + 1, 0, None);
        let overflow = ward_abi::vm::TRAPPED
            - 1
            - ward_abi::vm::TRAP_KINDS
                .iter()
                .position(|&k| k == "stack_overflow")
                .unwrap() as i64;
        assert_eq!(over[0], overflow, "levels {l}: rec({}) overflows", n + 1);
        let (_, fits) = wasmi.run(l, n, 0, None);
        assert_eq!(
            fits,
            vec![0, i64::from(n)],
            "levels {l}: rec({n}) returns n"
        );
        deepest_at.push(n);
    }
    // Every level of the chain takes the same share of the one budget: a
    // child under more levels recurses less, by the same amount per level
    // (to within one of its frames).
    let per_40 = deepest_at[0] - deepest_at[1];
    assert!(per_40 > 0, "{deepest_at:?}");
    let step = deepest_at[1] - deepest_at[2];
    assert!(per_40.abs_diff(step) <= 1, "{deepest_at:?}");
    let per_400 = deepest_at[0] - deepest_at[3];
    assert!(per_400.abs_diff(10 * per_40) <= 10, "{deepest_at:?}");
}

#[test]
fn a_chain_that_spends_the_stack_budget_fails_to_its_callers_alike() {
    // 1,100 levels of small frames cannot all start: some callee fails
    // to its caller (status 2) at the same level on both backends, and
    // the root still finishes.
    let runs: Vec<_> = BackendKind::ALL
        .iter()
        .map(|&kind| {
            let mut chain = Chain::new(
                kind,
                ChainLimits {
                    max_instances: 4_096,
                    tx_memory_bytes: 1 << 30,
                    ..limits()
                },
            );
            chain.run(1_100, 0, 0, None)
        })
        .collect();
    assert_eq!(runs[0].0, runs[1].0);
    assert_eq!(runs[0].0.status.as_str(), "ok");
    assert_eq!(runs[0].1, vec![-1000 - 2], "{:?}", runs[0].1);
}

#[test]
fn frames_and_children_share_the_memory_budget_on_both_backends() {
    // 64 pages for the whole transaction; every NEST frame holds one.
    let small = ChainLimits {
        tx_memory_bytes: 64 << 16,
        ..limits()
    };
    let mut chains: Vec<_> = BackendKind::ALL
        .iter()
        .map(|&kind| Chain::new(kind, small))
        .collect();
    // Every level from 0 to 64: frames run in recycled instances from the
    // third transaction on, and those count as new ones would.
    for levels in 0..=62u32 {
        let runs: Vec<_> = chains
            .iter_mut()
            .map(|c| c.run(levels, 0, 1, None))
            .collect();
        assert_eq!(runs[0].0, runs[1].0, "levels {levels}");
        // The child grows into what the levels + 1 frames left.
        let left = 64 - i64::from(levels) - 1;
        assert_eq!(runs[0].1, vec![0, left], "levels {levels}");
    }
    // 64 frames hold it all: the child cannot even be made.
    let runs: Vec<_> = chains.iter_mut().map(|c| c.run(63, 0, 1, None)).collect();
    assert_eq!(runs[0].0, runs[1].0);
    // A child with an empty memory still fits: it grows by nothing.
    assert_eq!(runs[0].1, vec![0, 0], "{:?}", runs[0].1);
    // 65 frames do not fit at all: the 65th fails to its caller.
    let runs: Vec<_> = chains.iter_mut().map(|c| c.run(64, 0, 1, None)).collect();
    assert_eq!(runs[0].0, runs[1].0);
    assert_eq!(runs[0].1, vec![-1002]);
}

#[test]
fn frames_and_children_share_the_instance_budget_and_stored_code_is_found_by_hash() {
    let few = ChainLimits {
        max_instances: 3,
        ..limits()
    };
    let mut chains: Vec<_> = BackendKind::ALL
        .iter()
        .map(|&kind| Chain::new(kind, few))
        .collect();
    let mut outputs = Vec::new();
    for (levels, hash) in [(1, None), (2, None), (3, None), (0, Some([7u8; 32]))] {
        let runs: Vec<_> = chains
            .iter_mut()
            .map(|c| c.run(levels, 5, 0, hash))
            .collect();
        assert_eq!(runs[0].0, runs[1].0, "levels {levels}");
        outputs.push(runs[0].1.clone());
    }
    use ward_abi::vm;
    assert_eq!(
        outputs,
        vec![
            vec![vm::FINISHED, 5],       // two frames and a child: three
            vec![vm::LIMIT_EXCEEDED, 0], // three frames: no child left
            vec![-1002],                 // a fourth frame cannot start
            vec![vm::NOT_FOUND, 0],      // no code under that hash
        ]
    );
}

/// Input: the child's code hash. Compiles it once, then 1,000 times
/// instantiates it, runs `grow()` (which takes every page the transaction's
/// memory budget has left) and destroys it; outputs how many of the
/// cycles got as many pages as the first (8 bytes), then the first's.
const CYCLES: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "vm_compile_stored" (func $compile (param i32) (result i64)))
  (import "ward" "vm_instantiate" (func $inst (param i64) (result i64)))
  (import "ward" "vm_run" (func $run (param i64 i32 i32 i32 i32 i64 i32) (result i64)))
  (import "ward" "vm_destroy" (func $destroy (param i64) (result i64)))
  (memory (export "memory") 1)
  (data (i32.const 64) "grow")
  (func (export "main") (local $m i64) (local $c i64) (local $i i32) (local $same i64)
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 32))
    (local.set $m (call $compile (i32.const 0)))
    (block $done (loop $next
      (br_if $done (i32.eq (local.get $i) (i32.const 1000)))
      (local.set $c (call $inst (local.get $m)))
      (drop (call $run (local.get $c) (i32.const 64) (i32.const 4) (i32.const 128) (i32.const 0)
        (i64.const 1000000) (i32.const 256)))
      (if (i32.eqz (local.get $i)) (then (i64.store (i32.const 512) (i64.load (i32.const 264)))))
      (if (i64.eq (i64.load (i32.const 264)) (i64.load (i32.const 512)))
        (then (local.set $same (i64.add (local.get $same) (i64.const 1)))))
      (drop (call $destroy (local.get $c)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $next)))
    (i64.store (i32.const 504) (local.get $same))
    (call $out (i32.const 504) (i32.const 16))))"#;

#[test]
fn a_thousand_children_in_one_transaction_leave_nothing_behind() {
    // 4 pages and 2 instances for the whole transaction: a child that
    // kept either after its destroy would starve the next.
    let tight = ChainLimits {
        tx_memory_bytes: 4 << 16,
        max_instances: 2,
        ..limits()
    };
    let receipts: Vec<_> = BackendKind::ALL
        .iter()
        .map(|&kind| {
            let mut chain = Chain::new(kind, tight);
            let deploy = Tx {
                sender: ALICE,
                gas_limit: 10_000_000,
                value: 0,
                payload: Payload::Deploy(
                    Deploy::new(wat::parse_str(CYCLES).unwrap(), Vec::new())
                        .with_salt(b"cycles".to_vec()),
                ),
            };
            chain.height += 1;
            let at = chain.exec.execute_block(&[deploy], chain.height).unwrap()[0]
                .address
                .unwrap();
            chain.height += 1;
            let call = Tx::call(ALICE, at, chain.child.to_vec(), 1 << 40);
            chain
                .exec
                .execute_block(&[call], chain.height)
                .unwrap()
                .remove(0)
        })
        .collect();
    assert_eq!(receipts[0], receipts[1]);
    let words: Vec<i64> = receipts[0]
        .output
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap()))
        .collect();
    // Every cycle's child grew into the 3 pages the parent left.
    assert_eq!(words, vec![1000, 3], "{:?}", receipts[0]);
}

/// A child that spins forever, run by a contract with all of a very high
/// `max_tx_gas` ([`ward_testkit::spinning_parent`]), stops when the
/// transaction's wall-clock backstop runs out or its cancel flag is
/// raised, as its parent would: the block ends with a `timeout` or
/// `cancelled` node fault and commits nothing, on both backends. Before,
/// a child got neither, and ran until its gas ran out (minutes here).
#[test]
fn a_spinning_child_stops_on_the_transaction_s_timeout_and_cancel_flag() {
    let limits = ChainLimits {
        max_tx_gas: 1 << 50,
        max_block_gas: u64::MAX,
        ..ChainLimits::default()
    };
    for kind in BackendKind::ALL {
        let store = Arc::new(MemoryStore::default());
        let config = Config::default();
        let backend = ward_testkit::backend(kind, &config);
        let exec = Executor::new(store.clone(), backend.clone(), &config).with_limits(limits);
        let deploy = Tx {
            sender: ALICE,
            gas_limit: 100_000_000,
            value: 0,
            payload: Payload::Deploy(Deploy::new(ward_testkit::spinning_parent(), Vec::new())),
        };
        let parent = exec.execute_block(&[deploy], 1).unwrap()[0]
            .address
            .unwrap();
        let call = Tx::call(ALICE, parent, Vec::new(), 1 << 50);
        // The backstop.
        let timed = Executor::new(store.clone(), backend, &config)
            .with_limits(limits)
            .with_timeout(Some(std::time::Duration::from_millis(50)));
        let fault = match timed.execute_block(std::slice::from_ref(&call), 2) {
            Err(ward_executor::ExecError::Fault(fault)) => fault,
            other => panic!("{kind}: the backstop: {other:?}"),
        };
        assert_eq!(fault.kind(), ward_vm::FaultKind::Timeout, "{kind}: {fault}");
        // The cancel flag, raised from another thread.
        let cancel = ward_vm::Cancel::new();
        exec.set_cancel(Some(cancel.clone()));
        let raiser = std::thread::spawn(move || {
            std::thread::sleep(std::time::Duration::from_millis(20));
            cancel.cancel();
        });
        let fault = match exec.execute_block(std::slice::from_ref(&call), 2) {
            Err(ward_executor::ExecError::Fault(fault)) => fault,
            other => panic!("{kind}: the cancel flag: {other:?}"),
        };
        raiser.join().unwrap();
        assert_eq!(
            fault.kind(),
            ward_vm::FaultKind::Cancelled,
            "{kind}: {fault}"
        );
        assert_eq!(store.height().unwrap(), 1, "{kind}: nothing committed");
    }
}
