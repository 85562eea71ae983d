//! Signed transactions in blocks: nonces, headers, the state root and its
//! proofs, on both backends and both stores.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ward_chain::{
    block::merkle_root,
    tree::{self, StateKey},
    tx::{Deploy, Payload, TxBody, VerifiedTx},
};
use ward_devkeys as devkeys;
use ward_executor::{Block, ExecError, Executor, Inadmissible, contract_address};
use ward_primitives::{Address, Hash32};
use ward_state::{MemoryStore, RedbStore, StateCommit, StateRead, StateTree};
use ward_vm::{BackendKind, CodeHash, Config};

use crate::executor::COUNTER;

const CHAIN: &str = "ward-test";

fn signed(key: u32, nonce: u64, payload: Payload) -> VerifiedTx {
    let key = devkeys::key(key);
    TxBody::new(CHAIN, &key.verifying_key(), nonce, 10_000_000, payload)
        .sign(&key)
        .verify(CHAIN)
        .unwrap()
}

fn deploy(key: u32, nonce: u64) -> VerifiedTx {
    signed(
        key,
        nonce,
        Payload::Deploy(Deploy::new(
            wat::parse_str(COUNTER).unwrap(),
            40u64.to_le_bytes().to_vec(),
        )),
    )
}

fn call(key: u32, nonce: u64, to: Address, input: &[u8]) -> VerifiedTx {
    signed(
        key,
        nonce,
        Payload::Call {
            to,
            input: input.to_vec(),
        },
    )
}

fn counter_address(key: u32) -> Address {
    let tx = deploy(key, 0);
    let code = wat::parse_str(COUNTER).unwrap();
    contract_address(&tx.sender(), &Hash32(CodeHash::of(&code).0), &[])
}

fn executor<S: StateCommit + Send + Sync + 'static>(store: S, kind: BackendKind) -> Executor<S> {
    let backend = ward_testkit::backend(kind, &Config::default());
    Executor::new(Arc::new(store), backend, &Config::default())
}

/// Three blocks: a deploy, calls from two accounts (one reverting), an
/// empty block.
fn chain() -> Vec<Vec<VerifiedTx>> {
    let counter = counter_address(0);
    vec![
        vec![deploy(0, 0)],
        vec![
            call(0, 1, counter, b""),
            call(1, 0, counter, b"revert"),
            call(1, 1, counter, b""),
        ],
        vec![],
    ]
}

fn run<S: StateCommit + Send + Sync + 'static>(exec: &Executor<S>) -> Vec<Block> {
    chain()
        .iter()
        .enumerate()
        .map(|(i, txs)| exec.execute_signed_block(txs, 1_000 + i as u64).unwrap())
        .collect()
}

#[test]
fn both_backends_and_both_stores_agree_on_every_header() {
    let dir = std::env::temp_dir().join(format!("ward-signed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let runs = [
        run(&executor(MemoryStore::default(), BackendKind::Wasmtime)),
        run(&executor(MemoryStore::default(), BackendKind::Wasmi)),
        run(&executor(
            RedbStore::create(&dir).unwrap(),
            BackendKind::Wasmi,
        )),
    ];
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[0], runs[2]);
    let blocks = &runs[0];
    // Headers chain, and commit to the ids and receipts.
    assert_eq!(blocks[0].record.header.parent, Hash32::default());
    for pair in blocks.windows(2) {
        assert_eq!(pair[1].record.header.parent, pair[0].record.hash());
    }
    let second = &blocks[1];
    assert_eq!(
        second.record.txs,
        chain()[1].iter().map(VerifiedTx::hash).collect::<Vec<_>>()
    );
    assert_eq!(
        second.record.header.tx_root,
        merkle_root(&second.record.txs)
    );
    let hashes: Vec<Hash32> = second.receipts.iter().map(|r| r.consensus_hash()).collect();
    assert_eq!(second.record.header.receipts_root, merkle_root(&hashes));
    let statuses: Vec<&str> = second.receipts.iter().map(|r| r.status.as_str()).collect();
    assert_eq!(statuses, ["ok", "reverted", "ok"]);
    assert_eq!(
        second.receipts.iter().map(|r| r.index).collect::<Vec<_>>(),
        [0, 1, 2]
    );
    // Every block that changed state moved the root; the empty one kept it.
    let roots: Vec<Hash32> = blocks.iter().map(|b| b.record.header.state_root).collect();
    assert_ne!(roots[0], roots[1]);
    assert_eq!(roots[1], roots[2]);
}

