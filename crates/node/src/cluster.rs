//! The replicated block log in etcd: the ordering half of replication
//! (issue 19; built with the `etcd` feature, which needs `protoc`).
//!
//! One key per block under the prefix (`log/` and the height, zero-padded
//! to 20 digits so that keys sort by height), a `head` key holding the last
//! height, and a `leader` key bound to the proposer's lease. Leadership is
//! taken by creating `leader` under a lease when it does not exist; every
//! append is one etcd transaction fenced on both the head's revision (no
//! one appended since this proposer read it) and the leader key's creation
//! revision (this proposer's leadership is still the current one), so a
//! deposed or stale proposer's append fails instead of forking the log.
//! etcd's lock API alone is not relied on.
//!
//! Beside the log: `pool/` and a transaction's hash (the shared mempool,
//! each signed transaction as submitted), `roots/` and a height and a
//! replica id (what each replica got for each block), `settings` (the
//! chain's, written by the first replica, checked by every other one),
//! `applied/` (each replica's applied height), `snapshots/` (what each
//! advertises) and `claims/` (the height a replica joining by state sync
//! needs the log from, bound to its lease: the log is not compacted past
//! it).

use std::time::Duration;

use etcd_client::{
    Client, Compare, CompareOp, ConnectOptions, GetOptions, GetResponse, KeyValue, PutOptions,
    SortOrder, SortTarget, Txn, TxnOp, TxnOpResponse, TxnResponse, WatchOptions, WatchStream,
};
use ward_primitives::Hash32;

pub use crate::etcd_limits::MAX_ENTRY_BYTES as MAX_BLOCK_BYTES;

/// Most operations etcd takes in one transaction (`--max-txn-ops`).
const MAX_TXN_OPS: usize = 128;

/// How many of a block's transactions [`BlockLog::append`] takes out of
/// the shared mempool in the append's own etcd transaction (its other
/// two operations write the block and the head); the caller removes the
/// rest with [`BlockLog::pool_remove`].
pub const REMOVED_WITH_APPEND: usize = MAX_TXN_OPS - 2;

/// What went wrong talking to etcd, or with what was asked of it.
#[derive(Debug, thiserror::Error)]
pub enum ClusterError {
    /// etcd could not be reached or answered with an error.
    #[error("etcd: {0}")]
    Etcd(#[from] etcd_client::Error),
    /// A block over [`MAX_BLOCK_BYTES`].
    #[error("a block of {0} bytes is over the log's limit of {MAX_BLOCK_BYTES}")]
    TooLarge(usize),
    /// A key under the prefix that is not what this log wrote.
    #[error("the log is corrupt: {0}")]
    Corrupt(String),
}

impl ClusterError {
    /// Whether etcd could not be reached (a member down, a connection
    /// refused, no leader yet) or did not answer in time (a member
    /// stalled, a loaded disk: the client's own timeout, which tonic
    /// reports as `Cancelled`): worth trying again, unlike an answer.
    pub fn is_unavailable(&self) -> bool {
        match self {
            ClusterError::Etcd(etcd_client::Error::TransportError(_)) => true,
            ClusterError::Etcd(etcd_client::Error::GRpcStatus(status)) => matches!(
                status.code(),
                tonic::Code::Unavailable | tonic::Code::DeadlineExceeded | tonic::Code::Cancelled
            ),
            _ => false,
        }
    }
}

/// The log's last block as a proposer read it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    /// The last block's height (0: an empty log).
    pub height: u64,
    /// The `head` key's modification revision (0: never written).
    pub revision: i64,
}

/// This replica's leadership: its lease and the revision that created the
/// `leader` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Leadership {
    /// The lease the `leader` key is bound to.
    pub lease: i64,
    /// The `leader` key's creation revision.
    pub revision: i64,
}

/// What an append did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Append {
    /// The block is in the log at this head.
    Appended(Head),
    /// The head moved or the leadership is not the current one: nothing
    /// was written, and the proposer must step down and read again.
    Fenced,
}

/// The block log under one prefix of an etcd cluster (a handle: clones
/// share the connection).
#[derive(Clone)]
pub struct BlockLog {
    client: Client,
    prefix: String,
}

