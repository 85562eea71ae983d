//! Cancellation (`Executor::set_cancel`): an embedder that gives up on a
//! block raises its flag from another thread; the spinning transaction
//! ends, the block fails with a `cancelled` node fault and commits
//! nothing, on both backends and on one or two threads; the next block,
//! with no flag, runs as if nothing happened.

use std::{sync::Arc, thread, time::Duration};

use ward_executor::{ChainLimits, ExecError};
use ward_state::{MemoryStore, StateRead};
use ward_vm::{BackendKind, Cancel, FaultKind};

use crate::{
    calls::{PROXY, proxy_input},
    executor::{COUNTER, call_tx, count, deploy_all, executor},
};

/// Gas no spin here could burn before the flag is raised, however slow
/// the machine: only the cancel ends these calls.
const ENDLESS: u64 = 1 << 50;

#[test]
fn a_cancelled_block_is_a_node_fault_and_commits_nothing() {
    for kind in BackendKind::ALL {
        for threads in [1, 2] {
            let store = Arc::new(MemoryStore::default());
            let limits = ChainLimits {
                max_tx_gas: ENDLESS,
                max_block_gas: 4 * ENDLESS,
                ..ChainLimits::default()
            };
            let exec = executor(store.clone(), kind)
                .with_limits(limits)
                .with_threads(threads);
            let [proxy, counter] = deploy_all(&exec, &[PROXY, COUNTER])[..] else {
                unreachable!()
            };
            let entries = store.storage_entries(&counter).unwrap();
            // The spin in the root frame, and in a callee.
            for spin in [
                call_tx(counter, b"spin", ENDLESS),
                call_tx(proxy, &proxy_input(&counter, 0, 1 << 49, b"spin"), ENDLESS),
            ] {
                let cancel = Cancel::new();
                exec.set_cancel(Some(cancel.clone()));
                let canceller = thread::spawn(move || {
                    thread::sleep(Duration::from_millis(20));
                    cancel.cancel();
                });
                let block = [call_tx(counter, b"", 1_000_000), spin];
                match exec.execute_block(&block, 2) {
                    Err(ExecError::Fault(fault)) => {
                        assert_eq!(fault.kind(), FaultKind::Cancelled, "{kind}, {threads}");
                    }
                    other => panic!("{kind}, {threads} threads: {other:?}"),
                }
                canceller.join().unwrap();
                assert_eq!(store.height().unwrap(), 1, "{kind}: nothing committed");
                assert_eq!(store.storage_entries(&counter).unwrap(), entries);
                assert_eq!(count(&*store, &counter), Some(0));
            }
            // A block after, with no flag: it runs and commits.
            exec.set_cancel(None);
            let receipts = exec
                .execute_block(&[call_tx(counter, b"", 1_000_000)], 3)
                .unwrap();
            assert_eq!(receipts[0].status.as_str(), "ok", "{kind}");
            assert_eq!(count(&*store, &counter), Some(1));
        }
    }
}
