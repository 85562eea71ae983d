//! Rust contracts of the Solidity ABI and Solidity contracts calling each
//! other as peers (`docs/evm.md`, "Addresses"), from signed Ethereum
//! transactions, on both backends: a Rust contract deployed by an
//! Ethereum account has a 20-byte address (`CREATE`'s), Solidity's
//! `Escrow` holds and moves the Rust ERC-20 through `IERC20`, a Rust
//! escrow holds and moves the Solidity `Token` and wraps the native asset
//! in `WETH9` (a call with value), reverts pass their data on both ways,
//! a `STATICCALL` into Rust is read-only, and a `DELEGATECALL` into Rust
//! is refused.

#![allow(clippy::unwrap_used, reason = "test")]

use std::collections::BTreeMap;

use alloy_primitives::TxKind;
use ward_chain::tx::{
    VerifiedTx,
    eth::{create_address, wasm_creation_code},
};
use ward_executor::Block;
use ward_primitives::Address;
use ward_sdk::sol::{self, Bytes, SolType, U256, calldata};
use ward_state::{Receipt, StateRead};
use ward_testkit::evm::creation;
use ward_vm::BackendKind;

use crate::ethereum::{FUNDS, Key, executor, signed};

/// What one step sends: from whom, to which contract (by its index in
/// `CONTRACTS`), with what value and calldata.
struct Step {
    what: &'static str,
    from: u8,
    to: usize,
    value: u128,
    input: Vec<u8>,
}

/// The contracts alice deploys, in order (nonces 0 to 6).
const CONTRACTS: [&str; 7] = [
    "Rust ERC-20",
    "Solidity Escrow over it",
    "Solidity Token",
    "Rust escrow over it",
    "WETH9",
    "Rust escrow over WETH9",
    "Caller",
];
const RUST_TOKEN: usize = 0;
const SOL_ESCROW: usize = 1;
const SOL_TOKEN: usize = 2;
const RUST_ESCROW: usize = 3;
const WRAPPED_ESCROW: usize = 5;
const CALLER: usize = 6;

const ALICE: u8 = 0xa1;
const BOB: u8 = 0xb0;

/// The 20-byte form of contract `index`, as Solidity takes it.
fn contract(alice: &Key, index: usize) -> Address {
    Address::from_eth(create_address(alice.address, index as u64))
}

fn units(n: u128) -> U256 {
    U256::from(n)
}

/// Each contract's creation data: the Wasm ones in `wasm_creation_code`'s
/// form, the constructor's arguments appended as Ethereum tools append
/// them.
fn deploys(alice: &Key) -> Vec<Vec<u8>> {
    let wasm = |name: &str, args: Vec<u8>| {
        let mut data = wasm_creation_code(&ward_testkit::contracts::wasm(name));
        data.extend(args);
        data
    };
    let evm = |name: &str, args: Vec<u8>| [creation(name), args].concat();
    let supply = sol::encode_params(&(units(1_000),));
    vec![
        wasm("erc20", supply.clone()),
        evm(
            "Escrow",
            sol::encode_params(&(contract(alice, RUST_TOKEN),)),
        ),
        evm("Token", supply),
        wasm(
            "erc20_escrow",
            sol::encode_params(&(contract(alice, SOL_TOKEN),)),
        ),
        evm("WETH9", Vec::new()),
        wasm("erc20_escrow", sol::encode_params(&(contract(alice, 4),))),
        evm("Caller", Vec::new()),
    ]
}

