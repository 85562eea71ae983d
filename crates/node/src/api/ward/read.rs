//! The methods that read the chain: transactions and receipts, queries,
//! storage with proofs, contracts, blocks and events.

use std::sync::Arc;

use ward_chain::{
    schema::Schema,
    tree::{self, StateKey},
};
use ward_primitives::{Address, Hash32};
use ward_rpc::{params, results, wire::Bytes};
use ward_state::{Receipt, StateRead, StateTree};

use crate::api::history::block_record;
use crate::api::payload;
use crate::error::{RpcError, exec_error};
use crate::{
    decode::{self, Called},
    json,
    state::Shared,
};

/// A receipt with what the schemas of the contracts involved say
/// (`called`: the call it answers; `extra`: a contract not yet in the
/// state, a simulated deploy's).
pub(super) fn receipt_shown(
    shared: &Shared,
    receipt: &Receipt,
    called: Option<Called<'_>>,
    extra: Option<(Address, Arc<Schema>)>,
) -> results::Receipt {
    let mut object = json::receipt(receipt);
    let store = &**shared.store();
    decode::decorate(&mut object, receipt, called, &mut |address| match &extra {
        Some((at, schema)) if at == address => Some(schema.clone()),
        _ => shared.schemas().at(store, address).ok().flatten(),
    });
    object
}

/// A committed receipt, decoded by the transaction stored with it.
pub(crate) fn stored_receipt(
    shared: &Shared,
    receipt: &Receipt,
) -> Result<results::Receipt, RpcError> {
    let stored = shared
        .store()
        .transaction(&receipt.tx)
        .map_err(RpcError::state)?;
    let call = stored.as_deref().and_then(decode::stored_call);
    Ok(called_receipt(shared, receipt, call.as_ref()))
}

/// A committed receipt of a transaction that called `call` (the callee
/// and the input; `None` for a deploy or an admin transaction), decoded
/// by the callee's schema.
pub(crate) fn called_receipt(
    shared: &Shared,
    receipt: &Receipt,
    call: Option<&(Address, Vec<u8>)>,
) -> results::Receipt {
    let called = call.map(|(to, input)| Called { to, input });
    receipt_shown(shared, receipt, called, None)
}

pub(super) fn get_transaction(
    shared: &Shared,
    p: params::GetTransaction,
) -> Result<results::Found, RpcError> {
    let hash = p.tx;
    let full_input = p.full_input.unwrap_or(false);
    if let Some(receipt) = shared.store().receipt(&hash).map_err(RpcError::state)? {
        let mut out = stored_receipt(shared, &receipt)?;
        let stored = shared.store().transaction(&hash).map_err(RpcError::state)?;
        if let Some(bytes) = stored {
            let store = &**shared.store();
            let schema = match decode::stored_call(&bytes) {
                Some((to, _)) => shared.schemas().at(store, &to).map_err(RpcError::state)?,
                None => None,
            };
            let mut transaction = decode::transaction(&bytes, schema.as_deref());
            if !full_input && let Some(transaction) = &mut transaction {
                elide_input(transaction);
            }
            out.transaction = transaction;
        }
        return Ok(results::Found::Receipt(Box::new(out)));
    }
    if shared.pool().contains(&hash) {
        return Ok(results::Found::Pending {
            tx: hash,
            status: "pending".into(),
        });
    }
    // An id alone cannot say whether it was pruned: a pruning node says
    // what it keeps.
    use ward_state::StatePrune;
    let kept_from = shared.store().pruned_below().map_err(RpcError::state)?;
    Err(RpcError::not_found(if kept_from > 0 {
        format!("no transaction {hash} in blocks from {kept_from} on (older ones are pruned here)")
    } else {
        format!("no transaction {hash}")
    }))
}

/// The most input bytes `getTransaction` shows unless asked for all
/// (`full_input`).
pub const INLINE_INPUT_BYTES: usize = 4096;

