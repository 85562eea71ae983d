//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through
//! the targets as plain tests: every input a fuzzer found interesting,
//! checked again on every `make test`, on rustup's stable toolchain.

use std::path::{Path, PathBuf};

/// The corpus of `target`, in name order.
fn corpus(target: &str) -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
        .into_iter()
        .map(|path| {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            (path, bytes)
        })
        .collect()
}

fn replay(target: &str, check: fn(&[u8])) {
    let inputs = corpus(target);
    for (path, bytes) in &inputs {
        let outcome = std::panic::catch_unwind(|| check(bytes));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
    }
    println!("{target}: {} corpus inputs replayed", inputs.len());
}

#[test]
fn module_corpus() {
    replay("module", ward_fuzz::module);
}

#[test]
fn values_corpus() {
    replay("values", ward_fuzz::values);
}

#[test]
fn records_corpus() {
    replay("records", ward_fuzz::records);
}

#[test]
fn journal_corpus() {
    replay("journal", ward_fuzz::journal);
}

#[test]
fn store_corpus() {
    replay("store", ward_fuzz::store);
}
