//! Blocks and transactions: by hash, by number, by block and index, a
//! block's receipts, and what a chain without uncles or miners answers.

use alloy_primitives::{Address as EthAddress, B256, U64};
use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag};
use serde_json::Value;
use ward_primitives::Hash32;

use super::{
    chain::{block_id, head, height_of, number},
    params::{Params, to_json},
    shape,
};
use crate::{error::RpcError, state::Shared};

/// `eth_blockNumber`.
pub(super) fn block_number(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(U64::from(head(shared)?))
}

/// A block's transaction ids (none for genesis, which has no record).
fn block_txs(shared: &Shared, height: u64) -> Result<Vec<Hash32>, RpcError> {
    if height == 0 {
        return Ok(Vec::new());
    }
    Ok(shape::block_record(shared, height)?.txs)
}

/// `eth_getTransactionByHash`.
pub(super) fn transaction_by_hash(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let hash: B256 = p.at(0)?;
    to_json(shape::transaction(shared, Hash32(hash.0))?)
}

/// `eth_getTransactionReceipt`.
pub(super) fn receipt(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let hash: B256 = p.at(0)?;
    to_json(shape::receipt(shared, Hash32(hash.0))?)
}

/// `f` of the height param 0 names (a tag or number), `null` past the head.
fn at_number(
    shared: &Shared,
    p: &Params,
    f: impl FnOnce(u64) -> Result<Value, RpcError>,
) -> Result<Value, RpcError> {
    match number(shared, p.at::<BlockNumberOrTag>(0)?)? {
        Some(height) => f(height),
        None => Ok(Value::Null),
    }
}

/// `f` of the height of the block whose hash is param 0, `null` for an
/// unknown one.
fn at_hash(
    shared: &Shared,
    p: &Params,
    f: impl FnOnce(u64) -> Result<Value, RpcError>,
) -> Result<Value, RpcError> {
    match height_of(shared, p.at::<B256>(0)?)? {
        Some(height) => f(height),
        None => Ok(Value::Null),
    }
}

/// `eth_getBlockByNumber`.
pub(super) fn block_by_number(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let full = p.opt::<bool>(1)?.unwrap_or(false);
    at_number(shared, p, |height| {
        to_json(shape::block(shared, height, full)?)
    })
}

/// `eth_getBlockByHash`.
pub(super) fn block_by_hash(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let full = p.opt::<bool>(1)?.unwrap_or(false);
    at_hash(shared, p, |height| {
        to_json(shape::block(shared, height, full)?)
    })
}

/// `eth_getBlockTransactionCountByNumber`.
pub(super) fn count_by_number(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    at_number(shared, p, |height| {
        to_json(U64::from(block_txs(shared, height)?.len()))
    })
}

/// `eth_getBlockTransactionCountByHash`.
pub(super) fn count_by_hash(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    at_hash(shared, p, |height| {
        to_json(U64::from(block_txs(shared, height)?.len()))
    })
}

/// `eth_getBlockReceipts`.
pub(super) fn block_receipts(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let Some(height) = block_id(shared, p.at::<BlockId>(0)?)? else {
        return Ok(Value::Null);
    };
    let mut out = Vec::new();
    for hash in &block_txs(shared, height)? {
        out.extend(shape::receipt(shared, *hash)?);
    }
    to_json(out)
}

/// `eth_getTransactionByBlockNumberAndIndex`.
pub(super) fn transaction_by_number_and_index(
    shared: &Shared,
    p: &Params,
) -> Result<Value, RpcError> {
    let id = BlockId::Number(p.at::<BlockNumberOrTag>(0)?);
    transaction_at(shared, id, p)
}

/// `eth_getTransactionByBlockHashAndIndex`.
pub(super) fn transaction_by_hash_and_index(
    shared: &Shared,
    p: &Params,
) -> Result<Value, RpcError> {
    let id = BlockId::from(p.at::<B256>(0)?);
    transaction_at(shared, id, p)
}

/// The transaction at index param 1 of block `id`, `null` if none.
fn transaction_at(shared: &Shared, id: BlockId, p: &Params) -> Result<Value, RpcError> {
    let index: U64 = p.at(1)?;
    let Some(height) = block_id(shared, id)? else {
        return Ok(Value::Null);
    };
    match block_txs(shared, height)?.get(index.to::<usize>()) {
        Some(hash) => to_json(shape::transaction(shared, *hash)?),
        None => Ok(Value::Null),
    }
}

/// Ward's blocks have no uncles: a count of zero.
pub(super) fn no_uncles(_: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(U64::ZERO)
}

/// Ward's blocks have no uncles: none at any index.
pub(super) fn no_uncle(_: &Shared, _: &Params) -> Result<Value, RpcError> {
    Ok(Value::Null)
}

/// `eth_coinbase`: Ward's blocks have no miner.
pub(super) fn coinbase(_: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(EthAddress::ZERO)
}

/// `eth_mining`: a Ward node does no proof of work.
pub(super) fn mining(_: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(false)
}

/// `eth_hashrate`: none.
pub(super) fn hashrate(_: &Shared, _: &Params) -> Result<Value, RpcError> {
    to_json(U64::ZERO)
}
