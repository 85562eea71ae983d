//! The tree's nodes, their keys and their hashes, in the Jellyfish Merkle
//! tree's stored form (the `jmt` crate's borsh encoding, byte for byte), so
//! that a data directory written by either reads with the other.
//!
//! A node is stored under `(version, nibble path)`: the block that wrote it
//! and where it hangs. An internal node has up to 16 children, each with
//! its hash, the version it was written at (where to find it: its path is
//! the parent's and one more nibble) and whether it is a leaf; its hash is
//! that of a binary Merkle tree over the 16 slots, in which an empty range
//! is the placeholder and a range holding a single leaf is that leaf's
//! hash (`Internal::hash`).

use sha2::{Digest, Sha256};

/// The hash of an empty subtree (and of the empty tree).
pub(super) const PLACEHOLDER: [u8; 32] = *b"SPARSE_MERKLE_PLACEHOLDER_HASH__";
const LEAF_DOMAIN: &[u8] = b"JMT::LeafNode";
const INTERNAL_DOMAIN: &[u8] = b"JMT::IntrnalNode";

/// The most nibbles a path has: a key hash's 64.
pub(super) const MAX_DEPTH: usize = 64;

/// The hash of a binary node over two subtrees.
pub(super) fn hash_pair(left: &[u8; 32], right: &[u8; 32]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(INTERNAL_DOMAIN);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// SHA-256 of some bytes: a key's hash, a value's.
pub(super) fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The nibble of `key` at `depth` (0 the high half of its first byte).
/// `depth` is below [`MAX_DEPTH`].
pub(super) fn nibble(key: &[u8; 32], depth: usize) -> u8 {
    let byte = key[depth / 2];
    if depth.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0f
    }
}

/// A leaf: a key's hash and its value's.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Leaf {
    pub(super) key: [u8; 32],
    pub(super) value: [u8; 32],
}

impl Leaf {
    pub(super) fn hash(&self) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(LEAF_DOMAIN);
        hasher.update(self.key);
        hasher.update(self.value);
        hasher.finalize().into()
    }
}

/// One child of an internal node.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Child {
    pub(super) hash: [u8; 32],
    /// The version the child was written at.
    pub(super) version: u64,
    /// The leaves under it; `None` for a leaf.
    pub(super) leaves: Option<u64>,
}

impl Child {
    pub(super) fn is_leaf(&self) -> bool {
        self.leaves.is_none()
    }
}

/// An internal node: up to 16 children, by nibble.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Internal {
    pub(super) children: [Option<Child>; 16],
}

/// Whether a range of `width` slots stands for its only child: at the
/// lowest level, or when that child is a single leaf.
fn only_child(width: u8, exists: u16, leaves: u16) -> bool {
    width == 1 || (exists.count_ones() == 1 && leaves != 0)
}

/// The slots `[start, start + width)` of a bitmap.
fn range(start: u8, width: u8, bitmap: u16) -> u16 {
    let mask = ((1u32 << width) - 1) << start;
    bitmap & mask as u16
}

impl Internal {
    /// Which slots hold a child, and which of those are leaves.
    fn bitmaps(&self) -> (u16, u16) {
        let mut exists = 0u16;
        let mut leaves = 0u16;
        for (i, child) in self.children.iter().enumerate() {
            if let Some(child) = child {
                exists |= 1 << i;
                if child.is_leaf() {
                    leaves |= 1 << i;
                }
            }
        }
        (exists, leaves)
    }

    pub(super) fn count(&self) -> usize {
        self.children.iter().flatten().count()
    }

    /// The leaves under this node.
    pub(super) fn leaf_count(&self) -> u64 {
        self.children
            .iter()
            .flatten()
            .map(|c| c.leaves.unwrap_or(1))
            .sum()
    }

    pub(super) fn hash(&self) -> [u8; 32] {
        self.range_hash(0, 16, self.bitmaps())
    }

    /// The hashes of the node's two halves (slots 0–7 and 8–15), as a
    /// proof shows an internal sibling.
    pub(super) fn halves(&self) -> ([u8; 32], [u8; 32]) {
        let bitmaps = self.bitmaps();
        (
            self.range_hash(0, 8, bitmaps),
            self.range_hash(8, 8, bitmaps),
        )
    }

