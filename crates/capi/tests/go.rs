//! The Go package (`bindings/go`): `go vet` and `go test`, with the Rust
//! executor's gas for the token's calls handed to the Go tests, which
//! must find the same through the Go ContractVM on both backends; the
//! concurrent and cancelling tests again under `-race`.

#![allow(clippy::unwrap_used, reason = "test")]

use std::{path::Path, process::Command, sync::Arc};

use ward_executor::{Deploy, Executor, Payload, Tx};
use ward_primitives::Address;
use ward_state::MemoryStore;
use ward_vm::BackendKind;

mod support;

/// The gas of each step's own call (its trace's top frame, which is what
/// a ContractVM's call costs: the executor adds the transaction's
/// intrinsic cost around it) and, for the deploy, the charge for its code
/// that both take (`deploy_base + deploy_per_byte × len`): the token's
/// deploy with 1000, a transfer of 250, a balance, an overdraft.
fn executor_gas(kind: BackendKind) -> Vec<u64> {
    use ward_sdk::codec::{call_input, encode};
    let config = ward_vm::Config::default();
    let exec = Executor::new(
        Arc::new(MemoryStore::default()),
        ward_testkit::backend(kind, &config),
        &config,
    );
    let (alice, bob) = (Address([0xa1; 32]), Address([0xb0; 32]));
    let deploy = Tx {
        sender: alice,
        gas_limit: 100_000_000,
        value: 0,
        payload: Payload::Deploy(Deploy::new(
            ward_testkit::contracts::wasm("token"),
            encode(&1_000u128),
        )),
    };
    let mut gas = Vec::new();
    let mut run = |tx: Tx, time: u64| {
        let (_, trace) = exec.simulate_traced(&tx.clone().vouched(), time).unwrap();
        gas.push(trace.root.unwrap().gas_used);
        exec.execute_block(&[tx], time).unwrap().remove(0)
    };
    let token = run(deploy, 1).address.unwrap();
    let call = |input: Vec<u8>| Tx::call(alice, token, input, 10_000_000);
    assert_eq!(
        run(call(call_input("transfer", &(bob, 250u128))), 2)
            .status
            .as_str(),
        "ok"
    );
    assert_eq!(
        run(call(call_input("balance_of", &bob)), 3).status.as_str(),
        "ok"
    );
    let overdraft = run(call(call_input("transfer", &(bob, 5_000u128))), 4);
    assert_eq!(overdraft.status.as_str(), "reverted");
    let code = ward_testkit::contracts::wasm("token").len() as u64;
    gas[0] += config.policy.schedule.deploy_cost(code);
    gas
}

/// A contract without a schema, called by export (`TestContractsWithoutASchema`):
/// `echo` writes back its input, `store` keeps it under "k", `fail`
/// reverts with 7, `pay` calls another contract with value, `add` takes
/// parameters (no method).
const RAW: &str = r#"(module
  (import "ward" "input_size" (func $input_size (result i32)))
  (import "ward" "input_read" (func $input_read (param i32 i32 i32)))
  (import "ward" "output_write" (func $output_write (param i32 i32)))
  (import "ward" "storage_write" (func $storage_write (param i32 i32 i32 i32)))
  (import "ward" "call_with_value" (func $call (param i32 i32 i32 i64 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "k")
  (data (i32.const 64) "\01")
  (func $input (result i32)
    (call $input_read (i32.const 256) (i32.const 0) (call $input_size))
    (call $input_size))
  (func (export "echo") (call $output_write (i32.const 256) (call $input)))
  (func (export "store") (call $storage_write (i32.const 0) (i32.const 1) (i32.const 256) (call $input)))
  (func (export "fail") (result i32) (i32.const 7))
  (func (export "pay")
    (drop (call $call (i32.const 128) (i32.const 0) (i32.const 0) (i64.const 100000) (i32.const 0) (i32.const 64))))
  (func (export "add") (param i64 i64) (result i64) (i64.add (local.get 0) (local.get 1))))"#;

/// The small modules the Go tests keep in `bindings/go/testdata` (so that
/// `go test ./...` needs nothing but `make contracts` and the library),
/// by name, as they are built from their text here.
fn testdata() -> Vec<(&'static str, Vec<u8>)> {
    vec![
        ("raw", ward_testkit::wasm(RAW)),
        ("relay", ward_testkit::wasm(&ward_testkit::wasi::relay())),
        (
            "tinygo",
            ward_testkit::wasm(ward_testkit::wasi::TINYGO_REACTOR),
        ),
        ("spin_child", ward_testkit::spinning_parent()),
    ]
}

/// The Go package's test data is what its sources build today (`BLESS=1
/// cargo test -p ward-capi --test go` writes it anew).
#[test]
fn the_go_test_data_is_built_from_its_sources() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bindings/go/testdata");
    for (name, wasm) in testdata() {
        let path = dir.join(format!("{name}.wasm"));
        if std::env::var_os("BLESS").is_some() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &wasm).unwrap();
        }
        let kept = std::fs::read(&path).unwrap_or_default();
        assert!(
            kept == wasm,
            "{} is stale: run `BLESS=1 cargo test -p ward-capi --test go`",
            path.display()
        );
    }
}

