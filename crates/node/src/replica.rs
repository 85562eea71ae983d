//! What a replica is, whether or not this build can talk to etcd: its
//! configuration, the log entry it proposes and replays, and the status
//! it reports (`docs/replication.md`).
//!
//! A log entry is a proposed block: the proposer's header (what executing
//! it gave the proposer) and the signed transactions in order, each as it
//! was signed. A replica replays an entry by executing its transactions at
//! the header's time and compares the header it gets with the proposer's
//! before committing anything.

use std::{
    collections::BTreeMap,
    sync::{
        Mutex,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration,
};

use ward_chain::block::Header;
use ward_primitives::{
    Hash32,
    codec::{CodecError, Decode, Encode, decode_list, encode_list},
};

/// The default key prefix of a cluster in etcd.
pub const DEFAULT_PREFIX: &str = "/ward/";

pub use crate::etcd_limits::{MAX_CLUSTER_TX_BYTES, MAX_ENTRY_BYTES};

/// How many blocks of published roots the proposer keeps (it prunes older
/// ones every this many blocks).
pub const ROOTS_KEPT: u64 = 1_024;

/// How to join a cluster (`ward serve --etcd`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterConfig {
    /// etcd's client endpoints (`host:port`); any of them will do.
    pub endpoints: Vec<String>,
    /// This replica's name, unique in the cluster.
    pub replica_id: String,
    /// The prefix of every key the cluster keeps in etcd.
    pub prefix: String,
    /// Exit (non-zero) when this replica's state disagrees with the log.
    pub halt_on_divergence: bool,
    /// Whether this replica may propose blocks (a read replica: no).
    pub propose: bool,
    /// The proposer's lease, in seconds: how long the cluster waits for a
    /// proposer that stopped answering before another takes over.
    pub lease_ttl: Duration,
    /// How many blocks of the log are kept below the newest snapshot that
    /// two replicas advertise (`--log-retention-blocks`); also how far
    /// behind the head a replica may fall and still hold the log back.
    pub log_retention_blocks: u64,
}

impl ClusterConfig {
    /// Defaults for `replica_id` on `endpoints`.
    pub fn new(endpoints: Vec<String>, replica_id: String) -> Self {
        ClusterConfig {
            endpoints,
            replica_id,
            prefix: DEFAULT_PREFIX.to_owned(),
            halt_on_divergence: false,
            propose: true,
            lease_ttl: Duration::from_secs(2),
            log_retention_blocks: DEFAULT_LOG_RETENTION,
        }
    }

    /// Checks what etcd keys are built from.
    ///
    /// # Errors
    ///
    /// An empty endpoint list, a replica id that is empty, longer than 64
    /// bytes or not `[A-Za-z0-9_.-]`, or a prefix not starting and ending
    /// with `/`.
    pub fn check(&self) -> Result<(), String> {
        if self.endpoints.is_empty() {
            return Err("--etcd needs at least one endpoint".into());
        }
        let id = &self.replica_id;
        if id.is_empty()
            || id.len() > 64
            || !id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
        {
            return Err(format!(
                "replica id {id:?}: 1 to 64 characters of A-Z a-z 0-9 _ . -"
            ));
        }
        if !self.prefix.starts_with('/') || !self.prefix.ends_with('/') {
            return Err(format!(
                "etcd prefix {:?} must start and end with '/'",
                self.prefix
            ));
        }
        if self.lease_ttl < Duration::from_secs(2) {
            return Err("the proposer's lease is at least 2 s (etcd's minimum)".into());
        }
        Ok(())
    }
}

/// The entry's encoding version.
const ENTRY_VERSION: u8 = 1;

/// A block in the log: the proposer's header and the signed transactions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// What executing the block gave its proposer.
    pub header: Header,
    /// The signed transactions, in order, as signed.
    pub txs: Vec<Vec<u8>>,
}

impl Entry {
    /// The entry's bytes: a version byte, the header (144 bytes), the
    /// transactions as a list of byte strings.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![ENTRY_VERSION];
        self.header.encode(&mut out);
        encode_list(&self.txs, &mut out);
        out
    }

    /// Reads an entry back.
    ///
    /// # Errors
    ///
    /// Anything but exactly one entry of a known version.
    pub fn from_bytes(bytes: &[u8]) -> Result<Entry, CodecError> {
        let (&version, mut rest) = bytes
            .split_first()
            .ok_or_else(|| CodecError("an empty log entry".into()))?;
        if version != ENTRY_VERSION {
            return Err(CodecError(format!("log entry version {version}")));
        }
        let header = Header::decode(&mut rest)?;
        let txs = decode_list(&mut rest)?;
        if !rest.is_empty() {
            return Err(CodecError(format!("{} trailing bytes", rest.len())));
        }
        Ok(Entry { header, txs })
    }

    /// The size of an entry's encoding with `txs` of these sizes.
    pub fn encoded_len(tx_sizes: impl IntoIterator<Item = usize>) -> usize {
        1 + 144 + 4 + tx_sizes.into_iter().map(|n| 4 + n).sum::<usize>()
    }
}

