//! An embedder's own transaction: sent as an address it names, with no
//! signature, nonce, chain id or price (a data directory's operator runs
//! it: `ward deploy` and `ward call` without `--node`, the in-process
//! chains of `ward-test`, the C and Go hosts). No node admits one.

use ward_primitives::{
    Address, Hash32,
    codec::{CodecError, Decode, Encode},
};

use super::{GasUnit, Payload, Sender, VerifiedTx, verified::Fields};

/// The first byte of an unsigned transaction's encoding: no signed
/// transaction starts with it (they start with [`super::TX_VERSION`]), nor
/// an impersonated one ([`super::IMPERSONATED_TAG`]).
pub const UNSIGNED_TAG: u8 = 0xd0;

/// An embedder's unsigned transaction: its sender, gas limit, the native
/// asset it moves, and what it does.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsigned {
    /// Who sends it (the embedder vouches for it).
    pub sender: Address,
    /// The most gas it may use.
    pub gas_limit: u64,
    /// Native asset moved from the sender to the callee or the new
    /// contract.
    pub value: u128,
    /// What it does.
    pub payload: Payload,
}

impl Unsigned {
    /// A call of `to` with `input` from `sender`, at most `gas_limit`
    /// gas, moving nothing.
    pub fn call(sender: Address, to: Address, input: Vec<u8>, gas_limit: u64) -> Unsigned {
        Unsigned {
            sender,
            gas_limit,
            value: 0,
            payload: Payload::Call { to, input },
        }
    }

    /// Its gas limit.
    pub fn gas_limit(&self) -> u64 {
        self.gas_limit
    }

    /// The native asset it moves (none for an admin payload, whatever
    /// its `value` field says).
    pub fn value(&self) -> u128 {
        self.payload.moved_value(self.value)
    }

    /// Who sends it.
    pub fn sender(&self) -> Address {
        self.sender
    }

    /// The input its first frame runs with ([`Payload::input`]).
    pub fn input(&self) -> &[u8] {
        self.payload.input()
    }

    /// The canonical encoding (what a block stores): [`UNSIGNED_TAG`],
    /// the sender, the gas limit, the value, then the payload as every
    /// transaction encodes it ([`Payload::encode_to`]).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len() as usize);
        UNSIGNED_TAG.encode(&mut out);
        self.sender.encode(&mut out);
        self.gas_limit.encode(&mut out);
        self.value.encode(&mut out);
        self.payload.encode_to(&mut out);
        out
    }

    /// The length of [`Unsigned::to_bytes`], without encoding.
    pub fn encoded_len(&self) -> u64 {
        1 + 32 + 8 + 16 + self.payload.encoded_len()
    }

    /// Its hash: BLAKE3 of its encoding.
    pub fn hash(&self) -> Hash32 {
        Hash32(*blake3::hash(&self.to_bytes()).as_bytes())
    }

    /// The transaction as it runs, its sender vouched for by the
    /// embedder that made it (no signature, no nonce): what
    /// [`super::StoredTx::verify`] gives under rules that vouch.
    pub fn vouched(self) -> VerifiedTx {
        let bytes = self.to_bytes();
        let hash = Hash32(*blake3::hash(&bytes).as_bytes());
        VerifiedTx::new(
            Sender::Unsigned(self.sender),
            Fields {
                nonce: 0,
                gas_limit: self.gas_limit,
                gas_price: 0,
                fee_cap: 0,
                value: self.value,
                payload: self.payload,
                unit: GasUnit::Ward,
            },
            hash,
            bytes,
        )
    }

    /// [`Unsigned::vouched`], counting gas in `unit`: a dev node's
    /// simulation of what an Ethereum tool asks (`eth_call`,
    /// `eth_estimateGas`) counts EVM gas ([`VerifiedTx::in_evm_gas`]).
    pub fn vouched_in(self, unit: GasUnit) -> VerifiedTx {
        self.vouched().in_unit(unit)
    }

    /// Reads one from exactly `bytes`.
    ///
    /// # Errors
    ///
    /// Bytes that are not one unsigned transaction.
    pub fn from_bytes(bytes: &[u8]) -> Result<Unsigned, CodecError> {
        let Some((&UNSIGNED_TAG, mut input)) = bytes.split_first() else {
            return Err(CodecError("not an unsigned transaction".into()));
        };
        let tx = Unsigned::decode_body(&mut input)?;
        if !input.is_empty() {
            return Err(CodecError(format!("{} trailing bytes", input.len())));
        }
        Ok(tx)
    }

    /// What follows [`UNSIGNED_TAG`].
    fn decode_body(input: &mut &[u8]) -> Result<Unsigned, CodecError> {
        Ok(Unsigned {
            sender: Address::decode(input)?,
            gas_limit: u64::decode(input)?,
            value: u128::decode(input)?,
            payload: Payload::decode_from(input)?,
        })
    }
}
