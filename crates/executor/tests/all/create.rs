//! `ward.create` and delegate calls between Wasm contracts (`docs/host-abi.md`),
//! on both backends: a contract deploys a contract at the address derived
//! from it, the code's hash and the salt; a taken address or refused code
//! fails; a delegate call runs another contract's code on the caller's
//! storage, and only between contracts of one kind.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use alloy_primitives::TxKind;
use ward_chain::tx::eth::{create_address, create2_address, wasm_creation_code};
use ward_executor::{Deploy, Executor, Payload, Tx, contract_address};
use ward_primitives::{Address, CodeKind, Hash32};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_vm::{BackendKind, CodeHash, Config};

use crate::ALICE;
use crate::{
    ethereum::{Key, executor, signed},
    runtimes::forwarder,
};

/// Deploys its input as a contract (salt: 32 zero bytes, deploy input:
/// "init"), outputs the return data, and returns the status.
const FACTORY: &str = r#"(module
  (import "ward" "input_size" (func $isize (result i32)))
  (import "ward" "input_read" (func $input (param i32 i32 i32)))
  (import "ward" "create" (func $create (param i32 i32 i32 i32 i32 i64) (result i32)))
  (import "ward" "return_data_size" (func $size (result i32)))
  (import "ward" "return_data_read" (func $rd (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "gas_left" (func $gas (result i64)))
  (memory (export "memory") 2)
  (data (i32.const 65000) "init")
  (func (export "main") (result i32) (local $status i32)
    (call $input (i32.const 0) (i32.const 0) (call $isize))
    (local.set $status
      (call $create (i32.const 0) (call $isize) (i32.const 65000) (i32.const 4)
        (i32.const 65100) (i64.sub (call $gas) (i64.const 100000))))
    (call $rd (i32.const 70000) (i32.const 0) (call $size))
    (call $out (i32.const 70000) (call $size))
    (local.get $status)))"#;

/// Stores its deploy input under "init"; calls store their input under
/// "k" and output "stored".
const STORE: &str = r#"(module
  (import "ward" "input_size" (func $isize (result i32)))
  (import "ward" "input_read" (func $input (param i32 i32 i32)))
  (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "initkstored")
  (func (export "deploy")
    (call $input (i32.const 100) (i32.const 0) (call $isize))
    (call $write (i32.const 0) (i32.const 4) (i32.const 100) (call $isize)))
  (func (export "main")
    (call $input (i32.const 100) (i32.const 0) (call $isize))
    (call $write (i32.const 4) (i32.const 1) (i32.const 100) (call $isize))
    (call $out (i32.const 5) (i32.const 6))))"#;

