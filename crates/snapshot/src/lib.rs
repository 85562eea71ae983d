//! Snapshots of Ward's state: everything a chain holds after one block,
//! as the state tree's leaves in chunks that each verify against that
//! block's state root, and their restore into an empty store.
//!
//! A snapshot is a directory (`docs/storage-format.md`, "Snapshots"):
//!
//! - `manifest.json`: the height, the state root, the block record of that
//!   height, and for each chunk its file and the subtrees it holds (path,
//!   hash, leaf count). The subtrees of all chunks, in order, cover the
//!   tree: [`Manifest::verify`] combines them into the root and checks it
//!   against the block's header, so one read of the manifest tells whether
//!   it belongs to the block.
//! - `chunk-NNNNNN.bin`: the leaves of its subtrees in key-hash order, each
//!   as its state key's bytes, its tree value, and for code the code
//!   itself. [`Verified::chunk`] recomputes each subtree's hash from them:
//!   a chunk that omits, adds or alters a leaf is refused on its own,
//!   without the others.
//!
//! [`restore`] checks the block against a hash its caller trusts
//! ([`Trust`]: the state root covers the state, not the rest of the block
//! record or the settings), every chunk, writes the tables and a tree
//! built at the snapshot's height ([`ward_chain::tree::build`]) with the
//! block in one commit, and checks the stored tree's root.
//!
//! A snapshot of a chain's state taken into a directory and restored into
//! an empty store, which then has the same state root:
//!
//! ```
//! use std::sync::Arc;
//! use ward_executor::{Deploy, Executor, Payload, Tx};
//! use ward_primitives::{Address, CodeKind};
//! use ward_state::{MemoryStore, StateRead};
//! use ward_vm::{BackendKind, Config};
//!
//! let config = Config::default();
//! let source = Arc::new(MemoryStore::default());
//! let backend = ward_backends::new(BackendKind::Wasmi, &config)?;
//! let executor = Executor::new(source.clone(), backend, &config);
//! let code = wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "main")))"#)?;
//! let deploy = Tx {
//!     sender: Address([1; 32]), gas_limit: 10_000_000, value: 0,
//!     payload: Payload::Deploy(Deploy::new(code, vec![])),
//! };
//! executor.execute_block(&[deploy], 1)?;
//!
//! let dir = std::env::temp_dir().join(format!("ward-snapshot-doc-{}", std::process::id()));
//! let _ = std::fs::remove_dir_all(&dir);
//! let taken = ward_snapshot::create(&*source, None, &dir, ward_snapshot::Limits::default())?;
//! let copy = MemoryStore::default();
//! // The block's hash comes from a source the restorer trusts: here, the
//! // chain itself.
//! let hash = source.block(1)?.unwrap().header.hash();
//! let restored = ward_snapshot::restore(&dir, &copy, &ward_snapshot::Trust::block(hash))?;
//! assert_eq!(restored.manifest.state_root, taken.manifest.state_root);
//! assert_eq!(copy.block(1)?, source.block(1)?);
//! std::fs::remove_dir_all(&dir)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::{
    collections::BTreeMap,
    fs, io,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};
use ward_chain::tree::{self, LeafHashes, Subtree, key_hash};
use ward_primitives::{Address, Hash32};
use ward_state::{BlockRecord, ContractInfo, Decode, StateError};

/// The snapshot format this crate writes and reads.
pub const FORMAT: u32 = 1;

/// The manifest's file name in a snapshot directory.
pub const MANIFEST: &str = "manifest.json";

/// The first bytes of a chunk file: a name and the format.
const CHUNK_MAGIC: &[u8; 8] = b"WARDCHK1";

/// How large a chunk may grow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Leaves in one chunk (a subtree with more is split; a single leaf
    /// always fits).
    pub leaves: usize,
    /// Bytes of keys, values and code in one chunk (a leaf larger than
    /// this, such as a large contract's code, gets a chunk of its own).
    pub bytes: usize,
}

