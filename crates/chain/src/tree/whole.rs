//! Whole subtrees from their leaves, without a store: what a snapshot
//! needs to check its chunks and to write a restored tree.
//!
//! A subtree is everything under a nibble path. Its hash follows from its
//! leaves alone (the tree is canonical): none is the placeholder, one is
//! that leaf's hash (a lone leaf hangs as high as it can), more make an
//! internal node of the subtrees one nibble down. The same rule combines
//! a cover of the key space by subtrees into the root.

use ward_primitives::Hash32;

use super::{
    TreeUpdate,
    node::{self, Child, Internal, Leaf, MAX_DEPTH, Node, PLACEHOLDER, Path},
};

/// A subtree as a snapshot's manifest lists it: its path, its hash and
/// how many leaves are under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subtree {
    /// The nibbles (each 0–15) from the root to the subtree, at most 64.
    pub path: Vec<u8>,
    /// Its hash, as its parent sees it.
    pub hash: Hash32,
    /// The leaves under it.
    pub leaves: u64,
}

/// A leaf as `(key hash, value hash)`.
pub type LeafHashes = ([u8; 32], [u8; 32]);

/// Where [`combine`] stores the nodes it makes: the list, their version,
/// and the path of the subtree at hand.
type Sink<'a> = (&'a mut Vec<(Vec<u8>, Vec<u8>)>, u64, Path);

/// The nibble at `depth` of a path given as nibbles.
fn path_nibble(path: &[u8], depth: usize) -> Option<u8> {
    path.get(depth).copied()
}

/// The hash and leaf count of the subtree at `depth` holding exactly
/// `leaves` (sorted by key hash, distinct, sharing their first `depth`
/// nibbles), and with `write`, its nodes stored at `version` under `path`.
fn combine(depth: usize, leaves: &[LeafHashes], mut write: Option<Sink<'_>>) -> ([u8; 32], u64) {
    match leaves {
        [] => (PLACEHOLDER, 0),
        [(key, value)] => {
            let leaf = Leaf {
                key: *key,
                value: *value,
            };
            if let Some((nodes, version, path)) = write {
                nodes.push((node::node_key(version, &path), Node::Leaf(leaf).encode()));
            }
            (leaf.hash(), 1)
        }
        _ => {
            // Distinct keys differ within 64 nibbles: depth stays below.
            let mut internal = Internal::default();
            let mut rest = leaves;
            let mut total = 0;
            while let Some((first, _)) = rest.first() {
                let n = node::nibble(first, depth);
                let split = rest
                    .iter()
                    .position(|(key, _)| node::nibble(key, depth) != n)
                    .unwrap_or(rest.len());
                let (group, tail) = rest.split_at(split);
                let below = write
                    .as_mut()
                    .map(|(nodes, version, path)| (&mut **nodes, *version, path.child(n)));
                let (hash, count) = combine(depth + 1, group, below);
                internal.children[usize::from(n)] = Some(Child {
                    hash,
                    version: write.as_ref().map_or(0, |(_, version, _)| *version),
                    leaves: (count > 1).then_some(count),
                });
                total += count;
                rest = tail;
            }
            let hash = internal.hash();
            if let Some((nodes, version, path)) = write {
                nodes.push((
                    node::node_key(version, &path),
                    Node::Internal(internal).encode(),
                ));
            }
            (hash, total)
        }
    }
}

/// The leaf of a key's hash and a value: its value's hash.
pub fn leaf_hashes(key_hash: &Hash32, value: &[u8]) -> LeafHashes {
    (key_hash.0, node::sha256(value))
}

