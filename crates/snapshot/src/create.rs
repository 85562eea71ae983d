//! Taking a snapshot: the state at a height split into chunks along the
//! tree's subtrees, each written and synced, the manifest last.

use std::{fs, io::Write, path::Path};

use ward_chain::tree::{self, LeafHashes, Subtree, key_hash};
use ward_primitives::Hash32;
use ward_state::{Encode, StateRead, StateScan};

use super::{
    ChunkInfo, Entry, FORMAT, Limits, MANIFEST, Manifest, SnapshotError, SubtreeInfo, Verified,
    encode_chunk, hex0x, io_error, nibble, nibbles_hex,
};

/// Writes the snapshot of `store` after block `height` (its latest when
/// `None`) into `dir`, which must not exist or be empty; the manifest is
/// written last, so a directory with one is complete.
///
/// A past height is rebuilt from the tree's versioned values of the keys
/// the store holds now; a key removed since cannot be recovered, and then
/// the root does not match and the snapshot is refused (take snapshots at
/// the tip, as a node does).
///
/// # Errors
///
/// When the store fails, the height is not there, or `dir` cannot be
/// written.
pub fn create<S: StateRead + StateScan>(
    store: &S,
    height: Option<u64>,
    dir: &Path,
    limits: Limits,
) -> Result<Verified, SnapshotError> {
    let (latest, state) = store.whole_state()?;
    let height = height.unwrap_or(latest);
    if height > latest {
        return Err(SnapshotError::Refused(format!(
            "no block {height}: the chain is at {latest}"
        )));
    }
    let block = store
        .block(height)?
        .ok_or_else(|| SnapshotError::Refused(format!("block {height} is not in this store")))?;
    let settings = state
        .settings
        .iter()
        .map(|(name, value)| (name.clone(), hex0x(value)))
        .collect();
    let mut entries: Vec<([u8; 32], Entry)> = Vec::new();
    for (key, value) in state.tree_changes() {
        let hash = key_hash(&key);
        let value = if height == latest {
            value
        } else {
            store.tree_value(&hash, height)?
        };
        let Some(value) = value else { continue };
        let code = match key.first() {
            Some(0) => {
                let code_hash = Hash32(value.as_slice().try_into().map_err(|_| {
                    SnapshotError::Refused("a code key's value is not a hash".into())
                })?);
                state.code.get(&code_hash).cloned().ok_or_else(|| {
                    SnapshotError::Refused(format!(
                        "code {} is in the tree and not in the code table",
                        hex0x(code_hash.0)
                    ))
                })?
            }
            _ => Vec::new(),
        };
        entries.push((hash.0, Entry { key, value, code }));
    }
    drop(state);
    entries.sort_unstable_by_key(|(hash, _)| *hash);
    let leaves: Vec<LeafHashes> = entries
        .iter()
        .map(|(hash, e)| tree::leaf_hashes(&Hash32(*hash), &e.value))
        .collect();
    let sizes: Vec<usize> = entries.iter().map(|(_, e)| e.size()).collect();

    let chunks = plan(&leaves, &sizes, limits);
    let all: Vec<Subtree> = chunks.iter().flat_map(|(s, _)| s.iter().cloned()).collect();
    let root = tree::root_of(&all).unwrap_or(tree::EMPTY_ROOT);
    if root != block.header.state_root {
        return Err(SnapshotError::Refused(format!(
            "the state rebuilt for block {height} has root {}, and the block's is {}{}",
            hex0x(root.0),
            hex0x(block.header.state_root.0),
            if height == latest {
                ""
            } else {
                " (keys removed since then cannot be rebuilt: snapshot the latest block)"
            }
        )));
    }

    let manifest = Manifest {
        format: FORMAT,
        height,
        state_root: hex0x(block.header.state_root.0),
        block: hex0x(block.to_bytes()),
        leaves: leaves.len() as u64,
        bytes: 0,
        chunks: Vec::new(),
        settings,
    };
    write(dir, manifest, &chunks, &entries)?.verify()
}

