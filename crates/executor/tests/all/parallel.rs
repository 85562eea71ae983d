//! Parallel and pipelined blocks equal sequential ones: random blocks of
//! signed transactions (token transfers, approvals, transfer_from, escrow
//! deposits and releases calling the token, deploys, reverts, out of gas,
//! reads of what an earlier transaction wrote), over 2 to many accounts
//! (from full contention to almost none), on both backends at 1, 2 and 4
//! threads, and through a [`Pipeline`] (each block run while the one
//! before commits) at 2: byte-identical receipts (status, output,
//! gas, events), headers and state roots.
//!
//! `WARD_PARALLEL_CASES` sets how many random chains (default 6) and
//! `WARD_PARALLEL_ACCOUNTS` the largest account count (default 1,000);
//! `make parallel-long` runs many more.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ed25519_dalek::SigningKey;
use ward_chain::tx::{ChainRules, Deploy, Payload, SignedTx, TxBody, VerifiedTx, account_address};
use ward_devkeys as devkeys;
use ward_executor::{Block, Executor, Pipeline};
use ward_primitives::{Address, Hash32};
use ward_sdk::codec::{call_input, encode};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_testkit::{Rng, contracts, env_or};
use ward_vm::{BackendKind, CodeHash, Config};

const CHAIN: &str = "ward-parallel";
const THREADS: [usize; 3] = [1, 2, 4];
/// A pipeline on one thread is `pipeline`'s test's; here it meets the
/// parallel executor.
const PIPELINED_THREADS: [usize; 1] = [2];

/// One chain: an executor per (backend, threads), fed the same blocks,
/// and a pipeline per (backend, threads), whose blocks are compared with
/// the first executor's once they are committed.
struct Chains {
    runs: Vec<(String, Executor<MemoryStore>)>,
    pipelines: Vec<(String, Pipeline<MemoryStore>)>,
    /// The first run's blocks, by height - 1.
    blocks: Vec<Block>,
    time: u64,
    /// Over every parallel run: results kept, run again.
    kept: usize,
    rerun: usize,
}

impl Chains {
    fn new() -> Chains {
        let config = Config::default();
        let (mut runs, mut pipelines) = (Vec::new(), Vec::new());
        for kind in BackendKind::ALL {
            let backend = ward_testkit::backend(kind, &config);
            let executor = |threads| {
                // Blocks hold many deploys: no block gas maximum to meet.
                let limits = ward_executor::ChainLimits {
                    max_block_gas: u64::MAX,
                    ..ward_executor::ChainLimits::default()
                };
                Executor::new(Arc::new(MemoryStore::default()), backend.clone(), &config)
                    .with_limits(limits)
                    .with_threads(threads)
            };
            for threads in THREADS {
                runs.push((format!("{kind} x{threads}"), executor(threads)));
            }
            for threads in PIPELINED_THREADS {
                let pipeline = Pipeline::new(Arc::new(executor(threads))).unwrap();
                pipelines.push((format!("{kind} x{threads} pipelined"), pipeline));
            }
        }
        Chains {
            runs,
            pipelines,
            blocks: Vec::new(),
            time: 1_700_000_000,
            kept: 0,
            rerun: 0,
        }
    }

    /// Runs `block` everywhere; every run must give the first's receipts
    /// and state root.
    fn block(&mut self, block: &[SignedTx]) -> Vec<Receipt> {
        self.time += 5;
        let txs: Vec<VerifiedTx> = block
            .iter()
            .map(|tx| VerifiedTx::from_bytes(&tx.to_bytes(), &ChainRules::new(CHAIN)).unwrap())
            .collect();
        for (name, pipeline) in &mut self.pipelines {
            let pushed = pipeline.push(&txs, self.time);
            assert!(pushed.executed.is_ok(), "{name}: {:?}", pushed.executed);
            if let Some(committed) = pushed.committed {
                let block = committed.unwrap();
                let height = block.record.header.height;
                assert_eq!(
                    block,
                    self.blocks[height as usize - 1],
                    "{name}, block {height}"
                );
            }
        }
        let mut first: Option<(String, Vec<Receipt>, Hash32)> = None;
        for (name, exec) in &self.runs {
            let done = exec.execute_signed_block(&txs, self.time).unwrap();
            if first.is_none() {
                self.blocks.push(done.clone());
            }
            if exec.threads() > 1 {
                let speculation = exec.last_speculation();
                self.kept += speculation.kept;
                self.rerun += speculation.rerun;
            }
            let root = done.record.header.state_root;
            match &first {
                None => first = Some((name.clone(), done.receipts, root)),
                Some((first_name, receipts, first_root)) => {
                    for (a, b) in receipts.iter().zip(&done.receipts) {
                        assert_eq!(a, b, "{name} differs from {first_name}");
                    }
                    assert_eq!(receipts.len(), done.receipts.len());
                    assert_eq!(
                        root, *first_root,
                        "{name}'s state root differs from {first_name}'s"
                    );
                }
            }
        }
        first.map(|(_, receipts, _)| receipts).unwrap_or_default()
    }

    /// Waits for every pipeline's last block: each equal to the first
    /// run's, and each pipeline's store at the first run's height.
    fn finish(&mut self) {
        for (name, pipeline) in &mut self.pipelines {
            let block = pipeline.flush().expect("a block in flight").unwrap();
            assert_eq!(
                block,
                *self.blocks.last().unwrap(),
                "{name}: the last block"
            );
            let height = pipeline.executor().store().height().unwrap();
            assert_eq!(height as usize, self.blocks.len(), "{name}");
        }
    }
}