#[test]
fn nonces_run_in_turn_and_a_failed_transaction_uses_its_own() {
    let exec = executor(MemoryStore::default(), BackendKind::Wasmtime);
    let counter = counter_address(0);
    let account = deploy(0, 0).sender();
    exec.execute_signed_block(&[deploy(0, 0)], 1).unwrap();
    assert_eq!(exec.store().nonce(&account).unwrap(), 1);
    // Replayed, skipped ahead, or twice in one block: refused, nothing
    // committed.
    for (txs, index, expected, got) in [
        (vec![deploy(0, 0)], 0, 1, 0),
        (vec![call(0, 2, counter, b"")], 0, 1, 2),
        (
            vec![call(0, 1, counter, b""), call(0, 1, counter, b"")],
            1,
            2,
            1,
        ),
    ] {
        let err = exec.execute_signed_block(&txs, 2).unwrap_err();
        assert!(
            matches!(
                err,
                ExecError::Refused { index: i, refusal: Inadmissible::Nonce { expected: e, got: g } }
                    if i == index && e == expected && g == got
            ),
            "{err}"
        );
        assert_eq!(exec.store().height().unwrap(), 1);
        assert_eq!(exec.store().nonce(&account).unwrap(), 1);
    }
    // A revert keeps its nonce used; its write is undone.
    let block = exec
        .execute_signed_block(&[call(0, 1, counter, b"revert")], 2)
        .unwrap();
    assert_eq!(block.receipts[0].status.as_str(), "reverted");
    assert_eq!(exec.store().nonce(&account).unwrap(), 2);
    assert_eq!(
        exec.store().storage(&counter, b"count").unwrap(),
        Some(40u64.to_le_bytes().to_vec())
    );
    // A call to no contract and a deploy to a taken address are receipts
    // that pay and use their nonces, not aborted blocks.
    let block = exec
        .execute_signed_block(&[call(0, 2, Address([0xee; 32]), b""), deploy(0, 3)], 3)
        .unwrap();
    let kinds: Vec<_> = block
        .receipts
        .iter()
        .map(|r| (r.status.as_str(), r.error_kind.as_deref()))
        .collect();
    assert_eq!(
        kinds,
        [
            ("rejected", Some("no_contract")),
            ("rejected", Some("address_taken"))
        ]
    );
    assert!(block.receipts.iter().all(|r| r.gas_used > 0));
    assert_eq!(exec.store().nonce(&account).unwrap(), 4);
    // The receipt is found under the transaction's hash.
    let tx = call(0, 4, counter, b"");
    exec.execute_signed_block(std::slice::from_ref(&tx), 4)
        .unwrap();
    let receipt = exec.store().receipt(&tx.hash()).unwrap().unwrap();
    assert_eq!((receipt.height, receipt.index), (4, 0));
    assert_eq!(
        exec.store().transaction(&tx.hash()).unwrap().unwrap(),
        tx.bytes()
    );
}

