//! WASI preview 1 (`wasi_snapshot_preview1`), the second table of host
//! functions: the same row syntax and rules as the Ward table
//! ([`crate::for_each_host_function!`]), for programs built by any
//! `wasm32-wasip1` toolchain. Every function returns a WASI `errno` (0 for
//! success) except `proc_exit`. The semantics (a deterministic, in-memory
//! system) live in `ward-wasi`; `docs/wasi.md` describes each function.
//!
//! ```
//! use ward_abi::{ValType, WasiFn};
//!
//! let f = WasiFn::from_name("fd_write").unwrap();
//! assert_eq!(f.params(), &[ValType::I32; 4]);
//! assert_eq!(f.results(), &[ValType::I32]);
//! assert_eq!(f.cost().to_string(), "host_call + host_per_byte * moved");
//! assert_eq!(WasiFn::ALL.len(), 46);
//! ```

use core::fmt;

use crate::{Cost, Use, Uses, ValType};

/// The import module of WASI preview 1.
pub const WASI_MODULE: &str = "wasi_snapshot_preview1";

/// Calls `$m!` with the whole WASI preview 1 table, in the row syntax of
/// [`crate::for_each_host_function!`] (optionally preceded by `$extra`
/// tokens). `moved` in a cost is the bytes a call moves or allocates, which
/// the implementation charges as it goes.
#[macro_export]
macro_rules! for_each_wasi_function {
    ($m:ident $(, $($extra:tt)*)?) => {
        $m! {
            $($($extra)*)?
            /// Writes the argument pointers to `argv` and the NUL-terminated arguments to `argv_buf`.
            args_get ArgsGet(argv: i32, argv_buf: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * moved] }
            /// Writes the number of arguments and the bytes they take.
            args_sizes_get ArgsSizesGet(argc: i32, argv_buf_size: i32) -> i32 { uses [Memory] cost [] }
            /// Writes the environment's pointers to `environ` and its `K=V` strings to `environ_buf`.
            environ_get EnvironGet(environ: i32, environ_buf: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * moved] }
            /// Writes the number of environment variables and the bytes they take.
            environ_sizes_get EnvironSizesGet(count: i32, buf_size: i32) -> i32 { uses [Memory] cost [] }
            /// Writes a clock's resolution (fixed per clock).
            clock_res_get ClockResGet(id: i32, resolution: i32) -> i32 { uses [Memory] cost [] }
            /// Writes a clock's time: realtime is the block's time, the others a deterministic counter.
            clock_time_get ClockTimeGet(id: i32, precision: i64, time: i32) -> i32 { uses [Memory] cost [] }
            /// Checks the descriptor and the advice; does nothing else.
            fd_advise FdAdvise(fd: i32, offset: i64, len: i64, advice: i32) -> i32 { uses [] cost [] }
            /// Extends a file to at least `offset + len` bytes.
            fd_allocate FdAllocate(fd: i32, offset: i64, len: i64) -> i32 { uses [Gas] cost [HostPerByte * moved] }
            /// Closes a descriptor.
            fd_close FdClose(fd: i32) -> i32 { uses [] cost [] }
            /// Checks the descriptor (the virtual disk has nothing to flush).
            fd_datasync FdDatasync(fd: i32) -> i32 { uses [] cost [] }
            /// Writes a descriptor's type, flags and rights.
            fd_fdstat_get FdFdstatGet(fd: i32, stat: i32) -> i32 { uses [Memory] cost [] }
            /// Sets a descriptor's flags (only `append` changes anything).
            fd_fdstat_set_flags FdFdstatSetFlags(fd: i32, flags: i32) -> i32 { uses [] cost [] }
            /// Drops rights from a descriptor; adding any is `notcapable`.
            fd_fdstat_set_rights FdFdstatSetRights(fd: i32, fs_rights_base: i64, fs_rights_inheriting: i64) -> i32 { uses [] cost [] }
            /// Writes a descriptor's file attributes.
            fd_filestat_get FdFilestatGet(fd: i32, buf: i32) -> i32 { uses [Memory] cost [] }
            /// Truncates or extends a file.
            fd_filestat_set_size FdFilestatSetSize(fd: i32, size: i64) -> i32 { uses [Gas] cost [HostPerByte * moved] }
            /// Sets a file's access and modification times.
            fd_filestat_set_times FdFilestatSetTimes(fd: i32, atim: i64, mtim: i64, fst_flags: i32) -> i32 { uses [] cost [] }
            /// Reads at `offset` into the I/O vectors, without moving the position.
            fd_pread FdPread(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nread: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * moved] }
            /// Describes a preopened directory (its name's length).
            fd_prestat_get FdPrestatGet(fd: i32, buf: i32) -> i32 { uses [Memory] cost [] }
            /// Writes a preopened directory's name.
            fd_prestat_dir_name FdPrestatDirName(fd: i32, path: i32, path_len: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(path_len)] }
            /// Writes the I/O vectors at `offset`, without moving the position.
            fd_pwrite FdPwrite(fd: i32, iovs: i32, iovs_len: i32, offset: i64, nwritten: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * moved] }
            /// Reads into the I/O vectors (stdin is the call's input).
            fd_read FdRead(fd: i32, iovs: i32, iovs_len: i32, nread: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * moved] }
            /// Reads directory entries from `cookie` into `buf`.
            fd_readdir FdReaddir(fd: i32, buf: i32, buf_len: i32, cookie: i64, bufused: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(buf_len)] }
            /// Moves descriptor `fd` to number `to`, closing what was there.
            fd_renumber FdRenumber(fd: i32, to: i32) -> i32 { uses [] cost [] }
            /// Moves a file's position.
            fd_seek FdSeek(fd: i32, offset: i64, whence: i32, newoffset: i32) -> i32 { uses [Memory] cost [] }
            /// Checks the descriptor (the virtual disk has nothing to flush).
            fd_sync FdSync(fd: i32) -> i32 { uses [] cost [] }
            /// Writes a file's position.
            fd_tell FdTell(fd: i32, offset: i32) -> i32 { uses [Memory] cost [] }
            /// Writes the I/O vectors (stdout is the call's output, stderr its debug log).
            fd_write FdWrite(fd: i32, iovs: i32, iovs_len: i32, nwritten: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * moved] }
            /// Creates a directory.
            path_create_directory PathCreateDirectory(fd: i32, path: i32, path_len: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(path_len)] }
            /// Writes the attributes of the file at a path.
            path_filestat_get PathFilestatGet(fd: i32, flags: i32, path: i32, path_len: i32, buf: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(path_len)] }
            /// Sets the times of the file at a path.
            path_filestat_set_times PathFilestatSetTimes(fd: i32, flags: i32, path: i32, path_len: i32, atim: i64, mtim: i64, fst_flags: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(path_len)] }
            /// Makes a hard link.
            path_link PathLink(old_fd: i32, old_flags: i32, old_path: i32, old_path_len: i32, new_fd: i32, new_path: i32, new_path_len: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(old_path_len, new_path_len)] }
            /// Opens (or creates) a file or directory and writes its new descriptor.
            path_open PathOpen(fd: i32, dirflags: i32, path: i32, path_len: i32, oflags: i32, fs_rights_base: i64, fs_rights_inheriting: i64, fdflags: i32, opened_fd: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(path_len)] }
            /// Reads a symbolic link's target.
            path_readlink PathReadlink(fd: i32, path: i32, path_len: i32, buf: i32, buf_len: i32, bufused: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(path_len, buf_len)] }
            /// Removes an empty directory.
            path_remove_directory PathRemoveDirectory(fd: i32, path: i32, path_len: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(path_len)] }
            /// Renames a file or directory.
            path_rename PathRename(fd: i32, old_path: i32, old_path_len: i32, new_fd: i32, new_path: i32, new_path_len: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(old_path_len, new_path_len)] }
            /// Makes a symbolic link.
            path_symlink PathSymlink(old_path: i32, old_path_len: i32, fd: i32, new_path: i32, new_path_len: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(old_path_len, new_path_len)] }
            /// Removes a file or symbolic link.
            path_unlink_file PathUnlinkFile(fd: i32, path: i32, path_len: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * bytes(path_len)] }
            /// Waits on subscriptions: clocks advance the monotonic counter, descriptors are ready at once.
            poll_oneoff PollOneoff(in_: i32, out: i32, nsubscriptions: i32, nevents: i32) -> i32 { uses [Memory, Gas] cost [HostPerByte * moved] }
            /// Ends the program: 0 is success, anything else a revert with that exit code.
            proc_exit ProcExit(rval: i32) { uses [] cost [] }
            /// Refused: `nosys`.
            proc_raise ProcRaise(sig: i32) -> i32 { uses [] cost [] }
            /// Returns at once.
            sched_yield SchedYield() -> i32 { uses [] cost [] }
            /// Fills `buf` with deterministic bytes (derived from the call and a counter: not secret).
            random_get RandomGet(buf: i32, buf_len: i32) -> i32 { uses [Memory, Gas] cost [HashPer64Bytes * words(buf_len)] }
            /// Refused after checking the descriptor: there are no sockets.
            sock_accept SockAccept(fd: i32, flags: i32, result_fd: i32) -> i32 { uses [] cost [] }
            /// Refused after checking the descriptor: there are no sockets.
            sock_recv SockRecv(fd: i32, ri_data: i32, ri_data_len: i32, ri_flags: i32, ro_datalen: i32, ro_flags: i32) -> i32 { uses [] cost [] }
            /// Refused after checking the descriptor: there are no sockets.
            sock_send SockSend(fd: i32, si_data: i32, si_data_len: i32, si_flags: i32, so_datalen: i32) -> i32 { uses [] cost [] }
            /// Refused after checking the descriptor: there are no sockets.
            sock_shutdown SockShutdown(fd: i32, how: i32) -> i32 { uses [] cost [] }
        }
    };
}

for_each_wasi_function!(define_host_fn, /// One function of WASI preview 1 (module [`WASI_MODULE`]).
    WasiFn WASI_MODULE;);

describe_table!(
    WasiFn,
    WasiDocTable,
    "The function table of `docs/wasi.md`, in Markdown: one row per function with its signature, its cost and what it touches. A test checks the document against it."
);
