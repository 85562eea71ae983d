//! The mempool: verified transactions waiting for a block.
//!
//! Bounded by a count. Each sender's transactions are kept by nonce: a
//! transaction may arrive ahead of its predecessors (up to
//! [`MAX_NONCE_GAP`] past the sender's next nonce, so at most that many
//! per sender) and waits for them. A block takes the highest gas price
//! first (ties: the earliest arrival), each sender's transactions in
//! nonce order from its next nonce, and stops at a gap. A pending
//! transaction is replaced by one of the same sender and nonce only at a
//! gas price at least [`REPLACE_PERCENT`] % of its own.
//!
//! A transaction behind a gap cannot run until the gap is filled, so such
//! *gapped* transactions are bounded apart: at most
//! [`MAX_GAPPED_PER_SENDER`] per sender and a quarter of the mempool in
//! all, and one that has waited [`GAPPED_TTL`] expires. When the mempool
//! is full, a transaction that can run takes the place of the gapped one
//! that arrived last, or else of the cheapest pending one (the newest of
//! the cheapest) if it pays more; otherwise full is a refusal. Every
//! transaction expires after [`PENDING_TTL`].
//!
//! A transaction leaves the mempool in a committed block (its waiters get
//! its receipt) or evicted with an error (its waiters get the error): a
//! nonce that a committed transaction used, a transaction whose execution
//! aborted its block, an expired one, or a gapped one a runnable one
//! displaced.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use ward_chain::tx::VerifiedTx;
use ward_primitives::{Address, Hash32};

mod refusal;

pub use refusal::{MAX_NONCE_GAP, REPLACE_PERCENT};
pub(crate) use refusal::{PoolRule, Refusal};

/// Most gapped transactions (behind a nonce that is not pending) one
/// sender may have waiting.
pub const MAX_GAPPED_PER_SENDER: usize = 16;

/// How long a gapped transaction may wait for its gap to be filled.
pub const GAPPED_TTL: Duration = Duration::from_secs(60);

/// How long any transaction may wait for a block.
pub const PENDING_TTL: Duration = Duration::from_secs(30 * 60);

/// Transactions that ran past the executor's wall-clock backstop are
/// remembered (at most this many, the oldest forgotten first) and never
/// admitted again.
pub const TIMED_OUT_KEPT: usize = 10_000;

/// How long a sender whose transaction ran past the backstop is refused.
pub const TIMED_OUT_THROTTLE: Duration = Duration::from_secs(10 * 60);

/// What the node holds against transactions that tripped the wall-clock
/// backstop, and their senders. Gas bounds time, so the backstop fires
/// only for a mispriced path or a sick machine; when it does, the same
/// bytes must not buy another free 10 s of the node's time, nor their
/// sender's next transaction.
#[derive(Default)]
pub(crate) struct Penalties {
    timed_out: std::collections::BTreeSet<Hash32>,
    /// In the order they were added, to forget the oldest.
    order: std::collections::VecDeque<Hash32>,
    throttled: BTreeMap<Address, Instant>,
}

impl Penalties {
    /// `tx` of `sender` ran past the backstop at `now`.
    pub(crate) fn timed_out(&mut self, tx: Hash32, sender: Address, now: Instant) {
        if self.timed_out.insert(tx) {
            self.order.push_back(tx);
        }
        while self.order.len() > TIMED_OUT_KEPT {
            if let Some(old) = self.order.pop_front() {
                self.timed_out.remove(&old);
            }
        }
        self.throttled.insert(sender, now + TIMED_OUT_THROTTLE);
        // Forget throttles that are over, so the map stays small.
        self.throttled.retain(|_, until| *until > now);
    }

    /// Why `tx` of `sender` is refused at `now`, if it is.
    pub(crate) fn refusal(&self, tx: &Hash32, sender: &Address, now: Instant) -> Option<Refusal> {
        if self.timed_out.contains(tx) {
            return Some(Refusal::TimedOut(*tx));
        }
        match self.throttled.get(sender) {
            Some(until) if *until > now => Some(Refusal::Throttled {
                sender: *sender,
                seconds: until.saturating_duration_since(now).as_secs() + 1,
            }),
            _ => None,
        }
    }
}

/// Who waits for a transaction's block: the receipt and the block's
/// height, or why it will never be in one.
pub(crate) type Waiter = tokio::sync::oneshot::Sender<Result<Committed, Refusal>>;

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
    /// Its gas price per Ward gas (an Ethereum transaction's, per EVM
    /// gas, over [`ward_executor::EVM_GAS_RATE`]), so that transactions
    /// of both units compare.
    price: u128,
    /// The most it can take from its sender: `gas_limit × gas_price +
    /// value` (saturating).
    cost: u128,
    /// Its arrival.
    seq: u64,
    arrived: Instant,
    waiters: Vec<Waiter>,
}

