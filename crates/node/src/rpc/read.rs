//! The methods that read the chain: transactions and receipts, queries,
//! storage with proofs, contracts, blocks and events.

use std::sync::Arc;

use serde_json::{Value, json};
use ward_chain::{
    schema::Schema,
    tree::{self, StateKey},
};
use ward_primitives::{Address, Hash32};
use ward_state::{Receipt, StateRead, StateTree};

use super::{Params, RpcError, call_input, exec_error, within_read_cap};
use crate::{
    decode::{self, Called},
    json::{self, hex, unhex32},
    state::Shared,
    sync::lock,
};

/// A receipt's JSON with what the schemas of the contracts involved say
/// (`called`: the call it answers; `extra`: a contract not yet in the
/// state, a simulated deploy's).
pub(super) fn receipt_json(
    shared: &Shared,
    receipt: &Receipt,
    called: Option<Called<'_>>,
    extra: Option<(Address, Arc<Schema>)>,
) -> Value {
    let mut object = json::receipt(receipt);
    let store = &*shared.store;
    decode::decorate(&mut object, receipt, called, &mut |address| match &extra {
        Some((at, schema)) if at == address => Some(schema.clone()),
        _ => shared.schemas.at(store, address).ok().flatten(),
    });
    object
}

/// A committed receipt's JSON, decoded by the transaction stored with it.
pub(super) fn stored_receipt(shared: &Shared, receipt: &Receipt) -> Result<Value, RpcError> {
    let stored = shared
        .store
        .transaction(&receipt.tx)
        .map_err(RpcError::state)?;
    let call = stored.as_deref().and_then(decode::stored_call);
    let called = call.as_ref().map(|(to, input)| Called { to, input });
    Ok(receipt_json(shared, receipt, called, None))
}

