//! A store that forks another chain's state ([`RedbStore::fork_from`]):
//! what a dev node started with `--fork URL` reads through.
//!
//! The store holds what its own blocks wrote and what it fetched; any
//! other piece of state is read from the [`Upstream`] as it was at the
//! fork's height, once, and kept. Everything is keyed as the state tree
//! keys it, so one rule covers code, contracts, storage, nonces and
//! balances alike:
//!
//! - a point read (`storage`, `contract`, ...) that finds nothing in its
//!   table asks the tree's values: the newest value this store wrote or
//!   fetched for that key, removals included (a key the fork's own blocks
//!   deleted stays deleted);
//! - a key the store holds no value for at all is fetched from the
//!   upstream at the fork's height and written into the tree's values at
//!   that height, absent ones too, so it is never fetched again;
//! - a read of an older height than the fork's goes to the upstream at
//!   that height, and is not kept.
//!
//! The fork's own state tree holds only what its blocks wrote (and its
//! base), so its state roots and proofs say nothing of the upstream's
//! state; listing a contract's storage lists only what the fork holds.

use std::sync::Arc;

use ward_chain::tree::{StateKey, key_hash};
use ward_primitives::{Address, Hash32};

use super::{CODE, RedbStore, TREE_VALUES, corrupt, tree_value_key};
use crate::{ContractInfo, Decode, Encode, StateError};

/// Where a forked store reads the state it does not hold: another chain,
/// as of a height.
pub trait Upstream: Send + Sync {
    /// The state tree's value for `key_hash` after the upstream's block
    /// `height` (`None`: absent).
    ///
    /// # Errors
    ///
    /// [`StateError::Upstream`] when the upstream cannot be read.
    fn tree_value(&self, key_hash: &Hash32, height: u64) -> Result<Option<Vec<u8>>, StateError>;

    /// The code stored under `hash`.
    ///
    /// # Errors
    ///
    /// [`StateError::Upstream`] when the upstream cannot be read.
    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError>;
}

/// The upstream of a forked store, and the height it forked at.
pub(super) struct Fork {
    upstream: Arc<dyn Upstream>,
    height: u64,
}

impl RedbStore {
    /// Reads the state this store does not hold from `upstream` as of its
    /// block `height` (the fork's base, which the store's first block
    /// `height` stands for), from now on until the store is dropped.
    ///
    /// # Errors
    ///
    /// [`StateError::Storage`] when the store was forked already, or is
    /// open read-only.
    pub fn fork_from(&self, upstream: Arc<dyn Upstream>, height: u64) -> Result<(), StateError> {
        if self.read_only {
            return Err(StateError::ReadOnly {
                path: self.path.clone(),
            });
        }
        self.fork
            .set(Fork { upstream, height })
            .map_err(|_| StateError::Storage("the store is forked already".into()))
    }

    /// The height the store forked its upstream at, if it did.
    pub fn forked_at(&self) -> Option<u64> {
        self.fork.get().map(|fork| fork.height)
    }

    /// The newest value written for `key_hash` at a version up to
    /// `max_version`: `Some(None)` for a removal, `None` when nothing was.
    pub(super) fn local_tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Option<Vec<u8>>>, StateError> {
        let bytes = self.read(|txn| {
            let table = txn.open_table(TREE_VALUES)?;
            let first = tree_value_key(key_hash, 0);
            let last = tree_value_key(key_hash, max_version);
            let newest = table.range(first.as_slice()..=last.as_slice())?.next_back();
            Ok(match newest {
                Some(entry) => Some(entry?.1.value().to_vec()),
                None => None,
            })
        })?;
        bytes
            .map(|bytes| Option::<Vec<u8>>::from_bytes(&bytes).map_err(corrupt("tree_values")))
            .transpose()
    }

    /// [`crate::StateRead::tree_value`] of a forked store: the local
    /// value, else the upstream's (kept, at the fork's height).
    pub(super) fn forked_tree_value(
        &self,
        fork: &Fork,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(local) = self.local_tree_value(key_hash, max_version)? {
            return Ok(local);
        }
        if max_version < fork.height {
            // Older than the fork: the upstream's history, not kept.
            return fork.upstream.tree_value(key_hash, max_version);
        }
        let value = fork.upstream.tree_value(key_hash, fork.height)?;
        let key = tree_value_key(key_hash, fork.height);
        let stored = value.to_bytes();
        self.write(|txn| {
            let mut values = txn.open_table(TREE_VALUES)?;
            // A block of the fork may have written the key meanwhile, at
            // a later version: this one stays older than it.
            values.insert(key.as_slice(), stored.as_slice())?;
            Ok(())
        })?;
        Ok(value)
    }

    /// A point read's fallback: nothing in its table, so the value as the
    /// tree's values have it, read through the fork. `None` when the
    /// store is not forked.
    pub(super) fn through_fork(&self, key: StateKey<'_>) -> Result<Option<Vec<u8>>, StateError> {
        match self.fork.get() {
            None => Ok(None),
            Some(fork) => self.forked_tree_value(fork, &key_hash(&key.to_bytes()), u64::MAX),
        }
    }

    /// A contract the fork holds no record of, read through it.
    pub(super) fn forked_contract(
        &self,
        address: &Address,
    ) -> Result<Option<ContractInfo>, StateError> {
        self.through_fork(StateKey::Contract(address))?
            .map(|bytes| ContractInfo::from_bytes(&bytes).map_err(corrupt("tree_values")))
            .transpose()
    }

    /// Code the fork does not hold: the upstream's, kept once it is known
    /// to be this chain's (its tree names the hash) and to hash to it.
    pub(super) fn forked_code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        let Some(fork) = self.fork.get() else {
            return Ok(None);
        };
        if self.through_fork(StateKey::Code(hash))?.is_none() {
            return Ok(None);
        }
        let Some(code) = fork.upstream.code(hash)? else {
            return Err(StateError::Upstream(format!(
                "the upstream's state names code {hash}, but it does not serve it"
            )));
        };
        // Code is stored under the BLAKE3 hash of its bytes.
        if blake3::hash(&code).as_bytes() != &hash.0 {
            return Err(StateError::Upstream(format!(
                "the upstream served other code for {hash}"
            )));
        }
        self.write(|txn| {
            txn.open_table(CODE)?
                .insert(hash.0.as_slice(), code.as_slice())?;
            Ok(())
        })?;
        Ok(Some(code))
    }
}
