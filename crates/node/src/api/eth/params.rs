//! An Ethereum request's positional params, and the errors and values
//! every Ethereum method writes: hex quantities, geth's codes.

use alloy_primitives::Address as EthAddress;
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use ward_primitives::Address;

use crate::error::RpcError;

/// Positional params.
pub(crate) struct Params(pub(crate) Vec<Value>);

impl Params {
    pub(crate) fn new(params: Value) -> Result<Params, RpcError> {
        match params {
            Value::Null => Ok(Params(Vec::new())),
            Value::Array(items) => Ok(Params(items)),
            _ => Err(invalid("params are a JSON array (positional)")),
        }
    }

    /// Param `index`, which must be there.
    pub(crate) fn at<T: DeserializeOwned>(&self, index: usize) -> Result<T, RpcError> {
        self.opt(index)?
            .ok_or_else(|| invalid(&format!("missing value for required argument {index}")))
    }

    /// Param `index`, absent or `null` being `None`.
    pub(crate) fn opt<T: DeserializeOwned>(&self, index: usize) -> Result<Option<T>, RpcError> {
        match self.0.get(index) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|e| invalid(&format!("invalid argument {index}: {e}"))),
        }
    }
}

/// -32602 with `message`.
pub(crate) fn invalid(message: &str) -> RpcError {
    RpcError::eth(-32602, message.to_owned(), None)
}

/// A result on the wire.
pub(crate) fn to_json<T: Serialize>(value: T) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|e| RpcError::eth(-32603, e.to_string(), None))
}

/// The Ward account of a 20-byte address.
pub(crate) fn ward(address: EthAddress) -> Address {
    Address::from_eth(address.into_array())
}

/// An address's last 20 bytes, as Ethereum's shapes show every address.
pub(crate) fn eth20(address: &Address) -> EthAddress {
    EthAddress::from_slice(&address.0[12..])
}

/// A store's failure as Ethereum's -32002.
pub(crate) fn state_error(error: ward_state::StateError) -> RpcError {
    RpcError::eth(-32002, error.to_string(), None)
}
