//! The state tree: one authenticated structure over all state.
//!
//! A Jellyfish Merkle tree (the `jmt` crate, SHA-256) versioned by block
//! height: block `h` writes version `h`, and every version stays readable,
//! so a proof can be had against any block's state root. Its keys are the
//! bytes of a [`StateKey`] (a tag and the fields that name one piece of
//! state), hashed with SHA-256; its values are:
//!
//! | key | value |
//! |---|---|
//! | `Code(hash)` | the code hash itself (the code table holds the bytes, which hash to it) |
//! | `Contract(address)` | the contract record (`docs/storage-format.md`) |
//! | `Storage(address, key)` | the stored value |
//! | `Nonce(account)` | the account's nonce, `u64` little-endian |
//! | `Balance(address)` | the balance of an account or contract in the native asset's smallest unit, `u128` little-endian; absent when zero |
//!
//! The root depends only on the set of keys and values, never on the order
//! they were written in or on the history that led to them, so two nodes
//! that apply the same blocks agree on it.
//!
//! Storage of the tree is the embedder's ([`TreeStore`]): nodes by key, and
//! values by key hash and version. [`update`] computes a block's new nodes
//! and values without writing anything, so they can be committed with the
//! block in one transaction. [`verify`] checks a proof with nothing but the
//! root: a light client's whole need.

use std::{cell::RefCell, collections::BTreeMap, fmt};

use jmt::{
    JellyfishMerkleTree, KeyHash, RootHash,
    proof::SparseMerkleProof,
    storage::{LeafNode, Node, NodeKey, TreeReader},
};
use sha2::Sha256;
use ward_primitives::{Address, Hash32};

/// One piece of state, as the tree names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateKey<'a> {
    /// Code, by its hash.
    Code(&'a Hash32),
    /// A contract's record, by address.
    Contract(&'a Address),
    /// One storage entry of a contract.
    Storage(&'a Address, &'a [u8]),
    /// An account's nonce.
    Nonce(&'a Address),
    /// The native-asset balance of an account or a contract.
    Balance(&'a Address),
}

impl StateKey<'_> {
    /// The key's bytes: a tag (0 code, 1 contract, 2 storage, 3 nonce, 4
    /// balance),
    /// then the hash or address, then (storage) the key's bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let (tag, id, rest): (u8, &[u8; 32], &[u8]) = match self {
            StateKey::Code(hash) => (0, &hash.0, &[]),
            StateKey::Contract(address) => (1, &address.0, &[]),
            StateKey::Storage(address, key) => (2, &address.0, key),
            StateKey::Nonce(address) => (3, &address.0, &[]),
            StateKey::Balance(address) => (4, &address.0, &[]),
        };
        let mut out = Vec::with_capacity(33 + rest.len());
        out.push(tag);
        out.extend(id);
        out.extend(rest);
        out
    }
}

/// Where the tree's nodes and values are kept.
pub trait TreeStore {
    /// What the store fails with.
    type Error;

    /// A node by its key (both opaque bytes).
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn tree_node(&self, key: &[u8]) -> Result<Option<Vec<u8>>, Self::Error>;

    /// The newest value written for `key_hash` at a version no later than
    /// `max_version`; `None` when there is none or the newest is a removal.
    ///
    /// # Errors
    ///
    /// When the store fails.
    fn tree_value(
        &self,
        key_hash: &Hash32,
        max_version: u64,
    ) -> Result<Option<Vec<u8>>, Self::Error>;
}

/// Why the tree could not be read or updated.
#[derive(Debug, thiserror::Error)]
pub enum TreeError<E> {
    /// The store failed.
    #[error(transparent)]
    Store(E),
    /// The tree is not as it should be (a missing or undecodable node).
    #[error("state tree: {0}")]
    Tree(String),
}

/// A block's changes to the tree, to be committed with the block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeUpdate {
    /// The state root after the block.
    pub root: Hash32,
    /// New nodes: `(key, node)`, both opaque.
    pub nodes: Vec<(Vec<u8>, Vec<u8>)>,
    /// New values: `(key hash, version, value)`; `None` records a removal.
    pub values: Vec<(Hash32, u64, Option<Vec<u8>>)>,
}

/// The SHA-256 of a state key: where the tree keeps it.
pub fn key_hash(key: &[u8]) -> Hash32 {
    Hash32(KeyHash::with::<Sha256>(key).0)
}

