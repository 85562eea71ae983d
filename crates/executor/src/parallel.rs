//! Parallel blocks, exactly equal to running them in order.
//!
//! The calling thread walks the block in order over the block's journal;
//! `threads - 1` workers run transactions ahead of it optimistically, each
//! against the block's starting state through a [`View`] that records
//! every state key it reads (storage values and listings, contracts, code,
//! nonces: everything a transaction and the contracts it calls can see).
//! When the walk reaches a transaction a worker ran, it keeps that result
//! if the block's journal holds no write to anything the transaction read
//! (so it saw exactly what it would have seen in order), applying its
//! writes; otherwise it runs the transaction again, in order. A
//! transaction no one took yet, the walk runs itself, in order; while the
//! result it needs is not ready, it runs one further ahead like a worker.
//! So every receipt and every write is the one in-order execution gives;
//! a result that failed in any way (a refused nonce, a fault) is simply
//! run again.
//!
//! Without conflicts the threads share the work. When recent results
//! conflicted, the walk stops waiting for workers and runs each
//! transaction in order at once, so a fully conflicting block costs about
//! what one thread does (Block-STM is the published anchor; this is its
//! simplest form, without re-running a transaction on a worker once its
//! inputs are known).

use std::sync::{
    Arc, Condvar, Mutex,
    atomic::{AtomicBool, AtomicUsize, Ordering},
};

use ward_state::{ChangeSet, Journal, ReadKey, Receipt, StateCommit};

use crate::{
    ExecError, Executor, Intrinsic, SharedJournal, Speculation, View, block::Item, lock,
    view::Pending,
};

/// A worker's result for one transaction.
struct Speculated {
    /// Its receipt, if it ran to one.
    receipt: Option<Receipt>,
    /// What it read from the block's starting state.
    reads: Vec<ReadKey>,
    /// What it wrote.
    changes: ChangeSet,
}

/// Results by position, and who took each.
struct Board {
    /// The next position no one took.
    next: AtomicUsize,
    /// Whether workers should run ahead (false while results conflict:
    /// their work would be thrown away and only slow the walk).
    calm: AtomicBool,
    results: Mutex<Vec<Option<Speculated>>>,
    ready: Condvar,
}

impl Board {
    /// A worker's next position: `None` when none is left; while the
    /// walk finds conflicts, it waits (briefly, to look again) instead.
    fn take_when_calm(&self, len: usize) -> Option<usize> {
        while !self.calm.load(Ordering::Relaxed) {
            if self.next.load(Ordering::SeqCst) >= len {
                return None;
            }
            let results = lock(&self.results);
            let _ = self
                .ready
                .wait_timeout(results, std::time::Duration::from_micros(500));
        }
        self.take(len)
    }

    /// Takes the next position, if any is left below `len`.
    fn take(&self, len: usize) -> Option<usize> {
        let index = self.next.fetch_add(1, Ordering::SeqCst);
        (index < len).then_some(index)
    }