/// The subtree at `path` (nibbles) holding exactly `leaves`, sorted by
/// key hash and distinct. `None` when they are not: unsorted, repeated,
/// or a key not under `path`.
pub fn subtree(path: &[u8], leaves: &[LeafHashes]) -> Option<Subtree> {
    if path.len() > MAX_DEPTH || path.iter().any(|&n| n > 15) {
        return None;
    }
    let sorted = leaves.windows(2).all(|w| w[0].0 < w[1].0);
    let under = leaves.iter().all(|(key, _)| {
        (0..path.len()).all(|d| Some(node::nibble(key, d)) == path_nibble(path, d))
    });
    if !sorted || !under {
        return None;
    }
    let (hash, leaves) = combine(path.len(), leaves, None);
    Some(Subtree {
        path: path.to_vec(),
        hash: Hash32(hash),
        leaves,
    })
}

/// The root of a tree given as subtrees that cover it: sorted by path,
/// none under another, every key not under one of them absent. `None`
/// when the subtrees are not such a cover.
pub fn root_of(subtrees: &[Subtree]) -> Option<Hash32> {
    if subtrees.windows(2).any(|w| w[0].path >= w[1].path) {
        return None;
    }
    if subtrees
        .iter()
        .any(|s| s.path.len() > MAX_DEPTH || s.path.iter().any(|&n| n > 15))
    {
        return None;
    }
    cover(0, subtrees).map(|(hash, _)| Hash32(hash))
}

fn cover(depth: usize, subtrees: &[Subtree]) -> Option<([u8; 32], u64)> {
    match subtrees {
        [] => return Some((PLACEHOLDER, 0)),
        [only] if only.path.len() == depth => {
            // An empty subtree's hash is the placeholder; any other count
            // that does not fit its hash changes the root.
            if only.leaves == 0 && only.hash.0 != PLACEHOLDER {
                return None;
            }
            return Some((only.hash.0, only.leaves));
        }
        _ => {}
    }
    if depth >= MAX_DEPTH || subtrees.iter().any(|s| s.path.len() <= depth) {
        // One subtree holds another, or is repeated.
        return None;
    }
    let mut internal = Internal::default();
    let mut total = 0u64;
    let mut rest = subtrees;
    while let Some(first) = rest.first() {
        let n = first.path[depth];
        let split = rest
            .iter()
            .position(|s| s.path[depth] != n)
            .unwrap_or(rest.len());
        let (group, tail) = rest.split_at(split);
        let (hash, count) = cover(depth + 1, group)?;
        if count > 0 {
            internal.children[usize::from(n)] = Some(Child {
                hash,
                version: 0,
                leaves: (count > 1).then_some(count),
            });
        }
        total = total.checked_add(count)?;
        rest = tail;
    }
    match total {
        0 => Some((PLACEHOLDER, 0)),
        1 => {
            // A lone leaf hangs as high as it can: its hash goes up as is.
            let child = internal.children.iter().flatten().next()?;
            Some((child.hash, 1))
        }
        _ => Some((internal.hash(), total)),
    }
}

/// The nodes and values of a whole tree at `version` holding `leaves`
/// (`(key hash, value)`, sorted by key hash and distinct; `None` when
/// they are not): what a restored snapshot commits, so that the tree
/// reads, proves and updates from `version` on as the original does.
pub fn build(version: u64, leaves: Vec<(Hash32, Vec<u8>)>) -> Option<TreeUpdate> {
    if leaves.windows(2).any(|w| w[0].0 >= w[1].0) {
        return None;
    }
    let hashes: Vec<LeafHashes> = leaves
        .iter()
        .map(|(key, value)| leaf_hashes(key, value))
        .collect();
    let mut nodes = Vec::new();
    let root = if hashes.is_empty() {
        nodes.push((
            node::node_key(version, &Path::default()),
            Node::Null.encode(),
        ));
        PLACEHOLDER
    } else {
        combine(0, &hashes, Some((&mut nodes, version, Path::default()))).0
    };
    Some(TreeUpdate {
        root: Hash32(root),
        stale: Vec::new(),
        nodes,
        values: leaves
            .into_iter()
            .map(|(key, value)| (key, version, Some(value)))
            .collect(),
    })
}
