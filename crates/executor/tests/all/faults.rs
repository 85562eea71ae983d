//! Node faults never become receipts.
//!
//! A block of mixed transactions (token transfers, a revert, an out of
//! gas, a cross-contract call with events, a deploy and a call to what it
//! deployed) runs on a redb store whose disk is in memory, once healthy
//! and then once for every operation N the healthy run performed, with an
//! I/O error injected at the Nth: every state read the executor makes and
//! every read, write, resize and sync redb makes of its file. Each time:
//! the fault is reported as an error (never a receipt, never a panic); the
//! store reopened on what the fault left holds either the whole block or
//! none of it; and re-running the block on the healthy store gives exactly
//! the receipts and state of the run that never failed. On both backends.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use crate::{ALICE, BOB, CAROL};
use ward_executor::{Deploy, ExecError, Executor, Payload, Tx, contract_address};
use ward_primitives::{Address, Hash32};
use ward_sdk::codec::{call_input, encode};
use ward_state::{
    Receipt, RedbStore, StateRead,
    faults::{FaultPlan, FaultyStore, MemoryBackend},
};
use ward_testkit::contracts;
use ward_vm::{BackendKind, CacheOptions, CodeHash, Config, ModuleCache};

const GAS: u64 = 10_000_000;
const DEPLOY_GAS: u64 = 100_000_000;
const TIME: u64 = 1_700_000_000;

type Store = FaultyStore<RedbStore>;

/// What a reopened store holds that the block may change.
#[derive(Debug, PartialEq, Eq)]
struct Observed {
    height: u64,
    storage: Vec<ward_state::Entries>,
    receipts: Vec<Option<Receipt>>,
    counter_code: bool,
}

struct Chain {
    plan: Arc<FaultPlan>,
    cache: Arc<ModuleCache>,
    /// The redb file after the setup blocks.
    base: Vec<u8>,
    token: Address,
    escrow: Address,
    counter: Address,
    block: Vec<Tx>,
}

impl Chain {
    /// Deploys the token and the escrow and approves the escrow (blocks 1
    /// and 2), and prepares the mixed block 3.
    fn new(kind: BackendKind) -> Chain {
        let config = Config::default();
        let backend = ward_testkit::backend(kind, &config);
        let cache = Arc::new(ModuleCache::new(backend, &config, CacheOptions::default()).unwrap());
        let plan = Arc::new(FaultPlan::default());
        let disk = MemoryBackend::new(plan.clone());
        let store = FaultyStore::new(RedbStore::open_on(disk.clone()).unwrap(), plan.clone());
        let exec = Executor::with_cache(Arc::new(store), cache.clone());
        let deploy = |name: &str, input: Vec<u8>| Tx {
            sender: ALICE,
            gas_limit: DEPLOY_GAS,
            value: 0,
            payload: Payload::Deploy(
                Deploy::new(contracts::wasm(name), input).with_salt(name.as_bytes().to_vec()),
            ),
        };
        let setup = exec
            .execute_block(
                &[
                    deploy("token", encode(&1_000u128)),
                    deploy("escrow", encode(&())),
                ],
                TIME,
            )
            .unwrap();
        let [token, escrow] = [0, 1].map(|i| setup[i].address.unwrap());
        let call = |sender, to, input: Vec<u8>, gas_limit| Tx {
            sender,
            gas_limit,
            value: 0,
            payload: Payload::Call { to, input },
        };
        let approved = exec
            .execute_block(
                &[call(
                    ALICE,
                    token,
                    call_input("approve", &(escrow, 300u128)),
                    GAS,
                )],
                TIME + 1,
            )
            .unwrap();
        assert_eq!(approved[0].status.as_str(), "ok");
        drop(exec);

        let counter_code = contracts::wasm("counter");
        let counter = contract_address(&ALICE, &Hash32(CodeHash::of(&counter_code).0), b"counter");
        let block = vec![
            call(ALICE, token, call_input("transfer", &(BOB, 100u128)), GAS),
            // Reverts: BOB has 100.
            call(BOB, token, call_input("transfer", &(CAROL, 500u128)), GAS),
            // Runs out of gas.
            call(ALICE, token, call_input("transfer", &(CAROL, 1u128)), 8_000),
            // The escrow pulls from the token: a call between contracts.
            call(
                ALICE,
                escrow,
                call_input("deposit", &(token, BOB, CAROL, 200u128, TIME + 100)),
                GAS,
            ),
            deploy("counter", encode(&5u64)),
            call(BOB, counter, call_input("increment", &3u64), GAS),
        ];
        Chain {
            plan,
            cache,
            base: disk.snapshot(),
            token,
            escrow,
            counter,
            block,
        }
    }

