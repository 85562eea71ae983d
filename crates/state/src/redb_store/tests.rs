#![allow(clippy::unwrap_used, reason = "test")]

use super::batch::pack;
use super::*;
use std::{collections::BTreeMap, sync::Arc};

use crate::{BlockRecord, ContractInfo, Event, MemoryStore, Pruned, StateRead};

pub(super) fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-state-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

pub(super) fn sample_changes(height: u64) -> ChangeSet {
    let a = Address([1; 32]);
    let mut changes = ChangeSet::default();
    changes.code.insert(Hash32([2; 32]), b"\0asm code".to_vec());
    changes.contracts.insert(
        a,
        ContractInfo {
            code_hash: Hash32([2; 32]),
            deployer: Address([3; 32]),
            created_at: height,
            kind: ward_primitives::CodeKind::Ward,
            admin: None,
            history: Vec::new(),
        },
    );
    changes.storage.insert(
        (a, b"balance".to_vec()),
        Some(height.to_le_bytes().to_vec()),
    );
    changes.storage.insert((a, b"gone".to_vec()), None);
    changes
        .storage
        .insert((Address([4; 32]), b"other".to_vec()), Some(b"x".to_vec()));
    changes.block = Some(BlockRecord {
        header: crate::Header {
            height,
            time: 1000 + height,
            ..Default::default()
        },
        txs: vec![Hash32([height as u8; 32])],
    });
    changes.nonces.insert(Address([5; 32]), height);
    // A balance that grows, and one that is emptied at height 3.
    changes
        .balances
        .insert(Address([5; 32]), u128::from(height) << 100);
    changes
        .balances
        .insert(Address([8; 32]), if height == 3 { 0 } else { 7 });
    // A tree value per height for one key, removed at height 2.
    changes
        .tree
        .nodes
        .push((vec![height as u8], vec![0xee, height as u8]));
    let value = (height != 2).then(|| vec![height as u8]);
    changes.tree.values.push((Hash32([6; 32]), height, value));
    changes.receipts.push(Receipt {
        // A fee on every other receipt, and a runtime's gas on every third:
        // each combination of the optional tail round-trips.
        fee: u128::from(height % 2) * (u128::MAX - 1),
        tx: Hash32([height as u8; 32]),
        height,
        index: 0,
        status: crate::Status::Ok,
        exit_code: 0,
        output: vec![1, 2],
        gas_used: 99,
        events: vec![Event {
            contract: a,
            topic: b"transfer".to_vec(),
            data: vec![5],
        }],
        error_kind: None,
        error_message: None,
        address: None,
        runtime_gas: height.is_multiple_of(3).then_some(height),
    });
    changes
}

/// redb and the in-memory store answer every query the same, and redb's
/// answers survive reopening.
#[test]
fn redb_matches_memory_and_survives_reopening() {
    let dir = temp_dir("reopen");
    let memory = MemoryStore::default();
    {
        let redb = RedbStore::create(&dir).unwrap();
        assert_eq!(redb.height().unwrap(), 0);
        for height in 1..=3 {
            let changes = sample_changes(height);
            memory.commit(changes.clone()).unwrap();
            redb.commit(changes).unwrap();
        }
        // A removal committed later.
        let mut removal = ChangeSet::default();
        removal
            .storage
            .insert((Address([4; 32]), b"other".to_vec()), None);
        memory.commit(removal.clone()).unwrap();
        redb.commit(removal).unwrap();
    }
    let redb = RedbStore::open_read_only(&dir).unwrap();
    let stores: [&dyn StateRead; 2] = [&memory, &redb];
    let answers: Vec<_> = stores
        .iter()
        .map(|s| {
            (
                s.height().unwrap(),
                s.code(&Hash32([2; 32])).unwrap(),
                s.contract(&Address([1; 32])).unwrap(),
                s.storage(&Address([1; 32]), b"balance").unwrap(),
                s.storage_entries(&Address([1; 32])).unwrap(),
                s.storage_entries(&Address([4; 32])).unwrap(),
                s.block(2).unwrap(),
                s.receipt(&Hash32([3; 32])).unwrap(),
                (
                    s.nonce(&Address([5; 32])).unwrap(),
                    s.nonce(&Address([7; 32])).unwrap(),
                    s.block(2)
                        .unwrap()
                        .map(|b| s.block_height(&b.hash()).unwrap()),
                    s.tree_node(&[2]).unwrap(),
                    (0..=4)
                        .map(|v| s.tree_value(&Hash32([6; 32]), v).unwrap())
                        .collect::<Vec<_>>(),
                ),
                (
                    s.balance(&Address([5; 32])).unwrap(),
                    s.balance(&Address([8; 32])).unwrap(),
                    s.balance(&Address([9; 32])).unwrap(),
                    (1..=3)
                        .map(|h| s.receipt(&Hash32([h; 32])).unwrap())
                        .collect::<Vec<_>>(),
                ),
            )
        })
        .collect();
    assert_eq!(answers[0], answers[1]);
    let redb = &answers[1].8;
    assert_eq!((redb.0, redb.1, redb.2), (3, 0, Some(Some(2))));
    assert_eq!(redb.3, Some(vec![0xee, 2]));
    // The newest value at or before each version; a removal reads as none.
    assert_eq!(
        redb.4,
        [None, Some(vec![1]), None, Some(vec![3]), Some(vec![3])]
    );
    assert_eq!(answers[1].0, 3);
    let (grown, emptied, never, receipts) = &answers[1].9;
    assert_eq!((*grown, *emptied, *never), (3u128 << 100, 0, 0));
    let tails: Vec<_> = receipts
        .iter()
        .map(|r| r.as_ref().map(|r| (r.fee, r.runtime_gas)))
        .collect();
    assert_eq!(
        tails,
        [
            Some((u128::MAX - 1, None)),
            Some((0, None)),
            Some((u128::MAX - 1, Some(3)))
        ]
    );
    assert_eq!(answers[1].3, Some(3u64.to_le_bytes().to_vec()));
    assert!(answers[1].5.is_empty());
}

