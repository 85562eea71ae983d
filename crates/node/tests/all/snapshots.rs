//! A node's snapshots: taken every `snapshot_interval` blocks, the newest
//! kept, served over HTTP, each chunk checked against the block's root and
//! restored into a store that answers as the node does.

use serde_json::{Value, json};
use ward_chain::tx::Payload;
use ward_snapshot::Manifest;
use ward_state::{MemoryStore, StateTree};

use crate::{PATIENCE, agent, dev_node, eventually, ok, raw, temp_dir};

fn get(url: &str) -> (u16, Vec<u8>) {
    let mut response = agent().get(url).call().unwrap();
    let status = response.status().as_u16();
    (
        status,
        response.body_mut().read_to_vec().unwrap_or_default(),
    )
}

fn listed(url: &str) -> Vec<Value> {
    let (status, body) = get(&format!("{url}/snapshots"));
    assert_eq!(status, 200);
    let list: Value = serde_json::from_slice(&body).unwrap();
    list["snapshots"].as_array().unwrap().clone()
}

#[test]
fn a_node_takes_keeps_and_serves_snapshots_that_restore() {
    let node = dev_node("snapshots", |c| {
        c.snapshot_interval = Some(3);
        c.snapshot_keep = 2;
    });
    let url = node.url();
    let chain = node.settings().chain_id.clone();
    // Some state beyond the dev balances: a contract and its storage.
    let deployed = crate::deploy_counter(&node);
    assert_eq!(deployed["status"], "ok", "{deployed}");
    // A snapshot due while the last is still being taken is skipped (by
    // design): each is waited for before the next falls due, so that a
    // slow machine sees the same three.
    let heights = || -> Vec<u64> {
        listed(&url)
            .iter()
            .map(|s| s["height"].as_u64().unwrap())
            .collect()
    };
    loop {
        let height = ok(&node, "getLatestBlock", json!({}))["height"]
            .as_u64()
            .unwrap();
        if height.is_multiple_of(3) {
            eventually(&format!("the snapshot of block {height}"), PATIENCE, || {
                heights().contains(&height)
            });
        }
        if height >= 9 {
            break;
        }
        ok(&node, "mine", json!({}));
    }
    // Snapshots at 3, 6 and 9 were due; the last two are kept.
    eventually("snapshots 6 and 9 kept", PATIENCE, || heights() == [6, 9]);

    let (status, body) = get(&format!("{url}/snapshots/9/manifest"));
    assert_eq!(status, 200);
    let verified = Manifest::parse(&body).unwrap().verify().unwrap();
    let block = ok(&node, "getBlock", json!({ "height": 9 }));
    assert_eq!(
        block["state_root"].as_str().unwrap(),
        verified.manifest.state_root
    );
    // The chain's settings travel with it (the twin below is checked
    // against them).
    assert!(verified.manifest.settings.contains_key("chain"));
    // Every chunk over HTTP checks on its own; saved, they restore.
    let copy = temp_dir("snapshot-copy");
    std::fs::create_dir_all(&copy).unwrap();
    for (index, info) in verified.manifest.chunks.iter().enumerate() {
        let (status, bytes) = get(&format!("{url}/snapshots/9/chunks/{index}"));
        assert_eq!(status, 200);
        verified.chunk(index, &bytes).unwrap();
        std::fs::write(copy.join(&info.file), bytes).unwrap();
    }
    std::fs::write(copy.join(ward_snapshot::MANIFEST), &body).unwrap();
    // The hash of block 9 as the node reports it: what a restore trusts.
    let hash = ward_primitives::Hash32::from_hex(block["hash"].as_str().unwrap()).unwrap();
    let store = MemoryStore::default();
    ward_snapshot::restore(&copy, &store, &ward_snapshot::Trust::block(hash)).unwrap();
    assert_eq!(
        ward_chain::tree::root(&StateTree(&store), 9).unwrap(),
        verified.state_root()
    );
    // What is not held is a 404, never an error page or a panic.
    for missing in [
        "/snapshots/3/manifest",
        "/snapshots/9/chunks/99999",
        "/snapshots/9/chunks/-1",
        "/snapshots/x/manifest",
    ] {
        let (status, _) = get(&format!("{url}{missing}"));
        assert!(status == 404 || status == 400, "{missing}: {status}");
    }
    // A node started on a data directory restored from it continues
    // from block 9: the same chain settings, the same state, and the same
    // transfer gives the same state root as on the original.
    let restored = temp_dir("snapshot-restored");
    {
        // The settings kept, checked against the dev genesis.
        let genesis = ward_node::Genesis::dev(&chain);
        let check = |settings: &std::collections::BTreeMap<String, Vec<u8>>| {
            <ward_node::ChainSettings as ward_node::ChainSettingsExt>::check_snapshot(
                settings, &genesis, None,
            )
        };
        let trust = ward_snapshot::Trust {
            block_hash: hash,
            settings: Some(&check),
        };
        let store = ward_state::RedbStore::create(&restored).unwrap();
        ward_snapshot::restore(&copy, &store, &trust).unwrap();
    }
    let twin = {
        let mut config = ward_node::NodeConfig::new(restored.clone());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.dev = true;
        ward_node::Node::start(config).unwrap()
    };
    assert_eq!(twin.settings(), node.settings());
    assert_eq!(ok(&twin, "getLatestBlock", json!({}))["height"], 9);
    let counter =
        ward_primitives::Address::from_hex(deployed["address"].as_str().unwrap()).unwrap();
    let transfer = raw(
        &chain,
        1,
        0,
        Payload::Call {
            to: counter,
            input: b"after the snapshot".to_vec(),
        },
    );
    let (original_height, twin_height) = (
        ok(&node, "getLatestBlock", json!({}))["height"].clone(),
        ok(&twin, "getLatestBlock", json!({}))["height"].clone(),
    );
    assert_eq!((original_height, twin_height), (json!(9), json!(9)));
    let on_original = ok(
        &node,
        "sendRawTransaction",
        json!({ "tx": transfer.clone(), "wait": true }),
    );
    let on_twin = ok(
        &twin,
        "sendRawTransaction",
        json!({ "tx": transfer, "wait": true }),
    );
    assert_eq!(on_original["status"], "ok", "{on_original}");
    assert_eq!(on_twin["gas_used"], on_original["gas_used"]);
    let root =
        |n: &ward_node::Node| ok(n, "getBlock", json!({ "height": 10 }))["state_root"].clone();
    assert_eq!(root(&twin), root(&node));
    twin.shutdown().unwrap();
    node.shutdown().unwrap();
    let _ = std::fs::remove_dir_all(&copy);
    let _ = std::fs::remove_dir_all(&restored);
}

