//! Ethereum transactions in blocks (`docs/ethereum.md`), on both backends
//! and on one or two threads: a deploy of EVM creation code lands at the
//! sender's `CREATE` address, an ERC-20 transfer runs as signed, value
//! reaches a fresh key's account and the key spends it, a call of an
//! address with no contract is a transfer whatever its input (as on
//! Ethereum), and the fee is exactly `gas_used × effective gas price`,
//! in EVM gas as Ethereum counts it. Every receipt and the state root
//! agree everywhere.

#![allow(clippy::unwrap_used, reason = "test")]

use std::{collections::BTreeMap, sync::Arc};

use alloy_consensus::{SignableTransaction, TxEip1559, TxEnvelope, TxLegacy, crypto::secp256k1};
use alloy_eips::eip2718::Encodable2718;
use alloy_primitives::{B256, Bytes, TxKind, U256};
use ward_chain::tx::{
    ChainRules, Deploy, Payload, VerifiedTx,
    eth::{EthTx, create_address},
};
use ward_executor::{Block, Executor, Fees};
use ward_primitives::Address;
use ward_state::{MemoryStore, StateRead};
use ward_testkit::evm::{address_word, calldata, creation, word, word_at};
use ward_vm::{BackendKind, Config};

const ETH_CHAIN: u64 = 31_337;
/// The chain's least gas price, per Ward gas: a base fee of 64 per EVM
/// gas.
const MIN_GAS_PRICE: u128 = 1;
const BASE_FEE: u128 = 64;
pub(crate) const FUNDS: u128 = 10u128.pow(24);

fn rules() -> ChainRules {
    ChainRules {
        eth_chain_id: Some(ETH_CHAIN),
        base_fee: BASE_FEE,
        ..ChainRules::new("ward-eth")
    }
}

/// A secp256k1 key and its 20-byte address.
pub(crate) use ward_devkeys::EthKey as Key;

/// Signs `tx` (EIP-1559, at most 1 M EVM gas, 64 M Ward gas: three fit
/// in a block of Ward's default 200 M) with `key`, read back as a block
/// takes it.
fn eip1559(key: &Key, nonce: u64, to: TxKind, value: u128, input: Vec<u8>) -> VerifiedTx {
    signed(key, (nonce, 1_000_000), to, value, input)
}

/// Signs an EIP-1559 transaction of `key` with `nonce` and `gas_limit`.
pub(crate) fn signed(
    key: &Key,
    (nonce, gas_limit): (u64, u64),
    to: TxKind,
    value: u128,
    input: Vec<u8>,
) -> VerifiedTx {
    signed_with_access(
        key,
        (nonce, gas_limit),
        to,
        value,
        input,
        Default::default(),
    )
}

/// [`signed`] with an access list (EIP-2930).
pub(crate) fn signed_with_access(
    key: &Key,
    (nonce, gas_limit): (u64, u64),
    to: TxKind,
    value: u128,
    input: Vec<u8>,
    access_list: alloy_eips::eip2930::AccessList,
) -> VerifiedTx {
    let tx = TxEip1559 {
        chain_id: ETH_CHAIN,
        nonce,
        gas_limit,
        max_fee_per_gas: 100,
        max_priority_fee_per_gas: 3,
        to,
        value: U256::from(value),
        access_list,
        input: Bytes::from(input),
    };
    let signature = secp256k1::sign_message(B256::from(key.secret), tx.signature_hash()).unwrap();
    verified(&TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
}

/// A legacy (EIP-155) transaction of `key`.
fn legacy(key: &Key, nonce: u64, to: [u8; 20], value: u128, price: u128) -> VerifiedTx {
    let tx = TxLegacy {
        chain_id: Some(ETH_CHAIN),
        nonce,
        gas_price: price,
        gas_limit: 21_000,
        to: TxKind::Call(to.into()),
        value: U256::from(value),
        input: Bytes::new(),
    };
    let signature = secp256k1::sign_message(B256::from(key.secret), tx.signature_hash()).unwrap();
    verified(&TxEnvelope::from(tx.into_signed(signature)).encoded_2718())
}

fn verified(envelope: &[u8]) -> VerifiedTx {
    let tx = EthTx::verify(envelope, ETH_CHAIN).unwrap();
    let verified = VerifiedTx::from_bytes(&tx.to_stored(), &rules()).unwrap();
    assert_eq!(verified.hash(), tx.hash());
    verified
}

pub(crate) fn executor(
    kind: BackendKind,
    threads: usize,
    funded: &[&Key],
) -> Executor<MemoryStore> {
    let config = Config::default();
    let exec = Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(kind, &config),
        &config,
    )
    .with_runtimes(crate::evm::runtimes(kind))
    .with_fees(Fees {
        min_gas_price: MIN_GAS_PRICE,
        collector: None,
        min_evm_gas_price: None,
    })
    .with_threads(threads);
    let accounts: BTreeMap<Address, u128> = funded.iter().map(|k| (k.account(), FUNDS)).collect();
    exec.genesis(&accounts).unwrap();
    exec
}

