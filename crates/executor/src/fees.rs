//! How a chain charges for gas (`docs/economics.md`), and the rules a
//! transaction's price and its sender's funds must meet: written once,
//! for a block (which reserves the fee before running a transaction) and
//! for a node's mempool (which admits by the same rules).

use ward_chain::tx::{GasUnit, VerifiedTx};
use ward_primitives::Address;

use crate::{Inadmissible, intrinsic::EVM_GAS_RATE};

/// How a chain charges for gas. Consensus values: the nodes of one chain
/// must agree on them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Fees {
    /// The lowest gas price a signed transaction may name, per Ward gas
    /// (per EVM gas, [`EVM_GAS_RATE`] times it: [`Fees::min_price`]); one
    /// below it is refused ([`Inadmissible::GasPrice`]). Default: 0.
    pub min_gas_price: u128,
    /// The lowest price per EVM gas an Ethereum transaction may pay, the
    /// chain's base fee, where it is not [`Fees::min_gas_price`] times
    /// [`EVM_GAS_RATE`] (one not a multiple of the rate: an Ethereum
    /// fixture's). Default: `None`, the Ward price times the rate.
    pub min_evm_gas_price: Option<u128>,
    /// Who receives the fees, credited once at the end of each block;
    /// `None` burns them. Default: burned.
    pub collector: Option<Address>,
}

/// What a transaction may take from its sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cost {
    /// `gas_limit × gas_price`: reserved before it runs, the unused part
    /// refunded after.
    pub max_fee: u128,
    /// The fee at its cap ([`VerifiedTx::fee_cap`]) and the value
    /// together: what the sender must hold (`None`: more than a `u128`).
    pub need: Option<u128>,
}

/// A price per Ward gas as a price per unit of `unit` (saturating).
pub fn price_per(unit: GasUnit, per_ward_gas: u128) -> u128 {
    match unit {
        GasUnit::Ward => per_ward_gas,
        GasUnit::Ethereum(_) => per_ward_gas.saturating_mul(u128::from(EVM_GAS_RATE)),
    }
}

/// `gas` of `unit` in Ward gas (saturating): what a block's gas maximum
/// counts of a transaction's limit.
pub fn ward_gas(unit: GasUnit, gas: u64) -> u64 {
    match unit {
        GasUnit::Ward => gas,
        GasUnit::Ethereum(_) => gas.saturating_mul(EVM_GAS_RATE),
    }
}

impl Fees {
    /// The lowest gas price a signed transaction in `unit` may name.
    pub fn min_price(&self, unit: GasUnit) -> u128 {
        match (unit, self.min_evm_gas_price) {
            (GasUnit::Ethereum(_), Some(price)) => price,
            _ => price_per(unit, self.min_gas_price),
        }
    }

    /// The cost of `tx` (its gas limit, gas price and value, in its gas
    /// unit), after the chain's price floor (for a signed or impersonated
    /// one: an operator's unsigned transactions pay what they name). What
    /// its sender must hold counts its fee cap ([`VerifiedTx::fee_cap`]),
    /// not the price it pays, for the whole gas limit, as EIP-1559 has a
    /// sender's balance checked.
    ///
    /// # Errors
    ///
    /// [`Inadmissible::GasPrice`] below the floor; [`Inadmissible::Funds`] when the
    /// fee alone overflows.
    pub fn cost(&self, tx: &VerifiedTx) -> Result<Cost, Inadmissible> {
        let (gas_limit, gas_price) = (tx.gas_limit(), tx.gas_price());
        let value = tx.value();
        let min = self.min_price(tx.gas_unit());
        if tx.is_sequenced() && gas_price < min {
            return Err(Inadmissible::GasPrice {
                price: gas_price,
                min,
            });
        }
        let max_fee = u128::from(gas_limit)
            .checked_mul(gas_price)
            .ok_or(Inadmissible::Funds {
                need: u128::MAX,
                have: 0,
            })?;
        let most = u128::from(gas_limit).checked_mul(tx.fee_cap().max(gas_price));
        Ok(Cost {
            max_fee,
            need: most.and_then(|most| most.checked_add(value)),
        })
    }
}

impl Cost {
    /// This cost with `more` taken as well (what the sender's other
    /// pending transactions may take).
    pub fn and(self, more: u128) -> Cost {
        Cost {
            need: self.need.and_then(|need| need.checked_add(more)),
            ..self
        }
    }

    /// Whether a sender holding `have` can pay it.
    ///
    /// # Errors
    ///
    /// [`Inadmissible::Funds`].
    pub fn affordable(&self, have: u128) -> Result<(), Inadmissible> {
        match self.need {
            Some(need) if need <= have => Ok(()),
            need => Err(Inadmissible::Funds {
                need: need.unwrap_or(u128::MAX),
                have,
            }),
        }
    }
}