    /// Takes `index` for the walk if no worker took it yet.
    fn claim(&self, index: usize) -> bool {
        self.next
            .compare_exchange(index, index + 1, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// A worker's result for `index`, if it is there.
    fn try_take(&self, index: usize) -> Option<Speculated> {
        lock(&self.results).get_mut(index).and_then(Option::take)
    }

    /// Waits until a result for `index` is there.
    fn wait_ready(&self, index: usize) {
        let mut results = lock(&self.results);
        while results.get(index).is_some_and(Option::is_none) {
            results = self.ready.wait(results).unwrap_or_else(|e| e.into_inner());
        }
    }

    fn post(&self, index: usize, result: Speculated) {
        if let Some(slot) = lock(&self.results).get_mut(index) {
            *slot = Some(result);
        }
        self.ready.notify_all();
    }
}

impl<S: StateCommit + Send + Sync + 'static> Executor<S> {
    /// Runs `items` (with their intrinsic costs) over `journal` on the
    /// executor's threads: the receipts running them in order gives, with
    /// `journal` holding the same writes.
    pub(crate) fn run_parallel(
        &self,
        journal: &SharedJournal<S>,
        items: &[Item<'_>],
        intrinsic: &[Intrinsic],
        (height, time): (u64, u64),
        pending: Option<&Arc<Pending>>,
    ) -> Result<Vec<Receipt>, ExecError> {
        let len = items.len();
        let board = Board {
            next: AtomicUsize::new(0),
            calm: AtomicBool::new(true),
            results: Mutex::new((0..len).map(|_| None).collect()),
            ready: Condvar::new(),
        };
        let workers = self.threads.saturating_sub(1).min(len);
        std::thread::scope(|scope| {
            for _ in 0..workers {
                scope.spawn(|| {
                    while let Some(index) = board.take_when_calm(len) {
                        let result =
                            self.speculate_caught(items, intrinsic, index, (height, time), pending);
                        board.post(index, result);
                    }
                });
            }
            let mut receipts = Vec::with_capacity(len);
            let mut speculation = Speculation::default();
            // Recent reruns: while high, workers pause and the walk runs
            // each transaction in order at once; every PROBE of those, it
            // lets them try again.
            const PROBE: u32 = 64;
            let mut pressure = 0u32;
            let mut paused = 0u32;
            for (index, item) in items.iter().enumerate() {
                let calm = pressure < 4;
                board.calm.store(calm, Ordering::Relaxed);
                if !calm {
                    paused += 1;
                    if paused >= PROBE {
                        (paused, pressure) = (0, 0);
                    }
                }
                let kept = loop {
                    if board.claim(index) {
                        speculation.in_order += 1;
                        break None;
                    }
                    if let Some(result) = board.try_take(index) {
                        let kept = self.validate(journal, result);
                        if kept.is_some() {
                            speculation.kept += 1;
                            pressure = pressure.saturating_sub(1);
                        } else {
                            speculation.rerun += 1;
                            pressure = (pressure + 2).min(8);
                        }
                        break kept;
                    }
                    if pressure >= 4 {
                        speculation.in_order += 1;
                        break None;
                    }
                    // Not ready: run one ahead too rather than wait.
                    match board.take(len) {
                        Some(ahead) => {
                            let result = self.speculate_caught(
                                items,
                                intrinsic,
                                ahead,
                                (height, time),
                                pending,
                            );
                            board.post(ahead, result);
                        }
                        None => board.wait_ready(index),
                    }
                };
                let receipt = match kept {
                    Some(receipt) => receipt,
                    None => {
                        self.run_item(journal, item, intrinsic[index], index, (height, time), None)?
                    }
                };
                receipts.push(receipt);
            }
            board.calm.store(true, Ordering::Relaxed);
            board.ready.notify_all();
            *lock(&self.speculation) = speculation;
            Ok(receipts)
        })
    }

    /// [`Executor::speculate`], a panic included: a result is always
    /// posted, or the walk would wait for it forever (a panic's result is
    /// nothing, and the walk runs the transaction).
    fn speculate_caught(
        &self,
        items: &[Item<'_>],
        intrinsic: &[Intrinsic],
        index: usize,
        at: (u64, u64),
        pending: Option<&Arc<Pending>>,
    ) -> Speculated {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.speculate(items, intrinsic, index, at, pending)
        }))
        .unwrap_or_else(|_| Speculated {
            receipt: None,
            reads: Vec::new(),
            changes: ChangeSet::default(),
        })
    }

    /// Runs the transaction at `index` alone against the block's starting
    /// state, recording what it reads.
    fn speculate(
        &self,
        items: &[Item<'_>],
        intrinsic: &[Intrinsic],
        index: usize,
        (height, time): (u64, u64),
        pending: Option<&Arc<Pending>>,
    ) -> Speculated {
        let journal: SharedJournal<S> = Arc::new(Mutex::new(Journal::new(View::over(
            self.store.clone(),
            pending.cloned(),
            true,
        ))));
        let receipt = self
            .run_item(
                &journal,
                &items[index],
                intrinsic[index],
                index,
                (height, time),
                None,
            )
            .ok();
        match Arc::try_unwrap(journal) {
            Ok(journal) => {
                let journal = journal.into_inner().unwrap_or_else(|e| e.into_inner());
                Speculated {
                    reads: journal.base().take_reads(),
                    receipt,
                    changes: journal.into_changes(),
                }
            }
            // Still shared: nothing to trust; the walk runs it again.
            Err(_) => Speculated {
                receipt: None,
                reads: Vec::new(),
                changes: ChangeSet::default(),
            },
        }
    }

    /// Keeps a worker's result when nothing it read was written before it
    /// in the block, applying its writes to `journal`.
    fn validate(&self, journal: &SharedJournal<S>, result: Speculated) -> Option<Receipt> {
        let receipt = result.receipt?;
        let mut journal = lock(journal);
        if result.reads.iter().any(|key| journal.wrote(key)) {
            return None;
        }
        journal.apply(result.changes);
        Some(receipt)
    }
}
