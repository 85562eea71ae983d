//! The EVM runtime (`contracts/evm`) and its Solidity contracts
//! (`contracts/evm/solidity`) for tests: the creation code solc wrote, and
//! the little ABI encoding tests need (words, selectors, topics).

use std::path::Path;

use sha3::Digest as _;

/// Ward gas per EVM gas: `contracts/evm`'s `GAS_RATE`, which the
/// conformance test (`benches/tests/evm_conformance.rs`) proves the
/// runtime charges, and the executor's (`ward_executor::EVM_GAS_RATE`:
/// its tests check all three agree).
pub const GAS_RATE: u64 = 64;

/// The EVM runtime's module, built like the example contracts.
pub fn runtime() -> Vec<u8> {
    crate::contracts::wasm("evm")
}

/// The creation code of `contracts/evm/solidity/NAME.sol` (its committed
/// `NAME.bin`, hex).
///
/// # Panics
///
/// When the artifact is missing or not hex (a checkout error).
pub fn creation(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../contracts/evm/solidity")
        .join(format!("{name}.bin"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    hex::decode(text.trim()).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Keccak-256.
pub fn keccak(data: &[u8]) -> [u8; 32] {
    sha3::Keccak256::digest(data).into()
}

/// A function's selector: the first 4 bytes of its signature's hash.
pub fn selector(signature: &str) -> [u8; 4] {
    let hash = keccak(signature.as_bytes());
    [hash[0], hash[1], hash[2], hash[3]]
}

/// An ABI word holding `value`.
pub fn word(value: u128) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[16..].copy_from_slice(&value.to_be_bytes());
    out
}

/// An ABI word holding the EVM address of a 32-byte Ward address (its last
/// 20 bytes).
pub fn address_word(ward: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    out[12..].copy_from_slice(&ward[12..]);
    out
}

/// Calldata: the selector of `signature`, then `words`.
pub fn calldata(signature: &str, words: &[[u8; 32]]) -> Vec<u8> {
    let mut out = selector(signature).to_vec();
    for w in words {
        out.extend_from_slice(w);
    }
    out
}

/// The value of the word at `index` of ABI-encoded `data`.
///
/// # Panics
///
/// When `data` is shorter, or the value does not fit 128 bits.
pub fn word_at(data: &[u8], index: usize) -> u128 {
    let w = &data[32 * index..32 * index + 32];
    assert!(
        w[..16].iter().all(|b| *b == 0),
        "word {index} is over 128 bits"
    );
    u128::from_be_bytes(w[16..].try_into().unwrap_or_default())
}

/// `Error(string)`'s message in revert data, if that is what it is.
pub fn revert_message(data: &[u8]) -> Option<String> {
    if data.len() < 68 || data[..4] != selector("Error(string)") {
        return None;
    }
    let len = usize::try_from(word_at(&data[4..], 1)).ok()?;
    let bytes = data.get(68..68 + len)?;
    String::from_utf8(bytes.to_vec()).ok()
}

/// Calldata of `Work.precompile(address,bytes,uint256)`
/// (`contracts/evm/solidity/Work.sol`): precompile `at` run `n` times on
/// `data`; it returns the hash of the last output.
pub fn precompile_call(at: u8, data: &[u8], n: u128) -> Vec<u8> {
    let mut input = calldata(
        "precompile(address,bytes,uint256)",
        &[word(u128::from(at)), word(96), word(n)],
    );
    input.extend(word(data.len() as u128));
    let mut padded = data.to_vec();
    padded.resize(data.len().div_ceil(32) * 32, 0);
    input.extend(padded);
    input
}

/// Creation code of a contract that runs precompile `at` on its calldata
/// with exactly `gas` forwarded (`STATICCALL`), and returns 1 or 0 (a
/// word): whether the call succeeded. Hand-assembled EVM.
pub fn capped_caller(at: u8, gas: u32) -> Vec<u8> {
    let [_, g2, g1, g0] = gas.to_be_bytes();
    let runtime = [
        0x36, 0x5f, 0x5f, 0x37, // CALLDATACOPY(0, 0, CALLDATASIZE)
        0x5f, 0x5f, 0x36, 0x5f, // ret size, ret offset, args size, args offset
        0x60, at, // PUSH1 at
        0x62, g2, g1, g0,   // PUSH3 gas
        0xfa, // STATICCALL
        0x5f, 0x52, // MSTORE(0, success)
        0x60, 0x20, 0x5f, 0xf3, // RETURN(0, 32)
    ];
    let len = runtime.len() as u8;
    // CODECOPY(0, 10, len); RETURN(0, len), then the runtime code.
    let mut code = vec![0x60, len, 0x60, 0x0a, 0x5f, 0x39, 0x60, len, 0x5f, 0xf3];
    code.extend(runtime);
    code
}

/// geth's ecrecover test vector: a hash, v (28), r and s.
const ECRECOVER: &str = concat!(
    "456e9aea5e197a1f1af7a3e85a3212fa4049a3ba34c2289b4c860fc0b0c64ef3",
    "000000000000000000000000000000000000000000000000000000000000001c",
    "9242685bf161793cc25603c231bc2f568eb630ea16aa137d2664ac8038825608",
    "4f8ae3bd7535248d0bd448298cc2e2071e56992d0774dc340c368ae950852ada",
);

/// bn254's G1 generator.
const BN254_G1: &str = concat!(
    "0000000000000000000000000000000000000000000000000000000000000001",
    "0000000000000000000000000000000000000000000000000000000000000002",
);

/// Twice bn254's G1 generator.
const BN254_G1_DOUBLE: &str = concat!(
    "030644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd3",
    "15ed738c0e0a7c92e7845f96b2ae9c0a68a6a449e3538fc7ff3ebf7a5a18a2c4",
);

/// bn254's G1 generator negated.
const BN254_G1_NEG: &str = concat!(
    "0000000000000000000000000000000000000000000000000000000000000001",
    "30644e72e131a029b85045b68181585d97816a916871ca8d3c208c16d87cfd45",
);

/// bn254's G2 generator (EIP-197: imaginary parts first).
const BN254_G2: &str = concat!(
    "198e9393920d483a7260bfb731fb5d25f1aa493335a9e71297e485b7aef312c2",
    "1800deef121f1e76426a00665e5c4479674322d4f75edadd46debd5cd992f6ed",
    "090689d0585ff075ec9e99ad690c3395bc4b313370b38ef355acdadcd122975b",
    "12c85ea5db8c6deb4aab71808dcb408fe3d1e7690c43d37b4ce6cc0166fa7daa",
);

/// BLS12-381's G1 generator (EIP-2537: 64-byte coordinates).
const BLS_G1: &str = concat!(
    "0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0f",
    "c3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb",
    "0000000000000000000000000000000008b3f481e3aaa0f1a09e30ed741d8ae4",
    "fcf5e095d5d00af600db18cb2c04b3edd03cc744a2888ae40caa232946c5e7e1",
);

/// Twice BLS12-381's G1 generator.
const BLS_G1_DOUBLE: &str = concat!(
    "000000000000000000000000000000000572cbea904d67468808c8eb50a9450c",
    "9721db309128012543902d0ac358a62ae28f75bb8f1c7c42c39a8c5529bf0f4e",
    "00000000000000000000000000000000166a9d8cabc673a322fda673779d8e38",
    "22ba3ecb8670e461f73bb9021d5fd76a4c56d9d4cd16bd1bba86881979749d28",
);

/// BLS12-381's G1 generator negated.
const BLS_G1_NEG: &str = concat!(
    "0000000000000000000000000000000017f1d3a73197d7942695638c4fa9ac0f",
    "c3688c4f9774b905a14e3a3f171bac586c55e83ff97a1aeffb3af00adb22c6bb",
    "00000000000000000000000000000000114d1d6855d545a8aa7d76c8cf2e21f2",
    "67816aef1db507c96655b9d5caac42364e6f38ba0ecb751bad54dcd6b939c2ca",
);

/// BLS12-381's G2 generator.
const BLS_G2: &str = concat!(
    "00000000000000000000000000000000024aa2b2f08f0a91260805272dc51051",
    "c6e47ad4fa403b02b4510b647ae3d1770bac0326a805bbefd48056c8c121bdb8",
    "0000000000000000000000000000000013e02b6052719f607dacd3a088274f65",
    "596bd0d09920b61ab5da61bbdc7f5049334cf11213945d57e5ac7d055d042b7e",
    "000000000000000000000000000000000ce5d527727d6e118cc9cdc6da2e351a",
    "adfd9baa8cbdd3a76d429a695160d12c923ac9cc3baca289e193548608b82801",
    "000000000000000000000000000000000606c4a02ea734cc32acd2b02bc28b99",
    "cb3e287e85a763af267492ab572e99ab3f370d275cec1da1aaa9075ff05f79be",
);

/// Twice BLS12-381's G2 generator.
const BLS_G2_DOUBLE: &str = concat!(
    "000000000000000000000000000000001638533957d540a9d2370f17cc7ed586",
    "3bc0b995b8825e0ee1ea1e1e4d00dbae81f14b0bf3611b78c952aacab827a053",
    "000000000000000000000000000000000a4edef9c1ed7f729f520e47730a124f",
    "d70662a904ba1074728114d1031e1572c6c886f6b57ec72a6178288c47c33577",
    "000000000000000000000000000000000468fb440d82b0630aeb8dca2b525678",
    "9a66da69bf91009cbfe6bd221e47aa8ae88dece9764bf3bd999d95d71e4c9899",
    "000000000000000000000000000000000f6d4552fa65dd2638b361543f887136",
    "a43253d9c66c411697003f7a13c308f5422e1aa0a59c8967acdefd8b6e36ccf3",
);

/// A precompile's input for tests: a name, the precompile's address
/// (`0x01`..`0x11`) and valid input bytes.
pub type PrecompileInput = (&'static str, u8, Vec<u8>);

/// Valid inputs for every precompile of the EVM runtime's revision, in
/// address order, that does real work: each recovers, adds, multiplies,
/// checks or maps (none fails). The curve points' encodings were made with
/// py_ecc 8 (bn254's and BLS12-381's generators, their doubles, their
/// negations: both pairing checks hold); ecrecover's is geth's test
/// vector; the point evaluation is the zero polynomial's (commitment and
/// proof at infinity). modexp and blake2f come in several shapes, from
/// [`modexp_input`] and [`blake2f_input`].
///
/// # Panics
///
/// Never: every literal is whole bytes of hex.
pub fn precompile_inputs() -> Vec<PrecompileInput> {
    let hex = |parts: &[&str]| -> Vec<u8> {
        parts
            .iter()
            .flat_map(|part| hex::decode(part).unwrap_or_else(|e| panic!("{part}: {e}")))
            .collect()
    };
    // Scalars of no particular shape.
    let scalar = "3a5f1c2b7d9e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8";
    let bn_scalar = "01d2e6f1a8b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d";
    // Field elements below BLS12-381's modulus, padded to 64 bytes.
    let fp = concat!(
        "0000000000000000000000000000000000000000000000000123456789abcdef",
        "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    );
    let fp_small = concat!(
        "0000000000000000000000000000000000000000000000000000000000000000",
        "000000000000000000fedcba9876543210fedcba9876543210fedcba98765432",
    );
    // The zero polynomial's KZG proof: commitment and proof at infinity
    // (compressed), z = y = 0, and the commitment's versioned hash.
    // (SHA-256 of the commitment, its first byte the version, 1.)
    let infinity = format!("c0{}", "00".repeat(47));
    let versioned = "010657f37554c781402a22917dee2f75def7ab966d7b770905398eba3c444014";
    let zero = "00".repeat(32);
    let mut out: Vec<PrecompileInput> = vec![
        ("ecrecover", 0x01, hex(&[ECRECOVER])),
        ("bn254_add", 0x06, hex(&[BN254_G1, BN254_G1_DOUBLE])),
        ("bn254_mul", 0x07, hex(&[BN254_G1_DOUBLE, bn_scalar])),
        (
            "bn254_pairing_2",
            0x08,
            hex(&[BN254_G1, BN254_G2, BN254_G1_NEG, BN254_G2]),
        ),
        (
            "kzg_point_evaluation",
            0x0a,
            hex(&[versioned, &zero, &zero, &infinity, &infinity]),
        ),
        ("bls12_g1_add", 0x0b, hex(&[BLS_G1, BLS_G1_DOUBLE])),
        ("bls12_g1_msm_1", 0x0c, hex(&[BLS_G1_DOUBLE, scalar])),
        ("bls12_g2_add", 0x0d, hex(&[BLS_G2, BLS_G2_DOUBLE])),
        ("bls12_g2_msm_1", 0x0e, hex(&[BLS_G2_DOUBLE, scalar])),
        (
            "bls12_pairing_2",
            0x0f,
            hex(&[BLS_G1, BLS_G2, BLS_G1_NEG, BLS_G2]),
        ),
        ("bls12_map_fp_to_g1", 0x10, hex(&[fp])),
        ("bls12_map_fp2_to_g2", 0x11, hex(&[fp, fp_small])),
    ];
    // More pairs and points (gas per pair or point falls with their
    // number: the MSMs' discounts; work may not), and scalars with every
    // bit set (the most additions).
    let part = |name: &str, len: usize| -> Vec<u8> {
        out.iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, _, d)| d[..len].to_vec())
            .unwrap_or_default()
    };
    let ones = |mut data: Vec<u8>| {
        let len = data.len();
        data[len - 32..].fill(0xff);
        data
    };
    let more: Vec<PrecompileInput> = vec![
        ("bn254_mul_ones", 0x07, ones(part("bn254_mul", 96))),
        ("bn254_pairing_1", 0x08, part("bn254_pairing_2", 192)),
        (
            "bn254_pairing_4",
            0x08,
            part("bn254_pairing_2", 384).repeat(2),
        ),
        (
            "bls12_g1_msm_1_ones",
            0x0c,
            ones(part("bls12_g1_msm_1", 160)),
        ),
        (
            "bls12_g1_msm_4",
            0x0c,
            part("bls12_g1_msm_1", 160).repeat(4),
        ),
        (
            "bls12_g1_msm_16",
            0x0c,
            part("bls12_g1_msm_1", 160).repeat(16),
        ),
        (
            "bls12_g2_msm_1_ones",
            0x0e,
            ones(part("bls12_g2_msm_1", 288)),
        ),
        (
            "bls12_g2_msm_4",
            0x0e,
            part("bls12_g2_msm_1", 288).repeat(4),
        ),
        (
            "bls12_g2_msm_16",
            0x0e,
            part("bls12_g2_msm_1", 288).repeat(16),
        ),
        ("bls12_pairing_1", 0x0f, part("bls12_pairing_2", 384)),
        (
            "bls12_pairing_4",
            0x0f,
            part("bls12_pairing_2", 768).repeat(2),
        ),
    ];
    out.extend(more);
    out.extend([
        ("sha256", 0x02, vec![7; 1024]),
        ("ripemd160", 0x03, vec![7; 1024]),
        ("identity", 0x04, vec![7; 1024]),
        ("modexp_8", 0x05, modexp_input(8, 32, 8, false)),
        ("modexp_16", 0x05, modexp_input(16, 32, 16, false)),
        ("modexp_24", 0x05, modexp_input(24, 32, 24, false)),
        ("modexp_32", 0x05, modexp_input(32, 32, 32, false)),
        ("modexp_64", 0x05, modexp_input(64, 64, 64, false)),
        ("modexp_128", 0x05, modexp_input(128, 128, 128, false)),
        ("modexp_256", 0x05, modexp_input(256, 256, 256, false)),
        ("modexp_64_even", 0x05, modexp_input(64, 64, 64, true)),
        ("modexp_256_even", 0x05, modexp_input(256, 256, 256, true)),
        ("modexp_small_mod", 0x05, modexp_input(256, 32, 1, false)),
        // Long exponents on small moduli: the per-step work the gas
        // formula (quadratic in the modulus' words) prices lowest.
        ("modexp_4_long", 0x05, modexp_input(4, 256, 4, false)),
        ("modexp_8_long", 0x05, modexp_input(8, 256, 8, false)),
        ("modexp_16_long", 0x05, modexp_input(16, 256, 16, false)),
        ("modexp_32_long", 0x05, modexp_input(32, 256, 32, false)),
        // Values in longer words than they need, as RSA verifications
        // pass them (65 537 in a word as long as the modulus): priced by
        // the work on the values, not by the words' length.
        ("modexp_256_rsa", 0x05, modexp_rsa(256)),
        ("modexp_512_rsa", 0x05, modexp_rsa(512)),
        (
            "modexp_32_in_256",
            0x05,
            modexp_widened(&modexp_input(32, 32, 32, false), 256),
        ),
        ("blake2f_12", 0x09, blake2f_input(12)),
        ("blake2f_1000", 0x09, blake2f_input(1000)),
    ]);
    out.sort_by_key(|(_, at, _)| *at);
    out
}

/// A modexp (`0x05`) input: lengths, then base, exponent and modulus of
/// those sizes, filled from a fixed sequence with the leading bytes
/// nonzero (so every exponent bit counts); the modulus is odd unless
/// `even`.
pub fn modexp_input(base: usize, exponent: usize, modulus: usize, even: bool) -> Vec<u8> {
    let mut out = Vec::new();
    for len in [base, exponent, modulus] {
        out.extend(word(len as u128));
    }
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut bytes = |n: usize| -> Vec<u8> {
        (0..n)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1);
                (state >> 56) as u8 | 1
            })
            .collect()
    };
    out.extend(bytes(base));
    let mut e = bytes(exponent);
    e[0] = 0xff;
    out.extend(e);
    let mut m = bytes(modulus);
    m[0] |= 0x80;
    if let Some(last) = m.last_mut() {
        *last = if even { *last & !1 } else { *last | 1 };
    }
    out.extend(m);
    out
}

