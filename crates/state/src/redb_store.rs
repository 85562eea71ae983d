//! State on redb, the embedded default. Layout: `docs/storage-format.md`.
//!
//! Every commit is one redb write transaction with two-phase commit and
//! immediate durability: redb's default commit trusts a non-cryptographic
//! checksum to detect a torn commit, which its design notes advise against
//! for attacker-chosen data; two-phase commit does not rely on it.
//!
//! A store is opened one of three ways: [`RedbStore::create`] (a writer
//! that may start a new chain), [`RedbStore::open`] (a writer on an
//! existing one) and [`RedbStore::open_read_only`] (a reader, which never
//! writes the file: see `overlay`). Each checks the whole file with redb's
//! integrity check before answering anything, refuses an empty file rather
//! than taking it for a new chain, and contains any panic redb raises on a
//! damaged file (see `boundary`): damage is an error naming the file, never
//! a crash and never a silently wrong answer.

/// Calls `$apply!` with every table of the current format: what must touch
/// them all (creating a store, copying one) names them here once, so a new
/// table cannot be left out of either.
macro_rules! every_table {
    ($apply:ident) => {
        $apply!(
            META,
            CODE,
            CONTRACTS,
            STORAGE,
            TX_INDEX,
            TREE_NODES,
            TREE_VALUES,
            TREE_STALE,
            TREE_WRITES,
            BLOCKS,
            RECEIPT_BATCHES,
            TX_BATCHES,
            NONCES,
            BALANCES,
            BLOCK_HASHES,
            SETTINGS
        )
    };
}

mod backup;
mod batch;
mod boundary;
mod fork;
mod open;
mod overlay;
mod prune;
mod read;
mod savepoint;

pub use fork::Upstream;
pub use prune::COMPACT_FROM_BYTES;
mod scan;
mod upgrade;

use std::{
    path::{Path, PathBuf},
    sync::atomic::{AtomicBool, Ordering},
};

use redb::{
    Database, Durability, ReadTransaction, ReadableDatabase, TableDefinition, WriteTransaction,
};
use ward_primitives::{Address, Hash32};

use batch::{Place, store_batch, unpack};

use crate::codec::corrupt;
use crate::{ChangeSet, Decode, Encode, Entries, Receipt, StateCommit, StateError};

const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");
const CODE: TableDefinition<'static, &'static [u8], &'static [u8]> = TableDefinition::new("code");
const CONTRACTS: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("contracts");
const STORAGE: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("storage");
const BLOCKS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("blocks");
/// Each commit's receipts, and its transactions, as one record under the
/// commit's batch number ([`pack`]).
const RECEIPT_BATCHES: TableDefinition<'static, u64, &'static [u8]> =
    TableDefinition::new("receipt_batches");
const TX_BATCHES: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("tx_batches");
/// Transaction id to where its receipt and its encoding are ([`Place`]).
const TX_INDEX: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("tx_index");
const NONCES: TableDefinition<'static, &'static [u8], u64> = TableDefinition::new("nonces");
const BALANCES: TableDefinition<'static, &'static [u8], u128> = TableDefinition::new("balances");
const BLOCK_HASHES: TableDefinition<'static, &'static [u8], u64> =
    TableDefinition::new("block_hashes");
const TREE_NODES: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("tree_nodes");
const TREE_VALUES: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("tree_values");
/// The nodes each block replaced: `height (u64 big-endian) ++ node key`
/// to nothing, so that pruning finds them in height order.
const TREE_STALE: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("tree_stale");
/// The tree values each block wrote: `height (u64 big-endian) ++ key
/// hash` to nothing, so that pruning finds the values they superseded.
const TREE_WRITES: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("tree_writes");
const SETTINGS: TableDefinition<'static, &'static str, &'static [u8]> =
    TableDefinition::new("settings");

const FORMAT_KEY: &str = "format_version";
const HEIGHT_KEY: &str = "height";
/// The last batch number given to a commit's receipts and transactions.
const BATCH_KEY: &str = "batches";