impl Default for Limits {
    /// 4,096 leaves or 4 MiB: a chunk is fetched and checked in
    /// milliseconds, and a million keys make a few hundred chunks.
    fn default() -> Self {
        Limits {
            leaves: 4096,
            bytes: 4 << 20,
        }
    }
}

/// What went wrong with a snapshot.
#[derive(Debug, thiserror::Error)]
pub enum SnapshotError {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: io::Error,
    },
    /// The manifest is malformed or does not match its block.
    #[error("the manifest is invalid: {0}")]
    Manifest(String),
    /// A chunk is malformed or does not match the manifest.
    #[error("chunk {index} is invalid: {message}")]
    Chunk {
        /// The chunk's index in the manifest.
        index: usize,
        /// What is wrong with it.
        message: String,
    },
    /// The store cannot give or take this snapshot.
    #[error("{0}")]
    Refused(String),
    /// What the state root does not cover (the block record, the
    /// settings) disagrees with what the restore was told to trust.
    #[error("not what was trusted: {0}")]
    Untrusted(String),
    /// The store failed.
    #[error(transparent)]
    State(#[from] StateError),
}

fn io_error(path: &Path) -> impl FnOnce(io::Error) -> SnapshotError + '_ {
    move |source| SnapshotError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A snapshot's manifest, as `manifest.json` holds it (hashes and bytes in
/// lowercase hex after `0x`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The snapshot format ([`FORMAT`]).
    pub format: u32,
    /// The block after which the state is taken.
    pub height: u64,
    /// That block's state root.
    pub state_root: String,
    /// That block's record (header and transaction ids), encoded.
    pub block: String,
    /// Leaves in the whole tree.
    pub leaves: u64,
    /// Bytes of all chunk files.
    pub bytes: u64,
    /// The chunks, in key-hash order.
    pub chunks: Vec<ChunkInfo>,
    /// The settings the store records beside the state (a node's chain
    /// settings), by name. Not covered by the state root: a node checks
    /// them against its own (its genesis, its cluster's).
    #[serde(default)]
    pub settings: BTreeMap<String, String>,
}

/// One chunk as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkInfo {
    /// Its file in the snapshot directory.
    pub file: String,
    /// The file's size.
    pub bytes: u64,
    /// The subtrees it holds, in order.
    pub subtrees: Vec<SubtreeInfo>,
}

/// A subtree as the manifest lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubtreeInfo {
    /// Its nibbles from the root, one hex digit each (empty for the
    /// whole tree).
    pub path: String,
    /// Its hash.
    pub hash: String,
    /// The leaves under it.
    pub leaves: u64,
}

/// One piece of state in a chunk: its state key's bytes, its value in the
/// tree, and (for code) the code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The state key ([`ward_chain::tree::StateKey`] bytes).
    pub key: Vec<u8>,
    /// The tree's value for it.
    pub value: Vec<u8>,
    /// The code, for a code key; empty otherwise.
    pub code: Vec<u8>,
}

impl Entry {
    fn size(&self) -> usize {
        12 + self.key.len() + self.value.len() + self.code.len()
    }
}

/// A manifest that [`Manifest::verify`] has checked against its block.
#[derive(Clone, Debug)]
pub struct Verified {
    /// The manifest.
    pub manifest: Manifest,
    /// Its block.
    pub block: BlockRecord,
    /// Each chunk's subtrees, decoded.
    subtrees: Vec<Vec<Subtree>>,
}

impl Verified {
    /// The height.
    pub fn height(&self) -> u64 {
        self.block.header.height
    }

    /// The hash of its block's header: what a chain's next block names
    /// as its parent, and what a restore checks against [`Trust`].
    pub fn block_hash(&self) -> Hash32 {
        self.block.header.hash()
    }

    /// The state root.
    pub fn state_root(&self) -> Hash32 {
        self.block.header.state_root
    }

