//! WASI preview 1's numbers: errno values, file types, flags and rights,
//! and the layout of the structures it writes to guest memory.

/// A WASI error number (`errno`), as the program receives it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
#[allow(missing_docs, reason = "the names are WASI's own")]
pub enum Errno {
    TooBig = 1,
    Acces = 2,
    Addrinuse = 3,
    Addrnotavail = 4,
    Afnosupport = 5,
    Again = 6,
    Already = 7,
    Badf = 8,
    Badmsg = 9,
    Busy = 10,
    Canceled = 11,
    Child = 12,
    Connaborted = 13,
    Connrefused = 14,
    Connreset = 15,
    Deadlk = 16,
    Destaddrreq = 17,
    Dom = 18,
    Dquot = 19,
    Exist = 20,
    Fault = 21,
    Fbig = 22,
    Hostunreach = 23,
    Idrm = 24,
    Ilseq = 25,
    Inprogress = 26,
    Intr = 27,
    Inval = 28,
    Io = 29,
    Isconn = 30,
    Isdir = 31,
    Loop = 32,
    Mfile = 33,
    Mlink = 34,
    Msgsize = 35,
    Multihop = 36,
    Nametoolong = 37,
    Netdown = 38,
    Netreset = 39,
    Netunreach = 40,
    Nfile = 41,
    Nobufs = 42,
    Nodev = 43,
    Noent = 44,
    Noexec = 45,
    Nolck = 46,
    Nolink = 47,
    Nomem = 48,
    Nomsg = 49,
    Noprotoopt = 50,
    Nospc = 51,
    Nosys = 52,
    Notconn = 53,
    Notdir = 54,
    Notempty = 55,
    Notrecoverable = 56,
    Notsock = 57,
    Notsup = 58,
    Notty = 59,
    Nxio = 60,
    Overflow = 61,
    Ownerdead = 62,
    Perm = 63,
    Pipe = 64,
    Proto = 65,
    Protonosupport = 66,
    Prototype = 67,
    Range = 68,
    Rofs = 69,
    Spipe = 70,
    Srch = 71,
    Stale = 72,
    Timedout = 73,
    Txtbsy = 74,
    Xdev = 75,
    Notcapable = 76,
}

impl Errno {
    /// WASI's name for it (`"noent"`).
    pub const fn name(self) -> &'static str {
        match self {
            Errno::TooBig => "2big",
            Errno::Acces => "acces",
            Errno::Addrinuse => "addrinuse",
            Errno::Addrnotavail => "addrnotavail",
            Errno::Afnosupport => "afnosupport",
            Errno::Again => "again",
            Errno::Already => "already",
            Errno::Badf => "badf",
            Errno::Badmsg => "badmsg",
            Errno::Busy => "busy",
            Errno::Canceled => "canceled",
            Errno::Child => "child",
            Errno::Connaborted => "connaborted",
            Errno::Connrefused => "connrefused",
            Errno::Connreset => "connreset",
            Errno::Deadlk => "deadlk",
            Errno::Destaddrreq => "destaddrreq",
            Errno::Dom => "dom",
            Errno::Dquot => "dquot",
            Errno::Exist => "exist",
            Errno::Fault => "fault",
            Errno::Fbig => "fbig",
            Errno::Hostunreach => "hostunreach",
            Errno::Idrm => "idrm",
            Errno::Ilseq => "ilseq",
            Errno::Inprogress => "inprogress",
            Errno::Intr => "intr",
            Errno::Inval => "inval",
            Errno::Io => "io",
            Errno::Isconn => "isconn",
            Errno::Isdir => "isdir",
            Errno::Loop => "loop",
            Errno::Mfile => "mfile",
            Errno::Mlink => "mlink",
            Errno::Msgsize => "msgsize",
            Errno::Multihop => "multihop",
            Errno::Nametoolong => "nametoolong",
            Errno::Netdown => "netdown",
            Errno::Netreset => "netreset",
            Errno::Netunreach => "netunreach",
            Errno::Nfile => "nfile",
            Errno::Nobufs => "nobufs",
            Errno::Nodev => "nodev",
            Errno::Noent => "noent",
            Errno::Noexec => "noexec",
            Errno::Nolck => "nolck",
            Errno::Nolink => "nolink",
            Errno::Nomem => "nomem",
            Errno::Nomsg => "nomsg",
            Errno::Noprotoopt => "noprotoopt",
            Errno::Nospc => "nospc",
            Errno::Nosys => "nosys",
            Errno::Notconn => "notconn",
            Errno::Notdir => "notdir",
            Errno::Notempty => "notempty",
            Errno::Notrecoverable => "notrecoverable",
            Errno::Notsock => "notsock",
            Errno::Notsup => "notsup",
            Errno::Notty => "notty",
            Errno::Nxio => "nxio",
            Errno::Overflow => "overflow",
            Errno::Ownerdead => "ownerdead",
            Errno::Perm => "perm",
            Errno::Pipe => "pipe",
            Errno::Proto => "proto",
            Errno::Protonosupport => "protonosupport",
            Errno::Prototype => "prototype",
            Errno::Range => "range",
            Errno::Rofs => "rofs",
            Errno::Spipe => "spipe",
            Errno::Srch => "srch",
            Errno::Stale => "stale",
            Errno::Timedout => "timedout",
            Errno::Txtbsy => "txtbsy",
            Errno::Xdev => "xdev",
            Errno::Notcapable => "notcapable",
        }
    }
}

