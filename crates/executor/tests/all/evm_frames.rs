//! What the EVM frames of one transaction share, though each is a Ward
//! frame of its own (`docs/evm.md`, "Frames"): the addresses the
//! transaction has accessed (EIP-2929: warm for every later frame, cold
//! again when the frame that accessed them reverts), the static context
//! of a `STATICCALL` (a write in it halts as the EVM's does, using all
//! the callee's gas), and `CALLCODE` (the callee's code on the caller's
//! storage, as a call from the caller to itself), and what a signed
//! transaction's access list (EIP-2930) names, warm from the start. Raw
//! bytecode, so that each figure is the EVM's own; the same on both
//! backends.

#![allow(clippy::unwrap_used, reason = "test")]

use std::collections::BTreeMap;

use crate::ALICE;
use ward_executor::{Deploy, Executor, Payload, Tx};
use ward_primitives::{Address, CodeKind, RuntimeName};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_vm::BackendKind;

/// An account without code whose balance the probes read.
const X: [u8; 20] = [0x0b; 20];

fn evm() -> CodeKind {
    CodeKind::Runtime(RuntimeName::new("evm").unwrap())
}

/// Creation code that deploys `code` as it is.
fn deploying(code: &[u8]) -> Vec<u8> {
    let len = u16::try_from(code.len()).unwrap().to_be_bytes();
    // PUSH2 len, DUP1, PUSH1 10, PUSH0, CODECOPY, PUSH0, RETURN
    let mut init = vec![
        0x61, len[0], len[1], 0x80, 0x60, 0x0a, 0x5f, 0x39, 0x5f, 0xf3,
    ];
    init.extend_from_slice(code);
    init
}

/// `PUSH20 address`.
fn push20(address: &[u8]) -> Vec<u8> {
    let mut out = vec![0x73];
    out.extend_from_slice(&address[address.len() - 20..]);
    out
}

/// Code that measures the gas of `PUSH20 X, BALANCE, POP, GAS` (107 with
/// X warm, 2 607 cold) and ends with `end` (`RETURN` or `REVERT`) of that
/// figure as one word.
fn probe(end: u8) -> Vec<u8> {
    let mut code = vec![0x5a];
    code.extend(push20(&X));
    // BALANCE, POP, GAS, SWAP1, SUB, PUSH0, MSTORE, PUSH1 32, PUSH0, end
    code.extend([
        0x31, 0x50, 0x5a, 0x90, 0x03, 0x5f, 0x52, 0x60, 0x20, 0x5f, end,
    ]);
    code
}

/// Code that calls `target` twice with `opcode` (`CALL`, `CALLCODE` or
/// `STATICCALL`), all its gas and no input, and returns the two calls'
/// outputs (a word each).
fn twice(opcode: u8, target: &Address) -> Vec<u8> {
    let mut code = Vec::new();
    for offset in [0u8, 32] {
        // retSize 32, retOffset, argsSize 0, argsOffset 0
        code.extend([0x60, 0x20, 0x60, offset, 0x5f, 0x5f]);
        if opcode != 0xfa {
            code.push(0x5f); // value 0
        }
        code.extend(push20(&target.0));
        code.extend([0x5a, opcode, 0x50]); // GAS, the call, POP
    }
    code.extend([0x60, 0x40, 0x5f, 0xf3]); // RETURN 64 bytes
    code
}

/// One chain on `kind` with the EVM runtime, ALICE funded.
fn chain(kind: BackendKind) -> Executor<MemoryStore> {
    let exec = crate::evm::evm_executor(kind);
    exec.genesis(&BTreeMap::from([(ALICE, 1_000_000)])).unwrap();
    exec
}

fn submit(exec: &Executor<MemoryStore>, value: u128, payload: Payload) -> Receipt {
    let tx = Tx {
        sender: ALICE,
        gas_limit: 10_000_000,
        value,
        payload,
    };
    crate::estimated(exec, tx, 1_700_000_000)
}

fn deploy(exec: &Executor<MemoryStore>, code: &[u8], salt: u8) -> Address {
    let deploy = Deploy::new(deploying(code), Vec::new())
        .with_salt(vec![salt])
        .with_kind(evm());
    let receipt = submit(exec, 0, Payload::Deploy(deploy));
    assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
    receipt.address.unwrap()
}

