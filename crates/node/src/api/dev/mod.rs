//! The dev wing (`--dev`; `docs/node.md`, "Dev mode", and
//! `docs/ethereum.md`): a dev node's controls under Ward's names, with
//! named params ([`ward_rpc::DEV_METHODS`]), and under Hardhat's and
//! anvil's, with positional ones ([`DEV_ALIASES`], rows of the same kind
//! as the Ethereum wing's). Each says what it needs: a dev node, or one
//! that makes its own blocks (a replica's are its cluster's).

mod controls;
mod hardhat;
mod signing;

use serde_json::{Map, Value};
use ward_rpc::Method;

pub use controls::{MAX_BLOCK_TIME, MAX_MINE_BLOCKS};
pub use hardhat::MAX_INTERVAL_MS;

use crate::{
    api::{
        answer::{Answer, Gone, params, run},
        eth::methods::EthMethod as M,
        guard::Needs,
    },
    error::RpcError,
    state::Shared,
};

/// The Hardhat and anvil names this node answers on a dev node.
pub const DEV_ALIASES: &[M] = &[
    M::new("evm_snapshot", 0, None, hardhat::snapshot).needing(Needs::Dev),
    M::new("evm_revert", 1, None, hardhat::revert).needing(Needs::Dev),
    M::new("evm_mine", 1, None, hardhat::evm_mine).needing(Needs::OwnBlocks),
    M::new("evm_increaseTime", 1, None, hardhat::increase_time).needing(Needs::OwnBlocks),
    M::new(
        "evm_setNextBlockTimestamp",
        1,
        None,
        hardhat::set_next_block_timestamp,
    )
    .needing(Needs::OwnBlocks),
    M::new("evm_setAutomine", 1, None, hardhat::set_automine).needing(Needs::OwnBlocks),
    M::new("anvil_setAutomine", 1, None, hardhat::set_automine).needing(Needs::OwnBlocks),
    M::new("hardhat_getAutomine", 0, None, hardhat::automine).needing(Needs::OwnBlocks),
    M::new("anvil_getAutomine", 0, None, hardhat::automine).needing(Needs::OwnBlocks),
    M::new(
        "evm_setIntervalMining",
        1,
        None,
        hardhat::set_interval_mining,
    )
    .needing(Needs::OwnBlocks),
    M::new(
        "anvil_setIntervalMining",
        1,
        None,
        hardhat::set_interval_mining,
    )
    .needing(Needs::OwnBlocks),
    M::new("hardhat_mine", 2, None, hardhat::mine).needing(Needs::OwnBlocks),
    M::new("anvil_mine", 2, None, hardhat::mine).needing(Needs::OwnBlocks),
    M::new("hardhat_setBalance", 2, None, hardhat::set_balance).needing(Needs::OwnBlocks),
    M::new("anvil_setBalance", 2, None, hardhat::set_balance).needing(Needs::OwnBlocks),
    M::new("hardhat_setCode", 2, None, hardhat::set_code).needing(Needs::OwnBlocks),
    M::new("anvil_setCode", 2, None, hardhat::set_code).needing(Needs::OwnBlocks),
    M::new("hardhat_setStorageAt", 3, None, hardhat::set_storage_at).needing(Needs::OwnBlocks),
    M::new("anvil_setStorageAt", 3, None, hardhat::set_storage_at).needing(Needs::OwnBlocks),
    M::new("hardhat_impersonateAccount", 1, None, hardhat::impersonate).needing(Needs::Dev),
    M::new("anvil_impersonateAccount", 1, None, hardhat::impersonate).needing(Needs::Dev),
    M::new(
        "hardhat_stopImpersonatingAccount",
        1,
        None,
        hardhat::stop_impersonating,
    )
    .needing(Needs::Dev),
    M::new(
        "anvil_stopImpersonatingAccount",
        1,
        None,
        hardhat::stop_impersonating,
    )
    .needing(Needs::Dev),
];

/// Whether `method` is named as Hardhat's or anvil's controls are.
pub(crate) fn is_alias(method: &str) -> bool {
    ["evm_", "hardhat_", "anvil_"]
        .iter()
        .any(|prefix| method.starts_with(prefix))
}

/// The row of the Hardhat or anvil control `name`.
pub(crate) fn find_alias(name: &str) -> Option<&'static M> {
    M::find(DEV_ALIASES, name)
}

/// What Ward's dev method `method` needs: the ones that make blocks or
/// steer them need a node that makes its own.
fn needs(method: &str) -> Needs {
    use ward_rpc::methods::*;
    match method {
        SendTransaction::NAME | Impersonate::NAME | StopImpersonating::NAME | Snapshot::NAME => {
            Needs::Dev
        }
        _ => Needs::OwnBlocks,
    }
}

/// Runs Ward's dev method `method` (one of [`ward_rpc::DEV_METHODS`])
/// with its named params.
pub(crate) fn dispatch(
    shared: &Shared,
    method: &str,
    p: Map<String, Value>,
    gone: &Gone,
) -> Result<Answer, RpcError> {
    use ward_rpc::methods::*;
    needs(method).check(shared, method)?;
    match method {
        SendTransaction::NAME => {
            signing::send_transaction(shared, params::<<SendTransaction as Method>::Params>(p)?)
        }
        Impersonate::NAME => {
            run::<Impersonate>(p, |p| Ok(controls::impersonate(shared, p.address, true)))
        }
        StopImpersonating::NAME => {
            run::<StopImpersonating>(p, |p| Ok(controls::impersonate(shared, p.address, false)))
        }
        Snapshot::NAME => run::<Snapshot>(p, |_| controls::snapshot(shared)),
        Mine::NAME => run::<Mine>(p, |p| controls::mine_n(shared, p.blocks.unwrap_or(1), gone)),
        SetNextBlockTime::NAME => {
            run::<SetNextBlockTime>(p, |p| controls::set_next_block_time(shared, p.time))
        }
        SetBalance::NAME => run::<SetBalance>(p, |p| {
            shared.pool().preset(|preset| {
                preset.balances.insert(p.address, p.balance.0);
            });
            controls::mine(shared)
        }),
        SetStorage::NAME => run::<SetStorage>(p, |p| controls::set_storage(shared, p)),
        SetCode::NAME => run::<SetCode>(p, |p| controls::set_code(shared, p)),
        Revert::NAME => run::<Revert>(p, |p| controls::revert(shared, p.id)),
        other => Err(RpcError::method_not_found(other)),
    }
}
