//! Gas and prices as Ethereum's tools see them: EVM gas, and prices per
//! EVM gas ([`ward_executor::EVM_GAS_RATE`] Ward gas each). What the
//! fee methods answer, what blocks and receipts show, what a send is
//! checked against.

use ward_chain::tx::GasUnit;

use crate::state::Shared;

/// A price per Ward gas as Ethereum's tools see prices: per EVM gas
/// ([`ward_executor::EVM_GAS_RATE`] times it).
pub(crate) fn per_evm_gas(per_ward_gas: u128) -> u128 {
    ward_executor::price_per(GasUnit::Ethereum(Default::default()), per_ward_gas)
}

/// The chain's base fee, per EVM gas: its least gas price
/// ([`per_evm_gas`]), constant.
pub(crate) fn base_fee(shared: &Shared) -> u128 {
    per_evm_gas(shared.settings().min_gas_price.0)
}

/// The least gas price this node admits from Ethereum's tools, per EVM
/// gas ([`Shared::min_gas_price`]'s).
pub(crate) fn node_gas_price(shared: &Shared) -> u128 {
    per_evm_gas(shared.min_gas_price())
}

/// What a transaction must offer above the base fee for this node to
/// admit it, per EVM gas: its own floor (`--min-gas-price`) less the
/// chain's.
pub(crate) fn priority_fee(shared: &Shared) -> u128 {
    node_gas_price(shared).saturating_sub(base_fee(shared))
}

/// The most gas a block holds, in EVM gas: the chain's `max_block_gas`
/// over [`ward_executor::EVM_GAS_RATE`].
pub(crate) fn block_gas_limit(shared: &Shared) -> u64 {
    shared.settings().max_block_gas / ward_executor::EVM_GAS_RATE
}

/// `gas` of a transaction counting `unit` as Ethereum counts it: EVM gas
/// as it is, Ward gas rounded up to whole EVM gas.
pub(crate) fn evm_gas(unit: GasUnit, gas: u64) -> u64 {
    match unit {
        GasUnit::Ethereum(_) => gas,
        GasUnit::Ward => gas.div_ceil(ward_executor::EVM_GAS_RATE),
    }
}
