//! Deterministic WASI preview 1 for Ward: every function of
//! `wasi_snapshot_preview1` (the table is [`ward_abi::WasiFn`]) over a
//! system that is the same on every machine.
//!
//! - arguments and environment come from the embedder ([`WasiConfig`]);
//! - realtime is a fixed value the embedder gives (the block's time), the
//!   monotonic and CPU clocks a counter that advances by
//!   [`CLOCK_STEP_NANOS`] per reading, so a busy-wait ends;
//! - `random_get` is BLAKE3 keyed with the embedder's seed over a call
//!   counter: reproducible, not secret;
//! - stdin, stdout and stderr go to the embedder ([`Io`]);
//! - files live in a virtual filesystem in memory (`vfs`), loaded from
//!   [`Preopen`]s and bounded by [`Limits`]. Nothing a program does touches
//!   the host's files; the embedder can read the tree back when the call
//!   ends ([`Wasi::preopen_tree`]).
//!
//! There are no sockets: `sock_*` check the descriptor first (`badf`, then
//! `notsock` for anything open) as a real system does. Rights work as WASI
//! preview 1 defines them: a descriptor opened through a directory gets
//! what it asked for within the directory's inheriting rights, rights can
//! only be narrowed, and an operation without its right is `notcapable`.
//!
//! No function panics on any input: a bad pointer is `fault`, a bad value
//! `inval`, and the embedder's gas charge ([`Io::charge_bytes`]) comes
//! before the work it pays for.
//!
//! A program's `fd_write` to stdout, as a backend's trampoline makes it:
//!
//! ```
//! use ward_abi::WasiFn;
//! use ward_wasi::{Io, Wasi, WasiConfig};
//!
//! /// The embedder's streams: stdout kept, every byte free.
//! struct Streams(Vec<u8>);
//!
//! impl Io for Streams {
//!     type Stop = ();
//!     fn charge_bytes(&mut self, _: u64) -> Result<(), ()> { Ok(()) }
//!     fn stdin(&self) -> &[u8] { b"" }
//!     fn stdout(&mut self, data: &[u8]) { self.0.extend_from_slice(data) }
//!     fn stderr(&mut self, _: &[u8]) {}
//! }
//!
//! let mut wasi = Wasi::new(&WasiConfig::default()).unwrap();
//! // The guest's memory: one iovec at 0 (buffer 16, length 2), "hi" at 16.
//! let mut memory = vec![0u8; 64];
//! memory[0..4].copy_from_slice(&16u32.to_le_bytes());
//! memory[4..8].copy_from_slice(&2u32.to_le_bytes());
//! memory[16..18].copy_from_slice(b"hi");
//! let mut streams = Streams(Vec::new());
//! // fd_write(fd 1, iovs 0, one iovec, the count written to 32)
//! let errno = wasi.call(WasiFn::FdWrite, &[1, 0, 1, 32], &mut memory, &mut streams);
//! assert_eq!(errno, Ok(0));
//! assert_eq!(streams.0, b"hi");
//! assert_eq!(memory[32], 2);
//! ```

use std::collections::BTreeMap;

use ward_abi::WasiFn;

mod calls;
mod mem;
mod types;
mod vfs;

pub use types::*;
pub use vfs::{MAX_NAME_BYTES, MAX_SYMLINKS};

use vfs::{Fs, Ino, Kind};

/// How far the monotonic clock advances per reading, in nanoseconds (and
/// every clock's resolution).
pub const CLOCK_STEP_NANOS: u64 = 1_000;

/// The realtime `ward run` uses without `--now`: 2024-01-01T00:00:00Z, in
/// nanoseconds since the Unix epoch.
pub const DEFAULT_NOW_NANOS: u64 = 1_704_067_200_000_000_000;

/// Bounds on what a program may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of file contents, link targets and entry names, preopens
    /// included (`nospc` beyond).
    pub max_bytes: u64,
    /// Files, directories and links (`nospc` beyond).
    pub max_nodes: u64,
    /// Longest path argument (`nametoolong` beyond).
    pub max_path_bytes: usize,
    /// Open descriptors, stdio and preopens included (`mfile` beyond).
    pub max_fds: usize,
    /// Bytes a call may write to stdout, and to stderr (`fbig` beyond).
    pub max_stream_bytes: u64,
}

