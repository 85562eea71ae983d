//! A node whose disk fails under load, in the middle of a pipelined
//! commit: the fault stops production and is reported (`/health`), no
//! sender is told its transaction landed when its block did not, and the
//! node restarted on what the fault left keeps every acknowledged
//! transaction once, in whole, chained blocks that replay to their roots.
//!
//! The store lives on a disk in memory ([`ward_state::faults`]) whose
//! next writes fail on demand: a disk write, resize or sync happens only
//! in a commit, so the injected fault always lands in one, whatever the
//! RPC threads read meanwhile.

use std::{
    collections::BTreeMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};
use ward_devkeys as devkeys;
use ward_node::{Node, NodeConfig};
use ward_state::faults::{FaultPlan, MemoryBackend};

use crate::{PATIENCE, agent, eventually, health, ok, temp_dir};

/// Rounds of load, fault and restart.
const ROUNDS: u64 = 3;

/// Senders, each from its own dev account, waiting for each receipt.
const SENDERS: u32 = 8;

/// The dev account that sends without waiting, so that transactions keep
/// arriving while a block commits: the next block then executes beside
/// the commit (pipelined) whatever the machine's speed. With the waiting
/// senders alone, all of them could wait on the same commit.
const FLOODER: u32 = SENDERS + 1;

fn start(dir: &std::path::Path, disk: &MemoryBackend) -> Node {
    let mut config = NodeConfig::new(dir.to_path_buf());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.dev = true;
    config.disk = Some(disk.clone());
    Node::start(config).unwrap()
}

