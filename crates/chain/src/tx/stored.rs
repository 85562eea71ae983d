//! The one decoder of a stored transaction: its first byte says which
//! sender kind it is, so nothing is guessed (`docs/transactions.md`,
//! "One encoding"). [`StoredTx::verify`] then makes the one thing that
//! runs, a [`super::VerifiedTx`].

use ward_primitives::Address;

use super::{
    IMPERSONATED_TAG, Payload, SignedTx, TX_VERSION, TxBody, TxError, UNSIGNED_TAG, Unsigned,
    account_address,
    eth::{ETH_TAG, EthTx},
    gas::{self, ETH_GAS_TAG, GasUnit},
    impersonated_from_bytes,
};

/// Who stands behind a transaction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Sender {
    /// The holder of this Ed25519 key signed it.
    Signed([u8; 32]),
    /// A dev node sent it as this address without its key
    /// (`impersonate`).
    Impersonated(Address),
    /// An embedder sent it as this address.
    Unsigned(Address),
    /// The holder of the secp256k1 key of this 20-byte Ethereum address
    /// signed it.
    Ethereum([u8; 20]),
}

impl Sender {
    /// The sending account.
    pub fn address(&self) -> Address {
        match self {
            Sender::Signed(public_key) => account_address(public_key),
            Sender::Impersonated(address) | Sender::Unsigned(address) => *address,
            Sender::Ethereum(address) => Address::from_eth(*address),
        }
    }
}

/// A transaction as a block stores it, of any sender kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoredTx {
    /// Signed by its sender (not verified here: the block that holds it
    /// was).
    Signed(SignedTx),
    /// A dev node's, sent as an address it impersonates, in Ward gas or,
    /// for an Ethereum tool, in EVM gas.
    Impersonated(Address, TxBody, GasUnit),
    /// An embedder's own, in Ward gas or (a dev node's `eth_call`) in EVM
    /// gas.
    Unsigned(Unsigned, GasUnit),
    /// An Ethereum transaction as its sender signed it (not checked
    /// against a chain here: the block that holds it was).
    Ethereum(Box<EthTx>),
}

impl StoredTx {
    /// Reads a stored transaction: [`TX_VERSION`] starts a signed one,
    /// [`IMPERSONATED_TAG`] an impersonated one, [`UNSIGNED_TAG`] an
    /// unsigned one, [`ETH_TAG`] an Ethereum one, [`ETH_GAS_TAG`] an
    /// impersonated or unsigned one in EVM gas; anything else is refused.
    ///
    /// # Errors
    ///
    /// Bytes that are not exactly one transaction of its kind, or of no
    /// kind.
    pub fn from_bytes(bytes: &[u8]) -> Result<StoredTx, TxError> {
        match bytes.first() {
            Some(&TX_VERSION) => SignedTx::from_bytes(bytes).map(StoredTx::Signed),
            Some(&IMPERSONATED_TAG) => {
                let (sender, body) = impersonated_from_bytes(bytes)?;
                Ok(StoredTx::Impersonated(sender, body, GasUnit::Ward))
            }
            Some(&UNSIGNED_TAG) => Ok(StoredTx::Unsigned(
                Unsigned::from_bytes(bytes)?,
                GasUnit::Ward,
            )),
            Some(&ETH_GAS_TAG) => {
                let (access, inner) = gas::unwrap(bytes)?;
                let unit = GasUnit::Ethereum(access);
                match inner.first() {
                    Some(&IMPERSONATED_TAG) => {
                        let (sender, body) = impersonated_from_bytes(inner)?;
                        Ok(StoredTx::Impersonated(sender, body, unit))
                    }
                    Some(&UNSIGNED_TAG) => {
                        Ok(StoredTx::Unsigned(Unsigned::from_bytes(inner)?, unit))
                    }
                    _ => Err(TxError::Malformed(ward_primitives::codec::CodecError(
                        "EVM gas marks only an impersonated or unsigned transaction".into(),
                    ))),
                }
            }
            Some(&ETH_TAG) => Ok(StoredTx::Ethereum(Box::new(EthTx::from_stored(bytes)?))),
            Some(&other) => Err(TxError::Version(other)),
            None => Err(TxError::Malformed(ward_primitives::codec::CodecError(
                "no bytes".into(),
            ))),
        }
    }

    /// Who sent it.
    pub fn sender(&self) -> Sender {
        match self {
            StoredTx::Signed(tx) => Sender::Signed(tx.body.public_key),
            StoredTx::Impersonated(address, ..) => Sender::Impersonated(*address),
            StoredTx::Unsigned(tx, _) => Sender::Unsigned(tx.sender),
            StoredTx::Ethereum(tx) => Sender::Ethereum(tx.from()),
        }
    }

    /// Its body, for a signed or impersonated one (chain id, nonce, price).
    pub fn body(&self) -> Option<&TxBody> {
        match self {
            StoredTx::Signed(tx) => Some(&tx.body),
            StoredTx::Impersonated(_, body, _) => Some(body),
            StoredTx::Unsigned(..) | StoredTx::Ethereum(_) => None,
        }
    }

    /// What it does ([`EthTx::payload`] for an Ethereum one).
    pub fn payload(&self) -> Payload {
        match self {
            StoredTx::Signed(tx) => tx.body.payload.clone(),
            StoredTx::Impersonated(_, body, _) => body.payload.clone(),
            StoredTx::Unsigned(tx, _) => tx.payload.clone(),
            StoredTx::Ethereum(tx) => tx.payload(),
        }
    }

    /// Its gas limit and value.
    pub fn gas_and_value(&self) -> (u64, u128) {
        match self {
            StoredTx::Signed(SignedTx { body, .. }) | StoredTx::Impersonated(_, body, _) => {
                (body.gas_limit, body.value)
            }
            StoredTx::Unsigned(tx, _) => (tx.gas_limit, tx.value),
            StoredTx::Ethereum(tx) => (tx.gas_limit, tx.value),
        }
    }

    /// Whose gas it counts: EVM gas for an Ethereum transaction and for
    /// one [`ETH_GAS_TAG`] marks, Ward gas otherwise.
    pub fn gas_unit(&self) -> GasUnit {
        match self {
            StoredTx::Signed(_) => GasUnit::Ward,
            StoredTx::Impersonated(_, _, unit) | StoredTx::Unsigned(_, unit) => *unit,
            StoredTx::Ethereum(tx) => GasUnit::Ethereum(tx.access_list),
        }
    }
}
