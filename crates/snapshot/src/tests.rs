#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test")]

use proptest::prelude::*;
use ward_chain::tree::StateKey;
use ward_primitives::CodeKind;
use ward_state::{
    ChangeSet, Encode, Header, MemoryStore, RedbStore, StateCommit, StateRead, StateScan, StateTree,
};

use super::*;

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-snapshot-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    dir
}

/// What a test restore trusts: the block hash of the snapshot it made,
/// and whatever settings it carries (they are its own).
fn trust(made: &Verified) -> Trust<'static> {
    Trust {
        block_hash: made.block_hash(),
        settings: Some(&any_settings),
    }
}

fn any_settings(_: &BTreeMap<String, Vec<u8>>) -> Result<(), String> {
    Ok(())
}

/// A chain's blocks, committed the way the executor does: the change set,
/// its tree update, and a block whose header carries the root.
struct Chain<S> {
    store: S,
    height: u64,
}

impl<S: StateCommit + StateRead + Sync> Chain<S> {
    fn new(store: S) -> Self {
        Chain { store, height: 0 }
    }

    fn block(&mut self, mut changes: ChangeSet) -> Hash32 {
        self.height += 1;
        let update = tree::update(
            &StateTree(&self.store),
            self.height,
            &changes.tree_changes(),
        )
        .unwrap();
        let root = update.root;
        changes.tree = update;
        changes.block = Some(BlockRecord {
            header: Header {
                height: self.height,
                time: 1000 + self.height,
                state_root: root,
                ..Default::default()
            },
            txs: vec![],
        });
        self.store.commit(changes).unwrap();
        root
    }
}

fn address(n: u32) -> Address {
    let mut a = [0u8; 32];
    a[..4].copy_from_slice(&n.to_be_bytes());
    Address(a)
}

/// Block `round`'s changes: every kind of state, some of it removed later.
fn changes(round: u32, accounts: u32) -> ChangeSet {
    let mut c = ChangeSet::default();
    c.settings
        .insert(format!("setting-{}", round % 2), vec![round as u8; 3]);
    let code = format!("\0asm code of round {round}").into_bytes();
    let hash = Hash32(*blake3::hash(&code).as_bytes());
    c.code.insert(hash, code);
    c.contracts.insert(
        address(10_000 + round),
        ContractInfo {
            code_hash: hash,
            deployer: address(round),
            created_at: u64::from(round),
            kind: if round.is_multiple_of(2) {
                CodeKind::Ward
            } else {
                CodeKind::Runtime(ward_primitives::RuntimeName::new("evm").unwrap())
            },
            // Some upgradable, some upgraded: their longer records too.
            admin: round.is_multiple_of(3).then(|| address(round + 1)),
            history: if round.is_multiple_of(5) {
                vec![(0, Hash32([1; 32])), (u64::from(round), hash)]
            } else {
                Vec::new()
            },
        },
    );
    for n in 0..accounts {
        let who = address(n);
        c.nonces.insert(who, u64::from(round));
        c.balances
            .insert(who, u128::from(n + round) * 1_000_000_007);
        let key = format!("slot-{}", n % 7).into_bytes();
        let value = !(n + round).is_multiple_of(5);
        c.storage.insert(
            (address(10_000 + n % 3), key),
            value.then(|| vec![round as u8; (n % 40) as usize + 1]),
        );
    }
    c
}

fn every_key(store: &impl StateScan) -> Vec<Vec<u8>> {
    store
        .whole_state()
        .unwrap()
        .1
        .tree_changes()
        .into_keys()
        .collect()
}

