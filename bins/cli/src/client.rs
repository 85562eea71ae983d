//! The CLI as a node's client: `--node URL` (or `WARD_NODE`) on `deploy`,
//! `call`, `query`, `receipt` and `state` sends JSON-RPC instead of opening
//! the data directory, and prints the same way.

use std::time::Duration;

use serde_json::Value;
use ward_rpc::{Applied, CallError, Method};

/// An error the node answered with: its JSON-RPC error.
#[derive(Debug, thiserror::Error)]
#[error("the node refused: {message} ({kind})")]
pub(crate) struct NodeRefused {
    /// `data.kind`.
    pub(crate) kind: String,
    /// The message.
    pub(crate) message: String,
}

/// A node at a URL.
pub(crate) struct Client {
    rpc: String,
    agent: ureq::Agent,
}

impl Client {
    pub(crate) fn new(url: &str) -> anyhow::Result<Client> {
        let url = url.trim_end_matches('/');
        if !url.starts_with("http://") {
            anyhow::bail!("--node takes an http:// URL, not {url:?}");
        }
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(120)))
            .build()
            .into();
        Ok(Client {
            rpc: format!("{url}/rpc"),
            agent,
        })
    }

    /// Calls method `M`: its result (with the node's height), or the
    /// node's error as [`NodeRefused`].
    pub(crate) fn call<M: Method>(&self, params: &M::Params) -> anyhow::Result<Applied<M::Output>> {
        let body = ward_rpc::request::<M>(1, params);
        let mut response = self
            .agent
            .post(&self.rpc)
            .header("content-type", "application/json")
            .send(body.to_string())
            .map_err(|e| {
                std::io::Error::other(format!("cannot reach the node at {}: {e}", self.rpc))
            })?;
        let status = response.status().as_u16();
        let text = response
            .body_mut()
            .with_config()
            .limit(256 << 20)
            .read_to_string()
            .map_err(|e| std::io::Error::other(format!("reading the node's answer: {e}")))?;
        if status != 200 {
            anyhow::bail!("the node answered HTTP {status}: {}", text.trim());
        }
        let value: Value = serde_json::from_str(&text)
            .map_err(|e| anyhow::anyhow!("the node's answer is not JSON: {e}"))?;
        match ward_rpc::result::<M>(value) {
            Ok(applied) => Ok(applied),
            Err(CallError::Rpc(error)) => Err(NodeRefused {
                kind: error.data.kind,
                message: error.message,
            }
            .into()),
            Err(CallError::Shape(why)) => Err(anyhow::anyhow!("{why}")),
        }
    }
}
