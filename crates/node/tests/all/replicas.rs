//! Replicas in process against a real three-member etcd cluster: writes
//! through any replica, the same blocks and roots everywhere (one replica
//! on wasmi), and a replica whose state was damaged detected at the
//! first block that shows it, halted, while the others carry on.
//!
//! The crash test (processes SIGKILLed under load) is the CLI's
//! (`bins/cli/tests/node/cluster.rs`).

use std::path::Path;

use serde_json::{Value, json};
use ward_chain::tx::Payload;
use ward_devkeys as devkeys;
use ward_node::{ClusterConfig, Node, NodeConfig};
use ward_primitives::Address;
use ward_state::{ChangeSet, RedbStore, StateCommit};
use ward_vm::BackendKind;

use super::{call, counter_code, health, ok, raw};

pub(super) const CHAIN: &str = "ward-dev";

pub(super) fn replica(
    name: &str,
    dir: &Path,
    endpoints: &[String],
    backend: BackendKind,
    halt: bool,
) -> Node {
    Node::start(replica_config(name, dir, endpoints, backend, halt)).unwrap()
}

/// A replica's configuration under the tests' prefix.
pub(super) fn replica_config(
    name: &str,
    dir: &Path,
    endpoints: &[String],
    backend: BackendKind,
    halt: bool,
) -> NodeConfig {
    let mut config = NodeConfig::new(dir.to_path_buf());
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.backend = backend;
    let mut cluster = ClusterConfig::new(endpoints.to_vec(), name.into());
    cluster.prefix = "/ward-replicas/".into();
    cluster.halt_on_divergence = halt;
    // The replica that halts on divergence is the one whose state the test
    // damages: it only follows, so that it can never take the lead (a
    // proposer's lease can lapse on a loaded machine) and propose from
    // that state instead of replaying, and detecting, the others' blocks.
    cluster.propose = !halt;
    config.cluster = Some(cluster);
    // The dev accounts funded; gas free, as the chain's minimum price is 0.
    config.genesis = Some(ward_node::Genesis::dev(CHAIN));
    config
}

/// How a test's replica takes snapshots and joins.
#[derive(Clone, Copy)]
pub(super) struct Snapshotting<'a> {
    pub(super) prefix: &'a str,
    /// A snapshot every this many blocks (2 kept).
    pub(super) interval: u64,
    /// `--log-retention-blocks`, when not the default.
    pub(super) retention: Option<u64>,
    /// `--mempool-bytes`, when not the default.
    pub(super) mempool_bytes: Option<usize>,
}

impl<'a> Snapshotting<'a> {
    /// A snapshot every `interval` blocks under `prefix`, the log's
    /// retention and the mempool's bytes the defaults.
    pub(super) fn every(interval: u64, prefix: &'a str) -> Self {
        Self {
            prefix,
            interval,
            retention: None,
            mempool_bytes: None,
        }
    }
}

/// A replica under `how.prefix` taking snapshots; it restores one first
/// when `sync`.
pub(super) fn snapshotting(
    name: &str,
    dir: &Path,
    endpoints: &[String],
    backend: BackendKind,
    how: &Snapshotting<'_>,
    sync: bool,
) -> Node {
    let mut config = replica_config(name, &dir.join(name), endpoints, backend, false);
    let cluster = config.cluster.as_mut().unwrap();
    cluster.prefix = how.prefix.into();
    if let Some(blocks) = how.retention {
        cluster.log_retention_blocks = blocks;
    }
    if let Some(bytes) = how.mempool_bytes {
        config.limits.mempool_bytes = bytes;
    }
    config.snapshot_interval = Some(how.interval);
    config.snapshot_keep = 2;
    config.state_sync = sync;
    Node::start(config).unwrap()
}

/// Waits until `check` holds (at most [`super::PATIENCE`]).
pub(super) fn until(what: &str, check: impl FnMut() -> bool) {
    super::eventually(what, super::PATIENCE, check);
}

/// Waits until `node` is the cluster's leader.
pub(super) fn until_leader(name: &str, node: &Node) {
    until(&format!("{name} leads"), || {
        health(node).1["replica"]["role"] == "leader"
    });
}

pub(super) fn height(node: &Node) -> u64 {
    ok(node, "getLatestBlock", json!({}))["height"]
        .as_u64()
        .unwrap()
}

/// Whether `node` is at `top` or past it: not yet while it has no block
/// (a joiner restoring a snapshot or replaying the log answers
/// `getLatestBlock` with `not_found` until its first block lands, later
/// on a loaded machine).
pub(super) fn reached(node: &Node, top: u64) -> bool {
    match call(node, "getLatestBlock", json!({})) {
        Ok(block) => block["height"].as_u64().unwrap() >= top,
        Err(error) if error["data"]["kind"] == "not_found" => false,
        Err(error) => panic!("getLatestBlock: {error}"),
    }
}

pub(super) fn send(node: &Node, key: u32, nonce: u64, payload: Payload, wait: bool) -> Value {
    ok(
        node,
        "sendRawTransaction",
        json!({ "tx": raw(CHAIN, key, nonce, payload), "wait": wait }),
    )
}

