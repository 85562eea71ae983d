//! What a method of Ward's or the dev wing answers (a value, or a
//! transaction to wait for), the flag that says its caller went away,
//! and how a method's typed params are read and its result written.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use serde::{Serialize, de::DeserializeOwned};
use serde_json::{Map, Value};
use ward_primitives::{Address, Hash32};
use ward_rpc::Method;

use crate::{
    error::RpcError,
    mempool::{Committed, Refusal},
};

/// What a method answers: a value, or a transaction to wait for.
pub(crate) enum Answer {
    Value(Value),
    Wait(Waiting),
}

/// A transaction admitted with a waiter: its hash, where its block's
/// receipt arrives, and what it called (its receipt's events and output
/// are decoded by the callee's schema, without reading the transaction
/// back from the store).
pub(crate) struct Waiting {
    pub(crate) hash: Hash32,
    pub(crate) receiver: tokio::sync::oneshot::Receiver<Result<Committed, Refusal>>,
    pub(crate) call: Option<(Address, Vec<u8>)>,
}

/// Whether the request a method runs for was abandoned: its clones share
/// one flag, set when any of them is dropped (the router holds one for
/// as long as it waits, the method another).
#[derive(Clone, Default)]
pub(crate) struct Gone(Arc<AtomicBool>);

impl Gone {
    /// Whether the caller stopped waiting.
    pub(crate) fn is_gone(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

impl Drop for Gone {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

/// A method's params as its type in `ward_rpc::params`: unknown fields,
/// missing ones and mistyped ones are `invalid_params`.
pub(crate) fn params<T: DeserializeOwned>(params: Map<String, Value>) -> Result<T, RpcError> {
    serde_json::from_value(Value::Object(params))
        .map_err(|e| RpcError::invalid_params(e.to_string()))
}

/// A method's result on the wire.
pub(crate) fn answer<T: Serialize>(result: Result<T, RpcError>) -> Result<Answer, RpcError> {
    result.and_then(|value| {
        serde_json::to_value(value)
            .map(Answer::Value)
            .map_err(|e| RpcError::new(-32603, "internal", e.to_string()))
    })
}

/// Runs method `M` with its typed params through `run`.
pub(crate) fn run<M: Method>(
    p: Map<String, Value>,
    run: impl FnOnce(M::Params) -> Result<M::Output, RpcError>,
) -> Result<Answer, RpcError> {
    answer(params::<M::Params>(p).and_then(run))
}
