//! Signed transactions (`docs/transactions.md`).
//!
//! A transaction is a [`TxBody`] (version, chain id, the sender's Ed25519
//! public key, nonce, gas limit, and a deploy or a call) followed by the
//! sender's signature over the body's hash. The encoding is canonical:
//! decoding accepts exactly the bytes encoding produces, so a
//! transaction's hash ([`SignedTx::hash`], BLAKE3 of the whole signed
//! encoding) names one transaction. Signatures are checked strictly
//! (`verify_strict`: no small-order keys, canonical `S`), so no one but
//! the signer can produce a second valid encoding of the same body.

pub mod eth;
mod gas;
mod payload;
mod stored;
mod unsigned;
mod verified;

use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use ward_primitives::{
    Address, Hash32,
    codec::{CodecError, Decode, Encode, take},
};

pub use gas::{AccessListSize, ETH_GAS_TAG, GasUnit};
pub use payload::{AdminAction, Deploy, Payload, decode_admin, encode_admin};
pub use stored::{Sender, StoredTx};
pub use unsigned::{UNSIGNED_TAG, Unsigned};
use verified::Fields;
pub use verified::{ChainRules, VerifiedTx};

/// The only transaction version this build reads (the first byte). Version
/// 2 added the gas price and the value.
pub const TX_VERSION: u8 = 2;

/// The longest chain id, in bytes.
pub const MAX_CHAIN_ID_BYTES: usize = 64;

/// What the sender signs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxBody {
    /// The chain it is meant for: another chain refuses it.
    pub chain_id: String,
    /// The sender's Ed25519 public key; the sender's address derives from
    /// it ([`account_address`]).
    pub public_key: [u8; 32],
    /// The sender's transaction count before this one: each account's
    /// transactions run in nonce order, each nonce once.
    pub nonce: u64,
    /// The most gas it may use (intrinsic cost included).
    pub gas_limit: u64,
    /// What the sender pays per unit of gas used, in the native asset's
    /// smallest unit (`docs/economics.md`): the fee is `gas_used ×
    /// gas_price`, and the sender must hold `gas_limit × gas_price +
    /// value` for the transaction to run.
    pub gas_price: u128,
    /// The native asset the sender moves to the called contract (or
    /// account), or to the new contract of a deploy.
    pub value: u128,
    /// A deploy or a call.
    pub payload: Payload,
}

/// A body with its sender's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTx {
    /// What was signed.
    pub body: TxBody,
    /// Ed25519 over [`TxBody::hash`].
    pub signature: [u8; 64],
}

/// Why transaction bytes were refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TxError {
    /// The bytes are not one transaction's encoding.
    #[error("malformed transaction: {0}")]
    Malformed(#[from] CodecError),
    /// A version this build does not read.
    #[error("transaction version {0}, this build reads {TX_VERSION}")]
    Version(u8),
    /// The chain id is empty, too long or uses characters outside
    /// `[A-Za-z0-9._-]`.
    #[error("invalid chain id {0:?}")]
    InvalidChainId(String),
    /// Meant for another chain.
    #[error("transaction for chain {found:?}, this is {expected:?}")]
    WrongChain {
        /// This chain.
        expected: String,
        /// The transaction's.
        found: String,
    },
    /// The public key is not a valid Ed25519 key.
    #[error("invalid public key")]
    InvalidKey,
    /// The signature does not verify against the body and the key.
    #[error("bad signature")]
    BadSignature,
    /// An Ethereum transaction refused ([`eth::EthTxError`]).
    #[error(transparent)]
    Ethereum(#[from] eth::EthTxError),
    /// An Ethereum transaction on a chain that has no Ethereum chain id.
    #[error("this chain takes no Ethereum transactions (its genesis sets no eth_chain_id)")]
    NoEthereum,
    /// A transaction no one signed (a dev node's impersonated one, an
    /// embedder's unsigned one) where the rules vouch for no one.
    #[error("an unsigned transaction: only the node or embedder that made it runs it")]
    Unsigned,
}

/// The address of the account whose public key is `public_key`: BLAKE3 of
/// the domain tag `ward-account-address` and the key's 32 bytes. It cannot
/// collide with a contract's address, whose tag differs.
pub fn account_address(public_key: &[u8; 32]) -> Address {
    let mut hasher = blake3::Hasher::new();
    hasher.update(b"ward-account-address");
    hasher.update(public_key);
    Address(*hasher.finalize().as_bytes())
}

fn valid_chain_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_CHAIN_ID_BYTES
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Checks a chain id's syntax (what a node's `--chain-id` accepts).
///
/// # Errors
///
/// [`TxError::InvalidChainId`].
pub fn check_chain_id(id: &str) -> Result<(), TxError> {
    if valid_chain_id(id) {
        Ok(())
    } else {
        Err(TxError::InvalidChainId(id.to_owned()))
    }
}

