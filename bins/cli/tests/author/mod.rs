//! `ward new` and `ward build` as an author runs them: a new crate passes
//! its own tests as written, builds, and deploys.

use std::{
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    time::Duration,
};

use super::{last_json, ward};

/// A fresh directory for this test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-new-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The repository's target directory: the crate's build shares what the
/// example contracts' tests compiled (the same dependencies, versions and
/// profile), so only the new crate itself is compiled.
fn shared_target() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// How long one command in a new crate may take: a first host build on a
/// slow, loaded machine, with room to spare. A command that waits for
/// something that never comes (a lock, the network) fails the test with
/// what it printed, instead of holding the gate until CI stops it.
const COMMAND_BOUND: Duration = Duration::from_secs(40 * 60);

/// Runs `program` in the new crate, offline: the crate builds with what
/// contracts/Cargo.lock pins, which `make unit` fetches first (`cargo
/// fetch --locked` in contracts/), never with what the registry holds
/// that day; a crate missing from the cache fails at once, by name.
/// The cargo running these tests.
fn cargo() -> String {
    std::env::var("CARGO").unwrap_or_else(|_| "cargo".into())
}

/// A new crate's `cargo test` ran its two tests, `test` one of them.
fn passes(tested: &Output, test: &str) {
    ok(tested, "cargo test");
    let stdout = String::from_utf8_lossy(&tested.stdout);
    assert!(stdout.contains(&format!("test {test} ... ok")), "{stdout}");
    assert!(stdout.contains("2 passed"), "{stdout}");
}

