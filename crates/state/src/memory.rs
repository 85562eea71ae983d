//! State in memory: for tests and single-file runs.

#[allow(
    clippy::disallowed_types,
    reason = "tables looked up by a hash only, never iterated: no order to keep"
)]
use std::collections::HashMap;
use std::{collections::BTreeMap, sync::RwLock};

use ward_primitives::{Address, Hash32};

use crate::{
    BlockRecord, ChangeSet, ContractInfo, Entries, Pruned, Receipt, StateCommit, StateError,
    StatePrune, StateRead, StateScan,
};

/// A hash map with a fast hasher seeded per map: its keys are hashes, or
/// tree nodes' keys that begin with hashes' nibbles.
#[allow(clippy::disallowed_types, reason = "see the import above")]
type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Tables that are scanned in order are ordered maps; those only looked
/// up by a hash or a tree node's key are hash maps. What a block adds in
/// thousands is kept so that no large table is ever copied as it grows:
/// tree nodes in one map per version (built at its final size), receipts
/// and transactions in one batch per commit, found through a small index.
#[derive(Clone, Debug, Default)]
struct Tables {
    code: BTreeMap<Hash32, Vec<u8>>,
    contracts: BTreeMap<Address, ContractInfo>,
    storage: BTreeMap<(Address, Vec<u8>), Vec<u8>>,
    blocks: BTreeMap<u64, BlockRecord>,
    /// Receipts, one batch per commit.
    receipts: Vec<Vec<Receipt>>,
    /// Encoded transactions, one batch per commit.
    txs: Vec<Vec<Vec<u8>>>,
    /// Where a transaction's receipt and encoding are in the batches.
    places: FastMap<Hash32, Place>,
    nonces: BTreeMap<Address, u64>,
    balances: BTreeMap<Address, u128>,
    block_hashes: FastMap<Hash32, u64>,
    /// Tree nodes by the version their key begins with.
    tree_nodes: BTreeMap<u64, FastMap<Vec<u8>, Vec<u8>>>,
    tree_values: BTreeMap<(Hash32, u64), Option<Vec<u8>>>,
    /// The tree nodes each height replaced, for pruning.
    tree_stale: BTreeMap<u64, Vec<Vec<u8>>>,
    /// The keys whose tree values each height wrote, for pruning.
    tree_writes: BTreeMap<u64, Vec<Hash32>>,
    /// The highest height pruning kept from.
    pruned_below: u64,
    settings: BTreeMap<String, Vec<u8>>,
}

/// A transaction's receipt and encoding: `(batch, position)` of each.
#[derive(Clone, Copy, Debug, Default)]
struct Place {
    receipt: Option<(u32, u32)>,
    tx: Option<(u32, u32)>,
}

/// The version a tree node's key begins with ([`ward_chain::tree::TreeStore::tree_node`]);
/// a key too short to hold one is grouped with version 0.
fn version_of(key: &[u8]) -> u64 {
    key.first_chunk::<8>().map_or(0, |v| u64::from_le_bytes(*v))
}

