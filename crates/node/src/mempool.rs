//! The mempool: verified transactions waiting for a block.
//!
//! Bounded by a count; full is a refusal, never an eviction of someone
//! else's transaction. Each sender's transactions are kept by nonce: a
//! transaction may arrive ahead of its predecessors (up to
//! [`MAX_NONCE_GAP`] past the sender's next nonce) and waits for them. A
//! block takes transactions in arrival order, each sender's in nonce order
//! from its next nonce, and stops at a gap.
//!
//! A transaction leaves the mempool in a committed block (its waiters get
//! its receipt) or evicted with an error (its waiters get the error): a
//! nonce that a committed transaction used, or a transaction whose
//! execution aborted its block.

use std::collections::BTreeMap;

use ward_chain::tx::VerifiedTx;
use ward_primitives::{Address, Hash32};

use crate::rpc::RpcError;

/// How far past a sender's next nonce a transaction may be.
pub const MAX_NONCE_GAP: u64 = 64;

/// Who waits for a transaction's block: the receipt and the block's
/// height, or why it will never be in one.
pub(crate) type Waiter = tokio::sync::oneshot::Sender<Result<Committed, RpcError>>;

/// What a waiter gets when its transaction is in a committed block.
#[derive(Clone, Debug)]
pub(crate) struct Committed {
    /// The receipt.
    pub(crate) receipt: ward_state::Receipt,
    /// The block's hash.
    pub(crate) block: Hash32,
}

struct Pending {
    tx: VerifiedTx,
    /// Its arrival.
    seq: u64,
    waiters: Vec<Waiter>,
}

/// Why the mempool refused a transaction.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum Refused {
    #[error("the mempool is full ({0} transactions)")]
    Full(usize),
    #[error("transaction {0} is already pending")]
    Known(Hash32),
    #[error("nonce {got} was already used: the sender's next nonce is {next}")]
    NonceUsed { next: u64, got: u64 },
    #[error("the sender already has a pending transaction with nonce {0}")]
    NoncePending(u64),
    #[error(
        "nonce {got} is too far ahead: the sender's next nonce is {next}, at most {MAX_NONCE_GAP} may wait"
    )]
    NonceTooFar { next: u64, got: u64 },
}

/// The pending transactions.
pub(crate) struct Mempool {
    capacity: usize,
    by_hash: BTreeMap<Hash32, Pending>,
    by_sender: BTreeMap<Address, BTreeMap<u64, Hash32>>,
    arrival: BTreeMap<u64, Hash32>,
    next_seq: u64,
}

impl Mempool {
    pub(crate) fn new(capacity: usize) -> Self {
        Mempool {
            capacity,
            by_hash: BTreeMap::new(),
            by_sender: BTreeMap::new(),
            arrival: BTreeMap::new(),
            next_seq: 0,
        }
    }

    /// How many transactions wait.
    pub(crate) fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Admits `tx`, whose sender's next nonce in the committed state is
    /// `next_nonce`; `waiter` hears of its block.
    pub(crate) fn insert(
        &mut self,
        tx: VerifiedTx,
        next_nonce: u64,
        waiter: Option<Waiter>,
    ) -> Result<(), Refused> {
        let hash = tx.hash();
        let nonce = tx.body().nonce;
        if self.by_hash.contains_key(&hash) {
            return Err(Refused::Known(hash));
        }
        if nonce < next_nonce {
            return Err(Refused::NonceUsed {
                next: next_nonce,
                got: nonce,
            });
        }
        if nonce - next_nonce >= MAX_NONCE_GAP {
            return Err(Refused::NonceTooFar {
                next: next_nonce,
                got: nonce,
            });
        }
        let sender = tx.sender();
        if self
            .by_sender
            .get(&sender)
            .is_some_and(|nonces| nonces.contains_key(&nonce))
        {
            return Err(Refused::NoncePending(nonce));
        }
        if self.len() >= self.capacity {
            return Err(Refused::Full(self.capacity));
        }
        let seq = self.next_seq;
        self.next_seq += 1;
        self.by_sender
            .entry(sender)
            .or_default()
            .insert(nonce, hash);
        self.arrival.insert(seq, hash);
        self.by_hash.insert(
            hash,
            Pending {
                tx,
                seq,
                waiters: waiter.into_iter().collect(),
            },
        );
        Ok(())
    }

