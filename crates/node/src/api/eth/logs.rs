//! `eth_getLogs` and the log filters' reads, bounded before they are
//! built: at most [`MAX_LOG_BLOCKS`] blocks, and the logs counted first,
//! one event at a time, so that a query over many logs is refused (or,
//! for a filter's changes, cut at a block) once it passes [`MAX_LOGS`] or
//! the response bound, never after its answer was built in memory.

use alloy_rpc_types_eth::{BlockNumberOrTag, Filter, FilterBlockOption, Log};

use serde_json::Value;

use super::{
    chain::{head, height_of, number},
    params::{Params, to_json},
    shape,
};
use crate::{error::RpcError, state::Shared};

/// Blocks one `eth_getLogs` reads at most (a range of more is refused:
/// ask for less, as geth's and most providers' limits say).
pub const MAX_LOG_BLOCKS: u64 = 10_000;

/// `eth_getLogs`.
pub(super) fn get_logs(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let filter: Filter = p.at(0)?;
    to_json(read_logs(shared, &filter)?)
}

/// Logs one `eth_getLogs` answers at most (Infura's and Alchemy's limit):
/// past it, the query is refused with the range to ask for instead.
pub const MAX_LOGS: usize = 10_000;

/// The first block of `from..=to` at which the logs `filter` matches pass
/// [`MAX_LOGS`] or about `max_bytes` of JSON, if one does: counted one
/// event at a time from each block's receipts, holding no log, so that a
/// query past the bound costs one block's receipts at a time whatever
/// its range.
pub(super) fn past_bound(
    shared: &Shared,
    filter: &Filter,
    (from, to): (u64, u64),
    max_bytes: usize,
) -> Result<Option<u64>, RpcError> {
    let (mut count, mut bytes) = (0usize, 0usize);
    for height in from.max(1)..=to {
        for receipt in shape::receipts(shared, height)? {
            for event in &receipt.events {
                let (address, data) = shape::log_data_of(event);
                let inner = alloy_primitives::Log { address, data };
                if !filter.matches(&inner) {
                    continue;
                }
                count += 1;
                bytes = bytes.saturating_add(json_bytes(&inner));
                if count > MAX_LOGS || bytes > max_bytes {
                    return Ok(Some(height));
                }
            }
        }
    }
    Ok(None)
}

/// The logs of blocks `from..=to` that `filter` matches, in order (a
/// range [`past_bound`] found within the bound).
pub(super) fn matching(
    shared: &Shared,
    filter: &Filter,
    (from, to): (u64, u64),
) -> Result<Vec<Log>, RpcError> {
    let mut out = Vec::new();
    for height in from.max(1)..=to {
        let record = shape::block_record(shared, height)?;
        let receipts = shape::receipts(shared, height)?;
        out.extend(
            shape::block_logs(&record, &receipts)
                .into_iter()
                .filter(|log| filter.matches(&log.inner)),
        );
    }
    Ok(out)
}

/// About how many bytes of JSON a log of `inner` is (its fixed fields,
/// and its topics and data in hex).
fn json_bytes(inner: &alloy_primitives::Log) -> usize {
    400 + 70 * inner.data.topics().len() + 2 * inner.data.data.len()
}

/// `eth_getLogs`: the logs `filter` matches, in order, over at most
/// [`MAX_LOG_BLOCKS`] blocks and [`MAX_LOGS`] logs.
pub(super) fn read_logs(shared: &Shared, filter: &Filter) -> Result<Vec<Log>, RpcError> {
    let (from, to) = match &filter.block_option {
        FilterBlockOption::AtBlockHash(hash) => {
            let Some(height) = height_of(shared, *hash)? else {
                return Err(RpcError::eth(-32000, "unknown block".into(), None));
            };
            (height, height)
        }
        FilterBlockOption::Range {
            from_block,
            to_block,
        } => {
            let at = |tag: Option<BlockNumberOrTag>| -> Result<u64, RpcError> {
                let head = head(shared)?;
                Ok(number(shared, tag.unwrap_or_default())?.unwrap_or(head))
            };
            (at(*from_block)?, at(*to_block)?)
        }
    };
    if from > to {
        return Err(RpcError::eth(
            -32000,
            format!("invalid block range params: from {from} is after to {to}"),
            None,
        ));
    }
    if to - from >= MAX_LOG_BLOCKS {
        return Err(RpcError::eth(
            -32005,
            format!(
                "query exceeds the limit of {MAX_LOG_BLOCKS} blocks: ask for {from} to {} and go on from there",
                from + MAX_LOG_BLOCKS - 1
            ),
            None,
        ));
    }
    let max_bytes = shared.config().limits.max_response_bytes;
    match past_bound(shared, filter, (from, to), max_bytes)? {
        None => matching(shared, filter, (from, to)),
        Some(stopped) => {
            let ask = match stopped > from {
                true => format!(
                    ": ask for blocks {from} to {} and go on from there",
                    stopped - 1
                ),
                false => {
                    format!(": block {stopped} alone holds more, so filter by address or topics")
                }
            };
            Err(RpcError::eth(
                -32005,
                format!("query returned more than {MAX_LOGS} results or {max_bytes} bytes{ask}"),
                None,
            ))
        }
    }
}
