//! Guest memory as WASI reads and writes it: little-endian fields at
//! unsigned 32-bit offsets, any range past the end `fault`.

use std::ops::Range;

use crate::Errno;

/// The range `[ptr, ptr + len)` of a memory `size` bytes long.
pub(crate) fn range(ptr: u32, len: u32, size: usize) -> Result<Range<usize>, Errno> {
    let start = u64::from(ptr);
    let end = start + u64::from(len);
    if end > size as u64 {
        return Err(Errno::Fault);
    }
    Ok(start as usize..end as usize)
}

/// Reads and writes fields of guest memory.
pub(crate) struct Mem<'a>(pub(crate) &'a mut [u8]);

impl Mem<'_> {
    pub(crate) fn bytes(&self, ptr: u32, len: u32) -> Result<&[u8], Errno> {
        let r = range(ptr, len, self.0.len())?;
        Ok(&self.0[r])
    }

    pub(crate) fn bytes_mut(&mut self, ptr: u32, len: u32) -> Result<&mut [u8], Errno> {
        let r = range(ptr, len, self.0.len())?;
        Ok(&mut self.0[r])
    }

    pub(crate) fn write(&mut self, ptr: u32, data: &[u8]) -> Result<(), Errno> {
        let len = u32::try_from(data.len()).map_err(|_| Errno::Fault)?;
        self.bytes_mut(ptr, len)?.copy_from_slice(data);
        Ok(())
    }

    pub(crate) fn u16(&self, ptr: u32) -> Result<u16, Errno> {
        let mut b = [0; 2];
        b.copy_from_slice(self.bytes(ptr, 2)?);
        Ok(u16::from_le_bytes(b))
    }

    pub(crate) fn u32(&self, ptr: u32) -> Result<u32, Errno> {
        let mut b = [0; 4];
        b.copy_from_slice(self.bytes(ptr, 4)?);
        Ok(u32::from_le_bytes(b))
    }

    pub(crate) fn u64(&self, ptr: u32) -> Result<u64, Errno> {
        let mut b = [0; 8];
        b.copy_from_slice(self.bytes(ptr, 8)?);
        Ok(u64::from_le_bytes(b))
    }

    pub(crate) fn put_u32(&mut self, ptr: u32, v: u32) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    pub(crate) fn put_u64(&mut self, ptr: u32, v: u64) -> Result<(), Errno> {
        self.write(ptr, &v.to_le_bytes())
    }

    /// The I/O vectors at `iovs` (`count` of them): each buffer's range,
    /// checked.
    pub(crate) fn iovecs(&self, iovs: u32, count: u32) -> Result<Vec<Range<usize>>, Errno> {
        let table = range(
            iovs,
            count.checked_mul(8).ok_or(Errno::Fault)?,
            self.0.len(),
        )?;
        let mut out = Vec::with_capacity(count as usize);
        for at in table.step_by(8) {
            let at = at as u32;
            let (ptr, len) = (self.u32(at)?, self.u32(at + 4)?);
            out.push(range(ptr, len, self.0.len())?);
        }
        Ok(out)
    }
}