impl BlockLog {
    /// Connects to any of `endpoints` (`host:port`).
    ///
    /// # Errors
    ///
    /// When no endpoint answers.
    pub async fn connect(endpoints: &[String], prefix: &str) -> Result<BlockLog, ClusterError> {
        // A member that stopped answering must not hold a request
        // forever: the next one goes to another endpoint.
        let options = ConnectOptions::new()
            .with_connect_timeout(Duration::from_secs(1))
            .with_timeout(Duration::from_secs(2))
            .with_keep_alive(Duration::from_secs(1), Duration::from_secs(1));
        let client = Client::connect(endpoints, Some(options)).await?;
        Ok(BlockLog {
            client,
            prefix: prefix.to_owned(),
        })
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn block_key(&self, height: u64) -> String {
        format!("{}log/{height:020}", self.prefix)
    }

    /// The log's head.
    ///
    /// # Errors
    ///
    /// etcd's, or a head that is not a height.
    pub async fn head(&mut self) -> Result<Head, ClusterError> {
        let key = self.key("head");
        let response = self.client.get(key, None).await?;
        head_of(response.kvs().first())
    }

    /// The log's head and at most `limit` transactions of the shared
    /// mempool ([`BlockLog::pool`]), read at one revision in one round
    /// trip: what a proposer's turn starts from.
    ///
    /// # Errors
    ///
    /// etcd's, a head that is not a height or a pool key that is not a
    /// hash.
    pub async fn head_and_pool(
        &mut self,
        limit: i64,
    ) -> Result<(Head, Vec<(Hash32, Vec<u8>)>), ClusterError> {
        let prefix = format!("{}pool/", self.prefix);
        let txn = Txn::new().and_then([
            TxnOp::get(self.key("head"), None),
            TxnOp::get(prefix.clone(), Some(pool_options(limit))),
        ]);
        let response = self.client.txn(txn).await?;
        let mut gets = gets(&response).into_iter();
        let (Some(head), Some(pool)) = (gets.next(), gets.next()) else {
            return Err(ClusterError::Corrupt("a read without its answers".into()));
        };
        Ok((head_of(head.kvs().first())?, pool_of(&prefix, pool.kvs())?))
    }

    /// Tries to become the proposer as `id` with a lease of `ttl` seconds:
    /// `None` when another replica holds the leadership.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn campaign(
        &mut self,
        id: &str,
        ttl: i64,
    ) -> Result<Option<Leadership>, ClusterError> {
        let lease = self.client.lease_grant(ttl, None).await?.id();
        let key = self.key("leader");
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(
                key,
                id,
                Some(PutOptions::new().with_lease(lease)),
            )]);
        let response = self.client.txn(txn).await?;
        if !response.succeeded() {
            self.client.lease_revoke(lease).await?;
            return Ok(None);
        }
        let revision = response
            .header()
            .map(|h| h.revision())
            .ok_or_else(|| ClusterError::Corrupt("a transaction without a header".into()))?;
        Ok(Some(Leadership { lease, revision }))
    }

    /// Renews the leadership's lease once; `false` when it has expired.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn keep_alive(&mut self, leadership: &Leadership) -> Result<bool, ClusterError> {
        self.renew(leadership.lease).await
    }

    /// Renews lease `lease` once; `false` when it has expired.
    async fn renew(&mut self, lease: i64) -> Result<bool, ClusterError> {
        let (mut keeper, mut responses) = match self.client.lease_keep_alive(lease).await {
            Ok(stream) => stream,
            // etcd-client's word for a renewal answered with no time
            // left: the lease expired (a stalled process on a loaded
            // machine). An error here kept a proposer retrying a dead
            // lease forever, and the cluster made no block.
            Err(etcd_client::Error::LeaseKeepAliveError(why)) if why == "lease not found" => {
                return Ok(false);
            }
            Err(error) => return Err(error.into()),
        };
        keeper.keep_alive().await?;
        Ok(responses
            .message()
            .await?
            .is_some_and(|response| response.ttl() > 0))
    }

    /// Gives the leadership up (its lease and the `leader` key with it).
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn resign(&mut self, leadership: &Leadership) -> Result<(), ClusterError> {
        self.client.lease_revoke(leadership.lease).await?;
        Ok(())
    }

    /// Appends `block` after `head` while `leadership` is the current one,
    /// and in the same etcd transaction takes the first
    /// [`REMOVED_WITH_APPEND`] of `included` (the block's transactions)
    /// out of the shared mempool: they leave it exactly when the block
    /// enters the log. The caller removes the rest.
    ///
    /// # Errors
    ///
    /// A block over [`MAX_BLOCK_BYTES`] (nothing is sent), or etcd's.
    pub async fn append(
        &mut self,
        leadership: &Leadership,
        head: Head,
        block: &[u8],
        included: &[Hash32],
    ) -> Result<Append, ClusterError> {
        if block.len() > MAX_BLOCK_BYTES {
            return Err(ClusterError::TooLarge(block.len()));
        }
        let height = head.height + 1;
        let mut ops = vec![
            TxnOp::put(self.block_key(height), block, None),
            TxnOp::put(self.key("head"), height.to_string(), None),
        ];
        ops.extend(
            included
                .iter()
                .take(REMOVED_WITH_APPEND)
                .map(|tx| TxnOp::delete(self.pool_key(tx), None)),
        );
        let txn = Txn::new()
            .when([
                Compare::mod_revision(self.key("head"), CompareOp::Equal, head.revision),
                Compare::create_revision(self.key("leader"), CompareOp::Equal, leadership.revision),
            ])
            .and_then(ops);
        let response = self.client.txn(txn).await?;
        if !response.succeeded() {
            return Ok(Append::Fenced);
        }
        let revision = response
            .header()
            .map(|h| h.revision())
            .ok_or_else(|| ClusterError::Corrupt("a transaction without a header".into()))?;
        Ok(Append::Appended(Head { height, revision }))
    }

    /// At most `limit` blocks from height `from` on, in order.
    ///
    /// # Errors
    ///
    /// etcd's, or a key under `log/` that is not a height.
    pub async fn read(
        &mut self,
        from: u64,
        limit: i64,
    ) -> Result<Vec<(u64, Vec<u8>)>, ClusterError> {
        let start = self.block_key(from);
        let end = format!("{}log0", self.prefix); // '0' follows '/'
        let options = GetOptions::new()
            .with_range(end)
            .with_sort(SortTarget::Key, SortOrder::Ascend)
            .with_limit(limit);
        let response = self.client.get(start, Some(options)).await?;
        let log = format!("{}log/", self.prefix);
        response
            .kvs()
            .iter()
            .map(|kv| {
                let height = kv
                    .key_str()
                    .ok()
                    .and_then(|k| k.strip_prefix(&log))
                    .and_then(|h| h.parse().ok())
                    .ok_or_else(|| {
                        ClusterError::Corrupt("a log key that is not a height".into())
                    })?;
                Ok((height, kv.value().to_vec()))
            })
            .collect()
    }

    /// Records the chain's settings (`settings`) when the cluster has none
    /// yet: the settings recorded before (maybe these).
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn settings(&mut self, ours: &[u8]) -> Result<Vec<u8>, ClusterError> {
        let key = self.key("settings");
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key.clone(), ours, None)])
            .or_else([TxnOp::get(key, None)]);
        let response = self.client.txn(txn).await?;
        if response.succeeded() {
            return Ok(ours.to_vec());
        }
        response
            .op_responses()
            .into_iter()
            .find_map(|op| match op {
                etcd_client::TxnOpResponse::Get(get) => {
                    get.kvs().first().map(|kv| kv.value().to_vec())
                }
                _ => None,
            })
            .ok_or_else(|| ClusterError::Corrupt("the settings vanished".into()))
    }

    fn pool_key(&self, tx: &Hash32) -> String {
        format!("{}pool/{tx}", self.prefix)
    }

    /// Adds a signed transaction to the shared mempool: `false` when it is
    /// there already.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn pool_put(&mut self, tx: &Hash32, bytes: &[u8]) -> Result<bool, ClusterError> {
        let key = self.pool_key(tx);
        let txn = Txn::new()
            .when([Compare::create_revision(key.clone(), CompareOp::Equal, 0)])
            .and_then([TxnOp::put(key, bytes, None)]);
        Ok(self.client.txn(txn).await?.succeeded())
    }

    /// At most `limit` transactions of the shared mempool, oldest first:
    /// each with its hash as its key names it.
    ///
    /// # Errors
    ///
    /// etcd's, or a pool key that is not a hash.
    pub async fn pool(&mut self, limit: i64) -> Result<Vec<(Hash32, Vec<u8>)>, ClusterError> {
        let prefix = format!("{}pool/", self.prefix);
        let response = self
            .client
            .get(prefix.clone(), Some(pool_options(limit)))
            .await?;
        pool_of(&prefix, response.kvs())
    }

    /// Removes transactions from the shared mempool (in a block, or never
    /// to be), in transactions of at most etcd's operation limit.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn pool_remove(&mut self, txs: &[Hash32]) -> Result<(), ClusterError> {
        for chunk in txs.chunks(MAX_TXN_OPS) {
            let ops: Vec<TxnOp> = chunk
                .iter()
                .map(|tx| TxnOp::delete(self.pool_key(tx), None))
                .collect();
            self.client.txn(Txn::new().and_then(ops)).await?;
        }
        Ok(())
    }

    /// Publishes what replica `id` got for block `height`, and answers
    /// what every replica published for it so far (this one's included),
    /// by replica id, as [`BlockLog::roots`] would.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn publish_roots(
        &mut self,
        height: u64,
        id: &str,
        roots: &[u8],
    ) -> Result<Vec<(String, Vec<u8>)>, ClusterError> {
        // With the replica's applied height (what the log's retention
        // reads) and the read of everyone's, in one round trip.
        let under = format!("{}roots/{height:020}/", self.prefix);
        let key = format!("{under}{id}");
        let applied = format!("{}applied/{id}", self.prefix);
        let txn = Txn::new().and_then([
            TxnOp::put(key, roots, None),
            TxnOp::put(applied, height.to_string(), None),
            TxnOp::get(under.clone(), Some(GetOptions::new().with_prefix())),
        ]);
        let response = self.client.txn(txn).await?;
        let all = gets(&response)
            .first()
            .map(|read| by_id_of(&under, read.kvs()))
            .unwrap_or_default();
        Ok(all)
    }

    /// Every replica's applied height (as it last published roots), by
    /// replica id.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn applied(&mut self) -> Result<Vec<(String, u64)>, ClusterError> {
        self.heights_by_id("applied/").await
    }

    /// Deletes the log's entries below `height`, then etcd's history up to
    /// that deletion (as Kubernetes' API server compacts the etcd it
    /// uses): the number of entries deleted.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn compact_log(&mut self, height: u64) -> Result<i64, ClusterError> {
        let start = format!("{}log/", self.prefix);
        let end = self.block_key(height);
        let deleted = self
            .client
            .delete(
                start,
                Some(etcd_client::DeleteOptions::new().with_range(end)),
            )
            .await?;
        if deleted.deleted() > 0
            && let Some(header) = deleted.header()
        {
            self.client.compact(header.revision(), None).await?;
        }
        Ok(deleted.deleted())
    }

    /// Claims, for replica `id` joining by state sync, that the log keep
    /// every entry from `height` on while the claim lives: a new lease of
    /// `ttl` seconds when `lease` is `None`, else that one. The lease's
    /// id.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn claim(
        &mut self,
        id: &str,
        height: u64,
        lease: Option<i64>,
        ttl: i64,
    ) -> Result<i64, ClusterError> {
        let lease = match lease {
            Some(lease) => lease,
            None => self.client.lease_grant(ttl, None).await?.id(),
        };
        let options = PutOptions::new().with_lease(lease);
        self.client
            .put(
                self.key(&format!("claims/{id}")),
                height.to_string(),
                Some(options),
            )
            .await?;
        Ok(lease)
    }

    /// Renews a claim's lease once: `false` when it has expired (the
    /// claim is gone).
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn renew_claim(&mut self, lease: i64) -> Result<bool, ClusterError> {
        self.renew(lease).await
    }

    /// Drops a claim (its lease, and so its key).
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn release_claim(&mut self, lease: i64) -> Result<(), ClusterError> {
        self.client.lease_revoke(lease).await?;
        Ok(())
    }

    /// The heights joining replicas claim, by replica id.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn claims(&mut self) -> Result<Vec<(String, u64)>, ClusterError> {
        self.heights_by_id("claims/").await
    }

    /// The chain's settings as the cluster recorded them, if it did.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn recorded_settings(&mut self) -> Result<Option<Vec<u8>>, ClusterError> {
        let response = self.client.get(self.key("settings"), None).await?;
        Ok(response.kvs().first().map(|kv| kv.value().to_vec()))
    }

    /// The log's first entry's height (0: empty).
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn first(&mut self) -> Result<u64, ClusterError> {
        Ok(self.read(0, 1).await?.first().map_or(0, |(h, _)| *h))
    }

    /// What every replica published for block `height`, by replica id.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn roots(&mut self, height: u64) -> Result<Vec<(String, Vec<u8>)>, ClusterError> {
        self.by_id(&format!("roots/{height:020}/")).await
    }

    /// Deletes the roots published for blocks below `height`.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn prune_roots(&mut self, height: u64) -> Result<(), ClusterError> {
        let start = format!("{}roots/", self.prefix);
        let end = format!("{}roots/{height:020}", self.prefix);
        self.client
            .delete(
                start,
                Some(etcd_client::DeleteOptions::new().with_range(end)),
            )
            .await?;
        Ok(())
    }

    /// Advertises replica `id`'s snapshots (`value`: JSON, its URL and
    /// what it holds) under `snapshots/ID`.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn advertise_snapshots(
        &mut self,
        id: &str,
        value: &[u8],
    ) -> Result<(), ClusterError> {
        self.put(&format!("snapshots/{id}"), value).await
    }

    /// Every replica's advertised snapshots, by replica id.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn advertised_snapshots(&mut self) -> Result<Vec<(String, Vec<u8>)>, ClusterError> {
        self.by_id("snapshots/").await
    }

    /// Reports that replica `bad` served what does not verify (`what`,
    /// JSON) under `reports/BAD/REPORTER`.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn report(
        &mut self,
        bad: &str,
        reporter: &str,
        what: &[u8],
    ) -> Result<(), ClusterError> {
        self.put(&format!("reports/{bad}/{reporter}"), what).await
    }

    /// Puts `value` under the prefix + `name`.
    async fn put(&mut self, name: &str, value: &[u8]) -> Result<(), ClusterError> {
        self.client.put(self.key(name), value, None).await?;
        Ok(())
    }

    /// The reports filed against replicas, as `(bad/reporter, what)`.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn reports(&mut self) -> Result<Vec<(String, Vec<u8>)>, ClusterError> {
        self.by_id("reports/").await
    }

    /// The keys under `prefix` + `under`, without that, and their values.
    async fn by_id(&mut self, under: &str) -> Result<Vec<(String, Vec<u8>)>, ClusterError> {
        let prefix = format!("{}{under}", self.prefix);
        let response = self
            .client
            .get(prefix.clone(), Some(GetOptions::new().with_prefix()))
            .await?;
        Ok(by_id_of(&prefix, response.kvs()))
    }

    /// [`Self::by_id`] for values that are heights in decimal; a value
    /// that is not one is passed over.
    async fn heights_by_id(&mut self, under: &str) -> Result<Vec<(String, u64)>, ClusterError> {
        Ok(self
            .by_id(under)
            .await?
            .into_iter()
            .filter_map(|(id, v)| Some((id, std::str::from_utf8(&v).ok()?.parse().ok()?)))
            .collect())
    }

    /// Watches every key under the prefix: each change is a message.
    ///
    /// # Errors
    ///
    /// etcd's.
    pub async fn watch(&mut self) -> Result<WatchStream, ClusterError> {
        let options = WatchOptions::new().with_prefix();
        Ok(self
            .client
            .watch(self.prefix.clone(), Some(options))
            .await?)
    }
}

