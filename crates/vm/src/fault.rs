//! Node faults: failures of the node running a call, never of the guest.
//!
//! Ward's results split the way revm's do (`ExecutionResult` beside
//! `EVMError`). What the guest did (finished, reverted, trapped, ran out of
//! gas) is an [`crate::Outcome`]: the same on every node, recorded in a
//! receipt. What happened *to the node* (its disk failed, a stored record
//! is corrupt, the embedder misused an API, an invariant broke) is a
//! [`NodeFault`]: it depends on the machine, so it must never enter a
//! receipt. A fault aborts the whole call (and an executor's whole block),
//! commits nothing, and is handed to whoever drives the execution.
//!
//! Guest code cannot observe a fault: the host function that met it traps
//! the guest at once, and the fault, not the trap, is what the run reports.

use std::{error::Error, fmt};

/// What kind of node fault happened.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FaultKind {
    /// The state store failed to read or write (I/O, the database).
    Storage,
    /// A stored record is damaged or inconsistent.
    Corruption,
    /// The embedder used an API against its contract (a reply of the wrong
    /// kind, an unsupported request).
    Misuse,
    /// One of Ward's own invariants broke: a bug.
    Invariant,
    /// A wall-clock limit ran out. How far code gets in a given time
    /// differs between machines, so in a chain context this is the node's
    /// failure, never an outcome.
    Timeout,
    /// The embedder cancelled the work ([`crate::Cancel`]): it gave up on
    /// the block or the call, which is its business, never an outcome.
    Cancelled,
}

impl FaultKind {
    /// The kind's name (`storage`, `corruption`, `misuse`, `invariant`,
    /// `timeout`, `cancelled`).
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::Storage => "storage",
            FaultKind::Corruption => "corruption",
            FaultKind::Misuse => "misuse",
            FaultKind::Invariant => "invariant",
            FaultKind::Timeout => "timeout",
            FaultKind::Cancelled => "cancelled",
        }
    }
}

impl fmt::Display for FaultKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A failure of the node itself, never of the guest: it depends on the
/// machine, so it never enters a receipt; it aborts the whole call, which
/// commits nothing, and goes to whoever drives the execution.
///
/// The original error is kept as the [`Error::source`], so an embedder can
/// downcast it to its own type (the executor gets its `StateError` back).
#[derive(Debug)]
pub struct NodeFault {
    kind: FaultKind,
    source: Box<dyn Error + Send + Sync>,
}

impl NodeFault {
    /// A fault of `kind` caused by `source`.
    pub fn new(kind: FaultKind, source: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        NodeFault {
            kind,
            source: source.into(),
        }
    }

    /// The kind of fault.
    pub fn kind(&self) -> FaultKind {
        self.kind
    }

    /// The error that caused it.
    pub fn cause(&self) -> &(dyn Error + Send + Sync + 'static) {
        &*self.source
    }

    /// Takes the cause back, for example to downcast it to the embedder's
    /// own error type.
    pub fn into_cause(self) -> Box<dyn Error + Send + Sync> {
        self.source
    }
}

impl fmt::Display for NodeFault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "node fault ({}): {}", self.kind, self.source)
    }
}

impl Error for NodeFault {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&*self.source)
    }
}

/// Why a [`crate::Chain`] could not do what a host function asked.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChainError {
    /// The guest asked for something its frame may not do (a write in a
    /// read-only call): the guest traps with `host_error`, and the reason
    /// is part of its outcome.
    Refused(String),
    /// The node failed: the call is aborted with this fault and no outcome.
    Fault(NodeFault),
}

impl ChainError {
    /// A refusal for `reason`.
    pub fn refused(reason: impl Into<String>) -> Self {
        ChainError::Refused(reason.into())
    }
}

impl From<NodeFault> for ChainError {
    fn from(fault: NodeFault) -> Self {
        ChainError::Fault(fault)
    }
}

impl fmt::Display for ChainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ChainError::Refused(reason) => f.write_str(reason),
            ChainError::Fault(fault) => fault.fmt(f),
        }
    }
}

impl Error for ChainError {}
