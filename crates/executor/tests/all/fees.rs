//! The native asset in blocks (`docs/economics.md`): a genesis state, fees
//! of exactly `gas_used × gas_price` whatever the outcome, refusals of
//! what cannot be paid for, value moved by calls and deploys and undone
//! with a failed frame, the fee collector, and the supply conserved, on
//! both backends and on one or two threads.

#![allow(clippy::unwrap_used, reason = "test")]

use std::{collections::BTreeMap, sync::Arc};

use ward_chain::{
    tree::{self, StateKey},
    tx::{Deploy, Payload, TxBody, VerifiedTx},
};
use ward_devkeys as devkeys;
use ward_executor::{ExecError, Executor, Fees, Inadmissible, contract_address};
use ward_primitives::{Address, Hash32};
use ward_state::{Decode, Encode, MemoryStore, Receipt, StateRead, StateTree};
use ward_testkit::{Rng, env_or};
use ward_vm::{BackendKind, CodeHash, Config};

const CHAIN: &str = "ward-test";
const GAS: u64 = 2_000_000;
const FUNDS: u128 = 1_000_000_000_000;

/// A contract whose input's first byte says what it does: 0 succeeds, 1
/// reverts (exit code 7), 2 traps, 3 loops until its gas runs out.
const BEHAVE: &str = r#"(module
  (import "ward" "input_read" (func $input (param i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "main") (result i32) (local $op i32)
    (call $input (i32.const 0) (i32.const 0) (i32.const 1))
    (local.set $op (i32.load8_u (i32.const 0)))
    (if (i32.eq (local.get $op) (i32.const 1)) (then (return (i32.const 7))))
    (if (i32.eq (local.get $op) (i32.const 2)) (then unreachable))
    (if (i32.eq (local.get $op) (i32.const 3)) (then (loop $forever (br $forever))))
    (i32.const 0)))"#;

fn behave() -> Vec<u8> {
    wat::parse_str(BEHAVE).unwrap()
}

fn account(key: u32) -> Address {
    devkeys::address(key)
}

fn behave_address(key: u32) -> Address {
    contract_address(&account(key), &Hash32(CodeHash::of(&behave()).0), &[])
}

fn signed(key: u32, nonce: u64, price: u128, value: u128, payload: Payload) -> VerifiedTx {
    let signer = devkeys::key(key);
    TxBody {
        gas_price: price,
        value,
        ..TxBody::new(CHAIN, &signer.verifying_key(), nonce, GAS, payload)
    }
    .sign(&signer)
    .verify(CHAIN)
    .unwrap()
}

fn deploy(key: u32, nonce: u64, price: u128, value: u128) -> VerifiedTx {
    let payload = Payload::Deploy(Deploy::new(behave(), Vec::new()));
    signed(key, nonce, price, value, payload)
}

fn call(key: u32, nonce: u64, price: u128, value: u128, to: Address, op: u8) -> VerifiedTx {
    let payload = Payload::Call {
        to,
        input: vec![op],
    };
    signed(key, nonce, price, value, payload)
}

fn transfer(key: u32, nonce: u64, price: u128, value: u128, to: Address) -> VerifiedTx {
    let payload = Payload::Call {
        to,
        input: Vec::new(),
    };
    signed(key, nonce, price, value, payload)
}

/// An executor on `kind` and `threads` whose genesis funds dev accounts
/// 0..4 with [`FUNDS`] each.
fn chain(kind: BackendKind, threads: usize, fees: Fees) -> Executor<MemoryStore> {
    let config = Config::default();
    let exec = Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(kind, &config),
        &config,
    )
    .with_threads(threads)
    .with_fees(fees);
    let funded: BTreeMap<Address, u128> = (0..4).map(|key| (account(key), FUNDS)).collect();
    exec.genesis(&funded).unwrap();
    exec
}

fn balance(exec: &Executor<MemoryStore>, address: Address) -> u128 {
    exec.store().balance(&address).unwrap()
}