/// `wasm` written to a file of this process's, named after `name`.
fn written(name: &str, wasm: &[u8]) -> std::path::PathBuf {
    let path =
        std::env::temp_dir().join(format!("ward-capi-go-{}-{name}.wasm", std::process::id()));
    std::fs::write(&path, wasm).unwrap();
    path
}

#[test]
fn the_go_package_vets_and_passes_with_the_executor_s_gas() {
    let go = std::env::var("GO").unwrap_or_else(|_| "go".into());
    if Command::new(&go).arg("version").output().is_err() {
        ward_testkit::skip(&format!(
            "{go}: not found: the Go tests need Go (Debian's golang-go; `make test` installs it as root)"
        ));
        return;
    }
    let gas: Vec<Vec<u64>> = BackendKind::ALL.map(executor_gas).into();
    assert_eq!(gas[0], gas[1], "the executor on both backends");
    let expected = gas[0]
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",");
    eprintln!("the executor's gas for the token's steps: {expected}");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bindings/go");
    let contract = |name: &str| {
        let path =
            std::env::temp_dir().join(format!("ward-capi-go-{}-{name}.wasm", std::process::id()));
        std::fs::write(&path, ward_testkit::contracts::wasm(name)).unwrap();
        path
    };
    // The static library, current (cargo's target directory, wherever
    // it is).
    let library = support::library_dir();
    let run = |args: &[&str]| {
        let out = Command::new(&go)
            .args(args)
            .current_dir(&dir)
            .env("CGO_LDFLAGS", format!("-L{}", library.display()))
            .env("WARD_TOKEN_WASM", contract("token"))
            .env("WARD_ESCROW_WASM", contract("escrow"))
            .env("WARD_COUNTER_WASM", contract("counter"))
            .env(
                "WARD_GUESTBOOK_WASM",
                written(
                    "guestbook",
                    &ward_testkit::contracts::wasip1_wasm("wasi-guestbook"),
                ),
            )
            .env("WARD_EXPECTED_GAS", &expected)
            // The Go side reads it as Rust's does ([`ward_testkit::all_required`]).
            .env(
                ward_testkit::REQUIRE_ALL,
                if ward_testkit::all_required() {
                    "1"
                } else {
                    "0"
                },
            )
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "go {args:?}:\n{stdout}\n{stderr}");
        stdout.into_owned()
    };
    run(&["vet", "./..."]);
    let tested = run(&["test", "-count=1", "-v", "./..."]);
    for test in [
        "TestTokenHasTheRustExecutorsGasOnBothBackends",
        "TestEscrowCallsTheTokenThroughNestedCalls",
        "TestAModuleThatCannotBeInstrumentedIsRefusedNotRunRaw",
        "TestManyGoroutinesCallAtOnce",
        "TestAContextEndsASpinningCall",
        "TestAnEndedContextRunsNothing",
        "TestSentinelErrors",
        "TestContractsWithoutASchema",
        "TestWASIContractsOfTinyGosShape",
        "TestARustWasip1Contract",
        "TestPreparedModulesLeaveLeastRecentlyUsedFirst",
        "TestTokenTransfersPayTheirFeesToTheUnit",
        "TestABlockGivenUpOnLeavesNoTrace",
        "TestAWASIContractPaysItsFeesToTheUnit",
        "TestMalformedTransactionsFailAndPayWithoutHaltingTheBlock",
        "TestAChildSpinningUnderACallStopsWithIt",
        "TestChildrenAreOfferedOnlyWhenAsked",
        "Example_counter",
        "Example_wasi",
        "Example_schemaless",
    ] {
        assert!(
            tested.contains(&format!("--- PASS: {test}")),
            "{test}:\n{tested}"
        );
    }
    assert!(!tested.contains("--- SKIP"), "{tested}");
    // The tests of many goroutines and of cancellation from a goroutine,
    // under the race detector.
    let raced = run(&[
        "test",
        "-count=1",
        "-race",
        "-v",
        "-run",
        "TestManyGoroutinesCallAtOnce|TestAContextEndsASpinningCall",
        "./...",
    ]);
    for test in [
        "TestManyGoroutinesCallAtOnce",
        "TestAContextEndsASpinningCall",
    ] {
        assert!(
            raced.contains(&format!("--- PASS: {test}")),
            "{test} under -race:\n{raced}"
        );
    }
    // As a Go user runs it (docs/embedding.md): `go test ./...` with
    // nothing from this test but where the library is, after `make
    // contracts`. Only the test of the Rust executor's figures skips.
    let mut plain = Command::new(&go);
    plain
        .args(["test", "-count=1", "-v", "./..."])
        .current_dir(&dir)
        .env("CGO_LDFLAGS", format!("-L{}", library.display()));
    for (name, _) in std::env::vars() {
        if name.starts_with("WARD_") {
            plain.env_remove(name);
        }
    }
    let out = plain.output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "go test ./... as a Go user runs it:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let skipped: Vec<&str> = stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("--- SKIP: "))
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    assert_eq!(
        skipped,
        ["TestTokenHasTheRustExecutorsGasOnBothBackends"],
        "{stdout}"
    );
}
