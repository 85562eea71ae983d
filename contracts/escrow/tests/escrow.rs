//! The escrow with the token it holds, on an in-process chain (both
//! backends, which must agree), every call's gas estimate checked.

use std::path::Path;

use escrow::{DepositRefused, Deposited};
use ward_test::{Address, Chain, Contract, Wasm, account};

/// The token contract, built from its crate beside this one.
fn token_wasm() -> Wasm {
    Wasm::build(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../token"))
}

fn balance(chain: &Chain, token: &Contract, who: Address) -> u128 {
    chain.query(token, "balance_of", &who)
}

#[test]
fn holds_releases_refunds_and_handles_a_refusing_token() {
    let (alice, bob, carol) = (account("alice"), account("bob"), account("carol"));
    let mut chain = Chain::new();
    chain.check_estimates();
    let token = chain.deploy(alice, &token_wasm(), &1_000u128);
    let escrow = chain.deploy(alice, &ward_test::this_crate!(), &());
    let refund_after = chain.time() + 100;
    let deposit = (token.address(), bob, carol, 200u128, refund_after);

    // Without an allowance the token reverts the pull; the escrow handles
    // it: no deal, an event with the token's message, and the transaction
    // succeeds with the token's state untouched.
    let token_before = chain.storage_entries(&token);
    let refused = chain.call(alice, &escrow, "deposit", &deposit);
    assert_eq!(refused.decode::<Option<u64>>(), None);
    let [DepositRefused { depositor, message }] = &refused.events::<DepositRefused>()[..] else {
        panic!("one DepositRefused: {refused:?}");
    };
    assert_eq!(*depositor, alice);
    assert!(
        message.contains("insufficient allowance: 0 < 200"),
        "{message}"
    );
    assert_eq!(refused.receipt().events.len(), 1);
    assert_eq!(chain.storage_entries(&token), token_before);
    assert!(chain.storage_entries(&escrow).is_empty());

    chain
        .call(alice, &token, "approve", &(escrow.address(), 300u128))
        .assert_ok();
    let deposited = chain.call(alice, &escrow, "deposit", &deposit);
    assert_eq!(deposited.decode::<Option<u64>>(), Some(0));
    let topics: Vec<&[u8]> = deposited
        .receipt()
        .events
        .iter()
        .map(|e| e.topic.as_slice())
        .collect();
    assert_eq!(
        topics,
        [&b"Transfer"[..], b"Deposited"],
        "the token's event, then the escrow's"
    );
    let by_alice = Deposited {
        id: 0,
        depositor: alice,
        beneficiary: bob,
        amount: 200,
    };
    assert_eq!(deposited.events::<Deposited>(), [by_alice]);
    assert_eq!(balance(&chain, &token, escrow.address()), 200);
    assert_eq!(chain.query::<u128>(&escrow, "held", &token.address()), 200);

    chain
        .call(bob, &escrow, "release", &0u64)
        .assert_reverted("only the arbiter or the depositor");
    chain.call(carol, &escrow, "release", &0u64).assert_ok();
    assert_eq!(balance(&chain, &token, bob), 200);
    assert_eq!(balance(&chain, &token, escrow.address()), 0);
    type Deal = Option<(Address, Address, Address, Address, u128, u64)>;
    assert_eq!(chain.query::<Deal>(&escrow, "deal", &0u64), None);
    let again = chain.call(carol, &escrow, "release", &0u64);
    again.assert_reverted("no such deal");
    assert_eq!(again.receipt().exit_code, 2);

    let second = chain.call(
        alice,
        &escrow,
        "deposit",
        &(token.address(), bob, carol, 100u128, refund_after),
    );
    assert_eq!(second.decode::<Option<u64>>(), Some(1));
    chain
        .call(alice, &escrow, "refund", &1u64)
        .assert_reverted("refund not allowed yet");
    chain.set_time(refund_after);
    chain.call(alice, &escrow, "refund", &1u64).assert_ok();
    assert_eq!(balance(&chain, &token, alice), 800);
    assert_eq!(
        chain.query::<u128>(&token, "allowance", &(alice, escrow.address())),
        0
    );
}
