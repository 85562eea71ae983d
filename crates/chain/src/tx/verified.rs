//! A transaction ready to run: who sent it and what it asks, made once
//! from its stored bytes ([`StoredTx::verify`]) or by whoever vouches for
//! it, and the chain's rules it was checked against.

use ward_primitives::{Address, Hash32};

use super::{
    Payload, Sender, StoredTx, TxError, eth,
    gas::{self, AccessListSize, GasUnit},
};

/// A transaction whose sender is established: a signature checked for
/// this chain (Ward's Ed25519, Ethereum's secp256k1), or a dev node or
/// an embedder that vouches for an address no one signed for
/// ([`ChainRules::vouched`]). [`StoredTx::verify`] makes one from any
/// stored transaction; the executor runs nothing else.
///
/// It holds what every kind has in common, and nothing that one kind
/// lacks: no public key for an Ethereum sender, no chain id (the rules
/// it was checked against name the chain), an Ethereum transaction's gas
/// price already the one it pays at the chain's base fee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedTx {
    origin: Sender,
    fields: Fields,
    hash: Hash32,
    bytes: Vec<u8>,
}

/// What a transaction asks for, whatever its kind.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Fields {
    pub(crate) nonce: u64,
    pub(crate) gas_limit: u64,
    pub(crate) gas_price: u128,
    /// The most it may pay per unit of gas: an EIP-1559 transaction's
    /// fee cap, every other kind's gas price.
    pub(crate) fee_cap: u128,
    pub(crate) value: u128,
    pub(crate) payload: Payload,
    pub(crate) unit: GasUnit,
}

impl VerifiedTx {
    /// The one way from bytes to a transaction that runs: the stored
    /// encoding read by its first byte ([`StoredTx::from_bytes`]), then
    /// checked against `rules` ([`StoredTx::verify`]), whatever its kind.
    ///
    /// # Errors
    ///
    /// Bytes that are not one transaction, another chain's, a bad
    /// signature, or one no one signed where the rules do not vouch.
    pub fn from_bytes(bytes: &[u8], rules: &ChainRules) -> Result<VerifiedTx, TxError> {
        StoredTx::from_bytes(bytes)?.verify(rules)
    }

    /// One whose origin was established by its maker (a signature
    /// checked, or a sender vouched for).
    pub(crate) fn new(origin: Sender, fields: Fields, hash: Hash32, bytes: Vec<u8>) -> Self {
        VerifiedTx {
            origin,
            fields,
            hash,
            bytes,
        }
    }

    /// Who stands behind it, and how.
    pub fn origin(&self) -> Sender {
        self.origin
    }

    /// The sending account.
    pub fn sender(&self) -> Address {
        self.origin.address()
    }

    /// Whether it runs in its sender's nonce order: every kind but an
    /// embedder's unsigned transaction, which has no nonce.
    pub fn is_sequenced(&self) -> bool {
        !matches!(self.origin, Sender::Unsigned(_))
    }

    /// Its sender's transaction count before it (0 for an embedder's
    /// unsigned one, which [`VerifiedTx::is_sequenced`] says has none).
    pub fn nonce(&self) -> u64 {
        self.fields.nonce
    }

    /// The most gas it may use, its intrinsic cost included, in its
    /// [`VerifiedTx::gas_unit`].
    pub fn gas_limit(&self) -> u64 {
        self.fields.gas_limit
    }

    /// What it pays per unit of its gas (an Ethereum transaction's at the
    /// base fee of the rules it was verified under, per EVM gas).
    pub fn gas_price(&self) -> u128 {
        self.fields.gas_price
    }

    /// The most it may pay per unit of its gas, whatever the base fee:
    /// an EIP-1559 transaction's fee cap (`max_fee_per_gas`), which its
    /// sender must be able to pay for its whole gas limit, as Ethereum
    /// checks; every other kind's gas price.
    pub fn fee_cap(&self) -> u128 {
        self.fields.fee_cap
    }

    /// Whose gas its limit, its price and its receipt's gas count.
    pub fn gas_unit(&self) -> GasUnit {
        self.fields.unit
    }

    /// What its access list (EIP-2930) names: a signed Ethereum
    /// transaction's; empty for every other kind (what a dev node sends
    /// for an Ethereum tool without a signature keeps only its list's
    /// size, [`GasUnit::Ethereum`]).
    pub fn access_list(&self) -> super::eth::AccessList {
        match self.bytes.split_first() {
            Some((&super::eth::ETH_TAG, envelope)) => super::eth::access_list_of(envelope),
            _ => super::eth::AccessList::new(),
        }
    }

    /// The same transaction counting EVM gas, as an Ethereum tool means
    /// it, with an access list of `access`'s size: for what a dev node
    /// runs without a signature (an impersonated account's or an
    /// embedder's, which [`ChainRules::vouched`] alone takes). Its
    /// encoding is [`super::ETH_GAS_TAG`]'s and its hash BLAKE3 of that.
    /// `None` for a signed transaction (its signer chose its gas: an
    /// Ethereum one counts EVM gas already) and for one in EVM gas
    /// already.
    pub fn in_evm_gas(self, access: AccessListSize) -> Option<VerifiedTx> {
        let unsigned = matches!(self.origin, Sender::Impersonated(_) | Sender::Unsigned(_));
        (unsigned && self.fields.unit == GasUnit::Ward).then(|| self.wrapped(access))
    }