/// The blocks of the scenario, run on `exec`; its blocks.
fn scenario(exec: &Executor<MemoryStore>) -> Vec<Block> {
    let (alice, fresh) = (Key::from_secret([0xa1; 32]), Key::from_secret([0xf5; 32]));
    let token = create_address(alice.address, 0);
    let supply = 1_000_000u128;
    let mut init = creation("Token");
    init.extend(word(supply));
    let transfer = |to: &[u8; 20], amount: u128| {
        let mut to32 = [0u8; 32];
        to32[12..].copy_from_slice(to);
        calldata(
            "transfer(address,uint256)",
            &[address_word(&to32), word(amount)],
        )
    };
    let blocks = [
        vec![eip1559(&alice, 0, TxKind::Create, 0, init)],
        vec![
            eip1559(
                &alice,
                1,
                TxKind::Call(token.into()),
                0,
                transfer(&fresh.address, 250),
            ),
            legacy(&alice, 2, fresh.address, 5 * 10u128.pow(18), 80),
            // Input to an address with no contract: Ethereum runs it as a
            // transfer (of nothing here), and so does Ward for an
            // Ethereum account.
            eip1559(&alice, 3, TxKind::Call([0x99; 20].into()), 0, vec![1, 2, 3]),
        ],
        // The fresh key spends what it was sent.
        vec![legacy(&fresh, 0, alice.address, 10u128.pow(18), 80)],
    ];
    blocks
        .iter()
        .enumerate()
        .map(|(i, txs)| exec.execute_signed_block(txs, 1_000 + i as u64).unwrap())
        .collect()
}

#[test]
fn ethereum_transactions_run_as_on_ethereum_on_both_backends_and_threads() {
    let (alice, fresh) = (Key::from_secret([0xa1; 32]), Key::from_secret([0xf5; 32]));
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        for threads in [1, 2] {
            let exec = executor(kind, threads, &[&alice]);
            let blocks = scenario(&exec);
            let store = exec.store();
            let balances: Vec<u128> = [alice.account(), fresh.account()]
                .iter()
                .map(|a| store.balance(a).unwrap())
                .collect();
            runs.push((blocks, balances));
        }
    }
    for run in &runs[1..] {
        assert_eq!(run, &runs[0]);
    }
    let (blocks, balances) = &runs[0];
    let receipts: Vec<_> = blocks.iter().flat_map(|b| b.receipts.clone()).collect();
    for receipt in &receipts {
        assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
    }
    // The deploy lands at CREATE(alice, 0), a contract of the EVM.
    let token = Address::from_eth(create_address(alice.address, 0));
    assert_eq!(receipts[0].address, Some(token));
    let exec = executor(BackendKind::Wasmi, 1, &[&alice]);
    scenario(&exec);
    let info = exec.store().contract(&token).unwrap().unwrap();
    assert_eq!(info.kind.as_str(), "evm");
    let balance_of = exec
        .query(
            alice.account(),
            token,
            calldata("balanceOf(address)", &[address_word(&fresh.account().0)]),
            10_000_000,
        )
        .unwrap();
    assert_eq!(word_at(&balance_of.output, 0), 250);
    // Fees are gas used times the effective price: min(100, 64 + 3) for
    // the EIP-1559 ones, 80 for the legacy ones.
    let prices = [67, 67, 80, 67, 80];
    for (receipt, price) in receipts.iter().zip(prices) {
        assert_eq!(
            receipt.fee,
            u128::from(receipt.gas_used) * price,
            "{receipt:?}"
        );
    }
    let fees: u128 = receipts[..4].iter().map(|r| r.fee).sum();
    assert_eq!(
        balances[0],
        FUNDS - fees - 5 * 10u128.pow(18) + 10u128.pow(18)
    );
    assert_eq!(balances[1], 4 * 10u128.pow(18) - receipts[4].fee);
    assert_eq!(exec.store().nonce(&alice.account()).unwrap(), 4);
    assert_eq!(exec.store().nonce(&fresh.account()).unwrap(), 1);
    // The call of an address with no contract created none.
    assert!(
        exec.store()
            .contract(&Address::from_eth([0x99; 20]))
            .unwrap()
            .is_none()
    );
}

