//! The block pipeline (`Pipeline`): a refused block keeps the one before
//! it and its own height for the next, and a storage fault anywhere in a
//! pipelined run (while a block executes, is rooted or commits) loses no
//! block it reported committed and applies none twice: pushed again, the
//! chain ends where the sequential one does, on both backends; a block
//! replayed with a header it does not seal to is never committed.
//! Equality with sequential blocks over random chains is `parallel`'s
//! test.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ward_chain::tx::{ChainRules, Deploy, Payload, SignedTx, TxBody, VerifiedTx};
use ward_devkeys as devkeys;
use ward_executor::{Block, ExecError, Executor, Inadmissible, Pipeline};
use ward_primitives::Address;
use ward_sdk::codec::{call_input, encode};
use ward_state::{
    MemoryStore, StateCommit, StateRead,
    faults::{FaultPlan, FaultyStore},
};
use ward_testkit::contracts;
use ward_vm::{BackendKind, CodeHash, Config};

const CHAIN: &str = "ward-pipeline";
const OWNER: u32 = 70_000;
const HOLDERS: u32 = 4;

fn time(height: u64) -> u64 {
    1_700_000_000 + height
}

fn verified(tx: &SignedTx) -> VerifiedTx {
    VerifiedTx::from_bytes(&tx.to_bytes(), &ChainRules::new(CHAIN)).unwrap()
}

/// A token deploy, its funding of a few holders, then blocks of transfers
/// among them: block 1 deploys, block 2 funds, the rest transfer.
fn blocks(transfer_blocks: usize) -> Vec<Vec<VerifiedTx>> {
    let code = contracts::wasm("token");
    let owner = devkeys::address(OWNER);
    let token = ward_executor::contract_address(
        &owner,
        &ward_primitives::Hash32(CodeHash::of(&code).0),
        &[],
    );
    let mut nonces = vec![0u64; HOLDERS as usize + 1];
    let mut sign = |who: u32, gas: u64, payload: Payload| {
        let key = devkeys::key(OWNER + who);
        let nonce = &mut nonces[who as usize];
        let tx = TxBody::new(CHAIN, &key.verifying_key(), *nonce, gas, payload).sign(&key);
        *nonce += 1;
        verified(&tx)
    };
    let call = |to: Address, amount: u128| Payload::Call {
        to: token,
        input: call_input("transfer", &(to, amount)),
    };
    let mut out = vec![vec![sign(
        0,
        100_000_000,
        Payload::Deploy(Deploy::new(code.clone(), encode(&1_000_000u128))),
    )]];
    out.push(
        (1..=HOLDERS)
            .map(|h| sign(0, 2_000_000, call(devkeys::address(OWNER + h), 10_000)))
            .collect(),
    );
    for b in 0..transfer_blocks {
        out.push(
            (0..12u32)
                .map(|i| {
                    let from = 1 + (i + b as u32) % HOLDERS;
                    let to = devkeys::address(OWNER + 1 + (i * 3 + 1) % HOLDERS);
                    sign(from, 2_000_000, call(to, u128::from(i) + 1))
                })
                .collect(),
        );
    }
    out
}

fn executor<S: StateCommit + Send + Sync + 'static>(kind: BackendKind, store: S) -> Executor<S> {
    let config = Config::default();
    Executor::new(
        Arc::new(store),
        ward_testkit::backend(kind, &config),
        &config,
    )
}

/// The blocks run one after the other, committed each time.
fn sequential(kind: BackendKind, blocks: &[Vec<VerifiedTx>]) -> Vec<Block> {
    let exec = executor(kind, MemoryStore::default());
    blocks
        .iter()
        .enumerate()
        .map(|(i, txs)| exec.execute_signed_block(txs, time(i as u64 + 1)).unwrap())
        .collect()
}

#[test]
fn a_refused_block_keeps_the_block_before_it_and_its_height() {
    for kind in BackendKind::ALL {
        let blocks = blocks(2);
        let reference = sequential(kind, &blocks);
        let mut pipeline = Pipeline::new(Arc::new(executor(kind, MemoryStore::default()))).unwrap();
        for (i, txs) in blocks.iter().take(3).enumerate() {
            let pushed = pipeline.push(txs, time(i as u64 + 1));
            assert_eq!(pushed.executed.unwrap(), i as u64 + 1);
            if i > 0 {
                assert_eq!(pushed.committed.unwrap().unwrap(), reference[i - 1]);
            }
        }
        // Block 4 with its second transaction's nonce used already (block
        // 3's): refused while block 3 commits.
        let mut bad = blocks[3].clone();
        bad[1] = blocks[2][1].clone();
        let pushed = pipeline.push(&bad, time(4));
        assert_eq!(pushed.committed.unwrap().unwrap(), reference[2], "{kind}");
        assert!(
            matches!(
                pushed.executed,
                Err(ExecError::Refused {
                    index: 1,
                    refusal: Inadmissible::Nonce { .. }
                })
            ),
            "{kind}: {:?}",
            pushed.executed
        );
        assert_eq!(pipeline.next_height(), 4);
        assert!(pipeline.flush().is_none(), "nothing is in flight");
        // The good block 4 takes the refused one's height.
        let pushed = pipeline.push(&blocks[3], time(4));
        assert!(pushed.committed.is_none());
        assert_eq!(pushed.executed.unwrap(), 4);
        assert_eq!(pipeline.flush().unwrap().unwrap(), reference[3], "{kind}");
        assert_eq!(pipeline.executor().store().height().unwrap(), 4);
    }
}

