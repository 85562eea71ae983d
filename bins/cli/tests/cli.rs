//! `ward` as a user runs it: exit codes, JSON on stdout's last line, typed
//! outcomes for hostile files, and a snapshot of the human output
//! (re-bless with `BLESS=1 cargo test -p ward-cli`).

#![allow(clippy::unwrap_used, reason = "test helpers")]

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;

use chain::{data_dir, deploy_example, deploy_json};

mod author;
mod chain;
mod compile;
mod docs;
mod kinds;
mod layers;
mod node;
mod restore;
mod schema;
mod trace;
mod upgrade;
mod usage;

fn ward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(args)
        .output()
        .expect("ward runs")
}

fn example(name: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples")
        .join(name)
        .display()
        .to_string()
}

fn temp_file(name: &str, bytes: &[u8]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}

/// Runs `ward run ARGS --json` and returns (exit code, the last stdout line as JSON).
fn run_json(args: &[&str]) -> (i32, Value) {
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.push("--json");
    let out = ward(&all);
    (out.status.code().unwrap(), last_json(&out))
}

/// The JSON object on stdout's last line.
fn last_json(out: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_else(|| {
        panic!(
            "no output; stderr: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    serde_json::from_str(last).unwrap()
}

#[test]
fn hello_runs_on_both_backends_with_the_same_outcome() {
    let hello = example("hello.wat");
    let mut outcomes = Vec::new();
    for backend in ["wasmtime", "wasmi"] {
        let (code, json) = run_json(&[&hello, "--input", "0x77617264", "--backend", backend]);
        assert_eq!(code, 0, "{json}");
        assert_eq!(json["status"], "ok");
        assert_eq!(json["exit_code"], 0);
        assert_eq!(json["output"], "0x68656c6c6f2c2077617264"); // "hello, ward"
        assert_eq!(json["backend"], backend);
        assert!(json["error"].is_null());
        assert!(json["elapsed_us"].is_u64());
        assert!(json["gas_used"].is_u64());
        let mut json = json;
        json.as_object_mut().unwrap().remove("elapsed_us");
        json.as_object_mut().unwrap().remove("backend");
        outcomes.push(json);
    }
    assert_eq!(outcomes[0], outcomes[1]);
}

#[test]
fn a_revert_exits_one_and_keeps_output() {
    let (code, json) = run_json(&[&example("hello.wat")]);
    assert_eq!(code, 1);
    assert_eq!(json["status"], "reverted");
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["output"], "0x656d70747920696e707574"); // "empty input"
}

#[test]
fn hostile_files_are_typed_outcomes() {
    let cases: &[(&str, &[u8], &str)] = &[
        ("empty.wasm", b"", "invalid_wasm"),
        (
            "garbage.wasm",
            b"\x00asm\x01\x00\x00\x00\xff\xff\xff",
            "invalid_wasm",
        ),
        ("truncated.wasm", b"\x00asm\x01\x00", "invalid_wasm"),
        ("text.wasm", b"this is not wasm", "invalid_wasm"),
        ("broken.wat", b"(module (func", "invalid_wasm"),
        ("nomain.wat", b"(module)", "entry_not_found"),
        (
            "import.wat",
            b"(module (import \"env\" \"f\" (func)) (func (export \"main\")))",
            "unknown_import",
        ),
        (
            "bigmem.wat",
            b"(module (memory 1000) (func (export \"main\")))",
            "limit_exceeded",
        ),
    ];
    for (name, bytes, kind) in cases {
        let path = temp_file(name, bytes);
        for backend in ["wasmtime", "wasmi"] {
            let (code, json) = run_json(&[path.to_str().unwrap(), "--backend", backend]);
            assert_eq!(code, 1, "{name}: {json}");
            assert_eq!(json["status"], "rejected", "{name}");
            assert_eq!(json["error"]["kind"], *kind, "{name}: {json}");
        }
    }
}

#[test]
fn traps_timeouts_and_limits() {
    let trap = temp_file("trap.wat", b"(module (func (export \"main\") unreachable))");
    let (code, json) = run_json(&[trap.to_str().unwrap()]);
    assert_eq!(
        (
            code,
            json["status"].as_str(),
            json["error"]["kind"].as_str()
        ),
        (1, Some("trapped"), Some("unreachable"))
    );

    let spin = temp_file(
        "spin.wat",
        b"(module (func (export \"main\") (loop (br 0))))",
    );
    for backend in ["wasmtime", "wasmi"] {
        let (code, json) = run_json(&[
            spin.to_str().unwrap(),
            "--timeout-ms",
            "30",
            "--backend",
            backend,
        ]);
        assert_eq!(
            (code, json["status"].as_str()),
            (1, Some("timeout")),
            "{json}"
        );
    }

    let mem = temp_file("mem.wat", b"(module (memory 2) (func (export \"main\")))");
    let (code, json) = run_json(&[mem.to_str().unwrap(), "--max-memory-pages", "1"]);
    assert_eq!(
        (code, json["error"]["kind"].as_str()),
        (1, Some("limit_exceeded"))
    );
    let (code, _) = run_json(&[mem.to_str().unwrap(), "--max-memory-pages", "2"]);
    assert_eq!(code, 0);
}

#[test]
fn invoke_calls_an_export_with_typed_arguments() {
    let path = temp_file(
        "add.wat",
        b"(module (func (export \"add\") (param i32 i64) (result i64) (i64.add (i64.extend_i32_s (local.get 0)) (local.get 1))))",
    );
    for backend in ["wasmtime", "wasmi"] {
        let out = ward(&[
            "run",
            path.to_str().unwrap(),
            "--invoke",
            "add",
            "--args",
            "-2,0x10",
            "--backend",
            backend,
        ]);
        assert_eq!(out.status.code(), Some(0));
        assert_eq!(
            String::from_utf8(out.stdout).unwrap().lines().next(),
            Some("14")
        );
    }
    let (code, json) = run_json(&[path.to_str().unwrap(), "--invoke", "missing"]);
    assert_eq!(
        (code, json["error"]["kind"].as_str()),
        (1, Some("entry_not_found"))
    );
}

#[test]
fn usage_and_io_errors_exit_two() {
    let hello = example("hello.wat");
    let cases: &[&[&str]] = &[
        &["run", "/no/such/file.wasm"],
        &["run", &hello, "--input", "0xzz"],
        &["run", &hello, "--input", "0x123"],
        &["run", &hello, "--input-file", "/no/such/input"],
        &["run", &hello, "--backend", "v8"],
        &["run", &hello, "--invoke", "main", "--args", "1"],
        &["frobnicate"],
    ];
    for args in cases {
        let out = ward(args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(!out.stderr.is_empty(), "{args:?} explains itself");
    }
}

#[test]
fn human_output_snapshot() {
    let out = ward(&[
        "run",
        &example("hello.wat"),
        "--input",
        "0x77617264",
        "--debug-log",
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    // Elapsed time varies run to run; everything else is fixed.
    let stable: String = stdout
        .lines()
        .filter(|l| !l.starts_with("elapsed:"))
        .map(|l| format!("{l}\n"))
        .collect();
    let stderr = String::from_utf8(out.stderr).unwrap();
    let actual = format!("--- stdout\n{stable}--- stderr\n{stderr}");
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/run_hello.txt");
    if std::env::var_os("BLESS").is_some() {
        std::fs::write(&path, &actual).unwrap();
    }
    let expected = std::fs::read_to_string(&path).expect("snapshot exists (run with BLESS=1)");
    assert_eq!(
        actual, expected,
        "snapshot differs; re-bless with BLESS=1 if intended"
    );
}

#[test]
fn inspect_reports_a_valid_module_and_the_exact_rejection() {
    let out = ward(&["inspect", &example("hello.wat"), "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let json = last_json(&out);
    assert_eq!(json["valid"], true);
    assert_eq!(json["imports"][0]["module"], "ward");
    assert!(json["instrumented_bytes"].as_u64().unwrap() > json["module_bytes"].as_u64().unwrap());
    let pages = json["limits"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == "max_memory_pages")
        .unwrap();
    assert_eq!(
        (pages["found"].as_u64(), pages["limit"].as_u64()),
        (Some(1), Some(256))
    );

    let cases: &[(&str, &[u8], &str)] = &[
        ("bigmem.wat", b"(module (memory 999))", "limit_exceeded"),
        (
            "simd.wat",
            b"(module (func (drop (v128.const i64x2 0 0))))",
            "unsupported_feature",
        ),
        (
            "badimport.wat",
            b"(module (import \"env\" \"f\" (func)))",
            "unknown_import",
        ),
        (
            "garbage.wasm",
            b"\x00asm\x01\x00\x00\x00\x99",
            "invalid_wasm",
        ),
    ];
    for (name, bytes, kind) in cases {
        let path = temp_file(name, bytes);
        let out = ward(&["inspect", path.to_str().unwrap(), "--json"]);
        assert_eq!(out.status.code(), Some(1), "{name}");
        let json = last_json(&out);
        assert_eq!(json["valid"], false, "{name}");
        assert_eq!(json["error"]["kind"], *kind, "{name}: {json}");
    }
    assert_eq!(
        ward(&["inspect", "/no/such/file.wasm"]).status.code(),
        Some(2)
    );
}

/// `ward bench` moved to its own binary: `ward` says where, and fails.
#[test]
fn ward_bench_says_where_the_suite_went() {
    let out = ward(&["bench", "--filter", "warm_call", "--json"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("--bin ward-bench"), "{stderr}");
}

/// Errors say what is wrong, on one line where they are one thing: WAT
/// that does not parse is never deployed and names its line and column; a
/// bad magic number is a sentence; a missing export is `entry_not_found`
/// whatever `--args` says; a binary without `.wasm` is not called bad
/// UTF-8; a data directory that is a file is named; and with `--json`
/// every error ends stdout with an error object.
#[test]
fn errors_name_what_is_wrong_and_json_callers_always_get_json() {
    let bad_wat = temp_file(
        "bad.wat",
        b"(module\n  (func (export \"main\") (frobnicate)))",
    );
    let bad_wat = bad_wat.display().to_string();
    let dir = data_dir("errors");
    let out = ward(&["deploy", &bad_wat, "--data-dir", &dir]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("bad.wat:2:"), "{stderr}");
    assert!(!Path::new(&dir).exists(), "a refused deploy made a chain");

    let magic = temp_file("magic.wasm", b"(module)");
    let (code, json) = run_json(&[&magic.display().to_string()]);
    let message = json["error"]["message"].as_str().unwrap();
    assert_eq!(code, 1);
    assert!(
        message.contains("does not start with") && !message.contains('\n'),
        "{message}"
    );

    let gzip = temp_file("archive", &[0x1f, 0x8b, 0x08, 0x00, 0xff, 0xfe]);
    let (_, json) = run_json(&[&gzip.display().to_string()]);
    let message = json["error"]["message"].as_str().unwrap();
    assert!(message.contains("neither a wasm binary"), "{message}");

    let (_, json) = run_json(&[&example("hello.wat"), "--invoke", "nope", "--args", "1"]);
    assert_eq!(json["error"]["kind"], "entry_not_found", "{json}");

    let file = temp_file("not-a-dir", b"x").display().to_string();
    let out = ward(&["deploy", &example("counter.wat"), "--data-dir", &file]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!("{file} is not a directory")),
        "{stderr}"
    );

    // Endless or huge files are refused, not read to the end.
    for args in [
        vec!["run", "/dev/zero"],
        vec!["run", &example("hello.wat"), "--input-file", "/dev/zero"],
        vec!["inspect", "/dev/zero"],
        vec!["deploy", "/dev/zero", "--data-dir", &dir],
    ] {
        let out = ward(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains("larger than 64 MiB"), "{args:?}: {stderr}");
    }

    // With --json, usage, I/O and store errors end stdout with an object.
    let address = format!("0x{}", "01".repeat(32));
    for (args, kind) in [
        (vec!["run", "/no/such/file.wasm", "--json"], "io"),
        (vec!["run", "--json"], "usage"),
        (
            vec!["run", &example("hello.wat"), "--gas", "-1", "--json"],
            "usage",
        ),
        (vec!["state", "0x01", "--json"], "usage"),
        (
            vec!["state", &address, "--data-dir", &file, "--json"],
            "store",
        ),
        (
            vec!["deploy", &bad_wat, "--data-dir", &dir, "--json"],
            "usage",
        ),
    ] {
        let out = ward(&args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let json = last_json(&out);
        assert_eq!(json["status"], "error", "{args:?}: {json}");
        assert_eq!(json["error"]["kind"], kind, "{args:?}: {json}");
        assert!(
            json["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
}
