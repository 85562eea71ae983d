//! Pruning ([`StatePrune`]): the tree nodes blocks replaced, found in
//! height order through the `tree_stale` index and deleted with it.

use redb::ReadableTable;

use super::{META, RedbStore, TREE_NODES, TREE_STALE};

/// `meta`'s record of the highest height pruning kept from.
const PRUNED_KEY: &str = "tree_pruned_below";
use crate::{StateError, StatePrune};

/// The index key of `node` replaced at `height`.
pub(super) fn stale_key(height: u64, node: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + node.len());
    key.extend_from_slice(&height.to_be_bytes());
    key.extend_from_slice(node);
    key
}

impl StatePrune for RedbStore {
    fn prune_tree(&self, keep_from: u64) -> Result<u64, StateError> {
        let Some(end) = keep_from.checked_add(1) else {
            return Err(StateError::Storage("no height follows u64::MAX".into()));
        };
        let end = end.to_be_bytes();
        let mut pruned = 0u64;
        self.write(|txn| {
            let mut stale = txn.open_table(TREE_STALE)?;
            let mut nodes = txn.open_table(TREE_NODES)?;
            let mut done = Vec::new();
            for entry in stale.range::<&[u8]>(..&end[..])? {
                let (key, _) = entry?;
                done.push(key.value().to_vec());
            }
            for key in &done {
                if nodes.remove(&key[8..])?.is_some() {
                    pruned += 1;
                }
                stale.remove(key.as_slice())?;
            }
            let mut meta = txn.open_table(META)?;
            let before = meta.get(PRUNED_KEY)?.map_or(0, |v| v.value());
            meta.insert(PRUNED_KEY, before.max(keep_from))?;
            Ok(())
        })?;
        Ok(pruned)
    }

    fn pruned_below(&self) -> Result<u64, StateError> {
        self.read(|txn| {
            let meta = txn.open_table(META)?;
            Ok(meta.get(PRUNED_KEY)?.map_or(0, |v| v.value()))
        })
    }
}
