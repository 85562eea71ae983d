//! The chain commands on a data directory, each its own process: state
//! kept between them, reads that never write, hostile values and stores,
//! gas refused before any block.

use std::{path::Path, process::Command};

use serde_json::Value;

use super::{example, last_json, temp_file, ward};

/// Deploys `examples/NAME` into `dir` and returns the contract's address.
pub(crate) fn deploy_example(name: &str, dir: &str) -> String {
    deploy_json(name, dir, &[])["address"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Deploys `examples/NAME` into `dir` with `extra` arguments; returns the
/// `--json` receipt, which must be `ok`.
pub(crate) fn deploy_json(name: &str, dir: &str, extra: &[&str]) -> Value {
    let example = example(name);
    let mut args = vec!["deploy", &example, "--data-dir", dir, "--json"];
    args.extend_from_slice(extra);
    let deployed = last_json(&ward(&args));
    assert_eq!(deployed["status"], "ok", "{deployed}");
    deployed
}

/// A fresh data directory.
pub(crate) fn data_dir(name: &str) -> String {
    let dir = std::env::temp_dir().join(format!("ward-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir.to_string_lossy().into_owned()
}

/// deploy, call (on either backend), query, receipt and state, each its
/// own process on one data directory.
#[test]
fn chain_commands_persist_state_between_processes() {
    let dir = data_dir("chain");
    let counter = example("counter.wat");
    let deployed = ward(&[
        "deploy",
        &counter,
        "--data-dir",
        &dir,
        "--input",
        "0x0500000000000000",
        "--json",
    ]);
    assert!(
        deployed.status.success(),
        "{}",
        String::from_utf8_lossy(&deployed.stderr)
    );
    let deployed = last_json(&deployed);
    assert_eq!(deployed["status"], "ok");
    let address = deployed["address"].as_str().unwrap().to_string();
    assert_eq!(address.len(), 66);

    let mut txs = Vec::new();
    for (backend, expected) in [
        ("wasmtime", "0x0600000000000000"),
        ("wasmi", "0x0700000000000000"),
    ] {
        let out = ward(&[
            "call",
            &address,
            "--data-dir",
            &dir,
            "--backend",
            backend,
            "--json",
        ]);
        assert!(out.status.success());
        let receipt = last_json(&out);
        assert_eq!(receipt["output"], expected, "{receipt}");
        assert_eq!(receipt["backend"], backend);
        assert_eq!(receipt["events"].as_array().unwrap().len(), 1);
        txs.push((
            receipt["tx"].as_str().unwrap().to_string(),
            receipt["gas_used"].clone(),
        ));
    }
    // The same call costs the same gas on both backends.
    assert_eq!(txs[0].1, txs[1].1);

    // A read-only query sees the state and commits nothing.
    let query = last_json(&ward(&[
        "query",
        &address,
        "--input",
        "0x676574",
        "--data-dir",
        &dir,
        "--json",
    ]));
    assert_eq!(query["output"], "0x0700000000000000");
    let writing = ward(&["query", &address, "--data-dir", &dir, "--json"]);
    assert_eq!(writing.status.code(), Some(1));
    assert_eq!(last_json(&writing)["error"]["kind"], "host_error");

    let receipt = last_json(&ward(&["receipt", &txs[0].0, "--data-dir", &dir, "--json"]));
    assert_eq!(receipt["output"], "0x0600000000000000");
    let state = last_json(&ward(&["state", &address, "--data-dir", &dir, "--json"]));
    assert_eq!(state["storage"][0]["key"], "0x636f756e74");
    assert_eq!(state["storage"][0]["value"], "0x0700000000000000");

    // Unknown contract: an error (exit 2), nothing committed.
    let missing = ward(&[
        "call",
        &format!("0x{}", "00".repeat(32)),
        "--data-dir",
        &dir,
    ]);
    assert_eq!(missing.status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn run_has_an_in_memory_state_for_storage_and_events() {
    let out = ward(&["run", &example("counter.wat"), "--json"]);
    assert!(out.status.success());
    let json = last_json(&out);
    assert_eq!(json["output"], "0x0100000000000000");
    assert_eq!(json["events"][0]["topic"], "0x696e63");
}

#[test]
fn demo_deploys_the_sdk_contracts_and_its_state_survives_a_new_process() {
    let contracts = ward_testkit::contracts::build().unwrap();
    let dir = std::env::temp_dir().join(format!("ward-cli-demo-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let data = dir.display().to_string();
    let contracts = contracts.display().to_string();
    let out = ward(&["demo", "--data-dir", &data, "--contracts", &contracts]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("\"insufficient balance: 2500 < 10000\""),
        "{stdout}"
    );
    assert!(stdout.contains("events: DepositRefused"), "{stdout}");
    // The native asset: the vault's payable deposit reaches bob once
    // carol releases it, and value to a method not payable is refused.
    assert!(stdout.contains("is not payable"), "{stdout}");
    assert!(
        stdout.contains("bob (native)     12500000000000000000 (12.5 WARD)"),
        "{stdout}"
    );
    assert!(stdout.contains("balances identical"), "{stdout}");
    let token = stdout
        .lines()
        .find_map(|l| l.strip_prefix("token contract:"))
        .unwrap()
        .trim()
        .to_string();

    // A second demo into the same directory refuses: it starts from empty.
    let again = ward(&["demo", "--data-dir", &data, "--contracts", &contracts]);
    assert_eq!(again.status.code(), Some(2));

    // Another process, the other backend, typed arguments and a typed result.
    let bob = format!("address:0x{}", "b0".repeat(32));
    let balance_of_bob = |backend: &str| {
        last_json(&ward(&[
            "query",
            &token,
            "--method",
            "balance_of",
            "--arg",
            &bob,
            "--decode",
            "u128",
            "--data-dir",
            &data,
            "--backend",
            backend,
            "--json",
        ]))
    };
    let json = balance_of_bob("wasmi");
    assert_eq!(json["status"], "ok");
    assert_eq!(json["decoded"], "2500");

    // A call with typed arguments, and one whose arguments do not decode.
    let sent = ward(&[
        "call",
        &token,
        "--method",
        "transfer",
        "--arg",
        &bob,
        "--arg",
        "u128:1_000",
        "--sender",
        &format!("0x{}", "a1".repeat(32)),
        "--data-dir",
        &data,
        "--json",
    ]);
    assert_eq!(last_json(&sent)["status"], "ok");
    let bad = ward(&[
        "call",
        &token,
        "--method",
        "transfer",
        "--arg",
        "u8:1",
        "--data-dir",
        &data,
        "--json",
    ]);
    let json = last_json(&bad);
    assert_eq!(bad.status.code(), Some(1));
    assert_eq!(json["exit_code"], 103);
    let wrong_type = ward(&[
        "call",
        &token,
        "--method",
        "x",
        "--arg",
        "u7:1",
        "--data-dir",
        &data,
    ]);
    assert_eq!(
        wrong_type.status.code(),
        Some(2),
        "an unknown type is a usage error"
    );
    assert_eq!(balance_of_bob("wasmtime")["decoded"], "3500");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every command parses values with the same strict parsers: a non-ASCII
/// character in hex, a stray sign or an underscore out of place is a usage
/// error (exit 2) naming the value, never a panic (exit 101); `_` between
/// digits works in every number, `--gas` included.
#[test]
fn hostile_values_are_usage_errors_in_every_command() {
    let dir = data_dir("values");
    let counter = example("counter.wat");
    let deployed = deploy_json(
        "counter.wat",
        &dir,
        &["--gas", "100_000_000", "--input", "0x0500000000000000"],
    );
    let address = deployed["address"].as_str().unwrap().to_string();
    let hello = example("hello.wat");
    let add = temp_file(
        "add.wat",
        br#"(module (func (export "add") (param i64 i64) (result i64)
              (i64.add (local.get 0) (local.get 1))))"#,
    );
    let add = add.display().to_string();
    let mut cases: Vec<Vec<&str>> = vec![
        vec!["run", &hello, "--input", "0x1é1"],
        vec!["run", &hello, "--input", "0xa€"],
        vec!["run", &hello, "--input", "0x+1"],
        vec!["run", &add, "--invoke", "add", "--args", "--5,1"],
        vec!["run", &add, "--invoke", "add", "--args", "0x-5,1"],
        vec!["run", &hello, "--input", "77"],
        vec!["run", &hello, "--gas", "+5"],
        vec!["run", &hello, "--gas", "1__0"],
        vec!["call", &address, "--input", "0x1é1", "--data-dir", &dir],
        vec!["call", &address, "--gas", "0x-5", "--data-dir", &dir],
        vec!["call", "0xé1", "--data-dir", &dir],
        vec!["state", &address, "0x1é1", "--data-dir", &dir],
        vec!["state", &address, "é", "--data-dir", &dir],
        vec!["deploy", &counter, "--salt", "0x1é1", "--data-dir", &dir],
        vec!["deploy", &counter, "--input", "0xa€", "--data-dir", &dir],
        vec!["receipt", "0xé1", "--data-dir", &dir],
    ];
    // Every `--arg` a contract method takes goes through the same parsers.
    for arg in [
        "bytes:0xa€",
        "raw:é",
        "u64:0x+1",
        "u64:--5",
        "i128:-170141183460469231731687303715884105729",
    ] {
        cases.push(vec![
            "call",
            &address,
            "--method",
            "m",
            "--arg",
            arg,
            "--data-dir",
            &dir,
        ]);
    }
    for args in &cases {
        let out = ward(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(1 | 2)) && !stderr.contains("panicked"),
            "{args:?}: {:?} {stderr}",
            out.status.code()
        );
    }
    // i128::MIN itself is fine, and so are underscores between digits.
    let min = ward(&[
        "call",
        &address,
        "--method",
        "get",
        "--arg",
        "i128:-170141183460469231731687303715884105728",
        "--arg",
        "u64:1_000",
        "--gas",
        "1_000_000",
        "--data-dir",
        &dir,
        "--json",
    ]);
    assert!(
        !String::from_utf8_lossy(&min.stderr).contains("not"),
        "{}",
        String::from_utf8_lossy(&min.stderr)
    );
    assert!(last_json(&min)["status"].as_str().is_some());
}

/// Reads open the store read-only and never change it; only `deploy` and
/// `demo` start a chain where there is none; an empty, damaged or busy
/// store is a clear error (exit 2) naming the file, never a panic.
#[test]
fn reads_never_write_and_bad_stores_are_named_errors() {
    let dir = data_dir("reads");
    let file = Path::new(&dir).join("state.redb");
    let counter = example("counter.wat");
    let deployed = deploy_json("counter.wat", &dir, &["--input", "0x0500000000000000"]);
    let address = deployed["address"].as_str().unwrap().to_string();
    let tx = deployed["tx"].as_str().unwrap().to_string();
    let before = std::fs::read(&file).unwrap();
    for args in [
        vec!["state", &address, "--data-dir", &dir],
        vec!["query", &address, "--data-dir", &dir],
        vec!["receipt", &tx, "--data-dir", &dir],
    ] {
        // (counter's `main` writes, so its query traps: exit 1.)
        let out = ward(&args);
        assert!(
            matches!(out.status.code(), Some(0 | 1)),
            "{args:?}: {out:?}"
        );
        assert!(
            std::fs::read(&file).unwrap() == before,
            "{args:?} wrote the store"
        );
    }

    // A missing data directory: refused by all but deploy, and not created.
    let missing = data_dir("reads-missing");
    for args in [
        vec!["state", &address, "--data-dir", &missing],
        vec!["query", &address, "--data-dir", &missing],
        vec!["receipt", &tx, "--data-dir", &missing],
        vec!["call", &address, "--data-dir", &missing],
    ] {
        let out = ward(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("no Ward state"), "{args:?}: {stderr}");
        assert!(!Path::new(&missing).exists(), "{args:?} created {missing}");
    }

    // Damage: a zeroed page, then an empty file.
    let mut damaged = before.clone();
    let middle = damaged.len() / 4096 / 2 * 4096;
    damaged[middle..middle + 4096].fill(0);
    let zeroed_root = |bytes: &mut Vec<u8>| bytes[4096..8192].fill(0);
    let mut cases = vec![damaged, before.clone()];
    zeroed_root(&mut cases[1]);
    cases.push(Vec::new());
    for bytes in cases {
        std::fs::write(&file, &bytes).unwrap();
        for args in [
            vec!["state", &address, "--data-dir", &dir],
            vec!["call", &address, "--data-dir", &dir],
            vec!["deploy", &counter, "--data-dir", &dir, "--salt", "0x02"],
        ] {
            let out = ward(&args);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
            if out.status.code() != Some(0) {
                assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
                assert!(stderr.contains("state.redb"), "{args:?}: {stderr}");
            }
            if args[0] == "state" || bytes.is_empty() {
                assert!(
                    std::fs::read(&file).unwrap() == bytes,
                    "{args:?} changed the file"
                );
            }
        }
        if bytes.is_empty() {
            let out = ward(&["deploy", &counter, "--data-dir", &dir]);
            assert!(String::from_utf8_lossy(&out.stderr).contains("is empty"));
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A read on a data directory that a running command holds says so.
#[test]
fn a_read_beside_a_running_writer_says_the_store_is_busy() {
    let dir = data_dir("busy");
    let address = deploy_example("spin.wat", &dir);
    // A call that spins until its gas runs out (the most a transaction
    // may have: a tenth of a second on wasmtime).
    // A reader that opens the store first makes it fail as busy in turn:
    // then it is started again.
    let start_writer = || {
        Command::new(env!("CARGO_BIN_EXE_ward"))
            .args([
                "call",
                &address,
                "--gas",
                "2_000_000_000",
                "--data-dir",
                &dir,
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut writer = start_writer();
    // Bounded by attempts, not a clock: each is a whole `ward` process.
    let mut said_busy = false;
    for _ in 0..500 {
        if said_busy {
            break;
        }
        if writer.try_wait().unwrap().is_some() {
            writer = start_writer();
        }
        let out = ward(&["state", &address, "--data-dir", &dir]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        said_busy = out.status.code() == Some(2) && stderr.contains("in use by another process");
    }
    let _ = writer.kill();
    let _ = writer.wait();
    assert!(said_busy, "no read met the running writer");
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Gas above the per-transaction maximum, or a transaction that cannot pay
/// its intrinsic cost, is refused (exit 2) before any block: an endless
/// loop cannot hold the store for longer than the maximum allows, and a
/// refused deploy stores nothing. `ward run` refuses gas no call can hold
/// rather than reducing it.
#[test]
fn gas_over_the_maximum_and_unpayable_transactions_are_refused() {
    let dir = data_dir("caps");
    let spin = example("spin.wat");
    let address = deploy_example("spin.wat", &dir);
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "call",
                &address,
                "--gas",
                "9223372036854775807",
                "--data-dir",
                &dir,
            ],
            "above the per-transaction maximum",
        ),
        (
            &[
                "deploy",
                &spin,
                "--gas",
                "0",
                "--salt",
                "0x01",
                "--data-dir",
                &dir,
            ],
            "does not cover its intrinsic cost",
        ),
        (
            &[
                "query",
                &address,
                "--gas",
                "1_000_000_000",
                "--data-dir",
                &dir,
            ],
            "above the per-transaction maximum",
        ),
        (
            &["run", &spin, "--gas", "9223372036854775808"],
            "at most 9223372036854775807",
        ),
    ];
    for (args, expected) in cases {
        let out = ward(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
    // At the maximum, the endless loop ends out of gas, in block 2: the
    // refused transactions made no block.
    let capped = last_json(&ward(&[
        "call",
        &address,
        "--gas",
        "200_000_000",
        "--data-dir",
        &dir,
        "--json",
    ]));
    assert_eq!(capped["status"], "out_of_gas", "{capped}");
    assert_eq!(capped["height"], 2, "{capped}");
    std::fs::remove_dir_all(&dir).unwrap();
}