    /// The first nonce at or after `next_nonce` that `sender` has no
    /// pending transaction for: what a dev account signs next.
    pub(crate) fn next_free_nonce(&self, sender: &Address, next_nonce: u64) -> u64 {
        let mut nonce = next_nonce;
        if let Some(nonces) = self.by_sender.get(sender) {
            while nonces.contains_key(&nonce) {
                nonce += 1;
            }
        }
        nonce
    }

    /// Whether `hash` is pending.
    pub(crate) fn contains(&self, hash: &Hash32) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// Transactions for the next block, in arrival order with each sender's
    /// in nonce order from its next nonce (`next_nonce`), their gas limits
    /// adding up to at most `max_gas`. They stay pending until
    /// [`Mempool::committed`] or [`Mempool::evict`].
    pub(crate) fn take<E>(
        &self,
        max_gas: u64,
        mut next_nonce: impl FnMut(&Address) -> Result<u64, E>,
    ) -> Result<Vec<VerifiedTx>, E> {
        let mut out = Vec::new();
        let mut gas = 0u64;
        // Each sender's next nonce as the block so far leaves it.
        let mut next: BTreeMap<Address, u64> = BTreeMap::new();
        for hash in self.arrival.values() {
            let Some(first) = self.by_hash.get(hash) else {
                continue;
            };
            let sender = first.tx.sender();
            let expected = match next.get(&sender) {
                Some(n) => *n,
                None => next_nonce(&sender)?,
            };
            // The sender's run from its next nonce, taken when its first
            // transaction to arrive comes up.
            let mut nonce = expected;
            if let Some(nonces) = self.by_sender.get(&sender) {
                while let Some(pending) = nonces.get(&nonce).and_then(|h| self.by_hash.get(h)) {
                    let limit = pending.tx.body().gas_limit;
                    if gas.saturating_add(limit) > max_gas {
                        break;
                    }
                    gas += limit;
                    out.push(pending.tx.clone());
                    nonce += 1;
                }
            }
            next.insert(sender, nonce);
        }
        Ok(out)
    }

    fn remove(&mut self, hash: &Hash32) -> Option<Pending> {
        let pending = self.by_hash.remove(hash)?;
        self.arrival.remove(&pending.seq);
        let sender = pending.tx.sender();
        if let Some(nonces) = self.by_sender.get_mut(&sender) {
            nonces.remove(&pending.tx.body().nonce);
            if nonces.is_empty() {
                self.by_sender.remove(&sender);
            }
        }
        Some(pending)
    }

    /// A transaction is in a committed block: its waiters get `committed`.
    pub(crate) fn committed(&mut self, hash: &Hash32, committed: &Committed) {
        if let Some(pending) = self.remove(hash) {
            for waiter in pending.waiters {
                let _ = waiter.send(Ok(committed.clone()));
            }
        }
    }

    /// Removes a transaction that will never be in a block; its waiters
    /// get `error`.
    pub(crate) fn evict(&mut self, hash: &Hash32, error: &RpcError) {
        if let Some(pending) = self.remove(hash) {
            for waiter in pending.waiters {
                let _ = waiter.send(Err(error.clone()));
            }
        }
    }

    /// Evicts every transaction of `sender` whose nonce is below
    /// `next_nonce` (a committed transaction used it).
    pub(crate) fn evict_stale(&mut self, sender: &Address, next_nonce: u64) {
        let stale: Vec<(u64, Hash32)> = self
            .by_sender
            .get(sender)
            .map(|nonces| nonces.range(..next_nonce).map(|(n, h)| (*n, *h)).collect())
            .unwrap_or_default();
        for (nonce, hash) in stale {
            let error = RpcError::refused(
                "nonce",
                format!("nonce {nonce} was used by another transaction"),
            );
            self.evict(&hash, &error);
        }
    }

    /// Evicts everything (shutdown): waiters hear `error`.
    pub(crate) fn clear(&mut self, error: &RpcError) {
        let hashes: Vec<Hash32> = self.by_hash.keys().copied().collect();
        for hash in hashes {
            self.evict(&hash, error);
        }
    }
}

#[cfg(test)]
mod tests;