#[test]
fn storage_and_nonces_are_proven_against_each_root() {
    let exec = executor(MemoryStore::default(), BackendKind::Wasmi);
    let blocks = run(&exec);
    let store = exec.store();
    let counter = counter_address(0);
    let count = StateKey::Storage(&counter, b"count").to_bytes();
    // Block 1: 40 (deploy); block 2: two increments.
    for (height, expected) in [(1, 40u64), (2, 42), (3, 42)] {
        let root = blocks[height as usize - 1].record.header.state_root;
        let proven = tree::prove(&StateTree(&**store), height, &count).unwrap();
        let value = expected.to_le_bytes();
        assert_eq!(proven.value.as_deref(), Some(&value[..]));
        tree::verify(&root, &count, Some(&value), &proven.proof).unwrap();
        assert!(tree::verify(&root, &count, Some(&[0; 8]), &proven.proof).is_err());
    }
    // Absent keys: a proof of absence.
    let absent = StateKey::Storage(&counter, b"nothing").to_bytes();
    let root = blocks[2].record.header.state_root;
    let proven = tree::prove(&StateTree(&**store), 3, &absent).unwrap();
    assert_eq!(proven.value, None);
    tree::verify(&root, &absent, None, &proven.proof).unwrap();
    // Nonces, contracts and code are in the tree too.
    let account = deploy(1, 0).sender();
    let nonce = StateKey::Nonce(&account).to_bytes();
    let proven = tree::prove(&StateTree(&**store), 3, &nonce).unwrap();
    tree::verify(&root, &nonce, Some(&2u64.to_le_bytes()), &proven.proof).unwrap();
    let info = store.contract(&counter).unwrap().unwrap();
    for key in [
        StateKey::Contract(&counter).to_bytes(),
        StateKey::Code(&info.code_hash).to_bytes(),
    ] {
        let proven = tree::prove(&StateTree(&**store), 3, &key).unwrap();
        assert!(proven.value.is_some());
        tree::verify(&root, &key, proven.value.as_deref(), &proven.proof).unwrap();
    }
}

#[test]
fn a_snapshot_reads_the_state_as_of_its_height() {
    let exec = executor(MemoryStore::default(), BackendKind::Wasmi);
    run(&exec);
    let counter = counter_address(0);
    let store = exec.store().clone();
    for (height, count) in [(1, 40u64), (2, 42)] {
        let snapshot = ward_state::Snapshot::new(store.clone(), height).unwrap();
        assert_eq!(
            snapshot.storage(&counter, b"count").unwrap(),
            Some(count.to_le_bytes().to_vec())
        );
        assert_eq!(snapshot.height().unwrap(), height);
        // A query at that height runs on that state.
        let reader = Executor::new(
            Arc::new(snapshot),
            ward_testkit::backend(BackendKind::Wasmi, &Config::default()),
            &Config::default(),
        );
        let receipt = reader
            .query(Address([1; 32]), counter, Vec::new(), 1_000_000)
            .unwrap();
        assert_eq!(
            receipt.status.as_str(),
            "trapped",
            "a write in a query traps"
        );
        assert!(reader.store().contract(&counter).unwrap().is_some());
    }
    let before = ward_state::Snapshot::new(store.clone(), 0).unwrap();
    assert!(before.contract(&counter).unwrap().is_none());
    assert_eq!(before.nonce(&deploy(0, 0).sender()).unwrap(), 0);
    assert!(ward_state::Snapshot::new(store, 4).is_err());
}

#[test]
fn a_simulation_commits_nothing_and_predicts_the_receipt() {
    let exec = executor(MemoryStore::default(), BackendKind::Wasmtime);
    let counter = counter_address(0);
    exec.execute_signed_block(&[deploy(0, 0)], 1).unwrap();
    let tx = call(0, 1, counter, b"");
    let simulation = exec.simulate(&tx, 2).unwrap();
    assert_eq!(exec.store().height().unwrap(), 1);
    assert_eq!(exec.store().nonce(&tx.sender()).unwrap(), 1);
    assert_eq!(
        simulation
            .changes
            .storage
            .get(&(counter, b"count".to_vec())),
        Some(&Some(41u64.to_le_bytes().to_vec()))
    );
    let block = exec.execute_signed_block(&[tx], 2).unwrap();
    assert_eq!(simulation.receipt, block.receipts[0]);
}
