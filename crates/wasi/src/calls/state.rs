//! What the functions of WASI preview 1 do to a program's state: its
//! clocks, its descriptor table with their rights and positions, reads and
//! writes of files and pipes, directories, paths and polling.

use super::*;

impl Wasi {
    /// Reads clock `id`: realtime is fixed, the others advance.
    pub(super) fn clock(&mut self, id: u32) -> Result<u64, Errno> {
        clock_id(id)?;
        if id == CLOCKID_REALTIME {
            return Ok(self.fs.now);
        }
        self.monotonic += CLOCK_STEP_NANOS;
        Ok(self.monotonic)
    }

    pub(super) fn fd(&self, fd: u32) -> Result<&Fd, Errno> {
        self.fds.get(&fd).ok_or(Errno::Badf)
    }

    /// Descriptor `fd`, which must hold `rights` (`notcapable` otherwise).
    pub(super) fn can(&self, fd: u32, rights: u64) -> Result<&Fd, Errno> {
        let entry = self.fd(fd)?;
        if entry.base & rights != rights {
            return Err(Errno::Notcapable);
        }
        Ok(entry)
    }

    pub(super) fn fd_mut(&mut self, fd: u32) -> Result<&mut Fd, Errno> {
        self.fds.get_mut(&fd).ok_or(Errno::Badf)
    }

    /// A regular file's descriptor: its inode and position. A directory
    /// is `isdir`, a stream `spipe`.
    pub(super) fn file(&self, fd: u32) -> Result<(Ino, u64), Errno> {
        match &self.fd(fd)?.kind {
            FdKind::File { ino, pos } => Ok((*ino, *pos)),
            FdKind::Dir { .. } => Err(Errno::Isdir),
            _ => Err(Errno::Badf),
        }
    }

    /// [`Wasi::file`] for positional I/O, where a stream is `spipe`.
    pub(super) fn file_or_pipe(&self, fd: u32) -> Result<(Ino, u64), Errno> {
        match &self.fd(fd)?.kind {
            FdKind::Stdin | FdKind::Stdout | FdKind::Stderr => Err(Errno::Spipe),
            _ => self.file(fd),
        }
    }

    /// A directory's descriptor: its inode. Anything else is `notdir`.
    pub(super) fn dir(&self, fd: u32) -> Result<Ino, Errno> {
        match &self.fd(fd)?.kind {
            FdKind::Dir { ino, .. } => Ok(*ino),
            _ => Err(Errno::Notdir),
        }
    }

    /// The inode a descriptor has open (streams have none: `badf`).
    pub(super) fn node_of(&self, fd: u32) -> Result<Ino, Errno> {
        match &self.fd(fd)?.kind {
            FdKind::File { ino, .. } | FdKind::Dir { ino, .. } => Ok(*ino),
            _ => Err(Errno::Badf),
        }
    }

    pub(super) fn preopen_name(&self, fd: u32) -> Result<&[u8], Errno> {
        match &self.fd(fd)?.kind {
            FdKind::Dir {
                preopen: Some(name),
                ..
            } => Ok(name),
            _ => Err(Errno::Badf),
        }
    }

    /// Resolves the path at `ptr`, `len` beneath directory descriptor `fd`.
    pub(super) fn path(
        &self,
        fd: u32,
        ptr: u32,
        len: u32,
        follow: bool,
        m: &Mem<'_>,
    ) -> Result<Found, Errno> {
        let dir = self.dir(fd)?;
        let path = m.bytes(ptr, len)?;
        self.fs.resolve(dir, path, follow)
    }

    pub(super) fn close(&mut self, fd: u32) -> Result<(), Errno> {
        let closed = self.fds.remove(&fd).ok_or(Errno::Badf)?;
        self.release(&closed);
        Ok(())
    }

    /// Lets go of what a closed descriptor held open.
    pub(super) fn release(&mut self, closed: &Fd) {
        if let FdKind::File { ino, .. } | FdKind::Dir { ino, .. } = &closed.kind {
            if let Ok(node) = self.fs.node_mut(*ino) {
                node.open = node.open.saturating_sub(1);
            }
            self.fs.collect(*ino);
        }
    }

