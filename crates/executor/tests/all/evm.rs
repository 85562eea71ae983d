//! The EVM runtime on the chain path (`docs/evm.md`), on both backends:
//! solc-compiled contracts deployed for `evm`, an ERC-20's whole life with
//! its events and revert data, an escrow calling the token (EVM to EVM,
//! `STATICCALL` included), EVM to Wasm and Wasm to EVM calls, precompiles,
//! out of gas, exceptional halts, and the runtime reset after a failure.
//! Every receipt and every contract's storage must agree between the
//! backends.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::{Arc, OnceLock};

use ward_executor::{Deploy, Executor, Payload, Runtimes, Tx};
use ward_primitives::{Address, CodeKind, RuntimeName};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_testkit::evm::{
    GAS_RATE, address_word, calldata, capped_caller, creation, keccak, precompile_call,
    precompile_inputs, revert_message, runtime, selector, word, word_at,
};
use ward_vm::{BackendKind, Config};

use crate::runtimes::forwarder;
use crate::{ALICE, BOB, CAROL};

/// A Ward contract that outputs "wasm:" and its input.
const ECHO: &str = r#"(module
  (import "ward" "input_size" (func $size (result i32)))
  (import "ward" "input_read" (func $read (param i32 i32 i32)))
  (import "ward" "output_write" (func $out (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "wasm:")
  (func (export "main")
    (call $read (i32.const 5) (i32.const 0) (call $size))
    (call $out (i32.const 0) (i32.add (call $size) (i32.const 5)))))"#;

pub(crate) fn evm() -> CodeKind {
    CodeKind::Runtime(RuntimeName::new("evm").unwrap())
}

/// One registry per backend, shared by the tests of this process (the
/// runtime compiles once).
pub(crate) fn runtimes(kind: BackendKind) -> Arc<Runtimes> {
    static REGISTRIES: [OnceLock<Arc<Runtimes>>; 2] = [OnceLock::new(), OnceLock::new()];
    let index = BackendKind::ALL.iter().position(|k| *k == kind).unwrap();
    REGISTRIES[index]
        .get_or_init(|| {
            let config = Config::default();
            let mut runtimes = Runtimes::new(ward_testkit::backend(kind, &config), &config);
            runtimes
                .register(RuntimeName::new("evm").unwrap(), &runtime())
                .unwrap();
            Arc::new(runtimes)
        })
        .clone()
}

/// An executor on `kind` over an empty store, with the EVM runtime.
pub(crate) fn evm_executor(kind: BackendKind) -> Executor<MemoryStore> {
    let config = Config::default();
    Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(kind, &config),
        &config,
    )
    .with_runtimes(runtimes(kind))
}

/// One chain on one backend and every receipt it gave.
pub(crate) struct Chain {
    pub(crate) exec: Executor<MemoryStore>,
    pub(crate) log: Vec<Receipt>,
}

impl Chain {
    pub(crate) fn new(kind: BackendKind) -> Chain {
        Chain {
            exec: evm_executor(kind),
            log: Vec::new(),
        }
    }

    pub(crate) fn submit(&mut self, tx: Tx) -> Receipt {
        let receipt = crate::estimated(&self.exec, tx, 1_700_000_000);
        self.log.push(receipt.clone());
        receipt
    }

    /// Deploys `code` for `kind` with `input`; the new address.
    pub(crate) fn deploy(&mut self, code: Vec<u8>, input: Vec<u8>, kind: CodeKind) -> Address {
        let salt = self.log.len().to_le_bytes().to_vec();
        let receipt = self.submit(Tx {
            sender: ALICE,
            gas_limit: 50_000_000,
            value: 0,
            payload: Payload::Deploy(Deploy::new(code, input).with_salt(salt).with_kind(kind)),
        });
        assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
        receipt.address.unwrap()
    }

    pub(crate) fn call(&mut self, sender: Address, to: Address, input: Vec<u8>) -> Receipt {
        self.call_with_gas(sender, to, input, 30_000_000)
    }

    pub(crate) fn call_with_gas(
        &mut self,
        sender: Address,
        to: Address,
        input: Vec<u8>,
        gas: u64,
    ) -> Receipt {
        self.submit(Tx {
            sender,
            gas_limit: gas,
            value: 0,
            payload: Payload::Call { to, input },
        })
    }

