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
mod boundary;
mod fork;
mod overlay;
mod prune;
mod read;
mod savepoint;

pub use fork::Upstream;
pub use prune::COMPACT_FROM_BYTES;
mod scan;
mod upgrade;

use std::{
    fs::File,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use redb::{
    Builder, Database, Durability, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition, WriteTransaction,
};
use ward_primitives::{Address, Hash32};

use crate::{
    ChangeSet, Decode, Encode, Entries, Receipt, STORAGE_FORMAT_VERSION, StateCommit, StateError,
};

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

/// `key hash ++ version` (big-endian, so a key's versions are in order).
fn tree_value_key(key_hash: &Hash32, version: u64) -> [u8; 40] {
    let mut out = [0u8; 40];
    out[..32].copy_from_slice(&key_hash.0);
    out[32..].copy_from_slice(&version.to_be_bytes());
    out
}

/// What an overlay open does with a store that needs recovery.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Recovery {
    /// Refuse it (`NeedsRecovery`): a read says so.
    Refuse,
    /// Recover it in memory: a writer's check before it recovers the file.
    InMemory,
}

/// What to do when a data directory or its database file is missing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum IfMissing {
    Create,
    Refuse,
}

/// The database file in `dir`, after checking what is there: `None` when
/// it does not exist yet (and `if_missing` allows creating it).
fn database_file(dir: &Path, if_missing: IfMissing) -> Result<(PathBuf, bool), StateError> {
    let io = |e: std::io::Error| StateError::Storage(format!("{}: {e}", dir.display()));
    match std::fs::metadata(dir) {
        Ok(meta) if !meta.is_dir() => {
            return Err(StateError::NotADirectory {
                path: dir.to_path_buf(),
            });
        }
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if if_missing == IfMissing::Refuse {
                return Err(StateError::Missing {
                    path: dir.to_path_buf(),
                });
            }
            std::fs::create_dir_all(dir).map_err(io)?;
        }
        Err(e) => return Err(io(e)),
    }
    let path = dir.join(DATABASE_FILE);
    match std::fs::metadata(&path) {
        Ok(meta) if meta.len() == 0 => Err(StateError::Empty { path }),
        Ok(meta) if !meta.is_file() => Err(StateError::Damaged {
            message: "not a regular file".to_owned(),
            path,
        }),
        Ok(_) => Ok((path, true)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => match if_missing {
            IfMissing::Create => Ok((path, false)),
            IfMissing::Refuse => Err(StateError::Missing {
                path: dir.to_path_buf(),
            }),
        },
        Err(e) => Err(StateError::Storage(format!("{}: {e}", path.display()))),
    }
}

impl RedbStore {
    /// Opens the store in `dir` for writing, creating the directory and a
    /// new, empty chain if there is none.
    ///
    /// # Errors
    ///
    /// When `dir` is not a directory, the database file is empty, damaged,
    /// in use or of another layout version, or cannot be read or written.
    pub fn create(dir: &Path) -> Result<Self, StateError> {
        let (path, exists) = database_file(dir, IfMissing::Create)?;
        if !exists {
            create_new(&path)?;
        }
        RedbStore::open_writable(path)
    }

    /// Opens the existing store in `dir` for writing; recovers it first if
    /// it was not closed cleanly.
    ///
    /// # Errors
    ///
    /// [`StateError::Missing`] when there is no store in `dir`, and as
    /// [`RedbStore::create`].
    pub fn open(dir: &Path) -> Result<Self, StateError> {
        let (path, _) = database_file(dir, IfMissing::Refuse)?;
        RedbStore::open_writable(path)
    }

    /// Opens the existing store in `dir` for reading only. The file is
    /// opened read-only and never written; the directory may be read-only.
    ///
    /// # Errors
    ///
    /// [`StateError::NeedsRecovery`] when the store was not closed cleanly,
    /// [`StateError::Busy`] when a process has it open for writing, and as
    /// [`RedbStore::open`].
    pub fn open_read_only(dir: &Path) -> Result<Self, StateError> {
        let (path, _) = database_file(dir, IfMissing::Refuse)?;
        let db = RedbStore::open_overlay(&path, Recovery::Refuse)?;
        RedbStore::checked(db, path, &[])
    }

