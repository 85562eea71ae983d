//! Whose gas a transaction counts (`docs/ethereum.md`, "Gas"): Ward's own
//! transactions count Ward gas; an Ethereum transaction counts EVM gas,
//! as the wallet that signed it does, and so does what a dev node sends
//! for an Ethereum tool without a signature (an impersonated account's
//! `eth_sendTransaction`, an `eth_call` or `eth_estimateGas`), which the
//! stored form marks with [`ETH_GAS_TAG`].

use ward_primitives::codec::{CodecError, Decode, Encode};

/// The first byte of an unsigned or impersonated transaction whose gas is
/// EVM gas: then its access list's size ([`AccessListSize`], two `u64`s),
/// then the transaction as it is stored when its gas is Ward's (starting
/// with [`super::IMPERSONATED_TAG`] or [`super::UNSIGNED_TAG`]).
pub const ETH_GAS_TAG: u8 = 0xd3;

/// How many addresses and storage keys an Ethereum transaction's access
/// list (EIP-2930) names: what its intrinsic gas counts of it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AccessListSize {
    /// Addresses.
    pub accounts: u64,
    /// Storage keys, over all addresses.
    pub keys: u64,
}

/// Whose gas a transaction's gas limit and gas price count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum GasUnit {
    /// Ward gas, what Ward's own transactions count: the intrinsic cost is
    /// Ward's, every frame gets the rest.
    #[default]
    Ward,
    /// EVM gas, as Ethereum counts it: Ethereum's intrinsic gas (with the
    /// access list's), then the rest at the EVM runtime's rate of Ward
    /// gas per EVM gas; its receipt's gas and its price count EVM gas.
    Ethereum(AccessListSize),
}

impl GasUnit {
    /// Whether it counts EVM gas.
    pub fn is_ethereum(&self) -> bool {
        matches!(self, GasUnit::Ethereum(_))
    }
}

/// `inner` (a stored unsigned or impersonated transaction) marked as
/// counting EVM gas: [`ETH_GAS_TAG`], `access`, then `inner`.
pub(crate) fn wrap(access: AccessListSize, inner: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + 16 + inner.len());
    ETH_GAS_TAG.encode(&mut out);
    access.accounts.encode(&mut out);
    access.keys.encode(&mut out);
    out.extend_from_slice(inner);
    out
}

/// What [`wrap`] wrote: the access list's size and the inner bytes.
pub(crate) fn unwrap(bytes: &[u8]) -> Result<(AccessListSize, &[u8]), CodecError> {
    let Some((&ETH_GAS_TAG, mut input)) = bytes.split_first() else {
        return Err(CodecError("not a transaction in EVM gas".into()));
    };
    let accounts = u64::decode(&mut input)?;
    let keys = u64::decode(&mut input)?;
    Ok((AccessListSize { accounts, keys }, input))
}
