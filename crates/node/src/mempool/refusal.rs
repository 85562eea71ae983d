//! Why a transaction is not taken, or leaves the mempool without a block:
//! typed, with the word programs read (`kind`). The JSON-RPC edge alone
//! turns a [`Refusal`] into a code and a message (`error.rs`).

use ward_chain::tx::TxError;
use ward_primitives::{Address, Hash32};

/// How far past a sender's next nonce a transaction may be (the
/// mempool's rule, which its refusals name).
pub const MAX_NONCE_GAP: u64 = 64;

/// The gas price a replacement must reach, in percent of the pending
/// transaction's.
pub const REPLACE_PERCENT: u128 = 110;

/// A rule of the mempool's own that a transaction breaks (its bounds, its
/// order of nonces and prices): one cause of a [`Refusal`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum PoolRule {
    #[error("the mempool is full ({0} transactions)")]
    Full(usize),
    #[error(
        "the mempool is full ({capacity} bytes of transactions paying at least {cheapest} per gas), this one of {size} bytes pays {got}"
    )]
    FullBytes {
        capacity: usize,
        size: usize,
        cheapest: u128,
        got: u128,
    },
    #[error("transaction {0} is already pending")]
    Known(Hash32),
    #[error("nonce {got} was already used: the sender's next nonce is {next}")]
    NonceUsed { next: u64, got: u64 },
    #[error(
        "nonce {got} is too far ahead: the sender's next nonce is {next}, at most {MAX_NONCE_GAP} may wait"
    )]
    NonceTooFar { next: u64, got: u64 },
    #[error(
        "nonce {got} would wait behind a gap (the sender's next nonce is {next}), and too many such transactions wait already"
    )]
    TooManyGapped { next: u64, got: u64 },
    #[error(
        "a transaction with this nonce is pending at gas price {pending}: a replacement pays at least {REPLACE_PERCENT} % of it, not {got}"
    )]
    Underpriced { pending: u128, got: u128 },
    #[error(
        "the mempool is full ({capacity} transactions) of transactions paying at least {cheapest} per gas, this one {got}"
    )]
    FullAtPrice {
        capacity: usize,
        cheapest: u128,
        got: u128,
    },
}

impl PoolRule {
    fn kind(&self) -> &'static str {
        match self {
            PoolRule::Full(_) | PoolRule::FullAtPrice { .. } | PoolRule::FullBytes { .. } => {
                "mempool_full"
            }
            PoolRule::Known(_) => "known",
            PoolRule::TooManyGapped { .. } => "nonce_gap",
            PoolRule::Underpriced { .. } => "underpriced",
            PoolRule::NonceUsed { .. } | PoolRule::NonceTooFar { .. } => "nonce",
        }
    }
}

/// Why a transaction was refused before any block, or left the mempool
/// without one (its waiters hear this).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub(crate) enum Refusal {
    /// Its bytes: not one transaction, another chain's, a bad signature.
    #[error(transparent)]
    Tx(#[from] TxError),
    /// The chain's rules as the executor applies them (size, gas, the
    /// intrinsic cost, the nonce, the price, the funds): at admission, or
    /// at block time.
    #[error(transparent)]
    Rules(#[from] ward_executor::Inadmissible),
    /// The mempool's own bounds and order.
    #[error(transparent)]
    Pool(#[from] PoolRule),
    /// A committed transaction, sent again.
    #[error("transaction {0} was already submitted")]
    Committed(Hash32),
    /// It ran past the node's wall-clock backstop before.
    #[error("transaction {0} ran past this node's wall-clock limit; it is not accepted again")]
    TimedOut(Hash32),
    /// Its sender's did, lately.
    #[error(
        "a transaction of {sender} ran past this node's wall-clock limit: its transactions are refused for {seconds} s more"
    )]
    Throttled { sender: Address, seconds: u64 },
    /// Larger than a cluster's log takes.
    #[error("a transaction of {size} bytes: a cluster takes at most {max} (etcd's request limit)")]
    TooLargeForCluster { size: usize, max: usize },
    /// Another of the same sender and nonce, paying more, took its place.
    #[error("replaced by transaction {by}, at gas price {price}")]
    Replaced { by: Hash32, price: u128 },
    /// A full mempool gave its place to one that could run, or paid more.
    #[error("{0}")]
    Displaced(String),
    /// A committed transaction of its sender used its nonce.
    #[error("nonce {0} was used by another transaction")]
    NonceTaken(u64),
    /// It waited too long.
    #[error("expired: {0}")]
    Expired(&'static str),
    /// A dev chain went back to a snapshot before it was in a block.
    #[error("the chain went back to snapshot {id} (block {height}) before this was in a block")]
    Reverted { id: u64, height: u64 },
    /// Running it aborted its block: the node's fault (a timeout, the
    /// store), never a receipt.
    #[error("{0}")]
    Aborted(String),
    /// The node cannot take or keep it now (shutting down, stopped on a
    /// fault, diverged, its cluster's mempool out of reach).
    #[error("{0}")]
    Unavailable(String),
}

impl Refusal {
    /// The word programs read (`data.kind`).
    pub(crate) fn kind(&self) -> &'static str {
        use ward_executor::Inadmissible as Rule;
        match self {
            Refusal::Tx(TxError::WrongChain { .. }) => "chain_id",
            Refusal::Tx(TxError::BadSignature | TxError::InvalidKey) => "signature",
            Refusal::Tx(_) => "malformed",
            Refusal::Rules(Rule::Nonce { .. }) => "nonce",
            Refusal::Rules(Rule::Funds { .. }) => "insufficient_funds",
            Refusal::Rules(Rule::GasPrice { .. }) => "underpriced",
            Refusal::Rules(_) | Refusal::TooLargeForCluster { .. } => "limit",
            Refusal::Pool(refused) => refused.kind(),
            Refusal::Committed(_) => "known",
            Refusal::TimedOut(_) => "timed_out",
            Refusal::Throttled { .. } => "throttled",
            Refusal::Replaced { .. } => "replaced",
            Refusal::Displaced(_) => "mempool_full",
            Refusal::NonceTaken(_) => "nonce",
            Refusal::Expired(_) => "expired",
            Refusal::Reverted { .. } => "reverted",
            Refusal::Aborted(_) => "fault",
            Refusal::Unavailable(_) => "unavailable",
        }
    }

    /// The node is shutting down.
    pub(crate) fn shutting_down() -> Refusal {
        Refusal::Unavailable("the node is shutting down".into())
    }
}
