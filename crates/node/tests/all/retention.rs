//! A cluster that runs within a small etcd quota: three etcd members with
//! 32 MiB each, three replicas taking snapshots every 2 blocks and keeping
//! 2 blocks of log below them (their mempools, and so the shared one,
//! bounded to a third of the quota), and four times the quota in transaction
//! bytes through it (large transactions and many small ones). etcd never
//! raises its space alarm, every acknowledged transaction is in exactly
//! one block, a fourth replica joins by state sync under load, and every
//! replica agrees on every state root.

use std::{
    collections::BTreeSet,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use serde_json::{Value, json};
use ward_chain::tx::Payload;
use ward_node::Node;
use ward_primitives::Address;
use ward_vm::BackendKind;

use super::{
    ok,
    replicas::{CHAIN, Snapshotting, bump, height, reached, send, snapshotting, until},
};

/// etcd's quota in the test.
const QUOTA: u64 = 32 << 20;

/// One large transaction's input: with its signature and framing, under
/// the cluster's 1,400,000-byte cap.
const LARGE: usize = 600_000;

fn send_raw(url: &str, tx: &str) -> Value {
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": "sendRawTransaction", "params": {"tx": tx, "wait": true}});
    let mut response = super::agent()
        .post(format!("{url}/rpc"))
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
    let text = response.body_mut().read_to_string().unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap();
    assert!(answer["result"].is_object(), "{answer}");
    answer["result"].clone()
}

#[test]
fn a_cluster_stays_within_etcds_quota_and_a_replica_joins_by_state_sync() {
    let quota = QUOTA.to_string();
    let Some((dir, members)) = super::etcd_cluster("retention", &["--quota-backend-bytes", &quota])
    else {
        return;
    };
    let endpoints = members.clients.clone();
    let how = Snapshotting {
        prefix: "/ward-retention/",
        interval: 2,
        retention: Some(2),
        // Three replicas' mempools, and so the shared one, within a
        // third of the quota.
        mempool_bytes: Some(QUOTA as usize / 9),
    };
    let start = |name: &str, backend: BackendKind, sync: bool| {
        snapshotting(name, &dir, &endpoints, backend, &how, sync)
    };
    let a = start("a", BackendKind::Wasmtime, false);
    super::replicas::until_leader("a", &a);
    let b = start("b", BackendKind::Wasmi, false);
    let c = start("c", BackendKind::Wasmtime, false);
    let deploy = super::counter_deploy();
    let counter =
        Address::from_hex(send(&a, 0, 0, deploy, true)["address"].as_str().unwrap()).unwrap();

    // Small transactions from three senders, each through its own replica,
    // until the large ones are through.
    let done = Arc::new(AtomicBool::new(false));
    let urls = [a.url(), b.url(), c.url()];
    let small: Vec<_> = (0..3u32)
        .map(|i| {
            let (done, url) = (done.clone(), urls[i as usize].clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut nonce = 0u64;
                while !done.load(Ordering::Relaxed) {
                    let tx = super::raw(CHAIN, 2 + i, nonce, bump(counter, b"small"));
                    let receipt = send_raw(&url, &tx);
                    assert_eq!(receipt["status"], "ok", "{receipt}");
                    acked.push(receipt["tx"].as_str().unwrap().to_owned());
                    nonce += 1;
                }
                (acked, nonce)
            })
        })
        .collect();

    // Large ones, one per block, until four quotas of bytes went through;
    // the fourth replica joins halfway.
    let nobody = Address([0x77; 32]);
    let mut bytes = 0u64;
    let mut large_acked = Vec::new();
    let mut d = None;
    let mut nonce = 0u64;
    while bytes < 4 * QUOTA {
        let tx = super::raw_with_gas(
            CHAIN,
            1,
            nonce,
            10_000_000,
            Payload::Call {
                to: nobody,
                input: vec![nonce as u8; LARGE],
            },
        );
        bytes += (tx.len() as u64 - 2) / 2;
        let receipt = send_raw(&urls[nonce as usize % 3], &tx);
        assert!(receipt["tx"].is_string(), "{receipt}");
        large_acked.push(receipt["tx"].as_str().unwrap().to_owned());
        nonce += 1;
        assert!(members.alarms().is_empty(), "{:?}", members.alarms());
        if d.is_none() && bytes > 2 * QUOTA {
            d = Some(start("d", BackendKind::Wasmi, true));
        }
    }
    done.store(true, Ordering::Relaxed);
    let mut small_acked = Vec::new();
    for thread in small {
        let (acked, _) = thread.join().unwrap();
        small_acked.extend(acked);
    }
    let d = d.unwrap();
    assert!(members.alarms().is_empty(), "{:?}", members.alarms());
    let sizes = members.db_sizes();
    eprintln!(
        "sent {bytes} bytes of transactions ({} large, {} small); etcd db sizes {sizes:?}",
        large_acked.len(),
        small_acked.len()
    );
    assert!(sizes.iter().all(|&s| s < QUOTA), "{sizes:?}");

    let top = height(&a);
    let nodes = [&a, &b, &c, &d];
    until("every replica applies every block", || {
        nodes.iter().all(|n| reached(n, top))
    });
    // The log was compacted: its first entry is far above block 1.
    let first = tokio::runtime::Runtime::new().unwrap().block_on(async {
        let mut log = ward_node::cluster::BlockLog::connect(&endpoints, "/ward-retention/")
            .await
            .unwrap();
        log.first().await.unwrap()
    });
    assert!(first > top / 2, "the log starts at {first} of {top}");
    // d holds no block below its snapshot; from there all agree.
    let base = (1..=top)
        .find(|&h| super::call(&d, "getBlock", json!({ "height": h })).is_ok())
        .unwrap();
    assert!(base > 1);
    let mut seen = BTreeSet::new();
    for h in 1..=top {
        let block = |n: &Node| {
            let mut block = ok(n, "getBlock", json!({ "height": h }));
            block.as_object_mut().unwrap().remove("applied_height");
            block
        };
        let expected = block(&a);
        assert_eq!(block(&b), expected, "block {h}");
        assert_eq!(block(&c), expected, "block {h}");
        if h >= base {
            assert_eq!(block(&d), expected, "block {h}");
        }
        for tx in expected["txs"].as_array().unwrap() {
            assert!(seen.insert(tx.as_str().unwrap().to_owned()), "{tx} twice");
        }
    }
    for tx in large_acked.iter().chain(&small_acked) {
        assert!(seen.contains(tx), "{tx} acknowledged and in no block");
    }
    for node in [d, c, b, a] {
        node.shutdown().unwrap();
    }
    drop(members);
    let _ = std::fs::remove_dir_all(&dir);
}
