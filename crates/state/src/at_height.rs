//! The state after an earlier block, read through the state tree, whose
//! values are kept per height: what replaying a transaction of that
//! block's successor needs (`ward trace`).

use ward_chain::tree::{StateKey, key_hash};
use ward_primitives::{Address, Hash32};

use crate::{
    BlockRecord, ChangeSet, ContractInfo, Decode, Entries, Receipt, StateCommit, StateError,
    StateRead,
};

/// `store`'s state as it was after block `height`: code, contracts,
/// storage, nonces and balances from the state tree at that height;
/// blocks, receipts and transactions up to it. Read-only: a commit is an
/// error. A store pruned above `height` answers with what pruning left,
/// so check [`crate::StatePrune::pruned_below`] first.
pub struct AtHeight<S> {
    store: S,
    height: u64,
}

impl<S: StateRead> AtHeight<S> {
    /// `store` after block `height`.
    pub fn new(store: S, height: u64) -> Self {
        AtHeight { store, height }
    }

    fn value(&self, key: StateKey<'_>) -> Result<Option<Vec<u8>>, StateError> {
        self.store
            .tree_value(&key_hash(&key.to_bytes()), self.height)
    }
}

/// A fixed-width little-endian integer as the tree holds it.
fn integer<const N: usize>(
    value: Option<Vec<u8>>,
    what: &str,
) -> Result<Option<[u8; N]>, StateError> {
    value
        .map(|bytes| {
            <[u8; N]>::try_from(bytes.as_slice()).map_err(|_| StateError::Corrupt {
                table: "tree_values",
                message: format!("a {what} of {} bytes", bytes.len()),
            })
        })
        .transpose()
}

impl<S: StateRead> StateRead for AtHeight<S> {
    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        // Code is kept by hash for good; it existed at the height only if
        // the tree had it.
        match self.value(StateKey::Code(hash))? {
            Some(_) => self.store.code(hash),
            None => Ok(None),
        }
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        self.value(StateKey::Contract(address))?
            .map(|bytes| {
                ContractInfo::from_bytes(&bytes).map_err(|e| StateError::Corrupt {
                    table: "tree_values",
                    message: e.0,
                })
            })
            .transpose()
    }

    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.value(StateKey::Storage(address, key))
    }

    fn storage_entries(&self, _address: &Address) -> Result<Entries, StateError> {
        // The tree is keyed by hashes: a contract's keys cannot be listed
        // at a height.
        Err(StateError::Storage(
            "a contract's storage cannot be listed at an earlier height".into(),
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
        Ok(self.store.receipt(tx)?.filter(|r| r.height <= self.height))
    }

    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        // Whether it was in a block by then is its receipt's to say.
        match self.receipt(id)? {
            Some(_) => self.store.transaction(id),
            None => Ok(None),
        }
    }

    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        let value = integer::<8>(self.value(StateKey::Nonce(account))?, "nonce")?;
        Ok(value.map_or(0, u64::from_le_bytes))
    }

    fn balance(&self, address: &Address) -> Result<u128, StateError> {
        let value = integer::<16>(self.value(StateKey::Balance(address))?, "balance")?;
        Ok(value.map_or(0, u128::from_le_bytes))
    }

    fn block_height(&self, hash: &Hash32) -> Result<Option<u64>, StateError> {
        Ok(self.store.block_height(hash)?.filter(|h| *h <= self.height))
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

impl<S: StateRead> StateCommit for AtHeight<S> {
    fn commit(&self, _changes: ChangeSet) -> Result<(), StateError> {
        Err(StateError::Storage(
            "the state at an earlier height is read-only".into(),
        ))
    }
}
