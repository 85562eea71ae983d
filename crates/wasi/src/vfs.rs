//! The virtual filesystem: inodes in memory, numbered in creation order,
//! with every timestamp taken from the call's one realtime value. Paths
//! resolve beneath the directory they start from (`..` past it, an
//! absolute path or an absolute symbolic link is `perm`), following at
//! most [`MAX_SYMLINKS`] links. Every byte it holds (file contents, link
//! targets, entry names) counts against [`Limits::max_bytes`], every node
//! against [`Limits::max_nodes`].

use std::collections::{BTreeMap, VecDeque};

use crate::{Errno, Limits};

/// An inode number. The root of the first preopen is 1.
pub(crate) type Ino = u64;

/// Most symbolic links one resolution follows before `loop`.
pub const MAX_SYMLINKS: u32 = 32;

/// Longest name of one directory entry, in bytes.
pub const MAX_NAME_BYTES: usize = 255;

/// What a node is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    File(Vec<u8>),
    Dir {
        entries: BTreeMap<Vec<u8>, Ino>,
        parent: Ino,
    },
    Symlink(Vec<u8>),
}

/// One inode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Node {
    pub(crate) kind: Kind,
    /// Directory entries naming it (files and links).
    pub(crate) nlink: u64,
    /// Descriptors open on it.
    pub(crate) open: u32,
    pub(crate) atim: u64,
    pub(crate) mtim: u64,
    pub(crate) ctim: u64,
}

impl Node {
    /// Its WASI file type.
    pub(crate) fn filetype(&self) -> u8 {
        match self.kind {
            Kind::File(_) => crate::FILETYPE_REGULAR_FILE,
            Kind::Dir { .. } => crate::FILETYPE_DIRECTORY,
            Kind::Symlink(_) => crate::FILETYPE_SYMBOLIC_LINK,
        }
    }

    /// Its size: file bytes, link target bytes, or entries for a directory.
    pub(crate) fn size(&self) -> u64 {
        match &self.kind {
            Kind::File(data) => data.len() as u64,
            Kind::Symlink(target) => target.len() as u64,
            Kind::Dir { entries, .. } => entries.len() as u64,
        }
    }

    pub(crate) fn is_dir(&self) -> bool {
        matches!(self.kind, Kind::Dir { .. })
    }
}

/// Where a path led: the directory holding its last component, that
/// component, and the node it names if there is one.
#[derive(Clone, Debug)]
pub(crate) struct Found {
    pub(crate) parent: Ino,
    /// The last component (`.` when the path names its start or ends in
    /// `.` or `..`).
    pub(crate) name: Vec<u8>,
    pub(crate) node: Option<Ino>,
    /// The path ended with a slash: it must name a directory.
    pub(crate) trailing_slash: bool,
}

impl Found {
    /// Whether the last component is `.` or `..`, which no operation may
    /// create, remove or rename.
    pub(crate) fn is_dot(&self) -> bool {
        self.name == b"." || self.name == b".."
    }
}

/// The filesystem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fs {
    nodes: BTreeMap<Ino, Node>,
    next: Ino,
    bytes: u64,
    limits: Limits,
    pub(crate) now: u64,
}

impl Fs {
    pub(crate) fn new(limits: Limits, now: u64) -> Fs {
        Fs {
            nodes: BTreeMap::new(),
            next: 1,
            bytes: 0,
            limits,
            now,
        }
    }

