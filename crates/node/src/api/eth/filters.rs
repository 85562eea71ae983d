//! Ethereum's polled filters (`eth_newFilter`, `eth_newBlockFilter`,
//! `eth_getFilterChanges`, `eth_getFilterLogs`, `eth_uninstallFilter`):
//! what ethers and web3.py use for events over HTTP. A filter remembers
//! the next block it has not shown; each poll shows the blocks since, at
//! most [`MAX_LOG_BLOCKS`] of them (the rest at the next poll). A node
//! keeps at most [`MAX_FILTERS`], and forgets one not polled for
//! [`FILTER_IDLE`], as geth does.

use std::time::Duration;

use alloy_primitives::{B256, U256};
use alloy_rpc_types_eth::{BlockNumberOrTag, Filter, FilterBlockOption};
use serde_json::Value;

use super::{
    chain::{head, number},
    logs::{self, MAX_LOG_BLOCKS},
    params::{Params, invalid, to_json},
    shape,
};
use crate::{error::RpcError, polled::Installed, state::Shared};

/// The most filters a node keeps at once.
pub const MAX_FILTERS: usize = 1024;

/// How long a filter no one polls is kept (geth's deadline).
pub const FILTER_IDLE: Duration = Duration::from_secs(300);

/// Installs a filter whose first block is `next`; its id.
fn install(shared: &Shared, logs: Option<Filter>, next: u64) -> Result<u64, RpcError> {
    shared
        .with_eth_filters(|filters| filters.install(logs, next, MAX_FILTERS, FILTER_IDLE))
        .ok_or_else(|| {
            RpcError::eth(
                -32005,
                format!("too many filters: at most {MAX_FILTERS}, uninstall some"),
                None,
            )
        })
}

/// `eth_newBlockFilter`: shows the hashes of blocks from the next one.
pub(super) fn new_block_filter(shared: &Shared, _: &Params) -> Result<Value, RpcError> {
    let id = install(shared, None, head(shared)? + 1)?;
    to_json(U256::from(id))
}

/// `eth_uninstallFilter`: whether there was such a filter.
pub(super) fn uninstall(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let id = id(p)?;
    to_json(shared.with_eth_filters(|filters| filters.installed.remove(&id).is_some()))
}

fn id(p: &Params) -> Result<u64, RpcError> {
    let id: U256 = p.at(0)?;
    u64::try_from(id).map_err(|_| not_found())
}

fn not_found() -> RpcError {
    RpcError::eth(-32000, "filter not found".into(), None)
}

/// `eth_newFilter`: shows the matching logs of blocks from its
/// `fromBlock` (default: the next block) to its `toBlock`.
pub(super) fn new_filter(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let filter: Filter = p.at(0)?;
    let head = head(shared)?;
    let next = match filter.block_option {
        FilterBlockOption::AtBlockHash(_) => {
            return Err(invalid(
                "a filter follows new blocks: give fromBlock/toBlock, not blockHash (eth_getLogs takes one)",
            ));
        }
        FilterBlockOption::Range { from_block, .. } => match from_block {
            None | Some(BlockNumberOrTag::Latest | BlockNumberOrTag::Pending) => head + 1,
            Some(tag) => number(shared, tag)?.unwrap_or(head + 1).max(1),
        },
    };
    let id = install(shared, Some(filter), next)?;
    to_json(U256::from(id))
}

/// The last block filter `logs` shows: its `toBlock`, or the head.
fn last_block(shared: &Shared, logs: &Filter, head: u64) -> Result<u64, RpcError> {
    match logs.block_option {
        FilterBlockOption::Range {
            to_block: Some(BlockNumberOrTag::Number(_) | BlockNumberOrTag::Earliest),
            ..
        } => {
            let to = logs
                .block_option
                .get_to_block()
                .copied()
                .unwrap_or_default();
            Ok(number(shared, to)?.unwrap_or(head).min(head))
        }
        _ => Ok(head),
    }
}

/// `eth_getFilterChanges`: what filter `id` matched since its last poll.
pub(super) fn changes(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let id = id(p)?;
    let head = head(shared)?;
    let (logs, next) = shared.with_eth_filters(|filters| {
        let installed: &mut Installed = filters.installed.get_mut(&id).ok_or_else(not_found)?;
        installed.polled = ward_vm::clock::now();
        // After `evm_revert` the head may be below what it showed.
        installed.next = installed.next.min(head + 1);
        Ok::<_, RpcError>((installed.logs.clone(), installed.next))
    })?;
    let last = match &logs {
        Some(filter) => last_block(shared, filter, head)?,
        None => head,
    };
    let mut last = last.min(next.saturating_add(MAX_LOG_BLOCKS - 1));
    let answer = match &logs {
        None => {
            let mut hashes = Vec::new();
            for height in next..=last {
                hashes.push(B256::from(shape::block_record(shared, height)?.hash().0));
            }
            to_json(hashes)?
        }
        Some(filter) => {
            // Cut at the block that would pass the bound: the next poll
            // starts there (a block that alone passes it is answered).
            let max_bytes = shared.config().limits.max_response_bytes;
            match logs::past_bound(shared, filter, (next, last), max_bytes)? {
                Some(height) if height > next => last = height - 1,
                Some(height) => last = height,
                None => {}
            }
            to_json(logs::matching(shared, filter, (next, last))?)?
        }
    };
    finish(shared, id, last, answer)
}

/// A filter's changes `answer`, read up to block `last`: the next poll
/// starts after it.
fn finish(shared: &Shared, id: u64, last: u64, answer: Value) -> Result<Value, RpcError> {
    shared.with_eth_filters(|filters| {
        if let Some(installed) = filters.installed.get_mut(&id) {
            installed.next = installed.next.max(last + 1);
        }
    });
    Ok(answer)
}

/// `eth_getFilterLogs`: every log a log filter matches, as `eth_getLogs`
/// with its filter.
pub(super) fn filter_logs(shared: &Shared, p: &Params) -> Result<Value, RpcError> {
    let id = id(p)?;
    let filter = shared.with_eth_filters(|filters| {
        let installed: &mut Installed = filters.installed.get_mut(&id).ok_or_else(not_found)?;
        installed.polled = ward_vm::clock::now();
        Ok::<_, RpcError>(installed.logs.clone())
    })?;
    let filter = filter.ok_or_else(|| invalid("eth_getFilterLogs takes a log filter"))?;
    to_json(logs::read_logs(shared, &filter)?)
}
