//! State in memory: for tests and single-file runs.

use std::collections::BTreeMap;

use ward_primitives::{Address, Hash32};

use crate::{
    BlockRecord, ChangeSet, ContractInfo, Entries, Receipt, StateCommit, StateError, StateRead,
};

/// Every table as an ordered map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemoryStore {
    code: BTreeMap<Hash32, Vec<u8>>,
    contracts: BTreeMap<Address, ContractInfo>,
    storage: BTreeMap<(Address, Vec<u8>), Vec<u8>>,
    blocks: BTreeMap<u64, BlockRecord>,
    receipts: BTreeMap<Hash32, Receipt>,
}

impl StateRead for MemoryStore {
    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.code.get(hash).cloned())
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        Ok(self.contracts.get(address).cloned())
    }

    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.storage.get(&(*address, key.to_vec())).cloned())
    }

    fn storage_entries(&self, address: &Address) -> Result<Entries, StateError> {
        Ok(self
            .storage
            .range((*address, Vec::new())..)
            .take_while(|((a, _), _)| a == address)
            .map(|((_, k), v)| (k.clone(), v.clone()))
            .collect())
    }

    fn height(&self) -> Result<u64, StateError> {
        Ok(self.blocks.last_key_value().map_or(0, |(h, _)| *h))
    }

    fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError> {
        Ok(self.blocks.get(&height).cloned())
    }

    fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError> {
        Ok(self.receipts.get(tx).cloned())
    }
}

impl StateCommit for MemoryStore {
    fn commit(&mut self, changes: ChangeSet) -> Result<(), StateError> {
        self.code.extend(changes.code);
        self.contracts.extend(changes.contracts);
        for (key, value) in changes.storage {
            match value {
                Some(v) => {
                    self.storage.insert(key, v);
                }
                None => {
                    self.storage.remove(&key);
                }
            }
        }
        if let Some(block) = changes.block {
            self.blocks.insert(block.height, block);
        }
        for receipt in changes.receipts {
            self.receipts.insert(receipt.tx, receipt);
        }
        Ok(())
    }
}
