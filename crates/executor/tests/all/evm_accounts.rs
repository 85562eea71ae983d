//! Accounts as the EVM sees them (`docs/evm.md`): a created contract
//! without code is not empty (EIP-161: its nonce is 1, so a call with
//! value to it pays no new-account gas), a creation collides with an
//! account that has a nonce (EIP-684), and a creator whose nonce is at
//! its greatest creates nothing and goes on (EIP-2681), an account with
//! a nonce but no balance or code exists (EIP-161, its nonce read through
//! `ward.account_nonce`), and value sent to a precompile stays there
//! when it succeeds and not when it fails, and a transaction to a
//! precompile's address runs the precompile. Raw bytecode in a genesis
//! state, the same on both backends.

#![allow(clippy::unwrap_used, reason = "test")]

use crate::ALICE;
use ward_executor::{Executor, Payload, Tx};
use ward_primitives::{Address, CodeKind, Hash32, RuntimeName};
use ward_state::{ChangeSet, ContractInfo, MemoryStore, Receipt, StateRead};
use ward_vm::{BackendKind, CodeHash};

/// A chain on `kind` whose genesis holds `contracts` (EVM code at 20-byte
/// addresses, with the runtime's `nonce` entry when given) and `nonces`
/// of accounts without code; ALICE funded.
fn chain(
    kind: BackendKind,
    contracts: &[([u8; 20], Vec<u8>, Option<u64>)],
    nonces: &[[u8; 20]],
) -> Executor<MemoryStore> {
    let exec = crate::evm::evm_executor(kind);
    let mut changes = ChangeSet::default();
    changes.balances.insert(ALICE, 1_000_000);
    for (address, code, nonce) in contracts {
        let at = Address::from_eth(*address);
        let code_hash = Hash32(CodeHash::of(code).0);
        changes.code.insert(code_hash, code.clone());
        let evm = CodeKind::Runtime(RuntimeName::new("evm").unwrap());
        changes
            .contracts
            .insert(at, ContractInfo::placed(code_hash, evm, 0));
        if let Some(nonce) = nonce {
            let value = nonce.to_le_bytes().to_vec();
            changes.storage.insert((at, b"nonce".to_vec()), Some(value));
        }
    }
    for address in nonces {
        changes.nonces.insert(Address::from_eth(*address), 1);
    }
    exec.genesis_state(changes).unwrap();
    exec
}

fn call(exec: &Executor<MemoryStore>, to: [u8; 20], value: u128) -> Receipt {
    let tx = Tx {
        sender: ALICE,
        gas_limit: 10_000_000,
        value,
        payload: Payload::Call {
            to: Address::from_eth(to),
            input: Vec::new(),
        },
    };
    let receipt = crate::estimated(exec, tx, 1_700_000_000);
    assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
    receipt
}

/// The address `CREATE` gives `creator` at `nonce` (below 128).
fn create_address(creator: [u8; 20], nonce: u8) -> [u8; 20] {
    ward_chain::tx::eth::create_address(creator, u64::from(nonce))
}

/// `CREATE` with no code, the new address's word returned.
const CREATE_EMPTY: [u8; 10] = [0x5f, 0x5f, 0x5f, 0xf0, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3];

type Figures = Vec<(Vec<u8>, u64)>;

fn empty_contract(kind: BackendKind) -> Figures {
    let maker = [0x4d; 20];
    // CREATE an empty contract, then measure a CALL of it with 1 wei
    // and no gas: PUSH0 x4, PUSH1 1, DUP7 (the address), PUSH0, CALL,
    // POP, GAS; returns the gas between the two GASes.
    let code = vec![
        0x5f, 0x5f, 0x5f, 0xf0, 0x5a, 0x5f, 0x5f, 0x5f, 0x5f, 0x60, 0x01, 0x86, 0x5f, 0xf1, 0x50,
        0x5a, 0x90, 0x03, 0x5f, 0x52, 0x60, 0x20, 0x5f, 0xf3,
    ];
    let exec = chain(kind, &[(maker, code, None)], &[]);
    let receipt = call(&exec, maker, 10);
    let cost = u64::from_be_bytes(receipt.output[24..32].try_into().unwrap());
    // The pushes and DUP (16), the warm call with value (100 + 9 000,
    // less the 2 300 stipend the codeless callee gives back), POP and
    // GAS (4): no 25 000 for a new account, since the contract exists.
    assert_eq!(cost, 16 + 100 + 9_000 - 2_300 + 4, "on {kind:?}");
    let created = Address::from_eth(create_address(maker, 1));
    assert_eq!(exec.store().balance(&created).unwrap(), 1);
    vec![(receipt.output, receipt.gas_used)]
}

