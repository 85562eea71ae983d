//! A block's update of the tree: one pass down the paths its changed keys
//! share, writes and removals together, building each new node once.
//!
//! The shape is the Jellyfish Merkle tree's, which depends on the keys
//! alone: a leaf hangs at the shortest nibble path no other key shares; an
//! internal node has at least two children, or one that is internal. A
//! removal that leaves an internal node with a single leaf moves that leaf
//! up in its place.

use super::{
    TreeError, TreeStore,
    cache::{FreshNodes, TreeCache},
    node::{Child, Internal, Leaf, MAX_DEPTH, Node, Path, nibble, node_key},
};

/// How many changed keys a block needs before its root's subtrees are
/// rebuilt on two threads (below it, a thread costs more than it saves).
const PARALLEL_FROM: usize = 256;

/// A changed key: its hash and its new value's (`None`: removed).
pub(super) type Change = ([u8; 32], Option<[u8; 32]>);

/// What a subtree became.
enum Out {
    Empty,
    /// A single leaf, to be hung where its parent puts it; `at` is the
    /// version it is stored at when it stays where it was.
    Leaf {
        leaf: Leaf,
        at: Option<u64>,
    },
    /// An internal node, written at the new version.
    Internal {
        hash: [u8; 32],
        leaves: u64,
    },
}

/// A child slot while an internal node is rebuilt.
enum Slot {
    Old(Child),
    New(Out),
}

pub(super) struct Writer<'a, S: TreeStore> {
    store: &'a S,
    cache: Option<&'a TreeCache>,
    version: u64,
    pub(super) nodes: Vec<(Vec<u8>, Vec<u8>)>,
    /// The new nodes near the root, for the cache once committed.
    pub(super) fresh: FreshNodes,
    /// Every stored node the update read, `(version, path)`: each is
    /// replaced unless a new node still points to it (`kept`).
    pub(super) visited: Vec<(u64, Path)>,
    /// Older nodes the new internal nodes point to.
    pub(super) kept: Vec<(u64, Path)>,
}

type Result<T, S> = std::result::Result<T, TreeError<<S as TreeStore>::Error>>;

