//! {{name}} on an in-process chain, called as Ethereum tools call it.
//! With `--features wasmtime`, every call runs on both of
//! Ward's backends, which must agree on every result, gas figure and
//! state root.

use {{crate}}::Greeted;
use ward_sdk::sol::SolEvent;
use ward_test::{Address, Chain};

/// An Ethereum account: 12 zero bytes and its 20.
fn account(byte: u8) -> Address {
    Address::from_eth([byte; 20])
}

#[test]
fn greets_counts_and_logs() {
    let mut chain = Chain::new();
    let alice = account(0xa1);
    let hello = ("Hello".to_string(),);
    let contract = chain.deploy_sol(alice, &ward_test::this_crate!(), &hello);

    let answer = chain.call_sol(alice, &contract, "greet", &("world".to_string(),));
    assert_eq!(answer.assert_ok().sol::<String>(), "Hello, world!");
    let greeted = Greeted {
        who: alice,
        name: "world".into(),
        visit: 1,
    };
    let log = &answer.receipt().events[0];
    assert_eq!((log.topic.clone(), log.data.clone()), greeted.log());
    assert_eq!(chain.query_sol::<u64, _>(&contract, "visits", &()), 1);
}

#[test]
fn a_long_name_is_refused_and_changes_nothing() {
    let mut chain = Chain::new();
    let hi = ("Hi".to_string(),);
    let contract = chain.deploy_sol(account(0xa1), &ward_test::this_crate!(), &hi);
    chain
        .call_sol(account(0xb0), &contract, "greet", &("x".repeat(65),))
        .assert_sol_reverted("a name is at most 64 bytes");
    assert_eq!(chain.query_sol::<u64, _>(&contract, "visits", &()), 0);
}
