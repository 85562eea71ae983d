//! The Ethereum JSON-RPC (`docs/ethereum.md`): the `eth_*`, `net_*` and
//! `web3_*` methods Ethereum tools call, on the same endpoints as Ward's
//! own methods, answered from the same store, mempool and executor.
//! Params are positional, as Ethereum's are; quantities are hex; errors
//! carry geth's messages and, for a revert, code 3 with the revert data.
//! The shapes are alloy's (`alloy-rpc-types-eth`), which follow the
//! execution APIs' schemas; `shape.rs` builds them from Ward's blocks,
//! transactions and receipts.

use alloy_primitives::{Address as EthAddress, B256, Bytes, TxKind, U64, U256};
use alloy_rpc_types_eth::{
    BlockId, BlockNumberOrTag, FeeHistory, Filter, SyncStatus, TransactionRequest,
};
use serde::{Serialize, de::DeserializeOwned};
use serde_json::Value;
use ward_chain::tx::Payload;
use ward_devkeys as devkeys;
use ward_executor::Tx;
use ward_primitives::{Address, Hash32, Status};
use ward_state::{Receipt, StateRead};

use crate::{
    error::{RpcError, exec_error},
    mempool::Refusal,
    state::Shared,
};

mod check;
pub mod filters;
pub mod logs;
mod methods;
mod send;
pub(crate) mod shape;

pub(crate) use check::check_params;
pub use methods::{DEV_ALIASES, ETH_METHODS, EthMethod, REFUSED};

/// Whether `method` is one of Ethereum's (answered here, or refused here
/// with Ethereum's error shape).
pub(crate) fn is_eth(method: &str) -> bool {
    ["eth_", "net_", "web3_", "debug_"]
        .iter()
        .any(|prefix| method.starts_with(prefix))
        || is_alias(method)
}

/// Whether `method` is named as Hardhat's or anvil's controls are.
pub(crate) fn is_alias(method: &str) -> bool {
    ["evm_", "hardhat_", "anvil_"]
        .iter()
        .any(|prefix| method.starts_with(prefix))
}

/// A committed block's header as `eth_subscribe`'s `newHeads` shows it.
pub(crate) fn head_notification(
    shared: &Shared,
    block: &ward_executor::Block,
) -> std::sync::Arc<str> {
    let height = block.record.header.height;
    shape::block_of(shared, height, Some(&block.record), &block.receipts, false)
        .map_or_else(|_| "null".into(), |b| crate::announce::to_text(&b.header))
}

/// A committed block's logs as `eth_subscribe`'s `logs` shows them.
pub(crate) fn log_notifications(block: &ward_executor::Block) -> Vec<crate::announce::RenderedLog> {
    shape::block_logs(&block.record, &block.receipts)
        .into_iter()
        .map(|log| crate::announce::RenderedLog {
            result: crate::announce::to_text(&log),
            log: log.inner,
        })
        .collect()
}

/// Blocks one `eth_getLogs` reads at most (a range of more is refused:
/// ask for less, as geth's and most providers' limits say).
pub const MAX_LOG_BLOCKS: u64 = 10_000;

/// What `eth_estimateGas` adds for the bytes an Ethereum envelope has
/// beyond the unsigned transaction the estimate runs (type, chain id,
/// nonce, fees, the signature): Ward's intrinsic cost counts every stored
/// byte (`docs/gas.md`), and the signed envelope is at most this many
/// bytes longer, plus its access list.
pub const ENVELOPE_EXTRA_BYTES: u64 = 100;

