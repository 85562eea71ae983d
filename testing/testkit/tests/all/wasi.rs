//! WASI preview 1 on both backends: the official test suite
//! (`../shared/wasi-testsuite`), hostile programs that must end in typed
//! outcomes within their gas, and C programs built by Debian's clang.

use std::{
    collections::BTreeMap,
    path::{Path, PathBuf},
};

use serde_json::Value as Json;
use ward_testkit::{assert_agree, wasi, wasm};
use ward_vm::{ErrorKind, Execution, Status};
use ward_wasi::{Entry, Errno, Preopen, Tree, WasiConfig};

/// `ward run`'s default gas limit.
const GAS: u64 = 10_000_000_000;

/// The suite's tests (`WARD_WASI_SUITE_DIR`, else `../shared`), or
/// `None` when this machine has none: said, and a failure under `make
/// test`.
fn suite_dir() -> Option<PathBuf> {
    match ward_testkit::shared_data("wasi-testsuite/rust", "WARD_WASI_SUITE_DIR") {
        Ok(dir) => Some(dir),
        Err(why) => {
            ward_testkit::skip(&why);
            None
        }
    }
}

/// `name reason…` lines of `wasi-skip.txt` (`#` starts a comment).
fn skips() -> BTreeMap<String, String> {
    include_str!("../../wasi-skip.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, reason) = l.split_once(char::is_whitespace).unwrap_or((l, ""));
            assert!(!reason.trim().is_empty(), "skip `{name}` gives no reason");
            (name.to_string(), reason.trim().to_string())
        })
        .collect()
}

/// What a test of the suite expects, from its JSON (the defaults of the
/// suite's specification when absent).
struct Spec {
    args: Vec<String>,
    env: Vec<(String, String)>,
    root: Option<String>,
    exit_code: i32,
    stdout: Option<String>,
}

fn spec(wasm: &Path) -> Spec {
    let json: Json = match std::fs::read(wasm.with_extension("json")) {
        Ok(bytes) => serde_json::from_slice(&bytes).unwrap(),
        Err(_) => Json::Object(Default::default()),
    };
    let strings = |v: Option<&Json>| -> Vec<String> {
        v.and_then(Json::as_array)
            .map(|a| a.iter().map(|s| s.as_str().unwrap().to_string()).collect())
            .unwrap_or_default()
    };
    Spec {
        args: strings(json.get("args")),
        env: json
            .get("env")
            .and_then(Json::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                    .collect()
            })
            .unwrap_or_default(),
        root: json.get("root").and_then(Json::as_str).map(String::from),
        exit_code: json.get("exit_code").and_then(Json::as_i64).unwrap_or(0) as i32,
        stdout: json.get("stdout").and_then(Json::as_str).map(String::from),
    }
}

/// The exit code a WASI runner reports for an execution.
fn exit_code(run: &Execution) -> Result<i32, String> {
    match run.outcome.status {
        Status::Ok | Status::Reverted => Ok(run.outcome.exit_code),
        other => Err(format!(
            "{other}: {:?}\nstderr: {}",
            run.outcome.error,
            run.debug_log.concat()
        )),
    }
}

