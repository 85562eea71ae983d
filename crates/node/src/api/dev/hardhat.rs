//! A dev node's controls under the names Hardhat and anvil give them
//! (`evm_*`, `hardhat_*`, `anvil_*`), so that their tests' helpers work
//! unchanged: each is Ward's own dev method (`controls.rs`) with
//! Ethereum's params and results. Times are in seconds, as Ethereum's
//! blocks show them; Ward's are in milliseconds.

use alloy_primitives::{Address as EthAddress, B256, Bytes, U64, U256};
use serde_json::Value;
use ward_primitives::CodeKind;
use ward_state::StateRead as _;

use super::controls;
use crate::{
    api::eth::params::{Params, invalid, state_error, to_json, ward},
    error::RpcError,
    state::Shared,
};

/// `evm_snapshot`: the new snapshot's id.
pub(super) fn snapshot(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    let id = controls::snapshot(shared).map_err(RpcError::into_eth)?.id;
    to_json(U64::from(id))
}

/// `evm_revert`: whether there was such a snapshot (an unknown one, or
/// one a revert used up, is `false`, as Hardhat and anvil answer).
pub(super) fn revert(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let id: U64 = p.at(0)?;
    match controls::revert(shared, id.to::<u64>()) {
        Ok(_) => to_json(true),
        Err(e) if e.kind == "not_found" => to_json(false),
        Err(e) => Err(e.into_eth()),
    }
}

/// `hardhat_impersonateAccount`, `anvil_impersonateAccount`.
pub(super) fn impersonate(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    controls::impersonate(shared, ward(p.at::<EthAddress>(0)?), true);
    to_json(true)
}

/// `hardhat_stopImpersonatingAccount`, `anvil_stopImpersonatingAccount`.
pub(super) fn stop_impersonating(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    controls::impersonate(shared, ward(p.at::<EthAddress>(0)?), false);
    to_json(true)
}

/// `evm_increaseTime`: the dev clock moved on; its whole offset in
/// seconds, as Hardhat answers.
pub(super) fn increase_time(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let ms = seconds_to_ms(p.at(0)?)?;
    let offset = shared.pool().advance_clock(ms);
    to_json((offset / 1000).to_string())
}

/// `evm_setNextBlockTimestamp`.
pub(super) fn set_next_block_timestamp(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let seconds: U256 = p.at(0)?;
    next_block_time(shared, seconds_to_ms(seconds)?)?;
    Ok(Value::Null)
}

/// `hardhat_setBalance`, `anvil_setBalance`.
pub(super) fn set_balance(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let address = ward(p.at::<EthAddress>(0)?);
    let balance: U256 = p.at(1)?;
    let balance = u128::try_from(balance).map_err(|_| invalid("a balance is at most 2^128 - 1"))?;
    shared.pool().preset(|preset| {
        preset.balances.insert(address, balance);
    });
    controls::mine(shared).map_err(RpcError::into_eth)?;
    to_json(true)
}

/// `hardhat_setStorageAt`, `anvil_setStorageAt`: as the EVM runtime
/// keeps a slot, its 32 bytes, zero absent.
pub(super) fn set_storage_at(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let address = ward(p.at::<EthAddress>(0)?);
    let slot: U256 = p.at(1)?;
    let value: B256 = p.at(2)?;
    let value = (value != B256::ZERO).then(|| value.to_vec());
    shared.pool().preset(|preset| {
        preset
            .storage
            .insert((address, slot.to_be_bytes::<32>().to_vec()), value);
    });
    controls::mine(shared).map_err(RpcError::into_eth)?;
    to_json(true)
}

/// `evm_mine [timestamp]`: one block, at that time.
pub(super) fn evm_mine(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    if let Some(seconds) = p.opt::<U256>(0)? {
        next_block_time(shared, seconds_to_ms(seconds)?)?;
    }
    controls::mine(shared).map_err(RpcError::into_eth)?;
    to_json(U64::ZERO)
}

/// `evm_setAutomine`, `anvil_setAutomine`: whether a block is built as
/// soon as transactions wait; off, they wait for a `mine` or the
/// interval (OpenZeppelin's tests put several in one block so).
pub(super) fn set_automine(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let on: bool = p.at(0)?;
    shared.pool().set_mining(|mining| mining.automine = on);
    to_json(true)
}

/// `hardhat_getAutomine`, `anvil_getAutomine`.
pub(super) fn automine(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(shared.pool().mining().automine)
}

/// `evm_setIntervalMining`, `anvil_setIntervalMining`: a block every so
/// many milliseconds (0: none), beside automine. Hardhat's random
/// interval (`[min, max]`) is refused: a dev node's blocks come when
/// chosen.
pub(super) fn set_interval_mining(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let ms: u64 = p
        .at(0)
        .map_err(|_| invalid("the interval is a number of milliseconds (0: none)"))?;
    if ms > MAX_INTERVAL_MS {
        return Err(invalid(&format!(
            "the interval is at most {MAX_INTERVAL_MS} ms"
        )));
    }
    shared
        .pool()
        .set_mining(|mining| mining.interval = std::time::Duration::from_millis(ms));
    to_json(true)
}

/// The longest `evm_setIntervalMining` interval: a day.
pub const MAX_INTERVAL_MS: u64 = 86_400_000;

/// `hardhat_mine` and `anvil_mine [blocks, interval]`: that many blocks,
/// `interval` seconds apart.
pub(super) fn mine(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let blocks = p.opt::<U64>(0)?.map_or(1, |n| n.saturating_to::<u64>());
    if !(1..=controls::MAX_MINE_BLOCKS).contains(&blocks) {
        return Err(invalid(&format!(
            "1 to {} blocks are mined at a time",
            controls::MAX_MINE_BLOCKS
        )));
    }
    let interval = seconds_to_ms(p.opt::<U256>(1)?.unwrap_or(U256::from(1)))?;
    let mut last = controls::mine(shared).map_err(RpcError::into_eth)?;
    for _ in 1..blocks {
        let next = last
            .time
            .saturating_add(interval)
            .max(shared.config().earliest_block_time(last.time));
        next_block_time(shared, next)?;
        last = controls::mine(shared).map_err(RpcError::into_eth)?;
    }
    Ok(Value::Null)
}

/// The next block at `time` (milliseconds), and the ones after it
/// following on from it, as Hardhat's do.
fn next_block_time(shared: &Shared, time: u64) -> Result<(), RpcError> {
    controls::set_next_block_time(shared, time).map_err(RpcError::into_eth)?;
    shared
        .pool()
        .set_clock(time, crate::producer::unix_millis());
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
pub(super) fn set_code(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let address = ward(p.at::<EthAddress>(0)?);
    let code: Bytes = p.at(1)?;
    let code = code.to_vec();
    let existing = shared.store().contract(&address).map_err(state_error)?;
    let created = match existing {
        Some(_) => None,
        None => Some(
            ward_primitives::RuntimeName::new(ward_chain::tx::eth::EVM_RUNTIME)
                .ok_or_else(|| invalid("no EVM runtime name"))?,
        ),
    };
    // The code and, for a new contract, its kind, set together.
    shared.pool().preset(|preset| {
        if let Some(evm) = created {
            preset.creates.insert(address, CodeKind::Runtime(evm));
        }
        preset.code.insert(address, code);
    });
    controls::mine(shared).map_err(RpcError::into_eth)?;
    to_json(true)
}
