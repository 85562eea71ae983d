//! Runs without a commit: `eth_call` and `eth_estimateGas` on the state
//! after a block, the Ward transaction a call request describes, and
//! how a call that did not succeed is said as geth says it.

use alloy_primitives::{Bytes, TxKind, U64};
use alloy_rpc_types_eth::TransactionRequest;
use serde_json::Value;
use ward_chain::tx::Payload;
use ward_executor::Tx;
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

/// What `eth_estimateGas` adds for the bytes an Ethereum envelope has
/// beyond the unsigned transaction the estimate runs (type, chain id,
/// nonce, fees, the signature): Ward's intrinsic cost counts every stored
/// byte (`docs/gas.md`), and the signed envelope is at most this many
/// bytes longer, plus its access list.
pub const ENVELOPE_EXTRA_BYTES: u64 = 100;

/// The most gas `eth_call` and `eth_estimateGas` run with: the node's
/// `--query-gas-cap`, or on a dev node the chain's `max_tx_gas` (as
/// Hardhat and anvil allow any: a contract's deploy is estimated there).
fn read_cap(shared: &Shared) -> u64 {
    let cap = shared.config().limits.query_gas_cap;
    if shared.config().dev {
        cap.max(shared.settings().max_tx_gas)
    } else {
        cap
    }
}

/// The Ward transaction a call request describes (unsigned: a call or an
/// estimate runs it without a signature or a fee), and its gas cap.
pub(crate) fn request_tx(
    shared: &Shared,
    request: &TransactionRequest,
) -> Result<(Tx, u64), RpcError> {
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
    Ok((
        Tx {
            sender,
            gas_limit: gas,
            value,
            payload,
        },
        gas,
    ))
}

/// `eth_call`: the request run on the state after the block it names,
/// with that block's number and time (`pending`: the next block's),
/// committing nothing; its output, or its revert as code 3 with the
/// revert data.
pub(super) fn call(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let request: TransactionRequest = p.at(0)?;
    let at = call_block(shared, p, 1)?;
    let (tx, _) = request_tx(shared, &request)?;
    let reader = shared.reader(Some(at.state)).map_err(RpcError::from)?;
    let simulation = reader
        .simulate_in(&tx.vouched(), at.number, at.time)
        .map_err(|e| exec_error(&e).into_eth())?;
    let receipt = simulation.receipt;
    if !receipt.status.is_ok() {
        return Err(failed(&receipt));
    }
    to_json(Bytes::from(receipt.output))
}

/// `eth_estimateGas`: Ward's estimate (`estimateGas`) of the request on
/// the latest state, with room for the signed envelope's extra bytes
/// and its access list, and Ward's margin.
pub(super) fn estimate_gas(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let request: TransactionRequest = p.at(0)?;
    let height = block_param(shared, p, 1)?;
    kept(shared, height)?;
    let (tx, cap) = request_tx(shared, &request)?;
    let access_list = request
        .access_list
        .as_ref()
        .map_or(0, |list| alloy_rlp::Encodable::length(list) as u64);
    to_json(U64::from(estimated(
        shared,
        Some(height),
        &tx,
        cap,
        access_list,
    )?))
}

/// The gas `eth_estimateGas` gives `tx` on the state after `height` (the
/// head's for `None`): Ward's estimate at most `cap`, with room for an
/// envelope's extra bytes and `access_list` bytes of access list, and
/// Ward's margin.
pub(super) fn estimated(
    shared: &Shared,
    height: Option<u64>,
    tx: &Tx,
    cap: u64,
    access_list: u64,
) -> Result<u64, RpcError> {
    let reader = shared.reader(height).map_err(RpcError::from)?;
    let estimate = crate::producer::estimate_gas(shared, &reader, tx, cap)
        .map_err(|e| exec_error(&e).into_eth())?
        .map_err(|receipt| estimate_failed(&receipt, cap))?;
    Ok(with_envelope(shared, estimate.gas, access_list))
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

/// `gas` with room for an envelope's extra bytes and `access_list` bytes
/// of access list, and Ward's margin, at most the chain's `max_tx_gas`.
fn with_envelope(shared: &Shared, gas: u64, access_list: u64) -> u64 {
    let intrinsic = |bytes| {
        shared
            .executor()
            .admit_sized(shared.settings().max_tx_gas, bytes)
            .unwrap_or(0)
    };
    let envelope = intrinsic(ENVELOPE_EXTRA_BYTES + access_list).saturating_sub(intrinsic(0));
    let gas = gas.saturating_add(envelope);
    // Never more than a transaction may name: one that needs nearly all
    // of it (a callee that uses what it is given) is still sent.
    gas.saturating_add(gas / 100 * crate::config::ESTIMATE_MARGIN_PERCENT)
        .min(shared.settings().max_tx_gas)
}