/// A modexp (`0x05`) input as an RSA signature check makes one: base and
/// modulus of `len` bytes (as [`modexp_input`]'s), and the exponent
/// 65 537 in a word of `len` bytes.
pub fn modexp_rsa(len: usize) -> Vec<u8> {
    let mut out = modexp_input(len, len, len, false);
    let exponent = &mut out[96 + len..96 + 2 * len];
    exponent.fill(0);
    exponent[len - 3..].copy_from_slice(&[1, 0, 1]);
    out
}

/// Modexp input `input` with its base, exponent and modulus each in a
/// word of `width` bytes (leading zeros added): the same operation.
pub fn modexp_widened(input: &[u8], width: usize) -> Vec<u8> {
    let lengths: Vec<usize> = input[..96]
        .chunks(32)
        .map(|word| u128::from_be_bytes(word[16..].try_into().unwrap_or_default()) as usize)
        .collect();
    let mut out = Vec::new();
    for _ in &lengths {
        out.extend(word(width as u128));
    }
    let mut at = 96;
    for len in lengths {
        out.extend(std::iter::repeat_n(0, width - len));
        out.extend(&input[at..at + len]);
        at += len;
    }
    out
}

/// A blake2f (`0x09`, EIP-152) input of `rounds` rounds: BLAKE2b's IV
/// as the state, a message block, the offset counter and the final-block
/// flag set.
pub fn blake2f_input(rounds: u32) -> Vec<u8> {
    let mut out = rounds.to_be_bytes().to_vec();
    let iv: [u64; 8] = [
        0x6a09_e667_f2bd_c948,
        0xbb67_ae85_84ca_a73b,
        0x3c6e_f372_fe94_f82b,
        0xa54f_f53a_5f1d_36f1,
        0x510e_527f_ade6_82d1,
        0x9b05_688c_2b3e_6c1f,
        0x1f83_d9ab_fb41_bd6b,
        0x5be0_cd19_137e_2179,
    ];
    for word in iv {
        out.extend(word.to_le_bytes());
    }
    out.extend((0..128u8).map(|i| i.wrapping_mul(7)));
    out.extend(3u64.to_le_bytes());
    out.extend(0u64.to_le_bytes());
    out.push(1);
    out
}