    /// Bytes held.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    pub(crate) fn node(&self, ino: Ino) -> Result<&Node, Errno> {
        self.nodes.get(&ino).ok_or(Errno::Badf)
    }

    pub(crate) fn node_mut(&mut self, ino: Ino) -> Result<&mut Node, Errno> {
        self.nodes.get_mut(&ino).ok_or(Errno::Badf)
    }

    /// Reserves `more` bytes of the budget.
    pub(crate) fn reserve(&mut self, more: u64) -> Result<(), Errno> {
        let total = self.bytes.saturating_add(more);
        if total > self.limits.max_bytes {
            return Err(Errno::Nospc);
        }
        self.bytes = total;
        Ok(())
    }

    /// Gives `less` bytes back to the budget.
    pub(crate) fn release(&mut self, less: u64) {
        self.bytes = self.bytes.saturating_sub(less);
    }

    /// A new node, not yet linked anywhere.
    fn alloc(&mut self, kind: Kind) -> Result<Ino, Errno> {
        if self.nodes.len() as u64 >= self.limits.max_nodes {
            return Err(Errno::Nospc);
        }
        let size = match &kind {
            Kind::File(data) => data.len() as u64,
            Kind::Symlink(target) => target.len() as u64,
            Kind::Dir { .. } => 0,
        };
        self.reserve(size)?;
        let ino = self.next;
        self.next += 1;
        let now = self.now;
        self.nodes.insert(
            ino,
            Node {
                kind,
                nlink: 0,
                open: 0,
                atim: now,
                mtim: now,
                ctim: now,
            },
        );
        Ok(ino)
    }

    /// A new, empty root directory (its own parent).
    pub(crate) fn new_root(&mut self) -> Result<Ino, Errno> {
        let ino = self.alloc(Kind::Dir {
            entries: BTreeMap::new(),
            parent: 0,
        })?;
        let node = self.node_mut(ino)?;
        node.nlink = 1;
        if let Kind::Dir { parent, .. } = &mut node.kind {
            *parent = ino;
        }
        Ok(ino)
    }

    /// Creates an empty directory `name` in directory `dir`.
    pub(crate) fn create_dir(&mut self, dir: Ino, name: &[u8]) -> Result<Ino, Errno> {
        let kind = Kind::Dir {
            entries: BTreeMap::new(),
            parent: dir,
        };
        self.create(dir, name, kind)
    }

    /// Creates `name` in directory `dir` as a new node of `kind` (a
    /// directory through [`Fs::create_dir`], which names its parent).
    pub(crate) fn create(&mut self, dir: Ino, name: &[u8], kind: Kind) -> Result<Ino, Errno> {
        check_name(name)?;
        self.reserve(name.len() as u64)?;
        let ino = match self.alloc(kind) {
            Ok(ino) => ino,
            Err(e) => {
                self.release(name.len() as u64);
                return Err(e);
            }
        };
        self.link_entry(dir, name, ino)?;
        Ok(ino)
    }

    /// Adds entry `name` -> `ino` to `dir` (the name's bytes already
    /// reserved) and counts the link.
    fn link_entry(&mut self, dir: Ino, name: &[u8], ino: Ino) -> Result<(), Errno> {
        let now = self.now;
        let parent = self.node_mut(dir)?;
        let Kind::Dir { entries, .. } = &mut parent.kind else {
            return Err(Errno::Notdir);
        };
        entries.insert(name.to_vec(), ino);
        parent.mtim = now;
        parent.ctim = now;
        let node = self.node_mut(ino)?;
        node.nlink += 1;
        node.ctim = now;
        Ok(())
    }

    /// Adds a hard link `name` in `dir` to the existing `ino`.
    pub(crate) fn link(&mut self, dir: Ino, name: &[u8], ino: Ino) -> Result<(), Errno> {
        check_name(name)?;
        self.reserve(name.len() as u64)?;
        self.link_entry(dir, name, ino)
    }

    /// Removes entry `name` from `dir`, freeing the node when nothing
    /// names it and no descriptor has it open.
    pub(crate) fn unlink(&mut self, dir: Ino, name: &[u8]) -> Result<(), Errno> {
        let now = self.now;
        let parent = self.node_mut(dir)?;
        let Kind::Dir { entries, .. } = &mut parent.kind else {
            return Err(Errno::Notdir);
        };
        let ino = entries.remove(name).ok_or(Errno::Noent)?;
        parent.mtim = now;
        parent.ctim = now;
        self.release(name.len() as u64);
        let node = self.node_mut(ino)?;
        node.nlink = node.nlink.saturating_sub(1);
        node.ctim = now;
        self.collect(ino);
        Ok(())
    }

    /// Frees `ino` if nothing names it and nothing has it open.
    pub(crate) fn collect(&mut self, ino: Ino) {
        let Some(node) = self.nodes.get(&ino) else {
            return;
        };
        if node.nlink == 0 && node.open == 0 {
            let size = match &node.kind {
                Kind::File(data) => data.len() as u64,
                Kind::Symlink(target) => target.len() as u64,
                Kind::Dir { .. } => 0,
            };
            self.nodes.remove(&ino);
            self.release(size);
        }
    }

    /// The entry `name` of directory `dir`.
    pub(crate) fn lookup(&self, dir: Ino, name: &[u8]) -> Result<Option<Ino>, Errno> {
        match &self.node(dir)?.kind {
            Kind::Dir { entries, .. } => Ok(entries.get(name).copied()),
            _ => Err(Errno::Notdir),
        }
    }

    /// Whether `ancestor` is `dir` or one of its ancestors.
    pub(crate) fn is_ancestor(&self, ancestor: Ino, mut dir: Ino) -> bool {
        loop {
            if dir == ancestor {
                return true;
            }
            match self.nodes.get(&dir).map(|n| &n.kind) {
                Some(Kind::Dir { parent, .. }) if *parent != dir => dir = *parent,
                _ => return false,
            }
        }
    }

    /// Sets a moved directory's parent.
    pub(crate) fn set_parent(&mut self, ino: Ino, new_parent: Ino) {
        if let Some(Node {
            kind: Kind::Dir { parent, .. },
            ..
        }) = self.nodes.get_mut(&ino)
        {
            *parent = new_parent;
        }
    }

    /// Resolves `path` beneath directory `base`. `follow`: follow a
    /// symbolic link in the last component (a trailing slash always does).
    pub(crate) fn resolve(&self, base: Ino, path: &[u8], follow: bool) -> Result<Found, Errno> {
        if path.is_empty() {
            return Err(Errno::Noent);
        }
        if path.contains(&0) {
            return Err(Errno::Inval);
        }
        if path.len() > self.limits.max_path_bytes {
            return Err(Errno::Nametoolong);
        }
        if path[0] == b'/' {
            return Err(Errno::Perm);
        }
        let mut trailing_slash = path.ends_with(b"/");
        let mut queue: VecDeque<Vec<u8>> = components(path);
        let mut stack = vec![base];
        let mut links = 0u32;
        loop {
            let Some(name) = queue.pop_front() else {
                // The path named its start, or ended in `.` or `..`.
                let dir = *stack.last().ok_or(Errno::Perm)?;
                return Ok(Found {
                    parent: dir,
                    name: b".".to_vec(),
                    node: Some(dir),
                    trailing_slash,
                });
            };
            let last = queue.is_empty();
            if name == b"." {
                continue;
            }
            if name == b".." {
                if stack.len() == 1 {
                    return Err(Errno::Perm);
                }
                stack.pop();
                continue;
            }
            if name.len() > MAX_NAME_BYTES {
                return Err(Errno::Nametoolong);
            }
            let dir = *stack.last().ok_or(Errno::Perm)?;
            let found = self.lookup(dir, &name)?;
            let Some(ino) = found else {
                if last {
                    return Ok(Found {
                        parent: dir,
                        name,
                        node: None,
                        trailing_slash,
                    });
                }
                return Err(Errno::Noent);
            };
            match &self.node(ino)?.kind {
                Kind::Symlink(target) if !last || follow || trailing_slash => {
                    links += 1;
                    if links > MAX_SYMLINKS {
                        return Err(Errno::Loop);
                    }
                    if target.first() == Some(&b'/') {
                        return Err(Errno::Perm);
                    }
                    if target.is_empty() {
                        return Err(Errno::Noent);
                    }
                    if last && target.ends_with(b"/") {
                        trailing_slash = true;
                    }
                    for component in components(target).into_iter().rev() {
                        queue.push_front(component);
                    }
                }
                Kind::Dir { .. } if !last => stack.push(ino),
                _ if !last => return Err(Errno::Notdir),
                kind => {
                    if trailing_slash && !matches!(kind, Kind::Dir { .. } | Kind::Symlink(_)) {
                        return Err(Errno::Notdir);
                    }
                    return Ok(Found {
                        parent: dir,
                        name,
                        node: Some(ino),
                        trailing_slash,
                    });
                }
            }
        }
    }
}

