//! The C test program (`tests/c/ward_test.c`), built with the system's C
//! compiler against this crate's static library and run: plain, with its
//! gas compared to the Rust API's for the same calls, and under
//! AddressSanitizer with leak detection, which must report nothing.

#![allow(clippy::unwrap_used, reason = "test")]

use std::{
    path::{Path, PathBuf},
    process::Command,
};

use ward_testkit::{MapChain, MapContext};
use ward_vm::{BackendKind, CallContext, Config, Entry, Gas, RunOptions};

mod support;
use support::library_dir;

/// Builds the C program with `extra` compiler flags; `None` (with the
/// reason printed) when there is no C compiler.
fn build(name: &str, extra: &[&str]) -> Option<PathBuf> {
    build_source("tests/c/ward_test.c", name, extra)
}

/// Builds C file `source` (relative to the crate) into program `name`.
fn build_source(source: &str, name: &str, extra: &[&str]) -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = std::env::temp_dir().join(format!("ward-capi-{}-{name}", std::process::id()));
    let compiler = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let built = Command::new(&compiler)
        .args(["-std=c11", "-Wall", "-Wextra", "-Werror", "-g", "-O1"])
        .args(extra)
        .arg("-I")
        .arg(dir.join("include"))
        .arg(dir.join(source))
        .arg("-o")
        .arg(&out)
        .arg(library_dir().join("libward_capi.a"))
        .args(["-lm", "-ldl", "-lpthread"])
        .output();
    match built {
        Err(e) => {
            eprintln!("{compiler}: {e}: the C tests need a C compiler");
            None
        }
        Ok(result) => {
            assert!(
                result.status.success(),
                "{compiler} failed:\n{}",
                String::from_utf8_lossy(&result.stderr)
            );
            Some(out)
        }
    }
}

/// Without a C compiler the C tests cannot run: said on stderr by
/// `build`, and a failure where every test must run (`make test`).
fn skipped() {
    ward_testkit::skip("no C compiler: the C tests cannot run");
}

fn token_file() -> PathBuf {
    let path = std::env::temp_dir().join(format!("ward-capi-{}-token.wasm", std::process::id()));
    std::fs::write(&path, ward_testkit::contracts::wasm("token")).unwrap();
    path
}

/// The program's second argument: a parent that spins a child
/// ([`ward_testkit::spinning_parent`]).
fn parent_file() -> PathBuf {
    let path = std::env::temp_dir().join(format!("ward-capi-{}-parent.wasm", std::process::id()));
    std::fs::write(&path, ward_testkit::spinning_parent()).unwrap();
    path
}

/// The C program's caller, address, height and time, for the Rust API's
/// side of the comparison.
const CONTEXT: MapContext = MapContext {
    caller: [0xa1; 32],
    address: [0x70; 32],
    height: 7,
    time: 1_700_000_000_000,
};

/// The gas of each of `calls` (entry, input, read-only) of `wasm`, in
/// order on one map, by the Rust API (`ward_vm::execute` with a `Chain`).
fn rust_api_gas(
    kind: BackendKind,
    wasm: &[u8],
    calls: Vec<(&str, Vec<u8>, bool)>,
    gas: u64,
) -> Vec<u64> {
    let config = Config::default();
    let backend = ward_testkit::backend(kind, &config);
    let module = ward_vm::compile(&*backend, &config, wasm).unwrap();
    let chain = MapChain {
        context: CONTEXT,
        ..MapChain::default()
    };
    calls
        .into_iter()
        .map(|(entry, input, read_only)| {
            let mut none = |_| ward_vm::Reply::Trap("none".into());
            let context = CallContext::default().with_chain(Box::new(chain.sharing(read_only)));
            let options = RunOptions {
                input,
                gas_limit: Gas::new(gas),
                ..RunOptions::default()
            };
            let execution = ward_vm::execute(
                &*backend,
                &module,
                &Entry::Main(entry.into()),
                options,
                context,
                &mut none,
            )
            .unwrap();
            execution.outcome.gas_used.get()
        })
        .collect()
}