    /// The database at `path` through a read-only [`overlay::Overlay`]:
    /// redb's writes stay in memory. A store that needs recovery is
    /// recovered in memory, or refused with `NeedsRecovery`.
    fn open_overlay(path: &Path, recovery: Recovery) -> Result<Database, StateError> {
        let io = |e: std::io::Error| StateError::Storage(format!("{}: {e}", path.display()));
        let backend = overlay::Overlay::new(File::open(path).map_err(io)?).map_err(io)?;
        let needs_recovery = Arc::new(AtomicBool::new(false));
        let flag = needs_recovery.clone();
        let mut builder = Builder::new();
        if recovery == Recovery::Refuse {
            builder.set_repair_callback(move |session| {
                flag.store(true, Ordering::Relaxed);
                session.abort();
            });
        }
        match RedbStore::guarded_open(path, || builder.create_with_backend(backend)) {
            Err(_) if needs_recovery.load(Ordering::Relaxed) => Err(StateError::NeedsRecovery {
                path: path.to_path_buf(),
            }),
            other => other,
        }
    }

    /// Opens (creating if empty) a store on a redb storage backend other
    /// than a file: [`crate::faults::MemoryBackend`] for fault injection.
    ///
    /// # Errors
    ///
    /// As [`RedbStore::create`].
    pub fn open_on(backend: impl redb::StorageBackend) -> Result<Self, StateError> {
        let path = PathBuf::from("(storage backend)");
        let db = RedbStore::guarded_open(&path, || Builder::new().create_with_backend(backend))?;
        RedbStore::initialized(db, path)
    }

    /// Checks the file through the overlay first (recovering it in memory
    /// if it needs recovery), so damage is found before redb is allowed
    /// to write to it; only a file that passes is opened for writing. (A
    /// second check under the writer's lock would only guard against a
    /// process that damages the file in between: out of scope, see
    /// SECURITY.md.)
    fn open_writable(path: PathBuf) -> Result<Self, StateError> {
        let probe = RedbStore::open_overlay(&path, Recovery::InMemory)?;
        // A format 2 store passes the probe: the writable open upgrades it.
        drop(RedbStore::checked(
            probe,
            path.clone(),
            upgrade::UPGRADABLE,
        )?);
        let db = RedbStore::guarded_open(&path, || Builder::new().open(&path))?;
        RedbStore::initialized(db, path)
    }

    /// Runs redb's open, containing its panics.
    fn guarded_open(
        path: &Path,
        open: impl FnOnce() -> Result<Database, redb::DatabaseError>,
    ) -> Result<Database, StateError> {
        match boundary::contain(open) {
            Ok(Ok(db)) => Ok(db),
            Ok(Err(e)) => Err(classify(path, e.into())),
            Err(report) => Err(StateError::Damaged {
                path: path.to_path_buf(),
                message: format!("redb failed while opening it: {report}"),
            }),
        }
    }

    /// A read-only store on an existing database (opened through the
    /// overlay), after redb's integrity check and the format version's.
    fn checked(mut db: Database, path: PathBuf, accept: &[u64]) -> Result<Self, StateError> {
        let integrity = boundary::contain(|| db.check_integrity());
        let failure = match integrity {
            Ok(Ok(_)) => None,
            Ok(Err(e)) => Some(classify(&path, e.into())),
            Err(report) => Some(StateError::Damaged {
                path: path.clone(),
                message: format!("redb failed while checking it: {report}"),
            }),
        };
        let store = RedbStore::new(db, path, true);
        if let Some(failure) = failure {
            store.damaged.store(true, Ordering::Relaxed);
            return Err(failure);
        }
        store.check_version(accept)?;
        Ok(store)
    }

    /// A writable store, its tables created (on a new database) or its
    /// format version checked.
    fn initialized(db: Database, path: PathBuf) -> Result<Self, StateError> {
        let store = RedbStore::new(db, path, false);
        store.initialize()?;
        Ok(store)
    }

