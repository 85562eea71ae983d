//! State on redb, the embedded default. Layout: `docs/storage-format.md`.
//!
//! Every commit is one redb write transaction with two-phase commit and
//! immediate durability: redb's default commit trusts a non-cryptographic
//! checksum to detect a torn commit, which its design notes advise against
//! for attacker-chosen data; two-phase commit does not rely on it.

use std::path::Path;

use redb::{Database, Durability, ReadableDatabase, ReadableTable, TableDefinition};
use ward_primitives::{Address, Hash32};

use crate::{
    BlockRecord, ChangeSet, ContractInfo, Decode, Encode, Entries, Receipt, STORAGE_FORMAT_VERSION,
    StateCommit, StateError, StateRead,
};

const META: TableDefinition<'static, &'static str, u64> = TableDefinition::new("meta");
const CODE: TableDefinition<'static, &'static [u8], &'static [u8]> = TableDefinition::new("code");
const CONTRACTS: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("contracts");
const STORAGE: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("storage");
const BLOCKS: TableDefinition<'static, u64, &'static [u8]> = TableDefinition::new("blocks");
const RECEIPTS: TableDefinition<'static, &'static [u8], &'static [u8]> =
    TableDefinition::new("receipts");
const TXS: TableDefinition<'static, &'static [u8], &'static [u8]> = TableDefinition::new("txs");

const FORMAT_KEY: &str = "format_version";
const HEIGHT_KEY: &str = "height";

/// The database file inside a data directory.
pub const DATABASE_FILE: &str = "state.redb";

/// State in a redb database file.
pub struct RedbStore {
    db: Database,
}

fn storage_error(e: impl Into<redb::Error>) -> StateError {
    StateError::Storage(e.into().to_string())
}

fn corrupt(table: &'static str) -> impl Fn(crate::CodecError) -> StateError {
    move |e| StateError::Corrupt {
        table,
        message: e.0,
    }
}

/// `address ++ key`: one contract's entries are contiguous and in key order.
fn storage_key(address: &Address, key: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + key.len());
    out.extend(address.0);
    out.extend(key);
    out
}

impl RedbStore {
    /// Opens (creating if needed) the store in `dir`.
    ///
    /// # Errors
    ///
    /// When the directory or database cannot be opened, or holds another
    /// layout version.
    pub fn open(dir: &Path) -> Result<Self, StateError> {
        std::fs::create_dir_all(dir).map_err(|e| StateError::Storage(e.to_string()))?;
        let db = Database::create(dir.join(DATABASE_FILE)).map_err(storage_error)?;
        RedbStore::initialized(db)
    }

    /// Opens (creating if empty) a store on a redb storage backend other
    /// than a file: [`crate::faults::MemoryBackend`] for fault injection.
    ///
    /// # Errors
    ///
    /// As [`RedbStore::open`].
    pub fn open_on(backend: impl redb::StorageBackend) -> Result<Self, StateError> {
        let db = Database::builder()
            .create_with_backend(backend)
            .map_err(storage_error)?;
        RedbStore::initialized(db)
    }

    fn initialized(db: Database) -> Result<Self, StateError> {
        let store = RedbStore { db };
        store.initialize()?;
        Ok(store)
    }

    /// Creates every table and the format version on first open; checks
    /// the version on every later one.
    fn initialize(&self) -> Result<(), StateError> {
        let mut txn = self.db.begin_write().map_err(storage_error)?;
        txn.set_two_phase_commit(true);
        txn.set_durability(Durability::Immediate)
            .map_err(storage_error)?;
        {
            let mut meta = txn.open_table(META).map_err(storage_error)?;
            let found = meta
                .get(FORMAT_KEY)
                .map_err(storage_error)?
                .map(|v| v.value());
            match found {
                Some(version) if version != u64::from(STORAGE_FORMAT_VERSION) => {
                    return Err(StateError::FormatVersion {
                        found: u32::try_from(version).unwrap_or(u32::MAX),
                        expected: STORAGE_FORMAT_VERSION,
                    });
                }
                Some(_) => {}
                None => {
                    meta.insert(FORMAT_KEY, u64::from(STORAGE_FORMAT_VERSION))
                        .map_err(storage_error)?;
                    meta.insert(HEIGHT_KEY, 0).map_err(storage_error)?;
                }
            }
            txn.open_table(CODE).map_err(storage_error)?;
            txn.open_table(CONTRACTS).map_err(storage_error)?;
            txn.open_table(STORAGE).map_err(storage_error)?;
            txn.open_table(BLOCKS).map_err(storage_error)?;
            txn.open_table(RECEIPTS).map_err(storage_error)?;
            txn.open_table(TXS).map_err(storage_error)?;
        }
        txn.commit().map_err(storage_error)
    }