/// Runs Ethereum method `method` with its positional `params`.
///
/// # Errors
///
/// Ethereum-shaped [`RpcError`]s ([`RpcError::eth`]).
pub(crate) fn dispatch(shared: &Shared, method: &str, params: Value) -> Result<Value, RpcError> {
    let p = Params::new(params)?;
    match method {
        "web3_clientVersion" => to_json(format!("ward/v{}", env!("CARGO_PKG_VERSION"))),
        "web3_sha3" => {
            let data: Bytes = p.at(0)?;
            to_json(alloy_primitives::keccak256(&data))
        }
        "net_version" => to_json(eth_chain_id(shared)?.to_string()),
        "net_listening" => to_json(true),
        "net_peerCount" => to_json(U64::ZERO),
        "eth_chainId" => to_json(U64::from(eth_chain_id(shared)?)),
        "eth_syncing" => to_json(SyncStatus::None),
        "eth_blockNumber" => to_json(U64::from(head(shared)?)),
        "eth_gasPrice" => to_json(U256::from(shared.min_gas_price())),
        // The next block's base fee: the chain's constant one.
        "eth_baseFee" => to_json(U256::from(shared.settings.min_gas_price.0)),
        "eth_maxPriorityFeePerGas" => to_json(U256::from(priority_fee(shared))),
        "eth_feeHistory" => fee_history(shared, &p),
        "eth_accounts" => to_json(dev_accounts(shared)),
        "eth_sendTransaction" => send::send_transaction(shared, &p),
        "eth_getBalance" => {
            let address = ward(p.at::<EthAddress>(0)?);
            let balance = read_state(shared, &p, 1, |state| state.balance(&address))?;
            to_json(U256::from(balance))
        }
        "eth_getTransactionCount" => {
            let address = ward(p.at::<EthAddress>(0)?);
            let pending = matches!(
                p.opt::<BlockId>(1)?,
                Some(BlockId::Number(BlockNumberOrTag::Pending))
            );
            if pending {
                // What the sender's next transaction takes: past the ones
                // waiting in the mempool, read with the committed nonce
                // under the pool's lock.
                let (_, pending) = shared
                    .pool
                    .pending_nonce(&address, |address| shared.store.nonce(address))
                    .map_err(state_error)?;
                return to_json(U64::from(pending));
            }
            let nonce = read_state(shared, &p, 1, |state| state.nonce(&address))?;
            to_json(U64::from(nonce))
        }
        "eth_getCode" => {
            let address = ward(p.at::<EthAddress>(0)?);
            to_json(Bytes::from(read_state(shared, &p, 1, |state| {
                code(state, &address)
            })?))
        }
        "eth_getStorageAt" => {
            let address = ward(p.at::<EthAddress>(0)?);
            let slot: U256 = p.at(1)?;
            let value = read_state(shared, &p, 2, |state| {
                state.storage(&address, &slot.to_be_bytes::<32>())
            })?;
            to_json(storage_word(value.as_deref()))
        }
        "eth_getStorageValues" => storage_values(shared, &p),
        "eth_call" => call(shared, &p),
        "eth_estimateGas" => estimate_gas(shared, &p),
        "eth_sendRawTransaction" => send_raw(shared, &p),
        "eth_getLogs" => {
            let filter: Filter = p.at(0)?;
            to_json(logs::get_logs(shared, &filter)?)
        }
        other => block_reads(shared, other, &p)
            .or_else(|| filters::dispatch(shared, other, &p))
            .unwrap_or_else(|| Err(not_answered(other))),
    }
}

/// -32601 for a method this node does not answer: with the reason for
/// one of the execution APIs' it refuses ([`REFUSED`]).
pub(crate) fn not_answered(method: &str) -> RpcError {
    let message = match REFUSED.iter().find(|(name, _)| *name == method) {
        Some((_, why)) => format!("the method {method} is not offered here: {why}"),
        None => format!("the method {method} does not exist/is not available"),
    };
    RpcError::eth(-32601, message, None)
}

/// Slots one `eth_getStorageValues` reads at most.
pub const MAX_STORAGE_VALUES: usize = 1024;

/// `eth_getStorageValues`: `{address: [slot, ...]}` at one block, each
/// slot's 32-byte word.
fn storage_values(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let requests: std::collections::BTreeMap<EthAddress, Vec<U256>> = p.at(0)?;
    if requests.values().map(Vec::len).sum::<usize>() > MAX_STORAGE_VALUES {
        return Err(invalid(&format!(
            "at most {MAX_STORAGE_VALUES} slots in one request"
        )));
    }
    let values = read_state(shared, p, 1, |state| {
        let mut out = serde_json::Map::new();
        for (address, slots) in &requests {
            let contract = ward(*address);
            let mut words = Vec::with_capacity(slots.len());
            for slot in slots {
                let value = state.storage(&contract, &slot.to_be_bytes::<32>())?;
                words.push(Value::from(storage_word(value.as_deref()).to_string()));
            }
            out.insert(address.to_string(), Value::Array(words));
        }
        Ok(out)
    })?;
    Ok(Value::Object(values))
}