/// EVM code whose every call returns `ORIGIN` as a word: runtime
/// `ORIGIN PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`, and creation code
/// that returns it.
fn origin_contract() -> Vec<u8> {
    let runtime = [0x32, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
    let mut creation = vec![0x68];
    creation.extend(runtime);
    creation.extend([0x60, 0x00, 0x52, 0x60, 0x09, 0x60, 0x17, 0xf3]);
    creation
}

/// `tx.origin` is the transaction's sender in every frame: called
/// directly by a signed Ethereum transaction, and through a Wasm contract
/// that forwards the call (where `msg.sender` is the forwarder).
#[test]
fn origin_is_the_transactions_sender_in_every_frame() {
    let alice = Key::from_secret([0xa1; 32]);
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let exec = executor(kind, 1, &[&alice]);
        let deploy = eip1559(&alice, 0, TxKind::Create, 0, origin_contract());
        exec.execute_signed_block(&[deploy], 1_000).unwrap();
        let contract = Address::from_eth(create_address(alice.address, 0));
        let forwarder = wat::parse_str(crate::runtimes::forwarder(0)).unwrap();
        let unsigned = |sender: Address, payload: Payload| ward_executor::Tx {
            sender,
            gas_limit: 10_000_000,
            value: 0,
            payload,
        };
        let deployed = exec
            .execute_block(
                &[unsigned(
                    Address([7; 32]),
                    Payload::Deploy(Deploy::new(forwarder, Vec::new())),
                )],
                1_001,
            )
            .unwrap();
        let forwarder = deployed[0].address.unwrap();
        let direct = eip1559(
            &alice,
            1,
            TxKind::Call(contract.eth().unwrap().into()),
            0,
            Vec::new(),
        );
        let block = exec.execute_signed_block(&[direct], 1_002).unwrap();
        let receipt = &block.receipts[0];
        assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
        assert_eq!(
            receipt.output,
            alice.account().0.to_vec(),
            "ORIGIN is alice"
        );
        let call = Payload::Call {
            to: forwarder,
            input: contract.0.to_vec(),
        };
        let forwarded = exec
            .execute_block(&[unsigned(alice.account(), call)], 1_003)
            .unwrap();
        assert_eq!(forwarded[0].status.as_str(), "ok", "{:?}", forwarded[0]);
        assert_eq!(
            forwarded[0].output,
            alice.account().0.to_vec(),
            "ORIGIN through a Wasm frame"
        );
        runs.push((block, forwarded));
    }
    assert_eq!(runs[0], runs[1]);
}

/// EVM code whose every call returns `op`'s word (one opcode that
/// pushes a word: `CHAINID`, `TIMESTAMP`), as `origin_contract` does.
fn word_contract(op: u8) -> Vec<u8> {
    let runtime = [op, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3];
    let mut creation = vec![0x68];
    creation.extend(runtime);
    creation.extend([0x60, 0x00, 0x52, 0x60, 0x09, 0x60, 0x17, 0xf3]);
    creation
}