pub(super) fn get_transaction(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let hash = p.hash("tx")?;
    let full_input = p.bool("full_input")?;
    p.done()?;
    if let Some(receipt) = shared.store.receipt(&hash).map_err(RpcError::state)? {
        let mut out = stored_receipt(shared, &receipt)?;
        let stored = shared.store.transaction(&hash).map_err(RpcError::state)?;
        if let Some(bytes) = stored {
            let store = &*shared.store;
            let schema = match decode::stored_call(&bytes) {
                Some((to, _)) => shared.schemas.at(store, &to).map_err(RpcError::state)?,
                None => None,
            };
            let mut transaction =
                decode::transaction(&bytes, schema.as_deref()).unwrap_or(Value::Null);
            if !full_input {
                elide_input(&mut transaction);
            }
            out["transaction"] = transaction;
        }
        return Ok(out);
    }
    if lock(&shared.pool).mempool.contains(&hash) {
        return Ok(json!({ "tx": hash.to_string(), "status": "pending" }));
    }
    // An id alone cannot say whether it was pruned: a pruning node says
    // what it keeps.
    use ward_state::StatePrune;
    let kept_from = shared.store.pruned_below().map_err(RpcError::state)?;
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
fn elide_input(transaction: &mut Value) {
    for part in ["call", "deploy"] {
        let Some(input) = transaction[part]["input"].as_str() else {
            continue;
        };
        let size = input.len().saturating_sub(2) / 2;
        if size > INLINE_INPUT_BYTES {
            transaction[part]["input"] = Value::Null;
            transaction[part]["input_size"] = json!(size);
        }
    }
}

pub(super) fn query(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let to = p.address("to")?;
    let input = call_input(shared, &to, &mut p)?;
    let height = p.u64("height")?;
    let gas = p.u64("gas")?.unwrap_or(shared.config.limits.query_gas_cap);
    let from = match p.string("from")? {
        None => Address::default(),
        Some(text) => Address(unhex32(&text).map_err(RpcError::invalid_params)?),
    };
    p.done()?;
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
    Ok(receipt_json(
        shared,
        &receipt,
        Some(Called {
            to: &to,
            input: &input,
        }),
        None,
    ))
}

pub(super) fn get_storage(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let address = p.address("address")?;
    let key = p
        .bytes("key")?
        .ok_or_else(|| RpcError::invalid_params("\"key\" is required"))?;
    let height = reached_height(shared, p)?;
    let tree_key = StateKey::Storage(&address, &key).to_bytes();
    let (state_root, value, proof) = proven(shared, height, &tree_key)?;
    Ok(json!({
        "address": address.to_string(),
        "key": hex(&key),
        "value": value.as_deref().map(hex),
        "proof": proof.as_deref().map(hex),
        "state_root": state_root.to_string(),
        "height": height,
    }))
}

/// `getStateValue {key_hash, height?}`: the state tree's value for a key
/// hash ([`ward_chain::tree::key_hash`] of a state key's bytes) after block
/// `height` (default: the latest), `null` when absent. What a forking
/// node (`ward serve --fork`) reads state through.
pub(super) fn get_state_value(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let key_hash = p.hash("key_hash")?;
    let height = reached_height(shared, p)?;
    kept_state(shared, height)?;
    let value = shared
        .store
        .tree_value(&key_hash, height)
        .map_err(RpcError::state)?;
    Ok(json!({
        "key_hash": key_hash.to_string(),
        "height": height,
        "value": value.as_deref().map(hex),
    }))
}

/// `getCode {code_hash}`: the code stored under a hash (`not_found` when
/// none is).
pub(super) fn get_code(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let code_hash = p.hash("code_hash")?;
    p.done()?;
    let code = shared
        .store
        .code(&code_hash)
        .map_err(RpcError::state)?
        .ok_or_else(|| RpcError::not_found(format!("no code {code_hash}")))?;
    Ok(json!({ "code_hash": code_hash.to_string(), "code": hex(&code) }))
}

/// The last parameter, `height` (default: the latest block), which the
/// chain must have reached.
fn reached_height(shared: &Shared, mut p: Params) -> Result<u64, RpcError> {
    let latest = shared.store.height().map_err(RpcError::state)?;
    let height = p.u64("height")?.unwrap_or(latest);
    p.done()?;
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
    let kept_from = shared.store.pruned_below().map_err(RpcError::state)?;
    if height < kept_from {
        return Err(RpcError::pruned(format!(
            "the state at block {height} is pruned: this node keeps it from block {kept_from} (--prune-history)"
        )));
    }
    Ok(())
}

/// `tree_key`'s value after block `height` with its proof, and that
/// block's state root. Height 0 is the genesis state (none: the empty
/// tree, and no proof to give).
fn proven(shared: &Shared, height: u64, tree_key: &[u8]) -> Result<Proof, RpcError> {
    kept_state(shared, height)?;
    let tree = StateTree(&*shared.store);
    let fault = |e: tree::TreeError<ward_state::StateError>| {
        RpcError::new(-32002, "fault", format!("{e:?}"))
    };
    if shared.store.forked_at().is_some() {
        // A fork's tree holds only what its own blocks wrote: the value
        // is read through the fork, and no proof would say anything of
        // the source's state.
        let state_root = block_record(shared, height)?.header.state_root;
        let value = shared
            .store
            .tree_value(&tree::key_hash(tree_key), height)
            .map_err(RpcError::state)?;
        return Ok((state_root, value, None));
    }
    let state_root = if height == 0 {
        tree::root(&tree, 0).map_err(fault)?
    } else {
        block_record(shared, height)?.header.state_root
    };
    if state_root == tree::EMPTY_ROOT && height == 0 {
        return Ok((state_root, None, Some(Vec::new())));
    }
    let proven = tree::prove(&tree, height, tree_key).map_err(fault)?;
    Ok((state_root, proven.value, Some(proven.proof)))
}

/// A block's state root, a value in its tree and the proof of it (none
/// on a fork).
type Proof = (ward_primitives::Hash32, Option<Vec<u8>>, Option<Vec<u8>>);

/// An account's or contract's balance after block `height` (default: the
/// latest), with its proof against that block's state root.
pub(super) fn get_balance(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let address = p.address("address")?;
    let height = reached_height(shared, p)?;
    let tree_key = StateKey::Balance(&address).to_bytes();
    let (state_root, value, proof) = proven(shared, height, &tree_key)?;
    let balance = match &value {
        None => 0,
        Some(bytes) => <[u8; 16]>::try_from(bytes.as_slice())
            .map(u128::from_le_bytes)
            .map_err(|_| {
                RpcError::new(
                    -32002,
                    "fault",
                    "a balance in the state tree is not 16 bytes",
                )
            })?,
    };
    Ok(json!({
        "address": address.to_string(),
        "balance": balance.to_string(),
        "value": value.as_deref().map(hex),
        "proof": proof.as_deref().map(hex),
        "state_root": state_root.to_string(),
        "height": height,
        "asset": shared.settings.asset.name,
        "decimals": shared.settings.asset.decimals,
    }))
}

/// Most entries or events one page returns.
const MAX_PAGE: u64 = 1000;

pub(super) fn get_storage_range(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let address = p.address("address")?;
    let cursor = p.bytes("cursor")?;
    let limit = p.u64("limit")?.unwrap_or(100).clamp(1, MAX_PAGE);
    p.done()?;
    // One more than asked, to know whether there is a next page.
    let mut entries = shared
        .store
        .storage_page(&address, cursor.as_deref(), limit as usize + 1)
        .map_err(RpcError::state)?;
    let more = entries.len() > limit as usize;
    entries.truncate(limit as usize);
    let next = if more {
        entries.last().map(|(k, _)| json!(hex(k)))
    } else {
        None
    };
    Ok(json!({
        "address": address.to_string(),
        "height": shared.store.height().map_err(RpcError::state)?,
        "entries": entries.iter().map(|(k, v)| json!({ "key": hex(k), "value": hex(v) })).collect::<Vec<_>>(),
        "cursor": next,
    }))
}

pub(super) fn get_contract(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let address = p.address("address")?;
    p.done()?;
    let info = shared
        .store
        .contract(&address)
        .map_err(RpcError::state)?
        .ok_or_else(|| RpcError::not_found(format!("no contract at {address}")))?;
    let code_size = shared
        .store
        .code(&info.code_hash)
        .map_err(RpcError::state)?
        .map_or(0, |c| c.len());
    let schema = shared
        .schemas
        .at(&*shared.store, &address)
        .map_err(RpcError::state)?;
    Ok(json!({
        "address": address.to_string(),
        "code_hash": info.code_hash.to_string(),
        "code_size": code_size,
        "deployer": info.deployer.to_string(),
        "created_at": info.created_at,
        "kind": info.kind.as_str(),
        "admin": info.admin.map(|a| a.to_string()),
        "code_history": info
            .code_history()
            .iter()
            .map(|(since, hash)| json!({ "since": since, "code_hash": hash.to_string() }))
            .collect::<Vec<_>>(),
        "schema": schema.map(|s| s.to_json()),
    }))
}

pub(super) fn block_record(
    shared: &Shared,
    height: u64,
) -> Result<ward_state::BlockRecord, RpcError> {
    if let Some(block) = shared.store.block(height).map_err(RpcError::state)? {
        return Ok(block);
    }
    let latest = shared.store.height().map_err(RpcError::state)?;
    if let Some(base) = shared.store.forked_at()
        && height < base
    {
        return Err(RpcError::not_found(format!(
            "block {height} is the source chain's, before this fork's base block {base}: ask the source"
        )));
    }
    if height <= latest && height > 0 {
        // Every height up to the latest was a block: this node does not
        // keep it (pruned, or its chain was restored from a snapshot
        // above it).
        use ward_state::StatePrune;
        let kept_from = shared.store.pruned_below().map_err(RpcError::state)?;
        return Err(RpcError::pruned(if height < kept_from {
            format!(
                "block {height} is pruned: this node keeps blocks from {kept_from} (--prune-history)"
            )
        } else {
            format!("block {height} is not kept here: this node's history starts later")
        }));
    }
    Err(RpcError::not_found(format!("no block {height}")))
}

pub(super) fn block_at(shared: &Shared, height: u64) -> Result<Value, RpcError> {
    Ok(json::block(&block_record(shared, height)?))
}

pub(super) fn get_block(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let height = p.u64("height")?;
    let hash = match p.take("hash") {
        None => None,
        Some(Value::String(text)) => {
            Some(Hash32(unhex32(&text).map_err(|e| {
                RpcError::invalid_params(format!("\"hash\": {e}"))
            })?))
        }
        Some(_) => return Err(RpcError::invalid_params("\"hash\" must be a string")),
    };
    p.done()?;
    match (height, hash) {
        (Some(height), None) => block_at(shared, height),
        (None, Some(hash)) => {
            let height = shared
                .store
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

pub(super) fn get_events(shared: &Shared, mut p: Params) -> Result<Value, RpcError> {
    let contract = match p.string("contract")? {
        None => None,
        Some(text) => {
            Some(Address(unhex32(&text).map_err(|e| {
                RpcError::invalid_params(format!("\"contract\": {e}"))
            })?))
        }
    };
    let topic = p.bytes("topic")?;
    let latest = shared.store.height().map_err(RpcError::state)?;
    // By default from the first block kept (a pruning node's window).
    let first_kept =
        ward_state::StatePrune::pruned_below(&*shared.store).map_err(RpcError::state)?;
    let from = p.u64("from_height")?.unwrap_or(first_kept).max(1);
    let to = p.u64("to_height")?.unwrap_or(latest).min(latest);
    let limit = p.u64("limit")?.unwrap_or(100).clamp(1, MAX_PAGE) as usize;
    // A cursor is "height:receipt:event", the first event not yet returned.
    let start = match p.string("cursor")? {
        None => (from, 0, 0),
        Some(text) => parse_cursor(&text)
            .ok_or_else(|| RpcError::invalid_params(format!("bad cursor {text:?}")))?,
    };
    p.done()?;
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
            let Some(receipt) = shared.store.receipt(id).map_err(RpcError::state)? else {
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
                    return Ok(json!({
                        "events": events,
                        "cursor": format!("{height}:{r}:{e}"),
                    }));
                }
                let mut out = json::event(event);
                out["height"] = json!(height);
                out["tx"] = json!(id.to_string());
                out["index"] = json!(e);
                events.push(out);
            }
        }
        height += 1;
    }
    let cursor = (scan_end < to).then(|| format!("{}:0:0", scan_end + 1));
    Ok(json!({ "events": events, "cursor": cursor }))
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