    /// The lowest free descriptor number, for a new descriptor.
    pub(super) fn insert(&mut self, fd: Fd) -> Result<u32, Errno> {
        if self.fds.len() >= self.limits.max_fds {
            return Err(Errno::Mfile);
        }
        let mut n = 0u32;
        for &used in self.fds.keys() {
            if used != n {
                break;
            }
            n += 1;
        }
        if let FdKind::File { ino, .. } | FdKind::Dir { ino, .. } = &fd.kind {
            self.fs.node_mut(*ino)?.open += 1;
        }
        self.fds.insert(n, fd);
        Ok(n)
    }

    pub(super) fn renumber(&mut self, from: u32, to: u32) -> Result<(), Errno> {
        self.fd(from)?;
        self.fd(to)?;
        if from == to {
            return Ok(());
        }
        let moved = self.fds.remove(&from).ok_or(Errno::Badf)?;
        if let Some(old) = self.fds.insert(to, moved) {
            self.release(&old);
        }
        Ok(())
    }

    pub(super) fn fdstat<S>(&self, fd: u32, ptr: u32, m: &mut Mem<'_>) -> Done<S> {
        let fd = self.fd(fd)?;
        let filetype = match &fd.kind {
            FdKind::Stdin | FdKind::Stdout | FdKind::Stderr => FILETYPE_CHARACTER_DEVICE,
            FdKind::File { .. } => FILETYPE_REGULAR_FILE,
            FdKind::Dir { .. } => FILETYPE_DIRECTORY,
        };
        let (base, inheriting) = (fd.base, fd.inheriting);
        let mut out = [0u8; FDSTAT_SIZE as usize];
        out[0] = filetype;
        out[2..4].copy_from_slice(&fd.flags.to_le_bytes());
        out[8..16].copy_from_slice(&base.to_le_bytes());
        out[16..24].copy_from_slice(&inheriting.to_le_bytes());
        Ok(m.write(ptr, &out)?)
    }

    pub(super) fn fd_filestat<S>(&self, fd: u32, ptr: u32, m: &mut Mem<'_>) -> Done<S> {
        match &self.fd(fd)?.kind {
            FdKind::File { ino, .. } | FdKind::Dir { ino, .. } => self.filestat(*ino, ptr, m),
            _ => {
                let mut out = [0u8; FILESTAT_SIZE as usize];
                out[16] = FILETYPE_CHARACTER_DEVICE;
                Ok(m.write(ptr, &out)?)
            }
        }
    }

    pub(super) fn filestat<S>(&self, ino: Ino, ptr: u32, m: &mut Mem<'_>) -> Done<S> {
        let node = self.fs.node(ino)?;
        let mut out = [0u8; FILESTAT_SIZE as usize];
        out[0..8].copy_from_slice(&1u64.to_le_bytes());
        out[8..16].copy_from_slice(&ino.to_le_bytes());
        out[16] = node.filetype();
        out[24..32].copy_from_slice(&node.nlink.to_le_bytes());
        out[32..40].copy_from_slice(&node.size().to_le_bytes());
        out[40..48].copy_from_slice(&node.atim.to_le_bytes());
        out[48..56].copy_from_slice(&node.mtim.to_le_bytes());
        out[56..64].copy_from_slice(&node.ctim.to_le_bytes());
        Ok(m.write(ptr, &out)?)
    }

    pub(super) fn set_times<S>(&mut self, ino: Ino, atim: u64, mtim: u64, flags: u32) -> Done<S> {
        let flags = u16::try_from(flags).map_err(|_| Errno::Inval)?;
        let (a, a_now, mt, m_now) = (
            flags & FSTFLAGS_ATIM != 0,
            flags & FSTFLAGS_ATIM_NOW != 0,
            flags & FSTFLAGS_MTIM != 0,
            flags & FSTFLAGS_MTIM_NOW != 0,
        );
        if (a && a_now) || (mt && m_now) || flags & !0xf != 0 {
            return Err(Errno::Inval.into());
        }
        let now = self.fs.now;
        let node = self.fs.node_mut(ino)?;
        if a || a_now {
            node.atim = if a_now { now } else { atim };
        }
        if mt || m_now {
            node.mtim = if m_now { now } else { mtim };
        }
        node.ctim = now;
        Ok(())
    }