pub(super) fn receipt_of(id: u8, height: u64) -> Receipt {
    let mut receipt = sample_changes(height).receipts.remove(0);
    receipt.tx = Hash32([id; 32]);
    receipt.index = u32::from(id);
    receipt
}

/// Receipts and transactions are stored per commit and found by id: a
/// commit's own, a later commit with only one of the two for an id keeps
/// the other, and redb answers as the memory store does.
#[test]
fn receipts_and_transactions_are_found_by_id_across_batches() {
    let dir = temp_dir("batches");
    let memory = MemoryStore::default();
    let redb = RedbStore::create(&dir).unwrap();
    let first = ChangeSet {
        receipts: (10..20).map(|id| receipt_of(id, 1)).collect(),
        txs: (10..20)
            .map(|id| (Hash32([id; 32]), vec![id; id as usize]))
            .collect(),
        ..ChangeSet::default()
    };
    // Only transactions: 15 gets a new encoding and keeps its receipt.
    let second = ChangeSet {
        txs: vec![
            (Hash32([15; 32]), b"new".to_vec()),
            (Hash32([30; 32]), vec![]),
        ],
        ..ChangeSet::default()
    };
    let third = ChangeSet {
        receipts: vec![receipt_of(31, 3)],
        ..ChangeSet::default()
    };
    for changes in [first, second, third] {
        memory.commit(changes.clone()).unwrap();
        redb.commit(changes).unwrap();
    }
    for id in 0..40u8 {
        let id = Hash32([id; 32]);
        assert_eq!(redb.receipt(&id).unwrap(), memory.receipt(&id).unwrap());
        assert_eq!(
            redb.transaction(&id).unwrap(),
            memory.transaction(&id).unwrap()
        );
    }
    assert_eq!(
        redb.transaction(&Hash32([15; 32])).unwrap(),
        Some(b"new".to_vec())
    );
    assert_eq!(redb.transaction(&Hash32([30; 32])).unwrap(), Some(vec![]));
    assert!(redb.receipt(&Hash32([15; 32])).unwrap().is_some());
}

proptest::proptest! {
    /// A batch record's items come back as packed; any bytes at all read
    /// as a record never panic.
    #[test]
    fn batch_records_round_trip_and_garbage_is_refused(
        items in proptest::collection::vec(proptest::collection::vec(proptest::prelude::any::<u8>(), 0..20), 0..10),
        garbage in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        position in 0u32..12,
    ) {
        let record = pack(items.iter().map(Vec::as_slice));
        for (i, item) in items.iter().enumerate() {
            proptest::prop_assert_eq!(unpack(&record, i as u32), Some(item.as_slice()));
        }
        proptest::prop_assert_eq!(unpack(&record, items.len() as u32), None);
        let _ = unpack(&garbage, position);
        let _ = Place::from_bytes(&garbage);
    }
}

