//! A read-only view of a database file that redb may still write to.
//!
//! redb writes while it opens a file (it marks the file open, loads or
//! rebuilds its allocator state) and while it checks integrity, and its own
//! read-only handle cannot check integrity at all. [`Overlay`] lets a
//! read-only store use the full `Database`: the file is opened read-only,
//! reads come from it, and every write, resize and sync stays in memory,
//! in 4 KiB blocks, and is dropped with the store. The file cannot change.
//!
//! Locks are taken on the file as a reader's: an exclusive request becomes
//! a shared one, so a writing process excludes this view and this view
//! excludes a writer, while readers share the file.
//!
//! What redb may write is bounded: opening and checking a sound file writes
//! a few pages, but a damaged header can make redb lay out (and write) a
//! database far larger than the file. Past [`Overlay::budget`] bytes of
//! writes, or a length far past the file's, the overlay fails with an I/O
//! error, which the store reports as an error, not by exhausting memory.

use std::{
    collections::BTreeMap,
    fs::File,
    io,
    ops::{Bound, Range},
    sync::{Mutex, MutexGuard},
};

use redb::{BackendError, StorageBackend, backends::FileBackend};

/// The overlay's block size: redb's page size.
const BLOCK: u64 = 4096;

/// How far past the file's own length redb may grow the view.
const MAX_GROWTH: u64 = 1 << 30;

/// A database file seen read-only, with writes kept in memory.
#[derive(Debug)]
pub(super) struct Overlay {
    file: FileBackend,
    view: Mutex<View>,
    /// The file's length when opened.
    original_len: u64,
}

/// What the writes so far have made of the file.
#[derive(Debug)]
struct View {
    /// The length redb sees.
    len: u64,
    /// The file's bytes below this offset are visible where no block was
    /// written; at and above it (after a shrink) everything unwritten
    /// reads as zeros.
    file_visible: u64,
    /// Written blocks, by index.
    blocks: BTreeMap<u64, Box<[u8]>>,
}

impl Overlay {
    /// A view of `file`, which must be open for reading.
    pub(super) fn new(file: File) -> io::Result<Self> {
        let len = file.metadata()?.len();
        let file = FileBackend::new(file).map_err(io::Error::other)?;
        Ok(Overlay {
            file,
            view: Mutex::new(View {
                len,
                file_visible: len,
                blocks: BTreeMap::new(),
            }),
            original_len: len,
        })
    }

    /// The most the overlay holds in memory: 64 MiB, plus an eighth of the
    /// file for large stores (their allocator state is larger).
    pub(super) fn budget(&self) -> u64 {
        (64 << 20) + self.original_len / 8
    }

    fn too_much(what: &str) -> io::Error {
        io::Error::other(format!(
            "{what}: far more than a sound file needs, so the file is damaged"
        ))
    }

    fn view(&self) -> io::Result<MutexGuard<'_, View>> {
        self.view
            .lock()
            .map_err(|_| io::Error::other("the overlay's lock is poisoned"))
    }

    /// Fills `out` with the bytes of block `index` from `start` as the
    /// file shows them (zeros where it does not reach).
    fn read_file_block(
        &self,
        view: &View,
        index: u64,
        start: u64,
        out: &mut [u8],
    ) -> io::Result<()> {
        out.fill(0);
        let offset = index * BLOCK + start;
        let visible = view.file_visible.saturating_sub(offset);
        let from_file = (out.len() as u64).min(visible) as usize;
        if from_file > 0 {
            self.file.read(offset, &mut out[..from_file])?;
        }
        Ok(())
    }
}

/// The blocks that `len` bytes from `offset` cover, in order: each
/// block's index, where in it the bytes start, and which of the `len`
/// bytes lie in it; `past_end` when they end past `view_len`.
fn pieces(
    offset: u64,
    len: usize,
    view_len: u64,
    past_end: &'static str,
) -> io::Result<impl Iterator<Item = (u64, usize, Range<usize>)>> {
    let end = offset
        .checked_add(len as u64)
        .filter(|&end| end <= view_len)
        .ok_or_else(|| io::Error::new(io::ErrorKind::UnexpectedEof, past_end))?;
    let mut at = offset;
    Ok(std::iter::from_fn(move || {
        (at < end).then(|| {
            let (index, start) = (at / BLOCK, at % BLOCK);
            let n = (BLOCK - start).min(end - at);
            let piece = (
                index,
                start as usize,
                (at - offset) as usize..(at - offset + n) as usize,
            );
            at += n;
            piece
        })
    }))
}

impl StorageBackend for Overlay {
    fn len(&self) -> io::Result<u64> {
        Ok(self.view()?.len)
    }

    fn read(&self, offset: u64, out: &mut [u8]) -> io::Result<()> {
        let view = self.view()?;
        for (index, start, range) in pieces(offset, out.len(), view.len, "read past the end")? {
            let dest = &mut out[range];
            match view.blocks.get(&index) {
                Some(block) => dest.copy_from_slice(&block[start..start + dest.len()]),
                None => self.read_file_block(&view, index, start as u64, dest)?,
            }
        }
        Ok(())
    }