    pub(super) fn data_mut(&mut self, ino: Ino) -> Result<&mut Vec<u8>, Errno> {
        match &mut self.fs.node_mut(ino)?.kind {
            Kind::File(data) => Ok(data),
            Kind::Dir { .. } => Err(Errno::Isdir),
            Kind::Symlink(_) => Err(Errno::Badf),
        }
    }

    /// Extends file `ino` to at least `end` bytes.
    pub(super) fn grow<I: Io>(&mut self, ino: Ino, end: u64, io: &mut I) -> Done<I::Stop> {
        let len = self.data_mut(ino)?.len() as u64;
        if end > len {
            self.resize(ino, end, io)?;
        }
        Ok(())
    }

    /// Sets file `ino`'s size, charging and reserving what it grows by.
    pub(super) fn resize<I: Io>(&mut self, ino: Ino, size: u64, io: &mut I) -> Done<I::Stop> {
        let len = self.data_mut(ino)?.len() as u64;
        if size > len {
            charge(io, size - len)?;
            self.fs.reserve(size - len)?;
        } else {
            self.fs.release(len - size);
        }
        let now = self.fs.now;
        self.data_mut(ino)?.resize(size as usize, 0);
        let node = self.fs.node_mut(ino)?;
        node.mtim = now;
        node.ctim = now;
        Ok(())
    }

    /// Reads file `ino` from `at` into the I/O vectors; returns the bytes
    /// read.
    pub(super) fn read_at<I: Io>(
        &mut self,
        ino: Ino,
        at: u64,
        iovs: u32,
        count: u32,
        m: &mut Mem<'_>,
        io: &mut I,
    ) -> Result<u32, Fail<I::Stop>> {
        let vecs = m.iovecs(iovs, count)?;
        let data = match &self.fs.node(ino)?.kind {
            Kind::File(data) => data,
            _ => return Err(Errno::Isdir.into()),
        };
        let wanted = total(&vecs);
        let start = at.min(data.len() as u64) as usize;
        let n = wanted.min((data.len() - start) as u64) as usize;
        charge(io, n as u64)?;
        scatter(&data[start..start + n], &vecs, m);
        Ok(n as u32)
    }

    /// Writes the I/O vectors to file `ino` at `at` (`None`: at its end);
    /// returns the bytes written. Charged and reserved before anything is
    /// copied, so overlapping vectors cannot make the host allocate more
    /// than the filesystem's budget.
    pub(super) fn write_at<I: Io>(
        &mut self,
        ino: Ino,
        at: Option<u64>,
        iovs: u32,
        count: u32,
        m: &mut Mem<'_>,
        io: &mut I,
    ) -> Result<u32, Fail<I::Stop>> {
        let vecs = m.iovecs(iovs, count)?;
        let total = total(&vecs);
        let len = self.data_mut(ino)?.len() as u64;
        let at = at.unwrap_or(len);
        let end = at.checked_add(total).ok_or(Errno::Fbig)?;
        if end > i64::MAX as u64 || total > u64::from(u32::MAX) {
            return Err(Errno::Fbig.into());
        }
        charge(io, total)?;
        self.grow(ino, end, io)?;
        let now = self.fs.now;
        let data = self.data_mut(ino)?;
        let mut to = at as usize;
        for r in vecs {
            data[to..to + r.len()].copy_from_slice(&m.0[r.clone()]);
            to += r.len();
        }
        let node = self.fs.node_mut(ino)?;
        node.mtim = now;
        node.ctim = now;
        Ok(total as u32)
    }

