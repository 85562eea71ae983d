//! What the wings that send share: a verified transaction admitted
//! (waiting for its block when asked), and, on a dev node, a
//! transaction sent as an address the node impersonates, unsigned, its
//! sender written beside it.

use ward_chain::tx::{GasUnit, Payload, TxBody, VerifiedTx};
use ward_executor::Tx;
use ward_rpc::results;

use crate::{
    api::answer::{Answer, Waiting, answer},
    error::RpcError,
    state::Shared,
};

/// Ward's transaction body for what `tx` asks, from the key
/// `public_key`, at `nonce` and `gas_price`: what a dev account signs.
pub(crate) fn body(
    shared: &Shared,
    public_key: [u8; 32],
    tx: Tx,
    nonce: u64,
    gas_price: u128,
) -> TxBody {
    TxBody {
        chain_id: shared.settings().chain_id.clone(),
        public_key,
        nonce,
        gas_limit: tx.gas_limit,
        gas_price,
        value: tx.value,
        payload: tx.payload,
    }
}

/// `tx` sent as its sender, an address the node impersonates, counting
/// gas in `unit` (EVM gas for an Ethereum tool's send): the one model's
/// body with no key (`TxBody::impersonated_in`), admitted as any
/// transaction is.
pub(crate) fn impersonated(
    shared: &Shared,
    tx: Tx,
    nonce: u64,
    gas_price: u128,
    unit: GasUnit,
) -> VerifiedTx {
    let from = tx.sender;
    body(shared, [0; 32], tx, nonce, gas_price).impersonated_in(from, unit)
}

/// Admits a verified transaction (`admission`), waiting for its block
/// when asked.
pub(crate) fn submit(shared: &Shared, tx: VerifiedTx, wait: bool) -> Result<Answer, RpcError> {
    let hash = tx.hash();
    let call = match tx.payload() {
        Payload::Call { to, input } if wait => Some((*to, input.clone())),
        _ => None,
    };
    let (sender, receiver) = tokio::sync::oneshot::channel();
    crate::admission::admit(shared, tx, wait.then_some(sender))?;
    if wait {
        Ok(Answer::Wait(Waiting {
            hash,
            receiver,
            call,
        }))
    } else {
        answer(Ok(results::Sent::Pending { tx: hash }))
    }
}