struct Account {
    key: SigningKey,
    address: Address,
    nonce: u64,
}

fn sign(account: &mut Account, gas_limit: u64, payload: Payload) -> SignedTx {
    let key = account.key.verifying_key();
    let tx = TxBody::new(CHAIN, &key, account.nonce, gas_limit, payload).sign(&account.key);
    account.nonce += 1;
    tx
}

fn call(to: Address, method: &str, args: &impl ward_sdk::codec::Encode) -> Payload {
    Payload::Call {
        to,
        input: call_input(method, args),
    }
}

/// A chain with `accounts` funded holders of the SDK token and an escrow,
/// then `blocks` random blocks.
fn random_chain(seed: u64, accounts: usize, blocks: usize) -> (usize, usize) {
    let mut rng = Rng::new(seed);
    let mut chains = Chains::new();
    let mut owner = Account {
        key: devkeys::key(90_000),
        address: devkeys::address(90_000),
        nonce: 0,
    };
    let token_code = contracts::wasm("token");
    let escrow_code = contracts::wasm("escrow");
    let token =
        ward_executor::contract_address(&owner.address, &Hash32(CodeHash::of(&token_code).0), &[]);
    let escrow =
        ward_executor::contract_address(&owner.address, &Hash32(CodeHash::of(&escrow_code).0), &[]);
    let mut holders: Vec<Account> = (0..accounts)
        .map(|i| {
            let key = devkeys::key(100_000 + i as u32);
            let address = account_address(&key.verifying_key().to_bytes());
            Account {
                key,
                address,
                nonce: 0,
            }
        })
        .collect();
    let deploy = |code: &[u8], input: Vec<u8>| Payload::Deploy(Deploy::new(code.to_vec(), input));
    let setup = vec![
        sign(
            &mut owner,
            100_000_000,
            deploy(&token_code, encode(&1_000_000_000u128)),
        ),
        sign(&mut owner, 100_000_000, deploy(&escrow_code, Vec::new())),
    ];
    let receipts = chains.block(&setup);
    assert!(receipts.iter().all(|r| r.status.is_ok()), "{receipts:?}");
    for chunk in holders.chunks(500) {
        let funding: Vec<SignedTx> = chunk
            .iter()
            .map(|h| {
                sign(
                    &mut owner,
                    2_000_000,
                    call(token, "transfer", &(h.address, 10_000u128)),
                )
            })
            .collect();
        chains.block(&funding);
    }

    // The setup's blocks are one sender's: count the random ones only.
    (chains.kept, chains.rerun) = (0, 0);
    let mut deals = 0u64;
    for _ in 0..blocks {
        let size = 2 + rng.below(120);
        let mut block = Vec::with_capacity(size);
        for _ in 0..size {
            let from = rng.below(accounts);
            let to = holders[rng.below(accounts)].address;
            let other = holders[rng.below(accounts)].address;
            let amount = (rng.below(3_000) as u128) * if rng.below(10) == 0 { 100 } else { 1 };
            let sender = &mut holders[from];
            let tx = match rng.below(10) {
                0..=3 => sign(sender, 2_000_000, call(token, "transfer", &(to, amount))),
                4 => sign(sender, 2_000_000, call(token, "approve", &(other, amount))),
                5 => sign(
                    sender,
                    2_000_000,
                    call(token, "transfer_from", &(other, to, amount)),
                ),
                6 => {
                    // Approve the escrow, then deposit: a call into the
                    // token from the escrow, reading what the approval
                    // wrote.
                    block.push(sign(
                        sender,
                        2_000_000,
                        call(token, "approve", &(escrow, amount)),
                    ));
                    deals += 1;
                    sign(
                        sender,
                        4_000_000,
                        call(escrow, "deposit", &(token, to, other, amount, 0u64)),
                    )
                }
                7 if deals > 0 => {
                    let id = rng.below(deals as usize) as u64;
                    sign(sender, 4_000_000, call(escrow, "release", &id))
                }
                7 => sign(sender, 2_000_000, call(token, "balance_of", &to)),
                // Out of gas: enough for the intrinsic cost only.
                8 => sign(sender, 30_000, call(token, "transfer", &(to, amount))),
                _ => {
                    // A deploy; the same salt twice is a taken address.
                    let salt = vec![rng.below(4) as u8];
                    sign(
                        sender,
                        100_000_000,
                        Payload::Deploy(
                            Deploy::new(contracts::wasm("counter"), Vec::new()).with_salt(salt),
                        ),
                    )
                }
            };
            block.push(tx);
        }
        chains.block(&block);
    }
    chains.finish();
    (chains.kept, chains.rerun)
}

#[test]
fn parallel_blocks_equal_sequential_ones_on_both_backends() {
    let cases: u64 = env_or("WARD_PARALLEL_CASES", 6);
    let most: usize = env_or("WARD_PARALLEL_ACCOUNTS", 1_000);
    for case in 0..cases {
        // From full contention (2 accounts) to almost none.
        let accounts = match case % 3 {
            0 => 2,
            1 => 20,
            _ => most,
        };
        let (kept, rerun) = random_chain(0x5eed_0000 + case, accounts, 4);
        eprintln!("{accounts} accounts: {kept} optimistic results kept, {rerun} run again");
        // Both ways through the in-order pass are taken: with few accounts
        // most results conflict, with many most are kept.
        assert!(rerun > 0, "{accounts} accounts: nothing ran again");
        if accounts >= 1_000 {
            assert!(
                kept > rerun,
                "{accounts} accounts: {kept} kept, {rerun} run again"
            );
        }
    }
}
