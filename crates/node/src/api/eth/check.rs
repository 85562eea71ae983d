//! An Ethereum request's positional params checked against its method's
//! row ([`super::methods`]) before it runs, as geth reads them.

use super::{methods::EthMethod, params::invalid};
use crate::error::RpcError;

/// Checks an Ethereum request's positional `params` against its method's
/// row before it runs, as geth reads them: no more than the method takes
/// ("too many arguments"), a block param whose number is a canonical
/// quantity (`0x0`, or no leading zero: `0x0001` is refused, not read as
/// block 1), a storage slot of 1 to 64 hex digits, a block hash where a
/// hash is asked for, and no state or block overrides, which this node
/// does not apply (a call run without them would answer for another
/// state).
pub(crate) fn check_params(row: &EthMethod, params: &serde_json::Value) -> Result<(), RpcError> {
    let method = row.name;
    let items: &[serde_json::Value] = match params {
        serde_json::Value::Array(items) => items,
        _ => return Ok(()),
    };
    if items.len() > row.max_params {
        return Err(invalid(&format!(
            "too many arguments, want at most {}",
            row.max_params
        )));
    }
    let at = |index: usize| items.get(index).filter(|v| !v.is_null());
    if let Some(index) = row.block_param
        && let Some(block) = at(index)
    {
        block_id(block).map_err(|why| invalid(&format!("invalid argument {index}: {why}")))?;
    }
    match method {
        "eth_getLogs" | "eth_newFilter" => {
            for field in ["fromBlock", "toBlock"] {
                if let Some(block) = at(0).and_then(|f| f.get(field)).filter(|v| !v.is_null()) {
                    block_id(block)
                        .map_err(|why| invalid(&format!("invalid argument 0: {field}: {why}")))?;
                }
            }
        }
        "eth_call" | "eth_estimateGas" | "debug_traceCall" => {
            let overrides = if method == "debug_traceCall" {
                at(2).and_then(|config| {
                    config
                        .get("stateOverrides")
                        .or(config.get("blockOverrides"))
                })
            } else {
                at(2).or(at(3))
            };
            if overrides.is_some_and(|o| !o.is_null()) {
                return Err(invalid(&format!(
                    "{method}: state and block overrides are not supported by this node; on a dev node set the state with hardhat_setBalance, hardhat_setStorageAt and hardhat_setCode, or evm_setNextBlockTimestamp, then call"
                )));
            }
        }
        "eth_getStorageAt" => {
            if let Some(slot) = at(1) {
                hex_digits(slot, 64)
                    .map_err(|why| invalid(&format!("invalid argument 1: {why}")))?;
            }
        }
        "debug_traceBlockByHash" => {
            let hash = at(0).and_then(|h| h.as_str()).unwrap_or("");
            let digits = hash.strip_prefix("0x").unwrap_or("");
            if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(invalid(&format!(
                    "invalid argument 0: a block hash is 32 bytes of hex, not {}",
                    at(0).map_or_else(|| "nothing".to_owned(), ToString::to_string)
                )));
            }
        }
        _ => {}
    }
    Ok(())
}

/// Why `value`, a block param, is not one geth reads: a tag, a canonical
/// quantity, a block hash (32 bytes of hex, EIP-1898), or an object with
/// a `blockNumber` quantity or a `blockHash`.
fn block_id(value: &serde_json::Value) -> Result<(), String> {
    let hash = |text: &str| {
        text.strip_prefix("0x")
            .is_some_and(|d| d.len() == 64 && d.bytes().all(|b| b.is_ascii_hexdigit()))
    };
    match value {
        serde_json::Value::String(text) => match text.as_str() {
            "latest" | "earliest" | "pending" | "safe" | "finalized" => Ok(()),
            text if hash(text) => Ok(()),
            text => quantity(text),
        },
        serde_json::Value::Object(object) => match object.get("blockNumber") {
            Some(serde_json::Value::String(number)) => quantity(number),
            _ => Ok(()),
        },
        _ => Ok(()),
    }
}

/// Why `text` is not a canonical hex quantity (geth's words).
fn quantity(text: &str) -> Result<(), String> {
    let Some(digits) = text.strip_prefix("0x") else {
        return Err(format!("hex string without 0x prefix: {text:?}"));
    };
    if digits.is_empty() {
        return Err("hex string \"0x\"".into());
    }
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("invalid hex string: {text:?}"));
    }
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(format!("hex number with leading zero digits: {text:?}"));
    }
    if digits.len() > 16 {
        return Err(format!("hex number > 64 bits: {text:?}"));
    }
    Ok(())
}

/// Why `value` is not a string of `0x` and 1 to `max` hex digits.
fn hex_digits(value: &serde_json::Value, max: usize) -> Result<(), String> {
    let Some(text) = value.as_str() else {
        return Err(format!("a hex string is expected, not {value}"));
    };
    let digits = text
        .strip_prefix("0x")
        .ok_or_else(|| format!("hex string without 0x prefix: {text:?}"))?;
    if digits.is_empty() || digits.len() > max || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("1 to {max} hex digits are expected, not {text:?}"));
    }
    Ok(())
}