fn call(exec: &Executor<MemoryStore>, to: Address, value: u128) -> Receipt {
    let input = Vec::new();
    submit(exec, value, Payload::Call { to, input })
}

/// The two words of `output`.
fn words(output: &[u8]) -> [u128; 2] {
    let word =
        |i: usize| u128::from_be_bytes(output[i * 32 + 16..(i + 1) * 32].try_into().unwrap());
    [word(0), word(1)]
}

/// What each scenario gave, to compare between the backends.
type Figures = Vec<(String, Vec<u8>, u64)>;

fn accesses(kind: BackendKind) -> Figures {
    let exec = chain(kind);
    let returning = deploy(&exec, &probe(0xf3), 1);
    let reverting = deploy(&exec, &probe(0xfd), 2);
    let mut figures = Figures::new();
    for (name, opcode, probe, expected) in [
        // The first call warms X for the second, whatever the call.
        ("CALL", 0xf1, returning, [2_607, 107]),
        ("CALLCODE", 0xf2, returning, [2_607, 107]),
        ("STATICCALL", 0xfa, returning, [2_607, 107]),
        // A frame that reverts takes its accesses back.
        ("CALL, reverting", 0xf1, reverting, [2_607, 2_607]),
    ] {
        let caller = deploy(&exec, &twice(opcode, &probe), 3 + figures.len() as u8);
        let receipt = call(&exec, caller, 0);
        assert_eq!(receipt.status.as_str(), "ok", "{name}: {receipt:?}");
        assert_eq!(words(&receipt.output), expected, "{name} on {kind:?}");
        figures.push((name.into(), receipt.output, receipt.gas_used));
    }
    figures
}

#[test]
fn a_transactions_frames_share_the_addresses_it_accessed_on_both_backends() {
    crate::on_both_backends_alike(accesses);
}

fn static_write(kind: BackendKind) -> Figures {
    let exec = chain(kind);
    // PUSH1 1, PUSH0, SSTORE, STOP: a write.
    let writer = deploy(&exec, &[0x60, 0x01, 0x5f, 0x55, 0x00], 1);
    // GAS, STATICCALL(10 000 gas, writer), GAS; returns [gas spent
    // between the two GASes, the call's success flag].
    let mut code = vec![0x5a, 0x5f, 0x5f, 0x5f, 0x5f];
    code.extend(push20(&writer.0));
    code.extend([0x61, 0x27, 0x10, 0xfa, 0x5a]);
    // DUP3, SUB, PUSH0, MSTORE, PUSH1 32, MSTORE, RETURN 64 bytes
    code.extend([
        0x82, 0x03, 0x5f, 0x52, 0x60, 0x20, 0x52, 0x60, 0x40, 0x5f, 0xf3,
    ]);
    let caller = deploy(&exec, &code, 2);
    let receipt = call(&exec, caller, 0);
    assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
    let [spent, success] = words(&receipt.output);
    assert_eq!(success, 0, "a write in a static call fails");
    // The callee's 10 000 gas are all used (a Ward trap would have used
    // only what it spent before the write), with the call's own: the
    // cold access (2 600), four PUSH0s (8), PUSH20 and PUSH2 (6), and
    // the second GAS (2).
    assert_eq!(spent, 10_000 + 2_600 + 8 + 6 + 2, "on {kind:?}");
    assert_eq!(exec.store().storage_entries(&writer).unwrap(), Vec::new());
    vec![("static write".into(), receipt.output, receipt.gas_used)]
}

#[test]
fn a_write_under_staticcall_halts_using_all_its_gas_on_both_backends() {
    crate::on_both_backends_alike(static_write);
}