/// Counter `name` of the node's Prometheus page.
fn counter(node: &Node, name: &str) -> u64 {
    let line = format!("{name}_total ");
    crate::metrics(node)
        .lines()
        .find_map(|l| l.strip_prefix(line.as_str()))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// What the senders were told.
#[derive(Default)]
struct Told {
    /// Transactions acknowledged with a receipt.
    acknowledged: Vec<String>,
    /// The errors, by `data.kind`.
    errors: BTreeMap<String, u64>,
}

/// Sends calls to a missing contract (each is a receipt, `no_contract`,
/// and moves the sender's nonce) from dev account `key`, waiting for
/// each unless it is the [`FLOODER`], until `stop` or until the node
/// stops answering. Only receipts waited for are acknowledged.
fn send(url: String, key: u32, stop: Arc<AtomicBool>, told: Arc<Mutex<Told>>) {
    let wait = key != FLOODER;
    let from = devkeys::address(key).to_string();
    let to = format!("0x{}", "ee".repeat(32));
    let agent = agent();
    while !stop.load(Ordering::Relaxed) {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "sendTransaction",
            "params": { "from": from, "call": { "to": to }, "wait": wait } });
        let Ok(mut response) = agent
            .post(format!("{url}/rpc"))
            .header("content-type", "application/json")
            .send(body.to_string())
        else {
            return;
        };
        let text = response.body_mut().read_to_string().unwrap_or_default();
        let Ok(answer) = serde_json::from_str::<Value>(&text) else {
            return;
        };
        let mut told = told.lock().unwrap();
        if let Some(tx) = answer["result"]["tx"].as_str() {
            if wait {
                told.acknowledged.push(tx.to_owned());
            }
        } else {
            let kind = answer["error"]["data"]["kind"].as_str().unwrap_or("none");
            *told.errors.entry(kind.to_owned()).or_default() += 1;
            drop(told);
            // A fault stops production: what follows only times out.
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// Every block from 1 to the top is chained to the one before it, and
/// every transaction in them is in exactly one: transaction to height.
fn chain(node: &Node) -> BTreeMap<String, u64> {
    let height = ok(node, "getLatestBlock", json!({}))["height"]
        .as_u64()
        .unwrap();
    let mut seen = BTreeMap::new();
    let mut parent = Value::String(format!("0x{}", "00".repeat(32)));
    for h in 1..=height {
        let block = ok(node, "getBlock", json!({ "height": h }));
        assert_eq!(block["parent"], parent, "block {h}");
        parent = block["hash"].clone();
        for tx in block["txs"].as_array().unwrap() {
            let receipt = ok(node, "getTransaction", json!({ "tx": tx }));
            assert_eq!(receipt["height"], h, "a receipt of block {h}");
            assert!(
                seen.insert(tx.as_str().unwrap().to_owned(), h).is_none(),
                "{tx} twice"
            );
        }
    }
    seen
}

#[test]
fn a_disk_fault_in_a_pipelined_commit_loses_no_acknowledged_transaction() {
    let dir = temp_dir("disk-fault");
    let plan = Arc::new(FaultPlan::default());
    let disk = MemoryBackend::new(plan.clone());
    let told: Arc<Mutex<Told>> = Arc::default();
    let mut rng = ward_testkit::Rng::new(0x9e37_79b9_7f4a_7c15);
    let (mut pipelined, mut dropped) = (0, 0);
    for round in 0..ROUNDS {
        let before = told.lock().unwrap().acknowledged.len();
        let node = start(&dir, &disk);
        let stop = Arc::new(AtomicBool::new(false));
        let senders: Vec<_> = (0..SENDERS)
            .chain([FLOODER])
            .map(|key| {
                let (url, stop, told) = (node.url(), stop.clone(), told.clone());
                std::thread::spawn(move || send(url, key, stop, told))
            })
            .collect();
        eventually("the load acknowledged", PATIENCE, || {
            told.lock().unwrap().acknowledged.len() > before + 8
        });
        // One of the next commits' disk writes fails: at a random write
        // of one of them, while blocks keep coming.
        plan.fail_write_at(plan.writes() + 1 + rng.next() % 24);
        eventually("the injected fault", PATIENCE, || plan.tripped());
        eventually("production stopped on the fault", PATIENCE, || {
            let (status, body) = health(&node);
            (status, body["status"].as_str()) == (503, Some("faulted"))
        });
        pipelined += counter(&node, "ward_blocks_pipelined");
        dropped += counter(&node, "ward_blocks_dropped");
        // Stopped, production stays stopped: nothing more is committed,
        // and whatever a sender is told from now on (an answer can still
        // be on its way from a block committed before the fault) is in a
        // block at or below the height the fault left.
        let height = ok(&node, "getLatestBlock", json!({}))["height"].clone();
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(ok(&node, "getLatestBlock", json!({}))["height"], height);
        let acknowledged = told.lock().unwrap().acknowledged[before..].to_vec();
        for tx in &acknowledged {
            let receipt = ok(&node, "getTransaction", json!({ "tx": tx }));
            assert!(
                receipt["height"].as_u64() <= height.as_u64(),
                "round {round}: {tx} acknowledged in {receipt} above the fault's {height}"
            );
        }
        stop.store(true, Ordering::Relaxed);
        node.shutdown().unwrap();
        for sender in senders {
            sender.join().unwrap();
        }
        plan.disarm();

        // Restarted on what the fault left: every acknowledged
        // transaction once, in whole chained blocks; and it produces
        // again.
        let node = start(&dir, &disk);
        let (status, body) = health(&node);
        assert_eq!(
            (status, body["status"].as_str()),
            (200, Some("ok")),
            "round {round}: {body}"
        );
        let seen = chain(&node);
        let told_now = told.lock().unwrap();
        for tx in &told_now.acknowledged {
            assert!(
                seen.contains_key(tx),
                "round {round}: acknowledged {tx} is lost"
            );
        }
        drop(told_now);
        let receipt = ok(
            &node,
            "sendTransaction",
            json!({ "from": devkeys::address(SENDERS).to_string(), "call": { "to": format!("0x{}", "ee".repeat(32)) }, "wait": true }),
        );
        told.lock()
            .unwrap()
            .acknowledged
            .push(receipt["tx"].as_str().unwrap().to_owned());
        node.shutdown().unwrap();
    }
    // Every block, whichever round built it, replays to itself.
    let node = start(&dir, &disk);
    let height = ok(&node, "getLatestBlock", json!({}))["height"]
        .as_u64()
        .unwrap();
    for h in 1..=height {
        let replay = ok(&node, "replayBlock", json!({ "height": h }));
        assert_eq!(replay["equal"], true, "block {h}: {replay}");
    }
    let told = told.lock().unwrap();
    eprintln!(
        "{height} blocks, {} acknowledged, errors {:?}; {pipelined} blocks committed while the next one executed, {dropped} dropped with the failed commit they ran over",
        told.acknowledged.len(),
        told.errors
    );
    assert!(pipelined > 0, "the load never kept the pipeline busy");
    node.shutdown().unwrap();
}

#[test]
fn a_store_on_a_disk_in_memory_serves_a_single_node_only() {
    let mut config = NodeConfig::new(temp_dir("disk-sync"));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.disk = Some(MemoryBackend::new(Arc::default()));
    config.state_sync = true;
    match Node::start(config) {
        Ok(_) => panic!("a store in memory was allowed to state-sync"),
        Err(error) => assert!(error.to_string().contains("single node"), "{error}"),
    }
}
