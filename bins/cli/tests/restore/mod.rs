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
    let restore = |into: &Path, from: &Path| {
        ward(&[
            "snapshot",
            "restore",
            &path(from),
            "--data-dir",
            &path(into),
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
    assert!(!into.join(ward_state::DATABASE_FILE).exists());
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