impl Limits {
    /// What a contract's call may hold (`docs/wasi.md`): tighter than the
    /// default, since every frame of a transaction may have one.
    pub const CONTRACT: Limits = Limits {
        max_bytes: 1 << 20,
        max_nodes: 1_024,
        max_path_bytes: 1_024,
        max_fds: 64,
        max_stream_bytes: 1 << 20,
    };
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 20,
            max_nodes: 16_384,
            max_path_bytes: 4_096,
            max_fds: 1_024,
            max_stream_bytes: 16 << 20,
        }
    }
}

/// A directory tree the embedder hands in (a preopen's contents) or gets
/// back. Names are bytes; order is by name.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Tree {
    /// The entries.
    pub entries: BTreeMap<Vec<u8>, Entry>,
}

/// One entry of a [`Tree`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Entry {
    /// A file and its contents.
    File(Vec<u8>),
    /// A directory.
    Dir(Tree),
    /// A symbolic link and its target.
    Symlink(Vec<u8>),
}

/// A directory the program finds open at start (descriptors 3, 4, …, in
/// this order), named `guest` (as `fd_prestat_dir_name` reports it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preopen {
    /// The name the program sees, such as `/` or `data`.
    pub guest: String,
    /// Its contents.
    pub tree: Tree,
}

/// Everything a WASI program starts with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WasiConfig {
    /// `argv`, the program's name first.
    pub args: Vec<Vec<u8>>,
    /// The environment, as `(key, value)` pairs.
    pub env: Vec<(Vec<u8>, Vec<u8>)>,
    /// Preopened directories.
    pub preopens: Vec<Preopen>,
    /// Realtime, in nanoseconds since the Unix epoch.
    pub now_nanos: u64,
    /// Keys `random_get`.
    pub seed: [u8; 32],
    /// Bounds.
    pub limits: Limits,
}

impl Default for WasiConfig {
    fn default() -> Self {
        WasiConfig {
            args: Vec::new(),
            env: Vec::new(),
            preopens: Vec::new(),
            now_nanos: DEFAULT_NOW_NANOS,
            seed: [0; 32],
            limits: Limits::default(),
        }
    }
}

impl WasiConfig {
    /// A contract's call (`docs/wasi.md`): `argv` is only `argv0` (its
    /// address), no environment, no files, realtime the block's time
    /// (`block_time` seconds x 10^9), random bytes keyed by `seed`, a
    /// contract's [`Limits::CONTRACT`].
    pub fn contract(argv0: String, block_time: u64, seed: [u8; 32]) -> WasiConfig {
        WasiConfig {
            args: vec![argv0.into_bytes()],
            now_nanos: block_time.saturating_mul(1_000_000_000),
            seed,
            limits: Limits::CONTRACT,
            ..WasiConfig::default()
        }
    }
}

/// What a program's standard streams and gas are to the embedder.
pub trait Io {
    /// What ends the call on the embedder's side (out of gas).
    type Stop;
    /// Charges for `bytes` moved or allocated (the table's `moved`), before
    /// the work is done.
    ///
    /// # Errors
    ///
    /// The stop that ends the call.
    fn charge_bytes(&mut self, bytes: u64) -> Result<(), Self::Stop>;
    /// The whole of stdin.
    fn stdin(&self) -> &[u8];
    /// Appends to stdout.
    fn stdout(&mut self, data: &[u8]);
    /// Appends to stderr.
    fn stderr(&mut self, data: &[u8]);
}

/// The largest code `proc_exit` takes (as wasmtime does: 126 and above
/// are left to the runner, to report traps).
pub const MAX_EXIT_CODE: u32 = 125;