/// How often (in blocks) the proposer deletes the log below its retention
/// point ([`retention_point`]).
pub const COMPACT_EVERY: u64 = 4;

/// Blocks of the log kept below the newest snapshot two replicas
/// advertise, by default: 256 full blocks (1.5 MB each) are 384 MB, a
/// fifth of etcd's default quota.
pub const DEFAULT_LOG_RETENTION: u64 = 256;

/// The height below which the log may be deleted, if any: the newest
/// snapshot height that at least two replicas advertise (`snapshots`:
/// each replica's heights), less `margin`, and no higher than the lowest
/// height a replica within `margin` blocks of the log's `head` has applied
/// (`applied`: each replica's), nor than any height a replica joining by
/// state sync claims (`claims`: it restored, or is restoring, a snapshot
/// of that height and replays from there). A replica further behind and
/// not claiming no longer holds the log back: it must state-sync. `None`
/// when nothing may go.
pub fn retention_point(
    head: u64,
    margin: u64,
    applied: &[u64],
    snapshots: &[Vec<u64>],
    claims: &[u64],
) -> Option<u64> {
    let mut heights: Vec<u64> = snapshots
        .iter()
        .flat_map(|held| {
            let mut held = held.clone();
            held.sort_unstable();
            held.dedup();
            held
        })
        .collect();
    heights.sort_unstable();
    let shared = heights
        .windows(2)
        .filter(|w| w[0] == w[1])
        .map(|w| w[0])
        .max()?;
    let lowest_live = applied
        .iter()
        .copied()
        .filter(|&h| h.saturating_add(margin) >= head)
        .min()?;
    let claimed = claims.iter().copied().min().unwrap_or(u64::MAX);
    let point = shared.saturating_sub(margin).min(lowest_live).min(claimed);
    (point > 1).then_some(point)
}

/// The roots a replica got for a block (what it publishes, and what a
/// divergence shows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Roots {
    /// The block's hash.
    pub block: Hash32,
    /// The state root after it.
    pub state_root: Hash32,
    /// Its receipts' root.
    pub receipts_root: Hash32,
}

impl Roots {
    /// A header's roots.
    pub fn of(header: &Header) -> Roots {
        Roots {
            block: header.hash(),
            state_root: header.state_root,
            receipts_root: header.receipts_root,
        }
    }

    /// As JSON.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "block": self.block.to_string(),
            "state_root": self.state_root.to_string(),
            "receipts_root": self.receipts_root.to_string(),
        })
    }
}

/// A block whose replay here disagreed with the log: this replica stopped
/// applying there.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Divergence {
    /// The block's height.
    pub height: u64,
    /// What the log says (its proposer's header).
    pub log: Roots,
    /// What this replica got, or why it could not execute the block.
    pub ours: Result<Roots, String>,
}

impl Divergence {
    /// As `/health` shows it.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "height": self.height,
            "log": self.log.to_json(),
            "ours": match &self.ours {
                Ok(roots) => roots.to_json(),
                Err(error) => serde_json::json!({ "error": error }),
            },
        })
    }
}

impl std::fmt::Display for Divergence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "block {} diverged: the log has state root {} and receipts root {}, ",
            self.height, self.log.state_root, self.log.receipts_root
        )?;
        match &self.ours {
            Ok(ours) => write!(
                f,
                "this replica got state root {} and receipts root {}",
                ours.state_root, ours.receipts_root
            ),
            Err(error) => write!(f, "this replica could not execute it: {error}"),
        }
    }
}

/// A replica's status, shared by its loop and its RPC.
#[cfg_attr(
    not(feature = "etcd"),
    allow(dead_code, reason = "built by `join` with etcd only")
)]
pub(crate) struct Replica {
    pub(crate) config: ClusterConfig,
    /// Whether it proposes blocks now.
    pub(crate) leader: AtomicBool,
    /// The log's head as last read.
    pub(crate) log_head: AtomicU64,
    /// Where it stopped applying, if it did.
    pub(crate) divergence: Mutex<Option<Divergence>>,
    /// Replicas that published other roots than this one's, and the first
    /// height they did.
    pub(crate) peers_disagree: Mutex<BTreeMap<String, u64>>,
    /// Changes seen under the prefix (each wakes the loop).
    pub(crate) changes: AtomicU64,
    /// The connection to etcd.
    #[cfg(feature = "etcd")]
    pub(crate) log: crate::cluster::BlockLog,
    /// The hold a replica joining by state sync keeps on the log until
    /// it has caught up.
    #[cfg(feature = "etcd")]
    pub(crate) claim: Mutex<Option<crate::cluster::Claim>>,
}

