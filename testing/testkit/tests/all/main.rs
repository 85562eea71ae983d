//! Ward's engine behaviour on both backends, in one test binary:
//! `engine` (outcomes, the ABI, limits, suspension, hostile bytes) and
//! `metering` (gas, call depth, NaNs, policy, hostile modules).

#![allow(clippy::unwrap_used, reason = "test helpers")]

mod cache;
mod cancel;
mod chain;
mod children;
mod differential;
mod docs;
mod engine;
mod loops;
mod metering;
mod profile;
mod shape;
mod suspend;
mod syscalls;
mod system;
mod testdata;
mod wasi;

/// `bytes` as little-endian numbers of `N` bytes each, read by `from`
/// (the type's `from_le_bytes`); a length that is no multiple of `N`
/// fails the test.
pub(crate) fn numbers<const N: usize, T>(bytes: &[u8], from: fn([u8; N]) -> T) -> Vec<T> {
    assert_eq!(
        bytes.len() % N,
        0,
        "{} bytes are no {N}-byte numbers",
        bytes.len()
    );
    bytes
        .chunks(N)
        .map(|c| from(c.try_into().unwrap()))
        .collect()
}