#[test]
fn the_official_wasi_test_suite_passes_on_both_backends() {
    let Some(dir) = suite_dir() else {
        return;
    };
    let mut tests: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("WASI test suite not found at {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "wasm"))
        .collect();
    tests.sort();
    assert!(tests.len() >= 46, "{} tests found", tests.len());
    let skips = skips();
    for name in skips.keys() {
        assert!(
            tests
                .iter()
                .any(|t| t.file_stem().unwrap() == name.as_str()),
            "skip `{name}` names no test"
        );
    }
    let backends = wasi::backends();
    let mut failures = Vec::new();
    let mut passed = 0;
    for test in &tests {
        let name = test.file_stem().unwrap().to_string_lossy().into_owned();
        if skips.contains_key(&name) {
            continue;
        }
        let spec = spec(test);
        let mut config = WasiConfig {
            args: std::iter::once(format!("{name}.wasm"))
                .chain(spec.args.iter().cloned())
                .map(String::into_bytes)
                .collect(),
            env: spec
                .env
                .iter()
                .map(|(k, v)| (k.clone().into_bytes(), v.clone().into_bytes()))
                .collect(),
            ..WasiConfig::default()
        };
        // Each test gets its own copy of its root, in memory.
        let root = spec.root.as_ref().map(|r| dir.join(r));
        let before = root.as_ref().map(|r| Tree::from_host(r, u64::MAX).unwrap());
        if let Some(tree) = &before {
            config.preopens.push(Preopen {
                guest: "/".into(),
                tree: tree.clone(),
            });
        }
        let runs = wasi::run(&backends, &std::fs::read(test).unwrap(), &config, b"", GAS);
        assert_agree(&runs);
        let run = &runs[0];
        let stdout = String::from_utf8_lossy(&run.outcome.output);
        match exit_code(run) {
            Ok(code)
                if code == spec.exit_code && spec.stdout.as_deref().is_none_or(|s| s == stdout) =>
            {
                passed += 1;
            }
            Ok(code) => failures.push(format!(
                "{name}: exit code {code} (expected {}), stdout {stdout:?}\nstderr: {}",
                spec.exit_code,
                run.debug_log.concat()
            )),
            Err(e) => failures.push(format!("{name}: {e}")),
        }
        // Nothing the program did reached the host's directory.
        if let (Some(root), Some(before)) = (&root, &before) {
            assert_eq!(&Tree::from_host(root, u64::MAX).unwrap(), before, "{name}");
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    eprintln!(
        "WASI test suite: {passed} passed on both backends, {} skipped",
        skips.len()
    );
}

/// A WASI command in WAT: `$body` runs in `_start`, and the program exits
/// with whatever `$body` leaves in local `$errno`. Memory: 0..16 scratch,
/// 16.. iovecs and buffers.
fn program(imports: &str, body: &str) -> Vec<u8> {
    wasm(&format!(
        r#"(module
            {imports}
            (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
            (memory (export "memory") 4)
            (data (i32.const 64) "a")
            (func (export "_start")
                (local $errno i32) (local $i i32) (local $fd i32)
                {body}
                (call $exit (local.get $errno))))"#
    ))
}

fn preopened() -> WasiConfig {
    WasiConfig {
        preopens: vec![Preopen {
            guest: "/".into(),
            tree: Tree::default(),
        }],
        ..WasiConfig::default()
    }
}

/// Runs a hostile program on both backends and returns the agreed run.
fn hostile(wasm: &[u8], config: &WasiConfig, gas: u64) -> Execution {
    let runs = wasi::run(&wasi::backends(), wasm, config, b"", gas);
    assert_agree(&runs);
    runs.into_iter().next().unwrap()
}

const FD_WRITE: &str = r#"(import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))"#;
const PATH_OPEN: &str = r#"(import "wasi_snapshot_preview1" "path_open" (func $path_open (param i32 i32 i32 i32 i32 i64 i64 i32 i32) (result i32)))"#;

/// 8,192 I/O vectors covering the same 64 KiB: 512 MiB asked of one
/// `fd_write` to `fd`, whose errno is the exit code.
fn huge_write(fd: &str) -> String {
    format!(
        r#"(loop $fill
            (i32.store (i32.add (i32.const 65536) (i32.mul (local.get $i) (i32.const 8))) (i32.const 0))
            (i32.store (i32.add (i32.const 65540) (i32.mul (local.get $i) (i32.const 8))) (i32.const 65536))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $fill (i32.lt_u (local.get $i) (i32.const 8192))))
        (local.set $errno (call $fd_write {fd} (i32.const 65536) (i32.const 8192) (i32.const 0)))"#
    )
}

#[test]
fn a_huge_write_to_stdout_is_refused_before_anything_is_copied() {
    let wasm = program(FD_WRITE, &huge_write("(i32.const 1)"));
    let run = hostile(&wasm, &WasiConfig::default(), GAS);
    assert_eq!(run.outcome.status, Status::Reverted);
    assert_eq!(run.outcome.exit_code, Errno::Fbig as i32);
    assert!(run.outcome.output.is_empty());
    // Refused on the stream limit: the 512 MiB were never charged.
    assert!(
        run.outcome.gas_used.get() < 1_000_000,
        "{}",
        run.outcome.gas_used
    );
}

#[test]
fn a_huge_write_to_a_file_fills_the_virtual_disk_with_a_typed_errno() {
    let open = r#"(drop (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 1)
            (i32.const 1) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 0)))"#;
    let body = format!("{open}\n{}", huge_write("(i32.load (i32.const 0))"));
    let wasm = program(&format!("{FD_WRITE}\n{PATH_OPEN}"), &body);
    let run = hostile(&wasm, &preopened(), GAS);
    assert_eq!(run.outcome.status, Status::Reverted);
    assert_eq!(run.outcome.exit_code, Errno::Nospc as i32);
    // The bytes asked were charged before the disk refused them.
    assert!(run.outcome.gas_used.get() > 512 << 20);
    let wasi = run.wasi.as_ref().unwrap();
    let tree = wasi.preopen_tree(0).unwrap();
    assert_eq!(
        tree.entries.get(b"a".as_slice()),
        Some(&Entry::File(Vec::new()))
    );
    // ... and with less gas the same program runs out of it instead.
    let poor = hostile(&wasm, &preopened(), 100_000_000);
    assert_eq!(poor.outcome.status, Status::OutOfGas);
}