/// One sender's pending transactions.
#[derive(Default)]
struct Queue {
    /// Its next nonce in the committed state, as last seen.
    next: u64,
    nonces: BTreeMap<u64, Hash32>,
    /// How many of `nonces` are past the first gap after `next`.
    gapped: usize,
    /// What its pending transactions can take from it, together
    /// (saturating).
    cost: u128,
}

impl Queue {
    /// The nonces past the run that starts at `next`.
    fn count_gapped(&self) -> usize {
        let mut expected = self.next;
        let mut gapped = 0;
        for &nonce in self.nonces.keys() {
            if nonce == expected {
                expected += 1;
            } else if nonce > expected {
                gapped += 1;
            }
        }
        gapped
    }

    /// Whether `nonce` would wait behind a gap, the committed next nonce
    /// being at least `next`.
    fn would_be_gapped(&self, nonce: u64, next: u64) -> bool {
        let mut expected = self.next.max(next);
        while self.nonces.contains_key(&expected) {
            expected += 1;
        }
        nonce > expected
    }
}

/// What `tx` can take from its sender: `gas_limit × gas_price + value`,
/// saturating.
pub(crate) fn max_cost(tx: &VerifiedTx) -> u128 {
    u128::from(tx.gas_limit())
        .saturating_mul(tx.gas_price())
        .saturating_add(tx.value())
}

/// What `tx` pays per Ward gas: its gas price, or an Ethereum one's
/// (per EVM gas) over [`ward_executor::EVM_GAS_RATE`].
fn per_ward_gas(tx: &VerifiedTx) -> u128 {
    if tx.gas_unit().is_ethereum() {
        tx.gas_price() / u128::from(ward_executor::EVM_GAS_RATE)
    } else {
        tx.gas_price()
    }
}

/// The pending transactions.
pub(crate) struct Mempool {
    capacity: usize,
    /// The most bytes of signed transactions it holds, and those held.
    max_bytes: usize,
    bytes: usize,
    /// Evicted since [`Mempool::take_evicted`] last ran: a replica also
    /// removes them from the shared mempool.
    evicted: Vec<Hash32>,
    by_hash: BTreeMap<Hash32, Pending>,
    by_sender: BTreeMap<Address, Queue>,
    arrival: BTreeMap<u64, Hash32>,
    next_seq: u64,
    /// Gapped transactions of every sender.
    gapped: usize,
    /// When [`Mempool::expire`] last ran from an insert.
    expired_at: Option<Instant>,
    /// How long a gapped transaction may wait ([`GAPPED_TTL`] unless
    /// [`Mempool::with_gapped_ttl`] says otherwise).
    gapped_ttl: Duration,
}

impl Mempool {
    /// A mempool of at most `capacity` transactions of `max_bytes` in all.
    pub(crate) fn new(capacity: usize, max_bytes: usize) -> Self {
        Mempool {
            capacity,
            max_bytes,
            bytes: 0,
            evicted: Vec::new(),
            by_hash: BTreeMap::new(),
            by_sender: BTreeMap::new(),
            arrival: BTreeMap::new(),
            next_seq: 0,
            gapped: 0,
            expired_at: None,
            gapped_ttl: GAPPED_TTL,
        }
    }

    /// The same with gapped transactions expiring after `ttl` (at most
    /// [`PENDING_TTL`]).
    pub(crate) fn with_gapped_ttl(mut self, ttl: Duration) -> Self {
        self.gapped_ttl = ttl.min(PENDING_TTL);
        self
    }

    /// The most gapped transactions the whole mempool keeps.
    fn max_gapped(&self) -> usize {
        (self.capacity / 4).max(1)
    }

    /// How many transactions wait behind a gap.
    #[cfg(test)]
    pub(crate) fn gapped(&self) -> usize {
        self.gapped
    }

