//! WASI reactors as contracts (`docs/wasi.md`), on both backends: a
//! TinyGo-shaped module and a Rust contract built for `wasm32-wasip1`
//! with the standard library; methods named by the call's input,
//! `_initialize` before each, `_start` only when named, `proc_exit` as a
//! revert, the block's time, the transaction's random bytes, calls from a
//! Ward contract, and the deploy's checks.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use ward_executor::{Deploy, Payload, Tx};
use ward_primitives::{Address, CodeKind};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_vm::BackendKind;

use super::wasi::executor;
use crate::{ALICE, BOB};

const TIME: u64 = 1_700_000_012;

/// A deploy with gas for its bytes (the guestbook has Rust's `std`).
fn deploy(code: Vec<u8>, salt: &[u8], kind: CodeKind) -> Tx {
    Tx {
        sender: ALICE,
        gas_limit: 1_000 * code.len() as u64 + 20_000_000,
        value: 0,
        payload: Payload::Deploy(
            Deploy::new(code, Vec::new())
                .with_salt(salt.to_vec())
                .with_kind(kind),
        ),
    }
}

/// A call of `method` with `input`, as a reactor's call is written.
fn call(sender: Address, to: Address, method: &str, input: &[u8]) -> Tx {
    let mut bytes = method.as_bytes().to_vec();
    bytes.push(0);
    bytes.extend_from_slice(input);
    raw(sender, to, bytes)
}

fn raw(sender: Address, to: Address, input: Vec<u8>) -> Tx {
    Tx {
        sender,
        gas_limit: 10_000_000,
        value: 0,
        payload: Payload::Call { to, input },
    }
}

fn tinygo() -> Vec<u8> {
    wat::parse_str(ward_testkit::wasi::TINYGO_REACTOR).unwrap()
}

/// The TinyGo-shaped reactor's receipts and storage, on one backend.
fn tinygo_scenario(backend: BackendKind) -> (Vec<Vec<Receipt>>, Option<Vec<u8>>) {
    let store = Arc::new(MemoryStore::default());
    let exec = executor(store.clone(), backend);
    // `_initialize` must be [] -> [] (a module whose one differs).
    let bad_init = r#"(module (func (export "_initialize") (param i32)) (func (export "m")))"#;
    let deploys = exec
        .execute_block(
            &[
                deploy(tinygo(), b"reactor", CodeKind::WasiReactor),
                deploy(tinygo(), b"as-ward", CodeKind::Ward),
                deploy(
                    wat::parse_str(bad_init).unwrap(),
                    b"bad",
                    CodeKind::WasiReactor,
                ),
                deploy(
                    wat::parse_str(ward_testkit::wasi::relay()).unwrap(),
                    b"caller",
                    CodeKind::Ward,
                ),
            ],
            TIME - 12,
        )
        .unwrap();
    assert_eq!(deploys[0].status.as_str(), "ok", "{:?}", deploys[0]);
    assert_eq!(deploys[1].error_kind.as_deref(), Some("unknown_import"));
    assert!(
        deploys[1]
            .error_message
            .as_ref()
            .unwrap()
            .contains("--wasi-reactor")
    );
    assert_eq!(
        deploys[2].error_kind.as_deref(),
        Some("bad_entry_signature")
    );
    assert_eq!(deploys[3].status.as_str(), "ok");
    let reactor = deploys[0].address.unwrap();
    let caller = deploys[3].address.unwrap();
    assert_eq!(
        store.contract(&reactor).unwrap().unwrap().kind,
        CodeKind::WasiReactor
    );
    let mut nested = reactor.0.to_vec();
    nested.extend_from_slice(b"greet\0nested");
    let calls = exec
        .execute_block(
            &[
                call(ALICE, reactor, "greet", b"bob"),
                call(ALICE, reactor, "entropy", b""),
                call(ALICE, reactor, "entropy", b""),
                call(ALICE, reactor, "now", b""),
                call(ALICE, reactor, "whoami", b""),
                call(ALICE, reactor, "quit", b"abc"),
                call(ALICE, reactor, "quit", b""),
                call(ALICE, reactor, "_start", b""),
                raw(ALICE, reactor, b"greet".to_vec()),
                call(ALICE, reactor, "_initialize", b""),
                call(ALICE, reactor, "missing", b""),
                call(ALICE, reactor, "spin", b""),
                raw(ALICE, caller, nested),
            ],
            TIME,
        )
        .unwrap();
    // A method: its output through `ward`, its stdout not the output, its
    // write kept.
    assert_eq!(
        (calls[0].status.as_str(), &calls[0].output[..]),
        ("ok", &b"hi"[..])
    );
    // Random bytes differ between transactions.
    assert_eq!(calls[1].output.len(), 16);
    assert_ne!(calls[1].output, calls[2].output);
    // Realtime is the block's time.
    let now = u64::from_le_bytes(calls[3].output[..].try_into().unwrap());
    assert_eq!(now, TIME * 1_000_000_000);
    // argv[0] is the contract's address.
    assert_eq!(calls[4].output, reactor.to_string().into_bytes());
    // proc_exit(3): a revert with its code; proc_exit(0): ok.
    assert_eq!(
        (calls[5].status.as_str(), calls[5].exit_code),
        ("reverted", 3)
    );
    assert_eq!(calls[6].status.as_str(), "ok", "{:?}", calls[6]);
    // `_start` runs when named, its stdout going to the log as a method's.
    assert_eq!((calls[7].status.as_str(), calls[7].output.len()), ("ok", 0));
    // No method named, `_initialize` named, an unknown method: refused.
    for refused in &calls[8..11] {
        assert_eq!(
            refused.error_kind.as_deref(),
            Some("entry_not_found"),
            "{refused:?}"
        );
    }
    assert_eq!(calls[11].status.as_str(), "out_of_gas");
    // A Ward contract calls a method by writing its name in the input.
    assert_eq!(
        (calls[12].status.as_str(), &calls[12].output[..]),
        ("ok", &b"hi"[..])
    );
    let greeted = store.storage(&reactor, b"greeted").unwrap();
    assert_eq!(greeted.as_deref(), Some(&b"nested"[..]));
    (vec![deploys, calls], greeted)
}

