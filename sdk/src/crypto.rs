//! Hashes and signature checks, computed by the host (and charged per byte).
#![allow(unsafe_code, reason = "thin wrappers over the raw host imports")]
// SAFETY (for every `sys` call here): the host checks the ranges; inputs are
// live slices and every output is a live 32-byte array.

use crate::{
    env::{len, ptr},
    sys,
};

/// SHA-256 of `data`.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: see the module comment.
    unsafe { sys::hash_sha256(ptr(data.as_ptr()), len(data.len()), ptr(out.as_mut_ptr())) };
    out
}

/// Keccak-256 of `data` (Ethereum's Keccak, not SHA3-256).
pub fn keccak256(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: see the module comment.
    unsafe { sys::hash_keccak256(ptr(data.as_ptr()), len(data.len()), ptr(out.as_mut_ptr())) };
    out
}

/// BLAKE3 of `data`.
pub fn blake3(data: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // SAFETY: see the module comment.
    unsafe { sys::hash_blake3(ptr(data.as_ptr()), len(data.len()), ptr(out.as_mut_ptr())) };
    out
}

/// Whether `signature` is a valid strict Ed25519 signature of `message` by
/// `public_key` (malformed keys and signatures are simply invalid).
pub fn verify_ed25519(public_key: &[u8; 32], message: &[u8], signature: &[u8; 64]) -> bool {
    // SAFETY: see the module comment (the key is 32 bytes, the signature 64).
    let valid = unsafe {
        sys::verify_ed25519(
            ptr(public_key.as_ptr()),
            ptr(message.as_ptr()),
            len(message.len()),
            ptr(signature.as_ptr()),
        )
    };
    valid == 1
}

/// The secp256k1 public key (x then y, 64 bytes) that signed the 32-byte
/// `digest` with `signature` (r then s) and `recovery_id` (0 or 1), as
/// Ethereum's `ecrecover` recovers it; `None` when none does. Its
/// Ethereum address is the last 20 bytes of the key's [`keccak256`].
pub fn recover_secp256k1(
    digest: &[u8; 32],
    signature: &[u8; 64],
    recovery_id: u8,
) -> Option<[u8; 64]> {
    let mut key = [0u8; 64];
    // SAFETY: see the module comment (the digest is 32 bytes, the
    // signature and the key 64).
    let found = unsafe {
        sys::recover_secp256k1(
            ptr(digest.as_ptr()),
            ptr(signature.as_ptr()),
            i32::from(recovery_id),
            ptr(key.as_mut_ptr()),
        )
    };
    (found == 1).then_some(key)
}