/// Replaces a transaction's input longer than [`INLINE_INPUT_BYTES`] with
/// `null`, beside its size (`input_size`): a batch of reads of large
/// transactions stays small.
fn elide_input(transaction: &mut results::Transaction) {
    let inputs = [
        transaction.call.as_mut().map(|c| &mut c.input),
        transaction.deploy.as_mut().map(|d| &mut d.input),
    ];
    for shown in inputs.into_iter().flatten() {
        let size = shown.input.as_ref().map_or(0, |i| i.0.len());
        if size > INLINE_INPUT_BYTES {
            shown.input = None;
            shown.input_size = Some(size);
        }
    }
}

pub(super) fn query(shared: &Shared, p: params::Query) -> Result<results::Receipt, RpcError> {
    let to = p.to;
    let input = payload::input(shared, &to, p.input, p.method, p.args)?;
    let height = p.height;
    let gas = p.gas.unwrap_or(shared.config().limits.query_gas_cap);
    let from = p.from.unwrap_or_default();
    within_read_cap(shared, gas)?;
    let reader = shared.reader(height)?;
    if reader
        .store()
        .contract(&to)
        .map_err(RpcError::state)?
        .is_none()
    {
        return Err(RpcError::not_found(format!("no contract at {to}")));
    }
    let receipt = reader
        .query(from, to, input.clone(), gas)
        .map_err(|e| exec_error(&e))?;
    Ok(receipt_shown(
        shared,
        &receipt,
        Some(Called {
            to: &to,
            input: &input,
        }),
        None,
    ))
}

pub(super) fn get_storage(
    shared: &Shared,
    p: params::GetStorage,
) -> Result<results::Storage, RpcError> {
    let height = reached_height(shared, p.height)?;
    let tree_key = StateKey::Storage(&p.address, &p.key.0).to_bytes();
    Ok(results::Storage {
        address: p.address,
        key: p.key,
        proven: proven(shared, height, &tree_key)?,
    })
}

/// `getStateValue {key_hash, height?}`: the state tree's value for a key
/// hash ([`ward_chain::tree::key_hash`] of a state key's bytes) after block
/// `height` (default: the latest), `null` when absent. What a forking
/// node (`ward serve --fork`) reads state through.
pub(super) fn get_state_value(
    shared: &Shared,
    p: params::GetStateValue,
) -> Result<results::StateValue, RpcError> {
    let key_hash = p.key_hash;
    let height = reached_height(shared, p.height)?;
    kept_state(shared, height)?;
    let value = shared
        .store()
        .tree_value(&key_hash, height)
        .map_err(RpcError::state)?;
    Ok(results::StateValue {
        key_hash,
        height,
        value: value.map(Bytes),
    })
}

/// `getCode {code_hash}`: the code stored under a hash (`not_found` when
/// none is).
pub(super) fn get_code(shared: &Shared, code_hash: Hash32) -> Result<results::Code, RpcError> {
    let code = shared
        .store()
        .code(&code_hash)
        .map_err(RpcError::state)?
        .ok_or_else(|| RpcError::not_found(format!("no code {code_hash}")))?;
    Ok(results::Code {
        code_hash,
        code: Bytes(code),
    })
}

/// A `height` (default: the latest block), which the chain must have
/// reached.
fn reached_height(shared: &Shared, height: Option<u64>) -> Result<u64, RpcError> {
    let latest = shared.store().height().map_err(RpcError::state)?;
    let height = height.unwrap_or(latest);
    if height > latest {
        return Err(RpcError::not_found(format!(
            "no block {height}: the chain is at {latest}"
        )));
    }
    Ok(height)
}

/// Refuses `height` when this node has pruned its state.
fn kept_state(shared: &Shared, height: u64) -> Result<(), RpcError> {
    use ward_state::StatePrune;
    let kept_from = shared.store().pruned_below().map_err(RpcError::state)?;
    if height < kept_from {
        return Err(RpcError::pruned(format!(
            "the state at block {height} is pruned: this node keeps it from block {kept_from} (--prune-history)"
        )));
    }
    Ok(())
}