/// A block's transaction ids (none for genesis, which has no record).
fn block_txs(shared: &Shared, height: u64) -> Result<Vec<Hash32>, RpcError> {
    if height == 0 {
        return Ok(Vec::new());
    }
    Ok(shape::block_record(shared, height)?.txs)
}

/// Runs block and transaction read `method` (by hash, by block and
/// index, a block's receipts, and what a chain without uncles or miner
/// answers), or `None` when it is not one.
fn block_reads(shared: &Shared, method: &str, p: &Params) -> Option<Result<Value, RpcError>> {
    block_read(shared, method, p).transpose()
}

fn block_read(shared: &Shared, method: &str, p: &Params) -> Result<Option<Value>, RpcError> {
    let value = match method {
        "eth_getTransactionByHash" => {
            let hash: B256 = p.at(0)?;
            to_json(shape::transaction(shared, Hash32(hash.0))?)
        }
        "eth_getTransactionReceipt" => {
            let hash: B256 = p.at(0)?;
            to_json(shape::receipt(shared, Hash32(hash.0))?)
        }
        "eth_getBlockByNumber" => {
            let tag: BlockNumberOrTag = p.at(0)?;
            let full = p.opt::<bool>(1)?.unwrap_or(false);
            match number(shared, tag)? {
                Some(height) => to_json(shape::block(shared, height, full)?),
                None => Ok(Value::Null),
            }
        }
        "eth_getBlockByHash" => {
            let hash: B256 = p.at(0)?;
            let full = p.opt::<bool>(1)?.unwrap_or(false);
            match height_of(shared, hash)? {
                Some(height) => to_json(shape::block(shared, height, full)?),
                None => Ok(Value::Null),
            }
        }
        "eth_getBlockTransactionCountByNumber" => {
            let tag: BlockNumberOrTag = p.at(0)?;
            match number(shared, tag)? {
                Some(height) => to_json(U64::from(block_txs(shared, height)?.len())),
                None => Ok(Value::Null),
            }
        }
        "eth_getBlockTransactionCountByHash" => {
            let hash: B256 = p.at(0)?;
            match height_of(shared, hash)? {
                Some(height) => to_json(U64::from(block_txs(shared, height)?.len())),
                None => Ok(Value::Null),
            }
        }
        "eth_getBlockReceipts" => match block_id(shared, p.at::<BlockId>(0)?)? {
            Some(height) => {
                let mut out = Vec::new();
                for hash in &block_txs(shared, height)? {
                    out.extend(shape::receipt(shared, *hash)?);
                }
                to_json(out)
            }
            None => Ok(Value::Null),
        },
        "eth_getTransactionByBlockNumberAndIndex" | "eth_getTransactionByBlockHashAndIndex" => {
            let id = if method.contains("Hash") {
                BlockId::from(p.at::<B256>(0)?)
            } else {
                BlockId::Number(p.at::<BlockNumberOrTag>(0)?)
            };
            let index: U64 = p.at(1)?;
            let Some(height) = block_id(shared, id)? else {
                return Ok(Some(Value::Null));
            };
            match block_txs(shared, height)?.get(index.to::<usize>()) {
                Some(hash) => to_json(shape::transaction(shared, *hash)?),
                None => Ok(Value::Null),
            }
        }
        // Ward's blocks have no uncles, no miner and no proof of work.
        "eth_getUncleCountByBlockNumber" | "eth_getUncleCountByBlockHash" => to_json(U64::ZERO),
        "eth_getUncleByBlockNumberAndIndex" | "eth_getUncleByBlockHashAndIndex" => Ok(Value::Null),
        "eth_coinbase" => to_json(EthAddress::ZERO),
        "eth_mining" => to_json(false),
        "eth_hashrate" => to_json(U64::ZERO),
        _ => return Ok(None),
    };
    value.map(Some)
}

/// Positional params.
pub(crate) struct Params(pub(crate) Vec<Value>);

impl Params {
    pub(crate) fn new(params: Value) -> Result<Params, RpcError> {
        match params {
            Value::Null => Ok(Params(Vec::new())),
            Value::Array(items) => Ok(Params(items)),
            _ => Err(invalid("params are a JSON array (positional)")),
        }
    }

    /// Param `index`, which must be there.
    pub(crate) fn at<T: DeserializeOwned>(&self, index: usize) -> Result<T, RpcError> {
        self.opt(index)?
            .ok_or_else(|| invalid(&format!("missing value for required argument {index}")))
    }