impl Replica {
    #[cfg(feature = "etcd")]
    pub(crate) fn new(config: ClusterConfig, log: crate::cluster::BlockLog) -> Replica {
        Replica {
            config,
            leader: AtomicBool::new(false),
            log_head: AtomicU64::new(0),
            divergence: Mutex::new(None),
            peers_disagree: Mutex::new(BTreeMap::new()),
            changes: AtomicU64::new(0),
            log,
            claim: Mutex::new(None),
        }
    }

    /// What `/health` says of it.
    pub(crate) fn status(&self) -> serde_json::Value {
        let divergence = crate::sync::lock(&self.divergence)
            .as_ref()
            .map(Divergence::to_json);
        let peers = crate::sync::lock(&self.peers_disagree).clone();
        serde_json::json!({
            "replica_id": self.config.replica_id,
            "role": if self.leader.load(Ordering::Relaxed) { "leader" } else { "follower" },
            "log_head": self.log_head.load(Ordering::Relaxed),
            "divergence": divergence,
            "peers_disagree": peers,
        })
    }

    /// Whether it stopped on a divergence.
    pub(crate) fn diverged(&self) -> Option<Divergence> {
        crate::sync::lock(&self.divergence).clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_is_kept_for_snapshots_two_replicas_hold_and_for_live_replicas() {
        // Snapshot 100 is held by two replicas, 120 by one: 100 counts.
        let snaps = [vec![80, 100], vec![100, 120], vec![]];
        // At height 130, with `margin` and the replicas' `applied` heights
        // and joiners' `claims`.
        let point = |margin, applied: &[u64], claims: &[u64]| {
            retention_point(130, margin, applied, &snaps, claims)
        };
        assert_eq!(point(10, &[130, 125, 128], &[]), Some(90));
        // A live replica behind that point holds the log back.
        assert_eq!(point(10, &[130, 121, 128], &[]), Some(90));
        assert_eq!(point(40, &[130, 95, 128], &[]), Some(60));
        assert_eq!(point(5, &[130, 97, 128], &[]), Some(95));
        // One further behind than the margin does not: it must state-sync.
        assert_eq!(point(5, &[130, 20, 128], &[]), Some(95));
        // No snapshot two replicas hold, no replica known, or nothing below
        // height 2: nothing goes.
        assert_eq!(
            retention_point(130, 5, &[130], &[vec![100], vec![120]], &[]),
            None
        );
        assert_eq!(point(5, &[], &[]), None);
        assert_eq!(point(200, &[130], &[]), None);
        // A replica listing a height twice is still one replica.
        assert_eq!(
            retention_point(130, 5, &[130], &[vec![100, 100]], &[]),
            None
        );
        // A joiner's claim holds the log at its snapshot's height, however
        // far behind it is; a claim of 0 (replaying from the first block)
        // holds all of it.
        assert_eq!(point(5, &[130, 20, 128], &[40]), Some(40));
        assert_eq!(point(5, &[130, 128], &[120]), Some(95));
        assert_eq!(point(5, &[130, 128], &[0]), None);
    }

    fn entry() -> Entry {
        Entry {
            header: Header {
                height: 7,
                time: 9,
                state_root: Hash32([3; 32]),
                ..Header::default()
            },
            txs: vec![vec![1, 2, 3], Vec::new(), vec![0xff; 300]],
        }
    }

    #[test]
    fn entries_read_back_and_their_size_is_known() {
        let entry = entry();
        let bytes = entry.to_bytes();
        assert_eq!(Entry::from_bytes(&bytes).unwrap(), entry);
        assert_eq!(
            bytes.len(),
            Entry::encoded_len(entry.txs.iter().map(Vec::len))
        );
    }

    #[test]
    fn damaged_entries_are_errors() {
        let bytes = entry().to_bytes();
        for cut in 0..bytes.len() {
            assert!(Entry::from_bytes(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(Entry::from_bytes(&longer).is_err());
        let mut version = bytes;
        version[0] = 2;
        assert!(Entry::from_bytes(&version).is_err());
    }

    #[test]
    fn configs_are_checked() {
        let ok = ClusterConfig::new(vec!["127.0.0.1:2379".into()], "r-1.a_b".into());
        assert_eq!(ok.check(), Ok(()));
        for (id, prefix, endpoints) in [
            ("", "/ward/", 1),
            ("a/b", "/ward/", 1),
            ("a b", "/ward/", 1),
            ("r", "ward/", 1),
            ("r", "/ward", 1),
            ("r", "/ward/", 0),
        ] {
            let mut config = ok.clone();
            config.replica_id = id.into();
            config.prefix = prefix.into();
            config.endpoints.truncate(endpoints);
            assert!(config.check().is_err(), "{id:?} {prefix:?} {endpoints}");
        }
        let mut long = ok;
        long.replica_id = "x".repeat(65);
        assert!(long.check().is_err());
    }
}
