//! Three `ward serve --etcd` replicas (one on wasmi) on a real
//! three-member etcd cluster, under load through random replicas while
//! etcd's leader and then the proposing replica are SIGKILLed (the
//! replica restarted): every replica ends at the same height with the
//! same blocks and receipts, equal to a fresh replay of the log; every
//! acknowledged transfer has exactly one receipt; no divergence.

use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use ed25519_dalek::SigningKey;
use serde_json::{Value, json};
use ward_chain::tx::{ChainRules, Deploy, Payload, SignedTx, TxBody, VerifiedTx, account_address};
use ward_devkeys as devkeys;
use ward_primitives::{Address, Hash32};
use ward_testkit::etcd::Etcd;

use super::{node_dir, rpc_with};

pub(super) const CHAIN: &str = "ward-cluster-test";
const PREFIX: &str = "/ward-load/";
const SENDERS: usize = 16;
const PER_SENDER: u64 = 128;
/// What the genesis gives the token's owner and each sender.
const FUNDS: u128 = 1_000_000_000_000_000;
/// The chain's minimum gas price, which every transaction pays.
pub(super) const PRICE: u128 = 3;

/// The keys the genesis funds: the token's owner, then the senders.
pub(super) fn funded() -> Vec<SigningKey> {
    std::iter::once(devkeys::key(1_000))
        .chain((0..SENDERS).map(|i| devkeys::key(2_000 + i as u32)))
        .collect()
}

/// The cluster's genesis: every funded key holds [`FUNDS`], gas costs
/// [`PRICE`], fees are burned.
pub(super) fn genesis() -> ward_node::Genesis {
    let mut genesis = ward_node::Genesis::template(CHAIN, Address::default(), 0);
    genesis.balances = funded()
        .iter()
        .map(|key| {
            let address = account_address(&key.verifying_key().to_bytes());
            (address.to_string(), ward_node::genesis::Amount(FUNDS))
        })
        .collect();
    genesis.min_gas_price = ward_node::genesis::Amount(PRICE);
    genesis
}

/// A replica process, SIGKILLed when dropped.
pub(super) struct Replica {
    pub(super) child: Child,
    pub(super) url: String,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_replica(dir: &Path, id: &str, backend: &str, etcd: &str) -> Replica {
    start_replica_with(dir, id, backend, etcd, PREFIX, &[])
}

/// A replica of the cluster under `prefix`, with `extra` flags, logging
/// to `DIR/ID.log`, once it listens.
pub(super) fn start_replica_with(
    dir: &Path,
    id: &str,
    backend: &str,
    etcd: &str,
    prefix: &str,
    extra: &[&str],
) -> Replica {
    let mut child = spawn_replica_with(dir, id, backend, etcd, prefix, extra);
    match super::try_listening_url(&mut child) {
        Ok(url) => Replica { child, url },
        Err(why) => {
            let _ = child.kill();
            let _ = child.wait();
            let log = std::fs::read_to_string(dir.join(format!("{id}.log"))).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(60)..].join("\n");
            panic!("replica {id} does not listen: {why}; the end of its log:\n{tail}")
        }
    }
}

/// [`start_replica_with`]'s process, just started (a state sync may keep
/// it from listening for a while).
pub(super) fn spawn_replica_with(
    dir: &Path,
    id: &str,
    backend: &str,
    etcd: &str,
    prefix: &str,
    extra: &[&str],
) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(format!("{id}.log")))
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_ward"))
        .args(["serve", "--listen", "127.0.0.1:0", "--chain-id", CHAIN])
        .args(["--backend", backend, "--etcd", etcd, "--replica-id", id])
        .args(["--etcd-prefix", prefix])
        .args(extra)
        .arg("--genesis")
        .arg(dir.join("genesis.json"))
        .arg("--data-dir")
        .arg(dir.join(id))
        .stdout(Stdio::piped())
        .stderr(log)
        .spawn()
        .unwrap()
}

pub(super) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(40)))
        .http_status_as_error(false)
        .build()
        .into()
}

pub(super) fn sign(key: &SigningKey, nonce: u64, payload: Payload) -> SignedTx {
    let gas = if matches!(payload, Payload::Deploy(_)) {
        100_000_000
    } else {
        2_000_000
    };
    sign_with(key, nonce, gas, 0, payload)
}

/// A transaction of the cluster's chain at its price, with `gas` and
/// `value`.
pub(super) fn sign_with(
    key: &SigningKey,
    nonce: u64,
    gas: u64,
    value: u128,
    payload: Payload,
) -> SignedTx {
    TxBody {
        gas_price: PRICE,
        value,
        ..TxBody::new(CHAIN, &key.verifying_key(), nonce, gas, payload)
    }
    .sign(key)
}

