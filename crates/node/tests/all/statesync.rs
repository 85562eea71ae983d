//! State sync on a real three-member etcd cluster: two replicas take and
//! advertise snapshots, one of them serving a corrupted chunk; a third
//! starts empty with `state_sync`, restores from the good copy while
//! blocks keep coming, reports the bad one, and then agrees with the others.

use std::time::Duration;

use serde_json::json;
use ward_chain::tx::Payload;
use ward_node::Node;
use ward_primitives::Address;
use ward_vm::BackendKind;

use super::{
    counter_code, ok,
    replicas::{bump, height, replica_config, send, until},
};

fn snapshots_of(node: &Node) -> Vec<u64> {
    let mut response = super::agent()
        .get(format!("{}/snapshots", node.url()))
        .call()
        .unwrap();
    let list: serde_json::Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    list["snapshots"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["height"].as_u64().unwrap())
        .collect()
}

#[test]
fn an_empty_replica_state_syncs_around_a_bad_chunk_and_agrees() {
    if let Some(why) = ward_testkit::etcd::missing() {
        ward_testkit::skip(&why);
        return;
    }
    let dir = super::temp_dir("statesync");
    let members = ward_testkit::etcd::Etcd::start(&dir);
    let endpoints = members.clients.clone();
    let start = |name: &str, backend: BackendKind, sync: bool| {
        let mut config = replica_config(name, &dir.join(name), &endpoints, backend, false);
        config.cluster.as_mut().unwrap().prefix = "/ward-statesync/".into();
        config.snapshot_interval = 4;
        config.snapshot_keep = 2;
        config.state_sync = sync;
        Node::start(config).unwrap()
    };
    let a = start("a", BackendKind::Wasmtime, false);
    until("a leads", || {
        super::replicas::health(&a).1["replica"]["role"] == "leader"
    });
    let b = start("b", BackendKind::Wasmi, false);

    let deploy = Payload::Deploy {
        code: counter_code(),
        input: Vec::new(),
        salt: Vec::new(),
        kind: Default::default(),
    };
    let receipt = send(&a, 0, 0, deploy, true);
    let counter = Address::from_hex(receipt["address"].as_str().unwrap()).unwrap();
    // Blocks until both hold a snapshot of the same height.
    let mut common = 0;
    for nonce in 0..200u64 {
        send(&b, 1, nonce, bump(counter, b"before"), true);
        let (on_a, on_b) = (snapshots_of(&a), snapshots_of(&b));
        if let Some(h) = on_a.iter().rev().find(|h| on_b.contains(h)) {
            common = *h;
            break;
        }
    }
    assert!(common > 0, "no common snapshot");
    // a's copy is damaged on disk: it serves a chunk that does not verify.
    let chunk = dir
        .join("a/snapshots")
        .join(common.to_string())
        .join("chunk-000000.bin");
    let mut bytes = std::fs::read(&chunk).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0x40;
    std::fs::write(&chunk, bytes).unwrap();
    // Keep snapshots from moving on while the joiner looks (none are due
    // until 4 more blocks), and keep load coming from another thread.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let load = {
        let (stop, url) = (stop.clone(), b.url());
        std::thread::spawn(move || {
            let mut sent = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) && sent < 200 {
                let tx = super::raw(super::replicas::CHAIN, 2, sent, bump(counter, b"during"));
                let body = json!({"jsonrpc": "2.0", "id": 1, "method": "sendRawTransaction", "params": {"tx": tx, "wait": true}});
                let _ = super::agent()
                    .post(format!("{url}/rpc"))
                    .header("content-type", "application/json")
                    .send(body.to_string());
                sent += 1;
                std::thread::sleep(Duration::from_millis(30));
            }
            sent
        })
    };
    let c = start("c", BackendKind::Wasmtime, true);
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sent = load.join().unwrap();
    assert!(sent > 0);
    // c restored a snapshot (it never held block 1) and caught up.
    let top = height(&a);
    until("c catches up", || height(&c) >= top && height(&b) >= top);
    assert_eq!(
        super::error_kind(&c, "getBlock", json!({ "height": 1 })),
        "not_found"
    );
    for h in common..=top {
        let root = |n: &Node| ok(n, "getBlock", json!({ "height": h }))["state_root"].clone();
        assert_eq!(root(&c), root(&a), "block {h}");
        assert_eq!(root(&b), root(&a), "block {h}");
    }
    // The bad source was reported under the prefix.
    let reports = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut log = ward_node::cluster::BlockLog::connect(&endpoints, "/ward-statesync/")
            .await
            .unwrap();
        log.reports().await.unwrap()
    });
    assert!(reports.iter().any(|(key, _)| key == "a/c"), "{reports:?}");
    for node in [c, b, a] {
        node.shutdown().unwrap();
    }
    drop(members);
    let _ = std::fs::remove_dir_all(&dir);
}
