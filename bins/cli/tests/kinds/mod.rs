//! Programs of the other kinds: WASI commands run and deployed, and
//! Solidity contracts for the EVM runtime in a data directory.

use std::path::Path;

use crate::{data_dir, deploy_json, example, last_json, run_json, temp_file, ward};

/// A WASI command: writes "hi\n" to stdout and "oops\n" to stderr, copies
/// preopen 3's file `x` (when there is one) to stdout after writing "new"
/// into it, then runs `$tail` and exits with 3.
fn wasi_program(tail: &str) -> String {
    format!(
        r#"(module
        (import "wasi_snapshot_preview1" "fd_write" (func $write (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_read" (func $read (param i32 i32 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "fd_seek" (func $seek (param i32 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "path_open" (func $open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))
        (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
        (memory (export "memory") 1)
        (data (i32.const 100) "hi\0aoops\0anew")
        (data (i32.const 200) "x")
        (func (export "_start")
            (i32.store (i32.const 0) (i32.const 100)) (i32.store (i32.const 4) (i32.const 3))
            (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
            (i32.store (i32.const 0) (i32.const 103)) (i32.store (i32.const 4) (i32.const 5))
            (drop (call $write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
            (if (i32.eqz (call $open (i32.const 3) (i32.const 0) (i32.const 200) (i32.const 1)
                    (i32.const 8) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 16)))
                (then
                    (i32.store (i32.const 0) (i32.const 108)) (i32.store (i32.const 4) (i32.const 3))
                    (drop (call $write (i32.load (i32.const 16)) (i32.const 0) (i32.const 1) (i32.const 8)))
                    (drop (call $seek (i32.load (i32.const 16)) (i64.const 0) (i32.const 0) (i32.const 24)))
                    (i32.store (i32.const 0) (i32.const 300)) (i32.store (i32.const 4) (i32.const 16))
                    (drop (call $read (i32.load (i32.const 16)) (i32.const 0) (i32.const 1) (i32.const 8)))
                    (i32.store (i32.const 4) (i32.load (i32.const 8)))
                    (drop (call $write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
            {tail}
            (call $exit (i32.const 3))))"#
    )
}

#[test]
fn run_wasi_prints_the_programs_streams_and_exits_with_its_code() {
    let dir = std::env::temp_dir().join(format!("ward-cli-wasi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("x"), b"old contents").unwrap();
    let preopen = format!("{}::data", dir.display());
    let program = temp_file("wasi.wat", wasi_program("").as_bytes());
    let program = program.to_str().unwrap();
    let mut seen = Vec::new();
    for backend in ["wasmtime", "wasmi"] {
        let out = ward(&[
            "run",
            "--wasi",
            "--backend",
            backend,
            "--dir",
            &preopen,
            program,
        ]);
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        // stdout is the program's alone; the file was truncated and
        // rewritten in memory only.
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\nnew");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.starts_with("oops\n"), "{stderr}");
        assert!(
            stderr.contains("ward: reverted, exit code 3, gas used "),
            "{stderr}"
        );
        seen.push(
            stderr
                .split(", gas used ")
                .nth(1)
                .unwrap()
                .split(',')
                .next()
                .unwrap()
                .to_string(),
        );
    }
    assert_eq!(seen[0], seen[1], "same gas on both backends");
    assert_eq!(std::fs::read(dir.join("x")).unwrap(), b"old contents");
    // Without a preopen, and with --json: the usual object, exit 1.
    let (code, json) = run_json(&["--wasi", program]);
    assert_eq!(code, 1);
    assert_eq!(json["status"], "reverted");
    assert_eq!(json["exit_code"], 3);
    assert_eq!(json["output"], "0x68690a");
}

#[test]
fn run_wasi_keeps_its_own_exit_statuses_apart_from_the_programs() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/wasi.md"))
            .unwrap();
    let trap = temp_file("wasi-trap.wat", wasi_program("unreachable").as_bytes());
    let spin = temp_file(
        "wasi-spin.wat",
        wasi_program("(loop $l (br $l))").as_bytes(),
    );
    let bad_exit = temp_file(
        "wasi-126.wat",
        wasi_program("(call $exit (i32.const 126))").as_bytes(),
    );
    let invalid = temp_file("wasi-invalid.wasm", b"\0asm\x01\0\0\0\x01");
    for (file, extra, status, what) in [
        (&trap, "", 134, "trapped"),
        (&bad_exit, "", 134, "trapped"),
        (&spin, "--gas=100000", 135, "out of gas"),
        (&invalid, "", 137, "refused before running"),
    ] {
        let mut args = vec!["run", "--wasi", file.to_str().unwrap()];
        if !extra.is_empty() {
            args.insert(2, extra);
        }
        let out = ward(&args);
        assert_eq!(out.status.code(), Some(status), "{what}: {out:?}");
        assert!(
            doc.contains(&format!("**{status}** {what}")),
            "docs/wasi.md: {status} {what}"
        );
    }
    // WASI's options need --wasi; a program's arguments come after `--`.
    let hello = example("hello.wat");
    assert_eq!(
        ward(&["run", "--env", "A=B", &hello]).status.code(),
        Some(2)
    );
    assert_eq!(
        ward(&["run", "--wasi", "--env", "AB", spin.to_str().unwrap()])
            .status
            .code(),
        Some(2)
    );
    // A module importing WASI is outside policy without --wasi.
    let (code, json) = run_json(&[trap.to_str().unwrap()]);
    assert_eq!(code, 1);
    assert_eq!(json["status"], "rejected", "{json}");
}

#[test]
fn deploy_wasi_makes_a_wasi_command_a_contract() {
    let dir = data_dir("wasi");
    // Without --wasi its WASI imports are refused: a receipt, no contract.
    let hello = example("wasi-hello.wat");
    let refused = last_json(&ward(&["deploy", &hello, "--data-dir", &dir, "--json"]));
    assert_eq!(refused["status"], "rejected", "{refused}");
    assert_eq!(refused["error"]["kind"], "unknown_import");
    let deployed = deploy_json("wasi-hello.wat", &dir, &["--wasi"]);
    let address = deployed["address"].as_str().unwrap().to_string();
    // "hello, ward\n": stdin in, stdout out.
    call_on_both(&dir, &address, "0x77617264", "0x68656c6c6f2c20776172640a");
    let state = last_json(&ward(&["state", &address, "--data-dir", &dir, "--json"]));
    assert_eq!(state["kind"], "wasi", "{state}");
    // --wasi has no init arguments to encode.
    assert_eq!(
        ward(&[
            "deploy",
            &hello,
            "--wasi",
            "--arg",
            "u8:1",
            "--data-dir",
            &dir
        ])
        .status
        .code(),
        Some(2)
    );
}

/// `ward call` of the contract at `address` with `input` (hex), on each
/// backend: `ok`, the output `output`, the same gas on both.
fn call_on_both(dir: &str, address: &str, input: &str, output: &str) {
    let mut gas = Vec::new();
    for backend in ["wasmtime", "wasmi"] {
        let called = last_json(&ward(&[
            "call",
            address,
            "--input",
            input,
            "--data-dir",
            dir,
            "--backend",
            backend,
            "--json",
        ]));
        assert_eq!(called["status"], "ok", "{called}");
        assert_eq!(called["output"], output, "{called}");
        gas.push(called["gas_used"].clone());
    }
    assert_eq!(gas[0], gas[1]);
}

/// `ward deploy --wasi-reactor`: a module of TinyGo's wasip1 shape called
/// by method (the name, a NUL byte, the input), on both backends, its
/// kind in `ward state`; `--wasi` and `--wasi-reactor` exclude each other.
#[test]
fn deploy_wasi_reactor_makes_its_exports_methods() {
    let dir = data_dir("wasi-reactor");
    let module = temp_file(
        "tinygo-reactor.wat",
        ward_testkit::wasi::TINYGO_REACTOR.as_bytes(),
    );
    let module = module.to_str().unwrap();
    let deployed = last_json(&ward(&[
        "deploy",
        module,
        "--wasi-reactor",
        "--gas",
        "50000000",
        "--data-dir",
        &dir,
        "--json",
    ]));
    assert_eq!(deployed["status"], "ok", "{deployed}");
    let address = deployed["address"].as_str().unwrap().to_string();
    // "greet", NUL, "ward": its output "hi" through `ward`.
    call_on_both(&dir, &address, "0x67726565740077617264", "0x6869");
    // No method named: refused, a receipt.
    let refused = last_json(&ward(&[
        "call",
        &address,
        "--input",
        "0x6772656574",
        "--data-dir",
        &dir,
        "--json",
    ]));
    assert_eq!(refused["error"]["kind"], "entry_not_found", "{refused}");
    let state = last_json(&ward(&["state", &address, "--data-dir", &dir, "--json"]));
    assert_eq!(state["kind"], "wasi-reactor", "{state}");
    assert_eq!(
        ward(&[
            "deploy",
            module,
            "--wasi",
            "--wasi-reactor",
            "--data-dir",
            &dir
        ])
        .status
        .code(),
        Some(2)
    );
}

/// A data directory registers the runtimes this checkout builds: a
/// Solidity ERC-20 deployed for `evm`, a transfer and its event decoded by
/// the ABI, and a revert's message, each in a process of its own.
#[test]
fn a_data_directory_runs_solidity_contracts_for_the_evm_runtime() {
    ward_testkit::contracts::build().unwrap();
    let dir = data_dir("evm");
    let sol = |file: &str| {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../contracts/evm/solidity")
            .join(file)
            .display()
            .to_string()
    };
    let (bin, abi) = (sol("Token.bin"), sol("Token.abi"));
    let out = ward(&[
        "deploy",
        "--runtime",
        "evm",
        &bin,
        "--abi",
        &abi,
        "--json-args",
        "[77]",
        "--data-dir",
        &dir,
        "--json",
    ]);
    let deployed = last_json(&out);
    assert_eq!(deployed["status"], "ok", "{deployed}");
    let token = deployed["address"].as_str().unwrap().to_owned();
    let to = "0x00000000000000000000000000000000000000aa";
    let args = format!("{{\"to\": \"{to}\", \"value\": 7}}");
    // `transfer` on the token, its arguments as JSON.
    let transfer = |args: &str| {
        ward(&[
            "call",
            &token,
            "--abi",
            &abi,
            "--method",
            "transfer",
            "--json-args",
            args,
            "--data-dir",
            &dir,
            "--json",
        ])
    };
    let out = transfer(&args);
    let sent = last_json(&out);
    assert_eq!(sent["decoded"], true, "{sent}");
    assert_eq!(sent["events"][0]["fields"]["value"], 7);
    // The receipt's EVM gas: at 64 Ward gas each, within the Ward gas used.
    let evm_gas = sent["runtime_gas"].as_u64().unwrap();
    assert!(evm_gas > 20_000, "{sent}");
    assert!(sent["gas_used"].as_u64().unwrap() > 64 * evm_gas, "{sent}");
    let args = format!("[\"{to}\", 71]");
    let out = transfer(&args);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(last_json(&out)["decoded"], "insufficient balance");
    // Not a runtime's name: a usage error, nothing deployed.
    let out = ward(&["deploy", "--runtime", "EVM!", &bin, "--data-dir", &dir]);
    assert_eq!(out.status.code(), Some(2));
}