/// What contract `op` answers to alice's call in a block at `time`, on
/// `exec`.
fn pushed_by(exec: &Executor<MemoryStore>, alice: &Key, op: u8, time: u64) -> Vec<u8> {
    let nonce = exec.store().nonce(&alice.account()).unwrap();
    let deploy = eip1559(alice, nonce, TxKind::Create, 0, word_contract(op));
    exec.execute_signed_block(&[deploy], time).unwrap();
    let contract = create_address(alice.address, nonce);
    let call = eip1559(
        alice,
        nonce + 1,
        TxKind::Call(contract.into()),
        0,
        Vec::new(),
    );
    let block = exec.execute_signed_block(&[call], time + 1).unwrap();
    let receipt = &block.receipts[0];
    assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
    receipt.output.clone()
}

fn be_word(n: u64) -> Vec<u8> {
    let mut word = vec![0; 24];
    word.extend(n.to_be_bytes());
    word
}

/// `CHAINID` is the chain's Ethereum chain id (`ward.chain_id`), what
/// its transactions are signed for, and "ward" on a chain without one;
/// `TIMESTAMP` is seconds when blocks are timed in milliseconds.
#[test]
fn chainid_is_the_chains_and_timestamp_is_in_seconds() {
    let alice = Key::from_secret([0xa1; 32]);
    for kind in BackendKind::ALL {
        let exec = executor(kind, 1, &[&alice]).with_eth_chain_id(Some(ETH_CHAIN));
        assert_eq!(
            pushed_by(&exec, &alice, 0x46, 1_000),
            be_word(ETH_CHAIN),
            "{kind:?}"
        );
        let none = executor(kind, 1, &[&alice]);
        assert_eq!(
            pushed_by(&none, &alice, 0x46, 1_000),
            be_word(0x7761_7264),
            "{kind:?}"
        );
        let millis = executor(kind, 1, &[&alice]).with_millisecond_blocks();
        let time = 1_700_000_000_123;
        assert_eq!(
            pushed_by(&millis, &alice, 0x42, time),
            be_word((time + 1) / 1000),
            "{kind:?}"
        );
        let seconds = executor(kind, 1, &[&alice]);
        assert_eq!(
            pushed_by(&seconds, &alice, 0x42, 1_000),
            be_word(1_001),
            "{kind:?}"
        );
    }
}