    /// Param `index`, absent or `null` being `None`.
    pub(crate) fn opt<T: DeserializeOwned>(&self, index: usize) -> Result<Option<T>, RpcError> {
        match self.0.get(index) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => serde_json::from_value(value.clone())
                .map(Some)
                .map_err(|e| invalid(&format!("invalid argument {index}: {e}"))),
        }
    }
}

pub(crate) fn invalid(message: &str) -> RpcError {
    RpcError::eth(-32602, message.to_owned(), None)
}

pub(crate) fn to_json<T: Serialize>(value: T) -> Result<Value, RpcError> {
    serde_json::to_value(value).map_err(|e| RpcError::eth(-32603, e.to_string(), None))
}

/// The Ward account of a 20-byte address.
pub(crate) fn ward(address: EthAddress) -> Address {
    Address::from_eth(address.into_array())
}

pub(crate) fn state_error(error: ward_state::StateError) -> RpcError {
    RpcError::eth(-32002, error.to_string(), None)
}

/// The chain's Ethereum chain id, or why it has none.
fn eth_chain_id(shared: &Shared) -> Result<u64, RpcError> {
    shared.settings.eth_chain_id.ok_or_else(|| {
        RpcError::eth(
            -32000,
            "this chain takes no Ethereum transactions: its genesis sets no eth_chain_id".into(),
            None,
        )
    })
}

/// What a transaction must offer above the base fee for this node to
/// admit it: its own floor (`--min-gas-price`) less the chain's.
fn priority_fee(shared: &Shared) -> u128 {
    shared
        .min_gas_price()
        .saturating_sub(shared.settings.min_gas_price.0)
}

fn head(shared: &Shared) -> Result<u64, RpcError> {
    shared.store.height().map_err(state_error)
}

/// The height a block tag names: every tag but `earliest` is the head,
/// since a Ward block is final once made and a dev node mines what it
/// admits at once. `None` for a number past the head.
fn number(shared: &Shared, tag: BlockNumberOrTag) -> Result<Option<u64>, RpcError> {
    let head = head(shared)?;
    Ok(match tag {
        BlockNumberOrTag::Earliest => Some(0),
        BlockNumberOrTag::Number(n) => (n <= head).then_some(n),
        BlockNumberOrTag::Latest
        | BlockNumberOrTag::Pending
        | BlockNumberOrTag::Safe
        | BlockNumberOrTag::Finalized => Some(head),
    })
}

fn height_of(shared: &Shared, hash: B256) -> Result<Option<u64>, RpcError> {
    shared
        .store
        .block_height(&Hash32(hash.0))
        .map_err(state_error)
}

/// The height `id` names, if this node has such a block.
fn block_id(shared: &Shared, id: BlockId) -> Result<Option<u64>, RpcError> {
    match id {
        BlockId::Number(tag) => number(shared, tag),
        BlockId::Hash(hash) => height_of(shared, hash.block_hash),
    }
}

/// The height param `index` names (default `latest`), which must exist.
pub(crate) fn block_param(shared: &Shared, p: &Params, index: usize) -> Result<u64, RpcError> {
    let id = p.opt::<BlockId>(index)?.unwrap_or_default();
    let found = match id {
        BlockId::Number(tag) => number(shared, tag)?,
        BlockId::Hash(hash) => height_of(shared, hash.block_hash)?,
    };
    found.ok_or_else(|| RpcError::eth(-32000, "header not found".into(), None))
}

/// `read` of the state after the block param `index` names, which this
/// node must still keep: the head's from the store's own tables (what
/// its receipts were committed with), an earlier block's from the state
/// tree's version of it.
fn read_state<T>(
    shared: &Shared,
    p: &Params,
    index: usize,
    read: impl FnOnce(&dyn StateRead) -> Result<T, ward_state::StateError>,
) -> Result<T, RpcError> {
    let height = block_param(shared, p, index)?;
    if height == head(shared)? {
        return read(&*shared.store).map_err(state_error);
    }
    kept(shared, height)?;
    let snapshot = ward_state::Snapshot::new(shared.store.clone(), height).map_err(state_error)?;
    read(&snapshot).map_err(state_error)
}

