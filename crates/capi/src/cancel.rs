//! Cancellation: a flag another thread raises to end a running call
//! (`ward_vm::Cancel`). A host makes one with [`ward_cancel_new`], names
//! it in [`crate::WardCallOptions::cancel`], and calls
//! [`ward_call_cancel`] from any thread when it gives up on the call: the
//! call then ends at the engine's next check (about a millisecond) with
//! status `timeout` and error kind `cancelled`, an outcome that is the
//! host's own business, never a transaction's.

use crate::boundary;

/// A cancellation flag. May be used from any number of threads at once;
/// freed with [`ward_cancel_free`] (a call that was given it keeps its
/// own reference, so the flag may be freed before the call).
pub struct WardCancel(pub(crate) ward_vm::Cancel);

/// A flag not yet raised; freed with [`ward_cancel_free`]. Never NULL.
#[unsafe(no_mangle)]
pub extern "C" fn ward_cancel_new() -> *mut WardCancel {
    Box::into_raw(Box::new(WardCancel(ward_vm::Cancel::new())))
}

/// Raises the flag: every call given it ends at its next check, and
/// calls given it later end at once. Safe from any thread, any number of
/// times; NULL does nothing.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `cancel`: NULL, or a `WardCancel` this API returned and that is not freed.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_call_cancel(cancel: *const WardCancel) {
    // SAFETY: `cancel` is NULL or a live `WardCancel`, as the contract above says.
    if let Ok(cancel) = unsafe { boundary::borrow(cancel, "cancel") } {
        cancel.0.cancel();
    }
}

/// Frees a flag (NULL: nothing). Calls that were given it keep working.
///
/// # Safety
///
/// Each pointer, valid for the call:
/// - `cancel`: NULL, or a `WardCancel` this API returned and that is not freed and used by no other thread during the call.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn ward_cancel_free(cancel: *mut WardCancel) {
    // SAFETY: `cancel` is NULL or this API's and not freed before, as the contract above says.
    unsafe { boundary::free(cancel) };
}