impl Encode for TxBody {
    fn encode(&self, out: &mut Vec<u8>) {
        TX_VERSION.encode(out);
        self.chain_id.encode(out);
        out.extend(self.public_key);
        self.nonce.encode(out);
        self.gas_limit.encode(out);
        self.gas_price.encode(out);
        self.value.encode(out);
        self.payload.encode_to(out);
    }
}

impl TxBody {
    /// A body from the key that will sign it, at no gas price and moving
    /// no value (set [`TxBody::gas_price`] and [`TxBody::value`] after,
    /// or with struct update syntax, for a transaction that pays).
    pub fn new(
        chain_id: &str,
        key: &VerifyingKey,
        nonce: u64,
        gas_limit: u64,
        payload: Payload,
    ) -> Self {
        Self {
            chain_id: chain_id.into(),
            public_key: key.to_bytes(),
            nonce,
            gas_limit,
            gas_price: 0,
            value: 0,
            payload,
        }
    }

    /// What is signed: BLAKE3 of the body's encoding.
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.to_bytes()).as_bytes())
    }

    /// Signs the body with `key` (whose public key should be
    /// [`TxBody::public_key`]: otherwise the signature will not verify).
    pub fn sign(self, key: &SigningKey) -> SignedTx {
        let signature = key.sign(&self.hash().0).to_bytes();
        SignedTx {
            body: self,
            signature,
        }
    }

    /// The sender's address.
    pub fn sender(&self) -> Address {
        account_address(&self.public_key)
    }

    /// Reads a body, leaving what follows it.
    fn decode(input: &mut &[u8]) -> Result<Self, TxError> {
        let version = u8::decode(input)?;
        if version != TX_VERSION {
            return Err(TxError::Version(version));
        }
        let chain_id = String::decode(input)?;
        if !valid_chain_id(&chain_id) {
            return Err(TxError::InvalidChainId(chain_id));
        }
        let mut public_key = [0u8; 32];
        public_key.copy_from_slice(take(input, 32)?);
        let nonce = u64::decode(input)?;
        let gas_limit = u64::decode(input)?;
        let gas_price = u128::decode(input)?;
        let value = u128::decode(input)?;
        let payload = Payload::decode_from(input)?;
        Ok(TxBody {
            chain_id,
            public_key,
            nonce,
            gas_limit,
            gas_price,
            value,
            payload,
        })
    }
}

impl SignedTx {
    /// The canonical encoding: the body, then the 64-byte signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.body.to_bytes();
        out.extend(self.signature);
        out
    }

    /// The transaction's hash: BLAKE3 of [`SignedTx::to_bytes`].
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.to_bytes()).as_bytes())
    }

    /// Reads a transaction from exactly `bytes`. Checks the structure
    /// only; [`SignedTx::verify`] checks the chain and the signature.
    ///
    /// # Errors
    ///
    /// Bytes that are not one transaction of this version.
    pub fn from_bytes(bytes: &[u8]) -> Result<SignedTx, TxError> {
        let mut input = bytes;
        let body = TxBody::decode(&mut input)?;
        let mut signature = [0u8; 64];
        signature.copy_from_slice(take(&mut input, 64)?);
        if !input.is_empty() {
            return Err(CodecError(format!("{} trailing bytes", input.len())).into());
        }
        Ok(SignedTx { body, signature })
    }

    /// Checks that the transaction is meant for `chain_id` and that its
    /// signature verifies, strictly.
    ///
    /// # Errors
    ///
    /// Another chain, an invalid key or a bad signature.
    pub fn verify(&self, chain_id: &str) -> Result<VerifiedTx, TxError> {
        if self.body.chain_id != chain_id {
            return Err(TxError::WrongChain {
                expected: chain_id.to_owned(),
                found: self.body.chain_id.clone(),
            });
        }
        let key =
            VerifyingKey::from_bytes(&self.body.public_key).map_err(|_| TxError::InvalidKey)?;
        let signature = Signature::from_bytes(&self.signature);
        key.verify_strict(&self.body.hash().0, &signature)
            .map_err(|_| TxError::BadSignature)?;
        Ok(self.clone().verified())
    }

    /// The [`VerifiedTx`] of a transaction whose chain and signature
    /// were checked.
    fn verified(self) -> VerifiedTx {
        let bytes = self.to_bytes();
        VerifiedTx::new(
            Sender::Signed(self.body.public_key),
            self.body.into_fields(),
            Hash32(*blake3::hash(&bytes).as_bytes()),
            bytes,
        )
    }

    /// A [`VerifiedTx`] without checking the chain or the signature: for
    /// benchmarks that compare execution alone (feature `unchecked`).
    /// Anything built on it accepts forged transactions.
    #[cfg(feature = "unchecked")]
    pub fn verified_unchecked(self) -> VerifiedTx {
        self.verified()
    }
}

