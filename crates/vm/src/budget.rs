//! The memory budget of a transaction: linear memory across every frame
//! alive at once.
//!
//! Each instance is bounded by `Limits::max_memory_pages`, but a call chain
//! keeps up to the call depth of instances alive, each of which may use all
//! of it: 1,024 frames of 16 MiB is 16 GiB. A [`MemoryBudget`] bounds the
//! sum. Every sandbox of the transaction holds a [`MemoryCharge`] on it (in
//! its [`crate::CallContext`]): creating a memory or growing one charges
//! the bytes, and the charge is given back when the sandbox ends. A grow
//! past the budget fails as a grow past the instance limit does
//! (`memory.grow` returns -1); an instantiation past it fails with
//! `limit_exceeded`. Both depend only on what the transaction did, so both
//! backends agree.

use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

/// The default budget: 64 MiB, four instances at the default instance
/// limit (256 pages).
pub const DEFAULT_TX_MEMORY_BYTES: u64 = 64 << 20;

/// Linear memory a transaction's live frames may hold together.
#[derive(Debug)]
pub struct MemoryBudget {
    limit: u64,
    used: AtomicU64,
}

impl MemoryBudget {
    /// A budget of `limit` bytes, none used.
    pub fn new(limit: u64) -> Arc<Self> {
        Arc::new(MemoryBudget {
            limit,
            used: AtomicU64::new(0),
        })
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes held by live sandboxes.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `bytes` if they fit; `false` (taking nothing) if not.
    fn reserve(&self, bytes: u64) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(bytes).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, bytes: u64) {
        // Never below zero: a charge gives back only what it took.
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_sub(bytes))
            });
    }
}

/// What one sandbox holds of a [`MemoryBudget`]; given back when dropped.
#[derive(Debug)]
pub struct MemoryCharge {
    budget: Arc<MemoryBudget>,
    bytes: u64,
}

impl MemoryCharge {
    /// A charge of nothing yet on `budget`.
    pub fn new(budget: &Arc<MemoryBudget>) -> Self {
        MemoryCharge {
            budget: budget.clone(),
            bytes: 0,
        }
    }

    /// Charges `bytes` more; `false` (charging nothing) when the budget
    /// cannot hold them.
    pub fn grow(&mut self, bytes: u64) -> bool {
        let fits = self.budget.reserve(bytes);
        if fits {
            self.bytes += bytes;
        }
        fits
    }

    /// The budget charged.
    pub fn budget(&self) -> &MemoryBudget {
        &self.budget
    }
}

impl Drop for MemoryCharge {
    fn drop(&mut self) {
        self.budget.release(self.bytes);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges_add_up_to_the_limit_and_are_given_back_when_dropped() {
        let budget = MemoryBudget::new(100);
        let mut a = MemoryCharge::new(&budget);
        let mut b = MemoryCharge::new(&budget);
        assert!(a.grow(60));
        assert!(!b.grow(41), "past the limit");
        assert_eq!(budget.used(), 60, "a refused charge takes nothing");
        assert!(b.grow(40));
        assert!(!a.grow(1));
        drop(a);
        assert_eq!(budget.used(), 40);
        assert!(b.grow(60));
        drop(b);
        assert_eq!(budget.used(), 0);
        assert!(!MemoryCharge::new(&budget).grow(u64::MAX));
    }
}
