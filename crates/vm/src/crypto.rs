//! The hash functions and signature check of the host ABI.

use ward_abi::HostFn;

/// The 32-byte digest `f` (one of the `hash_*` functions) computes.
pub(crate) fn digest(f: HostFn, data: &[u8]) -> [u8; 32] {
    use sha2::Digest as _;
    match f {
        HostFn::HashSha256 => sha2::Sha256::digest(data).into(),
        HostFn::HashKeccak256 => sha3::Keccak256::digest(data).into(),
        _ => *blake3::hash(data).as_bytes(),
    }
}

/// Whether `sig` (64 bytes) is a strict Ed25519 signature of `msg` by `key`
/// (32 bytes). Malformed keys and signatures are simply invalid.
pub(crate) fn verify_ed25519(key: &[u8], msg: &[u8], sig: &[u8]) -> bool {
    let (Ok(key), Ok(sig)) = (<[u8; 32]>::try_from(key), <[u8; 64]>::try_from(sig)) else {
        return false;
    };
    let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(&key) else {
        return false;
    };
    key.verify_strict(msg, &ed25519_dalek::Signature::from_bytes(&sig))
        .is_ok()
}
