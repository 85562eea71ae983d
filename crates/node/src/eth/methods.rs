//! The Ethereum method names this node answers and refuses.

/// The Ethereum methods this node answers (`docs/ethereum.md` has the
/// whole table, with what is refused and why).
pub const ETH_METHODS: &[&str] = &[
    "web3_clientVersion",
    "web3_sha3",
    "net_version",
    "net_listening",
    "net_peerCount",
    "eth_chainId",
    "eth_syncing",
    "eth_blockNumber",
    "eth_gasPrice",
    "eth_maxPriorityFeePerGas",
    "eth_feeHistory",
    "eth_accounts",
    "eth_sendTransaction",
    "eth_getBalance",
    "eth_getTransactionCount",
    "eth_getCode",
    "eth_getStorageAt",
    "eth_call",
    "eth_estimateGas",
    "eth_sendRawTransaction",
    "eth_getTransactionByHash",
    "eth_getTransactionReceipt",
    "eth_getBlockByNumber",
    "eth_getBlockByHash",
    "eth_getBlockTransactionCountByNumber",
    "eth_getBlockTransactionCountByHash",
    "eth_getLogs",
    "eth_newFilter",
    "eth_newBlockFilter",
    "eth_getFilterChanges",
    "eth_getFilterLogs",
    "eth_uninstallFilter",
    "eth_getBlockReceipts",
    "eth_getTransactionByBlockNumberAndIndex",
    "eth_getTransactionByBlockHashAndIndex",
    "eth_getUncleCountByBlockNumber",
    "eth_getUncleCountByBlockHash",
    "eth_getUncleByBlockNumberAndIndex",
    "eth_getUncleByBlockHashAndIndex",
    "eth_coinbase",
    "eth_mining",
    "eth_hashrate",
    "eth_baseFee",
    "eth_getStorageValues",
    "debug_traceTransaction",
    "debug_traceCall",
    "debug_traceBlockByNumber",
    "debug_traceBlockByHash",
    "debug_getRawTransaction",
];

/// The Hardhat and anvil names this node answers on a dev node.
pub const DEV_ALIASES: &[&str] = &[
    "evm_snapshot",
    "evm_revert",
    "evm_mine",
    "evm_increaseTime",
    "evm_setNextBlockTimestamp",
    "hardhat_mine",
    "anvil_mine",
    "hardhat_setBalance",
    "anvil_setBalance",
    "hardhat_setCode",
    "anvil_setCode",
    "hardhat_setStorageAt",
    "anvil_setStorageAt",
    "hardhat_impersonateAccount",
    "anvil_impersonateAccount",
    "hardhat_stopImpersonatingAccount",
    "anvil_stopImpersonatingAccount",
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