/// An Ethereum transaction counts EVM gas as Ethereum does
/// (`docs/ethereum.md`, "Gas and fees"): Ethereum's intrinsic gas, the
/// rest given to the top frame (`gasleft()` is what Ethereum's would
/// be), the gas used the intrinsic gas and the frames' EVM gas with
/// EIP-7623's floor under it, its limit refused below the intrinsic gas
/// or above the chain's maximum over 64; an embedder's transaction marked
/// as counting EVM gas runs the same. Both backends alike.
#[test]
fn ethereum_gas_is_evm_gas_as_ethereum_counts_it() {
    use ward_chain::tx::{AccessListSize, GasUnit};
    use ward_executor::{EVM_GAS_RATE, ExecError, Inadmissible, Tx};
    let alice = Key::from_secret([0xa1; 32]);
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let exec = executor(kind, 1, &[&alice]);
        // A plain transfer: 21 000, paid at its price.
        let transfer = legacy(&alice, 0, [0x42; 20], 1, 80);
        let block = exec.execute_signed_block(&[transfer], 1_000).unwrap();
        let paid = &block.receipts[0];
        assert_eq!((paid.gas_used, paid.fee), (21_000, 21_000 * 80), "{paid:?}");
        // `GAS PUSH1 0 MSTORE PUSH1 32 PUSH1 0 RETURN`: what `gasleft()`
        // was, after GAS's own 2.
        let deploy = eip1559(&alice, 1, TxKind::Create, 0, word_contract(0x5a));
        exec.execute_signed_block(&[deploy], 1_001).unwrap();
        let contract = create_address(alice.address, 1);
        let call = |nonce, gas, input: Vec<u8>| {
            signed(
                &alice,
                (nonce, gas),
                TxKind::Call(contract.into()),
                0,
                input,
            )
        };
        let block = exec
            .execute_signed_block(&[call(2, 100_000, Vec::new())], 1_002)
            .unwrap();
        let called = &block.receipts[0];
        assert_eq!(called.status.as_str(), "ok", "{called:?}");
        assert_eq!(word_at(&called.output, 0), 100_000 - 21_000 - 2);
        // GAS 2, PUSH1 3, MSTORE 3 and a word of memory 3, PUSH1 3, PUSH1
        // 3, RETURN 0: 17 EVM gas beyond the intrinsic 21 000.
        assert_eq!(
            (called.gas_used, called.runtime_gas),
            (21_017, Some(17)),
            "{called:?}"
        );
        // 1 000 nonzero bytes of data: 16 000 more intrinsic gas, but the
        // floor of 10 per token (4 per nonzero byte) is 61 000.
        let data = vec![0xff; 1_000];
        let block = exec
            .execute_signed_block(&[call(3, 61_000, data.clone())], 1_003)
            .unwrap();
        let floored = &block.receipts[0];
        assert_eq!(word_at(&floored.output, 0), 61_000 - 37_000 - 2);
        assert_eq!(floored.gas_used, 61_000, "{floored:?}");
        // Below the floor, below the intrinsic gas, above the maximum:
        // refused, the block not made.
        let refusal = |tx| match exec.execute_signed_block(&[tx], 1_004) {
            Err(ExecError::Refused { refusal, .. }) => refusal,
            other => panic!("{other:?}"),
        };
        let short = call(4, 60_999, data);
        let bytes = short.bytes().len() as u64;
        assert_eq!(
            refusal(short),
            Inadmissible::IntrinsicCost {
                gas: 60_999,
                cost: 61_000,
                bytes,
            }
        );
        assert!(matches!(
            refusal(call(4, 20_999, Vec::new())),
            Inadmissible::IntrinsicCost { cost: 21_000, .. }
        ));
        let max = 200_000_000 / EVM_GAS_RATE;
        assert_eq!(
            refusal(call(4, max + 1, Vec::new())),
            Inadmissible::GasAboveMaximum { gas: max + 1, max }
        );
        // An embedder's call in EVM gas (what a dev node's eth_call
        // runs): the same gas as the signed one's.
        let unsigned = |access| {
            Tx::call(
                alice.account(),
                Address::from_eth(contract),
                Vec::new(),
                100_000,
            )
            .vouched_in(GasUnit::Ethereum(access))
        };
        let block = exec
            .execute_signed_block(&[unsigned(AccessListSize::default())], 1_005)
            .unwrap();
        let same = &block.receipts[0];
        assert_eq!(
            (same.gas_used, word_at(&same.output, 0)),
            (21_017, 100_000 - 21_000 - 2),
            "{same:?}"
        );
        // Its access list's size counts: 2 400 an address, 1 900 a key.
        let listed = unsigned(AccessListSize {
            accounts: 1,
            keys: 2,
        });
        let block = exec.execute_signed_block(&[listed], 1_006).unwrap();
        let listed = &block.receipts[0];
        assert_eq!(listed.gas_used, 21_017 + 2_400 + 2 * 1_900, "{listed:?}");
        runs.push(exec.store().balance(&alice.account()).unwrap());
    }
    assert_eq!(runs[0], runs[1]);
}

/// The executor's EVM gas rate and revision are the EVM runtime's own
/// (`contracts/evm`, a crate built for Wasm that this one cannot import).
#[test]
fn the_evm_gas_rate_and_revision_are_the_runtimes() {
    let runtime = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../contracts/evm/src/lib.rs"),
    )
    .unwrap();
    assert_eq!(ward_testkit::evm::GAS_RATE, ward_executor::EVM_GAS_RATE);
    let rate = format!("pub const GAS_RATE: u64 = {};", ward_executor::EVM_GAS_RATE);
    assert!(runtime.contains(&rate), "contracts/evm says {rate:?}");
    let intrinsic = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/intrinsic.rs"),
    )
    .unwrap();
    let spec = "SpecId::PRAGUE;";
    assert!(runtime.contains(&format!("pub const SPEC: SpecId = {spec}")));
    assert!(intrinsic.contains(&format!("const SPEC: SpecId = {spec}")));
    // EIP-3860's initcode limit is twice the runtime's EIP-170 limit.
    let code = format!(
        "pub const MAX_CODE_SIZE: usize = {:#x};",
        ward_executor::MAX_INITCODE_SIZE / 2
    );
    assert!(runtime.contains(&code), "contracts/evm says {code:?}");
}

