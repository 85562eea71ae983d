//! Snapshot figures for a state of N keys (default 1,000,000): the time to
//! write the state into a redb store block by block, to take a snapshot,
//! to check and restore it into a new store, and the sizes on disk.
//!
//! `cargo run --release -p ward-benches --example snapshot_probe [N] [DIR]`

#![allow(clippy::unwrap_used, clippy::print_stdout, reason = "a probe")]

use std::path::Path;

use ward_benches::state::commit_block;
use ward_snapshot::Limits;
use ward_state::{Address, ChangeSet, RedbStore};

fn dir_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                dir_bytes(&e.path())
            } else {
                meta.len()
            }
        })
        .sum()
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let keys: u64 = args
        .get(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let root = Path::new(args.get(2).map_or("target/snapshot-probe", String::as_str)).to_path_buf();
    let _ = std::fs::remove_dir_all(&root);
    let (source, snap, restored) = (
        root.join("source"),
        root.join("snap"),
        root.join("restored"),
    );
    let store = RedbStore::create(&source).unwrap();
    let per_block = 10_000u64;
    let started = ward_vm::clock::now();
    let mut height = 0;
    for first in (0..keys).step_by(per_block as usize) {
        height += 1;
        let mut changes = ChangeSet::default();
        for n in first..(first + per_block).min(keys) {
            let mut contract = [0u8; 32];
            contract[..2].copy_from_slice(&((n % 64) as u16).to_be_bytes());
            changes.storage.insert(
                (Address(contract), n.to_be_bytes().to_vec()),
                Some((n * 7).to_le_bytes().to_vec()),
            );
        }
        commit_block(&store, height, changes);
    }
    let written = started.elapsed();
    let started = ward_vm::clock::now();
    let made = ward_snapshot::create(&store, None, &snap, Limits::default()).unwrap();
    let taken = started.elapsed();
    drop(store);
    let started = ward_vm::clock::now();
    let target = RedbStore::create(&restored).unwrap();
    // The hash of the block it was taken after: the source is ours.
    let trust = ward_snapshot::Trust::block(made.block_hash());
    ward_snapshot::restore(&snap, &target, &trust).unwrap();
    let restore_time = started.elapsed();
    drop(target);
    println!(
        "{keys} keys in {height} blocks: written in {:.1} s; store {} MB",
        written.as_secs_f64(),
        dir_bytes(&source) >> 20
    );
    println!(
        "snapshot: {} chunks, {} MB, taken in {:.2} s",
        made.manifest.chunks.len(),
        dir_bytes(&snap) >> 20,
        taken.as_secs_f64()
    );
    println!(
        "restore (every chunk checked, one commit): {:.2} s; restored store {} MB",
        restore_time.as_secs_f64(),
        dir_bytes(&restored) >> 20
    );
}
