//! The token on an in-process chain (both backends, which must agree),
//! every call's gas estimate checked.

use token::{Approval, Transfer};
use ward_test::{Address, Chain, Contract, account};

fn deployed(supply: u128) -> (Chain, Contract) {
    let mut chain = Chain::new();
    chain.check_estimates();
    let token = chain.deploy(account("alice"), &ward_test::this_crate!(), &supply);
    (chain, token)
}

fn balance(chain: &Chain, token: &Contract, who: Address) -> u128 {
    chain.query(token, "balance_of", &who)
}

#[test]
fn transfers_approvals_mints_and_events() {
    let (alice, bob, carol) = (account("alice"), account("bob"), account("carol"));
    let (mut chain, token) = deployed(1_000);
    assert_eq!(chain.query::<Address>(&token, "owner", &()), alice);
    assert_eq!(chain.query::<u128>(&token, "total_supply", &()), 1_000);

    let sent = chain.call(alice, &token, "transfer", &(bob, 100u128));
    let transfer = Transfer {
        from: alice,
        to: bob,
        amount: 100,
    };
    assert_eq!(sent.assert_ok().events::<Transfer>(), [transfer]);
    assert_eq!(sent.receipt().events[0].contract, token.address());
    assert_eq!(balance(&chain, &token, alice), 900);
    assert_eq!(balance(&chain, &token, bob), 100);

    let approved = chain.call(alice, &token, "approve", &(bob, 50u128));
    let approval = Approval {
        owner: alice,
        spender: bob,
        amount: 50,
    };
    assert_eq!(approved.events::<Approval>(), [approval]);
    chain
        .call(bob, &token, "transfer_from", &(alice, carol, 30u128))
        .assert_ok();
    assert_eq!(chain.query::<u128>(&token, "allowance", &(alice, bob)), 20);
    chain
        .call(bob, &token, "transfer_from", &(alice, carol, 21u128))
        .assert_reverted("insufficient allowance: 20 < 21");

    let too_much = chain.call(bob, &token, "transfer", &(carol, 101u128));
    too_much.assert_reverted("insufficient balance: 100 < 101");
    assert!(too_much.gas_used() > 0);
    assert!(too_much.receipt().events.is_empty());
    chain
        .call(bob, &token, "mint", &(bob, 1u128))
        .assert_reverted("only the owner may mint");
    chain
        .call(alice, &token, "mint", &(carol, 70u128))
        .assert_ok();

    let balances: Vec<u128> = [alice, bob, carol]
        .iter()
        .map(|who| balance(&chain, &token, *who))
        .collect();
    assert_eq!(balances, [870, 100, 100]);
    assert_eq!(
        chain.query::<u128>(&token, "total_supply", &()),
        balances.iter().sum::<u128>()
    );
}

#[test]
fn a_transfer_that_runs_out_of_gas_anywhere_leaves_balances_untouched() {
    let (alice, bob) = (account("alice"), account("bob"));
    let (mut chain, token) = deployed(1_000);
    // The first transfer to bob creates his balance; from the second on,
    // every transfer of this shape costs the same.
    let mut needed = 0;
    for _ in 0..2 {
        needed = chain
            .call(alice, &token, "transfer", &(bob, 1u128))
            .assert_ok()
            .gas_used();
    }
    let before = chain.storage_entries(&token);
    // Every limit from half the cost to one short of it: each stops at a
    // different point of the transfer (before, between and after its
    // storage writes), and none may leave a trace.
    let mut limit = needed / 2;
    while limit < needed {
        let starved = chain
            .tx(alice)
            .gas(limit)
            .call(&token, "transfer", &(bob, 1u128));
        starved.assert_status("out_of_gas");
        assert_eq!(starved.gas_used(), limit);
        assert!(starved.receipt().events.is_empty());
        assert_eq!(
            chain.storage_entries(&token),
            before,
            "limit {limit} left a trace"
        );
        limit += (needed / 64).max(1);
    }
    let exact = chain
        .tx(alice)
        .gas(needed)
        .call(&token, "transfer", &(bob, 1u128));
    assert_eq!(
        exact.assert_ok().gas_used(),
        needed,
        "the measured cost is enough"
    );
    assert_eq!(balance(&chain, &token, bob), 3);
}