impl<'a, S: TreeStore + Sync> Writer<'a, S>
where
    S::Error: Send,
{
    pub(super) fn new(store: &'a S, cache: Option<&'a TreeCache>, version: u64) -> Self {
        Writer {
            store,
            cache,
            version,
            nodes: Vec::new(),
            fresh: FreshNodes::new(version),
            visited: Vec::new(),
            kept: Vec::new(),
        }
    }

    /// The stored node at `(version, path)`, noted as visited.
    pub(super) fn read(&mut self, version: u64, path: &Path) -> Result<Node, S> {
        self.visited.push((version, *path));
        read(self.store, self.cache, version, path)
    }

    fn put(&mut self, path: &Path, node: &Node) {
        if let Node::Internal(internal) = node {
            for (n, child) in internal.children.iter().enumerate() {
                if let Some(child) = child
                    && child.version < self.version
                {
                    self.kept.push((child.version, path.child(n as u8)));
                }
            }
        }
        self.nodes
            .push((node_key(self.version, path), node.encode()));
        self.fresh.push(*path, node);
    }

    /// The keys of the nodes this update replaced: read, and pointed to
    /// by no new node. Heights from this version on never need them.
    pub(super) fn stale(&self) -> Vec<Vec<u8>> {
        let kept: std::collections::BTreeSet<&(u64, Path)> = self.kept.iter().collect();
        let mut stale: Vec<(u64, Path)> = self
            .visited
            .iter()
            .filter(|v| v.0 < self.version && !kept.contains(v))
            .copied()
            .collect();
        stale.sort_unstable();
        stale.dedup();
        stale
            .iter()
            .map(|(version, path)| node_key(*version, path))
            .collect()
    }

    /// The new root after `changes` (sorted by key hash, each key once)
    /// on top of `previous` (the root before; `None` for the empty tree).
    /// Writes the root at the new version whatever happened.
    pub(super) fn root(
        &mut self,
        previous: Option<Node>,
        changes: &[Change],
    ) -> Result<[u8; 32], S> {
        let root = Path::default();
        let out = match previous {
            Some(node) if changes.is_empty() => {
                // Nothing changed: the same root, at the new version.
                self.put(&root, &node);
                return Ok(node.hash());
            }
            Some(Node::Internal(node)) => self.internal(root, node, changes)?,
            // A root leaf is written again whatever becomes of it.
            Some(Node::Leaf(leaf)) => self.leaf(root, Some((0, leaf)), changes)?,
            Some(Node::Null) | None => self.leaf(root, None, changes)?,
        };
        Ok(match out {
            Out::Empty => {
                self.put(&root, &Node::Null);
                super::node::PLACEHOLDER
            }
            Out::Leaf { leaf, .. } => {
                self.put(&root, &Node::Leaf(leaf));
                leaf.hash()
            }
            Out::Internal { hash, .. } => hash,
        })
    }

    /// The subtree at `path` (an internal node, `node`) after `changes`.
    fn internal(&mut self, path: Path, node: Internal, changes: &[Change]) -> Result<Out, S> {
        let depth = path.len();
        if depth >= MAX_DEPTH {
            return Err(TreeError::Tree(
                "an internal node below the last nibble".into(),
            ));
        }
        let mut slots: [Option<Slot>; 16] = node.children.map(|c| c.map(Slot::Old));
        let groups: Vec<&[Change]> = groups(changes, depth).collect();
        // The root's subtrees are independent: a large block shares them
        // between two threads, each writing its own nodes.
        let (mine, theirs) = if depth == 0 && changes.len() >= PARALLEL_FROM {
            halves(&groups)
        } else {
            (groups.as_slice(), &[][..])
        };
        let olds = |part: &[&[Change]]| -> Vec<Option<Child>> {
            part.iter()
                .map(
                    |group| match &slots[usize::from(nibble(&group[0].0, depth))] {
                        Some(Slot::Old(child)) => Some(*child),
                        _ => None,
                    },
                )
                .collect()
        };
        let (my_olds, their_olds) = (olds(mine), olds(theirs));
        let (store, cache, version) = (self.store, self.cache, self.version);
        let (my_outs, their_outs) = std::thread::scope(|scope| {
            let other = (!theirs.is_empty()).then(|| {
                scope.spawn(move || {
                    let mut writer = Writer::new(store, cache, version);
                    let outs = writer.children(&path, theirs, &their_olds);
                    (outs, writer)
                })
            });
            let outs = self.children(&path, mine, &my_olds);
            (outs, other.map(std::thread::ScopedJoinHandle::join))
        });
        let mut outs = my_outs?;
        match their_outs {
            None => {}
            Some(Ok((result, mut other))) => {
                outs.extend(result?);
                self.nodes.append(&mut other.nodes);
                self.fresh.append(other.fresh);
                self.visited.append(&mut other.visited);
                self.kept.append(&mut other.kept);
            }
            Some(Err(_)) => return Err(TreeError::Tree("a tree thread panicked".into())),
        }
        for (n, out) in outs {
            slots[usize::from(n)] = match out {
                Out::Empty => None,
                out => Some(Slot::New(out)),
            };
        }
        self.settle(path, slots)
    }

    /// The new subtrees below `path` of each group of changes (sharing a
    /// nibble there), given what was in each one's slot.
    fn children(
        &mut self,
        path: &Path,
        groups: &[&[Change]],
        olds: &[Option<Child>],
    ) -> Result<Vec<(u8, Out)>, S> {
        let depth = path.len();
        let mut outs = Vec::with_capacity(groups.len());
        for (group, old) in groups.iter().zip(olds) {
            let n = nibble(&group[0].0, depth);
            let child_path = path.child(n);
            let out = match old {
                None => self.leaf(child_path, None, group)?,
                Some(child) => match self.read(child.version, &child_path)? {
                    Node::Internal(node) => self.internal(child_path, node, group)?,
                    Node::Leaf(leaf) => {
                        self.leaf(child_path, Some((child.version, leaf)), group)?
                    }
                    Node::Null => {
                        return Err(TreeError::Tree("a null node below the root".into()));
                    }
                },
            };
            outs.push((n, out));
        }
        Ok(outs)
    }

    /// The subtree at `path`, a single leaf (`old`, stored at its version)
    /// or nothing, after `changes`.
    fn leaf(&mut self, path: Path, old: Option<(u64, Leaf)>, changes: &[Change]) -> Result<Out, S> {
        let mut leaves: Vec<Leaf> = Vec::with_capacity(changes.len() + 1);
        let mut kept = None;
        if let Some((at, old)) = old
            && !changes.iter().any(|(key, _)| *key == old.key)
        {
            kept = Some(at);
            leaves.push(old);
        }
        leaves.extend(
            changes
                .iter()
                .filter_map(|(key, value)| value.map(|value| Leaf { key: *key, value })),
        );
        match leaves.as_mut_slice() {
            [] => Ok(Out::Empty),
            [leaf] => Ok(Out::Leaf {
                leaf: *leaf,
                at: kept,
            }),
            many => {
                many.sort_unstable_by_key(|leaf| leaf.key);
                self.create(path, many)
            }
        }
    }

    /// A new subtree at `path` holding `leaves` (two or more, sorted, the
    /// keys distinct).
    fn create(&mut self, path: Path, leaves: &[Leaf]) -> Result<Out, S> {
        let depth = path.len();
        if depth >= MAX_DEPTH {
            return Err(TreeError::Tree("two leaves with one key".into()));
        }
        let mut node = Internal::default();
        let mut start = 0;
        while start < leaves.len() {
            let n = nibble(&leaves[start].key, depth);
            let len = leaves[start..]
                .iter()
                .take_while(|leaf| nibble(&leaf.key, depth) == n)
                .count();
            let group = &leaves[start..start + len];
            start += len;
            let child_path = path.child(n);
            node.children[usize::from(n)] = Some(match group {
                [leaf] => self.hang(&child_path, leaf),
                _ => match self.create(child_path, group)? {
                    Out::Internal { hash, leaves } => Child {
                        hash,
                        version: self.version,
                        leaves: Some(leaves),
                    },
                    _ => return Err(TreeError::Tree("a subtree of several leaves".into())),
                },
            });
        }
        Ok(self.write_internal(&path, node))
    }

    /// Writes `leaf` at `path` at the new version.
    fn hang(&mut self, path: &Path, leaf: &Leaf) -> Child {
        self.put(path, &Node::Leaf(*leaf));
        Child {
            hash: leaf.hash(),
            version: self.version,
            leaves: None,
        }
    }

    fn write_internal(&mut self, path: &Path, node: Internal) -> Out {
        let hash = node.hash();
        let leaves = node.leaf_count();
        self.put(path, &Node::Internal(node));
        Out::Internal { hash, leaves }
    }

    /// The internal node at `path` with its children rebuilt: nothing
    /// when none is left, its leaf when a single leaf is, else the node.
    fn settle(&mut self, path: Path, slots: [Option<Slot>; 16]) -> Result<Out, S> {
        let mut filled = slots.iter().enumerate().filter(|(_, s)| s.is_some());
        match (filled.next(), filled.next()) {
            (None, _) => return Ok(Out::Empty),
            (Some((n, Some(slot))), None) => {
                let leaf = match slot {
                    Slot::New(Out::Leaf { leaf, .. }) => Some(*leaf),
                    Slot::Old(child) if child.is_leaf() => {
                        match self.read(child.version, &path.child(n as u8))? {
                            Node::Leaf(leaf) => Some(leaf),
                            _ => return Err(TreeError::Tree("a leaf child is not a leaf".into())),
                        }
                    }
                    _ => None,
                };
                if let Some(leaf) = leaf {
                    return Ok(Out::Leaf { leaf, at: None });
                }
            }
            _ => {}
        }
        let mut node = Internal::default();
        for (n, slot) in slots.into_iter().enumerate() {
            node.children[n] = match slot {
                None | Some(Slot::New(Out::Empty)) => None,
                Some(Slot::Old(child)) => Some(child),
                Some(Slot::New(Out::Leaf { leaf, at: Some(at) })) => Some(Child {
                    hash: leaf.hash(),
                    version: at,
                    leaves: None,
                }),
                Some(Slot::New(Out::Leaf { leaf, at: None })) => {
                    Some(self.hang(&path.child(n as u8), &leaf))
                }
                Some(Slot::New(Out::Internal { hash, leaves })) => Some(Child {
                    hash,
                    version: self.version,
                    leaves: Some(leaves),
                }),
            };
        }
        Ok(self.write_internal(&path, node))
    }
}