/// EIP-3860: an Ethereum creation whose initcode is longer than 49 152
/// bytes is refused before it runs, as Ethereum refuses it; one at the
/// limit runs.
#[test]
fn an_ethereum_creation_past_the_initcode_limit_is_refused() {
    use ward_executor::{ExecError, Inadmissible, MAX_INITCODE_SIZE};
    let alice = Key::from_secret([0xa1; 32]);
    let exec = executor(BackendKind::Wasmtime, 1, &[&alice]);
    // STOP, then padding: creates a contract with no code.
    let initcode = |len: usize| vec![0u8; len];
    let create = |nonce, len| signed(&alice, (nonce, 3_000_000), TxKind::Create, 0, initcode(len));
    let long = create(0, MAX_INITCODE_SIZE + 1);
    assert_eq!(
        exec.admit_verified(&long).unwrap_err(),
        Inadmissible::InitcodeTooLarge {
            bytes: MAX_INITCODE_SIZE as u64 + 1,
            max: MAX_INITCODE_SIZE as u64,
        }
    );
    match exec.execute_signed_block(&[long], 1_000) {
        Err(ExecError::Refused { refusal, .. }) => {
            assert!(matches!(refusal, Inadmissible::InitcodeTooLarge { .. }))
        }
        other => panic!("{other:?}"),
    }
    let block = exec
        .execute_signed_block(&[create(0, MAX_INITCODE_SIZE)], 1_000)
        .unwrap();
    assert_eq!(
        block.receipts[0].status.as_str(),
        "ok",
        "{:?}",
        block.receipts[0]
    );
}

/// EIP-3607: a signed Ethereum transaction from an address that holds a
/// contract's code is refused; from the same address without code, it
/// runs.
#[test]
fn a_sender_that_holds_code_is_refused() {
    use ward_executor::{ExecError, Inadmissible, Patch};
    use ward_primitives::{CodeKind, RuntimeName};
    let alice = Key::from_secret([0xa1; 32]);
    let exec = executor(BackendKind::Wasmtime, 1, &[&alice]);
    let transfer = || legacy(&alice, 0, [0x42; 20], 1, 80);
    let code = Patch {
        code: [(alice.account(), vec![0x00])].into(),
        creates: [(
            alice.account(),
            CodeKind::Runtime(RuntimeName::new("evm").unwrap()),
        )]
        .into(),
        ..Patch::default()
    };
    match exec.execute_signed_block_presetting(&code, &[transfer()], 1_000) {
        Err(ExecError::Refused { refusal, .. }) => assert_eq!(
            refusal,
            Inadmissible::SenderNotEoa {
                sender: alice.account()
            }
        ),
        other => panic!("{other:?}"),
    }
    let block = exec.execute_signed_block(&[transfer()], 1_000).unwrap();
    assert_eq!(block.receipts[0].status.as_str(), "ok");
}

