//! Gas estimation: the smallest gas limit with which a transaction does
//! what it does with the most gas it could be given, found by simulation.

use ward_chain::tx::GasUnit;

use crate::error::ExecError;
use crate::tx::Tx;
use crate::{Executor, intrinsic::EVM_GAS_RATE};
use ward_state::{Receipt, StateCommit};
use ward_vm::{FaultKind, NodeFault};

/// What [`Executor::estimate_gas`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Estimate {
    /// The smallest gas limit with the same outcome as with the most gas:
    /// one unit less changes it (for a transaction whose outcome only
    /// improves with more gas, which is what the search assumes).
    pub gas: u64,
    /// The receipt with that limit.
    pub receipt: Receipt,
    /// How many simulations the search ran.
    pub simulations: u32,
}

/// Whether two receipts tell the same outcome: status, exit code, output
/// and events (gas aside).
fn same_outcome(a: &Receipt, b: &Receipt) -> bool {
    a.status == b.status
        && a.exit_code == b.exit_code
        && a.output == b.output
        && a.events == b.events
}

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// The smallest gas limit for the embedder's transaction `tx` (whose
    /// own limit is ignored; no signature, no nonce: a dry run on behalf
    /// of any sender) as the
    /// only transaction of the next block at `time`, with the outcome it
    /// has at `cap` (at most
    /// [`ChainLimits::max_tx_gas`](crate::ChainLimits::max_tx_gas)): a
    /// simulation at the cap, one at the gas it used there, and a binary search between
    /// the two when that is not enough (a call that forwards a share of
    /// its gas, as the EVM's 63/64, or prepays a loop, needs more than it
    /// uses). `Ok(Err(receipt))` when `tx` does not succeed even at the
    /// cap: there is nothing to estimate, and the receipt says why.
    ///
    /// # Errors
    ///
    /// As [`Executor::simulate`], at the cap.
    pub fn estimate_gas(
        &self,
        tx: &Tx,
        time: u64,
        cap: u64,
    ) -> Result<Result<Estimate, Receipt>, ExecError> {
        self.estimate_gas_in(tx, GasUnit::Ward, time, cap)
    }

    /// [`Executor::estimate_gas`] for `tx` counting gas in `unit`: in EVM
    /// gas, as an Ethereum tool estimates it (`eth_estimateGas`), the cap
    /// and the estimate count EVM gas.
    ///
    /// # Errors
    ///
    /// As [`Executor::estimate_gas`].
    pub fn estimate_gas_in(
        &self,
        tx: &Tx,
        unit: GasUnit,
        time: u64,
        cap: u64,
    ) -> Result<Result<Estimate, Receipt>, ExecError> {
        let max = match unit {
            GasUnit::Ward => self.limits.max_tx_gas,
            GasUnit::Ethereum(_) => self.limits.max_tx_gas / EVM_GAS_RATE,
        };
        let cap = cap.min(max);
        let mut simulations = 0;
        let mut run = |gas: u64| -> Result<Option<Receipt>, ExecError> {
            simulations += 1;
            let mut tx = tx.clone();
            tx.gas_limit = gas;
            match self.simulate(&tx.vouched_in(unit), time) {
                Ok(simulation) => Ok(Some(simulation.receipt)),
                // Below the intrinsic cost: not even admitted.
                Err(ExecError::Refused { .. }) if gas < cap => Ok(None),
                Err(error) => Err(error),
            }
        };
        // A refusal at the cap is returned as the error it is.
        let Some(best) = run(cap)? else {
            return Err(ExecError::Fault(NodeFault::new(
                FaultKind::Invariant,
                "a simulation at the cap was neither run nor refused",
            )));
        };
        if !best.status.is_ok() {
            return Ok(Err(best));
        }
        let fits =
            |receipt: &Option<Receipt>| receipt.as_ref().is_some_and(|r| same_outcome(r, &best));
        // The gas used at the cap is a lower bound: with less, the run
        // would have stopped before it ended.
        let mut low = best.gas_used;
        let at_low = run(low)?;
        if fits(&at_low) {
            let receipt = at_low.unwrap_or(best);
            return Ok(Ok(Estimate {
                gas: low,
                receipt,
                simulations,
            }));
        }
        // `low` fails, `high` fits.
        let (mut high, mut at_high) = (cap, best.clone());
        while high - low > 1 {
            let mid = low + (high - low) / 2;
            let at_mid = run(mid)?;
            if fits(&at_mid) {
                high = mid;
                at_high = at_mid.unwrap_or_else(|| best.clone());
            } else {
                low = mid;
            }
        }
        Ok(Ok(Estimate {
            gas: high,
            receipt: at_high,
            simulations,
        }))
    }
}