fn scenario(backend: BackendKind) -> Vec<Receipt> {
    let config = Config::default();
    let exec = Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(backend, &config),
        &config,
    );
    let config = &config;
    let mut log = Vec::new();
    let mut run = |tx: Tx| {
        let receipt = exec.execute_block(&[tx], 1).unwrap().remove(0);
        log.push(receipt.clone());
        receipt
    };
    let deploy = |code: &str, salt: &str| Tx {
        sender: ALICE,
        gas_limit: 50_000_000,
        value: 0,
        payload: Payload::Deploy(
            Deploy::new(wat::parse_str(code).unwrap(), Vec::new())
                .with_salt(salt.as_bytes().to_vec()),
        ),
    };
    let call = |to: Address, input: Vec<u8>| Tx {
        sender: ALICE,
        gas_limit: 20_000_000,
        value: 0,
        payload: Payload::Call { to, input },
    };
    let factory = run(deploy(FACTORY, "factory")).address.unwrap();
    let store_code = wat::parse_str(STORE).unwrap();

    // The new contract is at the address derived from the factory, the
    // code's hash and the salt; its deploy ran with the input given.
    let made = run(call(factory, store_code.clone()));
    assert_eq!(
        (made.status.as_str(), made.exit_code),
        ("ok", 0),
        "{made:?}"
    );
    let expected = contract_address(&factory, &Hash32(CodeHash::of(&store_code).0), &[0; 32]);
    assert_eq!(made.output, expected.0);
    let info = exec.store().contract(&expected).unwrap().unwrap();
    assert_eq!((info.kind, info.deployer), (CodeKind::Ward, factory));
    assert_eq!(
        exec.store().storage(&expected, b"init").unwrap(),
        Some(b"init".to_vec())
    );
    // The same code and salt again: the address is taken.
    let taken = run(call(factory, store_code.clone()));
    assert_eq!(taken.exit_code, 2);
    // Code that is not Wasm fails, paying the deploy charge.
    let refused = run(call(factory, b"not wasm".to_vec()));
    assert_eq!(refused.exit_code, 2);
    let charge = config.policy.schedule.deploy_cost(8);
    assert!(refused.gas_used > charge, "{refused:?}");

    // A delegate call runs the stored code on the delegator's storage.
    let store = run(deploy(STORE, "store")).address.unwrap();
    let delegator = run(deploy(&forwarder(2), "delegator")).address.unwrap();
    let mut input = store.0.to_vec();
    input.extend_from_slice(b"value");
    let delegated = run(call(delegator, input));
    assert_eq!(
        (delegated.exit_code, delegated.output.as_slice()),
        (0, &b"stored"[..])
    );
    assert_eq!(
        exec.store().storage(&delegator, b"k").unwrap(),
        Some(b"value".to_vec())
    );
    assert_eq!(exec.store().storage(&store, b"k").unwrap(), None);
    log
}

#[test]
fn wasm_contracts_create_contracts_and_delegate_on_both_backends() {
    let runs: Vec<Vec<Receipt>> = BackendKind::ALL.into_iter().map(scenario).collect();
    assert_eq!(runs[0], runs[1]);
}

/// A Wasm contract deployed from an Ethereum account has a 20-byte
/// address (`CREATE`'s), and creates at the address the EVM's `CREATE2`
/// gives its salt and creation data (the Wasm creation code, then the
/// constructor's input), so that Ethereum tools compute it as they
/// compute a Solidity factory's (`docs/evm.md`, "Addresses").
#[test]
fn a_contract_of_20_byte_form_creates_at_create2_addresses() {
    let alice = Key::from_secret([0xa1; 32]);
    let factory_code = wat::parse_str(FACTORY).unwrap();
    let store_code = wat::parse_str(STORE).unwrap();
    let factory = create_address(alice.address, 0);
    let child = Address::from_eth(create2_address(
        factory,
        [0; 32],
        &[wasm_creation_code(&store_code), b"init".to_vec()].concat(),
    ));
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let exec = executor(kind, 1, &[&alice]);
        let send = |nonce, to, input| {
            let tx = signed(&alice, (nonce, 3_000_000), to, 0, input);
            exec.execute_signed_block(&[tx], 1_000 + nonce)
                .unwrap()
                .receipts
                .remove(0)
        };
        let deployed = send(0, TxKind::Create, wasm_creation_code(&factory_code));
        assert_eq!(deployed.address, Some(Address::from_eth(factory)));
        let made = send(1, TxKind::Call(factory.into()), store_code.clone());
        assert_eq!(
            (made.status.as_str(), &made.output),
            ("ok", &child.0.to_vec())
        );
        let info = exec.store().contract(&child).unwrap().unwrap();
        assert_eq!(
            (info.kind, info.deployer),
            (CodeKind::Ward, Address::from_eth(factory))
        );
        assert_eq!(
            exec.store().storage(&child, b"init").unwrap(),
            Some(b"init".to_vec())
        );
        // The same salt and creation data again: the address is taken.
        let taken = send(2, TxKind::Call(factory.into()), store_code.clone());
        assert_eq!(taken.exit_code, 2, "{taken:?}");
        runs.push((deployed, made, taken));
    }
    assert_eq!(runs[0], runs[1]);
}
