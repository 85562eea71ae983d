//! Savepoints of a whole store ([`RedbStore::savepoint`],
//! [`RedbStore::restore_savepoint`]): what a dev chain's `snapshot` and
//! `revert` are made of. They are redb's persistent savepoints: taking
//! one copies nothing (it keeps the pages of that moment from being
//! reused), restoring one is a single write transaction, and both survive
//! a restart. A store that holds savepoints cannot be compacted, and its
//! file keeps every page written since the oldest one: they are for
//! development chains, not for a node that runs for months.

use redb::Durability;

use super::RedbStore;
use crate::StateError;

impl RedbStore {
    /// Records the store as it is now, committed blocks only, and returns
    /// the savepoint's id (ids increase).
    ///
    /// # Errors
    ///
    /// A store opened read-only, or a write that fails.
    pub fn savepoint(&self) -> Result<u64, StateError> {
        self.writable()?;
        self.with_db(|db| {
            let mut txn = db.begin_write()?;
            txn.set_two_phase_commit(true);
            txn.set_durability(Durability::Immediate)?;
            let id = txn.persistent_savepoint()?;
            txn.commit()?;
            Ok(id)
        })
    }

    /// Puts the whole store back as it was when savepoint `id` was taken,
    /// in one commit, and deletes that savepoint and every later one.
    /// Returns `false` (and changes nothing) when there is no savepoint
    /// `id`.
    ///
    /// Whoever caches anything read from the store (an executor's tree
    /// cache) must forget it after a restore.
    ///
    /// # Errors
    ///
    /// A store opened read-only, or a write that fails (then nothing
    /// changed).
    pub fn restore_savepoint(&self, id: u64) -> Result<bool, StateError> {
        self.writable()?;
        self.with_db(|db| {
            let mut txn = db.begin_write()?;
            txn.set_two_phase_commit(true);
            txn.set_durability(Durability::Immediate)?;
            let savepoint = match txn.get_persistent_savepoint(id) {
                Ok(savepoint) => savepoint,
                Err(redb::SavepointError::InvalidSavepoint) => return Ok(false),
                Err(other) => return Err(other.into()),
            };
            txn.restore_savepoint(&savepoint)?;
            drop(savepoint);
            // redb forgets the later ones itself; this one goes too, as
            // a dev chain's `revert` promises.
            let later: Vec<u64> = txn
                .list_persistent_savepoints()?
                .filter(|other| *other >= id)
                .collect();
            for other in later {
                txn.delete_persistent_savepoint(other)?;
            }
            txn.commit()?;
            Ok(true)
        })
    }

    /// The ids of the savepoints the store holds, oldest first.
    ///
    /// # Errors
    ///
    /// When the store fails.
    pub fn savepoints(&self) -> Result<Vec<u64>, StateError> {
        self.with_db(|db| {
            // Savepoints are listed by a write transaction only; this one
            // writes nothing and is dropped.
            let txn = db.begin_write()?;
            let mut ids: Vec<u64> = txn.list_persistent_savepoints()?.collect();
            txn.abort()?;
            ids.sort_unstable();
            Ok(ids)
        })
    }

    fn writable(&self) -> Result<(), StateError> {
        if self.read_only {
            return Err(StateError::ReadOnly {
                path: self.path.clone(),
            });
        }
        Ok(())
    }
}
