//! `parallel_block_free` and `parallel_block_conflict`: one block of
//! 10,000 SDK-token transfers in memory on the machine's cores, beside the
//! same block on one thread (the sequential executor) in the same run.
//!
//! The parallel side runs its blocks through a [`ward_executor::Pipeline`]
//! (each block executed while the one before is rooted and committed on
//! another thread, as a node runs them); the one-thread side executes,
//! roots and commits each block on one thread. Both commit every block
//! with its state root.
//!
//! Conflict-free: each transfer has its own sender and its own recipient,
//! so no transaction reads what another writes. Fully conflicting: every
//! transfer is from the same sender, so each reads the balance the one
//! before it wrote.

use std::hint::black_box;

use ward_executor::{Deploy, Payload, Tx};
use ward_primitives::Address;
use ward_sdk::codec::{call_input, encode};
use ward_vm::BackendKind;

use crate::Work;

/// Transfers in the block.
pub const PARALLEL_TXS: usize = 10_000;

fn account(tag: u8, i: usize) -> Address {
    let mut raw = [tag; 32];
    raw[..8].copy_from_slice(&(i as u64).to_le_bytes());
    Address(raw)
}

/// The threads the parallel side runs on: the machine's cores (at least 2).
pub fn threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get().max(2))
}

/// A block of [`PARALLEL_TXS`] transfers on `threads` threads, each
/// iteration committing one block; `conflict`: all from one sender.
/// `None` when the SDK token is not built.
pub fn transfers(kind: BackendKind, threads: usize, conflict: bool) -> Option<Work> {
    let code = crate::sdk_contract("token")?;
    let exec = crate::unbounded_executor(kind).with_threads(threads);
    let owner = account(0xa1, 0);
    let receipts = exec
        .execute_block(
            &[Tx {
                sender: owner,
                gas_limit: 200_000_000,
                value: 0,
                payload: Payload::Deploy(Deploy::new(code, encode(&u128::MAX))),
            }],
            1,
        )
        .expect("deploys");
    let token = receipts[0].address.expect("the token deploys");
    let transfer = |sender: Address, to: Address, amount: u128| Tx {
        sender,
        gas_limit: 1_000_000,
        value: 0,
        payload: Payload::Call {
            to: token,
            input: call_input("transfer", &(to, amount)),
        },
    };
    let senders: Vec<Address> = (0..PARALLEL_TXS)
        .map(|i| if conflict { owner } else { account(0x5e, i) })
        .collect();
    if !conflict {
        let funding: Vec<Tx> = senders
            .iter()
            .map(|s| transfer(owner, *s, 1_000_000_000))
            .collect();
        exec.execute_block(&funding, 2).expect("funds");
    }
    let block: Vec<Tx> = senders
        .iter()
        .enumerate()
        .map(|(i, s)| transfer(*s, account(0xb0, i), 1))
        .collect();
    let mut time = 2;
    let exec = std::sync::Arc::new(exec);
    let mut pipeline = (threads > 1)
        .then(|| ward_executor::Pipeline::new(exec.clone()).expect("a pipeline starts"));
    Some(Box::new(move || {
        time += 1;
        let receipts = match &mut pipeline {
            None => Some(exec.execute_block(&block, time).expect("executes")),
            Some(pipeline) => {
                let pushed = pipeline.push_unsigned(&block, time);
                pushed.executed.expect("executes");
                pushed.committed.map(|b| b.expect("commits").receipts)
            }
        };
        debug_assert!(receipts.iter().flatten().all(|r| r.status.is_ok()));
        black_box(receipts);
    }))
}