/// The database file inside a data directory.
pub const DATABASE_FILE: &str = "state.redb";

/// State in a redb database file.
pub struct RedbStore {
    /// Always `Some` until dropped; written only to compact the file
    /// (which needs the database to itself) and to close it.
    db: std::sync::RwLock<Option<Database>>,
    /// The database file, for errors.
    path: PathBuf,
    /// Opened with [`RedbStore::open_read_only`].
    read_only: bool,
    /// redb panicked or found damage: nothing more is asked of it, and it
    /// is not closed (closing writes).
    damaged: AtomicBool,
    /// The chain it forks, once [`RedbStore::fork_from`] said so.
    fork: std::sync::OnceLock<fork::Fork>,
}

/// `address ++ key`: one contract's entries are contiguous and in key order.
fn storage_key(address: &Address, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + key.len());
    out.extend(address.0);
    out.extend(key);
    out
}

/// `key hash ++ version` (big-endian, so a key's versions are in order).
fn tree_value_key(key_hash: &Hash32, version: u64) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..32].copy_from_slice(&key_hash.0);
    out[32..].copy_from_slice(&version.to_be_bytes());
    out
}

impl RedbStore {
    /// Runs `f` on the database, containing redb's panics and classifying
    /// its errors; after damage, refuses to run anything.
    fn with_db<T>(
        &self,
        f: impl FnOnce(&Database) -> Result<T, redb::Error>,
    ) -> Result<T, StateError> {
        let damaged = || StateError::Damaged {
            path: self.path.clone(),
            message: "redb found damage earlier; reopen the store".to_owned(),
        };
        // A panic inside `f` is contained below, so the lock is never
        // poisoned by one; take it whatever the flag says.
        let guard = self.db.read().unwrap_or_else(|e| e.into_inner());
        let db = match guard.as_ref() {
            Some(db) if !self.damaged.load(Ordering::Relaxed) => db,
            _ => return Err(damaged()),
        };
        self.contained(|| f(db))
    }

    /// Runs `f` with the database to itself (no transaction of another
    /// thread open meanwhile), containing and classifying as
    /// [`RedbStore::with_db`] does.
    fn with_db_mut<T>(
        &self,
        f: impl FnOnce(&mut Database) -> Result<T, redb::Error>,
    ) -> Result<T, StateError> {
        let mut guard = self.db.write().unwrap_or_else(|e| e.into_inner());
        let db = match guard.as_mut() {
            Some(db) if !self.damaged.load(Ordering::Relaxed) => db,
            _ => {
                return Err(StateError::Damaged {
                    path: self.path.clone(),
                    message: "redb found damage earlier; reopen the store".to_owned(),
                });
            }
        };
        self.contained(|| f(db))
    }

    /// Runs `f` inside the panic boundary and classifies its error; marks
    /// the store damaged on damage or a panic.
    fn contained<T>(&self, f: impl FnOnce() -> Result<T, redb::Error>) -> Result<T, StateError> {
        match boundary::contain(f) {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => {
                let err = classify(&self.path, e);
                if matches!(err, StateError::Damaged { .. }) {
                    self.damaged.store(true, Ordering::Relaxed);
                }
                Err(err)
            }
            Err(report) => {
                self.damaged.store(true, Ordering::Relaxed);
                Err(StateError::Damaged {
                    path: self.path.clone(),
                    message: format!("redb failed while reading it: {report}"),
                })
            }
        }
    }

    /// Runs `f` in a read transaction.
    fn read<T>(
        &self,
        f: impl FnOnce(&ReadTransaction) -> Result<T, redb::Error>,
    ) -> Result<T, StateError> {
        self.with_db(|db| f(&db.begin_read()?))
    }

    /// Runs `f` in a durable write transaction and commits it.
    fn write(
        &self,
        f: impl FnOnce(&WriteTransaction) -> Result<(), redb::Error>,
    ) -> Result<(), StateError> {
        if self.read_only {
            return Err(StateError::ReadOnly {
                path: self.path.clone(),
            });
        }
        self.with_db(|db| {
            let mut txn = db.begin_write()?;
            txn.set_two_phase_commit(true);
            txn.set_durability(Durability::Immediate)?;
            f(&txn)?;
            Ok(txn.commit()?)
        })
    }

