//! Runs without a commit: `eth_call` and `eth_estimateGas` on the state
//! after a block, the Ward transaction a call request describes, and
//! how a call that did not succeed is said as geth says it.

use alloy_primitives::{Bytes, TxKind, U64};
use alloy_rpc_types_eth::TransactionRequest;
use serde_json::Value;
use ward_chain::tx::{AccessListSize, GasUnit, Payload, VerifiedTx};
use ward_executor::{EVM_GAS_RATE, Tx};
use ward_primitives::Status;
use ward_state::Receipt;

use super::{
    chain::{block_param, call_block, kept},
    params::{Params, invalid, to_json, ward},
};
use crate::{
    error::{RpcError, exec_error},
    state::Shared,
};

/// The most gas `eth_call` and `eth_estimateGas` run with, in EVM gas:
/// the node's `--query-gas-cap`, or on a dev node the chain's
/// `max_tx_gas` (as Hardhat and anvil allow any: a contract's deploy is
/// estimated there), both Ward gas, over [`EVM_GAS_RATE`].
fn read_cap(shared: &Shared) -> u64 {
    let cap = shared.config().limits.query_gas_cap;
    let cap = if shared.config().dev {
        cap.max(shared.settings().max_tx_gas)
    } else {
        cap
    };
    cap / EVM_GAS_RATE
}

/// What a call request asks, as Ward runs it.
pub(crate) struct Request {
    /// The transaction (unsigned: a call or an estimate runs it without a
    /// signature or a fee), its gas in EVM gas.
    pub(crate) tx: Tx,
    /// The most gas it may be given, in EVM gas: the request's gas, at
    /// most the node's read cap.
    pub(crate) cap: u64,
    /// EVM gas, with the request's access list.
    pub(crate) unit: GasUnit,
}

impl Request {
    /// The transaction as it runs, counting EVM gas.
    pub(crate) fn verified(&self) -> VerifiedTx {
        self.tx.clone().vouched_in(self.unit)
    }
}

/// The transaction a call request describes, counting EVM gas as the
/// tool that sent it does.
pub(crate) fn request_tx(
    shared: &Shared,
    request: &TransactionRequest,
) -> Result<Request, RpcError> {
    let cap = read_cap(shared);
    let gas = request.gas.unwrap_or(cap).min(cap);
    let input = request.input.input().cloned().unwrap_or_default().to_vec();
    let payload = match request.to {
        Some(TxKind::Call(to)) => Payload::Call {
            to: ward(to),
            input,
        },
        None | Some(TxKind::Create) => {
            ward_chain::tx::eth::creation_payload(&input).map_err(|e| invalid(&e.to_string()))?
        }
    };
    let value = request.value.unwrap_or_default();
    let value = u128::try_from(value)
        .map_err(|_| invalid("value is above the largest amount (2^128 - 1)"))?;
    let sender = ward(request.from.unwrap_or_default());
    let access = request
        .access_list
        .as_ref()
        .map_or_else(AccessListSize::default, |list| AccessListSize {
            accounts: list.len() as u64,
            keys: list.iter().map(|item| item.storage_keys.len() as u64).sum(),
        });
    Ok(Request {
        tx: Tx {
            sender,
            gas_limit: gas,
            value,
            payload,
        },
        // The request's gas, where it names one, is the estimate's cap,
        // as geth's is.
        cap: gas,
        unit: GasUnit::Ethereum(access),
    })
}

/// `eth_call`: the request run on the state after the block it names,
/// with that block's number and time (`pending`: the next block's),
/// committing nothing; its output, or its revert as code 3 with the
/// revert data.
pub(super) fn call(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let request: TransactionRequest = p.at(0)?;
    let at = call_block(shared, p, 1)?;
    let request = request_tx(shared, &request)?;
    let reader = shared.call_reader(Some(at.state)).map_err(RpcError::from)?;
    let simulation = reader
        .simulate_in(&request.verified(), at.number, at.time)
        .map_err(|e| exec_error(&e).into_eth())?;
    let receipt = simulation.receipt;
    if !receipt.status.is_ok() {
        return Err(failed(&receipt));
    }
    to_json(Bytes::from(receipt.output))
}