/// The first byte of an impersonated transaction's encoding
/// ([`TxBody::impersonated`]): no signed transaction starts with it (they
/// start with [`TX_VERSION`]), and nor does an embedder's own.
pub const IMPERSONATED_TAG: u8 = 0xd1;

impl TxBody {
    /// The transaction `sender` makes with this body, *not signed*: what a
    /// dev node runs for an address it impersonates (`impersonate`, as
    /// anvil's `anvil_impersonateAccount`). Its encoding is
    /// [`IMPERSONATED_TAG`], the sender's 32 bytes, then the body (whose
    /// public key says nothing and is all zeros by convention); its hash
    /// is BLAKE3 of that. [`StoredTx::verify`] refuses it unless the
    /// rules vouch for what no one signed ([`ChainRules::vouched`]), so no
    /// node that checks signatures (a replica, a follower) takes a block
    /// that holds one: only the dev node that made it runs it.
    pub fn impersonated(self, sender: Address) -> VerifiedTx {
        let bytes = self.impersonated_bytes(sender);
        VerifiedTx::new(
            Sender::Impersonated(sender),
            self.into_fields(),
            Hash32(*blake3::hash(&bytes).as_bytes()),
            bytes,
        )
    }

    /// [`TxBody::impersonated`], counting gas in `unit`: what a dev node
    /// sends for an Ethereum tool (`eth_sendTransaction` from an address
    /// it impersonates) counts EVM gas ([`VerifiedTx::in_evm_gas`]).
    pub fn impersonated_in(self, sender: Address, unit: GasUnit) -> VerifiedTx {
        self.impersonated(sender).in_unit(unit)
    }

    /// [`TxBody::impersonated`]'s encoding.
    fn impersonated_bytes(&self, sender: Address) -> Vec<u8> {
        let mut bytes = vec![IMPERSONATED_TAG];
        bytes.extend(sender.0);
        bytes.extend(self.to_bytes());
        bytes
    }

    /// What it asks for, without who asks or where.
    fn into_fields(self) -> Fields {
        Fields {
            nonce: self.nonce,
            gas_limit: self.gas_limit,
            gas_price: self.gas_price,
            fee_cap: self.gas_price,
            value: self.value,
            payload: self.payload,
            unit: GasUnit::Ward,
        }
    }
}

/// Reads an impersonated transaction as [`TxBody::impersonated`] encodes
/// it ([`StoredTx::from_bytes`] reads every kind).
fn impersonated_from_bytes(bytes: &[u8]) -> Result<(Address, TxBody), TxError> {
    let Some((&IMPERSONATED_TAG, mut input)) = bytes.split_first() else {
        return Err(CodecError("not an impersonated transaction".into()).into());
    };
    let sender = Address::decode(&mut input)?;
    let body = TxBody::decode(&mut input)?;
    if !input.is_empty() {
        return Err(CodecError(format!("{} trailing bytes", input.len())).into());
    }
    // Canonical: the bytes read are the bytes it encodes to.
    if body.impersonated_bytes(sender) != bytes {
        return Err(CodecError("not a canonical impersonated transaction".into()).into());
    }
    Ok((sender, body))
}

#[cfg(test)]
mod tests;