/// Refuses a height whose state this node pruned.
pub(crate) fn kept(shared: &Shared, height: u64) -> Result<(), RpcError> {
    use ward_state::StatePrune;
    let kept_from = shared.store.pruned_below().map_err(state_error)?;
    if height < kept_from {
        return Err(RpcError::eth(
            -32000,
            format!(
                "missing trie node: the state at block {height} is pruned, this node keeps it from block {kept_from}"
            ),
            None,
        ));
    }
    Ok(())
}

/// A contract's code: an EVM contract's bytecode, a Wasm contract's
/// module; empty for an account.
fn code(state: &dyn StateRead, address: &Address) -> Result<Vec<u8>, ward_state::StateError> {
    let Some(info) = state.contract(address)? else {
        return Ok(Vec::new());
    };
    Ok(state.code(&info.code_hash)?.unwrap_or_default())
}

/// A storage value as a 32-byte word: an EVM slot's value is stored
/// big-endian and 32 bytes long; a shorter Wasm value is right-aligned,
/// a longer one cut to its first 32 bytes.
fn storage_word(value: Option<&[u8]>) -> B256 {
    let mut word = [0u8; 32];
    if let Some(value) = value {
        let value = &value[..value.len().min(32)];
        word[32 - value.len()..].copy_from_slice(value);
    }
    B256::from(word)
}

/// The most gas `eth_call` and `eth_estimateGas` run with: the node's
/// `--query-gas-cap`, or on a dev node the chain's `max_tx_gas` (as
/// Hardhat and anvil allow any: a contract's deploy is estimated there).
fn read_cap(shared: &Shared) -> u64 {
    let cap = shared.config.limits.query_gas_cap;
    if shared.config.dev {
        cap.max(shared.settings.max_tx_gas)
    } else {
        cap
    }
}

/// The Ward transaction a call request describes (unsigned: a call or an
/// estimate runs it without a signature or a fee), and its gas cap.
pub(crate) fn request_tx(
    shared: &Shared,
    request: &TransactionRequest,
) -> Result<(Tx, u64), RpcError> {
    let cap = read_cap(shared);
    let gas = request.gas.unwrap_or(cap).min(cap);
    let input = request.input.input().cloned().unwrap_or_default().to_vec();
    let payload = match request.to {
        Some(TxKind::Call(to)) => Payload::Call {
            to: ward(to),
            input,
        },
        None | Some(TxKind::Create) => {
            ward_chain::tx::eth::creation_payload(&input).map_err(|e| invalid(&e.to_string()))?
        }
    };
    let value = request.value.unwrap_or_default();
    let value = u128::try_from(value)
        .map_err(|_| invalid("value is above the largest amount (2^128 - 1)"))?;
    let sender = ward(request.from.unwrap_or_default());
    Ok((
        Tx {
            sender,
            gas_limit: gas,
            value,
            payload,
        },
        gas,
    ))
}

/// `eth_call`: the request run on the state after the block it names,
/// committing nothing; its output, or its revert as code 3 with the
/// revert data.
fn call(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let request: TransactionRequest = p.at(0)?;
    let height = block_param(shared, p, 1)?;
    kept(shared, height)?;
    let (tx, _) = request_tx(shared, &request)?;
    let reader = shared.reader(Some(height)).map_err(RpcError::from)?;
    let simulation = reader
        .simulate(&tx.vouched(), crate::producer::query_time(shared))
        .map_err(|e| exec_error(&e).into_eth())?;
    let receipt = simulation.receipt;
    if !receipt.status.is_ok() {
        return Err(failed(&receipt));
    }
    to_json(Bytes::from(receipt.output))
}

/// `eth_estimateGas`: Ward's estimate (`estimateGas`) of the request on
/// the latest state, with room for the signed envelope's extra bytes
/// and its access list, and Ward's margin.
fn estimate_gas(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let request: TransactionRequest = p.at(0)?;
    let height = block_param(shared, p, 1)?;
    kept(shared, height)?;
    let (tx, cap) = request_tx(shared, &request)?;
    let reader = shared.reader(Some(height)).map_err(RpcError::from)?;
    let estimate = crate::producer::estimate_gas(shared, &reader, &tx, cap)
        .map_err(|e| exec_error(&e).into_eth())?
        .map_err(|receipt| estimate_failed(&receipt, cap))?;
    let access_list = request
        .access_list
        .as_ref()
        .map_or(0, |list| alloy_rlp::Encodable::length(list) as u64);
    to_json(U64::from(with_envelope(shared, estimate.gas, access_list)))
}