#[test]
fn a_created_contract_without_code_is_not_empty_on_both_backends() {
    crate::on_both_backends_alike(empty_contract);
}

fn collisions(kind: BackendKind) -> Figures {
    let (taken, free) = ([0xc1; 20], [0xc2; 20]);
    let exec = chain(
        kind,
        &[
            (taken, CREATE_EMPTY.to_vec(), None),
            (free, CREATE_EMPTY.to_vec(), None),
        ],
        // An account that has sent a transaction where `taken` creates.
        &[create_address(taken, 1)],
    );
    let collided = call(&exec, taken, 0);
    assert_eq!(collided.output, [0u8; 32], "a collision creates nothing");
    let mut word = [0u8; 32];
    word[12..].copy_from_slice(&create_address(free, 1));
    let created = call(&exec, free, 0);
    assert_eq!(created.output, word, "on {kind:?}");
    vec![
        (collided.output, collided.gas_used),
        (created.output, created.gas_used),
    ]
}

#[test]
fn a_creation_collides_with_an_account_that_has_a_nonce_on_both_backends() {
    crate::on_both_backends_alike(collisions);
}

fn greatest_nonce(kind: BackendKind) -> Figures {
    let creator = [0xee; 20];
    let exec = chain(
        kind,
        &[(creator, CREATE_EMPTY.to_vec(), Some(u64::MAX))],
        &[],
    );
    let receipt = call(&exec, creator, 0);
    assert_eq!(receipt.output, [0u8; 32], "nothing is created");
    let nonce = exec
        .store()
        .storage(&Address::from_eth(creator), b"nonce")
        .unwrap();
    assert_eq!(nonce, Some(u64::MAX.to_le_bytes().to_vec()), "on {kind:?}");
    vec![(receipt.output, receipt.gas_used)]
}

#[test]
fn a_creator_at_the_greatest_nonce_creates_nothing_on_both_backends() {
    crate::on_both_backends_alike(greatest_nonce);
}

/// `EXTCODEHASH` of `at`, then the gas a `CALL` of `at` with 1 wei and
/// no gas takes; returns both words.
fn hash_and_call_cost(at: [u8; 20]) -> Vec<u8> {
    let mut code = vec![0x73];
    code.extend(at);
    // EXTCODEHASH, PUSH0 MSTORE; GAS, PUSH0 x4, PUSH1 1, PUSH20 at,
    // PUSH0, CALL, POP, GAS, SWAP1, SUB, PUSH1 32 MSTORE; RETURN 64.
    code.extend([
        0x3f, 0x5f, 0x52, 0x5a, 0x5f, 0x5f, 0x5f, 0x5f, 0x60, 0x01, 0x73,
    ]);
    code.extend(at);
    code.extend([
        0x5f, 0xf1, 0x50, 0x5a, 0x90, 0x03, 0x60, 0x20, 0x52, 0x60, 0x40, 0x5f, 0xf3,
    ]);
    code
}

fn existing_accounts(kind: BackendKind) -> Figures {
    let (probe, used, fresh) = ([0x9b; 20], [0x0e; 20], [0x0f; 20]);
    let probe_fresh = [0x9c; 20];
    let exec = chain(
        kind,
        &[
            (probe, hash_and_call_cost(used), None),
            (probe_fresh, hash_and_call_cost(fresh), None),
        ],
        &[used],
    );
    let with_nonce = call(&exec, probe, 10);
    let empty = call(&exec, probe_fresh, 10);
    let word = |receipt: &Receipt, at: usize| receipt.output[at * 32..at * 32 + 32].to_vec();
    let cost = |receipt: &Receipt| u64::from_be_bytes(receipt.output[56..64].try_into().unwrap());
    // An account with a nonce exists: its hash is that of no code...
    assert_eq!(
        word(&with_nonce, 0),
        alloy_primitives::keccak256([]).to_vec(),
        "on {kind:?}"
    );
    assert_eq!(word(&empty, 0), [0u8; 32], "an empty account has none");
    // ... and a call with value to it pays no new-account gas: pushes
    // (16), the call with value, warm since EXTCODEHASH (100 + 9 000 -
    // 2 300), POP and GAS.
    assert_eq!(cost(&with_nonce), 16 + 100 + 9_000 - 2_300 + 4);
    assert_eq!(cost(&empty), cost(&with_nonce) + 25_000, "on {kind:?}");
    vec![
        (with_nonce.output, with_nonce.gas_used),
        (empty.output, empty.gas_used),
    ]
}

