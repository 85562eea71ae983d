//! The functions of WASI preview 1, one method each, in table order:
//! how each takes its arguments and answers (here), over what a program's
//! descriptors, files and clocks do (`state.rs`).

mod state;

use ward_abi::WasiFn;

use crate::{
    CLOCK_STEP_NANOS, Errno, Fd, FdKind, Io, MAX_EXIT_CODE, Stop, Wasi,
    mem::{Mem, range},
    types::*,
    vfs::{Found, Ino, Kind},
};

/// Why a function did not succeed.
pub(crate) enum Fail<S> {
    Errno(Errno),
    Stop(Stop<S>),
}

impl<S> From<Errno> for Fail<S> {
    fn from(e: Errno) -> Self {
        Fail::Errno(e)
    }
}

type Done<S> = Result<(), Fail<S>>;

/// The arguments of one call, as raw bits.
#[derive(Clone, Copy)]
struct Args<'a>(&'a [u64]);

impl Args<'_> {
    fn u32(self, i: usize) -> u32 {
        self.0.get(i).copied().unwrap_or(0) as u32
    }
    fn u64(self, i: usize) -> u64 {
        self.0.get(i).copied().unwrap_or(0)
    }
}

fn charge<I: Io>(io: &mut I, bytes: u64) -> Done<I::Stop> {
    io.charge_bytes(bytes)
        .map_err(|s| Fail::Stop(Stop::Host(s)))
}

pub(crate) fn dispatch<I: Io>(
    w: &mut Wasi,
    f: WasiFn,
    args: &[u64],
    memory: &mut [u8],
    io: &mut I,
) -> Done<I::Stop> {
    let a = Args(args);
    let mut m = Mem(memory);
    match f {
        WasiFn::ArgsGet
        | WasiFn::ArgsSizesGet
        | WasiFn::EnvironGet
        | WasiFn::EnvironSizesGet
        | WasiFn::ClockResGet
        | WasiFn::ClockTimeGet
        | WasiFn::PollOneoff
        | WasiFn::ProcExit
        | WasiFn::ProcRaise
        | WasiFn::SchedYield
        | WasiFn::RandomGet
        | WasiFn::SockAccept
        | WasiFn::SockRecv
        | WasiFn::SockSend
        | WasiFn::SockShutdown => process(w, f, a, &mut m, io),
        WasiFn::FdAdvise
        | WasiFn::FdAllocate
        | WasiFn::FdClose
        | WasiFn::FdDatasync
        | WasiFn::FdSync
        | WasiFn::FdFdstatGet
        | WasiFn::FdFdstatSetFlags
        | WasiFn::FdFdstatSetRights
        | WasiFn::FdFilestatGet
        | WasiFn::FdFilestatSetSize
        | WasiFn::FdFilestatSetTimes
        | WasiFn::FdPread
        | WasiFn::FdPrestatGet
        | WasiFn::FdPrestatDirName
        | WasiFn::FdPwrite
        | WasiFn::FdRead
        | WasiFn::FdReaddir
        | WasiFn::FdRenumber
        | WasiFn::FdSeek
        | WasiFn::FdTell
        | WasiFn::FdWrite => descriptor(w, f, a, &mut m, io),
        WasiFn::PathCreateDirectory
        | WasiFn::PathFilestatGet
        | WasiFn::PathFilestatSetTimes
        | WasiFn::PathLink
        | WasiFn::PathOpen
        | WasiFn::PathReadlink
        | WasiFn::PathRemoveDirectory
        | WasiFn::PathRename
        | WasiFn::PathSymlink
        | WasiFn::PathUnlinkFile => path(w, f, a, &mut m),
    }
}

