//! Signing with a dev node's accounts, as Hardhat's network and geth's
//! unlocked accounts do: `eth_sign` and `personal_sign` (EIP-191's
//! personal message) and `eth_signTypedData_v4` (EIP-712). Only the dev
//! accounts sign (the test mnemonic's, whose keys are public): an
//! impersonated address has no key, and any other is refused.

use alloy_dyn_abi::eip712::TypedData;
use alloy_primitives::{Address as EthAddress, B256, Bytes, Signature, eip191_hash_message};
use serde_json::Value;
use ward_devkeys as devkeys;

use super::params::{Params, invalid, to_json};
use crate::{error::RpcError, state::Shared};

/// `eth_sign(address, data)`: the EIP-191 personal-message signature of
/// `data` (geth's `eth_sign` prefixes the message, as `personal_sign`
/// does).
pub(super) fn eth_sign(_: &Shared, p: &Params) -> Result<Value, RpcError> {
    let (address, data): (EthAddress, Bytes) = (p.at(0)?, p.at(1)?);
    sign(address, eip191_hash_message(&data))
}

/// `personal_sign(data, address[, password])`: as `eth_sign` with its
/// params the other way round; the password, which a dev account does
/// not need, is ignored.
pub(super) fn personal_sign(_: &Shared, p: &Params) -> Result<Value, RpcError> {
    let (data, address): (Bytes, EthAddress) = (p.at(0)?, p.at(1)?);
    sign(address, eip191_hash_message(&data))
}

/// `eth_signTypedData_v4(address, typedData)`: the signature of the
/// EIP-712 hash of `typedData`, given as an object or as its JSON text
/// (ethers sends the text).
pub(super) fn sign_typed_data(_: &Shared, p: &Params) -> Result<Value, RpcError> {
    let address: EthAddress = p.at(0)?;
    let typed: TypedData = match p.at::<Value>(1)? {
        Value::String(text) => serde_json::from_str(&text),
        object => serde_json::from_value(object),
    }
    .map_err(|e| invalid(&format!("invalid argument 1: not EIP-712 typed data: {e}")))?;
    let hash = typed
        .eip712_signing_hash()
        .map_err(|e| invalid(&format!("invalid argument 1: {e}")))?;
    sign(address, hash)
}

/// `hash` signed with the key of dev account `address`: 65 bytes, `r`,
/// `s` and `v` (27 or 28).
fn sign(address: EthAddress, hash: B256) -> Result<Value, RpcError> {
    let Some(secret) = dev_key(address) else {
        return Err(RpcError::eth(
            -32000,
            format!("unknown account {address}: only this node's dev accounts sign"),
            None,
        ));
    };
    to_json(Bytes::from(sign_hash(secret, hash)?.as_bytes().to_vec()))
}

/// The key of dev account `address` (one of the test mnemonic's first
/// [`devkeys::ACCOUNTS`]), if it is one.
pub(super) fn dev_key(address: EthAddress) -> Option<B256> {
    (0..devkeys::ACCOUNTS)
        .find(|i| devkeys::eth_address(*i) == address.0.0)
        .map(|i| B256::from(devkeys::eth_key(i)))
}

/// `hash` signed with `secret`.
pub(super) fn sign_hash(secret: B256, hash: B256) -> Result<Signature, RpcError> {
    alloy_consensus::crypto::secp256k1::sign_message(secret, hash)
        .map_err(|e| RpcError::eth(-32603, format!("signing failed: {e}"), None))
}
