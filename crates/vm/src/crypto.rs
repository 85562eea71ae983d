//! The hash functions and signature checks of the host ABI.

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

/// The secp256k1 public key (64 bytes: x then y) that signed the 32-byte
/// `digest` with `sig` (64 bytes: r then s) and `recovery_id`, as
/// Ethereum's `ecrecover` finds it (libsecp256k1, as geth's): r and s
/// nonzero and below the group order, an s in the upper half accepted
/// (EIP-2 binds transactions, not `ecrecover`), a recovery id of 0 or 1.
/// `None` when no key recovers.
pub(crate) fn recover_secp256k1(digest: &[u8], sig: &[u8], recovery_id: i32) -> Option<[u8; 64]> {
    use secp256k1::{
        Message, Secp256k1, VerifyOnly,
        ecdsa::{RecoverableSignature, RecoveryId},
    };
    static CONTEXT: std::sync::LazyLock<Secp256k1<VerifyOnly>> =
        std::sync::LazyLock::new(Secp256k1::verification_only);
    if !(0..=1).contains(&recovery_id) {
        return None;
    }
    let recovery_id = RecoveryId::try_from(recovery_id).ok()?;
    let sig = RecoverableSignature::from_compact(sig, recovery_id).ok()?;
    let digest = Message::from_digest(digest.try_into().ok()?);
    let key = CONTEXT.recover_ecdsa(digest, &sig).ok()?;
    // Uncompressed: the 0x04 tag, then x and y.
    key.serialize_uncompressed().get(1..)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::recover_secp256k1;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap_or_default()
    }

    /// The Ethereum address of a recovered key: the last 20 bytes of
    /// its Keccak-256.
    fn address(key: &[u8; 64]) -> Vec<u8> {
        super::digest(ward_abi::HostFn::HashKeccak256, key)[12..].to_vec()
    }

    // A widely quoted `ecrecover` example: a digest, its signature with
    // v = 28 (recovery id 1), and the signer's address.
    const DIGEST: &str = "456e9aea5e197a1f1af7a3e85a3212fa4049a3ba34c2289b4c860fc0b0c64ef3";
    const SIG: &str = concat!(
        "9242685bf161793cc25603c231bc2f568eb630ea16aa137d2664ac8038825608",
        "4f8ae3bd7535248d0bd448298cc2e2071e56992d0774dc340c368ae950852ada"
    );
    const SIGNER: &str = "7156526fbd7a3c72969b54f64e42c10fbb768c8a";

    #[test]
    fn recovers_the_signer_as_ecrecover_does() {
        let key = recover_secp256k1(&hex(DIGEST), &hex(SIG), 1).unwrap();
        assert_eq!(address(&key), hex(SIGNER));
        // The other recovery id recovers another key.
        let other = recover_secp256k1(&hex(DIGEST), &hex(SIG), 0).unwrap();
        assert_ne!(address(&other), hex(SIGNER));
    }

    #[test]
    fn an_upper_half_s_is_its_twin_with_the_other_recovery_id() {
        // n - s, with the recovery id flipped: the same key.
        let order = hex("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141");
        let mut sig = hex(SIG);
        let mut borrow = 0i16;
        for i in (0..32).rev() {
            let d = i16::from(order[i]) - i16::from(sig[32 + i]) - borrow;
            borrow = i16::from(d < 0);
            sig[32 + i] = d.rem_euclid(256) as u8;
        }
        let key = recover_secp256k1(&hex(DIGEST), &sig, 0).unwrap();
        assert_eq!(address(&key), hex(SIGNER));
    }

    #[test]
    fn malformed_signatures_recover_nothing() {
        let digest = hex(DIGEST);
        let sig = hex(SIG);
        assert_eq!(recover_secp256k1(&digest, &sig, 2), None);
        assert_eq!(recover_secp256k1(&digest, &sig, -1), None);
        let mut zero_r = sig.clone();
        zero_r[..32].fill(0);
        assert_eq!(recover_secp256k1(&digest, &zero_r, 1), None);
        let mut big_s = sig;
        big_s[32..].fill(0xff);
        assert_eq!(recover_secp256k1(&digest, &big_s, 1), None);
    }
}
