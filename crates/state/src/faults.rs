//! Fault injection: stores whose storage fails on purpose, to test what an
//! executor or a node does when the machine under it fails.
//!
//! One [`FaultPlan`] counts operations across two levels and fails the one
//! it is armed for:
//!
//! - [`MemoryBackend`], a redb storage backend in memory, counts every
//!   read, write, resize and sync of the database file (what a disk sees,
//!   below redb's page cache) — open a store on it with
//!   [`crate::RedbStore::open_on`];
//! - [`FaultyStore`] wraps any store and counts every [`StateRead`] call
//!   and every [`StateCommit::commit`] (what the executor sees).
//!
//! [`FaultPlan::fail_write_at`] arms the Nth disk write, resize or sync
//! alone, which only a commit makes: under a running node, whose RPC
//! threads read meanwhile, the fault still lands in a commit.
//!
//! The armed operation fails once with an I/O error; later ones succeed,
//! as after a transient fault. A failing backend write writes nothing.
//!
//! ```
//! use std::sync::Arc;
//! use ward_state::{MemoryStore, RedbStore, StateRead};
//! use ward_state::faults::{FaultPlan, FaultyStore, MemoryBackend};
//!
//! let plan = Arc::new(FaultPlan::default());
//! let store = FaultyStore::new(MemoryStore::default(), plan.clone());
//! plan.fail_at(plan.operations() + 1);
//! assert!(store.height().is_err());
//! assert_eq!(store.height()?, 0);
//!
//! // A redb store on a disk in memory, reopened on what it left behind.
//! let disk = MemoryBackend::new(plan.clone());
//! drop(RedbStore::open_on(disk.clone())?);
//! assert_eq!(RedbStore::open_on(disk)?.height()?, 0);
//! # Ok::<(), ward_state::StateError>(())
//! ```

use std::{
    io,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
};

use redb::StorageBackend;

use crate::{
    Address, BlockRecord, ChangeSet, ContractInfo, Entries, Hash32, Receipt, StateCommit,
    StateError, StateRead,
};

/// Which operation fails. Shared by every store and backend it is given to.
#[derive(Debug, Default)]
pub struct FaultPlan {
    /// Operations counted so far.
    count: AtomicU64,
    /// The 1-based operation to fail; 0 for none.
    fail_at: AtomicU64,
    /// Disk writes, resizes and syncs counted so far.
    writes: AtomicU64,
    /// The 1-based disk write, resize or sync to fail; 0 for none.
    fail_write_at: AtomicU64,
    /// Whether the armed operation has failed.
    tripped: AtomicBool,
}

impl FaultPlan {
    /// Fails operation `n` (counted from 1 since the plan was made; `0`
    /// disarms). Clears [`FaultPlan::tripped`].
    pub fn fail_at(&self, n: u64) {
        self.tripped.store(false, Ordering::SeqCst);
        self.fail_at.store(n, Ordering::SeqCst);
    }

    /// Fails the `n`th write, resize or sync of a [`MemoryBackend`]
    /// (counted from 1 since the plan was made; `0` disarms): what only a
    /// commit does, so the fault lands in one whichever reads other
    /// threads make meanwhile. Clears [`FaultPlan::tripped`].
    pub fn fail_write_at(&self, n: u64) {
        self.tripped.store(false, Ordering::SeqCst);
        self.fail_write_at.store(n, Ordering::SeqCst);
    }

    /// Fails nothing from now on; [`FaultPlan::tripped`] still says
    /// whether the armed operation failed.
    pub fn disarm(&self) {
        self.fail_at.store(0, Ordering::SeqCst);
        self.fail_write_at.store(0, Ordering::SeqCst);
    }

    /// How many operations have been counted.
    pub fn operations(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// How many disk writes, resizes and syncs have been counted.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// Whether the armed operation has happened (and failed).
    pub fn tripped(&self) -> bool {
        self.tripped.load(Ordering::SeqCst)
    }

    /// Counts one operation of kind `what`; fails it if it is the armed one.
    fn tick(&self, what: &str) -> io::Result<()> {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let armed = self.fail_at.load(Ordering::SeqCst);
        self.fail(what, n, n == armed)
    }

    /// Counts one disk write, resize or sync, as an operation and as a
    /// write; fails it if it is the armed one of either count.
    fn tick_write(&self, what: &str) -> io::Result<()> {
        let n = self.count.fetch_add(1, Ordering::SeqCst) + 1;
        let w = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        let armed = n == self.fail_at.load(Ordering::SeqCst)
            || w == self.fail_write_at.load(Ordering::SeqCst);
        self.fail(what, n, armed)
    }

    /// Operation `n`, of kind `what`: an injected I/O error if `armed`.
    fn fail(&self, what: &str, n: u64, armed: bool) -> io::Result<()> {
        if armed {
            self.tripped.store(true, Ordering::SeqCst);
            return Err(io::Error::other(format!(
                "injected fault: {what} (operation {n})"
            )));
        }
        Ok(())
    }
}

/// A redb database file in memory whose I/O fails where its plan says.
/// Clones share the same bytes, so a database can be reopened on what a
/// failed one left behind.
#[derive(Clone, Debug)]
pub struct MemoryBackend {
    bytes: Arc<RwLock<Vec<u8>>>,
    plan: Arc<FaultPlan>,
}

impl MemoryBackend {
    /// An empty file.
    pub fn new(plan: Arc<FaultPlan>) -> Self {
        MemoryBackend::from_bytes(Vec::new(), plan)
    }

