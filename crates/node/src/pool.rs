//! What waits for the next block, behind one lock: the mempool and its
//! penalties, a dev node's presets and clock, the `mine` and `revert`
//! calls waiting for the producer, and the stop flag.
//!
//! This module alone takes the lock. Admission, the RPC's pending nonces,
//! the producer, a replica's loop and the dev methods each call an
//! operation named here, so what must be read together under the lock is
//! read together in one place: a sender's committed nonce and the next
//! one the mempool leaves free ([`Pool::pending_nonce`]; a block is
//! committed, then its transactions leave the mempool under this lock),
//! and a transaction's checks and its insertion ([`Pool::admit`]). The
//! lock's condition variable wakes the producer (and a replica's loop)
//! when there is something to do.

use std::{
    sync::{Arc, Condvar, Mutex, MutexGuard},
    time::{Duration, Instant},
};

use prometheus_client::metrics::gauge::Gauge;
use tokio::sync::oneshot;
use ward_chain::tx::VerifiedTx;
use ward_executor::{Block, Patch};
use ward_primitives::{Address, Hash32};

use crate::{
    failure::Failure,
    mempool::{Committed, Mempool, Penalties, Refusal, Waiter},
    sync::lock,
};

/// A `mine` call waiting for its block.
pub(crate) type MineWaiter = oneshot::Sender<Result<Arc<Block>, Failure>>;

/// A `revert` call waiting for the producer: the snapshot's id, and where
/// to say the height it went back to.
pub(crate) type RevertWaiter = (u64, oneshot::Sender<Result<u64, Failure>>);

/// What the producer does next ([`Pool::next_work`]).
pub(crate) enum Work {
    /// Build a block of these (maybe none: an interval or a `mine`).
    Block(Vec<VerifiedTx>, Vec<MineWaiter>),
    /// Go back to these dev snapshots (`revert`), in order.
    Revert(Vec<RevertWaiter>),
    Stop,
}

/// When the producer builds a block: as soon as transactions wait
/// (automine), every interval, or both; neither leaves them waiting for
/// a `mine`. A node starts as its `block_time_ms` says (0: automine, no
/// interval; N: every N ms, no automine); a dev node changes it
/// (`evm_setAutomine`, `evm_setIntervalMining`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Mining {
    /// A block as soon as transactions wait.
    pub(crate) automine: bool,
    /// A block every this long (zero: none).
    pub(crate) interval: Duration,
}

impl Mining {
    /// What `block_time_ms` says.
    pub(crate) fn of(block_time_ms: u64) -> Mining {
        Mining {
            automine: block_time_ms == 0,
            interval: Duration::from_millis(block_time_ms),
        }
    }
}

/// What the lock guards.
struct Contents {
    mempool: Mempool,
    /// Transactions that ran past the backstop, and their senders.
    penalties: Penalties,
    mine: Vec<MineWaiter>,
    /// The next block's time, if `setNextBlockTime` chose it.
    next_time: Option<u64>,
    /// Milliseconds a dev node's clock runs ahead of the machine's
    /// (`evm_increaseTime`, `evm_setNextBlockTimestamp`).
    time_offset: u64,
    /// The dev clock (its offset and the next block's chosen time) as
    /// each snapshot found it, by snapshot id: a revert puts it back, as
    /// Hardhat's does, so a test's time travel ends with the test.
    clocks: std::collections::BTreeMap<u64, (u64, Option<u64>)>,
    /// What `setBalance`, `setStorage` and `setCode` set at the start of
    /// the next block.
    preset: Patch,
    reverts: Vec<RevertWaiter>,
    /// Shutting down: finish the block in progress, then stop.
    stopping: bool,
    /// When blocks are built.
    mining: Mining,
    /// `mining` changed since the producer last looked: its next tick
    /// starts again from now.
    mining_changed: bool,
}

/// The pool of what waits for the next block, and its lock.
pub(crate) struct Pool {
    contents: Mutex<Contents>,
    wake: Condvar,
    /// The node's `mempool_size` gauge, set whenever the mempool changes.
    size: Gauge,
}

