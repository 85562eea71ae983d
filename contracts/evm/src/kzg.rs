//! The KZG point evaluation's proof check (EIP-4844, precompile `0x0a`),
//! with the trusted setup's `[τ]₂` kept outside the heap.
//!
//! revm-precompile's own check decodes `[τ]₂` on first use into a lazily
//! filled static on the heap. The runtime forgets each call's heap at the
//! start of the next (`heap::reset`), so a later call's allocations wrote
//! over that point, and whether a correct proof verified depended on what
//! the instance had run before: a node whose instance had served another
//! KZG call could reject a proof another node accepted. Here the G2
//! points are decoded and prepared for pairings on first use into a
//! static of the instance's data, which no reset touches (preparing them
//! for every new instance, in [`crate::host::init_once`], made each ten
//! times slower to build, and a deep recursion builds hundreds; for every
//! call, it cost a fifth more), and the check is installed as revm's
//! crypto provider ([`WardCrypto`]); the precompile's framing (its
//! input's length, the versioned hash, its output) stays revm's.

use core::cell::UnsafeCell;

use ark_bls12_381::{Bls12_381, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::{AffineRepr, CurveGroup, pairing::Pairing};
use ark_ff::{AdditiveGroup, BigInteger, One, PrimeField};
use ark_serialize::CanonicalDeserialize;
use revm_precompile::{Crypto, PrecompileHalt, bls12_381_const::TRUSTED_SETUP_TAU_G2_BYTES};

/// revm's crypto with the KZG proof check over `-[1]₂` and the trusted
/// setup's `[τ]₂` prepared on first use into a static outside the heap;
/// every other primitive is revm's default.
#[derive(Debug)]
pub(crate) struct WardCrypto;

/// A G2 point prepared for pairings (its Miller loop's line
/// coefficients) in fixed storage: BLS12-381's loop has 68 lines.
struct Fixed {
    coeffs: [EllCoeff; MOST_LINES],
    len: usize,
    infinity: bool,
}

type EllCoeff = (Fq2, Fq2, Fq2);
type G2Prepared = <Bls12_381 as Pairing>::G2Prepared;

const MOST_LINES: usize = 96;

impl Fixed {
    const EMPTY: Fixed = Fixed {
        coeffs: [(Fq2::ZERO, Fq2::ZERO, Fq2::ZERO); MOST_LINES],
        len: 0,
        infinity: true,
    };

    /// Copies `prepared`'s lines in (in place: the storage is larger
    /// than a guest's stack should hold).
    fn set(&mut self, prepared: &G2Prepared) {
        let len = prepared.ell_coeffs.len().min(MOST_LINES);
        self.coeffs[..len].copy_from_slice(&prepared.ell_coeffs[..len]);
        self.len = len;
        self.infinity = prepared.infinity;
    }

    fn prepared(&self) -> G2Prepared {
        G2Prepared {
            ell_coeffs: self.coeffs[..self.len].to_vec(),
            infinity: self.infinity,
        }
    }
}

/// `-[1]₂` and the trusted setup's `[τ]₂`, prepared on first use: in the
/// instance's static data, which no heap reset touches.
struct Lines(UnsafeCell<(bool, [Fixed; 2])>);

// SAFETY: a wasm32 guest without the threads feature (which Ward's policy
// rejects) has exactly one thread.
unsafe impl Sync for Lines {}

static LINES: Lines = Lines(UnsafeCell::new((false, [Fixed::EMPTY, Fixed::EMPTY])));

/// `-[1]₂` and `[τ]₂` (a point the ceremony published: decoded without
/// the subgroup check), prepared for a pairing: made the first time they
/// are asked for, copied to the heap each time.
fn fixed_points() -> [G2Prepared; 2] {
    // SAFETY: one thread, and no reference to the cell outlives this
    // function.
    let (ready, lines) = unsafe { &mut *LINES.0.get() };
    if !*ready {
        let tau = G2Affine::deserialize_compressed_unchecked(&TRUSTED_SETUP_TAU_G2_BYTES[..])
            .unwrap_or_else(|_| G2Affine::zero());
        lines[0].set(&(-G2Affine::generator()).into());
        lines[1].set(&tau.into());
        *ready = true;
    }
    [lines[0].prepared(), lines[1].prepared()]
}

impl Crypto for WardCrypto {
    fn verify_kzg_proof(
        &self,
        z: &[u8; 32],
        y: &[u8; 32],
        commitment: &[u8; 48],
        proof: &[u8; 48],
    ) -> Result<(), PrecompileHalt> {
        if verify(commitment, z, y, proof) {
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
/// 1`, whose scalar multiplications are both in G1, cheaper than G2's.
/// Points must decode (on the curve, in the subgroup) and `z`, `y` be
/// canonical scalars.
fn verify(commitment: &[u8; 48], z: &[u8; 32], y: &[u8; 32], proof: &[u8; 48]) -> bool {
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
    Bls12_381::multi_pairing([left.into_affine(), proof], fixed_points())
        .0
        .is_one()
}

/// `bytes` as a scalar, when it is below the group's order (big-endian).
fn canonical(bytes: &[u8; 32]) -> Option<Fr> {
    let scalar = Fr::from_be_bytes_mod_order(bytes);
    (scalar.into_bigint().to_bytes_be() == bytes).then_some(scalar)
}
