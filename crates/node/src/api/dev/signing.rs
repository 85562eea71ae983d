//! `sendTransaction` on a dev node: Ward's transaction completed (the
//! next free nonce, the node's price, the default gas), signed with the
//! dev account's key or sent as an address the node impersonates, and
//! admitted as any transaction is.

use ward_chain::tx::GasUnit;
use ward_executor::Tx;
use ward_rpc::params;

use crate::{
    api::{
        answer::Answer,
        payload::{self, DEFAULT_GAS},
        sending::{self, submit},
    },
    error::RpcError,
    state::Shared,
};

pub(super) fn send_transaction(
    shared: &Shared,
    p: params::Transaction,
) -> Result<Answer, RpcError> {
    let from = p.from;
    let payload = payload::of(shared, p.deploy, p.call, p.admin)?;
    let gas = p.gas.unwrap_or(DEFAULT_GAS);
    let value = p.value.map_or(0, |a| a.0);
    // The node's minimum unless the client names a price.
    let gas_price = p.gas_price.map_or_else(|| shared.min_gas_price(), |a| a.0);
    let wait = p.wait.unwrap_or(false);
    let key = shared
        .dev_keys()
        .iter()
        .find(|k| ward_chain::tx::account_address(&k.verifying_key().to_bytes()) == from);
    let impersonated = key.is_none() && shared.impersonates(&from);
    if key.is_none() && !impersonated {
        return Err(RpcError::invalid_params(format!(
            "{from} is neither one of this node's dev accounts nor impersonated (`impersonate`)"
        )));
    }
    // The next free nonce is taken and used before another send reads it.
    let _sending = shared.one_send();
    let nonce = match p.nonce {
        Some(n) => n,
        // The store's nonce read under the pool's lock: a block is
        // committed, then its transactions leave the mempool under this
        // lock, so the two agree here. Read before the lock, a commit and
        // eviction in between freed a used nonce, and the same
        // transaction was built again (`known`).
        None => shared.nonces(&from).map_err(RpcError::state)?.1,
    };
    let tx = Tx {
        sender: from,
        gas_limit: gas,
        value,
        payload,
    };
    let tx = match key {
        Some(key) => sending::body(shared, key.verifying_key().to_bytes(), tx, nonce, gas_price)
            .sign(key)
            .verify(&shared.settings().chain_id)
            .map_err(RpcError::from)?,
        None => sending::impersonated(shared, tx, nonce, gas_price, GasUnit::Ward),
    };
    submit(shared, tx, wait)
}
