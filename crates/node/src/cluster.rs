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

use etcd_client::{
    Client, Compare, CompareOp, GetOptions, PutOptions, SortOrder, SortTarget, Txn, TxnOp,
};

/// The largest block this log takes, in bytes: etcd refuses requests over
/// 1.5 MiB by default (`--max-request-bytes` 1572864), and an append also
/// carries its keys and the head.
pub const MAX_BLOCK_BYTES: usize = 1_500_000;

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

/// The block log under one prefix of an etcd cluster.
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
        let client = Client::connect(endpoints, None).await?;
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
        match response.kvs().first() {
            None => Ok(Head {
                height: 0,
                revision: 0,
            }),
            Some(kv) => {
                let height = std::str::from_utf8(kv.value())
                    .ok()
                    .and_then(|text| text.parse().ok())
                    .ok_or_else(|| ClusterError::Corrupt("the head is not a height".into()))?;
                Ok(Head {
                    height,
                    revision: kv.mod_revision(),
                })
            }
        }
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
        let (mut keeper, mut responses) = self.client.lease_keep_alive(leadership.lease).await?;
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

    /// Appends `block` after `head` while `leadership` is the current one.
    ///
    /// # Errors
    ///
    /// A block over [`MAX_BLOCK_BYTES`] (nothing is sent), or etcd's.
    pub async fn append(
        &mut self,
        leadership: &Leadership,
        head: Head,
        block: &[u8],
    ) -> Result<Append, ClusterError> {
        if block.len() > MAX_BLOCK_BYTES {
            return Err(ClusterError::TooLarge(block.len()));
        }
        let height = head.height + 1;
        let txn = Txn::new()
            .when([
                Compare::mod_revision(self.key("head"), CompareOp::Equal, head.revision),
                Compare::create_revision(self.key("leader"), CompareOp::Equal, leadership.revision),
            ])
            .and_then([
                TxnOp::put(self.block_key(height), block, None),
                TxnOp::put(self.key("head"), height.to_string(), None),
            ]);
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
}
