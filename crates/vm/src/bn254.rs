//! The bn254 (alt_bn128) host functions: Ethereum's precompiles `0x06`
//! to `0x08` (EIP-196, EIP-197), natively, as revm computes them
//! (`revm-precompile`'s own functions, on arkworks), with their
//! encodings: a coordinate is 32 bytes, big-endian, below the field's
//! modulus; a G1 point is x then y, (0, 0) the point at infinity; a G2
//! point is x then y, each an element of the quadratic extension written
//! imaginary part first. A point off its curve (or, for G2, outside its
//! subgroup) is invalid.

use revm_precompile::bn254::{run_add, run_mul, run_pair};

/// The sum of the two G1 points in `input` (128 bytes), or `None` when
/// one is not a point.
pub(crate) fn add(input: &[u8]) -> Option<[u8; 64]> {
    let output = run_add(input, 0, u64::MAX).ok()?;
    output.bytes.as_ref().try_into().ok()
}

/// The G1 point in `input`'s first 64 bytes times the scalar in its next
/// 32 (big-endian, taken modulo the group's order), or `None` when it is
/// not a point.
pub(crate) fn mul(input: &[u8]) -> Option<[u8; 64]> {
    let output = run_mul(input, 0, u64::MAX).ok()?;
    output.bytes.as_ref().try_into().ok()
}

/// Whether the product of the pairings of `input`'s pairs is one (true
/// for none), or `None` when its length is not whole pairs or a point is
/// invalid.
pub(crate) fn pairing(input: &[u8]) -> Option<bool> {
    let output = run_pair(input, 0, 0, u64::MAX).ok()?;
    Some(output.bytes.last() == Some(&1))
}

#[cfg(test)]
mod tests {
    use super::{add, mul, pairing};

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).unwrap_or_default()
    }

    /// G1's generator (1, 2), its double, and G2's generator.
    const G1: &str = concat!(
        "0000000000000000000000000000000000000000000000000000000000000001",
        "0000000000000000000000000000000000000000000000000000000000000002"
    );
    const G1_DOUBLE: &str = concat!(
        "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3",
        "15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4"
    );
    const G2: &str = concat!(
        "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2",
        "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
        "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b",
        "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa"
    );
    /// The negation of G1's generator: (1, p - 2).
    const G1_NEG: &str = concat!(
        "0000000000000000000000000000000000000000000000000000000000000001",
        "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd45"
    );

    #[test]
    fn adds_and_multiplies_as_the_precompiles() {
        let twice = add(&hex(&format!("{G1}{G1}"))).unwrap();
        assert_eq!(twice.to_vec(), hex(G1_DOUBLE));
        let by_two = mul(&hex(&format!("{G1}{:064x}", 2))).unwrap();
        assert_eq!(by_two.to_vec(), hex(G1_DOUBLE));
        // The point at infinity is the identity; times 0 it is the result.
        let zero = "00".repeat(64);
        assert_eq!(add(&hex(&format!("{G1}{zero}"))).unwrap().to_vec(), hex(G1));
        assert_eq!(mul(&hex(&format!("{G1}{:064x}", 0))).unwrap(), [0; 64]);
        // (1, 3) is not on the curve; a coordinate at the modulus is not one.
        let off = format!("{:064x}{:064x}", 1, 3);
        assert_eq!(add(&hex(&format!("{off}{G1}"))), None);
        let modulus = "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd47";
        assert_eq!(mul(&hex(&format!("{modulus}{:064x}{:064x}", 2, 1))), None);
    }

    #[test]
    fn checks_pairings_as_the_precompile() {
        // e(G1, G2) · e(-G1, G2) = 1; e(G1, G2) · e(G1, G2) is not.
        assert_eq!(pairing(&hex(&format!("{G1}{G2}{G1_NEG}{G2}"))), Some(true));
        assert_eq!(pairing(&hex(&format!("{G1}{G2}{G1}{G2}"))), Some(false));
        assert_eq!(pairing(&[]), Some(true));
        // Not whole pairs; a G2 point off its curve.
        assert_eq!(pairing(&hex(&format!("{G1}{G2}00"))), None);
        let mut bad = hex(&format!("{G1}{G2}"));
        bad[191] ^= 1;
        assert_eq!(pairing(&bad), None);
    }
}
