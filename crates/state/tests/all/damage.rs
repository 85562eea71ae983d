//! Damage test: a store file with flipped bits, zeroed pages or cut short,
//! at many offsets, opened for reading and for writing. Every answer is
//! either a typed error or the answer the intact store gives; no panic
//! escapes the store; a read never changes the file.

use std::path::{Path, PathBuf};

use ward_state::{
    Address, BlockRecord, ChangeSet, ContractInfo, DATABASE_FILE, Entries, Hash32, Receipt,
    RedbStore, StateCommit, StateError, StateRead,
};
use ward_testkit::{Rng, env_or};

const CONTRACT: Address = Address([0xd0; 32]);
const BLOCKS: u64 = 6;

fn block_changes(height: u64) -> ChangeSet {
    let mut changes = ChangeSet::default();
    let code: Vec<u8> = (0..3_000u32)
        .map(|i| (i * 7 + height as u32) as u8)
        .collect();
    changes.code.insert(Hash32([height as u8; 32]), code);
    changes.contracts.insert(
        Address([height as u8; 32]),
        ContractInfo {
            code_hash: Hash32([height as u8; 32]),
            deployer: CONTRACT,
            created_at: height,
            kind: ward_primitives::CodeKind::Ward,
            admin: None,
            history: Vec::new(),
        },
    );
    for key in 0..40u64 {
        let value = vec![(key ^ height) as u8; 20 + (key as usize * 13) % 300];
        changes
            .storage
            .insert((CONTRACT, format!("k{key:03}").into_bytes()), Some(value));
    }
    changes.receipts.push(Receipt {
        fee: 0,
        tx: Hash32([0x80 | height as u8; 32]),
        height,
        index: 0,
        status: ward_state::Status::Ok,
        exit_code: 0,
        output: vec![height as u8; 40],
        gas_used: 1_000 + height,
        events: vec![],
        error_kind: None,
        error_message: None,
        address: None,
        runtime_gas: None,
    });
    changes.block = Some(BlockRecord {
        header: ward_state::Header {
            height,
            time: height,
            ..Default::default()
        },
        txs: vec![Hash32([0x80 | height as u8; 32])],
    });
    changes
}

/// Everything the store answers about what [`block_changes`] wrote.
#[derive(Debug, PartialEq)]
struct Answers {
    height: u64,
    blocks: Vec<Option<BlockRecord>>,
    receipts: Vec<Option<Receipt>>,
    code: Vec<Option<Vec<u8>>>,
    contracts: Vec<Option<ContractInfo>>,
    entries: Entries,
    one: Option<Vec<u8>>,
}

fn answers(store: &RedbStore) -> Result<Answers, StateError> {
    let heights = 1..=BLOCKS;
    Ok(Answers {
        height: store.height()?,
        blocks: heights
            .clone()
            .map(|h| store.block(h))
            .collect::<Result<_, _>>()?,
        receipts: heights
            .clone()
            .map(|h| store.receipt(&Hash32([0x80 | h as u8; 32])))
            .collect::<Result<_, _>>()?,
        code: heights
            .clone()
            .map(|h| store.code(&Hash32([h as u8; 32])))
            .collect::<Result<_, _>>()?,
        contracts: heights
            .map(|h| store.contract(&Address([h as u8; 32])))
            .collect::<Result<_, _>>()?,
        entries: store.storage_entries(&CONTRACT)?,
        one: store.storage(&CONTRACT, b"k007")?,
    })
}

/// One way to damage the file.
#[derive(Debug, Clone, Copy)]
enum Damage {
    FlipBit { offset: usize, bit: u8 },
    ZeroPage { page: usize },
    Truncate { len: usize },
}