#[test]
fn a_sender_pays_exactly_gas_used_times_price_whatever_the_outcome() {
    let mut transcripts = Vec::new();
    for kind in BackendKind::ALL {
        let exec = chain(kind, 1, Fees::default());
        let alice = account(0);
        let block = exec.execute_signed_block(&[deploy(0, 0, 2, 0)], 1).unwrap();
        assert_eq!(block.receipts[0].status.as_str(), "ok");
        assert_eq!(
            block.receipts[0].fee,
            u128::from(block.receipts[0].gas_used) * 2
        );
        let mut before = balance(&exec, alice);
        assert_eq!(before, FUNDS - block.receipts[0].fee);
        let mut receipts = block.receipts;
        for (nonce, (op, status)) in [
            (0, "ok"),
            (1, "reverted"),
            (2, "trapped"),
            (3, "out_of_gas"),
        ]
        .into_iter()
        .enumerate()
        {
            let tx = call(0, nonce as u64 + 1, 3, 0, behave_address(0), op);
            let block = exec.execute_signed_block(&[tx], 2 + nonce as u64).unwrap();
            let receipt = &block.receipts[0];
            assert_eq!(receipt.status.as_str(), status, "{kind}: op {op}");
            assert_eq!(
                receipt.fee,
                u128::from(receipt.gas_used) * 3,
                "{kind}: op {op}"
            );
            if status == "out_of_gas" {
                assert_eq!(receipt.gas_used, GAS, "all of the limit is used");
            }
            let after = balance(&exec, alice);
            assert_eq!(before - after, receipt.fee, "{kind}: op {op}");
            before = after;
            receipts.extend(block.receipts);
        }
        // The receipts round-trip through their stored encoding, fee and all.
        for receipt in &receipts {
            assert_eq!(&Receipt::from_bytes(&receipt.to_bytes()).unwrap(), receipt);
        }
        transcripts.push((receipts, balance(&exec, alice), root(&exec)));
    }
    assert_eq!(transcripts[0], transcripts[1], "the backends disagree");
}

fn root(exec: &Executor<MemoryStore>) -> Hash32 {
    let height = exec.store().height().unwrap();
    tree::root(&StateTree(&**exec.store()), height).unwrap()
}

#[test]
fn what_cannot_be_paid_for_is_refused_and_changes_nothing() {
    let fees = Fees {
        min_gas_price: 5,
        collector: None,
        min_evm_gas_price: None,
    };
    let exec = chain(BackendKind::Wasmi, 1, fees);
    let root_before = root(&exec);
    let stranger = 7; // never funded
    let refused = |result: Result<ward_executor::Block, ExecError>| match result {
        Err(ExecError::Refused { index, refusal }) => (index, refusal),
        other => panic!("not refused: {other:?}"),
    };
    let (index, refusal) =
        refused(exec.execute_signed_block(&[transfer(stranger, 0, 5, 0, account(1))], 1));
    assert_eq!(index, 0);
    assert_eq!(
        refusal,
        Inadmissible::Funds {
            need: u128::from(GAS) * 5,
            have: 0
        }
    );
    // Below the chain's minimum price, funded or not.
    let (_, refusal) = refused(exec.execute_signed_block(&[transfer(0, 0, 4, 0, account(1))], 1));
    assert_eq!(refusal, Inadmissible::GasPrice { price: 4, min: 5 });
    // The value counts too: enough for the gas, not for gas and value.
    let value = FUNDS - u128::from(GAS) * 5 + 1;
    let (_, refusal) =
        refused(exec.execute_signed_block(&[transfer(0, 0, 5, value, account(1))], 1));
    assert_eq!(
        refusal,
        Inadmissible::Funds {
            need: FUNDS + 1,
            have: FUNDS
        }
    );
    // A price so high that gas × price overflows is refused, not wrapped.
    let (_, refusal) =
        refused(exec.execute_signed_block(&[transfer(0, 0, u128::MAX / 2, 0, account(1))], 1));
    assert!(matches!(
        refusal,
        Inadmissible::Funds {
            need: u128::MAX,
            ..
        }
    ));
    // A later transaction of the block that cannot pay refuses the block
    // (the producer drops it and builds again); nothing was committed.
    let (index, _) = refused(exec.execute_signed_block(
        &[
            transfer(0, 0, 5, 1, account(1)),
            transfer(stranger, 0, 5, 0, account(1)),
        ],
        1,
    ));
    assert_eq!(index, 1);
    assert_eq!(exec.store().height().unwrap(), 0);
    assert_eq!(balance(&exec, account(0)), FUNDS);
    assert_eq!(root(&exec), root_before);
}

