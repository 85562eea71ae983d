//! A guest's memory as a host function sees it.

use std::ops::{Deref, Index, IndexMut, Range};

/// A guest's memory in a host function: read anywhere (it derefs to the
/// bytes), written only through `memory[range]` as a place (or
/// [`GuestMemory::all_mut`]), which marks the granules written in the same
/// bitmap as the instrumentation's ([`ward_instrument::DIRTY_EXPORT`]). A
/// recycled instance is restored from those marks alone, so a write that
/// did not go through here would leak into the next call: there is no
/// other way to the bytes.
#[derive(Debug)]
pub struct GuestMemory<'m> {
    bytes: &'m mut [u8],
    written: u64,
}

impl<'m> GuestMemory<'m> {
    /// `bytes`, nothing written yet.
    pub fn new(bytes: &'m mut [u8]) -> Self {
        GuestMemory { bytes, written: 0 }
    }

    /// The granules written through this view, as a bitmap over
    /// [`ward_instrument::dirty_shift`] of the memory's size.
    pub fn written(&self) -> u64 {
        self.written
    }

    /// All the bytes, to write anywhere (a WASI call, an embedder's host
    /// function): every granule is marked.
    pub fn all_mut(&mut self) -> &mut [u8] {
        self.written = u64::MAX;
        self.bytes
    }

    /// Marks bytes `range` written. A granule past the bitmap's 64 can
    /// only be in a memory that grew, which is never recycled: every bit
    /// is set then.
    fn mark(&mut self, range: &Range<usize>) {
        if range.start >= range.end {
            return;
        }
        let shift = ward_instrument::dirty_shift(self.bytes.len() as u64);
        let (first, last) = (range.start >> shift, (range.end - 1) >> shift);
        self.written |= if last >= 64 {
            u64::MAX
        } else {
            // Bits `first..=last`.
            (u64::MAX >> (63 - last)) & (u64::MAX << first)
        };
    }
}

impl Deref for GuestMemory<'_> {
    type Target = [u8];

    fn deref(&self) -> &[u8] {
        self.bytes
    }
}

impl Index<Range<usize>> for GuestMemory<'_> {
    type Output = [u8];

    fn index(&self, range: Range<usize>) -> &[u8] {
        &self.bytes[range]
    }
}

impl IndexMut<Range<usize>> for GuestMemory<'_> {
    /// The bytes `range`, marked written. Panics out of bounds, as a
    /// slice does (host functions check their ranges first).
    fn index_mut(&mut self, range: Range<usize>) -> &mut [u8] {
        self.mark(&range);
        &mut self.bytes[range]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_mark_their_granules_and_reads_mark_nothing() {
        // 128 KiB: 4 KiB granules, 32 of them.
        let mut bytes = vec![0u8; 128 * 1024];
        let mut memory = GuestMemory::new(&mut bytes);
        assert_eq!(memory[0..8].len(), 8);
        assert_eq!(memory.len(), 128 * 1024);
        assert_eq!(memory.written(), 0);
        memory[4095..4097].copy_from_slice(&[1, 2]);
        assert_eq!(memory.written(), 0b11);
        memory[5 * 4096..5 * 4096].copy_from_slice(&[]);
        assert_eq!(memory.written(), 0b11, "an empty range writes nothing");
        memory[31 * 4096 + 5..32 * 4096].fill(7);
        assert_eq!(memory.written(), 0b11 | 1 << 31);
        memory.all_mut()[0] = 1;
        assert_eq!(memory.written(), u64::MAX);
        // 8 MiB: 128 KiB granules; the last byte is in the 64th.
        let mut big = vec![0u8; 8 << 20];
        let mut memory = GuestMemory::new(&mut big);
        let end = memory.len();
        memory[end - 1..end][0] = 1;
        assert_eq!(memory.written(), 1 << 63);
    }
}
