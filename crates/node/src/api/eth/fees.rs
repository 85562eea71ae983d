//! Fees: the gas price a node asks, the chain's constant base fee, and
//! `eth_feeHistory` over it.

use alloy_primitives::{U64, U256};
use alloy_rpc_types_eth::{BlockNumberOrTag, FeeHistory};
use serde_json::Value;

use super::{
    chain::number,
    gas::{self, block_gas_limit, node_gas_price, priority_fee},
    params::{Params, invalid, to_json},
    shape,
};
use crate::{error::RpcError, state::Shared};

/// `eth_gasPrice`: the least this node admits, per EVM gas.
pub(super) fn gas_price(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(U256::from(node_gas_price(shared)))
}

/// `eth_baseFee`: the next block's, the chain's constant one.
pub(super) fn base_fee(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(U256::from(gas::base_fee(shared)))
}

/// `eth_maxPriorityFeePerGas`: what this node wants above the base fee.
pub(super) fn max_priority_fee(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(U256::from(priority_fee(shared)))
}

/// `eth_feeHistory`: Ward's base fee is the chain's constant least gas
/// price; the rewards are what this node wants above it.
pub(super) fn fee_history(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let count: U64 = p.at(0)?;
    let newest: BlockNumberOrTag = p.at(1)?;
    let percentiles: Option<Vec<f64>> = p.opt(2)?;
    if let Some(percentiles) = &percentiles {
        reward_percentiles(percentiles)?;
    }
    let newest = number(shared, newest)?
        .ok_or_else(|| RpcError::eth(-32000, "header not found".into(), None))?;
    let count = count.to::<u64>().clamp(1, 1024).min(newest + 1);
    let oldest = newest + 1 - count;
    let base = gas::base_fee(shared);
    let max_gas = block_gas_limit(shared).max(1);
    let mut ratios = Vec::new();
    for height in oldest..=newest {
        let used: u64 = if height == 0 {
            0
        } else {
            shape::block_gas_used(shared, &shape::receipts(shared, height)?)?
        };
        ratios.push(used as f64 / max_gas as f64);
    }
    let reward = percentiles.map(|ps| vec![vec![priority_fee(shared); ps.len()]; count as usize]);
    to_json(FeeHistory {
        base_fee_per_gas: vec![base; count as usize + 1],
        gas_used_ratio: ratios,
        base_fee_per_blob_gas: Vec::new(),
        blob_gas_used_ratio: Vec::new(),
        oldest_block: oldest,
        reward,
    })
}

/// Reward percentiles `eth_feeHistory` takes at most.
pub const MAX_REWARD_PERCENTILES: usize = 100;

/// Refuses reward percentiles as geth does, before any answer is built:
/// at most [`MAX_REWARD_PERCENTILES`] of them, each in 0 to 100,
/// ascending.
fn reward_percentiles(percentiles: &[f64]) -> Result<(), RpcError> {
    if percentiles.len() > MAX_REWARD_PERCENTILES {
        return Err(invalid(&format!(
            "too many reward percentiles: {}, at most {MAX_REWARD_PERCENTILES}",
            percentiles.len()
        )));
    }
    for (i, &p) in percentiles.iter().enumerate() {
        if !(0.0..=100.0).contains(&p) {
            return Err(invalid(&format!("invalid reward percentile: #{i}:{p}")));
        }
        if i > 0 && p < percentiles[i - 1] {
            return Err(invalid(&format!(
                "invalid reward percentile: #{}:{} > #{i}:{p}",
                i - 1,
                percentiles[i - 1]
            )));
        }
    }
    Ok(())
}