/// `backup` copies a running node's store into its backup directory while
/// blocks go on; a node started on the copy serves the chain as it was.
#[test]
fn a_running_node_backs_up_and_a_node_starts_from_the_copy() {
    let backups = temp_dir("backups");
    let node = dev_node("backup", |c| c.backup_dir = Some(backups.clone()));
    let deployed = crate::deploy_counter(&node);
    for _ in 0..3 {
        ok(&node, "mine", json!({}));
    }
    let made = ok(&node, "backup", json!({ "name": "first" }));
    let height = made["height"].as_u64().unwrap();
    assert!(height >= 4, "{made}");
    ok(&node, "mine", json!({}));
    // Names that are not plain, and one used already, are refused.
    for name in ["", "../x", ".hidden", "a/b", &"x".repeat(65)] {
        assert_eq!(
            crate::error_kind(&node, "backup", json!({ "name": name })),
            "invalid_params",
            "{name:?}"
        );
    }
    assert_eq!(
        crate::error_kind(&node, "backup", json!({ "name": "first" })),
        "backup"
    );
    let copy = {
        let mut config = ward_node::NodeConfig::new(backups.join("first"));
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.dev = true;
        ward_node::Node::start(config).unwrap()
    };
    assert_eq!(
        ok(&copy, "getLatestBlock", json!({}))["height"].as_u64(),
        Some(height)
    );
    let at = |n: &ward_node::Node| {
        let mut block = ok(n, "getBlock", json!({ "height": height }));
        block.as_object_mut().unwrap().remove("applied_height");
        block
    };
    assert_eq!(at(&copy), at(&node));
    let receipt = ok(&copy, "getTransaction", json!({ "tx": deployed["tx"] }));
    assert_eq!(receipt["status"], "ok", "{receipt}");
    copy.shutdown().unwrap();
    node.shutdown().unwrap();
    // Without a backup directory, backups are off.
    let plain = dev_node("no-backup", |_| {});
    assert_eq!(
        crate::error_kind(&plain, "backup", json!({ "name": "x" })),
        "unavailable"
    );
    plain.shutdown().unwrap();
    let _ = std::fs::remove_dir_all(&backups);
}

/// A snapshot with a chunk missing (a crash while an expired one was
/// deleted, or a hand) is neither listed nor served after a restart, and
/// is removed; so is the hidden directory an interrupted deletion leaves.
#[test]
fn a_restarted_node_lists_only_snapshots_whose_every_chunk_is_there() {
    let dir = temp_dir("snapshots-whole");
    let start = || {
        let mut config = ward_node::NodeConfig::new(dir.clone());
        config.listen = "127.0.0.1:0".parse().unwrap();
        config.dev = true;
        config.snapshot_interval = Some(2);
        config.snapshot_keep = 3;
        ward_node::Node::start(config).unwrap()
    };
    let node = start();
    crate::deploy_counter(&node);
    let heights = |url: &str| -> Vec<u64> {
        listed(url)
            .iter()
            .map(|s| s["height"].as_u64().unwrap())
            .collect()
    };
    for height in [2, 4] {
        while ok(&node, "getLatestBlock", json!({}))["height"].as_u64() < Some(height) {
            ok(&node, "mine", json!({}));
        }
        let url = node.url();
        eventually(&format!("the snapshot of block {height}"), PATIENCE, || {
            heights(&url).contains(&height)
        });
    }
    node.shutdown().unwrap();
    let snapshots = dir.join("snapshots");
    std::fs::remove_file(snapshots.join("2").join("chunk-000000.bin")).unwrap();
    let aside = snapshots.join(".gone-6");
    std::fs::create_dir_all(&aside).unwrap();
    std::fs::write(aside.join(ward_snapshot::MANIFEST), b"{}").unwrap();

    let node = start();
    let url = node.url();
    assert_eq!(heights(&url), [4]);
    let (status, _) = get(&format!("{url}/snapshots/2/manifest"));
    assert_eq!(status, 404);
    let (status, _) = get(&format!("{url}/snapshots/2/chunks/0"));
    assert_eq!(status, 404);
    assert!(
        !snapshots.join("2").exists(),
        "the incomplete one is removed"
    );
    assert!(
        !aside.exists(),
        "what an interrupted deletion left is removed"
    );
    node.shutdown().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