#[test]
fn value_moves_with_calls_and_deploys_and_a_failed_frame_returns_it() {
    let mut transcripts = Vec::new();
    for kind in BackendKind::ALL {
        let exec = chain(kind, 1, Fees::default());
        let (alice, carol) = (account(0), Address([0xca; 32]));
        let contract = behave_address(0);
        let block = exec
            .execute_signed_block(&[deploy(0, 0, 1, 1_000)], 1)
            .unwrap();
        let deploy_fee = block.receipts[0].fee;
        assert_eq!(
            balance(&exec, contract),
            1_000,
            "a deploy's value goes to the contract"
        );
        let txs = [
            call(0, 1, 1, 500, contract, 0),           // ok: 500 more
            call(0, 2, 1, 300, contract, 1),           // reverts: the 300 come back
            call(0, 3, 1, 300, contract, 2),           // traps: likewise
            transfer(0, 4, 1, 42, carol),              // a plain transfer to an account
            transfer(0, 5, 1, 0, Address([0xdd; 32])), // of nothing: no contract
        ];
        let block = exec.execute_signed_block(&txs, 2).unwrap();
        let statuses: Vec<&str> = block.receipts.iter().map(|r| r.status.as_str()).collect();
        assert_eq!(statuses, ["ok", "reverted", "trapped", "ok", "rejected"]);
        let fees: u128 = block.receipts.iter().map(|r| r.fee).sum::<u128>() + deploy_fee;
        assert_eq!(balance(&exec, contract), 1_500, "{kind}");
        assert_eq!(balance(&exec, carol), 42, "{kind}");
        assert_eq!(
            balance(&exec, alice),
            FUNDS - 1_000 - 500 - 42 - fees,
            "{kind}"
        );
        // A plain transfer pays its intrinsic cost only.
        let intrinsic = exec.admit_sized(GAS, txs[3].bytes().len() as u64).unwrap();
        assert_eq!(block.receipts[3].gas_used, intrinsic);
        // Balances are in the state tree: proven against the block's root.
        let root = block.record.header.state_root;
        let key = StateKey::Balance(&carol).to_bytes();
        let proven = tree::prove(&StateTree(&**exec.store()), 2, &key).unwrap();
        let bytes = 42u128.to_le_bytes();
        tree::verify(&root, &key, Some(&bytes), &proven.proof).unwrap();
        assert!(tree::verify(&root, &key, Some(&43u128.to_le_bytes()), &proven.proof).is_err());
        transcripts.push((block.receipts, root));
    }
    assert_eq!(transcripts[0], transcripts[1], "the backends disagree");
}

#[test]
fn the_collector_gets_every_fee_at_the_end_of_the_block() {
    let collector = Address([0xfe; 32]);
    let fees = Fees {
        min_gas_price: 1,
        collector: Some(collector),
        min_evm_gas_price: None,
    };
    let exec = chain(BackendKind::Wasmtime, 1, fees);
    let txs = [deploy(0, 0, 3, 0), transfer(1, 0, 2, 10, account(2))];
    let block = exec.execute_signed_block(&txs, 1).unwrap();
    let total: u128 = block.receipts.iter().map(|r| r.fee).sum();
    assert!(total > 0);
    assert_eq!(balance(&exec, collector), total);
    let supply: u128 = [account(0), account(1), account(2), account(3), collector]
        .iter()
        .map(|a| balance(&exec, *a))
        .sum();
    assert_eq!(supply, 4 * FUNDS, "nothing burned, nothing made");
}

