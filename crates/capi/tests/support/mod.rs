//! What the C and Go tests share: the static library they link.

use std::{path::PathBuf, process::Command};

/// Where cargo put this crate's static library, brought up to date:
/// beside the test's own `deps` directory. `cargo test` builds a
/// library's rlib for its tests but not its `staticlib`, so the test asks
/// cargo for it (quick when it is current).
pub(crate) fn library_dir() -> PathBuf {
    static BUILT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let exe = std::env::current_exe().unwrap();
            let dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
            // The profile this test was built in is the directory's name.
            let profile = dir.file_name().unwrap().to_string_lossy().into_owned();
            let target = dir.parent().unwrap();
            let mut cargo = Command::new(env!("CARGO"));
            cargo
                .args(["build", "--quiet", "-p", "ward-capi", "--lib"])
                .arg("--target-dir")
                .arg(target);
            if profile != "debug" {
                cargo.args(["--profile", &profile]);
            }
            let built = cargo.output().unwrap();
            assert!(
                built.status.success(),
                "cargo build -p ward-capi:\n{}",
                String::from_utf8_lossy(&built.stderr)
            );
            dir
        })
        .clone()
}
