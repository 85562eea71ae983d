//! The nodes near the root, decoded and kept between blocks: every block
//! reads them, and finding each in the store and decoding it again cost
//! more than the rest of the tree's reads.

use std::{
    collections::BTreeMap,
    sync::{Mutex, PoisonError},
};

use super::node::{Node, Path};

/// How deep cached nodes go: the root and two levels below it, at most
/// 273 paths, each with the newest node committed there. (Three levels,
/// 4,369 paths, cost more in copies of fresh nodes than they saved in
/// reads: 11 % of a block of 1,000 new keys.)
pub(super) const CACHED_DEPTH: usize = 2;

/// Decoded nodes of the newest committed versions near the root, shared
/// by the updates and proofs of one store ([`super::update_with`]). A
/// stored node never changes once committed, so an entry is either
/// current or unused; only nodes of committed blocks enter it
/// ([`TreeCache::keep`]).
#[derive(Debug, Default)]
pub struct TreeCache {
    latest: Mutex<BTreeMap<Path, (u64, Node)>>,
}

/// The nodes near the root that one update wrote: what
/// [`TreeCache::keep`] takes once its block is committed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FreshNodes {
    version: u64,
    nodes: Vec<(Path, Node)>,
}

impl FreshNodes {
    pub(super) fn new(version: u64) -> Self {
        FreshNodes {
            version,
            nodes: Vec::new(),
        }
    }

    pub(super) fn append(&mut self, mut other: FreshNodes) {
        self.nodes.append(&mut other.nodes);
    }

    pub(super) fn push(&mut self, path: Path, node: &Node) {
        if path.len() <= CACHED_DEPTH {
            self.nodes.push((path, node.clone()));
        }
    }
}

impl TreeCache {
    /// An empty cache.
    pub fn new() -> Self {
        TreeCache::default()
    }

    /// The node stored at `(version, path)`, if it is the newest there
    /// and cached.
    pub(super) fn get(&self, version: u64, path: &Path) -> Option<Node> {
        if path.len() > CACHED_DEPTH {
            return None;
        }
        let latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        match latest.get(path) {
            Some((at, node)) if *at == version => Some(node.clone()),
            _ => None,
        }
    }

    /// Keeps a committed update's nodes near the root.
    pub fn keep(&self, fresh: FreshNodes) {
        let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
        for (path, node) in fresh.nodes {
            newest(&mut latest, fresh.version, path, node);
        }
    }

    /// Forgets every node: what a store that went back to an earlier
    /// state needs (a dev chain's `revert`), where the versions cached
    /// may be written again with other nodes.
    pub fn clear(&self) {
        self.latest
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }

    /// Keeps a node read from the store near the root, unless a newer
    /// one is kept there.
    pub(super) fn remember(&self, version: u64, path: &Path, node: &Node) {
        if path.len() <= CACHED_DEPTH {
            let mut latest = self.latest.lock().unwrap_or_else(PoisonError::into_inner);
            newest(&mut latest, version, *path, node.clone());
        }
    }
}

fn newest(latest: &mut BTreeMap<Path, (u64, Node)>, version: u64, path: Path, node: Node) {
    match latest.get(&path) {
        Some((at, _)) if *at >= version => {}
        _ => {
            latest.insert(path, (version, node));
        }
    }
}