    fn new(db: Database, path: PathBuf, read_only: bool) -> Self {
        RedbStore {
            db: std::sync::RwLock::new(Some(db)),
            path,
            read_only,
            damaged: AtomicBool::new(false),
            fork: std::sync::OnceLock::new(),
        }
    }

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

    /// Creates every table and the format version on first open; checks
    /// the version on every later one.
    fn initialize(&self) -> Result<(), StateError> {
        if let Some(version) = self.format_version()? {
            if version == 2 {
                return self.write(|txn| {
                    upgrade::from_2(txn)?;
                    upgrade::from_3(txn)?;
                    upgrade::from_4(txn)
                });
            }
            if version == 3 {
                return self.write(|txn| {
                    upgrade::from_3(txn)?;
                    upgrade::from_4(txn)
                });
            }
            if version == 4 {
                return self.write(upgrade::from_4);
            }
            return check_version(version);
        }
        self.write(|txn| {
            {
                let mut meta = txn.open_table(META)?;
                meta.insert(FORMAT_KEY, u64::from(STORAGE_FORMAT_VERSION))?;
                meta.insert(HEIGHT_KEY, 0)?;
            }
            macro_rules! create {
                ($($table:expr),*) => {$( txn.open_table($table)?; )*};
            }
            every_table!(create);
            Ok(())
        })
    }

    /// Checks the format version without writing: a read-only store must
    /// find this build's, or one of `accept`.
    fn check_version(&self, accept: &[u64]) -> Result<(), StateError> {
        match self.format_version()? {
            Some(version) if accept.contains(&version) => Ok(()),
            Some(version) => check_version(version),
            None => Err(StateError::Damaged {
                path: self.path.clone(),
                message: "it holds no Ward state (no format version)".to_owned(),
            }),
        }
    }

    /// The stored format version, `None` before the first initialization.
    fn format_version(&self) -> Result<Option<u64>, StateError> {
        self.read(|txn| match txn.open_table(META) {
            Ok(meta) => Ok(meta.get(FORMAT_KEY)?.map(|v| v.value())),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
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

/// Creates an initialized database at `path` atomically: it is built
/// under a temporary name and linked into place only when complete, so a
/// crash never leaves an empty or half-made file there, and a concurrent
/// creator's file is never replaced.
fn create_new(path: &Path) -> Result<(), StateError> {
    let io = |at: &Path| {
        let at = at.to_path_buf();
        move |e: std::io::Error| StateError::Storage(format!("{}: {e}", at.display()))
    };
    let temp = path.with_extension(format!("redb.{}.new", std::process::id()));
    match std::fs::remove_file(&temp) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&temp)(e)),
        _ => {}
    }
    let db = RedbStore::guarded_open(&temp, || Builder::new().create(&temp))?;
    drop(RedbStore::initialized(db, temp.clone())?);
    let linked = match std::fs::hard_link(&temp, path) {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        other => other.map_err(io(path)),
    };
    std::fs::remove_file(&temp).map_err(io(&temp))?;
    linked?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(())
}

/// Where a transaction's receipt and its encoding are: each a batch
/// number and a position in it (`None`: not stored). Stored as the two in
/// turn, each a `u64` batch and a `u32` position, little-endian, a batch of
/// 0 for none.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Place {
    receipt: Option<(u64, u32)>,
    tx: Option<(u64, u32)>,
}

impl Place {
    fn to_bytes(self) -> [u8; 24] {
        let mut out = [0u8; 24];
        for (i, part) in [self.receipt, self.tx].into_iter().enumerate() {
            let (batch, position) = part.unwrap_or((0, 0));
            out[i * 12..i * 12 + 8].copy_from_slice(&batch.to_le_bytes());
            out[i * 12 + 8..i * 12 + 12].copy_from_slice(&position.to_le_bytes());
        }
        out
    }

    fn from_bytes(bytes: &[u8]) -> Option<Place> {
        if bytes.len() != 24 {
            return None;
        }
        let part = |i: usize| {
            let batch = u64::from_le_bytes(bytes[i * 12..i * 12 + 8].try_into().ok()?);
            let position = u32::from_le_bytes(bytes[i * 12 + 8..i * 12 + 12].try_into().ok()?);
            Some((batch != 0).then_some((batch, position)))
        };
        Some(Place {
            receipt: part(0)?,
            tx: part(1)?,
        })
    }
}

