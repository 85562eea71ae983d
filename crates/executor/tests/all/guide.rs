//! The Rust examples of docs/contracts.md and docs/runtimes.md, compiled
//! and run here. The doc check (`bins/cli/tests/docs`) finds every line
//! those blocks show in this file, in order, so the docs cannot drift from
//! code that builds.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use crate::{ALICE, BOB};
use ward_executor::{Deploy, Executor, Payload, Runtimes, Tx};
use ward_primitives::{CodeKind, RuntimeName};
use ward_vm::BackendKind;

type Result<T = (), E = Box<dyn std::error::Error>> = std::result::Result<T, E>;

/// docs/contracts.md §7: a contract's test, on each backend.
fn token_test(kind: BackendKind) -> Result {
    use ward_executor::{Executor, Tx};
    use ward_sdk::codec::{call_input, decode_exact, encode};
    use ward_state::MemoryStore;

    let config = ward_vm::Config::default();
    let exec = Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(kind, &config),
        &config,
    );
    let code = ward_testkit::contracts::wasm("token"); // builds contracts/ once per process
    let deploy = Tx {
        sender: ALICE,
        gas_limit: 100_000_000,
        value: 0,
        payload: Payload::Deploy(Deploy::new(code, encode(&1_000u128))),
    };
    let receipts = exec.execute_block(&[deploy], 1)?;
    let token = receipts[0].address.unwrap();
    let transfer = Tx::call(
        ALICE,
        token,
        call_input("transfer", &(BOB, 100u128)),
        10_000_000,
    );
    let receipt = exec.execute_block(&[transfer], 2)?.remove(0);
    assert_eq!(receipt.status.as_str(), "ok");
    let balance = exec.query(ALICE, token, call_input("balance_of", &BOB), 10_000_000)?;
    assert_eq!(decode_exact::<u128>(&balance.output), Ok(100));
    Ok(())
}

#[test]
fn the_guide_s_token_test_passes_on_both_backends() -> Result {
    for kind in BackendKind::ALL {
        token_test(kind)?;
    }
    Ok(())
}

/// docs/contracts.md §11 and docs/runtimes.md: registering system
/// runtimes, then deploying and calling a `stackvm` program.
#[test]
fn the_guide_s_runtimes_register_and_run() -> Result {
    let config = ward_vm::Config::default();
    let store = Arc::new(ward_state::MemoryStore::default());
    let backend = ward_testkit::backend(BackendKind::Wasmtime, &config);
    let stackvm_wasm = ward_testkit::contracts::wasm("stackvm");
    let evm_wasm = ward_testkit::contracts::wasm("evm");

    let mut runtimes = Runtimes::new(backend.clone(), &config);
    runtimes.register(RuntimeName::new("stackvm").unwrap(), &stackvm_wasm)?;
    runtimes.register(RuntimeName::new("evm").unwrap(), &evm_wasm)?;
    let executor = Executor::new(store, backend, &config).with_runtimes(Arc::new(runtimes));

    // ward deploy --runtime stackvm program.bin; ward call ADDR --input <args>
    let deploy = Tx {
        sender: ALICE,
        gas_limit: 50_000_000,
        value: 0,
        payload: Payload::Deploy(
            Deploy::new(crate::contracts::sum_program(), Vec::new())
                .with_kind(CodeKind::Runtime(RuntimeName::new("stackvm").unwrap())),
        ),
    };
    let program = executor.execute_block(&[deploy], 1)?[0].address.unwrap();
    let sum = Tx::call(ALICE, program, 10i64.to_le_bytes().to_vec(), 1_000_000);
    let receipt = executor.execute_block(&[sum], 2)?.remove(0);
    assert_eq!(
        (receipt.status.as_str(), receipt.output),
        ("ok", 55i64.to_le_bytes().to_vec())
    );
    Ok(())
}