    pub(super) fn read<I: Io>(
        &mut self,
        fd: u32,
        iovs: u32,
        count: u32,
        m: &mut Mem<'_>,
        io: &mut I,
    ) -> Result<u32, Fail<I::Stop>> {
        match self.fd(fd)?.kind {
            FdKind::Stdin => {
                let vecs = m.iovecs(iovs, count)?;
                let wanted = total(&vecs);
                let input = io.stdin();
                let start = self.stdin_pos.min(input.len());
                let n = wanted.min((input.len() - start) as u64) as usize;
                let chunk = input[start..start + n].to_vec();
                charge(io, n as u64)?;
                scatter(&chunk, &vecs, m);
                self.stdin_pos = start + n;
                Ok(n as u32)
            }
            FdKind::File { ino, pos } => {
                let n = self.read_at(ino, pos, iovs, count, m, io)?;
                self.set_pos(fd, pos + u64::from(n));
                Ok(n)
            }
            FdKind::Dir { .. } => Err(Errno::Isdir.into()),
            FdKind::Stdout | FdKind::Stderr => Err(Errno::Badf.into()),
        }
    }

    pub(super) fn write<I: Io>(
        &mut self,
        fd: u32,
        iovs: u32,
        count: u32,
        m: &mut Mem<'_>,
        io: &mut I,
    ) -> Result<u32, Fail<I::Stop>> {
        let entry = self.fd(fd)?;
        let append = entry.flags & FDFLAGS_APPEND != 0;
        match entry.kind {
            FdKind::Stdout | FdKind::Stderr => {
                let stdout = matches!(entry.kind, FdKind::Stdout);
                let vecs = m.iovecs(iovs, count)?;
                let total = total(&vecs);
                let written = if stdout {
                    &mut self.stdout_bytes
                } else {
                    &mut self.stderr_bytes
                };
                if written.saturating_add(total) > self.limits.max_stream_bytes {
                    return Err(Errno::Fbig.into());
                }
                *written += total;
                charge(io, total)?;
                let bytes = gather(m, &vecs);
                if stdout {
                    io.stdout(&bytes);
                } else {
                    io.stderr(&bytes);
                }
                Ok(total as u32)
            }
            FdKind::File { ino, pos } => {
                let at = (!append).then_some(pos);
                let n = self.write_at(ino, at, iovs, count, m, io)?;
                let end = match at {
                    Some(pos) => pos + u64::from(n),
                    None => self.data_mut(ino)?.len() as u64,
                };
                self.set_pos(fd, end);
                Ok(n)
            }
            FdKind::Dir { .. } => Err(Errno::Isdir.into()),
            FdKind::Stdin => Err(Errno::Badf.into()),
        }
    }

    pub(super) fn set_pos(&mut self, fd: u32, to: u64) {
        if let Some(Fd {
            kind: FdKind::File { pos, .. },
            ..
        }) = self.fds.get_mut(&fd)
        {
            *pos = to;
        }
    }

    /// `fd_fdstat_set_rights`: rights only narrow.
    pub(super) fn set_rights(&mut self, fd: u32, base: u64, inheriting: u64) -> Result<(), Errno> {
        let entry = self.fd_mut(fd)?;
        if base & !entry.base != 0 || inheriting & !entry.inheriting != 0 {
            return Err(Errno::Notcapable);
        }
        entry.base = base;
        entry.inheriting = inheriting;
        Ok(())
    }

    /// `fd_seek`: a seek by 0 from the current position needs only
    /// `fd_tell`.
    pub(super) fn seek_checked(&mut self, fd: u32, offset: i64, whence: u32) -> Result<u64, Errno> {
        let right = if offset == 0 && whence == 1 {
            RIGHTS_FD_TELL
        } else {
            RIGHTS_FD_SEEK
        };
        self.file_or_pipe(fd)?;
        self.can(fd, right)?;
        self.seek(fd, offset, whence)
    }

    pub(super) fn seek(&mut self, fd: u32, offset: i64, whence: u32) -> Result<u64, Errno> {
        let (ino, pos) = self.file_or_pipe(fd)?;
        let len = self.fs.node(ino)?.size();
        let base = match whence {
            0 => 0,
            1 => pos,
            2 => len,
            _ => return Err(Errno::Inval),
        };
        let to = i128::from(base) + i128::from(offset);
        if to < 0 || to > i128::from(i64::MAX) {
            return Err(Errno::Inval);
        }
        self.set_pos(fd, to as u64);
        Ok(to as u64)
    }

