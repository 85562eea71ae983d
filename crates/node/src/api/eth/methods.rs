//! What a row of an Ethereum method table says (its name, the most
//! params it takes, where its block param is, and what runs it), and the
//! execution APIs' methods this node refuses.

use serde_json::Value;

use super::params::Params;
use crate::{api::guard::Needs, error::RpcError, state::Shared};

/// What runs an Ethereum method: its positional params in, its result
/// or an Ethereum-shaped error out.
pub(crate) type Handler = fn(&Shared, &Params) -> Result<Value, RpcError>;

/// An Ethereum method this node answers: its name, the most positional
/// params it takes (more are refused with geth's "too many arguments"),
/// which of them, if any, names a block (a tag, a number, or an
/// EIP-1898 object), whose number must be a canonical quantity, and the
/// function that runs it.
#[derive(Clone, Copy)]
pub struct EthMethod {
    /// Its name.
    pub name: &'static str,
    /// The most params it takes.
    pub max_params: usize,
    /// The index of its block param.
    pub block_param: Option<usize>,
    /// What it needs of the node (a dev node's controls need `--dev`).
    pub needs: Needs,
    /// What runs it.
    pub(crate) run: Handler,
}

impl std::fmt::Debug for EthMethod {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EthMethod")
            .field("name", &self.name)
            .field("max_params", &self.max_params)
            .field("block_param", &self.block_param)
            .field("needs", &self.needs)
            .finish_non_exhaustive()
    }
}

impl EthMethod {
    pub(crate) const fn new(
        name: &'static str,
        max_params: usize,
        block_param: Option<usize>,
        run: Handler,
    ) -> Self {
        EthMethod {
            name,
            max_params,
            block_param,
            needs: Needs::Nothing,
            run,
        }
    }

    /// This row, for a node that has what `needs` says.
    pub(crate) const fn needing(self, needs: Needs) -> Self {
        EthMethod { needs, ..self }
    }

    /// The method of `table` named `name`.
    pub fn find(table: &'static [EthMethod], name: &str) -> Option<&'static EthMethod> {
        table.iter().find(|m| m.name == name)
    }
}

/// The execution APIs' methods this node refuses, each with the reason
/// its error gives (docs/ethereum.md's second table).
pub const REFUSED: &[(&str, &str)] = &[
    (
        "eth_getProof",
        "Ward's state root is not a Merkle-Patricia root, so no EIP-1186 proof exists; Ward's getStorage and getBalance give proofs against Ward's root",
    ),
    (
        "eth_signTransaction",
        "a node holds no user's key (a dev node signs what it sends, eth_sendTransaction, and messages, eth_sign)",
    ),
    (
        "eth_createAccessList",
        "an access list costs its intrinsic gas here but warms nothing (the EVM runtime does not pre-warm what it names): send none",
    ),
    (
        "eth_simulateV1",
        "not yet: eth_call and Ward's simulateTransaction simulate one transaction",
    ),
    (
        "eth_fillTransaction",
        "not yet: eth_estimateGas, eth_getTransactionCount and eth_gasPrice give what it fills",
    ),
    (
        "eth_newPendingTransactionFilter",
        "a node puts what it admits into its next block: watch new blocks",
    ),
    ("eth_blobBaseFee", "Ward has no blobs"),
    (
        "eth_getBlockAccessList",
        "Ward's blocks carry no EIP-7928 access list",
    ),
    (
        "eth_capabilities",
        "not yet: a node's kept history is its pruning window (docs/node.md)",
    ),
    (
        "eth_config",
        "Ward has no Ethereum forks to describe: its chain settings are getChainInfo's",
    ),
    ("eth_getWork", "Ward has no proof of work"),
    ("eth_submitWork", "Ward has no proof of work"),
    ("eth_submitHashrate", "Ward has no proof of work"),
    (
        "eth_protocolVersion",
        "a node speaks no Ethereum peer protocol",
    ),
    (
        "debug_getRawBlock",
        "Ward's blocks are not RLP-encoded: getBlock gives them",
    ),
    (
        "debug_getRawHeader",
        "Ward's headers are not RLP-encoded: getBlock gives them",
    ),
    (
        "debug_getRawReceipts",
        "Ward's receipts are not RLP-encoded: getTransaction gives them",
    ),
    (
        "debug_getRawBlockAccessList",
        "Ward's blocks carry no EIP-7928 access list",
    ),
    ("debug_getBadBlocks", "a node keeps no blocks it refused"),
];

/// -32601 for a method this node does not answer: with the reason for
/// one of the execution APIs' it refuses ([`REFUSED`]).
pub(crate) fn not_answered(method: &str) -> RpcError {
    let message = match REFUSED.iter().find(|(name, _)| *name == method) {
        Some((_, why)) => format!("the method {method} is not offered here: {why}"),
        None => format!("the method {method} does not exist/is not available"),
    };
    RpcError::eth(-32601, message, None)
}