/// A replica's replay (`push_expecting`): blocks pushed with the headers
/// the sequential chain sealed to commit as that chain did; a block
/// pushed with any other header is `Disagrees` (with the header it sealed
/// to), and neither it nor the block executed above it reaches the store.
#[test]
fn a_block_that_seals_to_another_header_than_expected_is_never_committed() {
    for kind in BackendKind::ALL {
        let blocks = blocks(3);
        let reference = sequential(kind, &blocks);
        let headers: Vec<_> = reference.iter().map(|b| b.record.header).collect();
        let mut pipeline = Pipeline::new(Arc::new(executor(kind, MemoryStore::default()))).unwrap();
        for (i, txs) in blocks.iter().take(3).enumerate() {
            let pushed = pipeline.push_expecting(txs, &headers[i]);
            assert_eq!(pushed.executed.unwrap(), i as u64 + 1, "{kind}");
            if i > 0 {
                assert_eq!(pushed.committed.unwrap().unwrap(), reference[i - 1]);
            }
        }
        // Block 4 expected with another state root (what a proposer that
        // computed another state would have logged).
        let mut other = headers[3];
        other.state_root.0[0] ^= 1;
        let pushed = pipeline.push_expecting(&blocks[3], &other);
        assert_eq!(pushed.committed.unwrap().unwrap(), reference[2], "{kind}");
        assert_eq!(pushed.executed.unwrap(), 4);
        // Block 5 runs above block 4's changes while block 4 is sealed.
        let pushed = pipeline.push_expecting(&blocks[4], &headers[4]);
        match pushed.committed {
            Some(Err(ExecError::Disagrees { ours })) => assert_eq!(*ours, headers[3], "{kind}"),
            other => panic!("{kind}: block 4 should disagree: {other:?}"),
        }
        assert!(
            pushed.executed.is_err(),
            "{kind}: block 5 ran above block 4"
        );
        assert!(pipeline.flush().is_none(), "nothing is in flight");
        let store = pipeline.executor().store().clone();
        assert_eq!(
            store.height().unwrap(),
            3,
            "{kind}: block 4 is not committed"
        );
        // The store is block 3's: the replay goes on from there with the
        // right headers, to the sequential chain's end.
        assert_eq!(pipeline.next_height(), 4);
        for (i, txs) in blocks.iter().enumerate().skip(3) {
            let pushed = pipeline.push_expecting(txs, &headers[i]);
            assert_eq!(pushed.executed.unwrap(), i as u64 + 1, "{kind}");
        }
        assert_eq!(pipeline.flush().unwrap().unwrap(), reference[4], "{kind}");
        assert_eq!(store.block(5).unwrap().unwrap().header, headers[4]);
    }
}

/// Pushes `blocks` until all are committed, pushing again whatever a
/// fault dropped; checks every block reported committed against
/// `reference`, in order, once each. Returns the faults met.
fn drive<S: StateCommit + Send + Sync + 'static>(
    pipeline: &mut Pipeline<S>,
    blocks: &[Vec<VerifiedTx>],
    reference: &[Block],
) -> usize {
    let mut committed = 0u64;
    let mut faults = 0;
    let mut check = |outcome: Option<Result<Block, ExecError>>, faults: &mut usize| match outcome {
        Some(Ok(block)) => {
            let height = block.record.header.height;
            assert_eq!(height, committed + 1, "blocks are committed once, in order");
            assert_eq!(block, reference[height as usize - 1]);
            committed = height;
        }
        Some(Err(ExecError::State(_))) => *faults += 1,
        Some(Err(other)) => panic!("not a storage fault: {other:?}"),
        None => {}
    };
    for _ in 0..blocks.len() * 4 {
        let next = pipeline.next_height();
        if next as usize > blocks.len() {
            match pipeline.flush() {
                None => break,
                outcome => check(outcome, &mut faults),
            }
            continue;
        }
        let pushed = pipeline.push(&blocks[next as usize - 1], time(next));
        check(pushed.committed, &mut faults);
        match pushed.executed {
            Ok(height) => assert_eq!(height, next),
            Err(ExecError::State(_)) => faults += 1,
            // Dropped because the block before failed to commit.
            Err(ExecError::Fault(_)) => {}
            Err(other) => panic!("not a storage fault: {other:?}"),
        }
    }
    assert_eq!(committed as usize, blocks.len(), "every block committed");
    faults
}

