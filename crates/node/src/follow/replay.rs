//! Replaying the log: every entry past this replica's height, through a
//! block pipeline (`ward_executor::Pipeline`), so that entry N+1 executes
//! while entry N is rooted and committed. Each entry is pushed with the
//! header the log gives it, and the committer commits it only if it
//! sealed to that header: a block that disagrees with the log is never
//! committed, nor the one executed above it, and the replica diverges
//! there.

//!
//! The follower's side of the loop lives here, below it: what a block
//! that landed does (acknowledgements, roots published, a joiner's claim
//! moved) and what a divergence does.

use std::{sync::Arc, time::Duration};

use tokio::runtime::Handle;
use ward_chain::tx::VerifiedTx;
use ward_executor::{Block, BlockTimings, ExecError, Pipeline, Pushed};
use ward_state::{RedbStore, StateRead as _};

use crate::{
    cluster::{BlockLog, ClusterError},
    mempool::Refusal,
    producer::{committed, fault},
    replica::{Divergence, Entry, Replica, Roots},
    settings::ChainSettingsExt as _,
    state::Shared,
    sync::lock,
};

/// How many log entries a replica reads at once.
const LOG_READ: i64 = 32;

/// Why a turn stopped early.
#[derive(Debug, thiserror::Error)]
pub(super) enum TurnError {
    #[error(transparent)]
    Cluster(#[from] ClusterError),
    #[error(transparent)]
    Exec(#[from] ExecError),
    #[error(transparent)]
    State(#[from] ward_state::StateError),
}

/// After a block agreeing with the log was committed here: acknowledges
/// its transactions and publishes its roots.
pub(super) fn landed(
    shared: &Shared,
    replica: &Replica,
    log: &mut BlockLog,
    handle: &Handle,
    block: &Arc<Block>,
    txs: &[VerifiedTx],
    took: (Duration, BlockTimings),
) {
    let header = block.record.header;
    replica
        .log_head
        .fetch_max(header.height, std::sync::atomic::Ordering::Relaxed);
    committed(shared, block, txs, took);
    let roots = Roots::of(&header);
    let id = &replica.config.replica_id;
    let published = handle.block_on(log.publish_roots(
        header.height,
        id,
        roots.to_json().to_string().as_bytes(),
    ));
    match published {
        Ok(all) => compare_peers(replica, header.height, &roots, &all),
        // Publishing is for others to compare: the block stands.
        Err(error) => tracing::warn!(%error, height = header.height, "roots not published"),
    }
    claim_progress(replica, handle, header.height);
}

/// A joiner's claim on the log after it applied block `height`: moved
/// along every few blocks, and released once the replica is within the
/// retention margin of the log's head (from then on its applied height
/// holds the log, as any live replica's does).
fn claim_progress(replica: &Replica, handle: &Handle, height: u64) {
    let mut held = lock(&replica.claim);
    let Some(claim) = held.as_mut() else {
        return;
    };
    let head = replica.log_head.load(std::sync::atomic::Ordering::Relaxed);
    if height.saturating_add(replica.config.log_retention_blocks) >= head {
        if let Some(claim) = held.take() {
            claim.release(handle);
        }
    } else if height.is_multiple_of(crate::replica::COMPACT_EVERY) {
        claim.advance(handle, height);
    }
}

/// Notes the replicas that published other roots for `height`.
fn compare_peers(replica: &Replica, height: u64, ours: &Roots, all: &[(String, Vec<u8>)]) {
    let mine = ours.to_json();
    for (id, theirs) in all {
        if *id == replica.config.replica_id {
            continue;
        }
        let same = serde_json::from_slice::<serde_json::Value>(theirs).is_ok_and(|t| t == mine);
        if !same {
            tracing::error!(
                peer = %id,
                height,
                ours = %mine,
                theirs = %String::from_utf8_lossy(theirs),
                "a replica published other roots"
            );
            lock(&replica.peers_disagree)
                .entry(id.clone())
                .or_insert(height);
        }
    }
}

/// Stops on a divergence: reports it, publishes what this replica got,
/// and halts the process if asked to.
pub(super) fn diverge(
    shared: &Shared,
    replica: &Replica,
    log: &mut BlockLog,
    handle: &Handle,
    divergence: Divergence,
) {
    tracing::error!(
        height = divergence.height,
        log_state_root = %divergence.log.state_root,
        log_receipts_root = %divergence.log.receipts_root,
        "{divergence}: this replica stopped applying and refuses writes"
    );
    let published = divergence.to_json()["ours"].to_string();
    let id = &replica.config.replica_id;
    if let Err(error) =
        handle.block_on(log.publish_roots(divergence.height, id, published.as_bytes()))
    {
        tracing::warn!(%error, "the divergence was not published");
    }
    let message = divergence.to_string();
    *lock(&replica.divergence) = Some(divergence);
    shared.pool().clear(&Refusal::Unavailable(format!(
        "this replica diverged: {message}"
    )));
    if replica.config.halt_on_divergence {
        // `send_replace` keeps the value even when no one waits yet:
        // `send` drops it without receivers, and a waiter that comes later
        // would never learn of the halt.
        shared.halt(message);
    }
}

/// An entry handed to the pipeline, until its commit is reported.
struct InFlight {
    height: u64,
    /// The roots the log gives it.
    log: Roots,
    txs: Vec<VerifiedTx>,
    started: std::time::Instant,
}

/// Applies every entry past this replica's height; `true` when it
/// stopped (a divergence or a fault). Nothing is in flight when it
/// returns: the last block pushed has landed, whatever ended the replay.
pub(super) fn catch_up(
    shared: &Shared,
    replica: &Replica,
    log: &mut BlockLog,
    handle: &Handle,
    pipeline: &mut Pipeline<RedbStore>,
) -> Result<bool, TurnError> {
    let mut flight = None;
    let replayed = replay(shared, replica, log, handle, pipeline, &mut flight);
    let outcome = pipeline.flush();
    match land(shared, replica, log, handle, pipeline, outcome, flight)? {
        true => Ok(true),
        false => replayed,
    }
}

fn replay(
    shared: &Shared,
    replica: &Replica,
    log: &mut BlockLog,
    handle: &Handle,
    pipeline: &mut Pipeline<RedbStore>,
    flight: &mut Option<InFlight>,
) -> Result<bool, TurnError> {
    let next = |flight: &Option<InFlight>| -> Result<u64, TurnError> {
        Ok(match flight {
            Some(block) => block.height + 1,
            None => shared.store().height()? + 1,
        })
    };
    loop {
        let entries = handle.block_on(log.read(next(flight)?, LOG_READ))?;
        let Some(&(last, _)) = entries.last() else {
            return Ok(false);
        };
        replica
            .log_head
            .fetch_max(last, std::sync::atomic::Ordering::Relaxed);
        for (at, bytes) in entries {
            let started = ward_vm::clock::now();
            let (entry, txs) = match prepare(shared, at, next(flight)?, &bytes) {
                Ok(prepared) => prepared,
                Err(stop) => {
                    // The block before lands first: it may be where the
                    // replica diverged.
                    let outcome = pipeline.flush();
                    if !land(
                        shared,
                        replica,
                        log,
                        handle,
                        pipeline,
                        outcome,
                        flight.take(),
                    )? {
                        stop.apply(shared, replica, log, handle);
                    }
                    return Ok(true);
                }
            };
            let Pushed {
                committed,
                executed,
            } = pipeline.push_expecting(&txs, &entry.header);
            if land(
                shared,
                replica,
                log,
                handle,
                pipeline,
                committed,
                flight.take(),
            )? {
                return Ok(true);
            }
            let log_roots = Roots::of(&entry.header);
            match executed {
                Ok(height) => {
                    *flight = Some(InFlight {
                        height,
                        log: log_roots,
                        txs,
                        started,
                    });
                }
                Err(error @ (ExecError::Refused { .. } | ExecError::InvalidTx(_))) => {
                    let ours = Err(error.to_string());
                    let stop = Stop::Diverge(Box::new(Divergence {
                        height: at,
                        log: log_roots,
                        ours,
                    }));
                    stop.apply(shared, replica, log, handle);
                    return Ok(true);
                }
                Err(error) => {
                    fault(shared, &error);
                    return Err(error.into());
                }
            }
        }
    }
}

/// Why a replay stops at an entry.
enum Stop {
    /// This replica cannot go on (the log skips past it, an entry does
    /// not decode): a fault.
    Fault(String),
    /// It got another block than the log's, or none.
    Diverge(Box<Divergence>),
}

impl Stop {
    fn apply(self, shared: &Shared, replica: &Replica, log: &mut BlockLog, handle: &Handle) {
        match self {
            Stop::Fault(error) => {
                tracing::error!(%error, "replica stopped");
                shared.set_fault(error);
            }
            Stop::Diverge(divergence) => diverge(shared, replica, log, handle, *divergence),
        }
    }
}

/// Entry `at` (`bytes`) decoded, with its transactions verified under the
/// chain's rules, or why the replay stops there; `expected` is the height
/// the replay is at.
fn prepare(
    shared: &Shared,
    at: u64,
    expected: u64,
    bytes: &[u8],
) -> Result<(Entry, Vec<VerifiedTx>), Stop> {
    if at != expected {
        return Err(Stop::Fault(format!(
            "the log skips from block {} to {at}: it was compacted past this replica; restart it with --state-sync (it then restores a newer snapshot)",
            expected - 1
        )));
    }
    let entry = Entry::from_bytes(bytes)
        .map_err(|error| Stop::Fault(format!("log entry {at} does not decode: {error}")))?;
    let rules = shared.settings().rules();
    let verified: Result<Vec<VerifiedTx>, _> = entry
        .txs
        .iter()
        .map(|tx| VerifiedTx::from_bytes(tx, &rules))
        .collect();
    match verified {
        Ok(txs) => Ok((entry, txs)),
        Err(error) => Err(Stop::Diverge(Box::new(Divergence {
            height: at,
            log: Roots::of(&entry.header),
            ours: Err(format!("a transaction does not verify: {error}")),
        }))),
    }
}

/// Reports the block that was in flight, given its commit's `outcome`:
/// committed, its transactions are acknowledged and its roots published;
/// sealed to another header than the log's, the replica diverges there.
/// `true` when it stopped.
fn land(
    shared: &Shared,
    replica: &Replica,
    log: &mut BlockLog,
    handle: &Handle,
    pipeline: &Pipeline<RedbStore>,
    outcome: Option<Result<Block, ExecError>>,
    flight: Option<InFlight>,
) -> Result<bool, TurnError> {
    let (Some(outcome), Some(flight)) = (outcome, flight) else {
        return Ok(false);
    };
    match outcome {
        Ok(block) => {
            let took = (flight.started.elapsed(), pipeline.last_timings());
            landed(
                shared,
                replica,
                log,
                handle,
                &Arc::new(block),
                &flight.txs,
                took,
            );
            Ok(false)
        }
        Err(ExecError::Disagrees { ours }) => {
            let at = Divergence {
                height: flight.height,
                log: flight.log,
                ours: Ok(Roots::of(&ours)),
            };
            diverge(shared, replica, log, handle, at);
            Ok(true)
        }
        Err(error) => {
            fault(shared, &error);
            Err(error.into())
        }
    }
}