/// An estimate that does not succeed even at `cap`: out of gas there is
/// geth's "gas required exceeds allowance (cap)", which clients match
/// on; anything else as [`failed`] says it.
pub(crate) fn estimate_failed(receipt: &Receipt, cap: u64) -> RpcError {
    if receipt.error_kind.as_deref() == Some("out_of_gas") {
        return RpcError::eth(
            -32000,
            format!("gas required exceeds allowance ({cap})"),
            None,
        );
    }
    failed(receipt)
}

/// A call or estimate that did not succeed: a revert as code 3 with its
/// data (what ethers, viem and web3.py decode `Error(string)` and custom
/// errors from), anything else as -32000 with Ward's reason.
fn failed(receipt: &Receipt) -> RpcError {
    let output = Bytes::from(receipt.output.clone());
    if receipt.status == Status::Reverted {
        let reason = revert_reason(&receipt.output).map_or_else(
            || "execution reverted".to_owned(),
            |r| format!("execution reverted: {r}"),
        );
        return RpcError::eth(3, reason, Some(Value::String(output.to_string())));
    }
    let why = receipt
        .error_message
        .clone()
        .unwrap_or_else(|| receipt.status.to_string());
    let message = match receipt.error_kind.as_deref() {
        Some("out_of_gas") => format!("out of gas: {why}"),
        _ => format!("execution failed ({}): {why}", receipt.status),
    };
    RpcError::eth(-32000, message, None)
}

/// The message of a revert with `Error(string)`'s data.
pub(crate) fn revert_reason(output: &[u8]) -> Option<String> {
    use alloy_sol_types::{Revert, SolError};
    Revert::abi_decode(output).ok().map(|revert| revert.reason)
}

/// `eth_sendRawTransaction`: the envelope verified for this chain and
/// admitted as any transaction is; its hash.
fn send_raw(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let envelope: Bytes = p.at(0)?;
    eth_chain_id(shared)?;
    admit_envelope(shared, &envelope)
}

/// A signed envelope verified for this chain and admitted as any
/// transaction is, through the same door as Ward's own
/// ([`crate::admission::verify`], which counts its refusals); its hash
/// (what wallets compute).
fn admit_envelope(shared: &Shared, envelope: &[u8]) -> Result<Value, RpcError> {
    let mut stored = Vec::with_capacity(1 + envelope.len());
    stored.push(ward_chain::tx::eth::ETH_TAG);
    stored.extend_from_slice(envelope);
    let verified = crate::admission::verify(shared, &stored).map_err(|r| refused(&r, shared))?;
    let hash = verified.hash();
    crate::admission::admit(shared, verified, None).map_err(|r| refused(&r, shared))?;
    to_json(B256::from(hash.0))
}

/// A refusal as geth says it (clients match on these messages).
fn refused(refusal: &Refusal, shared: &Shared) -> RpcError {
    use ward_chain::tx::{TxError, eth::EthTxError};
    use ward_executor::Inadmissible as Rule;

    use crate::mempool::PoolRule;
    let message = match refusal {
        Refusal::Pool(PoolRule::NonceUsed { next, got }) => {
            format!("nonce too low: next nonce {next}, tx nonce {got}")
        }
        Refusal::Rules(Rule::Nonce { expected, got }) if got < expected => {
            format!("nonce too low: next nonce {expected}, tx nonce {got}")
        }
        Refusal::Pool(
            PoolRule::NonceTooFar { next, got } | PoolRule::TooManyGapped { next, got },
        ) => {
            format!("nonce too high: next nonce {next}, tx nonce {got}")
        }
        Refusal::Pool(PoolRule::Known(_)) | Refusal::Committed(_) => "already known".into(),
        Refusal::Pool(PoolRule::Underpriced { .. }) => "replacement transaction underpriced".into(),
        Refusal::Pool(
            PoolRule::Full(_) | PoolRule::FullBytes { .. } | PoolRule::FullAtPrice { .. },
        ) => "txpool is full".into(),
        Refusal::Rules(Rule::Funds { .. }) => {
            format!("insufficient funds for gas * price + value: {refusal}")
        }
        Refusal::Rules(Rule::GasPrice { .. }) => format!(
            "max fee per gas less than block base fee: {refusal} (the base fee is {}, this node admits from {})",
            shared.settings.min_gas_price.0,
            shared.min_gas_price()
        ),
        Refusal::Rules(Rule::IntrinsicCost { .. }) => format!("intrinsic gas too low: {refusal}"),
        Refusal::Rules(Rule::GasAboveMaximum { .. }) => {
            format!("exceeds block gas limit: {refusal}")
        }
        Refusal::Tx(TxError::Ethereum(EthTxError::WrongChain { .. })) => {
            format!("invalid chain id: {refusal}")
        }
        Refusal::Tx(TxError::Ethereum(EthTxError::BadSignature)) => {
            "invalid sender: invalid transaction v, r, s values".into()
        }
        other => other.to_string(),
    };
    // The code Ward gives the refusal (-32000, or a node's own failing).
    RpcError::eth(RpcError::from(refusal.clone()).code, message, None)
}

