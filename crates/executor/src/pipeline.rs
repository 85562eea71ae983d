//! A block pipeline: block N+1 executes on the caller's thread while block
//! N's state tree update, header and commit run on a committer thread.
//!
//! Executing a block needs the state after the block before; its header
//! needs that block's hash, so its root. The pipeline splits the two:
//! block N+1 runs over the store with block N's changes above it
//! ([`crate::View`]), and only once it has run does the pipeline wait for
//! block N to be durable, then hand block N+1 to the committer. Blocks
//! are rooted and committed one at a time, in order, by the one committer,
//! so the store, the roots and the receipts are exactly those of
//! [`Executor::execute_signed_block`] run block after block (the
//! executor's `pipeline` test compares both, on both backends). What a
//! caller acknowledges is what [`Pushed::committed`] returned: a block is
//! never reported before its commit returned.
//!
//! Block N+1's execution and block N's commit overlap; two blocks are
//! never committed at once, and a block whose predecessor failed to
//! commit is dropped, never committed over a state it did not run on.
//!
//! A replica replaying the cluster's log pushes each entry with the header
//! the log gives it ([`Pipeline::push_expecting`]): the committer seals
//! the block and commits it only if it sealed to that header; otherwise
//! the block is [`ExecError::Disagrees`], and neither it nor the block
//! executed over it reaches the store.

use std::{
    sync::{Arc, mpsc},
    thread::JoinHandle,
};

use ward_chain::{block::Header, tx::VerifiedTx};
use ward_state::StateCommit;
use ward_vm::{FaultKind, NodeFault};

use crate::{
    Block, BlockTimings, ExecError, Executor, Patch, Tx,
    block::{Executed, Item},
    view::Pending,
};

/// Blocks executed on the caller's thread and committed on another, in
/// order: block N+1 executes (over the store with block N's changes above
/// it) while block N is rooted and committed. Blocks are committed one at
/// a time, in height order, so the store, the roots and the receipts are
/// those of [`Executor::execute_signed_block`] run block after block, and
/// [`Pushed::committed`] reports a block only once its commit returned.
pub struct Pipeline<S: StateCommit + Send + Sync + 'static> {
    executor: Arc<Executor<S>>,
    /// The height the next pushed block gets.
    next: u64,
    /// The state of the block being committed, which the next block reads
    /// above the store; `None` when nothing is in flight.
    in_flight: Option<Arc<Pending>>,
    /// To the committer, each with the header it must seal to, if any;
    /// `None` once dropped.
    jobs: Option<mpsc::SyncSender<Job>>,
    /// From the committer: each block's outcome and where its time went,
    /// in order.
    done: mpsc::Receiver<(Result<Block, ExecError>, BlockTimings)>,
    /// Where the time of the last block returned went.
    timings: BlockTimings,
    committer: Option<JoinHandle<()>>,
}

/// A block for the committer, and the header it must seal to, if any.
type Job = (Executed, Option<Header>);

/// What [`Pipeline::push`] did.
#[derive(Debug)]
pub struct Pushed {
    /// The block pushed before this one, now committed (or why its commit
    /// failed: then nothing of it, nor of this block, is in the store).
    /// `None` when no block was in flight.
    pub committed: Option<Result<Block, ExecError>>,
    /// This block: its height, in flight to the committer, or why it was
    /// not executed (a refused transaction, a fault); then nothing of it
    /// is kept, and the next push takes its height.
    pub executed: Result<u64, ExecError>,
}

impl Pushed {
    fn failed(error: ExecError) -> Pushed {
        Pushed {
            committed: None,
            executed: Err(error),
        }
    }
}