fn in_crate(dir: &Path, program: &str, args: &[&str]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", shared_target())
        .env("CARGO_NET_OFFLINE", "true")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let drain = |mut pipe: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let deadline = ward_vm::clock::now() + COMMAND_BOUND;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if ward_vm::clock::passed(deadline) {
            let _ = child.kill();
            let _ = child.wait();
            let (out, err) = (stdout.join().unwrap(), stderr.join().unwrap());
            panic!(
                "`{program} {}` in {} did not end in {COMMAND_BOUND:?}:\n{}\n{}",
                args.join(" "),
                dir.display(),
                String::from_utf8_lossy(&out),
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Every registry package in the crate's Cargo.lock, at a version Ward's
/// own contracts' Cargo.lock has: `cargo test`, with or without the
/// `wasmtime` feature, resolved nothing anew from the registry, so the
/// crate builds with what Ward was tested with, whatever crates.io holds
/// today.
fn no_version_drift(dir: &Path) {
    let packages = |text: &str| -> std::collections::BTreeSet<(String, String)> {
        let field = |block: &str, key: &str| {
            block.lines().find_map(|line| {
                let value = line.strip_prefix(key)?.strip_prefix(" = \"")?;
                Some(value.trim_end_matches('"').to_owned())
            })
        };
        text.split("[[package]]")
            .filter(|block| field(block, "source").is_some())
            .map(|block| {
                (
                    field(block, "name").unwrap(),
                    field(block, "version").unwrap(),
                )
            })
            .collect()
    };
    let ours = packages(include_str!("../../../../contracts/Cargo.lock"));
    let theirs = packages(&std::fs::read_to_string(dir.join("Cargo.lock")).unwrap());
    let drifted: Vec<_> = theirs.difference(&ours).collect();
    assert!(
        drifted.is_empty(),
        "resolved anew from the registry: {drifted:?}"
    );
    assert!(
        theirs.iter().any(|(name, _)| name == "wasmtime"),
        "the lock lost wasmtime's dependencies"
    );
}

fn ok(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_new_crate_passes_its_tests_builds_and_deploys() {
    let root = scratch("demo");
    let dir = root.join("demo");
    ok(
        &ward(&["new", "demo", "--path", dir.to_str().unwrap()]),
        "ward new",
    );
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "tests/demo.rs",
        "README.md",
    ] {
        assert!(dir.join(file).is_file(), "{file} missing");
    }

    // Exactly what the README says: cargo test, then ward build.
    let cargo = cargo();
    passes(
        &in_crate(&dir, &cargo, &["test"]),
        "greets_counts_and_emits",
    );
    // The README's second line: both backends, in lockstep. `--locked`:
    // the first run's lock already has wasmtime's dependencies, at the
    // versions of Ward's contracts.
    no_version_drift(&dir);
    let both = in_crate(
        &dir,
        &cargo,
        &["test", "--locked", "--features", "wasmtime"],
    );
    ok(&both, "cargo test --locked --features wasmtime");
    assert!(String::from_utf8_lossy(&both.stdout).contains("2 passed"));

    let built = in_crate(&dir, env!("CARGO_BIN_EXE_ward"), &["build", "--json"]);
    ok(&built, "ward build");
    let report = last_json(&built);
    assert_eq!(report["package"], "demo");
    let wasm = report["wasm"].as_str().unwrap().to_owned();
    assert!(
        wasm.ends_with("wasm32-unknown-unknown/release/demo.wasm"),
        "{wasm}"
    );
    assert!(report["bytes"].as_u64().unwrap() > 1_000);
    let methods = report["schema"]["methods"].to_string();
    assert!(
        methods.contains("greet") && methods.contains("visits"),
        "{methods}"
    );

    let data = root.join("chain");
    let data = data.to_str().unwrap();
    let deployed = ward(&[
        "deploy",
        &wasm,
        "--arg",
        "str:Hello",
        "--data-dir",
        data,
        "--json",
    ]);
    ok(&deployed, "ward deploy");
    let address = last_json(&deployed)["address"].as_str().unwrap().to_owned();
    let called = ward(&[
        "call",
        &address,
        "--method",
        "greet",
        "--arg",
        "str:world",
        "--data-dir",
        data,
        "--json",
    ]);
    ok(&called, "ward call");
    let receipt = last_json(&called);
    assert_eq!(receipt["decoded"], "Hello, world!");
    assert_eq!(receipt["events"][0]["name"], "Greeted");
    assert_eq!(receipt["events"][0]["fields"]["visit"], "1");
    std::fs::remove_dir_all(&root).unwrap();
}

/// `ward new --abi solidity`: the crate passes its tests, and `ward
/// build` writes the ABI JSON and a Solidity interface beside the module.
#[test]
fn a_solidity_abi_crate_passes_its_tests_and_builds_its_abi_files() {
    let root = scratch("sol");
    let dir = root.join("greeter-sol");
    ok(
        &ward(&[
            "new",
            "greeter-sol",
            "--abi",
            "solidity",
            "--path",
            dir.to_str().unwrap(),
        ]),
        "ward new --abi solidity",
    );
    let cargo = cargo();
    passes(&in_crate(&dir, &cargo, &["test"]), "greets_counts_and_logs");

    // From the crate's parent, by a relative path.
    let built = in_crate(
        &root,
        env!("CARGO_BIN_EXE_ward"),
        &["build", "--json", "--path", "greeter-sol"],
    );
    ok(&built, "ward build");
    let report = last_json(&built);
    let abi_path = report["abi"].as_str().unwrap().to_owned();
    assert!(
        abi_path.ends_with("release/greeter-sol.abi.json"),
        "{abi_path}"
    );
    let abi: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&abi_path).unwrap()).unwrap();
    let names: Vec<&str> = abi
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["name"].as_str())
        .collect();
    assert_eq!(names, ["greet", "visits", "Greeted"], "{abi}");
    assert_eq!(abi[0]["type"], "constructor", "{abi}");
    assert_eq!(abi[2]["stateMutability"], "view", "{abi}");
    let interface = std::fs::read_to_string(report["interface"].as_str().unwrap()).unwrap();
    for line in [
        "pragma solidity ^0.8.0;",
        "interface IGreeterSol {",
        "event Greeted(address indexed who, string name, uint64 visit);",
        "function greet(string memory name) external returns (string memory);",
        "function visits() external view returns (uint64);",
    ] {
        assert!(interface.contains(line), "{line:?} is not in:\n{interface}");
    }
    // The bytecode Ethereum tools deploy: the Wasm creation data of the
    // module, in hex.
    let wasm = std::fs::read(report["wasm"].as_str().unwrap()).unwrap();
    let bin = std::fs::read_to_string(report["bytecode"].as_str().unwrap()).unwrap();
    assert!(bin.starts_with("0xef5700"), "{}", &bin[..16]);
    assert_eq!(
        hex::decode(&bin[2..]).unwrap(),
        ward_chain::tx::eth::wasm_creation_code(&wasm)
    );
    std::fs::remove_dir_all(&root).unwrap();
}

#[test]
fn new_and_build_refuse_what_they_cannot_do() {
    let root = scratch("refused");
    let name_of = |out: &Output| String::from_utf8_lossy(&out.stderr).into_owned();
    for bad in ["Demo", "1demo", "de mo", "", "ward-sdk"] {
        let out = ward(&["new", bad, "--path", root.join("x").to_str().unwrap()]);
        assert!(!out.status.success(), "{bad:?} was accepted");
        assert!(!root.join("x").exists(), "{bad:?} wrote files");
    }
    // An existing directory with files in it is left alone.
    std::fs::write(root.join("keep"), b"mine").unwrap();
    let out = ward(&["new", "demo", "--path", root.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        name_of(&out).contains("is not an empty directory"),
        "{}",
        name_of(&out)
    );
    assert_eq!(std::fs::read(root.join("keep")).unwrap(), b"mine");
    // Not Ward's source tree.
    let out = ward(&[
        "new",
        "demo",
        "--path",
        root.join("y").to_str().unwrap(),
        "--ward-source",
        root.to_str().unwrap(),
    ]);
    assert!(
        name_of(&out).contains("is not Ward's source tree"),
        "{}",
        name_of(&out)
    );
    // A directory that is no crate.
    let out = ward(&["build", "--path", root.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        name_of(&out).contains("cannot read the crate"),
        "{}",
        name_of(&out)
    );
    std::fs::remove_dir_all(&root).unwrap();
}