    /// A call that must succeed; its output.
    fn ok(&mut self, sender: Address, to: Address, input: Vec<u8>) -> Vec<u8> {
        let receipt = self.call(sender, to, input);
        assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
        receipt.output
    }

    /// A read-only query; its output.
    fn view(&mut self, to: Address, input: Vec<u8>) -> Vec<u8> {
        let receipt = self.exec.query(ALICE, to, input, 50_000_000).unwrap();
        assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
        self.log.push(receipt.clone());
        receipt.output
    }

    fn balance(&mut self, token: Address, owner: &Address) -> u128 {
        let out = self.view(
            token,
            calldata("balanceOf(address)", &[address_word(&owner.0)]),
        );
        word_at(&out, 0)
    }
}

/// A `Transfer(from, to, value)` event as the runtime emits it: the three
/// topics in one Ward topic, the value as data.
fn transfer_event(from: &[u8; 32], to: &[u8; 32], value: u128) -> (Vec<u8>, Vec<u8>) {
    let mut topic = keccak(b"Transfer(address,address,uint256)").to_vec();
    topic.extend(address_word(from));
    topic.extend(address_word(to));
    (topic, word(value).to_vec())
}

fn events(receipt: &Receipt) -> Vec<(Vec<u8>, Vec<u8>)> {
    receipt
        .events
        .iter()
        .map(|e| (e.topic.clone(), e.data.clone()))
        .collect()
}