/// A claim's lease, in seconds: how long the log is held for a joiner
/// that stopped answering.
const CLAIM_TTL: i64 = 10;

/// A joiner's hold on the log (`claims/ID` under a lease kept alive in
/// the background): released once the replica has caught up with the
/// log's head, or when the process ends.
pub(crate) struct Claim {
    log: BlockLog,
    id: String,
    lease: i64,
    keeper: tokio::task::JoinHandle<()>,
}

impl Claim {
    /// Claims the log from `height` for replica `id`, and keeps the
    /// claim's lease alive.
    pub(crate) fn take(
        handle: &tokio::runtime::Handle,
        log: &BlockLog,
        id: &str,
        height: u64,
    ) -> Result<Claim, ClusterError> {
        let mut log = log.clone();
        let lease = handle.block_on(log.claim(id, height, None, CLAIM_TTL))?;
        let mut renewing = log.clone();
        let keeper = handle.spawn(async move {
            let every = Duration::from_secs(CLAIM_TTL.unsigned_abs() / 3);
            loop {
                tokio::time::sleep(every).await;
                match renewing.renew_claim(lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!("state sync: the claim on the log expired");
                        return;
                    }
                    Err(error) => tracing::warn!(%error, "state sync: the claim was not renewed"),
                }
            }
        });
        Ok(Claim {
            log,
            id: id.to_owned(),
            lease,
            keeper,
        })
    }

    /// Moves the claim to `height` (the log below it may go).
    pub(crate) fn advance(&mut self, handle: &tokio::runtime::Handle, height: u64) {
        let claimed =
            handle.block_on(
                self.log
                    .claim(&self.id, height, Some(self.lease), CLAIM_TTL),
            );
        if let Err(error) = claimed {
            tracing::warn!(%error, height, "state sync: the claim was not moved");
        }
    }

    /// Gives the claim up.
    pub(crate) fn release(mut self, handle: &tokio::runtime::Handle) {
        self.keeper.abort();
        if let Err(error) = handle.block_on(self.log.release_claim(self.lease)) {
            tracing::warn!(%error, "state sync: the claim was not released: it expires on its own");
        }
        tracing::info!("state sync: caught up, the log is no longer held");
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.keeper.abort();
    }
}

