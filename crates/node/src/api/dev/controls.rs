//! A dev node's controls (`--dev`; `docs/node.md`, "Dev mode"): blocks
//! on demand, their time, state set directly, sending as any address, and
//! snapshots of the whole chain to go back to: what the dev wing's
//! methods do, under Ward's names and under Hardhat's and anvil's.

use tokio::sync::oneshot::Sender;
use ward_primitives::{Address, CodeKind};
use ward_rpc::{params, results};
use ward_state::StateRead;

use crate::{api::answer::Gone, error::RpcError, failure::Failure, json, state::Shared};

/// The most blocks one `mine` call builds.
pub const MAX_MINE_BLOCKS: u64 = 1000;

/// The latest time `setNextBlockTime` may choose, in milliseconds since
/// the Unix epoch: the start of the second before the last whole second
/// below 2^53 (the largest integer a JavaScript client reads exactly; the
/// year 287 396), so that the next block, in a later second (a dev
/// node's rule, `NodeConfig::strict_block_seconds`), still has a time a
/// client reads exactly, and later blocks have later times to take.
pub const MAX_BLOCK_TIME: u64 = (((1 << 53) - 1) / 1000 - 1) * 1000;

/// `impersonate` (`on`) or `stopImpersonating` `address`.
pub(super) fn impersonate(shared: &Shared, address: Address, on: bool) -> results::Impersonation {
    results::Impersonation {
        address,
        impersonated: shared.impersonate(address, on),
    }
}

/// Hands the producer a request (`queue` puts it, with the sender of its
/// answer, in the pool, which wakes the producer), and waits for the
/// answer.
fn ask_producer<T>(
    queue: impl FnOnce(Sender<Result<T, Failure>>) -> Result<(), Failure>,
) -> Result<T, RpcError> {
    let (sender, receiver) = tokio::sync::oneshot::channel();
    queue(sender)?;
    let answer = receiver
        .blocking_recv()
        .map_err(|_| RpcError::unavailable("the node is shutting down"))?;
    Ok(answer?)
}

/// A block now (empty if nothing is ready), returned once committed.
pub(super) fn mine(shared: &Shared) -> Result<results::Block, RpcError> {
    let block = ask_producer(|answer| shared.pool().queue_mine(answer))?;
    Ok(json::block(&block.record))
}

/// `blocks` blocks, one after the other; the last one is returned. Stops
/// when the caller is `gone` (it went away, or its request timed out).
pub(super) fn mine_n(
    shared: &Shared,
    blocks: u64,
    gone: &Gone,
) -> Result<results::Block, RpcError> {
    if !(1..=MAX_MINE_BLOCKS).contains(&blocks) {
        return Err(RpcError::invalid_params(format!(
            "\"blocks\" is 1 to {MAX_MINE_BLOCKS}"
        )));
    }
    let mut last = mine(shared)?;
    for built in 1..blocks {
        if gone.is_gone() {
            tracing::info!(built, asked = blocks, "mine: the caller went away, stopped");
            return Err(RpcError::unavailable("the request was abandoned"));
        }
        last = mine(shared)?;
    }
    Ok(last)
}

pub(super) fn set_next_block_time(
    shared: &Shared,
    time: u64,
) -> Result<results::BlockTime, RpcError> {
    let height = shared.store().height().map_err(RpcError::state)?;
    let last = shared
        .store()
        .block(height)
        .map_err(RpcError::state)?
        .map_or(0, |b| b.header.time);
    let earliest = shared.config().earliest_block_time(last);
    if time < earliest {
        let rule = match shared.config().strict_block_seconds() {
            true => "each block's second is after its parent's",
            false => "block times increase",
        };
        return Err(RpcError::invalid_params(format!(
            "{rule}: the last block's time is {last}, the next may be {earliest} at the earliest"
        )));
    }
    if time > MAX_BLOCK_TIME {
        return Err(RpcError::invalid_params(format!(
            "{time} is past the latest block time a chain may reach, {MAX_BLOCK_TIME} ms: every later block needs a later time"
        )));
    }
    shared.pool().set_next_time(time);
    Ok(results::BlockTime { time })
}

/// The contract at `address`, or `not_found`.
fn contract(shared: &Shared, address: &Address) -> Result<ward_state::ContractInfo, RpcError> {
    shared
        .store()
        .contract(address)
        .map_err(RpcError::state)?
        .ok_or_else(|| RpcError::not_found(format!("no contract at {address}")))
}

/// `setStorage {address, key, value}`: one storage entry of a contract
/// (`value` null removes it), at the start of a block built at once.
pub(super) fn set_storage(
    shared: &Shared,
    p: params::SetStorage,
) -> Result<results::Block, RpcError> {
    let (address, key) = (p.address, p.key.0);
    let Some(value) = p.value else {
        return Err(RpcError::invalid_params(
            "\"value\" is required (null removes the entry)",
        ));
    };
    let value = value.map(Vec::from);
    contract(shared, &address)?;
    // What a contract could have written itself.
    let (max_key, max_value) = (ward_abi::MAX_KEY_BYTES, ward_abi::MAX_VALUE_BYTES);
    if key.len() > max_key as usize {
        return Err(RpcError::invalid_params(format!(
            "a key of {} bytes: keys are at most {max_key}",
            key.len()
        )));
    }
    if let Some(value) = &value
        && value.len() > max_value as usize
    {
        return Err(RpcError::invalid_params(format!(
            "a value of {} bytes: values are at most {max_value}",
            value.len()
        )));
    }
    shared.pool().preset(|preset| {
        preset.storage.insert((address, key), value);
    });
    mine(shared)
}

/// `setCode {address, code}`: a contract's code replaced (its address,
/// storage, balance and admin stay), at the start of a block built at
/// once. A Ward or WASI contract's new module must pass the checks a
/// deploy makes.
pub(super) fn set_code(shared: &Shared, p: params::SetCode) -> Result<results::Block, RpcError> {
    let (address, code) = (p.address, p.code.0);
    let info = contract(shared, &address)?;
    if matches!(info.kind, CodeKind::Ward) || info.kind.is_wasi() {
        shared.cache().get_or_compile(&code).map_err(|failure| {
            RpcError::refused(
                "invalid",
                format!(
                    "the module is refused ({}): {}",
                    failure.kind, failure.message
                ),
            )
        })?;
    }
    shared.pool().preset(|preset| {
        preset.code.insert(address, code);
    });
    mine(shared)
}

/// `snapshot`: the whole chain as it is now (its committed blocks) and
/// the dev clock, to go back to with `revert`.
pub(super) fn snapshot(shared: &Shared) -> Result<results::Snapshot, RpcError> {
    // Taken between two commits: the producer's blocks are each one.
    let id = shared.store().savepoint().map_err(RpcError::state)?;
    shared.pool().snapshot_clock(id);
    let height = shared.store().height().map_err(RpcError::state)?;
    Ok(results::Snapshot { id, height })
}

/// `revert {id}`: the chain put back as it was at snapshot `id`, on the
/// producer's thread between two blocks.
pub(super) fn revert(shared: &Shared, id: u64) -> Result<results::Snapshot, RpcError> {
    let height = ask_producer(|answer| shared.pool().queue_revert((id, answer)))?;
    Ok(results::Snapshot { id, height })
}
