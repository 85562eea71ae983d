//! WASI commands as contracts (`docs/wasi.md`), on both backends: the
//! deploy policy, `_start` with the input as stdin and the output from
//! stdout, the `ward` ABI beside WASI, `proc_exit` as a revert, the block's
//! time and the transaction's random bytes, and calls from a Ward contract.

#![allow(clippy::unwrap_used, reason = "test")]

use std::sync::Arc;

use crate::ALICE;
use ward_executor::{Deploy, Executor, Payload, Tx};
use ward_primitives::{Address, CodeKind};
use ward_state::{MemoryStore, Receipt, StateRead};
use ward_vm::{BackendKind, Config, ImportPolicy};

/// A WASI command that echoes stdin after "echo:", then the realtime clock
/// (8 bytes LE) and 8 random bytes; stores stdin under "last" through the
/// `ward` ABI; stdin "fail" exits with 7 after the write.
const ECHO: &str = r#"(module
  (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "random_get" (func $random (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (import "ward" "storage_write" (func $store (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "echo:")
  (data (i32.const 90) "last")
  (func (export "_start") (local $n i32)
    ;; read stdin to 105..
    (i32.store (i32.const 0) (i32.const 105)) (i32.store (i32.const 4) (i32.const 256))
    (drop (call $read (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8)))
    (local.set $n (i32.load (i32.const 8)))
    (call $store (i32.const 90) (i32.const 4) (i32.const 105) (local.get $n))
    ;; the clock and random bytes after the input
    (drop (call $clock (i32.const 0) (i64.const 0) (i32.add (i32.const 105) (local.get $n))))
    (drop (call $random (i32.add (i32.const 113) (local.get $n)) (i32.const 8)))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.add (local.get $n) (i32.const 21)))
    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (if (i32.eq (i32.load (i32.const 105)) (i32.const 0x6c696166)) ;; "fail"
      (then (call $exit (i32.const 7))))))"#;

/// A Ward contract that calls the contract whose address is its input
/// with the input "ward" and outputs the return data.
fn caller() -> String {
    ward_testkit::module_importing(
        "input_read call return_data_size return_data_read output_write exit",
        r#"(memory (export "memory") 1)
  (data (i32.const 64) "ward")
  (func (export "main")
    (call $input_read (i32.const 0) (i32.const 0) (i32.const 32))
    (if (call $call (i32.const 0) (i32.const 64) (i32.const 4) (i64.const 1000000) (i32.const 0))
      (then (call $exit (i32.const 9))))
    (call $return_data_read (i32.const 128) (i32.const 0) (call $return_data_size))
    (call $output_write (i32.const 128) (call $return_data_size)))"#,
    )
}

pub(crate) fn executor(store: Arc<MemoryStore>, backend: BackendKind) -> Executor<MemoryStore> {
    let mut config = Config::default();
    config.policy.imports = ImportPolicy::wasi();
    Executor::new(store, ward_testkit::backend(backend, &config), &config)
}

fn deploy(code: &str, salt: &[u8], kind: CodeKind) -> Tx {
    Tx {
        sender: ALICE,
        gas_limit: 40_000_000,
        value: 0,
        payload: Payload::Deploy(
            Deploy::new(wat::parse_str(code).unwrap(), Vec::new())
                .with_salt(salt.to_vec())
                .with_kind(kind),
        ),
    }
}

fn call(to: Address, input: &[u8]) -> Tx {
    Tx {
        sender: ALICE,
        gas_limit: 10_000_000,
        value: 0,
        payload: Payload::Call {
            to,
            input: input.to_vec(),
        },
    }
}

/// Every block's receipts and the contract's storage, on one backend.
fn scenario(backend: BackendKind) -> (Vec<Vec<Receipt>>, Option<Vec<u8>>) {
    let store = Arc::new(MemoryStore::default());
    let exec = executor(store.clone(), backend);
    let deploys = exec
        .execute_block(
            &[
                deploy(ECHO, b"as-ward", CodeKind::Ward),
                deploy(ECHO, b"as-wasi", CodeKind::Wasi),
                deploy(&caller(), b"no-start", CodeKind::Wasi),
                deploy(&caller(), b"caller", CodeKind::Ward),
            ],
            1_700_000_000,
        )
        .unwrap();
    // WASI imports need the WASI kind; a WASI command needs `_start`.
    assert_eq!(deploys[0].status.as_str(), "rejected", "{:?}", deploys[0]);
    assert_eq!(deploys[0].error_kind.as_deref(), Some("unknown_import"));
    assert!(
        deploys[0]
            .error_message
            .as_ref()
            .unwrap()
            .contains("--wasi")
    );
    assert_eq!(deploys[1].status.as_str(), "ok", "{:?}", deploys[1]);
    assert_eq!(deploys[2].error_kind.as_deref(), Some("entry_not_found"));
    assert_eq!(deploys[3].status.as_str(), "ok");
    let echo = deploys[1].address.unwrap();
    let caller = deploys[3].address.unwrap();
    assert_eq!(store.contract(&echo).unwrap().unwrap().kind, CodeKind::Wasi);
    assert_eq!(
        store.contract(&caller).unwrap().unwrap().kind,
        CodeKind::Ward
    );

    let calls = exec
        .execute_block(
            &[
                call(echo, b"hello"),
                call(echo, b"hello"),
                call(echo, b"fail"),
                call(caller, &echo.0),
            ],
            1_700_000_012,
        )
        .unwrap();
    let output = &calls[0].output;
    assert_eq!(calls[0].status.as_str(), "ok", "{:?}", calls[0]);
    assert_eq!(&output[..10], b"echo:hello");
    // Realtime is the block's time.
    let now = u64::from_le_bytes(output[10..18].try_into().unwrap());
    assert_eq!(now, 1_700_000_012 * 1_000_000_000);
    // Random bytes differ between transactions (and are the same on both
    // backends: compared by the caller of this function).
    assert_ne!(output[18..26], calls[1].output[18..26]);
    // proc_exit(7): a revert, its write undone, its output kept.
    assert_eq!(
        (calls[2].status.as_str(), calls[2].exit_code),
        ("reverted", 7)
    );
    assert!(calls[2].output.starts_with(b"echo:fail"));
    // A Ward contract's ward.call runs the WASI command's `_start`.
    assert_eq!(calls[3].status.as_str(), "ok", "{:?}", calls[3]);
    assert_eq!(&calls[3].output[..9], b"echo:ward");
    let last = store.storage(&echo, b"last").unwrap();
    assert_eq!(last.as_deref(), Some(&b"ward"[..]));
    (vec![deploys, calls], last)
}

#[test]
fn wasi_commands_run_as_contracts_identically_on_both_backends() {
    let runs: Vec<_> = BackendKind::ALL.iter().map(|&b| scenario(b)).collect();
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn a_deploy_of_another_kind_round_trips_and_its_tag_is_canonical() {
    let tx = deploy(ECHO, b"s", CodeKind::Wasi);
    // The unsigned tag, sender, gas limit and value, then the payload.
    const PAYLOAD: usize = 1 + 32 + 8 + 16;
    let bytes = tx.to_bytes();
    assert_eq!(bytes[0], ward_chain::tx::UNSIGNED_TAG);
    assert_eq!(bytes[PAYLOAD], 2);
    assert_eq!(bytes.len() as u64, tx.encoded_len());
    assert_eq!(Tx::from_bytes(&bytes).unwrap(), tx);
    // The Ward kind under tag 2 is not canonical, an unknown kind not a kind.
    for bad in [0u8, 9] {
        let mut wrong = bytes.clone();
        *wrong.last_mut().unwrap() = bad;
        assert!(Tx::from_bytes(&wrong).is_err(), "kind {bad}");
    }
    let ward = deploy(ECHO, b"s", CodeKind::Ward);
    assert_eq!(ward.to_bytes()[PAYLOAD], 0);
    assert_eq!(ward.to_bytes().len() as u64, ward.encoded_len());
}

#[test]
fn docs_state_the_contract_limits() {
    let doc = include_str!("../../../../docs/wasi.md");
    let limits = ward_executor::CONTRACT_WASI_LIMITS;
    for (what, number) in [
        ("bytes (1 MiB) of files", limits.max_bytes),
        ("nodes, paths of", limits.max_nodes),
        ("bytes, 64 descriptors", limits.max_path_bytes as u64),
        ("descriptors, 1048576", limits.max_fds as u64),
        ("bytes per", limits.max_stream_bytes),
    ] {
        assert!(
            doc.contains(&format!("{number} {what}")) || doc.contains(&format!("{number}\n{what}")),
            "docs/wasi.md: {number} {what}"
        );
    }
}

/// Traces of a WASI contract, called directly and by a Ward contract, in
/// a block after other transactions: the replay gives the recorded
/// receipts (random bytes and clock included) and the same frames on
/// both backends, the WASI frame under the Ward caller.
#[test]
fn wasi_contracts_trace_alike_on_both_backends() {
    use ward_executor::Access;
    let traces = [BackendKind::Wasmtime, BackendKind::Wasmi].map(|backend| {
        let exec = executor(Arc::new(MemoryStore::default()), backend);
        let deploys = exec
            .execute_block(
                &[
                    deploy(ECHO, b"as-wasi", CodeKind::Wasi),
                    deploy(&caller(), b"caller", CodeKind::Ward),
                ],
                1_700_000_000,
            )
            .unwrap();
        let (echo, caller) = (deploys[0].address.unwrap(), deploys[1].address.unwrap());
        let txs = [
            call(echo, b"hello"),
            call(echo, b"again"),
            call(caller, &echo.0),
        ];
        let receipts = exec.execute_block(&txs, 1_700_000_012).unwrap();
        let block: Vec<_> = txs.map(ward_executor::Tx::vouched).to_vec();
        [1, 2].map(|index| {
            let trace = exec.trace_block_tx(2, &block, index).unwrap();
            assert_eq!(trace.receipt, receipts[index]);
            assert_eq!(trace.gas_accounted(), trace.receipt.gas_used);
            trace
        })
    });
    assert_eq!(traces[0], traces[1]);
    let [direct, through] = &traces[0];
    let root = direct.root.as_ref().unwrap();
    assert_eq!(root.kind, CodeKind::Wasi);
    assert!(root.output.starts_with(b"echo:again"));
    assert!(matches!(&root.accesses[0], Access::Write { key, .. } if key == b"last"));
    let root = through.root.as_ref().unwrap();
    assert_eq!(root.kind, CodeKind::Ward);
    assert_eq!(root.calls.len(), 1);
    assert_eq!(root.calls[0].kind, CodeKind::Wasi);
    assert!(root.calls[0].output.starts_with(b"echo:ward"));
}
