//! What a transaction's journal reads through: the store, and in a
//! parallel block's optimistic pass a record of every state key read, so
//! that the in-order pass can tell whether an earlier transaction wrote
//! something it saw (`crate::parallel`).

use std::sync::{Arc, Mutex};

use ward_primitives::{Address, Hash32};
use ward_state::{BlockRecord, ContractInfo, Entries, ReadKey, Receipt, StateError, StateRead};

/// The store under a journal, recording reads when asked to.
pub struct View<S> {
    store: Arc<S>,
    reads: Option<Mutex<Vec<ReadKey>>>,
}

impl<S> View<S> {
    /// Reads `store` without recording.
    pub fn plain(store: Arc<S>) -> Self {
        View { store, reads: None }
    }

    /// Reads `store` and records every state key read.
    pub(crate) fn recording(store: Arc<S>) -> Self {
        View {
            store,
            reads: Some(Mutex::new(Vec::new())),
        }
    }

    /// What was read, in order (duplicates kept).
    pub(crate) fn take_reads(&self) -> Vec<ReadKey> {
        self.reads
            .as_ref()
            .map(|r| std::mem::take(&mut *crate::lock(r)))
            .unwrap_or_default()
    }

    fn record(&self, key: impl FnOnce() -> ReadKey) {
        if let Some(reads) = &self.reads {
            crate::lock(reads).push(key());
        }
    }
}

impl<S: StateRead> StateRead for View<S> {
    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.record(|| ReadKey::Code(*hash));
        self.store.code(hash)
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        self.record(|| ReadKey::Contract(*address));
        self.store.contract(address)
    }

    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.record(|| ReadKey::Storage(*address, key.to_vec()));
        self.store.storage(address, key)
    }

    fn storage_entries(&self, address: &Address) -> Result<Entries, StateError> {
        self.record(|| ReadKey::StorageRange(*address));
        self.store.storage_entries(address)
    }

    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        self.record(|| ReadKey::Nonce(*account));
        self.store.nonce(account)
    }

    fn balance(&self, address: &Address) -> Result<u128, StateError> {
        self.record(|| ReadKey::Balance(*address));
        self.store.balance(address)
    }

    // Block-level reads: the same for every transaction of a block.
    fn height(&self) -> Result<u64, StateError> {
        self.store.height()
    }

    fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError> {
        self.store.block(height)
    }

    fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError> {
        self.store.receipt(tx)
    }

    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.store.transaction(id)
    }

    fn block_height(&self, hash: &Hash32) -> Result<Option<u64>, StateError> {
        self.store.block_height(hash)
    }

    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.store.tree_node(key)
    }

    fn tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, StateError> {
        self.store.tree_value(key_hash, max_version)
    }
}
