//! A replica's loop (feature `etcd`): one thread, the only writer of its
//! store, in place of the single node's producer.
//!
//! Each turn it applies what the log holds past its height (`replay`:
//! each entry through a block pipeline, committed only when its header
//! equals the proposer's), keeps or seeks the proposer's lease, and, as the
//! proposer, builds the next block from the shared mempool, appends it
//! fenced, and commits it. A divergence stops the loop for good; a fault
//! of etcd is retried; a fault of the store stops it (`/health` says
//! which).

use std::{sync::Arc, time::Duration};

use tokio::runtime::Handle;
use ward_chain::tx::VerifiedTx;
use ward_executor::{ExecError, Pipeline, PreparedBlock};
use ward_primitives::Hash32;
use ward_state::{RedbStore, StateRead};

use crate::settings::ChainSettingsExt as _;
use crate::{
    cluster::{Append, BlockLog, ClusterError, Head, Leadership, REMOVED_WITH_APPEND},
    mempool::{Mempool, PoolRule, Refusal},
    producer::{fault, unix_millis},
    replica::{Divergence, Entry, MAX_ENTRY_BYTES, ROOTS_KEPT, Replica, Roots},
    state::Shared,
};

mod replay;

use replay::{TurnError, diverge, landed};

/// How many shared-mempool transactions a proposer reads per block.
const POOL_READ: i64 = 4_096;

/// How long the loop sleeps with nothing seen to do (a change under the
/// prefix wakes it sooner).
const IDLE: Duration = Duration::from_millis(250);

/// How long it waits after etcd failed it.
const BACKOFF: Duration = Duration::from_millis(200);

/// The proposer's lease as this replica holds it.
struct Lead {
    leadership: Leadership,
    renewed: std::time::Instant,
}

/// Connects to etcd and checks (or records) the chain's settings there.
pub(crate) fn connect(
    handle: &Handle,
    config: &crate::replica::ClusterConfig,
    settings: &crate::settings::ChainSettings,
) -> Result<BlockLog, crate::startup::NodeError> {
    let ours = crate::settings::to_record(settings)?;
    // etcd may still be electing its leader: try for a while.
    let deadline = ward_vm::clock::now() + Duration::from_secs(30);
    let (log, recorded) = loop {
        let attempt = handle.block_on(async {
            let mut log = BlockLog::connect(&config.endpoints, &config.prefix).await?;
            let recorded = log.settings(&ours).await?;
            Ok::<_, ClusterError>((log, recorded))
        });
        match attempt {
            Ok(done) => break done,
            Err(error) if ward_vm::clock::passed(deadline) => {
                return Err(crate::startup::NodeError::Config(format!(
                    "etcd at {}: {error}",
                    config.endpoints.join(",")
                )));
            }
            Err(error) => {
                tracing::warn!(%error, "etcd is not answering yet");
                std::thread::sleep(BACKOFF);
            }
        }
    };
    if recorded != ours {
        let cluster = format!("the cluster under {:?}", config.prefix);
        return Err(
            match serde_json::from_slice::<crate::settings::ChainSettings>(&recorded) {
                // Named setting by setting where the record reads.
                Ok(theirs) => match theirs.check_same(&cluster, settings, "this node") {
                    Err(differ) => differ,
                    Ok(()) => crate::startup::NodeError::Settings(format!(
                        "{cluster} records its chain settings in another form"
                    )),
                },
                Err(_) => crate::startup::NodeError::Settings(format!(
                    "{cluster} runs other chain settings: {} (this node: {})",
                    String::from_utf8_lossy(&recorded),
                    String::from_utf8_lossy(&ours)
                )),
            },
        );
    }
    Ok(log)
}

/// Wakes the loop on every change under the prefix, reconnecting the
/// watch when etcd drops it, until the node stops.
pub(crate) async fn watch(shared: Arc<Shared>) {
    let Some(replica) = shared.replica() else {
        return;
    };
    let mut log = replica.log.clone();
    loop {
        if let Ok(mut stream) = log.watch().await {
            while let Ok(Some(_)) = stream.message().await {
                poke(&shared, replica);
            }
        }
        if shared.pool().is_stopping() {
            return;
        }
        poke(&shared, replica);
        tokio::time::sleep(BACKOFF).await;
    }
}

fn poke(shared: &Shared, replica: &Replica) {
    shared.pool().notify_after(|| {
        replica
            .changes
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    });
}

/// Sleeps up to `limit` unless something changed since `seen`; whether
/// the node is stopping.
fn wait(shared: &Shared, replica: &Replica, seen: u64, limit: Duration) -> bool {
    shared.pool().wait(limit, || {
        replica.changes.load(std::sync::atomic::Ordering::SeqCst) != seen
    })
}

