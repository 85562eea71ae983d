//! The counter on an in-process chain (both backends, which must agree).

use counter::Incremented;
use ward_sdk::codec::encode;
use ward_test::{Chain, Value, account, json};

#[test]
fn increments_and_emits_the_new_count() {
    let mut chain = Chain::new();
    let alice = account("alice");
    let counter = chain.deploy(alice, &ward_test::this_crate!(), &5u64);

    let bumped = chain.call(account("bob"), &counter, "increment", &3u64);
    assert_eq!(bumped.decode::<u64>(), 8);
    assert_eq!(bumped.events::<Incremented>(), [Incremented { count: 8 }]);
    assert_eq!(chain.query::<u64>(&counter, "get", &()), 8);
    // The same through the schema, as JSON.
    let json = chain.call_json(alice, &counter, "increment", json!({ "by": 2 }));
    // A u64 is a string in JSON (a JSON number cannot hold every one).
    assert_eq!(json.json(), json!("10"));
    assert_eq!(chain.query_json(&counter, "get", Value::Null), json!("10"));
}

#[test]
fn bad_input_reverts_with_a_message_and_changes_nothing() {
    let mut chain = Chain::new();
    let bob = account("bob");
    let counter = chain.deploy(account("alice"), &ward_test::this_crate!(), &5u64);

    chain
        .call(bob, &counter, "decrement", &1u64)
        .assert_reverted("unknown method `decrement`");
    chain
        .call(bob, &counter, "increment", &1u32)
        .assert_reverted("bad arguments for `increment`");
    chain
        .tx(bob)
        .call_raw(&counter, None, vec![0xff; 3])
        .assert_reverted("method name");
    // Overflow checks are on in contracts: the panic's message is the
    // revert's, and the count is untouched.
    let overflow = chain.call(bob, &counter, "increment", &u64::MAX);
    overflow.assert_reverted("panicked: attempt to add with overflow");
    assert_eq!(overflow.receipt().exit_code, 101);
    assert!(overflow.events::<Incremented>().is_empty());
    assert_eq!(chain.query::<u64>(&counter, "get", &()), 5);
}

#[test]
fn snapshots_storage_time_and_gas() {
    let mut chain = Chain::new();
    let alice = account("alice");
    let counter = chain.deploy(alice, &ward_test::this_crate!(), &0u64);
    let before = chain.snapshot();
    let height = chain.height();

    let first = chain.call(alice, &counter, "increment", &1u64);
    let second = chain.call(alice, &counter, "increment", &1u64);
    // Both replace the value `init` stored: the same work, the same gas.
    assert_eq!(first.gas_used(), second.gas_used());
    assert!(first.gas_used() > 0);
    assert_eq!(chain.item::<u64>(&counter, b"count"), Some(2));

    chain.restore(&before);
    assert_eq!(chain.height(), height);
    assert_eq!(chain.query::<u64>(&counter, "get", &()), 0);
    chain.set_storage(&counter, b"count", Some(encode(&41u64)));
    assert_eq!(
        chain
            .call(alice, &counter, "increment", &1u64)
            .decode::<u64>(),
        42
    );

    chain.mine_to(height + 10);
    assert_eq!(chain.height(), height + 10);
    chain.set_time(2_000_000_000);
    assert_eq!(chain.time(), 2_000_000_000);
}