impl Fs {
    /// Checks the filesystem's bookkeeping against its nodes: the bytes
    /// held, every entry naming a node, every link count, every
    /// directory's parent. `open` counts each node's descriptors.
    pub(crate) fn audit(&self, open: &BTreeMap<Ino, u32>) -> Result<(), String> {
        let mut bytes = 0u64;
        let mut names: BTreeMap<Ino, u64> = BTreeMap::new();
        for (&ino, node) in &self.nodes {
            match &node.kind {
                Kind::File(data) => bytes += data.len() as u64,
                Kind::Symlink(target) => bytes += target.len() as u64,
                Kind::Dir { entries, parent } => {
                    if !self.nodes.contains_key(parent) {
                        return Err(format!("directory {ino}'s parent {parent} is gone"));
                    }
                    for (name, child) in entries {
                        bytes += name.len() as u64;
                        *names.entry(*child).or_default() += 1;
                        match self.nodes.get(child) {
                            None => return Err(format!("entry {name:?} of {ino} names no node")),
                            Some(Node {
                                kind: Kind::Dir { parent, .. },
                                ..
                            }) if *parent != ino => {
                                return Err(format!(
                                    "directory {child} in {ino} says its parent is {parent}"
                                ));
                            }
                            Some(_) => {}
                        }
                    }
                }
            }
        }
        if bytes != self.bytes {
            return Err(format!("{} bytes counted, {bytes} held", self.bytes));
        }
        for (&ino, node) in &self.nodes {
            let named = names.get(&ino).copied().unwrap_or(0);
            let is_root = matches!(&node.kind, Kind::Dir { parent, .. } if *parent == ino);
            if !is_root && node.nlink != named {
                return Err(format!(
                    "node {ino} has nlink {} but {named} names",
                    node.nlink
                ));
            }
            let fds = open.get(&ino).copied().unwrap_or(0);
            if node.open != fds {
                return Err(format!(
                    "node {ino} counts {} open, {fds} descriptors",
                    node.open
                ));
            }
            if named == 0 && fds == 0 && !is_root {
                return Err(format!("node {ino} is unreachable but kept"));
            }
        }
        if self.nodes.len() as u64 > self.limits.max_nodes || self.bytes > self.limits.max_bytes {
            return Err("over the limits".into());
        }
        Ok(())
    }
}

/// The components of a path, empty ones (from repeated slashes) dropped.
fn components(path: &[u8]) -> VecDeque<Vec<u8>> {
    path.split(|&b| b == b'/')
        .filter(|c| !c.is_empty())
        .map(<[u8]>::to_vec)
        .collect()
}

/// A name a directory entry may have.
fn check_name(name: &[u8]) -> Result<(), Errno> {
    if name.is_empty() || name == b"." || name == b".." {
        return Err(Errno::Exist);
    }
    if name.len() > MAX_NAME_BYTES {
        return Err(Errno::Nametoolong);
    }
    if name.contains(&b'/') || name.contains(&0) {
        return Err(Errno::Inval);
    }
    Ok(())
}
