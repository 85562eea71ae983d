//! `cluster_transfer`: committed transfers per second through three
//! replicas on a real three-member etcd cluster, beside a single node
//! under the same load in the same run (feature `etcd`).
//!
//! Everything runs on this machine: etcd's members, the three replicas
//! (in this process, each with its own redb directory) and the load
//! generator (`crate::load::drive`: many accounts, each sending one
//! SDK-token transfer at a time and waiting for its acknowledgement,
//! spread over the replicas).

use std::time::Duration;

use ward_node::{ClusterConfig, Node, NodeConfig};
use ward_vm::BackendKind;

use crate::{
    load,
    node::{CHAIN, fund, height, setup, transfers},
    scratch::Scratch,
};

/// What one `cluster_transfer` run measured.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClusterFigures {
    /// Transfers committed per second through the cluster.
    pub cluster_tps: f64,
    /// The same through one node.
    pub single_tps: f64,
    /// Transfers per block the cluster built.
    pub cluster_block_txs: f64,
}

fn config(dir: std::path::PathBuf, kind: BackendKind, senders: usize) -> NodeConfig {
    let mut config = NodeConfig::new(dir);
    config.listen = ([127, 0, 0, 1], 0).into();
    config.backend = kind;
    config.chain_id = CHAIN.into();
    // Every replica of the same genesis, which takes free gas (the figure
    // compares with one node, which charges none either).
    config.genesis = Some(ward_node::Genesis::dev(CHAIN));
    config.limits.mempool_size = senders * 4 + 64;
    config.limits.max_connections = senders + 16;
    config
}

/// Funds the senders through the first of `urls`, then drives the load
/// over all of them: transfers per second, transfers per block.
fn measure(urls: &[String], code: &[u8], load: Duration, senders: usize) -> (f64, f64) {
    let (token, setup_txs) = setup(code, senders);
    let agent = load::agent();
    fund(&agent, &urls[0], &setup_txs);
    let requests = transfers(token, senders, load);
    let start_height = height(&agent, &urls[0]);
    let started = ward_vm::clock::now();
    let count = load::drive(urls, requests, load).latencies.len();
    let elapsed = (ward_vm::clock::now() - started).as_secs_f64();
    let blocks = height(&agent, &urls[0]).saturating_sub(start_height).max(1);
    (count as f64 / elapsed, count as f64 / blocks as f64)
}

/// A single node, then a three-replica cluster, each under `senders`
/// accounts for `load`. `None` when the SDK token is not built or etcd is
/// not installed.
pub fn cluster_transfer(
    kind: BackendKind,
    load: Duration,
    senders: usize,
) -> Option<ClusterFigures> {
    let code = crate::sdk_contract("token")?;
    if let Some(why) = ward_etcd::missing() {
        eprintln!("note: cluster_transfer skipped: {why}");
        return None;
    }

    let dir = Scratch::new("single");
    let node =
        Node::start(config(dir.path().to_path_buf(), kind, senders)).expect("the node starts");
    let (single_tps, _) = measure(&[format!("{}/rpc", node.url())], &code, load, senders);
    node.shutdown().expect("the node stops");
    drop(dir);

    let dir = Scratch::new("cluster");
    let etcd = ward_etcd::Etcd::start(&dir.path().join("etcd"));
    let replicas: Vec<Node> = (0..3)
        .map(|i| {
            let mut config = config(dir.path().join(format!("r{i}")), kind, senders);
            let mut cluster = ClusterConfig::new(etcd.clients.clone(), format!("r{i}"));
            cluster.prefix = "/ward-bench/".into();
            config.cluster = Some(cluster);
            Node::start(config).expect("a replica starts")
        })
        .collect();
    let urls: Vec<String> = replicas
        .iter()
        .map(|r| format!("{}/rpc", r.url()))
        .collect();
    let (cluster_tps, cluster_block_txs) = measure(&urls, &code, load, senders);
    for replica in replicas {
        replica.shutdown().expect("a replica stops");
    }
    drop(etcd);
    drop(dir);
    Some(ClusterFigures {
        cluster_tps,
        single_tps,
        cluster_block_txs,
    })
}
