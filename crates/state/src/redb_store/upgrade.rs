//! Upgrades of older storage formats, run by the first writable open
//! (`docs/storage-format.md`, "Upgrading").

use redb::{ReadableTable, TableDefinition, WriteTransaction};
use ward_primitives::Hash32;

use super::{
    BATCH_KEY, FORMAT_KEY, META, RECEIPT_BATCHES, TREE_STALE, TREE_WRITES, TX_BATCHES, store_batch,
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
    meta.insert(FORMAT_KEY, u64::from(STORAGE_FORMAT_VERSION))?;
    Ok(())
}

/// Older formats a writable open upgrades.
pub(super) const UPGRADABLE: &[u64] = &[2, 3, 4];

/// How many receipts (or transactions) an upgraded store keeps per batch.
const UPGRADE_BATCH: usize = 1024;