impl<S: StateCommit + Send + Sync + 'static> Pipeline<S> {
    /// A pipeline over `executor`, whose store it writes alone while a
    /// block is in flight (between a push and the flush that returns
    /// nothing in flight, others may write it: the next push starts from
    /// the store's height). Its first block is the store's next.
    ///
    /// # Errors
    ///
    /// When the store cannot say its height, or the committer thread
    /// cannot start.
    pub fn new(executor: Arc<Executor<S>>) -> Result<Self, ExecError> {
        let next = executor.store().height()? + 1;
        let (jobs, inbox) = mpsc::sync_channel::<Job>(1);
        let (outcomes, done) = mpsc::sync_channel(1);
        let committer = {
            let executor = executor.clone();
            std::thread::Builder::new()
                .name("ward-commit".into())
                .spawn(move || {
                    for (executed, expected) in inbox {
                        let outcome = executor.seal(executed).and_then(|prepared| match expected {
                            Some(header) if header != prepared.block.record.header => {
                                Err(ExecError::Disagrees {
                                    ours: Box::new(prepared.block.record.header),
                                })
                            }
                            _ => executor.commit_prepared(prepared),
                        });
                        // Read here: the next block's commit sets them again.
                        let timings = executor.last_block_timings();
                        if outcomes.send((outcome, timings)).is_err() {
                            break;
                        }
                    }
                })
                .map_err(|e| {
                    ExecError::Fault(NodeFault::new(
                        FaultKind::Invariant,
                        format!("the block pipeline's committer thread did not start: {e}"),
                    ))
                })?
        };
        Ok(Pipeline {
            executor,
            next,
            in_flight: None,
            jobs: Some(jobs),
            done,
            timings: BlockTimings::default(),
            committer: Some(committer),
        })
    }

    /// The executor the pipeline runs blocks on.
    pub fn executor(&self) -> &Arc<Executor<S>> {
        &self.executor
    }

    /// The height the next pushed block gets.
    pub fn next_height(&self) -> u64 {
        self.next
    }

    /// Where the time of the last block [`Pipeline::push`] or
    /// [`Pipeline::flush`] returned went (its execution, its root, its
    /// commit); [`Executor::last_block_timings`] may be the next one's
    /// already.
    pub fn last_timings(&self) -> BlockTimings {
        self.timings
    }

    /// Executes signed transactions as the next block at `time` (as
    /// [`Executor::execute_signed_block`] would once the block in flight
    /// is committed) while that block commits; then waits for it and
    /// hands this one to the committer.
    pub fn push(&mut self, txs: &[VerifiedTx], time: u64) -> Pushed {
        if let Err(error) = self.refresh() {
            return Pushed::failed(error);
        }
        let items = Item::all(txs, self.next);
        self.push_items(&items, time, None)
    }

    /// [`Pipeline::push`] for a block whose header is known (a log entry a
    /// replica replays): it is committed only if it seals to `expected`,
    /// else its outcome is [`ExecError::Disagrees`] (with the header it
    /// sealed to) and nothing of it, nor of the block pushed after it, is
    /// committed. Its time is `expected`'s.
    pub fn push_expecting(&mut self, txs: &[VerifiedTx], expected: &Header) -> Pushed {
        if let Err(error) = self.refresh() {
            return Pushed::failed(error);
        }
        let items = Item::all(txs, self.next);
        self.push_items(&items, expected.time, Some(*expected))
    }

    /// [`Pipeline::push`] for the embedder's own transactions, as
    /// [`Executor::execute_block`] runs them.
    pub fn push_unsigned(&mut self, txs: &[Tx], time: u64) -> Pushed {
        if let Err(error) = self.refresh() {
            return Pushed::failed(error);
        }
        let txs: Vec<VerifiedTx> = txs.iter().cloned().map(Tx::vouched).collect();
        let items = Item::all(&txs, self.next);
        self.push_items(&items, time, None)
    }

    fn push_items(&mut self, items: &[Item<'_>], time: u64, expected: Option<Header>) -> Pushed {
        let executed = self.executor.execute_items(
            items,
            (self.next, time),
            &Patch::default(),
            self.in_flight.as_ref(),
        );
        let committed = self.wait();
        if let Some(Err(_)) = &committed {
            // This block ran over changes that never reached the store.
            return Pushed {
                committed,
                executed: Err(ExecError::Fault(NodeFault::new(
                    FaultKind::Storage,
                    "the block before was not committed, so this one was dropped",
                ))),
            };
        }
        let executed = executed.and_then(|executed| {
            let height = executed.height;
            let pending = Arc::new(Pending::of(height, &executed.changes));
            self.send(executed, expected)?;
            self.in_flight = Some(pending);
            self.next = height + 1;
            Ok(height)
        });
        Pushed {
            committed,
            executed,
        }
    }

    /// With nothing in flight, the next height is the store's next: the
    /// store may have been written by others since the last flush.
    fn refresh(&mut self) -> Result<(), ExecError> {
        if self.in_flight.is_none() {
            self.next = self.executor.store().height()? + 1;
        }
        Ok(())
    }

    /// Waits for the block in flight: `None` when there is none.
    pub fn flush(&mut self) -> Option<Result<Block, ExecError>> {
        self.wait()
    }

    fn send(&self, executed: Executed, expected: Option<Header>) -> Result<(), ExecError> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send((executed, expected)).ok())
            .ok_or_else(committer_gone)
    }

    /// The outcome of the block in flight, if any; after a failed commit
    /// the next block is the store's next again.
    fn wait(&mut self) -> Option<Result<Block, ExecError>> {
        self.in_flight.take()?;
        let (outcome, timings) = self
            .done
            .recv()
            .unwrap_or_else(|_| (Err(committer_gone()), BlockTimings::default()));
        self.timings = timings;
        if outcome.is_err() {
            match self.executor.store().height() {
                Ok(height) => self.next = height + 1,
                Err(error) => return Some(Err(error.into())),
            }
        }
        Some(outcome)
    }
}

fn committer_gone() -> ExecError {
    ExecError::Fault(NodeFault::new(
        FaultKind::Invariant,
        "the block pipeline's committer thread stopped",
    ))
}

impl<S: StateCommit + Send + Sync + 'static> Drop for Pipeline<S> {
    /// Lets the block in flight finish committing, then stops the
    /// committer.
    fn drop(&mut self) {
        self.jobs = None;
        let _ = self.wait();
        if let Some(committer) = self.committer.take() {
            let _ = committer.join();
        }
    }
}