#[test]
fn an_endless_readdir_runs_out_of_gas() {
    let imports = r#"(import "wasi_snapshot_preview1" "fd_readdir" (func $readdir (param i32 i32 i32 i64 i32) (result i32)))"#;
    let body = r#"(loop $again
            (drop (call $readdir (i32.const 3) (i32.const 1024) (i32.const 4096) (i64.const 0) (i32.const 0)))
            (br $again))"#;
    let run = hostile(&program(imports, body), &preopened(), 50_000_000);
    assert_eq!(run.outcome.status, Status::OutOfGas);
    assert_eq!(run.outcome.gas_used.get(), 50_000_000);
}

#[test]
fn descriptor_exhaustion_is_mfile() {
    let body = r#"(loop $again
            (local.set $errno (call $path_open (i32.const 3) (i32.const 0) (i32.const 70) (i32.const 1)
                (i32.const 2) (i64.const 0) (i64.const 0) (i32.const 0) (i32.const 0)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $again (i32.eqz (local.get $errno))))
        (i32.store (i32.const 8) (local.get $i))"#;
    let wasm = wasm_with_dot(PATH_OPEN, body);
    let run = hostile(&wasm, &preopened(), GAS);
    assert_eq!(run.outcome.status, Status::Reverted);
    assert_eq!(run.outcome.exit_code, Errno::Mfile as i32);
}

/// [`program`] with `"."` at offset 70.
fn wasm_with_dot(imports: &str, body: &str) -> Vec<u8> {
    program(&format!("{imports}\n(data (i32.const 70) \".\")"), body)
}

#[test]
fn a_deep_directory_chain_ends_in_a_typed_errno() {
    // mkdir a; cd a; repeat, every level kept open (all rights but
    // fd_write, which a directory cannot have): the descriptor limit ends
    // it.
    let imports = format!(
        r#"{PATH_OPEN}
        (import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))"#
    );
    let body = r#"(local.set $fd (i32.const 3))
        (loop $deeper
            (local.set $errno (call $mkdir (local.get $fd) (i32.const 64) (i32.const 1)))
            (if (i32.eqz (local.get $errno)) (then
                (local.set $errno (call $path_open (local.get $fd) (i32.const 0) (i32.const 64) (i32.const 1)
                    (i32.const 2) (i64.const -65) (i64.const -1) (i32.const 0) (i32.const 0)))
                (local.set $fd (i32.load (i32.const 0)))))
            (br_if $deeper (i32.eqz (local.get $errno))))"#;
    let run = hostile(&program(&imports, body), &preopened(), GAS);
    assert_eq!(run.outcome.status, Status::Reverted);
    assert_eq!(run.outcome.exit_code, Errno::Mfile as i32);
}