    /// Checks chunk `index`'s bytes against the manifest and gives its
    /// entries: every leaf of its subtrees and no other, each value and
    /// code well formed.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::Chunk`] when it does not check.
    pub fn chunk(&self, index: usize, bytes: &[u8]) -> Result<Vec<Entry>, SnapshotError> {
        let fail = |message: String| SnapshotError::Chunk { index, message };
        let subtrees = self
            .subtrees
            .get(index)
            .ok_or_else(|| fail("the manifest has no such chunk".into()))?;
        let (height, entries) = decode_chunk(bytes).map_err(fail)?;
        if height != self.height() {
            return Err(fail(format!(
                "it is of height {height}, not {}",
                self.height()
            )));
        }
        let mut leaves: Vec<LeafHashes> = Vec::with_capacity(entries.len());
        for entry in &entries {
            check_entry(entry).map_err(fail)?;
            leaves.push(tree::leaf_hashes(&key_hash(&entry.key), &entry.value));
        }
        // The leaves, in order, fill the subtrees one after another.
        let mut rest = leaves.as_slice();
        for expected in subtrees {
            let under = rest
                .iter()
                .take_while(|(key, _)| under_path(key, &expected.path))
                .count();
            let (group, tail) = rest.split_at(under);
            match tree::subtree(&expected.path, group) {
                Some(found) if found == *expected => {}
                Some(found) => {
                    return Err(fail(format!(
                        "subtree {} holds {} leaves hashing to {}, not {} hashing to {}",
                        nibbles_hex(&expected.path),
                        found.leaves,
                        hex0x(found.hash.0),
                        expected.leaves,
                        hex0x(expected.hash.0)
                    )));
                }
                None => return Err(fail("its leaves are out of order or repeated".into())),
            }
            rest = tail;
        }
        if !rest.is_empty() {
            return Err(fail(format!(
                "{} leaves lie outside its subtrees",
                rest.len()
            )));
        }
        Ok(entries)
    }
}

/// Whether `key` lies under the subtree at `path` (nibbles).
fn under_path(key: &[u8; 32], path: &[u8]) -> bool {
    path.len() <= 64
        && path
            .iter()
            .enumerate()
            .all(|(depth, &n)| nibble(key, depth) == n)
}

/// The nibble of `key` at `depth` (below 64).
fn nibble(key: &[u8; 32], depth: usize) -> u8 {
    let byte = key[depth / 2];
    if depth.is_multiple_of(2) {
        byte >> 4
    } else {
        byte & 0x0f
    }
}

fn nibbles_hex(path: &[u8]) -> String {
    path.iter()
        .map(|&n| char::from_digit(u32::from(n), 16).unwrap_or('?'))
        .collect()
}

/// Bytes as the node shows them: `0x` and lowercase hex.
fn hex0x(bytes: impl AsRef<[u8]>) -> String {
    format!("0x{}", hex::encode(bytes))
}

fn unhex0x(text: &str) -> Result<Vec<u8>, String> {
    let digits = text.strip_prefix("0x").ok_or("no 0x prefix")?;
    hex::decode(digits).map_err(|e| e.to_string())
}

fn hash_hex(text: &str, what: &str) -> Result<Hash32, SnapshotError> {
    let bytes = unhex0x(text).map_err(|e| SnapshotError::Manifest(format!("{what}: {e}")))?;
    let array: [u8; 32] = bytes
        .try_into()
        .map_err(|_| SnapshotError::Manifest(format!("{what}: not 32 bytes")))?;
    Ok(Hash32(array))
}

