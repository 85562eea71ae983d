//! `scripts/test-data.sh`, how `make test` finds the test suites this
//! repository does not carry: where a variable points, else `../shared`,
//! else fetched with git at a pinned commit into a cache, checked and
//! stamped; where none works, one line saying what it could not fetch and
//! which variable points at a local copy. Here against repositories made
//! on the spot (file URLs), with `../shared` pointed away.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=test",
            "-c",
            "user.email=test@example.invalid",
        ])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A repository at `dir` with `count` empty files named `*.{ext}` under
/// `sub`, committed: its commit id.
fn repository(dir: &Path, sub: &str, ext: &str, count: usize) -> String {
    let files = match sub {
        "" => dir.to_path_buf(),
        sub => dir.join(sub),
    };
    std::fs::create_dir_all(&files).unwrap();
    for i in 0..count {
        std::fs::write(files.join(format!("t{i}.{ext}")), b"").unwrap();
    }
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-q", "-m", "suite"]);
    git(dir, &["rev-parse", "HEAD"])
}

/// The script on `out` with `vars`, nothing inherited that names a suite
/// and `../shared` pointed at nothing.
fn script(out: &Path, vars: &[(&str, String)]) -> Output {
    let mut command = Command::new(root().join("scripts/test-data.sh"));
    command.arg(out);
    for name in [
        "WARD_SPEC_DIR",
        "WARD_WASI_SUITE_DIR",
        "WARD_STATE_TESTS_DIR",
    ] {
        command.env_remove(name);
    }
    command.env("WARD_SHARED_DIR", out.join("no-shared-here"));
    for (name, value) in vars {
        command.env(name, value);
    }
    command.output().unwrap()
}

#[test]
fn the_suites_are_fetched_at_their_pinned_commits_or_one_line_says_what_to_point_at() {
    if Command::new("git").arg("--version").output().is_err() {
        return ward_testkit::skip("git is not installed: the test data script needs it");
    }
    let dir = std::env::temp_dir().join(format!("ward-test-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let spec = dir.join("spec-upstream");
    let wasi = dir.join("wasi-upstream");
    let spec_commit = repository(&spec, "", "wast", 100);
    let wasi_commit = repository(&wasi, "tests/rust/testsuite/wasm32-wasip1", "wasm", 40);
    let state = dir.join("state-upstream");
    let state_commit = repository(&state, "GeneralStateTests", "json", 40);
    let vars = vec![
        ("WARD_SPEC_URL", format!("file://{}", spec.display())),
        ("WARD_SPEC_COMMIT", spec_commit.clone()),
        ("WARD_WASI_SUITE_URL", format!("file://{}", wasi.display())),
        ("WARD_WASI_SUITE_COMMIT", wasi_commit.clone()),
        (
            "WARD_STATE_TESTS_URL",
            format!("file://{}", state.display()),
        ),
        ("WARD_STATE_TESTS_COMMIT", state_commit.clone()),
    ];
    let out = dir.join("cache");
    // Fetched, checked, and the variables written for `make test`.
    let run = script(&out, &vars);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let env = std::fs::read_to_string(out.join("env")).unwrap();
    let fetched_spec = out.join(format!("wasm-testsuite-{}", &spec_commit[..8]));
    let fetched_wasi = out
        .join(format!("wasi-testsuite-{}", &wasi_commit[..8]))
        .join("tests/rust/testsuite/wasm32-wasip1");
    let fetched_state = out
        .join(format!("ethereum-tests-{}", &state_commit[..8]))
        .join("GeneralStateTests");
    assert_eq!(
        env,
        format!(
            "WARD_SPEC_DIR={}\nWARD_WASI_SUITE_DIR={}\nWARD_STATE_TESTS_DIR={}\n",
            fetched_spec.canonicalize().unwrap().display(),
            fetched_wasi.canonicalize().unwrap().display(),
            fetched_state.canonicalize().unwrap().display()
        )
    );
    assert_eq!(git(&fetched_spec, &["rev-parse", "HEAD"]), spec_commit);
    // Again: the stamped copy is used as it is (the upstream may be gone).
    std::fs::remove_dir_all(&spec).unwrap();
    let again = script(&out, &vars);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    // A variable wins over fetching; a directory without the suite's
    // files is refused.
    let given = dir.join("given");
    std::fs::create_dir_all(&given).unwrap();
    let mut with_dir = vars.clone();
    with_dir.push(("WARD_SPEC_DIR", given.display().to_string()));
    let refused = script(&out, &with_dir);
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("fewer than the 100"));
    // Nothing to fetch from: one line, naming the suite and the variable.
    let mut unreachable = vars.clone();
    unreachable[0].1 = format!("file://{}", dir.join("nowhere").display());
    let failed = script(&dir.join("cache-2"), &unreachable);
    assert!(!failed.status.success());
    let stderr = String::from_utf8_lossy(&failed.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].starts_with("make test: could not fetch the WebAssembly spec suite")
            && lines[0].contains("point WARD_SPEC_DIR at a local copy"),
        "{stderr}"
    );
    // A commit the upstream does not have is not taken for it.
    let mut moved = vars.clone();
    moved[3].1 = "0".repeat(40);
    let failed = script(&out, &moved);
    assert!(!failed.status.success());
    assert!(
        String::from_utf8_lossy(&failed.stderr).contains("WARD_WASI_SUITE_DIR"),
        "{}",
        String::from_utf8_lossy(&failed.stderr)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