#[test]
fn deep_paths_are_nametoolong() {
    // A path of 8,192 bytes ("a/a/a/…") asked of path_create_directory.
    let imports = r#"(import "wasi_snapshot_preview1" "path_create_directory" (func $mkdir (param i32 i32 i32) (result i32)))"#;
    let body = r#"(loop $fill
            (i32.store16 (i32.add (i32.const 4096) (i32.mul (local.get $i) (i32.const 2))) (i32.const 0x2f61))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $fill (i32.lt_u (local.get $i) (i32.const 4096))))
        (local.set $errno (call $mkdir (i32.const 3) (i32.const 4096) (i32.const 8191)))"#;
    let run = hostile(&program(imports, body), &preopened(), GAS);
    assert_eq!(run.outcome.exit_code, Errno::Nametoolong as i32);
}

#[test]
fn filling_the_virtual_disk_with_files_is_nospc() {
    // Files named by a counter, each 1 MiB (fd_allocate) until refused.
    let imports = format!(
        r#"{PATH_OPEN}
        (import "wasi_snapshot_preview1" "fd_allocate" (func $allocate (param i32 i64 i64) (result i32)))"#
    );
    let body = r#"(loop $more
            (i32.store (i32.const 64) (i32.add (i32.const 0x61616161) (local.get $i)))
            (local.set $errno (call $path_open (i32.const 3) (i32.const 0) (i32.const 64) (i32.const 4)
                (i32.const 5) (i64.const -1) (i64.const -1) (i32.const 0) (i32.const 0)))
            (if (i32.eqz (local.get $errno)) (then
                (local.set $errno (call $allocate (i32.load (i32.const 0)) (i64.const 0) (i64.const 1048576)))
                (drop (call $close (i32.load (i32.const 0))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br_if $more (i32.eqz (local.get $errno))))"#;
    let imports = format!(
        r#"{imports}
        (import "wasi_snapshot_preview1" "fd_close" (func $close (param i32) (result i32)))"#
    );
    let run = hostile(&program(&imports, body), &preopened(), GAS);
    assert_eq!(run.outcome.status, Status::Reverted);
    assert_eq!(run.outcome.exit_code, Errno::Nospc as i32);
    let held = run.wasi.as_ref().unwrap().fs_bytes();
    assert!(held <= ward_wasi::Limits::default().max_bytes, "{held}");
    assert!(
        held > ward_wasi::Limits::default().max_bytes - (2 << 20),
        "{held}"
    );
}

#[test]
fn proc_exit_codes_above_125_trap() {
    let run = hostile(
        &program("", "(local.set $errno (i32.const 126))"),
        &WasiConfig::default(),
        GAS,
    );
    assert_eq!(run.outcome.status, Status::Trapped);
    assert_eq!(
        run.outcome.error.as_ref().unwrap().kind,
        ErrorKind::HostError
    );
    let ok = hostile(
        &program("", "(local.set $errno (i32.const 125))"),
        &WasiConfig::default(),
        GAS,
    );
    assert_eq!(
        (ok.outcome.status, ok.outcome.exit_code),
        (Status::Reverted, 125)
    );
}

/// One C program of `wasi-c/` and how it is run.
struct CProgram {
    name: &'static str,
    args: &'static [&'static str],
    env: &'static [(&'static str, &'static str)],
    stdin: &'static [u8],
    /// Files of a preopened directory `data` (natively: `./data`).
    data: &'static [(&'static str, &'static [u8])],
}

const C_PROGRAMS: &[CProgram] = &[
    CProgram {
        name: "printf",
        args: &["x", "y z"],
        env: &[("GREETING", "hello")],
        stdin: b"",
        data: &[],
    },
    CProgram {
        name: "sort",
        args: &[],
        env: &[],
        stdin: b"pear\napple\nzebra\nmango\nApple\n\nbanana split\n",
        data: &[],
    },
    CProgram {
        name: "sort",
        args: &[],
        env: &[],
        stdin: b"",
        data: &[],
    },
    CProgram {
        name: "hash",
        args: &[],
        env: &[],
        stdin: include_bytes!("../../wasi-c/hash.c"),
        data: &[],
    },
    CProgram {
        name: "malloc",
        args: &[],
        env: &[],
        stdin: b"",
        data: &[],
    },
    CProgram {
        name: "files",
        args: &[],
        env: &[],
        stdin: b"",
        data: &[("input.txt", b"one\ntwo\nthree\nfour\n")],
    },
];

/// Where clang 14 finds wasi-libc on Debian.
const WASI_SYSROOT: &str = "/usr/lib/wasm32-wasi";

fn clang(args: &[&str]) {
    let status = std::process::Command::new("clang")
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "clang {args:?}: {status}");
}