/// The program's arguments, environment, clocks, polling, exit, random
/// bytes and sockets.
fn process<I: Io>(
    w: &mut Wasi,
    f: WasiFn,
    a: Args<'_>,
    m: &mut Mem<'_>,
    io: &mut I,
) -> Done<I::Stop> {
    match f {
        WasiFn::ArgsGet => strings(&w.args, a.u32(0), a.u32(1), m, io),
        WasiFn::ArgsSizesGet => sizes(&w.args, a.u32(0), a.u32(1), m),
        WasiFn::EnvironGet => strings(&w.env, a.u32(0), a.u32(1), m, io),
        WasiFn::EnvironSizesGet => sizes(&w.env, a.u32(0), a.u32(1), m),
        WasiFn::ClockResGet => {
            clock_id(a.u32(0))?;
            Ok(m.put_u64(a.u32(1), CLOCK_STEP_NANOS)?)
        }
        WasiFn::ClockTimeGet => {
            let now = w.clock(a.u32(0))?;
            Ok(m.put_u64(a.u32(2), now)?)
        }
        WasiFn::PollOneoff => w.poll(a, m, io),
        WasiFn::ProcExit => match a.u32(0) {
            code @ 0..=MAX_EXIT_CODE => Err(Fail::Stop(Stop::Exit(code as i32))),
            _ => Err(Fail::Stop(Stop::BadExit(a.u32(0)))),
        },
        WasiFn::ProcRaise => Err(Errno::Nosys.into()),
        WasiFn::SchedYield => Ok(()),
        WasiFn::RandomGet => {
            let buf = m.bytes_mut(a.u32(0), a.u32(1))?;
            let mut hasher = blake3::Hasher::new_keyed(&w.seed);
            hasher.update(&w.random_calls.to_le_bytes());
            hasher.finalize_xof().fill(buf);
            w.random_calls += 1;
            Ok(())
        }
        WasiFn::SockAccept | WasiFn::SockRecv | WasiFn::SockSend | WasiFn::SockShutdown => {
            w.fd(a.u32(0))?;
            Err(Errno::Notsock.into())
        }
        // Routed elsewhere by `dispatch`.
        _ => Err(Errno::Nosys.into()),
    }
}

/// The `fd_*` functions.
fn descriptor<I: Io>(
    w: &mut Wasi,
    f: WasiFn,
    a: Args<'_>,
    m: &mut Mem<'_>,
    io: &mut I,
) -> Done<I::Stop> {
    match f {
        WasiFn::FdAdvise => {
            w.file(a.u32(0))?;
            w.can(a.u32(0), RIGHTS_FD_ADVISE)?;
            if a.u32(3) > 5 {
                return Err(Errno::Inval.into());
            }
            Ok(())
        }
        WasiFn::FdAllocate => {
            let ino = w.file(a.u32(0))?.0;
            w.can(a.u32(0), RIGHTS_FD_ALLOCATE)?;
            let end = a.u64(1).checked_add(a.u64(2)).ok_or(Errno::Fbig)?;
            w.grow(ino, end, io)
        }
        WasiFn::FdClose => w.close(a.u32(0)).map_err(Into::into),
        WasiFn::FdDatasync => {
            w.can(a.u32(0), RIGHTS_FD_DATASYNC)?;
            Ok(())
        }
        WasiFn::FdSync => {
            w.can(a.u32(0), RIGHTS_FD_SYNC)?;
            Ok(())
        }
        WasiFn::FdFdstatGet => w.fdstat(a.u32(0), a.u32(1), m),
        WasiFn::FdFdstatSetFlags => {
            let flags = u16::try_from(a.u32(1)).map_err(|_| Errno::Inval)?;
            if flags & !FDFLAGS_ALL != 0 {
                return Err(Errno::Inval.into());
            }
            w.can(a.u32(0), RIGHTS_FD_FDSTAT_SET_FLAGS)?;
            w.fd_mut(a.u32(0))?.flags = flags;
            Ok(())
        }
        WasiFn::FdFdstatSetRights => Ok(w.set_rights(a.u32(0), a.u64(1), a.u64(2))?),
        WasiFn::FdFilestatGet => {
            w.can(a.u32(0), RIGHTS_FD_FILESTAT_GET)?;
            w.fd_filestat(a.u32(0), a.u32(1), m)
        }
        WasiFn::FdFilestatSetSize => {
            let ino = w.file(a.u32(0))?.0;
            w.can(a.u32(0), RIGHTS_FD_FILESTAT_SET_SIZE)?;
            let size = a.u64(1);
            if size > i64::MAX as u64 {
                return Err(Errno::Inval.into());
            }
            w.resize(ino, size, io)
        }
        WasiFn::FdFilestatSetTimes => {
            let ino = w.node_of(a.u32(0))?;
            w.can(a.u32(0), RIGHTS_FD_FILESTAT_SET_TIMES)?;
            w.set_times(ino, a.u64(1), a.u64(2), a.u32(3))
        }
        WasiFn::FdPread => {
            let (ino, _) = w.file_or_pipe(a.u32(0))?;
            w.can(a.u32(0), RIGHTS_FD_READ | RIGHTS_FD_SEEK)?;
            let read = w.read_at(ino, a.u64(3), a.u32(1), a.u32(2), m, io)?;
            Ok(m.put_u32(a.u32(4), read)?)
        }
        WasiFn::FdPrestatGet => {
            let name = w.preopen_name(a.u32(0))?;
            let len = name.len() as u32;
            m.put_u32(a.u32(1), 0)?;
            Ok(m.put_u32(a.u32(1) + 4, len)?)
        }
        WasiFn::FdPrestatDirName => {
            let name = w.preopen_name(a.u32(0))?.to_vec();
            if (a.u32(2) as usize) < name.len() {
                return Err(Errno::Nametoolong.into());
            }
            Ok(m.write(a.u32(1), &name)?)
        }
        WasiFn::FdPwrite => {
            let (ino, _) = w.file_or_pipe(a.u32(0))?;
            w.can(a.u32(0), RIGHTS_FD_WRITE | RIGHTS_FD_SEEK)?;
            let written = w.write_at(ino, Some(a.u64(3)), a.u32(1), a.u32(2), m, io)?;
            Ok(m.put_u32(a.u32(4), written)?)
        }
        WasiFn::FdRead => {
            w.can(a.u32(0), RIGHTS_FD_READ)?;
            let n = w.read(a.u32(0), a.u32(1), a.u32(2), m, io)?;
            Ok(m.put_u32(a.u32(3), n)?)
        }
        WasiFn::FdReaddir => w.readdir(a, m),
        WasiFn::FdRenumber => w.renumber(a.u32(0), a.u32(1)).map_err(Into::into),
        WasiFn::FdSeek => {
            let pos = w.seek_checked(a.u32(0), a.u64(1) as i64, a.u32(2))?;
            Ok(m.put_u64(a.u32(3), pos)?)
        }
        WasiFn::FdTell => {
            w.file_or_pipe(a.u32(0))?;
            w.can(a.u32(0), RIGHTS_FD_TELL)?;
            let pos = w.seek(a.u32(0), 0, 1)?;
            Ok(m.put_u64(a.u32(1), pos)?)
        }
        WasiFn::FdWrite => {
            w.can(a.u32(0), RIGHTS_FD_WRITE)?;
            let n = w.write(a.u32(0), a.u32(1), a.u32(2), m, io)?;
            Ok(m.put_u32(a.u32(3), n)?)
        }
        // Routed elsewhere by `dispatch`.
        _ => Err(Errno::Nosys.into()),
    }
}