pub(super) fn bump(counter: Address, input: &[u8]) -> Payload {
    Payload::Call {
        to: counter,
        input: input.to_vec(),
    }
}

/// Every block of `nodes` up to `top` is the same everywhere.
pub(super) fn same_blocks(nodes: &[&Node], top: u64) {
    for h in 1..=top {
        let blocks: Vec<Value> = nodes
            .iter()
            .map(|n| {
                let mut block = ok(n, "getBlock", json!({ "height": h }));
                block.as_object_mut().unwrap().remove("applied_height");
                block
            })
            .collect();
        for block in &blocks[1..] {
            assert_eq!(block, &blocks[0], "block {h}");
        }
    }
}

#[test]
fn replicas_agree_and_a_damaged_one_is_detected() {
    let Some((dir, members)) = super::etcd_cluster("replicas", &[]) else {
        return;
    };
    let endpoints = members.clients.clone();

    // a leads: it starts first.
    let a = replica(
        "a",
        &dir.join("a"),
        &endpoints,
        BackendKind::Wasmtime,
        false,
    );
    until_leader("a", &a);
    let b = replica(
        "b",
        &dir.join("b"),
        &endpoints,
        BackendKind::Wasmtime,
        false,
    );
    let c_dir = dir.join("c");
    let c = replica("c", &c_dir, &endpoints, BackendKind::Wasmi, true);

    // A deploy through b, acknowledged by b once applied there.
    let deploy = super::counter_deploy();
    let receipt = send(&b, 0, 0, deploy, true);
    assert_eq!(receipt["status"], "ok", "{receipt}");
    let counter = Address::from_hex(receipt["address"].as_str().unwrap()).unwrap();
    assert!(receipt["applied_height"].as_u64().unwrap() >= 1);

    // Calls through every replica; the last of each sender waits.
    let nodes = [&a, &b, &c];
    for nonce in 0..10u64 {
        for key in 1..4u32 {
            let node = nodes[(nonce as usize + key as usize) % 3];
            let receipt = send(node, key, nonce, bump(counter, b"x"), nonce == 9);
            if nonce == 9 {
                assert_eq!(receipt["status"], "ok", "{receipt}");
            }
        }
    }
    until("every replica applies every call", || {
        nodes.iter().all(|n| {
            ok(
                n,
                "getNonce",
                json!({ "address": devkeys::address(3).to_string() }),
            )["nonce"]
                == 10
        })
    });
    // Ethereum transactions through every replica: value from the test
    // mnemonic's accounts to fresh keys, which spend some of it back
    // through another replica; the same receipts everywhere.
    let eth_receipts = ethereum_transfers(&nodes);
    let top = height(&a);
    until("b and c reach a's height", || {
        reached(&b, top) && reached(&c, top)
    });
    same_blocks(&nodes, top);
    for (hash, receipt) in &eth_receipts {
        for n in nodes {
            let mut seen = super::eth::eth_ok(n, "eth_getTransactionReceipt", json!([hash]));
            seen.as_object_mut().unwrap().remove("blockTimestamp");
            let mut expected = receipt.clone();
            expected.as_object_mut().unwrap().remove("blockTimestamp");
            assert_eq!(seen, expected, "{hash} on {}", n.url());
        }
    }
    let count = |n: &Node| {
        ok(
            n,
            "getStorage",
            json!({ "address": counter.to_string(), "key": "0x6e" }),
        )["value"]
            .clone()
    };
    assert_eq!(
        count(&a),
        json!(format!("0x{}", hex::encode(30u64.to_le_bytes())))
    );
    assert_eq!(count(&c), count(&a));
    let read = ok(
        &c,
        "getStorage",
        json!({ "address": counter.to_string(), "key": "0x6e" }),
    );
    assert!(read["applied_height"].as_u64().unwrap() >= top, "{read}");
    for n in nodes {
        let (status, body) = health(n);
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["replica"]["peers_disagree"], json!({}), "{body}");
    }
    assert_eq!(
        call(&a, "mine", json!({})).unwrap_err()["data"]["kind"],
        "dev_only"
    );

    // A transaction that fits a single node but not an etcd request is
    // refused by a replica before anything is shared.
    let key = devkeys::key(4);
    let big = ward_chain::tx::TxBody {
        gas_price: 0,
        value: 0,
        chain_id: CHAIN.into(),
        public_key: key.verifying_key().to_bytes(),
        nonce: 0,
        gas_limit: 100_000_000,
        payload: bump(counter, &vec![7; ward_node::replica::MAX_CLUSTER_TX_BYTES]),
    }
    .sign(&key);
    let refused = call(
        &a,
        "sendRawTransaction",
        json!({ "tx": format!("0x{}", hex::encode(big.to_bytes())) }),
    )
    .unwrap_err();
    assert_eq!(refused["data"]["kind"], "limit", "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .unwrap()
            .contains("a cluster takes at most"),
        "{refused}"
    );

    // Damage c's state while it is down: the counter reads 1000 there.
    c.shutdown().unwrap();
    {
        let store = RedbStore::create(&c_dir).unwrap();
        let mut changes = ChangeSet::default();
        changes.storage.insert(
            (counter, b"n".to_vec()),
            Some(1000u64.to_le_bytes().to_vec()),
        );
        store.commit(changes).unwrap();
    }
    let c = replica("c", &c_dir, &endpoints, BackendKind::Wasmi, true);
    until("c catches up", || reached(&c, top));

    // The next call touches the damaged key: c halts at that block, the
    // others carry on.
    let receipt = send(&a, 1, 10, bump(counter, b"y"), true);
    assert_eq!(receipt["status"], "ok", "{receipt}");
    let diverged_at = receipt["height"].as_u64().unwrap();
    let why = c.wait_for_halt(super::PATIENCE).unwrap_or_else(|| {
        panic!(
            "c does not halt on the divergence at block {diverged_at}: c is at {}, {:?}",
            height(&c),
            health(&c)
        )
    });
    assert!(
        why.contains(&format!("block {diverged_at} diverged")),
        "{why}"
    );
    let (status, body) = health(&c);
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "diverged");
    let divergence = &body["replica"]["divergence"];
    assert_eq!(divergence["height"], diverged_at);
    assert_ne!(
        divergence["log"]["state_root"],
        divergence["ours"]["state_root"]
    );
    assert_eq!(
        height(&c),
        diverged_at - 1,
        "c never commits the diverging block"
    );
    let refused = call(
        &c,
        "sendRawTransaction",
        json!({ "tx": raw(CHAIN, 2, 10, bump(counter, b"z")) }),
    )
    .unwrap_err();
    assert_eq!(refused["data"]["kind"], "unavailable", "{refused}");

    // a and b go on, and see c's other roots.
    let receipt = send(&b, 2, 10, bump(counter, b"z"), true);
    assert_eq!(receipt["status"], "ok", "{receipt}");
    until("a and b agree past the divergence", || {
        height(&a) == height(&b) && height(&a) > diverged_at
    });
    same_blocks(&[&a, &b], height(&a));
    assert_eq!(health(&a).0, 200);

    // A single node's directory is not a prefix of the log: refused.
    let mut single_dir = std::path::PathBuf::new();
    let single = super::dev_node("replicas-single", |config| {
        single_dir = config.data_dir.clone();
        // A chain the replicas could follow but for its blocks: no
        // runtimes, as theirs.
        config.dev_runtimes = false;
    });
    let receipt = ok(
        &single,
        "sendTransaction",
        json!({ "from": devkeys::address(5).to_string(),
                "deploy": { "code": format!("0x{}", hex::encode(counter_code())) },
                "wait": true }),
    );
    assert_eq!(receipt["height"], 1);
    single.shutdown().unwrap();
    let d = replica("d", &single_dir, &endpoints, BackendKind::Wasmtime, false);
    until("d refuses a directory that is not the log's", || {
        health(&d).1["status"] == "diverged"
    });
    assert_eq!(health(&d).1["replica"]["divergence"]["height"], 1);

    for node in [a, b, c, d] {
        node.shutdown().unwrap();
    }
    drop(members);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&single_dir);
}