fn assert_same_state<A, B>(a: &A, b: &B, height: u64)
where
    A: StateRead + StateScan,
    B: StateRead + StateScan,
{
    let (_, state_a) = a.whole_state().unwrap();
    let (height_b, state_b) = b.whole_state().unwrap();
    assert_eq!(height_b, height);
    assert_eq!(state_a, state_b, "tables");
    assert_eq!(a.block(height).unwrap(), b.block(height).unwrap());
    let root_a = tree::root(&StateTree(a), height).unwrap();
    assert_eq!(tree::root(&StateTree(b), height).unwrap(), root_a);
    let mut keys = every_key(a);
    keys.push(StateKey::Storage(&address(3), b"never written").to_bytes());
    keys.push(StateKey::Nonce(&address(999_999)).to_bytes());
    for key in keys {
        let proven = tree::prove(&StateTree(a), height, &key).unwrap();
        assert_eq!(tree::prove(&StateTree(b), height, &key).unwrap(), proven);
        tree::verify(&root_a, &key, proven.value.as_deref(), &proven.proof).unwrap();
    }
}

/// A snapshot of a chain restores into a memory store and a redb store:
/// the same tables, block, root and proof of every key (and of absent
/// ones), and the next block gives the same root on all three.
#[test]
fn a_snapshot_restores_the_same_state_roots_and_proofs() {
    let mut chain = Chain::new(MemoryStore::default());
    for round in 1..=6 {
        chain.block(changes(round, 60));
    }
    let dir = temp_dir("restore");
    let limits = Limits {
        leaves: 16,
        bytes: 600,
    };
    let made = create(&chain.store, None, &dir, limits).unwrap();
    assert_eq!(made.height(), 6);
    assert!(
        made.manifest.chunks.len() > 10,
        "{}",
        made.manifest.chunks.len()
    );
    let leaves = every_key(&chain.store).len() as u64;
    assert_eq!(made.manifest.leaves, leaves);
    for chunk in &made.manifest.chunks {
        let n: u64 = chunk.subtrees.iter().map(|s| s.leaves).sum();
        assert!(n <= 16 && n > 0);
        assert_eq!(
            fs::metadata(dir.join(&chunk.file)).unwrap().len(),
            chunk.bytes
        );
    }

    let memory = MemoryStore::default();
    restore(&dir, &memory, &trust(&made)).unwrap();
    assert_same_state(&chain.store, &memory, 6);
    let redb_dir = temp_dir("restore-redb");
    let redb = RedbStore::create(&redb_dir).unwrap();
    restore(&dir, &redb, &trust(&made)).unwrap();
    assert_same_state(&chain.store, &redb, 6);
    // A store that holds anything is refused.
    assert!(matches!(
        restore(&dir, &redb, &trust(&made)),
        Err(SnapshotError::Refused(_))
    ));

    let expected = chain.block(changes(7, 80));
    let mut restored = Chain {
        store: memory,
        height: 6,
    };
    assert_eq!(restored.block(changes(7, 80)), expected);
    let mut restored = Chain {
        store: redb,
        height: 6,
    };
    assert_eq!(restored.block(changes(7, 80)), expected);

    // Into a directory that is not empty: refused.
    assert!(matches!(
        create(&chain.store, None, &dir, limits),
        Err(SnapshotError::Refused(_))
    ));
    let _ = fs::remove_dir_all(&dir);
    let _ = fs::remove_dir_all(&redb_dir);
}

/// A past height is rebuilt from the tree's versioned values while no key
/// has been removed since; after a removal it is refused, never wrong.
#[test]
fn a_past_height_is_rebuilt_or_refused() {
    let mut chain = Chain::new(MemoryStore::default());
    let mut only_writes = changes(1, 20);
    only_writes.storage.retain(|_, v| v.is_some());
    let root_1 = chain.block(only_writes);
    let mut more = changes(2, 30);
    more.storage.retain(|_, v| v.is_some());
    chain.block(more);
    let dir = temp_dir("past");
    let made = create(&chain.store, Some(1), &dir, Limits::default()).unwrap();
    assert_eq!(made.state_root(), root_1);
    let memory = MemoryStore::default();
    restore(&dir, &memory, &trust(&made)).unwrap();
    assert_eq!(tree::root(&StateTree(&memory), 1).unwrap(), root_1);
    let _ = fs::remove_dir_all(&dir);

    // Block 3 removes a key block 1 had.
    let mut removal = ChangeSet::default();
    removal
        .storage
        .insert((address(10_000), b"slot-1".to_vec()), None);
    chain.block(removal);
    let err = create(&chain.store, Some(1), &dir, Limits::default()).unwrap_err();
    assert!(
        err.to_string().contains("snapshot the latest block"),
        "{err}"
    );
    assert!(!dir.join(MANIFEST).exists());
    assert!(matches!(
        create(&chain.store, Some(9), &dir, Limits::default()),
        Err(SnapshotError::Refused(_))
    ));
    let _ = fs::remove_dir_all(&dir);
}