    /// A file holding `bytes` (a [`MemoryBackend::snapshot`] of another).
    pub fn from_bytes(bytes: Vec<u8>, plan: Arc<FaultPlan>) -> Self {
        MemoryBackend {
            bytes: Arc::new(RwLock::new(bytes)),
            plan,
        }
    }

    /// A copy of the file's bytes now.
    pub fn snapshot(&self) -> Vec<u8> {
        self.bytes.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn out_of_range() -> io::Error {
        io::Error::new(io::ErrorKind::InvalidInput, "range outside the file")
    }

    /// The `len` bytes from `offset`, as indices (checked against the
    /// file by the caller).
    fn range(offset: u64, len: usize) -> io::Result<std::ops::Range<usize>> {
        let start = usize::try_from(offset).map_err(|_| Self::out_of_range())?;
        let end = start.checked_add(len).ok_or_else(Self::out_of_range)?;
        Ok(start..end)
    }
}

impl StorageBackend for MemoryBackend {
    fn len(&self) -> io::Result<u64> {
        Ok(self.bytes.read().unwrap_or_else(|e| e.into_inner()).len() as u64)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        self.plan.tick("read")?;
        let bytes = self.bytes.read().unwrap_or_else(|e| e.into_inner());
        let source = bytes
            .get(Self::range(offset, out.len())?)
            .ok_or_else(Self::out_of_range)?;
        out.copy_from_slice(source);
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        self.plan.tick_write("resize")?;
        let len = usize::try_from(len).map_err(|_| Self::out_of_range())?;
        self.bytes
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .resize(len, 0);
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        self.plan.tick_write("sync")
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        self.plan.tick_write("write")?;
        let mut bytes = self.bytes.write().unwrap_or_else(|e| e.into_inner());
        let target = bytes
            .get_mut(Self::range(offset, data.len())?)
            .ok_or_else(Self::out_of_range)?;
        target.copy_from_slice(data);
        Ok(())
    }
}

/// A store whose reads and commits fail where its plan says.
pub struct FaultyStore<S> {
    inner: S,
    plan: Arc<FaultPlan>,
}

impl<S> FaultyStore<S> {
    /// Wraps `inner`, counting on `plan`.
    pub fn new(inner: S, plan: Arc<FaultPlan>) -> Self {
        FaultyStore { inner, plan }
    }

    /// The wrapped store.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    fn tick(&self, what: &str) -> Result<(), StateError> {
        self.plan
            .tick(what)
            .map_err(|e| StateError::Storage(e.to_string()))
    }
}

impl<S: StateRead> StateRead for FaultyStore<S> {
    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.tick("code")?;
        self.inner.code(hash)
    }
    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        self.tick("contract")?;
        self.inner.contract(address)
    }
    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.tick("storage")?;
        self.inner.storage(address, key)
    }
    fn storage_entries(&self, address: &Address) -> Result<Entries, StateError> {
        self.tick("storage_entries")?;
        self.inner.storage_entries(address)
    }
    fn height(&self) -> Result<u64, StateError> {
        self.tick("height")?;
        self.inner.height()
    }
    fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError> {
        self.tick("block")?;
        self.inner.block(height)
    }
    fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError> {
        self.tick("receipt")?;
        self.inner.receipt(tx)
    }
    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.tick("transaction")?;
        self.inner.transaction(id)
    }
    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        self.tick("nonce")?;
        self.inner.nonce(account)
    }
    fn balance(&self, address: &Address) -> Result<u128, StateError> {
        self.tick("balance")?;
        self.inner.balance(address)
    }
    fn block_height(&self, hash: &Hash32) -> Result<Option<u64>, StateError> {
        self.tick("block_height")?;
        self.inner.block_height(hash)
    }
    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.tick("tree_node")?;
        self.inner.tree_node(key)
    }
    fn tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, StateError> {
        self.tick("tree_value")?;
        self.inner.tree_value(key_hash, max_version)
    }
}

impl<S: StateCommit> StateCommit for FaultyStore<S> {
    fn commit(&self, changes: ChangeSet) -> Result<(), StateError> {
        self.tick("commit")?;
        self.inner.commit(changes)
    }
}
