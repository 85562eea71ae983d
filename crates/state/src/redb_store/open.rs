//! Opening a store: finding its file, checking it whole before anything
//! is read, creating a new one atomically, and the format version with
//! its upgrades.

use std::{
    fs::File,
    path::{Path, PathBuf},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use redb::{Builder, Database};

use super::{
    BALANCES, BLOCK_HASHES, BLOCKS, CODE, CONTRACTS, DATABASE_FILE, FORMAT_KEY, HEIGHT_KEY, META,
    NONCES, RECEIPT_BATCHES, RedbStore, SETTINGS, STORAGE, TREE_NODES, TREE_STALE, TREE_VALUES,
    TREE_WRITES, TX_BATCHES, TX_INDEX, boundary, classify, overlay, upgrade,
};
use crate::{STORAGE_FORMAT_VERSION, StateError};

/// What an overlay open does with a store that needs recovery.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Recovery {
    /// Refuse it (`NeedsRecovery`): a read says so.
    Refuse,
    /// Recover it in memory: a writer's check before it recovers the file.
    InMemory,
}

/// What to do when a data directory or its database file is missing.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum IfMissing {
    Create,
    Refuse,
}

/// The database file in `dir`, after checking what is there: `None` when
/// it does not exist yet (and `if_missing` allows creating it).
pub(super) fn database_file(
    dir: &Path,
    if_missing: IfMissing,
) -> Result<(PathBuf, bool), StateError> {
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
    pub(super) fn open_overlay(path: &Path, recovery: Recovery) -> Result<Database, StateError> {
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
    pub(super) fn open_writable(path: PathBuf) -> Result<Self, StateError> {
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
    pub(super) fn guarded_open(
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
    pub(super) fn checked(
        mut db: Database,
        path: PathBuf,
        accept: &[u64],
    ) -> Result<Self, StateError> {
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
    pub(super) fn initialized(db: Database, path: PathBuf) -> Result<Self, StateError> {
        let store = RedbStore::new(db, path, false);
        store.initialize()?;
        Ok(store)
    }

    pub(super) fn new(db: Database, path: PathBuf, read_only: bool) -> Self {
        RedbStore {
            db: std::sync::RwLock::new(Some(db)),
            path,
            read_only,
            damaged: AtomicBool::new(false),
            fork: std::sync::OnceLock::new(),
        }
    }

    /// Creates every table and the format version on first open; checks
    /// the version on every later one.
    pub(super) fn initialize(&self) -> Result<(), StateError> {
        if let Some(version) = self.format_version()? {
            if !upgrade::UPGRADABLE.contains(&version) {
                return check_version(version);
            }
            if self.read(|txn| upgrade::may_hold_unsigned(txn, version))? {
                return Err(StateError::Unupgradable {
                    found: u32::try_from(version).unwrap_or(u32::MAX),
                    expected: STORAGE_FORMAT_VERSION,
                    reason: upgrade::UNSIGNED_REASON,
                });
            }
            return self.write(|txn| {
                if version == 2 {
                    upgrade::from_2(txn)?;
                }
                if version <= 3 {
                    upgrade::from_3(txn)?;
                }
                if version <= 4 {
                    upgrade::from_4(txn)?;
                }
                upgrade::from_5(txn)
            });
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
    pub(super) fn check_version(&self, accept: &[u64]) -> Result<(), StateError> {
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
    pub(super) fn format_version(&self) -> Result<Option<u64>, StateError> {
        self.read(|txn| match txn.open_table(META) {
            Ok(meta) => Ok(meta.get(FORMAT_KEY)?.map(|v| v.value())),
            Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
            Err(e) => Err(e.into()),
        })
    }
}

/// Creates an initialized database at `path` atomically: it is built
/// under a temporary name and linked into place only when complete, so a
/// crash never leaves an empty or half-made file there, and a concurrent
/// creator's file is never replaced.
pub(super) fn create_new(path: &Path) -> Result<(), StateError> {
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

pub(super) fn check_version(version: u64) -> Result<(), StateError> {
    if version == u64::from(STORAGE_FORMAT_VERSION) {
        Ok(())
    } else {
        Err(StateError::FormatVersion {
            found: u32::try_from(version).unwrap_or(u32::MAX),
            expected: STORAGE_FORMAT_VERSION,
        })
    }
}
