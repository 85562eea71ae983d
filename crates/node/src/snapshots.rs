//! The node's snapshots: taken every `--snapshot-interval` blocks on a
//! thread of their own, kept in `DATA_DIR/snapshots/HEIGHT/` (the last
//! `--snapshot-keep`), and served over HTTP (`GET /snapshots`,
//! `/snapshots/HEIGHT/manifest`, `/snapshots/HEIGHT/chunks/INDEX`).
//!
//! A snapshot is written into a hidden directory and renamed into place
//! once its manifest is written, and one that expires is renamed aside
//! (hidden again) before it is deleted, so a crash never leaves a visible
//! snapshot half-written or half-deleted; hidden ones are removed at the
//! next start, and a snapshot is listed only when every chunk its
//! manifest names is there with its size.

use std::{
    fs,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    thread::JoinHandle,
};

use ward_snapshot::{Limits, MANIFEST, Manifest};
use ward_state::RedbStore;

use crate::sync::lock;

/// A snapshot the node holds, as `GET /snapshots` lists it.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub(crate) struct Listed {
    /// The block after which the state is taken.
    pub(crate) height: u64,
    /// That block's state root.
    pub(crate) state_root: String,
    /// Leaves of the state tree.
    pub(crate) leaves: u64,
    /// Chunks.
    pub(crate) chunks: usize,
    /// Bytes of all chunks.
    pub(crate) bytes: u64,
}

impl Listed {
    fn of(manifest: &Manifest) -> Self {
        Listed {
            height: manifest.height,
            state_root: manifest.state_root.clone(),
            leaves: manifest.leaves,
            chunks: manifest.chunks.len(),
            bytes: manifest.bytes,
        }
    }
}

/// The snapshots of one data directory.
pub(crate) struct Snapshots {
    dir: PathBuf,
    interval: u64,
    keep: usize,
    /// Newest last.
    held: Mutex<Vec<(Listed, Manifest)>>,
    busy: Arc<AtomicBool>,
    taking: Mutex<Option<JoinHandle<()>>>,
    /// Tells others what is held (a replica's advert in etcd), after each
    /// change.
    advertiser: Mutex<Option<Advertiser>>,
}

/// Why the snapshot in `path` cannot be served whole, if it cannot: a
/// chunk its manifest names is missing or not of the size it says.
fn incomplete(path: &Path, manifest: &Manifest) -> Option<String> {
    manifest
        .chunks
        .iter()
        .find_map(|chunk| match fs::metadata(path.join(&chunk.file)) {
            Ok(meta) if meta.is_file() && meta.len() == chunk.bytes => None,
            Ok(meta) => Some(format!(
                "{} holds {} bytes, not {}",
                chunk.file,
                meta.len(),
                chunk.bytes
            )),
            Err(e) => Some(format!("{}: {e}", chunk.file)),
        })
}

/// Deletes the snapshot of `height` in `dir`: renamed aside first, so
/// that a crash part way leaves a hidden directory (removed at the next
/// start), never a listed snapshot with chunks missing.
fn remove(dir: &Path, height: u64) {
    let place = dir.join(height.to_string());
    let aside = dir.join(format!(".gone-{height}"));
    let _ = fs::remove_dir_all(&aside);
    match fs::rename(&place, &aside) {
        Ok(()) => {
            let _ = fs::remove_dir_all(&aside);
        }
        Err(e) => tracing::warn!(error = %e, height, "an expired snapshot was not removed"),
    }
}

/// What [`Snapshots::advertise_with`] takes.
pub(crate) type Advertiser = Box<dyn Fn(&[Listed]) + Send>;

impl Snapshots {
    /// The snapshots in `data_dir`, taken every `interval` blocks (never
    /// when 0), the newest `keep` kept. Hidden ones (half-written, or
    /// renamed aside to be deleted) are removed, and so is one with a
    /// chunk missing or of the wrong size; one whose manifest does not
    /// check is left alone and not served.
    pub(crate) fn open(data_dir: &Path, interval: u64, keep: usize) -> std::io::Result<Snapshots> {
        let dir = data_dir.join("snapshots");
        let mut held = Vec::new();
        if dir.is_dir() {
            for entry in fs::read_dir(&dir)? {
                let path = entry?.path();
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
                if name.starts_with('.') {
                    let _ = fs::remove_dir_all(&path);
                    continue;
                }
                match Manifest::read(&path).and_then(|m| m.verify().map(|_| m)) {
                    Ok(manifest) if name == manifest.height.to_string() => {
                        match incomplete(&path, &manifest) {
                            None => held.push((Listed::of(&manifest), manifest)),
                            Some(why) => {
                                tracing::warn!(path = %path.display(), %why, "an incomplete snapshot: removed");
                                remove(&dir, manifest.height);
                            }
                        }
                    }
                    Ok(_) | Err(_) => {
                        tracing::warn!(path = %path.display(), "not a snapshot: not served");
                    }
                }
            }
        }
        held.sort_by_key(|(listed, _)| listed.height);
        Ok(Snapshots {
            dir,
            interval,
            keep: keep.max(1),
            held: Mutex::new(held),
            busy: Arc::new(AtomicBool::new(false)),
            taking: Mutex::new(None),
            advertiser: Mutex::new(None),
        })
    }

