//! The vault of native-asset deposits on an in-process chain (both
//! backends, which must agree), every call's gas estimate checked.

use vault::{Deposited, Released};
use ward_test::{Chain, account};

#[test]
fn holds_payable_deposits_and_refuses_value_elsewhere() {
    let (alice, bob, carol) = (account("alice"), account("bob"), account("carol"));
    let mut chain = Chain::new();
    chain.check_estimates();
    chain.fund(alice, 10_000);
    let vault = chain.deploy(alice, &ward_test::this_crate!(), &());
    // The schema says which method takes value.
    let schema = vault.schema().expect("a schema section");
    let payable: Vec<(&str, bool)> = schema
        .methods
        .iter()
        .map(|m| (m.name.as_str(), m.payable))
        .collect();
    assert!(payable.contains(&("deposit", true)));
    assert!(payable.contains(&("release", false)));

    // alice deposits 3,000 for bob, with carol as the arbiter.
    let deposit = chain
        .tx(alice)
        .value(3_000)
        .call(&vault, "deposit", &(bob, carol));
    assert_eq!(deposit.decode::<u64>(), 0);
    let by_alice = Deposited {
        id: 0,
        depositor: alice,
        beneficiary: bob,
        amount: 3_000,
    };
    assert_eq!(deposit.events::<Deposited>(), [by_alice]);
    assert_eq!(chain.balance(vault.address()), 3_000);
    assert_eq!(chain.query::<u128>(&vault, "held", &()), 3_000);

    // Value to a method that is not payable: refused, the value returned.
    let refused = chain.tx(alice).value(5).call(&vault, "release", &0u64);
    refused.assert_status("reverted");
    assert_eq!(refused.receipt().exit_code, 104);
    assert_eq!(chain.balance(vault.address()), 3_000);
    assert_eq!(chain.balance(alice), 7_000);

    // Only the arbiter or the depositor releases; bob cannot.
    chain
        .call(bob, &vault, "release", &0u64)
        .assert_status("reverted");
    let released = chain.call(carol, &vault, "release", &0u64);
    let to_bob = Released {
        id: 0,
        to: bob,
        amount: 3_000,
    };
    assert_eq!(released.events::<Released>(), [to_bob]);
    assert_eq!(chain.balance(vault.address()), 0);
    assert_eq!(chain.balance(bob), 3_000);
    assert_eq!(chain.balance(alice), 7_000);
}

#[test]
fn a_plain_transfer_moves_value_between_accounts() {
    let (alice, bob) = (account("alice"), account("bob"));
    let mut chain = Chain::new();
    chain.fund(alice, 100);
    chain.tx(alice).value(40).transfer(bob).assert_ok();
    assert_eq!((chain.balance(alice), chain.balance(bob)), (60, 40));
    chain
        .tx(alice)
        .value(61)
        .transfer(bob)
        .assert_status("refused");
    assert_eq!((chain.balance(alice), chain.balance(bob)), (60, 40));
}