/// `filetype`: unknown (sockets would be 5 and 6).
pub const FILETYPE_UNKNOWN: u8 = 0;
/// `filetype`: a character device (the standard streams).
pub const FILETYPE_CHARACTER_DEVICE: u8 = 2;
/// `filetype`: a directory.
pub const FILETYPE_DIRECTORY: u8 = 3;
/// `filetype`: a regular file.
pub const FILETYPE_REGULAR_FILE: u8 = 4;
/// `filetype`: a symbolic link.
pub const FILETYPE_SYMBOLIC_LINK: u8 = 7;

/// `fdflags`: writes append.
pub const FDFLAGS_APPEND: u16 = 1;
/// `fdflags`: every flag WASI defines (`append`, `dsync`, `nonblock`,
/// `rsync`, `sync`); the others are accepted and mean nothing in memory.
pub const FDFLAGS_ALL: u16 = 0x1f;

/// `oflags`: create when absent.
pub const OFLAGS_CREAT: u16 = 1;
/// `oflags`: must be a directory.
pub const OFLAGS_DIRECTORY: u16 = 2;
/// `oflags`: fail when it exists.
pub const OFLAGS_EXCL: u16 = 4;
/// `oflags`: truncate.
pub const OFLAGS_TRUNC: u16 = 8;

/// `lookupflags`: follow a symbolic link in the last component.
pub const LOOKUPFLAGS_SYMLINK_FOLLOW: u32 = 1;

/// `fstflags`: set the access time to the given value.
pub const FSTFLAGS_ATIM: u16 = 1;
/// `fstflags`: set the access time to now.
pub const FSTFLAGS_ATIM_NOW: u16 = 2;
/// `fstflags`: set the modification time to the given value.
pub const FSTFLAGS_MTIM: u16 = 4;
/// `fstflags`: set the modification time to now.
pub const FSTFLAGS_MTIM_NOW: u16 = 8;