fn steps(alice: &Key, bob: &Key) -> Vec<Step> {
    let bob = Address::from_eth(bob.address);
    let at = |index| contract(alice, index);
    let step = |what, from, to, input| Step {
        what,
        from,
        to,
        value: 0,
        input,
    };
    let transfer_one = calldata("transfer", &(bob, units(1)));
    let balance_of_bob = calldata("balanceOf", &(bob,));
    let approve_one = calldata("approve", &(bob, units(1)));
    vec![
        // Solidity calls Rust.
        step(
            "approve the Solidity escrow",
            ALICE,
            RUST_TOKEN,
            calldata("approve", &(at(SOL_ESCROW), units(300))),
        ),
        step(
            "open: Solidity's transferFrom of the Rust token",
            ALICE,
            SOL_ESCROW,
            calldata("open", &(bob, units(200))),
        ),
        step(
            "open beyond the allowance: Rust's reason through Solidity",
            ALICE,
            SOL_ESCROW,
            calldata("open", &(bob, units(200))),
        ),
        step(
            "held: a STATICCALL of the Rust token's view",
            ALICE,
            SOL_ESCROW,
            calldata("held", &()),
        ),
        step(
            "release to bob",
            ALICE,
            SOL_ESCROW,
            calldata("release", &(units(0),)),
        ),
        // Rust calls Solidity.
        step(
            "approve the Rust escrow",
            ALICE,
            SOL_TOKEN,
            calldata("approve", &(at(RUST_ESCROW), units(300))),
        ),
        step(
            "open: Rust's transferFrom of the Solidity token",
            ALICE,
            RUST_ESCROW,
            calldata("open", &(bob, units(200))),
        ),
        step(
            "open beyond the allowance: Solidity's reason through Rust",
            ALICE,
            RUST_ESCROW,
            calldata("open", &(bob, units(200))),
        ),
        step(
            "held: a read-only call of the Solidity token",
            ALICE,
            RUST_ESCROW,
            calldata("held", &()),
        ),
        step(
            "a refund by the buyer: the Rust escrow's own reason",
            ALICE,
            RUST_ESCROW,
            calldata("refund", &(units(0),)),
        ),
        step(
            "release to bob",
            ALICE,
            RUST_ESCROW,
            calldata("release", &(units(0),)),
        ),
        // Value both ways.
        Step {
            value: 1_000,
            ..step(
                "open_wrapped: Rust calls WETH9's deposit with value",
                ALICE,
                WRAPPED_ESCROW,
                calldata("openWrapped", &(bob,)),
            )
        },
        Step {
            value: 500,
            ..step(
                "Solidity forwards value to Rust, which wraps it",
                ALICE,
                CALLER,
                calldata(
                    "forward",
                    &(at(WRAPPED_ESCROW), Bytes(calldata("openWrapped", &(bob,)))),
                ),
            )
        },
        Step {
            value: 5,
            ..step(
                "value to a Rust function that is not payable",
                ALICE,
                CALLER,
                calldata("forward", &(at(RUST_TOKEN), Bytes(transfer_one))),
            )
        },
        // STATICCALL and DELEGATECALL into Rust.
        step(
            "a STATICCALL of a Rust view",
            BOB,
            CALLER,
            calldata("peek", &(at(RUST_TOKEN), Bytes(balance_of_bob.clone()))),
        ),
        step(
            "a STATICCALL of a Rust function that writes",
            BOB,
            CALLER,
            calldata("peek", &(at(RUST_TOKEN), Bytes(approve_one))),
        ),
        step(
            "a DELEGATECALL into Rust",
            BOB,
            CALLER,
            calldata("borrow", &(at(RUST_TOKEN), Bytes(balance_of_bob))),
        ),
    ]
}

/// The whole scenario on `kind`: every block, and the native balances of
/// WETH9 and alice at the end.
fn run(kind: BackendKind) -> (Vec<Block>, u128, u128) {
    let (alice, bob) = (Key::from_secret([ALICE; 32]), Key::from_secret([BOB; 32]));
    let exec = executor(kind, 1, &[&alice, &bob]);
    let mut nonces = BTreeMap::new();
    let mut blocks = Vec::new();
    let mut send = |key: &Key, to: TxKind, value: u128, input: Vec<u8>, gas: u64| {
        let nonce = nonces.entry(key.address).or_insert(0);
        let tx: VerifiedTx = signed(key, (*nonce, gas), to, value, input);
        *nonce += 1;
        let time = 1_000 + blocks.len() as u64;
        blocks.push(exec.execute_signed_block(&[tx], time).unwrap());
    };
    for data in deploys(&alice) {
        // Ethereum transactions name EVM gas: most of what one may use.
        send(&alice, TxKind::Create, 0, data, 3_000_000);
    }
    for step in steps(&alice, &bob) {
        let key = if step.from == ALICE { &alice } else { &bob };
        let to = contract(&alice, step.to).eth().unwrap();
        send(
            key,
            TxKind::Call(to.into()),
            step.value,
            step.input,
            500_000,
        );
    }
    let store = exec.store();
    let weth = store.balance(&contract(&alice, 4)).unwrap();
    (blocks, weth, store.balance(&alice.account()).unwrap())
}

fn receipt(blocks: &[Block], index: usize) -> &Receipt {
    &blocks[index].receipts[0]
}

/// The one result of a call's output.
fn result<R: SolType>(receipt: &Receipt) -> R {
    sol::decode_params::<(R,)>(&receipt.output).unwrap().0
}

