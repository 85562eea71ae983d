//! How a chain charges for gas (`docs/economics.md`), and the rules a
//! transaction's price and its sender's funds must meet: written once,
//! for a block (which reserves the fee before running a transaction) and
//! for a node's mempool (which admits by the same rules).

use ward_primitives::Address;

use crate::Inadmissible;

/// How a chain charges for gas. Consensus values: the nodes of one chain
/// must agree on them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Fees {
    /// The lowest gas price a signed transaction may name; one below it is
    /// refused ([`Inadmissible::GasPrice`]). Default: 0.
    pub min_gas_price: u128,
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
    /// The fee and the value together (`None`: more than a `u128`).
    pub need: Option<u128>,
}

impl Fees {
    /// The cost of a transaction with `gas_limit`, `gas_price` and
    /// `value`, after the chain's price floor (for a `signed` one: an
    /// operator's unsigned transactions pay what they name).
    ///
    /// # Errors
    ///
    /// [`Inadmissible::GasPrice`] below the floor; [`Inadmissible::Funds`] when the
    /// fee alone overflows.
    pub fn cost(
        &self,
        signed: bool,
        gas_limit: u64,
        gas_price: u128,
        value: u128,
    ) -> Result<Cost, Inadmissible> {
        let min = self.min_gas_price;
        if signed && gas_price < min {
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
        Ok(Cost {
            max_fee,
            need: max_fee.checked_add(value),
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