/// A position in a batch table, as the index stores it.
fn position(n: usize) -> u32 {
    // A store in memory holds far fewer than 2^32 batches or items per
    // batch: the address space runs out first.
    u32::try_from(n).unwrap_or(u32::MAX)
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

    /// A copy of every table: a store that goes on from this one's state
    /// without touching it (`ward-test`'s chain snapshots).
    pub fn fork(&self) -> MemoryStore {
        MemoryStore {
            tables: RwLock::new(self.read().clone()),
        }
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
        let t = self.read();
        Ok(placed(
            &t.receipts,
            t.places.get(tx).and_then(|p| p.receipt),
        ))
    }

    fn transaction(&self, id: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        let t = self.read();
        Ok(placed(&t.txs, t.places.get(id).and_then(|p| p.tx)))
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
        Ok(self
            .read()
            .tree_nodes
            .get(&version_of(key))
            .and_then(|nodes| nodes.get(key))
            .cloned())
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

impl StateScan for MemoryStore {
    fn whole_state(&self) -> Result<(u64, ChangeSet), StateError> {
        let t = self.read();
        let height = t.blocks.last_key_value().map_or(0, |(h, _)| *h);
        let changes = ChangeSet {
            code: t.code.clone(),
            contracts: t.contracts.clone(),
            storage: t
                .storage
                .iter()
                .map(|(key, value)| (key.clone(), Some(value.clone())))
                .collect(),
            nonces: t.nonces.clone(),
            balances: t.balances.clone(),
            settings: t.settings.clone(),
            ..ChangeSet::default()
        };
        Ok((height, changes))
    }
}

/// The record at `place` (its batch, its position in it) in `batches`.
fn placed<T: Clone>(batches: &[Vec<T>], place: Option<(u32, u32)>) -> Option<T> {
    let (batch, pos) = place?;
    batches.get(batch as usize)?.get(pos as usize).cloned()
}

/// Takes `map`'s entries at heights up to `height`, leaving the later ones.
fn take_through<V>(map: &mut BTreeMap<u64, V>, height: u64) -> BTreeMap<u64, V> {
    match height.checked_add(1) {
        Some(next) => {
            let later = map.split_off(&next);
            std::mem::replace(map, later)
        }
        None => std::mem::take(map),
    }
}

impl Tables {
    /// [`StatePrune::prune`]'s tree nodes.
    fn prune_nodes(&mut self, keep_from: u64) -> u64 {
        let mut pruned = 0;
        for keys in take_through(&mut self.tree_stale, keep_from).into_values() {
            for key in keys {
                let version = version_of(&key);
                if let Some(nodes) = self.tree_nodes.get_mut(&version) {
                    pruned += u64::from(nodes.remove(&key).is_some());
                    if nodes.is_empty() {
                        self.tree_nodes.remove(&version);
                    }
                }
            }
        }
        pruned
    }

    /// [`StatePrune::prune`]'s tree values: those a later write up to
    /// `keep_from` superseded, and removals up to it.
    fn prune_values(&mut self, keep_from: u64) -> u64 {
        let mut pruned = 0;
        for (height, keys) in take_through(&mut self.tree_writes, keep_from) {
            for key in keys {
                let mut gone: Vec<(Hash32, u64)> = self
                    .tree_values
                    .range((key, 0)..(key, height))
                    .map(|(k, _)| *k)
                    .collect();
                if let Some(None) = self.tree_values.get(&(key, height)) {
                    gone.push((key, height));
                }
                for k in &gone {
                    self.tree_values.remove(k);
                }
                pruned += gone.len() as u64;
            }
        }
        pruned
    }

    /// [`StatePrune::prune`]'s blocks, with their transactions and
    /// receipts (a batch is emptied in place: positions stay valid).
    fn prune_blocks(&mut self, keep_from: u64, pruned: &mut Pruned) {
        let heights: Vec<u64> = self.blocks.range(..keep_from).map(|(h, _)| *h).collect();
        for height in heights {
            let Some(block) = self.blocks.remove(&height) else {
                continue;
            };
            self.block_hashes.remove(&block.hash());
            pruned.blocks += 1;
            for id in &block.txs {
                let Some(place) = self.places.remove(id) else {
                    continue;
                };
                pruned.txs += 1;
                if let Some(batch) = place
                    .receipt
                    .and_then(|(b, _)| self.receipts.get_mut(b as usize))
                {
                    *batch = Vec::new();
                }
                if let Some(batch) = place.tx.and_then(|(b, _)| self.txs.get_mut(b as usize)) {
                    *batch = Vec::new();
                }
            }
        }
    }
}

impl StatePrune for MemoryStore {
    fn prune(&self, keep_from: u64) -> Result<Pruned, StateError> {
        let mut t = self.tables.write().unwrap_or_else(|e| e.into_inner());
        if keep_from <= t.pruned_below {
            return Ok(Pruned::default());
        }
        t.pruned_below = keep_from;
        let mut pruned = Pruned {
            nodes: t.prune_nodes(keep_from),
            values: t.prune_values(keep_from),
            ..Pruned::default()
        };
        t.prune_blocks(keep_from, &mut pruned);
        Ok(pruned)
    }

    fn pruned_below(&self) -> Result<u64, StateError> {
        Ok(self.read().pruned_below)
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
        let block_height = changes.block.as_ref().map(|b| b.header.height);
        if let Some(block) = changes.block {
            t.block_hashes.insert(block.hash(), block.header.height);
            t.blocks.insert(block.header.height, block);
        }
        t.nonces.extend(changes.nonces);
        t.settings.extend(changes.settings);
        for (address, balance) in changes.balances {
            if balance == 0 {
                t.balances.remove(&address);
            } else {
                t.balances.insert(address, balance);
            }
        }
        if let Some(height) = block_height
            && !changes.tree.stale.is_empty()
        {
            t.tree_stale
                .entry(height)
                .or_default()
                .extend(changes.tree.stale);
        }
        // A block's nodes all have its version: they fill one new map,
        // made at its size.
        let mut nodes = changes.tree.nodes.into_iter().peekable();
        while let Some((key, node)) = nodes.next() {
            let version = version_of(&key);
            let map = t.tree_nodes.entry(version).or_insert_with(|| {
                FastMap::with_capacity_and_hasher(nodes.len() + 1, Default::default())
            });
            map.insert(key, node);
            while let Some((key, node)) = nodes.next_if(|(key, _)| version_of(key) == version) {
                map.insert(key, node);
            }
        }
        for (key_hash, version, value) in changes.tree.values {
            t.tree_values.insert((key_hash, version), value);
            t.tree_writes.entry(version).or_default().push(key_hash);
        }
        if !changes.receipts.is_empty() {
            let batch = position(t.receipts.len());
            for (pos, receipt) in changes.receipts.iter().enumerate() {
                t.places.entry(receipt.tx).or_default().receipt = Some((batch, position(pos)));
            }
            t.receipts.push(changes.receipts);
        }
        if !changes.txs.is_empty() {
            let batch = position(t.txs.len());
            let mut encoded = Vec::with_capacity(changes.txs.len());
            for (pos, (id, tx)) in changes.txs.into_iter().enumerate() {
                t.places.entry(id).or_default().tx = Some((batch, position(pos)));
                encoded.push(tx);
            }
            t.txs.push(encoded);
        }
        Ok(())
    }
}