/// The shared mempool's read: oldest first, at most `limit`.
fn pool_options(limit: i64) -> GetOptions {
    GetOptions::new()
        .with_prefix()
        .with_sort(SortTarget::Create, SortOrder::Ascend)
        .with_limit(limit)
}

/// The head as its key holds it (none: an empty log).
fn head_of(kv: Option<&KeyValue>) -> Result<Head, ClusterError> {
    let Some(kv) = kv else {
        return Ok(Head {
            height: 0,
            revision: 0,
        });
    };
    let height = std::str::from_utf8(kv.value())
        .ok()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| ClusterError::Corrupt("the head is not a height".into()))?;
    Ok(Head {
        height,
        revision: kv.mod_revision(),
    })
}

/// The shared mempool's entries under `prefix`: each with its hash as its
/// key names it.
fn pool_of(prefix: &str, kvs: &[KeyValue]) -> Result<Vec<(Hash32, Vec<u8>)>, ClusterError> {
    kvs.iter()
        .map(|kv| {
            let hash = kv
                .key_str()
                .ok()
                .and_then(|k| k.strip_prefix(prefix))
                .and_then(Hash32::from_hex)
                .ok_or_else(|| ClusterError::Corrupt("a pool key that is not a hash".into()))?;
            Ok((hash, kv.value().to_vec()))
        })
        .collect()
}

/// The values under `prefix`, by the rest of their key (a replica id).
fn by_id_of(prefix: &str, kvs: &[KeyValue]) -> Vec<(String, Vec<u8>)> {
    kvs.iter()
        .filter_map(|kv| {
            let id = kv.key_str().ok()?.strip_prefix(prefix)?;
            Some((id.to_owned(), kv.value().to_vec()))
        })
        .collect()
}

/// The answers of a transaction's reads, in order.
fn gets(response: &TxnResponse) -> Vec<GetResponse> {
    response
        .op_responses()
        .into_iter()
        .filter_map(|op| match op {
            TxnOpResponse::Get(read) => Some(read),
            _ => None,
        })
        .collect()
}
