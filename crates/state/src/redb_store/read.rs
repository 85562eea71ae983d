//! Point reads of a store ([`StateRead`]): each table's latest value, and
//! the state tree's values by version. On a forked store a read that finds
//! nothing falls back to the fork's upstream (`fork`).

use ward_chain::tree::StateKey;

use super::*;
use crate::{BlockRecord, ContractInfo, StateRead};

impl StateRead for RedbStore {
    // Each point read of state falls back to the fork's upstream when it
    // finds nothing (`fork`); the unforked store's miss costs one check.

    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        match self.get_bytes(CODE, &hash.0)? {
            None => self.forked_code(hash),
            found => Ok(found),
        }
    }

    fn contract(&self, address: &Address) -> Result<Option<ContractInfo>, StateError> {
        match self.get_bytes(CONTRACTS, &address.0)? {
            None => self.forked_contract(address),
            Some(bytes) => ContractInfo::from_bytes(&bytes)
                .map(Some)
                .map_err(corrupt("contracts")),
        }
    }

    fn storage(&self, address: &Address, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        match self.get_bytes(STORAGE, &storage_key(address, key))? {
            None => self.through_fork(StateKey::Storage(address, key)),
            found => Ok(found),
        }
    }

    fn storage_entries(&self, address: &Address) -> Result<Entries, StateError> {
        self.read(|txn| {
            let table = txn.open_table(STORAGE)?;
            let prefix = address.0.as_slice();
            let mut out = Vec::new();
            for entry in table.range(prefix..)? {
                let (key, value) = entry?;
                let key = key.value();
                if !key.starts_with(prefix) {
                    break;
                }
                out.push((key[32..].to_vec(), value.value().to_vec()));
            }
            Ok(out)
        })
    }

    fn height(&self) -> Result<u64, StateError> {
        self.read(|txn| {
            let meta = txn.open_table(META)?;
            Ok(meta.get(HEIGHT_KEY)?.map_or(0, |v| v.value()))
        })
    }

    fn block(&self, height: u64) -> Result<Option<BlockRecord>, StateError> {
        let bytes = self.read(|txn| {
            let table = txn.open_table(BLOCKS)?;
            Ok(table.get(height)?.map(|v| v.value().to_vec()))
        })?;
        bytes
            .map(|bytes| BlockRecord::from_bytes(&bytes).map_err(corrupt("blocks")))
            .transpose()
    }

    fn receipt(&self, tx: &Hash32) -> Result<Option<Receipt>, StateError> {
        self.indexed(tx, RECEIPT_BATCHES, |place| place.receipt)?
            .map(|bytes| Receipt::from_bytes(&bytes).map_err(corrupt("receipt_batches")))
            .transpose()
    }

    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.indexed(id, TX_BATCHES, |place| place.tx)
    }

    fn nonce(&self, account: &Address) -> Result<u64, StateError> {
        let local = self.read(|txn| {
            let table = txn.open_table(NONCES)?;
            Ok(table.get(account.0.as_slice())?.map(|v| v.value()))
        })?;
        match local {
            Some(nonce) => Ok(nonce),
            None => crate::codec::tree_number(self.through_fork(StateKey::Nonce(account))?),
        }
    }

    fn balance(&self, address: &Address) -> Result<u128, StateError> {
        let local = self.read(|txn| {
            let table = txn.open_table(BALANCES)?;
            Ok(table.get(address.0.as_slice())?.map(|v| v.value()))
        })?;
        match local {
            Some(balance) => Ok(balance),
            None => crate::codec::tree_number(self.through_fork(StateKey::Balance(address))?),
        }
    }

    fn block_height(&self, hash: &Hash32) -> Result<Option<u64>, StateError> {
        self.read(|txn| {
            let table = txn.open_table(BLOCK_HASHES)?;
            Ok(table.get(hash.0.as_slice())?.map(|v| v.value()))
        })
    }

    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.get_bytes(TREE_NODES, key)
    }

    fn tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, StateError> {
        match self.fork.get() {
            Some(fork) => self.forked_tree_value(fork, key_hash, max_version),
            None => Ok(self.local_tree_value(key_hash, max_version)?.flatten()),
        }
    }
}
