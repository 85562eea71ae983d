//! The WebAssembly core spec suite on both backends, through Ward's path.

#![allow(clippy::unwrap_used, reason = "test helpers")]

use std::path::PathBuf;

use ward_spec::{Mode, Report, Skip, parse_skips, run_file, spec_config};
use ward_vm::BackendKind;

/// The suite's directory (`WARD_SPEC_DIR`, else `../shared`), or `None`
/// when this machine has none: said, and a failure under `make test`.
fn suite_dir() -> Option<PathBuf> {
    match ward_testkit::shared_data("wasm-testsuite", "WARD_SPEC_DIR") {
        Ok(dir) => Some(dir),
        Err(why) => {
            ward_testkit::skip(&why);
            None
        }
    }
}

fn skips() -> Vec<Skip> {
    let text = include_str!("../skip.txt");
    parse_skips(text).expect("skip.txt is well-formed")
}

fn in_scope_files() -> Vec<PathBuf> {
    let Some(dir) = suite_dir() else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("spec suite not found at {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "wast"))
        .collect();
    files.sort();
    let skips = skips();
    for skip in skips.iter().filter(|s| !s.is_directive()) {
        assert!(
            files
                .iter()
                .any(|f| skip.matches(&f.file_name().unwrap().to_string_lossy())),
            "skip entry `{}` matches no file",
            skip.pattern
        );
    }
    files.retain(|f| {
        let name = f.file_name().unwrap().to_string_lossy();
        !skips.iter().any(|s| !s.is_directive() && s.matches(&name))
    });
    assert!(
        files.len() > 50,
        "suspiciously few spec files: {}",
        files.len()
    );
    // For debugging one file: WARD_SPEC_FILTER=call.wast.
    if let Some(filter) = std::env::var_os("WARD_SPEC_FILTER") {
        files.retain(|f| f.file_name() == Some(filter.as_os_str()));
    }
    files
}

fn run_suite(kind: BackendKind, mode: Mode) {
    let config = spec_config(mode);
    let backend = ward_backends::new(kind, &config).unwrap();
    let files = in_scope_files();
    if files.is_empty() {
        return;
    }
    let skips = skips();
    let mut total = Report::default();
    for file in &files {
        if std::env::var_os("WARD_SPEC_VERBOSE").is_some() {
            eprintln!("{kind}: {}", file.display());
        }
        total.merge(run_file(file, &*backend, &config, mode, &skips));
    }
    println!(
        "spec suite on {kind}, {mode:?}: {} files, {total}",
        files.len()
    );
    for failure in &total.failures {
        println!("  FAIL {failure}");
    }
    assert!(total.failures.is_empty(), "{kind}: {total}");
    if std::env::var_os("WARD_SPEC_FILTER").is_none() {
        assert!(
            total.passed > 10_000,
            "{kind}: too few directives ran: {total}"
        );
    }
}

/// A test a backend and mode: `name: Backend Mode` runs the whole suite
/// on that backend, instrumented as that mode says.
macro_rules! suites {
    ($($test:ident: $backend:ident $mode:ident,)*) => {
        $(
            #[test]
            fn $test() {
                run_suite(BackendKind::$backend, Mode::$mode);
            }
        )*
    };
}

suites! {
    spec_suite_on_wasmtime_raw: Wasmtime Raw,
    spec_suite_on_wasmi_raw: Wasmi Raw,
    spec_suite_on_wasmtime_instrumented_unlimited: Wasmtime Unlimited,
    spec_suite_on_wasmi_instrumented_unlimited: Wasmi Unlimited,
    spec_suite_on_wasmtime_metered: Wasmtime Metered,
    spec_suite_on_wasmi_metered: Wasmi Metered,
}

#[test]
fn every_skip_has_a_reason() {
    assert!(parse_skips("simd_*").is_err());
    assert!(parse_skips("a.wast:3 backend=wasmi").is_err());
    assert!(parse_skips("a.wast:3 mode=fast why").is_err());
    let parsed = parse_skips("a.wast:3 backend=wasmi mode=metered a reason").unwrap();
    assert_eq!(parsed[0].backend.as_deref(), Some("wasmi"));
    assert!(parsed[0].matches_directive("a.wast", 3, "wasmi", Mode::Metered));
    assert!(!parsed[0].matches_directive("a.wast", 3, "wasmi", Mode::Raw));
    assert!(!parsed[0].matches_directive("a.wast", 3, "wasmtime", Mode::Metered));
    assert!(!skips().is_empty());
}
