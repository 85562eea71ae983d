//! The `error` member of a response: a JSON-RPC code, a message for
//! people and `data.kind`, Ward's reason for programs (`docs/node.md`
//! has the table of codes and kinds).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The body is not JSON (`parse`).
pub const PARSE: i64 = -32700;
/// Not a valid request, or over a request limit.
pub const INVALID_REQUEST: i64 = -32600;
/// No such method (on this node: `dev_only`).
pub const METHOD_NOT_FOUND: i64 = -32601;
/// A missing, unknown or mistyped field (`invalid_params`), or JSON
/// arguments that do not fit a contract's schema (`bad_arguments`).
pub const INVALID_PARAMS: i64 = -32602;
/// Internal: a method's task died.
pub const INTERNAL: i64 = -32603;
/// A transaction refused before any block, or a read past its time.
pub const REFUSED: i64 = -32000;
/// What was asked for does not exist here (`not_found`, `pruned`).
pub const NOT_FOUND: i64 = -32001;
/// The node failed, never the transaction's doing (`fault`).
pub const FAULT: i64 = -32002;
/// A `wait` ran out of time; `data.tx` names the pending transaction.
pub const TIMEOUT: i64 = -32003;
/// The node cannot take it now (`unavailable`).
pub const UNAVAILABLE: i64 = -32004;
/// An answer past the node's bound on a response.
pub const TOO_LARGE: i64 = -32005;

/// A JSON-RPC error as a node sends it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorObject {
    /// The JSON-RPC code.
    pub code: i64,
    /// What happened, for people.
    pub message: String,
    /// Ward's reason and what goes with it.
    pub data: ErrorData,
}

/// `data` of an [`ErrorObject`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ErrorData {
    /// Ward's reason (`nonce`, `not_found`, ...), for programs.
    pub kind: String,
    /// More fields: `tx`, the pending transaction of a `wait` that ran
    /// out of time.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl std::fmt::Display for ErrorObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({}, {})", self.message, self.data.kind, self.code)
    }
}

impl std::error::Error for ErrorObject {}