    fn get_bytes(
        &self,
        table: TableDefinition<'_, &'static [u8], &'static [u8]>,
        key: &[u8],
    ) -> Result<Option<Vec<u8>>, StateError> {
        let txn = self.db.begin_read().map_err(storage_error)?;
        let table = txn.open_table(table).map_err(storage_error)?;
        Ok(table
            .get(key)
            .map_err(storage_error)?
            .map(|v| v.value().to_vec()))
    }
}

impl StateRead for RedbStore {
    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.get_bytes(CODE, &hash.0)
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        self.get_bytes(CONTRACTS, &address.0)?
            .map(|bytes| ContractInfo::from_bytes(&bytes).map_err(corrupt("contracts")))
            .transpose()
    }

    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.get_bytes(STORAGE, &storage_key(address, key))
    }

    fn storage_entries(&self, address: &Address) -> Result<Entries, StateError> {
        let txn = self.db.begin_read().map_err(storage_error)?;
        let table = txn.open_table(STORAGE).map_err(storage_error)?;
        let prefix = address.0.as_slice();
        let mut out = Vec::new();
        for entry in table.range(prefix..).map_err(storage_error)? {
            let (key, value) = entry.map_err(storage_error)?;
            let key = key.value();
            if !key.starts_with(prefix) {
                break;
            }
            out.push((key[32..].to_vec(), value.value().to_vec()));
        }
        Ok(out)
    }

    fn height(&self) -> Result<u64, StateError> {
        let txn = self.db.begin_read().map_err(storage_error)?;
        let meta = txn.open_table(META).map_err(storage_error)?;
        Ok(meta
            .get(HEIGHT_KEY)
            .map_err(storage_error)?
            .map_or(0, |v| v.value()))
    }

    fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError> {
        let txn = self.db.begin_read().map_err(storage_error)?;
        let table = txn.open_table(BLOCKS).map_err(storage_error)?;
        table
            .get(height)
            .map_err(storage_error)?
            .map(|v| BlockRecord::from_bytes(v.value()).map_err(corrupt("blocks")))
            .transpose()
    }

    fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError> {
        self.get_bytes(RECEIPTS, &tx.0)?
            .map(|bytes| Receipt::from_bytes(&bytes).map_err(corrupt("receipts")))
            .transpose()
    }

    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.get_bytes(TXS, &id.0)
    }
}

