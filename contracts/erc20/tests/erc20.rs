//! The Rust ERC-20 on an in-process chain (both backends, which must
//! agree), driven as Ethereum tools drive it: ABI-encoded calldata,
//! Solidity's revert data, logs with topics.

use erc20::{Approval, Transfer};
use ward_sdk::sol::{self, SolEvent, U256, name};
use ward_test::{Address, Chain, Contract, Outcome};

/// An Ethereum account: 12 zero bytes and 20.
fn eth(byte: u8) -> Address {
    Address::from_eth([byte; 20])
}

fn deployed(chain: &mut Chain, owner: Address, supply: u64) -> Contract {
    let input = sol::encode_params(&(U256::from(supply),));
    chain
        .tx(owner)
        .deploy_raw(&ward_test::this_crate!(), input)
        .contract()
}

/// Calls the Rust function `function` (its selector is its camelCase
/// name's) with `args` from `sender`.
fn call<T: sol::SolType>(
    chain: &mut Chain,
    sender: Address,
    token: &Contract,
    function: (&str, &[sol::Name]),
    args: &T,
) -> Outcome {
    let calldata = sol::encode_call(sol::function_selector(function.0, function.1), args);
    chain.tx(sender).call_raw(token, None, calldata)
}

fn balance(chain: &mut Chain, token: &Contract, who: Address) -> U256 {
    let out = call(
        chain,
        who,
        token,
        ("balance_of", &[name::<Address>()]),
        &(who,),
    );
    sol::decode_params::<(U256,)>(out.assert_ok().output())
        .unwrap()
        .0
}

const TRANSFER: (&str, &[sol::Name]) = ("transfer", &[name::<Address>(), name::<U256>()]);
const APPROVE: (&str, &[sol::Name]) = ("approve", &[name::<Address>(), name::<U256>()]);
const TRANSFER_FROM: (&str, &[sol::Name]) = (
    "transfer_from",
    &[name::<Address>(), name::<Address>(), name::<U256>()],
);

/// The topic and data of the receipt's `index`th event.
fn log(out: &Outcome, index: usize) -> (Vec<u8>, Vec<u8>) {
    let event = &out.receipt().events[index];
    (event.topic.clone(), event.data.clone())
}

#[test]
fn transfers_approvals_and_solidity_s_reverts() {
    let (alice, bob, carol) = (eth(0xa1), eth(0xb0), eth(0xca));
    let mut chain = Chain::new();
    let token = deployed(&mut chain, alice, 1_000);
    assert_eq!(balance(&mut chain, &token, alice), U256::from(1_000u64));

    let sent = call(
        &mut chain,
        alice,
        &token,
        TRANSFER,
        &(bob, U256::from(100u64)),
    );
    assert_eq!(
        sol::decode_params::<(bool,)>(sent.assert_ok().output()),
        Ok((true,))
    );
    let transfer = Transfer {
        from: alice,
        to: bob,
        value: U256::from(100u64),
    };
    assert_eq!(log(&sent, 0), transfer.log());

    let approved = call(
        &mut chain,
        alice,
        &token,
        APPROVE,
        &(bob, U256::from(50u64)),
    );
    let approval = Approval {
        owner: alice,
        spender: bob,
        value: U256::from(50u64),
    };
    assert_eq!(log(approved.assert_ok(), 0), approval.log());
    call(
        &mut chain,
        bob,
        &token,
        TRANSFER_FROM,
        &(alice, carol, U256::from(30u64)),
    )
    .assert_ok();
    assert_eq!(balance(&mut chain, &token, carol), U256::from(30u64));

    // Solidity's revert data: Error(string), nothing written, no event.
    let over = call(
        &mut chain,
        bob,
        &token,
        TRANSFER_FROM,
        &(alice, carol, U256::from(21u64)),
    );
    assert_eq!(over.status(), "reverted");
    assert_eq!(over.output(), sol::error_message("insufficient allowance"));
    let too_much = call(
        &mut chain,
        bob,
        &token,
        TRANSFER,
        &(carol, U256::from(101u64)),
    );
    assert_eq!(
        too_much.output(),
        sol::error_message("insufficient balance")
    );
    assert!(too_much.receipt().events.is_empty());
    assert_eq!(balance(&mut chain, &token, bob), U256::from(100u64));

    // No such function, calldata that does not decode, value to what
    // is not payable: reverts with no data, as Solidity's.
    let unknown = chain.tx(alice).call_raw(&token, None, vec![1, 2, 3, 4]);
    assert_eq!((unknown.status(), unknown.output()), ("reverted", &[][..]));
    let short = sol::function_selector(TRANSFER.0, TRANSFER.1).to_vec();
    let bad = chain.tx(alice).call_raw(&token, None, short);
    assert_eq!((bad.status(), bad.output()), ("reverted", &[][..]));
}