    pub(super) fn readdir<S>(&self, a: Args<'_>, m: &mut Mem<'_>) -> Done<S> {
        let (buf, buf_len, cookie) = (a.u32(1), a.u32(2), a.u64(3));
        let ino = match &self.fd(a.u32(0))?.kind {
            FdKind::Dir { ino, .. } => *ino,
            _ => return Err(Errno::Notdir.into()),
        };
        self.can(a.u32(0), RIGHTS_FD_READDIR)?;
        let Kind::Dir { entries, parent } = &self.fs.node(ino)?.kind else {
            return Err(Errno::Notdir.into());
        };
        range(buf, buf_len, m.0.len())?;
        let dots = [
            (b".".as_slice(), ino, FILETYPE_DIRECTORY),
            (b"..".as_slice(), *parent, FILETYPE_DIRECTORY),
        ];
        let listed = entries.iter().map(|(name, &child)| {
            let filetype = self
                .fs
                .node(child)
                .map_or(FILETYPE_UNKNOWN, |n| n.filetype());
            (name.as_slice(), child, filetype)
        });
        let mut out = Vec::new();
        for (index, (name, child, filetype)) in dots.into_iter().chain(listed).enumerate() {
            if (index as u64) < cookie {
                continue;
            }
            if out.len() >= buf_len as usize {
                break;
            }
            out.extend_from_slice(&(index as u64 + 1).to_le_bytes());
            out.extend_from_slice(&child.to_le_bytes());
            out.extend_from_slice(&(name.len() as u32).to_le_bytes());
            out.extend_from_slice(&[filetype, 0, 0, 0]);
            out.extend_from_slice(name);
        }
        out.truncate(buf_len as usize);
        m.write(buf, &out)?;
        Ok(m.put_u32(a.u32(4), out.len() as u32)?)
    }

    pub(super) fn open<S>(&mut self, a: Args<'_>, m: &mut Mem<'_>) -> Done<S> {
        let follow = a.u32(1) & LOOKUPFLAGS_SYMLINK_FOLLOW != 0;
        let oflags = u16::try_from(a.u32(4)).map_err(|_| Errno::Inval)?;
        let base = a.u64(5);
        let fdflags = u16::try_from(a.u32(7)).map_err(|_| Errno::Inval)?;
        if fdflags & !FDFLAGS_ALL != 0 || oflags & !0xf != 0 {
            return Err(Errno::Inval.into());
        }
        let found = self.path(a.u32(0), a.u32(2), a.u32(3), follow, m)?;
        let mut needed = RIGHTS_PATH_OPEN;
        if oflags & OFLAGS_CREAT != 0 {
            needed |= RIGHTS_PATH_CREATE_FILE;
        }
        if oflags & OFLAGS_TRUNC != 0 {
            needed |= RIGHTS_PATH_FILESTAT_SET_SIZE;
        }
        let dir_inheriting = self.can(a.u32(0), needed)?.inheriting;
        let wants_dir = oflags & OFLAGS_DIRECTORY != 0;
        let writes = base & RIGHTS_FD_WRITE != 0 || oflags & OFLAGS_TRUNC != 0;
        let ino = match found.node {
            Some(_) if oflags & OFLAGS_CREAT != 0 && oflags & OFLAGS_EXCL != 0 => {
                return Err(Errno::Exist.into());
            }
            Some(ino) => ino,
            None if oflags & OFLAGS_CREAT != 0 => {
                if wants_dir || found.trailing_slash {
                    return Err(Errno::Isdir.into());
                }
                self.fs
                    .create(found.parent, &found.name, Kind::File(Vec::new()))?
            }
            None => return Err(Errno::Noent.into()),
        };
        let (kind, type_rights) = match &self.fs.node(ino)?.kind {
            Kind::Symlink(_) => return Err(Errno::Loop.into()),
            Kind::Dir { .. } => {
                if writes {
                    return Err(Errno::Isdir.into());
                }
                (FdKind::Dir { ino, preopen: None }, RIGHTS_DIRECTORY)
            }
            Kind::File(_) => {
                if wants_dir || found.trailing_slash {
                    return Err(Errno::Notdir.into());
                }
                (FdKind::File { ino, pos: 0 }, RIGHTS_FILE)
            }
        };
        if oflags & OFLAGS_TRUNC != 0 && matches!(kind, FdKind::File { .. }) {
            let len = self.data_mut(ino)?.len() as u64;
            self.fs.release(len);
            self.data_mut(ino)?.clear();
        }
        let fd = self.insert(Fd {
            kind,
            flags: fdflags,
            base: base & dir_inheriting & type_rights,
            inheriting: a.u64(6) & dir_inheriting,
        })?;
        Ok(m.put_u32(a.u32(8), fd)?)
    }

