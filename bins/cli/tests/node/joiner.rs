//! Replicas joining a cluster of `ward serve --etcd` processes on a real
//! etcd: safe defaults (a replica takes snapshots unless told not to, so
//! the log is compacted within a small quota; a replica with
//! `--state-sync` starts when nothing is advertised yet), and a joiner
//! under load with the cluster demo's retention, SIGKILLed twice while it
//! syncs (once downloading, once catching up, after which the log is
//! compacted past it), that never faults and ends with the others' root.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use serde_json::{Value, json};
use ward_chain::tx::{Deploy, Payload, SignedTx};
use ward_primitives::Address;
use ward_testkit::etcd::Etcd;

use super::{
    cluster::{
        Replica, agent, funded, genesis, health, height, raw, sign_with, spawn_replica_with,
        start_replica_with, until,
    },
    node_dir, rpc_with,
};

/// A contract that writes `count` keys from `start` (input: two `u32`s),
/// each a 4-byte key and an 8-byte value: state for a snapshot to carry.
const FILL: &str = r#"(module
  (import "ward" "input_read" (func $input (param i32 i32 i32)))
  (import "ward" "storage_write" (func $write (param i32 i32 i32 i32)))
  (memory (export "memory") 1)
  (func (export "main") (local $i i32) (local $end i32)
    (call $input (i32.const 0) (i32.const 0) (i32.const 8))
    (local.set $i (i32.load (i32.const 0)))
    (local.set $end (i32.add (local.get $i) (i32.load (i32.const 4))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (i32.store (i32.const 16) (local.get $i))
        (i64.store (i32.const 24) (i64.extend_i32_u (local.get $i)))
        (call $write (i32.const 16) (i32.const 4) (i32.const 24) (i32.const 8))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))))"#;

/// Sends `tx` to `url` and waits for its receipt, which must say
/// `status`. A loaded machine may take longer than a request's `wait`:
/// then the receipt is polled for (at most 300 s).
fn commit(url: &str, tx: &SignedTx, status: &str) -> Value {
    let sent = rpc_with(
        &agent(),
        url,
        "sendRawTransaction",
        json!({ "tx": raw(tx), "wait": true }),
    );
    let receipt = match sent {
        Ok(receipt) => receipt,
        Err(error) => {
            let kind = error["data"]["kind"].as_str().unwrap_or_default();
            assert!(matches!(kind, "timeout" | "transport"), "{error}");
            let hash = json!({ "tx": tx.hash().to_string() });
            let mut receipt = Value::Null;
            until("the receipt", Duration::from_secs(300), || {
                receipt =
                    rpc_with(&agent(), url, "getTransaction", hash.clone()).unwrap_or_default();
                receipt["status"].is_string() && receipt["status"] != "pending"
            });
            receipt
        }
    };
    assert_eq!(receipt["status"], status, "{receipt}");
    receipt
}

/// The directory, etcd and genesis of a test cluster.
fn cluster(name: &str, etcd_flags: &[&str]) -> (std::path::PathBuf, Etcd) {
    let dir = node_dir(name);
    let etcd = Etcd::start_with(&dir.join("etcd"), etcd_flags);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("genesis.json"),
        serde_json::to_vec(&genesis()).unwrap(),
    )
    .unwrap();
    (dir, etcd)
}

fn log_first(etcd: &Etcd, prefix: &str) -> u64 {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let mut log = ward_node::cluster::BlockLog::connect(&etcd.running(), prefix)
                .await
                .unwrap();
            log.first().await.unwrap()
        })
}

fn snapshots(url: &str) -> Vec<u64> {
    let Ok(mut response) = agent().get(format!("{url}/snapshots")).call() else {
        return Vec::new();
    };
    let list: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap_or(Value::Null);
    list["snapshots"]
        .as_array()
        .map(|all| all.iter().filter_map(|s| s["height"].as_u64()).collect())
        .unwrap_or_default()
}

fn root_at(url: &str, h: u64) -> Value {
    let block = rpc_with(&agent(), url, "getBlock", json!({ "height": h })).unwrap();
    block["state_root"].clone()
}

