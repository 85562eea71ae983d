//! What a transaction's journal reads through: the store, the state
//! changes of a block still being committed when a [`crate::Pipeline`]
//! runs the next one above it, and in a parallel block's optimistic pass a
//! record of every state key read, so that the in-order pass can tell
//! whether an earlier transaction wrote something it saw
//! (`crate::parallel`).

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
};

use ward_primitives::{Address, Hash32};
use ward_state::{
    BlockRecord, ChangeSet, ContractInfo, Entries, ReadKey, Receipt, StateError, StateRead,
};

/// The store under a journal, with the pending block above it (if any),
/// recording reads when asked to.
pub struct View<S> {
    store: Arc<S>,
    pending: Option<Arc<Pending>>,
    reads: Option<Mutex<Vec<ReadKey>>>,
}

/// The state a block executed and not yet committed leaves: what the next
/// block of a [`crate::Pipeline`] reads above the store while the store
/// catches up. Its block has no header yet, so the view's block-level
/// reads (height, blocks, receipts, transactions) are those of the store
/// before it, whether or not its commit has landed meanwhile: what a
/// block reads never depends on how far the commit before it got.
#[derive(Debug, Default)]
pub(crate) struct Pending {
    height: u64,
    txs: std::collections::BTreeSet<Hash32>,
    code: BTreeMap<Hash32, Vec<u8>>,
    contracts: BTreeMap<Address, ContractInfo>,
    storage: BTreeMap<(Address, Vec<u8>), Option<Vec<u8>>>,
    nonces: BTreeMap<Address, u64>,
    balances: BTreeMap<Address, u128>,
}

impl Pending {
    /// The state `changes` writes (a copy: the changes themselves go to
    /// the store).
    pub(crate) fn of(height: u64, changes: &ChangeSet) -> Self {
        Pending {
            height,
            txs: changes.txs.iter().map(|(id, _)| *id).collect(),
            code: changes.code.clone(),
            contracts: changes.contracts.clone(),
            storage: changes.storage.clone(),
            nonces: changes.nonces.clone(),
            balances: changes.balances.clone(),
        }
    }
}

impl<S> View<S> {
    /// Reads `store` without recording.
    pub fn plain(store: Arc<S>) -> Self {
        View {
            store,
            pending: None,
            reads: None,
        }
    }

    /// Reads `pending` above `store`, recording every state key read when
    /// `recording`.
    pub(crate) fn over(store: Arc<S>, pending: Option<Arc<Pending>>, recording: bool) -> Self {
        View {
            store,
            pending,
            reads: recording.then(|| Mutex::new(Vec::new())),
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
        if let Some(code) = self.pending.as_ref().and_then(|p| p.code.get(hash)) {
            return Ok(Some(code.clone()));
        }
        self.store.code(hash)
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        self.record(|| ReadKey::Contract(*address));
        if let Some(info) = self.pending.as_ref().and_then(|p| p.contracts.get(address)) {
            return Ok(Some(info.clone()));
        }
        self.store.contract(address)
    }

    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.record(|| ReadKey::Storage(*address, key.to_vec()));
        if let Some(pending) = &self.pending
            && let Some(value) = pending.storage.get(&(*address, key.to_vec()))
        {
            return Ok(value.clone());
        }
        self.store.storage(address, key)
    }

    fn storage_entries(&self, address: &Address) -> Result<Entries, StateError> {
        self.record(|| ReadKey::StorageRange(*address));
        let stored = self.store.storage_entries(address)?;
        Ok(match &self.pending {
            Some(pending) => ward_state::overlay_entries(stored, address, &pending.storage),
            None => stored,
        })
    }

    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        self.record(|| ReadKey::Nonce(*account));
        if let Some(nonce) = self.pending.as_ref().and_then(|p| p.nonces.get(account)) {
            return Ok(*nonce);
        }
        self.store.nonce(account)
    }

    fn balance(&self, address: &Address) -> Result<u128, StateError> {
        self.record(|| ReadKey::Balance(*address));
        if let Some(balance) = self.pending.as_ref().and_then(|p| p.balances.get(address)) {
            return Ok(*balance);
        }
        self.store.balance(address)
    }

    // Block-level reads: the same for every transaction of a block, and
    // of committed blocks only, below a pending one.
    fn height(&self) -> Result<u64, StateError> {
        match &self.pending {
            Some(pending) => Ok(pending.height.saturating_sub(1)),
            None => self.store.height(),
        }
    }

    fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError> {
        if self.pending.as_ref().is_some_and(|p| height >= p.height) {
            return Ok(None);
        }
        self.store.block(height)
    }

    fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError> {
        let receipt = self.store.receipt(tx)?;
        Ok(match &self.pending {
            Some(pending) => receipt.filter(|r| r.height < pending.height),
            None => receipt,
        })
    }

    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        if self.pending.as_ref().is_some_and(|p| p.txs.contains(id)) {
            return Ok(None);
        }
        self.store.transaction(id)
    }

    fn block_height(&self, hash: &Hash32) -> Result<Option<u64>, StateError> {
        let height = self.store.block_height(hash)?;
        Ok(match &self.pending {
            Some(pending) => height.filter(|h| *h < pending.height),
            None => height,
        })
    }

    // The tree as of the committed blocks below a pending one, too (a
    // node's key begins with its version, little-endian).
    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(pending) = &self.pending {
            let version = key.first_chunk::<8>().map_or(0, |v| u64::from_le_bytes(*v));
            if version >= pending.height {
                return Ok(None);
            }
        }
        self.store.tree_node(key)
    }

    fn tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, StateError> {
        let max_version = match &self.pending {
            Some(pending) => max_version.min(pending.height.saturating_sub(1)),
            None => max_version,
        };
        self.store.tree_value(key_hash, max_version)
    }
}
