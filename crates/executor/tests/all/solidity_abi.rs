//! The Rust ERC-20 (`contracts/erc20`, the SDK's Solidity ABI) beside the
//! Solidity Token (`contracts/evm/solidity/Token.sol` on the EVM runtime)
//! on one chain, on both backends: the same calldata gives the same
//! status, output, logs and revert data, and leaves the same balances.
//! The Rust one's gas per transfer is printed beside the Solidity one's
//! (`make bench-report` has the figure, `rust_vs_solidity_erc20_gas`).

#![allow(clippy::unwrap_used, reason = "test")]

use ward_primitives::{Address, CodeKind, RuntimeName};
use ward_sdk::sol::{self, U256, calldata, name};
use ward_state::Receipt;
use ward_testkit::evm::creation;
use ward_vm::BackendKind;

use crate::evm::Chain;
use crate::{ALICE, BOB, CAROL};

/// An address as Solidity sees it: its last 20 bytes.
fn eth(address: Address) -> Address {
    address.eth_form()
}

fn units(n: u128) -> U256 {
    U256::from(n)
}

/// The calls both tokens take, in order: (sender, calldata, what it is).
fn sequence() -> Vec<(Address, Vec<u8>, &'static str)> {
    let (alice, bob, carol) = (eth(ALICE), eth(BOB), eth(CAROL));
    vec![
        (ALICE, calldata("transfer", &(bob, units(100))), "transfer"),
        (ALICE, calldata("approve", &(bob, units(50))), "approve"),
        (
            BOB,
            calldata("transferFrom", &(alice, carol, units(30))),
            "transferFrom",
        ),
        (
            BOB,
            calldata("transferFrom", &(alice, carol, units(21))),
            "over the allowance",
        ),
        (
            BOB,
            calldata("transfer", &(carol, units(101))),
            "over the balance",
        ),
        (
            BOB,
            calldata("transfer", &(carol, units(100))),
            "everything",
        ),
        (BOB, calldata("transfer", &(carol, units(0))), "nothing"),
        (
            CAROL,
            calldata("transfer", &(carol, units(5))),
            "to oneself",
        ),
        (
            CAROL,
            calldata("approve", &(alice, U256::MAX)),
            "an unlimited allowance",
        ),
        (
            ALICE,
            calldata("transferFrom", &(carol, bob, units(10))),
            "from it",
        ),
        (
            ALICE,
            calldata("allowance", &(carol, alice)),
            "still unlimited",
        ),
        (ALICE, calldata("balanceOf", &(alice,)), "alice"),
        (ALICE, calldata("balanceOf", &(bob,)), "bob"),
        (ALICE, calldata("balanceOf", &(carol,)), "carol"),
        (ALICE, calldata("totalSupply", &()), "the supply"),
        (ALICE, calldata("decimals", &()), "decimals"),
        (ALICE, vec![0xde, 0xad, 0xbe, 0xef], "no such function"),
        (
            ALICE,
            calldata("transfer", &(bob, units(1)))[..36].to_vec(),
            "short calldata",
        ),
    ]
}

/// A log: its topics (concatenated) and its data.
type Log = (Vec<u8>, Vec<u8>);

/// What one call gave: status, output, logs.
fn seen(receipt: &Receipt) -> (String, Vec<u8>, Vec<Log>) {
    let logs = receipt
        .events
        .iter()
        .map(|e| (e.topic.clone(), e.data.clone()))
        .collect();
    (receipt.status.to_string(), receipt.output.clone(), logs)
}

/// Both tokens on one chain on `kind`: each call's receipt from the
/// Solidity token and from the Rust one.
fn both(kind: BackendKind) -> Vec<(Receipt, Receipt)> {
    let mut chain = Chain::new(kind);
    let supply = sol::encode_params(&(units(1_000),));
    let evm = CodeKind::Runtime(RuntimeName::new("evm").unwrap());
    let solidity = chain.deploy(creation("Token"), supply.clone(), evm);
    let rust = chain.deploy(
        ward_testkit::contracts::wasm("erc20"),
        supply,
        CodeKind::Ward,
    );
    let deploys = chain.log.clone();
    let mut receipts = vec![(deploys[0].clone(), deploys[1].clone())];
    for (sender, input, _) in sequence() {
        let s = chain.call(sender, solidity, input.clone());
        let r = chain.call(sender, rust, input);
        receipts.push((s, r));
    }
    receipts
}

#[test]
fn the_rust_erc20_answers_as_the_solidity_token_does() {
    let runs: Vec<_> = BackendKind::ALL.iter().map(|kind| both(*kind)).collect();
    for (i, (solidity, rust)) in runs[0].iter().enumerate() {
        let what = if i == 0 {
            "the deploy"
        } else {
            sequence()[i - 1].2
        };
        let (s, r) = (seen(solidity), seen(rust));
        if i == 0 {
            // The constructor's log; its output is the Solidity token's
            // runtime code, and nothing for the Rust one.
            assert_eq!((&s.0, &s.2), (&r.0, &r.2), "{what}");
        } else {
            assert_eq!(s, r, "{what}: the Solidity token, then the Rust one");
        }
    }
    assert_eq!(
        sol::decode_error_message(&runs[0][4].1.output).as_deref(),
        Some("insufficient allowance")
    );
    // Both backends gave the same receipts, gas included.
    assert_eq!(runs[0], runs[1]);
    let transfer = &runs[0][1];
    eprintln!(
        "gas per transfer: Solidity token {} Ward gas, Rust ERC-20 {} ({:.2}x less)",
        transfer.0.gas_used,
        transfer.1.gas_used,
        transfer.0.gas_used as f64 / transfer.1.gas_used as f64
    );
}

/// The interface both tokens expose, as selectors: ERC-20's.
#[test]
fn the_rust_erc20_has_erc20_s_selectors() {
    for (function, types, selector) in [
        (
            "transfer",
            &[name::<Address>(), name::<U256>()][..],
            [0xa9, 0x05, 0x9c, 0xbb],
        ),
        (
            "balanceOf",
            &[name::<Address>()][..],
            [0x70, 0xa0, 0x82, 0x31],
        ),
        (
            "transferFrom",
            &[name::<Address>(), name::<Address>(), name::<U256>()][..],
            [0x23, 0xb8, 0x72, 0xdd],
        ),
    ] {
        assert_eq!(sol::selector(function, types), selector, "{function}");
    }
}