impl Pool {
    /// A pool around `mempool`, reporting its size to `size`, building
    /// blocks as `mining` says.
    pub(crate) fn new(mempool: Mempool, size: Gauge, mining: Mining) -> Pool {
        Pool {
            contents: Mutex::new(Contents {
                mempool,
                penalties: Penalties::default(),
                mine: Vec::new(),
                next_time: None,
                time_offset: 0,
                clocks: std::collections::BTreeMap::new(),
                preset: Patch::default(),
                reverts: Vec::new(),
                stopping: false,
                mining,
                mining_changed: true,
            }),
            wake: Condvar::new(),
            size,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Contents> {
        lock(&self.contents)
    }

    /// Sets the size gauge from `contents`.
    fn measure(&self, contents: &Contents) {
        self.size.set(contents.mempool.len() as i64);
    }

    /// Wakes whoever waits for work (the producer, a replica's loop).
    pub(crate) fn notify(&self) {
        self.wake.notify_all();
    }

    /// Runs `change` under the lock, then wakes whoever waits: a change
    /// those waiting must not miss between their check and their sleep.
    #[cfg_attr(
        not(feature = "etcd"),
        allow(dead_code, reason = "a replica's loop; no replicas without etcd")
    )]
    pub(crate) fn notify_after(&self, change: impl FnOnce()) {
        let _contents = self.lock();
        change();
        self.wake.notify_all();
    }

    /// Asks the producer to finish its block and stop.
    pub(crate) fn stop(&self) {
        self.lock().stopping = true;
        self.wake.notify_all();
    }