    /// An unsigned or impersonated one, made in Ward gas, in `unit`.
    pub(crate) fn in_unit(self, unit: GasUnit) -> VerifiedTx {
        match unit {
            GasUnit::Ward => self,
            GasUnit::Ethereum(access) => self.wrapped(access),
        }
    }

    /// [`VerifiedTx::in_evm_gas`] for an unsigned one in Ward gas.
    fn wrapped(self, access: AccessListSize) -> VerifiedTx {
        let bytes = gas::wrap(access, &self.bytes);
        VerifiedTx {
            origin: self.origin,
            fields: Fields {
                unit: GasUnit::Ethereum(access),
                ..self.fields
            },
            hash: Hash32(*blake3::hash(&bytes).as_bytes()),
            bytes,
        }
    }

    /// The native asset it moves to the callee or the new contract (none
    /// for an admin payload, whatever its encoding says).
    pub fn value(&self) -> u128 {
        self.fields.payload.moved_value(self.fields.value)
    }

    /// What it does.
    pub fn payload(&self) -> &Payload {
        &self.fields.payload
    }

    /// The input its first frame runs with ([`Payload::input`]).
    pub fn input(&self) -> &[u8] {
        self.fields.payload.input()
    }

    /// Its hash: BLAKE3 of its bytes, or for an Ethereum transaction
    /// keccak-256 of its envelope (what wallets compute).
    pub fn hash(&self) -> Hash32 {
        self.hash
    }

    /// Its canonical encoding: how a block stores it.
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
}

impl StoredTx {
    /// The one way from a stored transaction to one that runs: a signed
    /// one's chain and signature checked ([`super::SignedTx::verify`]),
    /// an Ethereum one's chain ([`ChainRules::check_eth_chain`]; its
    /// signature was recovered when read), and one that no one signed (a
    /// dev node's impersonated one, an embedder's unsigned one) taken
    /// only where the rules vouch for it ([`ChainRules::vouched`]).
    ///
    /// # Errors
    ///
    /// Another chain's, a bad signature, or one no one signed where the
    /// rules do not vouch ([`TxError::Unsigned`]).
    pub fn verify(self, rules: &ChainRules) -> Result<VerifiedTx, TxError> {
        match self {
            StoredTx::Signed(tx) => tx.verify(&rules.chain_id),
            StoredTx::Ethereum(tx) => {
                rules.check_eth_chain(tx.chain_id)?;
                Ok(tx.verified(rules.base_fee))
            }
            StoredTx::Impersonated(sender, body, unit) if rules.vouched => {
                Ok(body.impersonated(sender).in_unit(unit))
            }
            StoredTx::Unsigned(tx, unit) if rules.vouched => Ok(tx.vouched_in(unit)),
            StoredTx::Impersonated(..) | StoredTx::Unsigned(..) => Err(TxError::Unsigned),
        }
    }
}

/// What a chain checks a transaction against.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainRules {
    /// Its chain id, which Ward's own transactions name.
    pub chain_id: String,
    /// Its numeric Ethereum chain id (EIP-155), which Ethereum
    /// transactions name; `None`: it takes none.
    pub eth_chain_id: Option<u64>,
    /// Its Ethereum base fee, per EVM gas: what an EIP-1559
    /// transaction's priority fee is added to ([`eth::EthTx::gas_price`]).
    pub base_fee: u128,
    /// Whether transactions no one signed are taken: a dev node's
    /// impersonated ones and an embedder's unsigned ones. Only for
    /// blocks the node or embedder that made them reads back (a replay,
    /// a trace); never for what arrives from anyone else (admission, a
    /// follower, a replica's shared mempool).
    pub vouched: bool,
}

impl ChainRules {
    /// The rules of chain `chain_id`, which takes no Ethereum
    /// transactions, has no base fee and vouches for no one.
    pub fn new(chain_id: &str) -> ChainRules {
        ChainRules {
            chain_id: chain_id.to_owned(),
            eth_chain_id: None,
            base_fee: 0,
            vouched: false,
        }
    }

    /// The same rules, vouching for what no one signed: for reading back
    /// one's own blocks.
    pub fn vouching(self) -> ChainRules {
        ChainRules {
            vouched: true,
            ..self
        }
    }

    /// Checks that an Ethereum transaction signed for `found` is meant
    /// for this chain.
    ///
    /// # Errors
    ///
    /// [`TxError::NoEthereum`] on a chain without an Ethereum chain id,
    /// [`eth::EthTxError::WrongChain`] for another chain's.
    pub fn check_eth_chain(&self, found: u64) -> Result<(), TxError> {
        match self.eth_chain_id {
            None => Err(TxError::NoEthereum),
            Some(expected) if expected != found => {
                Err(eth::EthTxError::WrongChain { expected, found }.into())
            }
            Some(_) => Ok(()),
        }
    }
}