/// `groups` split in two where about half their changes are on each side.
fn halves<'g>(groups: &'g [&'g [Change]]) -> (&'g [&'g [Change]], &'g [&'g [Change]]) {
    let total: usize = groups.iter().map(|group| group.len()).sum();
    let mut before = 0;
    let split = groups
        .iter()
        .position(|group| {
            let past_half = before * 2 >= total;
            before += group.len();
            past_half
        })
        .unwrap_or(groups.len());
    groups.split_at(split)
}

/// The runs of `changes` (sorted) that share their nibble at `depth`.
fn groups(changes: &[Change], depth: usize) -> impl Iterator<Item = &[Change]> {
    changes.chunk_by(move |a, b| nibble(&a.0, depth) == nibble(&b.0, depth))
}

/// The stored node at `(version, path)`, from `cache` when it has it; a
/// missing or undecodable one is an error.
pub(super) fn read<S: TreeStore>(
    store: &S,
    cache: Option<&TreeCache>,
    version: u64,
    path: &Path,
) -> Result<Node, S> {
    if let Some(node) = cache.and_then(|cache| cache.get(version, path)) {
        return Ok(node);
    }
    let bytes = store
        .tree_node(&node_key(version, path))
        .map_err(TreeError::Store)?
        .ok_or_else(|| {
            TreeError::Tree(format!(
                "no node at version {version}, depth {}",
                path.len()
            ))
        })?;
    let node = Node::decode(&bytes).ok_or_else(|| {
        TreeError::Tree(format!(
            "an undecodable node at version {version}, depth {}",
            path.len()
        ))
    })?;
    if let Some(cache) = cache {
        cache.remember(version, path, &node);
    }
    Ok(node)
}

/// The root node of `version`, if the store has one.
pub(super) fn root_node<S: TreeStore>(
    store: &S,
    cache: Option<&TreeCache>,
    version: u64,
) -> Result<Option<Node>, S> {
    let path = Path::default();
    if let Some(node) = cache.and_then(|cache| cache.get(version, &path)) {
        return Ok(Some(node));
    }
    match store
        .tree_node(&node_key(version, &path))
        .map_err(TreeError::Store)?
    {
        None => Ok(None),
        Some(bytes) => Node::decode(&bytes)
            .map(Some)
            .ok_or_else(|| TreeError::Tree(format!("an undecodable root at version {version}"))),
    }
}