    /// Whether the node is stopping.
    #[cfg_attr(
        not(feature = "etcd"),
        allow(dead_code, reason = "a replica's loop; no replicas without etcd")
    )]
    pub(crate) fn is_stopping(&self) -> bool {
        self.lock().stopping
    }

    /// Sleeps up to `limit`, unless the node is stopping or `changed`
    /// says something changed; whether the node is stopping.
    #[cfg_attr(
        not(feature = "etcd"),
        allow(dead_code, reason = "a replica's loop; no replicas without etcd")
    )]
    pub(crate) fn wait(&self, limit: Duration, changed: impl FnOnce() -> bool) -> bool {
        let contents = self.lock();
        if contents.stopping {
            return true;
        }
        if changed() {
            return false;
        }
        let (contents, _) = self
            .wake
            .wait_timeout(contents, limit)
            .unwrap_or_else(|e| e.into_inner());
        contents.stopping
    }

    // The mempool.

    /// Whether the transaction `hash` waits.
    pub(crate) fn contains(&self, hash: &Hash32) -> bool {
        self.lock().mempool.contains(hash)
    }

    /// `address`'s committed nonce (read by `committed` under the lock)
    /// and the next one its transactions in the mempool leave free.
    ///
    /// # Errors
    ///
    /// `committed`'s.
    pub(crate) fn pending_nonce<E>(
        &self,
        address: &Address,
        committed: impl FnOnce(&Address) -> Result<u64, E>,
    ) -> Result<(u64, u64), E> {
        let contents = self.lock();
        let next = committed(address)?;
        Ok((next, contents.mempool.next_free_nonce(address, next)))
    }

    /// The transaction `hash` if it waits in the mempool (a dev node
    /// with automine off keeps what it admits there until a `mine`).
    pub(crate) fn pending(&self, hash: &Hash32) -> Option<VerifiedTx> {
        self.lock().mempool.get(hash).cloned()
    }

    /// Takes `tx` in if `checks` pass under the lock (given the mempool
    /// and the penalties; they return the sender's committed nonce), on a
    /// node that is not stopping. What its arrival evicted. The caller
    /// wakes the producer ([`Pool::notify`]) once the transaction is
    /// wherever else it goes (a replica's shared mempool), as before.
    ///
    /// # Errors
    ///
    /// A stopping node's refusal, `checks`' or the mempool's.
    pub(crate) fn admit(
        &self,
        tx: VerifiedTx,
        waiter: Option<Waiter>,
        checks: impl FnOnce(&Mempool, &Penalties) -> Result<u64, Refusal>,
    ) -> Result<Vec<Hash32>, Refusal> {
        let mut contents = self.lock();
        if contents.stopping {
            return Err(Refusal::shutting_down());
        }
        let next = checks(&contents.mempool, &contents.penalties)?;
        contents.mempool.insert(tx, next, waiter)?;
        self.measure(&contents);
        Ok(contents.mempool.take_evicted())
    }

    /// Removes `hash`; its waiter hears `why`.
    pub(crate) fn evict(&self, hash: &Hash32, why: &Refusal) {
        let mut contents = self.lock();
        contents.mempool.evict(hash, why);
        self.measure(&contents);
    }

    /// Removes `tx`, which aborted its block; one that ran past the
    /// backstop (`timed_out`) is never taken again, nor its sender's for a
    /// while.
    pub(crate) fn evict_aborted(&self, tx: &VerifiedTx, timed_out: bool, why: &Refusal) {
        let mut contents = self.lock();
        if timed_out {
            contents
                .penalties
                .timed_out(tx.hash(), tx.sender(), ward_vm::clock::now());
        }
        contents.mempool.evict(&tx.hash(), why);
        self.measure(&contents);
    }

    /// Empties the mempool; every waiter hears `why`.
    #[cfg_attr(
        not(feature = "etcd"),
        allow(dead_code, reason = "a replica's loop; no replicas without etcd")
    )]
    pub(crate) fn clear(&self, why: &Refusal) {
        let mut contents = self.lock();
        contents.mempool.clear(why);
        self.measure(&contents);
    }

    /// Expires what waited too long at `now`: what left, if anything did.
    pub(crate) fn expire(&self, now: Instant) -> Option<Vec<Hash32>> {
        let mut contents = self.lock();
        if contents.mempool.expire(now) == 0 {
            return None;
        }
        self.measure(&contents);
        Some(contents.mempool.take_evicted())
    }

    /// After block `hash` committed with `receipts`: their waiters hear
    /// of it, and the senders' transactions whose nonces `committed` now
    /// says are used leave.
    pub(crate) fn committed(
        &self,
        hash: Hash32,
        block: &Block,
        senders: impl IntoIterator<Item = Address>,
        committed: impl Fn(&Address) -> Option<u64>,
    ) {
        let mut contents = self.lock();
        for receipt in &block.receipts {
            let ack = Committed {
                receipt: receipt.clone(),
                block: hash,
            };
            contents.mempool.committed(&receipt.tx, &ack);
        }
        for sender in senders {
            if let Some(next) = committed(&sender) {
                contents.mempool.evict_stale(&sender, next);
            }
        }
        self.measure(&contents);
    }

    /// What the producer does next: waits until there is a block to build
    /// (`take` chooses its transactions from the mempool), a revert, or
    /// the node stops; while `faulted` says production stopped, only
    /// shutdown. With a block in flight (`in_flight`) `None` where it
    /// would wait. A block is due as [`Mining`] says: when a `mine`
    /// asks, on each tick of the interval (`next_tick`, where the next
    /// one falls), and with automine when transactions are ready.
    pub(crate) fn next_work(
        &self,
        next_tick: &mut Instant,
        in_flight: bool,
        faulted: impl Fn() -> bool,
        take: impl Fn(&Mempool) -> Vec<VerifiedTx>,
    ) -> Option<Work> {
        let mut contents = self.lock();
        loop {
            if contents.stopping {
                return Some(Work::Stop);
            }
            if !contents.reverts.is_empty() {
                return Some(Work::Revert(std::mem::take(&mut contents.reverts)));
            }
            if faulted() {
                if in_flight {
                    return None;
                }
                // Production stopped on a storage fault: only shutdown is left.
                contents = self.wake.wait(contents).unwrap_or_else(|e| e.into_inner());
                continue;
            }
            let Mining { automine, interval } = contents.mining;
            if std::mem::take(&mut contents.mining_changed) {
                *next_tick = ward_vm::clock::now() + interval;
            }
            let mine = !contents.mine.is_empty();
            let ticked = !interval.is_zero() && ward_vm::clock::passed(*next_tick);
            if mine || ticked || (automine && contents.mempool.len() > 0) {
                let txs = take(&contents.mempool);
                // Nothing ready (waiting on earlier nonces), and no block
                // asked for: wait for more.
                if !txs.is_empty() || mine || ticked {
                    if ticked {
                        *next_tick += interval;
                        // Never build a backlog of empty blocks after a stall.
                        let now = ward_vm::clock::now();
                        if *next_tick < now {
                            *next_tick = now + interval;
                        }
                    }
                    return Some(Work::Block(txs, std::mem::take(&mut contents.mine)));
                }
            }
            if in_flight {
                return None;
            }
            let wait = if interval.is_zero() {
                Duration::from_secs(1)
            } else {
                ward_vm::clock::left(*next_tick)
            };
            contents = self
                .wake
                .wait_timeout(contents, wait)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|e| e.into_inner().0);
        }
    }

    /// The producer stopped: whatever still waits will not be in a block
    /// from this node.
    pub(crate) fn shut_down(&self) {
        let mut contents = self.lock();
        contents.mempool.clear(&Refusal::shutting_down());
        for waiter in contents.mine.drain(..) {
            let _ = waiter.send(Err(Failure::shutting_down()));
        }
        for (_, waiter) in contents.reverts.drain(..) {
            let _ = waiter.send(Err(Failure::shutting_down()));
        }
        self.measure(&contents);
    }

    // A dev node's controls.

    /// Queues a `mine` or `revert` call for the producer (`queue` puts
    /// its waiter where the producer finds it) and wakes it.
    ///
    /// # Errors
    ///
    /// [`Failure::shutting_down`] on a stopping node: nothing is queued.
    pub(crate) fn queue_mine(&self, waiter: MineWaiter) -> Result<(), Failure> {
        self.queue(|contents| contents.mine.push(waiter))
    }

    /// [`Pool::queue_mine`] for a `revert` to snapshot `id`.
    ///
    /// # Errors
    ///
    /// As [`Pool::queue_mine`].
    pub(crate) fn queue_revert(&self, waiter: RevertWaiter) -> Result<(), Failure> {
        self.queue(|contents| contents.reverts.push(waiter))
    }

    fn queue(&self, push: impl FnOnce(&mut Contents)) -> Result<(), Failure> {
        {
            let mut contents = self.lock();
            if contents.stopping {
                return Err(Failure::shutting_down());
            }
            push(&mut contents);
        }
        self.wake.notify_all();
        Ok(())
    }

    /// Changes what the next block starts with (`setBalance`,
    /// `setStorage`, `setCode`).
    pub(crate) fn preset(&self, change: impl FnOnce(&mut Patch)) {
        change(&mut self.lock().preset);
    }

    /// Whether the next block starts with a preset state.
    pub(crate) fn has_preset(&self) -> bool {
        !self.lock().preset.is_empty()
    }

    /// Takes the preset state for the block being built.
    pub(crate) fn take_preset(&self) -> Patch {
        std::mem::take(&mut self.lock().preset)
    }

    /// Puts back `older`, the preset state of a block that failed: what
    /// was set since that block began wins over it.
    pub(crate) fn keep_preset(&self, older: Patch) {
        let mut contents = self.lock();
        let mut newer = std::mem::take(&mut contents.preset);
        newer.keep_older(older);
        contents.preset = newer;
    }

    /// When blocks are built.
    pub(crate) fn mining(&self) -> Mining {
        self.lock().mining
    }

    /// Changes when blocks are built (`evm_setAutomine`,
    /// `evm_setIntervalMining`) and wakes the producer, whose next tick
    /// starts from now.
    pub(crate) fn set_mining(&self, change: impl FnOnce(&mut Mining)) {
        let mut contents = self.lock();
        change(&mut contents.mining);
        contents.mining_changed = true;
        self.wake.notify_all();
    }

    /// The next block's time, chosen (`setNextBlockTime`).
    pub(crate) fn set_next_time(&self, time: u64) {
        self.lock().next_time = Some(time);
    }

    /// Moves the dev clock `ms` ahead (`evm_increaseTime`): the total
    /// offset.
    pub(crate) fn advance_clock(&self, ms: u64) -> u64 {
        let mut contents = self.lock();
        contents.time_offset = contents.time_offset.saturating_add(ms);
        contents.time_offset
    }

    /// Sets the dev clock so that `now` reads as `time`, for the blocks
    /// after the next one (`evm_setNextBlockTimestamp`).
    pub(crate) fn set_clock(&self, time: u64, now: u64) {
        self.lock().time_offset = time.saturating_sub(now);
    }

    /// The next block's time if one was chosen, and the dev clock's offset.
    pub(crate) fn clock(&self) -> (Option<u64>, u64) {
        let contents = self.lock();
        (contents.next_time, contents.time_offset)
    }

    /// Takes the next block's time: the chosen one, or `now` on the dev
    /// clock, at least `earliest`. With `carry`, a block pushed ahead of
    /// the clock carries the clock with it, as Hardhat's does.
    pub(crate) fn take_block_time(&self, now: u64, earliest: u64, carry: bool) -> u64 {
        let mut contents = self.lock();
        let time = contents
            .next_time
            .take()
            .unwrap_or_else(|| now.saturating_add(contents.time_offset))
            .max(earliest);
        if carry {
            contents.time_offset = contents.time_offset.max(time.saturating_sub(now));
        }
        time
    }

    /// Keeps the dev clock as it is now for snapshot `id`.
    pub(crate) fn snapshot_clock(&self, id: u64) {
        let mut contents = self.lock();
        let clock = (contents.time_offset, contents.next_time);
        contents.clocks.insert(id, clock);
    }

    /// After a revert to snapshot `id` at `height`: nothing of what waited
    /// or was set is left, and the dev clock is as the snapshot found it
    /// (the snapshot and every later one used up).
    pub(crate) fn reverted(&self, id: u64, height: u64) {
        let mut contents = self.lock();
        contents.mempool.clear(&Refusal::Reverted { id, height });
        contents.preset = Patch::default();
        let kept = contents.clocks.split_off(&id);
        let (offset, next_time) = kept
            .get(&id)
            .copied()
            .unwrap_or((contents.time_offset, None));
        contents.time_offset = offset;
        contents.next_time = next_time;
        self.measure(&contents);
    }
}
