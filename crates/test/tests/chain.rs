//! ward-test's chain on modules written as text (no wasm32 build): what
//! it promises authors, and that its assertions fail when they should.

#![allow(clippy::unwrap_used, reason = "test")]

use std::panic::{AssertUnwindSafe, catch_unwind};

use ward_sdk::codec::encode;
use ward_test::{BackendKind, Chain, Contract, Value, Wasm, account};

const COUNTER: &str = include_str!("../../../examples/counter.wat");

/// A module whose `main` always outputs the eight bytes of 42.
const FORTY_TWO: &str = r#"(module
  (import "ward" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\2a\00\00\00\00\00\00\00")
  (func (export "main") (call $out (i32.const 0) (i32.const 8))))"#;

fn counter(chain: &mut Chain, start: u64) -> Contract {
    chain.deploy(
        account("alice"),
        &Wasm::from_bytes("counter", COUNTER),
        &start,
    )
}

fn get(chain: &Chain, contract: &Contract) -> u64 {
    // The text counter reads its input raw: "get" is not a codec call.
    let receipt = chain
        .executor(chain.backends()[0])
        .unwrap()
        .query(account("q"), contract.address(), b"get".to_vec(), 1_000_000)
        .unwrap();
    u64::from_le_bytes(receipt.output.try_into().unwrap())
}

fn bump(chain: &mut Chain, contract: &Contract) -> u64 {
    chain
        .tx(account("bob"))
        .call_raw(contract, None, b"add".to_vec())
        .decode()
}

/// The message a panic carried.
fn panic_message(f: impl FnOnce()) -> String {
    let payload = catch_unwind(AssertUnwindSafe(f)).expect_err("it should have panicked");
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

#[test]
fn accounts_are_named_deterministically() {
    assert_eq!(account("alice"), account("alice"));
    assert_ne!(account("alice"), account("bob"));
}

#[test]
fn one_backend_or_both() {
    assert_eq!(Chain::new().backends(), BackendKind::ALL);
    for kind in BackendKind::ALL {
        let mut chain = Chain::on(&[kind]);
        let c = counter(&mut chain, 5);
        assert_eq!(bump(&mut chain, &c), 6);
        assert_eq!(chain.backends(), [kind]);
    }
}

#[test]
fn snapshots_restore_the_whole_chain_and_can_be_reused() {
    let mut chain = Chain::new();
    let c = counter(&mut chain, 0);
    let (height, time) = (chain.height(), chain.time());
    let snapshot = chain.snapshot();
    bump(&mut chain, &c);
    bump(&mut chain, &c);
    assert_eq!(get(&chain, &c), 2);
    for _ in 0..2 {
        chain.restore(&snapshot);
        assert_eq!(
            (get(&chain, &c), chain.height(), chain.time()),
            (0, height, time)
        );
        assert_eq!(bump(&mut chain, &c), 1);
    }
}

#[test]
fn funds_transfers_and_refusals() {
    let (alice, bob) = (account("alice"), account("bob"));
    let mut chain = Chain::new();
    assert_eq!(chain.balance(alice), 0);
    chain.fund(alice, 1_000);
    chain.tx(alice).value(300).transfer(bob).assert_ok();
    assert_eq!((chain.balance(alice), chain.balance(bob)), (700, 300));
    let height = chain.height();
    let refused = chain.tx(bob).value(301).transfer(alice);
    assert_eq!(refused.status(), "refused");
    assert!(
        refused.error().unwrap().contains("holds 300"),
        "{refused:?}"
    );
    assert_eq!(chain.height(), height, "a refusal makes no block");
}

#[test]
fn storage_code_height_and_time_are_the_test_s_to_set() {
    let mut chain = Chain::new();
    let mut c = counter(&mut chain, 1);
    assert_eq!(chain.storage(&c, b"count"), Some(encode(&1u64)));
    assert_eq!(chain.storage_entries(&c).len(), 1);
    chain.set_storage(&c, b"count", Some(encode(&41u64)));
    assert_eq!(chain.item::<u64>(&c, b"count"), Some(41));
    assert_eq!(bump(&mut chain, &c), 42);

    chain.set_code(&mut c, &Wasm::from_bytes("forty-two", FORTY_TWO));
    assert_eq!(c.name(), "forty-two");
    assert_eq!(bump(&mut chain, &c), 42);
    assert_eq!(
        chain.item::<u64>(&c, b"count"),
        Some(42),
        "the storage stays"
    );

    let now = chain.height();
    chain.mine(3);
    assert_eq!(chain.height(), now + 3);
    chain.mine_to(now + 10);
    assert_eq!(chain.height(), now + 10);
    chain.set_time(2_000_000_000);
    chain.advance_time(60);
    assert_eq!(chain.time(), 2_000_000_060);
}

#[test]
fn assertions_fail_when_they_should_and_say_why() {
    let mut chain = Chain::new();
    let c = counter(&mut chain, u64::MAX - 1);
    let fine = chain.tx(account("bob")).call_raw(&c, None, b"add".to_vec());
    let message = panic_message(|| {
        fine.assert_reverted("anything");
    });
    assert!(
        message.contains("expected a revert containing \"anything\", but it ended ok"),
        "{message}"
    );
    let message = panic_message(|| {
        fine.assert_status("out_of_gas");
    });
    assert!(message.contains("expected status out_of_gas"), "{message}");
    let message = panic_message(|| {
        fine.decode::<u32>();
    });
    assert!(message.contains("is not a u32"), "{message}");

    // Out of gas: decode says so, with the trace.
    let starved = chain
        .tx(account("bob"))
        .gas(6_000)
        .call_raw(&c, None, b"add".to_vec());
    let message = panic_message(|| {
        starved.decode::<u64>();
    });
    assert!(
        message.contains("expected success, but it ended out_of_gas"),
        "{message}"
    );
    assert!(
        message.contains("intrinsic"),
        "the trace is printed: {message}"
    );

    // JSON needs a schema, which a text module has not.
    let message = panic_message(|| {
        chain.call_json(account("bob"), &c, "get", Value::Null);
    });
    assert!(message.contains("has no schema section"), "{message}");
}