    /// An executor over a copy of `bytes`, its plan disarmed.
    fn executor(&self, bytes: Vec<u8>) -> (Executor<Store>, MemoryBackend) {
        self.plan.disarm();
        let disk = MemoryBackend::from_bytes(bytes, self.plan.clone());
        let store = FaultyStore::new(RedbStore::open_on(disk.clone()).unwrap(), self.plan.clone());
        (
            Executor::with_cache(Arc::new(store), self.cache.clone()),
            disk,
        )
    }

    /// Runs the block on the base state with operation `n` of the run
    /// failing (none for 0). Returns what the executor said, how many
    /// operations the run performed, and the disk it left.
    fn run(&self, n: u64) -> (Result<Vec<Receipt>, ExecError>, u64, MemoryBackend) {
        let (exec, disk) = self.executor(self.base.clone());
        let start = self.plan.operations();
        if n > 0 {
            self.plan.fail_at(start + n);
        }
        let result = exec.execute_block(&self.block, TIME + 2);
        let ops = self.plan.operations() - start;
        self.plan.disarm();
        (result, ops, disk)
    }

    fn observe(&self, store: &dyn StateRead, receipts: &[Receipt]) -> Observed {
        Observed {
            height: store.height().unwrap(),
            storage: [self.token, self.escrow, self.counter]
                .iter()
                .map(|c| store.storage_entries(c).unwrap())
                .collect(),
            receipts: receipts
                .iter()
                .map(|r| store.receipt(&r.tx).unwrap())
                .collect(),
            counter_code: store.contract(&self.counter).unwrap().is_some(),
        }
    }
}

fn statuses(receipts: &[Receipt]) -> Vec<&str> {
    receipts.iter().map(|r| r.status.as_str()).collect()
}

#[test]
fn a_storage_fault_at_any_operation_aborts_the_block_and_commits_nothing() {
    let mut by_backend = Vec::new();
    for kind in BackendKind::ALL {
        let chain = Chain::new(kind);
        let (healthy, total, disk) = chain.run(0);
        let healthy = healthy.unwrap();
        assert_eq!(
            statuses(&healthy),
            ["ok", "reverted", "out_of_gas", "ok", "ok", "ok"],
            "{healthy:?}"
        );
        assert_eq!(
            healthy[3].events.len(),
            2,
            "the token's event, then the escrow's"
        );
        let (exec, _) = chain.executor(disk.snapshot());
        let committed = chain.observe(&**exec.store(), &healthy);
        assert_eq!(committed.height, 3);
        let (exec, _) = chain.executor(chain.base.clone());
        let before = chain.observe(&**exec.store(), &healthy);
        assert_eq!(before.height, 2);
        drop(exec);

        let (mut aborted, mut whole) = (0, 0);
        for n in 1..=total {
            let (result, _, disk) = chain.run(n);
            assert!(
                chain.plan.tripped(),
                "{kind}: operation {n} of {total} never ran"
            );
            match &result {
                Err(ExecError::State(_)) => aborted += 1,
                Err(other) => panic!("{kind}: fault {n} reported as {other:?}"),
                Ok(receipts) => assert_eq!(
                    receipts, &healthy,
                    "{kind}: fault {n} was absorbed but changed the receipts"
                ),
            }
            // What the fault left, reopened healthy: all of the block or
            // none of it (a failed sync after the commit point may have
            // committed it all: the error then says "maybe").
            let (exec, _) = chain.executor(disk.snapshot());
            let found = chain.observe(&**exec.store(), &healthy);
            if found == committed {
                whole += 1;
                continue;
            }
            assert_eq!(found, before, "{kind}: fault {n} left a partial block");
            assert!(result.is_err(), "{kind}: fault {n}: receipts but no block");
            // The same block again on the healthy store.
            let again = exec.execute_block(&chain.block, TIME + 2).unwrap();
            assert_eq!(again, healthy, "{kind}: fault {n}: re-run differs");
            assert_eq!(chain.observe(&**exec.store(), &healthy), committed);
        }
        println!(
            "{kind}: {total} operations; each failed once: {aborted} aborted the block, \
             {whole} left it whole on disk"
        );
        assert!(
            aborted > 0 && total > 20,
            "{kind}: too few operations to mean much"
        );
        by_backend.push(healthy);
    }
    assert_eq!(
        by_backend[0], by_backend[1],
        "receipts differ between backends"
    );
}
