//! What one etcd request may carry, which bounds a cluster's log entries
//! and shared transactions: below both the replica (which builds entries)
//! and the block log (which appends them).

/// The largest log entry, in bytes: etcd refuses requests over 1.5 MiB by
/// default (`--max-request-bytes` 1572864), and an append also carries its
/// keys and the head.
pub const MAX_ENTRY_BYTES: usize = 1_500_000;

/// The largest transaction a replica admits, in bytes: it must fit one
/// entry with its header, and one request to the shared mempool.
pub const MAX_CLUSTER_TX_BYTES: usize = 1_400_000;