/// The `path_*` functions.
fn path<S>(w: &mut Wasi, f: WasiFn, a: Args<'_>, m: &mut Mem<'_>) -> Done<S> {
    match f {
        WasiFn::PathCreateDirectory => {
            w.can(a.u32(0), RIGHTS_PATH_CREATE_DIRECTORY)?;
            let found = w.path(a.u32(0), a.u32(1), a.u32(2), false, m)?;
            if found.node.is_some() || found.is_dot() {
                return Err(Errno::Exist.into());
            }
            w.fs.create_dir(found.parent, &found.name)?;
            Ok(())
        }
        WasiFn::PathFilestatGet => {
            w.can(a.u32(0), RIGHTS_PATH_FILESTAT_GET)?;
            let follow = a.u32(1) & LOOKUPFLAGS_SYMLINK_FOLLOW != 0;
            let found = w.path(a.u32(0), a.u32(2), a.u32(3), follow, m)?;
            let ino = found.node.ok_or(Errno::Noent)?;
            w.filestat(ino, a.u32(4), m)
        }
        WasiFn::PathFilestatSetTimes => {
            w.can(a.u32(0), RIGHTS_PATH_FILESTAT_SET_TIMES)?;
            let follow = a.u32(1) & LOOKUPFLAGS_SYMLINK_FOLLOW != 0;
            let found = w.path(a.u32(0), a.u32(2), a.u32(3), follow, m)?;
            let ino = found.node.ok_or(Errno::Noent)?;
            w.set_times(ino, a.u64(4), a.u64(5), a.u32(6))
        }
        WasiFn::PathLink => w.link(a, m),
        WasiFn::PathOpen => w.open(a, m),
        WasiFn::PathReadlink => {
            w.can(a.u32(0), RIGHTS_PATH_READLINK)?;
            let found = w.path(a.u32(0), a.u32(1), a.u32(2), false, m)?;
            let ino = found.node.ok_or(Errno::Noent)?;
            let Kind::Symlink(target) = &w.fs.node(ino)?.kind else {
                return Err(Errno::Inval.into());
            };
            let n = target.len().min(a.u32(4) as usize);
            let target = target[..n].to_vec();
            m.write(a.u32(3), &target)?;
            Ok(m.put_u32(a.u32(5), n as u32)?)
        }
        WasiFn::PathRemoveDirectory => {
            w.can(a.u32(0), RIGHTS_PATH_REMOVE_DIRECTORY)?;
            let found = w.path(a.u32(0), a.u32(1), a.u32(2), false, m)?;
            let ino = found.node.ok_or(Errno::Noent)?;
            let node = w.fs.node(ino)?;
            let Kind::Dir { entries, .. } = &node.kind else {
                return Err(Errno::Notdir.into());
            };
            if found.is_dot() {
                return Err(Errno::Inval.into());
            }
            if !entries.is_empty() {
                return Err(Errno::Notempty.into());
            }
            w.fs.unlink(found.parent, &found.name)?;
            Ok(())
        }
        WasiFn::PathRename => w.rename(a, m),
        WasiFn::PathSymlink => {
            let target = m.bytes(a.u32(0), a.u32(1))?.to_vec();
            w.can(a.u32(2), RIGHTS_PATH_SYMLINK)?;
            let found = w.path(a.u32(2), a.u32(3), a.u32(4), false, m)?;
            if found.node.is_some() || found.is_dot() {
                return Err(Errno::Exist.into());
            }
            if found.trailing_slash {
                return Err(Errno::Noent.into());
            }
            if target.is_empty() || target.contains(&0) {
                return Err(Errno::Noent.into());
            }
            if target.first() == Some(&b'/') {
                return Err(Errno::Perm.into());
            }
            w.fs.create(found.parent, &found.name, Kind::Symlink(target))?;
            Ok(())
        }
        WasiFn::PathUnlinkFile => {
            w.can(a.u32(0), RIGHTS_PATH_UNLINK_FILE)?;
            let found = w.path(a.u32(0), a.u32(1), a.u32(2), false, m)?;
            let ino = found.node.ok_or(Errno::Noent)?;
            let node = w.fs.node(ino)?;
            if node.is_dir() {
                return Err(Errno::Isdir.into());
            }
            if found.trailing_slash {
                return Err(Errno::Notdir.into());
            }
            w.fs.unlink(found.parent, &found.name)?;
            Ok(())
        }
        // Routed elsewhere by `dispatch`.
        _ => Err(Errno::Nosys.into()),
    }
}