    /// Up to `limit` of contract `address`'s storage entries, in key
    /// order, starting after `after` (from the first when `None`), all
    /// read in one transaction.
    ///
    /// # Errors
    ///
    /// When the store fails.
    pub fn storage_page(
        &self,
        address: &Address,
        after: Option<&[u8]>,
        limit: usize,
    ) -> Result<Entries, StateError> {
        self.read(|txn| {
            let table = txn.open_table(STORAGE)?;
            let prefix = address.0.as_slice();
            let start = match after {
                Some(key) => storage_key(address, key),
                None => prefix.to_vec(),
            };
            let mut out = Vec::new();
            for entry in table.range(start.as_slice()..)? {
                let (key, value) = entry?;
                let key = key.value();
                if !key.starts_with(prefix) || out.len() >= limit {
                    break;
                }
                if after.is_some() && key == start.as_slice() {
                    continue;
                }
                out.push((key[32..].to_vec(), value.value().to_vec()));
            }
            Ok(out)
        })
    }

    /// A setting the embedder recorded ([`RedbStore::put_setting`]).
    ///
    /// # Errors
    ///
    /// When the store fails.
    pub fn setting(&self, name: &str) -> Result<Option<Vec<u8>>, StateError> {
        self.read(|txn| {
            let table = txn.open_table(SETTINGS)?;
            Ok(table.get(name)?.map(|v| v.value().to_vec()))
        })
    }

    /// Records a setting in the data directory (a node's chain id and
    /// consensus settings), durably.
    ///
    /// # Errors
    ///
    /// When the store fails or is read-only.
    pub fn put_setting(&self, name: &str, value: &[u8]) -> Result<(), StateError> {
        self.write(|txn| {
            txn.open_table(SETTINGS)?.insert(name, value)?;
            Ok(())
        })
    }

    /// The item of `batches` that `id`'s index entry points to (`which`
    /// picks the receipt's place or the transaction's), read in one
    /// transaction.
    fn indexed(
        &self,
        id: &Hash32,
        batches: TableDefinition<'_, u64, &'static [u8]>,
        which: impl FnOnce(&Place) -> Option<(u64, u32)>,
    ) -> Result<Option<Vec<u8>>, StateError> {
        let found = self.read(|txn| {
            let index = txn.open_table(TX_INDEX)?;
            let Some(entry) = index.get(id.0.as_slice())? else {
                return Ok(Ok(None));
            };
            let Some(place) = Place::from_bytes(entry.value()) else {
                return Ok(Err("tx_index"));
            };
            let Some((batch, position)) = which(&place) else {
                return Ok(Ok(None));
            };
            let table = txn.open_table(batches)?;
            let Some(record) = table.get(batch)? else {
                return Ok(Err("a batch the index names is missing"));
            };
            Ok(match unpack(record.value(), position) {
                Some(item) => Ok(Some(item.to_vec())),
                None => Err("a batch record is malformed"),
            })
        })?;
        found.map_err(|message| StateError::Corrupt {
            table: "tx_index",
            message: message.to_owned(),
        })
    }

    fn get_bytes(
        &self,
        table: TableDefinition<'_, &'static [u8], &'static [u8]>,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StateError> {
        self.read(|txn| {
            let table = txn.open_table(table)?;
            Ok(table.get(key)?.map(|v| v.value().to_vec()))
        })
    }
}

/// A redb error as a state error naming the file.
fn classify(path: &Path, error: redb::Error) -> StateError {
    let path = path.to_path_buf();
    match error {
        redb::Error::Corrupted(message) => StateError::Damaged { path, message },
        redb::Error::DatabaseAlreadyOpen => StateError::Busy { path },
        redb::Error::RepairAborted => StateError::NeedsRecovery { path },
        redb::Error::UpgradeRequired(version) => StateError::Damaged {
            path,
            message: format!("redb file format {version}, which this build does not read"),
        },
        other => StateError::Storage(format!("{}: {other}", path.display())),
    }
}