#[test]
fn rust_and_solidity_contracts_call_each_other_as_peers_on_both_backends() {
    let runs: Vec<_> = BackendKind::ALL.iter().map(|kind| run(*kind)).collect();
    assert_eq!(runs[0], runs[1], "both backends: receipts, roots, balances");
    let (blocks, weth, alice_left) = &runs[0];
    let alice = Key::from_secret([ALICE; 32]);
    // Every contract is at its CREATE address; the Rust ones are Wasm.
    for (index, name) in CONTRACTS.iter().enumerate() {
        let deployed = receipt(blocks, index);
        assert_eq!(deployed.status.as_str(), "ok", "{name}: {deployed:?}");
        assert_eq!(deployed.address, Some(contract(&alice, index)), "{name}");
    }
    let steps = steps(&alice, &Key::from_secret([BOB; 32]));
    let at = |what: &str| {
        let i = steps.iter().position(|s| s.what == what).unwrap();
        receipt(blocks, CONTRACTS.len() + i)
    };
    let expected = [
        ("approve the Solidity escrow", "ok"),
        ("open: Solidity's transferFrom of the Rust token", "ok"),
        ("held: a STATICCALL of the Rust token's view", "ok"),
        ("approve the Rust escrow", "ok"),
        ("open: Rust's transferFrom of the Solidity token", "ok"),
        ("held: a read-only call of the Solidity token", "ok"),
        ("open_wrapped: Rust calls WETH9's deposit with value", "ok"),
        ("Solidity forwards value to Rust, which wraps it", "ok"),
        ("a STATICCALL of a Rust view", "ok"),
    ];
    for (what, status) in expected {
        assert_eq!(at(what).status.as_str(), status, "{what}: {:?}", at(what));
    }
    let (address, uint256) = (sol::name::<Address>(), sol::name::<U256>());
    // Each escrow's open moved the other language's tokens in: the
    // token's Transfer log, then the escrow's Opened.
    for what in [
        "open: Solidity's transferFrom of the Rust token",
        "open: Rust's transferFrom of the Solidity token",
    ] {
        let opened = at(what);
        assert_eq!(result::<U256>(opened), units(0), "{what}");
        assert_eq!(opened.events.len(), 2, "{what}: {opened:?}");
        assert_eq!(
            opened.events[0].topic[..32],
            sol::event_topic("Transfer", &[address, address, uint256]),
            "{what}"
        );
    }
    // Reverts pass their data on unchanged, both ways.
    for (what, reason) in [
        (
            "open beyond the allowance: Rust's reason through Solidity",
            "insufficient allowance",
        ),
        (
            "open beyond the allowance: Solidity's reason through Rust",
            "insufficient allowance",
        ),
        (
            "a refund by the buyer: the Rust escrow's own reason",
            "only the seller refunds an open deal",
        ),
    ] {
        let reverted = at(what);
        assert_eq!(reverted.status.as_str(), "reverted", "{what}: {reverted:?}");
        assert_eq!(
            sol::decode_error_message(&reverted.output).as_deref(),
            Some(reason),
            "{what}"
        );
        assert!(reverted.events.is_empty(), "{what}");
    }
    assert_eq!(
        result::<U256>(at("held: a STATICCALL of the Rust token's view")),
        units(200)
    );
    assert_eq!(
        result::<U256>(at("held: a read-only call of the Solidity token")),
        units(200)
    );
    // Both releases paid bob 200 of each token: what the STATICCALL of
    // the Rust token's balanceOf returned, through Caller's bytes.
    let peeked = result::<Bytes>(at("a STATICCALL of a Rust view"));
    assert_eq!(
        sol::decode_params::<(U256,)>(&peeked.0).unwrap().0,
        units(200)
    );
    // A write under STATICCALL fails in the Rust frame, a DELEGATECALL of
    // Wasm code from an EVM frame is refused, value to a function that is
    // not payable is refused: each reverts with no data (Caller passes
    // the callee's on).
    for what in [
        "a STATICCALL of a Rust function that writes",
        "a DELEGATECALL into Rust",
        "value to a Rust function that is not payable",
    ] {
        let refused = at(what);
        assert_eq!(
            (refused.status.as_str(), refused.output.as_slice()),
            ("reverted", &[][..]),
            "{what}: {refused:?}"
        );
    }
    // WETH9 holds the 1 500 wrapped by the Rust escrow; the 5 sent to a
    // function that is not payable came back.
    assert_eq!(*weth, 1_500);
    let alice_fees: u128 = (0..CONTRACTS.len())
        .chain(
            steps
                .iter()
                .enumerate()
                .filter(|(_, s)| s.from == ALICE)
                .map(|(i, _)| CONTRACTS.len() + i),
        )
        .map(|i| receipt(blocks, i).fee)
        .sum();
    assert_eq!(*alice_left, FUNDS - alice_fees - 1_500);
}
