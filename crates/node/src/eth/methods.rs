//! The Ethereum methods this node answers (with the most params each
//! takes and where its block param is) and the ones it refuses.

/// An Ethereum method this node answers: its name, the most positional
/// params it takes (more are refused with geth's "too many arguments"),
/// and which of them, if any, names a block (a tag, a number, or an
/// EIP-1898 object), whose number must be a canonical quantity.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EthMethod {
    /// Its name.
    pub name: &'static str,
    /// The most params it takes.
    pub max_params: usize,
    /// The index of its block param.
    pub block_param: Option<usize>,
}

impl EthMethod {
    const fn new(name: &'static str, max_params: usize, block_param: Option<usize>) -> Self {
        EthMethod {
            name,
            max_params,
            block_param,
        }
    }

    /// The method of `table` named `name`.
    pub fn find(table: &'static [EthMethod], name: &str) -> Option<&'static EthMethod> {
        table.iter().find(|m| m.name == name)
    }
}

/// The Ethereum methods this node answers (`docs/ethereum.md` has the
/// whole table, with what is refused and why).
pub const ETH_METHODS: &[EthMethod] = &[
    EthMethod::new("web3_clientVersion", 0, None),
    EthMethod::new("web3_sha3", 1, None),
    EthMethod::new("net_version", 0, None),
    EthMethod::new("net_listening", 0, None),
    EthMethod::new("net_peerCount", 0, None),
    EthMethod::new("eth_chainId", 0, None),
    EthMethod::new("eth_syncing", 0, None),
    EthMethod::new("eth_blockNumber", 0, None),
    EthMethod::new("eth_gasPrice", 0, None),
    EthMethod::new("eth_maxPriorityFeePerGas", 0, None),
    EthMethod::new("eth_feeHistory", 3, Some(1)),
    EthMethod::new("eth_accounts", 0, None),
    EthMethod::new("eth_sendTransaction", 1, None),
    EthMethod::new("eth_getBalance", 2, Some(1)),
    EthMethod::new("eth_getTransactionCount", 2, Some(1)),
    EthMethod::new("eth_getCode", 2, Some(1)),
    EthMethod::new("eth_getStorageAt", 3, Some(2)),
    EthMethod::new("eth_call", 4, Some(1)),
    EthMethod::new("eth_estimateGas", 3, Some(1)),
    EthMethod::new("eth_sendRawTransaction", 1, None),
    EthMethod::new("eth_getTransactionByHash", 1, None),
    EthMethod::new("eth_getTransactionReceipt", 1, None),
    EthMethod::new("eth_getBlockByNumber", 2, Some(0)),
    EthMethod::new("eth_getBlockByHash", 2, None),
    EthMethod::new("eth_getBlockTransactionCountByNumber", 1, Some(0)),
    EthMethod::new("eth_getBlockTransactionCountByHash", 1, None),
    EthMethod::new("eth_getLogs", 1, None),
    EthMethod::new("eth_newFilter", 1, None),
    EthMethod::new("eth_newBlockFilter", 0, None),
    EthMethod::new("eth_getFilterChanges", 1, None),
    EthMethod::new("eth_getFilterLogs", 1, None),
    EthMethod::new("eth_uninstallFilter", 1, None),
    EthMethod::new("eth_getBlockReceipts", 1, Some(0)),
    EthMethod::new("eth_getTransactionByBlockNumberAndIndex", 2, Some(0)),
    EthMethod::new("eth_getTransactionByBlockHashAndIndex", 2, None),
    EthMethod::new("eth_getUncleCountByBlockNumber", 1, Some(0)),
    EthMethod::new("eth_getUncleCountByBlockHash", 1, None),
    EthMethod::new("eth_getUncleByBlockNumberAndIndex", 2, Some(0)),
    EthMethod::new("eth_getUncleByBlockHashAndIndex", 2, None),
    EthMethod::new("eth_coinbase", 0, None),
    EthMethod::new("eth_mining", 0, None),
    EthMethod::new("eth_hashrate", 0, None),
    EthMethod::new("eth_baseFee", 0, None),
    EthMethod::new("eth_getStorageValues", 2, Some(1)),
    EthMethod::new("debug_traceTransaction", 2, None),
    EthMethod::new("debug_traceCall", 3, Some(1)),
    EthMethod::new("debug_traceBlockByNumber", 2, Some(0)),
    EthMethod::new("debug_traceBlockByHash", 2, None),
    EthMethod::new("debug_getRawTransaction", 1, None),
];

/// The Hardhat and anvil names this node answers on a dev node.
pub const DEV_ALIASES: &[EthMethod] = &[
    EthMethod::new("evm_snapshot", 0, None),
    EthMethod::new("evm_revert", 1, None),
    EthMethod::new("evm_mine", 1, None),
    EthMethod::new("evm_increaseTime", 1, None),
    EthMethod::new("evm_setNextBlockTimestamp", 1, None),
    EthMethod::new("hardhat_mine", 2, None),
    EthMethod::new("anvil_mine", 2, None),
    EthMethod::new("hardhat_setBalance", 2, None),
    EthMethod::new("anvil_setBalance", 2, None),
    EthMethod::new("hardhat_setCode", 2, None),
    EthMethod::new("anvil_setCode", 2, None),
    EthMethod::new("hardhat_setStorageAt", 3, None),
    EthMethod::new("anvil_setStorageAt", 3, None),
    EthMethod::new("hardhat_impersonateAccount", 1, None),
    EthMethod::new("anvil_impersonateAccount", 1, None),
    EthMethod::new("hardhat_stopImpersonatingAccount", 1, None),
    EthMethod::new("anvil_stopImpersonatingAccount", 1, None),
];

/// The execution APIs' methods this node refuses, each with the reason
/// its error gives (docs/ethereum.md's second table).
pub const REFUSED: &[(&str, &str)] = &[
    (
        "eth_getProof",
        "Ward's state root is not a Merkle-Patricia root, so no EIP-1186 proof exists; Ward's getStorage and getBalance give proofs against Ward's root",
    ),
    ("eth_sign", "a node holds no user's key"),
    ("eth_signTransaction", "a node holds no user's key"),
    (
        "eth_createAccessList",
        "access lists do not change Ward's gas: send none",
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