    pub(super) fn link<S>(&mut self, a: Args<'_>, m: &Mem<'_>) -> Done<S> {
        let follow = a.u32(1) & LOOKUPFLAGS_SYMLINK_FOLLOW != 0;
        self.can(a.u32(0), RIGHTS_PATH_LINK_SOURCE)?;
        self.can(a.u32(4), RIGHTS_PATH_LINK_TARGET)?;
        let old = self.path(a.u32(0), a.u32(2), a.u32(3), follow, m)?;
        let ino = old.node.ok_or(Errno::Noent)?;
        let new = self.path(a.u32(4), a.u32(5), a.u32(6), false, m)?;
        if self.fs.node(ino)?.is_dir() {
            return Err(Errno::Perm.into());
        }
        if old.trailing_slash {
            return Err(Errno::Notdir.into());
        }
        if new.node.is_some() || new.is_dot() {
            return Err(Errno::Exist.into());
        }
        if new.trailing_slash {
            return Err(Errno::Noent.into());
        }
        self.fs.link(new.parent, &new.name, ino)?;
        Ok(())
    }

    pub(super) fn rename<S>(&mut self, a: Args<'_>, m: &Mem<'_>) -> Done<S> {
        self.can(a.u32(0), RIGHTS_PATH_RENAME_SOURCE)?;
        self.can(a.u32(3), RIGHTS_PATH_RENAME_TARGET)?;
        let old = self.path(a.u32(0), a.u32(1), a.u32(2), false, m)?;
        let new = self.path(a.u32(3), a.u32(4), a.u32(5), false, m)?;
        let ino = old.node.ok_or(Errno::Noent)?;
        if old.is_dot() || new.is_dot() {
            return Err(Errno::Busy.into());
        }
        let moving_dir = self.fs.node(ino)?.is_dir();
        if !moving_dir && (old.trailing_slash || new.trailing_slash) {
            return Err(Errno::Notdir.into());
        }
        if let Some(target) = new.node {
            if target == ino {
                return Ok(());
            }
            let node = self.fs.node(target)?;
            match (&node.kind, moving_dir) {
                (Kind::Dir { entries, .. }, true) => {
                    if !entries.is_empty() {
                        return Err(Errno::Notempty.into());
                    }
                }
                (Kind::Dir { .. }, false) => return Err(Errno::Isdir.into()),
                (_, true) => return Err(Errno::Notdir.into()),
                (_, false) => {}
            }
        }
        if moving_dir && self.fs.is_ancestor(ino, new.parent) {
            return Err(Errno::Inval.into());
        }
        if new.node.is_some() {
            self.fs.unlink(new.parent, &new.name)?;
        }
        // Link under the new name, then drop the old one: the node stays
        // alive throughout.
        self.fs.link(new.parent, &new.name, ino)?;
        self.fs.unlink(old.parent, &old.name)?;
        if moving_dir {
            self.fs.set_parent(ino, new.parent);
        }
        Ok(())
    }

