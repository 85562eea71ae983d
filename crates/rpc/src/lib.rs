//! The JSON-RPC of a Ward node as serde types: every method's name, the
//! params it takes and the result it answers, the request and response
//! envelopes, and the error object (`docs/node.md` is the reference).
//!
//! The node reads its params and writes its results with these types;
//! the CLI's remote client, the tests and any Rust client write and read
//! them with the same ones. The crate has no engine and no runtime: it
//! is what a client links.
//!
//! ```
//! use ward_rpc::{Method, methods::GetNonce, params, request};
//! use ward_primitives::Address;
//!
//! let body = request::<GetNonce>(7, &params::AddressOnly { address: Address([1; 32]) });
//! assert_eq!(body["method"], "getNonce");
//! assert_eq!(GetNonce::NAME, "getNonce");
//! let answer = serde_json::json!({"jsonrpc": "2.0", "id": 7,
//!     "result": {"nonce": 3, "pending": 4, "applied_height": 9}});
//! let nonce = ward_rpc::result::<GetNonce>(answer).unwrap();
//! assert_eq!((nonce.value.nonce, nonce.value.pending, nonce.applied_height), (3, 4, Some(9)));
//! ```

#[cfg(feature = "client")]
pub mod client;
pub mod error;
pub mod params;
pub mod results;
pub mod wire;

use serde::{Deserialize, Serialize, de::DeserializeOwned};
use serde_json::{Value, json};

pub use error::{ErrorData, ErrorObject};

/// One method of the RPC: its name and what it takes and answers.
pub trait Method {
    /// Its name on the wire.
    const NAME: &'static str;
    /// Only on a node started with `--dev`.
    const DEV: bool;
    /// Its params.
    type Params: Serialize + DeserializeOwned;
    /// Its result.
    type Output: Serialize + DeserializeOwned;
}