/// The loop.
pub(crate) fn run(shared: &Arc<Shared>, handle: &Handle) {
    let Some(replica) = shared.replica() else {
        return;
    };
    let mut log = replica.log.clone();
    // Entries are replayed through it; the proposer's own blocks are
    // committed beside it, with nothing in flight.
    let mut pipeline = match Pipeline::new(shared.executor().clone()) {
        Ok(pipeline) => pipeline,
        Err(error) => {
            tracing::error!(%error, "replica stopped");
            shared.set_fault(error.to_string());
            return;
        }
    };
    let mut lead: Option<Lead> = None;
    let mut based = false;
    let interval = Duration::from_millis(shared.config().block_time_ms);
    let mut next_tick = ward_vm::clock::now() + interval;
    loop {
        let seen = replica.changes.load(std::sync::atomic::Ordering::SeqCst);
        if shared.pool().is_stopping() {
            break;
        }
        if replica.diverged().is_some() || shared.is_faulted() {
            // Stopped for good: keep answering reads until shut down.
            if let Some(held) = lead.take() {
                step_down(replica, &mut log, handle, &held);
            }
            if wait(shared, replica, seen, Duration::from_secs(1)) {
                break;
            }
            continue;
        }
        if !based {
            match check_base(shared, replica, &mut log, handle) {
                Ok(()) => based = true,
                Err(error) => {
                    tracing::warn!(%error, "replica: retrying");
                    std::thread::sleep(BACKOFF);
                    continue;
                }
            }
            continue;
        }
        let turn = turn(
            shared,
            replica,
            (&mut log, &mut pipeline),
            handle,
            &mut lead,
            interval,
            &mut next_tick,
        );
        match turn {
            Ok(true) => continue,
            Ok(false) => {}
            Err(error) => {
                // The lease is kept: if it expired meanwhile, the next
                // renewal says so, and a fenced append never writes.
                tracing::warn!(%error, "replica: retrying");
                std::thread::sleep(BACKOFF);
                continue;
            }
        }
        let limit = match &lead {
            Some(_) if !interval.is_zero() => ward_vm::clock::left(next_tick).min(IDLE),
            _ => IDLE,
        };
        if wait(shared, replica, seen, limit) {
            break;
        }
    }
    if let Some(held) = lead.take() {
        step_down(replica, &mut log, handle, &held);
    }
    shared.pool().clear(&Refusal::shutting_down());
    tracing::info!("replica stopped");
}

fn step_down(replica: &Replica, log: &mut BlockLog, handle: &Handle, held: &Lead) {
    replica
        .leader
        .store(false, std::sync::atomic::Ordering::Relaxed);
    if let Err(error) = handle.block_on(log.resign(&held.leadership)) {
        tracing::warn!(%error, "could not resign the lease: it expires on its own");
    }
    tracing::info!("no longer the proposer");
}

/// Checks, once at start, that this replica's store is a prefix of the
/// log: no block past the log's head, and its last block the log's.
fn check_base(
    shared: &Shared,
    replica: &Replica,
    log: &mut BlockLog,
    handle: &Handle,
) -> Result<(), TurnError> {
    let height = shared.store().height()?;
    if height == 0 {
        return Ok(());
    }
    let entry = handle.block_on(log.read(height, 1))?;
    let Some((at, bytes)) = entry.into_iter().next().filter(|(at, _)| *at == height) else {
        let error = format!(
            "the data directory holds block {height}, which the log under {:?} does not",
            replica.config.prefix
        );
        tracing::error!(%error, "replica stopped");
        shared.set_fault(error);
        return Ok(());
    };
    let ours = shared.store().block(height)?.map(|b| b.header);
    let log_header = Entry::from_bytes(&bytes).ok().map(|e| e.header);
    if let (Some(ours), Some(theirs)) = (ours, log_header)
        && ours != theirs
    {
        diverge(
            shared,
            replica,
            log,
            handle,
            Divergence {
                height: at,
                log: Roots::of(&theirs),
                ours: Ok(Roots::of(&ours)),
            },
        );
    }
    Ok(())
}