/// `eth_feeHistory`: Ward's base fee is the chain's constant least gas
/// price; the rewards are what this node wants above it.
fn fee_history(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let count: U64 = p.at(0)?;
    let newest: BlockNumberOrTag = p.at(1)?;
    let percentiles: Option<Vec<f64>> = p.opt(2)?;
    if let Some(percentiles) = &percentiles {
        reward_percentiles(percentiles)?;
    }
    let newest = number(shared, newest)?
        .ok_or_else(|| RpcError::eth(-32000, "header not found".into(), None))?;
    let count = count.to::<u64>().clamp(1, 1024).min(newest + 1);
    let oldest = newest + 1 - count;
    let base = shared.settings.min_gas_price.0;
    let max_gas = shared.settings.max_block_gas.max(1);
    let mut ratios = Vec::new();
    for height in oldest..=newest {
        let used: u64 = if height == 0 {
            0
        } else {
            shape::receipts(shared, height)?
                .iter()
                .map(|r| r.gas_used)
                .sum()
        };
        ratios.push(used as f64 / max_gas as f64);
    }
    let reward = percentiles.map(|ps| vec![vec![priority_fee(shared); ps.len()]; count as usize]);
    to_json(FeeHistory {
        base_fee_per_gas: vec![base; count as usize + 1],
        gas_used_ratio: ratios,
        base_fee_per_blob_gas: Vec::new(),
        blob_gas_used_ratio: Vec::new(),
        oldest_block: oldest,
        reward,
    })
}

/// Reward percentiles `eth_feeHistory` takes at most.
pub const MAX_REWARD_PERCENTILES: usize = 100;

/// Refuses reward percentiles as geth does, before any answer is built:
/// at most [`MAX_REWARD_PERCENTILES`] of them, each in 0 to 100,
/// ascending.
fn reward_percentiles(percentiles: &[f64]) -> Result<(), RpcError> {
    if percentiles.len() > MAX_REWARD_PERCENTILES {
        return Err(invalid(&format!(
            "too many reward percentiles: {}, at most {MAX_REWARD_PERCENTILES}",
            percentiles.len()
        )));
    }
    for (i, &p) in percentiles.iter().enumerate() {
        if !(0.0..=100.0).contains(&p) {
            return Err(invalid(&format!("invalid reward percentile: #{i}:{p}")));
        }
        if i > 0 && p < percentiles[i - 1] {
            return Err(invalid(&format!(
                "invalid reward percentile: #{}:{} > #{i}:{p}",
                i - 1,
                percentiles[i - 1]
            )));
        }
    }
    Ok(())
}

/// A dev node's Ethereum accounts (the test mnemonic's first ten); none
/// elsewhere.
fn dev_accounts(shared: &Shared) -> Vec<EthAddress> {
    if !shared.config.dev {
        return Vec::new();
    }
    (0..devkeys::ACCOUNTS)
        .map(|i| EthAddress::from(devkeys::eth_address(i)))
        .collect()
}

/// `gas` with room for an envelope's extra bytes and `access_list` bytes
/// of access list, and Ward's margin.
fn with_envelope(shared: &Shared, gas: u64, access_list: u64) -> u64 {
    let intrinsic = |bytes| {
        shared
            .executor
            .admit_sized(shared.settings.max_tx_gas, bytes)
            .unwrap_or(0)
    };
    let envelope = intrinsic(ENVELOPE_EXTRA_BYTES + access_list).saturating_sub(intrinsic(0));
    let gas = gas.saturating_add(envelope);
    gas.saturating_add(gas / 100 * crate::config::ESTIMATE_MARGIN_PERCENT)
}
