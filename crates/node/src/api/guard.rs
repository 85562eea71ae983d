//! Who may call a method: any node, a dev node (`--dev`), or a dev node
//! that makes its own blocks (not a replica, whose blocks are its
//! cluster proposer's). A method's table row says which; the router asks
//! before the method runs.

use crate::{error::RpcError, state::Shared};

/// What a method needs of the node it runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Needs {
    /// Nothing: any node answers it.
    Nothing,
    /// A dev node.
    Dev,
    /// A dev node that makes its own blocks.
    OwnBlocks,
}

impl Needs {
    /// Refuses `method` on a node that does not have what it needs:
    /// `dev_only` without `--dev`, `unavailable` on a replica.
    pub(crate) fn check(self, shared: &Shared, method: &str) -> Result<(), RpcError> {
        if self != Needs::Nothing && !shared.config().dev {
            return Err(RpcError::dev_only(method));
        }
        if self == Needs::OwnBlocks && shared.replica().is_some() {
            return Err(RpcError::unavailable(format!(
                "{method} is not available on a replica: blocks are the cluster proposer's"
            )));
        }
        Ok(())
    }
}
