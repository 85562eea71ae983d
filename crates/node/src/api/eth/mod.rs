//! The Ethereum wing (`docs/ethereum.md`): the `eth_*`, `net_*`,
//! `web3_*` and `debug_*` methods Ethereum tools call, on the same
//! endpoints as Ward's own methods, answered from the same store,
//! mempool and executor. Each method is a row of [`ETH_METHODS`]: its
//! name, the most params it takes, its block param, and the function
//! that runs it; the router checks a request's params against its row
//! (`check.rs`) and runs it. Params are positional, as Ethereum's are;
//! quantities are hex; errors carry geth's messages and, for a revert,
//! code 3 with the revert data. The shapes are alloy's
//! (`alloy-rpc-types-eth`), which follow the execution APIs' schemas;
//! `shape.rs` builds them from Ward's blocks, transactions and receipts.

mod about;
mod accounts;
mod blocks;
pub(crate) mod calls;
pub(crate) mod chain;
pub(crate) mod check;
mod debug;
mod fees;
pub mod filters;
pub(crate) mod gas;
pub mod logs;
pub(crate) mod methods;
pub(crate) mod params;
mod prestate;
mod send;
pub(crate) mod shape;
mod sign;

pub use accounts::MAX_STORAGE_VALUES;
pub use fees::MAX_REWARD_PERCENTILES;
pub use logs::MAX_LOG_BLOCKS;
pub use methods::{EthMethod, REFUSED};

use methods::EthMethod as M;

use crate::api::guard::Needs;

/// The Ethereum methods this node answers, each with what runs it
/// (`docs/ethereum.md` has the whole table, with what is refused and
/// why).
pub const ETH_METHODS: &[EthMethod] = &[
    M::new("web3_clientVersion", 0, None, about::client_version),
    M::new("web3_sha3", 1, None, about::sha3),
    M::new("net_version", 0, None, about::net_version),
    M::new("net_listening", 0, None, about::listening),
    M::new("net_peerCount", 0, None, about::peer_count),
    M::new("eth_chainId", 0, None, about::chain_id),
    M::new("eth_syncing", 0, None, about::syncing),
    M::new("eth_blockNumber", 0, None, blocks::block_number),
    M::new("eth_gasPrice", 0, None, fees::gas_price),
    M::new("eth_maxPriorityFeePerGas", 0, None, fees::max_priority_fee),
    M::new("eth_feeHistory", 3, Some(1), fees::fee_history),
    M::new("eth_accounts", 0, None, accounts::accounts),
    M::new("eth_sign", 2, None, sign::eth_sign).needing(Needs::Dev),
    M::new("personal_sign", 3, None, sign::personal_sign).needing(Needs::Dev),
    M::new("eth_signTypedData_v4", 2, None, sign::sign_typed_data).needing(Needs::Dev),
    M::new("eth_sendTransaction", 1, None, send::send_transaction),
    M::new("eth_getBalance", 2, Some(1), accounts::balance),
    M::new(
        "eth_getTransactionCount",
        2,
        Some(1),
        accounts::transaction_count,
    ),
    M::new("eth_getCode", 2, Some(1), accounts::code),
    M::new("eth_getStorageAt", 3, Some(2), accounts::storage_at),
    M::new("eth_call", 4, Some(1), calls::call),
    M::new("eth_estimateGas", 3, Some(1), calls::estimate_gas),
    M::new("eth_sendRawTransaction", 1, None, send::send_raw),
    M::new(
        "eth_getTransactionByHash",
        1,
        None,
        blocks::transaction_by_hash,
    ),
    M::new("eth_getTransactionReceipt", 1, None, blocks::receipt),
    M::new("eth_getBlockByNumber", 2, Some(0), blocks::block_by_number),
    M::new("eth_getBlockByHash", 2, None, blocks::block_by_hash),
    M::new(
        "eth_getBlockTransactionCountByNumber",
        1,
        Some(0),
        blocks::count_by_number,
    ),
    M::new(
        "eth_getBlockTransactionCountByHash",
        1,
        None,
        blocks::count_by_hash,
    ),
    M::new("eth_getLogs", 1, None, logs::get_logs),
    M::new("eth_newFilter", 1, None, filters::new_filter),
    M::new("eth_newBlockFilter", 0, None, filters::new_block_filter),
    M::new("eth_getFilterChanges", 1, None, filters::changes),
    M::new("eth_getFilterLogs", 1, None, filters::filter_logs),
    M::new("eth_uninstallFilter", 1, None, filters::uninstall),
    M::new("eth_getBlockReceipts", 1, Some(0), blocks::block_receipts),
    M::new(
        "eth_getTransactionByBlockNumberAndIndex",
        2,
        Some(0),
        blocks::transaction_by_number_and_index,
    ),
    M::new(
        "eth_getTransactionByBlockHashAndIndex",
        2,
        None,
        blocks::transaction_by_hash_and_index,
    ),
    M::new(
        "eth_getUncleCountByBlockNumber",
        1,
        Some(0),
        blocks::no_uncles,
    ),
    M::new("eth_getUncleCountByBlockHash", 1, None, blocks::no_uncles),
    M::new(
        "eth_getUncleByBlockNumberAndIndex",
        2,
        Some(0),
        blocks::no_uncle,
    ),
    M::new("eth_getUncleByBlockHashAndIndex", 2, None, blocks::no_uncle),
    M::new("eth_coinbase", 0, None, blocks::coinbase),
    M::new("eth_mining", 0, None, blocks::mining),
    M::new("eth_hashrate", 0, None, blocks::hashrate),
    M::new("eth_baseFee", 0, None, fees::base_fee),
    M::new("eth_getStorageValues", 2, Some(1), accounts::storage_values),
    M::new("debug_traceTransaction", 2, None, debug::trace_transaction),
    M::new("debug_traceCall", 3, Some(1), debug::trace_call),
    M::new("debug_traceBlockByNumber", 2, Some(0), debug::trace_block),
    M::new("debug_traceBlockByHash", 2, None, debug::trace_block),
    M::new("debug_getRawTransaction", 1, None, debug::raw_transaction),
];

/// Whether `method` is named as Ethereum's are (answered here, or
/// refused here with Ethereum's error shape).
pub(crate) fn is_eth(method: &str) -> bool {
    ["eth_", "net_", "web3_", "debug_", "personal_"]
        .iter()
        .any(|prefix| method.starts_with(prefix))
}

/// The row of the Ethereum method `name`.
pub(crate) fn find(name: &str) -> Option<&'static EthMethod> {
    EthMethod::find(ETH_METHODS, name)
}