/// A chunk's plan: its subtrees and the range of entries they hold.
type Planned = (Vec<Subtree>, std::ops::Range<usize>);

/// Chunks of whole subtrees over `leaves` (sorted; `sizes` are their
/// entries' bytes): subtrees of at most `limits.leaves` leaves, packed in
/// order while both limits allow.
pub(crate) fn plan(leaves: &[LeafHashes], sizes: &[usize], limits: Limits) -> Vec<Planned> {
    let mut parts: Vec<(Subtree, std::ops::Range<usize>)> = Vec::new();
    split(&[], leaves, 0, limits.leaves.max(1), &mut parts);
    let mut chunks: Vec<Planned> = Vec::new();
    for (subtree, range) in parts {
        let bytes: usize = sizes[range.clone()].iter().sum();
        let fits = chunks.last().is_some_and(|(_, r)| {
            r.len() + range.len() <= limits.leaves
                && sizes[r.clone()].iter().sum::<usize>() + bytes <= limits.bytes
        });
        match chunks.last_mut() {
            Some((subtrees, r)) if fits => {
                subtrees.push(subtree);
                r.end = range.end;
            }
            _ => chunks.push((vec![subtree], range)),
        }
    }
    chunks
}

/// Writes the chunk files and then `manifest` (completed with them) into
/// `dir`, which must not exist or be empty.
pub(crate) fn write(
    dir: &Path,
    mut manifest: Manifest,
    chunks: &[Planned],
    entries: &[([u8; 32], Entry)],
) -> Result<Manifest, SnapshotError> {
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    if fs::read_dir(dir).map_err(io_error(dir))?.next().is_some() {
        return Err(SnapshotError::Refused(format!(
            "{} is not empty",
            dir.display()
        )));
    }
    for (i, (subtrees, range)) in chunks.iter().enumerate() {
        let file = format!("chunk-{i:06}.bin");
        let bytes = encode_chunk(
            manifest.height,
            entries[range.clone()].iter().map(|(_, e)| e),
        );
        write_synced(&dir.join(&file), &bytes)?;
        manifest.bytes += bytes.len() as u64;
        manifest.chunks.push(ChunkInfo {
            file,
            bytes: bytes.len() as u64,
            subtrees: subtrees
                .iter()
                .map(|s| SubtreeInfo {
                    path: nibbles_hex(&s.path),
                    hash: hex0x(s.hash.0),
                    leaves: s.leaves,
                })
                .collect(),
        });
    }
    let text =
        serde_json::to_vec_pretty(&manifest).map_err(|e| SnapshotError::Manifest(e.to_string()))?;
    write_synced(&dir.join(MANIFEST), &text)?;
    Ok(manifest)
}

/// Splits `leaves` (sorted, under `path`, starting at index `offset` of
/// the whole list) into subtrees of at most `max` leaves.
pub(crate) fn split(
    path: &[u8],
    leaves: &[LeafHashes],
    offset: usize,
    max: usize,
    out: &mut Vec<(Subtree, std::ops::Range<usize>)>,
) {
    let depth = path.len();
    if leaves.len() <= max || depth >= 64 {
        if let Some(subtree) = tree::subtree(path, leaves) {
            out.push((subtree, offset..offset + leaves.len()));
        }
        return;
    }
    let mut start = 0;
    for n in 0..16u8 {
        let end = start
            + leaves[start..]
                .iter()
                .take_while(|(key, _)| nibble(key, depth) == n)
                .count();
        if end > start {
            let mut below = path.to_vec();
            below.push(n);
            split(&below, &leaves[start..end], offset + start, max, out);
        }
        start = end;
    }
}

pub(crate) fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), SnapshotError> {
    let mut file = fs::File::create(path).map_err(io_error(path))?;
    file.write_all(bytes).map_err(io_error(path))?;
    file.sync_all().map_err(io_error(path))
}