#[test]
fn a_storage_fault_anywhere_loses_no_committed_block() {
    for kind in BackendKind::ALL {
        let blocks = blocks(4);
        let reference = sequential(kind, &blocks);
        // How many store operations a clean pipelined run makes.
        let plan = Arc::new(FaultPlan::default());
        let store = FaultyStore::new(MemoryStore::default(), plan.clone());
        let mut pipeline = Pipeline::new(Arc::new(executor(kind, store))).unwrap();
        let start = plan.operations();
        assert_eq!(drive(&mut pipeline, &blocks, &reference), 0);
        let total = plan.operations() - start;
        drop(pipeline);

        // A fault at each of 40 points spread over the run (which thread
        // meets it depends on timing; every outcome must keep the chain).
        let mut met = 0;
        for n in 0..40u64 {
            let plan = Arc::new(FaultPlan::default());
            let store = FaultyStore::new(MemoryStore::default(), plan.clone());
            let mut pipeline = Pipeline::new(Arc::new(executor(kind, store))).unwrap();
            plan.fail_at(plan.operations() + 1 + n * total / 40);
            met += drive(&mut pipeline, &blocks, &reference);
            assert!(plan.tripped(), "{kind}: fault {n} never fired");
            let store = pipeline.executor().store().clone();
            drop(pipeline);
            for (i, block) in reference.iter().enumerate() {
                let stored = store.block(i as u64 + 1).unwrap();
                assert_eq!(stored.as_ref(), Some(&block.record), "{kind}: fault {n}");
            }
        }
        assert_eq!(met, 40, "{kind}: each fault is met once");
    }
}

#[test]
fn the_embedders_blocks_through_a_pipeline_equal_sequential_ones() {
    for kind in BackendKind::ALL {
        let owner = Address([0xa1; 32]);
        let code = contracts::wasm("token");
        let deploy = ward_executor::Tx {
            sender: owner,
            gas_limit: 100_000_000,
            value: 0,
            payload: Payload::Deploy(Deploy::new(code.clone(), encode(&1_000_000u128))),
        };
        let token = ward_executor::contract_address(
            &owner,
            &ward_primitives::Hash32(CodeHash::of(&code).0),
            &[],
        );
        let transfer = |n: u8| {
            ward_executor::Tx::call(
                owner,
                token,
                call_input("transfer", &(Address([n; 32]), u128::from(n))),
                2_000_000,
            )
        };
        let blocks: Vec<Vec<ward_executor::Tx>> = std::iter::once(vec![deploy])
            .chain((0..4u8).map(|b| (0..5u8).map(|i| transfer(b * 5 + i + 1)).collect()))
            .collect();
        let serial = executor(kind, MemoryStore::default());
        let mut pipeline = Pipeline::new(Arc::new(executor(kind, MemoryStore::default()))).unwrap();
        let mut receipts = Vec::new();
        for (i, txs) in blocks.iter().enumerate() {
            let height = i as u64 + 1;
            let expected = serial.execute_block(txs, time(height)).unwrap();
            assert!(expected.iter().all(|r| r.status.is_ok()), "{expected:?}");
            receipts.push(expected);
            let pushed = pipeline.push_unsigned(txs, time(height));
            assert_eq!(pushed.executed.unwrap(), height);
            if let Some(block) = pushed.committed {
                assert_eq!(block.unwrap().receipts, receipts[i - 1], "{kind}");
            }
        }
        assert_eq!(pipeline.flush().unwrap().unwrap().receipts, receipts[4]);
        for height in 1..=5 {
            assert_eq!(
                pipeline.executor().store().block(height).unwrap(),
                serial.store().block(height).unwrap(),
                "{kind}: block {height}"
            );
        }
    }
}

#[test]
fn every_pipelined_block_replays_to_itself_on_its_parents_state() {
    for kind in BackendKind::ALL {
        let blocks = blocks(2);
        let mut pipeline = Pipeline::new(Arc::new(executor(kind, MemoryStore::default()))).unwrap();
        for (i, txs) in blocks.iter().enumerate() {
            assert!(pipeline.push(txs, time(i as u64 + 1)).executed.is_ok());
        }
        let last = pipeline.flush().unwrap().unwrap();
        let exec = pipeline.executor().clone();
        drop(pipeline);
        for (i, txs) in blocks.iter().enumerate() {
            let height = i as u64 + 1;
            let replayed = exec.replay_block(height, txs).unwrap();
            let stored = exec.store().block(height).unwrap().unwrap();
            assert_eq!(replayed.record, stored, "{kind}: block {height}");
        }
        assert_eq!(exec.replay_block(4, &blocks[3]).unwrap(), last);
        // Two transactions swapped: another block (nonces out of turn are
        // refused).
        let mut swapped = blocks[3].clone();
        swapped.swap(0, 1);
        let replayed = exec.replay_block(4, &swapped);
        assert!(replayed.map(|b| b.record != last.record).unwrap_or(true));
        assert!(
            exec.replay_block(0, &[]).is_err(),
            "the genesis has no parent"
        );
        assert!(exec.replay_block(5, &[]).is_err(), "no block 5");
    }
}
