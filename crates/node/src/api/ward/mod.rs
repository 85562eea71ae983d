//! The Ward wing: Ward's own methods (`docs/node.md`), each a row of
//! `ward_rpc`'s `methods!` table, with named params read as its params
//! type and its result written as its result type. The methods that
//! send are here; those that read the chain are in `read.rs`, those that
//! run without a commit in `simulate.rs`.

mod read;
mod simulate;

use serde_json::{Map, Value};
use ward_rpc::{Method, results, wire::Amount};
use ward_state::StateRead;

pub use read::INLINE_INPUT_BYTES;
pub(crate) use read::called_receipt;

use crate::{
    api::{
        answer::{Answer, params, run},
        sending::submit,
    },
    error::RpcError,
    state::Shared,
};
use read::{
    block_at, get_balance, get_block, get_contract, get_events, get_storage, get_storage_range,
    get_transaction, query,
};

/// Runs Ward's method `method` (one of [`ward_rpc::METHODS`] but the
/// dev wing's) with its named params.
pub(crate) fn dispatch(
    shared: &Shared,
    method: &str,
    p: Map<String, Value>,
) -> Result<Answer, RpcError> {
    use ward_rpc::methods::*;
    match method {
        SendRawTransaction::NAME => {
            let raw: <SendRawTransaction as Method>::Params = params(p)?;
            let verified = crate::admission::verify(shared, &raw.tx.0)?;
            submit(shared, verified, raw.wait.unwrap_or(false))
        }
        SimulateTransaction::NAME => {
            run::<SimulateTransaction>(p, |p| simulate::simulate(shared, p))
        }
        TraceTransaction::NAME => {
            run::<TraceTransaction>(p, |p| simulate::trace_transaction(shared, p))
        }
        EstimateGas::NAME => run::<EstimateGas>(p, |p| simulate::estimate_gas(shared, p)),
        GetTransaction::NAME => run::<GetTransaction>(p, |p| get_transaction(shared, p)),
        Query::NAME => run::<Query>(p, |p| query(shared, p)),
        GetStorage::NAME => run::<GetStorage>(p, |p| get_storage(shared, p)),
        GetStorageRange::NAME => run::<GetStorageRange>(p, |p| get_storage_range(shared, p)),
        GetContract::NAME => run::<GetContract>(p, |p| get_contract(shared, p.address)),
        GetBlock::NAME => run::<GetBlock>(p, |p| get_block(shared, p)),
        ReplayBlock::NAME => run::<ReplayBlock>(p, |p| simulate::replay_stored_block(shared, p)),
        GetLatestBlock::NAME => run::<GetLatestBlock>(p, |_| {
            let height = shared.store().height().map_err(RpcError::state)?;
            block_at(shared, height)
        }),
        GetEvents::NAME => run::<GetEvents>(p, |p| get_events(shared, p)),
        GetNonce::NAME => run::<GetNonce>(p, |p| {
            // Both read under the pool's lock, as for sendTransaction.
            let (nonce, pending) = shared.nonces(&p.address).map_err(RpcError::state)?;
            Ok(results::Nonce { nonce, pending })
        }),
        GetBalance::NAME => run::<GetBalance>(p, |p| get_balance(shared, p)),
        GetStateValue::NAME => run::<GetStateValue>(p, |p| read::get_state_value(shared, p)),
        GetCode::NAME => run::<GetCode>(p, |p| read::get_code(shared, p.code_hash)),
        GetNetwork::NAME => run::<GetNetwork>(p, |_| Ok(network(shared))),
        Backup::NAME => run::<Backup>(p, |p| backup(shared, &p.name)),
        other => Err(RpcError::method_not_found(other)),
    }
}

/// `backup`: a consistent copy of the store into `--backup-dir/NAME`,
/// while blocks go on.
fn backup(shared: &Shared, name: &str) -> Result<results::Backup, RpcError> {
    let Some(dir) = &shared.config().backup_dir else {
        return Err(RpcError::unavailable(
            "backups are off: start the node with --backup-dir DIR",
        ));
    };
    let plain = (1..=64).contains(&name.len())
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !plain {
        return Err(RpcError::invalid_params(
            "\"name\" is 1 to 64 of A-Z a-z 0-9 . _ - and does not start with a dot",
        ));
    }
    let target = dir.join(name);
    // One backup at a time: each reads the whole store.
    let _one = shared.one_backup();
    let height = tokio::task::block_in_place(|| shared.store().backup_into(&target))
        .map_err(|e| RpcError::refused("backup", e.to_string()))?;
    Ok(results::Backup {
        height,
        path: target.display().to_string(),
    })
}

fn network(shared: &Shared) -> results::Network {
    let settings = shared.settings();
    results::Network {
        chain_id: settings.chain_id.clone(),
        backend: shared.config().backend.as_str().to_owned(),
        abi_version: settings.abi_version,
        schedule_version: settings.schedule_version,
        max_tx_bytes: settings.max_tx_bytes,
        max_tx_gas: settings.max_tx_gas,
        max_block_gas: settings.max_block_gas,
        block_time_ms: shared.config().block_time_ms,
        height: shared.store().height().unwrap_or(0),
        dev: shared.config().dev,
        asset: results::Asset {
            name: settings.asset.name.clone(),
            decimals: settings.asset.decimals,
        },
        min_gas_price: Amount(shared.min_gas_price()),
        chain_min_gas_price: settings.min_gas_price,
        fee_collector: settings.fee_collector.clone(),
        genesis_root: settings.genesis_root.clone(),
        // The whole record every node of the chain agrees on: what a
        // fork of it takes (`ward serve --fork`).
        settings: settings.clone(),
        fork: crate::fork::recorded(shared.store()).ok().flatten(),
        dev_accounts: shared.config().dev.then(|| {
            shared
                .dev_keys()
                .iter()
                .map(|k| ward_chain::tx::account_address(&k.verifying_key().to_bytes()))
                .collect()
        }),
    }
}
