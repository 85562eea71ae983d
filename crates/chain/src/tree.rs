//! The state tree: one authenticated structure over all state.
//!
//! A Jellyfish Merkle tree (SHA-256) versioned by block height: block `h`
//! writes version `h`, and every version stays readable,
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
//!
//! The update and the proofs are Ward's own (`write`, `node`), made for
//! speed: one pass down the paths a block's keys share, writes and
//! removals together, nodes decoded by hand. The commitment is the `jmt`
//! crate's, hash for hash: the same roots, the same proof bytes (which
//! jmt's verifier checks), and the same stored nodes' form, so a data
//! directory written before reads unchanged. A test holds Ward's tree to
//! jmt's on random blocks (`tree/reference.rs`).

use std::collections::BTreeMap;

use jmt::{KeyHash, RootHash, proof::SparseMerkleProof};
use sha2::Sha256;
use ward_primitives::{Address, Hash32};

mod cache;
mod node;
mod whole;
mod write;

pub use cache::{FreshNodes, TreeCache};
pub use whole::{LeafHashes, Subtree, build, leaf_hashes, root_of, subtree};

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

    /// A node by its key (both opaque bytes; a key begins with its node's
    /// version as a little-endian `u64`, so a store may group nodes by
    /// version).
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
    /// The keys of older nodes this version replaced: heights from this
    /// version on never read them, so a store that keeps only those
    /// heights may delete them (pruning).
    pub stale: Vec<Vec<u8>>,
}

/// The SHA-256 of a state key: where the tree keeps it.
pub fn key_hash(key: &[u8]) -> Hash32 {
    Hash32(KeyHash::with::<Sha256>(key).0)
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
pub fn update<S: TreeStore + Sync>(
    store: &S,
    height: u64,
    changes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<TreeUpdate, TreeError<S::Error>>
where
    S::Error: Send,
{
    update_with(store, None, height, changes).map(|(update, _)| update)
}

/// [`update`], reading the nodes near the root from `cache` where it has
/// them; also returns the new ones there, for [`TreeCache::keep`] once
/// the update is committed.
///
/// # Errors
///
/// As [`update`].
pub fn update_with<S: TreeStore + Sync>(
    store: &S,
    cache: Option<&TreeCache>,
    height: u64,
    changes: &BTreeMap<Vec<u8>, Option<Vec<u8>>>,
) -> Result<(TreeUpdate, FreshNodes), TreeError<S::Error>>
where
    S::Error: Send,
{
    let mut writer = write::Writer::new(store, cache, height);
    // The root this update builds on: one read, whatever the height.
    let previous = match height.checked_sub(1) {
        None => {
            if write::root_node(store, cache, 0)?.is_some() {
                return Err(TreeError::Tree(
                    "the genesis state is written already".into(),
                ));
            }
            None
        }
        Some(below) => match write::root_node(store, cache, below)? {
            Some(root) => {
                // The new version writes its own root: the old one is
                // replaced whatever else happens.
                writer.visited.push((below, node::Path::default()));
                Some(root)
            }
            None if below == 0 => {
                // No genesis: version 0 is the empty tree before the first
                // block, written with it.
                let mut empty = write::Writer::new(store, None, 0);
                empty.root(None, &[])?;
                writer.nodes.append(&mut empty.nodes);
                // Replaced by this version's root as soon as it is written.
                writer.visited.push((0, node::Path::default()));
                None
            }
            None => {
                return Err(TreeError::Tree(format!("no state tree at height {below}")));
            }
        },
    };
    // Each key hashed once, for its leaf and its stored value alike.
    let hashed: Vec<([u8; 32], &Option<Vec<u8>>)> = changes
        .iter()
        .map(|(key, value)| (node::sha256(key), value))
        .collect();
    let mut set: Vec<write::Change> = hashed
        .iter()
        .map(|(key, value)| (*key, value.as_deref().map(node::sha256)))
        .collect();
    set.sort_unstable_by_key(|(key, _)| *key);
    let root = writer.root(previous, &set)?;
    let stale = writer.stale();
    let update = TreeUpdate {
        root: Hash32(root),
        stale,
        nodes: writer.nodes,
        values: hashed
            .into_iter()
            .map(|(key, value)| (Hash32(key), height, value.clone()))
            .collect(),
    };
    Ok((update, writer.fresh))
}

/// The state root after block `height` (for 0: the genesis state's, or
/// the empty tree's before block 1 of a chain without one).
///
/// # Errors
///
/// When the store fails or the block's tree is not there.
pub fn root<S: TreeStore>(store: &S, height: u64) -> Result<Hash32, TreeError<S::Error>> {
    match write::root_node(store, None, height)? {
        Some(root) => Ok(Hash32(root.hash())),
        None if height == 0 => Ok(EMPTY_ROOT),
        None => Err(TreeError::Tree(format!("no state tree at height {height}"))),
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
    let hash = node::sha256(key);
    let Some(mut current) = write::root_node(store, None, height)? else {
        return Err(TreeError::Tree(format!("no state tree at height {height}")));
    };
    let mut path = node::Path::default();
    let mut siblings = Vec::new();
    loop {
        match current {
            node::Node::Null if path.len() == 0 => {
                return Ok(Proven {
                    value: None,
                    proof: node::encode_proof(None, &[]),
                });
            }
            node::Node::Null => return Err(TreeError::Tree("a null node below the root".into())),
            node::Node::Leaf(leaf) => {
                let value = if leaf.key == hash {
                    let value = store
                        .tree_value(&Hash32(hash), height)
                        .map_err(TreeError::Store)?;
                    if value.is_none() {
                        return Err(TreeError::Tree("a leaf without its value".into()));
                    }
                    value
                } else {
                    None
                };
                return Ok(Proven {
                    value,
                    proof: node::encode_proof(Some(&leaf), &siblings),
                });
            }
            node::Node::Internal(internal) => {
                if path.len() >= node::MAX_DEPTH {
                    return Err(TreeError::Tree(
                        "an internal node below the last nibble".into(),
                    ));
                }
                let n = node::nibble(&hash, path.len());
                let (next, mut more) = internal.path(n, |slot, child| {
                    Ok(
                        match write::read(store, None, child.version, &path.child(slot))? {
                            node::Node::Internal(node) => {
                                let (left, right) = node.halves();
                                node::ProofNode::Internal(left, right)
                            }
                            node::Node::Leaf(leaf) => node::ProofNode::Leaf(leaf),
                            node::Node::Null => {
                                return Err(TreeError::Tree("a null node below the root".into()));
                            }
                        },
                    )
                })?;
                siblings.append(&mut more);
                let Some(slot) = next else {
                    return Ok(Proven {
                        value: None,
                        proof: node::encode_proof(None, &siblings),
                    });
                };
                let Some(child) = internal.children[usize::from(slot)] else {
                    return Err(TreeError::Tree("a proof path through an empty slot".into()));
                };
                path = path.child(slot);
                current = write::read(store, None, child.version, &path)?;
            }
        }
    }
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
mod reference;
#[cfg(test)]
mod tests;