    pub(super) fn poll<I: Io>(
        &mut self,
        a: Args<'_>,
        m: &mut Mem<'_>,
        io: &mut I,
    ) -> Done<I::Stop> {
        let (subs, out, count) = (a.u32(0), a.u32(1), a.u32(2));
        if count == 0 {
            return Err(Errno::Inval.into());
        }
        charge(
            io,
            u64::from(count) * u64::from(SUBSCRIPTION_SIZE + EVENT_SIZE),
        )?;
        range(
            subs,
            count.checked_mul(SUBSCRIPTION_SIZE).ok_or(Errno::Fault)?,
            m.0.len(),
        )?;
        range(
            out,
            count.checked_mul(EVENT_SIZE).ok_or(Errno::Fault)?,
            m.0.len(),
        )?;
        let mut events: Vec<[u8; EVENT_SIZE as usize]> = Vec::new();
        let mut clocks: Vec<(u64, u64)> = Vec::new();
        for i in 0..count {
            let at = subs + i * SUBSCRIPTION_SIZE;
            let userdata = m.u64(at)?;
            let tag = m.bytes(at + 8, 1)?[0];
            let mut event = [0u8; EVENT_SIZE as usize];
            event[0..8].copy_from_slice(&userdata.to_le_bytes());
            event[10] = tag;
            match tag {
                EVENTTYPE_CLOCK => {
                    let id = m.u32(at + 16)?;
                    let timeout = m.u64(at + 24)?;
                    let flags = m.u16(at + 40)?;
                    if let Err(e) = clock_id(id) {
                        event[8..10].copy_from_slice(&(e as u16).to_le_bytes());
                        events.push(event);
                        continue;
                    }
                    let now = if id == CLOCKID_REALTIME {
                        self.fs.now
                    } else {
                        self.monotonic
                    };
                    let deadline = if flags & SUBCLOCKFLAGS_ABSTIME != 0 {
                        timeout.saturating_sub(now)
                    } else {
                        timeout
                    };
                    clocks.push((deadline, userdata));
                }
                EVENTTYPE_FD_READ | EVENTTYPE_FD_WRITE => {
                    let fd = m.u32(at + 16)?;
                    let ready = match self.fds.get(&fd).map(|f| &f.kind) {
                        None => Err(Errno::Badf),
                        Some(FdKind::Stdin) if tag == EVENTTYPE_FD_READ => {
                            Ok((io.stdin().len() - self.stdin_pos.min(io.stdin().len())) as u64)
                        }
                        Some(FdKind::Stdout | FdKind::Stderr) if tag == EVENTTYPE_FD_WRITE => Ok(0),
                        Some(FdKind::File { ino, pos }) => {
                            let size = self.fs.node(*ino).map_or(0, |n| n.size());
                            Ok(if tag == EVENTTYPE_FD_READ {
                                size.saturating_sub(*pos)
                            } else {
                                0
                            })
                        }
                        Some(_) => Err(Errno::Badf),
                    };
                    match ready {
                        Ok(nbytes) => event[16..24].copy_from_slice(&nbytes.to_le_bytes()),
                        Err(e) => event[8..10].copy_from_slice(&(e as u16).to_le_bytes()),
                    }
                    events.push(event);
                }
                _ => {
                    event[8..10].copy_from_slice(&(Errno::Inval as u16).to_le_bytes());
                    events.push(event);
                }
            }
        }
        if events.is_empty() {
            // Nothing else is ready: time jumps to the first timeout.
            let first = clocks.iter().map(|c| c.0).min().unwrap_or(0);
            self.monotonic = self.monotonic.saturating_add(first);
            for &(deadline, userdata) in &clocks {
                if deadline <= first {
                    let mut event = [0u8; EVENT_SIZE as usize];
                    event[0..8].copy_from_slice(&userdata.to_le_bytes());
                    event[10] = EVENTTYPE_CLOCK;
                    events.push(event);
                }
            }
        } else {
            for &(deadline, userdata) in &clocks {
                if deadline == 0 {
                    let mut event = [0u8; EVENT_SIZE as usize];
                    event[0..8].copy_from_slice(&userdata.to_le_bytes());
                    event[10] = EVENTTYPE_CLOCK;
                    events.push(event);
                }
            }
        }
        for (i, event) in events.iter().enumerate() {
            m.write(out + i as u32 * EVENT_SIZE, event)?;
        }
        Ok(m.put_u32(a.u32(3), events.len() as u32)?)
    }
}
