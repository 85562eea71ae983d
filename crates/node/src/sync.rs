//! Locks that outlive a panic elsewhere.

use std::sync::{Mutex, MutexGuard};

/// Locks, carrying on after a panic elsewhere (the guarded maps stay
/// consistent: every change is a few inserts and removes).
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}
