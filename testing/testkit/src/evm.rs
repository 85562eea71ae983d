//! The EVM runtime (`contracts/evm`) and its Solidity contracts
//! (`contracts/evm/solidity`) for tests: the creation code solc wrote, and
//! the little ABI encoding tests need (words, selectors, topics).

use std::path::Path;

use sha3::Digest as _;

/// Ward gas per EVM gas: `contracts/evm`'s `GAS_RATE`, which the
/// conformance test (`benches/tests/evm_conformance.rs`) proves the
/// runtime charges.
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