/// The gas of the C program's four token calls, by the Rust API: deploy,
/// transfer, balance_of, the overdraft.
fn rust_gas(kind: BackendKind) -> Vec<u64> {
    use ward_sdk::codec::{call_input, encode};
    let bob = [0xb0u8; 32];
    let calls = vec![
        ("deploy", encode(&1_000u128), false),
        ("main", call_input("transfer", &(bob, 250u128)), false),
        ("main", call_input("balance_of", &bob), true),
        ("main", call_input("transfer", &(bob, 5_000u128)), false),
    ];
    rust_api_gas(
        kind,
        &ward_testkit::contracts::wasm("token"),
        calls,
        10_000_000,
    )
}

/// The gas figures the program printed for `backend`, in order.
fn printed_gas(stdout: &str, backend: &str) -> Vec<u64> {
    stdout
        .lines()
        .filter(|line| line.starts_with(&format!("{backend} ")))
        .filter_map(|line| {
            let at = line.find(" gas ")? + " gas ".len();
            line[at..]
                .split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .collect()
}

#[test]
fn the_c_program_passes_with_the_rust_api_s_gas() {
    let Some(program) = build("plain", &[]) else {
        return skipped();
    };
    let token = token_file();
    let out = Command::new(&program)
        .arg(&token)
        .arg(parent_file())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("all passed\n"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (kind, name) in [
        (BackendKind::Wasmtime, "wasmtime"),
        (BackendKind::Wasmi, "wasmi"),
    ] {
        let printed = printed_gas(&stdout, name);
        assert_eq!(printed, rust_gas(kind), "{name}: C vs Rust\n{stdout}");
        // ward_call_cancel from a second thread ended a spinning call.
        let cancelled = format!("{name}: a spinning call cancelled from another thread: cancelled");
        assert!(stdout.contains(&cancelled), "{stdout}");
        // A child spinning under a call stops with it.
        for (by, kind) in [("timeout", "timeout"), ("cancel flag", "cancelled")] {
            let stopped = format!("{name}: a spinning child stopped by its call's {by}: {kind}");
            assert!(stdout.contains(&stopped), "{stdout}");
        }
    }
    assert_eq!(
        printed_gas(&stdout, "wasmtime"),
        printed_gas(&stdout, "wasmi")
    );
    let _ = std::fs::remove_file(program);
}

#[test]
fn the_c_program_is_clean_under_address_sanitizer() {
    let Some(program) = build("asan", &["-fsanitize=address", "-fno-omit-frame-pointer"]) else {
        return skipped();
    };
    let token = token_file();
    let out = Command::new(&program)
        .arg(&token)
        .arg(parent_file())
        // wasmtime handles its own guard-page faults (a guest's out-of-
        // bounds access): the sanitizer leaves SIGSEGV to it; leaks are
        // reported at exit.
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:handle_segv=0:allow_user_segv_handler=1:exitcode=23",
        )
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.ends_with("all passed\n"),
        "exit {:?}\n{stdout}\n{stderr}",
        out.status.code()
    );
    assert!(
        !stderr.contains("ERROR: AddressSanitizer") && !stderr.contains("ERROR: LeakSanitizer"),
        "{stderr}"
    );
    let _ = std::fs::remove_file(program);
}

/// docs/embedding.md's C example (`examples/counter.c`), as the docs show
/// it: built, run on the SDK counter, with the Rust API's gas.
#[test]
fn the_documented_c_example_builds_and_runs() {
    let Some(program) = build_source("examples/counter.c", "example", &[]) else {
        return skipped();
    };
    let counter =
        std::env::temp_dir().join(format!("ward-capi-{}-counter.wasm", std::process::id()));
    let wasm = ward_testkit::contracts::wasm("counter");
    std::fs::write(&counter, &wasm).unwrap();
    let out = Command::new(&program).arg(&counter).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // The same two calls through the Rust API.
    use ward_sdk::codec::{call_input, encode};
    let calls = vec![
        ("deploy", encode(&5u64), false),
        ("main", call_input("increment", &2u64), false),
    ];
    let gas = rust_api_gas(BackendKind::Wasmtime, &wasm, calls, 1_000_000)[1];
    assert_eq!(stdout, format!("ok: count \"7\", {gas} gas\n"));
    let _ = std::fs::remove_file(program);
}