/// `tree_key`'s value after block `height` with its proof (none on a
/// fork), and that block's state root. Height 0 is the genesis state
/// (none: the empty tree, and no proof to give).
fn proven(shared: &Shared, height: u64, tree_key: &[u8]) -> Result<results::Proven, RpcError> {
    let shown = |state_root, value: Option<Vec<u8>>, proof: Option<Vec<u8>>| results::Proven {
        value: value.map(Bytes),
        proof: proof.map(Bytes),
        state_root,
        height,
    };
    kept_state(shared, height)?;
    let tree = StateTree(&**shared.store());
    let fault = |e: tree::TreeError<ward_state::StateError>| {
        RpcError::new(-32002, "fault", format!("{e:?}"))
    };
    if shared.store().forked_at().is_some() {
        // A fork's tree holds only what its own blocks wrote: the value
        // is read through the fork, and no proof would say anything of
        // the source's state.
        let state_root = block_record(shared, height)?.header.state_root;
        let value = shared
            .store()
            .tree_value(&tree::key_hash(tree_key), height)
            .map_err(RpcError::state)?;
        return Ok(shown(state_root, value, None));
    }
    let state_root = if height == 0 {
        tree::root(&tree, 0).map_err(fault)?
    } else {
        block_record(shared, height)?.header.state_root
    };
    if state_root == tree::EMPTY_ROOT && height == 0 {
        return Ok(shown(state_root, None, Some(Vec::new())));
    }
    let proven = tree::prove(&tree, height, tree_key).map_err(fault)?;
    Ok(shown(state_root, proven.value, Some(proven.proof)))
}

/// An account's or contract's balance after block `height` (default: the
/// latest), with its proof against that block's state root.
pub(super) fn get_balance(
    shared: &Shared,
    p: params::GetBalance,
) -> Result<results::Balance, RpcError> {
    let address = p.address;
    let height = reached_height(shared, p.height)?;
    let tree_key = StateKey::Balance(&address).to_bytes();
    let proven = proven(shared, height, &tree_key)?;
    let balance = match &proven.value {
        None => 0,
        Some(bytes) => <[u8; 16]>::try_from(bytes.0.as_slice())
            .map(u128::from_le_bytes)
            .map_err(|_| {
                RpcError::new(
                    -32002,
                    "fault",
                    "a balance in the state tree is not 16 bytes",
                )
            })?,
    };
    Ok(results::Balance {
        address,
        balance: ward_rpc::wire::Amount(balance),
        asset: shared.settings().asset.name.clone(),
        decimals: shared.settings().asset.decimals,
        proven,
    })
}

/// Most entries or events one page returns.
const MAX_PAGE: u64 = 1000;

pub(super) fn get_storage_range(
    shared: &Shared,
    p: params::GetStorageRange,
) -> Result<results::StorageRange, RpcError> {
    let address = p.address;
    let cursor = p.cursor.map(Vec::from);
    let limit = p.limit.unwrap_or(100).clamp(1, MAX_PAGE);
    // One more than asked, to know whether there is a next page.
    let mut entries = shared
        .store()
        .storage_page(&address, cursor.as_deref(), limit as usize + 1)
        .map_err(RpcError::state)?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next = if more {
        entries.last().map(|(k, _)| Bytes(k.clone()))
    } else {
        None
    };
    Ok(results::StorageRange {
        address,
        height: shared.store().height().map_err(RpcError::state)?,
        entries: entries
            .into_iter()
            .map(|(key, value)| results::Entry {
                key: Bytes(key),
                value: Bytes(value),
            })
            .collect(),
        cursor: next,
    })
}

pub(super) fn get_contract(
    shared: &Shared,
    address: Address,
) -> Result<results::Contract, RpcError> {
    let info = shared
        .store()
        .contract(&address)
        .map_err(RpcError::state)?
        .ok_or_else(|| RpcError::not_found(format!("no contract at {address}")))?;
    let code_size = shared
        .store()
        .code(&info.code_hash)
        .map_err(RpcError::state)?
        .map_or(0, |c| c.len());
    let schema = shared
        .schemas()
        .at(&**shared.store(), &address)
        .map_err(RpcError::state)?;
    Ok(results::Contract {
        address,
        code_hash: info.code_hash,
        code_size,
        deployer: info.deployer,
        created_at: info.created_at,
        kind: info.kind.as_str().to_owned(),
        admin: info.admin,
        code_history: info
            .code_history()
            .iter()
            .map(|(since, code_hash)| results::CodeSince {
                since: *since,
                code_hash: *code_hash,
            })
            .collect(),
        schema: schema.map(|s| s.to_json()),
    })
}

