#![allow(clippy::unwrap_used, reason = "test")]

use super::*;

/// Streams in memory with unlimited gas.
#[derive(Default)]
struct Streams {
    stdin: Vec<u8>,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    charged: u64,
}

impl Io for Streams {
    type Stop = ();
    fn charge_bytes(&mut self, bytes: u64) -> Result<(), ()> {
        self.charged += bytes;
        Ok(())
    }
    fn stdin(&self) -> &[u8] {
        &self.stdin
    }
    fn stdout(&mut self, data: &[u8]) {
        self.stdout.extend_from_slice(data);
    }
    fn stderr(&mut self, data: &[u8]) {
        self.stderr.extend_from_slice(data);
    }
}

fn call(wasi: &mut Wasi, f: WasiFn, args: &[u64], memory: &mut [u8], io: &mut Streams) -> i32 {
    wasi.call(f, args, memory, io).unwrap()
}

/// Writes `path` at offset 1024 and returns its length.
fn put(memory: &mut [u8], path: &[u8]) -> u64 {
    memory[1024..1024 + path.len()].copy_from_slice(path);
    path.len() as u64
}

fn with_root(tree: Tree) -> Wasi {
    Wasi::new(&WasiConfig {
        preopens: vec![Preopen {
            guest: "/".into(),
            tree,
        }],
        ..WasiConfig::default()
    })
    .unwrap()
}

#[test]
fn docs_state_the_numbers_the_code_defines() {
    let doc = include_str!("../../../docs/wasi.md");
    let limits = Limits::default();
    for number in [
        limits.max_bytes,
        limits.max_nodes,
        limits.max_path_bytes as u64,
        limits.max_fds as u64,
        limits.max_stream_bytes,
        DEFAULT_NOW_NANOS,
        u64::from(MAX_EXIT_CODE),
        u64::from(MAX_SYMLINKS),
        MAX_NAME_BYTES as u64,
        CLOCK_STEP_NANOS,
        u64::from(SUBSCRIPTION_SIZE + EVENT_SIZE),
    ] {
        assert!(
            doc.contains(&number.to_string()),
            "docs/wasi.md lacks {number}"
        );
    }
}

#[test]
fn clocks_are_fixed_or_counted() {
    let mut wasi = Wasi::new(&WasiConfig::default()).unwrap();
    let mut memory = vec![0u8; 64];
    let io = &mut Streams::default();
    let mut read = |id: u64, wasi: &mut Wasi, memory: &mut Vec<u8>| {
        assert_eq!(call(wasi, WasiFn::ClockTimeGet, &[id, 0, 8], memory, io), 0);
        u64::from_le_bytes(memory[8..16].try_into().unwrap())
    };
    assert_eq!(read(0, &mut wasi, &mut memory), DEFAULT_NOW_NANOS);
    assert_eq!(read(0, &mut wasi, &mut memory), DEFAULT_NOW_NANOS);
    assert_eq!(read(1, &mut wasi, &mut memory), CLOCK_STEP_NANOS);
    assert_eq!(read(1, &mut wasi, &mut memory), 2 * CLOCK_STEP_NANOS);
    let io = &mut Streams::default();
    assert_eq!(
        call(&mut wasi, WasiFn::ClockTimeGet, &[4, 0, 8], &mut memory, io),
        Errno::Inval as i32
    );
}

#[test]
fn random_is_reproducible_per_seed_and_counter() {
    let draw = |seed: u8| {
        let mut wasi = Wasi::new(&WasiConfig {
            seed: [seed; 32],
            ..WasiConfig::default()
        })
        .unwrap();
        let mut memory = vec![0u8; 64];
        let io = &mut Streams::default();
        call(&mut wasi, WasiFn::RandomGet, &[0, 32], &mut memory, io);
        call(&mut wasi, WasiFn::RandomGet, &[32, 32], &mut memory, io);
        memory
    };
    assert_eq!(draw(1), draw(1));
    assert_ne!(draw(1), draw(2));
    let both = draw(1);
    assert_ne!(both[..32], both[32..], "the counter moves on");
}