macro_rules! methods {
    (
        chain: { $( $(#[$cdoc:meta])* $cty:ident = $cname:literal, $cparams:ty => $cout:ty; )* }
        dev: { $( $(#[$ddoc:meta])* $dty:ident = $dname:literal, $dparams:ty => $dout:ty; )* }
    ) => {
        /// One type per method, naming it for [`crate::request`] and
        /// [`crate::result`].
        pub mod methods {
            use super::*;
            $(
                $(#[$cdoc])*
                #[derive(Debug)]
                pub enum $cty {}
                impl Method for $cty {
                    const NAME: &'static str = $cname;
                    const DEV: bool = false;
                    type Params = $cparams;
                    type Output = $cout;
                }
            )*
            $(
                $(#[$ddoc])*
                #[derive(Debug)]
                pub enum $dty {}
                impl Method for $dty {
                    const NAME: &'static str = $dname;
                    const DEV: bool = true;
                    type Params = $dparams;
                    type Output = $dout;
                }
            )*
        }

        /// Every method a node answers, the dev methods last.
        pub const METHODS: &[&str] = &[$($cname,)* $($dname,)*];

        /// The methods only a node started with `--dev` answers.
        pub const DEV_METHODS: &[&str] = &[$($dname,)*];

        /// `params` read as what method `name` takes and written again
        /// (`None`: no such method).
        pub fn params_again(name: &str, params: Value) -> Option<Result<Value, serde_json::Error>> {
            match name {
                $($cname => Some(again::<<methods::$cty as Method>::Params>(params)),)*
                $($dname => Some(again::<<methods::$dty as Method>::Params>(params)),)*
                _ => None,
            }
        }

        /// `result` read as what method `name` answers and written again:
        /// the same value when the type has every field of it (`None`: no
        /// such method).
        pub fn result_again(name: &str, result: Value) -> Option<Result<Value, serde_json::Error>> {
            match name {
                $($cname => Some(again::<<methods::$cty as Method>::Output>(result)),)*
                $($dname => Some(again::<<methods::$dty as Method>::Output>(result)),)*
                _ => None,
            }
        }
    };
}

fn again<T: Serialize + DeserializeOwned>(value: Value) -> Result<Value, serde_json::Error> {
    serde_json::to_value(serde_json::from_value::<T>(value)?)
}

methods! {
    chain: {
        /// Sends a signed transaction.
        SendRawTransaction = "sendRawTransaction", params::Raw => results::Sent;
        /// Runs a transaction on the latest state, committing nothing.
        SimulateTransaction = "simulateTransaction", params::Simulate => results::Receipt;
        /// A transaction with its receipt, or pending.
        GetTransaction = "getTransaction", params::GetTransaction => results::Found;
        /// A committed transaction replayed with its frames.
        TraceTransaction = "traceTransaction", params::TraceTransaction => results::Trace;
        /// The least gas limit with the same outcome.
        EstimateGas = "estimateGas", params::Estimate => results::Estimate;
        /// A read-only call.
        Query = "query", params::Query => results::Receipt;
        /// A storage value with its proof.
        GetStorage = "getStorage", params::GetStorage => results::Storage;
        /// A page of a contract's storage.
        GetStorageRange = "getStorageRange", params::GetStorageRange => results::StorageRange;
        /// A contract's code, kind, admin, history and schema.
        GetContract = "getContract", params::AddressOnly => results::Contract;
        /// A block by height or hash.
        GetBlock = "getBlock", params::GetBlock => results::Block;
        /// A committed block run again on its parent's state, beside it.
        ReplayBlock = "replayBlock", params::GetBlock => results::Replay;
        /// The latest block.
        GetLatestBlock = "getLatestBlock", params::Empty => results::Block;
        /// A page of events.
        GetEvents = "getEvents", params::GetEvents => results::Events;
        /// An account's nonce in blocks and in the mempool.
        GetNonce = "getNonce", params::AddressOnly => results::Nonce;
        /// A balance with its proof.
        GetBalance = "getBalance", params::GetBalance => results::Balance;
        /// The chain's settings and the node's.
        GetNetwork = "getNetwork", params::Empty => results::Network;
        /// A value of the state tree by key hash.
        GetStateValue = "getStateValue", params::GetStateValue => results::StateValue;
        /// Code by its hash.
        GetCode = "getCode", params::GetCode => results::Code;
        /// A consistent copy of the store.
        Backup = "backup", params::Backup => results::Backup;
    }
    dev: {
        /// Signs and sends a transaction for a dev account (or an
        /// impersonated address).
        SendTransaction = "sendTransaction", params::Transaction => results::Sent;
        /// Builds blocks now.
        Mine = "mine", params::Mine => results::Block;
        /// The next block's time.
        SetNextBlockTime = "setNextBlockTime", params::SetNextBlockTime => results::BlockTime;
        /// Sets a balance in a block built at once.
        SetBalance = "setBalance", params::SetBalance => results::Block;
        /// Sets a storage entry in a block built at once.
        SetStorage = "setStorage", params::SetStorage => results::Block;
        /// Replaces a contract's code in a block built at once.
        SetCode = "setCode", params::SetCode => results::Block;
        /// Sends as an address without its key.
        Impersonate = "impersonate", params::AddressOnly => results::Impersonation;
        /// Stops sending as an address.
        StopImpersonating = "stopImpersonating", params::AddressOnly => results::Impersonation;
        /// Records the whole chain to go back to.
        Snapshot = "snapshot", params::Empty => results::Snapshot;
        /// Puts the chain back as it was at a snapshot.
        Revert = "revert", params::Revert => results::Snapshot;
    }
}

/// A request for method `M` with id `id`.
///
/// # Panics
///
/// Never: params are plain data, which always serialize.
pub fn request<M: Method>(id: u64, params: &M::Params) -> Value {
    let params = serde_json::to_value(params).unwrap_or(Value::Null);
    json!({ "jsonrpc": "2.0", "id": id, "method": M::NAME, "params": params })
}

/// A result and the node's height when it started answering (for a
/// `wait`, when the receipt arrived): what the result shows includes at
/// least that block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Applied<T> {
    /// The result.
    #[serde(flatten)]
    pub value: T,
    /// The node's height (absent from results that are not objects).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied_height: Option<u64>,
}

/// What a call of a method can end in, for a client.
#[derive(Debug)]
pub enum CallError {
    /// The node's error.
    Rpc(ErrorObject),
    /// The response is not the method's: the node and the client
    /// disagree on the wire format.
    Shape(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Rpc(error) => error.fmt(f),
            CallError::Shape(why) => write!(f, "the node's answer does not read: {why}"),
        }
    }
}

impl std::error::Error for CallError {}

/// The result of method `M` in `response`, or its error.
///
/// # Errors
///
/// The node's error object, or a response that is not the method's.
pub fn result<M: Method>(mut response: Value) -> Result<Applied<M::Output>, CallError> {
    if let Some(error) = response.get_mut("error").map(Value::take)
        && !error.is_null()
    {
        return Err(CallError::Rpc(
            serde_json::from_value(error).map_err(|e| CallError::Shape(e.to_string()))?,
        ));
    }
    let result = response
        .get_mut("result")
        .map(Value::take)
        .ok_or_else(|| CallError::Shape("neither \"result\" nor \"error\"".into()))?;
    serde_json::from_value(result).map_err(|e| CallError::Shape(format!("{}: {e}", M::NAME)))
}

#[cfg(test)]
mod tests;