pub(super) fn block_at(shared: &Shared, height: u64) -> Result<results::Block, RpcError> {
    Ok(json::block(&block_record(shared, height)?))
}

pub(super) fn get_block(shared: &Shared, p: params::GetBlock) -> Result<results::Block, RpcError> {
    match (p.height, p.hash) {
        (Some(height), None) => block_at(shared, height),
        (None, Some(hash)) => {
            let height = shared
                .store()
                .block_height(&hash)
                .map_err(RpcError::state)?
                .ok_or_else(|| RpcError::not_found(format!("no block {hash}")))?;
            block_at(shared, height)
        }
        _ => Err(RpcError::invalid_params(
            "exactly one of \"height\" and \"hash\" is required",
        )),
    }
}

/// Blocks one `getEvents` call reads at most before it returns a cursor.
const MAX_SCAN_BLOCKS: u64 = 10_000;

pub(super) fn get_events(
    shared: &Shared,
    p: params::GetEvents,
) -> Result<results::Events, RpcError> {
    let contract = p.contract;
    let topic = p.topic.map(Vec::from);
    let latest = shared.store().height().map_err(RpcError::state)?;
    // By default from the first block kept (a pruning node's window).
    let first_kept =
        ward_state::StatePrune::pruned_below(&**shared.store()).map_err(RpcError::state)?;
    let from = p.from_height.unwrap_or(first_kept).max(1);
    let to = p.to_height.unwrap_or(latest).min(latest);
    let limit = p.limit.unwrap_or(100).clamp(1, MAX_PAGE) as usize;
    // A cursor is "height:receipt:event", the first event not yet returned.
    let start = match p.cursor {
        None => (from, 0, 0),
        Some(text) => parse_cursor(&text)
            .ok_or_else(|| RpcError::invalid_params(format!("bad cursor {text:?}")))?,
    };
    let mut events = Vec::new();
    let mut height = start.0.max(from);
    let scan_end = to.min(height.saturating_add(MAX_SCAN_BLOCKS - 1));
    while height <= scan_end {
        let block = block_record(shared, height)?;
        for (r, id) in block.txs.iter().enumerate() {
            let first_receipt = if height == start.0 { start.1 } else { 0 };
            if r < first_receipt {
                continue;
            }
            let Some(receipt) = shared.store().receipt(id).map_err(RpcError::state)? else {
                continue;
            };
            for (e, event) in receipt.events.iter().enumerate() {
                if height == start.0 && r == start.1 && e < start.2 {
                    continue;
                }
                if contract.is_some_and(|c| c != event.contract)
                    || topic.as_ref().is_some_and(|t| *t != event.topic)
                {
                    continue;
                }
                if events.len() == limit {
                    return Ok(results::Events {
                        events,
                        cursor: Some(format!("{height}:{r}:{e}")),
                    });
                }
                events.push(results::Event {
                    height: Some(height),
                    tx: Some(*id),
                    index: u32::try_from(e).ok(),
                    ..json::event(event)
                });
            }
        }
        height += 1;
    }
    let cursor = (scan_end < to).then(|| format!("{}:0:0", scan_end + 1));
    Ok(results::Events { events, cursor })
}

fn parse_cursor(text: &str) -> Option<(u64, usize, usize)> {
    let mut parts = text.split(':');
    let cursor = (
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
        parts.next()?.parse().ok()?,
    );
    parts.next().is_none().then_some(cursor)
}

/// Refuses a free read (`query`, `simulateTransaction`) of more gas than
/// the node's read cap (`--query-gas-cap`).
pub(super) fn within_read_cap(shared: &Shared, gas: u64) -> Result<(), RpcError> {
    let cap = shared.config().limits.query_gas_cap;
    if gas > cap {
        return Err(RpcError::invalid_params(format!(
            "gas {gas} is above this node's cap for reads of {cap} (--query-gas-cap)"
        )));
    }
    Ok(())
}