    fn range_hash(&self, start: u8, width: u8, (exists, leaves): (u16, u16)) -> [u8; 32] {
        let (exists, leaves) = (range(start, width, exists), range(start, width, leaves));
        if exists == 0 {
            PLACEHOLDER
        } else if only_child(width, exists, leaves) {
            self.children[exists.trailing_zeros() as usize].map_or(PLACEHOLDER, |c| c.hash)
        } else {
            let half = width / 2;
            hash_pair(
                &self.range_hash(start, half, (exists, leaves)),
                &self.range_hash(start + half, half, (exists, leaves)),
            )
        }
    }

    /// What a proof of the key whose nibble here is `n` shows at this
    /// node: its siblings at the node's four binary levels, top first, and
    /// the slot the path goes on to (the `n`-th, or the single leaf in the
    /// smallest range around it), `None` where that range is empty.
    /// `sibling` turns the single child of a range into a proof node.
    pub(super) fn path<E>(
        &self,
        n: u8,
        mut sibling: impl FnMut(u8, &Child) -> Result<ProofNode, E>,
    ) -> Result<(Option<u8>, Vec<ProofNode>), E> {
        let bitmaps = self.bitmaps();
        let mut siblings = Vec::with_capacity(4);
        for height in (0..4u8).rev() {
            let width = 1u8 << height;
            let start = (0xffu8 << height) & n;
            let other = start ^ width;
            let (exists, leaves) = (
                range(other, width, bitmaps.0),
                range(other, width, bitmaps.1),
            );
            siblings.push(if exists == 0 {
                ProofNode::Null
            } else if only_child(width, exists, leaves) {
                let slot = exists.trailing_zeros() as u8;
                match &self.children[usize::from(slot)] {
                    Some(child) => sibling(slot, child)?,
                    None => ProofNode::Null,
                }
            } else {
                let half = width / 2;
                ProofNode::Internal(
                    self.range_hash(other, half, bitmaps),
                    self.range_hash(other + half, half, bitmaps),
                )
            });
            let (exists, leaves) = (
                range(start, width, bitmaps.0),
                range(start, width, bitmaps.1),
            );
            if exists == 0 {
                return Ok((None, siblings));
            }
            if only_child(width, exists, leaves) {
                return Ok((Some(exists.trailing_zeros() as u8), siblings));
            }
        }
        // Width 1 always returns above.
        Ok((None, siblings))
    }
}

/// A node of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
#[allow(
    clippy::large_enum_variant,
    reason = "a node lives on the stack while its level is rebuilt; boxing would allocate for each"
)]
pub(super) enum Node {
    /// The empty tree's root.
    Null,
    Internal(Internal),
    Leaf(Leaf),
}

impl Node {
    pub(super) fn hash(&self) -> [u8; 32] {
        match self {
            Node::Null => PLACEHOLDER,
            Node::Internal(node) => node.hash(),
            Node::Leaf(leaf) => leaf.hash(),
        }
    }

    /// The stored form (jmt's borsh: a tag, then for an internal node its
    /// 16 optional children, their count and its leaves; for a leaf its
    /// two hashes).
    pub(super) fn encode(&self) -> Vec<u8> {
        match self {
            Node::Null => vec![0],
            Node::Leaf(leaf) => {
                let mut out = Vec::with_capacity(65);
                out.push(2);
                out.extend_from_slice(&leaf.key);
                out.extend_from_slice(&leaf.value);
                out
            }
            Node::Internal(node) => {
                let mut out = Vec::with_capacity(1 + 16 + node.count() * 49 + 16);
                out.push(1);
                for child in &node.children {
                    match child {
                        None => out.push(0),
                        Some(child) => {
                            out.push(1);
                            out.extend_from_slice(&child.hash);
                            out.extend_from_slice(&child.version.to_le_bytes());
                            match child.leaves {
                                None => out.push(0),
                                Some(leaves) => {
                                    out.push(1);
                                    out.extend_from_slice(&leaves.to_le_bytes());
                                }
                            }
                        }
                    }
                }
                out.extend_from_slice(&(node.count() as u64).to_le_bytes());
                out.extend_from_slice(&node.leaf_count().to_le_bytes());
                out
            }
        }
    }