    /// Recounts `sender`'s gapped transactions after a change, with its
    /// committed next nonce now `next` (when known).
    fn recount(&mut self, sender: &Address, next: Option<u64>) {
        let Some(queue) = self.by_sender.get_mut(sender) else {
            return;
        };
        if let Some(next) = next {
            queue.next = queue.next.max(next);
        }
        let before = queue.gapped;
        queue.gapped = queue.count_gapped();
        self.gapped = self.gapped - before + queue.gapped;
        if queue.nonces.is_empty() {
            self.by_sender.remove(sender);
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
    ) -> Result<(), PoolRule> {
        self.insert_at(tx, next_nonce, waiter, ward_vm::clock::now())
    }

    /// [`Mempool::insert`] at `now` (which expiry is counted from).
    pub(crate) fn insert_at(
        &mut self,
        tx: VerifiedTx,
        next_nonce: u64,
        waiter: Option<Waiter>,
        now: Instant,
    ) -> Result<(), PoolRule> {
        // Expiry runs from inserts, at most once a second.
        if self
            .expired_at
            .is_none_or(|at| now.saturating_duration_since(at) >= Duration::from_secs(1))
        {
            self.expired_at = Some(now);
            self.expire(now);
        }
        let hash = tx.hash();
        let nonce = tx.nonce();
        if self.by_hash.contains_key(&hash) {
            return Err(PoolRule::Known(hash));
        }
        if nonce < next_nonce {
            return Err(PoolRule::NonceUsed {
                next: next_nonce,
                got: nonce,
            });
        }
        if nonce - next_nonce >= MAX_NONCE_GAP {
            return Err(PoolRule::NonceTooFar {
                next: next_nonce,
                got: nonce,
            });
        }
        let sender = tx.sender();
        let price = per_ward_gas(&tx);
        let pending = self
            .by_sender
            .get(&sender)
            .and_then(|q| q.nonces.get(&nonce))
            .copied();
        if let Some(old) = pending {
            let old_price = self.by_hash.get(&old).map_or(0, |p| p.price);
            if price.saturating_mul(100) < old_price.saturating_mul(REPLACE_PERCENT)
                || price <= old_price
            {
                return Err(PoolRule::Underpriced {
                    pending: old_price,
                    got: price,
                });
            }
        }
        // What must go for the bytes, planned before anything is evicted
        // (a refusal loses nothing); a replaced transaction's bytes count
        // as freed. The same nonce is gapped or not before and after.
        let size = tx.bytes().len();
        let gapped_now = match self.by_sender.get(&sender) {
            Some(queue) => queue.would_be_gapped(nonce, next_nonce),
            None => nonce > next_nonce,
        };
        let displaced = self.bytes_to_free(size, gapped_now, price, pending)?;
        if let Some(old) = pending {
            self.evict(&old, &Refusal::Replaced { by: hash, price });
        }
        let queue = self.by_sender.get(&sender);
        let gapped = match queue {
            Some(queue) => queue.would_be_gapped(nonce, next_nonce),
            None => nonce > next_nonce,
        };
        if gapped {
            let own = queue.map_or(0, |q| q.gapped);
            if own >= MAX_GAPPED_PER_SENDER || self.gapped >= self.max_gapped() {
                return Err(PoolRule::TooManyGapped {
                    next: next_nonce,
                    got: nonce,
                });
            }
        }
        for (hash, error) in &displaced {
            self.evict(hash, error);
        }
        if self.len() >= self.capacity {
            self.make_room(gapped, price)?;
        }
        self.bytes += size;
        let seq = self.next_seq;
        self.next_seq += 1;
        let cost = max_cost(&tx);
        let queue = self.by_sender.entry(sender).or_default();
        queue.next = queue.next.max(next_nonce);
        queue.nonces.insert(nonce, hash);
        queue.cost = queue.cost.saturating_add(cost);
        self.arrival.insert(seq, hash);
        self.by_hash.insert(
            hash,
            Pending {
                tx,
                price,
                cost,
                seq,
                arrived: now,
                waiters: waiter.into_iter().collect(),
            },
        );
        self.recount(&sender, Some(next_nonce));
        Ok(())
    }

    /// Makes room in a full mempool for a transaction paying `price`
    /// (`gapped`: behind a nonce gap): a runnable one takes the place of
    /// the gapped one that arrived last, or else of the cheapest, if it
    /// pays more.
    fn make_room(&mut self, gapped: bool, price: u128) -> Result<(), PoolRule> {
        let gapped_one = (!gapped).then(|| self.newest_gapped()).flatten();
        let (displaced, error) = match gapped_one {
            Some(hash) => (
                hash,
                Refusal::Displaced(
                    "the mempool was full and this transaction waited behind a nonce gap: a transaction that could run took its place".into(),
                ),
            ),
            None => {
                let (cheapest, hash) = self
                    .cheapest()
                    .filter(|_| !gapped)
                    .ok_or(PoolRule::Full(self.capacity))?;
                if cheapest >= price {
                    return Err(PoolRule::FullAtPrice {
                        capacity: self.capacity,
                        cheapest,
                        got: price,
                    });
                }
                (
                    hash,
                    Refusal::Displaced(format!(
                        "the mempool was full and this transaction paid the least ({cheapest} per gas): one paying {price} took its place"
                    )),
                )
            }
        };
        self.evict(&displaced, &error);
        Ok(())
    }

    /// The transactions to evict so that `size` more bytes fit: the
    /// cheapest first (the newest of equal price first), each paying less
    /// than `price`; none when they fit already. Refused, with nothing
    /// evicted, when those cannot free enough or `gapped` (a transaction
    /// that cannot run yet displaces nothing).
    fn bytes_to_free(
        &self,
        size: usize,
        gapped: bool,
        price: u128,
        replaced: Option<Hash32>,
    ) -> Result<Vec<(Hash32, Refusal)>, PoolRule> {
        let freed_by_replacing = replaced
            .and_then(|old| self.by_hash.get(&old))
            .map_or(0, |p| p.tx.bytes().len());
        let over =
            (self.bytes + size).saturating_sub(self.max_bytes.saturating_add(freed_by_replacing));
        if over == 0 {
            return Ok(Vec::new());
        }
        let mut cheapest: Vec<(u128, std::cmp::Reverse<u64>, Hash32, usize)> = self
            .by_hash
            .iter()
            .filter(|(hash, p)| p.price < price && !gapped && Some(**hash) != replaced)
            .map(|(hash, p)| (p.price, std::cmp::Reverse(p.seq), *hash, p.tx.bytes().len()))
            .collect();
        cheapest.sort_unstable();
        let mut freed = 0;
        let mut out = Vec::new();
        for (paid, _, hash, bytes) in cheapest {
            if freed >= over {
                break;
            }
            freed += bytes;
            let error = Refusal::Displaced(format!(
                "the mempool's bytes were full and this transaction paid less ({paid} per gas): one paying {price} took its place"
            ));
            out.push((hash, error));
        }
        if freed < over {
            return Err(PoolRule::FullBytes {
                capacity: self.max_bytes,
                size,
                cheapest: self.cheapest().map_or(0, |(price, _)| price),
                got: price,
            });
        }
        Ok(out)
    }

    /// The lowest gas price pending, and the newest transaction paying it.
    fn cheapest(&self) -> Option<(u128, Hash32)> {
        self.arrival
            .values()
            .rev()
            .filter_map(|hash| self.by_hash.get(hash).map(|p| (p.price, *hash)))
            .min_by_key(|(price, _)| *price)
    }

    /// What `sender`'s pending transactions can take from it together,
    /// leaving out the one with `nonce` (which a new one would replace).
    pub(crate) fn pending_cost(&self, sender: &Address, nonce: u64) -> u128 {
        let Some(queue) = self.by_sender.get(sender) else {
            return 0;
        };
        let replaced = queue
            .nonces
            .get(&nonce)
            .and_then(|hash| self.by_hash.get(hash))
            .map_or(0, |p| p.cost);
        queue.cost.saturating_sub(replaced)
    }

    /// The gapped transaction that arrived last, if any.
    fn newest_gapped(&self) -> Option<Hash32> {
        if self.gapped == 0 {
            return None;
        }
        self.arrival.values().rev().copied().find(|hash| {
            self.by_hash.get(hash).is_some_and(|p| {
                let nonce = p.tx.nonce();
                self.by_sender
                    .get(&p.tx.sender())
                    .is_some_and(|q| q.would_be_gapped(nonce, 0))
            })
        })
    }

    /// Evicts what has waited too long at `now`: gapped transactions after
    /// [`GAPPED_TTL`] (or the mempool's own), any after [`PENDING_TTL`].
    /// How many were evicted. The node runs it once a second (its
    /// `expiry` module), and inserts at most once a second.
    pub(crate) fn expire(&mut self, now: Instant) -> usize {
        let mut expired = Vec::new();
        for hash in self.arrival.values() {
            let Some(pending) = self.by_hash.get(hash) else {
                continue;
            };
            let waited = now.saturating_duration_since(pending.arrived);
            if waited < self.gapped_ttl {
                // Arrival order: everything after waited less.
                break;
            }
            let gapped = self
                .by_sender
                .get(&pending.tx.sender())
                .is_some_and(|q| q.would_be_gapped(pending.tx.nonce(), 0));
            if waited >= PENDING_TTL {
                expired.push((
                    *hash,
                    "it waited for a block longer than the mempool keeps any transaction",
                ));
            } else if gapped {
                expired.push((*hash, "its nonce gap was not filled in time"));
            }
        }
        let count = expired.len();
        for (hash, why) in expired {
            self.evict(&hash, &Refusal::Expired(why));
        }
        count
    }

    /// The first nonce at or after `next_nonce` that `sender` has no
    /// pending transaction for: what a dev account signs next.
    pub(crate) fn next_free_nonce(&self, sender: &Address, next_nonce: u64) -> u64 {
        let mut nonce = next_nonce;
        if let Some(queue) = self.by_sender.get(sender) {
            while queue.nonces.contains_key(&nonce) {
                nonce += 1;
            }
        }
        nonce
    }

    /// Whether `hash` is pending.
    pub(crate) fn contains(&self, hash: &Hash32) -> bool {
        self.by_hash.contains_key(hash)
    }

    /// The pending transaction `hash`, if it waits here.
    pub(crate) fn get(&self, hash: &Hash32) -> Option<&VerifiedTx> {
        self.by_hash.get(hash).map(|pending| &pending.tx)
    }

    /// Transactions for the next block: the highest gas price first (ties:
    /// the earliest arrival), each sender's in nonce order from its next
    /// nonce (`next_nonce`), their gas limits adding up to at most
    /// `max_gas` (a sender whose next one does not fit takes no more).
    /// They stay pending until [`Mempool::committed`] or
    /// [`Mempool::evict`].
    pub(crate) fn take<E>(
        &self,
        max_gas: u64,
        mut next_nonce: impl FnMut(&Address) -> Result<u64, E>,
    ) -> Result<Vec<VerifiedTx>, E> {
        use std::{cmp::Reverse, collections::BinaryHeap};
        let mut out = Vec::new();
        let mut gas = 0u64;
        // Each sender's next transaction: its price, then the earliest
        // arrival, first.
        let mut heads = BinaryHeap::new();
        for (sender, queue) in &self.by_sender {
            let nonce = next_nonce(sender)?;
            if let Some(pending) = queue.nonces.get(&nonce).and_then(|h| self.by_hash.get(h)) {
                heads.push((pending.price, Reverse(pending.seq), *sender, nonce));
            }
        }
        while let Some((_, _, sender, nonce)) = heads.pop() {
            let Some(queue) = self.by_sender.get(&sender) else {
                continue;
            };
            let Some(pending) = queue.nonces.get(&nonce).and_then(|h| self.by_hash.get(h)) else {
                continue;
            };
            // Ward gas, as the block's maximum counts it.
            let limit = ward_executor::ward_gas(pending.tx.gas_unit(), pending.tx.gas_limit());
            if gas.saturating_add(limit) > max_gas {
                continue;
            }
            gas += limit;
            out.push(pending.tx.clone());
            if let Some(next) = queue
                .nonces
                .get(&(nonce + 1))
                .and_then(|h| self.by_hash.get(h))
            {
                heads.push((next.price, Reverse(next.seq), sender, nonce + 1));
            }
        }
        Ok(out)
    }

    fn remove(&mut self, hash: &Hash32) -> Option<Pending> {
        let pending = self.by_hash.remove(hash)?;
        self.bytes -= pending.tx.bytes().len();
        self.arrival.remove(&pending.seq);
        let sender = pending.tx.sender();
        if let Some(queue) = self.by_sender.get_mut(&sender) {
            queue.nonces.remove(&pending.tx.nonce());
            queue.cost = queue.cost.saturating_sub(pending.cost);
        }
        self.recount(&sender, None);
        Some(pending)
    }

    /// The transactions evicted since the last call (replaced, displaced,
    /// expired, stale): a replica removes them from the shared mempool.
    pub(crate) fn take_evicted(&mut self) -> Vec<Hash32> {
        std::mem::take(&mut self.evicted)
    }

    /// The bytes of the signed transactions waiting.
    #[cfg(test)]
    pub(crate) fn bytes(&self) -> usize {
        self.bytes
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
    pub(crate) fn evict(&mut self, hash: &Hash32, error: &Refusal) {
        if let Some(pending) = self.remove(hash) {
            self.evicted.push(*hash);
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
            .map(|queue| {
                queue
                    .nonces
                    .range(..next_nonce)
                    .map(|(n, h)| (*n, *h))
                    .collect()
            })
            .unwrap_or_default();
        for (nonce, hash) in stale {
            self.evict(&hash, &Refusal::NonceTaken(nonce));
        }
        self.recount(sender, Some(next_nonce));
    }

    /// Evicts everything (shutdown): waiters hear `error`.
    pub(crate) fn clear(&mut self, error: &Refusal) {
        let hashes: Vec<Hash32> = self.by_hash.keys().copied().collect();
        for hash in hashes {
            self.evict(&hash, error);
        }
    }
}

#[cfg(test)]
mod tests;
