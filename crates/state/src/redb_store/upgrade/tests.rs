//! The format version and the upgrades from older formats.

#![allow(clippy::unwrap_used, reason = "test")]

use redb::{ReadableDatabase, ReadableTable, WriteTransaction};

use super::*;
use crate::redb_store::{
    DATABASE_FILE, FORMAT_KEY, META, RECEIPT_BATCHES, RedbStore, SETTINGS, TREE_STALE, TX_BATCHES,
    TX_INDEX,
    tests::{receipt_of, sample_changes, temp_dir},
};
use crate::{Encode, Hash32, Receipt, STORAGE_FORMAT_VERSION, StateCommit, StateError, StateRead};

/// A write transaction on the store's database itself, to make it look
/// like another format.
fn raw_write(store: &RedbStore) -> WriteTransaction {
    let db = store.db.read().unwrap();
    db.as_ref().unwrap().begin_write().unwrap()
}

#[test]
fn another_format_version_is_refused() {
    let dir = temp_dir("version");
    {
        let store = RedbStore::create(&dir).unwrap();
        let txn = raw_write(&store);
        {
            let mut meta = txn.open_table(META).unwrap();
            meta.insert(FORMAT_KEY, 999).unwrap();
        }
        txn.commit().unwrap();
    }
    assert!(matches!(
        RedbStore::open(&dir),
        Err(StateError::FormatVersion { found: 999, .. })
    ));
    assert!(matches!(
        RedbStore::open_read_only(&dir),
        Err(StateError::FormatVersion { found: 999, .. })
    ));
}

/// docs/storage-format.md states the version this build writes.
#[test]
fn the_format_document_states_this_version() {
    let doc = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/storage-format.md"),
    )
    .unwrap();
    let title = format!("# Storage format (version {STORAGE_FORMAT_VERSION})");
    assert!(doc.starts_with(&title), "{title}");
    let row = format!("| `meta` | `\"format_version\"` | `u64`: {STORAGE_FORMAT_VERSION} |");
    assert!(doc.contains(&row), "{row}");
}

fn tx_id(n: u16) -> Hash32 {
    let mut id = [7u8; 32];
    id[..2].copy_from_slice(&n.to_be_bytes());
    Hash32(id)
}

/// A node's format 2 store (receipts and transactions each under its id)
/// is refused read-only and upgraded by the first writable open, losing
/// nothing.
#[test]
fn a_format_2_store_is_upgraded_by_a_writable_open() {
    let dir = temp_dir("upgrade");
    let receipts: Vec<Receipt> = (1..=5).map(|id| receipt_of(id, 1)).collect();
    {
        let store = RedbStore::create(&dir).unwrap();
        let txn = raw_write(&store);
        {
            txn.delete_table(RECEIPT_BATCHES).unwrap();
            txn.delete_table(TX_BATCHES).unwrap();
            txn.delete_table(TX_INDEX).unwrap();
            let mut old = txn.open_table(RECEIPTS).unwrap();
            for receipt in &receipts {
                old.insert(receipt.tx.0.as_slice(), receipt.to_bytes().as_slice())
                    .unwrap();
            }
            // More than two upgrade batches of transactions.
            let mut old = txn.open_table(TXS).unwrap();
            for n in 0..2_100u16 {
                old.insert(tx_id(n).0.as_slice(), n.to_le_bytes().as_slice())
                    .unwrap();
            }
            // A node's store: it records its chain's settings.
            let mut settings = txn.open_table(SETTINGS).unwrap();
            settings.insert("chain", b"node".as_slice()).unwrap();
            let mut meta = txn.open_table(META).unwrap();
            meta.insert(FORMAT_KEY, 2).unwrap();
        }
        txn.commit().unwrap();
    }
    assert!(matches!(
        RedbStore::open_read_only(&dir),
        Err(StateError::FormatVersion {
            found: 2,
            expected: STORAGE_FORMAT_VERSION
        })
    ));
    drop(RedbStore::open(&dir).unwrap());
    let store = RedbStore::open_read_only(&dir).unwrap();
    for receipt in &receipts {
        assert_eq!(store.receipt(&receipt.tx).unwrap().as_ref(), Some(receipt));
    }
    for n in 0..2_100u16 {
        assert_eq!(
            store.transaction(&tx_id(n)).unwrap(),
            Some(n.to_le_bytes().to_vec())
        );
    }
    assert_eq!(store.receipt(&Hash32([9; 32])).unwrap(), None);
}