impl Damage {
    fn apply(self, intact: &[u8]) -> Vec<u8> {
        let mut bytes = intact.to_vec();
        match self {
            Damage::FlipBit { offset, bit } => bytes[offset] ^= 1 << bit,
            Damage::ZeroPage { page } => {
                let end = ((page + 1) * 4096).min(bytes.len());
                bytes[page * 4096..end].fill(0);
            }
            Damage::Truncate { len } => bytes.truncate(len),
        }
        bytes
    }
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ward-damage-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// What one damaged file did, for the summary.
#[derive(Default, Debug)]
struct Tally {
    correct: usize,
    errors: usize,
}

/// Opens `dir` read-only and then for writing; asserts the rules above.
fn try_damaged(dir: &Path, damage: Damage, expected: &Answers, tally: &mut Tally) {
    let file = dir.join(DATABASE_FILE);
    let before = std::fs::read(&file).unwrap();
    let read = RedbStore::open_read_only(dir).and_then(|store| answers(&store));
    match &read {
        Ok(found) => {
            assert_eq!(found, expected, "{damage:?}: a read gave a wrong answer");
            tally.correct += 1;
        }
        // A handle an earlier damaged file left behind must not lock this one.
        Err(StateError::Busy { .. }) => panic!("{damage:?}: busy"),
        Err(_) => tally.errors += 1,
    }
    assert!(
        std::fs::read(&file).unwrap() == before,
        "{damage:?}: a read changed the file ({read:?})"
    );
    // A writer: it may recover the file, or refuse it; if it answers, the
    // answer is right, and committing on top is an error or works.
    match RedbStore::open(dir) {
        Ok(store) => {
            match answers(&store) {
                Ok(found) => assert_eq!(&found, expected, "{damage:?}: a writer's answer"),
                Err(_) => tally.errors += 1,
            }
            let _ = store.commit(block_changes(BLOCKS + 1));
        }
        Err(StateError::Busy { .. }) => panic!("{damage:?}: busy for a writer"),
        Err(_) => tally.errors += 1,
    }
}

#[test]
fn damage_is_an_error_or_the_right_answer_never_a_panic_and_reads_never_write() {
    let dir = fresh_dir("intact");
    {
        let store = RedbStore::create(&dir).unwrap();
        for height in 1..=BLOCKS {
            store.commit(block_changes(height)).unwrap();
        }
    }
    let intact = std::fs::read(dir.join(DATABASE_FILE)).unwrap();
    let expected = answers(&RedbStore::open_read_only(&dir).unwrap()).unwrap();
    assert_eq!(expected.height, BLOCKS);

    let flips: usize = env_or("WARD_DAMAGE_FLIPS", 300);
    let mut rng = Rng::new(0x0bad_5eed);
    let mut damages = Vec::new();
    // Every page zeroed, bits flipped at random offsets (and in the
    // header, where redb keeps its commit slots), and cuts at many lengths.
    damages.extend((0..intact.len().div_ceil(4096)).map(|page| Damage::ZeroPage { page }));
    damages.extend((0..flips).map(|i| Damage::FlipBit {
        offset: if i % 4 == 0 {
            rng.below(4096)
        } else {
            rng.below(intact.len())
        },
        bit: (rng.next() % 8) as u8,
    }));
    damages.extend((1..64).map(|i| Damage::Truncate {
        len: intact.len() * i / 64,
    }));
    damages.extend([1, 7, 511, 4095, 4096, 4097].map(|len| Damage::Truncate { len }));

    let work = fresh_dir("work");
    let mut tally = Tally::default();
    for &damage in &damages {
        std::fs::write(work.join(DATABASE_FILE), damage.apply(&intact)).unwrap();
        try_damaged(&work, damage, &expected, &mut tally);
    }
    // The test must have met both outcomes to mean anything.
    assert!(tally.errors > 0 && tally.correct > 0, "{tally:?}");
    eprintln!("{} damaged files: {tally:?}", damages.len());
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&work);
}

#[test]
fn empty_missing_and_misplaced_stores_are_refused_without_creating_anything() {
    let dir = fresh_dir("refused");
    let missing = dir.join("none");
    assert!(matches!(
        RedbStore::open(&missing),
        Err(StateError::Missing { .. })
    ));
    assert!(matches!(
        RedbStore::open_read_only(&missing),
        Err(StateError::Missing { .. })
    ));
    assert!(!missing.exists(), "a refused open created the directory");
    // A directory without a database is no chain either.
    assert!(matches!(
        RedbStore::open(&dir),
        Err(StateError::Missing { .. })
    ));
    assert!(!dir.join(DATABASE_FILE).exists());
    // An empty file is refused by every open, and left empty.
    std::fs::write(dir.join(DATABASE_FILE), b"").unwrap();
    assert!(matches!(
        RedbStore::create(&dir),
        Err(StateError::Empty { .. })
    ));
    assert!(matches!(
        RedbStore::open(&dir),
        Err(StateError::Empty { .. })
    ));
    assert!(matches!(
        RedbStore::open_read_only(&dir),
        Err(StateError::Empty { .. })
    ));
    assert_eq!(std::fs::metadata(dir.join(DATABASE_FILE)).unwrap().len(), 0);
    // A file where the directory should be.
    let file = dir.join("file");
    std::fs::write(&file, b"x").unwrap();
    let err = RedbStore::create(&file).err().unwrap();
    assert!(matches!(err, StateError::NotADirectory { .. }), "{err}");
    assert!(err.to_string().contains("file"), "{err}");
    // Bytes that are no redb file.
    std::fs::write(dir.join(DATABASE_FILE), b"not a database at all").unwrap();
    for result in [RedbStore::open(&dir), RedbStore::open_read_only(&dir)] {
        let err = result.err().unwrap();
        assert!(err.to_string().contains(DATABASE_FILE), "{err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn readers_share_a_store_and_exclude_a_writer() {
    let dir = fresh_dir("locks");
    drop(RedbStore::create(&dir).unwrap());
    {
        let writer = RedbStore::open(&dir).unwrap();
        assert!(matches!(
            RedbStore::open_read_only(&dir),
            Err(StateError::Busy { .. })
        ));
        writer.commit(block_changes(1)).unwrap();
    }
    let first = RedbStore::open_read_only(&dir).unwrap();
    let second = RedbStore::open_read_only(&dir).unwrap();
    assert_eq!(first.height().unwrap(), 1);
    assert_eq!(second.height().unwrap(), 1);
    assert!(matches!(
        RedbStore::open(&dir),
        Err(StateError::Busy { .. })
    ));
    assert!(matches!(
        first.commit(block_changes(2)),
        Err(StateError::ReadOnly { .. })
    ));
    drop((first, second));
    assert_eq!(RedbStore::open(&dir).unwrap().height().unwrap(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}
