//! A consistent copy of a live store ([`RedbStore::backup_into`]): every
//! table read in one read transaction, while the writer goes on, and
//! written into a new database that a node can open.

use std::path::Path;

use redb::{Builder, Durability, ReadableDatabase, ReadableTable};

use super::{
    BALANCES, BLOCK_HASHES, BLOCKS, CODE, CONTRACTS, META, NONCES, RECEIPT_BATCHES, RedbStore,
    SETTINGS, STORAGE, TREE_NODES, TREE_STALE, TREE_VALUES, TREE_WRITES, TX_BATCHES, TX_INDEX,
};
use crate::{DATABASE_FILE, StateError};

impl RedbStore {
    /// Copies the store, as of one moment, into `dir` (created; it must
    /// hold no database yet): the copy is a store of its own, at the
    /// height the copy began. The writer is not stopped; blocks committed
    /// meanwhile are not in the copy. Returns the copy's height.
    ///
    /// # Errors
    ///
    /// When `dir` holds a database already, or a read or write fails (then
    /// no database is left in `dir`).
    pub fn backup_into(&self, dir: &Path) -> Result<u64, StateError> {
        let io = |e: std::io::Error| StateError::Storage(format!("{}: {e}", dir.display()));
        std::fs::create_dir_all(dir).map_err(io)?;
        let target = dir.join(DATABASE_FILE);
        if target.exists() {
            return Err(StateError::Storage(format!(
                "{} holds a database already",
                dir.display()
            )));
        }
        let temp = dir.join(format!(".{DATABASE_FILE}.backup"));
        let _ = std::fs::remove_file(&temp);
        let copied = self.copy_into(&temp);
        match copied {
            Ok(height) => {
                std::fs::rename(&temp, &target).map_err(io)?;
                Ok(height)
            }
            Err(e) => {
                let _ = std::fs::remove_file(&temp);
                Err(e)
            }
        }
    }

    fn copy_into(&self, path: &Path) -> Result<u64, StateError> {
        let copy = RedbStore::guarded_open(path, || Builder::new().create(path))?;
        self.with_db(|db| {
            let from = db.begin_read()?;
            let mut to = copy.begin_write()?;
            to.set_durability(Durability::Immediate)?;
            macro_rules! copy {
                ($($table:expr),* $(,)?) => {$(
                    {
                        let source = from.open_table($table)?;
                        let mut target = to.open_table($table)?;
                        for entry in source.iter()? {
                            let (key, value) = entry?;
                            target.insert(key.value(), value.value())?;
                        }
                    }
                )*};
            }
            every_table!(copy);
            let height = from
                .open_table(META)?
                .get(super::HEIGHT_KEY)?
                .map_or(0, |v| v.value());
            to.commit()?;
            Ok(height)
        })
    }
}
