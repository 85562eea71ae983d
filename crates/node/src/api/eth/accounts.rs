//! An account's balance, nonce, code and storage at a block, and a dev
//! node's own accounts.

use alloy_primitives::{Address as EthAddress, B256, Bytes, U64, U256};
use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag};
use serde_json::Value;
use ward_devkeys as devkeys;
use ward_primitives::Address;

use super::{
    chain::read_state,
    params::{Params, invalid, state_error, to_json, ward},
};
use crate::{error::RpcError, state::Shared};

/// Slots one `eth_getStorageValues` reads at most.
pub const MAX_STORAGE_VALUES: usize = 1024;

/// `eth_getBalance`.
pub(super) fn balance(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let address = ward(p.at::<EthAddress>(0)?);
    let balance = read_state(shared, p, 1, |state| state.balance(&address))?;
    to_json(U256::from(balance))
}

/// `eth_getTransactionCount`: at `pending`, what the sender's next
/// transaction takes, past the ones waiting in the mempool (read with
/// the committed nonce under the pool's lock).
pub(super) fn transaction_count(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let address = ward(p.at::<EthAddress>(0)?);
    let pending = matches!(
        p.opt::<BlockId>(1)?,
        Some(BlockId::Number(BlockNumberOrTag::Pending))
    );
    let nonce = if pending {
        shared.nonces(&address).map_err(state_error)?.1
    } else {
        read_state(shared, p, 1, |state| state.nonce(&address))?
    };
    to_json(U64::from(nonce))
}

/// `eth_getCode`: an EVM contract's bytecode, a Wasm contract's module;
/// empty for an account.
pub(super) fn code(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let address = ward(p.at::<EthAddress>(0)?);
    let code = read_state(shared, p, 1, |state| {
        let Some(info) = state.contract(&address)? else {
            return Ok(Vec::new());
        };
        Ok(state.code(&info.code_hash)?.unwrap_or_default())
    })?;
    to_json(Bytes::from(code))
}

/// `eth_getStorageAt`.
pub(super) fn storage_at(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let address = ward(p.at::<EthAddress>(0)?);
    let slot: U256 = p.at(1)?;
    let value = read_state(shared, p, 2, |state| {
        state.storage(&address, &slot.to_be_bytes::<32>())
    })?;
    to_json(storage_word(value.as_deref()))
}

/// `eth_getStorageValues`: `{address: [slot, ...]}` at one block, each
/// slot's 32-byte word.
pub(super) fn storage_values(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let requests: std::collections::BTreeMap<EthAddress, Vec<U256>> = p.at(0)?;
    if requests.values().map(Vec::len).sum::<usize>() > MAX_STORAGE_VALUES {
        return Err(invalid(&format!(
            "at most {MAX_STORAGE_VALUES} slots in one request"
        )));
    }
    let values = read_state(shared, p, 1, |state| {
        let mut out = serde_json::Map::new();
        for (address, slots) in &requests {
            let contract: Address = ward(*address);
            let mut words = Vec::with_capacity(slots.len());
            for slot in slots {
                let value = state.storage(&contract, &slot.to_be_bytes::<32>())?;
                words.push(Value::from(storage_word(value.as_deref()).to_string()));
            }
            out.insert(address.to_string(), Value::Array(words));
        }
        Ok(out)
    })?;
    Ok(Value::Object(values))
}

/// `eth_accounts`: a dev node's Ethereum accounts (the test mnemonic's
/// first ten); none elsewhere.
pub(super) fn accounts(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    let accounts: Vec<EthAddress> = if shared.config().dev {
        (0..devkeys::ACCOUNTS)
            .map(|i| EthAddress::from(devkeys::eth_address(i)))
            .collect()
    } else {
        Vec::new()
    };
    to_json(accounts)
}

/// A storage value as a 32-byte word: an EVM slot's value is stored
/// big-endian and 32 bytes long; a shorter Wasm value is right-aligned,
/// a longer one cut to its first 32 bytes.
pub(super) fn storage_word(value: Option<&[u8]>) -> B256 {
    let mut word = [0u8; 32];
    if let Some(value) = value {
        let value = &value[..value.len().min(32)];
        word[32 - value.len()..].copy_from_slice(value);
    }
    B256::from(word)
}
