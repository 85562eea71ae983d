//! Every instance is paid for (`docs/gas.md`, "Instances"): a
//! transaction's top frame, a callee, a child, whatever the module
//! declares. Before schedule version 6 a `ward.call` into a callee
//! declaring 256 pages cost the same gas as one declaring one page, for a
//! hundred times the work.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use crate::ALICE;
use ward_executor::{Deploy, Executor, Payload, Tx};
use ward_primitives::Address;
use ward_state::{MemoryStore, Receipt};
use ward_vm::{BackendKind, Config, CostSchedule, Policy};

/// Calls the contract whose address is the first 32 bytes of its input
/// with the gas in the next 8, and outputs the call's status (4 bytes).
const CALLER: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "call" (func $call (param i32 i32 i32 i64 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "main")
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 40))
    (i32.store (i32.const 64)
      (call $call (i32.const 0) (i32.const 0) (i32.const 0) (i64.load (i32.const 32)) (i32.const 0)))
    (call $out (i32.const 64) (i32.const 4))))"#;

/// A callee that does nothing, with `pages` pages and `extra` fields.
fn callee(pages: u32, extra: &str) -> String {
    format!(r#"(module (memory (export "memory") {pages}) {extra} (func (export "main")))"#)
}

/// What an instance of `wat` costs, as the compiled module says.
fn instance_gas(wat: &str) -> u64 {
    let inspection = ward_vm::inspect(&wat::parse_str(wat).unwrap(), &Policy::default()).unwrap();
    inspection.instance.0
}

struct Chain {
    exec: Executor<MemoryStore>,
    height: u64,
}

impl Chain {
    fn new(kind: BackendKind) -> Chain {
        let config = Config::default();
        let backend = ward_testkit::backend(kind, &config);
        let exec = Executor::new(Arc::new(MemoryStore::default()), backend, &config);
        Chain { exec, height: 0 }
    }

    fn block(&mut self, txs: &[Tx]) -> Vec<Receipt> {
        self.height += 1;
        self.exec.execute_block(txs, self.height).unwrap()
    }

    fn deploy(&mut self, wat: &str, salt: &[u8]) -> Address {
        let tx = Tx {
            sender: ALICE,
            gas_limit: 100_000_000,
            value: 0,
            payload: Payload::Deploy(
                Deploy::new(wat::parse_str(wat).unwrap(), Vec::new()).with_salt(salt.to_vec()),
            ),
        };
        let receipt = self.block(&[tx]).remove(0);
        assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
        receipt.address.unwrap()
    }

    /// The caller's receipt for a call into `to` forwarding `gas`.
    fn call_through(&mut self, caller: Address, to: Address, gas: u64) -> Receipt {
        let mut input = to.0.to_vec();
        input.extend(gas.to_le_bytes());
        let tx = Tx::call(ALICE, caller, input, 50_000_000);
        self.block(&[tx]).remove(0)
    }
}

fn status(receipt: &Receipt) -> u32 {
    u32::from_le_bytes(receipt.output.clone().try_into().unwrap())
}

#[test]
fn the_schedule_prices_a_page_of_an_instance() {
    let schedule = CostSchedule::default();
    let one = instance_gas(&callee(1, ""));
    let many = instance_gas(&callee(256, ""));
    assert_eq!(many - one, 255 * u64::from(schedule.instance_per_page));
    // Tables, functions, globals and element items each count.
    let parts = instance_gas(&callee(
        1,
        "(table 100 funcref) (global (mut i32) (i32.const 0)) (elem (i32.const 0) func $f $f) (func $f)",
    ));
    assert_eq!(
        parts - one,
        100 * u64::from(schedule.instance_per_table_element)
            + u64::from(schedule.instance_per_global)
            + u64::from(schedule.instance_per_function)
            + 2 * u64::from(schedule.instance_per_element)
    );
}

#[test]
fn a_callee_pays_for_the_instance_it_declares_on_both_backends() {
    let small = callee(1, "");
    let large = callee(256, "");
    let mut seen = Vec::new();
    for kind in BackendKind::ALL {
        let mut chain = Chain::new(kind);
        let caller = chain.deploy(CALLER, b"c");
        let one = chain.deploy(&small, b"1");
        let many = chain.deploy(&large, b"2");
        let a = chain.call_through(caller, one, 10_000_000);
        let b = chain.call_through(caller, many, 10_000_000);
        assert_eq!((status(&a), status(&b)), (0, 0), "{kind}: {a:?} {b:?}");
        // The same transaction but for the callee: the difference is the
        // difference of the instances' costs, and it is large.
        assert_eq!(
            b.gas_used - a.gas_used,
            instance_gas(&large) - instance_gas(&small),
            "{kind}"
        );
        assert!(b.gas_used - a.gas_used >= 255_000, "{kind}");
        seen.push((a, b));
    }
    assert_eq!(seen[0], seen[1], "both backends agree");
}

#[test]
fn a_callee_that_cannot_pay_for_its_instance_fails_with_the_gas_it_was_given() {
    let large = callee(256, "");
    let cost = instance_gas(&large);
    for kind in BackendKind::ALL {
        let mut chain = Chain::new(kind);
        let caller = chain.deploy(CALLER, b"c");
        let many = chain.deploy(&large, b"2");
        let short = chain.call_through(caller, many, cost - 1);
        let enough = chain.call_through(caller, many, cost);
        assert_eq!(status(&short), 2, "{kind}: failed");
        assert_eq!(status(&enough), 0, "{kind}: exactly enough");
        // Both used everything they forwarded: the callee's instance
        // cost, or all of one gas less.
        assert_eq!(enough.gas_used - short.gas_used, 1, "{kind}");
    }
}

#[test]
fn a_transaction_pays_for_its_top_frame_instance() {
    let empty = callee(3, "");
    for kind in BackendKind::ALL {
        let mut chain = Chain::new(kind);
        let to = chain.deploy(&empty, b"e");
        let tx = Tx {
            sender: ALICE,
            gas_limit: 1_000_000,
            value: 0,
            payload: Payload::Call {
                to,
                input: Vec::new(),
            },
        };
        let intrinsic = chain.exec.admit(&tx).unwrap();
        let receipt = chain.block(std::slice::from_ref(&tx)).remove(0);
        assert_eq!(receipt.status.as_str(), "ok", "{kind}");
        assert_eq!(
            receipt.gas_used,
            intrinsic + instance_gas(&empty),
            "{kind}: an empty main costs its instance and nothing else"
        );
        // A limit that covers the intrinsic cost but not the instance:
        // out of gas, all of it used.
        let short = Tx {
            sender: ALICE,
            gas_limit: intrinsic + instance_gas(&empty) - 1,
            value: 0,
            payload: Payload::Call {
                to,
                input: Vec::new(),
            },
        };
        let receipt = chain.block(std::slice::from_ref(&short)).remove(0);
        assert_eq!(receipt.status.as_str(), "out_of_gas", "{kind}");
        assert_eq!(receipt.gas_used, short.gas_limit(), "{kind}");
    }
}

/// Instantiates the stored code whose hash is its input (a child, through
/// `vm_*`) and outputs the gas that cost.
const PARENT: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "gas_left" (func $gas_left (result i64)))
  (import "ward" "vm_compile_stored" (func $compile (param i32) (result i64)))
  (import "ward" "vm_instantiate" (func $inst (param i64) (result i64)))
  (memory (export "memory") 1)
  (func (export "main") (local $m i64) (local $before i64)
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 32))
    (local.set $m (call $compile (i32.const 0)))
    (local.set $before (call $gas_left))
    (if (i64.lt_s (call $inst (local.get $m)) (i64.const 0)) (then unreachable))
    (i64.store (i32.const 64) (i64.sub (local.get $before) (call $gas_left)))
    (call $out (i32.const 64) (i32.const 8))))"#;