/// The ERC-20 and the escrow: deploys, transfers, allowances, a revert
/// with its data, EVM to EVM calls. Returns the contracts.
pub(crate) fn token_and_escrow(chain: &mut Chain) -> Vec<Address> {
    let supply = 1_000_000u128;
    let mut init = Vec::new();
    init.extend(word(supply));
    let deploy = Tx {
        sender: ALICE,
        gas_limit: 50_000_000,
        value: 0,
        payload: Payload::Deploy(
            Deploy::new(creation("Token"), init)
                .with_salt(b"token".to_vec())
                .with_kind(evm()),
        ),
    };
    let deployed = chain.submit(deploy);
    assert_eq!(deployed.status.as_str(), "ok", "{deployed:?}");
    let token = deployed.address.unwrap();
    assert_eq!(token.0[..12], [0u8; 12], "a 20-byte address");
    assert_eq!(
        events(&deployed),
        vec![transfer_event(&[0; 32], &ALICE.0, supply)]
    );
    // The stored code is the deployed bytecode the constructor returned.
    let info = chain.exec.store().contract(&token).unwrap().unwrap();
    assert_eq!(info.kind, evm());
    let code = chain.exec.store().code(&info.code_hash).unwrap().unwrap();
    assert_eq!(code, deployed.output);
    assert!(!code.is_empty() && code.len() < creation("Token").len());

    assert_eq!(
        word_at(&chain.view(token, calldata("totalSupply()", &[])), 0),
        supply
    );
    assert_eq!(chain.balance(token, &ALICE), supply);

    // transfer: output `true`, one event; EVM gas is the Ward gas over the
    // rate, exactly.
    let input = calldata(
        "transfer(address,uint256)",
        &[address_word(&BOB.0), word(100)],
    );
    let intrinsic = chain
        .exec
        .admit(&Tx::call(ALICE, token, input.clone(), 30_000_000))
        .unwrap();
    let transfer = chain.call(ALICE, token, input);
    // The receipt carries the EVM gas the runtime reported.
    let evm_gas = transfer.runtime_gas.unwrap();
    assert_eq!(transfer.gas_used - intrinsic, evm_gas * GAS_RATE);
    assert_eq!(
        (transfer.status.as_str(), word_at(&transfer.output, 0)),
        ("ok", 1)
    );
    assert_eq!(
        events(&transfer),
        vec![transfer_event(&ALICE.0, &BOB.0, 100)]
    );
    assert_eq!(chain.balance(token, &BOB), 100);

    // A transfer beyond the balance reverts with Solidity's Error(string).
    let too_much = chain.call(
        BOB,
        token,
        calldata(
            "transfer(address,uint256)",
            &[address_word(&CAROL.0), word(101)],
        ),
    );
    assert_eq!(
        (too_much.status.as_str(), too_much.exit_code),
        ("reverted", 1)
    );
    assert_eq!(
        revert_message(&too_much.output).as_deref(),
        Some("insufficient balance")
    );
    assert!(too_much.events.is_empty());
    assert_eq!(chain.balance(token, &BOB), 100);

    // approve and transferFrom.
    let approve = chain.call(
        ALICE,
        token,
        calldata(
            "approve(address,uint256)",
            &[address_word(&BOB.0), word(50)],
        ),
    );
    assert_eq!(approve.status.as_str(), "ok");
    assert_eq!(approve.events.len(), 1);
    let from = chain.call(
        BOB,
        token,
        calldata(
            "transferFrom(address,address,uint256)",
            &[address_word(&ALICE.0), address_word(&CAROL.0), word(30)],
        ),
    );
    assert_eq!(from.status.as_str(), "ok", "{from:?}");
    assert_eq!(events(&from), vec![transfer_event(&ALICE.0, &CAROL.0, 30)]);
    let allowance = chain.view(
        token,
        calldata(
            "allowance(address,address)",
            &[address_word(&ALICE.0), address_word(&BOB.0)],
        ),
    );
    assert_eq!(word_at(&allowance, 0), 20);
    let over = chain.call(
        BOB,
        token,
        calldata(
            "transferFrom(address,address,uint256)",
            &[address_word(&ALICE.0), address_word(&CAROL.0), word(21)],
        ),
    );
    assert_eq!(
        revert_message(&over.output).as_deref(),
        Some("insufficient allowance")
    );

    // The escrow calls the token: transferFrom in `open`, transfer in
    // `release`, balanceOf through STATICCALL in `held`.
    let escrow = chain.deploy(creation("Escrow"), address_word(&token.0).to_vec(), evm());
    chain.ok(
        ALICE,
        token,
        calldata(
            "approve(address,uint256)",
            &[address_word(&escrow.0), word(300)],
        ),
    );
    let open = chain.call(
        ALICE,
        escrow,
        calldata(
            "open(address,uint256)",
            &[address_word(&CAROL.0), word(300)],
        ),
    );
    assert_eq!(open.status.as_str(), "ok", "{open:?}");
    assert_eq!(word_at(&open.output, 0), 0, "deal 0");
    // The token's event, then the escrow's, each under its own contract.
    assert_eq!(open.events.len(), 2);
    assert_eq!(
        (open.events[0].contract, open.events[1].contract),
        (token, escrow)
    );
    assert_eq!(
        word_at(&chain.view(escrow, calldata("held()", &[])), 0),
        300
    );
    let wrong = chain.call(CAROL, escrow, calldata("release(uint256)", &[word(0)]));
    assert_eq!(
        revert_message(&wrong.output).as_deref(),
        Some("only the buyer releases an open deal")
    );
    let release = chain.call(ALICE, escrow, calldata("release(uint256)", &[word(0)]));
    assert_eq!(release.status.as_str(), "ok", "{release:?}");
    assert_eq!(chain.balance(token, &CAROL), 330);
    assert_eq!(chain.balance(token, &escrow), 0);
    // A failed call inside a failed transaction leaves nothing: opening a
    // deal with no allowance left reverts the whole transaction.
    let no_allowance = chain.call(
        ALICE,
        escrow,
        calldata("open(address,uint256)", &[address_word(&CAROL.0), word(1)]),
    );
    assert_eq!(no_allowance.status.as_str(), "reverted");
    assert_eq!(word_at(&chain.view(escrow, calldata("deals()", &[])), 0), 1);
    vec![token, escrow]
}

