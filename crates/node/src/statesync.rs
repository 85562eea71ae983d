//! State sync (`ward serve --etcd … --state-sync`): a replica that starts
//! with an empty data directory restores the newest snapshot other
//! replicas advertise, checked against the log's header for its height,
//! then replays the log from the next block as any replica does.
//!
//! Replicas that take snapshots advertise them under `snapshots/ID`
//! (their URL and what they hold). The joiner first *claims* the log
//! (`claims/ID`, bound to a lease it keeps alive): the proposer never
//! compacts the log past a claimed height, so the entries a joiner needs
//! after its snapshot stay while it downloads, restores and catches up;
//! a joiner that dies loses its lease and its claim with it. It picks the
//! highest height whose log entry is still there, claims that height,
//! reads the manifest from an advertiser and checks that its block is
//! the log's, then fetches each chunk from the advertisers in turn. A
//! chunk that does not verify is fetched from the next one, and the
//! replica that served it is reported (a warning, and
//! `reports/BAD/JOINER` in etcd). The restore keeps the block the log
//! names and the chain settings only if they are the cluster's.
//!
//! Nothing advertised yet is waited for (and said, every
//! [`WAIT_NOTICE`]), unless the log still holds its first block: then
//! the joiner replays it all, as a replica without `--state-sync` would.
//! A replica restarted with `--state-sync` whose store the log has been
//! compacted past (it was killed while catching up, and its claim
//! lapsed) discards that store and syncs again: its state is the
//! cluster's to give back.

use std::{collections::BTreeMap, path::Path, time::Duration};

use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;
use ward_snapshot::{Manifest, SettingsCheck, Trust, Verified};
use ward_state::{DATABASE_FILE, RedbStore, StateRead};

use crate::{
    cluster::{BlockLog, Claim, ClusterError},
    replica::ClusterConfig,
    replica::Entry,
    snapshots::Listed,
    startup::NodeError,
};

/// What a replica advertises under `snapshots/ID`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Advert {
    /// Where it serves them (`http://HOST:PORT`).
    pub(crate) url: String,
    /// What it holds, oldest first.
    pub(crate) snapshots: Vec<Listed>,
}

/// How often a joiner waiting for a snapshot says so.
const WAIT_NOTICE: Duration = Duration::from_secs(10);

/// How long a joiner keeps asking etcd while it cannot be reached (a
/// member down, an election) before it gives up.
const ETCD_PATIENCE: Duration = Duration::from_secs(60);

/// `ask`'s answer, asked again while etcd cannot be reached (the
/// endpoint of a member that is down), for at most [`ETCD_PATIENCE`].
fn patiently<T>(
    what: &str,
    mut ask: impl FnMut() -> Result<T, ClusterError>,
) -> Result<T, ClusterError> {
    let deadline = ward_vm::clock::now() + ETCD_PATIENCE;
    loop {
        match ask() {
            Err(error) if error.is_unavailable() && !ward_vm::clock::passed(deadline) => {
                tracing::info!(%error, "state sync: {what}: etcd unavailable, asking again");
                std::thread::sleep(Duration::from_millis(200));
            }
            answer => return answer,
        }
    }
}