fn call_code(kind: BackendKind) -> Figures {
    let exec = chain(kind);
    // CALLER, PUSH0, SSTORE, CALLVALUE, PUSH1 1, SSTORE, STOP.
    let library = deploy(&exec, &[0x33, 0x5f, 0x55, 0x34, 0x60, 0x01, 0x55, 0x00], 1);
    // CALLCODE(all gas, library, value 5, no input, no output), STOP.
    let mut code = vec![0x5f, 0x5f, 0x5f, 0x5f, 0x60, 0x05];
    code.extend(push20(&library.0));
    code.extend([0x5a, 0xf2, 0x00]);
    let caller = deploy(&exec, &code, 2);
    let receipt = call(&exec, caller, 7);
    assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
    // The library's code ran on the caller's storage, called by the
    // caller itself with the value, which stayed with the caller.
    let mut slot = [0u8; 32];
    let entries = exec.store().storage_entries(&caller).unwrap();
    slot[31] = 1;
    let mut five = [0u8; 32];
    five[31] = 5;
    let mut caller_word = [0u8; 32];
    caller_word[12..].copy_from_slice(&caller.0[12..]);
    assert_eq!(
        entries,
        vec![
            ([0u8; 32].to_vec(), caller_word.to_vec()),
            (slot.to_vec(), five.to_vec())
        ],
        "on {kind:?}"
    );
    assert_eq!(exec.store().storage_entries(&library).unwrap(), Vec::new());
    assert_eq!(exec.store().balance(&caller).unwrap(), 7);
    assert_eq!(exec.store().balance(&library).unwrap(), 0);
    vec![("CALLCODE".into(), receipt.output, receipt.gas_used)]
}

#[test]
fn callcode_runs_the_callees_code_as_a_call_to_itself_on_both_backends() {
    crate::on_both_backends_alike(call_code);
}

/// Code that measures the gas of `PUSH1 5, SLOAD, POP, GAS` (107 with
/// slot 5 warm, 2 107 cold) and returns it as one word.
fn slot_probe() -> Vec<u8> {
    vec![
        0x5a, 0x60, 0x05, 0x54, 0x50, 0x5a, 0x90, 0x03, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3,
    ]
}

fn access_lists(kind: BackendKind) -> Figures {
    use crate::ethereum::{Key, executor, signed_with_access};
    use alloy_eips::eip2930::{AccessList, AccessListItem};
    use alloy_primitives::{B256, TxKind};

    let alice = Key::from_secret([0xa1; 32]);
    let exec = executor(kind, 1, &[&alice]);
    let mut nonce = 0;
    let mut send = |to: TxKind, input: Vec<u8>, list: AccessList| {
        let tx = signed_with_access(&alice, (nonce, 1_000_000), to, 0, input, list);
        nonce += 1;
        let block = exec.execute_signed_block(&[tx], 1_000 + nonce).unwrap();
        let receipt = block.receipts[0].clone();
        assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
        receipt
    };
    let balance_probe = send(
        TxKind::Create,
        deploying(&probe(0xf3)),
        AccessList::default(),
    );
    let slot_probe = send(
        TxKind::Create,
        deploying(&slot_probe()),
        AccessList::default(),
    );
    let [balance_probe, slot_probe] =
        [balance_probe, slot_probe].map(|r| r.address.unwrap().eth().unwrap());
    let x = AccessListItem {
        address: X.into(),
        storage_keys: Vec::new(),
    };
    let five = AccessListItem {
        address: slot_probe.into(),
        storage_keys: vec![B256::with_last_byte(5)],
    };
    let mut figures = Figures::new();
    for (name, to, list, expected) in [
        ("BALANCE", balance_probe, AccessList::default(), 2_607),
        ("BALANCE, X listed", balance_probe, AccessList(vec![x]), 107),
        ("SLOAD", slot_probe, AccessList::default(), 2_107),
        (
            "SLOAD, slot listed",
            slot_probe,
            AccessList(vec![five]),
            107,
        ),
    ] {
        let receipt = send(TxKind::Call(to.into()), Vec::new(), list);
        let cost = u128::from_be_bytes(receipt.output[16..32].try_into().unwrap());
        assert_eq!(cost, expected, "{name} on {kind:?}");
        figures.push((name.into(), receipt.output, receipt.gas_used));
    }
    figures
}

#[test]
fn a_signed_transactions_access_list_is_warm_from_its_start_on_both_backends() {
    crate::on_both_backends_alike(access_lists);
}