/// `eth_estimateGas`: Ward's estimate (`estimateGas`) of the request on
/// the latest state, in EVM gas (Ethereum's intrinsic gas of its data
/// and access list counted), with Ward's margin.
pub(super) fn estimate_gas(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let request: TransactionRequest = p.at(0)?;
    let height = block_param(shared, p, 1)?;
    kept(shared, height)?;
    let request = request_tx(shared, &request)?;
    to_json(U64::from(estimated(shared, Some(height), &request)?))
}

/// The gas `eth_estimateGas` gives `request` on the state after
/// `height` (the head's for `None`): Ward's estimate in EVM gas, at most
/// its cap, with Ward's margin.
pub(super) fn estimated(
    shared: &Shared,
    height: Option<u64>,
    request: &Request,
) -> Result<u64, RpcError> {
    let reader = shared.call_reader(height).map_err(RpcError::from)?;
    let cap = request.cap;
    let estimate = crate::producer::estimate_gas(shared, &reader, (&request.tx, request.unit), cap)
        .map_err(|e| exec_error(&e).into_eth())?
        .map_err(|receipt| estimate_failed(&receipt, cap))?;
    Ok(with_margin(estimate.gas, cap))
}

/// An estimate that does not succeed even at `cap`: out of gas there is
/// geth's "gas required exceeds allowance (cap)", which clients match
/// on; anything else as [`failed`] says it.
pub(crate) fn estimate_failed(receipt: &Receipt, cap: u64) -> RpcError {
    if receipt.error_kind.as_deref() == Some("out_of_gas") {
        return RpcError::eth(
            -32000,
            format!("gas required exceeds allowance ({cap})"),
            None,
        );
    }
    failed(receipt)
}

/// A call or estimate that did not succeed: a revert as code 3 with its
/// data (what ethers, viem and web3.py decode `Error(string)` and custom
/// errors from), anything else as -32000 with Ward's reason.
fn failed(receipt: &Receipt) -> RpcError {
    let output = Bytes::from(receipt.output.clone());
    if receipt.status == Status::Reverted {
        let reason = revert_reason(&receipt.output).map_or_else(
            || "execution reverted".to_owned(),
            |r| format!("execution reverted: {r}"),
        );
        return RpcError::eth(3, reason, Some(Value::String(output.to_string())));
    }
    let why = receipt
        .error_message
        .clone()
        .unwrap_or_else(|| receipt.status.to_string());
    let message = match receipt.error_kind.as_deref() {
        Some("out_of_gas") => format!("out of gas: {why}"),
        _ => format!("execution failed ({}): {why}", receipt.status),
    };
    RpcError::eth(-32000, message, None)
}

/// The message of a revert with `Error(string)`'s data.
pub(crate) fn revert_reason(output: &[u8]) -> Option<String> {
    use alloy_sol_types::{Revert, SolError};
    Revert::abi_decode(output).ok().map(|revert| revert.reason)
}

/// The code of a revert with `Panic(uint256)`'s data (Solidity's checked
/// arithmetic, failed asserts, bad array indexes).
pub(crate) fn panic_code(output: &[u8]) -> Option<alloy_primitives::U256> {
    use alloy_sol_types::{Panic, SolError};
    Panic::abi_decode(output).ok().map(|panic| panic.code)
}

/// `gas` with Ward's margin, at most `cap`: never more than a
/// transaction may name, so one that needs nearly all of it (a callee
/// that uses what it is given) is still sent.
fn with_margin(gas: u64, cap: u64) -> u64 {
    gas.saturating_add(gas / 100 * crate::config::ESTIMATE_MARGIN_PERCENT)
        .min(cap)
}