/// Signed Ethereum transfers (EIP-1559 out, legacy back) sent through
/// each of `nodes` in turn, each waited for; their hashes and receipts.
fn ethereum_transfers(nodes: &[&Node]) -> Vec<(Value, Value)> {
    use alloy_consensus::{TxEip1559, TxLegacy};
    use alloy_primitives::{TxKind, U256};

    use super::eth::{Key, Signer, send};
    let mut out = Vec::new();
    for i in 0..3u32 {
        let (from, to) = (Key::dev(i), Key::from_secret([0xe0 + i as u8; 32]));
        let out_tx = TxEip1559 {
            chain_id: 31_337,
            nonce: 0,
            gas_limit: 1_000_000,
            max_fee_per_gas: 0,
            max_priority_fee_per_gas: 0,
            to: TxKind::Call(to.address.into()),
            value: U256::from(1_000 + u64::from(i)),
            access_list: Default::default(),
            input: Default::default(),
        };
        let receipt = send(nodes[i as usize], &from.sign(out_tx));
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        let hash = receipt["transactionHash"].clone();
        out.push((hash.clone(), receipt));
        // The next replica admits the spend once it has applied the
        // block that funds it (replicas apply blocks on their own time).
        let next = nodes[(i as usize + 1) % nodes.len()];
        until("the next replica applies the funding block", || {
            !super::eth::eth_ok(next, "eth_getTransactionReceipt", json!([hash])).is_null()
        });
        let back = TxLegacy {
            chain_id: Some(31_337),
            nonce: 0,
            gas_price: 0,
            gas_limit: 1_000_000,
            to: TxKind::Call(from.address.into()),
            value: U256::from(7),
            input: Default::default(),
        };
        let receipt = send(next, &to.sign(back));
        assert_eq!(receipt["status"], "0x1", "{receipt}");
        out.push((receipt["transactionHash"].clone(), receipt));
    }
    out
}