impl Manifest {
    /// Parses `manifest.json`'s bytes.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::Manifest`] when they are not a manifest.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, SnapshotError> {
        serde_json::from_slice(bytes).map_err(|e| SnapshotError::Manifest(e.to_string()))
    }

    /// Reads `dir`'s manifest.
    ///
    /// # Errors
    ///
    /// When it cannot be read or parsed.
    pub fn read(dir: &Path) -> Result<Manifest, SnapshotError> {
        let path = dir.join(MANIFEST);
        let bytes = fs::read(&path).map_err(io_error(&path))?;
        Manifest::parse(&bytes)
    }

    /// Checks the manifest: its format, its block's height and state root,
    /// and that its subtrees cover the tree whose root that is. Chunk
    /// files must then be plain names in the snapshot directory.
    ///
    /// # Errors
    ///
    /// [`SnapshotError::Manifest`] saying what does not hold.
    pub fn verify(&self) -> Result<Verified, SnapshotError> {
        let bad = |m: String| Err(SnapshotError::Manifest(m));
        if self.format != FORMAT {
            return bad(format!(
                "format {}, and this build reads format {FORMAT}",
                self.format
            ));
        }
        let block_bytes =
            unhex0x(&self.block).map_err(|e| SnapshotError::Manifest(format!("block: {e}")))?;
        let block = BlockRecord::from_bytes(&block_bytes)
            .map_err(|e| SnapshotError::Manifest(format!("block: {}", e.0)))?;
        let root = hash_hex(&self.state_root, "state_root")?;
        if block.header.height != self.height || block.header.state_root != root {
            return bad(format!(
                "its block is height {} with root {}, not height {} with root {}",
                block.header.height,
                hex0x(block.header.state_root.0),
                self.height,
                self.state_root
            ));
        }
        let mut subtrees = Vec::with_capacity(self.chunks.len());
        let mut all = Vec::new();
        let mut leaves = 0u64;
        for (i, chunk) in self.chunks.iter().enumerate() {
            let plain = !chunk.file.is_empty()
                && chunk
                    .file
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.')
                && !chunk.file.starts_with('.');
            if !plain {
                return bad(format!(
                    "chunk {i}'s file {:?} is not a plain name",
                    chunk.file
                ));
            }
            let mut mine = Vec::with_capacity(chunk.subtrees.len());
            for s in &chunk.subtrees {
                let path = s
                    .path
                    .chars()
                    .map(|c| c.to_digit(16).map(|d| d as u8))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| SnapshotError::Manifest(format!("path {:?}", s.path)))?;
                let subtree = Subtree {
                    path,
                    hash: hash_hex(&s.hash, "subtree hash")?,
                    leaves: s.leaves,
                };
                leaves = leaves
                    .checked_add(s.leaves)
                    .ok_or_else(|| SnapshotError::Manifest("leaf counts overflow".into()))?;
                all.push(subtree.clone());
                mine.push(subtree);
            }
            subtrees.push(mine);
        }
        if let Some((name, _)) = self.settings.iter().find(|(_, v)| unhex0x(v).is_err()) {
            return bad(format!("setting {name:?} is not hex"));
        }
        if leaves != self.leaves {
            return bad(format!(
                "its chunks hold {leaves} leaves, and it says {}",
                self.leaves
            ));
        }
        match tree::root_of(&all) {
            Some(found) if found == root => Ok(Verified {
                manifest: self.clone(),
                block,
                subtrees,
            }),
            Some(found) => bad(format!(
                "its subtrees make the root {}, not {}",
                hex0x(found.0),
                self.state_root
            )),
            None => bad("its subtrees do not cover the tree: out of order or overlapping".into()),
        }
    }
}

/// A chunk file: the magic, the height, the entry count, then each entry
/// as three length-prefixed byte strings (key, value, code), lengths
/// `u32` little-endian.
fn encode_chunk<'a>(height: u64, entries: impl Iterator<Item = &'a Entry>) -> Vec<u8> {
    let entries: Vec<&Entry> = entries.collect();
    let mut out = Vec::with_capacity(20 + entries.iter().map(|e| e.size()).sum::<usize>());
    out.extend_from_slice(CHUNK_MAGIC);
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    for entry in entries {
        for part in [&entry.key, &entry.value, &entry.code] {
            out.extend_from_slice(&(part.len() as u32).to_le_bytes());
            out.extend_from_slice(part);
        }
    }
    out
}

