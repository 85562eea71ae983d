//! A blocking client of a node's JSON-RPC (the `client` feature): one
//! typed call per method, over HTTP with `ureq`.
//!
//! ```no_run
//! use ward_rpc::{client::Client, methods::GetNonce, params::AddressOnly};
//! use ward_primitives::Address;
//!
//! let node = Client::new("http://127.0.0.1:8545")?;
//! let nonce = node.call::<GetNonce>(&AddressOnly { address: Address([1; 32]) })?;
//! println!("nonce {} at block {:?}", nonce.value.nonce, nonce.applied_height);
//! # Ok::<(), ward_rpc::client::ClientError>(())
//! ```

use std::time::Duration;

use serde_json::Value;

use crate::{Applied, CallError, ErrorObject, Method};

/// How long one call may take unless told otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);

/// How many bytes an answer may have unless told otherwise.
pub const DEFAULT_LIMIT: u64 = 256 << 20;

/// Why a call has no result.
#[derive(Debug)]
pub enum ClientError {
    /// The URL is not `http://…`.
    Url(String),
    /// The node could not be reached, or its answer not read whole.
    Unreachable {
        /// The endpoint asked.
        endpoint: String,
        /// What the transport said.
        why: String,
    },
    /// The node answered with an HTTP status other than 200.
    Status {
        /// The status.
        status: u16,
        /// The body, trimmed.
        body: String,
    },
    /// The node's JSON-RPC error.
    Rpc(ErrorObject),
    /// The answer is not the method's (not JSON, or another shape): the
    /// node and the client disagree on the wire format.
    Shape(String),
}

impl std::fmt::Display for ClientError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ClientError::Url(url) => write!(f, "a node's URL is http://HOST:PORT, not {url:?}"),
            ClientError::Unreachable { endpoint, why } => {
                write!(f, "cannot reach the node at {endpoint}: {why}")
            }
            ClientError::Status { status, body } => {
                write!(f, "the node answered HTTP {status}: {body}")
            }
            ClientError::Rpc(error) => write!(f, "the node refused: {error}"),
            ClientError::Shape(why) => write!(f, "the node's answer does not read: {why}"),
        }
    }
}

impl std::error::Error for ClientError {}

/// A node at a URL.
#[derive(Clone, Debug)]
pub struct Client {
    endpoint: String,
    agent: ureq::Agent,
    limit: u64,
}

impl Client {
    /// A client of the node at `url` (`http://HOST:PORT`), with
    /// [`DEFAULT_TIMEOUT`] and [`DEFAULT_LIMIT`].
    ///
    /// # Errors
    ///
    /// [`ClientError::Url`] when `url` is not `http://…`.
    pub fn new(url: &str) -> Result<Client, ClientError> {
        Client::with(url, DEFAULT_TIMEOUT, DEFAULT_LIMIT)
    }

    /// A client whose calls each take at most `timeout` and read answers
    /// of at most `limit` bytes.
    ///
    /// # Errors
    ///
    /// [`ClientError::Url`] when `url` is not `http://…`.
    pub fn with(url: &str, timeout: Duration, limit: u64) -> Result<Client, ClientError> {
        let url = url.trim_end_matches('/');
        if !url.starts_with("http://") {
            return Err(ClientError::Url(url.to_owned()));
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(timeout))
            .build()
            .into();
        Ok(Client {
            endpoint: format!("{url}/rpc"),
            agent,
            limit,
        })
    }

    /// The endpoint the calls go to (`URL/rpc`).
    #[must_use]
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// Calls method `M`: its result with the node's height.
    ///
    /// # Errors
    ///
    /// The node's error object as [`ClientError::Rpc`]; the others when
    /// the node could not be asked or answered in another shape.
    pub fn call<M: Method>(&self, params: &M::Params) -> Result<Applied<M::Output>, ClientError> {
        let unreachable = |why: String| ClientError::Unreachable {
            endpoint: self.endpoint.clone(),
            why,
        };
        let body = crate::request::<M>(1, params);
        let mut response = self
            .agent
            .post(&self.endpoint)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(|e| unreachable(e.to_string()))?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(self.limit)
            .read_to_string()
            .map_err(|e| unreachable(format!("reading its answer: {e}")))?;
        if status != 200 {
            return Err(ClientError::Status {
                status,
                body: text.trim().to_owned(),
            });
        }
        let value: Value = serde_json::from_str(&text).map_err(|e| {
            ClientError::Shape(format!("the answer to {} is not JSON: {e}", M::NAME))
        })?;
        crate::result::<M>(value).map_err(|e| match e {
            CallError::Rpc(error) => ClientError::Rpc(error),
            CallError::Shape(why) => ClientError::Shape(why),
        })
    }
}
