//! What the wings that send share: a verified transaction admitted
//! (waiting for its block when asked), and, on a dev node, a
//! transaction sent as an address the node impersonates, unsigned, its
//! sender written beside it.

use ward_chain::tx::{Payload, TxBody, VerifiedTx};
use ward_primitives::Address;
use ward_rpc::results;

use crate::{
    api::answer::{Answer, answer},
    error::RpcError,
    state::Shared,
};

/// What a dev node's transaction asks, its nonce already chosen.
pub(crate) struct Draft {
    pub(crate) nonce: u64,
    pub(crate) gas_limit: u64,
    pub(crate) gas_price: u128,
    pub(crate) value: u128,
    pub(crate) payload: Payload,
}

/// `draft` sent as `from`, which the node impersonates: the one model's
/// body with no key (`TxBody::impersonated`), admitted as any
/// transaction is.
pub(crate) fn impersonated(shared: &Shared, from: Address, draft: Draft) -> VerifiedTx {
    TxBody {
        chain_id: shared.settings().chain_id.clone(),
        public_key: [0; 32],
        nonce: draft.nonce,
        gas_limit: draft.gas_limit,
        gas_price: draft.gas_price,
        value: draft.value,
        payload: draft.payload,
    }
    .impersonated(from)
}

/// Admits a verified transaction (`admission`), waiting for its block
/// when asked.
pub(crate) fn submit(shared: &Shared, tx: VerifiedTx, wait: bool) -> Result<Answer, RpcError> {
    let hash = tx.hash();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    crate::admission::admit(shared, tx, wait.then_some(sender))?;
    if wait {
        Ok(Answer::Wait(hash, receiver))
    } else {
        answer(Ok(results::Sent::Pending { tx: hash }))
    }
}
