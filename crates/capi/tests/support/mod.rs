//! What the C and Go tests share: the static library they link.

use std::path::PathBuf;

/// The directory holding this crate's static library as this test's own
/// build made it: cargo compiles a library with every crate type it
/// declares (`staticlib` included) before the tests that depend on it,
/// into the test's `deps` directory, with the test's features and
/// profile. Nothing is built again here (a nested `cargo build` would
/// resolve features for ward-capi alone and recompile wasmtime).
pub(crate) fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps = exe.parent().unwrap().to_path_buf();
    let library = deps.join("libward_capi.a");
    assert!(
        library.is_file(),
        "{} is missing: cargo builds it with the tests (crate-type staticlib)",
        library.display()
    );
    deps
}
