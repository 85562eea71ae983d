//! The block log against a real three-member etcd cluster on loopback:
//! one proposer at a time, appends fenced on the head and the leadership,
//! a deposed proposer refused, a block at the size limit, the shared
//! mempool (left by a block's transactions with its append), published
//! roots and their pruning, the recorded settings, and
//! the log carrying on when the etcd leader is killed.
//!
//! Needs Debian's `etcd-server` (`make test` installs it as root); without
//! it the test prints why and skips.

use std::time::Duration;

use ward_node::cluster::{
    Append, BlockLog, ClusterError, Head, MAX_BLOCK_BYTES, REMOVED_WITH_APPEND,
};
use ward_primitives::Hash32;
use ward_testkit::etcd::Etcd;

/// Connects and reads the head, retrying while the cluster elects a leader.
async fn connect(endpoints: &[String], prefix: &str) -> BlockLog {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    loop {
        if let Ok(mut log) = BlockLog::connect(endpoints, prefix).await
            && log.head().await.is_ok()
        {
            return log;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "etcd did not answer in 90 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn block(height: u64, len: usize) -> Vec<u8> {
    let mut bytes = height.to_le_bytes().to_vec();
    bytes.resize(len.max(8), height as u8);
    bytes
}

async fn scenario(members: &mut Etcd) {
    let prefix = "/ward-test/";
    let mut a = connect(&members.clients, prefix).await;
    let mut b = connect(&members.clients[1..], prefix).await;

    // One proposer at a time.
    let first = a.campaign("a", 10).await.unwrap().expect("a leads");
    assert!(
        b.campaign("b", 10).await.unwrap().is_none(),
        "b must not lead"
    );
    assert!(a.keep_alive(&first).await.unwrap());

    // Appends in order; another replica reads them back.
    let mut head = a.head().await.unwrap();
    assert_eq!(head.height, 0);
    for height in 1..=3 {
        match a
            .append(&first, head, &block(height, 100), &[])
            .await
            .unwrap()
        {
            Append::Appended(next) => {
                assert_eq!(next.height, height);
                head = next;
            }
            Append::Fenced => panic!("the leader's append {height} was fenced"),
        }
    }
    assert_eq!(b.head().await.unwrap(), head);
    let read = b.read(1, 100).await.unwrap();
    assert_eq!(
        read,
        (1..=3).map(|h| (h, block(h, 100))).collect::<Vec<_>>()
    );
    assert_eq!(b.read(3, 100).await.unwrap().len(), 1);

    // A stale head is fenced: nothing is written.
    let stale = Head {
        height: 1,
        revision: head.revision - 1,
    };
    assert_eq!(
        a.append(&first, stale, &block(2, 100), &[]).await.unwrap(),
        Append::Fenced
    );
    assert_eq!(a.head().await.unwrap(), head);

    // A block at the limit fits in one etcd request; one byte more is
    // refused before anything is sent.
    let big = block(4, MAX_BLOCK_BYTES);
    head = match a.append(&first, head, &big, &[]).await.unwrap() {
        Append::Appended(next) => next,
        Append::Fenced => panic!("the block at the limit was fenced"),
    };
    assert_eq!(b.read(4, 1).await.unwrap(), vec![(4, big)]);
    assert!(matches!(
        a.append(&first, head, &block(5, MAX_BLOCK_BYTES + 1), &[])
            .await,
        Err(ClusterError::TooLarge(_))
    ));

    // The leadership changes hands; the deposed proposer's append fails
    // even with the current head.
    a.resign(&first).await.unwrap();
    // A renewal of a lease that is gone (revoked here; expired on a
    // stalled machine) says so, rather than failing: a proposer that got
    // an error kept retrying a dead lease and the cluster stalled.
    assert!(!a.keep_alive(&first).await.unwrap(), "the lease is gone");
    let second = b.campaign("b", 10).await.unwrap().expect("b leads now");
    let current = a.head().await.unwrap();
    assert_eq!(
        a.append(&first, current, &block(5, 100), &[])
            .await
            .unwrap(),
        Append::Fenced
    );
    head = match b
        .append(&second, current, &block(5, 100), &[])
        .await
        .unwrap()
    {
        Append::Appended(next) => next,
        Append::Fenced => panic!("the new leader was fenced"),
    };
    assert_eq!(head.height, 5);

    // The shared mempool takes a transaction once, lists it oldest first,
    // and forgets it when asked.
    let (t1, t2) = (Hash32([1; 32]), Hash32([2; 32]));
    assert!(a.pool_put(&t2, b"second").await.unwrap());
    assert!(b.pool_put(&t1, b"first").await.unwrap());
    assert!(!a.pool_put(&t1, b"first").await.unwrap(), "already there");
    assert_eq!(
        b.pool(10).await.unwrap(),
        vec![(t2, b"second".to_vec()), (t1, b"first".to_vec())]
    );
    a.pool_remove(&[t1, t2]).await.unwrap();
    assert!(b.pool(10).await.unwrap().is_empty());

    // A proposer's turn reads the head and the pool in one round trip. A
    // block's transactions leave the pool with its append, and only if
    // it is appended: the first REMOVED_WITH_APPEND of them; the proposer
    // removes the rest.
    let many: Vec<Hash32> = (0..REMOVED_WITH_APPEND + 2)
        .map(|i| Hash32([i as u8 + 10; 32]))
        .collect();
    for tx in &many {
        assert!(a.pool_put(tx, b"tx").await.unwrap());
    }
    let (read, pool) = b.head_and_pool(1000).await.unwrap();
    assert_eq!(read, head);
    assert_eq!(pool.iter().map(|(tx, _)| *tx).collect::<Vec<_>>(), many);
    assert_eq!(
        a.append(&first, head, &block(6, 100), &many).await.unwrap(),
        Append::Fenced
    );
    assert_eq!(b.pool(1000).await.unwrap().len(), many.len(), "fenced");
    head = match b
        .append(&second, head, &block(6, 100), &many)
        .await
        .unwrap()
    {
        Append::Appended(next) => next,
        Append::Fenced => panic!("the leader's append with its transactions was fenced"),
    };
    let left: Vec<Hash32> = b
        .pool(1000)
        .await
        .unwrap()
        .into_iter()
        .map(|(tx, _)| tx)
        .collect();
    assert_eq!(left, many[REMOVED_WITH_APPEND..]);
    b.pool_remove(&left).await.unwrap();
    assert_eq!(b.head_and_pool(1000).await.unwrap(), (head, Vec::new()));

    // Roots are published per replica and pruned below a height.
    // Publishing answers what every replica published for the block.
    for height in 1..=3 {
        assert_eq!(
            a.publish_roots(height, "a", b"ra").await.unwrap(),
            vec![("a".to_owned(), b"ra".to_vec())]
        );
        assert_eq!(b.publish_roots(height, "b", b"rb").await.unwrap().len(), 2);
    }
    assert_eq!(
        b.roots(2).await.unwrap(),
        vec![
            ("a".to_owned(), b"ra".to_vec()),
            ("b".to_owned(), b"rb".to_vec())
        ]
    );
    a.prune_roots(3).await.unwrap();
    assert!(a.roots(1).await.unwrap().is_empty());
    assert!(a.roots(2).await.unwrap().is_empty());
    assert_eq!(a.roots(3).await.unwrap().len(), 2);

    // The first replica's settings stand; another's are answered with them.
    assert_eq!(a.settings(b"one").await.unwrap(), b"one");
    assert_eq!(b.settings(b"two").await.unwrap(), b"one");

    // Kill etcd's own leader: the two members left carry the log on.
    let leader = members.leader().expect("etcd has a leader");
    members.kill(leader);
    let survivors = members.running();
    let mut c = connect(&survivors, prefix).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let after = loop {
        let head = c.head().await;
        if let Ok(head) = head
            && let Ok(Append::Appended(next)) = c.append(&second, head, &block(7, 100), &[]).await
        {
            break next;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no append in 90 s after killing etcd's leader"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(after.height, 7);
    assert_eq!(c.read(1, 100).await.unwrap().len(), 7);
}

#[test]
fn the_block_log_is_fenced_and_survives_the_etcd_leader() {
    let Some((dir, mut members)) = crate::etcd_cluster("etcd", &[]) else {
        return;
    };
    crate::run_async(
        "the etcd scenario",
        Duration::from_secs(300),
        scenario(&mut members),
    );
    drop(members);
    let _ = std::fs::remove_dir_all(&dir);
}
