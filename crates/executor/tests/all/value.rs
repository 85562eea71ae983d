//! Value between contracts (ABI version 6, `docs/economics.md`):
//! `call_with_value`, `transfer`, `balance` and `call_value`, a revert
//! that takes back exactly the reverted frames' moves, and calls that may
//! not move value, on both backends with the same receipts and balances.

#![allow(clippy::unwrap_used, reason = "test")]

use std::{collections::BTreeMap, sync::Arc};

use crate::ALICE;
use ward_executor::{Deploy, Executor, Payload, Tx, contract_address};
use ward_primitives::{Address, Hash32};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_vm::{BackendKind, CodeHash, Config};

const GAS: u64 = 5_000_000;

/// Calls or pays the contract whose address is the input's first 32
/// bytes; byte 32 says how: 0 `call_with_value` of 100 (outputs the
/// status), 1 `transfer` of 50, 2 `call_with_value` of 100 and then
/// revert, 3 its own balance, 4 `transfer` of more than it holds, 5 a
/// read-only `call_with_value` of 100.
const PAYER: &str = r#"(module
  (import "ward" "input_read" (func $in (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (import "ward" "gas_left" (func $gas (result i64)))
  (import "ward" "call_with_value" (func $callv (param i32 i32 i32 i64 i32 i32) (result i32)))
  (import "ward" "transfer" (func $transfer (param i32 i32) (result i32)))
  (import "ward" "balance" (func $balance (param i32 i32)))
  (import "ward" "self_address" (func $self (param i32)))
  (memory (export "memory") 1)
  (func (export "main") (local $op i32)
    (call $in (i32.const 0) (i32.const 0) (i32.const 33))
    (local.set $op (i32.load8_u (i32.const 32)))
    (i64.store (i32.const 48) (i64.const 100))
    (i64.store (i32.const 56) (i64.const 0))
    (if (i32.eq (local.get $op) (i32.const 1)) (then
      (i64.store (i32.const 48) (i64.const 50))
      (i32.store (i32.const 64) (call $transfer (i32.const 0) (i32.const 48)))
      (call $out (i32.const 64) (i32.const 4))
      (return)))
    (if (i32.eq (local.get $op) (i32.const 3)) (then
      (call $self (i32.const 96))
      (call $balance (i32.const 96) (i32.const 128))
      (call $out (i32.const 128) (i32.const 16))
      (return)))
    (if (i32.eq (local.get $op) (i32.const 4)) (then
      (i64.store (i32.const 48) (i64.const 1000000))
      (i32.store (i32.const 64) (call $transfer (i32.const 0) (i32.const 48)))
      (call $out (i32.const 64) (i32.const 4))
      (return)))
    (i32.store (i32.const 64)
      (call $callv (i32.const 0) (i32.const 200) (i32.const 0)
        (i64.sub (call $gas) (i64.const 100000))
        (i32.eq (local.get $op) (i32.const 5))
        (i32.const 48)))
    (call $out (i32.const 64) (i32.const 4))
    (if (i32.eq (local.get $op) (i32.const 2)) (then (call $exit (i32.const 7))))))"#;

/// Stores and outputs the value it received; reverts when it is 13.
const RECEIVER: &str = r#"(module
  (import "ward" "call_value" (func $value (param i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (import "ward" "storage_write" (func $put (param i32 i32 i32 i32)))
  (import "ward" "exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "v")
  (func (export "main")
    (call $value (i32.const 16))
    (call $put (i32.const 0) (i32.const 1) (i32.const 16) (i32.const 16))
    (call $out (i32.const 16) (i32.const 16))
    (if (i64.eq (i64.load (i32.const 16)) (i64.const 13)) (then (call $exit (i32.const 1))))))"#;

/// A chain on `kind` with the EVM runtime, where ALICE holds `funds`
/// from the genesis.
fn funded(kind: BackendKind, funds: u128) -> Executor<MemoryStore> {
    let config = Config::default();
    let exec = Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(kind, &config),
        &config,
    )
    .with_runtimes(crate::evm::runtimes(kind));
    exec.genesis(&BTreeMap::from([(ALICE, funds)])).unwrap();
    exec
}

fn address_of(wat: &str) -> Address {
    let code = wat::parse_str(wat).unwrap();
    contract_address(&ALICE, &Hash32(CodeHash::of(&code).0), &[])
}

fn deploy(wat: &str, value: u128) -> Tx {
    Tx {
        sender: ALICE,
        gas_limit: 50_000_000,
        value,
        payload: Payload::Deploy(Deploy::new(wat::parse_str(wat).unwrap(), Vec::new())),
    }
}

fn call(to: Address, input: Vec<u8>, value: u128) -> Tx {
    Tx {
        sender: ALICE,
        gas_limit: GAS,
        value,
        payload: Payload::Call { to, input },
    }
}

fn pay(target: Address, op: u8) -> Tx {
    let mut input = target.0.to_vec();
    input.push(op);
    call(address_of(PAYER), input, 0)
}

#[test]
fn value_moves_between_contracts_and_a_revert_takes_back_its_frames_moves() {
    let mut transcripts = Vec::new();
    for kind in BackendKind::ALL {
        let exec = funded(kind, 1_000_000);
        let (payer, receiver) = (address_of(PAYER), address_of(RECEIVER));
        let balances = |exec: &Executor<MemoryStore>| {
            [ALICE, payer, receiver].map(|a| exec.store().balance(&a).unwrap())
        };
        let mut receipts: Vec<Receipt> = Vec::new();
        let mut run = |tx: Tx, time: u64| {
            let receipt = exec.execute_block(&[tx], time).unwrap().remove(0);
            receipts.push(receipt.clone());
            receipt
        };
        let status = |r: &Receipt| i32::from_le_bytes(r.output[..4].try_into().unwrap());

        assert_eq!(run(deploy(PAYER, 1_000), 1).status.as_str(), "ok");
        assert_eq!(run(deploy(RECEIVER, 0), 2).status.as_str(), "ok");
        assert_eq!(balances(&exec), [999_000, 1_000, 0]);

        // A call with value: the callee sees it and keeps it.
        let r = run(pay(receiver, 0), 3);
        assert_eq!((r.status.as_str(), status(&r)), ("ok", 0));
        assert_eq!(balances(&exec), [999_000, 900, 100]);
        // A transfer runs no code.
        let r = run(pay(receiver, 1), 4);
        assert_eq!(status(&r), 0);
        assert_eq!(balances(&exec), [999_000, 850, 150]);
        // The payer's revert takes back its callee's value with it.
        let r = run(pay(receiver, 2), 5);
        assert_eq!((r.status.as_str(), r.exit_code), ("reverted", 7));
        assert_eq!(balances(&exec), [999_000, 850, 150]);
        // Its own balance, as the contract reads it.
        let r = run(pay(receiver, 3), 6);
        assert_eq!(r.output, 850u128.to_le_bytes());
        // More than it holds: 1, and nothing moved.
        let r = run(pay(receiver, 4), 7);
        assert_eq!(status(&r), 1);
        // A read-only call may not move value: failed (2), nothing moved.
        let r = run(pay(receiver, 5), 8);
        assert_eq!((r.status.as_str(), status(&r)), ("ok", 2));
        assert_eq!(balances(&exec), [999_000, 850, 150]);
        // A callee that reverts gives its value back to its caller, whose
        // call goes on: the transaction's own value (13) comes back too.
        let r = run(call(receiver, Vec::new(), 13), 9);
        assert_eq!(r.status.as_str(), "reverted");
        assert_eq!(balances(&exec), [999_000, 850, 150]);
        let r = run(call(receiver, Vec::new(), 7), 10);
        assert_eq!(r.output, 7u128.to_le_bytes());
        assert_eq!(balances(&exec), [998_993, 850, 157]);
        // The receiver stored the last value it kept.
        let stored = exec.store().storage(&receiver, b"v").unwrap();
        assert_eq!(stored, Some(7u128.to_le_bytes().to_vec()));
        transcripts.push((receipts, balances(&exec)));
    }
    assert_eq!(transcripts[0], transcripts[1], "the backends disagree");
}

/// The EVM runtime with the native asset: `CALLVALUE` and `SELFBALANCE`
/// are Ward's; a `CALL` with value to an account without code (here, the
/// transaction's sender), to another EVM contract or (through `WARD_CALL`)
/// to a Wasm contract moves it; a Wasm contract's `call_with_value`
/// reaches an EVM contract's `CALLVALUE`.
#[test]
fn evm_contracts_take_and_move_the_native_asset() {
    use ward_executor::runtime_address;
    use ward_primitives::{CodeKind, RuntimeName};

    // Wraps runtime code in creation code that returns it.
    fn creation(runtime: &[u8]) -> Vec<u8> {
        let mut code = vec![
            0x60,
            runtime.len() as u8,
            0x80,
            0x60,
            0x0b,
            0x60,
            0x00,
            0x39,
        ];
        code.extend([0x60, 0x00, 0xf3]);
        code.extend_from_slice(runtime);
        code
    }
    // CALLVALUE and SELFBALANCE, as two words.
    let echo = creation(&[
        0x34, 0x60, 0x00, 0x52, 0x47, 0x60, 0x20, 0x52, 0x60, 0x40, 0x60, 0x00, 0xf3,
    ]);
    // CALL(gas, CALLER, CALLVALUE, 0, 0, 0, 0): the value back to the caller.
    let refund = creation(&[
        0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x34, 0x33, 0x5a, 0xf1, 0x60, 0x00, 0x52,
        0x60, 0x20, 0x60, 0x00, 0xf3,
    ]);
    // CALL(gas, calldata word 0, CALLVALUE, 0, 0, 0, 0).
    let forward = creation(&[
        0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x34, 0x60, 0x00, 0x35, 0x5a, 0xf1, 0x60,
        0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3,
    ]);
    // CALLDATACOPY(0, 0, 32); CALL(gas, WARD_CALL, CALLVALUE, 0, 32, 0, 0):
    // the value to the Wasm contract whose 32-byte address is the calldata.
    let mut bridge_runtime = vec![
        0x60, 0x20, 0x60, 0x00, 0x60, 0x00, 0x37, 0x60, 0x00, 0x60, 0x00, 0x60, 0x20, 0x60, 0x00,
        0x34, 0x73,
    ];
    bridge_runtime.extend([0u8; 18]);
    bridge_runtime.extend([0xca, 0x11]);
    bridge_runtime.extend([0x5a, 0xf1, 0x60, 0x00, 0x52, 0x60, 0x20, 0x60, 0x00, 0xf3]);
    let bridge = creation(&bridge_runtime);
    // CREATE(CALLVALUE, code returning nothing); returns the new contract's
    // BALANCE and its address.
    let factory = creation(&[
        0x64, 0x60, 0x00, 0x60, 0x00, 0xf3, 0x60, 0x00, 0x52, 0x60, 0x05, 0x60, 0x1b, 0x34, 0xf0,
        0x80, 0x31, 0x60, 0x00, 0x52, 0x60, 0x20, 0x52, 0x60, 0x40, 0x60, 0x00, 0xf3,
    ]);
    let evm = || CodeKind::Runtime(RuntimeName::new("evm").unwrap());
    let at = |code: &[u8], salt: u8| {
        runtime_address(contract_address(
            &ALICE,
            &Hash32(CodeHash::of(code).0),
            &[salt],
        ))
    };
    let (echo_at, refund_at, forward_at) = (at(&echo, 1), at(&refund, 2), at(&forward, 3));
    // DELEGATECALL(gas, calldata word 0, 0, 0, 0, 64); returns what the
    // callee returned.
    let proxy = creation(&[
        0x60, 0x40, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x60, 0x00, 0x35, 0x5a, 0xf4, 0x50, 0x60,
        0x40, 0x60, 0x00, 0xf3,
    ]);
    let (bridge_at, factory_at, proxy_at) = (at(&bridge, 4), at(&factory, 5), at(&proxy, 6));
    let (payer, receiver) = (address_of(PAYER), address_of(RECEIVER));
    let word = |n: u128| {
        let mut w = [0u8; 32];
        w[16..].copy_from_slice(&n.to_be_bytes());
        w.to_vec()
    };
    let mut transcripts = Vec::new();
    for kind in BackendKind::ALL {
        let exec = funded(kind, 1_000_000);
        let mut log = Vec::new();
        let mut run = |tx: Tx, time: u64| {
            let receipt = exec.execute_block(&[tx], time).unwrap().remove(0);
            assert_eq!(receipt.status.as_str(), "ok", "{:?}", receipt.error_message);
            log.push(receipt.clone());
            receipt
        };
        let evm_contracts = [
            (&echo, 1u8),
            (&refund, 2),
            (&forward, 3),
            (&bridge, 4),
            (&factory, 5),
            (&proxy, 6),
        ];
        for (time, (code, salt)) in evm_contracts.into_iter().enumerate() {
            let deploy = Tx {
                sender: ALICE,
                gas_limit: 50_000_000,
                value: 0,
                payload: Payload::Deploy(
                    Deploy::new(code.clone(), Vec::new())
                        .with_salt(vec![salt])
                        .with_kind(evm()),
                ),
            };
            run(deploy, time as u64 + 1);
        }
        let balance = |a: &Address| exec.store().balance(a).unwrap();
        // CALLVALUE and SELFBALANCE.
        let r = run(call(echo_at, Vec::new(), 77), 4);
        assert_eq!(r.output, [word(77), word(77)].concat());
        // Back to the sender, a Ward account: its 32-byte address, not
        // the zero-prefixed one its 20 bytes would name.
        let r = run(call(refund_at, Vec::new(), 40), 5);
        assert_eq!(r.output, word(1));
        assert_eq!((balance(&refund_at), balance(&ALICE)), (0, 1_000_000 - 77));
        // From one EVM contract to another.
        let r = run(call(forward_at, echo_at.0.to_vec(), 30), 6);
        assert_eq!(r.output, word(1));
        assert_eq!((balance(&echo_at), balance(&forward_at)), (107, 0));
        // To the 20-byte form of a Ward account that is not the caller:
        // the EVM cannot know its first 12 bytes, so the value waits in
        // the account's inbox, and the account's next transaction
        // collects it.
        let bob = Address([0xb0; 32]);
        let inbox = bob.inbox().unwrap();
        let r = run(call(forward_at, bob.0.to_vec(), 11), 7);
        assert_eq!(r.output, word(1));
        assert_eq!((balance(&inbox), balance(&bob)), (11, 0));
        let from_bob = Tx::call(bob, echo_at, Vec::new(), GAS);
        run(from_bob, 7);
        assert_eq!((balance(&inbox), balance(&bob)), (0, 11));
        // EVM to Wasm, through `WARD_CALL`: the receiver's `call_value`.
        run(deploy(RECEIVER, 0), 7);
        let r = run(call(bridge_at, receiver.0.to_vec(), 25), 8);
        assert_eq!(r.output, word(1));
        assert_eq!((balance(&receiver), balance(&bridge_at)), (25, 0));
        let stored = exec.store().storage(&receiver, b"v").unwrap();
        assert_eq!(stored, Some(25u128.to_le_bytes().to_vec()));
        // Wasm to EVM: the payer's `call_with_value` is the echo's
        // `CALLVALUE`.
        run(deploy(PAYER, 1_000), 9);
        let mut input = echo_at.0.to_vec();
        input.push(0);
        let r = run(call(payer, input, 0), 10);
        assert_eq!(i32::from_le_bytes(r.output[..4].try_into().unwrap()), 0);
        assert_eq!((balance(&echo_at), balance(&payer)), (207, 900));
        // A CREATE with value: the new contract starts with it.
        let r = run(call(factory_at, Vec::new(), 60), 11);
        assert_eq!(r.output[..32], word(60));
        let created = Address(r.output[32..64].try_into().unwrap());
        assert_eq!((balance(&created), balance(&factory_at)), (60, 0));
        // DELEGATECALL keeps the caller's value: the echo's code, run as
        // the proxy, sees the 5 the proxy received, and its balance.
        let r = run(call(proxy_at, echo_at.0.to_vec(), 5), 12);
        assert_eq!(r.output, [word(5), word(5)].concat());
        assert_eq!((balance(&proxy_at), balance(&echo_at)), (5, 207));
        transcripts.push(log);
    }
    assert_eq!(transcripts[0], transcripts[1], "the backends disagree");
}