/// A backup is a store of its own with everything the original held when
/// it began: tables, blocks, receipts, transactions, tree and settings;
/// the original goes on, and a directory with a database is refused.
#[test]
fn a_backup_holds_the_store_as_it_was_and_opens_on_its_own() {
    use crate::StateScan;
    let dir = temp_dir("backup-source");
    let store = RedbStore::create(&dir).unwrap();
    // Each block with its transaction's encoding.
    let block = |height: u64| {
        let mut changes = sample_changes(height);
        changes
            .txs
            .push((Hash32([height as u8; 32]), vec![height as u8; 9]));
        changes
    };
    for height in 1..=3 {
        store.commit(block(height)).unwrap();
    }
    store.put_setting("chain", b"{}").unwrap();
    let copy_dir = temp_dir("backup-copy");
    assert_eq!(store.backup_into(&copy_dir).unwrap(), 3);
    store.commit(sample_changes(4)).unwrap();
    assert!(
        store.backup_into(&copy_dir).is_err(),
        "a second backup into it"
    );
    let copy = RedbStore::open(&copy_dir).unwrap();
    assert_eq!(copy.height().unwrap(), 3);
    let expected = MemoryStore::default();
    for height in 1..=3 {
        expected.commit(block(height)).unwrap();
    }
    let (_, mut want) = expected.whole_state().unwrap();
    want.settings.insert("chain".into(), b"{}".to_vec());
    assert_eq!(copy.whole_state().unwrap(), (3, want));
    for height in 1..=3u64 {
        let id = Hash32([height as u8; 32]);
        assert_eq!(copy.block(height).unwrap(), expected.block(height).unwrap());
        assert_eq!(copy.receipt(&id).unwrap(), expected.receipt(&id).unwrap());
        assert_eq!(copy.transaction(&id).unwrap(), Some(vec![height as u8; 9]));
        assert_eq!(
            copy.tree_value(&Hash32([6; 32]), height).unwrap(),
            expected.tree_value(&Hash32([6; 32]), height).unwrap()
        );
    }
    assert_eq!(copy.tree_node(&[3]).unwrap(), Some(vec![0xee, 3]));
    // The copy takes blocks of its own.
    copy.commit(sample_changes(4)).unwrap();
    assert_eq!(copy.height().unwrap(), 4);
    drop((store, copy));
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&copy_dir);
}