    /// Advertises what is held with `advertiser`, now and after every
    /// change.
    #[cfg_attr(
        not(feature = "etcd"),
        allow(
            dead_code,
            reason = "replicas advertise; a build without etcd has none"
        )
    )]
    pub(crate) fn advertise_with(&self, advertiser: Advertiser) {
        advertiser(&self.list());
        *lock(&self.advertiser) = Some(advertiser);
    }

    /// The snapshots held, oldest first.
    pub(crate) fn list(&self) -> Vec<Listed> {
        lock(&self.held).iter().map(|(l, _)| l.clone()).collect()
    }

    /// The manifest of the snapshot at `height`, if held.
    pub(crate) fn manifest(&self, height: u64) -> Option<Manifest> {
        lock(&self.held)
            .iter()
            .find(|(l, _)| l.height == height)
            .map(|(_, m)| m.clone())
    }

    /// The file of chunk `index` of the snapshot at `height`, if held.
    pub(crate) fn chunk_path(&self, height: u64, index: usize) -> Option<PathBuf> {
        let manifest = self.manifest(height)?;
        let chunk = manifest.chunks.get(index)?;
        Some(self.dir.join(height.to_string()).join(&chunk.file))
    }

    /// After block `height` is committed: starts a snapshot when one is
    /// due and none is being taken.
    pub(crate) fn after_commit(self: &Arc<Self>, store: &Arc<RedbStore>, height: u64) {
        if self.interval == 0 || !height.is_multiple_of(self.interval) {
            return;
        }
        if self.busy.swap(true, Ordering::AcqRel) {
            tracing::warn!(
                height,
                "a snapshot is still being taken: this one is skipped"
            );
            return;
        }
        let (me, store) = (self.clone(), store.clone());
        let spawned = std::thread::Builder::new()
            .name("ward-snapshot".into())
            .spawn(move || {
                me.take(&store);
                me.busy.store(false, Ordering::Release);
            });
        match spawned {
            Ok(handle) => {
                if let Some(done) = lock(&self.taking).replace(handle) {
                    let _ = done.join();
                }
            }
            Err(e) => {
                self.busy.store(false, Ordering::Release);
                tracing::error!(error = %e, "cannot start the snapshot thread");
            }
        }
    }

    /// Takes a snapshot of the store's latest block and keeps the newest.
    fn take(&self, store: &RedbStore) {
        let started = ward_vm::clock::now();
        let scratch = self.dir.join(format!(".taking-{}", std::process::id()));
        let _ = fs::remove_dir_all(&scratch);
        let made = ward_snapshot::create(store, None, &scratch, Limits::default());
        let manifest = match made {
            Ok(verified) => verified.manifest,
            Err(e) => {
                let _ = fs::remove_dir_all(&scratch);
                tracing::error!(error = %e, "snapshot failed");
                return;
            }
        };
        let place = self.dir.join(manifest.height.to_string());
        if place.join(MANIFEST).exists() {
            let _ = fs::remove_dir_all(&scratch);
            return;
        }
        let _ = fs::remove_dir_all(&place);
        if let Err(e) = fs::rename(&scratch, &place) {
            let _ = fs::remove_dir_all(&scratch);
            tracing::error!(error = %e, "snapshot failed");
            return;
        }
        tracing::info!(
            height = manifest.height,
            leaves = manifest.leaves,
            chunks = manifest.chunks.len(),
            bytes = manifest.bytes,
            ms = (ward_vm::clock::now() - started).as_millis() as u64,
            "snapshot taken"
        );
        let (list, gone) = {
            let mut held = lock(&self.held);
            held.push((Listed::of(&manifest), manifest));
            held.sort_by_key(|(listed, _)| listed.height);
            let excess = held.len().saturating_sub(self.keep);
            let gone: Vec<u64> = held.drain(..excess).map(|(l, _)| l.height).collect();
            (
                held.iter().map(|(l, _)| l.clone()).collect::<Vec<_>>(),
                gone,
            )
        };
        // Advertised before the old ones go: a joiner may be fetching them.
        if let Some(advertise) = lock(&self.advertiser).as_ref() {
            advertise(&list);
        }
        for height in gone {
            remove(&self.dir, height);
        }
    }

    /// Waits for a snapshot being taken (at shutdown).
    pub(crate) fn finish(&self) {
        if let Some(handle) = lock(&self.taking).take() {
            let _ = handle.join();
        }
    }
}
