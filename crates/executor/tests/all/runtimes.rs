//! System runtimes on the chain path (`docs/runtimes.md`), on both
//! backends: a contract deployed for a registered runtime, its calls
//! running the runtime's pooled instance, calls into it from a Wasm
//! contract, failures that rebuild the instance, and the reset API.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ward_executor::{Deploy, Executor, Payload, Runtimes, Tx};
use ward_primitives::{Address, CodeKind, RuntimeName};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_testkit::contracts;
use ward_vm::{BackendKind, Config};

use crate::ALICE;
use crate::contracts::sum_program;

/// A Ward contract that calls the contract at the first 32 bytes of its
/// input with the rest and `ward.call`'s `flags` (0 a call, 2 a delegate
/// call), outputs the return data, and returns the call's status.
pub(crate) fn forwarder(flags: u32) -> String {
    ward_testkit::module_importing(
        "input_size input_read call return_data_size return_data_read output_write gas_left",
        &format!(
            r#"(memory (export "memory") 2)
  (func (export "main") (result i32) (local $status i32)
    (call $input_read (i32.const 0) (i32.const 0) (call $input_size))
    (local.set $status
      (call $call (i32.const 0) (i32.const 32) (i32.sub (call $input_size) (i32.const 32))
        (i64.sub (call $gas_left) (i64.const 100000)) (i32.const {flags})))
    (call $return_data_read (i32.const 65536) (i32.const 0) (call $return_data_size))
    (call $output_write (i32.const 65536) (call $return_data_size))
    (local.get $status))"#
        ),
    )
}

pub(crate) fn stackvm() -> CodeKind {
    CodeKind::Runtime(RuntimeName::new("stackvm").unwrap())
}

fn executor(backend: BackendKind) -> Executor<MemoryStore> {
    stackvm_executor(ward_testkit::backend(backend, &Config::default()))
}

/// An executor on `backend` with `stackvm` registered.
pub(crate) fn stackvm_executor(backend: Arc<dyn ward_vm::Backend>) -> Executor<MemoryStore> {
    let config = Config::default();
    let mut runtimes = Runtimes::new(backend.clone(), &config);
    runtimes
        .register(
            RuntimeName::new("stackvm").unwrap(),
            &contracts::wasm("stackvm"),
        )
        .unwrap();
    Executor::new(Arc::new(MemoryStore::default()), backend, &config)
        .with_runtimes(Arc::new(runtimes))
}

pub(crate) fn deploy(code: Vec<u8>, salt: &str, kind: CodeKind) -> Tx {
    Tx {
        sender: ALICE,
        gas_limit: 50_000_000,
        value: 0,
        payload: Payload::Deploy(
            Deploy::new(code, Vec::new())
                .with_salt(salt.as_bytes().to_vec())
                .with_kind(kind),
        ),
    }
}

/// ALICE's call of `to`.
pub(crate) fn call(to: Address, input: Vec<u8>, gas_limit: u64) -> Tx {
    Tx {
        sender: ALICE,
        gas_limit,
        value: 0,
        payload: Payload::Call { to, input },
    }
}

pub(crate) fn args(values: &[i64]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Every receipt of a scenario over `stackvm` contracts, and the instance
/// builds it took, on one backend.
fn stackvm_scenario(backend: BackendKind) -> Vec<Receipt> {
    let exec = executor(backend);
    let builds = || exec.runtimes().system().instance_builds();
    let mut log = Vec::new();
    let mut run = |tx: Tx| {
        let receipt = exec.execute_block(&[tx], 1).unwrap().remove(0);
        log.push(receipt.clone());
        receipt
    };

    // A program deployed for the runtime is stored as it is, at a 20-byte
    // address, paying Ward's deploy cost for its bytes.
    let sum = run(deploy(sum_program(), "sum", stackvm()));
    assert_eq!(sum.status.as_str(), "ok", "{backend}: {sum:?}");
    let sum = sum.address.unwrap();
    assert_eq!(sum.0[..12], [0u8; 12], "{backend}");
    let info = exec.store().contract(&sum).unwrap().unwrap();
    assert_eq!(info.kind, stackvm());
    assert_eq!(
        exec.store().code(&info.code_hash).unwrap().unwrap(),
        sum_program()
    );
    assert_eq!(builds(), 0, "{backend}: deploying runs nothing");

    // Calls run it with the call's input as its arguments, on one
    // instance, reused.
    let total = |r: &Receipt| i64::from_le_bytes(r.output.clone().try_into().unwrap());
    let first = run(call(sum, args(&[100]), 1_000_000));
    assert_eq!((first.status.as_str(), total(&first)), ("ok", 5050));
    let second = run(call(sum, args(&[200]), 1_000_000));
    assert_eq!(total(&second), 20_100);
    assert!(second.gas_used > first.gas_used);
    assert_eq!(builds(), 1, "{backend}");

    // A Wasm contract calls it: the runtime's frame runs while the caller
    // waits, and the caller gets its output.
    let forwarder = run(deploy(
        wat::parse_str(forwarder(0)).unwrap(),
        "fwd",
        CodeKind::Ward,
    ));
    let forwarder = forwarder.address.unwrap();
    let mut input = sum.0.to_vec();
    input.extend(args(&[10]));
    let forwarded = run(call(forwarder, input, 2_000_000));
    assert_eq!((forwarded.status.as_str(), total(&forwarded)), ("ok", 55));
    assert_eq!(builds(), 1, "{backend}: the same instance");

    // A faulting program reverts and keeps the instance; an endless loop
    // runs out of gas and the instance is rebuilt; the next call is
    // unaffected.
    let bad = run(deploy(vec![0x99], "bad", stackvm()));
    let bad = run(call(bad.address.unwrap(), Vec::new(), 1_000_000));
    assert_eq!((bad.status.as_str(), bad.exit_code), ("reverted", 2));
    assert_eq!(bad.output, b"bad opcode 0x99 at pc 0");
    assert_eq!(builds(), 1, "{backend}");
    let spin = run(deploy(vec![0x20, 0, 0], "spin", stackvm()));
    let spin = run(call(spin.address.unwrap(), Vec::new(), 1_000_000));
    assert_eq!(
        (spin.status.as_str(), spin.gas_used),
        ("out_of_gas", 1_000_000)
    );
    let again = run(call(sum, args(&[100]), 1_000_000));
    assert_eq!((total(&again), again.gas_used), (5050, first.gas_used));
    assert_eq!(builds(), 2, "{backend}: rebuilt after running out of gas");

    // Resetting the runtimes drops the instance: the next call builds one.
    exec.runtimes().reset();
    let after_reset = run(call(sum, args(&[100]), 1_000_000));
    assert_eq!(after_reset.gas_used, first.gas_used);
    assert_eq!(builds(), 3, "{backend}");

    // A runtime the chain has not registered is refused, creating nothing.
    let unknown = CodeKind::Runtime(RuntimeName::new("nope").unwrap());
    let refused = run(deploy(vec![1, 2, 3], "nope", unknown));
    assert_eq!(refused.status.as_str(), "rejected", "{refused:?}");
    assert!(refused.address.is_none());
    log
}

#[test]
fn stackvm_contracts_run_on_the_chain_path_identically_on_both_backends() {
    let runs: Vec<Vec<Receipt>> = BackendKind::ALL.into_iter().map(stackvm_scenario).collect();
    assert_eq!(runs[0], runs[1]);
}
