//! State sync on a real three-member etcd cluster: two replicas take and
//! advertise snapshots, one of them serving a corrupted chunk; a third
//! starts empty with `state_sync`, restores from the good copy, reports the
//! bad one, and then follows the others' blocks and agrees with them. A
//! joiner started while etcd stalls waits for it.

use serde_json::json;
use ward_node::Node;
use ward_primitives::Address;
use ward_vm::BackendKind;

use super::{
    ok,
    replicas::{Snapshotting, bump, height, reached, send, snapshotting, until},
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
    let Some((dir, members)) = super::etcd_cluster("statesync", &[]) else {
        return;
    };
    let endpoints = members.clients.clone();
    let how = Snapshotting::every(4, "/ward-statesync/");
    let start = |name: &str, backend: BackendKind, sync: bool| {
        snapshotting(name, &dir, &endpoints, backend, &how, sync)
    };
    let a = start("a", BackendKind::Wasmtime, false);
    super::replicas::until_leader("a", &a);
    let b = start("b", BackendKind::Wasmi, false);

    let deploy = super::counter_deploy();
    let receipt = send(&a, 0, 0, deploy, true);
    let counter = Address::from_hex(receipt["address"].as_str().unwrap()).unwrap();
    // Blocks until both hold a snapshot of the same height.
    let mut common = 0;
    for nonce in 0..200u64 {
        send(&b, 1, nonce, bump(counter, b"before"), true);
        // Both newest the same: the height a joiner takes.
        let (on_a, on_b) = (snapshots_of(&a), snapshots_of(&b));
        if let (Some(x), Some(y)) = (on_a.last(), on_b.last())
            && x == y
        {
            common = *x;
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
    // No block comes while the joiner looks, so the snapshot it takes is
    // the damaged one (joining under load is the retention test's); blocks
    // come again once it is up.
    let c = start("c", BackendKind::Wasmtime, true);
    for nonce in 0..6u64 {
        send(&b, 2, nonce, bump(counter, b"after"), true);
    }
    // c restored a snapshot (it never held block 1) and caught up.
    let top = height(&a);
    until("c catches up", || reached(&c, top) && reached(&b, top));
    assert_eq!(
        super::error_kind(&c, "getBlock", json!({ "height": 1 })),
        "pruned"
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

/// A joiner started while every etcd member is stalled (SIGSTOPped: its
/// connections open, no answer coming, so each request ends at the
/// client's own timeout) asks again until etcd answers, as it does while
/// a member is down, rather than exiting; it then follows the cluster.
#[test]
fn a_joiner_started_while_etcd_stalls_waits_for_it() {
    let Some((dir, members)) = super::etcd_cluster("statesync-stall", &[]) else {
        return;
    };
    let endpoints = members.clients.clone();
    let how = Snapshotting::every(4, "/ward-stall/");
    let a = snapshotting("a", &dir, &endpoints, BackendKind::Wasmtime, &how, false);
    super::replicas::until_leader("a", &a);
    let receipt = send(&a, 0, 0, super::counter_deploy(), true);
    let counter = Address::from_hex(receipt["address"].as_str().unwrap()).unwrap();

    for member in 0..3 {
        members.pause(member);
    }
    let joining = {
        let (dir, endpoints) = (dir.clone(), endpoints.clone());
        std::thread::spawn(move || {
            snapshotting("b", &dir, &endpoints, BackendKind::Wasmi, &how, true)
        })
    };
    // Longer than the client's request timeout (2 s): the joiner's first
    // requests go unanswered.
    std::thread::sleep(std::time::Duration::from_secs(5));
    for member in 0..3 {
        members.resume(member);
    }
    let b = joining.join().expect("the joiner starts once etcd answers");
    send(&a, 1, 0, bump(counter, b"after"), true);
    let top = height(&a);
    until("b catches up", || reached(&b, top));
    for h in 1..=top {
        let root = |n: &Node| ok(n, "getBlock", json!({ "height": h }))["state_root"].clone();
        assert_eq!(root(&b), root(&a), "block {h}");
    }
    for node in [b, a] {
        node.shutdown().unwrap();
    }
    drop(members);
    let _ = std::fs::remove_dir_all(&dir);
}
