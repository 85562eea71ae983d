//! Pruning ([`StatePrune`]): the tree nodes blocks replaced and the tree
//! values they superseded, found in height order through the
//! `tree_stale` and `tree_writes` indexes and deleted with their entries;
//! and the blocks below the kept window, with their transactions and
//! receipts.

use std::collections::BTreeSet;

use redb::{ReadableTable, WriteTransaction};
use ward_primitives::Hash32;

use super::{
    BLOCK_HASHES, BLOCKS, META, Place, RECEIPT_BATCHES, RedbStore, TREE_NODES, TREE_STALE,
    TREE_VALUES, TREE_WRITES, TX_BATCHES, TX_INDEX, tree_value_key, upgrade::UPGRADED_BATCHES_KEY,
};
use crate::{BlockRecord, Decode, Pruned, StateError, StatePrune};

/// `meta`'s record of the highest height pruning kept from.
const PRUNED_KEY: &str = "tree_pruned_below";

/// The index key of `node` replaced at `height`.
pub(super) fn stale_key(height: u64, node: &[u8]) -> Vec<u8> {
    let mut key = Vec::with_capacity(8 + node.len());
    key.extend_from_slice(&height.to_be_bytes());
    key.extend_from_slice(node);
    key
}

/// The index key of a value of `key_hash` written at `height`.
pub(super) fn write_key(height: u64, key_hash: &Hash32) -> [u8; 40] {
    let mut key = [0u8; 40];
    key[..8].copy_from_slice(&height.to_be_bytes());
    key[8..].copy_from_slice(&key_hash.0);
    key
}

/// The keys of an index whose keys begin with a big-endian height, up to
/// and including `last`.
fn indexed_up_to(
    table: &impl ReadableTable<&'static [u8], &'static [u8]>,
    last: u64,
) -> Result<Vec<Vec<u8>>, redb::Error> {
    let mut keys = Vec::new();
    match last.checked_add(1) {
        Some(end) => {
            for entry in table.range::<&[u8]>(..&end.to_be_bytes()[..])? {
                keys.push(entry?.0.value().to_vec());
            }
        }
        None => {
            for entry in table.iter()? {
                keys.push(entry?.0.value().to_vec());
            }
        }
    }
    Ok(keys)
}

/// Deletes the nodes replaced at heights up to `keep_from`.
fn prune_nodes(txn: &WriteTransaction, keep_from: u64) -> Result<u64, redb::Error> {
    let mut stale = txn.open_table(TREE_STALE)?;
    let mut nodes = txn.open_table(TREE_NODES)?;
    let mut pruned = 0;
    for key in indexed_up_to(&stale, keep_from)? {
        pruned += u64::from(nodes.remove(&key[8..])?.is_some());
        stale.remove(key.as_slice())?;
    }
    Ok(pruned)
}

/// Deletes, for each value written at a height up to `keep_from`, the
/// values of its key before it, and the value itself when it is a
/// removal: a read at `keep_from` or later finds the same without them.
fn prune_values(txn: &WriteTransaction, keep_from: u64) -> Result<u64, redb::Error> {
    let mut writes = txn.open_table(TREE_WRITES)?;
    let mut values = txn.open_table(TREE_VALUES)?;
    let mut pruned = 0;
    for key in indexed_up_to(&writes, keep_from)? {
        let corrupt = || redb::Error::Corrupted("a tree_writes key is not 40 bytes".into());
        let height = u64::from_be_bytes(key[..8].try_into().map_err(|_| corrupt())?);
        let key_hash = Hash32(key[8..].try_into().map_err(|_| corrupt())?);
        let at = tree_value_key(&key_hash, height);
        let first = tree_value_key(&key_hash, 0);
        let mut gone: Vec<[u8; 40]> = Vec::new();
        for entry in values.range(first.as_slice()..at.as_slice())? {
            let key: [u8; 40] = entry?.0.value().try_into().map_err(|_| corrupt())?;
            gone.push(key);
        }
        // A removal is stored as the encoding of `None`: one zero byte.
        if values.get(at.as_slice())?.is_some_and(|v| v.value() == [0]) {
            gone.push(at);
        }
        for key in &gone {
            values.remove(key.as_slice())?;
        }
        pruned += gone.len() as u64;
        writes.remove(key.as_slice())?;
    }
    Ok(pruned)
}