/// Every altered byte of a chunk is refused by that chunk's own check, and
/// a manifest that does not match its block or its chunks is refused.
#[test]
fn altered_chunks_and_manifests_are_refused() {
    let mut chain = Chain::new(MemoryStore::default());
    chain.block(changes(1, 12));
    let dir = temp_dir("altered");
    let made = create(
        &chain.store,
        None,
        &dir,
        Limits {
            leaves: 8,
            bytes: 1 << 20,
        },
    )
    .unwrap();
    let first = fs::read(dir.join(&made.manifest.chunks[0].file)).unwrap();
    let entries = made.chunk(0, &first).unwrap();
    assert!(!entries.is_empty());
    for at in 0..first.len() {
        let mut bytes = first.clone();
        bytes[at] ^= 0x21;
        assert!(made.chunk(0, &bytes).is_err(), "byte {at}");
    }
    // Another chunk's bytes, a chunk cut short, and an entry dropped.
    if made.manifest.chunks.len() > 1 {
        let second = fs::read(dir.join(&made.manifest.chunks[1].file)).unwrap();
        assert!(made.chunk(0, &second).is_err());
    }
    assert!(made.chunk(0, &first[..first.len() - 1]).is_err());
    let fewer = encode_chunk(made.height(), entries.iter().skip(1));
    assert!(made.chunk(0, &fewer).is_err());
    assert!(made.chunk(99, &first).is_err());

    let good = made.manifest.clone();
    let mut wrong_root = good.clone();
    wrong_root.chunks[0].subtrees[0].hash = hex0x([7u8; 32]);
    let mut wrong_count = good.clone();
    wrong_count.leaves += 1;
    let mut wrong_height = good.clone();
    wrong_height.height += 1;
    let mut wrong_format = good.clone();
    wrong_format.format = 2;
    let mut escaping = good.clone();
    escaping.chunks[0].file = "../chunk".into();
    let mut dropped = good.clone();
    dropped.chunks.remove(0);
    let mut bad_setting = good.clone();
    bad_setting.settings.insert("x".into(), "0xzz".into());
    for (what, manifest) in [
        ("subtree hash", wrong_root),
        ("leaf count", wrong_count),
        ("height", wrong_height),
        ("format", wrong_format),
        ("file name", escaping),
        ("missing chunk", dropped),
        ("setting", bad_setting),
    ] {
        assert!(
            matches!(manifest.verify(), Err(SnapshotError::Manifest(_))),
            "{what}"
        );
    }
    assert!(Manifest::parse(b"{\"format\": 1}").is_err());
    let _ = fs::remove_dir_all(&dir);
}