/// EIP-1559's fee rules, at a base fee that is no multiple of the EVM
/// gas rate (an Ethereum fixture's): a price or a fee cap below the base
/// fee is refused, and a sender must hold its fee cap times its gas
/// limit (and the value), though it pays the effective price.
#[test]
fn ethereum_fee_rules_hold_at_any_base_fee() {
    use ward_executor::{ExecError, Inadmissible};
    const BASE: u128 = 10;
    let alice = Key::from_secret([0xa1; 32]);
    let rules = ChainRules {
        base_fee: BASE,
        ..rules()
    };
    let sign = |nonce: u64, (cap, tip): (u128, u128), gas_limit: u64| {
        let tx = TxEip1559 {
            chain_id: ETH_CHAIN,
            nonce,
            gas_limit,
            max_fee_per_gas: cap,
            max_priority_fee_per_gas: tip,
            to: TxKind::Call([0x42; 20].into()),
            value: U256::from(7u8),
            access_list: Default::default(),
            input: Bytes::new(),
        };
        let signature =
            secp256k1::sign_message(B256::from(alice.secret), tx.signature_hash()).unwrap();
        let envelope = TxEnvelope::from(tx.into_signed(signature)).encoded_2718();
        let stored = EthTx::verify(&envelope, ETH_CHAIN).unwrap().to_stored();
        VerifiedTx::from_bytes(&stored, &rules).unwrap()
    };
    // Enough for 21 000 gas at the effective price (13), not at the cap.
    let held = 21_000 * 100 + 7 - 1;
    let config = Config::default();
    let exec = Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(BackendKind::Wasmi, &config),
        &config,
    )
    .with_fees(Fees {
        min_evm_gas_price: Some(BASE),
        ..Fees::default()
    });
    exec.genesis(&[(alice.account(), held)].into()).unwrap();
    let below_base = sign(0, (BASE - 1, 1), 21_000);
    assert_eq!(
        exec.fees().cost(&below_base).unwrap_err(),
        Inadmissible::GasPrice {
            price: BASE - 1,
            min: BASE
        }
    );
    let capped = sign(0, (100, 3), 21_000);
    assert_eq!(capped.gas_price(), BASE + 3);
    assert_eq!(capped.fee_cap(), 100);
    match exec.execute_signed_block(std::slice::from_ref(&capped), 1) {
        Err(ExecError::Refused { refusal, .. }) => assert_eq!(
            refusal,
            Inadmissible::Funds {
                need: held + 1,
                have: held
            }
        ),
        other => panic!("{other:?}"),
    }
    // One more wei and it runs, paying the effective price.
    let exec2 = Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(BackendKind::Wasmi, &config),
        &config,
    )
    .with_fees(*exec.fees());
    exec2
        .genesis(&[(alice.account(), held + 1)].into())
        .unwrap();
    let block = exec2.execute_signed_block(&[capped], 1).unwrap();
    assert_eq!(block.receipts[0].status.as_str(), "ok");
    assert_eq!(block.receipts[0].gas_used, 21_000);
    let left = exec2.store().balance(&alice.account()).unwrap();
    assert_eq!(left, held + 1 - 7 - 21_000 * (BASE + 3));
}

/// A creation at an address whose account has sent transactions runs,
/// as Ethereum runs it (EIP-684), and halts at once using all its gas:
/// the sender pays for all of it and its nonce advances, and nothing is
/// created.
#[test]
fn an_ethereum_creation_at_a_taken_address_uses_all_its_gas() {
    let alice = Key::from_secret([0xa1; 32]);
    let config = Config::default();
    let exec = Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(BackendKind::Wasmtime, &config),
        &config,
    )
    .with_runtimes(crate::evm::runtimes(BackendKind::Wasmtime))
    .with_fees(Fees {
        min_gas_price: MIN_GAS_PRICE,
        collector: None,
        min_evm_gas_price: None,
    });
    let taken = Address::from_eth(create_address(alice.address, 0));
    let mut genesis = ward_state::ChangeSet::default();
    genesis.balances.insert(alice.account(), FUNDS);
    genesis.nonces.insert(taken, 1);
    exec.genesis_state(genesis).unwrap();
    let create = signed(&alice, (0, 100_000), TxKind::Create, 0, vec![0x00]);
    let price = create.gas_price();
    let block = exec.execute_signed_block(&[create], 1_000).unwrap();
    let receipt = &block.receipts[0];
    assert_eq!(
        (receipt.status.as_str(), receipt.exit_code, receipt.gas_used),
        ("reverted", 2, 100_000),
        "{receipt:?}"
    );
    assert_eq!(receipt.address, None);
    assert!(exec.store().contract(&taken).unwrap().is_none());
    assert_eq!(exec.store().nonce(&alice.account()).unwrap(), 1);
    let paid = FUNDS - exec.store().balance(&alice.account()).unwrap();
    assert_eq!(paid, 100_000 * price);
}