#[test]
fn an_account_with_a_nonce_exists_on_both_backends() {
    crate::on_both_backends_alike(existing_accounts);
}

fn precompile_value(kind: BackendKind) -> Figures {
    let sender = [0x5e; 20];
    // CALL identity (0x04) with 1 wei and all gas, then ecrecover (0x01)
    // with 1 wei and no gas (which fails): PUSH0 x4, PUSH1 1, PUSH1 at,
    // GAS / PUSH0, CALL, POP; returns nothing.
    let mut code = Vec::new();
    for (at, gas) in [(0x04, 0x5a), (0x01, 0x5f)] {
        code.extend([
            0x5f, 0x5f, 0x5f, 0x5f, 0x60, 0x01, 0x60, at, gas, 0xf1, 0x50,
        ]);
    }
    code.push(0x00);
    let exec = chain(kind, &[(sender, code, None)], &[]);
    let receipt = call(&exec, sender, 10);
    let balance = |at: u8| {
        let mut address = [0u8; 20];
        address[19] = at;
        exec.store().balance(&Address::from_eth(address)).unwrap()
    };
    assert_eq!(
        balance(0x04),
        1,
        "a precompile that succeeds keeps the value, on {kind:?}"
    );
    assert_eq!(balance(0x01), 0, "one that fails does not");
    let left = exec.store().balance(&Address::from_eth(sender)).unwrap();
    assert_eq!(left, 9);
    vec![(receipt.output, receipt.gas_used)]
}

#[test]
fn value_sent_to_a_precompile_stays_only_when_it_succeeds_on_both_backends() {
    crate::on_both_backends_alike(precompile_value);
}

/// A transaction to `to` with `input` and `value` from ALICE.
fn send(exec: &Executor<MemoryStore>, to: u8, input: Vec<u8>, value: u128) -> Receipt {
    let mut address = [0u8; 20];
    address[19] = to;
    let tx = Tx {
        sender: ALICE,
        gas_limit: 10_000_000,
        value,
        payload: Payload::Call {
            to: Address::from_eth(address),
            input,
        },
    };
    crate::estimated(exec, tx, 1_700_000_000)
}

fn precompiles_called_directly(kind: BackendKind) -> Figures {
    let exec = chain(kind, &[], &[]);
    // SHA-256 of "abc", from a transaction to 0x02, as Ethereum runs it.
    let hashed = send(&exec, 0x02, b"abc".to_vec(), 0);
    assert_eq!(hashed.status.as_str(), "ok", "{hashed:?}");
    assert_eq!(
        hashed.output,
        hex::decode("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad").unwrap()
    );
    // The identity with value: the value stays at 0x04.
    let copied = send(&exec, 0x04, vec![7; 40], 5);
    assert_eq!(
        (copied.status.as_str(), copied.output.clone()),
        ("ok", vec![7; 40])
    );
    let mut identity = [0u8; 20];
    identity[19] = 4;
    assert_eq!(
        exec.store().balance(&Address::from_eth(identity)).unwrap(),
        5
    );
    // bn254 addition of a point off the curve fails: the transaction
    // halts, and its value goes back.
    let failed = send(&exec, 0x06, vec![1; 128], 3);
    assert_eq!(
        (failed.status.as_str(), failed.exit_code),
        ("reverted", 2),
        "{failed:?}"
    );
    let mut adder = [0u8; 20];
    adder[19] = 6;
    assert_eq!(exec.store().balance(&Address::from_eth(adder)).unwrap(), 0);
    vec![
        (hashed.output, hashed.gas_used),
        (copied.output, copied.gas_used),
        (failed.output, failed.gas_used),
    ]
}

#[test]
fn a_transaction_to_a_precompile_runs_it_on_both_backends() {
    crate::on_both_backends_alike(precompiles_called_directly);
}