/// Restores the newest advertised snapshot into `data_dir` when it holds
/// no state yet (or a state the log has been compacted past); does
/// nothing when it holds a chain the log continues. Waits for a snapshot
/// to be advertised as long as it takes, saying so. The claim on the log
/// to release once caught up, if it took one.
///
/// # Errors
///
/// [`NodeError::Config`] when etcd cannot be reached, or a snapshot
/// that checked could not be restored.
pub(crate) fn join(
    handle: &Handle,
    cluster: &ClusterConfig,
    data_dir: &Path,
) -> Result<Option<Claim>, NodeError> {
    let mut log = patiently("connecting to etcd", || {
        handle.block_on(BlockLog::connect(&cluster.endpoints, &cluster.prefix))
    })
    .map_err(|e| NodeError::Config(format!("state sync: {e}")))?;
    if !needs_sync(handle, &mut log, data_dir)? {
        return Ok(None);
    }
    let id = &cluster.replica_id;
    // Held at 0 (all of it) until a snapshot is chosen.
    let mut claim = patiently("claiming the log", || Claim::take(handle, &log, id, 0))
        .map_err(|e| NodeError::Config(format!("state sync: cannot claim the log: {e}")))?;
    let scratch = data_dir.join(".state-sync");
    let _ = std::fs::remove_dir_all(&scratch);
    let started = ward_vm::clock::now();
    let mut noticed = started;
    loop {
        match attempt(handle, &mut log, cluster, &scratch, &mut claim) {
            Ok(Some(verified)) => {
                let restored = restore(handle, &mut log, data_dir, &scratch, &verified);
                let _ = std::fs::remove_dir_all(&scratch);
                restored?;
                tracing::info!(
                    height = verified.height(),
                    state_root = %verified.state_root(),
                    leaves = verified.manifest.leaves,
                    bytes = verified.manifest.bytes,
                    ms = started.elapsed().as_millis() as u64,
                    "state sync: restored"
                );
                return Ok(Some(claim));
            }
            Ok(None) => match handle.block_on(log.first()) {
                // An unanswered read is asked again (below), never taken
                // for an empty log: the log may have been compacted long
                // ago.
                Err(why) => {
                    tracing::warn!(%why, "state sync: reading the log's first block failed, trying again");
                }
                Ok(first) if first <= 1 => {
                    tracing::info!(
                        "state sync: no snapshot advertised, and the log holds every block: replaying it from the first"
                    );
                    return Ok(Some(claim));
                }
                Ok(first) => {
                    if ward_vm::clock::passed(noticed) {
                        tracing::info!(
                            log_starts_at = first,
                            waited_s = started.elapsed().as_secs(),
                            "state sync: waiting for a replica to advertise a snapshot (replicas take one every --snapshot-interval blocks)"
                        );
                        noticed = ward_vm::clock::now() + WAIT_NOTICE;
                    }
                }
            },
            Err(why) => tracing::warn!(%why, "state sync: attempt failed, trying again"),
        }
        let _ = std::fs::remove_dir_all(&scratch);
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Whether `data_dir` needs a snapshot: it holds no chain, or one whose
/// next block the log no longer holds (its store is then removed).
fn needs_sync(handle: &Handle, log: &mut BlockLog, data_dir: &Path) -> Result<bool, NodeError> {
    let database = data_dir.join(DATABASE_FILE);
    if !database.exists() {
        return Ok(true);
    }
    let height = RedbStore::open(data_dir)?.height()?;
    if height == 0 {
        return Ok(true);
    }
    let first = patiently("reading the log's first block", || {
        handle.block_on(log.first())
    })
    .map_err(|e| NodeError::Config(format!("state sync: {e}")))?;
    if first == 0 || first <= height + 1 {
        tracing::info!(
            height,
            "state sync: the data directory holds a chain the log continues"
        );
        return Ok(false);
    }
    tracing::warn!(
        height,
        log_starts_at = first,
        "state sync: the log was compacted past this replica's last block: its state is discarded and a snapshot restored"
    );
    std::fs::remove_file(&database)?;
    Ok(true)
}

/// Restores the snapshot downloaded into `scratch` into a new store in
/// `data_dir`, trusting the log's block and the cluster's settings.
fn restore(
    handle: &Handle,
    log: &mut BlockLog,
    data_dir: &Path,
    scratch: &Path,
    verified: &Verified,
) -> Result<(), NodeError> {
    let failed = |e: String| NodeError::Config(format!("state sync: {e}"));
    let cluster_settings = patiently("reading the chain's settings", || {
        handle.block_on(log.recorded_settings())
    })
    .map_err(|e| failed(e.to_string()))?
    .ok_or_else(|| failed("the cluster has recorded no chain settings".into()))?;
    let check = |settings: &BTreeMap<String, Vec<u8>>| {
        let only_chain =
            settings.len() == 1 && settings.get(crate::settings::RECORD) == Some(&cluster_settings);
        only_chain
            .then_some(())
            .ok_or_else(|| "its settings are not the cluster's".to_owned())
    };
    std::fs::create_dir_all(data_dir)?;
    let store = RedbStore::create(data_dir)?;
    let trust = Trust {
        block_hash: verified.block_hash(),
        settings: Some(&check as &SettingsCheck<'_>),
    };
    let restored = ward_snapshot::restore(scratch, &store, &trust);
    drop(store);
    if let Err(e) = restored {
        let _ = std::fs::remove_file(data_dir.join(DATABASE_FILE));
        return Err(failed(e.to_string()));
    }
    Ok(())
}

/// One try: the newest advertised snapshot whose block the log still
/// holds (claimed before it is read, so that it stays), downloaded into
/// `scratch` and checked chunk by chunk.
fn attempt(
    handle: &Handle,
    log: &mut BlockLog,
    cluster: &ClusterConfig,
    scratch: &Path,
    claim: &mut Claim,
) -> Result<Option<Verified>, String> {
    let adverts = handle
        .block_on(log.advertised_snapshots())
        .map_err(|e| e.to_string())?;
    let mut offers: Vec<(u64, String, String)> = Vec::new();
    for (id, bytes) in adverts {
        let Ok(advert) = serde_json::from_slice::<Advert>(&bytes) else {
            tracing::warn!(replica = %id, "state sync: an advert that does not decode");
            continue;
        };
        for listed in advert.snapshots {
            offers.push((listed.height, id.clone(), advert.url.clone()));
        }
    }
    offers.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let Some(&(height, _, _)) = offers.first() else {
        return Ok(None);
    };
    let sources: Vec<(String, String)> = offers
        .iter()
        .filter(|(h, _, _)| *h == height)
        .map(|(_, id, url)| (id.clone(), url.clone()))
        .collect();
    claim.advance(handle, height);
    let entry = handle
        .block_on(log.read(height, 1))
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|(h, _)| *h == height)
        .ok_or_else(|| format!("the log no longer holds block {height}"))?;
    let header = Entry::from_bytes(&entry.1)
        .map_err(|e| format!("log entry {height}: {}", e.0))?
        .header;
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    // The manifest: the first source whose manifest is the log's block.
    let mut verified = None;
    for (id, url) in &sources {
        let fetched =
            fetch(&agent, &format!("{url}/snapshots/{height}/manifest")).and_then(|bytes| {
                let manifest = Manifest::parse(&bytes).map_err(|e| e.to_string())?;
                let checked = manifest.verify().map_err(|e| e.to_string())?;
                if checked.block.header != header {
                    return Err(format!("its block {height} is not the log's"));
                }
                Ok((bytes, checked))
            });
        match fetched {
            Ok(done) => {
                verified = Some(done);
                break;
            }
            Err(why) => report(handle, log, cluster, id, height, None, &why),
        }
    }
    // Its block is the log's: the hash the restore trusts.
    let (manifest_bytes, verified) =
        verified.ok_or_else(|| format!("no source's manifest of block {height} checks"))?;
    std::fs::create_dir_all(scratch).map_err(|e| e.to_string())?;
    // Chunks from the sources in turn; a bad one is fetched elsewhere.
    for (index, info) in verified.manifest.chunks.iter().enumerate() {
        let mut got = None;
        for turn in 0..sources.len() {
            let (id, url) = &sources[(index + turn) % sources.len()];
            let bytes = fetch(&agent, &format!("{url}/snapshots/{height}/chunks/{index}"));
            match bytes.and_then(|b| {
                verified
                    .chunk(index, &b)
                    .map(|_| b)
                    .map_err(|e| e.to_string())
            }) {
                Ok(bytes) => {
                    got = Some(bytes);
                    break;
                }
                Err(why) => report(handle, log, cluster, id, height, Some(index), &why),
            }
        }
        let bytes = got.ok_or_else(|| format!("no source served chunk {index} that checks"))?;
        std::fs::write(scratch.join(&info.file), bytes).map_err(|e| e.to_string())?;
    }
    std::fs::write(scratch.join(ward_snapshot::MANIFEST), manifest_bytes)
        .map_err(|e| e.to_string())?;
    Ok(Some(verified))
}

fn fetch(agent: &ureq::Agent, url: &str) -> Result<Vec<u8>, String> {
    let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
    if response.status() != 200 {
        return Err(format!("{url}: HTTP {}", response.status()));
    }
    response
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .map_err(|e| e.to_string())
}

/// Logs and files a report against replica `bad`.
fn report(
    handle: &Handle,
    log: &mut BlockLog,
    cluster: &ClusterConfig,
    bad: &str,
    height: u64,
    chunk: Option<usize>,
    why: &str,
) {
    tracing::warn!(replica = %bad, height, ?chunk, %why, "state sync: a source served what does not check");
    let what = serde_json::json!({ "height": height, "chunk": chunk, "error": why }).to_string();
    if let Err(e) = handle.block_on(log.report(bad, &cluster.replica_id, what.as_bytes())) {
        tracing::warn!(error = %e, "state sync: the report could not be filed");
    }
}