#[test]
fn c_programs_match_their_native_builds_on_both_backends() {
    let have_clang = std::process::Command::new("clang")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !have_clang || !Path::new(WASI_SYSROOT).is_dir() {
        ward_testkit::skip(
            "the WASI C programs need Debian's clang, lld, wasi-libc and \
             libclang-rt-14-dev-wasm32 (scripts/install-wasi-c.sh, run by `make test` as root)",
        );
        return;
    }
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("wasi-c");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("wasi-c");
    std::fs::create_dir_all(&out).unwrap();
    let backends = wasi::backends();
    for (n, program) in C_PROGRAMS.iter().enumerate() {
        let source = sources.join(format!("{}.c", program.name));
        let source = source.to_str().unwrap();
        let wasm_path = out.join(format!("{}.wasm", program.name));
        let native = out.join(format!("{}.native", program.name));
        clang(&[
            "--target=wasm32-wasi",
            "-O2",
            source,
            "-o",
            wasm_path.to_str().unwrap(),
            "-lm",
        ]);
        clang(&["-O2", source, "-o", native.to_str().unwrap(), "-lm"]);

        // Natively, in a directory of its own holding `data/`.
        let cwd = out.join(format!("run-{n}"));
        let _ = std::fs::remove_dir_all(&cwd);
        std::fs::create_dir_all(cwd.join("data")).unwrap();
        let mut tree = Tree::default();
        for (file, contents) in program.data {
            std::fs::write(cwd.join("data").join(file), contents).unwrap();
            tree.entries
                .insert(file.as_bytes().to_vec(), Entry::File(contents.to_vec()));
        }
        let mut child = std::process::Command::new(&native)
            .args(program.args)
            .env_clear()
            .envs(program.env.iter().copied())
            .current_dir(&cwd)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(&mut child.stdin.take().unwrap(), program.stdin).unwrap();
        let expected = child.wait_with_output().unwrap();

        let config = WasiConfig {
            args: std::iter::once(format!("{}.wasm", program.name).as_str())
                .chain(program.args.iter().copied())
                .map(|a| a.as_bytes().to_vec())
                .collect(),
            env: program
                .env
                .iter()
                .map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec()))
                .collect(),
            preopens: vec![Preopen {
                guest: "data".into(),
                tree,
            }],
            ..WasiConfig::default()
        };
        let wasm = std::fs::read(&wasm_path).unwrap();
        let runs = wasi::run(&backends, &wasm, &config, program.stdin, GAS);
        assert_agree(&runs);
        let run = &runs[0];
        let what = format!("{} (case {n})", program.name);
        assert_eq!(
            exit_code(run).unwrap(),
            expected.status.code().unwrap(),
            "{what}"
        );
        assert_eq!(
            String::from_utf8_lossy(&run.outcome.output),
            String::from_utf8_lossy(&expected.stdout),
            "{what}: stdout"
        );
        assert_eq!(
            run.debug_log.concat(),
            String::from_utf8_lossy(&expected.stderr),
            "{what}: stderr"
        );
        eprintln!("{what}: identical to native, gas {}", run.outcome.gas_used);
    }
}
