//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`) through
//! the targets as plain tests: every input a fuzzer found interesting,
//! checked again on every `make test`, on rustup's stable toolchain.
//!
//! The `module` corpus is the exception: each input compiles and runs a
//! module on both backends (about 140 ms in a debug build), and its 2,000+
//! inputs would take five minutes, so `make test` replays every 8th file
//! (a different eighth each day of the year would make failures hard to
//! reproduce, so it is always the same one). `WARD_CORPUS_STRIDE=1`
//! replays all of it, as `make fuzz-cov` does after fuzzing.

use std::path::{Path, PathBuf};
use ward_devkeys as devkeys;

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

fn replay(target: &str, check: fn(&[u8]), stride: usize) {
    let stride = std::env::var("WARD_CORPUS_STRIDE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(stride)
        .max(1);
    let inputs: Vec<_> = corpus(target).into_iter().step_by(stride).collect();
    for (path, bytes) in &inputs {
        let outcome = std::panic::catch_unwind(|| check(bytes));
        assert!(outcome.is_ok(), "{target}: {} fails", path.display());
    }
    println!("{target}: {} corpus inputs replayed", inputs.len());
}

/// A test a target: `name: target every N` replays every Nth input of
/// `target`'s corpus through `ward_fuzz::target`.
macro_rules! corpus_tests {
    ($($test:ident: $target:ident every $stride:literal,)*) => {
        $(
            #[test]
            fn $test() {
                replay(stringify!($target), ward_fuzz::$target, $stride);
            }
        )*
    };
}

corpus_tests! {
    module_corpus: module every 8,
    values_corpus: values every 1,
    records_corpus: records every 1,
    journal_corpus: journal every 1,
    store_corpus: store every 1,
    chain_corpus: chain every 1,
    eth_corpus: eth every 1,
    rpc_corpus: rpc every 1,
    schema_corpus: schema every 1,
    wasi_corpus: wasi every 1,
}

/// The chain target's positive paths, which random bytes rarely reach: a
/// signed transaction, a header, and a proof that holds (for its own value
/// and key, which the target does not ask about) from a real tree.
#[test]
fn chain_accepts_what_is_valid() {
    use ward_chain::tx::{Payload, TxBody};
    let key = devkeys::key(0);
    let call = Payload::Call {
        to: ward_state::Address([1; 32]),
        input: b"in".to_vec(),
    };
    let tx = TxBody::new("ward-dev", &key.verifying_key(), 3, 1_000, call).sign(&key);
    ward_fuzz::chain(&tx.to_bytes());
    let header = ward_chain::block::Header {
        height: 9,
        ..Default::default()
    };
    ward_fuzz::chain(&ward_state::Encode::to_bytes(&header));
    let store = ward_state::MemoryStore::default();
    let tree_key =
        ward_chain::tree::StateKey::Storage(&ward_state::Address([7; 32]), b"k").to_bytes();
    let changes = [(tree_key.clone(), Some(b"v".to_vec()))]
        .into_iter()
        .collect();
    let update = ward_chain::tree::update(&ward_state::StateTree(&store), 1, &changes).unwrap();
    let set = ward_state::ChangeSet {
        tree: update.clone(),
        ..Default::default()
    };
    ward_state::StateCommit::commit(&store, set).unwrap();
    let proven = ward_chain::tree::prove(&ward_state::StateTree(&store), 1, &tree_key).unwrap();
    let mut bytes = update.root.0.to_vec();
    bytes.push(1);
    bytes.push(b'k');
    bytes.extend(&proven.proof);
    ward_fuzz::chain(&bytes);
}