/// A format 3 store is refused read-only and upgraded by a writable open:
/// its index of replaced nodes starts empty and fills from then on.
#[test]
fn a_format_3_store_is_upgraded_to_index_replaced_nodes() {
    let dir = temp_dir("format3");
    {
        let store = RedbStore::create(&dir).unwrap();
        store.commit(sample_changes(1)).unwrap();
        store
            .write(|txn| {
                txn.delete_table(TREE_STALE)?;
                txn.open_table(META)?.insert(FORMAT_KEY, 3)?;
                Ok(())
            })
            .unwrap();
    }
    assert!(matches!(
        RedbStore::open_read_only(&dir),
        Err(StateError::FormatVersion { found: 3, .. })
    ));
    let store = RedbStore::open(&dir).unwrap();
    assert_eq!(
        store.format_version().unwrap(),
        Some(u64::from(STORAGE_FORMAT_VERSION))
    );
    let mut changes = sample_changes(2);
    changes.tree.stale.push(vec![1]);
    store.commit(changes).unwrap();
    assert_eq!(crate::StatePrune::prune(&store, 2).unwrap().nodes, 1);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Format 6 changed the encoding of an embedder's unsigned transactions
/// only. A format 5 store that records a node's settings, or holds no
/// transaction, is upgraded by a writable open; an embedder's store with
/// transactions is refused, typed, and left as it was.
#[test]
fn a_format_5_store_is_upgraded_unless_it_may_hold_unsigned_transactions() {
    let format_5 = |name: &str, setting: bool, tx: bool| {
        let dir = temp_dir(name);
        let store = RedbStore::create(&dir).unwrap();
        let mut changes = sample_changes(1);
        if tx {
            changes.txs.push((Hash32([1; 32]), vec![0, 1, 2]));
        }
        store.commit(changes).unwrap();
        if setting {
            store.put_setting("chain", b"node").unwrap();
        }
        store
            .write(|txn| {
                txn.open_table(META)?.insert(FORMAT_KEY, 5)?;
                Ok(())
            })
            .unwrap();
        drop(store);
        dir
    };
    for (name, setting, tx) in [("f5-node", true, true), ("f5-empty", false, false)] {
        let dir = format_5(name, setting, tx);
        assert!(matches!(
            RedbStore::open_read_only(&dir),
            Err(StateError::FormatVersion { found: 5, .. })
        ));
        let store = RedbStore::open(&dir).unwrap();
        assert_eq!(
            store.format_version().unwrap(),
            Some(u64::from(STORAGE_FORMAT_VERSION)),
            "{name}"
        );
        assert_eq!(store.height().unwrap(), 1);
        if tx {
            assert_eq!(
                store.transaction(&Hash32([1; 32])).unwrap(),
                Some(vec![0, 1, 2])
            );
        }
        drop(store);
        let _ = std::fs::remove_dir_all(&dir);
    }
    let dir = format_5("f5-embedder", false, true);
    for _ in 0..2 {
        let refused = RedbStore::open(&dir).err().unwrap();
        assert!(
            matches!(
                refused,
                StateError::Unupgradable {
                    found: 5,
                    expected: STORAGE_FORMAT_VERSION,
                    ..
                }
            ),
            "{refused:?}"
        );
        assert!(refused.to_string().contains("unsigned transactions"));
    }
    assert!(matches!(
        RedbStore::create(&dir),
        Err(StateError::Unupgradable { found: 5, .. })
    ));
    // Still format 5, its transaction where it was.
    let db = redb::Database::open(dir.join(DATABASE_FILE)).unwrap();
    let txn = db.begin_read().unwrap();
    let meta = txn.open_table(META).unwrap();
    assert_eq!(meta.get(FORMAT_KEY).unwrap().map(|v| v.value()), Some(5));
    assert!(
        txn.open_table(TX_BATCHES)
            .unwrap()
            .first()
            .unwrap()
            .is_some()
    );
    drop((meta, txn, db));
    let _ = std::fs::remove_dir_all(&dir);
}
