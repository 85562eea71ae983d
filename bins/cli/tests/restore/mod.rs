//! `ward snapshot`: the demo's chain snapshotted, restored into a new data
//! directory and run on the other backend; damaged snapshots refused.

use std::path::Path;

use ward_chain::tree::{self, StateKey};
use ward_state::{RedbStore, StateRead, StateScan, StateTree};

use crate::{last_json, ward};

/// Every key's value and proof, and the root, at `height` in both stores.
fn assert_same_tree(a: &RedbStore, b: &RedbStore, height: u64) {
    let (height_a, state_a) = a.whole_state().unwrap();
    let (height_b, state_b) = b.whole_state().unwrap();
    assert_eq!((height_a, height_b), (height, height));
    assert_eq!(state_a, state_b);
    let root = tree::root(&StateTree(a), height).unwrap();
    assert_eq!(tree::root(&StateTree(b), height).unwrap(), root);
    assert_eq!(a.block(height).unwrap(), b.block(height).unwrap());
    let mut keys: Vec<Vec<u8>> = state_a.tree_changes().into_keys().collect();
    assert!(keys.len() > 10, "{}", keys.len());
    keys.push(StateKey::Nonce(&ward_state::Address([0xee; 32])).to_bytes());
    for key in keys {
        let proven = tree::prove(&StateTree(a), height, &key).unwrap();
        assert_eq!(tree::prove(&StateTree(b), height, &key).unwrap(), proven);
        tree::verify(&root, &key, proven.value.as_deref(), &proven.proof).unwrap();
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

#[test]
fn a_snapshot_restores_into_a_new_directory_and_runs_on_the_other_backend() {
    let contracts = ward_testkit::contracts::build().unwrap();
    let root = std::env::temp_dir().join(format!("ward-cli-snapshot-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (original, snapshot, restored) = (root.join("a"), root.join("snap"), root.join("b"));
    let path = |p: &Path| p.display().to_string();
    let demo = ward(&[
        "demo",
        "--data-dir",
        &path(&original),
        "--contracts",
        &path(contracts),
    ]);
    assert!(demo.status.success());
    let token = String::from_utf8_lossy(&demo.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("token contract:"))
        .unwrap()
        .trim()
        .to_string();

    let created = last_json(&ward(&[
        "snapshot",
        "create",
        &path(&snapshot),
        "--data-dir",
        &path(&original),
        "--json",
    ]));
    assert_eq!(created["status"], "created", "{created}");
    let height = created["height"].as_u64().unwrap();
    let hash = created["block_hash"].as_str().unwrap().to_owned();
    let restore = |into: &Path, from: &Path| {
        ward(&[
            "snapshot",
            "restore",
            &path(from),
            "--data-dir",
            &path(into),
            "--block-hash",
            &hash,
            "--json",
        ])
    };
    let done = last_json(&restore(&restored, &snapshot));
    assert_eq!(done["status"], "restored", "{done}");
    assert_eq!(done["state_root"], created["state_root"]);
    {
        let a = RedbStore::open_read_only(&original).unwrap();
        let b = RedbStore::open_read_only(&restored).unwrap();
        assert_same_tree(&a, &b, height);
    }
    // Into a directory holding a state: refused, and it is left as it was.
    let again = restore(&restored, &snapshot);
    assert_eq!(again.status.code(), Some(2));
    assert_eq!(last_json(&again)["error"]["kind"], "usage");

    // The same transfer on the original with wasmtime and on the restored
    // directory with wasmi: the same receipt, then the same state.
    let bob = format!("address:0x{}", "b0".repeat(32));
    let transfer = |dir: &Path, backend: &str| {
        let mut receipt = last_json(&ward(&[
            "call",
            &token,
            "--method",
            "transfer",
            "--arg",
            &bob,
            "--arg",
            "u128:7",
            "--sender",
            &format!("0x{}", "a1".repeat(32)),
            "--data-dir",
            &path(dir),
            "--backend",
            backend,
            "--json",
        ]));
        assert_eq!(receipt["status"], "ok", "{receipt}");
        // Everything but the backend that ran it.
        assert_eq!(receipt["backend"], backend);
        receipt.as_object_mut().unwrap().remove("backend");
        receipt
    };
    assert_eq!(
        transfer(&original, "wasmtime"),
        transfer(&restored, "wasmi")
    );
    {
        let a = RedbStore::open_read_only(&original).unwrap();
        let b = RedbStore::open_read_only(&restored).unwrap();
        let (ha, sa) = a.whole_state().unwrap();
        let (hb, sb) = b.whole_state().unwrap();
        assert_eq!((ha, sa), (hb, sb));
        assert_eq!(
            tree::root(&StateTree(&a), ha).unwrap(),
            tree::root(&StateTree(&b), hb).unwrap()
        );
    }

    // A damaged chunk: refused as an invalid snapshot, nothing left behind.
    let damaged = root.join("damaged");
    copy_dir(&snapshot, &damaged);
    let chunk = damaged.join("chunk-000000.bin");
    let mut bytes = std::fs::read(&chunk).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&chunk, bytes).unwrap();
    let into = root.join("c");
    let refused = restore(&into, &damaged);
    assert_eq!(refused.status.code(), Some(2));
    let json = last_json(&refused);
    assert_eq!(json["error"]["kind"], "invalid_snapshot", "{json}");
    assert!(
        !into.exists(),
        "a refused restore leaves no directory behind"
    );
    // Another block hash than the snapshot's: refused, nothing made.
    let other = ward(&[
        "snapshot",
        "restore",
        &path(&snapshot),
        "--data-dir",
        &path(&into),
        "--block-hash",
        &format!("0x{}", "11".repeat(32)),
        "--json",
    ]);
    assert_eq!(other.status.code(), Some(2));
    assert_eq!(last_json(&other)["error"]["kind"], "untrusted_snapshot");
    assert!(!into.exists());
    // A snapshot directory that is not empty is refused.
    let refused = ward(&[
        "snapshot",
        "create",
        &path(&snapshot),
        "--data-dir",
        &path(&original),
    ]);
    assert_eq!(refused.status.code(), Some(2));
    std::fs::remove_dir_all(&root).unwrap();
}

/// What a snapshot's chunks do not prove is checked against what its
/// restorer trusts (`--block-hash`, `--genesis`): a node's snapshot whose
/// block time or whose chain settings were changed is refused, and a node
/// started on a directory restored without `--genesis` needs one (or
/// `--dev`) rather than taking the snapshot's settings on its word.
#[test]
fn a_restore_trusts_only_the_block_hash_and_genesis_it_is_given() {
    use serde_json::{Value, json};
    let root = std::env::temp_dir().join(format!("ward-cli-trust-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let path = |p: &Path| p.display().to_string();
    let node_dir = root.join("node");
    let served = crate::node::serve(&node_dir, &["--snapshot-interval", "2"]);
    let rpc = |method: &str, params: Value| crate::node::rpc(&served.url, method, params).unwrap();
    while rpc("getNetwork", json!({}))["height"].as_u64() < Some(2) {
        rpc("mine", json!({}));
    }
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |url: String| -> Option<Vec<u8>> {
        let mut response = agent.get(url).call().ok()?;
        (response.status() == 200).then(|| response.body_mut().read_to_vec().unwrap())
    };
    let deadline = ward_vm::clock::now() + std::time::Duration::from_secs(120);
    let manifest = loop {
        if let Some(bytes) = get(format!("{}/snapshots/2/manifest", served.url)) {
            break bytes;
        }
        assert!(!ward_vm::clock::passed(deadline), "no snapshot of block 2");
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let snapshot = root.join("snap");
    std::fs::create_dir_all(&snapshot).unwrap();
    let parsed = ward_snapshot::Manifest::parse(&manifest).unwrap();
    for (index, chunk) in parsed.chunks.iter().enumerate() {
        let bytes = get(format!("{}/snapshots/2/chunks/{index}", served.url)).unwrap();
        std::fs::write(snapshot.join(&chunk.file), bytes).unwrap();
    }
    std::fs::write(snapshot.join(ward_snapshot::MANIFEST), &manifest).unwrap();
    let hash = rpc("getBlock", json!({ "height": 2 }))["hash"]
        .as_str()
        .unwrap()
        .to_owned();
    let genesis = root.join("genesis.json");
    let dev = ward_node::Genesis::dev(ward_node::DEFAULT_CHAIN_ID);
    std::fs::write(&genesis, serde_json::to_vec(&dev).unwrap()).unwrap();
    let restore = |from: &Path, into: &Path, with_genesis: bool| {
        let mut args = vec![
            "snapshot".to_owned(),
            "restore".into(),
            path(from),
            "--data-dir".into(),
            path(into),
            "--block-hash".into(),
            hash.clone(),
            "--json".into(),
        ];
        if with_genesis {
            args.extend(["--genesis".into(), path(&genesis)]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        ward(&args)
    };
    // Copies of the snapshot with one field changed in its manifest.
    let changed = |name: &str, change: &dyn Fn(&mut ward_snapshot::Manifest)| {
        let dir = root.join(name);
        copy_dir(&snapshot, &dir);
        let mut manifest = parsed.clone();
        change(&mut manifest);
        std::fs::write(
            dir.join(ward_snapshot::MANIFEST),
            serde_json::to_vec(&manifest).unwrap(),
        )
        .unwrap();
        dir
    };
    let later = changed("later", &|m| {
        use ward_primitives::codec::{Decode, Encode};
        let bytes = hex::decode(m.block.trim_start_matches("0x")).unwrap();
        let mut block = ward_state::BlockRecord::from_bytes(&bytes).unwrap();
        block.header.time += 1;
        m.block = format!("0x{}", hex::encode(block.to_bytes()));
    });
    let pricier = changed("pricier", &|m| {
        let record = hex::decode(m.settings["chain"].trim_start_matches("0x")).unwrap();
        let mut settings: Value = serde_json::from_slice(&record).unwrap();
        settings["min_gas_price"] = json!("7");
        settings["fee_collector"] = json!(format!("0x{}", "66".repeat(32)));
        m.settings.insert(
            "chain".into(),
            format!("0x{}", hex::encode(settings.to_string())),
        );
    });
    for (from, with_genesis, needle) in [
        (&later, false, "hashes to"),
        (&pricier, true, "min_gas_price"),
        (&pricier, true, "fee_collector"),
    ] {
        let into = root.join("refused");
        let refused = restore(from, &into, with_genesis);
        assert_eq!(refused.status.code(), Some(2));
        let error = last_json(&refused)["error"].clone();
        assert_eq!(error["kind"], "untrusted_snapshot", "{error}");
        assert!(
            error["message"].as_str().unwrap().contains(needle),
            "{error}"
        );
        assert!(!into.exists(), "nothing is left behind");
    }
    // Checked against the genesis: the settings are kept, and a node
    // serves the directory without being told the genesis again.
    let kept = root.join("kept");
    assert_eq!(restore(&snapshot, &kept, true).status.code(), Some(0));
    // The chain is a dev chain's, which registered the EVM runtime: a
    // node serving it registers the same.
    ward_testkit::contracts::build().unwrap();
    let evm = format!(
        "evm={}",
        ward_testkit::contracts::out_dir()
            .join("evm.wasm")
            .display()
    );
    let node = crate::node::serve_plain(&kept, &["--runtime", &evm]);
    let height =
        crate::node::rpc(&node.url, "getLatestBlock", json!({})).unwrap()["height"].clone();
    assert_eq!(height, 2);
    drop(node);
    // Without a genesis: not kept, so a node needs one.
    let bare = root.join("bare");
    let done = restore(&snapshot, &bare, false);
    assert_eq!(done.status.code(), Some(0));
    let refused = ward(&[
        "serve",
        "--data-dir",
        &path(&bare),
        "--listen",
        "127.0.0.1:0",
    ]);
    assert_eq!(refused.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("without its settings"), "{stderr}");
    let node = crate::node::serve_plain(&bare, &["--genesis", &path(&genesis), "--runtime", &evm]);
    let height =
        crate::node::rpc(&node.url, "getLatestBlock", json!({})).unwrap()["height"].clone();
    assert_eq!(height, 2);
    drop(node);
    drop(served);
    let _ = std::fs::remove_dir_all(&root);
}