#[test]
fn a_tinygo_shaped_reactor_runs_as_a_contract_identically_on_both_backends() {
    crate::on_both_backends_alike(tinygo_scenario);
}

/// The Rust guestbook's receipts, on one backend.
fn guestbook_scenario(backend: BackendKind) -> Vec<Vec<Receipt>> {
    let store = Arc::new(MemoryStore::default());
    let exec = executor(store.clone(), backend);
    let code = ward_testkit::contracts::wasip1_wasm("wasi-guestbook");
    let deploys = exec
        .execute_block(&[deploy(code, b"book", CodeKind::WasiReactor)], TIME - 12)
        .unwrap();
    assert_eq!(deploys[0].status.as_str(), "ok", "{:?}", deploys[0]);
    let book = deploys[0].address.unwrap();
    let calls = exec
        .execute_block(
            &[
                call(ALICE, book, "sign", b"first!"),
                call(BOB, book, "sign", b"hello from bob"),
                call(ALICE, book, "sign", b"edited"),
                call(ALICE, book, "read", &BOB.0),
                call(ALICE, book, "read", b"short"),
                call(ALICE, book, "whoami", b""),
                call(ALICE, book, "stamp", b""),
                call(ALICE, book, "dice", b"x"),
                call(ALICE, book, "dice", b"x"),
                call(ALICE, book, "leave", &[5]),
            ],
            TIME,
        )
        .unwrap();
    let count = |r: &Receipt| u64::from_le_bytes(r.output[..].try_into().unwrap());
    for receipt in &calls {
        assert_ne!(receipt.status.as_str(), "trapped", "{receipt:?}");
    }
    // Two signers: Alice's second note replaces her first.
    assert_eq!(
        (count(&calls[0]), count(&calls[1]), count(&calls[2])),
        (1, 2, 2)
    );
    assert_eq!(calls[3].output, b"hello from bob");
    assert_eq!(
        store.storage(&book, &ALICE.0).unwrap().as_deref(),
        Some(&b"edited"[..])
    );
    // A short address: `std::process::exit(3)` is a revert with 3.
    assert_eq!(
        (calls[4].status.as_str(), calls[4].exit_code),
        ("reverted", 3)
    );
    assert_eq!(calls[5].output, book.to_string().into_bytes());
    assert_eq!(count(&calls[6]), TIME);
    // `RandomState` draws from random_get: a fresh stream per transaction.
    assert_ne!(calls[7].output, calls[8].output);
    assert_eq!(
        (calls[9].status.as_str(), calls[9].exit_code),
        ("reverted", 5)
    );
    vec![deploys, calls]
}

#[test]
fn a_rust_wasip1_contract_runs_as_a_reactor_identically_on_both_backends() {
    crate::on_both_backends_alike(guestbook_scenario);
}