#[test]
fn vm_instantiate_pays_for_the_childs_instance() {
    let small = callee(1, "");
    let large = callee(200, "");
    let mut seen = Vec::new();
    for kind in BackendKind::ALL {
        let mut chain = Chain::new(kind);
        let parent = chain.deploy(PARENT, b"p");
        let mut spent = Vec::new();
        for (child, salt) in [(&small, b"1"), (&large, b"2")] {
            chain.deploy(child, salt);
            let tx = Tx {
                sender: ALICE,
                gas_limit: 50_000_000,
                value: 0,
                payload: Payload::Call {
                    to: parent,
                    input: ward_vm::CodeHash::of(&wat::parse_str(child).unwrap())
                        .0
                        .to_vec(),
                },
            };
            let receipt = chain.block(&[tx]).remove(0);
            assert_eq!(receipt.status.as_str(), "ok", "{kind}: {receipt:?}");
            spent.push(u64::from_le_bytes(receipt.output.try_into().unwrap()));
        }
        assert_eq!(
            spent[1] - spent[0],
            instance_gas(&large) - instance_gas(&small),
            "{kind}"
        );
        seen.push(spent);
    }
    assert_eq!(seen[0], seen[1], "both backends agree");
}

/// Emits events of `n` bytes of data (its input, u32) until it has emitted
/// `count` (its input's next u32) of them.
const EMITTER: &str = r#"(module
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "emit_event" (func $emit (param i32 i32 i32 i32)))
  (memory (export "memory") 2)
  (func (export "main") (local $i i32)
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 8))
    (block $done (loop $l
      (br_if $done (i32.ge_u (local.get $i) (i32.load (i32.const 4))))
      (call $emit (i32.const 16) (i32.const 4) (i32.const 64) (i32.load (i32.const 0)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $l)))))"#;

#[test]
fn a_transactions_events_are_bounded_in_bytes() {
    let max = ward_executor::ChainLimits::default().max_tx_event_bytes;
    let per_event = 65_536 - 4;
    // Topic (4 bytes) and data: exactly the budget, then one byte over.
    let fits = (max / (per_event + 4)) as u32;
    let mut seen = Vec::new();
    for kind in BackendKind::ALL {
        let mut chain = Chain::new(kind);
        let emitter = chain.deploy(EMITTER, b"e");
        let send = |chain: &mut Chain, size: u64, count: u32| {
            let mut input = (size as u32).to_le_bytes().to_vec();
            input.extend(count.to_le_bytes());
            let tx = Tx::call(ALICE, emitter, input, 100_000_000);
            chain.block(&[tx]).remove(0)
        };
        let within = send(&mut chain, per_event, fits);
        assert_eq!(within.status.as_str(), "ok", "{kind}: {within:?}");
        let bytes: u64 = within
            .events
            .iter()
            .map(|e| (e.topic.len() + e.data.len()) as u64)
            .sum();
        assert_eq!(bytes, max, "{kind}: the whole budget");
        let over = send(&mut chain, per_event, fits + 1);
        assert_eq!(
            (over.status.as_str(), over.error_kind.as_deref()),
            ("trapped", Some("host_error")),
            "{kind}"
        );
        assert!(
            over.events.is_empty(),
            "{kind}: a failed transaction keeps none"
        );
        // The next transaction has a budget of its own.
        let again = send(&mut chain, per_event, fits);
        assert_eq!(again.status.as_str(), "ok", "{kind}");
        seen.push((within, over, again));
    }
    assert_eq!(seen[0], seen[1], "both backends agree");
}
