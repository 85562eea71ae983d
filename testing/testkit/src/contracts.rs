//! The example contracts of `contracts/`, built for wasm32 once per process.
//!
//! [`wasm`] runs `contracts/build.sh` the first time it is called in a
//! process (a no-op for cargo when nothing changed, so a test always sees
//! contracts built from the current sources) and reads the module. The
//! script finds or installs a wasm32 toolchain; when it cannot, the error
//! says what to install.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `contracts/build.sh` leaves the modules.
pub fn out_dir() -> PathBuf {
    root().join("target/contracts/wasm32-unknown-unknown/release")
}

/// Builds every example contract (once per process).
///
/// # Errors
///
/// What the build script printed when it failed.
pub fn build() -> Result<&'static Path, String> {
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let output = Command::new(root().join("contracts/build.sh"))
                .output()
                .map_err(|e| format!("cannot run contracts/build.sh: {e}"))?;
            if output.status.success() {
                Ok(out_dir())
            } else {
                Err(format!(
                    "contracts/build.sh failed ({}):\n{}",
                    output.status,
                    String::from_utf8_lossy(&output.stderr)
                ))
            }
        })
        .as_deref()
        .map_err(Clone::clone)
}

/// The module of example contract `name` (`counter`, `token`, `escrow`,
/// `registry`, `stackvm`, `plugins`, `faults`, ...).
///
/// # Panics
///
/// When the contracts cannot be built or the module is missing (a test
/// setup error, with the build's message).
pub fn wasm(name: &str) -> Vec<u8> {
    let dir = build().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(format!("{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The module of example contract `name` built for `wasm32-wasip1` with
/// Rust's standard library (`contracts/build.sh`'s `WASI_ALL`:
/// `wasi-guestbook`).
///
/// # Panics
///
/// As [`wasm`].
pub fn wasip1_wasm(name: &str) -> Vec<u8> {
    let dir = build().unwrap_or_else(|e| panic!("{e}"));
    let file = name.replace('-', "_");
    let path = dir.join(format!("../../wasm32-wasip1/release/{file}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The module of example contract `name` built with its function names and
/// DWARF line tables (`contracts/build.sh`'s `debug-info` profile: `faults`).
///
/// # Panics
///
/// As [`wasm`].
pub fn wasm_with_debug_info(name: &str) -> Vec<u8> {
    let dir = build().unwrap_or_else(|e| panic!("{e}"));
    let path = dir.join(format!("../debug-info/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The number (from 1) of the first line of example contract `name`'s
/// `src/lib.rs` that holds `needle`.
///
/// # Panics
///
/// When the file cannot be read or no line holds `needle`.
pub fn source_line(name: &str, needle: &str) -> u32 {
    let path = root().join(format!("contracts/{name}/src/lib.rs"));
    let source =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let index = source
        .lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line of {} holds {needle:?}", path.display()));
    index as u32 + 1
}
