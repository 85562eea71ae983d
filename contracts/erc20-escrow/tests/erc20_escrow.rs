//! The Rust escrow over the Rust ERC-20 on an in-process chain (both
//! backends, which must agree): one Rust contract calling another through
//! the Solidity ABI, as it calls a Solidity token (the executor's
//! `sol_calls` test runs it against Solidity's `Token` and `WETH9`).

use std::path::Path;

use ward_sdk::sol::U256;
use ward_test::{Address, Chain, Contract, Wasm, sol};

#[test]
fn deals_move_the_token_and_reverts_carry_its_reasons() {
    // Ethereum accounts: their transactions run as they signed them.
    let (alice, bob) = (Address::from_eth([0xa1; 20]), Address::from_eth([0xb0; 20]));
    let units = |n: u64| U256::from(n);
    let balance = |chain: &Chain, token: &Contract, who| -> U256 {
        chain.query_sol(token, "balance_of", &(who,))
    };
    let mut chain = Chain::new();
    let erc20 = Wasm::build(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../erc20"));
    let token = chain.deploy_sol(alice, &erc20, &(units(1_000),));
    // Deployed by an Ethereum account, both have 20-byte addresses
    // (`CREATE`'s, from alice's nonce), which Solidity's ABI carries.
    assert_eq!(token.address(), sol::create_address(alice, 0));
    let escrow = chain.deploy_sol(alice, &ward_test::this_crate!(), &(token.address(),));
    let holder = escrow.address();
    assert_eq!(holder, sol::create_address(alice, 1));
    assert_eq!(
        chain.query_sol::<Address, _>(&escrow, "token", &()),
        token.address()
    );

    chain
        .call_sol(alice, &token, "approve", &(holder, units(300)))
        .assert_ok();
    let opened = chain.call_sol(alice, &escrow, "open", &(bob, units(200)));
    assert_eq!(opened.assert_ok().sol::<U256>(), units(0));
    // The token's Transfer, then the escrow's Opened.
    assert_eq!(opened.receipt().events.len(), 2);
    assert_eq!(balance(&chain, &token, holder), units(200));
    assert_eq!(chain.query_sol::<U256, _>(&escrow, "held", &()), units(200));

    // Beyond the allowance: the token's reason, passed on by the escrow.
    chain
        .call_sol(alice, &escrow, "open", &(bob, units(200)))
        .assert_sol_reverted("insufficient allowance");
    // Only the seller refunds, only the buyer releases.
    chain
        .call_sol(alice, &escrow, "refund", &(units(0),))
        .assert_sol_reverted("only the seller refunds an open deal");
    chain
        .call_sol(bob, &escrow, "release", &(units(0),))
        .assert_sol_reverted("only the buyer releases an open deal");
    chain
        .call_sol(alice, &escrow, "release", &(units(0),))
        .assert_ok();
    assert_eq!(balance(&chain, &token, bob), units(200));
    assert_eq!(balance(&chain, &token, holder), units(0));
    let deal: (Address, Address, U256, bool) = chain.query_sol(&escrow, "deal", &(units(0),));
    assert_eq!(deal, (alice, bob, units(200), false));
    // A closed deal cannot be released again.
    chain
        .call_sol(alice, &escrow, "release", &(units(0),))
        .assert_sol_reverted("only the buyer releases an open deal");
}
