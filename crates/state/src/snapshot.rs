//! The state as it was after one block, read through the state tree's
//! versioned values: consistent however many blocks are committed while it
//! is read, and available for every past height.

use ward_chain::tree::{StateKey, key_hash};
use ward_primitives::{Address, Hash32};

use crate::{
    BlockRecord, ChangeSet, ContractInfo, Decode, Entries, Receipt, StateCommit, StateError,
    StateRead,
};

/// `store` as of block `height`. Reads of code, contracts, storage and
/// nonces come from the state tree's values at that height; blocks,
/// receipts and transactions after it are not seen. Listing a contract's
/// storage is not kept per height, and a snapshot never commits.
pub struct Snapshot<S> {
    store: S,
    height: u64,
}

impl<S: StateRead> Snapshot<S> {
    /// `store` as of `height`.
    ///
    /// # Errors
    ///
    /// A height above the store's, or a store failure.
    pub fn new(store: S, height: u64) -> Result<Self, StateError> {
        let top = store.height()?;
        if height > top {
            return Err(StateError::Storage(format!(
                "no block {height}: the chain is at {top}"
            )));
        }
        Ok(Snapshot { store, height })
    }

    /// The store's latest block, as a snapshot.
    ///
    /// # Errors
    ///
    /// A store failure.
    pub fn latest(store: S) -> Result<Self, StateError> {
        let height = store.height()?;
        Ok(Snapshot { store, height })
    }

    fn value(&self, key: StateKey<'_>) -> Result<Option<Vec<u8>>, StateError> {
        self.store
            .tree_value(&key_hash(&key.to_bytes()), self.height)
    }
}

impl<S: StateRead> StateRead for Snapshot<S> {
    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        match self.value(StateKey::Code(hash))? {
            Some(_) => self.store.code(hash),
            None => Ok(None),
        }
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        self.value(StateKey::Contract(address))?
            .map(|bytes| {
                ContractInfo::from_bytes(&bytes).map_err(crate::codec::corrupt("tree_values"))
            })
            .transpose()
    }

    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.value(StateKey::Storage(address, key))
    }

    fn storage_entries(&self, _: &Address) -> Result<Entries, StateError> {
        Err(StateError::Storage(
            "a contract's storage is listed at the latest height only".into(),
        ))
    }

    fn height(&self) -> Result<u64, StateError> {
        Ok(self.height)
    }

    fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError> {
        if height > self.height {
            return Ok(None);
        }
        self.store.block(height)
    }

    fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError> {
        Ok(self
            .store
            .receipt(tx)?
            .filter(|receipt| receipt.height <= self.height))
    }

    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        if self.receipt(id)?.is_none() {
            return Ok(None);
        }
        self.store.transaction(id)
    }

    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        crate::codec::tree_number(self.value(StateKey::Nonce(account))?)
    }

    fn balance(&self, address: &Address) -> Result<u128, StateError> {
        crate::codec::tree_number(self.value(StateKey::Balance(address))?)
    }

    fn block_height(&self, hash: &Hash32) -> Result<Option<u64>, StateError> {
        Ok(self
            .store
            .block_height(hash)?
            .filter(|height| *height <= self.height))
    }

    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.store.tree_node(key)
    }

    fn tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, StateError> {
        self.store
            .tree_value(key_hash, max_version.min(self.height))
    }
}

impl<S: StateRead> StateCommit for Snapshot<S> {
    fn commit(&self, _: ChangeSet) -> Result<(), StateError> {
        Err(StateError::Storage("a snapshot never commits".into()))
    }
}