/// Runs `scenario` on a fresh chain on each backend: the receipts it
/// logged and the storage of the contracts it returns are the same.
fn same_on_both_backends(scenario: fn(&mut Chain) -> Vec<Address>) {
    let mut runs = Vec::new();
    for kind in BackendKind::ALL {
        let mut chain = Chain::new(kind);
        let contracts = scenario(&mut chain);
        let storage: Vec<_> = contracts
            .iter()
            .map(|c| chain.exec.store().storage_entries(c).unwrap())
            .collect();
        runs.push((chain.log, storage));
    }
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn an_erc20_and_an_escrow_run_identically_on_both_backends() {
    same_on_both_backends(token_and_escrow);
}

/// The probe's `callWasm(echo, "abc")`.
fn call_wasm(echo: &Address) -> Vec<u8> {
    let mut input = selector("callWasm(bytes32,bytes)").to_vec();
    input.extend(echo.0);
    input.extend(word(64));
    input.extend(word(3));
    let mut padded = b"abc".to_vec();
    padded.resize(32, 0);
    input.extend(padded);
    input
}

/// Calls between the EVM and Wasm, precompiles, out of gas, halts and
/// transient storage.
fn edges(chain: &mut Chain) -> Vec<Address> {
    let probe = chain.deploy(creation("Probe"), Vec::new(), evm());
    let echo = chain.deploy(wat::parse_str(ECHO).unwrap(), Vec::new(), CodeKind::Ward);

    // EVM to Wasm through the Ward call address.
    let called = chain.call(ALICE, probe, call_wasm(&echo));
    assert_eq!(called.status.as_str(), "ok", "{called:?}");
    // `bytes` return: offset, length, data.
    assert_eq!(word_at(&called.output, 1), 8);
    assert_eq!(&called.output[64..72], b"wasm:abc");
    assert_eq!(called.events.len(), 1);

    // Wasm to EVM: a Ward contract forwards calldata to the probe.
    let forwarder = chain.deploy(
        wat::parse_str(forwarder(0)).unwrap(),
        Vec::new(),
        CodeKind::Ward,
    );
    let mut forward = probe.0.to_vec();
    forward.extend(calldata("bump()", &[]));
    let first = chain.call(ALICE, forwarder, forward.clone());
    assert_eq!(
        (first.status.as_str(), word_at(&first.output, 0)),
        ("ok", 1)
    );
    // The top frame is Wasm: the receipt has no runtime's gas (the EVM
    // callee's is inside the Ward gas).
    assert_eq!(first.runtime_gas, None);
    assert_eq!(called.runtime_gas.map(|g| g > 0), Some(true));
    let bumped = chain.call(ALICE, forwarder, forward.clone());
    assert_eq!(word_at(&bumped.output, 0), 2);
    // Setting a slot from zero costs more EVM gas than changing it.
    assert!(first.gas_used > bumped.gas_used);

    // Precompiles run in the runtime: keccak (an instruction), sha256,
    // ripemd160; ecrecover of a bad signature is the zero address.
    let mut digests = selector("digests(bytes)").to_vec();
    digests.extend(word(32));
    digests.extend(word(3));
    let mut abc = b"abc".to_vec();
    abc.resize(32, 0);
    digests.extend(abc);
    let out = chain.view(probe, digests);
    assert_eq!(out[..32], keccak(b"abc"));
    assert_eq!(
        hex::encode(&out[32..64]),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex::encode(&out[64..84]),
        "8eb208f7e05d987a9b044a8e98c6b087f15a0bfc"
    );
    let recovered = chain.view(
        probe,
        calldata(
            "recover(bytes32,uint8,bytes32,bytes32)",
            &[word(1), word(27), word(0), word(0)],
        ),
    );
    assert_eq!(word_at(&recovered, 0), 0);

    // An endless loop runs out of gas: all of it is used, nothing kept.
    let spin = chain.call_with_gas(ALICE, probe, calldata("spin()", &[]), 3_000_000);
    assert_eq!(
        (spin.status.as_str(), spin.gas_used),
        ("out_of_gas", 3_000_000)
    );
    // Its EVM gas is all the frame had: the Ward gas left after the
    // intrinsic cost, over the rate.
    let intrinsic = chain
        .exec
        .admit(&Tx::call(ALICE, probe, calldata("spin()", &[]), 3_000_000))
        .unwrap();
    assert_eq!(spin.runtime_gas, Some((3_000_000 - intrinsic) / GAS_RATE));
    // An exceptional halt reverts with code 2, no output, all its gas.
    let halt = chain.call_with_gas(ALICE, probe, calldata("halt()", &[]), 3_000_000);
    assert_eq!((halt.status.as_str(), halt.exit_code), ("reverted", 2));
    assert!(halt.output.is_empty());
    // Transient storage (EIP-1153) is Ward's: what TSTORE wrote, TLOAD
    // reads (benches/tests/evm_conformance.rs runs it across frames).
    let transient = chain.call(ALICE, probe, calldata("transient(uint256)", &[word(5)]));
    assert_eq!(transient.status.as_str(), "ok", "{transient:?}");
    assert_eq!(word_at(&transient.output, 0), 5);
    // The runtime's instance was rebuilt after the out of gas; the next
    // call is unaffected, and sees only the bump that succeeded.
    let again = chain.call(ALICE, forwarder, forward);
    assert_eq!(word_at(&again.output, 0), 3);
    assert_eq!(again.gas_used, bumped.gas_used);

    // A precompile the host computes (docs/evm.md): a bn254 pairing
    // check that holds (its output is 1; `Work.precompile` returns its
    // hash) pays the rate alone, besides the transaction's own cost.
    let work = chain.deploy(creation("Work"), Vec::new(), evm());
    let input_of = |name: &str| {
        let (_, at, data) = precompile_inputs()
            .into_iter()
            .find(|(n, _, _)| *n == name)
            .unwrap();
        precompile_call(at, &data, 1)
    };
    let bn254 = chain.call_with_gas(ALICE, work, input_of("bn254_pairing_2"), 200_000_000);
    assert_eq!(bn254.status.as_str(), "ok", "{bn254:?}");
    assert_eq!(bn254.output, keccak(&word(1)));
    let evm_gas = bn254.runtime_gas.unwrap();
    assert!(evm_gas > 113_000);
    assert!(bn254.gas_used < evm_gas * GAS_RATE + 100_000, "{bn254:?}");
    // A surcharged precompile: a BLS12-381 pairing check that holds pays
    // its surcharge (1 300 Ward gas per EVM gas) beyond the rate.
    let input = input_of("bls12_pairing_2");
    let checked = chain.call_with_gas(ALICE, work, input.clone(), 200_000_000);
    assert_eq!(checked.status.as_str(), "ok", "{checked:?}");
    assert_eq!(checked.output, keccak(&word(1)));
    let evm_gas = checked.runtime_gas.unwrap();
    assert!(checked.gas_used > evm_gas * GAS_RATE + 103_000 * 1_200);
    // With EVM gas enough but not the Ward gas for the surcharge, the
    // precompile fails as out of gas before it works, and the caller
    // goes on (here to revert with its message).
    let short = chain.call_with_gas(ALICE, work, input, 30_000_000);
    assert_eq!(
        (
            short.status.as_str(),
            revert_message(&short.output).as_deref()
        ),
        ("reverted", Some("precompile failed")),
        "{short:?}"
    );
    assert!(short.runtime_gas.unwrap() > 103_000);
    // A KZG proof that does not verify halts after all the work (the
    // pairing). Forwarded just enough (60 000 EVM gas for a 50 000 one),
    // the caller's Ward gas pays for that work at the rate and the
    // surcharge (914 per EVM gas) all the same; a proof that verifies
    // costs the same.
    let capped = chain.deploy(capped_caller(0x0a, 60_000), Vec::new(), evm());
    let (_, _, mut kzg) = precompile_inputs()
        .into_iter()
        .find(|(name, _, _)| *name == "kzg_point_evaluation")
        .unwrap();
    let verified = chain.call_with_gas(ALICE, capped, kzg.clone(), 100_000_000);
    assert_eq!(word_at(&verified.output, 0), 1, "{verified:?}");
    kzg[95] = 1;
    let failed = chain.call_with_gas(ALICE, capped, kzg, 100_000_000);
    assert_eq!(
        (failed.status.as_str(), word_at(&failed.output, 0)),
        ("ok", 0),
        "{failed:?}"
    );
    assert!(failed.runtime_gas.unwrap() < 70_000);
    assert!(failed.gas_used > 914 * 50_000, "{failed:?}");
    assert!(verified.gas_used > 914 * 50_000, "{verified:?}");
    vec![probe, echo, work, capped]
}

#[test]
fn calls_between_the_evm_and_wasm_and_failures_agree_on_both_backends() {
    same_on_both_backends(edges);
}

/// The address `CREATE` gives the `nonce`th (below 128) contract made by
/// `creator`: keccak of the RLP list (creator, nonce), last 20 bytes, as
/// a Ward address.
fn create_address(creator: &Address, nonce: u8) -> Address {
    let mut rlp = vec![0xd6, 0x94];
    rlp.extend_from_slice(&creator.0[12..]);
    rlp.push(nonce);
    let hash = keccak(&rlp);
    let mut out = [0u8; 32];
    out[12..].copy_from_slice(&hash[12..]);
    Address(out)
}

/// CREATE, CREATE2 (with the address `predict` computes), a collision, a
/// constructor that reverts, and a proxy running another contract's code
/// on its own storage through DELEGATECALL.
fn factories_and_proxies(chain: &mut Chain) -> Vec<Address> {
    let factory = chain.deploy(creation("Factory"), Vec::new(), evm());
    let made = chain.call(ALICE, factory, calldata("make(uint256)", &[word(5)]));
    assert_eq!(made.status.as_str(), "ok", "{made:?}");
    let counter = create_address(&factory, 1);
    assert_eq!(made.output, address_word(&counter.0));
    assert_eq!(made.events.len(), 1);
    let info = chain.exec.store().contract(&counter).unwrap().unwrap();
    assert_eq!((info.kind, info.deployer), (evm(), factory));
    assert_eq!(
        word_at(&chain.view(counter, calldata("count()", &[])), 0),
        5
    );
    let owner = chain.view(counter, calldata("owner()", &[]));
    assert_eq!(owner, address_word(&factory.0));
    let second = chain.call(ALICE, factory, calldata("make(uint256)", &[word(7)]));
    assert_eq!(second.output, address_word(&create_address(&factory, 2).0));

    let salt = word(0x5a17);
    let predicted = chain.view(
        factory,
        calldata("predict(bytes32,uint256)", &[salt, word(9)]),
    );
    let made2 = chain.call(
        ALICE,
        factory,
        calldata("make2(bytes32,uint256)", &[salt, word(9)]),
    );
    assert_eq!((made2.status.as_str(), &made2.output), ("ok", &predicted));
    // The same salt again: the address is taken, `new` fails, the
    // transaction reverts.
    let again = chain.call(
        ALICE,
        factory,
        calldata("make2(bytes32,uint256)", &[salt, word(9)]),
    );
    assert_eq!(again.status.as_str(), "reverted", "{again:?}");
    let fail = chain.call(ALICE, factory, calldata("fail()", &[]));
    assert_eq!(
        revert_message(&fail.output).as_deref(),
        Some("caught: constructor reverts")
    );

    // The proxy runs Counter's `inc` on its own slot 0.
    let logic = chain.deploy(creation("Counter"), word(100).to_vec(), evm());
    let proxy = chain.deploy(creation("Proxy"), address_word(&logic.0).to_vec(), evm());
    let inc = chain.call(ALICE, proxy, calldata("inc()", &[]));
    assert_eq!(
        (inc.status.as_str(), word_at(&inc.output, 0)),
        ("ok", 1),
        "{inc:?}"
    );
    let inc = chain.call(ALICE, proxy, calldata("inc()", &[]));
    assert_eq!(word_at(&inc.output, 0), 2);
    assert_eq!(
        word_at(&chain.view(proxy, calldata("proxied()", &[])), 0),
        2
    );
    assert_eq!(
        word_at(&chain.view(logic, calldata("count()", &[])), 0),
        100
    );
    vec![factory, counter, proxy, logic]
}

#[test]
fn contracts_create_contracts_and_delegate_identically_on_both_backends() {
    same_on_both_backends(factories_and_proxies);
}

/// Gas estimation and traces through the EVM runtime: each call of the
/// ERC-20 and the escrow (whose `open` calls the token with 63/64 of its
/// gas) succeeds with its estimate, and with 1 % less fails or does
/// otherwise; the escrow's trace shows the token's frame under its own,
/// with the EVM's own gas, identical on both backends.
#[test]
fn evm_calls_estimate_tightly_and_trace_their_frames() {
    let results = [BackendKind::Wasmtime, BackendKind::Wasmi].map(|kind| {
        let mut chain = Chain::new(kind);
        let [token, escrow] = token_and_escrow(&mut chain)[..] else {
            unreachable!()
        };
        let calls = [
            (
                token,
                calldata(
                    "transfer(address,uint256)",
                    &[address_word(&BOB.0), word(5)],
                ),
            ),
            (
                token,
                calldata(
                    "approve(address,uint256)",
                    &[address_word(&escrow.0), word(50)],
                ),
            ),
            (
                escrow,
                calldata("open(address,uint256)", &[address_word(&CAROL.0), word(50)]),
            ),
            (escrow, calldata("release(uint256)", &[word(1)])),
        ];
        let mut out = Vec::new();
        for (to, input) in calls {
            let tx = |gas_limit| Tx {
                sender: ALICE,
                gas_limit,
                value: 0,
                payload: Payload::Call {
                    to,
                    input: input.clone(),
                },
            };
            let estimate = chain
                .exec
                .estimate_gas(&tx(0), 1_700_000_000, u64::MAX)
                .unwrap()
                .unwrap();
            let less = chain
                .exec
                .simulate(&tx(estimate.gas * 99 / 100).vouched(), 1_700_000_000)
                .map(|s| s.receipt);
            assert!(
                less.as_ref().map_or(true, |r| !r.status.is_ok()
                    || r.output != estimate.receipt.output
                    || r.events != estimate.receipt.events),
                "{less:?}"
            );
            let receipt = chain.submit(tx(estimate.gas));
            assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
            let height = chain.exec.store().height().unwrap();
            let trace = chain
                .exec
                .trace_block_tx(height, &[tx(estimate.gas).vouched()], 0)
                .unwrap();
            assert_eq!(trace.receipt, receipt);
            assert_eq!(trace.gas_accounted(), receipt.gas_used);
            let root = trace.root.as_ref().unwrap();
            assert_eq!(root.kind, evm());
            assert_eq!(root.runtime_gas, receipt.runtime_gas);
            out.push((estimate.gas, trace));
        }
        // The escrow's open: the token's transferFrom is a frame of its own.
        let open = out[2].1.root.as_ref().unwrap();
        assert_eq!(open.calls.len(), 1, "{open:#?}");
        assert_eq!(open.calls[0].code_address, token);
        out
    });
    assert_eq!(results[0], results[1]);
}

/// A Wasm contract calls the EVM, which calls Wasm: the trace shows the
/// three frames with their kinds, the EVM frame's own gas, and adds up,
/// the same on both backends.
#[test]
fn a_wasm_to_evm_to_wasm_chain_traces_alike_on_both_backends() {
    let traces = [BackendKind::Wasmtime, BackendKind::Wasmi].map(|kind| {
        let mut chain = Chain::new(kind);
        let probe = chain.deploy(creation("Probe"), Vec::new(), evm());
        let echo = chain.deploy(wat::parse_str(ECHO).unwrap(), Vec::new(), CodeKind::Ward);
        let forwarder = chain.deploy(
            wat::parse_str(forwarder(0)).unwrap(),
            Vec::new(),
            CodeKind::Ward,
        );
        let mut input = probe.0.to_vec();
        input.extend(call_wasm(&echo));
        let tx = Tx::call(ALICE, forwarder, input, 30_000_000);
        let receipt = chain.submit(tx.clone());
        assert_eq!(receipt.status.as_str(), "ok", "{receipt:?}");
        let height = chain.exec.store().height().unwrap();
        let trace = chain
            .exec
            .trace_block_tx(height, &[tx.vouched()], 0)
            .unwrap();
        assert_eq!(trace.receipt, receipt);
        assert_eq!(trace.gas_accounted(), receipt.gas_used);
        (trace, probe, echo)
    });
    assert_eq!(traces[0], traces[1]);
    let (trace, probe, echo) = &traces[0];
    let root = trace.root.as_ref().unwrap();
    assert_eq!(root.kind, CodeKind::Ward);
    let evm_frame = &root.calls[0];
    assert_eq!((evm_frame.kind, evm_frame.address), (evm(), *probe));
    assert!(evm_frame.runtime_gas.is_some_and(|g| g > 0));
    let wasm_frame = &evm_frame.calls[0];
    assert_eq!(
        (wasm_frame.kind, wasm_frame.address),
        (CodeKind::Ward, *echo)
    );
    assert!(
        wasm_frame.output.ends_with(b"abc"),
        "{:?}",
        wasm_frame.output
    );
}