/// Blocks through the state tree into both stores, each with a
/// transaction and its receipt; pruning below a height deletes the same
/// in each: the replaced nodes, exactly the values no kept height reads,
/// and the older blocks with their transactions and receipts. Every root,
/// proof and value from that height on is as before.
#[test]
fn pruning_deletes_what_only_older_heights_need() {
    use ward_chain::tree::{self, StateKey};

    use redb::ReadableTableMetadata;

    use crate::{StatePrune, StateTree};
    let dir = temp_dir("prune");
    let redb = RedbStore::create(&dir).unwrap();
    let memory = MemoryStore::default();
    let keys: Vec<Vec<u8>> = (0..120u32)
        .map(|n| StateKey::Storage(&Address([9; 32]), &n.to_le_bytes()).to_bytes())
        .collect();
    let (keep_from, top) = (8u64, 12u64);
    let mut roots = Vec::new();
    // Per key, the heights it was written at and whether with a value.
    let mut written: BTreeMap<u32, Vec<(u64, bool)>> = BTreeMap::new();
    for height in 1..=top {
        let mut changes = ChangeSet::default();
        for n in 0..120u32 {
            // Most keys rewritten, some removed and written again.
            if (u64::from(n) + height) % 3 != 0 {
                let value = ((u64::from(n) * 31 + height) % 7 != 0)
                    .then(|| (u64::from(n) * height).to_le_bytes().to_vec());
                written
                    .entry(n)
                    .or_default()
                    .push((height, value.is_some()));
                changes
                    .storage
                    .insert((Address([9; 32]), n.to_le_bytes().to_vec()), value);
            }
        }
        let update = tree::update(&StateTree(&redb), height, &changes.tree_changes()).unwrap();
        roots.push(update.root);
        let id = u8::try_from(height).unwrap();
        changes.receipts = vec![receipt_of(id, height)];
        changes.txs = vec![(Hash32([id; 32]), vec![id; 40])];
        changes.block = Some(BlockRecord {
            header: crate::Header {
                height,
                state_root: update.root,
                ..Default::default()
            },
            txs: vec![Hash32([id; 32])],
        });
        changes.tree = update;
        memory.commit(changes.clone()).unwrap();
        redb.commit(changes).unwrap();
    }
    let proofs = |store: &dyn Fn(u64, &[u8]) -> tree::Proven| -> Vec<tree::Proven> {
        (keep_from..=top)
            .flat_map(|h| keys.iter().map(move |k| (h, k)))
            .map(|(h, k)| store(h, k))
            .collect()
    };
    let before = proofs(&|h, k| tree::prove(&StateTree(&redb), h, k).unwrap());
    let hashes: Vec<Hash32> = (1..=top)
        .map(|h| redb.block(h).unwrap().unwrap().hash())
        .collect();
    let pruned = redb.prune(keep_from).unwrap();
    assert!(pruned.nodes > 100, "{pruned:?}");
    assert_eq!(pruned.blocks, keep_from - 1);
    assert_eq!(pruned.txs, keep_from - 1);
    assert_eq!(memory.prune(keep_from).unwrap(), pruned);
    assert_eq!(
        redb.prune(keep_from).unwrap(),
        Pruned::default(),
        "pruned once"
    );
    assert_eq!(redb.prune(3).unwrap(), Pruned::default(), "never lower");
    // What stays of each key: every write after the cut, and the last one
    // at or before it when that was a value (a removal reads as nothing).
    let kept: u64 = written
        .values()
        .map(|writes| {
            let after = writes.iter().filter(|(h, _)| *h > keep_from).count() as u64;
            let last = writes.iter().rev().find(|(h, _)| *h <= keep_from);
            after + u64::from(last.is_some_and(|(_, some)| *some))
        })
        .sum();
    let total: u64 = written.values().map(|w| w.len() as u64).sum();
    assert_eq!(pruned.values, total - kept);
    let stored = redb
        .read(|txn| Ok(txn.open_table(TREE_VALUES)?.len()?))
        .unwrap();
    assert_eq!(stored, kept);
    for store in [&redb as &dyn StateRead, &memory] {
        for h in keep_from..=top {
            assert_eq!(
                tree::root(&StateTree(store), h).unwrap(),
                roots[h as usize - 1]
            );
        }
        assert_eq!(
            proofs(&|h, k| tree::prove(&StateTree(store), h, k).unwrap()),
            before
        );
        for h in 1..=top {
            let id = Hash32([u8::try_from(h).unwrap(); 32]);
            let kept = h >= keep_from;
            assert_eq!(store.block(h).unwrap().is_some(), kept, "block {h}");
            let hash = &hashes[h as usize - 1];
            assert_eq!(store.block_height(hash).unwrap().is_some(), kept);
            assert_eq!(store.receipt(&id).unwrap().is_some(), kept, "receipt {h}");
            assert_eq!(store.transaction(&id).unwrap().is_some(), kept);
        }
    }
    assert_eq!(redb.pruned_below().unwrap(), keep_from);
    assert_eq!(memory.pruned_below().unwrap(), keep_from);
    let batches = redb
        .read(
            |txn| Ok(txn.open_table(RECEIPT_BATCHES)?.len()? + txn.open_table(TX_BATCHES)?.len()?),
        )
        .unwrap();
    assert_eq!(batches, 2 * (top - keep_from + 1), "older batches deleted");
    // Below the cut the tree is gone, as pruning said it might be.
    assert!(tree::root(&StateTree(&redb), 2).is_err());
    drop(redb);
    let _ = std::fs::remove_dir_all(&dir);
}

