//! Cancellation: a handle that ends a running call from another thread.
//!
//! An embedder gives a call a [`Cancel`] ([`crate::RunOptions::cancel`]),
//! keeps a clone, and calls [`Cancel::cancel`] from any thread when it
//! gives up on the work (a chain abandoning a block, a Go caller's
//! `context.Context` done). The call ends at the engine's next
//! interruption check with [`crate::ErrorKind::Cancelled`]: wasmtime
//! checks at each epoch tick (about a millisecond), wasmi at the end of
//! each fuel slice (about a millisecond of work), the same points the
//! wall-clock deadline uses, so it needs [`crate::Config::interruptible`]
//! (the default). Both also check before an entry starts, so a flag
//! raised before the call ends it before any of its code runs. A call
//! suspended in the host is not running: the embedder sees the cancel
//! when the host call returns and the guest runs again. Like a timeout,
//! a cancelled call is the node's business, never a transaction's
//! outcome: the executor commits nothing of it.

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

/// A cancellation flag shared between a running call and whoever may end
/// it. Clones share the flag; once cancelled it stays cancelled.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag not yet cancelled.
    pub fn new() -> Cancel {
        Cancel::default()
    }

    /// Ends every call that holds this flag, at its next check. Safe from
    /// any thread, any number of times.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Release);
    }

    /// Whether [`Cancel::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// Why an interruption check stops a call, if it does: cancelled first,
/// then a passed deadline.
pub fn interrupted(
    cancel: Option<&Cancel>,
    deadline: Option<std::time::Instant>,
) -> Option<crate::Failure> {
    if cancel.is_some_and(Cancel::is_cancelled) {
        return Some(crate::Failure::new(
            crate::ErrorKind::Cancelled,
            "the call was cancelled",
        ));
    }
    if deadline.is_some_and(crate::clock::passed) {
        return Some(crate::Failure::new(
            crate::ErrorKind::Timeout,
            "deadline passed",
        ));
    }
    None
}
