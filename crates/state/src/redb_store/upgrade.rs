//! Upgrades of older storage formats, run by the first writable open
//! (`docs/storage-format.md`, "Upgrading").

use redb::{ReadTransaction, ReadableTable, TableDefinition, WriteTransaction};
use ward_primitives::Hash32;

use super::{
    BATCH_KEY, FORMAT_KEY, META, RECEIPT_BATCHES, SETTINGS, TREE_STALE, TREE_WRITES, TX_BATCHES,
    store_batch,
};
use crate::{Decode, Receipt, STORAGE_FORMAT_VERSION};

/// Format 2's receipts and transactions, each under its id: read only to
/// upgrade a store ([`from_2`]).
pub(super) const RECEIPTS: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("receipts");
pub(super) const TXS: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("txs");

/// Upgrades a format 2 store in one transaction: its receipts and
/// transactions, each under its id, move into batches of
/// [`UPGRADE_BATCH`] in id order, indexed as a commit's would be. Reads
/// one batch's worth at a time, whatever the store's size.
pub(super) fn from_2(txn: &WriteTransaction) -> Result<(), redb::Error> {
    let corrupt = |what: &str| redb::Error::Corrupted(format!("format 2 {what} do not decode"));
    {
        let old = txn.open_table(RECEIPTS)?;
        let mut chunk = Vec::with_capacity(UPGRADE_BATCH);
        for entry in old.iter()? {
            let (_, bytes) = entry?;
            chunk.push(Receipt::from_bytes(bytes.value()).map_err(|_| corrupt("receipts"))?);
            if chunk.len() == UPGRADE_BATCH {
                store_batch(txn, &chunk, &[])?;
                chunk.clear();
            }
        }
        store_batch(txn, &chunk, &[])?;
    }
    {
        let old = txn.open_table(TXS)?;
        let mut chunk = Vec::with_capacity(UPGRADE_BATCH);
        for entry in old.iter()? {
            let (id, bytes) = entry?;
            let id: [u8; 32] = id
                .value()
                .try_into()
                .map_err(|_| corrupt("transaction ids"))?;
            chunk.push((Hash32(id), bytes.value().to_vec()));
            if chunk.len() == UPGRADE_BATCH {
                store_batch(txn, &[], &chunk)?;
                chunk.clear();
            }
        }
        store_batch(txn, &[], &chunk)?;
    }
    txn.delete_table(RECEIPTS)?;
    txn.delete_table(TXS)?;
    txn.open_table(RECEIPT_BATCHES)?;
    txn.open_table(TX_BATCHES)?;
    let mut meta = txn.open_table(META)?;
    // These batches mix blocks: pruning deletes their index entries but
    // never them (`prune`).
    let last = meta.get(BATCH_KEY)?.map_or(0, |v| v.value());
    meta.insert(UPGRADED_BATCHES_KEY, last)?;
    meta.insert(FORMAT_KEY, 3)?;
    Ok(())
}

/// `meta`'s record of the last batch [`from_2`] wrote.
pub(super) const UPGRADED_BATCHES_KEY: &str = "upgraded_batches";

/// Upgrades a format 3 store: the index of replaced tree nodes starts
/// empty (nodes replaced before are never pruned).
pub(super) fn from_3(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(TREE_STALE)?;
    let mut meta = txn.open_table(META)?;
    meta.insert(FORMAT_KEY, 4)?;
    Ok(())
}

/// Upgrades a format 4 store: the index of written tree values starts
/// empty (values superseded before are never pruned).
pub(super) fn from_4(txn: &WriteTransaction) -> Result<(), redb::Error> {
    txn.open_table(TREE_WRITES)?;
    let mut meta = txn.open_table(META)?;
    meta.insert(FORMAT_KEY, 5)?;
    Ok(())
}

/// Upgrades a format 5 store that holds no unsigned transaction (what
/// [`may_hold_unsigned`] rules out first): format 6 changed only their
/// encoding, so nothing else moves.
pub(super) fn from_5(txn: &WriteTransaction) -> Result<(), redb::Error> {
    let mut meta = txn.open_table(META)?;
    meta.insert(FORMAT_KEY, u64::from(STORAGE_FORMAT_VERSION))?;
    Ok(())
}

/// Whether a store of an older `version` may hold an embedder's unsigned
/// transactions, which format 6 encodes differently (and so names by other
/// ids): it holds transactions and no recorded settings. A node records
/// its chain's settings and stores signed and impersonated transactions
/// only, whose encoding did not change; an embedder's store (`ward
/// deploy`, `call`, `demo`) records none.
pub(super) fn may_hold_unsigned(txn: &ReadTransaction, version: u64) -> Result<bool, redb::Error> {
    if !is_empty(txn, SETTINGS)? {
        return Ok(false);
    }
    if version == 2 {
        return Ok(!is_empty(txn, TXS)?);
    }
    Ok(!is_empty(txn, TX_BATCHES)?)
}

/// Why [`may_hold_unsigned`] refuses a store.
pub(super) const UNSIGNED_REASON: &str = "an embedder's unsigned transactions, whose encoding \
     (and so whose ids) format 6 changed; it cannot be upgraded: read it with the Ward that \
     wrote it, or start a new data directory";

/// Whether `table` is missing or has no entry.
fn is_empty<K: redb::Key + 'static, V: redb::Value + 'static>(
    txn: &ReadTransaction,
    table: TableDefinition<'_, K, V>,
) -> Result<bool, redb::Error> {
    match txn.open_table(table) {
        Ok(table) => Ok(table.first()?.is_none()),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(true),
        Err(other) => Err(other.into()),
    }
}

/// Older formats a writable open upgrades.
pub(super) const UPGRADABLE: &[u64] = &[2, 3, 4, 5];

/// How many receipts (or transactions) an upgraded store keeps per batch.
const UPGRADE_BATCH: usize = 1024;

#[cfg(test)]
mod tests;
