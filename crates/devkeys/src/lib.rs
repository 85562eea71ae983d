//! Ward's published development accounts: the keys a `--dev` chain
//! funds and prints, and that tests, examples and benchmarks sign with.
//!
//! Two families, each from a published seed, so anyone can derive every
//! key: they are for development chains only, and no consensus code
//! depends on them (`ward-chain`, which a light client needs, stays
//! without the key derivations).
//!
//! - Ward's own Ed25519 accounts: [`key`] and [`address`], BLAKE3's key
//!   derivation with [`SEED`] as context over the index.
//! - Ethereum accounts of the test mnemonic Hardhat and anvil use:
//!   [`eth_key`] and [`eth_address`], along BIP-44's Ethereum path.
//!
//! ```
//! use ward_devkeys as dev;
//!
//! let signer = dev::key(0);
//! assert_eq!(
//!     dev::address(0),
//!     ward_chain::tx::account_address(&signer.verifying_key().to_bytes()),
//! );
//! // Hardhat's and anvil's first account.
//! assert_eq!(
//!     hex::encode(dev::eth_address(0)),
//!     "f39fd6e51aad88f6f4ce6ab8827279cfffb92266",
//! );
//! ```

use ed25519_dalek::SigningKey;
use ward_primitives::Address;

/// How many accounts of each family a `--dev` node funds and prints.
pub const ACCOUNTS: u32 = 10;

/// The published seed of Ward's dev accounts ([`key`]).
pub const SEED: &str = "ward dev accounts 2026-11 v1";

/// The test mnemonic Hardhat, anvil and every Ethereum tool's examples
/// use: a `--dev` chain funds its first [`ACCOUNTS`] accounts
/// (`m/44'/60'/0'/0/i`).
pub const MNEMONIC: &str = "test test test test test test test test test test test junk";

/// The signing key of Ward dev account `index`: BLAKE3's key derivation
/// with [`SEED`] as context over the index (`u32`, little-endian).
pub fn key(index: u32) -> SigningKey {
    SigningKey::from_bytes(&blake3::derive_key(SEED, &index.to_le_bytes()))
}

/// The address of Ward dev account `index` ([`key`]'s account).
pub fn address(index: u32) -> Address {
    ward_chain::tx::account_address(&key(index).verifying_key().to_bytes())
}

/// The secret key of dev Ethereum account `index`: BIP-39's seed of
/// [`MNEMONIC`] (no passphrase), derived along BIP-44's Ethereum path
/// `m/44'/60'/0'/0/index` (BIP-32), as Hardhat and anvil derive it.
///
/// # Panics
///
/// Never for an index below 2^31 (a BIP-32 path's unhardened range);
/// higher ones are not accounts.
pub fn eth_key(index: u32) -> [u8; 32] {
    static SEED: std::sync::OnceLock<[u8; 64]> = std::sync::OnceLock::new();
    let seed = SEED.get_or_init(|| {
        let mut seed = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<sha2::Sha512>(MNEMONIC.as_bytes(), b"mnemonic", 2048, &mut seed);
        seed
    });
    let path: bip32::DerivationPath = format!("m/44'/60'/0'/0/{index}")
        .parse()
        .expect("a BIP-44 path with an index below 2^31 parses");
    bip32::XPrv::derive_from_path(seed, &path)
        .expect("derivation from a 64-byte seed succeeds but with negligible probability")
        .to_bytes()
}

/// The 20-byte address of dev Ethereum account `index` ([`eth_key`]'s).
pub fn eth_address(index: u32) -> [u8; 20] {
    EthKey::dev(index).address
}

/// A secp256k1 secret key and its 20-byte Ethereum address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EthKey {
    /// The secret key.
    pub secret: [u8; 32],
    /// Its Ethereum address.
    pub address: [u8; 20],
}

impl EthKey {
    /// The key `secret` is.
    ///
    /// # Panics
    ///
    /// When `secret` is no secp256k1 secret key (zero, or the curve's
    /// order or more).
    pub fn from_secret(secret: [u8; 32]) -> EthKey {
        let signing =
            k256::ecdsa::SigningKey::from_slice(&secret).expect("a valid secp256k1 secret key");
        let address = ward_chain::tx::eth::address_of(signing.verifying_key());
        EthKey { secret, address }
    }

    /// Dev Ethereum account `index` ([`eth_key`]).
    pub fn dev(index: u32) -> EthKey {
        EthKey::from_secret(eth_key(index))
    }

    /// Its Ward account: the 32-byte address an Ethereum address stands
    /// for on Ward.
    pub fn account(&self) -> Address {
        Address::from_eth(self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ward_keys_are_fixed_and_distinct() {
        // The published seed gives these keys on every machine.
        assert_eq!(
            hex::encode(key(0).verifying_key().to_bytes()),
            "421c3cbad21c790a7ccae68262a79b8895d885d7167cd76b9f11f50fc34a0e78"
        );
        let addresses: std::collections::BTreeSet<_> = (0..ACCOUNTS).map(address).collect();
        assert_eq!(addresses.len(), ACCOUNTS as usize);
    }

    /// The Ethereum dev accounts are Hardhat's and anvil's: the keys and
    /// addresses both print for the test mnemonic.
    #[test]
    fn ethereum_accounts_are_the_test_mnemonics() {
        let published = [
            (
                "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
                "f39fd6e51aad88f6f4ce6ab8827279cfffb92266",
            ),
            (
                "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
                "70997970c51812dc3a010c7d01b50e0d17dc79c8",
            ),
            (
                "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
                "a0ee7a142d267c1f36714e4a8f75612f20a79720",
            ),
        ];
        for ((key, address), index) in published.iter().zip([0, 1, 9]) {
            assert_eq!(hex::encode(eth_key(index)), *key, "{index}");
            assert_eq!(hex::encode(eth_address(index)), *address, "{index}");
        }
    }
}
