//! The node's errors as JSON-RPC reports them: the RPC's edge, where the
//! typed errors of the layers below (a transaction's [`Refusal`], the
//! store's or the producer's [`Failure`]) get their codes. No layer
//! below the RPC names [`RpcError`].

use serde_json::Value;
use ward_chain::tx::TxError;
use ward_executor::ExecError;
use ward_primitives::Hash32;
use ward_rpc::{ErrorData, ErrorObject};
use ward_state::StateError;

use crate::{failure::Failure, mempool::Refusal};

/// A JSON-RPC error: a standard code, a message for people, and
/// `data.kind` naming Ward's reason for programs.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct RpcError {
    /// The JSON-RPC code.
    pub code: i64,
    /// What happened.
    pub message: String,
    /// Ward's reason, for programs.
    pub kind: String,
    /// More fields of `data` (a pending transaction's hash).
    pub extra: Option<(String, Value)>,
    /// An Ethereum method's error (`docs/ethereum.md`): `data` is this
    /// value as Ethereum clients read it (a revert's data as hex), or
    /// absent for `null`, instead of Ward's `{kind, ...}`.
    pub eth: Option<Box<Value>>,
}

impl RpcError {
    pub(crate) fn new(code: i64, kind: &str, message: impl Into<String>) -> Self {
        RpcError {
            code,
            message: message.into(),
            kind: kind.to_owned(),
            extra: None,
            eth: None,
        }
    }

    /// An Ethereum method's error: `code`, `message` and, if any, `data`
    /// as Ethereum clients read them.
    pub(crate) fn eth(code: i64, message: String, data: Option<Value>) -> Self {
        RpcError {
            eth: Some(Box::new(data.unwrap_or(Value::Null))),
            ..RpcError::new(code, "eth", message)
        }
    }

    /// This error as an Ethereum client reads one: its code and message,
    /// without Ward's `data.kind` (an Ethereum error stays as it is).
    pub(crate) fn into_eth(self) -> Self {
        if self.eth.is_some() {
            return self;
        }
        RpcError::eth(self.code, self.message, None)
    }

    /// -32700: the body is not JSON.
    pub(crate) fn parse(message: impl Into<String>) -> Self {
        RpcError::new(-32700, "parse", message)
    }

    /// -32600: not a valid request (or over a request limit).
    pub(crate) fn invalid_request(kind: &str, message: impl Into<String>) -> Self {
        RpcError::new(-32600, kind, message)
    }

    /// -32601.
    pub(crate) fn method_not_found(method: &str) -> Self {
        RpcError::new(-32601, "method_not_found", format!("no method {method:?}"))
    }

    /// -32602.
    pub(crate) fn invalid_params(message: impl Into<String>) -> Self {
        RpcError::new(-32602, "invalid_params", message)
    }

    /// -32602: JSON arguments that do not fit the contract's schema (the
    /// message shows the method's signature).
    pub(crate) fn bad_arguments(message: impl Into<String>) -> Self {
        RpcError::new(-32602, "bad_arguments", message)
    }

    /// -32000: a transaction refused before any block.
    pub(crate) fn refused(kind: &str, message: impl Into<String>) -> Self {
        RpcError::new(-32000, kind, message)
    }