    fn set_len(&self, len: u64) -> io::Result<()> {
        if len > self.original_len.saturating_add(MAX_GROWTH) {
            return Err(Overlay::too_much("growing the view"));
        }
        let mut view = self.view()?;
        if len < view.len {
            view.file_visible = view.file_visible.min(len);
            let first_gone = len.div_ceil(BLOCK);
            view.blocks.split_off(&first_gone);
            if let Some(block) = view.blocks.get_mut(&(len / BLOCK)) {
                block[(len % BLOCK) as usize..].fill(0);
            }
        }
        view.len = len;
        Ok(())
    }

    fn sync_data(&self) -> io::Result<()> {
        Ok(())
    }

    fn write(&self, offset: u64, data: &[u8]) -> io::Result<()> {
        let mut view = self.view()?;
        for (index, start, range) in pieces(offset, data.len(), view.len, "write past the end")? {
            if !view.blocks.contains_key(&index) {
                if (view.blocks.len() as u64 + 1) * BLOCK > self.budget() {
                    return Err(Overlay::too_much("writing to the view"));
                }
                let mut block = vec![0; BLOCK as usize].into_boxed_slice();
                self.read_file_block(&view, index, 0, &mut block)?;
                view.blocks.insert(index, block);
            }
            if let Some(block) = view.blocks.get_mut(&index) {
                let src = &data[range];
                block[start..start + src.len()].copy_from_slice(src);
            }
        }
        Ok(())
    }

    fn close(&self) -> io::Result<()> {
        self.file.close()
    }

    fn try_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn try_lock_shared_range(
        &self,
        start: Bound<u64>,
        end: Bound<u64>,
    ) -> Result<bool, BackendError> {
        self.file.try_lock_shared_range(start, end)
    }

    fn lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn lock_shared_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.lock_shared_range(start, end)
    }

    fn unlock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<(), BackendError> {
        self.file.unlock_range(start, end)
    }

    fn query_lock_range(&self, start: Bound<u64>, end: Bound<u64>) -> Result<bool, BackendError> {
        self.file.query_lock_range(start, end)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "test")]

    use std::io::Write;

    use redb::StorageBackend;

    use super::{BLOCK, Overlay};

    /// Writes, shrinks and growths read back as on a real file, and the
    /// file itself never changes.
    #[test]
    fn the_view_behaves_like_a_file_and_the_file_never_changes() {
        let path = std::env::temp_dir().join(format!("ward-overlay-{}", std::process::id()));
        let original: Vec<u8> = (0..3 * BLOCK + 100).map(|i| (i % 251) as u8).collect();
        std::fs::File::create(&path)
            .unwrap()
            .write_all(&original)
            .unwrap();
        let overlay = Overlay::new(std::fs::File::open(&path).unwrap()).unwrap();
        let mut model = original.clone();
        let check = |overlay: &Overlay, model: &[u8]| {
            assert_eq!(overlay.len().unwrap(), model.len() as u64);
            let mut all = vec![0; model.len()];
            overlay.read(0, &mut all).unwrap();
            assert_eq!(all, model);
        };
        // A write across a block boundary.
        overlay.write(BLOCK - 3, &[9; 10]).unwrap();
        model[BLOCK as usize - 3..BLOCK as usize + 7].fill(9);
        check(&overlay, &model);
        // Shrink into the middle of a block, then grow: the tail is zeros.
        overlay.set_len(BLOCK + 5).unwrap();
        model.truncate(BLOCK as usize + 5);
        check(&overlay, &model);
        overlay.set_len(5 * BLOCK).unwrap();
        model.resize(5 * BLOCK as usize, 0);
        check(&overlay, &model);
        overlay.write(4 * BLOCK + 1, &[7; 3]).unwrap();
        model[4 * BLOCK as usize + 1..4 * BLOCK as usize + 4].fill(7);
        check(&overlay, &model);
        // Out of bounds is an error, not a panic.
        assert!(overlay.read(5 * BLOCK - 1, &mut [0; 2]).is_err());
        assert!(overlay.write(u64::MAX, &[0; 2]).is_err());
        // What it holds is bounded: growth far past the file, or more
        // writes than the budget, are errors.
        assert!(overlay.set_len(u64::MAX / 2).is_err());
        let budget = overlay.budget();
        overlay.set_len(budget + 2 * BLOCK).unwrap();
        let mut written = Ok(());
        let mut at = 0;
        while written.is_ok() && at < budget + 2 * BLOCK {
            written = overlay.write(at, &[1]);
            at += BLOCK;
        }
        assert!(written.is_err(), "the budget was not enforced");
        overlay.sync_data().unwrap();
        drop(overlay);
        assert_eq!(std::fs::read(&path).unwrap(), original);
        std::fs::remove_file(&path).unwrap();
    }
}
