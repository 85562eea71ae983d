//! A dev node's controls under the names Hardhat and anvil give them
//! (`evm_*`, `hardhat_*`, `anvil_*`), so that their tests' helpers work
//! unchanged: each is Ward's own dev method (`rpc/dev.rs`) with
//! Ethereum's params and results. Times are in seconds, as Ethereum's
//! blocks show them; Ward's are in milliseconds.

use alloy_primitives::{Address as EthAddress, B256, Bytes, U64, U256};
use serde_json::Value;
use ward_primitives::CodeKind;
use ward_rpc::Method as _;
use ward_state::StateRead as _;

use super::dev;
use crate::{
    error::RpcError,
    eth::{DEV_ALIASES, Params, invalid, to_json, ward},
    state::Shared,
};

/// Runs Hardhat or anvil control `method`.
pub(super) fn dispatch(
    shared: &Shared,
    method: &str,
    params: serde_json::Value,
) -> Result<Value, RpcError> {
    let p = &Params::new(params)?;
    run(shared, method, p)
}

fn run(shared: &Shared, method: &str, p: &Params) -> Result<Value, RpcError> {
    if crate::eth::EthMethod::find(DEV_ALIASES, method).is_none() {
        return Err(RpcError::eth(
            -32601,
            format!("the method {method} does not exist/is not available"),
            None,
        ));
    }
    dev::dev(shared, method).map_err(RpcError::into_eth)?;
    let base = method.split_once('_').map_or(method, |(_, name)| name);
    match base {
        "snapshot" => to_json(U64::from(
            dev::snapshot(shared).map_err(RpcError::into_eth)?.id,
        )),
        "revert" => {
            let id: U64 = p.at(0)?;
            match dev::revert(shared, id.to::<u64>()) {
                Ok(_) => to_json(true),
                // An unknown snapshot (or one a revert used up): false,
                // as Hardhat and anvil answer.
                Err(e) if e.kind == "not_found" => to_json(false),
                Err(e) => Err(e.into_eth()),
            }
        }
        "impersonateAccount" | "stopImpersonatingAccount" => {
            let address = ward(p.at::<EthAddress>(0)?);
            let ward_method = if base == "impersonateAccount" {
                ward_rpc::methods::Impersonate::NAME
            } else {
                ward_rpc::methods::StopImpersonating::NAME
            };
            dev::impersonate(shared, address, ward_method);
            to_json(true)
        }
        _ => {
            dev::single(shared, method).map_err(RpcError::into_eth)?;
            blocks(shared, method, base, p)
        }
    }
}

/// The controls that make blocks or steer them.
fn blocks(shared: &Shared, method: &str, base: &str, p: &Params) -> Result<Value, RpcError> {
    match base {
        "mine" => mine(shared, method, p),
        "increaseTime" => {
            let ms = seconds_to_ms(p.at(0)?)?;
            let offset = shared.pool.advance_clock(ms);
            // The total offset in seconds, as Hardhat answers.
            to_json((offset / 1000).to_string())
        }
        "setNextBlockTimestamp" => {
            let seconds: U256 = p.at(0)?;
            next_block_time(shared, seconds_to_ms(seconds)?)?;
            Ok(Value::Null)
        }
        "setBalance" => {
            let address = ward(p.at::<EthAddress>(0)?);
            let balance: U256 = p.at(1)?;
            let balance =
                u128::try_from(balance).map_err(|_| invalid("a balance is at most 2^128 - 1"))?;
            shared.pool.preset(|preset| {
                preset.balances.insert(address, balance);
            });
            dev::mine(shared).map_err(RpcError::into_eth)?;
            to_json(true)
        }
        "setCode" => {
            let address = ward(p.at::<EthAddress>(0)?);
            let code: Bytes = p.at(1)?;
            set_code(shared, address, code.to_vec())
        }
        "setStorageAt" => {
            let address = ward(p.at::<EthAddress>(0)?);
            let slot: U256 = p.at(1)?;
            let value: B256 = p.at(2)?;
            // As the EVM runtime keeps a slot: its 32 bytes, zero absent.
            let value = (value != B256::ZERO).then(|| value.to_vec());
            shared.pool.preset(|preset| {
                preset
                    .storage
                    .insert((address, slot.to_be_bytes::<32>().to_vec()), value);
            });
            dev::mine(shared).map_err(RpcError::into_eth)?;
            to_json(true)
        }
        other => Err(RpcError::eth(
            -32601,
            format!("the method {other} does not exist/is not available"),
            None,
        )),
    }
}

/// `evm_mine [timestamp]` (one block, at that time), `hardhat_mine` and
/// `anvil_mine [blocks, interval]` (that many, `interval` seconds apart).
fn mine(shared: &Shared, method: &str, p: &Params) -> Result<Value, RpcError> {
    if method == "evm_mine" {
        if let Some(seconds) = p.opt::<U256>(0)? {
            next_block_time(shared, seconds_to_ms(seconds)?)?;
        }
        dev::mine(shared).map_err(RpcError::into_eth)?;
        return to_json(U64::ZERO);
    }
    let blocks = p.opt::<U64>(0)?.map_or(1, |n| n.saturating_to::<u64>());
    if !(1..=dev::MAX_MINE_BLOCKS).contains(&blocks) {
        return Err(invalid(&format!(
            "{method} mines 1 to {} blocks at a time",
            dev::MAX_MINE_BLOCKS
        )));
    }
    let interval = seconds_to_ms(p.opt::<U256>(1)?.unwrap_or(U256::from(1)))?;
    let mut last = dev::mine(shared).map_err(RpcError::into_eth)?;
    for _ in 1..blocks {
        let next = last
            .time
            .saturating_add(interval)
            .max(shared.config.earliest_block_time(last.time));
        next_block_time(shared, next)?;
        last = dev::mine(shared).map_err(RpcError::into_eth)?;
    }
    Ok(Value::Null)
}

/// The next block at `time` (milliseconds), and the ones after it
/// following on from it, as Hardhat's do.
fn next_block_time(shared: &Shared, time: u64) -> Result<(), RpcError> {
    dev::set_next_block_time(shared, time).map_err(RpcError::into_eth)?;
    shared.pool.set_clock(time, crate::producer::unix_millis());
    Ok(())
}

/// Seconds since the epoch as Ward's milliseconds.
fn seconds_to_ms(seconds: U256) -> Result<u64, RpcError> {
    u64::try_from(seconds)
        .ok()
        .and_then(|s| s.checked_mul(1000))
        .ok_or_else(|| invalid("the time is too far ahead"))
}

/// `hardhat_setCode`: an existing contract's code replaced, or an EVM
/// contract made at an address that has none, as Hardhat and anvil do.
/// A Ward or WASI contract's new module must pass a deploy's checks.
fn set_code(
    shared: &Shared,
    address: ward_primitives::Address,
    code: Vec<u8>,
) -> Result<Value, RpcError> {
    let existing = shared
        .store
        .contract(&address)
        .map_err(crate::eth::state_error)?;
    let created = match existing {
        Some(_) => None,
        None => Some(
            ward_primitives::RuntimeName::new(ward_chain::tx::eth::EVM_RUNTIME)
                .ok_or_else(|| invalid("no EVM runtime name"))?,
        ),
    };
    // The code and, for a new contract, its kind, set together.
    shared.pool.preset(|preset| {
        if let Some(evm) = created {
            preset.creates.insert(address, CodeKind::Runtime(evm));
        }
        preset.code.insert(address, code);
    });
    dev::mine(shared).map_err(RpcError::into_eth)?;
    to_json(true)
}
