//! Admission: what the node takes into its mempool, by the chain's rules
//! (the executor's, written once in `ward_executor::Fees` and
//! `Executor::admit_sized`) and the node's own (its price floor, its
//! penalties, its mempool's bounds), with a typed [`Refusal`]. The RPC's
//! `sendTransaction` and `sendRawTransaction` admit through [`admit`]; a
//! replica also hands what it admits to the cluster's shared mempool, and
//! its proposer takes from that mempool only what [`verify_shared`] and
//! the same rules pass.

use ward_chain::tx::{ChainRules, VerifiedTx};
use ward_primitives::Hash32;
use ward_state::StateRead;

use crate::settings::ChainSettingsExt as _;
use crate::{
    mempool::{Mempool, Penalties, PoolRule, Refusal, Waiter, max_cost},
    state::Shared,
};

/// Takes `tx` into the mempool (`waiter`, if any, hears of its block),
/// and on a replica into the cluster's shared mempool.
///
/// # Errors
///
/// Why it is refused, as [`Refusal`] names it.
pub(crate) fn admit(
    shared: &Shared,
    tx: VerifiedTx,
    waiter: Option<Waiter>,
) -> Result<(), Refusal> {
    let (tx, evicted) = admit_here(shared, tx, waiter).map_err(|r| counted(shared, r))?;
    #[cfg(feature = "etcd")]
    if let Some(replica) = shared.replica() {
        // What this replica evicted (displaced, replaced, expired) leaves
        // the shared mempool too: it holds no more than the replicas'
        // mempools do.
        unshare(replica, &evicted);
        share(shared, replica, &tx)?;
    }
    #[cfg(not(feature = "etcd"))]
    drop((tx, evicted));
    shared.pool().notify();
    Ok(())
}

/// `bytes` as a transaction of this chain, signed by its sender: Ward's
/// own encoding, or an Ethereum transaction's stored form (`0xd2` and
/// the envelope).
///
/// # Errors
///
/// [`Refusal::Tx`] for bytes that are not one, another chain's, or a bad
/// signature.
pub(crate) fn verify(shared: &Shared, bytes: &[u8]) -> Result<VerifiedTx, Refusal> {
    VerifiedTx::from_bytes(bytes, &shared.settings().rules())
        .map_err(|error| counted(shared, error.into()))
}

/// `refusal`, counted in the node's metrics by its kind.
fn counted(shared: &Shared, refusal: Refusal) -> Refusal {
    shared
        .metrics()
        .refused
        .get_or_create(&crate::metrics::Metrics::label("kind", refusal.kind()))
        .inc();
    refusal
}

/// The local half of [`admit`]: the rules, then the mempool. The
/// transaction (for the shared mempool) and what its arrival evicted.
fn admit_here(
    shared: &Shared,
    tx: VerifiedTx,
    waiter: Option<Waiter>,
) -> Result<(VerifiedTx, Vec<Hash32>), Refusal> {
    shared.executor().admit_verified(&tx)?;
    let copy = tx.clone();
    let evicted = shared.pool().admit(tx, waiter, |mempool, penalties| {
        check(shared, &copy, mempool, penalties)
    })?;
    Ok((copy, evicted))
}

/// The checks a transaction passes under the pool's lock, in order: the
/// node can take writes, the sender is not penalized, the chain has not
/// done it already, its nonce is not used, the sender can pay. The
/// sender's committed nonce.
fn check(
    shared: &Shared,
    tx: &VerifiedTx,
    mempool: &Mempool,
    penalties: &Penalties,
) -> Result<u64, Refusal> {
    let hash = tx.hash();
    if let Some(fault) = shared.fault().as_ref() {
        return Err(Refusal::Unavailable(format!(
            "block production stopped on a fault: {fault}"
        )));
    }
    if let Some(replica) = shared.replica() {
        if let Some(divergence) = replica.diverged() {
            return Err(Refusal::Unavailable(format!(
                "this replica diverged and refuses writes: {divergence}"
            )));
        }
        let size = tx.bytes().len();
        let max = crate::replica::MAX_CLUSTER_TX_BYTES;
        if size > max {
            return Err(Refusal::TooLargeForCluster { size, max });
        }
    }
    if let Some(refusal) = penalties.refusal(&hash, &tx.sender(), ward_vm::clock::now()) {
        return Err(refusal);
    }
    // What the chain already did is said before what the sender can pay:
    // a committed transaction sent again is `known`, one with a used
    // nonce `nonce`, even once its sender's balance fell below its cost.
    // A pending duplicate is the mempool's own refusal.
    if shared
        .store()
        .receipt(&hash)
        .map_err(unavailable)?
        .is_some()
    {
        return Err(Refusal::Committed(hash));
    }
    let next = shared.store().nonce(&tx.sender()).map_err(unavailable)?;
    let nonce = tx.nonce();
    if nonce < next {
        return Err(PoolRule::NonceUsed { next, got: nonce }.into());
    }
    can_pay(shared, mempool, tx)?;
    Ok(next)
}