    /// -32001: what was asked for does not exist.
    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        RpcError::new(-32001, "not_found", message)
    }

    /// -32001 as well: what a block or height held, which this node no
    /// longer keeps (`--prune-history`, or a chain restored from a
    /// snapshot).
    pub(crate) fn pruned(message: impl Into<String>) -> Self {
        RpcError::new(-32001, "pruned", message)
    }

    /// -32002: the node failed (never the transaction's doing).
    pub(crate) fn fault(error: &ExecError) -> Self {
        RpcError::new(-32002, "fault", error.to_string())
    }

    /// -32002 for a store failure.
    pub(crate) fn state(error: StateError) -> Self {
        RpcError::new(-32002, "fault", error.to_string())
    }

    /// -32003: a `wait` ran out of time.
    pub(crate) fn timeout(tx: Hash32) -> Self {
        RpcError {
            extra: Some(("tx".into(), Value::String(tx.to_string()))),
            ..RpcError::new(
                -32003,
                "timeout",
                format!("transaction {tx} is not in a block yet"),
            )
        }
    }

    /// -32005: an answer of `size` bytes, more than the `room` left in
    /// the response (`RpcLimits::max_response_bytes`, a batch's total
    /// included).
    pub(crate) fn too_large(size: usize, room: usize) -> Self {
        RpcError::new(
            -32005,
            "response_too_large",
            format!(
                "the answer is {size} bytes, more than the {room} left of this node's bound on a response (--max-response-bytes): ask for less (a smaller batch, a page, getTransaction without full_input)"
            ),
        )
    }

    /// -32004: the node cannot take it now (shutting down, faulted).
    pub(crate) fn unavailable(message: impl Into<String>) -> Self {
        RpcError::new(-32004, "unavailable", message)
    }

    /// -32601 for a dev method on a node without `--dev`.
    pub(crate) fn dev_only(method: &str) -> Self {
        RpcError::new(
            -32601,
            "dev_only",
            format!("{method} is only available on a node started with --dev"),
        )
    }

    /// The `error` member of a response as JSON: [`RpcError::to_wire`],
    /// or for an Ethereum method's error `{code, message[, data]}`.
    pub(crate) fn to_json(&self) -> Value {
        match &self.eth {
            None => serde_json::to_value(self.to_wire()).unwrap_or(Value::Null),
            Some(data) => {
                let mut error = serde_json::Map::new();
                error.insert("code".into(), self.code.into());
                error.insert("message".into(), self.message.clone().into());
                if !data.is_null() {
                    error.insert("data".into(), (**data).clone());
                }
                Value::Object(error)
            }
        }
    }

    /// The `error` member of a response.
    pub(crate) fn to_wire(&self) -> ErrorObject {
        ErrorObject {
            code: self.code,
            message: self.message.clone(),
            data: ErrorData {
                kind: self.kind.clone(),
                extra: self.extra.iter().cloned().collect(),
            },
        }
    }
}

/// A read's or simulation's executor error (a node's `query`,
/// `simulateTransaction`, `estimateGas`, and Ethereum's `eth_call`) as
/// JSON-RPC says it: its wall-clock budget, a refusal, an invalid
/// transaction, or the node's fault.
pub(crate) fn exec_error(error: &ExecError) -> RpcError {
    match error {
        error if crate::producer::is_timeout(error) => RpcError::refused(
            "timeout",
            "the read ran past this node's wall-clock budget for reads (--read-timeout-ms)",
        ),
        ExecError::Refused { refusal, .. } => RpcError::refused("limit", refusal.to_string()),
        ExecError::InvalidTx(message) => RpcError::refused("invalid", message.clone()),
        other => RpcError::fault(other),
    }
}

/// A transaction refused, or dropped from the mempool, as JSON-RPC says
/// it: the node's own failings with their codes, the rest -32000 with the
/// refusal's kind.
impl From<Refusal> for RpcError {
    fn from(refusal: Refusal) -> Self {
        let message = refusal.to_string();
        match refusal {
            Refusal::Aborted(_) => RpcError::new(-32002, "fault", message),
            Refusal::Unavailable(_) => RpcError::unavailable(message),
            refusal => RpcError::refused(refusal.kind(), message),
        }
    }
}

impl From<TxError> for RpcError {
    fn from(error: TxError) -> Self {
        Refusal::Tx(error).into()
    }
}

/// What the store or the producer could not do, as JSON-RPC says it.
impl From<Failure> for RpcError {
    fn from(failure: Failure) -> Self {
        match failure {
            Failure::NotFound(message) => RpcError::not_found(message),
            Failure::Unavailable(message) => RpcError::unavailable(message),
            Failure::Fault(message) => RpcError::new(-32002, "fault", message),
        }
    }
}