/// Items as one record: their count (`u32`), the end offset of each
/// (`u32`), then their bytes.
fn pack<'a>(items: impl ExactSizeIterator<Item = &'a [u8]> + Clone) -> Vec<u8> {
    let count = items.len();
    let total: usize = items.clone().map(<[u8]>::len).sum();
    let mut out = Vec::with_capacity(4 + 4 * count + total);
    out.extend_from_slice(&(count as u32).to_le_bytes());
    let mut end = 0u32;
    for item in items.clone() {
        end += item.len() as u32;
        out.extend_from_slice(&end.to_le_bytes());
    }
    for item in items {
        out.extend_from_slice(item);
    }
    out
}

/// Item `position` of a record [`pack`] made; `None` when the record is
/// malformed or has no such item.
fn unpack(record: &[u8], position: u32) -> Option<&[u8]> {
    let word = |at: usize| -> Option<usize> {
        let bytes = record.get(at..at + 4)?;
        Some(u32::from_le_bytes(bytes.try_into().ok()?) as usize)
    };
    let count = word(0)?;
    let position = position as usize;
    if position >= count {
        return None;
    }
    let data = 4 + 4 * count;
    let start = if position == 0 {
        0
    } else {
        word(4 + 4 * (position - 1))?
    };
    let end = word(4 + 4 * position)?;
    record.get(data.checked_add(start)?..data.checked_add(end)?)
}

/// Stores a commit's receipts and transactions as one batch each, under
/// the next batch number, and indexes them by transaction id. An id with
/// only one of the two here keeps the other's place from before.
fn store_batch(
    txn: &WriteTransaction,
    receipts: &[Receipt],
    txs: &[(Hash32, Vec<u8>)],
) -> Result<(), redb::Error> {
    if receipts.is_empty() && txs.is_empty() {
        return Ok(());
    }
    let mut meta = txn.open_table(META)?;
    let batch = meta.get(BATCH_KEY)?.map_or(0, |v| v.value()) + 1;
    meta.insert(BATCH_KEY, batch)?;
    let mut places: std::collections::BTreeMap<[u8; 32], Place> = Default::default();
    let encoded: Vec<Vec<u8>> = receipts.iter().map(Receipt::to_bytes).collect();
    if !receipts.is_empty() {
        for (i, receipt) in receipts.iter().enumerate() {
            places.entry(receipt.tx.0).or_default().receipt = Some((batch, i as u32));
        }
        let mut table = txn.open_table(RECEIPT_BATCHES)?;
        table.insert(batch, pack(encoded.iter().map(Vec::as_slice)).as_slice())?;
    }
    if !txs.is_empty() {
        for (i, (id, _)) in txs.iter().enumerate() {
            places.entry(id.0).or_default().tx = Some((batch, i as u32));
        }
        let mut table = txn.open_table(TX_BATCHES)?;
        table.insert(
            batch,
            pack(txs.iter().map(|(_, bytes)| bytes.as_slice())).as_slice(),
        )?;
    }
    let mut index = txn.open_table(TX_INDEX)?;
    for (id, mut place) in places {
        if place.receipt.is_none() || place.tx.is_none() {
            let before = index
                .get(id.as_slice())?
                .and_then(|v| Place::from_bytes(v.value()))
                .unwrap_or_default();
            place.receipt = place.receipt.or(before.receipt);
            place.tx = place.tx.or(before.tx);
        }
        index.insert(id.as_slice(), place.to_bytes().as_slice())?;
    }
    Ok(())
}

fn check_version(version: u64) -> Result<(), StateError> {
    if version == u64::from(STORAGE_FORMAT_VERSION) {
        Ok(())
    } else {
        Err(StateError::FormatVersion {
            found: u32::try_from(version).unwrap_or(u32::MAX),
            expected: STORAGE_FORMAT_VERSION,
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
