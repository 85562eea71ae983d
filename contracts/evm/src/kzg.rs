//! The KZG point evaluation's proof check (EIP-4844, precompile `0x0a`),
//! with the trusted setup's `[τ]₂` decoded once per instance.
//!
//! revm-precompile's own check decodes `[τ]₂` on first use into a lazily
//! filled static on the heap. The runtime forgets each call's heap at the
//! start of the next (`heap::reset`), so a later call's allocations wrote
//! over that point, and whether a correct proof verified depended on what
//! the instance had run before: a node whose instance had served another
//! KZG call could reject a proof another node accepted. Here the point is
//! decoded in [`crate::host::init_once`], before the heap is kept, and
//! the check is installed as revm's crypto provider ([`WardCrypto`]); the
//! precompile's framing (its input's length, the versioned hash, its
//! output) stays revm's.

use ark_bls12_381::{Bls12_381, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup, pairing::Pairing};
use ark_ff::{BigInteger, One, PrimeField};
use ark_serialize::CanonicalDeserialize;
use revm_precompile::{Crypto, PrecompileHalt, bls12_381_const::TRUSTED_SETUP_TAU_G2_BYTES};

/// revm's crypto with the KZG proof check over the trusted setup's
/// `[τ]₂` and `-[1]₂`, decoded and prepared for pairings when the
/// provider is made; every other primitive is revm's default.
#[derive(Debug)]
pub(crate) struct WardCrypto {
    /// `-[1]₂` and `[τ]₂`, prepared (their Miller loop lines).
    g2: [G2Prepared; 2],
}

type G2Prepared = <Bls12_381 as Pairing>::G2Prepared;

impl WardCrypto {
    /// Decodes the trusted setup's `[τ]₂` (a point the ceremony
    /// published: decoded without the subgroup check) and prepares it
    /// and `-[1]₂` for pairings.
    pub(crate) fn new() -> WardCrypto {
        let tau = G2Affine::deserialize_compressed_unchecked(&TRUSTED_SETUP_TAU_G2_BYTES[..])
            .unwrap_or_else(|_| G2Affine::zero());
        WardCrypto {
            g2: [(-G2Affine::generator()).into(), tau.into()],
        }
    }
}

impl Crypto for WardCrypto {
    fn verify_kzg_proof(
        &self,
        z: &[u8; 32],
        y: &[u8; 32],
        commitment: &[u8; 48],
        proof: &[u8; 48],
    ) -> Result<(), PrecompileHalt> {
        if verify(&self.g2, commitment, z, y, proof) {
            Ok(())
        } else {
            Err(PrecompileHalt::BlobVerifyKzgProofFailed)
        }
    }
}

/// Whether `proof` shows that the polynomial committed to by
/// `commitment` takes the value `y` at `z`. EIP-4844 states it as
/// `e(C - [y]₁, -[1]₂) · e(π, [τ]₂ - [z]₂) = 1`; since `e(π, -[z]₂) =
/// e([z]π, -[1]₂)`, that is `e(C - [y]₁ + [z]π, -[1]₂) · e(π, [τ]₂) =
/// 1`, whose G2 points are fixed (prepared once) and whose scalar
/// multiplications are both in G1, cheaper than G2's. Points must decode
/// (on the curve, in the subgroup) and `z`, `y` be canonical scalars.
fn verify(
    g2: &[G2Prepared; 2],
    commitment: &[u8; 48],
    z: &[u8; 32],
    y: &[u8; 32],
    proof: &[u8; 48],
) -> bool {
    let (Ok(commitment), Ok(proof)) = (
        G1Affine::deserialize_compressed(&commitment[..]),
        G1Affine::deserialize_compressed(&proof[..]),
    ) else {
        return false;
    };
    let (Some(z), Some(y)) = (canonical(z), canonical(y)) else {
        return false;
    };
    let g1 = G1Affine::generator();
    let left = commitment.into_group() - g1.mul_bigint(y.into_bigint())
        + proof.mul_bigint(z.into_bigint());
    Bls12_381::multi_pairing([left.into_affine(), proof], g2.clone())
        .0
        .is_one()
}

/// `bytes` as a scalar, when it is below the group's order (big-endian).
fn canonical(bytes: &[u8; 32]) -> Option<Fr> {
    let scalar = Fr::from_be_bytes_mod_order(bytes);
    (scalar.into_bigint().to_bytes_be() == bytes).then_some(scalar)
}