/// The tree's reader over a [`TreeStore`]; remembers the store's first
/// error, since the tree only carries its own.
struct Reader<'a, S: TreeStore> {
    store: &'a S,
    failed: RefCell<Option<S::Error>>,
}

impl<'a, S: TreeStore> Reader<'a, S> {
    fn new(store: &'a S) -> Self {
        Reader {
            store,
            failed: RefCell::new(None),
        }
    }

    fn store<T>(&self, result: Result<T, S::Error>) -> anyhow::Result<T> {
        result.map_err(|e| {
            self.failed.borrow_mut().get_or_insert(e);
            anyhow::anyhow!("the store failed")
        })
    }

    /// The store's error if there was one, else the tree's.
    fn error(self, error: impl fmt::Display) -> TreeError<S::Error> {
        match self.failed.into_inner() {
            Some(e) => TreeError::Store(e),
            None => TreeError::Tree(format!("{error:#}")),
        }
    }
}

impl<S: TreeStore> TreeReader for Reader<'_, S> {
    fn get_node_option(&self, node_key: &NodeKey) -> anyhow::Result<Option<Node>> {
        let key = borsh::to_vec(node_key)?;
        match self.store(self.store.tree_node(&key))? {
            None => Ok(None),
            Some(bytes) => Ok(Some(borsh::from_slice(&bytes)?)),
        }
    }

    fn get_value_option(
        &self,
        max_version: jmt::Version,
        key_hash: KeyHash,
    ) -> anyhow::Result<Option<jmt::OwnedValue>> {
        self.store(self.store.tree_value(&Hash32(key_hash.0), max_version))
    }

    fn get_rightmost_leaf(&self) -> anyhow::Result<Option<(NodeKey, LeafNode)>> {
        // Only the tree's restore (state sync) asks for it; Ward does not
        // restore trees.
        anyhow::bail!("the rightmost leaf is not indexed")
    }
}

/// The tree after block `height` applies `changes` (state key bytes to
/// their new value, `None` to remove), on top of block `height - 1`'s.
/// Height 0 is the genesis state (balances a chain starts with), written
/// once before block 1; without one, version 0 is the empty tree, written
/// with block 1. Writes nothing: the result is committed with the block.
///
/// # Errors
///
/// When the store fails, the previous version's tree is not there, or
/// (height 0) the store has a genesis state already.
pub fn update<S: TreeStore>(
    store: &S,
    height: u64,
    changes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<TreeUpdate, TreeError<S::Error>> {
    let reader = Reader::new(store);
    let tree = JellyfishMerkleTree::<_, Sha256>::new(&reader);
    let genesis = match tree.get_root_hash_option(0) {
        Ok(root) => root.is_some(),
        Err(e) => return Err(reader.error(e)),
    };
    if height == 0 && genesis {
        return Err(TreeError::Tree(
            "the genesis state is written already".into(),
        ));
    }
    // The tree would take a missing previous root for an empty tree.
    if height > 1 {
        match tree.get_root_hash_option(height - 1) {
            Ok(Some(_)) => {}
            Ok(None) => {
                return Err(TreeError::Tree(format!(
                    "no state tree at height {}",
                    height - 1
                )));
            }
            Err(e) => return Err(reader.error(e)),
        }
    }
    let set: Vec<(KeyHash, Option<Vec<u8>>)> = changes
        .iter()
        .map(|(key, value)| (KeyHash::with::<Sha256>(key), value.clone()))
        .collect();
    // Version 0 is the empty tree before the first block, written with it.
    // A block that only writes takes the tree's batch insertion (each
    // internal node built once, not once per key); one that removes keys,
    // or writes none, the key-by-key path. The tree is the same either
    // way: a Jellyfish Merkle tree is determined by its keys and values.
    let result = if height == 0 {
        tree.put_value_sets(vec![set], 0)
    } else if height == 1 && !genesis {
        tree.put_value_sets(vec![Vec::new(), set], 0)
    } else if !set.is_empty() && set.iter().all(|(_, value)| value.is_some()) {
        let writes = set
            .into_iter()
            .filter_map(|(key, value)| value.map(|v| (key, v)))
            .collect();
        tree.batch_put_value_sets(vec![writes], None, height)
    } else {
        tree.put_value_sets(vec![set], height)
    };
    let (roots, batch) = match result {
        Ok(done) => done,
        Err(e) => return Err(reader.error(e)),
    };
    let Some(root) = roots.last() else {
        return Err(TreeError::Tree("no root computed".into()));
    };
    let mut update = TreeUpdate {
        root: Hash32(root.0),
        ..TreeUpdate::default()
    };
    let batch = batch.node_batch;
    for (key, node) in batch.nodes() {
        let encoded = encode(key).and_then(|k| Ok((k, encode(node)?)));
        match encoded {
            Ok(pair) => update.nodes.push(pair),
            Err(e) => return Err(TreeError::Tree(e.to_string())),
        }
    }
    for ((version, key), value) in batch.values() {
        update.values.push((Hash32(key.0), *version, value.clone()));
    }
    Ok(update)
}

/// Borsh bytes in a buffer of their own size (`borsh::to_vec` starts every
/// buffer at 1 KiB).
fn encode(value: &impl borsh::BorshSerialize) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    value.serialize(&mut out)?;
    Ok(out)
}