impl Drop for RedbStore {
    fn drop(&mut self) {
        let db = self.db.get_mut().unwrap_or_else(|e| e.into_inner()).take();
        let Some(db) = db else { return };
        if self.damaged.load(Ordering::Relaxed) && !self.read_only {
            // Closing writes (it records a clean shutdown); a damaged file
            // is left as it is, and the next writer's open recovers or
            // refuses it. The handle (its memory, descriptor and lock) is
            // given up until the process ends: rare, since a writer's open
            // checks the file through the overlay before redb may write.
            // A read-only store's writes only ever reach memory, so it
            // closes normally.
            std::mem::forget(db);
        } else {
            // A panic while closing has nowhere to go; the file is then as
            // after a crash, which the next writer recovers.
            let _ = boundary::contain(move || drop(db));
        }
    }
}

impl StateCommit for RedbStore {
    fn commit(&self, changes: ChangeSet) -> Result<(), StateError> {
        self.write(|txn| {
            let mut code = txn.open_table(CODE)?;
            for (hash, bytes) in &changes.code {
                code.insert(hash.0.as_slice(), bytes.as_slice())?;
            }
            let mut contracts = txn.open_table(CONTRACTS)?;
            for (address, info) in &changes.contracts {
                contracts.insert(address.0.as_slice(), info.to_bytes().as_slice())?;
            }
            let mut storage = txn.open_table(STORAGE)?;
            for ((address, key), value) in &changes.storage {
                let full = storage_key(address, key);
                match value {
                    Some(v) => drop(storage.insert(full.as_slice(), v.as_slice())?),
                    None => drop(storage.remove(full.as_slice())?),
                }
            }
            store_batch(txn, &changes.receipts, &changes.txs)?;
            let mut nonces = txn.open_table(NONCES)?;
            for (account, nonce) in &changes.nonces {
                nonces.insert(account.0.as_slice(), nonce)?;
            }
            if !changes.settings.is_empty() {
                let mut settings = txn.open_table(SETTINGS)?;
                for (name, value) in &changes.settings {
                    settings.insert(name.as_str(), value.as_slice())?;
                }
            }
            let mut balances = txn.open_table(BALANCES)?;
            for (address, balance) in &changes.balances {
                match balance {
                    0 => drop(balances.remove(address.0.as_slice())?),
                    _ => drop(balances.insert(address.0.as_slice(), balance)?),
                }
            }
            let mut nodes = txn.open_table(TREE_NODES)?;
            for (key, node) in &changes.tree.nodes {
                nodes.insert(key.as_slice(), node.as_slice())?;
            }
            let mut values = txn.open_table(TREE_VALUES)?;
            let mut writes = txn.open_table(TREE_WRITES)?;
            for (key_hash, version, value) in &changes.tree.values {
                let key = tree_value_key(key_hash, *version);
                values.insert(key.as_slice(), value.to_bytes().as_slice())?;
                writes.insert(prune::write_key(*version, key_hash).as_slice(), &[][..])?;
            }
            if let Some(block) = &changes.block
                && !changes.tree.stale.is_empty()
            {
                let mut stale = txn.open_table(TREE_STALE)?;
                for key in &changes.tree.stale {
                    stale.insert(
                        prune::stale_key(block.header.height, key).as_slice(),
                        &[][..],
                    )?;
                }
            }
            if let Some(block) = &changes.block {
                let height = block.header.height;
                let mut blocks = txn.open_table(BLOCKS)?;
                blocks.insert(height, block.to_bytes().as_slice())?;
                let mut hashes = txn.open_table(BLOCK_HASHES)?;
                hashes.insert(block.hash().0.as_slice(), height)?;
                let mut meta = txn.open_table(META)?;
                meta.insert(HEIGHT_KEY, height)?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests;