/// Deletes the blocks below `keep_from`, their hashes' entries, and their
/// transactions' and receipts' batches and index entries. A format 2
/// store's upgraded batches mix blocks: only their index entries go.
fn prune_blocks(
    txn: &WriteTransaction,
    keep_from: u64,
    pruned: &mut Pruned,
) -> Result<(), redb::Error> {
    let mut blocks = txn.open_table(BLOCKS)?;
    let mut hashes = txn.open_table(BLOCK_HASHES)?;
    let mut index = txn.open_table(TX_INDEX)?;
    let upgraded = txn
        .open_table(META)?
        .get(UPGRADED_BATCHES_KEY)?
        .map_or(0, |v| v.value());
    let mut records = Vec::new();
    for entry in blocks.range(..keep_from)? {
        let (height, bytes) = entry?;
        records.push((height.value(), bytes.value().to_vec()));
    }
    let mut batches = BTreeSet::new();
    for (height, bytes) in records {
        let block = BlockRecord::from_bytes(&bytes)
            .map_err(|e| redb::Error::Corrupted(format!("block {height}: {}", e.0)))?;
        for id in &block.txs {
            let Some(place) = index.remove(id.0.as_slice())? else {
                continue;
            };
            pruned.txs += 1;
            let place = Place::from_bytes(place.value()).unwrap_or_default();
            batches.extend(place.receipt.map(|(batch, _)| batch));
            batches.extend(place.tx.map(|(batch, _)| batch));
        }
        hashes.remove(block.hash().0.as_slice())?;
        blocks.remove(height)?;
        pruned.blocks += 1;
    }
    let mut receipts = txn.open_table(RECEIPT_BATCHES)?;
    let mut txs = txn.open_table(TX_BATCHES)?;
    for batch in batches.into_iter().filter(|b| *b > upgraded) {
        receipts.remove(batch)?;
        txs.remove(batch)?;
    }
    Ok(())
}

impl StatePrune for RedbStore {
    fn prune(&self, keep_from: u64) -> Result<Pruned, StateError> {
        let mut pruned = Pruned::default();
        self.write(|txn| {
            let mut meta = txn.open_table(META)?;
            let before = meta.get(PRUNED_KEY)?.map_or(0, |v| v.value());
            if keep_from <= before {
                return Ok(());
            }
            meta.insert(PRUNED_KEY, keep_from)?;
            drop(meta);
            pruned.nodes = prune_nodes(txn, keep_from)?;
            pruned.values = prune_values(txn, keep_from)?;
            prune_blocks(txn, keep_from, &mut pruned)
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

/// The smallest file [`RedbStore::compact_if_sparse`] compacts: below it,
/// the space to win is not worth stopping the store for.
pub const COMPACT_FROM_BYTES: u64 = 64 << 20;

impl RedbStore {
    /// Compacts the file when pruning has left most of it free: when it
    /// is at least `at_least` bytes long (a node uses
    /// [`COMPACT_FROM_BYTES`]) and the pages in use fill less than half
    /// of it. Every other use of the store waits meanwhile.
    /// Returns the file's length before and after when it compacted.
    ///
    /// redb reuses freed pages without this, so a pruned file stops
    /// growing; compacting gives back what an earlier, longer history
    /// grew it to.
    ///
    /// # Errors
    ///
    /// When the store fails; a failed compaction leaves the data as it
    /// was.
    pub fn compact_if_sparse(&self, at_least: u64) -> Result<Option<(u64, u64)>, StateError> {
        if self.read_only {
            return Ok(None);
        }
        let len = self.file_len()?;
        if len < at_least {
            return Ok(None);
        }
        let used = self.with_db(|db| {
            let txn = db.begin_write()?;
            let stats = txn.stats()?;
            txn.abort()?;
            Ok(stats.allocated_pages() * stats.page_size() as u64)
        })?;
        if used.saturating_mul(2) >= len {
            return Ok(None);
        }
        self.with_db_mut(|db| {
            while db.compact()? {}
            Ok(())
        })?;
        Ok(Some((len, self.file_len()?)))
    }

    pub(super) fn file_len(&self) -> Result<u64, StateError> {
        std::fs::metadata(&self.path)
            .map(|m| m.len())
            .map_err(|e| StateError::Storage(format!("{}: {e}", self.path.display())))
    }
}