    /// A stored node; `None` when the bytes are not one.
    pub(super) fn decode(bytes: &[u8]) -> Option<Node> {
        let mut r = Bytes(bytes);
        let node = match r.byte()? {
            0 => Node::Null,
            2 => Node::Leaf(Leaf {
                key: r.array()?,
                value: r.array()?,
            }),
            1 => {
                let mut node = Internal::default();
                for slot in &mut node.children {
                    *slot = match r.byte()? {
                        0 => None,
                        1 => {
                            let hash = r.array()?;
                            let version = r.u64()?;
                            let leaves = match r.byte()? {
                                0 => None,
                                1 => Some(r.u64()?),
                                _ => return None,
                            };
                            Some(Child {
                                hash,
                                version,
                                leaves,
                            })
                        }
                        _ => return None,
                    };
                }
                let (count, leaves) = (r.u64()?, r.u64()?);
                if count != node.count() as u64 || leaves != node.leaf_count() {
                    return None;
                }
                Node::Internal(node)
            }
            _ => return None,
        };
        r.0.is_empty().then_some(node)
    }
}

/// A reader of stored bytes.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let (head, rest) = self.0.split_at_checked(n)?;
        self.0 = rest;
        Some(head)
    }

    fn byte(&mut self) -> Option<u8> {
        self.take(1).map(|b| b[0])
    }

    fn array(&mut self) -> Option<[u8; 32]> {
        self.take(32)?.try_into().ok()
    }

    fn u64(&mut self) -> Option<u64> {
        Some(u64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }
}

/// Where a node hangs: the nibbles from the root (at most 64).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct Path {
    len: u8,
    bytes: [u8; 32],
}

impl Path {
    pub(super) fn len(&self) -> usize {
        usize::from(self.len)
    }

    /// This path and one more nibble; the caller keeps below
    /// [`MAX_DEPTH`].
    pub(super) fn child(&self, n: u8) -> Path {
        let mut out = *self;
        let i = self.len();
        if i.is_multiple_of(2) {
            out.bytes[i / 2] = n << 4;
        } else {
            out.bytes[i / 2] |= n & 0x0f;
        }
        out.len += 1;
        out
    }
}

/// A node's key in the store (jmt's borsh `NodeKey`: the version, the
/// nibble count as a `u64`, then the packed nibbles with a `u32` length).
pub(super) fn node_key(version: u64, path: &Path) -> Vec<u8> {
    let packed = path.len().div_ceil(2);
    let mut out = Vec::with_capacity(20 + packed);
    out.extend_from_slice(&version.to_le_bytes());
    out.extend_from_slice(&(path.len() as u64).to_le_bytes());
    out.extend_from_slice(&(packed as u32).to_le_bytes());
    out.extend_from_slice(&path.bytes[..packed]);
    out
}

/// A node as a proof shows it (jmt's `SparseMerkleNode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ProofNode {
    Null,
    /// An internal node's two halves.
    Internal([u8; 32], [u8; 32]),
    Leaf(Leaf),
}

/// A proof in jmt's borsh `SparseMerkleProof`: the leaf the path ends at
/// (if any), then the siblings from the bottom up.
pub(super) fn encode_proof(leaf: Option<&Leaf>, siblings_top_down: &[ProofNode]) -> Vec<u8> {
    let mut out = Vec::with_capacity(69 + siblings_top_down.len() * 65);
    match leaf {
        None => out.push(0),
        Some(leaf) => {
            out.push(1);
            out.extend_from_slice(&leaf.key);
            out.extend_from_slice(&leaf.value);
        }
    }
    out.extend_from_slice(&(siblings_top_down.len() as u32).to_le_bytes());
    for node in siblings_top_down.iter().rev() {
        match node {
            ProofNode::Null => out.push(0),
            ProofNode::Internal(left, right) => {
                out.push(1);
                out.extend_from_slice(left);
                out.extend_from_slice(right);
            }
            ProofNode::Leaf(leaf) => {
                out.push(2);
                out.extend_from_slice(&leaf.key);
                out.extend_from_slice(&leaf.value);
            }
        }
    }
    out
}
