//! The disk cache of compiled artifacts.
//!
//! One file per [`CacheKey`], named by the key's digest, in one directory:
//!
//! ```text
//! magic      8 bytes   "WARDMOD\0"
//! version    u32 LE    FORMAT_VERSION
//! key_len    u32 LE
//! key        key_len   CacheKey::encode()
//! metering   u8        0 instrumented, 1 self-metered, 2 none
//! flags      u8        bit 0: has a start function, bit 1: recyclable
//! instance   u64 LE    the gas an instance costs (`Module::instance_gas`)
//! len        u64 LE    artifact length
//! checksum   32 bytes  BLAKE3 of every byte above and the artifact
//! artifact   len       Backend::serialize()
//! ```
//!
//! Files are written to a temporary name and renamed into place, so a
//! reader sees a whole file or none. A file is trusted only when its length,
//! magic, version, full key and checksum all match; anything else
//! (truncation, a flipped bit, a file swapped from another key, another
//! format or engine version) is reported as refused, and the cache deletes
//! it and recompiles. The directory is kept under a byte budget by deleting
//! the oldest files (by modification time) after each write.

use std::{
    fs,
    io::{self, Write},
    path::PathBuf,
    sync::atomic::{AtomicU64, Ordering},
};

use crate::{Metering, cache::CacheKey, cache::hex};

const MAGIC: &[u8; 8] = b"WARDMOD\0";
const FORMAT_VERSION: u32 = 3;
const EXTENSION: &str = "wmod";
/// What an artifact made elsewhere is called when it is dropped into a
/// cache's directory to be imported (`ward compile -o NAME.cwasm`).
pub(crate) const DROPPED_EXTENSION: &str = "cwasm";
/// Longest key encoding accepted (the engine fingerprint is short).
const MAX_KEY_BYTES: u32 = 4096;

/// An artifact and what Ward knows about its module.
pub(crate) struct Stored {
    /// The artifact, or (after a load) the whole file...
    pub bytes: Vec<u8>,
    /// ...and where in it the artifact starts.
    pub start: usize,
    pub metering: Metering,
    pub has_start: bool,
    pub recyclable: bool,
    pub instance_gas: u64,
}

impl Stored {
    pub(crate) fn artifact(&self) -> &[u8] {
        self.bytes.get(self.start..).unwrap_or_default()
    }
}

/// A directory of compiled artifacts, bounded in bytes.
pub(crate) struct DiskCache {
    dir: PathBuf,
    max_bytes: u64,
    temp_counter: AtomicU64,
}

fn metering_byte(m: Metering) -> u8 {
    match m {
        Metering::Instrumented => 0,
        Metering::SelfMetered => 1,
        Metering::None => 2,
    }
}

fn metering_from_byte(b: u8) -> Option<Metering> {
    match b {
        0 => Some(Metering::Instrumented),
        1 => Some(Metering::SelfMetered),
        2 => Some(Metering::None),
        _ => None,
    }
}

impl DiskCache {
    /// The cache in `dir`, which is created if it is missing.
    pub(crate) fn open(dir: PathBuf, max_bytes: u64) -> io::Result<Self> {
        fs::create_dir_all(&dir)?;
        Self::existing(dir, max_bytes)
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotADirectory, "not a directory"))
    }

    /// The cache in `dir` if the directory exists, for reading only:
    /// nothing is created.
    pub(crate) fn existing(dir: PathBuf, max_bytes: u64) -> Option<Self> {
        dir.is_dir().then(|| DiskCache {
            dir,
            max_bytes,
            temp_counter: AtomicU64::new(0),
        })
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(format!("{}.{EXTENSION}", hex(&key.digest())))
    }

    /// `Ok(None)` when there is no file; `Err(reason)` when there is one
    /// that cannot be trusted.
    pub(crate) fn load(&self, key: &CacheKey) -> Result<Option<Stored>, String> {
        let bytes = match fs::read(self.path(key)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("unreadable: {e}")),
        };
        let (start, metering, flags, instance_gas) = decode(&bytes, &key.encode())?;
        Ok(Some(Stored {
            bytes,
            start,
            metering,
            has_start: flags & 1 != 0,
            recyclable: flags & 2 != 0,
            instance_gas,
        }))
    }

    /// Writes atomically (temporary file, then rename), then trims the
    /// directory to its budget.
    pub(crate) fn store(&self, key: &CacheKey, stored: &Stored) -> io::Result<()> {
        self.install(key, &encode(&key.encode(), stored))
    }

    /// Writes a whole file, already encoded for `key`, as [`DiskCache::store`]
    /// does.
    pub(crate) fn install(&self, key: &CacheKey, bytes: &[u8]) -> io::Result<()> {
        let n = self.temp_counter.fetch_add(1, Ordering::Relaxed);
        let temp = self.dir.join(format!(
            ".tmp-{}-{n}-{}",
            std::process::id(),
            hex(&key.digest()[..8])
        ));
        let written = (|| {
            let mut file = fs::File::create(&temp)?;
            file.write_all(bytes)?;
            file.sync_all()?;
            fs::rename(&temp, self.path(key))
        })();
        if written.is_err() {
            let _ = fs::remove_file(&temp);
        }
        written?;
        self.trim();
        Ok(())
    }

    /// The `*.cwasm` files dropped into the directory (`ward compile`'s
    /// output), to import.
    pub(crate) fn dropped(&self) -> Vec<PathBuf> {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return Vec::new();
        };
        let mut found: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == DROPPED_EXTENSION))
            .collect();
        found.sort();
        found
    }

    pub(crate) fn remove(&self, key: &CacheKey) {
        let _ = fs::remove_file(self.path(key));
    }

    /// Deletes the oldest artifacts until the directory is within budget.
    fn trim(&self) {
        let Ok(entries) = fs::read_dir(&self.dir) else {
            return;
        };
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter(|e| e.path().extension().is_some_and(|x| x == EXTENSION))
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                Some((meta.modified().ok()?, meta.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|f| f.1).sum();
        if total <= self.max_bytes {
            return;
        }
        files.sort();
        for (_, len, path) in files {
            if total <= self.max_bytes {
                break;
            }
            if fs::remove_file(&path).is_ok() {
                total = total.saturating_sub(len);
            }
        }
    }
}