/// Why a WASI call did not return an errno.
#[derive(Debug, PartialEq, Eq)]
pub enum Stop<S> {
    /// `proc_exit` with this code.
    Exit(i32),
    /// `proc_exit` with a code above [`MAX_EXIT_CODE`]: a trap.
    BadExit(u32),
    /// The embedder's stop (from [`Io::charge_bytes`]).
    Host(S),
}

/// An open descriptor.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Fd {
    kind: FdKind,
    flags: u16,
    /// What this descriptor may do.
    base: u64,
    /// What descriptors opened through it may be given.
    inheriting: u64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum FdKind {
    Stdin,
    Stdout,
    Stderr,
    File { ino: Ino, pos: u64 },
    Dir { ino: Ino, preopen: Option<Vec<u8>> },
}

/// One program's WASI state: its descriptors, filesystem, clocks and
/// random stream. Made per call from a [`WasiConfig`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wasi {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    fs: Fs,
    fds: BTreeMap<u32, Fd>,
    roots: Vec<Ino>,
    limits: Limits,
    monotonic: u64,
    seed: [u8; 32],
    random_calls: u64,
    stdin_pos: usize,
    stdout_bytes: u64,
    stderr_bytes: u64,
}

impl Wasi {
    /// The state a program starts in.
    ///
    /// # Errors
    ///
    /// [`Errno::Nospc`] (or another errno) when the preopens do not fit
    /// the limits or hold a name no entry may have.
    pub fn new(config: &WasiConfig) -> Result<Wasi, Errno> {
        let mut wasi = Wasi {
            args: config.args.clone(),
            env: config
                .env
                .iter()
                .map(|(k, v)| [k.as_slice(), b"=", v.as_slice()].concat())
                .collect(),
            fs: Fs::new(config.limits, config.now_nanos),
            fds: BTreeMap::new(),
            roots: Vec::new(),
            limits: config.limits,
            monotonic: 0,
            seed: config.seed,
            random_calls: 0,
            stdin_pos: 0,
            stdout_bytes: 0,
            stderr_bytes: 0,
        };
        for (n, kind) in [FdKind::Stdin, FdKind::Stdout, FdKind::Stderr]
            .into_iter()
            .enumerate()
        {
            wasi.fds.insert(
                n as u32,
                Fd {
                    kind,
                    flags: 0,
                    base: RIGHTS_STDIO,
                    inheriting: 0,
                },
            );
        }
        for preopen in &config.preopens {
            let root = wasi.fs.new_root()?;
            wasi.load(root, &preopen.tree)?;
            wasi.fs.node_mut(root)?.open += 1;
            let fd = wasi.fds.len() as u32;
            wasi.fds.insert(
                fd,
                Fd {
                    kind: FdKind::Dir {
                        ino: root,
                        preopen: Some(preopen.guest.as_bytes().to_vec()),
                    },
                    flags: 0,
                    base: RIGHTS_DIRECTORY,
                    inheriting: RIGHTS_DIRECTORY | RIGHTS_FILE,
                },
            );
            wasi.roots.push(root);
        }
        if wasi.fds.len() > wasi.limits.max_fds {
            return Err(Errno::Mfile);
        }
        Ok(wasi)
    }

    fn load(&mut self, dir: Ino, tree: &Tree) -> Result<(), Errno> {
        for (name, entry) in &tree.entries {
            match entry {
                Entry::File(data) => {
                    self.fs.create(dir, name, Kind::File(data.clone()))?;
                }
                Entry::Symlink(target) => {
                    self.fs.create(dir, name, Kind::Symlink(target.clone()))?;
                }
                Entry::Dir(sub) => {
                    let ino = self.fs.create_dir(dir, name)?;
                    self.load(ino, sub)?;
                }
            }
        }
        Ok(())
    }

    /// The tree of preopen `index` as the program left it (what the
    /// embedder asks back when writes should be kept).
    pub fn preopen_tree(&self, index: usize) -> Option<Tree> {
        self.roots.get(index).map(|&root| self.tree(root))
    }