#[test]
fn paths_stay_beneath_their_directory() {
    let mut tree = Tree::default();
    tree.entries
        .insert(b"f".to_vec(), Entry::File(b"x".to_vec()));
    tree.entries
        .insert(b"out".to_vec(), Entry::Symlink(b"../f".to_vec()));
    tree.entries
        .insert(b"abs".to_vec(), Entry::Symlink(b"/f".to_vec()));
    tree.entries
        .insert(b"me".to_vec(), Entry::Symlink(b"me".to_vec()));
    let mut wasi = with_root(tree);
    let mut memory = vec![0u8; 2048];
    let io = &mut Streams::default();
    let mut stat = |path: &[u8], wasi: &mut Wasi| {
        let len = put(&mut memory, path);
        call(
            wasi,
            WasiFn::PathFilestatGet,
            &[3, 1, 1024, len, 0],
            &mut memory,
            io,
        )
    };
    assert_eq!(stat(b"f", &mut wasi), 0);
    assert_eq!(stat(b"./f", &mut wasi), 0);
    assert_eq!(stat(b"/f", &mut wasi), Errno::Perm as i32);
    assert_eq!(stat(b"../f", &mut wasi), Errno::Perm as i32);
    assert_eq!(stat(b"out", &mut wasi), Errno::Perm as i32);
    assert_eq!(stat(b"abs", &mut wasi), Errno::Perm as i32);
    assert_eq!(stat(b"me", &mut wasi), Errno::Loop as i32);
    assert_eq!(stat(b"f/", &mut wasi), Errno::Notdir as i32);
    assert_eq!(stat(b"nope", &mut wasi), Errno::Noent as i32);
    assert_eq!(stat(b"f\0", &mut wasi), Errno::Inval as i32);
    wasi.audit().unwrap();
}

#[test]
fn stdio_reaches_the_embedder_and_bad_pointers_are_fault() {
    let mut wasi = Wasi::new(&WasiConfig::default()).unwrap();
    let mut memory = vec![0u8; 256];
    memory[100..105].copy_from_slice(b"hello");
    // One iovec at 0: (100, 5).
    memory[0..4].copy_from_slice(&100u32.to_le_bytes());
    memory[4..8].copy_from_slice(&5u32.to_le_bytes());
    let io = &mut Streams {
        stdin: b"in".to_vec(),
        ..Streams::default()
    };
    assert_eq!(
        call(&mut wasi, WasiFn::FdWrite, &[1, 0, 1, 16], &mut memory, io),
        0
    );
    assert_eq!(
        call(&mut wasi, WasiFn::FdWrite, &[2, 0, 1, 16], &mut memory, io),
        0
    );
    assert_eq!(
        (io.stdout.as_slice(), io.stderr.as_slice()),
        (&b"hello"[..], &b"hello"[..])
    );
    assert_eq!(
        call(&mut wasi, WasiFn::FdRead, &[0, 0, 1, 16], &mut memory, io),
        0
    );
    assert_eq!(&memory[100..103], b"inl");
    assert_eq!(memory[16], 2, "two bytes read");
    assert_eq!(io.charged, 12);
    // An iovec past the end of memory.
    memory[4..8].copy_from_slice(&500u32.to_le_bytes());
    assert_eq!(
        call(&mut wasi, WasiFn::FdWrite, &[1, 0, 1, 16], &mut memory, io),
        Errno::Fault as i32
    );
    assert_eq!(
        call(&mut wasi, WasiFn::FdWrite, &[9, 0, 1, 16], &mut memory, io),
        Errno::Badf as i32
    );
    assert_eq!(
        call(
            &mut wasi,
            WasiFn::SockSend,
            &[1, 0, 0, 0, 0],
            &mut memory,
            io
        ),
        Errno::Notsock as i32
    );
    assert_eq!(
        call(
            &mut wasi,
            WasiFn::SockSend,
            &[9, 0, 0, 0, 0],
            &mut memory,
            io
        ),
        Errno::Badf as i32
    );
    assert_eq!(
        wasi.call(WasiFn::ProcExit, &[7], &mut memory, io),
        Err(Stop::Exit(7))
    );
}

#[test]
fn preopened_trees_round_trip_and_keep_their_limits() {
    let mut sub = Tree::default();
    sub.entries.insert(b"g".to_vec(), Entry::File(vec![1; 10]));
    let mut tree = Tree::default();
    tree.entries.insert(b"d".to_vec(), Entry::Dir(sub));
    tree.entries
        .insert(b"l".to_vec(), Entry::Symlink(b"d/g".to_vec()));
    let wasi = with_root(tree.clone());
    assert_eq!(wasi.preopen_tree(0), Some(tree.clone()));
    wasi.audit().unwrap();
    let small = WasiConfig {
        preopens: vec![Preopen {
            guest: "/".into(),
            tree,
        }],
        limits: Limits {
            max_bytes: 12,
            ..Limits::default()
        },
        ..WasiConfig::default()
    };
    assert_eq!(Wasi::new(&small).err(), Some(Errno::Nospc));
}