impl StateCommit for RedbStore {
    fn commit(&self, changes: ChangeSet) -> Result<(), StateError> {
        let mut txn = self.db.begin_write().map_err(storage_error)?;
        txn.set_two_phase_commit(true);
        txn.set_durability(Durability::Immediate)
            .map_err(storage_error)?;
        {
            let mut code = txn.open_table(CODE).map_err(storage_error)?;
            for (hash, bytes) in &changes.code {
                code.insert(hash.0.as_slice(), bytes.as_slice())
                    .map_err(storage_error)?;
            }
            let mut contracts = txn.open_table(CONTRACTS).map_err(storage_error)?;
            for (address, info) in &changes.contracts {
                contracts
                    .insert(address.0.as_slice(), info.to_bytes().as_slice())
                    .map_err(storage_error)?;
            }
            let mut storage = txn.open_table(STORAGE).map_err(storage_error)?;
            for ((address, key), value) in &changes.storage {
                let full = storage_key(address, key);
                match value {
                    Some(v) => {
                        storage
                            .insert(full.as_slice(), v.as_slice())
                            .map_err(storage_error)?;
                    }
                    None => {
                        storage.remove(full.as_slice()).map_err(storage_error)?;
                    }
                }
            }
            let mut receipts = txn.open_table(RECEIPTS).map_err(storage_error)?;
            for receipt in &changes.receipts {
                receipts
                    .insert(receipt.tx.0.as_slice(), receipt.to_bytes().as_slice())
                    .map_err(storage_error)?;
            }
            let mut txs = txn.open_table(TXS).map_err(storage_error)?;
            for (id, bytes) in &changes.txs {
                txs.insert(id.0.as_slice(), bytes.as_slice())
                    .map_err(storage_error)?;
            }
            if let Some(block) = &changes.block {
                let mut blocks = txn.open_table(BLOCKS).map_err(storage_error)?;
                blocks
                    .insert(block.height, block.to_bytes().as_slice())
                    .map_err(storage_error)?;
                let mut meta = txn.open_table(META).map_err(storage_error)?;
                meta.insert(HEIGHT_KEY, block.height)
                    .map_err(storage_error)?;
            }
        }
        txn.commit().map_err(storage_error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Event, MemoryStore};

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("ward-state-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        dir
    }

    fn sample_changes(height: u64) -> ChangeSet {
        let a = Address([1; 32]);
        let mut changes = ChangeSet::default();
        changes.code.insert(Hash32([2; 32]), b"\0asm code".to_vec());
        changes.contracts.insert(
            a,
            ContractInfo {
                code_hash: Hash32([2; 32]),
                deployer: Address([3; 32]),
                created_at: height,
            },
        );
        changes.storage.insert(
            (a, b"balance".to_vec()),
            Some(height.to_le_bytes().to_vec()),
        );
        changes.storage.insert((a, b"gone".to_vec()), None);
        changes
            .storage
            .insert((Address([4; 32]), b"other".to_vec()), Some(b"x".to_vec()));
        changes.block = Some(BlockRecord {
            height,
            time: 1000 + height,
            txs: vec![Hash32([height as u8; 32])],
        });
        changes.receipts.push(Receipt {
            tx: Hash32([height as u8; 32]),
            height,
            status: "ok".into(),
            exit_code: 0,
            output: vec![1, 2],
            gas_used: 99,
            events: vec![Event {
                contract: a,
                topic: b"transfer".to_vec(),
                data: vec![5],
            }],
            error_kind: None,
            error_message: None,
            address: None,
        });
        changes
    }

    /// redb and the in-memory store answer every query the same, and redb's
    /// answers survive reopening.
    #[test]
    fn redb_matches_memory_and_survives_reopening() {
        let dir = temp_dir("reopen");
        let memory = MemoryStore::default();
        {
            let redb = RedbStore::open(&dir).unwrap();
            assert_eq!(redb.height().unwrap(), 0);
            for height in 1..=3 {
                let changes = sample_changes(height);
                memory.commit(changes.clone()).unwrap();
                redb.commit(changes).unwrap();
            }
            // A removal committed later.
            let mut removal = ChangeSet::default();
            removal
                .storage
                .insert((Address([4; 32]), b"other".to_vec()), None);
            memory.commit(removal.clone()).unwrap();
            redb.commit(removal).unwrap();
        }
        let redb = RedbStore::open(&dir).unwrap();
        let stores: [&dyn StateRead; 2] = [&memory, &redb];
        let answers: Vec<_> = stores
            .iter()
            .map(|s| {
                (
                    s.height().unwrap(),
                    s.code(&Hash32([2; 32])).unwrap(),
                    s.contract(&Address([1; 32])).unwrap(),
                    s.storage(&Address([1; 32]), b"balance").unwrap(),
                    s.storage_entries(&Address([1; 32])).unwrap(),
                    s.storage_entries(&Address([4; 32])).unwrap(),
                    s.block(2).unwrap(),
                    s.receipt(&Hash32([3; 32])).unwrap(),
                )
            })
            .collect();
        assert_eq!(answers[0], answers[1]);
        assert_eq!(answers[1].0, 3);
        assert_eq!(answers[1].3, Some(3u64.to_le_bytes().to_vec()));
        assert!(answers[1].5.is_empty());
    }

    #[test]
    fn another_format_version_is_refused() {
        let dir = temp_dir("version");
        {
            let store = RedbStore::open(&dir).unwrap();
            let txn = store.db.begin_write().unwrap();
            {
                let mut meta = txn.open_table(META).unwrap();
                meta.insert(FORMAT_KEY, 999).unwrap();
            }
            txn.commit().unwrap();
        }
        assert!(matches!(
            RedbStore::open(&dir),
            Err(StateError::FormatVersion { found: 999, .. })
        ));
    }
}