/// The state root after block `height` (for 0: the genesis state's, or
/// the empty tree's before block 1 of a chain without one).
///
/// # Errors
///
/// When the store fails or the block's tree is not there.
pub fn root<S: TreeStore>(store: &S, height: u64) -> Result<Hash32, TreeError<S::Error>> {
    let reader = Reader::new(store);
    let tree = JellyfishMerkleTree::<_, Sha256>::new(&reader);
    match tree.get_root_hash_option(height) {
        Ok(Some(root)) => Ok(Hash32(root.0)),
        Ok(None) if height == 0 => Ok(EMPTY_ROOT),
        Ok(None) => Err(TreeError::Tree(format!("no state tree at height {height}"))),
        Err(e) => Err(reader.error(e)),
    }
}

/// The root of the empty tree (the tree's placeholder for an empty
/// subtree).
pub const EMPTY_ROOT: Hash32 = Hash32(*b"SPARSE_MERKLE_PLACEHOLDER_HASH__");

/// A value (or its absence) with the proof of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proven {
    /// The value; `None` when the key is absent.
    pub value: Option<Vec<u8>>,
    /// The proof, encoded for [`verify`] (borsh, as the tree defines it).
    pub proof: Vec<u8>,
}

/// `key`'s value after block `height` and a proof of it (of its absence
/// when `None`) against that block's state root.
///
/// # Errors
///
/// When the store fails or the block's tree is not there.
pub fn prove<S: TreeStore>(
    store: &S,
    height: u64,
    key: &[u8],
) -> Result<Proven, TreeError<S::Error>> {
    let reader = Reader::new(store);
    let tree = JellyfishMerkleTree::<_, Sha256>::new(&reader);
    let (value, proof) = match tree.get_with_proof(KeyHash::with::<Sha256>(key), height) {
        Ok(found) => found,
        Err(e) => return Err(reader.error(e)),
    };
    let proof = borsh::to_vec(&proof).map_err(|e| TreeError::Tree(e.to_string()))?;
    Ok(Proven { value, proof })
}

/// Why a proof does not hold.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// The proof's bytes are not a proof.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// The proof is well formed but does not show that value (or absence)
    /// under that root.
    #[error("the proof does not hold: {0}")]
    Invalid(String),
}

/// Checks that under `root`, `key` holds `value` (or, for `None`, is
/// absent), as `proof` (from [`prove`]) shows. Needs nothing but its
/// arguments: what a light client runs.
///
/// # Errors
///
/// A proof that does not decode or does not hold.
pub fn verify(
    root: &Hash32,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &[u8],
) -> Result<(), ProofError> {
    let proof: SparseMerkleProof<Sha256> =
        borsh::from_slice(proof).map_err(|e| ProofError::Malformed(e.to_string()))?;
    proof
        .verify(RootHash(root.0), KeyHash::with::<Sha256>(key), value)
        .map_err(|e| ProofError::Invalid(format!("{e:#}")))
}

/// [`verify`] for one storage entry: under `root`, contract `address`'s
/// `key` holds `value` (absent for `None`), as `proof` shows. What
/// `ward verify-proof` checks a node's `getStorage` answer with.
///
/// # Errors
///
/// As [`verify`].
pub fn verify_storage(
    root: &Hash32,
    address: &Address,
    key: &[u8],
    value: Option<&[u8]>,
    proof: &[u8],
) -> Result<(), ProofError> {
    verify(
        root,
        &StateKey::Storage(address, key).to_bytes(),
        value,
        proof,
    )
}

#[cfg(test)]
mod tests;