/// One turn: apply, lead, propose. `true` when there may be more to do
/// at once.
fn turn(
    shared: &Arc<Shared>,
    replica: &Replica,
    (log, pipeline): (&mut BlockLog, &mut Pipeline<RedbStore>),
    handle: &Handle,
    lead: &mut Option<Lead>,
    interval: Duration,
    next_tick: &mut std::time::Instant,
) -> Result<bool, TurnError> {
    if replay::catch_up(shared, replica, log, handle, pipeline)? {
        return Ok(false);
    }
    if !replica.config.propose {
        return Ok(false);
    }
    let ttl = replica.config.lease_ttl;
    match lead {
        Some(held) if held.renewed.elapsed() >= ttl / 3 => {
            if handle.block_on(log.keep_alive(&held.leadership))? {
                held.renewed = ward_vm::clock::now();
            } else {
                tracing::warn!("the proposer's lease expired");
                replica
                    .leader
                    .store(false, std::sync::atomic::Ordering::Relaxed);
                *lead = None;
                return Ok(false);
            }
        }
        Some(_) => {}
        None => {
            let seconds = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
            let id = &replica.config.replica_id;
            match handle.block_on(log.campaign(id, seconds))? {
                Some(leadership) => {
                    tracing::info!(replica = %id, "proposing blocks");
                    replica
                        .leader
                        .store(true, std::sync::atomic::Ordering::Relaxed);
                    *lead = Some(Lead {
                        leadership,
                        renewed: ward_vm::clock::now(),
                    });
                }
                None => return Ok(false),
            }
        }
    }
    let Some(held) = lead.as_ref() else {
        return Ok(false);
    };
    let due = !interval.is_zero() && ward_vm::clock::passed(*next_tick);
    match propose(shared, replica, log, handle, held, due)? {
        Proposed::Nothing => Ok(false),
        Proposed::Block => {
            if due {
                *next_tick += interval;
                let now = ward_vm::clock::now();
                if *next_tick < now {
                    *next_tick = now + interval;
                }
            }
            Ok(true)
        }
        Proposed::Fenced => {
            tracing::warn!("append fenced: another proposer took over");
            if let Some(held) = lead.take() {
                step_down(replica, log, handle, &held);
            }
            Ok(true)
        }
    }
}

/// Commits the block this replica proposed, once it is in the log.
fn commit(
    shared: &Shared,
    replica: &Replica,
    log: &mut BlockLog,
    handle: &Handle,
    prepared: PreparedBlock,
    txs: &[VerifiedTx],
    started: std::time::Instant,
) -> Result<(), TurnError> {
    let block = shared
        .executor()
        .commit_prepared(prepared)
        .inspect_err(|error| {
            fault(shared, error);
        })?;
    let timings = shared.executor().last_block_timings();
    let took = (ward_vm::clock::now() - started, timings);
    landed(shared, replica, log, handle, &Arc::new(block), txs, took);
    Ok(())
}

/// What a proposer's turn did.
enum Proposed {
    Nothing,
    Block,
    Fenced,
}

/// Builds the next block from the shared mempool, appends it and commits
/// it; a block of none only when `empty_too`.
fn propose(
    shared: &Shared,
    replica: &Replica,
    log: &mut BlockLog,
    handle: &Handle,
    held: &Lead,
    empty_too: bool,
) -> Result<Proposed, TurnError> {
    let (head, pool) = handle.block_on(log.head_and_pool(POOL_READ))?;
    if head.height != shared.store().height()? {
        // Behind the log: apply first.
        return Ok(Proposed::Nothing);
    }
    let (mut txs, mut drop) = select(shared, pool)?;
    let proposed = loop {
        if txs.is_empty() && !empty_too {
            break None;
        }
        let time = next_time(shared)?;
        match shared.executor().prepare_signed_block(&txs, time) {
            Ok(prepared) => break Some(prepared),
            Err(ExecError::Refused { index, refusal }) => {
                let tx = txs.remove(index.min(txs.len().saturating_sub(1)));
                tracing::warn!(tx = %tx.hash(), %refusal, "transaction refused at block time");
                drop.push(tx.hash());
            }
            Err(error @ ExecError::State(_)) => {
                fault(shared, &error);
                return Err(error.into());
            }
            Err(error) if txs.len() > 1 => {
                tracing::warn!(%error, "block aborted: trying its first transaction alone");
                txs.truncate(1);
            }
            Err(error) => {
                fault(shared, &error);
                if let Some(tx) = txs.pop() {
                    tracing::error!(tx = %tx.hash(), %error, "transaction aborted its block: dropped");
                    drop.push(tx.hash());
                }
                if shared.is_faulted() {
                    return Err(error.into());
                }
            }
        }
    };
    if !drop.is_empty()
        && let Err(error) = handle.block_on(log.pool_remove(&drop))
    {
        tracing::warn!(%error, "stale transactions stay in the shared mempool");
    }
    let Some(prepared) = proposed else {
        return Ok(Proposed::Nothing);
    };
    append(shared, replica, log, handle, held, head, prepared, &txs)
}