pub(crate) fn encode(key: &[u8], stored: &Stored) -> Vec<u8> {
    let artifact = stored.artifact();
    let mut out = Vec::with_capacity(64 + key.len() + artifact.len());
    out.extend(MAGIC);
    out.extend(FORMAT_VERSION.to_le_bytes());
    out.extend((key.len() as u32).to_le_bytes());
    out.extend(key);
    out.push(metering_byte(stored.metering));
    out.push(u8::from(stored.has_start) | (u8::from(stored.recyclable) << 1));
    out.extend(stored.instance_gas.to_le_bytes());
    out.extend((artifact.len() as u64).to_le_bytes());
    let mut hasher = blake3::Hasher::new();
    hasher.update(&out);
    hasher.update(artifact);
    out.extend(hasher.finalize().as_bytes());
    out.extend(artifact);
    out
}

/// Reads a little-endian field, or says the file is too short.
fn take<'b>(bytes: &mut &'b [u8], n: usize) -> Result<&'b [u8], String> {
    if bytes.len() < n {
        return Err("truncated".into());
    }
    let (head, rest) = bytes.split_at(n);
    *bytes = rest;
    Ok(head)
}

/// Where a file's artifact starts, and what its header says about the
/// module: metering, flags, an instance's gas.
type Header = (usize, Metering, u8, u64);

/// Checks a whole file; returns where its artifact starts and what the
/// header says about the module.
fn decode(file: &[u8], expected_key: &[u8]) -> Result<Header, String> {
    let (key, checked) = decode_any(file)?;
    if key != expected_key {
        return Err("stored for another key (code, config, engine or schedule)".into());
    }
    Ok(checked)
}

/// Checks a whole file made for any key (an artifact to import): its
/// format, its length and its checksum. Returns the key it was made for,
/// with what [`decode`] returns.
pub(crate) fn decode_any(file: &[u8]) -> Result<(&[u8], Header), String> {
    let mut rest = file;
    if take(&mut rest, 8)? != MAGIC {
        return Err("not a Ward artifact".into());
    }
    let version = u32::from_le_bytes(take(&mut rest, 4)?.try_into().map_err(|_| "truncated")?);
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, expected {FORMAT_VERSION}"
        ));
    }
    let key_len = u32::from_le_bytes(take(&mut rest, 4)?.try_into().map_err(|_| "truncated")?);
    if key_len > MAX_KEY_BYTES {
        return Err("key too long".into());
    }
    let key = take(&mut rest, key_len as usize)?;
    let metering = metering_from_byte(take(&mut rest, 1)?[0]).ok_or("bad metering byte")?;
    let flags = take(&mut rest, 1)?[0];
    if flags > 3 {
        return Err("bad flags byte".into());
    }
    let instance_gas = u64::from_le_bytes(take(&mut rest, 8)?.try_into().map_err(|_| "truncated")?);
    let len = u64::from_le_bytes(take(&mut rest, 8)?.try_into().map_err(|_| "truncated")?);
    let header_len = file.len() - rest.len();
    let checksum = take(&mut rest, 32)?;
    if rest.len() as u64 != len {
        return Err(format!(
            "artifact is {} bytes, header says {len}",
            rest.len()
        ));
    }
    let mut hasher = blake3::Hasher::new();
    hasher.update(&file[..header_len]);
    hasher.update(rest);
    if hasher.finalize().as_bytes() != checksum {
        return Err("checksum mismatch".into());
    }
    Ok((
        key,
        (file.len() - rest.len(), metering, flags, instance_gas),
    ))
}