fn transfer(token: Address, to: Address, amount: u128) -> Payload {
    Payload::Call {
        to: token,
        input: ward_sdk::codec::call_input("transfer", &(to, amount)),
    }
}

pub(super) fn raw(tx: &SignedTx) -> String {
    format!("0x{}", hex::encode(tx.to_bytes()))
}

/// The replicas' current addresses, by index.
type Urls = Arc<Mutex<Vec<String>>>;

fn url(urls: &Urls, index: usize) -> String {
    let urls = urls.lock().unwrap();
    urls[index % urls.len()].clone()
}

/// Sends `tx` through replicas picked by `pick` until one takes it:
/// whether a replica acknowledged it (false: one said it already had it,
/// after a retry).
fn deliver(urls: &Urls, tx: &SignedTx, wait: bool, mut pick: impl FnMut() -> usize) -> bool {
    let agent = agent();
    let deadline = ward_vm::clock::now() + Duration::from_secs(120);
    let mut retried = false;
    loop {
        let target = url(urls, pick());
        let params = json!({ "tx": raw(tx), "wait": wait });
        match rpc_with(&agent, &target, "sendRawTransaction", params) {
            Ok(result) => {
                if wait {
                    assert_eq!(result["status"], "ok", "{result}");
                }
                return true;
            }
            Err(error) => {
                let kind = error["data"]["kind"].as_str().unwrap_or_default();
                // Taken before a failure hid the answer: pending or in a
                // block already.
                if retried && (kind == "known" || kind == "nonce") {
                    return false;
                }
                // `nonce_gap`: a replica that lags (catching up after a
                // kill, on a loaded machine) sees this sender's earlier
                // transactions neither committed nor pending yet; another
                // replica, or this one a moment later, takes it.
                assert!(
                    matches!(
                        kind,
                        "transport" | "unavailable" | "timeout" | "known" | "nonce_gap"
                    ),
                    "refused: {error}"
                );
                assert!(
                    !ward_vm::clock::passed(deadline),
                    "no replica took {} in 120 s: {error}",
                    tx.hash()
                );
                retried = true;
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

pub(super) fn height(url: &str) -> Option<u64> {
    rpc_with(&agent(), url, "getLatestBlock", json!({}))
        .ok()
        .and_then(|b| b["height"].as_u64())
}

/// A replica's `/health` body.
pub(super) fn health(url: &str) -> Option<Value> {
    let mut response = agent().get(format!("{url}/health")).call().ok()?;
    serde_json::from_str(&response.body_mut().read_to_string().ok()?).ok()
}

fn max_height(urls: &Urls) -> u64 {
    let urls = urls.lock().unwrap().clone();
    urls.iter().filter_map(|u| height(u)).max().unwrap_or(0)
}

pub(super) fn until(what: &str, limit: Duration, mut check: impl FnMut() -> bool) {
    let deadline = ward_vm::clock::now() + limit;
    while !check() {
        assert!(!ward_vm::clock::passed(deadline), "timed out: {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

#[test]
fn a_cluster_loses_nothing_when_etcd_and_replicas_are_killed() {
    if !ward_testkit::etcd_present() {
        return;
    }
    let contracts = ward_testkit::contracts::build().unwrap();
    let code = std::fs::read(contracts.join("token.wasm")).unwrap();
    let dir: PathBuf = node_dir("cluster");
    let mut etcd = Etcd::start(&dir.join("etcd"));
    let endpoints = etcd.clients.join(",");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("genesis.json"),
        serde_json::to_vec(&genesis()).unwrap(),
    )
    .unwrap();
    let backends = ["wasmtime", "wasmtime", "wasmi"];
    let mut replicas: Vec<Replica> = (0..3)
        .map(|i| start_replica(&dir, &format!("r{i}"), backends[i], &endpoints))
        .collect();
    let urls: Urls = Arc::new(Mutex::new(replicas.iter().map(|r| r.url.clone()).collect()));

    // The token and its holders, through r0.
    let owner = devkeys::key(1_000);
    let deploy = sign(
        &owner,
        0,
        Payload::Deploy(Deploy::new(
            code.clone(),
            ward_sdk::codec::encode(&1_000_000_000_000u128),
        )),
    );
    assert!(deliver(&urls, &deploy, true, || 0));
    let from = account_address(&owner.verifying_key().to_bytes());
    let token =
        ward_executor::contract_address(&from, &Hash32(ward_vm::CodeHash::of(&code).0), &[]);
    let senders: Vec<SigningKey> = (0..SENDERS)
        .map(|i| devkeys::key(2_000 + i as u32))
        .collect();
    for (i, key) in senders.iter().enumerate() {
        let to = account_address(&key.verifying_key().to_bytes());
        let tx = sign(&owner, 1 + i as u64, transfer(token, to, 1_000_000));
        assert!(deliver(&urls, &tx, i + 1 == SENDERS, || i));
    }

    // The load: each sender's transfers in nonce order through random
    // replicas, every 16th waiting for its block (which bounds the nonces
    // in flight).
    let sent = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(BTreeSet::new()));
    let threads: Vec<_> = senders
        .iter()
        .enumerate()
        .map(|(i, key)| {
            let (key, urls, sent, acked) = (key.clone(), urls.clone(), sent.clone(), acked.clone());
            std::thread::spawn(move || {
                let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ (i as u64 + 1);
                let mut pick = move || {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    (seed % 3) as usize
                };
                for nonce in 0..PER_SENDER {
                    let mut to = [0u8; 32];
                    to[..8].copy_from_slice(&(i as u64).to_le_bytes());
                    to[8..16].copy_from_slice(&nonce.to_le_bytes());
                    let tx = sign(&key, nonce, transfer(token, Address(to), 1));
                    if deliver(&urls, &tx, nonce % 16 == 15, &mut pick) {
                        acked.lock().unwrap().insert(tx.hash());
                    }
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // Mid-load: SIGKILL etcd's leader, and time the next block.
    let total = SENDERS * PER_SENDER as usize;
    until("a third of the load", Duration::from_secs(120), || {
        sent.load(Ordering::Relaxed) >= total / 3
    });
    let leader = etcd.leader().expect("etcd has a leader");
    let before = max_height(&urls);
    eprintln!(
        "SIGKILL etcd member {leader} (the leader) at height {before}, {} transfers sent",
        sent.load(Ordering::Relaxed)
    );
    let killed = ward_vm::clock::now();
    etcd.kill(leader);
    until(
        "a block after etcd's leader died",
        Duration::from_secs(180),
        || max_height(&urls) > before,
    );
    let failover = killed.elapsed();
    eprintln!(
        "failover: {} ms from killing etcd's leader to the next block",
        failover.as_millis()
    );

    // Then SIGKILL the proposing replica and restart it on its directory.
    until("half of the load", Duration::from_secs(120), || {
        sent.load(Ordering::Relaxed) >= total / 2
    });
    let proposer = (0..3)
        .find(|&i| health(&url(&urls, i)).is_some_and(|h| h["replica"]["role"] == "leader"))
        .unwrap_or(0);
    let id = format!("r{proposer}");
    eprintln!(
        "SIGKILL replica {id} (the proposer) after {} of {total} transfers were sent",
        sent.load(Ordering::Relaxed)
    );
    drop(replicas.remove(proposer));
    std::thread::sleep(Duration::from_millis(500));
    let restarted = start_replica(&dir, &id, backends[proposer], &etcd.running().join(","));
    urls.lock().unwrap()[proposer] = restarted.url.clone();
    replicas.insert(proposer, restarted);

    for thread in threads {
        thread.join().expect("a sender failed");
    }

    // Every sender's last transfer is applied everywhere.
    let all = urls.lock().unwrap().clone();
    let agent = agent();
    until(
        "every replica applies every transfer",
        Duration::from_secs(120),
        || {
            all.iter().all(|u| {
                senders.iter().all(|key| {
                    let address = account_address(&key.verifying_key().to_bytes());
                    rpc_with(
                        &agent,
                        u,
                        "getNonce",
                        json!({ "address": address.to_string() }),
                    )
                    .is_ok_and(|n| n["nonce"] == PER_SENDER)
                })
            })
        },
    );
    let top = height(&all[0]).unwrap();
    until(
        "the same height everywhere",
        Duration::from_secs(180),
        || all.iter().all(|u| height(u) == Some(top)),
    );

    // The same blocks and receipts everywhere.
    let mut blocks: BTreeMap<u64, Value> = BTreeMap::new();
    for h in 1..=top {
        for u in &all {
            let mut block = rpc_with(&agent, u, "getBlock", json!({ "height": h })).unwrap();
            block.as_object_mut().unwrap().remove("applied_height");
            let first = blocks.entry(h).or_insert_with(|| block.clone());
            assert_eq!(&block, first, "block {h} at {u}");
        }
    }
    let acked = acked.lock().unwrap().clone();
    for hash in acked.iter().step_by(7) {
        let receipts: Vec<Value> = all
            .iter()
            .map(|u| {
                let mut r = rpc_with(
                    &agent,
                    u,
                    "getTransaction",
                    json!({ "tx": hash.to_string() }),
                )
                .unwrap();
                r.as_object_mut().unwrap().remove("applied_height");
                r
            })
            .collect();
        assert_eq!(receipts[0]["status"], "ok", "{}", receipts[0]);
        assert!(receipts.iter().all(|r| *r == receipts[0]), "{hash}");
    }
    for u in &all {
        let health = health(u).unwrap();
        assert_eq!(health["status"], "ok", "{health}");
        assert_eq!(health["replica"]["peers_disagree"], json!({}), "{health}");
    }

    // A fresh replay of the log equals every replica, and holds each
    // transfer exactly once.
    let replayed = replay(&etcd.running(), &dir.join("replay"), top);
    for (h, header) in &replayed.headers {
        assert_eq!(
            blocks[h]["hash"],
            json!(header.hash().to_string()),
            "block {h}"
        );
        assert_eq!(
            blocks[h]["state_root"],
            json!(header.state_root.to_string()),
            "block {h}"
        );
    }
    // Every replica holds the balances the replay computed, and the
    // balances and the burned fees add up to the genesis supply.
    for (key, balance) in funded().iter().zip(&replayed.balances) {
        let address = account_address(&key.verifying_key().to_bytes());
        for u in &all {
            let answer = rpc_with(
                &agent,
                u,
                "getBalance",
                json!({ "address": address.to_string() }),
            )
            .unwrap();
            assert_eq!(
                answer["balance"],
                json!(balance.to_string()),
                "{address} at {u}"
            );
        }
    }
    let supply = FUNDS * funded().len() as u128;
    assert!(replayed.fees > 0);
    assert_eq!(
        replayed.balances.iter().sum::<u128>() + replayed.fees,
        supply,
        "balances and fees add up to the genesis supply"
    );
    let mut seen = BTreeSet::new();
    for tx in &replayed.txs {
        assert!(seen.insert(*tx), "transaction {tx} is in two blocks");
    }
    assert_eq!(seen.len(), 1 + SENDERS + total);
    assert!(
        acked.is_subset(&seen),
        "an acknowledged transfer is missing"
    );
    eprintln!(
        "cluster: {} blocks, {} transfers ({} acknowledged at once), failover {} ms",
        top,
        total,
        acked.len(),
        failover.as_millis()
    );

    drop(replicas);
    drop(etcd);
    let _ = std::fs::remove_dir_all(&dir);
}

/// What a fresh replay of the log gave.
struct Replayed {
    headers: BTreeMap<u64, ward_chain::block::Header>,
    txs: Vec<Hash32>,
    /// Every fee paid (burned).
    fees: u128,
    /// The funded keys' balances after the last block.
    balances: Vec<u128>,
}

/// Replays the log from etcd on a fresh store, in process, checking each
/// header against the proposer's.
fn replay(endpoints: &[String], dir: &Path, top: u64) -> Replayed {
    use ward_node::{cluster::BlockLog, replica::Entry};
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let entries = runtime.block_on(async {
        let mut log = BlockLog::connect(endpoints, PREFIX).await.unwrap();
        let mut entries = Vec::new();
        while (entries.len() as u64) < top {
            let more = log.read(entries.len() as u64 + 1, 64).await.unwrap();
            assert!(!more.is_empty(), "the log ends before {top}");
            entries.extend(more);
        }
        entries
    });
    let store = Arc::new(ward_state::RedbStore::create(dir).unwrap());
    let config = ward_vm::Config::default();
    let backend = ward_backends::new(ward_vm::BackendKind::Wasmtime, &config).unwrap();
    let genesis = genesis();
    let executor = ward_executor::Executor::new(store.clone(), backend, &config)
        .with_fees(genesis.fees().unwrap());
    executor.genesis(&genesis.accounts().unwrap()).unwrap();
    let mut out = Replayed {
        headers: BTreeMap::new(),
        txs: Vec::new(),
        fees: 0,
        balances: Vec::new(),
    };
    for (h, bytes) in entries {
        let entry = Entry::from_bytes(&bytes).unwrap();
        let txs: Vec<_> = entry
            .txs
            .iter()
            .map(|t| VerifiedTx::from_bytes(t, &ChainRules::new(CHAIN)).unwrap())
            .collect();
        out.txs.extend(txs.iter().map(|t| t.hash()));
        let block = executor
            .execute_signed_block(&txs, entry.header.time)
            .unwrap();
        assert_eq!(block.record.header, entry.header, "block {h} replays");
        for receipt in &block.receipts {
            assert_eq!(receipt.fee, u128::from(receipt.gas_used) * PRICE);
            out.fees += receipt.fee;
        }
        out.headers.insert(h, block.record.header);
    }
    use ward_state::StateRead;
    out.balances = funded()
        .iter()
        .map(|key| {
            let address = account_address(&key.verifying_key().to_bytes());
            store.balance(&address).unwrap()
        })
        .collect();
    out
}
