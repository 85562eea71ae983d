//! What the Ethereum methods read the chain through: the head, the
//! height a block tag or hash names, the state after a block this node
//! still keeps, the chain's Ethereum id.

use alloy_primitives::B256;
use alloy_rpc_types_eth::{BlockId, BlockNumberOrTag};
use ward_primitives::Hash32;
use ward_state::StateRead;

use super::params::{Params, state_error};
use crate::{error::RpcError, state::Shared};

/// The chain's Ethereum chain id, or why it has none.
pub(crate) fn eth_chain_id(shared: &Shared) -> Result<u64, RpcError> {
    shared.settings().eth_chain_id.ok_or_else(|| {
        RpcError::eth(
            -32000,
            "this chain takes no Ethereum transactions: its genesis sets no eth_chain_id".into(),
            None,
        )
    })
}

/// The latest block's height.
pub(crate) fn head(shared: &Shared) -> Result<u64, RpcError> {
    shared.store().height().map_err(state_error)
}

/// The height a block tag names: every tag but `earliest` is the head,
/// since a Ward block is final once made and a dev node mines what it
/// admits at once. `None` for a number past the head.
pub(crate) fn number(shared: &Shared, tag: BlockNumberOrTag) -> Result<Option<u64>, RpcError> {
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

/// The height of the block with hash `hash`, if this node has it.
pub(crate) fn height_of(shared: &Shared, hash: B256) -> Result<Option<u64>, RpcError> {
    shared
        .store()
        .block_height(&Hash32(hash.0))
        .map_err(state_error)
}

/// The height `id` names, if this node has such a block.
pub(crate) fn block_id(shared: &Shared, id: BlockId) -> Result<Option<u64>, RpcError> {
    match id {
        BlockId::Number(tag) => number(shared, tag),
        BlockId::Hash(hash) => height_of(shared, hash.block_hash),
    }
}

/// The height param `index` names (default `latest`), which must exist.
pub(crate) fn block_param(shared: &Shared, p: &Params, index: usize) -> Result<u64, RpcError> {
    let id = p.opt::<BlockId>(index)?.unwrap_or_default();
    block_id(shared, id)?.ok_or_else(|| RpcError::eth(-32000, "header not found".into(), None))
}

/// Where a call at a block runs: on the state after block `state`, in a
/// block environment numbered `number` at `time`.
pub(crate) struct CallBlock {
    pub(crate) state: u64,
    pub(crate) number: u64,
    pub(crate) time: u64,
}

/// Where a call at the block param `index` (default `latest`) runs, as
/// geth runs it: on the state after the block it names, with that
/// block's own number and time (so a contract's `block.number` at
/// `latest` is the latest block's); at `pending`, with the next block's
/// number and the time a block made now would take. The block must be
/// kept.
pub(crate) fn call_block(shared: &Shared, p: &Params, index: usize) -> Result<CallBlock, RpcError> {
    let pending = matches!(
        p.opt::<BlockId>(index)?,
        Some(BlockId::Number(BlockNumberOrTag::Pending))
    );
    let state = block_param(shared, p, index)?;
    kept(shared, state)?;
    if pending {
        return Ok(CallBlock {
            state,
            number: state + 1,
            time: crate::producer::query_time(shared),
        });
    }
    let time = shared
        .store()
        .block(state)
        .map_err(state_error)?
        .map_or(0, |block| block.header.time);
    Ok(CallBlock {
        state,
        number: state,
        time,
    })
}

/// `read` of the state after the block param `index` names, which this
/// node must still keep: the head's from the store's own tables (what
/// its receipts were committed with), an earlier block's from the state
/// tree's version of it.
pub(crate) fn read_state<T>(
    shared: &Shared,
    p: &Params,
    index: usize,
    read: impl FnOnce(&dyn StateRead) -> Result<T, ward_state::StateError>,
) -> Result<T, RpcError> {
    let height = block_param(shared, p, index)?;
    read(&*state_at(shared, height)?).map_err(state_error)
}

/// The state after block `height`, which this node must still keep: the
/// head's from the store's own tables, an earlier block's from the state
/// tree's version of it.
pub(crate) fn state_at(shared: &Shared, height: u64) -> Result<Box<dyn StateRead>, RpcError> {
    if height == head(shared)? {
        return Ok(Box::new(shared.store().clone()));
    }
    kept(shared, height)?;
    let snapshot =
        ward_state::Snapshot::new(shared.store().clone(), height).map_err(state_error)?;
    Ok(Box::new(snapshot))
}

/// Refuses a height whose state this node pruned.
pub(crate) fn kept(shared: &Shared, height: u64) -> Result<(), RpcError> {
    use ward_state::StatePrune;
    let kept_from = shared.store().pruned_below().map_err(state_error)?;
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
