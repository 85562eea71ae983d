//! State written straight through the tree, without execution: what the
//! storage probes (`snapshot_probe`, `prune_probe`) build their chains
//! with.

use ward_state::{BlockRecord, ChangeSet, Header, StateCommit, StateRead, StateTree};

/// Commits `changes` to `store` as block `height` (its time the height),
/// with their tree update and a header carrying the root, as the executor
/// commits a block.
///
/// # Panics
///
/// When the tree cannot be updated or the store fails.
pub fn commit_block<S: StateCommit + StateRead + Sync>(store: &S, height: u64, changes: ChangeSet) {
    let mut changes = changes;
    let update =
        ward_chain::tree::update(&StateTree(store), height, &changes.tree_changes()).expect("tree");
    changes.block = Some(BlockRecord {
        header: Header {
            height,
            time: height,
            state_root: update.root,
            ..Header::default()
        },
        txs: Vec::new(),
    });
    changes.tree = update;
    store.commit(changes).expect("commits");
}
