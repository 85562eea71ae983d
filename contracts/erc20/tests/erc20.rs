//! The Rust ERC-20 on an in-process chain (both backends, which must
//! agree), driven as Ethereum tools drive it: ABI-encoded calldata,
//! Solidity's revert data, logs with topics.

use erc20::{Approval, Transfer};
use ward_sdk::sol::{SolEvent, U256};
use ward_test::{Address, Chain, Contract, Outcome, sol};

/// An Ethereum account: 12 zero bytes and 20.
fn eth(byte: u8) -> Address {
    Address::from_eth([byte; 20])
}

fn units(n: u64) -> U256 {
    U256::from(n)
}

fn balance(chain: &Chain, token: &Contract, who: Address) -> U256 {
    chain.query_sol(token, "balance_of", &(who,))
}

/// The topic and data of the receipt's `index`th event.
fn log(out: &Outcome, index: usize) -> (Vec<u8>, Vec<u8>) {
    let event = &out.receipt().events[index];
    (event.topic.clone(), event.data.clone())
}

#[test]
fn transfers_approvals_and_solidity_s_reverts() {
    let (alice, bob, carol) = (eth(0xa1), eth(0xb0), eth(0xca));
    let mut chain = Chain::new();
    let token = chain.deploy_sol(alice, &ward_test::this_crate!(), &(units(1_000),));
    assert_eq!(balance(&chain, &token, alice), units(1_000));
    let name: String = chain.query_sol(&token, "name", &());
    assert_eq!(name, "Ward Rust Token");
    assert_eq!(chain.query_sol::<u8, _>(&token, "decimals", &()), 18);

    let sent = chain.call_sol(alice, &token, "transfer", &(bob, units(100)));
    assert!(sent.assert_ok().sol::<bool>());
    let transfer = Transfer {
        from: alice,
        to: bob,
        value: units(100),
    };
    assert_eq!(log(&sent, 0), transfer.log());

    let approved = chain.call_sol(alice, &token, "approve", &(bob, units(50)));
    let approval = Approval {
        owner: alice,
        spender: bob,
        value: units(50),
    };
    assert_eq!(log(approved.assert_ok(), 0), approval.log());
    chain
        .call_sol(bob, &token, "transfer_from", &(alice, carol, units(30)))
        .assert_ok();
    assert_eq!(balance(&chain, &token, carol), units(30));
    let left: U256 = chain.query_sol(&token, "allowance", &(alice, bob));
    assert_eq!(left, units(20));

    // Solidity's revert data: Error(string), nothing written, no event.
    chain
        .call_sol(bob, &token, "transfer_from", &(alice, carol, units(21)))
        .assert_sol_reverted("insufficient allowance");
    let too_much = chain.call_sol(bob, &token, "transfer", &(carol, units(101)));
    too_much.assert_sol_reverted("insufficient balance");
    assert!(too_much.receipt().events.is_empty());
    assert_eq!(balance(&chain, &token, bob), units(100));

    // No such function, calldata that does not decode, value to what is
    // not payable: reverts with no data, as Solidity's.
    let unknown = chain.tx(alice).call_raw(&token, None, vec![1, 2, 3, 4]);
    assert_eq!((unknown.status(), unknown.output()), ("reverted", &[][..]));
    let short = sol::calldata("transfer", &(Address::default(), units(1)))[..4].to_vec();
    let bad = chain.tx(alice).call_raw(&token, None, short);
    assert_eq!((bad.status(), bad.output()), ("reverted", &[][..]));
    chain.fund(alice, 10);
    let paid = chain
        .tx(alice)
        .value(1)
        .call_sol(&token, "transfer", &(bob, units(1)));
    assert_eq!((paid.status(), paid.output()), ("reverted", &[][..]));
}
