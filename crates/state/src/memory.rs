//! State in memory: for tests and single-file runs.

#[allow(
    clippy::disallowed_types,
    reason = "tables looked up by a hash only, never iterated: no order to keep"
)]
use std::collections::HashMap;
use std::{collections::BTreeMap, sync::RwLock};

use ward_primitives::{Address, Hash32};

use crate::{
    BlockRecord, ChangeSet, ContractInfo, Entries, Receipt, StateCommit, StateError, StateRead,
};

/// Tables that are scanned in order are ordered maps; those only looked
/// up by a hash or a tree node's key are hash maps (a block's thousands of
/// new tree nodes insert in one step each, not a walk down a tree of
/// millions).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(clippy::disallowed_types, reason = "see the hash maps above")]
struct Tables {
    code: BTreeMap<Hash32, Vec<u8>>,
    contracts: BTreeMap<Address, ContractInfo>,
    storage: BTreeMap<(Address, Vec<u8>), Vec<u8>>,
    blocks: BTreeMap<u64, BlockRecord>,
    receipts: HashMap<Hash32, Receipt>,
    txs: HashMap<Hash32, Vec<u8>>,
    nonces: BTreeMap<Address, u64>,
    balances: BTreeMap<Address, u128>,
    block_hashes: HashMap<Hash32, u64>,
    tree_nodes: HashMap<Vec<u8>, Vec<u8>>,
    tree_values: BTreeMap<(Hash32, u64), Option<Vec<u8>>>,
}

/// Every table as a map, behind a lock so that a shared store can
/// commit.
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: RwLock<Tables>,
}

impl MemoryStore {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, Tables> {
        // The maps are consistent after any panic (each commit is applied
        // by plain inserts): keep serving.
        self.tables.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl StateRead for MemoryStore {
    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.read().code.get(hash).cloned())
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        Ok(self.read().contracts.get(address).cloned())
    }

    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.read().storage.get(&(*address, key.to_vec())).cloned())
    }

    fn storage_entries(&self, address: &Address) -> Result<Entries, StateError> {
        Ok(self
            .read()
            .storage
            .range((*address, Vec::new())..)
            .take_while(|((a, _), _)| a == address)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    fn height(&self) -> Result<u64, StateError> {
        Ok(self.read().blocks.last_key_value().map_or(0, |(h, _)| *h))
    }

    fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError> {
        Ok(self.read().blocks.get(&height).cloned())
    }

    fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError> {
        Ok(self.read().receipts.get(tx).cloned())
    }

    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.read().txs.get(id).cloned())
    }

    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        Ok(self.read().nonces.get(account).copied().unwrap_or(0))
    }

    fn balance(&self, address: &Address) -> Result<u128, StateError> {
        Ok(self.read().balances.get(address).copied().unwrap_or(0))
    }

    fn block_height(&self, hash: &Hash32) -> Result<Option<u64>, StateError> {
        Ok(self.read().block_hashes.get(hash).copied())
    }

    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.read().tree_nodes.get(key).cloned())
    }

    fn tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self
            .read()
            .tree_values
            .range((*key_hash, 0)..=(*key_hash, max_version))
            .next_back()
            .and_then(|(_, value)| value.clone()))
    }
}

impl StateCommit for MemoryStore {
    fn commit(&self, changes: ChangeSet) -> Result<(), StateError> {
        let mut t = self.tables.write().unwrap_or_else(|e| e.into_inner());
        t.code.extend(changes.code);
        t.contracts.extend(changes.contracts);
        for (key, value) in changes.storage {
            match value {
                Some(v) => {
                    t.storage.insert(key, v);
                }
                None => {
                    t.storage.remove(&key);
                }
            }
        }
        if let Some(block) = changes.block {
            t.block_hashes.insert(block.hash(), block.header.height);
            t.blocks.insert(block.header.height, block);
        }
        t.nonces.extend(changes.nonces);
        for (address, balance) in changes.balances {
            if balance == 0 {
                t.balances.remove(&address);
            } else {
                t.balances.insert(address, balance);
            }
        }
        t.tree_nodes.extend(changes.tree.nodes);
        for (key_hash, version, value) in changes.tree.values {
            t.tree_values.insert((key_hash, version), value);
        }
        for receipt in changes.receipts {
            t.receipts.insert(receipt.tx, receipt);
        }
        t.txs.extend(changes.txs);
        Ok(())
    }
}