/// Replicas started with no snapshot flags (only a short log retention,
/// for a 32 MiB etcd) take snapshots, so the log is compacted and 110
/// calls of 600 kB (twice the quota) go through without etcd's space
/// alarm (before, with no snapshots by default, the log was never
/// compacted and the cluster stopped on NOSPACE halfway);
/// a replica started with `--state-sync` before anything is advertised
/// starts, replays the log from its first block, and agrees.
#[test]
fn default_replicas_snapshot_and_a_joiner_with_nothing_advertised_replays() {
    if !ward_testkit::etcd_present() {
        return;
    }
    const PREFIX: &str = "/ward-defaults/";
    let (dir, etcd) = cluster("cluster-defaults", &["--quota-backend-bytes", "33554432"]);
    let endpoints = etcd.clients.join(",");
    let start = |id: &str, extra: &[&str]| {
        let mut flags = vec!["--log-retention-blocks", "4"];
        flags.extend(extra);
        start_replica_with(&dir, id, "wasmtime", &endpoints, PREFIX, &flags)
    };
    let mut replicas: Vec<Replica> = (0..3).map(|i| start(&format!("r{i}"), &[])).collect();
    // Nothing is advertised yet and the log holds block 1 at most.
    replicas.push(start("r3", &["--state-sync"]));
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();
    let sender = &funded()[0];
    let nobody = Address([0x77; 32]);
    for nonce in 0..110u64 {
        let big = Payload::Call {
            to: nobody,
            input: vec![nonce as u8; 600_000],
        };
        // No contract there: a `rejected` receipt, 600 kB in the log all
        // the same.
        commit(
            &urls[nonce as usize % 3],
            &sign_with(sender, nonce, 20_000_000, 0, big),
            "rejected",
        );
        assert!(etcd.alarms().is_empty(), "{:?}", etcd.alarms());
    }
    assert!(
        !snapshots(&urls[0]).is_empty(),
        "a default replica takes snapshots"
    );
    assert!(log_first(&etcd, PREFIX) > 1, "the log was compacted");
    let top = height(&urls[0]).unwrap();
    until(
        "every replica applies every block",
        Duration::from_secs(120),
        || urls.iter().all(|u| height(u).is_some_and(|h| h >= top)),
    );
    for url in &urls {
        assert_eq!(root_at(url, top), root_at(&urls[0], top), "{url}");
    }
    // The joiner replayed from the first block: it holds them all.
    assert_eq!(root_at(&urls[3], 1), root_at(&urls[0], 1));
    drop(replicas);
    drop(etcd);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A replica joining by state sync while the cluster runs with the demo's
/// retention (a snapshot every 4 blocks, 4 blocks of log below it) under
/// a steady load, over a state of 40,000 keys: SIGKILLed while it
/// downloads a snapshot, then again once it restored one and follows,
/// after which the log is compacted past it. Started again each time with
/// `--state-sync`, it never faults (the log is held for it while it syncs,
/// and a store the log moved past is replaced by a newer snapshot), and
/// ends at the others' height with their state root.
#[test]
fn a_joiner_killed_twice_mid_sync_under_load_ends_with_the_same_root() {
    if !ward_testkit::etcd_present() {
        return;
    }
    const PREFIX: &str = "/ward-joiner/";
    const KEYS: u32 = 40_000;
    const PER_TX: u32 = 2_000;
    let (dir, etcd) = cluster("cluster-joiner", &[]);
    let endpoints = etcd.clients.join(",");
    let flags = ["--snapshot-interval", "4", "--log-retention-blocks", "4"];
    let backends = ["wasmtime", "wasmtime", "wasmi"];
    let replicas: Vec<Replica> = (0..3)
        .map(|i| {
            start_replica_with(
                &dir,
                &format!("r{i}"),
                backends[i],
                &endpoints,
                PREFIX,
                &flags,
            )
        })
        .collect();
    let urls: Vec<String> = replicas.iter().map(|r| r.url.clone()).collect();

    // The state: the fill contract's keys.
    let owner = &funded()[0];
    let code = wat::parse_str(FILL).unwrap();
    let deploy = Payload::Deploy(Deploy::new(code, Vec::new()));
    let fill = commit(&urls[0], &sign_with(owner, 0, 100_000_000, 0, deploy), "ok")["address"]
        .as_str()
        .map(|a| Address::from_hex(a).unwrap())
        .unwrap();
    for (i, start) in (0..KEYS).step_by(PER_TX as usize).enumerate() {
        let mut input = start.to_le_bytes().to_vec();
        input.extend(PER_TX.to_le_bytes());
        let tx = sign_with(
            owner,
            1 + i as u64,
            100_000_000,
            0,
            Payload::Call { to: fill, input },
        );
        commit(&urls[i % 3], &tx, "ok");
    }

    // The load: transfers of the native asset, each waited for, through
    // the replicas in turn, until the end.
    let done = Arc::new(AtomicBool::new(false));
    let load = {
        let (done, urls) = (done.clone(), urls.clone());
        let key = funded()[1].clone();
        std::thread::spawn(move || {
            let mut nonce = 0u64;
            while !done.load(Ordering::Relaxed) {
                let to = Address([0x55; 32]);
                let payload = Payload::Call {
                    to,
                    input: Vec::new(),
                };
                let tx = sign_with(&key, nonce, 1_000_000, 1, payload);
                commit(&urls[nonce as usize % 3], &tx, "ok");
                nonce += 1;
            }
            nonce
        })
    };

    // The joiner: SIGKILLed while it syncs (its scratch directory is
    // there until the restore is done)...
    let joiner_dir = dir.join("r3");
    let joining = ["--state-sync", flags[0], flags[1], flags[2], flags[3]];
    let mut first = spawn_replica_with(&dir, "r3", "wasmi", &endpoints, PREFIX, &joining);
    let scratch = joiner_dir.join(".state-sync");
    until(
        "the joiner fetches a snapshot",
        Duration::from_secs(300),
        || scratch.exists(),
    );
    first.kill().unwrap();
    first.wait().unwrap();
    let restored_first = joiner_dir.join(ward_state::DATABASE_FILE).exists();

    // ... then once it restored a snapshot and follows, holding the log.
    let joiner = start_replica_with(&dir, "r3", "wasmi", &endpoints, PREFIX, &joining);
    drop(joiner);
    let stopped_at = {
        use ward_state::StateRead;
        ward_state::RedbStore::open_read_only(&joiner_dir)
            .unwrap()
            .height()
            .unwrap()
    };
    // The log moves past it: its claim lapsed with its process.
    until(
        "the log is compacted past the stopped joiner",
        Duration::from_secs(300),
        || log_first(&etcd, PREFIX) > stopped_at + 1,
    );

    // Started again: it replaces its store with a newer snapshot.
    let joiner = start_replica_with(&dir, "r3", "wasmi", &endpoints, PREFIX, &joining);
    done.store(true, Ordering::Relaxed);
    let sent = load.join().unwrap();
    let top = urls.iter().filter_map(|u| height(u)).max().unwrap();
    let all: Vec<&String> = urls.iter().chain([&joiner.url]).collect();
    until(
        "every replica applies every block",
        Duration::from_secs(300),
        || all.iter().all(|u| height(u).is_some_and(|h| h >= top)),
    );
    let reference = root_at(&urls[0], top);
    let paid = |url: &str| {
        let address = Address([0x55; 32]).to_string();
        rpc_with(&agent(), url, "getBalance", json!({ "address": address })).unwrap()["balance"]
            .clone()
    };
    for url in &all {
        assert_eq!(root_at(url, top), reference, "{url}");
        assert_eq!(paid(url), json!(sent.to_string()), "{url}");
        let health = health(url).unwrap_or(Value::Null);
        assert_eq!(health["status"], "ok", "{url}: {health}");
    }
    // Its first store was replaced: it holds nothing at the height it
    // stopped at.
    let gone = rpc_with(
        &agent(),
        &joiner.url,
        "getBlock",
        json!({ "height": stopped_at }),
    );
    assert!(gone.is_err(), "{gone:?}");
    eprintln!(
        "joiner: first kill {} its restore; stopped at block {stopped_at}, restored past it; {sent} transfers under load; top {top}",
        if restored_first { "after" } else { "before" }
    );
    drop(joiner);
    drop(replicas);
    drop(etcd);
    let _ = std::fs::remove_dir_all(&dir);
}
