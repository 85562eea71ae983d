//! The budgets of a transaction, across every frame and child alive at
//! once: linear memory, and instances.
//!
//! Each instance is bounded by `Limits::max_memory_pages`, but a call chain
//! keeps up to the call depth of instances alive, each of which may use all
//! of it, and so may the children each frame runs: 1,024 instances of
//! 16 MiB is 16 GiB. A [`MemoryBudget`] bounds the sum, and an
//! [`InstanceBudget`] the instances. Every sandbox of the transaction holds a [`MemoryCharge`] on it (in
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

/// A limit and what is taken of it, shared by the sandboxes of one
/// transaction.
#[derive(Debug)]
struct Counter {
    limit: u64,
    used: AtomicU64,
}

impl Counter {
    fn new(limit: u64) -> Self {
        Counter {
            limit,
            used: AtomicU64::new(0),
        }
    }

    fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// Takes `n` if they fit; `false` (taking nothing) if not.
    fn reserve(&self, n: u64) -> bool {
        self.used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                used.checked_add(n).filter(|&total| total <= self.limit)
            })
            .is_ok()
    }

    fn release(&self, n: u64) {
        // Never below zero: a holder gives back only what it took.
        let _ = self
            .used
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |used| {
                Some(used.saturating_sub(n))
            });
    }
}

/// Linear memory a transaction's live frames may hold together.
#[derive(Debug)]
pub struct MemoryBudget(Counter);

impl MemoryBudget {
    /// A budget of `limit` bytes, none used.
    pub fn new(limit: u64) -> Arc<Self> {
        Arc::new(MemoryBudget(Counter::new(limit)))
    }

    /// The limit, in bytes.
    pub fn limit(&self) -> u64 {
        self.0.limit
    }

    /// Bytes held by live sandboxes.
    pub fn used(&self) -> u64 {
        self.0.used()
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
        let fits = self.budget.0.reserve(bytes);
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
        self.budget.0.release(self.bytes);
    }
}

/// The default bound on instances alive at once in a transaction: its
/// frames and the children they run, together.
pub const DEFAULT_TX_INSTANCES: u64 = 1024;

/// Instances a transaction may keep alive at once: every frame of a chain
/// of calls between contracts holds one, and so does every child a frame
/// runs (`vm_instantiate`). Each holds an [`InstanceSlot`] while it lives.
#[derive(Debug)]
pub struct InstanceBudget(Counter);

impl InstanceBudget {
    /// A budget of `limit` instances, none alive.
    pub fn new(limit: u64) -> Arc<Self> {
        Arc::new(InstanceBudget(Counter::new(limit)))
    }

    /// The limit.
    pub fn limit(&self) -> u64 {
        self.0.limit
    }

    /// Instances alive.
    pub fn live(&self) -> u64 {
        self.0.used()
    }

    /// A slot for one more instance, or `None` when all are taken.
    pub fn take(self: &Arc<Self>) -> Option<InstanceSlot> {
        self.0.reserve(1).then(|| InstanceSlot {
            budget: self.clone(),
        })
    }
}

/// One live instance's place in an [`InstanceBudget`]; given back when
/// dropped.
#[derive(Debug)]
pub struct InstanceSlot {
    budget: Arc<InstanceBudget>,
}

impl Drop for InstanceSlot {
    fn drop(&mut self) {
        self.budget.0.release(1);
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

    #[test]
    fn instance_slots_are_bounded_and_given_back_when_dropped() {
        let budget = InstanceBudget::new(2);
        let a = budget.take();
        let b = budget.take();
        assert!(a.is_some() && b.is_some());
        assert!(budget.take().is_none(), "past the limit");
        assert_eq!(budget.live(), 2);
        drop(a);
        assert_eq!(budget.live(), 1);
        assert!(budget.take().is_some(), "a slot given back is free again");
        assert_eq!(budget.live(), 1, "the temporary slot was dropped");
    }
}