/// `rights`: `fd_datasync`.
pub const RIGHTS_FD_DATASYNC: u64 = 1 << 0;
/// `rights`: `fd_read`.
pub const RIGHTS_FD_READ: u64 = 1 << 1;
/// `rights`: `fd_seek`.
pub const RIGHTS_FD_SEEK: u64 = 1 << 2;
/// `rights`: `fd_fdstat_set_flags`.
pub const RIGHTS_FD_FDSTAT_SET_FLAGS: u64 = 1 << 3;
/// `rights`: `fd_sync`.
pub const RIGHTS_FD_SYNC: u64 = 1 << 4;
/// `rights`: `fd_tell`.
pub const RIGHTS_FD_TELL: u64 = 1 << 5;
/// `rights`: `fd_write`.
pub const RIGHTS_FD_WRITE: u64 = 1 << 6;
/// `rights`: `fd_advise`.
pub const RIGHTS_FD_ADVISE: u64 = 1 << 7;
/// `rights`: `fd_allocate`.
pub const RIGHTS_FD_ALLOCATE: u64 = 1 << 8;
/// `rights`: `path_create_directory`.
pub const RIGHTS_PATH_CREATE_DIRECTORY: u64 = 1 << 9;
/// `rights`: `path_open` with `creat`.
pub const RIGHTS_PATH_CREATE_FILE: u64 = 1 << 10;
/// `rights`: `path_link`'s source directory.
pub const RIGHTS_PATH_LINK_SOURCE: u64 = 1 << 11;
/// `rights`: `path_link`'s target directory.
pub const RIGHTS_PATH_LINK_TARGET: u64 = 1 << 12;
/// `rights`: `path_open`.
pub const RIGHTS_PATH_OPEN: u64 = 1 << 13;
/// `rights`: `fd_readdir`.
pub const RIGHTS_FD_READDIR: u64 = 1 << 14;
/// `rights`: `path_readlink`.
pub const RIGHTS_PATH_READLINK: u64 = 1 << 15;
/// `rights`: `path_rename`'s source directory.
pub const RIGHTS_PATH_RENAME_SOURCE: u64 = 1 << 16;
/// `rights`: `path_rename`'s target directory.
pub const RIGHTS_PATH_RENAME_TARGET: u64 = 1 << 17;
/// `rights`: `path_filestat_get`.
pub const RIGHTS_PATH_FILESTAT_GET: u64 = 1 << 18;
/// `rights`: `path_open` with `trunc`.
pub const RIGHTS_PATH_FILESTAT_SET_SIZE: u64 = 1 << 19;
/// `rights`: `path_filestat_set_times`.
pub const RIGHTS_PATH_FILESTAT_SET_TIMES: u64 = 1 << 20;
/// `rights`: `fd_filestat_get`.
pub const RIGHTS_FD_FILESTAT_GET: u64 = 1 << 21;
/// `rights`: `fd_filestat_set_size`.
pub const RIGHTS_FD_FILESTAT_SET_SIZE: u64 = 1 << 22;
/// `rights`: `fd_filestat_set_times`.
pub const RIGHTS_FD_FILESTAT_SET_TIMES: u64 = 1 << 23;
/// `rights`: `path_symlink`.
pub const RIGHTS_PATH_SYMLINK: u64 = 1 << 24;
/// `rights`: `path_remove_directory`.
pub const RIGHTS_PATH_REMOVE_DIRECTORY: u64 = 1 << 25;
/// `rights`: `path_unlink_file`.
pub const RIGHTS_PATH_UNLINK_FILE: u64 = 1 << 26;
/// `rights`: every right a regular file's descriptor has (`fd_datasync`
/// to `fd_allocate`, `fd_filestat_*`, `poll_fd_readwrite`).
pub const RIGHTS_FILE: u64 = 0x1ff | (1 << 21) | (1 << 22) | (1 << 23) | (1 << 27);
/// `rights`: every right a directory's descriptor has (the `path_*`
/// rights, `fd_readdir`, `fd_filestat_get` and `_set_times`,
/// `fd_fdstat_set_flags`, `fd_sync`, `fd_advise`).
pub const RIGHTS_DIRECTORY: u64 = (0x7ff_fe00 & !(1 << 22)) | (1 << 3) | (1 << 4) | (1 << 7);
/// `rights`: what the standard streams have.
pub const RIGHTS_STDIO: u64 = RIGHTS_FD_READ | RIGHTS_FD_WRITE | (1 << 3) | (1 << 21) | (1 << 27);

/// `clockid`: realtime.
pub const CLOCKID_REALTIME: u32 = 0;
/// `clockid`: monotonic.
pub const CLOCKID_MONOTONIC: u32 = 1;
/// `clockid`: the process's CPU time.
pub const CLOCKID_PROCESS_CPUTIME: u32 = 2;
/// `clockid`: the thread's CPU time.
pub const CLOCKID_THREAD_CPUTIME: u32 = 3;

/// `eventtype`: a clock.
pub const EVENTTYPE_CLOCK: u8 = 0;
/// `eventtype`: readable.
pub const EVENTTYPE_FD_READ: u8 = 1;
/// `eventtype`: writable.
pub const EVENTTYPE_FD_WRITE: u8 = 2;
/// `subclockflags`: the timeout is an absolute time.
pub const SUBCLOCKFLAGS_ABSTIME: u16 = 1;

/// Bytes of a `filestat`.
pub const FILESTAT_SIZE: u32 = 64;
/// Bytes of a `fdstat`.
pub const FDSTAT_SIZE: u32 = 24;
/// Bytes of a `dirent` before its name.
pub const DIRENT_SIZE: u32 = 24;
/// Bytes of a `subscription`.
pub const SUBSCRIPTION_SIZE: u32 = 48;
/// Bytes of an `event`.
pub const EVENT_SIZE: u32 = 32;