/// Random blocks of value calls (succeeding and failing), transfers and
/// deploys among four funded accounts: the balances plus the fees burned
/// stay the genesis supply after every block, and every receipt, balance
/// and root is the same on both backends and on one or two threads.
#[test]
fn the_supply_is_conserved_across_random_blocks() {
    let blocks: u64 = env_or("WARD_FEES_BLOCKS", 6);
    let seed: u64 = env_or("WARD_FEES_SEED", 0xfee5);
    let runs = [
        (BackendKind::Wasmtime, 1),
        (BackendKind::Wasmi, 1),
        (BackendKind::Wasmtime, 2),
    ];
    let mut transcripts = Vec::new();
    for (kind, threads) in runs {
        let exec = chain(kind, threads, Fees::default());
        let mut rng = Rng::new(seed);
        let mut nonces = [0u64; 4];
        let mut burned = 0u128;
        let mut log = Vec::new();
        let mut holders: Vec<Address> = (0..4).map(account).collect();
        holders.extend((0..4).map(behave_address));
        holders.push(Address([0xca; 32]));
        for height in 1..=blocks {
            let mut txs = Vec::new();
            for _ in 0..8 {
                let key = rng.below(4) as u32;
                let nonce = nonces[key as usize];
                let price = rng.below(4) as u128;
                let value = rng.below(1_000) as u128;
                let tx = match (nonce, rng.below(3)) {
                    (0, _) => deploy(key, 0, price, value),
                    (_, 0) => transfer(key, nonce, price, value, holders[rng.below(holders.len())]),
                    _ => {
                        let to = behave_address(rng.below(4) as u32);
                        call(key, nonce, price, value, to, rng.below(4) as u8)
                    }
                };
                nonces[key as usize] += 1;
                txs.push(tx);
            }
            let block = exec.execute_signed_block(&txs, height).unwrap();
            burned += block.receipts.iter().map(|r| r.fee).sum::<u128>();
            let supply: u128 = holders.iter().map(|a| balance(&exec, *a)).sum();
            assert_eq!(
                supply + burned,
                4 * FUNDS,
                "{kind}/{threads}: block {height}"
            );
            let balances: Vec<u128> = holders.iter().map(|a| balance(&exec, *a)).collect();
            log.push((block.receipts, block.record.header.state_root, balances));
        }
        assert!(burned > 0);
        transcripts.push(log);
    }
    assert_eq!(transcripts[0], transcripts[1], "the backends disagree");
    assert_eq!(
        transcripts[0], transcripts[2],
        "two threads disagree with one"
    );
}

#[test]
fn a_genesis_is_written_once_and_shows_at_height_zero() {
    let exec = chain(BackendKind::Wasmi, 1, Fees::default());
    let key = StateKey::Balance(&account(3)).to_bytes();
    let root0 = tree::root(&StateTree(&**exec.store()), 0).unwrap();
    assert_ne!(root0, tree::EMPTY_ROOT);
    let proven = tree::prove(&StateTree(&**exec.store()), 0, &key).unwrap();
    tree::verify(&root0, &key, Some(&FUNDS.to_le_bytes()), &proven.proof).unwrap();
    assert!(exec.genesis(&BTreeMap::new()).is_err(), "a second genesis");
    // Block 1 builds on it.
    exec.execute_signed_block(&[transfer(3, 0, 0, 5, account(0))], 1)
        .unwrap();
    assert_eq!(balance(&exec, account(0)), FUNDS + 5);
    assert!(
        exec.genesis(&BTreeMap::new()).is_err(),
        "a genesis after a block"
    );
}
