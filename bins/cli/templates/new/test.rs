//! {{name}} on an in-process chain. With `--features wasmtime`,
//! every call runs on both of Ward's backends, which must agree on every
//! result, gas figure and state root.

use {{crate}}::Greeted;
use ward_test::{Chain, account};

#[test]
fn greets_counts_and_emits() {
    let mut chain = Chain::new();
    let alice = account("alice");
    let contract = chain.deploy(alice, &ward_test::this_crate!(), &"Hello".to_string());

    let answer = chain.call(alice, &contract, "greet", &"world".to_string());
    assert_eq!(answer.decode::<String>(), "Hello, world!");
    let greeted = Greeted {
        who: alice,
        name: "world".into(),
        visit: 1,
    };
    assert_eq!(answer.events::<Greeted>(), [greeted]);
    assert_eq!(chain.query::<u64>(&contract, "visits", &()), 1);
}

#[test]
fn a_long_name_is_refused_and_changes_nothing() {
    let mut chain = Chain::new();
    let contract = chain.deploy(account("alice"), &ward_test::this_crate!(), &"Hi".to_string());
    chain
        .call(account("bob"), &contract, "greet", &"x".repeat(65))
        .assert_reverted("a name is at most 64 bytes");
    assert_eq!(chain.query::<u64>(&contract, "visits", &()), 0);
}
