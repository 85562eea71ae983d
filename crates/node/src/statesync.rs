//! State sync (`ward serve --etcd … --state-sync`): a replica that starts
//! with an empty data directory restores the newest snapshot other
//! replicas advertise, checked against the log's header for its height,
//! then replays the log from the next block as any replica does.
//!
//! Replicas that take snapshots advertise them under `snapshots/ID`
//! (their URL and what they hold). The joiner picks the highest height
//! whose log entry is still there, reads the manifest from an advertiser
//! and checks that its block is the log's, then fetches each chunk from
//! the advertisers in turn. A chunk that does not verify is fetched from
//! the next one, and the replica that served it is reported (a warning,
//! and `reports/BAD/JOINER` in etcd).

use std::{path::Path, time::Duration};

use serde::{Deserialize, Serialize};
use tokio::runtime::Handle;
use ward_snapshot::{Manifest, Verified};
use ward_state::{DATABASE_FILE, RedbStore, StateRead};

use crate::{ClusterConfig, NodeError, cluster::BlockLog, replica::Entry, snapshots::Listed};

/// What a replica advertises under `snapshots/ID`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Advert {
    /// Where it serves them (`http://HOST:PORT`).
    pub(crate) url: String,
    /// What it holds, oldest first.
    pub(crate) snapshots: Vec<Listed>,
}

/// How long a joiner looks for an advertised snapshot before it gives up.
const FIND_FOR: Duration = Duration::from_secs(60);

/// Restores the newest advertised snapshot into `data_dir` when it holds
/// no state yet; does nothing when it does.
///
/// # Errors
///
/// [`NodeError::Config`] when no snapshot could be had and checked.
pub(crate) fn join(
    handle: &Handle,
    cluster: &ClusterConfig,
    data_dir: &Path,
) -> Result<(), NodeError> {
    if data_dir.join(DATABASE_FILE).exists() && RedbStore::open(data_dir)?.height()? > 0 {
        tracing::info!("state sync: the data directory holds a chain already");
        return Ok(());
    }
    let mut log = handle
        .block_on(BlockLog::connect(&cluster.endpoints, &cluster.prefix))
        .map_err(|e| NodeError::Config(format!("state sync: {e}")))?;
    let deadline = ward_vm::clock::now() + FIND_FOR;
    let scratch = data_dir.join(".state-sync");
    let started = ward_vm::clock::now();
    loop {
        match attempt(handle, &mut log, cluster, &scratch) {
            Ok(Some(verified)) => {
                std::fs::create_dir_all(data_dir)?;
                let store = RedbStore::create(data_dir)?;
                let restored = ward_snapshot::restore(&scratch, &store);
                drop(store);
                let _ = std::fs::remove_dir_all(&scratch);
                return match restored {
                    Ok(_) => {
                        tracing::info!(
                            height = verified.height(),
                            state_root = %verified.state_root(),
                            leaves = verified.manifest.leaves,
                            bytes = verified.manifest.bytes,
                            ms = started.elapsed().as_millis() as u64,
                            "state sync: restored"
                        );
                        Ok(())
                    }
                    Err(e) => {
                        let _ = std::fs::remove_file(data_dir.join(DATABASE_FILE));
                        Err(NodeError::Config(format!("state sync: {e}")))
                    }
                };
            }
            Ok(None) => tracing::info!("state sync: no snapshot advertised yet"),
            Err(why) => tracing::warn!(%why, "state sync: attempt failed"),
        }
        let _ = std::fs::remove_dir_all(&scratch);
        if ward_vm::clock::passed(deadline) {
            return Err(NodeError::Config(format!(
                "state sync: no snapshot could be restored in {} s",
                FIND_FOR.as_secs()
            )));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// One try: the newest advertised snapshot whose block the log still
/// holds, downloaded into `scratch` and checked chunk by chunk.
fn attempt(
    handle: &Handle,
    log: &mut BlockLog,
    cluster: &ClusterConfig,
    scratch: &Path,
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
