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

/// The sum of two bn254 (alt_bn128) G1 points, as Ethereum's precompile
/// `0x06` computes it: `input` is x1, y1, x2, y2 (32-byte big-endian
/// coordinates; (0, 0) is the point at infinity). `None` when a point is
/// not on the curve.
pub fn bn254_add(input: &[u8; 128]) -> Option<[u8; 64]> {
    let mut out = [0u8; 64];
    // SAFETY: see the module comment (128 bytes in, 64 out).
    let ok = unsafe { sys::bn254_add(ptr(input.as_ptr()), ptr(out.as_mut_ptr())) };
    (ok == 1).then_some(out)
}

/// A bn254 G1 point (x, y) times a 32-byte big-endian scalar, as
/// Ethereum's precompile `0x07` computes it. `None` when the point is not
/// on the curve.
pub fn bn254_mul(input: &[u8; 96]) -> Option<[u8; 64]> {
    let mut out = [0u8; 64];
    // SAFETY: see the module comment (96 bytes in, 64 out).
    let ok = unsafe { sys::bn254_mul(ptr(input.as_ptr()), ptr(out.as_mut_ptr())) };
    (ok == 1).then_some(out)
}

/// Whether the product of the bn254 pairings of `input`'s pairs (a G1
/// point, 64 bytes, then a G2 point, 128) is one, as Ethereum's
/// precompile `0x08` checks it (`true` for no pairs); `None` when `input`
/// is not whole pairs or a point is invalid. At most
/// `ward_abi::MAX_BN254_PAIRING_BYTES` (the host traps beyond it).
pub fn bn254_pairing(input: &[u8]) -> Option<bool> {
    // SAFETY: see the module comment.
    let answer = unsafe { sys::bn254_pairing(ptr(input.as_ptr()), len(input.len())) };
    match answer {
        1 => Some(true),
        0 => Some(false),
        _ => None,
    }
}