/// `args_get` / `environ_get`: the pointers, then the NUL-terminated
/// strings.
fn strings<I: Io>(
    list: &[Vec<u8>],
    ptrs: u32,
    buf: u32,
    m: &mut Mem<'_>,
    io: &mut I,
) -> Done<I::Stop> {
    let total: u64 = list.iter().map(|s| s.len() as u64 + 1).sum();
    charge(io, total + 4 * list.len() as u64)?;
    let mut at = buf;
    for (i, s) in list.iter().enumerate() {
        m.put_u32(ptrs.wrapping_add(4 * i as u32), at)?;
        m.write(at, s)?;
        m.write(at.wrapping_add(s.len() as u32), &[0])?;
        at = at.wrapping_add(s.len() as u32 + 1);
    }
    Ok(())
}

/// `args_sizes_get` / `environ_sizes_get`.
fn sizes<S>(list: &[Vec<u8>], count: u32, size: u32, m: &mut Mem<'_>) -> Done<S> {
    let total: usize = list.iter().map(|s| s.len() + 1).sum();
    m.put_u32(count, list.len() as u32)?;
    m.put_u32(size, total as u32)?;
    Ok(())
}

fn clock_id(id: u32) -> Result<(), Errno> {
    match id {
        CLOCKID_REALTIME | CLOCKID_MONOTONIC | CLOCKID_PROCESS_CPUTIME | CLOCKID_THREAD_CPUTIME => {
            Ok(())
        }
        _ => Err(Errno::Inval),
    }
}

/// The bytes the I/O vectors `vecs` cover, overlaps counted again.
fn total(vecs: &[std::ops::Range<usize>]) -> u64 {
    vecs.iter().map(|r| r.len() as u64).sum()
}

/// The bytes of the I/O vectors `vecs` (already checked and bounded),
/// concatenated.
fn gather(m: &Mem<'_>, vecs: &[std::ops::Range<usize>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(total(vecs) as usize);
    for r in vecs {
        out.extend_from_slice(&m.0[r.clone()]);
    }
    out
}

/// Spreads `data` over the I/O vectors `vecs` (already checked).
fn scatter(mut data: &[u8], vecs: &[std::ops::Range<usize>], m: &mut Mem<'_>) {
    for r in vecs {
        if data.is_empty() {
            break;
        }
        let n = r.len().min(data.len());
        m.0[r.start..r.start + n].copy_from_slice(&data[..n]);
        data = &data[n..];
    }
}
