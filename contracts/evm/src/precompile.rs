//! What a precompile pays beyond [`GAS_RATE`] (`docs/evm.md`, "Precompile
//! surcharges"): the Ward gas its Wasm costs over what the rate pays,
//! measured by `crates/executor/tests/all/evm_rate.rs` on the worst input
//! shapes, with about 15% to spare.

use alloc::vec::Vec;

use revm_interpreter::primitives::{Address, U256};

use crate::GAS_RATE;

/// A precompile Ward's host computes natively, which pays the rate alone.
#[derive(Clone, Copy)]
pub(crate) enum Native {
    /// `0x01`, through `ward.recover_secp256k1` and `ward.hash_keccak256`.
    Ecrecover,
    /// `0x02`, through `ward.hash_sha256`.
    Sha256,
    /// `0x06`, through `ward.bn254_add`.
    Bn254Add,
    /// `0x07`, through `ward.bn254_mul`.
    Bn254Mul,
    /// `0x08`, through `ward.bn254_pairing`.
    Bn254Pairing,
}

use revm_precompile::bn254::{PAIR_ELEMENT_LEN as PAIR_BYTES, add, mul, pair};

impl Native {
    /// Precompile `index`, if the host computes it.
    pub(crate) fn of(index: Option<u8>) -> Option<Self> {
        match index {
            Some(1) => Some(Self::Ecrecover),
            Some(2) => Some(Self::Sha256),
            Some(6) => Some(Self::Bn254Add),
            Some(7) => Some(Self::Bn254Mul),
            Some(8) => Some(Self::Bn254Pairing),
            _ => None,
        }
    }

    /// Its EVM gas on `input` (revm's, Istanbul's for bn254).
    pub(crate) fn cost(self, input: &[u8]) -> u64 {
        match self {
            Self::Ecrecover => 3_000,
            Self::Sha256 => 60 + 12 * (input.len() as u64).div_ceil(32),
            Self::Bn254Add => add::ISTANBUL_ADD_GAS_COST,
            Self::Bn254Mul => mul::ISTANBUL_MUL_GAS_COST,
            Self::Bn254Pairing => {
                pair::ISTANBUL_PAIR_BASE
                    + pair::ISTANBUL_PAIR_PER_POINT * (input.len() / PAIR_BYTES) as u64
            }
        }
    }

    /// Its output on `input`, or `None` when it halts (a bn254 point that
    /// is not one, a pairing input that is not whole pairs: the caller's
    /// gas for it is used up, as the EVM's). ecrecover's is the signer's
    /// address as a word, or nothing when `v` is not a word of 27 or 28 or
    /// no key recovers; the inputs of ecrecover and of bn254's addition
    /// and multiplication are right-padded with zeros (or cut) to their
    /// lengths, as revm's.
    pub(crate) fn run(self, input: &[u8]) -> Option<Vec<u8>> {
        match self {
            Self::Sha256 => Some(ward_sdk::crypto::sha256(input).to_vec()),
            Self::Ecrecover => Some(ecrecover(&padded::<128>(input))),
            Self::Bn254Add => ward_sdk::crypto::bn254_add(&padded::<128>(input)).map(Vec::from),
            Self::Bn254Mul => ward_sdk::crypto::bn254_mul(&padded::<96>(input)).map(Vec::from),
            Self::Bn254Pairing => {
                if !input.len().is_multiple_of(PAIR_BYTES) {
                    return None;
                }
                let holds = ward_sdk::crypto::bn254_pairing(input)?;
                let mut word = [0u8; 32];
                word[31] = u8::from(holds);
                Some(word.to_vec())
            }
        }
    }
}

/// `input`'s first `N` bytes, zeros after its end.
fn padded<const N: usize>(input: &[u8]) -> [u8; N] {
    let mut out = [0u8; N];
    let n = input.len().min(N);
    out[..n].copy_from_slice(&input[..n]);
    out
}

