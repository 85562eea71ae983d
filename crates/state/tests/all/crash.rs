//! Crash test: a process committing blocks to a redb store is killed
//! (SIGKILL) at random moments, many times; every reopen must find every
//! acknowledged block intact and no partial block. A read-only open first
//! either answers the same or asks for recovery, and never writes.
//!
//! The test runs itself as the child: `commit_forever` does nothing unless
//! `WARD_CRASH_DIR` is set, in which case it commits block after block and
//! prints each height once its commit has returned.
//!
//! A SIGKILL leaves the kernel's page cache intact, so this tests process
//! crashes, not power loss (which needs a fault-injecting storage backend).

use std::{
    io::{BufRead, BufReader, Write},
    process::{Command, Stdio},
    time::Duration,
};

use ward_state::{
    Address, BlockRecord, ChangeSet, DATABASE_FILE, Hash32, RedbStore, StateCommit, StateError,
    StateRead,
};
use ward_testkit::{Rng, env_or};

const CONTRACT: Address = Address([0xc0; 32]);

fn block_changes(height: u64) -> ChangeSet {
    let mut changes = ChangeSet::default();
    // Enough data that a commit takes a while: more chances to be killed
    // in the middle of one.
    let payload: Vec<u8> = (0..16_384u32)
        .map(|i| (i as u64).wrapping_mul(height) as u8)
        .collect();
    changes.storage.insert(
        (CONTRACT, format!("block/{height:08}").into_bytes()),
        Some(payload),
    );
    changes.storage.insert(
        (CONTRACT, b"last".to_vec()),
        Some(height.to_le_bytes().to_vec()),
    );
    changes.block = Some(BlockRecord {
        header: ward_state::Header {
            height,
            time: height,
            ..Default::default()
        },
        txs: vec![Hash32([height as u8; 32])],
    });
    changes
}

#[test]
fn commit_forever() {
    let Ok(dir) = std::env::var("WARD_CRASH_DIR") else {
        return;
    };
    let store = RedbStore::create(std::path::Path::new(&dir)).unwrap();
    let mut height = store.height().unwrap();
    let mut out = std::io::stdout();
    loop {
        height += 1;
        store.commit(block_changes(height)).unwrap();
        writeln!(out, "acked {height}").unwrap();
        out.flush().unwrap();
    }
}

/// Checks that `store` holds every acknowledged block whole and nothing
/// beyond its height; returns the height.
fn check_blocks(store: &RedbStore, acked_max: u64, round: u32) -> u64 {
    let height = store.height().unwrap();
    assert!(
        height >= acked_max,
        "round {round}: height {height} lost acknowledged block {acked_max}"
    );
    // Everything up to the height, whole; nothing beyond it.
    let last = store.storage(&CONTRACT, b"last").unwrap();
    assert_eq!(last, Some(height.to_le_bytes().to_vec()), "round {round}");
    for h in 1..=height {
        assert_eq!(
            store.block(h).unwrap().map(|b| b.header.height),
            Some(h),
            "round {round}"
        );
        let value = store
            .storage(&CONTRACT, format!("block/{h:08}").as_bytes())
            .unwrap();
        assert_eq!(
            value,
            Some(
                block_changes(h)
                    .storage
                    .into_values()
                    .next()
                    .flatten()
                    .unwrap()
            )
        );
    }
    assert_eq!(store.block(height + 1).unwrap(), None);
    assert_eq!(
        store
            .storage(&CONTRACT, format!("block/{:08}", height + 1).as_bytes())
            .unwrap(),
        None
    );
    height
}

#[test]
fn killed_while_committing_reopens_with_every_acknowledged_block() {
    let rounds: u32 = env_or("WARD_CRASH_ROUNDS", 25);
    let dir = std::env::temp_dir().join(format!("ward-crash-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // Reproducible kill times.
    let mut rng = Rng::new(0x00c0_ffee);
    let mut acked_max = 0u64;
    let mut kills_mid_run = 0;
    let mut needed_recovery = 0;
    for round in 0..rounds {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                "crash::commit_forever",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("WARD_CRASH_DIR", &dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (first, first_acked) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut max = 0u64;
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(h) = line.strip_prefix("acked ") {
                    max = max.max(h.trim().parse().unwrap());
                    let _ = first.send(());
                }
            }
            max
        });
        // Killed at a random moment after its first commit of the round
        // (however long a loaded machine takes to start it), so that
        // every kill lands while it commits.
        let _ = first_acked.recv_timeout(Duration::from_secs(120));
        std::thread::sleep(Duration::from_millis(rng.next() % 120));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let acked = reader.join().unwrap();
        if acked > acked_max {
            kills_mid_run += 1;
        }
        acked_max = acked_max.max(acked);

        // A reader first: the same answer, or a request for recovery;
        // either way the file is untouched.
        let file = dir.join(DATABASE_FILE);
        let before = std::fs::read(&file).ok();
        match RedbStore::open_read_only(&dir) {
            Ok(store) => {
                check_blocks(&store, acked_max, round);
            }
            Err(StateError::NeedsRecovery { .. }) => needed_recovery += 1,
            Err(StateError::Missing { .. }) if acked_max == 0 => {}
            Err(e) => panic!("round {round}: a read-only open failed: {e}"),
        }
        assert_eq!(
            std::fs::read(&file).ok(),
            before,
            "round {round}: a read wrote"
        );
        let store = RedbStore::create(&dir).unwrap();
        let height = check_blocks(&store, acked_max, round);
        acked_max = height;
    }
    assert!(
        kills_mid_run > rounds / 2,
        "the child rarely got to commit: {kills_mid_run}"
    );
    // A killed writer leaves its file marked open: readers must have met
    // that, not only stores a writer had already recovered.
    assert!(needed_recovery > 0, "no read met a store needing recovery");
    let _ = std::fs::remove_dir_all(&dir);
}