/// A store that cannot be read: the node's fault, not the transaction's.
fn unavailable(error: ward_state::StateError) -> Refusal {
    Refusal::Unavailable(format!("the store: {error}"))
}

/// The chain's price and funds rules (the executor's, as a block applies
/// them), the sender's other pending transactions counted, then this
/// node's own price floor (`--min-gas-price`) where it is higher.
fn can_pay(shared: &Shared, mempool: &Mempool, tx: &VerifiedTx) -> Result<(), Refusal> {
    let cost = shared.executor().fees().cost(tx)?;
    let floor = ward_executor::price_per(tx.gas_unit(), shared.min_gas_price());
    if tx.gas_price() < floor {
        return Err(ward_executor::Inadmissible::GasPrice {
            price: tx.gas_price(),
            min: floor,
        }
        .into());
    }
    if max_cost(tx) == 0 {
        return Ok(());
    }
    let sender = tx.sender();
    // What waits in the sender's inbox is collected before the fee is
    // reserved (`Address::inbox`).
    let inbox = match sender.inbox() {
        Some(inbox) => shared.store().balance(&inbox).map_err(unavailable)?,
        None => 0,
    };
    let have = shared
        .store()
        .balance(&sender)
        .map_err(unavailable)?
        .saturating_add(inbox);
    cost.and(mempool.pending_cost(&sender, tx.nonce()))
        .affordable(have)?;
    Ok(())
}

/// A transaction of the cluster's shared mempool, as its proposer takes
/// it: the signed bytes a replica admitted, verified again (the shared
/// mempool is only as trusted as etcd) and within what a cluster's log
/// takes, under the hash its key names.
///
/// # Errors
///
/// Bytes that are not a transaction of this chain, another hash than
/// the key's, or one too large for the log.
#[cfg_attr(
    not(feature = "etcd"),
    allow(dead_code, reason = "a replica's proposer; no replicas without etcd")
)]
pub(crate) fn verify_shared(
    bytes: &[u8],
    hash: Hash32,
    rules: &ChainRules,
) -> Result<VerifiedTx, Refusal> {
    let tx = VerifiedTx::from_bytes(bytes, rules)?;
    let max = crate::replica::MAX_CLUSTER_TX_BYTES;
    if bytes.len() > max {
        return Err(Refusal::TooLargeForCluster {
            size: bytes.len(),
            max,
        });
    }
    if tx.hash() != hash {
        return Err(Refusal::Tx(ward_chain::tx::TxError::Malformed(
            ward_primitives::codec::CodecError(format!(
                "the shared mempool's key names {hash}, the bytes are {}",
                tx.hash()
            )),
        )));
    }
    Ok(tx)
}

/// Hands an admitted transaction to the cluster's shared mempool, trying
/// for a few seconds (etcd electing a new leader); on failure it is taken
/// back and the client told to send it again.
#[cfg(feature = "etcd")]
fn share(
    shared: &Shared,
    replica: &crate::replica::Replica,
    tx: &VerifiedTx,
) -> Result<(), Refusal> {
    let hash = tx.hash();
    let mut log = replica.log.clone();
    let deadline = ward_vm::clock::now() + SHARE_TRIES;
    // A blocking thread of the runtime (the RPC's `spawn_blocking`).
    let handle = tokio::runtime::Handle::current();
    let error = loop {
        match handle.block_on(log.pool_put(&hash, tx.bytes())) {
            // `false`: another replica shared it already; its block will
            // still acknowledge it here.
            Ok(_) => return Ok(()),
            Err(error) if ward_vm::clock::passed(deadline) => break error,
            Err(error) => {
                tracing::debug!(%error, tx = %hash, "the shared mempool did not answer: again");
                std::thread::sleep(std::time::Duration::from_millis(100));
            }
        }
    };
    let refused = Refusal::Unavailable(format!(
        "the cluster's mempool did not take it ({error}): send it again"
    ));
    shared.pool().evict(&hash, &refused);
    Err(refused)
}

/// Removes transactions this replica evicted from the shared mempool; on
/// failure they stay until a proposer drops or includes them.
#[cfg(feature = "etcd")]
fn unshare(replica: &crate::replica::Replica, evicted: &[Hash32]) {
    if evicted.is_empty() {
        return;
    }
    let mut log = replica.log.clone();
    let handle = tokio::runtime::Handle::current();
    if let Err(error) = handle.block_on(log.pool_remove(evicted)) {
        tracing::warn!(%error, count = evicted.len(), "evicted transactions stay in the shared mempool");
    }
}

/// How long a replica tries to hand a transaction to the shared mempool.
#[cfg(feature = "etcd")]
const SHARE_TRIES: std::time::Duration = std::time::Duration::from_secs(6);