/// ecrecover on its 128-byte input: the signer's address as a word, or
/// nothing.
fn ecrecover(input: &[u8; 128]) -> Vec<u8> {
    let (digest, rest) = input.split_at(32);
    let (v, signature) = rest.split_at(32);
    if v[..31].iter().any(|b| *b != 0) || !matches!(v[31], 27 | 28) {
        return Vec::new();
    }
    let (Ok(digest), Ok(signature)) = (digest.try_into(), signature.try_into()) else {
        return Vec::new();
    };
    match ward_sdk::crypto::recover_secp256k1(digest, signature, v[31] - 27) {
        Some(key) => {
            let mut word = ward_sdk::crypto::keccak256(&key);
            word[..12].fill(0);
            word.to_vec()
        }
        None => Vec::new(),
    }
}

/// The Ward gas a precompile pays beyond [`GAS_RATE`] on one input.
#[derive(Clone, Copy)]
pub(crate) enum Surcharge {
    /// So much per unit of the EVM gas it charges.
    PerGas(u64),
    /// So much for this input, whatever gas it is given (known before it
    /// works).
    Fixed(u64),
}

impl Surcharge {
    /// Precompile `index`'s on `input`; `None`: not a precompile of
    /// [`crate::SPEC`].
    pub(crate) fn of(index: u8, input: &[u8]) -> Option<Self> {
        let extra = SURCHARGES.get(usize::from(index)).copied().flatten()?;
        Some(if index == 5 {
            Self::Fixed(extra.saturating_mul(modexp_work(input)))
        } else {
            Self::PerGas(extra)
        })
    }

    /// The most EVM gas `ward_gas` pays for at the rate with this
    /// surcharge (0 when it cannot pay a fixed one).
    pub(crate) fn limit(self, ward_gas: u64) -> u64 {
        match self {
            Self::PerGas(extra) => ward_gas / (GAS_RATE + extra),
            Self::Fixed(extra) => ward_gas
                .checked_sub(extra)
                .map_or(0, |left| left / GAS_RATE),
        }
    }

    /// The surcharge for work that costs `gas` EVM gas.
    pub(crate) fn on(self, gas: u64) -> u64 {
        match self {
            Self::PerGas(extra) => gas.saturating_mul(extra),
            Self::Fixed(extra) => extra,
        }
    }
}

/// The work of modexp (`0x05`) on `input`, in EVM gas: EIP-2565's price of
/// the same operation with the leading zeros of its base, exponent and
/// modulus left out, since the Wasm (aurora's modexp) strips them before it
/// works. So a short exponent in a long word (RSA's 65 537 in a 512-byte
/// one, priced by EIP-2565 as a 4 096-bit exponent) pays the surcharge of
/// the short one; it is never more than the input's own EVM gas. 0 for
/// lengths that do not fit in a `u64` (the precompile halts before it
/// works).
pub(crate) fn modexp_work(input: &[u8]) -> u64 {
    let length = |at: usize| -> Option<u64> {
        let mut word = [0u8; 32];
        let present = input.get(at..).unwrap_or_default();
        let n = present.len().min(32);
        word[..n].copy_from_slice(&present[..n]);
        u64::try_from(U256::from_be_bytes(word)).ok()
    };
    let (Some(base), Some(exponent), Some(modulus)) = (length(0), length(32), length(64)) else {
        return 0;
    };
    // A value's length without its leading zeros, and those of its bytes
    // the input holds (the rest are zeros).
    let value = |start: u64, len: u64| -> (u64, &[u8]) {
        let bound = |at: u64| {
            usize::try_from(at.saturating_add(96)).map_or(input.len(), |at| at.min(input.len()))
        };
        let present = &input[bound(start)..bound(start.saturating_add(len))];
        match present.iter().position(|b| *b != 0) {
            Some(zeros) => (len - zeros as u64, &present[zeros..]),
            None => (0, &[]),
        }
    };
    let (base_len, _) = value(0, base);
    let (exp_len, exp) = value(base, exponent);
    let (mod_len, _) = value(base.saturating_add(exponent), modulus);
    // The exponent's first 32 bytes (fewer when it is shorter), as
    // EIP-2565 reads them.
    let head = exp_len.min(32) as usize;
    let mut word = [0u8; 32];
    let present = exp.len().min(head);
    word[32 - head..32 - head + present].copy_from_slice(&exp[..present]);
    revm_precompile::modexp::berlin_gas_calc(base_len, exp_len, mod_len, &U256::from_be_bytes(word))
}

