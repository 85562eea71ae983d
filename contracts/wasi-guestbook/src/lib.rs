//! A guestbook as a WASI reactor (`docs/wasi.md`): a Rust contract built
//! for `wasm32-wasip1` with the standard library, as a Go chain's authors
//! build theirs with TinyGo. Its methods are exports of `[] -> []`; it
//! reads its input and writes its output and storage through Ward's host
//! functions, and uses WASI through `std`: `println!` and `eprintln!` (the
//! call's log), `SystemTime` (the block's time), `std::env::args` (its own
//! address), `RandomState` (WASI's `random_get`, deterministic on Ward),
//! `std::process::exit` (`proc_exit`: a revert with its code).
//!
//! Methods (deploy with `ward deploy --wasi-reactor`; a call's input is
//! the method's name, a NUL byte, then the method's input):
//! - `sign`: keeps the input, a note, under the caller; outputs how many
//!   notes the book holds (u64 little-endian).
//! - `read`: the note of the 32-byte address given, empty if none.
//! - `whoami`: `argv[0]`, the contract's address.
//! - `stamp`: the block's time in seconds (u64 little-endian).
//! - `dice`: 8 bytes from a `RandomState`'s hash of the input.
//! - `leave`: exits with the input's first byte as its code.

#[cfg(target_os = "wasi")]
mod guest {
    use std::{
        collections::hash_map::RandomState,
        hash::BuildHasher,
        time::{SystemTime, UNIX_EPOCH},
    };

    #[link(wasm_import_module = "ward")]
    unsafe extern "C" {
        fn input_size() -> i32;
        fn input_read(dst: *mut u8, offset: i32, len: i32);
        fn output_write(src: *const u8, len: i32);
        fn storage_read(key: *const u8, key_len: i32, dst: *mut u8, dst_cap: i32) -> i64;
        fn storage_write(key: *const u8, key_len: i32, val: *const u8, val_len: i32);
        fn caller(dst: *mut u8);
    }

    /// The longest note kept, in bytes.
    const MAX_NOTE: usize = 1024;
    /// The storage key of the number of notes.
    const COUNT: &[u8] = b"count";

    fn input() -> Vec<u8> {
        // SAFETY: Ward's host functions read and write the guest's own
        // memory within the lengths given.
        unsafe {
            let mut bytes = vec![0; input_size() as usize];
            input_read(bytes.as_mut_ptr(), 0, bytes.len() as i32);
            bytes
        }
    }

    fn output(bytes: &[u8]) {
        // SAFETY: as in `input`.
        unsafe { output_write(bytes.as_ptr(), bytes.len() as i32) }
    }

    fn read_slot(key: &[u8]) -> Vec<u8> {
        let mut value = vec![0; MAX_NOTE];
        // SAFETY: as in `input`; a value is at most `MAX_NOTE` bytes.
        let len = unsafe {
            storage_read(
                key.as_ptr(),
                key.len() as i32,
                value.as_mut_ptr(),
                MAX_NOTE as i32,
            )
        };
        value.truncate(len.max(0) as usize);
        value
    }

    fn write_slot(key: &[u8], value: &[u8]) {
        // SAFETY: as in `input`.
        unsafe {
            storage_write(
                key.as_ptr(),
                key.len() as i32,
                value.as_ptr(),
                value.len() as i32,
            )
        }
    }

    fn count() -> u64 {
        let bytes = read_slot(COUNT);
        u64::from_le_bytes(bytes.try_into().unwrap_or([0; 8]))
    }

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn sign() {
        let mut note = input();
        if note.len() > MAX_NOTE {
            eprintln!("a note holds at most {MAX_NOTE} bytes");
            std::process::exit(2);
        }
        let mut who = [0u8; 32];
        // SAFETY: as in `input`: 32 bytes.
        unsafe { caller(who.as_mut_ptr()) };
        if read_slot(&who).is_empty() {
            write_slot(COUNT, &(count() + 1).to_le_bytes());
        }
        write_slot(&who, &note);
        note.truncate(64);
        println!(
            "{} signed: {}",
            hex(&who[..4]),
            String::from_utf8_lossy(&note)
        );
        output(&count().to_le_bytes());
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn read() {
        let who = input();
        if who.len() != 32 {
            eprintln!("read takes a 32-byte address, not {} bytes", who.len());
            std::process::exit(3);
        }
        output(&read_slot(&who));
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn whoami() {
        output(std::env::args().next().unwrap_or_default().as_bytes());
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn stamp() {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        output(&seconds.to_le_bytes());
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn dice() {
        let hash = RandomState::new().hash_one(input());
        output(&hash.to_le_bytes());
    }

    #[unsafe(no_mangle)]
    pub extern "C" fn leave() {
        let code = input().first().copied().unwrap_or(0);
        std::process::exit(i32::from(code));
    }
}