fn decode_chunk(mut bytes: &[u8]) -> Result<(u64, Vec<Entry>), String> {
    fn take<'a>(bytes: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
        if bytes.len() < n {
            return Err("it ends early".into());
        }
        let (head, tail) = bytes.split_at(n);
        *bytes = tail;
        Ok(head)
    }
    fn u32_of(bytes: &mut &[u8]) -> Result<usize, String> {
        let raw: [u8; 4] = take(bytes, 4)?.try_into().map_err(|_| "it ends early")?;
        Ok(u32::from_le_bytes(raw) as usize)
    }
    if take(&mut bytes, 8)? != CHUNK_MAGIC {
        return Err("it is not a chunk of this format".into());
    }
    let raw: [u8; 8] = take(&mut bytes, 8)?
        .try_into()
        .map_err(|_| "it ends early")?;
    let height = u64::from_le_bytes(raw);
    let count = u32_of(&mut bytes)?;
    // Each entry takes at least 12 bytes: a count beyond that is a lie.
    if count > bytes.len() / 12 {
        return Err(format!(
            "it claims {count} entries in {} bytes",
            bytes.len()
        ));
    }
    let mut entries = Vec::with_capacity(count);
    for _ in 0..count {
        let mut part = || -> Result<Vec<u8>, String> {
            let n = u32_of(&mut bytes)?;
            Ok(take(&mut bytes, n)?.to_vec())
        };
        let (key, value, code) = (part()?, part()?, part()?);
        entries.push(Entry { key, value, code });
    }
    if !bytes.is_empty() {
        return Err(format!("{} bytes follow its entries", bytes.len()));
    }
    Ok((height, entries))
}

/// What an entry writes into a store's tables.
enum Row {
    Code(Hash32, Vec<u8>),
    Contract(Address, ContractInfo),
    Storage(Address, Vec<u8>, Vec<u8>),
    Nonce(Address, u64),
    Balance(Address, u128),
}

/// The table row an entry stands for, when its key and value are well
/// formed (the tree vouches for their hashes, not for their form).
fn row(entry: &Entry) -> Result<Row, String> {
    let (&tag, rest) = entry.key.split_first().ok_or("an empty key")?;
    let (id, tail) = rest
        .split_first_chunk::<32>()
        .ok_or("a key without its 32-byte id")?;
    let fixed = |n: usize, what: &str| {
        if tail.is_empty() && entry.value.len() == n {
            Ok(())
        } else {
            Err(format!("a malformed {what} entry"))
        }
    };
    let no_code = |row: Row| {
        if entry.code.is_empty() {
            Ok(row)
        } else {
            Err("code beside a key that is not code".to_owned())
        }
    };
    match tag {
        0 => {
            fixed(32, "code")?;
            if entry.value != id || *blake3::hash(&entry.code).as_bytes() != *id {
                return Err("code that does not hash to its key".into());
            }
            Ok(Row::Code(Hash32(*id), entry.code.clone()))
        }
        1 => {
            if !tail.is_empty() {
                return Err("a malformed contract key".into());
            }
            let info = ContractInfo::from_bytes(&entry.value)
                .map_err(|e| format!("a contract record: {}", e.0))?;
            no_code(Row::Contract(Address(*id), info))
        }
        2 => no_code(Row::Storage(
            Address(*id),
            tail.to_vec(),
            entry.value.clone(),
        )),
        3 => {
            fixed(8, "nonce")?;
            let raw: [u8; 8] = entry.value.as_slice().try_into().map_err(|_| "a nonce")?;
            no_code(Row::Nonce(Address(*id), u64::from_le_bytes(raw)))
        }
        4 => {
            fixed(16, "balance")?;
            let raw: [u8; 16] = entry.value.as_slice().try_into().map_err(|_| "a balance")?;
            match u128::from_le_bytes(raw) {
                0 => Err("a zero balance (absent in the tree)".into()),
                balance => no_code(Row::Balance(Address(*id), balance)),
            }
        }
        other => Err(format!("a key of unknown kind {other}")),
    }
}

fn check_entry(entry: &Entry) -> Result<(), String> {
    row(entry).map(drop)
}

mod create;
mod restore;

pub use create::create;
pub use restore::{SettingsCheck, Trust, restore};

#[cfg(test)]
mod tests;