    fn tree(&self, dir: Ino) -> Tree {
        let mut tree = Tree::default();
        let Ok(node) = self.fs.node(dir) else {
            return tree;
        };
        if let Kind::Dir { entries, .. } = &node.kind {
            for (name, &ino) in entries {
                let Ok(child) = self.fs.node(ino) else {
                    continue;
                };
                let entry = match &child.kind {
                    Kind::File(data) => Entry::File(data.clone()),
                    Kind::Symlink(target) => Entry::Symlink(target.clone()),
                    Kind::Dir { .. } => Entry::Dir(self.tree(ino)),
                };
                tree.entries.insert(name.clone(), entry);
            }
        }
        tree
    }

    /// Checks the state's bookkeeping (bytes held, link counts, open
    /// counts, parents, limits): the fuzz target's invariant.
    ///
    /// # Errors
    ///
    /// What is inconsistent.
    pub fn audit(&self) -> Result<(), String> {
        let mut open: BTreeMap<Ino, u32> = BTreeMap::new();
        for fd in self.fds.values() {
            if let FdKind::File { ino, .. } | FdKind::Dir { ino, .. } = &fd.kind {
                *open.entry(*ino).or_default() += 1;
            }
        }
        if self.fds.len() > self.limits.max_fds {
            return Err(format!("{} descriptors open", self.fds.len()));
        }
        self.fs.audit(&open)
    }

    /// Bytes the virtual filesystem holds now.
    pub fn fs_bytes(&self) -> u64 {
        self.fs.bytes()
    }

    /// Runs WASI function `f` with `args` (each argument's bits, an `i32`
    /// zero-extended) on the guest's `memory`. Returns the errno (0 for
    /// success); `proc_exit` returns [`Stop::Exit`].
    ///
    /// # Errors
    ///
    /// [`Stop::Exit`] for `proc_exit`, [`Stop::Host`] when the embedder's
    /// charge stopped the call.
    pub fn call<I: Io>(
        &mut self,
        f: WasiFn,
        args: &[u64],
        memory: &mut [u8],
        io: &mut I,
    ) -> Result<i32, Stop<I::Stop>> {
        let result = calls::dispatch(self, f, args, memory, io);
        match result {
            Ok(()) => Ok(0),
            Err(calls::Fail::Errno(errno)) => Ok(errno as i32),
            Err(calls::Fail::Stop(stop)) => Err(stop),
        }
    }
}

impl Tree {
    /// Reads a host directory recursively: regular files with their
    /// contents, directories, and symbolic links with their targets (not
    /// followed); anything else is skipped. Reading stops with an error
    /// once the contents pass `max_bytes`, before the rest is read.
    ///
    /// # Errors
    ///
    /// The host's I/O error, or [`std::io::ErrorKind::FileTooLarge`] past
    /// `max_bytes`.
    pub fn from_host(dir: &std::path::Path, max_bytes: u64) -> std::io::Result<Tree> {
        let mut budget = max_bytes;
        Tree::read(dir, &mut budget)
    }

    fn read(dir: &std::path::Path, budget: &mut u64) -> std::io::Result<Tree> {
        let mut tree = Tree::default();
        fn spend(budget: &mut u64, n: u64) -> std::io::Result<()> {
            *budget = budget.checked_sub(n).ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::FileTooLarge,
                    "the directory holds more than the virtual filesystem's byte limit",
                )
            })?;
            Ok(())
        }
        for item in std::fs::read_dir(dir)? {
            let item = item?;
            let name = item.file_name().into_encoded_bytes();
            let kind = item.file_type()?;
            let path = item.path();
            spend(budget, name.len() as u64)?;
            let entry = if kind.is_symlink() {
                let target = std::fs::read_link(&path)?
                    .into_os_string()
                    .into_encoded_bytes();
                spend(budget, target.len() as u64)?;
                Entry::Symlink(target)
            } else if kind.is_dir() {
                Entry::Dir(Tree::read(&path, budget)?)
            } else if kind.is_file() {
                spend(budget, item.metadata()?.len())?;
                Entry::File(std::fs::read(&path)?)
            } else {
                continue;
            };
            tree.entries.insert(name, entry);
        }
        Ok(tree)
    }
}

#[cfg(test)]
mod tests;