/// The number of a precompile's address (`0x01`..), if it is that small.
pub(crate) fn index(at: &Address) -> Option<u8> {
    let bytes = at.as_slice();
    bytes[..19].iter().all(|b| *b == 0).then_some(bytes[19])
}

/// The EVM gas precompile `index` charges for an input of `len` bytes,
/// for those that can halt after working (a failed check of curve points,
/// subgroups or a proof), from revm's own gas constants; 0 for those that
/// halt only before working (modexp and blake2f halt on malformed
/// lengths, flags or sizes only; the host computes the others that halt,
/// [`Native`]).
pub(crate) fn cost_before_halt(index: u8, len: usize) -> u64 {
    use revm_precompile::{bls12_381_const as bls, bls12_381_utils::msm_required_gas};
    let count = |unit: usize| (len / unit) as u64;
    match index {
        0x0a => revm_precompile::kzg_point_evaluation::GAS_COST,
        0x0b => bls::G1_ADD_BASE_GAS_FEE,
        0x0c => msm_required_gas(
            len / bls::G1_MSM_INPUT_LENGTH,
            &bls::DISCOUNT_TABLE_G1_MSM,
            bls::G1_MSM_BASE_GAS_FEE,
        ),
        0x0d => bls::G2_ADD_BASE_GAS_FEE,
        0x0e => msm_required_gas(
            len / bls::G2_MSM_INPUT_LENGTH,
            &bls::DISCOUNT_TABLE_G2_MSM,
            bls::G2_MSM_BASE_GAS_FEE,
        ),
        0x0f => {
            bls::PAIRING_OFFSET_BASE
                + bls::PAIRING_MULTIPLIER_BASE * count(bls::PAIRING_INPUT_LENGTH)
        }
        0x10 => bls::MAP_FP_TO_G1_BASE_GAS_FEE,
        0x11 => bls::MAP_FP2_TO_G2_BASE_GAS_FEE,
        _ => 0,
    }
}

/// The surcharges by address, `0x01`..`0x11`: per unit of EVM gas
/// ([`Surcharge::PerGas`]), modexp's per unit of [`modexp_work`].
/// ecrecover, SHA-256 and bn254's three (`0x01`, `0x02`, `0x06` to
/// `0x08`) run in the host ([`Native`]) and pay the rate alone.
const SURCHARGES: [Option<u64>; 0x12] = [
    None,
    Some(0),     // ecrecover (never reached: the host recovers)
    Some(0),     // sha256 (never reached: the host hashes)
    Some(0),     // ripemd160: within the rate
    Some(0),     // identity: within the rate
    Some(3_200), // modexp, of its work: the worst shape is a long exponent on a small modulus
    Some(0),     // bn254 add (never reached: the host adds)
    Some(0),     // bn254 mul (never reached: the host multiplies)
    Some(0),     // bn254 pairing (never reached: the host pairs)
    Some(270),   // blake2f, per round
    Some(850),   // KZG point evaluation
    Some(850),   // BLS12-381 G1 add
    Some(1_500), // BLS12-381 G1 MSM (one point is the worst)
    Some(860),   // BLS12-381 G2 add
    Some(2_100), // BLS12-381 G2 MSM (one point is the worst)
    Some(1_300), // BLS12-381 pairing (one pair is the worst)
    Some(1_460), // BLS12-381 map to G1
    Some(1_000), // BLS12-381 map to G2
];