/// A store whose history pruning deleted is compacted to a fraction of
/// its length, and reads as before; a store mostly in use is left alone.
#[test]
fn a_mostly_free_file_is_compacted_and_reads_as_before() {
    use crate::StatePrune;
    let dir = temp_dir("compact");
    let store = RedbStore::create(&dir).unwrap();
    for height in 1..=40u64 {
        let mut changes = sample_changes(height);
        let id = Hash32([u8::try_from(height).unwrap(); 32]);
        changes.receipts[0].tx = id;
        changes.txs = vec![(id, vec![7; 256 << 10])];
        changes.block = Some(BlockRecord {
            header: crate::Header {
                height,
                ..Default::default()
            },
            txs: vec![id],
        });
        store.commit(changes).unwrap();
    }
    let full = store.file_len().unwrap();
    assert!(full > 10 << 20, "{full}");
    assert_eq!(store.compact_if_sparse(1 << 20).unwrap(), None, "in use");
    store.prune(38).unwrap();
    assert_eq!(
        store.compact_if_sparse(u64::MAX).unwrap(),
        None,
        "too small"
    );
    let (before, after) = store.compact_if_sparse(1 << 20).unwrap().unwrap();
    assert_eq!(before, full);
    assert!(after < full / 4, "{after} of {full}");
    for height in 38..=40u8 {
        let tx = store.transaction(&Hash32([height; 32])).unwrap().unwrap();
        assert_eq!(tx.len(), 256 << 10);
    }
    assert_eq!(store.height().unwrap(), 40);
    drop(store);
    let store = RedbStore::open(&dir).unwrap();
    assert_eq!(store.block(40).unwrap().unwrap().header.height, 40);
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

// Savepoints (`savepoint.rs`).

fn write_k(store: &RedbStore, value: &[u8]) {
    let mut changes = ChangeSet::default();
    changes
        .storage
        .insert((Address([1; 32]), b"k".to_vec()), Some(value.to_vec()));
    store.commit(changes).unwrap();
}

fn read_k(store: &RedbStore) -> Option<Vec<u8>> {
    store.storage(&Address([1; 32]), b"k").unwrap()
}

#[test]
fn a_restore_puts_back_that_moment_and_forgets_it_and_later_ones() {
    let dir = temp_dir("savepoints");
    let store = RedbStore::create(&dir).unwrap();
    write_k(&store, b"one");
    let first = store.savepoint().unwrap();
    write_k(&store, b"two");
    let second = store.savepoint().unwrap();
    write_k(&store, b"three");
    assert!(second > first);
    assert_eq!(store.savepoints().unwrap(), [first, second]);

    assert!(store.restore_savepoint(second).unwrap());
    assert_eq!(read_k(&store).as_deref(), Some(&b"two"[..]));
    assert_eq!(store.savepoints().unwrap(), [first]);
    assert!(!store.restore_savepoint(second).unwrap(), "used up");

    write_k(&store, b"four");
    assert!(store.restore_savepoint(first).unwrap());
    assert_eq!(read_k(&store).as_deref(), Some(&b"one"[..]));
    assert!(store.savepoints().unwrap().is_empty());
    assert!(!store.restore_savepoint(12345).unwrap());
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn savepoints_survive_a_restart() {
    let dir = temp_dir("savepoint-restart");
    let id = {
        let store = RedbStore::create(&dir).unwrap();
        write_k(&store, b"kept");
        let id = store.savepoint().unwrap();
        write_k(&store, b"lost");
        id
    };
    let store = RedbStore::open(&dir).unwrap();
    assert_eq!(read_k(&store).as_deref(), Some(&b"lost"[..]));
    assert!(store.restore_savepoint(id).unwrap());
    assert_eq!(read_k(&store).as_deref(), Some(&b"kept"[..]));
    drop(store);
    let store = RedbStore::open(&dir).unwrap();
    assert_eq!(read_k(&store).as_deref(), Some(&b"kept"[..]));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

// Forked stores (`fork.rs`).

/// An upstream chain held in maps, counting what it is asked.
#[derive(Default)]
struct FakeUpstream {
    values: BTreeMap<(Hash32, u64), Vec<u8>>,
    code: BTreeMap<Hash32, Vec<u8>>,
    asked: std::sync::atomic::AtomicUsize,
    down: std::sync::atomic::AtomicBool,
}

impl FakeUpstream {
    fn asked(&self) -> usize {
        self.asked.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl Upstream for FakeUpstream {
    fn tree_value(&self, key_hash: &Hash32, height: u64) -> Result<Option<Vec<u8>>, StateError> {
        self.asked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if self.down.load(std::sync::atomic::Ordering::Relaxed) {
            return Err(StateError::Upstream("down".into()));
        }
        Ok(self.values.get(&(*key_hash, height)).cloned())
    }

    fn code(&self, hash: &Hash32) -> Result<Option<Vec<u8>>, StateError> {
        self.asked
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Ok(self.code.get(hash).cloned())
    }
}

fn tree_key(key: ward_chain::tree::StateKey<'_>) -> Hash32 {
    ward_chain::tree::key_hash(&key.to_bytes())
}

#[test]
fn a_forked_store_reads_what_it_lacks_from_upstream_once_and_keeps_its_own_writes() {
    use ward_chain::tree::StateKey;
    let (a, k) = (Address([1; 32]), b"k".as_slice());
    let code = b"\0asm upstream".to_vec();
    let code_hash = Hash32(*blake3::hash(&code).as_bytes());
    let info = ContractInfo {
        code_hash,
        deployer: Address([3; 32]),
        created_at: 2,
        kind: ward_primitives::CodeKind::Ward,
        admin: None,
        history: Vec::new(),
    };
    let mut upstream = FakeUpstream::default();
    let at = |key, height: u64, value: Vec<u8>| ((tree_key(key), height), value);
    upstream.values.extend([
        at(StateKey::Storage(&a, k), 10, b"ten".to_vec()),
        at(StateKey::Storage(&a, k), 5, b"five".to_vec()),
        at(StateKey::Contract(&a), 10, info.to_bytes()),
        at(StateKey::Code(&code_hash), 10, code_hash.0.to_vec()),
        at(StateKey::Balance(&a), 10, 70u128.to_le_bytes().to_vec()),
        at(StateKey::Nonce(&a), 10, 3u64.to_le_bytes().to_vec()),
    ]);
    upstream.code.insert(code_hash, code.clone());
    let upstream = Arc::new(upstream);
    let dir = temp_dir("fork");
    let store = RedbStore::create(&dir).unwrap();
    assert_eq!(store.forked_at(), None);
    store.fork_from(upstream.clone(), 10).unwrap();
    assert!(store.fork_from(upstream.clone(), 10).is_err(), "once");
    assert_eq!(store.forked_at(), Some(10));

    // Each read through once, then kept (absent values too).
    assert_eq!(store.storage(&a, k).unwrap().as_deref(), Some(&b"ten"[..]));
    assert_eq!(store.contract(&a).unwrap(), Some(info.clone()));
    assert_eq!(store.code(&code_hash).unwrap(), Some(code.clone()));
    assert_eq!(store.balance(&a).unwrap(), 70);
    assert_eq!(store.nonce(&a).unwrap(), 3);
    assert_eq!(store.storage(&a, b"none").unwrap(), None);
    let asked = upstream.asked();
    assert_eq!(store.storage(&a, k).unwrap().as_deref(), Some(&b"ten"[..]));
    assert_eq!(store.contract(&a).unwrap(), Some(info));
    assert_eq!(store.code(&code_hash).unwrap(), Some(code));
    assert_eq!(store.balance(&a).unwrap(), 70);
    assert_eq!(store.nonce(&a).unwrap(), 3);
    assert_eq!(store.storage(&a, b"none").unwrap(), None);
    assert_eq!(upstream.asked(), asked, "nothing asked twice");
    // Code the upstream's state does not name is not asked for.
    assert_eq!(store.code(&Hash32([9; 32])).unwrap(), None);

    // The fork's own blocks win: a write, then a removal of a key it never
    // read, which stays removed.
    let write = |height: u64, key: &[u8], value: Option<&[u8]>| {
        let mut changes = ChangeSet::default();
        changes
            .storage
            .insert((a, key.to_vec()), value.map(<[u8]>::to_vec));
        changes.tree.values.push((
            tree_key(StateKey::Storage(&a, key)),
            height,
            value.map(<[u8]>::to_vec),
        ));
        store.commit(changes).unwrap();
    };
    write(11, k, Some(b"mine"));
    assert_eq!(store.storage(&a, k).unwrap().as_deref(), Some(&b"mine"[..]));
    write(12, b"other", None);
    let asked = upstream.asked();
    assert_eq!(store.storage(&a, b"other").unwrap(), None);
    assert_eq!(upstream.asked(), asked, "a removal is the fork's own");
    write(13, k, None);
    assert_eq!(store.storage(&a, k).unwrap(), None);

    // Heights before the fork are the upstream's, and not kept.
    let old = store
        .tree_value(&tree_key(StateKey::Storage(&a, k)), 5)
        .unwrap();
    assert_eq!(old.as_deref(), Some(&b"five"[..]));
    let asked = upstream.asked();
    store
        .tree_value(&tree_key(StateKey::Storage(&a, k)), 5)
        .unwrap();
    assert_eq!(upstream.asked(), asked + 1);

    // An upstream that cannot answer is an error of its own kind.
    upstream
        .down
        .store(true, std::sync::atomic::Ordering::Relaxed);
    assert!(matches!(
        store.storage(&a, b"never read"),
        Err(StateError::Upstream(_))
    ));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}
