//! Restoring a snapshot into an empty store: every chunk checked against
//! the manifest's proofs, the block record and settings against what the
//! caller trusts.

use std::{collections::BTreeMap, fs, path::Path};

use ward_chain::tree::{self, key_hash};
use ward_primitives::Hash32;
use ward_state::{ChangeSet, StateCommit, StateScan, StateTree};

use super::{Manifest, Row, SnapshotError, Verified, hex0x, io_error, row, unhex0x};

/// What a restore takes from outside the snapshot. The chunks prove the
/// state against the block's state root; nothing in the snapshot proves
/// the rest of its block record (its time, its parent, its other roots,
/// and so its hash) or the settings the manifest carries, so a restore
/// checks them against what its caller trusts.
pub struct Trust<'a> {
    /// The hash the snapshot's block must have, as a source the caller
    /// trusts gives it: a cluster's log, a node's `getBlock`, the next
    /// block's parent.
    pub block_hash: Hash32,
    /// Checks the settings the manifest carries (by name, decoded), with
    /// why not; `None`: they are not kept, and whoever opens the store
    /// supplies its settings.
    pub settings: Option<&'a SettingsCheck<'a>>,
}

/// How [`Trust::settings`] checks a manifest's settings.
pub type SettingsCheck<'a> = dyn Fn(&BTreeMap<String, Vec<u8>>) -> Result<(), String> + 'a;

impl Trust<'_> {
    /// Trusts a block hash, and keeps no settings.
    pub fn block(block_hash: Hash32) -> Trust<'static> {
        Trust {
            block_hash,
            settings: None,
        }
    }
}

/// Restores the snapshot in `dir` into `store`, which must hold nothing
/// yet: checks the manifest and every chunk, then commits the tables, the
/// tree at the snapshot's height and its block at once, and checks the
/// stored root. The store then answers reads and proofs at that height as
/// the original did, and takes blocks from the next one on; earlier
/// blocks, transactions and receipts are not in it. The block must hash
/// to `trust.block_hash`, and the settings are kept only when
/// `trust.settings` checks them.
///
/// # Errors
///
/// When the snapshot does not check, is not what `trust` says
/// ([`SnapshotError::Untrusted`]), a file cannot be read, the store is
/// not empty, or it fails.
pub fn restore<S: StateCommit + StateScan>(
    dir: &Path,
    store: &S,
    trust: &Trust<'_>,
) -> Result<Verified, SnapshotError> {
    let verified = Manifest::read(dir)?.verify()?;
    let settings = trusted_settings(&verified, trust)?;
    let (height, existing) = store.whole_state()?;
    if height != 0 || existing != ChangeSet::default() {
        return Err(SnapshotError::Refused(
            "a snapshot restores into an empty store only".into(),
        ));
    }
    let mut changes = ChangeSet::default();
    let mut leaves: BTreeMap<Hash32, Vec<u8>> = BTreeMap::new();
    for (index, info) in verified.manifest.chunks.iter().enumerate() {
        let path = dir.join(&info.file);
        let bytes = fs::read(&path).map_err(io_error(&path))?;
        for entry in verified.chunk(index, &bytes)? {
            match row(&entry).map_err(|message| SnapshotError::Chunk { index, message })? {
                Row::Code(hash, code) => {
                    changes.code.insert(hash, code);
                }
                Row::Contract(address, info) => {
                    changes.contracts.insert(address, info);
                }
                Row::Storage(address, key, value) => {
                    changes.storage.insert((address, key), Some(value));
                }
                Row::Nonce(account, nonce) => {
                    changes.nonces.insert(account, nonce);
                }
                Row::Balance(address, balance) => {
                    changes.balances.insert(address, balance);
                }
            }
            leaves.insert(key_hash(&entry.key), entry.value);
        }
    }
    let height = verified.height();
    let update = tree::build(height, leaves.into_iter().collect())
        .ok_or_else(|| SnapshotError::Refused("repeated keys across chunks".into()))?;
    if update.root != verified.state_root() {
        return Err(SnapshotError::Refused(format!(
            "the restored tree's root {} is not the block's",
            hex0x(update.root.0)
        )));
    }
    changes.tree = update;
    changes.block = Some(verified.block.clone());
    changes.settings = settings;
    store.commit(changes)?;
    let stored = tree::root(&StateTree(store), height)
        .map_err(|e| SnapshotError::Refused(format!("the restored tree: {e}")))?;
    if stored != verified.state_root() {
        return Err(SnapshotError::Refused(format!(
            "the store's root after restoring is {}, not the block's",
            hex0x(stored.0)
        )));
    }
    Ok(verified)
}

/// The settings a restore keeps (the manifest's, once `trust` checked
/// them, or none), after checking the block against the trusted hash.
pub(crate) fn trusted_settings(
    verified: &Verified,
    trust: &Trust<'_>,
) -> Result<BTreeMap<String, Vec<u8>>, SnapshotError> {
    let found = verified.block_hash();
    if found != trust.block_hash {
        return Err(SnapshotError::Untrusted(format!(
            "its block {} hashes to {}, and the trusted hash is {}",
            verified.height(),
            hex0x(found.0),
            hex0x(trust.block_hash.0)
        )));
    }
    let Some(check) = trust.settings else {
        return Ok(BTreeMap::new());
    };
    let mut settings = BTreeMap::new();
    for (name, value) in &verified.manifest.settings {
        let bytes = unhex0x(value)
            .map_err(|e| SnapshotError::Manifest(format!("setting {name:?}: {e}")))?;
        settings.insert(name.clone(), bytes);
    }
    check(&settings).map_err(SnapshotError::Untrusted)?;
    Ok(settings)
}