/// What the state root does not cover is checked against what the
/// restore trusts: a block record whose time was changed (so its hash)
/// is refused against the chain's hash; settings are kept only when the
/// caller's check passes them, refused when it does not, and dropped when
/// there is no check.
#[test]
fn a_restore_keeps_only_what_it_can_check() {
    let mut chain = Chain::new(MemoryStore::default());
    chain.block(changes(1, 20));
    let mut settings = ChangeSet::default();
    settings
        .settings
        .insert("chain".into(), b"{\"min_gas_price\": \"2\"}".to_vec());
    chain.block(settings);
    let dir = temp_dir("trust");
    let made = create(&chain.store, None, &dir, Limits::default()).unwrap();
    assert!(made.manifest.settings.contains_key("chain"));
    // The block's time changed in the manifest: it verifies (the root is
    // the same) but is not the chain's block.
    let original = fs::read(dir.join(MANIFEST)).unwrap();
    let mut changed = made.manifest.clone();
    let mut block = made.block.clone();
    block.header.time += 1;
    changed.block = hex0x(block.to_bytes());
    fs::write(dir.join(MANIFEST), serde_json::to_vec(&changed).unwrap()).unwrap();
    Manifest::read(&dir).unwrap().verify().unwrap();
    let refused = restore(&dir, &MemoryStore::default(), &trust(&made)).unwrap_err();
    assert!(matches!(refused, SnapshotError::Untrusted(_)), "{refused}");
    fs::write(dir.join(MANIFEST), &original).unwrap();
    // No settings check: restored without them.
    let plain = MemoryStore::default();
    restore(&dir, &plain, &Trust::block(made.block_hash())).unwrap();
    assert_eq!(plain.whole_state().unwrap().1.settings, BTreeMap::new());
    // A check that refuses: nothing restored; one that passes: kept.
    let refuse = |_: &BTreeMap<String, Vec<u8>>| Err("not this chain's".to_owned());
    let store = MemoryStore::default();
    let refused = restore(
        &dir,
        &store,
        &Trust {
            block_hash: made.block_hash(),
            settings: Some(&refuse),
        },
    )
    .unwrap_err();
    assert!(matches!(refused, SnapshotError::Untrusted(_)), "{refused}");
    assert_eq!(store.whole_state().unwrap().0, 0, "nothing was committed");
    let accept = |s: &BTreeMap<String, Vec<u8>>| {
        s.contains_key("chain")
            .then_some(())
            .ok_or_else(|| "the chain's settings".to_owned())
    };
    let kept = MemoryStore::default();
    restore(
        &dir,
        &kept,
        &Trust {
            block_hash: made.block_hash(),
            settings: Some(&accept),
        },
    )
    .unwrap();
    assert_eq!(
        kept.whole_state().unwrap().1.settings["chain"],
        b"{\"min_gas_price\": \"2\"}"
    );
    let _ = fs::remove_dir_all(&dir);
}

/// An empty chain's snapshot is the empty tree, and restores.
#[test]
fn an_empty_state_snapshots_and_restores() {
    let mut chain = Chain::new(MemoryStore::default());
    chain.block(ChangeSet::default());
    let dir = temp_dir("empty");
    let made = create(&chain.store, None, &dir, Limits::default()).unwrap();
    assert_eq!(made.manifest.leaves, 0);
    assert_eq!(made.state_root(), tree::EMPTY_ROOT);
    let memory = MemoryStore::default();
    restore(&dir, &memory, &trust(&made)).unwrap();
    assert_eq!(
        tree::root(&StateTree(&memory), 1).unwrap(),
        tree::EMPTY_ROOT
    );
    let _ = fs::remove_dir_all(&dir);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Arbitrary chunk bytes never panic the decoder.
    #[test]
    fn arbitrary_chunks_are_refused_or_decoded(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        let mut framed = CHUNK_MAGIC.to_vec();
        framed.extend_from_slice(&bytes);
        let _ = decode_chunk(&framed);
        let _ = decode_chunk(&bytes);
    }
}

/// docs/storage-format.md states this format and these limits.
#[test]
fn the_format_document_states_the_snapshot_format_and_limits() {
    let doc = fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/storage-format.md"),
    )
    .unwrap();
    assert!(doc.contains(&format!("**Snapshot format {FORMAT}.**")));
    assert!(doc.contains(&format!("| `format` | {FORMAT} |")));
    let limits = Limits::default();
    assert_eq!((limits.leaves, limits.bytes), (4096, 4 << 20));
    assert!(doc.contains("subtrees of at most 4,096 leaves"));
    assert!(doc.contains("at most 4,096 leaves\nand 4 MiB"));
    assert!(doc.contains(&String::from_utf8_lossy(CHUNK_MAGIC).into_owned()));
}
