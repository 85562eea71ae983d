//! Disk with and without pruning: N transfers' state changes (the sender's
//! balance and a new recipient's, default 100,000 in blocks of 100)
//! written through the state tree into two redb stores, one pruned every
//! 16 blocks to the last K (default 100) blocks' tree, one an archive.
//! Prints both files' sizes as blocks go.
//!
//! `cargo run --release -p ward-benches --example prune_probe [N] [K] [DIR]`

#![allow(clippy::unwrap_used, clippy::print_stdout, reason = "a probe")]

use std::path::Path;

use ward_benches::state::commit_block;
use ward_state::{Address, ChangeSet, DATABASE_FILE, RedbStore, StatePrune};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let transfers: u64 = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let keep: u64 = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(100);
    let root = Path::new(args.get(3).map_or("target/prune-probe", String::as_str)).to_path_buf();
    let _ = std::fs::remove_dir_all(&root);
    let stores = [
        RedbStore::create(&root.join("pruned")).unwrap(),
        RedbStore::create(&root.join("archive")).unwrap(),
    ];
    let size = |name: &str| {
        std::fs::metadata(root.join(name).join(DATABASE_FILE))
            .unwrap()
            .len()
    };
    let per_block = 100u64;
    let sender = Address([0xaa; 32]);
    let mut balance = u128::MAX / 2;
    let started = ward_vm::clock::now();
    for height in 1..=transfers.div_ceil(per_block) {
        let mut changes = ChangeSet::default();
        for n in 0..per_block {
            let mut to = [0u8; 32];
            to[..8].copy_from_slice(&(height * per_block + n).to_be_bytes());
            changes.balances.insert(Address(to), 1);
            balance -= 1;
        }
        changes.balances.insert(sender, balance);
        changes.nonces.insert(sender, height * per_block);
        for store in &stores {
            commit_block(store, height, changes.clone());
        }
        if height.is_multiple_of(16) && height > keep {
            stores[0].prune(height - keep).unwrap();
        }
        if height.is_multiple_of(100) {
            println!(
                "{:>7} transfers: pruned {:>5} MB, archive {:>5} MB",
                height * per_block,
                size("pruned") >> 20,
                size("archive") >> 20
            );
        }
    }
    println!(
        "done in {:.1} s; keeping the last {keep} blocks",
        (ward_vm::clock::now() - started).as_secs_f64()
    );
}