/// Appends a prepared block and, once it is in the log, commits it here.
#[allow(clippy::too_many_arguments, reason = "one call site, all needed")]
fn append(
    shared: &Shared,
    replica: &Replica,
    log: &mut BlockLog,
    handle: &Handle,
    held: &Lead,
    head: Head,
    prepared: PreparedBlock,
    txs: &[VerifiedTx],
) -> Result<Proposed, TurnError> {
    let started = ward_vm::clock::now();
    let entry = Entry {
        header: prepared.block.record.header,
        txs: txs.iter().map(|tx| tx.bytes().to_vec()).collect(),
    };
    // The block's transactions leave the shared mempool in the append's
    // own etcd transaction (as many as it takes).
    let included: Vec<Hash32> = txs.iter().map(VerifiedTx::hash).collect();
    let bytes = entry.to_bytes();
    match handle.block_on(log.append(&held.leadership, head, &bytes, &included))? {
        Append::Fenced => Ok(Proposed::Fenced),
        Append::Appended(_) => {
            commit(shared, replica, log, handle, prepared, txs, started)?;
            let rest = included.get(REMOVED_WITH_APPEND..).unwrap_or_default();
            if !rest.is_empty()
                && let Err(error) = handle.block_on(log.pool_remove(rest))
            {
                // The next proposer drops them: their nonces are used.
                tracing::warn!(%error, "committed transactions stay in the shared mempool");
            }
            let height = head.height + 1;
            if height.is_multiple_of(ROOTS_KEPT)
                && let Err(error) = handle.block_on(log.prune_roots(height - ROOTS_KEPT))
            {
                tracing::warn!(%error, "old roots not pruned");
            }
            if height.is_multiple_of(crate::replica::COMPACT_EVERY) {
                compact(log, handle, height, replica.config.log_retention_blocks);
            }
            Ok(Proposed::Block)
        }
    }
}

/// Deletes the log below its retention point
/// ([`crate::replica::retention_point`]), with etcd's history up to there;
/// tried three times (a request to an etcd member that is down fails
/// once, and the next goes to another).
fn compact(log: &mut BlockLog, handle: &Handle, head: u64, margin: u64) {
    let mut done = Ok(None);
    for _ in 0..3 {
        done = handle.block_on(compact_once(log, head, margin));
        if done.is_ok() {
            break;
        }
        std::thread::sleep(BACKOFF);
    }
    match done {
        Ok(Some((point, deleted))) if deleted > 0 => {
            tracing::info!(below = point, deleted, "log compacted");
        }
        Ok(_) => {}
        Err(error) => tracing::warn!(%error, "the log was not compacted"),
    }
}

async fn compact_once(
    log: &mut BlockLog,
    head: u64,
    margin: u64,
) -> Result<Option<(u64, i64)>, ClusterError> {
    let applied: Vec<u64> = log.applied().await?.into_iter().map(|(_, h)| h).collect();
    let claims: Vec<u64> = log.claims().await?.into_iter().map(|(_, h)| h).collect();
    let snapshots: Vec<Vec<u64>> = log
        .advertised_snapshots()
        .await?
        .into_iter()
        .filter_map(|(_, bytes)| serde_json::from_slice::<crate::statesync::Advert>(&bytes).ok())
        .map(|advert| advert.snapshots.iter().map(|s| s.height).collect())
        .collect();
    match crate::replica::retention_point(head, margin, &applied, &snapshots, &claims) {
        Some(point) => log.compact_log(point).await.map(|n| Some((point, n))),
        None => Ok(None),
    }
}

/// The next block's transactions from the shared mempool, in the single
/// node's order (arrival, each sender's by nonce from its next one),
/// within the block gas and entry size limits; and those never to be in
/// a block (their nonce is used, or they do not verify).
#[allow(clippy::type_complexity, reason = "two lists, named at the call")]
fn select(
    shared: &Shared,
    pool: Vec<(Hash32, Vec<u8>)>,
) -> Result<(Vec<VerifiedTx>, Vec<Hash32>), TurnError> {
    let mut drop = Vec::new();
    let mut candidates = Mempool::new(usize::MAX, usize::MAX);
    for (hash, bytes) in pool {
        let tx = match crate::admission::verify_shared(&bytes, hash, &shared.settings().rules()) {
            Ok(tx) => tx,
            Err(refusal) => {
                tracing::warn!(tx = %hash, %refusal, "dropped from the shared mempool");
                drop.push(hash);
                continue;
            }
        };
        let next = shared.store().nonce(&tx.sender())?;
        if let Err(PoolRule::NonceUsed { .. }) = candidates.insert(tx, next, None) {
            drop.push(hash);
        }
    }
    let mut txs = candidates.take(shared.settings().max_block_gas, |sender| {
        shared.store().nonce(sender)
    })?;
    let mut size = Entry::encoded_len([]);
    let fits = txs
        .iter()
        .take_while(|tx| {
            size += 4 + tx.bytes().len();
            size <= MAX_ENTRY_BYTES
        })
        .count();
    txs.truncate(fits);
    Ok((txs, drop))
}

/// The next block's time: the clock, and always after the last block's.
fn next_time(shared: &Shared) -> Result<u64, TurnError> {
    let height = shared.store().height()?;
    let last = shared.store().block(height)?.map_or(0, |b| b.header.time);
    Ok(unix_millis().max(last.saturating_add(1)))
}
